/*
 * Key-value store: values of every type, limits and error codes, on-flash format, compaction
 * under pressure, wear, mount of foreign regions, and a power-loss sweep that cuts (before,
 * after, torn) at every flash operation of an OTA-resumption-like workload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_kv.h"
#include "test_util.h"

#define SEC 0x1000u
#define DEV_SIZE 0x20000u
#define REGION 0x9000u

/* ------------------------------------------------------------------------------------------ */
/* Test flash: NOR semantics, strict (refuses to program non-erased bytes), operation and wear  */
/* counters, and a power cut at the n-th program or erase (before, after or torn).              */
/* ------------------------------------------------------------------------------------------ */

enum { CUT_BEFORE, CUT_AFTER, CUT_TORN };

typedef struct {
    uint8_t *buf;
    uint32_t size;
    bool strict;
    long ops;    /* programs + erases reached */
    long cut_at; /* 0 = no cut */
    int mode;
    bool dead;
    uint64_t rng;
    long programs;
    long erases;
    long fail_at; /* this program reports OTA_ERR_IO and writes nothing */
    long weak_at; /* this program leaves its last byte unprogrammed and reports success */
    uint32_t wear[DEV_SIZE / SEC];
} tflash_t;

static uint64_t next_rand(uint64_t *s)
{
    return test_splitmix64(s);
}

static int tf_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    tflash_t *t = ctx;
    if (t->dead) {
        return OTA_ERR_POWER_LOSS;
    }
    memcpy(dst, t->buf + addr, len);
    return OTA_OK;
}

/* Counts a cut point; returns true when the power goes now. */
static bool tf_cut_here(tflash_t *t)
{
    t->ops++;
    return t->cut_at != 0 && t->ops == t->cut_at;
}

static int tf_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    tflash_t *t = ctx;
    const uint8_t *s = src;
    if (t->dead) {
        return OTA_ERR_POWER_LOSS;
    }
    if (t->strict) {
        for (uint32_t i = 0; i < len; i++) {
            if (t->buf[addr + i] != 0xFF) {
                return OTA_ERR_NOT_ERASED;
            }
        }
    }
    if (tf_cut_here(t)) {
        t->dead = true;
        if (t->mode == CUT_BEFORE) {
            return OTA_ERR_POWER_LOSS;
        }
        uint32_t n = len;
        if (t->mode == CUT_TORN) {
            n = (uint32_t)(next_rand(&t->rng) % len);
            uint8_t clear = (uint8_t)(t->buf[addr + n] & ~s[n]);
            t->buf[addr + n] &= (uint8_t) ~(clear & (uint8_t)next_rand(&t->rng));
        }
        for (uint32_t i = 0; i < n; i++) {
            t->buf[addr + i] &= s[i];
        }
        t->programs++;
        return OTA_ERR_POWER_LOSS;
    }
    if (t->ops == t->fail_at) {
        return OTA_ERR_IO;
    }
    uint32_t n = t->ops == t->weak_at ? len - 1 : len;
    for (uint32_t i = 0; i < n; i++) {
        t->buf[addr + i] &= s[i];
    }
    t->programs++;
    return OTA_OK;
}

static int tf_erase(void *ctx, uint32_t addr, uint32_t len)
{
    tflash_t *t = ctx;
    if (t->dead) {
        return OTA_ERR_POWER_LOSS;
    }
    if (tf_cut_here(t)) {
        t->dead = true;
        if (t->mode == CUT_BEFORE) {
            return OTA_ERR_POWER_LOSS;
        }
        if (t->mode == CUT_TORN) {
            /* every byte (or every 64-byte run) ends old, erased or random */
            uint32_t run = (next_rand(&t->rng) & 1) ? 64 : 1;
            for (uint32_t i = 0; i < len; i += run) {
                uint64_t pick = next_rand(&t->rng) % 3;
                for (uint32_t j = i; j < i + run && j < len; j++) {
                    if (pick == 1) {
                        t->buf[addr + j] = 0xFF;
                    } else if (pick == 2) {
                        t->buf[addr + j] = (uint8_t)next_rand(&t->rng);
                    }
                }
            }
            return OTA_ERR_POWER_LOSS;
        }
    }
    memset(t->buf + addr, 0xFF, len);
    t->erases++;
    for (uint32_t s = addr / SEC; s < (addr + len) / SEC; s++) {
        t->wear[s]++;
    }
    return t->dead ? OTA_ERR_POWER_LOSS : OTA_OK;
}

static void tf_init(tflash_t *t, ota_flash_t *f, uint8_t *buf, uint32_t size)
{
    memset(t, 0, sizeof(*t));
    t->buf = buf;
    t->size = size;
    t->strict = true;
    memset(f, 0, sizeof(*f));
    f->ctx = t;
    f->size = size;
    f->sector_size = SEC;
    f->block_size = 0x10000;
    f->page_size = 0x100;
    f->erase_value = 0xFF;
    f->read = tf_read;
    f->program = tf_program;
    f->erase = tf_erase;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint8_t dev[DEV_SIZE];
static tflash_t tf;
static ota_flash_t fl;

/* Fresh erased device with the store region formatted into *kv. */
static void fresh(ota_kv_t *kv, uint32_t region_size)
{
    memset(dev, 0xFF, sizeof(dev));
    tf_init(&tf, &fl, dev, sizeof(dev));
    assert_int_equal(ota_kv_mount(kv, &fl, REGION, region_size, NULL), OTA_OK);
}

/* ------------------------------------------------------------------------------------------ */

static void test_all_types(void **state)
{
    (void)state;
    ota_kv_t kv;
    fresh(&kv, 0x4000);
    uint8_t u8 = 0xA5;
    int8_t i8 = -7;
    uint16_t u16 = 0xBEEF;
    int16_t i16 = -12345;
    uint32_t u32 = 0xDEADBEEF;
    int32_t i32 = -2000000000;
    uint64_t u64 = 0x0123456789ABCDEFull;
    int64_t i64 = -0x123456789ALL;
    const char *str = "https://192.168.2.106:8070/hello_world.bin";
    uint8_t blob[300];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    assert_int_equal(ota_kv_set(&kv, "ns", "u8", OTA_KV_TYPE_U8, &u8, 1, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "i8", OTA_KV_TYPE_I8, &i8, 1, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "u16", OTA_KV_TYPE_U16, &u16, 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "i16", OTA_KV_TYPE_I16, &i16, 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "u32", OTA_KV_TYPE_U32, &u32, 4, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "i32", OTA_KV_TYPE_I32, &i32, 4, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "u64", OTA_KV_TYPE_U64, &u64, 8, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "i64", OTA_KV_TYPE_I64, &i64, 8, NULL), OTA_OK);
    assert_int_equal(
        ota_kv_set(&kv, "ns", "str", OTA_KV_TYPE_STR, str, (uint32_t)strlen(str) + 1, NULL),
        OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "blob", OTA_KV_TYPE_BLOB, blob, sizeof(blob), NULL),
                     OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "empty", OTA_KV_TYPE_BLOB, NULL, 0, NULL), OTA_OK);

    for (int pass = 0; pass < 2; pass++) {
        uint8_t gu8 = 0;
        int8_t gi8 = 0;
        uint16_t gu16 = 0;
        int16_t gi16 = 0;
        uint32_t gu32 = 0;
        int32_t gi32 = 0;
        uint64_t gu64 = 0;
        int64_t gi64 = 0;
        uint32_t len = 0;
        assert_int_equal(ota_kv_get(&kv, "ns", "u8", OTA_KV_TYPE_U8, &gu8, 1, &len, NULL), OTA_OK);
        assert_int_equal(gu8, u8);
        assert_int_equal(len, 1);
        assert_int_equal(ota_kv_get(&kv, "ns", "i8", OTA_KV_TYPE_I8, &gi8, 1, NULL, NULL), OTA_OK);
        assert_int_equal(gi8, i8);
        assert_int_equal(ota_kv_get(&kv, "ns", "u16", OTA_KV_TYPE_U16, &gu16, 2, NULL, NULL),
                         OTA_OK);
        assert_int_equal(gu16, u16);
        assert_int_equal(ota_kv_get(&kv, "ns", "i16", OTA_KV_TYPE_I16, &gi16, 2, NULL, NULL),
                         OTA_OK);
        assert_int_equal(gi16, i16);
        assert_int_equal(ota_kv_get(&kv, "ns", "u32", OTA_KV_TYPE_U32, &gu32, 4, NULL, NULL),
                         OTA_OK);
        assert_int_equal(gu32, u32);
        assert_int_equal(ota_kv_get(&kv, "ns", "i32", OTA_KV_TYPE_I32, &gi32, 4, NULL, NULL),
                         OTA_OK);
        assert_int_equal(gi32, i32);
        assert_int_equal(ota_kv_get(&kv, "ns", "u64", OTA_KV_TYPE_U64, &gu64, 8, NULL, NULL),
                         OTA_OK);
        assert_true(gu64 == u64);
        assert_int_equal(ota_kv_get(&kv, "ns", "i64", OTA_KV_TYPE_I64, &gi64, 8, NULL, NULL),
                         OTA_OK);
        assert_true(gi64 == i64);

        /* size query, exact buffer, short buffer */
        char sbuf[64];
        assert_int_equal(ota_kv_get(&kv, "ns", "str", OTA_KV_TYPE_STR, NULL, 0, &len, NULL),
                         OTA_OK);
        assert_int_equal(len, strlen(str) + 1);
        assert_int_equal(ota_kv_get(&kv, "ns", "str", OTA_KV_TYPE_STR, sbuf, len, &len, NULL),
                         OTA_OK);
        assert_string_equal(sbuf, str);
        len = 0;
        assert_int_equal(ota_kv_get(&kv, "ns", "str", OTA_KV_TYPE_STR, sbuf, 10, &len, NULL),
                         OTA_ERR_SIZE);
        assert_int_equal(len, strlen(str) + 1);
        uint8_t bbuf[300];
        assert_int_equal(
            ota_kv_get(&kv, "ns", "blob", OTA_KV_TYPE_BLOB, bbuf, sizeof(bbuf), &len, NULL),
            OTA_OK);
        assert_int_equal(len, sizeof(blob));
        assert_memory_equal(bbuf, blob, sizeof(blob));
        assert_int_equal(ota_kv_get(&kv, "ns", "empty", OTA_KV_TYPE_BLOB, bbuf, 0, &len, NULL),
                         OTA_OK);
        assert_int_equal(len, 0);
        ota_kv_type_t t;
        assert_int_equal(ota_kv_find(&kv, "ns", "blob", &t, &len), OTA_OK);
        assert_int_equal(t, OTA_KV_TYPE_BLOB);
        assert_int_equal(len, 300);

        /* remount: everything is on flash */
        assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x4000, NULL), OTA_OK);
    }

    ota_kv_stats_t st;
    assert_int_equal(ota_kv_stats(&kv, &st), OTA_OK);
    assert_int_equal(st.live_entries, 11);
    assert_int_equal(st.namespaces, 0);
    assert_int_equal(st.sectors, 4);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.used_bytes, st.live_bytes + 32); /* one sector, nothing superseded */
    assert_int_equal(st.free_bytes, 3 * (SEC - 32) - st.live_bytes);
}

static void test_overwrite_erase_namespaces(void **state)
{
    (void)state;
    ota_kv_t kv;
    ota_diag_t d;
    fresh(&kv, 0x4000);
    uint16_t v = 1;
    uint16_t g = 0;
    uint8_t g8 = 0;
    assert_int_equal(ota_kv_set(&kv, "a", "k", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);
    v = 2;
    assert_int_equal(ota_kv_set(&kv, "a", "k", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U16, &g, 2, NULL, NULL), OTA_OK);
    assert_int_equal(g, 2);
    /* same key in another namespace is another entry */
    v = 3;
    assert_int_equal(ota_kv_set(&kv, "b", "k", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U16, &g, 2, NULL, NULL), OTA_OK);
    assert_int_equal(g, 2);
    /* reading as another type; setting another type replaces the value */
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U8, &g8, 1, NULL, &d),
                     OTA_ERR_UNSUPPORTED);
    assert_string_equal(d.msg, "a/k: stored as u16, read as u8");
    uint8_t v8 = 9;
    assert_int_equal(ota_kv_set(&kv, "a", "k", OTA_KV_TYPE_U8, &v8, 1, NULL), OTA_OK);
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U8, &g8, 1, NULL, NULL), OTA_OK);
    assert_int_equal(g8, 9);
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U16, &g, 2, NULL, NULL),
                     OTA_ERR_UNSUPPORTED);

    /* erase key */
    assert_int_equal(ota_kv_erase_key(&kv, "a", "k", NULL), OTA_OK);
    assert_int_equal(ota_kv_get(&kv, "a", "k", OTA_KV_TYPE_U8, &g8, 1, NULL, &d),
                     OTA_ERR_NOT_FOUND);
    assert_string_equal(d.msg, "a/k: not found");
    assert_int_equal(ota_kv_erase_key(&kv, "a", "k", NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_find(&kv, "a", "k", NULL, NULL), OTA_ERR_NOT_FOUND);
    /* set again after erase */
    assert_int_equal(ota_kv_set(&kv, "a", "k", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);

    /* erase namespace: every key of "a" goes, "b" stays */
    assert_int_equal(ota_kv_set(&kv, "a", "k2", OTA_KV_TYPE_STR, "x", 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_erase_ns(&kv, "a", NULL), OTA_OK);
    assert_int_equal(ota_kv_find(&kv, "a", "k", NULL, NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_find(&kv, "a", "k2", NULL, NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_get(&kv, "b", "k", OTA_KV_TYPE_U16, &g, 2, NULL, NULL), OTA_OK);
    assert_int_equal(g, 3);
    /* erasing an empty namespace writes nothing */
    long before = tf.programs;
    assert_int_equal(ota_kv_erase_ns(&kv, "a", NULL), OTA_OK);
    assert_int_equal(ota_kv_erase_ns(&kv, "never", NULL), OTA_OK);
    assert_int_equal(tf.programs, before);
    /* keys set after the namespace erase are back */
    assert_int_equal(ota_kv_set(&kv, "a", "k", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);
    assert_int_equal(ota_kv_find(&kv, "a", "k", NULL, NULL), OTA_OK);

    /* namespaces exist only once created, and survive erasing their keys */
    assert_int_equal(ota_kv_ns_open(&kv, "a", false, NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_ns_open(&kv, "a", true, NULL), OTA_OK);
    assert_int_equal(ota_kv_ns_open(&kv, "a", false, NULL), OTA_OK);
    before = tf.programs;
    assert_int_equal(ota_kv_ns_open(&kv, "a", true, NULL), OTA_OK);
    assert_int_equal(tf.programs, before);
    assert_int_equal(ota_kv_erase_ns(&kv, "a", NULL), OTA_OK);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x4000, NULL), OTA_OK);
    assert_int_equal(ota_kv_ns_open(&kv, "a", false, NULL), OTA_OK);
    assert_int_equal(ota_kv_ns_open(&kv, "b", false, NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_find(&kv, "a", "k", NULL, NULL), OTA_ERR_NOT_FOUND);
    ota_kv_stats_t st;
    assert_int_equal(ota_kv_stats(&kv, &st), OTA_OK);
    assert_int_equal(st.namespaces, 1);
    assert_int_equal(st.live_entries, 1); /* b/k */
}

static void test_identical_set_writes_nothing(void **state)
{
    (void)state;
    ota_kv_t kv;
    fresh(&kv, 0x4000);
    const char *url = "https://example.com/fw.bin";
    assert_int_equal(ota_kv_set(&kv, "ota", "url", OTA_KV_TYPE_STR, url, 27, NULL), OTA_OK);
    long before = tf.programs;
    assert_int_equal(ota_kv_set(&kv, "ota", "url", OTA_KV_TYPE_STR, url, 27, NULL), OTA_OK);
    assert_int_equal(tf.programs, before);
    /* same bytes as another type is a change */
    assert_int_equal(ota_kv_set(&kv, "ota", "url", OTA_KV_TYPE_BLOB, url, 27, NULL), OTA_OK);
    assert_int_equal(tf.programs, before + 2);
}

static void test_limits_and_errors(void **state)
{
    (void)state;
    ota_kv_t kv;
    ota_diag_t d;
    uint8_t big[OTA_KV_VALUE_MAX + 1];
    uint32_t v = 5;
    uint32_t len = 0;
    memset(&kv, 0, sizeof(kv));
    assert_int_equal(ota_kv_set(&kv, "ns", "k", OTA_KV_TYPE_U32, &v, 4, &d), OTA_ERR_STATE);
    assert_string_equal(d.msg, "store not mounted");
    fresh(&kv, 0x3000);

    /* names: 15 characters fit, 16 do not, empty and NULL are invalid */
    assert_int_equal(
        ota_kv_set(&kv, "fifteen_chars_n", "fifteen_chars_k", OTA_KV_TYPE_U32, &v, 4, NULL),
        OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "sixteen_chars_kk", OTA_KV_TYPE_U32, &v, 4, &d),
                     OTA_ERR_SIZE);
    assert_string_equal(d.msg, "key name \"sixteen_chars_kk...\" is longer than 15 characters");
    assert_int_equal(ota_kv_set(&kv, "sixteen_chars_nn", "k", OTA_KV_TYPE_U32, &v, 4, NULL),
                     OTA_ERR_SIZE);
    assert_int_equal(ota_kv_get(&kv, "ns", "sixteen_chars_kk", OTA_KV_TYPE_U32, &v, 4, NULL, NULL),
                     OTA_ERR_SIZE);
    assert_int_equal(ota_kv_set(&kv, "ns", "", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_set(&kv, NULL, "k", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_get(&kv, "ns", NULL, OTA_KV_TYPE_U32, &v, 4, NULL, NULL),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_ns_open(&kv, "", true, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_erase_ns(&kv, "sixteen_chars_nn", NULL), OTA_ERR_SIZE);

    /* values */
    assert_int_equal(ota_kv_set(&kv, "ns", "k", OTA_KV_TYPE_U32, &v, 2, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_set(&kv, "ns", "k", (ota_kv_type_t)0x33, &v, 4, NULL),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_set(&kv, "ns", "k", OTA_KV_TYPE_BLOB, NULL, 4, NULL),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_set(&kv, "ns", "k", OTA_KV_TYPE_STR, "abc", 3, NULL),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_set(&kv, "ns", "k", OTA_KV_TYPE_STR, "", 0, NULL), OTA_ERR_INVALID_ARG);
    memset(big, 'x', sizeof(big));
    big[OTA_KV_VALUE_MAX - 1] = '\0';
    assert_int_equal(ota_kv_set(&kv, "ns", "s", OTA_KV_TYPE_STR, big, OTA_KV_VALUE_MAX, NULL),
                     OTA_OK);
    big[OTA_KV_VALUE_MAX] = '\0';
    assert_int_equal(ota_kv_set(&kv, "ns", "s2", OTA_KV_TYPE_STR, big, OTA_KV_VALUE_MAX + 1, &d),
                     OTA_ERR_SIZE);
    assert_string_equal(d.msg, "ns/s2: 4001 bytes, the limit is 4000");
    assert_int_equal(ota_kv_set(&kv, "ns", "b", OTA_KV_TYPE_BLOB, big, OTA_KV_VALUE_MAX, NULL),
                     OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "ns", "b2", OTA_KV_TYPE_BLOB, big, OTA_KV_VALUE_MAX + 1, NULL),
                     OTA_ERR_SIZE);
    char out[OTA_KV_VALUE_MAX];
    assert_int_equal(ota_kv_get(&kv, "ns", "s", OTA_KV_TYPE_STR, out, sizeof(out), &len, NULL),
                     OTA_OK);
    assert_int_equal(len, OTA_KV_VALUE_MAX);
    assert_int_equal(strlen(out), OTA_KV_VALUE_MAX - 1);

    /* stats argument */
    assert_int_equal(ota_kv_stats(&kv, NULL), OTA_ERR_INVALID_ARG);
}

/* Documented on-flash format, checked byte by byte with an independent CRC. */
static void test_on_flash_format(void **state)
{
    (void)state;
    ota_kv_t kv;
    assert_int_equal(test_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    fresh(&kv, 0x4000);
    uint16_t v = 0x1234;
    assert_int_equal(
        ota_kv_set(&kv, "ota_resumption", "nvs_ota_wr_len", OTA_KV_TYPE_U16, &v, 2, NULL), OTA_OK);
    const char *url = "https://h/f.bin";
    assert_int_equal(ota_kv_set(&kv, "ota_resumption", "nvs_ota_url", OTA_KV_TYPE_STR, url,
                                (uint32_t)strlen(url) + 1, NULL),
                     OTA_OK);
    const uint8_t *s0 = dev + REGION;
    /* sector header */
    assert_int_equal(le32(s0), 0x564B544Fu);
    assert_memory_equal(s0, "OTKV", 4);
    assert_int_equal(s0[4], 1);
    assert_int_equal(s0[5] | s0[6] | s0[7], 0);
    assert_int_equal(le32(s0 + 8), 1);
    assert_int_equal(le32(s0 + 12), 0xFFFFFFFFu);
    for (int i = 16; i < 24; i++) {
        assert_int_equal(s0[i], 0);
    }
    assert_int_equal(le32(s0 + 24), test_crc32(s0, 24));
    assert_int_equal(le32(s0 + 28), 0);
    /* first record: u16 */
    const uint8_t *r = s0 + 32;
    assert_int_equal(r[0], 0x02);
    assert_int_equal(r[1], 14);
    assert_int_equal(r[2], 14);
    assert_int_equal(r[3], 0);
    assert_int_equal(r[4] | (r[5] << 8), 2);
    assert_int_equal(r[6] | r[7], 0);
    assert_memory_equal(r + 12, "ota_resumptionnvs_ota_wr_len", 28);
    assert_int_equal(r[40], 0x34);
    assert_int_equal(r[41], 0x12);
    uint8_t tmp[64];
    memcpy(tmp, r, 8);
    memcpy(tmp + 8, r + 12, 30);
    assert_int_equal(le32(r + 8), test_crc32(tmp, 38));
    assert_int_equal(r[42], 0xFF); /* padding to 44 */
    assert_int_equal(r[43], 0xFF);
    /* second record: string with its NUL, at the next multiple of 4 */
    r = s0 + 32 + 44;
    assert_int_equal(r[0], 0x21);
    assert_int_equal(r[4], 16);
    assert_memory_equal(r + 12 + 14 + 11, url, 16);
    /* the rest is erased */
    uint32_t end = 32 + 44 + ((12 + 14 + 11 + 16 + 3) & ~3u);
    for (uint32_t i = end; i < SEC; i++) {
        assert_int_equal(s0[i], 0xFF);
    }
    for (uint32_t i = SEC; i < 0x4000; i++) {
        assert_int_equal(s0[i], 0xFF);
    }
    /* erase-namespace tombstone */
    assert_int_equal(ota_kv_erase_ns(&kv, "ota_resumption", NULL), OTA_OK);
    r = s0 + end;
    assert_int_equal(r[0], 0xE2);
    assert_int_equal(r[1], 14);
    assert_int_equal(r[2], 0);
    assert_int_equal(r[4] | r[5], 0);
}

static void test_mount_regions(void **state)
{
    (void)state;
    ota_kv_t kv;
    ota_diag_t d;
    uint32_t v = 1;

    /* erased region: empty store, nothing written until the first set */
    fresh(&kv, 0x6000);
    assert_int_equal(tf.programs + tf.erases, 0);
    assert_int_equal(ota_kv_find(&kv, "a", "b", NULL, NULL), OTA_ERR_NOT_FOUND);
    ota_kv_stats_t st;
    assert_int_equal(ota_kv_stats(&kv, &st), OTA_OK);
    assert_int_equal(st.generation, 0);
    assert_int_equal(st.used_bytes, 0);
    assert_int_equal(st.free_bytes, 5 * (SEC - 32));

    /* random data: not a store */
    uint64_t seed = 42;
    for (uint32_t i = 0; i < 0x6000; i++) {
        dev[REGION + i] = (uint8_t)next_rand(&seed);
    }
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x6000, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "sector 0 at 0x9000: neither erased nor a store sector");
    assert_false(kv.mounted);
    assert_int_equal(ota_kv_set(&kv, "a", "b", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_ERR_STATE);
    /* format makes it usable */
    assert_int_equal(ota_kv_format(&kv, &fl, REGION, 0x6000, NULL), OTA_OK);
    assert_int_equal(ota_kv_set(&kv, "a", "b", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x6000, NULL), OTA_OK);
    assert_int_equal(ota_kv_find(&kv, "a", "b", NULL, NULL), OTA_OK);

    /* stray bytes in a sector outside the log (an erase cut short) are erased by mount */
    dev[REGION + 3 * SEC + 100] = 0x00;
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x6000, NULL), OTA_OK);
    assert_int_equal(dev[REGION + 3 * SEC + 100], 0xFF);
    assert_int_equal(tf.wear[REGION / SEC + 3], 2); /* format, then mount */
    assert_int_equal(ota_kv_find(&kv, "a", "b", NULL, NULL), OTA_OK);

    /* another format version (valid header CRC): reported as such */
    uint8_t *h = dev + REGION;
    uint8_t saved[32];
    memcpy(saved, h, 32);
    tf.strict = false;
    h[4] = 2;
    uint32_t c = test_crc32(h, 24);
    h[24] = (uint8_t)c;
    h[25] = (uint8_t)(c >> 8);
    h[26] = (uint8_t)(c >> 16);
    h[27] = (uint8_t)(c >> 24);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x6000, &d), OTA_ERR_VERSION);
    assert_string_equal(d.msg, "sector 0 at 0x9000: store format version 2, this one reads 1");
    memcpy(h, saved, 32);
    tf.strict = true;
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x6000, NULL), OTA_OK);

    /* geometry */
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, SEC, &d), OTA_ERR_SIZE);
    assert_string_equal(d.msg, "region of 1 sectors; 2 to 128 are supported");
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION + 0x800, 0x4000, NULL), OTA_ERR_ALIGN);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x4800, NULL), OTA_ERR_ALIGN);
    assert_int_equal(ota_kv_mount(&kv, &fl, DEV_SIZE - SEC, 0x2000, NULL), OTA_ERR_BOUNDS);
    assert_int_equal(ota_kv_mount(NULL, &fl, REGION, 0x4000, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_kv_mount(&kv, NULL, REGION, 0x4000, NULL), OTA_ERR_INVALID_ARG);
    ota_flash_t small = fl;
    small.sector_size = 0x800;
    assert_int_equal(ota_kv_mount(&kv, &small, REGION, 0x4000, NULL), OTA_ERR_SIZE);
}

/* A torn first header (power cut during the very first set) still mounts as an empty store. */
static void test_first_header_torn(void **state)
{
    (void)state;
    ota_kv_t kv;
    uint32_t v = 7;
    fresh(&kv, 0x4000);
    tf.cut_at = 1;
    tf.mode = CUT_TORN;
    tf.rng = 3;
    assert_int_equal(ota_kv_set(&kv, "a", "b", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_ERR_POWER_LOSS);
    assert_false(kv.mounted);
    tf_init(&tf, &fl, dev, sizeof(dev));
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x4000, NULL), OTA_OK);
    assert_int_equal(ota_kv_find(&kv, "a", "b", NULL, NULL), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_kv_set(&kv, "a", "b", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
}

/* A flash failure leaves the store unmounted; mounting again gives the previous value. */
static void test_flash_failure(void **state)
{
    (void)state;
    ota_kv_t kv;
    ota_diag_t d;
    uint32_t v = 1;
    uint32_t g = 0;
    fresh(&kv, 0x3000);
    assert_int_equal(ota_kv_set(&kv, "n", "k", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
    for (int weak = 0; weak < 2; weak++) {
        v++;
        if (weak) {
            tf.weak_at = tf.ops + 1;
        } else {
            tf.fail_at = tf.ops + 1;
        }
        int err = ota_kv_set(&kv, "n", "k", OTA_KV_TYPE_U32, &v, 4, &d);
        assert_int_equal(err, OTA_ERR_IO);
        if (weak) {
            assert_string_equal(d.msg, "sector 0 offset 0x34: record reads back wrong");
        }
        assert_false(kv.mounted);
        assert_int_equal(ota_kv_get(&kv, "n", "k", OTA_KV_TYPE_U32, &g, 4, NULL, NULL),
                         OTA_ERR_STATE);
        tf.fail_at = tf.weak_at = 0;
        assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x3000, NULL), OTA_OK);
        assert_int_equal(ota_kv_get(&kv, "n", "k", OTA_KV_TYPE_U32, &g, 4, NULL, NULL), OTA_OK);
        assert_int_equal(g, v - 1);
        v--;
    }
    /* the sector with the bad record takes no more records; the next one does */
    v = 77;
    assert_int_equal(ota_kv_set(&kv, "n", "k", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x3000, NULL), OTA_OK);
    assert_int_equal(ota_kv_get(&kv, "n", "k", OTA_KV_TYPE_U32, &g, 4, NULL, NULL), OTA_OK);
    assert_int_equal(g, 77);
    ota_kv_stats_t st;
    assert_int_equal(ota_kv_stats(&kv, &st), OTA_OK);
    assert_int_equal(st.generation, 2);
}

/* Many updates of a few keys never run out of space while the live data fits; wear is even. */
static void test_compaction_under_pressure(void **state)
{
    (void)state;
    static const uint32_t sizes[6] = {2, 40, 300, 700, 1200, 900}; /* ~3.2 KB live */
    static uint8_t want[6][1200];
    static uint8_t got[1200];
    char key[8];
    ota_kv_t kv;
    fresh(&kv, 0x4000);
    uint64_t seed = 7;
    for (int n = 0; n < 3000; n++) {
        int k = (int)(next_rand(&seed) % 6);
        for (uint32_t i = 0; i < sizes[k]; i++) {
            want[k][i] = (uint8_t)next_rand(&seed);
        }
        snprintf(key, sizeof(key), "key%d", k);
        assert_int_equal(ota_kv_set(&kv, k < 3 ? "small" : "large", key, OTA_KV_TYPE_BLOB, want[k],
                                    sizes[k], NULL),
                         OTA_OK);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 6; k++) {
            uint32_t len = 0;
            snprintf(key, sizeof(key), "key%d", k);
            assert_int_equal(ota_kv_get(&kv, k < 3 ? "small" : "large", key, OTA_KV_TYPE_BLOB, got,
                                        sizeof(got), &len, NULL),
                             OTA_OK);
            assert_int_equal(len, sizes[k]);
            assert_memory_equal(got, want[k], sizes[k]);
        }
        assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x4000, NULL), OTA_OK);
    }
    ota_kv_stats_t st;
    assert_int_equal(ota_kv_stats(&kv, &st), OTA_OK);
    assert_int_equal(st.live_entries, 6);
    assert_true(st.generation > 100);
    /* the ring spreads erases evenly over the region's sectors, and nothing outside is touched */
    uint32_t lo = UINT32_MAX;
    uint32_t hi = 0;
    for (uint32_t s = REGION / SEC; s < REGION / SEC + 4; s++) {
        lo = tf.wear[s] < lo ? tf.wear[s] : lo;
        hi = tf.wear[s] > hi ? tf.wear[s] : hi;
    }
    assert_true(lo > 25);
    assert_true(hi - lo <= 1);
    assert_int_equal(tf.wear[REGION / SEC - 1] + tf.wear[REGION / SEC + 4], 0);
    printf("compaction: 3000 updates, generation %u, erases per sector %u..%u\n",
           (unsigned)st.generation, (unsigned)lo, (unsigned)hi);
}

/* When the live data does not fit, set fails with NO_SPACE and the store stays intact. */
static void test_no_space(void **state)
{
    (void)state;
    static uint8_t blob[3000];
    char key[8];
    ota_kv_t kv;
    ota_diag_t d;
    fresh(&kv, 0x3000); /* capacity 2 * 4064 */
    int stored = 0;
    int err = OTA_OK;
    for (int k = 0; k < 10; k++) {
        memset(blob, k, sizeof(blob));
        snprintf(key, sizeof(key), "b%d", k);
        err = ota_kv_set(&kv, "ns", key, OTA_KV_TYPE_BLOB, blob, sizeof(blob), &d);
        if (err != OTA_OK) {
            break;
        }
        stored++;
    }
    assert_int_equal(err, OTA_ERR_NO_SPACE);
    assert_int_equal(stored, 2);
    /* replacing a value needs room for both copies at once: 2 x 3000 + 3000 do not fit */
    memset(blob, 0x55, sizeof(blob));
    assert_int_equal(ota_kv_set(&kv, "ns", "b0", OTA_KV_TYPE_BLOB, blob, sizeof(blob), NULL),
                     OTA_ERR_NO_SPACE);
    /* small values still fit */
    uint32_t v = 1;
    assert_int_equal(ota_kv_set(&kv, "ns", "small", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x3000, NULL), OTA_OK);
    for (int k = 0; k < stored; k++) {
        uint8_t got[3000];
        snprintf(key, sizeof(key), "b%d", k);
        assert_int_equal(ota_kv_get(&kv, "ns", key, OTA_KV_TYPE_BLOB, got, sizeof(got), NULL, NULL),
                         OTA_OK);
        memset(blob, k, sizeof(blob));
        assert_memory_equal(got, blob, sizeof(blob));
    }
    /* after erasing one, the other fits again */
    assert_int_equal(ota_kv_erase_key(&kv, "ns", "b0", NULL), OTA_OK);
    memset(blob, 0x66, sizeof(blob));
    assert_int_equal(ota_kv_set(&kv, "ns", "b1", OTA_KV_TYPE_BLOB, blob, sizeof(blob), NULL),
                     OTA_OK);
}

/* Two-sector region: the oldest sector is the previous active one. */
static void test_two_sectors(void **state)
{
    (void)state;
    ota_kv_t kv;
    fresh(&kv, 0x2000);
    uint32_t v;
    char url[200];
    for (v = 0; v < 500; v++) {
        assert_int_equal(ota_kv_set(&kv, "n", "v", OTA_KV_TYPE_U32, &v, 4, NULL), OTA_OK);
        if (v % 10 == 0) {
            snprintf(url, sizeof(url), "https://server/firmware-%u.bin", (unsigned)v);
            assert_int_equal(
                ota_kv_set(&kv, "n", "url", OTA_KV_TYPE_STR, url, (uint32_t)strlen(url) + 1, NULL),
                OTA_OK);
        }
    }
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, 0x2000, NULL), OTA_OK);
    uint32_t g = 0;
    assert_int_equal(ota_kv_get(&kv, "n", "v", OTA_KV_TYPE_U32, &g, 4, NULL, NULL), OTA_OK);
    assert_int_equal(g, 499);
    char got[200];
    assert_int_equal(ota_kv_get(&kv, "n", "url", OTA_KV_TYPE_STR, got, sizeof(got), NULL, NULL),
                     OTA_OK);
    assert_string_equal(got, "https://server/firmware-490.bin");
    /* 500 x 20 + 50 x ~48 bytes: three sector switches, each compacting the other sector */
    assert_int_equal(tf.wear[REGION / SEC], 2);
    assert_int_equal(tf.wear[REGION / SEC + 1], 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Power-loss sweep                                                                             */
/* ------------------------------------------------------------------------------------------ */

#define NKEYS 6
#define VMAX 512

typedef struct {
    const char *ns;
    const char *key;
} key_def_t;

static const key_def_t keys[NKEYS] = {
    {"ota_resumption", "nvs_ota_wr_len"},
    {"ota_resumption", "nvs_ota_url"},
    {"cfg", "boot_count"},
    {"cfg", "cal"},
    {"cfg", "name"},
    {"cfg", "probe"},
};

typedef struct {
    bool present;
    uint8_t type;
    uint32_t len;
    uint8_t data[VMAX];
} mval_t;

typedef struct {
    mval_t v[NKEYS];
} model_t;

enum { OP_SET, OP_ERASE_KEY, OP_ERASE_NS, OP_NS_OPEN };

typedef struct {
    int op;
    int key;        /* key index (OP_SET, OP_ERASE_KEY) */
    const char *ns; /* OP_ERASE_NS, OP_NS_OPEN */
    mval_t val;     /* OP_SET */
} step_t;

#define MAX_STEPS 400
static step_t steps[MAX_STEPS];
static int nsteps;

static void add_set_u16(int key, uint16_t v)
{
    step_t *s = &steps[nsteps++];
    memset(s, 0, sizeof(*s));
    s->op = OP_SET;
    s->key = key;
    s->val.present = true;
    s->val.type = OTA_KV_TYPE_U16;
    s->val.len = 2;
    memcpy(s->val.data, &v, 2);
}

static void add_set_u32(int key, uint32_t v)
{
    step_t *s = &steps[nsteps++];
    memset(s, 0, sizeof(*s));
    s->op = OP_SET;
    s->key = key;
    s->val.present = true;
    s->val.type = OTA_KV_TYPE_U32;
    s->val.len = 4;
    memcpy(s->val.data, &v, 4);
}

static void add_set_bytes(int key, uint8_t type, const void *p, uint32_t len)
{
    step_t *s = &steps[nsteps++];
    memset(s, 0, sizeof(*s));
    s->op = OP_SET;
    s->key = key;
    s->val.present = true;
    s->val.type = type;
    s->val.len = len;
    memcpy(s->val.data, p, len);
}

static void add_op(int op, int key, const char *ns)
{
    step_t *s = &steps[nsteps++];
    memset(s, 0, sizeof(*s));
    s->op = op;
    s->key = key;
    s->ns = ns;
}

/*
 * The workload: configuration keys, then downloads as advanced_https_ota_example stores them
 * (progress in KiB after every chunk, the URL once, the namespace erased when complete), with
 * configuration changes in between. About three sectors of records: two compactions in a
 * three-sector region.
 */
static void build_steps(int downloads)
{
    nsteps = 0;
    uint8_t cal[64];
    for (int i = 0; i < 64; i++) {
        cal[i] = (uint8_t)(0xC0 + i);
    }
    add_op(OP_NS_OPEN, 0, "cfg");
    add_op(OP_NS_OPEN, 0, "ota_resumption");
    add_set_u32(2, 1);
    add_set_bytes(3, OTA_KV_TYPE_BLOB, cal, sizeof(cal));
    add_set_bytes(4, OTA_KV_TYPE_STR, "device-a", 9);
    for (int dl = 0; dl < downloads; dl++) {
        char url[VMAX];
        int n = snprintf(url, sizeof(url), "https://192.168.2.106:8070/firmware_%d.bin?", dl);
        int pad = 150 + (dl * 37) % 250;
        for (int i = 0; i < pad; i++) {
            url[n++] = (char)('a' + (i + dl) % 26);
        }
        url[n++] = '\0';
        for (int chunk = 1; chunk <= 5; chunk++) {
            add_set_u16(0, (uint16_t)(chunk * 4 + dl));
            if (chunk == 1) {
                add_set_bytes(1, OTA_KV_TYPE_STR, url, (uint32_t)n);
            }
        }
        if (dl % 3 != 2) {
            add_op(OP_ERASE_NS, 0, "ota_resumption"); /* download complete */
        }
        if (dl % 2 == 1) {
            add_set_u32(2, (uint32_t)dl + 2);
        }
        if (dl == 3) {
            add_op(OP_ERASE_KEY, 4, NULL);
        }
        if (dl == 6) {
            add_set_bytes(4, OTA_KV_TYPE_STR, "device-b", 9);
        }
        if (dl == 8) {
            cal[0] ^= 0xFF;
            add_set_bytes(3, OTA_KV_TYPE_BLOB, cal, sizeof(cal));
        }
    }
    assert_true(nsteps <= MAX_STEPS);
}

static void model_apply(model_t *m, const step_t *s)
{
    switch (s->op) {
    case OP_SET:
        m->v[s->key] = s->val;
        break;
    case OP_ERASE_KEY:
        m->v[s->key].present = false;
        break;
    case OP_ERASE_NS:
        for (int k = 0; k < NKEYS; k++) {
            if (strcmp(keys[k].ns, s->ns) == 0) {
                m->v[k].present = false;
            }
        }
        break;
    default:
        break;
    }
}

static int run_step(ota_kv_t *kv, const step_t *s)
{
    switch (s->op) {
    case OP_SET:
        return ota_kv_set(kv, keys[s->key].ns, keys[s->key].key, (ota_kv_type_t)s->val.type,
                          s->val.data, s->val.len, NULL);
    case OP_ERASE_KEY:
        return ota_kv_erase_key(kv, keys[s->key].ns, keys[s->key].key, NULL);
    case OP_ERASE_NS:
        return ota_kv_erase_ns(kv, s->ns, NULL);
    default:
        return ota_kv_ns_open(kv, s->ns, true, NULL);
    }
}

/* Reads key k from the store into *out (present or not). */
static int read_key(ota_kv_t *kv, int k, mval_t *out)
{
    ota_kv_type_t t;
    uint32_t len;
    memset(out, 0, sizeof(*out));
    int err = ota_kv_find(kv, keys[k].ns, keys[k].key, &t, &len);
    if (err == OTA_ERR_NOT_FOUND) {
        return OTA_OK;
    }
    if (err != OTA_OK) {
        return err;
    }
    if (len > VMAX) {
        return OTA_ERR_SIZE;
    }
    out->present = true;
    out->type = (uint8_t)t;
    out->len = len;
    return ota_kv_get(kv, keys[k].ns, keys[k].key, t, out->data, VMAX, NULL, NULL);
}

static bool mval_eq(const mval_t *a, const mval_t *b)
{
    if (a->present != b->present) {
        return false;
    }
    return !a->present ||
           (a->type == b->type && a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

/*
 * After a cut during step s (model before: *pre, after: *post), every key must hold its value
 * from pre or post; keys of a namespace erase change together; namespaces opened before stay.
 * Returns a short reason on failure, NULL when the store is acceptable.
 */
static const char *check_store(ota_kv_t *kv, const model_t *pre, const model_t *post,
                               const step_t *s, int step_index)
{
    static char why[1024];
    mval_t got[NKEYS];
    int from_post = 0;
    int from_pre = 0;
    for (int k = 0; k < NKEYS; k++) {
        if (read_key(kv, k, &got[k]) != OTA_OK) {
            snprintf(why, sizeof(why), "key %s/%s unreadable", keys[k].ns, keys[k].key);
            return why;
        }
        bool is_pre = mval_eq(&got[k], &pre->v[k]);
        bool is_post = mval_eq(&got[k], &post->v[k]);
        if (!is_pre && !is_post) {
            snprintf(why, sizeof(why), "key %s/%s holds neither old nor new value", keys[k].ns,
                     keys[k].key);
            return why;
        }
        if (!mval_eq(&pre->v[k], &post->v[k])) {
            from_post += is_post;
            from_pre += is_pre;
        }
    }
    if (s != NULL && s->op == OP_ERASE_NS && from_post > 0 && from_pre > 0) {
        return "namespace erase was applied to some keys only";
    }
    for (int i = 0; i < step_index; i++) {
        if (steps[i].op == OP_NS_OPEN && ota_kv_ns_open(kv, steps[i].ns, false, NULL) != OTA_OK) {
            return "a namespace created earlier is gone";
        }
    }
    return NULL;
}

#define SWEEP_MAX_SIZE (4 * SEC)
static uint32_t sweep_size; /* region size of the current sweep */

typedef struct {
    long cases;
    long recovery_cases;
    long failures;
    long sector_switches; /* steps that erased a sector (compactions) */
} sweep_stats_t;

/* Power on after a cut: mount (clean), check, then prove the store still takes writes. */
static const char *power_on_and_check(const model_t *pre, const model_t *post, const step_t *s,
                                      int step_index)
{
    ota_kv_t kv;
    ota_diag_t d;
    static char why[1024];
    tf_init(&tf, &fl, dev, sizeof(dev));
    int err = ota_kv_mount(&kv, &fl, REGION, sweep_size, &d);
    if (err != OTA_OK) {
        snprintf(why, sizeof(why), "mount failed: %s (%s)", ota_strerror(err), d.msg);
        return why;
    }
    const char *bad = check_store(&kv, pre, post, s, step_index);
    if (bad != NULL) {
        return bad;
    }
    /* the same result after a second mount, and the store accepts a write */
    model_t now;
    for (int k = 0; k < NKEYS; k++) {
        read_key(&kv, k, &now.v[k]);
    }
    uint32_t probe = 0xC0FFEE00u + (uint32_t)step_index;
    if (ota_kv_set(&kv, "cfg", "probe", OTA_KV_TYPE_U32, &probe, 4, &d) != OTA_OK) {
        snprintf(why, sizeof(why), "write after power-on failed: %s", d.msg);
        return why;
    }
    now.v[5].present = true;
    now.v[5].type = OTA_KV_TYPE_U32;
    now.v[5].len = 4;
    memcpy(now.v[5].data, &probe, 4);
    if (ota_kv_mount(&kv, &fl, REGION, sweep_size, &d) != OTA_OK) {
        snprintf(why, sizeof(why), "second mount failed: %s", d.msg);
        return why;
    }
    bad = check_store(&kv, &now, &now, NULL, step_index);
    return bad;
}

static uint8_t snap_dev[SWEEP_MAX_SIZE];
static uint8_t cut_dev[SWEEP_MAX_SIZE];

static void report_failure(sweep_stats_t *st, int step, long op, int mode, uint64_t seed,
                           long rec_op, int rec_mode, const char *why)
{
    static const char *const names[] = {"before", "after", "torn"};
    st->failures++;
    if (st->failures <= 10) {
        if (rec_op == 0) {
            printf("FAIL step %d op %ld %s seed %llu: %s\n", step, op, names[mode],
                   (unsigned long long)seed, why);
        } else {
            printf("FAIL step %d op %ld %s seed %llu, recovery op %ld %s: %s\n", step, op,
                   names[mode], (unsigned long long)seed, rec_op, names[rec_mode], why);
        }
    }
}

/*
 * Cuts the power at every program and erase of every step, in each mode (torn erases with
 * several seeds), powers on and checks. Where the power-on itself writes (finishing a sector
 * switch), it also cuts at each of those writes and powers on once more.
 */
static void sweep(sweep_stats_t *st)
{
    ota_kv_t kv;
    model_t m;
    memset(&m, 0, sizeof(m));
    memset(dev, 0xFF, sizeof(dev));
    tf_init(&tf, &fl, dev, sizeof(dev));
    assert_int_equal(ota_kv_mount(&kv, &fl, REGION, sweep_size, NULL), OTA_OK);

    for (int i = 0; i < nsteps; i++) {
        model_t post = m;
        model_apply(&post, &steps[i]);
        /* snapshot before the step; count its flash operations with a clean run */
        memcpy(snap_dev, dev + REGION, sweep_size);
        ota_kv_t snap_kv = kv;
        tf.ops = 0;
        long erases_before = tf.erases;
        assert_int_equal(run_step(&kv, &steps[i]), OTA_OK);
        long nops = tf.ops;
        if (tf.erases != erases_before) {
            st->sector_switches++;
        }
        memcpy(cut_dev, dev + REGION, sweep_size); /* state after the step, to continue from */
        ota_kv_t after_kv = kv;

        for (long op = 1; op <= nops; op++) {
            for (int mode = CUT_BEFORE; mode <= CUT_TORN; mode++) {
                int seeds = mode == CUT_TORN ? 3 : 1;
                for (int sd = 0; sd < seeds; sd++) {
                    uint64_t seed = (uint64_t)i * 1000003u + (uint64_t)op * 31u + (uint64_t)sd;
                    memcpy(dev + REGION, snap_dev, sweep_size);
                    tf_init(&tf, &fl, dev, sizeof(dev));
                    ota_kv_t ckv = snap_kv;
                    tf.cut_at = op;
                    tf.mode = mode;
                    tf.rng = seed;
                    int err = run_step(&ckv, &steps[i]);
                    assert_int_equal(err, OTA_ERR_POWER_LOSS);
                    st->cases++;
                    uint8_t torn[SWEEP_MAX_SIZE];
                    memcpy(torn, dev + REGION, sweep_size);

                    /* how many writes does power-on do here? */
                    tf_init(&tf, &fl, dev, sizeof(dev));
                    ota_kv_t rkv;
                    long rec_ops = 0;
                    if (ota_kv_mount(&rkv, &fl, REGION, sweep_size, NULL) == OTA_OK) {
                        rec_ops = tf.ops;
                    }
                    memcpy(dev + REGION, torn, sweep_size);
                    const char *why = power_on_and_check(&m, &post, &steps[i], i);
                    if (why != NULL) {
                        report_failure(st, i, op, mode, seed, 0, 0, why);
                        continue;
                    }
                    /* cut again while power-on finishes the interrupted work */
                    for (long rop = 1; rop <= rec_ops; rop++) {
                        for (int rmode = CUT_BEFORE; rmode <= CUT_TORN; rmode++) {
                            memcpy(dev + REGION, torn, sweep_size);
                            tf_init(&tf, &fl, dev, sizeof(dev));
                            tf.cut_at = rop;
                            tf.mode = rmode;
                            tf.rng = seed ^ 0xABCDEFull ^ (uint64_t)rop;
                            err = ota_kv_mount(&rkv, &fl, REGION, sweep_size, NULL);
                            assert_int_equal(err, OTA_ERR_POWER_LOSS);
                            st->recovery_cases++;
                            why = power_on_and_check(&m, &post, &steps[i], i);
                            if (why != NULL) {
                                report_failure(st, i, op, mode, seed, rop, rmode, why);
                            }
                        }
                    }
                }
            }
        }
        /* continue from the uninterrupted result */
        memcpy(dev + REGION, cut_dev, sweep_size);
        tf_init(&tf, &fl, dev, sizeof(dev));
        kv = after_kv;
        kv.flash = &fl;
        m = post;
        if (i % 16 == 0 || i == nsteps - 1) {
            assert_null(check_store(&kv, &m, &m, NULL, i + 1));
        }
    }
}

static void sweep_region(uint32_t sectors, int downloads)
{
    sweep_stats_t st;
    memset(&st, 0, sizeof(st));
    sweep_size = sectors * SEC;
    build_steps(downloads);
    sweep(&st);
    printf("power-loss sweep, %u-sector region: %d steps, %ld cut cases, %ld cuts during "
           "power-on recovery, %ld compactions, %ld failures\n",
           (unsigned)sectors, nsteps, st.cases, st.recovery_cases, st.sector_switches, st.failures);
    assert_int_equal(st.failures, 0);
    assert_true(st.sector_switches >= 2); /* at least two compactions (each erases a sector) */
    assert_true(st.recovery_cases > 0);
}

static void test_power_loss_sweep_3_sectors(void **state)
{
    (void)state;
    sweep_region(3, 30);
}

static void test_power_loss_sweep_2_sectors(void **state)
{
    (void)state;
    sweep_region(2, 20);
}

static void test_power_loss_sweep_4_sectors(void **state)
{
    (void)state;
    sweep_region(4, 36);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_overwrite_erase_namespaces),
        cmocka_unit_test(test_identical_set_writes_nothing),
        cmocka_unit_test(test_limits_and_errors),
        cmocka_unit_test(test_on_flash_format),
        cmocka_unit_test(test_mount_regions),
        cmocka_unit_test(test_first_header_torn),
        cmocka_unit_test(test_flash_failure),
        cmocka_unit_test(test_compaction_under_pressure),
        cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_two_sectors),
        cmocka_unit_test(test_power_loss_sweep_2_sectors),
        cmocka_unit_test(test_power_loss_sweep_3_sectors),
        cmocka_unit_test(test_power_loss_sweep_4_sectors),
    };
    test_filter_from_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
