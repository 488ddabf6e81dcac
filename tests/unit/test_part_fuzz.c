/*
 * Randomized robustness of the partition table parsers (run under ASan/UBSan by the test build):
 * random bytes and mutated valid tables through the bootloader's verifier, the application's
 * loader and the generator's binary parser; random and mutated CSV text through the CSV parser.
 * Besides "no crash, no leak", each run checks properties that must hold:
 *   - a successful parse yields 0..96 entries and a failure leaves none, with a message;
 *   - a table the generator's binary parser accepts, in table order and with plain labels,
 *     goes to CSV and back to the same entries;
 *   - a table the CSV parser accepts encodes, and the binary parser accepts that binary again.
 * Seeded and reproducible: OTAKIT_FUZZ_SEED and OTAKIT_FUZZ_ITERS override the defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "test_util.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static uint32_t below(uint32_t n)
{
    return n == 0 ? 0 : rnd() % n;
}

static unsigned long env_num(const char *name, unsigned long def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtoul(v, NULL, 0) : def;
}

static void seed(unsigned long extra)
{
    rng_state = (uint64_t)env_num("OTAKIT_FUZZ_SEED", 20240601) * 0x9E3779B97F4A7C15ull + extra;
    if (rng_state == 0) {
        rng_state = 1;
    }
}

static void ignore_warning(void *ctx, const char *msg)
{
    (void)ctx;
    assert_true(strncmp(msg, "WARNING: ", 9) == 0);
}

static ota_part_csv_opts_t random_opts(void)
{
    ota_part_csv_opts_t o;
    memset(&o, 0, sizeof(o));
    o.warn = ignore_warning;
    o.no_md5 = below(4) == 0;
    o.no_verify = below(4) == 0;
    if (below(4) == 0) {
        o.table_offset = 0x1000u * (1 + below(32));
    }
    if (below(3) == 0) {
        o.has_primary_bootloader_offset = true;
        o.primary_bootloader_offset = 0x1000u * below(3);
    }
    if (below(3) == 0) {
        o.has_recovery_bootloader_offset = true;
        o.recovery_bootloader_offset = 0x1000u * below(0x400);
    }
    o.secure = (ota_part_secure_t)below(3);
    if (below(4) == 0) {
        o.flash_size = 0x100000u << below(8);
    }
    return o;
}

/* A plausible table: sequential, aligned partitions of common kinds. */
static void random_table(ota_part_table_t *t)
{
    static const uint8_t kinds[][2] = {{0, 0x00},    {0, 0x10}, {0, 0x11}, {0, 0x20}, {1, 0x00},
                                       {1, 0x01},    {1, 0x02}, {1, 0x03}, {1, 0x81}, {1, 0x82},
                                       {0x40, 0x07}, {1, 0x90}, {0, 0x30}};
    memset(t, 0, sizeof(*t));
    t->count = (int)below(24);
    t->has_md5 = below(4) != 0;
    uint32_t cursor = 0x9000;
    for (int i = 0; i < t->count; i++) {
        ota_part_t *p = &t->parts[i];
        const uint8_t *k = kinds[below(sizeof(kinds) / sizeof(kinds[0]))];
        p->type = k[0];
        p->subtype = k[1];
        uint32_t align = p->type == 0 ? 0x10000 : 0x1000;
        cursor = (cursor + align - 1) / align * align;
        p->offset = cursor;
        p->size = p->type == 1 && (p->subtype == 0 || p->subtype == 0x90)
                      ? 0x2000
                      : 0x1000u * (1 + below(64));
        if (p->type == 0) {
            p->size = 0x10000u * (1 + below(4));
        }
        cursor += p->size;
        snprintf(p->label, sizeof(p->label), "p%d_%x", i, (unsigned)below(0x10000));
        p->flags = below(8) == 0 ? OTA_PART_FLAG_ENCRYPTED : 0;
    }
}

static void mutate_bytes(uint8_t *b, size_t len)
{
    int n = 1 + (int)below(6);
    for (int i = 0; i < n; i++) {
        size_t at = below((uint32_t)len);
        switch (below(5)) {
        case 0:
            b[at] ^= (uint8_t)(1u << below(8));
            break;
        case 1:
            b[at] = (uint8_t)rnd();
            break;
        case 2:
            b[at] = 0xFF;
            break;
        case 3:
            b[at] = below(2) ? 0xEB : 0xAA;
            break;
        default: { /* copy a whole row over another */
            size_t from = 32 * below((uint32_t)(len / 32));
            size_t to = 32 * below((uint32_t)(len / 32));
            memmove(b + to, b + from, 32);
            break;
        }
        }
    }
}

static bool csv_safe_label(const char *s)
{
    if (s[0] == '#') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7E || c == ',' || c == '$') {
            return false;
        }
    }
    return true;
}

/* Table order equals offset order, nothing forced (bootloader / partition_table types). */
static bool csv_round_trippable(const ota_part_table_t *t)
{
    for (int i = 0; i < t->count; i++) {
        const ota_part_t *p = &t->parts[i];
        if (!csv_safe_label(p->label) || p->type == 2 || p->type == 3 || (p->flags & ~3u) != 0) {
            return false;
        }
        if (i > 0 && p->offset < t->parts[i - 1].offset + t->parts[i - 1].size) {
            return false;
        }
    }
    return true;
}

static void check_binary(const uint8_t *buf, size_t len)
{
    const ota_crypto_t *c = ota_crypto_openssl();
    ota_diag_t d;
    static ota_part_table_t t;
    static ota_part_table_t back;
    if (len >= OTA_PART_TABLE_MAX_LEN) {
        d.msg[0] = 0;
        int err = ota_part_table_verify(c, buf, 0x400000u << below(3), &t, &d);
        if (err == OTA_OK) {
            assert_in_range(t.count, 0, OTA_PART_MAX_ENTRIES - 1);
        } else {
            assert_true(err == OTA_ERR_SIZE || err == OTA_ERR_CORRUPT);
            assert_int_equal(t.count, 0);
            assert_true(d.msg[0] != 0);
        }
        for (int md5 = 0; md5 < 2; md5++) {
            err = ota_part_table_load(c, buf, md5 != 0, &t, &d);
            if (err == OTA_OK) {
                assert_in_range(t.count, 0, OTA_PART_MAX_ENTRIES);
            } else {
                assert_int_equal(t.count, 0);
            }
        }
    }
    ota_part_csv_opts_t o = random_opts();
    d.msg[0] = 0;
    int err = ota_part_bin_parse(buf, len, &o, &t, &d);
    if (err != OTA_OK) {
        assert_true(err < 0);
        assert_int_equal(t.count, 0);
        assert_true(d.msg[0] != 0);
        return;
    }
    assert_in_range(t.count, 0, OTA_PART_MAX_ENTRIES);
    char *text = NULL;
    size_t tlen = 0;
    assert_int_equal(ota_part_csv_format(&t, &o, &text, &tlen), OTA_OK);
    if (!o.no_verify && csv_round_trippable(&t) &&
        (size_t)t.count * 32 + 32 < OTA_PART_TABLE_MAX_LEN) {
        ota_part_csv_opts_t again = o;
        again.no_md5 = !t.has_md5;
        err = ota_part_csv_parse(text, tlen, &again, &back, &d);
        if (err != OTA_OK) {
            print_error("round trip failed: %s\n%s", d.msg, text);
        }
        assert_int_equal(err, OTA_OK);
        assert_int_equal(back.count, t.count);
        for (int i = 0; i < t.count; i++) {
            assert_memory_equal(&back.parts[i], &t.parts[i], sizeof(ota_part_t));
        }
    }
    free(text);
}

static void test_binary_random_bytes(void **state)
{
    (void)state;
    seed(1);
    unsigned long iters = env_num("OTAKIT_FUZZ_ITERS", 5000);
    static uint8_t buf[OTA_PART_TABLE_MAX_LEN + 64];
    for (unsigned long it = 0; it < iters; it++) {
        size_t len = below(4) == 0 ? below(sizeof(buf)) : OTA_PART_TABLE_MAX_LEN;
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)rnd();
        }
        if (len >= 2 && below(2)) {
            buf[0] = 0xAA; /* let the generator's parser see it as binary */
            buf[1] = 0x50;
        }
        check_binary(buf, len);
    }
}

static void test_binary_mutations(void **state)
{
    (void)state;
    seed(2);
    unsigned long iters = env_num("OTAKIT_FUZZ_ITERS", 5000);
    static ota_part_table_t t;
    static uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    for (unsigned long it = 0; it < iters; it++) {
        random_table(&t);
        assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), &t, buf, NULL), OTA_OK);
        if (it % 4 != 0) {
            mutate_bytes(buf, sizeof(buf));
        }
        size_t len = below(8) == 0 ? below(sizeof(buf)) : sizeof(buf);
        check_binary(buf, len);
    }
}

static void check_csv(const char *text, size_t len)
{
    static ota_part_table_t t;
    static ota_part_table_t back;
    ota_part_csv_opts_t o = random_opts();
    ota_diag_t d;
    d.msg[0] = 0;
    int err = ota_part_csv_parse(text, len, &o, &t, &d);
    if (err != OTA_OK) {
        assert_true(err < 0);
        assert_int_equal(t.count, 0);
        assert_true(d.msg[0] != 0);
        return;
    }
    assert_in_range(t.count, 0, o.no_md5 ? 95 : 94);
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), &t, bin, &d), OTA_OK);
    bool full_label = false;
    for (int i = 0; i < t.count; i++) {
        full_label = full_label || strlen(t.parts[i].label) == OTA_PART_LABEL_LEN;
    }
    if (t.count > 0 && !full_label) {
        err = ota_part_bin_parse(bin, sizeof(bin), &o, &back, &d);
        if (err != OTA_OK) {
            print_error("binary of a good CSV rejected: %s\n%.*s\n", d.msg, (int)len, text);
        }
        assert_int_equal(err, OTA_OK);
        assert_int_equal(back.count, t.count);
        assert_memory_equal(back.parts, t.parts, sizeof(ota_part_t) * (size_t)t.count);
    }
}

static const char *const tokens[] = {
    "nvs",
    "data",
    "app",
    "factory",
    "ota_0",
    "ota_1",
    "ota",
    "phy",
    "spiffs",
    "fat",
    ",",
    ",",
    ",",
    ",",
    "\n",
    "\n",
    "\r\n",
    " ",
    "\t",
    "#",
    "0x",
    "0x1000",
    "1M",
    "4K",
    "16K",
    "-1M",
    "0x10000",
    "k",
    "M",
    "_",
    "0",
    "1",
    "9",
    "encrypted",
    ":",
    "readonly",
    "N/A",
    "bootloader",
    "partition_table",
    "primary",
    "recovery",
    "test",
    "0b1",
    "0o7",
    "$OTAKIT_FZ",
    "${OTAKIT_FZ}",
    "$",
    "{",
    "}",
    "\xD0\xB8",
    "\xFF",
    "\xEF\xBB\xBF",
    "tee_ota",
    "coredump",
    "undefined",
    "0x2000",
    "0x3000",
    "a_really_long_partition_name",
    "-",
    "+",
};

static void random_csv(char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    int count = (int)below(80);
    for (int i = 0; i < count; i++) {
        const char *tok = tokens[below(sizeof(tokens) / sizeof(tokens[0]))];
        size_t tl = strlen(tok);
        if (n + tl >= cap) {
            break;
        }
        memcpy(out + n, tok, tl);
        n += tl;
    }
    *len = n;
}

static void test_csv_random(void **state)
{
    (void)state;
    seed(3);
    setenv("OTAKIT_FZ", "0x4000", 1);
    unsigned long iters = env_num("OTAKIT_FUZZ_ITERS", 5000);
    static char buf[4096];
    for (unsigned long it = 0; it < iters; it++) {
        size_t len;
        if (it % 5 == 0) {
            len = below(256);
            for (size_t i = 0; i < len; i++) {
                buf[i] = (char)rnd();
            }
        } else {
            random_csv(buf, sizeof(buf), &len);
        }
        check_csv(buf, len);
    }
}

static void test_csv_mutations(void **state)
{
    (void)state;
    seed(4);
    unsigned long iters = env_num("OTAKIT_FUZZ_ITERS", 5000);
    static char buf[4096];
    for (unsigned long it = 0; it < iters; it++) {
        const char *base = ota_part_builtin_csv(ota_part_builtin_name(below(3)));
        size_t len = strlen(base);
        memcpy(buf, base, len);
        int n = (int)below(5);
        for (int i = 0; i < n; i++) {
            size_t at = below((uint32_t)len);
            const char *tok = tokens[below(sizeof(tokens) / sizeof(tokens[0]))];
            size_t tl = strlen(tok);
            switch (below(3)) {
            case 0: /* delete a few bytes */ {
                size_t k = 1 + below(4);
                if (at + k > len) {
                    k = len - at;
                }
                memmove(buf + at, buf + at + k, len - at - k);
                len -= k;
                break;
            }
            case 1: /* insert a token */
                if (len + tl < sizeof(buf)) {
                    memmove(buf + at + tl, buf + at, len - at);
                    memcpy(buf + at, tok, tl);
                    len += tl;
                }
                break;
            default: /* replace one byte */
                buf[at] = (char)(below(2) ? rnd() : (uint32_t) ",:#\n 0xKM"[below(10)]);
                break;
            }
            if (len == 0) {
                break;
            }
        }
        check_csv(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_random_bytes),
        cmocka_unit_test(test_binary_mutations),
        cmocka_unit_test(test_csv_random),
        cmocka_unit_test(test_csv_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
