/*
 * Pieces of the emulated boards of the unit tests that run the OTA core, the boot chain and the
 * ESP-IDF layer on an emulated NOR flash: eFuses, a log sink, flash writes, partition tables and
 * packed images. Each test keeps its own fixture struct; these take what they work on as
 * arguments. Failures are cmocka assertions.
 */
#ifndef OTAKIT_TEST_FIXTURE_H
#define OTAKIT_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ota/ota_efuse.h"
#include "ota/ota_img_build.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

/* ---- eFuses ------------------------------------------------------------------------------ */

/* Emulated eFuses: the anti-rollback counter (only ever raised) and the recovery offset. */
typedef struct test_fuses {
    uint32_t counter;
    uint32_t recovery;
} test_fuses_t;

static inline int test_fuses_read(void *ctx, uint32_t *out)
{
    *out = ((test_fuses_t *)ctx)->counter;
    return OTA_OK;
}

static inline int test_fuses_write(void *ctx, uint32_t v)
{
    test_fuses_t *f = ctx;
    if (v > f->counter) {
        f->counter = v;
    }
    return OTA_OK;
}

static inline int test_fuses_recovery_read(void *ctx, uint32_t *out)
{
    *out = ((test_fuses_t *)ctx)->recovery;
    return OTA_OK;
}

static inline int test_fuses_recovery_write(void *ctx, uint32_t v)
{
    ((test_fuses_t *)ctx)->recovery = v;
    return OTA_OK;
}

/* The eFuse services over f; the recovery offset field only when with_recovery. */
static inline ota_efuse_t test_fuses_ops(test_fuses_t *f, bool with_recovery)
{
    ota_efuse_t e = {f, test_fuses_read, test_fuses_write, NULL, NULL, NULL, NULL, NULL};
    if (with_recovery) {
        e.read_recovery_offset = test_fuses_recovery_read;
        e.write_recovery_offset = test_fuses_recovery_write;
    }
    return e;
}

/* ---- log ----------------------------------------------------------------------------------- */

/*
 * Appends the line "L tag: msg\n" to the log text (cap bytes, *len of them used, kept
 * NUL-terminated); a line that does not fit whole is left out.
 */
static inline void test_log_append(char *log, size_t cap, size_t *len, char level, const char *tag,
                                   const char *msg)
{
    int n = snprintf(log + *len, cap - *len, "%c %s: %s\n", level, tag, msg);
    if (n > 0 && *len + (size_t)n < cap) {
        *len += (size_t)n;
    }
}

/* ---- flash, tables, images ----------------------------------------------------------------- */

/* Erases the sectors under [addr, addr + len) and programs data there. */
static inline void test_flash_put(const ota_flash_t *f, uint32_t addr, const void *data, size_t len)
{
    assert_int_equal(ota_flash_erase_range(f, addr, (uint32_t)((len + 0xFFF) & ~0xFFFu)), OTA_OK);
    assert_int_equal(ota_flash_program(f, addr, data, (uint32_t)len), OTA_OK);
}

/* Writes table t, encoded with its MD5 entry, at the default partition table offset. */
static inline void test_table_put(const ota_flash_t *f, const ota_part_table_t *t)
{
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), t, bin, NULL), OTA_OK);
    test_flash_put(f, OTA_PART_TABLE_OFFSET_DEFAULT, bin, sizeof(bin));
}

/* The built-in table name ("two_ota", ...) into *t. */
static inline void test_table_builtin(const char *name, ota_part_table_t *t)
{
    assert_int_equal(ota_part_builtin_table(name, NULL, t, NULL), OTA_OK);
}

/* The table of a CSV text into *t; the test fails with the parser's message if it is invalid. */
static inline void test_table_csv(const char *csv, ota_part_table_t *t)
{
    ota_diag_t diag = {{0}};
    if (ota_part_csv_parse(csv, strlen(csv), NULL, t, &diag) != OTA_OK) {
        fail_msg("%s", diag.msg);
    }
}

/* The build time of every image the tests pack (a fixed one, so images are reproducible). */
#define TEST_BUILD_TIME 1700000000

/*
 * A packed app image (malloc'ed, *len bytes; the caller frees it): project (NULL: the packer's
 * default), version, secure version (-1: none) and payload.
 */
static inline uint8_t *test_app_image(const char *project, const char *version,
                                      long long secure_version, const uint8_t *payload,
                                      size_t payload_len, size_t *len)
{
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.payload = payload;
    o.payload_len = payload_len;
    if (project != NULL) {
        o.project_name = project;
    }
    o.project_ver = version;
    o.secure_version = secure_version;
    o.has_build_time = true;
    o.build_time = TEST_BUILD_TIME;
    uint8_t *img = NULL;
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, len, NULL), OTA_OK);
    return img;
}

/* A packed bootloader image (malloc'ed, *len bytes; the caller frees it). */
static inline uint8_t *test_bootloader_image(size_t *len)
{
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.bootloader = true;
    o.has_build_time = true;
    o.build_time = TEST_BUILD_TIME;
    uint8_t *img = NULL;
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, len, NULL), OTA_OK);
    return img;
}

/* ---- otadata ------------------------------------------------------------------------------- */

/* Asserts that the 32 bytes at d (one otadata entry), as lower-case hex, are hex. */
static inline void test_assert_hex32(const uint8_t *d, const char *hex)
{
    char got[65];
    for (int k = 0; k < 32; k++) {
        snprintf(got + 2 * k, 3, "%02x", d[k]);
    }
    assert_string_equal(got, hex);
}

/* Hex of erased bytes: 20 of them, and a whole blank otadata entry. */
#define FF20 "ffffffffffffffffffffffffffffffffffffffff"
#define BLANK FF20 "ffffffffffffffffffffffff"

#endif /* OTAKIT_TEST_FIXTURE_H */
