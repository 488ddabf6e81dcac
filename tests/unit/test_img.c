/*
 * Images: chip table, record codecs, the spec 3.11 vector, the device verifier's every failure
 * path, the elf2image layout rules, the host descriptor and the app version precedence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ota/ota_chip.h"
#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_sdkconfig.h"
#include "ota_le.h"
#include "test_util.h"

#define FLASH_SIZE 0x100000u
#define IMG_AT 0x10000u

static const ota_crypto_t *crypto(void)
{
    return ota_crypto_openssl();
}

static const ota_chip_t *chip(const char *name)
{
    const ota_chip_t *c = ota_chip_by_name(name);
    assert_non_null(c);
    return c;
}

/* ---- log capture --------------------------------------------------------------------------- */

typedef struct logcap {
    char lines[40][200];
    int n;
} logcap_t;

static void cap_log(void *ctx, char level, const char *msg)
{
    logcap_t *l = ctx;
    if (l->n < 40) {
        snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%c %s", level, msg);
    }
}

/* ---- a flash holding one image ------------------------------------------------------------- */

typedef struct fimg {
    uint8_t *buf;
    ota_flash_t f;
    ota_memflash_t m;
} fimg_t;

static void fimg_put(fimg_t *fi, const uint8_t *img, size_t len, uint32_t at)
{
    fi->buf = malloc(FLASH_SIZE);
    assert_non_null(fi->buf);
    memset(fi->buf, 0xFF, FLASH_SIZE);
    assert_true(at + len <= FLASH_SIZE);
    memcpy(fi->buf + at, img, len);
    ota_memflash_init(&fi->f, &fi->m, fi->buf, FLASH_SIZE, false);
}

/*
 * A small ESP32 app: DROM segment with an app descriptor (292 bytes), a DRAM segment and an
 * IROM segment, laid out by ota_img_build.
 */
static uint8_t *make_esp32_app(size_t *len, uint16_t min_full, uint16_t max_full)
{
    static uint8_t drom[292];
    static uint8_t dram[64];
    static uint8_t irom[100];
    ota_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic_word = OTA_APP_DESC_MAGIC;
    strcpy(d.version, "1.0");
    strcpy(d.project_name, "test");
    ota_app_desc_encode(&d, drom);
    for (size_t i = 0; i < sizeof(dram); i++) {
        dram[i] = (uint8_t)(i * 7 + 1);
    }
    for (size_t i = 0; i < sizeof(irom); i++) {
        irom[i] = (uint8_t)(i * 3 + 5);
    }
    ota_img_build_seg_t segs[3] = {
        {0x3F400020, drom, sizeof(drom), OTA_IMG_BUILD_APPDESC},
        {0x3FFB0000, dram, sizeof(dram), 0},
        {0x400D0020, irom, sizeof(irom), 0},
    };
    ota_img_build_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = chip("esp32");
    o.flash_mode = 2;
    o.flash_size = 2;
    o.entry = 0x400D0020;
    o.min_rev_full = min_full;
    o.max_rev_full = max_full;
    uint8_t *img = NULL;
    assert_int_equal(ota_img_build(crypto(), &o, segs, 3, &img, len, NULL), OTA_OK);
    return img;
}

static void opts_for(ota_img_verify_opts_t *o, const ota_chip_t *c, logcap_t *log)
{
    memset(o, 0, sizeof(*o));
    o->chip = c;
    o->log = log ? cap_log : NULL;
    o->log_ctx = log;
}

/* Verifies img placed at IMG_AT; returns the result, fills diag/meta. */
static int verify_img(const uint8_t *img, size_t len, const ota_img_verify_opts_t *o,
                      uint32_t part_size, ota_img_meta_t *m, ota_diag_t *d)
{
    fimg_t fi;
    fimg_put(&fi, img, len, IMG_AT);
    int err = ota_img_verify(&fi.f, crypto(), IMG_AT, part_size, o, m, d);
    free(fi.buf);
    return err;
}

/* ---- chip table ---------------------------------------------------------------------------- */

static void test_chip_table(void **state)
{
    (void)state;
    assert_ptr_equal(ota_chip_by_name("esp32c3"), ota_chip_by_name("ESP32-C3"));
    assert_ptr_equal(ota_chip_by_name("Esp32-C3"), ota_chip_by_id(OTA_CHIP_ID_ESP32C3));
    assert_null(ota_chip_by_name("esp32c7"));
    assert_null(ota_chip_by_name("esp32h2beta2")); /* legacy ids are not found by name */
    assert_non_null(ota_chip_by_id(14));
    assert_true(ota_chip_by_id(14)->legacy);
    assert_null(ota_chip_by_id(0x42));
    /* spec 3.3 ids and 1.1 bootloader offsets */
    static const struct {
        const char *name;
        uint16_t id;
        uint32_t boot;
        int svbits;
        bool recovery;
    } want[] = {
        {"esp32", 0x0000, 0x1000, 32, false}, {"esp32s2", 0x0002, 0x1000, 16, false},
        {"esp32c3", 0x0005, 0x0, 16, false},  {"esp32s3", 0x0009, 0x0, 16, false},
        {"esp32c2", 0x000C, 0x0, 4, false},   {"esp32c6", 0x000D, 0x0, 16, false},
        {"esp32h2", 0x0010, 0x0, 16, false},  {"esp32p4", 0x0012, 0x2000, 16, false},
        {"esp32c61", 0x0014, 0x0, 16, true},  {"esp32c5", 0x0017, 0x2000, 9, true},
        {"esp32h21", 0x0019, 0x0, 16, false}, {"esp32h4", 0x001C, 0x2000, 16, false},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const ota_chip_t *c = chip(want[i].name);
        assert_int_equal(c->id, want[i].id);
        assert_int_equal(c->bootloader_offset, want[i].boot);
        assert_int_equal(c->secure_version_bits, want[i].svbits);
        assert_int_equal(c->recovery_bootloader, want[i].recovery);
        assert_string_equal(c->target, want[i].name);
    }
    char buf[128];
    const ota_chip_t *e = chip("esp32");
    ota_chip_mem_types(e, 0x3FFF0030, buf, sizeof(buf));
    assert_string_equal(buf, "BYTE_ACCESSIBLE, DRAM, DIRAM_DRAM");
    ota_chip_mem_types(e, 0x00002C2C, buf, sizeof(buf));
    assert_string_equal(buf, "PADDING");
    ota_chip_mem_types(chip("esp32p4"), 0x30100000, buf, sizeof(buf));
    assert_string_equal(buf, "");
    assert_int_equal(ota_chip_mem_types(e, 0x3FFF0030, buf, 5),
                     strlen("BYTE_ACCESSIBLE, DRAM, DIRAM_DRAM"));
    assert_string_equal(buf, "BYTE");
    assert_true(ota_chip_is_mapped(e, 0x3F400020));
    assert_true(ota_chip_is_mapped(e, 0x400D0018));
    assert_false(ota_chip_is_mapped(e, 0x40080000));
    assert_true(ota_chip_is_mapped(chip("esp32s2"), 0x3F500000));           /* ESP-IDF window */
    assert_false(ota_chip_tool_is_flash_addr(chip("esp32s2"), 0x3F500000)); /* esptool's */
    assert_string_equal(ota_chip_flash_freq_name(e, 0xF), "80m");
    assert_string_equal(ota_chip_flash_freq_name(chip("esp32c6"), 0x0), "80m");
    assert_null(ota_chip_flash_freq_name(chip("esp32c6"), 0xF));
    assert_string_equal(ota_chip_flash_freq_name(chip("esp32h2"), 0xF), "48m");
    assert_int_equal(ota_chip_flash_freq_code(chip("esp32c2"), "60M"), 0xF);
    assert_int_equal(ota_chip_flash_freq_code(e, "60m"), -1);
    assert_int_equal(ota_flash_size_code("16MB"), 4);
    assert_string_equal(ota_flash_size_name(7), "128MB");
    assert_null(ota_flash_size_name(8));
    assert_int_equal(ota_flash_mode_code("DOUT"), 3);
    assert_null(ota_flash_mode_name(4));
    assert_true(chip("esp32c6")->mmu_configurable);
    assert_false(chip("esp32c5")->mmu_configurable);
}

/* ---- codecs -------------------------------------------------------------------------------- */

static void test_synthetic_vector(void **state)
{
    (void)state;
    /* spec 3.11 */
    static const char want48[] = "e901022000000840ee00000000000000008f0100000000010000fb3f080000"
                                 "00010203040506070800000000000000e7";
    static const char want_sha[] =
        "c734464b7e31bc9ed0a5d2f8402d593b4f23f568daf2c2b276e420ea86065e1b";
    uint8_t want[80];
    assert_int_equal(test_unhex(want48, want, sizeof(want)), 48);
    assert_int_equal(test_unhex(want_sha, want + 48, 32), 32);

    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ota_img_build_seg_t seg = {0x3FFB0000, data, sizeof(data), 0};
    ota_img_build_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = chip("esp32");
    o.flash_mode = 2;
    o.flash_freq = 0;
    o.flash_size = 2;
    o.entry = 0x40080000;
    o.max_rev_full = 399;
    uint8_t *img = NULL;
    size_t len = 0;
    assert_int_equal(ota_img_build(crypto(), &o, &seg, 1, &img, &len, NULL), OTA_OK);
    assert_int_equal(len, 80);
    assert_memory_equal(img, want, 80);

    /* The header codec round-trips the same bytes. */
    ota_img_header_t h;
    uint8_t raw[24];
    ota_img_header_decode(want, &h);
    assert_int_equal(h.magic, 0xE9);
    assert_int_equal(h.segment_count, 1);
    assert_int_equal(h.spi_mode, 2);
    assert_int_equal(h.spi_speed, 0);
    assert_int_equal(h.spi_size, 2);
    assert_int_equal(h.entry_addr, 0x40080000);
    assert_int_equal(h.wp_pin, 0xEE);
    assert_int_equal(h.chip_id, 0);
    assert_int_equal(h.max_chip_rev_full, 399);
    assert_int_equal(h.hash_appended, 1);
    ota_img_header_encode(&h, raw);
    assert_memory_equal(raw, want, 24);
    ota_img_seg_hdr_t s;
    ota_img_seg_decode(want + 24, &s);
    assert_int_equal(s.load_addr, 0x3FFB0000);
    assert_int_equal(s.data_len, 8);
    ota_img_seg_encode(&s, raw);
    assert_memory_equal(raw, want + 24, 8);
    assert_int_equal(ota_img_checksum(data, 8, OTA_IMG_CHECKSUM_SEED), 0xE7);
    assert_int_equal(ota_img_checksum_offset(40), 47);
    assert_int_equal(ota_img_checksum_offset(47), 47);
    assert_int_equal(ota_img_checksum_offset(48), 63);

    /* The verifier accepts it and reports L = 80. */
    ota_img_verify_opts_t vo;
    ota_img_meta_t m;
    opts_for(&vo, chip("esp32"), NULL);
    assert_int_equal(verify_img(img, len, &vo, 0x1000, &m, NULL), OTA_OK);
    assert_int_equal(m.image_len, 80);
    assert_true(m.hash_checked);
    assert_memory_equal(m.image_digest, want + 48, 32);
    free(img);
}

static void test_app_desc_codec(void **state)
{
    (void)state;
    uint8_t raw[256];
    for (int i = 0; i < 256; i++) {
        raw[i] = (uint8_t)(0x41 + i % 26);
    }
    ota_put_le32(raw, OTA_APP_DESC_MAGIC);
    ota_put_le32(raw + 4, 7);
    raw[16 + 5] = 0; /* version "QRSTU" */
    raw[80 + 8] = 0; /* time: 8 characters */
    ota_put_le16(raw + 176, 101);
    ota_put_le16(raw + 178, 199);
    raw[180] = 15;
    ota_app_desc_t d;
    assert_true(ota_app_desc_decode(raw, &d));
    assert_int_equal(d.secure_version, 7);
    assert_string_equal(d.version, "QRSTU");
    assert_int_equal(strlen(d.project_name), 32); /* a full field keeps 32 characters */
    assert_int_equal(d.project_name[0], 0x41 + 48 % 26);
    assert_int_equal(strlen(d.time), 8);
    assert_int_equal(d.app_elf_sha256[0], 0x41 + 144 % 26);
    assert_int_equal(d.min_efuse_blk_rev_full, 101);
    assert_int_equal(d.max_efuse_blk_rev_full, 199);
    assert_int_equal(d.mmu_page_size, 15);
    assert_int_equal(d.reserv3[0], 0x41 + 181 % 26);
    assert_int_equal(d.reserv2[71], 0x41 + 255 % 26);
    uint8_t back[256];
    ota_app_desc_encode(&d, back);
    /* bytes after a text field's first NUL come back as zeros; all others are identical */
    uint8_t expect[256];
    memcpy(expect, raw, 256);
    memset(expect + 16 + 5, 0, 32 - 5);
    memset(expect + 80 + 8, 0, 16 - 8);
    assert_memory_equal(back, expect, 256);
    raw[0] ^= 1;
    assert_false(ota_app_desc_decode(raw, &d));
}

static void test_boot_desc_codec(void **state)
{
    (void)state;
    ota_boot_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic_byte = OTA_BOOT_DESC_MAGIC;
    d.secure_version = 3;
    d.version = 0x01020304;
    strcpy(d.idf_ver, "v5.5-otakit");
    strcpy(d.date_time, "Jan  2 2025 03:04:05");
    uint8_t raw[80];
    ota_boot_desc_encode(&d, raw);
    assert_int_equal(raw[0], 0x50);
    assert_int_equal(raw[3], 3);
    assert_int_equal(ota_get_le32(raw + 4), 0x01020304);
    assert_memory_equal(raw + 8, "v5.5-otakit", 12);
    assert_memory_equal(raw + 40, "Jan  2 2025 03:04:05", 21);
    ota_boot_desc_t e;
    assert_true(ota_boot_desc_decode(raw, &e));
    assert_string_equal(e.idf_ver, d.idf_ver);
    assert_string_equal(e.date_time, d.date_time);
    assert_int_equal(e.version, d.version);
    raw[0] = 0x51;
    assert_false(ota_boot_desc_decode(raw, &e));
}

static void test_host_desc(void **state)
{
    (void)state;
    ota_host_desc_t d = {1, 2, 1000, 288, 55, 0};
    uint8_t raw[32];
    ota_host_desc_encode(&d, raw);
    assert_memory_equal(raw, "OTAKHOST", 8);
    assert_int_equal(ota_get_le32(raw + 8), 1);
    assert_int_equal(ota_get_le32(raw + 12), 2);
    assert_int_equal(ota_get_le32(raw + 16), 1000);
    assert_int_equal(ota_get_le32(raw + 20), 288);
    assert_int_equal(ota_get_le32(raw + 24), 55);
    assert_int_equal(ota_get_le32(raw + 28), 0);
    ota_host_desc_t e;
    assert_int_equal(ota_host_desc_decode(raw, &e), OTA_OK);
    assert_memory_equal(&e, &d, sizeof(d));
    ota_put_le32(raw + 8, 2);
    assert_int_equal(ota_host_desc_decode(raw, &e), OTA_ERR_VERSION);
    raw[0] = 'X';
    assert_int_equal(ota_host_desc_decode(raw, &e), OTA_ERR_NOT_FOUND);
}

/* ---- verifier ------------------------------------------------------------------------------ */

static void test_verify_ok_and_logs(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *img = make_esp32_app(&len, 0, 399);
    logcap_t log = {{{0}}, 0};
    ota_img_verify_opts_t o;
    ota_img_meta_t m;
    ota_diag_t d = {{0}};
    opts_for(&o, chip("esp32"), &log);
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, &d), OTA_OK);
    assert_int_equal(m.fail, OTA_IMG_FAIL_NONE);
    assert_int_equal(m.image_len, len);
    assert_int_equal(m.header.segment_count, 4);
    assert_true(m.has_app_desc);
    assert_string_equal(m.app_desc.project_name, "test");
    assert_int_equal(m.start_addr, IMG_AT);
    assert_int_equal(m.seg_data[0], IMG_AT + 0x20);
    /* DROM, the whole DRAM segment and a padding segment fill the gap, IROM */
    assert_int_equal(log.n, 4);
    assert_string_equal(log.lines[0], "I segment 0: paddr=00010020 vaddr=3f400020 size=00124h "
                                      "(   292) map");
    assert_string_equal(log.lines[1], "I segment 1: paddr=0001014c vaddr=3ffb0000 size=00040h "
                                      "(    64) ");
    assert_string_equal(log.lines[2], "I segment 2: paddr=00010194 vaddr=00000000 size=0fe84h "
                                      "( 65156) ");
    assert_string_equal(log.lines[3], "I segment 3: paddr=00020020 vaddr=400d0020 size=00064h "
                                      "(   100) map");
    /* load mode marks RAM segments "load"; silent mode logs nothing */
    log.n = 0;
    o.load = true;
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, &d), OTA_OK);
    assert_non_null(strstr(log.lines[1], ") load"));
    log.n = 0;
    o.load = false;
    o.silent = true;
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, &d), OTA_OK);
    assert_int_equal(log.n, 0);
    /* get_metadata agrees on the length */
    fimg_t fi;
    fimg_put(&fi, img, len, IMG_AT);
    ota_img_meta_t g;
    assert_int_equal(ota_img_get_metadata(&fi.f, IMG_AT, &g, NULL), OTA_OK);
    assert_int_equal(g.image_len, len);
    assert_int_equal(g.seg_data[3], 0x20020);
    free(fi.buf);
    free(img);
}

/* Expects verification to fail with err, reason why and the exact message (diag and log). */
static void expect_fail(const uint8_t *img, size_t len, ota_img_verify_opts_t *o, uint32_t part,
                        int err, ota_img_fail_t why, const char *msg)
{
    logcap_t log = {{{0}}, 0};
    ota_img_meta_t m;
    ota_diag_t d = {{0}};
    o->log = cap_log;
    o->log_ctx = &log;
    assert_int_equal(verify_img(img, len, o, part, &m, &d), err);
    o->log = NULL;
    o->log_ctx = NULL;
    assert_int_equal(m.fail, why);
    assert_int_equal(m.image_len, 0); /* metadata zeroed */
    assert_int_equal(m.header.magic, 0);
    assert_string_equal(d.msg, msg);
    char line[220];
    snprintf(line, sizeof(line), "E %s", msg);
    bool seen = false;
    for (int i = 0; i < log.n; i++) {
        seen = seen || strcmp(log.lines[i], line) == 0;
    }
    assert_true(seen);
}

static void test_verify_header_failures(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *img = make_esp32_app(&len, 100, 199);
    ota_img_verify_opts_t o;
    opts_for(&o, chip("esp32"), NULL);
    o.chip_rev = 100;

    uint8_t *bad = malloc(len);
    memcpy(bad, img, len);
    bad[0] = 0xFF;
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_MAGIC,
                "image at 0x10000 has invalid magic byte (nothing flashed here?)");

    ota_img_verify_opts_t c3;
    opts_for(&c3, chip("esp32c3"), NULL);
    expect_fail(img, len, &c3, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_CHIP_ID,
                "mismatch chip ID, expected 5, found 0");

    o.chip_rev = 3;
    expect_fail(img, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_CHIP_REV_MIN,
                "chip revision check failed. Required >= v1.0, found v0.3.");
    o.chip_rev = 301;
    expect_fail(img, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_CHIP_REV_MAX,
                "chip revision check failed. Required <= v1.99, found v3.1.");
    /* the max check is for apps only, and can be disabled by eFuse */
    ota_img_meta_t m;
    o.ignore_max_chip_rev = true;
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, NULL), OTA_OK);
    o.ignore_max_chip_rev = false;
    o.bootloader = true;
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, NULL), OTA_OK);
    o.bootloader = false;
    /* chip checks log even when silent */
    logcap_t log = {{{0}}, 0};
    o.silent = true;
    o.log = cap_log;
    o.log_ctx = &log;
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, NULL), OTA_ERR_CORRUPT);
    assert_int_equal(log.n, 1);
    o.silent = false;
    o.chip_rev = 100;

    memcpy(bad, img, len);
    bad[1] = 17;
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_SEGMENT_COUNT,
                "image at 0x10000 segment count 17 exceeds max 16");

    ota_diag_t d = {{0}};
    assert_int_equal(verify_img(img, len, &o, 0x1000001, &m, &d), OTA_ERR_INVALID_ARG);
    assert_int_equal(m.fail, OTA_IMG_FAIL_PARTITION_SIZE);
    assert_string_equal(d.msg, "partition size 0x1000001 invalid, larger than 16MB");
    free(bad);
    free(img);
}

static void test_verify_segment_failures(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *img = make_esp32_app(&len, 0, 0);
    uint8_t *bad = malloc(len);
    ota_img_verify_opts_t o;
    opts_for(&o, chip("esp32"), NULL);

    memcpy(bad, img, len);
    ota_put_le32(bad + 24 + 4, 0x122); /* segment 0 length not a multiple of 4 */
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_SEGMENT_LENGTH,
                "invalid segment length 0x122");
    ota_put_le32(bad + 24 + 4, 0x1000000);
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_SEGMENT_LENGTH,
                "invalid segment length 0x1000000");

    /* the image 16 bytes off a page boundary: mapped data no longer matches its address */
    logcap_t log = {{{0}}, 0};
    ota_img_meta_t m;
    ota_diag_t d = {{0}};
    fimg_t fi;
    fimg_put(&fi, img, len, IMG_AT + 0x10);
    o.log = cap_log;
    o.log_ctx = &log;
    assert_int_equal(ota_img_verify(&fi.f, crypto(), IMG_AT + 0x10, 0x20000, &o, &m, &d),
                     OTA_ERR_CORRUPT);
    assert_int_equal(m.fail, OTA_IMG_FAIL_MAPPING);
    assert_string_equal(d.msg, "Segment 0 load address 0x3f400020, doesn't match data 0x00010030");
    free(fi.buf);

    /* one data byte of the DRAM segment flipped: the checksum catches it first */
    memcpy(bad, img, len);
    uint32_t dram = 24 + 8 + 292 + 8;
    uint8_t stored = img[len - 33];
    bad[dram] ^= 0x5A;
    char msg[100];
    snprintf(msg, sizeof(msg), "Checksum failed. Calculated 0x%x read 0x%x", stored ^ 0x5A, stored);
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_CHECKSUM, msg);

    /* a padding byte before the checksum is hashed but not checksummed */
    memcpy(bad, img, len);
    bad[len - 34] ^= 1;
    expect_fail(bad, len, &o, 0x20000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_HASH,
                "Image hash failed - image is corrupt");
    /* ... and a bootloader's own hash is not checked unless asked (or with SBv2) */
    o.bootloader = true;
    assert_int_equal(verify_img(bad, len, &o, 0x20000, &m, NULL), OTA_OK);
    assert_false(m.hash_checked);
    o.hash = OTA_IMG_HASH_CHECK;
    assert_int_equal(verify_img(bad, len, &o, 0x20000, &m, NULL), OTA_ERR_CORRUPT);
    o.hash = OTA_IMG_HASH_AUTO;
    o.bootloader = false;
    o.hash = OTA_IMG_HASH_SKIP;
    assert_int_equal(verify_img(bad, len, &o, 0x20000, &m, NULL), OTA_OK);
    o.hash = OTA_IMG_HASH_AUTO;

    snprintf(msg, sizeof(msg), "Image length %zu doesn't fit in partition length %zu", len,
             len - 1);
    expect_fail(img, len, &o, (uint32_t)len - 1, OTA_ERR_CORRUPT, OTA_IMG_FAIL_LENGTH, msg);
    assert_int_equal(verify_img(img, len, &o, (uint32_t)len, &m, NULL), OTA_OK);
    /* Secure Boot V2 counts the signature sector on the next 4 KiB boundary */
    o.secure_boot_v2 = true;
    snprintf(msg, sizeof(msg), "Image length %u doesn't fit in partition length %zu",
             (unsigned)((len + 4095) / 4096 * 4096 + 4096), len);
    expect_fail(img, len, &o, (uint32_t)len, OTA_ERR_CORRUPT, OTA_IMG_FAIL_LENGTH, msg);
    assert_int_equal(verify_img(img, len, &o, 0x20000, &m, NULL), OTA_OK);
    assert_int_equal(m.image_len, (len + 4095) / 4096 * 4096 + 4096);
    free(bad);
    free(img);
}

/* An app for a configurable-MMU chip built from raw segments. */
static uint8_t *make_app_for(const char *name, const ota_app_desc_t *desc, size_t *len)
{
    static uint8_t drom[256];
    static uint8_t irom[64];
    const ota_chip_t *c = chip(name);
    ota_app_desc_encode(desc, drom);
    ota_img_build_seg_t segs[2] = {
        {c->app_drom_base + 0x20, drom, sizeof(drom), OTA_IMG_BUILD_APPDESC},
        {c->app_irom_base + 0x10020, irom, sizeof(irom), 0},
    };
    ota_img_build_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = c;
    uint8_t *img = NULL;
    assert_int_equal(ota_img_build(crypto(), &o, segs, 2, &img, len, NULL), OTA_OK);
    return img;
}

static void test_verify_app_desc_rules(void **state)
{
    (void)state;
    ota_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic_word = OTA_APP_DESC_MAGIC;
    d.min_efuse_blk_rev_full = 101;
    d.max_efuse_blk_rev_full = 199;
    size_t len = 0;
    uint8_t *img = make_app_for("esp32c3", &d, &len);
    ota_img_verify_opts_t o;
    ota_img_meta_t m;
    opts_for(&o, chip("esp32c3"), NULL);
    expect_fail(img, len, &o, 0x30000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_EFUSE_BLK_REV_MIN,
                "Image requires efuse blk rev >= v1.1, but chip is v0.0");
    o.efuse_blk_rev = 200;
    expect_fail(img, len, &o, 0x30000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_EFUSE_BLK_REV_MAX,
                "Image requires efuse blk rev <= v1.99, but chip is v2.0");
    o.efuse_blk_rev = 150;
    assert_int_equal(verify_img(img, len, &o, 0x30000, &m, NULL), OTA_OK);
    assert_int_equal(m.mmu_page_size, 0x10000);
    free(img);

    /* ESP32-C6: page size from the descriptor; a segment 0 without it is refused */
    d.min_efuse_blk_rev_full = 0;
    d.max_efuse_blk_rev_full = 0;
    d.mmu_page_size = 15;
    img = make_app_for("esp32c6", &d, &len);
    opts_for(&o, chip("esp32c6"), NULL);
    assert_int_equal(verify_img(img, len, &o, 0x30000, &m, NULL), OTA_OK);
    assert_int_equal(m.mmu_page_size, 0x8000);
    free(img);
    d.magic_word = 0x12345678;
    img = make_app_for("esp32c6", &d, &len);
    expect_fail(img, len, &o, 0x30000, OTA_ERR_CORRUPT, OTA_IMG_FAIL_APP_DESC,
                "Failed to fetch app description header!");
    o.bootloader = true; /* bootloaders carry no app descriptor */
    assert_int_equal(verify_img(img, len, &o, 0x30000, &m, NULL), OTA_OK);
    free(img);
}

/* A 4 GiB address space whose reads come from a small image placed near its top. */
typedef struct topflash {
    const uint8_t *img;
    size_t len;
    uint32_t at;
    int fail_after; /* reads before reads start failing (-1 never) */
    int err;
} topflash_t;

static int top_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    topflash_t *t = ctx;
    if (t->fail_after == 0) {
        return t->err;
    }
    if (t->fail_after > 0) {
        t->fail_after--;
    }
    uint8_t *d = dst;
    for (uint32_t i = 0; i < len; i++) {
        uint64_t a = (uint64_t)addr + i;
        d[i] = a >= t->at && a - t->at < t->len ? t->img[a - t->at] : 0xFF;
    }
    return OTA_OK;
}

static void test_verify_wrap_and_flash_errors(void **state)
{
    (void)state;
    /* segment 0 of 0x10000 bytes starting 0x1000 below the top of the address space */
    uint8_t hdr[32];
    ota_img_header_t h;
    memset(&h, 0, sizeof(h));
    h.magic = OTA_IMG_MAGIC;
    h.segment_count = 1;
    ota_img_header_encode(&h, hdr);
    ota_img_seg_hdr_t s = {0x3FFB0000, 0x10000};
    ota_img_seg_encode(&s, hdr + 24);
    topflash_t t = {hdr, sizeof(hdr), 0xFFFFF000u, -1, OTA_OK};
    ota_flash_t f = {.ctx = &t,
                     .size = 0xFFFFFFFFu,
                     .sector_size = 0x1000,
                     .block_size = 0x10000,
                     .page_size = 0x100,
                     .erase_value = 0xFF,
                     .read = top_read};
    ota_img_verify_opts_t o;
    ota_img_meta_t m;
    ota_diag_t d = {{0}};
    opts_for(&o, chip("esp32"), NULL);
    assert_int_equal(ota_img_verify(&f, crypto(), 0xFFFFF000u, 0x1000, &o, &m, &d),
                     OTA_ERR_CORRUPT);
    assert_int_equal(m.fail, OTA_IMG_FAIL_WRAP);
    assert_string_equal(d.msg, "image offset has wrapped");

    /* flash read failures: ESP_ERR_IMAGE_FLASH_FAIL, power loss passed through */
    size_t len = 0;
    uint8_t *img = make_esp32_app(&len, 0, 0);
    topflash_t u = {img, len, 0x10000, 3, OTA_ERR_IO};
    f.ctx = &u;
    f.size = FLASH_SIZE;
    assert_int_equal(ota_img_verify(&f, crypto(), 0x10000, 0x20000, &o, &m, &d), OTA_ERR_IO);
    assert_int_equal(m.fail, OTA_IMG_FAIL_FLASH_READ);
    u.fail_after = 2;
    u.err = OTA_ERR_POWER_LOSS;
    assert_int_equal(ota_img_verify(&f, crypto(), 0x10000, 0x20000, &o, &m, &d),
                     OTA_ERR_POWER_LOSS);
    u.fail_after = -1;
    assert_int_equal(ota_img_verify(&f, crypto(), 0x10000, 0x20000, &o, &m, &d), OTA_OK);
    /* an image running off the end of the flash is a read failure */
    assert_int_equal(ota_img_verify(&f, crypto(), FLASH_SIZE - 0x100, 0x20000, &o, &m, &d),
                     OTA_ERR_CORRUPT); /* 0xFF there: bad magic */
    f.size = 0x10000 + 0x200;
    assert_int_equal(ota_img_verify(&f, crypto(), 0x10000, 0x20000, &o, &m, &d), OTA_ERR_IO);
    assert_int_equal(ota_img_verify(NULL, crypto(), 0, 0, &o, &m, &d), OTA_ERR_INVALID_ARG);
    free(img);
}

/* ---- layout -------------------------------------------------------------------------------- */

static void parse_buf(const uint8_t *img, size_t len, ota_img_info_t *in)
{
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, (uint8_t *)img, (uint32_t)len, true);
    assert_int_equal(ota_img_parse(&f, crypto(), 0, (uint32_t)len, in, NULL), OTA_OK);
    assert_true(in->checksum_valid);
    assert_true(!in->hash_appended || in->hash_valid);
}

static void test_layout_rules(void **state)
{
    (void)state;
    static uint8_t big[0x20000];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i ^ (i >> 8));
    }
    ota_img_build_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = chip("esp32");
    uint8_t *img = NULL;
    size_t len = 0;
    ota_img_info_t in;

    /* A RAM segment fills the gap before IROM: split into a 0xFEF0 piece and the rest. */
    ota_img_build_seg_t s1[3] = {
        {0x400D0020, big, 0x200, 0},
        {0x3FFB0000, big, 0x20000, 0},
        {0x3F400020, big, 0x100, OTA_IMG_BUILD_APPDESC},
    };
    assert_int_equal(ota_img_build(crypto(), &o, s1, 3, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.seg_count, 4);
    assert_int_equal(in.segs[0].load_addr, 0x3F400020);
    assert_int_equal(in.segs[1].load_addr, 0x3FFB0000);
    assert_int_equal(in.segs[1].data_len, 0xFEF0);
    assert_int_equal(in.segs[2].load_addr, 0x400D0020);
    assert_int_equal(in.segs[2].offset + 8, 0x10020);
    assert_int_equal(in.segs[3].load_addr, 0x3FFB0000 + 0xFEF0);
    assert_int_equal(in.segs[3].data_len, 0x20000 - 0xFEF0);
    assert_memory_equal(img + in.segs[3].offset + 8, big + 0xFEF0, 0x20000 - 0xFEF0);
    for (int i = 0; i < in.seg_count; i++) {
        if (ota_chip_tool_is_flash_addr(o.chip, in.segs[i].load_addr)) {
            assert_int_equal((in.segs[i].offset + 8) % 0x10000, in.segs[i].load_addr % 0x10000);
        }
    }
    free(img);

    /* No RAM: a zero padding segment at address 0 fills the gap. */
    assert_int_equal(ota_img_build(crypto(), &o, s1, 1, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.seg_count, 1);
    free(img);
    ota_img_build_seg_t s2[2] = {{0x3F400020, big, 0x100, 0}, {0x400D0020, big, 0x200, 0}};
    assert_int_equal(ota_img_build(crypto(), &o, s2, 2, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.seg_count, 3);
    assert_int_equal(in.segs[1].load_addr, 0);
    assert_int_equal(in.segs[1].data_len, 0xFEF0);
    for (uint32_t i = 0; i < 0xFEF0; i++) {
        assert_int_equal(img[in.segs[1].offset + 8 + i], 0);
    }
    free(img);

    /* ESP32 0x24 rule: a mapped segment ending 8 bytes past a page boundary grows by 0x1C. */
    ota_img_build_seg_t s3[1] = {{0x3F400020, big, 0xFFE8, 0}};
    assert_int_equal(ota_img_build(crypto(), &o, s3, 1, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.segs[0].data_len, 0xFFE8 + 0x1C);
    free(img);
    o.chip = chip("esp32s2"); /* not on other chips */
    ota_img_build_seg_t s4[3] = {
        {0x3F000020, big, 0xFFD8, 0},
        {0x40080010, big, 0x40, 0},
        {0x3FFB0000, big, 0x100, 0},
    };
    assert_int_equal(ota_img_build(crypto(), &o, s4, 3, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.segs[0].data_len, 0xFFD8);
    /* the gap of 8 bytes is too small for a RAM piece: padding segment */
    assert_int_equal(in.segs[1].load_addr, 0);
    assert_int_equal(in.segs[1].data_len, 8);
    assert_int_equal(in.segs[2].load_addr, 0x40080010);
    assert_int_equal((in.segs[2].offset + 8) % 0x10000, 0x10);
    assert_int_equal(in.segs[3].load_addr, 0x3FFB0000);
    assert_int_equal(in.segs[3].data_len, 0x100);
    free(img);

    /* Two flash segments in one MMU page cannot be placed. */
    ota_diag_t d = {{0}};
    o.chip = chip("esp32");
    ota_img_build_seg_t s5[2] = {{0x3F400020, big, 0x10, 0}, {0x3F400100, big, 0x10, 0}};
    assert_int_equal(ota_img_build(crypto(), &o, s5, 2, &img, &len, &d), OTA_ERR_INVALID_ARG);
    assert_string_equal(d.msg, "Segment loaded at 0x3f400100 lands in same 64 KB flash mapping "
                               "as segment loaded at 0x3f400020. Can't generate binary. Suggest "
                               "changing linker script or ELF to merge sections.");
    /* Page sizes only where the chip allows them. */
    o.mmu_page_size = 0x8000;
    assert_int_equal(ota_img_build(crypto(), &o, s2, 2, &img, &len, &d), OTA_ERR_INVALID_ARG);
    o.chip = chip("esp32c6");
    ota_img_build_seg_t s6[2] = {{0x42000020, big, 0x100, 0}, {0x42008020, big, 0x100, 0}};
    assert_int_equal(ota_img_build(crypto(), &o, s6, 2, &img, &len, &d), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal((in.segs[in.seg_count - 1].offset + 8) % 0x8000, 0x20);
    free(img);
    o.mmu_page_size = 0;

    /* Secure pad v2: checksum block + SHA end on a 64 KiB boundary. */
    o.chip = chip("esp32");
    o.secure_pad_v2 = true;
    assert_int_equal(ota_img_build(crypto(), &o, s2, 2, &img, &len, NULL), OTA_OK);
    assert_int_equal(len % 0x10000, 0);
    parse_buf(img, len, &in);
    assert_int_equal(in.segs[in.seg_count - 1].load_addr, 0);
    free(img);
    o.secure_pad_v2 = false;

    /* Bootloader descriptor first among RAM segments; odd lengths padded to 4; pad_to_size. */
    ota_img_build_seg_t s7[2] = {{0x3FFF0030, big, 10, 0}, {0x3FFF2000, big, 7, 0}};
    o.pad_to_size = 0x1000;
    o.no_hash = true;
    assert_int_equal(ota_img_build(crypto(), &o, s7, 2, &img, &len, NULL), OTA_OK);
    assert_int_equal(len, 0x1000);
    parse_buf(img, len, &in);
    assert_int_equal(in.segs[0].load_addr, 0x3FFF0030); /* address order... */
    free(img);
    s7[1].flags = OTA_IMG_BUILD_BOOTDESC;
    assert_int_equal(ota_img_build(crypto(), &o, s7, 2, &img, &len, NULL), OTA_OK);
    parse_buf(img, len, &in);
    assert_int_equal(in.segs[0].load_addr, 0x3FFF2000); /* ...but the descriptor goes first */
    assert_int_equal(in.segs[0].data_len, 8);
    assert_int_equal(in.segs[1].data_len, 12);
    assert_int_equal(img[in.data_len], 0xFF);
    free(img);

    /* More than 16 segments. */
    ota_img_build_seg_t many[17];
    for (int i = 0; i < 17; i++) {
        many[i] = (ota_img_build_seg_t){0x3FFB0000 + (uint32_t)i * 0x100, big, 4, 0};
    }
    o.pad_to_size = 0;
    assert_int_equal(ota_img_build(crypto(), &o, many, 17, &img, &len, &d), OTA_ERR_SIZE);
}

/* ---- pack and host descriptor -------------------------------------------------------------- */

static void test_pack_app(void **state)
{
    (void)state;
    static uint8_t payload[70001];
    for (size_t i = 0; i < sizeof(payload); i++) {
        payload[i] = (uint8_t)(i * 31);
    }
    static const char sdk[] = "CONFIG_IDF_TARGET=\"esp32s3\"\n"
                              "CONFIG_ESPTOOLPY_FLASHSIZE=\"8MB\"\n"
                              "CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\n"
                              "CONFIG_BOOTLOADER_APP_SECURE_VERSION=5\n"
                              "CONFIG_ESP_EFUSE_BLOCK_REV_MAX_FULL=99\n";
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.payload = payload;
    o.payload_len = sizeof(payload);
    o.sdkconfig = sdk;
    o.sdkconfig_len = strlen(sdk);
    o.project_name = "hello_world";
    o.project_ver = "2.1";
    o.has_build_time = true;
    o.build_time = 1718000000; /* 2024-06-10 06:13:20 UTC */
    uint8_t *img = NULL;
    size_t len = 0;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_OK);

    ota_img_info_t in;
    parse_buf(img, len, &in);
    const ota_chip_t *s3 = chip("esp32s3");
    assert_ptr_equal(in.chip, s3);
    assert_int_equal(in.header.spi_size, 3);
    assert_int_equal(in.header.spi_mode, 2);
    assert_int_equal(in.header.spi_speed, 0xF);
    assert_int_equal(in.header.max_chip_rev_full, 0xFFFF);
    assert_int_equal(in.segs[0].load_addr, 0x3C000020);
    assert_int_equal(in.segs[0].offset, 0x18);
    assert_true(in.has_app_desc);
    assert_int_equal(in.app_desc.secure_version, 5);
    assert_string_equal(in.app_desc.version, "2.1");
    assert_string_equal(in.app_desc.project_name, "hello_world");
    assert_string_equal(in.app_desc.date, "Jun 10 2024");
    assert_string_equal(in.app_desc.time, "06:13:20");
    assert_string_equal(in.app_desc.idf_ver, OTA_IDF_VER_DEFAULT);
    assert_int_equal(in.app_desc.max_efuse_blk_rev_full, 99);
    assert_int_equal(in.app_desc.mmu_page_size, 16);
    uint8_t sha[32];
    assert_int_equal(ota_hash(crypto(), OTA_HASH_SHA256, payload, sizeof(payload), sha), OTA_OK);
    assert_memory_equal(in.app_desc.app_elf_sha256, sha, 32);

    fimg_t fi;
    fimg_put(&fi, img, len, IMG_AT);
    ota_img_host_info_t h;
    assert_int_equal(ota_img_host_locate(&fi.f, IMG_AT, (uint32_t)len, &h, &d), OTA_OK);
    assert_false(h.bootloader);
    assert_true(h.has_payload);
    assert_int_equal(h.payload_len, sizeof(payload));
    assert_int_equal(h.desc.payload_seg, (uint32_t)in.seg_count - 1);
    assert_int_equal(in.header.entry_addr, in.segs[in.seg_count - 1].load_addr);
    assert_int_equal(in.header.entry_addr, 0x42010020); /* after the data page (shared MMU) */
    assert_memory_equal(img + h.payload_offset, payload, sizeof(payload));
    assert_int_equal(h.sdkconfig_offset, 0x20 + 256 + 32);
    assert_int_equal(h.sdkconfig_len, strlen(sdk));
    assert_memory_equal(img + h.sdkconfig_offset, sdk, strlen(sdk));

    ota_img_verify_opts_t vo;
    ota_img_meta_t m;
    opts_for(&vo, s3, NULL);
    assert_int_equal(ota_img_verify(&fi.f, crypto(), IMG_AT, 0x40000, &vo, &m, &d), OTA_OK);
    assert_int_equal(m.image_len, len);
    free(fi.buf);
    free(img);

    /* conflicts are refused */
    o.secure_version = 4;
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_ERR_INVALID_ARG);
    assert_non_null(strstr(d.msg, "CONFIG_BOOTLOADER_APP_SECURE_VERSION=5"));
    o.secure_version = -1;
    o.chip = chip("esp32");
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_ERR_INVALID_ARG);
    assert_string_equal(d.msg, "chip ESP32 conflicts with CONFIG_IDF_TARGET \"esp32s3\" of the "
                               "sdkconfig");
    o.sdkconfig =
        "CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\nCONFIG_BOOTLOADER_APP_SECURE_VERSION=33\n";
    o.sdkconfig_len = strlen(o.sdkconfig);
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_ERR_INVALID_ARG);
    o.sdkconfig =
        "CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\nCONFIG_BOOTLOADER_APP_SECURE_VERSION=32\n";
    o.sdkconfig_len = strlen(o.sdkconfig);
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_OK);
    free(img);
    o.flash_freq = "60m";
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_ERR_INVALID_ARG);
    o.flash_freq = NULL;
    o.sdkconfig = "garbage line\n";
    o.sdkconfig_len = strlen(o.sdkconfig);
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_ERR_SYNTAX);
}

static void test_pack_every_chip(void **state)
{
    (void)state;
    static const uint8_t payload[] = "#!/bin/sh\necho hello\n";
    for (size_t i = 0; i < ota_chip_count(); i++) {
        const ota_chip_t *c = ota_chip_at(i);
        if (c->legacy) {
            continue;
        }
        for (int boot = 0; boot < 2; boot++) {
            ota_img_pack_opts_t o;
            ota_img_pack_opts_init(&o);
            o.chip = c;
            o.bootloader = boot;
            o.payload = boot ? NULL : payload;
            o.payload_len = boot ? 0 : sizeof(payload) - 1;
            o.sdkconfig = "CONFIG_X=1\n";
            o.sdkconfig_len = 11;
            uint8_t *img = NULL;
            size_t len = 0;
            ota_diag_t d = {{0}};
            assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_OK);
            ota_img_info_t in;
            parse_buf(img, len, &in);
            assert_ptr_equal(in.chip, c);
            assert_true(boot ? in.has_boot_desc : in.has_app_desc);
            ota_img_verify_opts_t vo;
            ota_img_meta_t m;
            opts_for(&vo, c, NULL);
            vo.bootloader = boot;
            assert_int_equal(verify_img(img, len, &vo, 0x30000, &m, &d), OTA_OK);
            fimg_t fi;
            fimg_put(&fi, img, len, IMG_AT);
            ota_img_host_info_t h;
            assert_int_equal(ota_img_host_locate(&fi.f, IMG_AT, (uint32_t)len, &h, &d), OTA_OK);
            assert_int_equal(h.bootloader, boot);
            assert_int_equal(h.has_payload, !boot);
            assert_int_equal(h.sdkconfig_len, 11);
            assert_memory_equal(img + h.sdkconfig_offset, "CONFIG_X=1\n", 11);
            if (boot) {
                assert_int_equal(in.segs[0].load_addr, c->boot_dram_addr);
                assert_int_equal(in.header.entry_addr, c->boot_iram_addr);
                assert_int_equal(in.boot_desc.version, 1);
                assert_int_equal(h.sdkconfig_offset, 0x20 + 80 + 32);
            } else {
                assert_memory_equal(img + h.payload_offset, payload, sizeof(payload) - 1);
                /* the padded payload: zeros up to a multiple of 4 */
                assert_int_equal(in.segs[h.desc.payload_seg].data_len % 4, 0);
            }
            free(fi.buf);
            free(img);
        }
    }
}

/*
 * Every chip's default revision on the board passes the chip checks of an image built with
 * ESP-IDF v5.5's default revision settings (app and bootloader), and each range is one a
 * revision outside it fails.
 */
static void test_default_revisions(void **state)
{
    (void)state;
    static const uint8_t payload[] = "#!/bin/sh\n";
    for (size_t i = 0; i < ota_chip_count(); i++) {
        const ota_chip_t *c = ota_chip_at(i);
        if (c->legacy) {
            continue;
        }
        uint16_t rev = ota_flashimg_default_chip_rev(c);
        uint16_t blk = ota_flashimg_default_efuse_blk_rev(c);
        assert_true(rev >= c->idf_rev_min && rev <= c->idf_rev_max);
        assert_true(blk >= c->idf_efuse_blk_rev_min && blk <= c->idf_efuse_blk_rev_max);
        char cfg[256];
        int n = snprintf(cfg, sizeof(cfg),
                         "CONFIG_ESP_REV_MIN_FULL=%u\nCONFIG_ESP_REV_MAX_FULL=%u\n"
                         "CONFIG_ESP_EFUSE_BLOCK_REV_MIN_FULL=%u\n"
                         "CONFIG_ESP_EFUSE_BLOCK_REV_MAX_FULL=%u\n",
                         c->idf_rev_min, c->idf_rev_max, c->idf_efuse_blk_rev_min,
                         c->idf_efuse_blk_rev_max);
        for (int boot = 0; boot < 2; boot++) {
            ota_img_pack_opts_t o;
            ota_img_pack_opts_init(&o);
            o.chip = c;
            o.bootloader = boot;
            o.payload = boot ? NULL : payload;
            o.payload_len = boot ? 0 : sizeof(payload) - 1;
            o.sdkconfig = cfg;
            o.sdkconfig_len = (size_t)n;
            uint8_t *img = NULL;
            size_t len = 0;
            ota_diag_t d = {{0}};
            assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_OK);
            ota_img_verify_opts_t vo;
            ota_img_meta_t m;
            opts_for(&vo, c, NULL);
            vo.bootloader = boot;
            vo.chip_rev = rev;
            vo.efuse_blk_rev = blk;
            if (verify_img(img, len, &vo, 0x30000, &m, &d) != OTA_OK) {
                fail_msg("%s %s: %s", c->name, boot ? "bootloader" : "app", d.msg);
            }
            if (!boot) {
                vo.chip_rev = (uint16_t)(c->idf_rev_max + 1);
                assert_int_equal(verify_img(img, len, &vo, 0x30000, &m, NULL), OTA_ERR_CORRUPT);
                if (c->idf_rev_min > 0) {
                    vo.chip_rev = (uint16_t)(c->idf_rev_min - 1);
                    assert_int_equal(verify_img(img, len, &vo, 0x30000, &m, NULL), OTA_ERR_CORRUPT);
                }
            }
            free(img);
        }
    }
    /* v1.0, the board's revision before the table, is no ESP32-S3 that a default build accepts */
    assert_true(100 > chip("esp32s3")->idf_rev_max);
    assert_int_equal(ota_flashimg_default_chip_rev(chip("esp32s3")), 2);
    assert_int_equal(ota_flashimg_default_chip_rev(chip("esp32")), 300);
}

static void test_host_locate_errors(void **state)
{
    (void)state;
    static const uint8_t payload[40] = {1};
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.payload = payload;
    o.payload_len = sizeof(payload);
    uint8_t *img = NULL;
    size_t len = 0;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_pack(crypto(), &o, &img, &len, &d), OTA_OK);
    fimg_t fi;
    ota_img_host_info_t h;
    uint32_t hd = 0x20 + 256; /* host descriptor offset in the image */

    ota_put_le32(img + hd + 12, 9); /* payload segment beyond the segment table */
    fimg_put(&fi, img, len, 0);
    assert_int_equal(ota_img_host_locate(&fi.f, 0, (uint32_t)len, &h, &d), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "host descriptor: payload segment 9 but the image has 3 segments");
    free(fi.buf);
    ota_put_le32(img + hd + 12, 2);
    ota_put_le32(img + hd + 16, 0x100000); /* payload longer than its segment */
    fimg_put(&fi, img, len, 0);
    assert_int_equal(ota_img_host_locate(&fi.f, 0, (uint32_t)len, &h, &d), OTA_ERR_CORRUPT);
    free(fi.buf);
    ota_put_le32(img + hd + 16, 40);
    ota_put_le32(img + hd + 24, 0x1000); /* sdkconfig outside segment 0 */
    fimg_put(&fi, img, len, 0);
    assert_int_equal(ota_img_host_locate(&fi.f, 0, (uint32_t)len, &h, &d), OTA_ERR_CORRUPT);
    free(fi.buf);
    ota_put_le32(img + hd + 24, 0);
    fimg_put(&fi, img, len, 0);
    assert_int_equal(ota_img_host_locate(&fi.f, 0, (uint32_t)len, &h, &d), OTA_OK);
    free(fi.buf);
    img[hd] = 'x'; /* no descriptor: an ESP-IDF image */
    fimg_put(&fi, img, len, 0);
    assert_int_equal(ota_img_host_locate(&fi.f, 0, (uint32_t)len, &h, &d), OTA_ERR_NOT_FOUND);
    free(fi.buf);
    free(img);
}

/* ---- app version --------------------------------------------------------------------------- */

static char tmpdir[256];

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc;
}

static void test_app_version_precedence(void **state)
{
    (void)state;
    char v[OTA_APP_VERSION_LEN];
    ota_sdkconfig_t *cfg = NULL;
    static const char text[] = "CONFIG_APP_PROJECT_VER_FROM_CONFIG=y\n"
                               "CONFIG_APP_PROJECT_VER=\"from-config\"\n";
    assert_int_equal(ota_sdkconfig_parse(text, strlen(text), &cfg, NULL), OTA_OK);

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/otakit-ver-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    write_text(tmpdir, "version.txt", "  3.4.5-rc1 \nsecond line\n");

    assert_int_equal(ota_img_app_version(cfg, "explicit", tmpdir, v, NULL), OTA_OK);
    assert_string_equal(v, "from-config");
    assert_int_equal(ota_img_app_version(NULL, "explicit", tmpdir, v, NULL), OTA_OK);
    assert_string_equal(v, "explicit");
    assert_int_equal(ota_img_app_version(NULL, NULL, tmpdir, v, NULL), OTA_OK);
    assert_string_equal(v, "3.4.5-rc1");
    assert_int_equal(ota_img_app_version(NULL, NULL, NULL, v, NULL), OTA_OK);
    assert_string_equal(v, "1");
    /* cut to 31 characters */
    assert_int_equal(
        ota_img_app_version(NULL, "0123456789abcdefghijklmnopqrstuvwxyz", NULL, v, NULL), OTA_OK);
    assert_string_equal(v, "0123456789abcdefghijklmnopqrstu");
    ota_sdkconfig_free(cfg);
    /* FROM_CONFIG without a value: Kconfig's default "1" */
    assert_int_equal(ota_sdkconfig_parse("CONFIG_APP_PROJECT_VER_FROM_CONFIG=y\n", 37, &cfg, NULL),
                     OTA_OK);
    assert_int_equal(ota_img_app_version(cfg, "explicit", NULL, v, NULL), OTA_OK);
    assert_string_equal(v, "1");
    ota_sdkconfig_free(cfg);

    /* without version.txt: git describe in a repository, "1" outside one */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -f %s/version.txt", tmpdir);
    assert_int_equal(run(cmd), 0);
    assert_int_equal(ota_img_app_version(NULL, NULL, tmpdir, v, NULL), OTA_OK);
    assert_string_equal(v, "1");
    snprintf(cmd, sizeof(cmd),
             "cd %s && git init -q . && git -c user.email=t@example.com -c user.name=t commit -q "
             "--allow-empty -m init && git tag v9.8.7 >/dev/null 2>&1",
             tmpdir);
    if (run("git --version >/dev/null 2>&1") == 0 && run(cmd) == 0) {
        assert_int_equal(ota_img_app_version(NULL, NULL, tmpdir, v, NULL), OTA_OK);
        assert_string_equal(v, "v9.8.7");
        write_text(tmpdir, "tracked", "x");
        snprintf(cmd, sizeof(cmd),
                 "cd %s && git add tracked && git -c user.email=t@example.com -c user.name=t "
                 "commit -q -m two && echo y > tracked",
                 tmpdir);
        assert_int_equal(run(cmd), 0);
        assert_int_equal(ota_img_app_version(NULL, NULL, tmpdir, v, NULL), OTA_OK);
        assert_int_equal(strncmp(v, "v9.8.7-1-g", 10), 0);
        assert_non_null(strstr(v, "-dirty"));
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    assert_int_equal(run(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chip_table),
        cmocka_unit_test(test_synthetic_vector),
        cmocka_unit_test(test_app_desc_codec),
        cmocka_unit_test(test_boot_desc_codec),
        cmocka_unit_test(test_host_desc),
        cmocka_unit_test(test_verify_ok_and_logs),
        cmocka_unit_test(test_verify_header_failures),
        cmocka_unit_test(test_verify_segment_failures),
        cmocka_unit_test(test_verify_app_desc_rules),
        cmocka_unit_test(test_verify_wrap_and_flash_errors),
        cmocka_unit_test(test_layout_rules),
        cmocka_unit_test(test_pack_app),
        cmocka_unit_test(test_pack_every_chip),
        cmocka_unit_test(test_default_revisions),
        cmocka_unit_test(test_host_locate_errors),
        cmocka_unit_test(test_app_version_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
