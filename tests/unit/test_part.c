/*
 * Partition table core: binary encoding against the spec's vectors (1.8), the bootloader's
 * verifier and every one of its failure paths (1.3), the application's loader with and without
 * a required MD5 row, capacity, lookups, OTA counts, keyword names and the bootloader's listing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ota/ota_crypto.h"
#include "ota/ota_memflash.h"
#include "ota/ota_part.h"
#include "ota/ota_posix.h"
#include "test_util.h"

#define MB 0x100000u

static const ota_crypto_t *crypto(void)
{
    return ota_crypto_openssl();
}

static ota_part_t part(uint8_t type, uint8_t subtype, uint32_t offset, uint32_t size,
                       const char *label)
{
    ota_part_t p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.subtype = subtype;
    p.offset = offset;
    p.size = size;
    memcpy(p.label, label, strnlen(label, OTA_PART_LABEL_LEN));
    return p;
}

/* The resolved two_ota table of spec 1.8. */
static void two_ota(ota_part_table_t *t)
{
    memset(t, 0, sizeof(*t));
    t->parts[0] = part(1, 0x02, 0x9000, 0x4000, "nvs");
    t->parts[1] = part(1, 0x00, 0xD000, 0x2000, "otadata");
    t->parts[2] = part(1, 0x01, 0xF000, 0x1000, "phy_init");
    t->parts[3] = part(0, 0x00, 0x10000, MB, "factory");
    t->parts[4] = part(0, 0x10, 0x110000, MB, "ota_0");
    t->parts[5] = part(0, 0x11, 0x210000, MB, "ota_1");
    t->count = 6;
    t->has_md5 = true;
}

static void singleapp(ota_part_table_t *t)
{
    memset(t, 0, sizeof(*t));
    t->parts[0] = part(1, 0x02, 0x9000, 0x6000, "nvs");
    t->parts[1] = part(1, 0x01, 0xF000, 0x1000, "phy_init");
    t->parts[2] = part(0, 0x00, 0x10000, MB, "factory");
    t->count = 3;
    t->has_md5 = true;
}

static void two_ota_large(ota_part_table_t *t)
{
    memset(t, 0, sizeof(*t));
    t->parts[0] = part(1, 0x02, 0x9000, 0x6000, "nvs");
    t->parts[1] = part(1, 0x00, 0xF000, 0x2000, "otadata");
    t->parts[2] = part(1, 0x01, 0x11000, 0x1000, "phy_init");
    t->parts[3] = part(0, 0x10, 0x20000, 0x1A9000, "ota_0");
    t->parts[4] = part(0, 0x11, 0x1D0000, 0x1A9000, "ota_1");
    t->count = 5;
    t->has_md5 = true;
}

static void assert_digest(ota_hash_alg_t alg, const uint8_t *data, size_t len, const char *hex)
{
    uint8_t got[32];
    uint8_t want[32];
    size_t n = test_unhex(hex, want, sizeof(want));
    assert_int_equal(n, ota_hash_len(alg));
    assert_int_equal(ota_hash(crypto(), alg, data, len, got), OTA_OK);
    assert_memory_equal(got, want, n);
}

static void encoded(const ota_part_table_t *t, uint8_t *buf)
{
    assert_int_equal(ota_part_table_encode(crypto(), t, buf, NULL), OTA_OK);
}

/* An MD5 row: 0xEB 0xEB, 14 bytes of 0xFF, then the digest md5_hex of the rows before it. */
static void assert_md5_row(const uint8_t *row, const char *md5_hex)
{
    assert_int_equal(row[0], 0xEB);
    assert_int_equal(row[1], 0xEB);
    for (int i = 2; i < 16; i++) {
        assert_int_equal(row[i], 0xFF);
    }
    uint8_t d[16];
    assert_int_equal(test_unhex(md5_hex, d, sizeof(d)), 16);
    assert_memory_equal(row + 16, d, 16);
}

/* Spec 1.8: the first 0xE0 bytes of two_ota, the rest 0xFF, and the whole-file digests. */
static void test_two_ota_vector(void **state)
{
    (void)state;
    /* The dump above as the spec prints it, row by row (16 bytes each). */
    static const char *const rows[14] = {
        "aa50010200900000004000006e767300", "00000000000000000000000000000000",
        "aa50010000d00000002000006f746164", "61746100000000000000000000000000",
        "aa50010100f00000001000007068795f", "696e6974000000000000000000000000",
        "aa500000000001000000100066616374", "6f727900000000000000000000000000",
        "aa50001000001100000010006f74615f", "30000000000000000000000000000000",
        "aa50001100002100000010006f74615f", "31000000000000000000000000000000",
        "ebebffffffffffffffffffffffffffff", "bf25822c0fa6d8641bd930251e06b4c4",
    };
    uint8_t want[0xE0];
    for (int i = 0; i < 14; i++) {
        assert_int_equal(test_unhex(rows[i], want + 16 * i, 16), 16);
    }
    ota_part_table_t t;
    two_ota(&t);
    uint8_t out[OTA_PART_TABLE_MAX_LEN];
    memset(out, 0, sizeof(out));
    encoded(&t, out);
    assert_memory_equal(out, want, sizeof(want));
    for (size_t i = 0xE0; i < sizeof(out); i++) {
        assert_int_equal(out[i], 0xFF);
    }
    assert_digest(OTA_HASH_MD5, out, 0xC0, "bf25822c0fa6d8641bd930251e06b4c4");
    assert_digest(OTA_HASH_MD5, out, sizeof(out), "9f94bf1e89f37d80f4310d5af19a6e59");
    assert_digest(OTA_HASH_SHA256, out, sizeof(out),
                  "d1c0e9d02fa9d26cd2e1984e7b5dd20157204f501ddc83ce82229e5f3175ee8b");
}

static void test_singleapp_vector(void **state)
{
    (void)state;
    ota_part_table_t t;
    singleapp(&t);
    uint8_t out[OTA_PART_TABLE_MAX_LEN];
    encoded(&t, out);
    uint8_t e[12];
    test_unhex("aa5001020090000000600000", e, sizeof(e));
    assert_memory_equal(out, e, 12);
    assert_memory_equal(out + 12, "nvs\0", 4);
    test_unhex("aa50010100f0000000100000", e, sizeof(e));
    assert_memory_equal(out + 0x20, e, 12);
    test_unhex("aa5000000000010000001000", e, sizeof(e));
    assert_memory_equal(out + 0x40, e, 12);
    assert_md5_row(out + 0x60, "f4ad4f4538564b5d7435b62c75b69524");
    assert_digest(OTA_HASH_MD5, out, sizeof(out), "5d61d196adc3dba01928f264eb169be7");
    assert_digest(OTA_HASH_SHA256, out, sizeof(out),
                  "7f00b6c042a89b15b0cac534f82ed988caf29278ff5700b0c511eb1b5bb7c820");
}

static void test_two_ota_large_vector(void **state)
{
    (void)state;
    ota_part_table_t t;
    two_ota_large(&t);
    uint8_t out[OTA_PART_TABLE_MAX_LEN];
    encoded(&t, out);
    assert_md5_row(out + 0xA0, "37f38b32a34f7412f158930062441178");
    assert_int_equal(out[0xC0], 0xFF);
}

static void test_entry_codec(void **state)
{
    (void)state;
    ota_part_t p = part(0x40, 0x7F, 0x123000, 0x4567, "abcdefghijklmnop"); /* 16 characters */
    p.flags = 0x80000003u;
    uint8_t raw[32];
    ota_part_encode(&p, raw);
    assert_int_equal(raw[0], 0xAA);
    assert_int_equal(raw[1], 0x50);
    assert_int_equal(raw[2], 0x40);
    assert_int_equal(raw[3], 0x7F);
    assert_memory_equal(raw + 4, "\x00\x30\x12\x00\x67\x45\x00\x00", 8);
    assert_memory_equal(raw + 12, "abcdefghijklmnop", 16);
    assert_memory_equal(raw + 28, "\x03\x00\x00\x80", 4);
    ota_part_t q;
    memset(&q, 0x55, sizeof(q));
    ota_part_decode(raw, &q);
    assert_string_equal(q.label, "abcdefghijklmnop");
    assert_int_equal(q.flags, 0x80000003u);
    assert_int_equal(q.offset, 0x123000);
    assert_int_equal(q.size, 0x4567);
    /* Bytes after the first NUL of the stored label are not kept. */
    memcpy(raw + 12, "ab\0cdefghijklmn", 16);
    ota_part_decode(raw, &q);
    assert_string_equal(q.label, "ab");
    assert_int_equal(q.label[3], 0);
    ota_part_encode(&q, raw);
    assert_memory_equal(raw + 12, "ab\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void test_verify_accepts(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    two_ota(&t);
    encoded(&t, buf);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_OK);
    assert_int_equal(got.count, 6);
    assert_true(got.has_md5);
    assert_string_equal(got.parts[5].label, "ota_1");
    assert_int_equal(got.parts[5].offset, 0x210000);
    /* The MD5 row is optional for this verifier; table may be NULL. */
    t.has_md5 = false;
    encoded(&t, buf);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, NULL), OTA_OK);
    assert_int_equal(got.count, 6);
    assert_false(got.has_md5);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, NULL, NULL), OTA_OK);
    /* The terminator is judged by magic, type and subtype only. */
    memset(buf + 6 * 32 + 4, 0x00, 28);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, NULL), OTA_OK);
    assert_int_equal(got.count, 6);
    /* An entry may end exactly at the end of the chip. */
    assert_int_equal(ota_part_table_verify(crypto(), buf, 0x310000, &got, NULL), OTA_OK);
}

static void test_verify_size_rule(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    two_ota(&t);
    encoded(&t, buf);
    got.count = 99;
    assert_int_equal(ota_part_table_verify(crypto(), buf, 0x30FFFF, &got, &d), OTA_ERR_SIZE);
    assert_string_equal(d.msg, "partition 5 invalid - offset 0x210000 size 0x100000 exceeds flash "
                               "chip size 0x30ffff");
    assert_int_equal(got.count, 0);
    /* Offset itself beyond the chip. */
    t.parts[1].offset = 0x500000;
    encoded(&t, buf);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_SIZE);
    assert_string_equal(d.msg, "partition 1 invalid - offset 0x500000 size 0x2000 exceeds flash "
                               "chip size 0x400000");
    /* An end that wraps past 4 GiB is beyond the chip too. */
    two_ota(&t);
    t.parts[0].offset = 0x1000;
    t.parts[0].size = 0xFFFFF000u;
    encoded(&t, buf);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_SIZE);
    assert_string_equal(d.msg, "partition 0 invalid - offset 0x1000 size 0xfffff000 exceeds flash "
                               "chip size 0x400000");
}

static void test_verify_md5_rules(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    two_ota(&t);
    encoded(&t, buf);
    buf[0xD5] ^= 1;
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "Incorrect MD5 checksum");
    assert_int_equal(got.count, 0);
    /* A second MD5 row. */
    encoded(&t, buf);
    memcpy(buf + 0xE0, buf + 0xC0, 32);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "Only one MD5 checksum is allowed");
    /* An MD5 row in the middle covers the rows before it; later entries still count. */
    t.count = 3;
    encoded(&t, buf); /* 3 entries + MD5 at slot 3 */
    ota_part_t extra = part(0, 0x10, 0x110000, MB, "ota_0");
    ota_part_encode(&extra, buf + 4 * 32);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_OK);
    assert_int_equal(got.count, 4);
    assert_true(got.has_md5);
    assert_string_equal(got.parts[3].label, "ota_0");
    /* An MD5 row first (digest of nothing) and then the end: a table of no partitions. */
    memset(buf, 0xFF, sizeof(buf));
    buf[0] = buf[1] = 0xEB;
    test_unhex("d41d8cd98f00b204e9800998ecf8427e", buf + 16, 16);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_OK);
    assert_int_equal(got.count, 0);
    assert_true(got.has_md5);
}

static void test_verify_magic_rules(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    /* Empty table: the first slot may not be the end marker. */
    memset(buf, 0xFF, sizeof(buf));
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "partition 0 invalid magic number 0xffff");
    two_ota(&t);
    encoded(&t, buf);
    buf[3 * 32] = 0x34;
    buf[3 * 32 + 1] = 0x12;
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "partition 3 invalid magic number 0x1234");
    assert_int_equal(got.count, 0);
    /* 0xFFFF magic but a type that is not 0xFF is not a terminator. */
    encoded(&t, buf);
    buf[7 * 32 + 2] = 0x01;
    buf[7 * 32 + 3] = 0xFF;
    /* slot 7 follows the MD5 row at slot 6 */
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "partition 7 invalid magic number 0xffff");
    /* 96 real entries and no terminator. */
    for (int i = 0; i < OTA_PART_MAX_ENTRIES; i++) {
        ota_part_t p = part(1, 0x81, 0x10000 + 0x1000u * (uint32_t)i, 0x1000, "x");
        ota_part_encode(&p, buf + 32 * i);
    }
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "partition table has no terminating entry, not valid");
    assert_int_equal(ota_part_table_verify(NULL, buf, 4 * MB, &got, &d), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_part_table_verify(crypto(), NULL, 4 * MB, &got, &d), OTA_ERR_INVALID_ARG);
}

static void test_load(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    two_ota(&t);
    encoded(&t, buf);
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, &d), OTA_OK);
    assert_int_equal(got.count, 6);
    assert_true(got.has_md5);
    assert_int_equal(got.parts[3].size, MB);
    /* MD5 mismatch: an error when required, ignored when not. */
    buf[0xD0] ^= 0x80;
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "Partition table MD5 mismatch");
    assert_int_equal(got.count, 0);
    assert_int_equal(ota_part_table_load(crypto(), buf, false, &got, &d), OTA_OK);
    assert_int_equal(got.count, 6);
    /* No MD5 row. */
    t.has_md5 = false;
    encoded(&t, buf);
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, &d), OTA_ERR_NOT_FOUND);
    assert_string_equal(d.msg, "No MD5 found in partition table");
    assert_int_equal(got.count, 0);
    assert_int_equal(ota_part_table_load(crypto(), buf, false, &got, &d), OTA_OK);
    assert_int_equal(got.count, 6);
    assert_false(got.has_md5);
    /* The walk stops at the first entry that is neither 0x50AA nor the MD5 row. */
    buf[2 * 32] = 0x00;
    assert_int_equal(ota_part_table_load(crypto(), buf, false, &got, &d), OTA_OK);
    assert_int_equal(got.count, 2);
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, &d), OTA_ERR_NOT_FOUND);
    /* The MD5 covers exactly the entries before the row. */
    t.has_md5 = true;
    t.count = 2;
    encoded(&t, buf);
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, &d), OTA_OK);
    assert_int_equal(got.count, 2);
    assert_int_equal(ota_part_table_load(NULL, buf, true, &got, &d), OTA_ERR_INVALID_ARG);
}

static void test_read_raw(void **state)
{
    (void)state;
    static uint8_t flash[0x20000];
    memset(flash, 0xFF, sizeof(flash));
    ota_part_table_t t;
    two_ota(&t);
    encoded(&t, flash + 0x8000);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, flash, sizeof(flash), true);
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_read_raw(&f, 0x8000, buf), OTA_OK);
    assert_memory_equal(buf, flash + 0x8000, sizeof(buf));
    assert_int_equal(ota_part_table_read_raw(&f, 0x1F800, buf), OTA_ERR_BOUNDS);
}

static void fill_entries(ota_part_table_t *t, int n, bool md5)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < n; i++) {
        t->parts[i] = part(1, 0x81, 0x10000 + 0x1000u * (uint32_t)i, 0x1000, "p");
        snprintf(t->parts[i].label, sizeof(t->parts[i].label), "p%d", i);
    }
    t->count = n;
    t->has_md5 = md5;
}

static void test_encode_capacity(void **state)
{
    (void)state;
    ota_part_table_t t;
    ota_part_table_t got;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t d = {{0}};
    fill_entries(&t, 94, true);
    assert_int_equal(ota_part_table_encode(crypto(), &t, buf, &d), OTA_OK);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, NULL), OTA_OK);
    assert_int_equal(got.count, 94);
    assert_int_equal(ota_part_table_load(crypto(), buf, true, &got, NULL), OTA_OK);
    assert_int_equal(got.count, 94);
    for (size_t i = 95 * 32; i < OTA_PART_TABLE_MAX_LEN; i++) {
        assert_int_equal(buf[i], 0xFF);
    }
    fill_entries(&t, 95, true);
    assert_int_equal(ota_part_table_encode(crypto(), &t, buf, &d), OTA_ERR_NO_SPACE);
    assert_string_equal(d.msg, "Binary partition table length (3072) longer than max");
    fill_entries(&t, 95, false);
    assert_int_equal(ota_part_table_encode(crypto(), &t, buf, &d), OTA_OK);
    assert_int_equal(ota_part_table_verify(crypto(), buf, 4 * MB, &got, NULL), OTA_OK);
    assert_int_equal(got.count, 95);
    fill_entries(&t, 96, false);
    assert_int_equal(ota_part_table_encode(crypto(), &t, buf, &d), OTA_ERR_NO_SPACE);
    assert_string_equal(d.msg, "Binary partition table length (3072) longer than max");
    t.count = 97;
    assert_int_equal(ota_part_table_encode(crypto(), &t, buf, &d), OTA_ERR_INVALID_ARG);
    t.count = 1;
    t.has_md5 = true;
    assert_int_equal(ota_part_table_encode(NULL, &t, buf, &d), OTA_ERR_INVALID_ARG);
}

static void test_find_and_counts(void **state)
{
    (void)state;
    ota_part_table_t t;
    two_ota(&t);
    const ota_part_t *p = ota_part_find(&t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_ANY, NULL);
    assert_non_null(p);
    assert_string_equal(p->label, "factory");
    p = ota_part_find(&t, OTA_PART_TYPE_ANY, OTA_PART_SUBTYPE_DATA_PHY, NULL);
    assert_string_equal(p->label, "phy_init");
    p = ota_part_find(&t, OTA_PART_TYPE_APP, 0x11, NULL);
    assert_string_equal(p->label, "ota_1");
    assert_null(ota_part_find(&t, OTA_PART_TYPE_APP, 0x11, "ota_0"));
    assert_null(ota_part_find(&t, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_COREDUMP, NULL));
    assert_ptr_equal(ota_part_find_by_label(&t, "otadata"), &t.parts[1]);
    assert_null(ota_part_find_by_label(&t, "otadat"));
    assert_null(ota_part_find_by_label(&t, NULL));
    assert_null(ota_part_find(NULL, OTA_PART_TYPE_ANY, OTA_PART_SUBTYPE_ANY, NULL));
    assert_int_equal(ota_part_ota_count_app(&t), 2);
    assert_int_equal(ota_part_ota_count_boot(&t), 2);
    assert_true(ota_part_is_ota_slot(&t.parts[4]));
    assert_false(ota_part_is_ota_slot(&t.parts[3]));
    assert_false(ota_part_is_ota_slot(&t.parts[1])); /* data/ota is not an app slot */
    /* A gap in the numbering: ota_0, ota_1, ota_3. */
    t.parts[3] = part(0, 0x13, 0x10000, MB, "ota_3");
    assert_int_equal(ota_part_ota_count_app(&t), 2);
    assert_int_equal(ota_part_ota_count_boot(&t), 3);
    /* No ota_0 at all. */
    t.parts[4].subtype = 0x20; /* test app */
    assert_int_equal(ota_part_ota_count_app(&t), 0);
    assert_int_equal(ota_part_ota_count_boot(&t), 2);
    /* All sixteen slots. */
    memset(&t, 0, sizeof(t));
    for (int i = 0; i < 16; i++) {
        t.parts[i] = part(0, (uint8_t)(0x10 + i), 0x10000u * (uint32_t)(i + 1), 0x10000, "s");
    }
    t.count = 16;
    assert_int_equal(ota_part_ota_count_app(&t), 16);
    assert_int_equal(ota_part_ota_count_boot(&t), 16);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ota_part_type_name(0), "app");
    assert_string_equal(ota_part_type_name(1), "data");
    assert_string_equal(ota_part_type_name(2), "bootloader");
    assert_string_equal(ota_part_type_name(3), "partition_table");
    assert_null(ota_part_type_name(4));
    assert_null(ota_part_type_name(0x40));
    static const struct {
        uint8_t type;
        uint8_t sub;
        const char *name;
    } subs[] = {
        {0, 0x00, "factory"}, {0, 0x10, "ota_0"},     {0, 0x1F, "ota_15"},   {0, 0x1A, "ota_10"},
        {0, 0x20, "test"},    {0, 0x30, "tee_0"},     {0, 0x31, "tee_1"},    {1, 0x00, "ota"},
        {1, 0x01, "phy"},     {1, 0x02, "nvs"},       {1, 0x03, "coredump"}, {1, 0x04, "nvs_keys"},
        {1, 0x05, "efuse"},   {1, 0x06, "undefined"}, {1, 0x80, "esphttpd"}, {1, 0x81, "fat"},
        {1, 0x82, "spiffs"},  {1, 0x83, "littlefs"},  {1, 0x90, "tee_ota"},  {2, 0x00, "primary"},
        {2, 0x01, "ota"},     {2, 0x02, "recovery"},  {3, 0x00, "primary"},  {3, 0x01, "ota"},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        const char *n = ota_part_subtype_name(subs[i].type, subs[i].sub);
        assert_non_null(n);
        assert_string_equal(n, subs[i].name);
    }
    assert_null(ota_part_subtype_name(0, 0x01));
    assert_null(ota_part_subtype_name(0, 0x21));
    assert_null(ota_part_subtype_name(1, 0x07));
    assert_null(ota_part_subtype_name(2, 0x03));
    assert_null(ota_part_subtype_name(3, 0x02));
    assert_null(ota_part_subtype_name(0x40, 0x00));
}

static void test_usage_and_log_line(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        uint8_t sub;
        const char *usage;
    } u[] = {
        {0, 0x00, "factory app"},
        {0, 0x20, "test app"},
        {0, 0x10, "OTA app"},
        {0, 0x1F, "OTA app"},
        {0, 0x30, "Unknown app"}, /* tee_0 outside a TEE build */
        {0, 0x05, "Unknown app"},
        {1, 0x00, "OTA data"},
        {1, 0x01, "RF data"},
        {1, 0x02, "WiFi data"},
        {1, 0x04, "NVS keys"},
        {1, 0x05, "efuse"},
        {1, 0x03, "Unknown data"},
        {1, 0x82, "Unknown data"},
        {1, 0x90, "Unknown data"},
        {2, 0x00, "primary bootloader"},
        {2, 0x01, "ota bootloader"},
        {2, 0x02, "recovery bootloader"},
        {2, 0x03, "unknown"},
        {3, 0x00, "primary partition_table"},
        {3, 0x01, "ota partition_table"},
        {3, 0x02, "unknown"},
        {0x40, 0x00, "unknown"},
    };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        ota_part_t p = part(u[i].type, u[i].sub, 0, 0, "x");
        assert_string_equal(ota_part_usage(&p), u[i].usage);
    }
    assert_string_equal(ota_part_usage(NULL), "unknown");
    ota_part_t p = part(1, 0x02, 0x9000, 0x4000, "nvs");
    char line[100];
    assert_int_equal(ota_part_format_log_line(&p, 0, line, sizeof(line)), 60);
    assert_string_equal(line, " 0 nvs              WiFi data        01 02 00009000 00004000");
    p = part(0, 0x11, 0x210000, MB, "ota_1");
    ota_part_format_log_line(&p, 5, line, sizeof(line));
    assert_string_equal(line, " 5 ota_1            OTA app          00 11 00210000 00100000");
    assert_string_equal(OTA_PART_LOG_HEADER,
                        "## Label            Usage          Type ST Offset   Length");
    assert_int_equal(ota_part_format_log_line(NULL, 0, line, sizeof(line)), OTA_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_ota_vector),
        cmocka_unit_test(test_singleapp_vector),
        cmocka_unit_test(test_two_ota_large_vector),
        cmocka_unit_test(test_entry_codec),
        cmocka_unit_test(test_verify_accepts),
        cmocka_unit_test(test_verify_size_rule),
        cmocka_unit_test(test_verify_md5_rules),
        cmocka_unit_test(test_verify_magic_rules),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_read_raw),
        cmocka_unit_test(test_encode_capacity),
        cmocka_unit_test(test_find_and_counts),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_usage_and_log_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
