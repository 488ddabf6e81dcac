/*
 * ESP-IDF's NVS format: values of every type, multi-page blobs, updates and garbage collection
 * with the reserved page, erasing, the page and entry bytes ESP-IDF defines, and a power-loss
 * sweep (before, after, torn at every flash operation of an update workload): every key keeps its
 * old or its new value and keys the workload does not touch are never lost. A second cut, during
 * the mount that finishes a cut garbage collection, loses no live item either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_idfnvs.h"
#include "ota/ota_nor.h"
#include "test_util.h"
#include "ota/ota_otadata.h"

#define PART 0x9000u
#define PART_SIZE 0x6000u /* 6 pages, as ESP-IDF's default nvs partition (24 KiB) */

static ota_nor_t *dev(void)
{
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(0x100000, NULL, &nor, NULL), OTA_OK);
    return nor;
}

static void mount(ota_idfnvs_t *s, ota_nor_t *nor)
{
    assert_int_equal(ota_idfnvs_mount(s, ota_nor_flash(nor), PART, PART_SIZE), OTA_OK);
}

static uint64_t get_num(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t type)
{
    uint8_t b[8] = {0};
    size_t len = 0;
    assert_int_equal(ota_idfnvs_get(s, ns, key, type, b, sizeof(b), &len), OTA_OK);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
    }
}

static void test_values_and_bytes(void **state)
{
    (void)state;
    ota_nor_t *nor = dev();
    ota_idfnvs_t s;
    mount(&s, nor);
    uint8_t u8 = 200;
    int16_t i16 = -1234;
    uint64_t u64 = 0x1122334455667788ull;
    assert_int_equal(ota_idfnvs_set(&s, "ns1", "u8", OTA_IDFNVS_U8, &u8, 1), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "ns1", "i16", OTA_IDFNVS_I16, &i16, 2), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "ns2", "u64", OTA_IDFNVS_U64, &u64, 8), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "ns1", "str", OTA_IDFNVS_STR, "hello world", 12), OTA_OK);
    static uint8_t blob[9000];
    static uint8_t got[9000];
    fill(blob, sizeof(blob), 1);
    assert_int_equal(ota_idfnvs_set(&s, "ns2", "blob", OTA_IDFNVS_BLOB, blob, sizeof(blob)),
                     OTA_OK);

    /* the bytes ESP-IDF defines: page 0 full (the blob went on), seq 0, version 0xFE, header CRC;
     * entry 0 is namespace "ns1" = 1, entry 1 the u8; page 1 has seq 1 */
    const uint8_t *p = ota_nor_data(nor) + PART;
    assert_int_equal(p[0], 0xFC);
    assert_int_equal(p[4096 + 4], 1);
    assert_int_equal(p[4096 + 8], 0xFE);
    assert_int_equal(p[4], 0);
    assert_int_equal(p[8], 0xFE);
    uint32_t hcrc = ota_otadata_crc32(0xFFFFFFFFu, p + 4, 24);
    assert_int_equal(p[28] | p[29] << 8 | p[30] << 16 | (uint32_t)p[31] << 24, hcrc);
    assert_int_equal(p[32] & 0xF, 0xA); /* entries 0 and 1 written (10 10) */
    assert_int_equal(p[64 + 0], 0);     /* namespace table */
    assert_int_equal(p[64 + 1], OTA_IDFNVS_U8);
    assert_string_equal((const char *)p + 64 + 8, "ns1");
    assert_int_equal(p[64 + 24], 1);
    assert_int_equal(p[96 + 0], 1);
    assert_int_equal(p[96 + 3], 0xFF);
    assert_int_equal(p[96 + 24], 200);

    for (int round = 0; round < 2; round++) {
        assert_int_equal(get_num(&s, "ns1", "u8", OTA_IDFNVS_U8), 200);
        assert_int_equal((int16_t)get_num(&s, "ns1", "i16", OTA_IDFNVS_I16), -1234);
        assert_true(get_num(&s, "ns2", "u64", OTA_IDFNVS_U64) == u64);
        char str[32];
        size_t len = 0;
        assert_int_equal(ota_idfnvs_get(&s, "ns1", "str", OTA_IDFNVS_STR, str, sizeof(str), &len),
                         OTA_OK);
        assert_int_equal(len, 12);
        assert_string_equal(str, "hello world");
        memset(got, 0, sizeof(got));
        assert_int_equal(ota_idfnvs_get(&s, "ns2", "blob", OTA_IDFNVS_BLOB, got, sizeof(got), &len),
                         OTA_OK);
        assert_int_equal(len, sizeof(blob));
        assert_memory_equal(got, blob, sizeof(blob));
        assert_int_equal(ota_idfnvs_get(&s, "ns2", "blob", OTA_IDFNVS_BLOB, got, 10, &len),
                         OTA_ERR_SIZE);
        assert_int_equal(ota_idfnvs_get(&s, "ns1", "u8", OTA_IDFNVS_U16, got, 8, &len),
                         OTA_ERR_NOT_FOUND);
        assert_int_equal(ota_idfnvs_get(&s, "nsX", "u8", OTA_IDFNVS_U8, got, 8, &len),
                         OTA_ERR_NOT_FOUND);
        mount(&s, nor); /* the same after a reboot */
    }
    assert_int_equal(ota_idfnvs_set(&s, "ns1", "bad", OTA_IDFNVS_U16, &u8, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_idfnvs_set(&s, "ns1", "a_key_too_long__", OTA_IDFNVS_U8, &u8, 1),
                     OTA_ERR_INVALID_ARG);
    ota_nor_close(nor);
}

static void test_updates_collect_garbage(void **state)
{
    (void)state;
    ota_nor_t *nor = dev();
    ota_idfnvs_t s;
    mount(&s, nor);
    char text[301];
    static uint8_t blob[5000];
    for (uint32_t i = 0; i < 1500; i++) {
        assert_int_equal(ota_idfnvs_set(&s, "app", "count", OTA_IDFNVS_U32, &i, 4), OTA_OK);
        memset(text, 'a' + (char)(i % 26), 300);
        text[300] = '\0';
        assert_int_equal(ota_idfnvs_set(&s, "app", "text", OTA_IDFNVS_STR, text, 301), OTA_OK);
        if (i % 50 == 0) {
            fill(blob, sizeof(blob), i);
            assert_int_equal(ota_idfnvs_set(&s, "app", "blob", OTA_IDFNVS_BLOB, blob, sizeof(blob)),
                             OTA_OK);
        }
        if (i % 97 == 0) {
            mount(&s, nor);
        }
        assert_int_equal(get_num(&s, "app", "count", OTA_IDFNVS_U32), i);
    }
    /* far more writes than the partition holds: pages were collected, one is still free */
    uint32_t used = 0;
    uint32_t free_entries = 0;
    ota_idfnvs_stats(&s, &used, &free_entries);
    assert_true(free_entries >= OTA_IDFNVS_ENTRIES);
    static uint8_t got[5000];
    size_t len = 0;
    assert_int_equal(ota_idfnvs_get(&s, "app", "blob", OTA_IDFNVS_BLOB, got, sizeof(got), &len),
                     OTA_OK);
    assert_memory_equal(got, blob, sizeof(blob));

    /* erase a key, then the namespace */
    assert_int_equal(ota_idfnvs_erase_key(&s, "app", "blob"), OTA_OK);
    assert_int_equal(ota_idfnvs_get(&s, "app", "blob", OTA_IDFNVS_BLOB, got, sizeof(got), &len),
                     OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_idfnvs_erase_key(&s, "app", "blob"), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_idfnvs_erase_all(&s, "app"), OTA_OK);
    assert_int_equal(ota_idfnvs_get(&s, "app", "count", OTA_IDFNVS_U32, got, 8, &len),
                     OTA_ERR_NOT_FOUND);
    mount(&s, nor);
    assert_int_equal(ota_idfnvs_get(&s, "app", "text", OTA_IDFNVS_STR, got, 500, &len),
                     OTA_ERR_NOT_FOUND);
    ota_nor_close(nor);
}

static void test_full_partition(void **state)
{
    (void)state;
    ota_nor_t *nor = dev();
    ota_idfnvs_t s;
    mount(&s, nor);
    static uint8_t blob[3000];
    char key[16];
    int err = OTA_OK;
    int n = 0;
    for (; n < 100 && err == OTA_OK; n++) {
        snprintf(key, sizeof(key), "k%d", n);
        err = ota_idfnvs_set(&s, "full", key, OTA_IDFNVS_BLOB, blob, sizeof(blob));
    }
    assert_int_equal(err, OTA_ERR_NO_SPACE); /* ESP_ERR_NVS_NOT_ENOUGH_SPACE */
    assert_true(n > 5);
    mount(&s, nor); /* the reserved page stayed free */
    size_t len = 0;
    assert_int_equal(ota_idfnvs_get(&s, "full", "k0", OTA_IDFNVS_BLOB, NULL, 0, &len), OTA_OK);
    assert_int_equal(len, sizeof(blob));
    ota_nor_close(nor);
}

/* Fills the partition until the next new item starts a garbage collection: old values of a
 * counter on the first pages, then live keys l0, l1... up to the last full page. Returns the
 * live keys written. */
static uint32_t fill_until_collection(ota_idfnvs_t *s)
{
    for (uint32_t i = 0; i < 380; i++) {
        assert_int_equal(ota_idfnvs_set(s, "w", "churn", OTA_IDFNVS_U32, &i, 4), OTA_OK);
    }
    uint32_t n = 0;
    for (;; n++) {
        uint32_t active = s->order[s->nused - 1];
        if (s->nused == s->npages - 1 && s->page[active].next_free == OTA_IDFNVS_ENTRIES) {
            return n;
        }
        char key[16];
        snprintf(key, sizeof(key), "l%u", (unsigned)n);
        assert_int_equal(ota_idfnvs_set(s, "w", key, OTA_IDFNVS_U32, &n, 4), OTA_OK);
    }
}

/* A cut at any operation of a set that starts a garbage collection (the freeing mark, the copy
 * page, the copies, the erase): the full page written last keeps its live items. */
static void test_cut_while_collecting(void **state)
{
    (void)state;
    ota_nor_t *nor = dev();
    ota_idfnvs_t s;
    mount(&s, nor);
    uint32_t live = fill_until_collection(&s);
    static uint8_t base[0x100000];
    assert_int_equal(ota_nor_snapshot(nor, base, sizeof(base)), OTA_OK);
    ota_nor_reset_counters(nor);
    uint32_t v = 7;
    assert_int_equal(ota_idfnvs_set(&s, "w", "new", OTA_IDFNVS_U32, &v, 4), OTA_OK);
    uint64_t ops = ota_nor_state(nor)->ops;
    assert_true(ops >= 4); /* freeing mark, page header, erase, the new item */
    for (uint64_t n = 1; n <= ops; n++) {
        for (int mode = OTA_NOR_CUT_BEFORE; mode <= OTA_NOR_CUT_TORN; mode++) {
            assert_int_equal(ota_nor_restore(nor, base, sizeof(base)), OTA_OK);
            mount(&s, nor);
            ota_nor_cut_arm(nor, n, (ota_nor_cut_mode_t)mode, n);
            (void)ota_idfnvs_set(&s, "w", "new", OTA_IDFNVS_U32, &v, 4);
            ota_nor_cut_disarm(nor);
            ota_nor_power_on(nor);
            mount(&s, nor);
            for (uint32_t i = 0; i < live; i++) {
                char key[16];
                snprintf(key, sizeof(key), "l%u", (unsigned)i);
                assert_int_equal(get_num(&s, "w", key, OTA_IDFNVS_U32), i);
            }
            assert_int_equal(get_num(&s, "w", "churn", OTA_IDFNVS_U32), 379);
        }
    }
    ota_nor_close(nor);
}

/* ---- a cut during the repair of a cut collection ------------------------------------------- */

#define SMALL 0x100000u /* the smallest device */

/* Fills the partition with a counter and, after every sixth update, a live key l<i> (so that
 * every full page, the collected one too, holds live items) until the next new item starts a
 * garbage collection. Returns the live keys written. */
static uint32_t fill_with_live(ota_idfnvs_t *s)
{
    uint32_t live = 0;
    for (uint32_t i = 0;; i++) {
        uint32_t active = s->order[s->nused - 1];
        if (s->nused == s->npages - 1 && s->page[active].next_free == OTA_IDFNVS_ENTRIES) {
            return live;
        }
        char key[16];
        snprintf(key, sizeof(key), "l%u", (unsigned)live);
        bool put_live = i % 6 == 5;
        assert_int_equal(ota_idfnvs_set(s, "w", put_live ? key : "churn", OTA_IDFNVS_U32,
                                        put_live ? &live : &i, 4),
                         OTA_OK);
        live += put_live;
    }
}

/* Whether the partition has a page in the freeing state (a collection was cut). */
static bool has_freeing_page(ota_nor_t *nor)
{
    const uint8_t *d = ota_nor_data(nor);
    for (uint32_t p = 0; p < PART_SIZE / OTA_IDFNVS_PAGE_SIZE; p++) {
        const uint8_t *h = d + PART + p * OTA_IDFNVS_PAGE_SIZE;
        if (h[0] == 0xF8 && h[1] == 0xFF && h[2] == 0xFF && h[3] == 0xFF) {
            return true;
        }
    }
    return false;
}

/* What one pass over the store found: live keys holding their values, the counter, "new". */
typedef struct found {
    uint32_t live_ok;
    bool churn;
    bool new_bad;
} found_t;

static int found_fn(void *ctx, const ota_idfnvs_value_t *v)
{
    found_t *f = ctx;
    unsigned i = 0;
    char tail = 0;
    if (strcmp(v->ns, "w") != 0) {
        return 0;
    }
    if (sscanf(v->key, "l%u%c", &i, &tail) == 1 && v->num == i) {
        f->live_ok++;
    }
    f->churn |= strcmp(v->key, "churn") == 0;
    f->new_bad |= strcmp(v->key, "new") == 0 && v->num != 7;
    return 0;
}

/* Mounts after the cuts and checks every live key, the counter and the interrupted item. */
static void check_live(ota_nor_t *nor, uint32_t live, uint64_t n1, uint64_t n2)
{
    ota_idfnvs_t s;
    found_t f = {0, false, false};
    int err = ota_idfnvs_mount(&s, ota_nor_flash(nor), PART, PART_SIZE);
    if (err == OTA_OK) {
        err = ota_idfnvs_foreach(&s, found_fn, &f);
    }
    if (err != OTA_OK || f.live_ok != live || !f.churn || f.new_bad) {
        fail_msg("cuts at %llu, %llu: error %d, %u of %u live keys, churn %d, new %s",
                 (unsigned long long)n1, (unsigned long long)n2, err, (unsigned)f.live_ok,
                 (unsigned)live, f.churn, f.new_bad ? "wrong" : "old or new");
    }
}

/* A set that collects a page holding live items is cut (every ninth operation, after and
 * torn); the mount that finishes the collection is then cut at any of its operations (before,
 * after or torn in turn); the next mount must still find every live key. */
static void test_power_loss_repair_cut(void **state)
{
    (void)state;
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(SMALL, NULL, &nor, NULL), OTA_OK);
    ota_idfnvs_t s;
    mount(&s, nor);
    uint32_t live = fill_with_live(&s);
    assert_true(live > 60);
    static uint8_t base[SMALL];
    static uint8_t mid[SMALL];
    assert_int_equal(ota_nor_snapshot(nor, base, sizeof(base)), OTA_OK);
    ota_nor_reset_counters(nor);
    uint32_t v = 7;
    assert_int_equal(ota_idfnvs_set(&s, "w", "new", OTA_IDFNVS_U32, &v, 4), OTA_OK);
    uint64_t ops1 = ota_nor_state(nor)->ops;
    unsigned repairs = 0;
    unsigned cases = 0;
    for (uint64_t n1 = 1; n1 <= ops1; n1 += 9) {
        for (int m1 = OTA_NOR_CUT_AFTER; m1 <= OTA_NOR_CUT_TORN; m1++) {
            assert_int_equal(ota_nor_restore(nor, base, sizeof(base)), OTA_OK);
            mount(&s, nor);
            ota_nor_cut_arm(nor, n1, (ota_nor_cut_mode_t)m1, n1);
            (void)ota_idfnvs_set(&s, "w", "new", OTA_IDFNVS_U32, &v, 4);
            ota_nor_cut_disarm(nor);
            ota_nor_power_on(nor);
            if (!has_freeing_page(nor)) {
                continue;
            }
            repairs++;
            assert_int_equal(ota_nor_snapshot(nor, mid, sizeof(mid)), OTA_OK);
            uint64_t before = ota_nor_state(nor)->ops;
            mount(&s, nor);
            uint64_t ops2 = ota_nor_state(nor)->ops - before;
            for (uint64_t n2 = 1; n2 <= ops2; n2++) {
                int m2 = OTA_NOR_CUT_BEFORE + (int)((n1 + n2) % 3);
                assert_int_equal(ota_nor_restore(nor, mid, sizeof(mid)), OTA_OK);
                ota_nor_cut_arm(nor, n2, (ota_nor_cut_mode_t)m2, n1 * 1000 + n2);
                (void)ota_idfnvs_mount(&s, ota_nor_flash(nor), PART, PART_SIZE);
                ota_nor_cut_disarm(nor);
                ota_nor_power_on(nor);
                check_live(nor, live, n1, n2);
                cases++;
            }
        }
    }
    print_message("first cuts leaving a collection to finish: %u, second cuts: %u\n", repairs,
                  cases);
    assert_true(repairs > 5);
    ota_nor_close(nor);
}

/* ---- power-loss sweep ----------------------------------------------------------------------- */

static uint8_t old_blob[6000];
static uint8_t new_blob[6000];

static unsigned done; /* workload steps that returned OTA_OK: committed */

/* The workload: each step's key goes from its old value to its new one. */
static int workload(ota_idfnvs_t *s)
{
    uint32_t v = 2;
    done = 0;
    int err = ota_idfnvs_set(s, "w", "num", OTA_IDFNVS_U32, &v, 4);
    done += err == OTA_OK;
    if (err == OTA_OK) {
        err = ota_idfnvs_set(s, "w", "str", OTA_IDFNVS_STR, "the new value", 14);
        done += err == OTA_OK;
    }
    if (err == OTA_OK) {
        err = ota_idfnvs_set(s, "w", "blob", OTA_IDFNVS_BLOB, new_blob, sizeof(new_blob));
        done += err == OTA_OK;
    }
    if (err == OTA_OK) {
        err = ota_idfnvs_erase_key(s, "w", "gone");
        done += err == OTA_OK;
    }
    for (uint32_t i = 0; err == OTA_OK && i < 40; i++) {
        err = ota_idfnvs_set(s, "w", "churn", OTA_IDFNVS_U32, &i, 4);
        done += err == OTA_OK;
    }
    return err;
}

static void setup_base(ota_nor_t *nor)
{
    ota_idfnvs_t s;
    mount(&s, nor);
    uint32_t v = 1;
    static char filler[1000];
    memset(filler, 'f', sizeof(filler) - 1);
    assert_int_equal(ota_idfnvs_set(&s, "w", "num", OTA_IDFNVS_U32, &v, 4), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "w", "str", OTA_IDFNVS_STR, "old", 4), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "w", "blob", OTA_IDFNVS_BLOB, old_blob, sizeof(old_blob)),
                     OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "w", "gone", OTA_IDFNVS_U8, &v, 1), OTA_OK);
    assert_int_equal(ota_idfnvs_set(&s, "keep", "filler", OTA_IDFNVS_STR, filler, sizeof(filler)),
                     OTA_OK);
    for (uint32_t i = 0; i < 150; i++) { /* fill pages so the workload collects garbage */
        assert_int_equal(ota_idfnvs_set(&s, "w", "churn", OTA_IDFNVS_U32, &i, 4), OTA_OK);
    }
}

/* After a cut: mount works, untouched keys are there, each key holds its old or new value. */
static const char *check_after_cut(ota_nor_t *nor)
{
    static uint8_t got[6000];
    ota_idfnvs_t s;
    size_t len = 0;
    if (ota_idfnvs_mount(&s, ota_nor_flash(nor), PART, PART_SIZE) != OTA_OK) {
        return "mount failed";
    }
    if (ota_idfnvs_get(&s, "keep", "filler", OTA_IDFNVS_STR, got, sizeof(got), &len) != OTA_OK ||
        len != 1000) {
        return "untouched key lost";
    }
    uint32_t num = 0;
    if (ota_idfnvs_get(&s, "w", "num", OTA_IDFNVS_U32, &num, 4, &len) != OTA_OK ||
        (num != 1 && num != 2) || (done >= 1 && num != 2)) {
        return "num is neither old nor new, or a committed value was lost";
    }
    int err = ota_idfnvs_get(&s, "w", "str", OTA_IDFNVS_STR, got, sizeof(got), &len);
    if (err != OTA_OK ||
        (strcmp((char *)got, "old") != 0 && strcmp((char *)got, "the new value"))) {
        return "str is neither old nor new";
    }
    err = ota_idfnvs_get(&s, "w", "blob", OTA_IDFNVS_BLOB, got, sizeof(got), &len);
    if (err != OTA_OK || len != sizeof(got) ||
        (memcmp(got, old_blob, len) != 0 && memcmp(got, new_blob, len) != 0) ||
        (done >= 3 && memcmp(got, new_blob, len) != 0)) {
        return "blob is neither old nor new, or a committed value was lost";
    }
    err = ota_idfnvs_get(&s, "w", "gone", OTA_IDFNVS_U8, got, 8, &len);
    if (done >= 4 && err != OTA_ERR_NOT_FOUND) {
        return "an erased key came back";
    }
    if (ota_idfnvs_get(&s, "w", "churn", OTA_IDFNVS_U32, &num, 4, &len) != OTA_OK ||
        (done > 4 && num + 1 < done - 4)) {
        return "churn lost, or a committed value was lost";
    }
    /* the store still takes writes after the repair */
    uint32_t v = 7;
    if (ota_idfnvs_set(&s, "w", "after", OTA_IDFNVS_U32, &v, 4) != OTA_OK) {
        return "cannot write after the cut";
    }
    return NULL;
}

static void test_power_loss_sweep(void **state)
{
    (void)state;
    fill(old_blob, sizeof(old_blob), 3);
    fill(new_blob, sizeof(new_blob), 4);
    ota_nor_t *nor = dev();
    setup_base(nor);
    static uint8_t base[0x100000];
    assert_int_equal(ota_nor_snapshot(nor, base, sizeof(base)), OTA_OK);

    /* the full workload's operation count */
    ota_idfnvs_t s;
    mount(&s, nor);
    ota_nor_reset_counters(nor);
    assert_int_equal(workload(&s), OTA_OK);
    uint64_t ops = ota_nor_state(nor)->ops;
    assert_true(ops > 50);

    unsigned failures = 0;
    for (uint64_t n = 1; n <= ops; n++) {
        for (int mode = OTA_NOR_CUT_BEFORE; mode <= OTA_NOR_CUT_TORN; mode++) {
            assert_int_equal(ota_nor_restore(nor, base, sizeof(base)), OTA_OK);
            mount(&s, nor);
            ota_nor_cut_arm(nor, n, (ota_nor_cut_mode_t)mode, n * 7 + 1);
            (void)workload(&s);
            ota_nor_cut_disarm(nor);
            ota_nor_power_on(nor);
            const char *why = check_after_cut(nor);
            if (why != NULL) {
                print_message("cut %llu mode %d: %s\n", (unsigned long long)n, mode, why);
                failures++;
            }
        }
    }
    assert_int_equal(failures, 0);
    ota_nor_close(nor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_bytes),
        cmocka_unit_test(test_updates_collect_garbage),
        cmocka_unit_test(test_full_partition),
        cmocka_unit_test(test_cut_while_collecting),
        cmocka_unit_test(test_power_loss_repair_cut),
        cmocka_unit_test(test_power_loss_sweep),
    };
    test_filter_from_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
