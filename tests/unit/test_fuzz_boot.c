/*
 * Randomized inputs (seeded, reproducible) for the parsers and the boot chain, under the
 * sanitizers: sdkconfig text, embedded-files tables, host descriptors, and whole flash images
 * whose table, otadata and app images are damaged at random. Nothing may crash, and the boot
 * chain must either boot a partition whose image verifies or report why it cannot.
 *
 * OTAKIT_FUZZ_SEED and OTAKIT_FUZZ_ITERS override the seed and the iteration count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_boot.h"
#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "test_util.h"

static uint64_t rng;

static uint64_t next(void)
{
    return test_splitmix64(&rng);
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(next() % n) : 0;
}

static unsigned iterations(unsigned def)
{
    const char *s = getenv("OTAKIT_FUZZ_ITERS");
    return s ? (unsigned)strtoul(s, NULL, 0) : def;
}

static void seed(void)
{
    const char *s = getenv("OTAKIT_FUZZ_SEED");
    rng = s ? strtoull(s, NULL, 0) : 0x5EEDB007ull;
}

static void test_sdkconfig_garbage(void **state)
{
    (void)state;
    static const char *const pieces[] = {"CONFIG_", "A", "=",           "y",      "\"",        "\\",
                                         "\n",      "#", " is not set", "0x",     "12",        " ",
                                         "\t",      "é", "\0",          "=\"x\"", "CONFIG_B=n"};
    seed();
    unsigned n = iterations(20000);
    char text[512];
    for (unsigned it = 0; it < n; it++) {
        size_t len = 0;
        unsigned parts = below(30);
        for (unsigned k = 0; k < parts; k++) {
            const char *p = pieces[below(sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = p[0] ? strlen(p) : 1;
            if (len + pl >= sizeof(text)) {
                break;
            }
            memcpy(text + len, p, pl);
            len += pl;
        }
        if (below(4) == 0) {
            for (unsigned k = 0; k < 8 && len < sizeof(text); k++) {
                text[len++] = (char)next();
            }
        }
        ota_sdkconfig_t *cfg = NULL;
        ota_diag_t diag = {{0}};
        int err = ota_sdkconfig_parse(text, len, &cfg, &diag);
        if (err == OTA_OK) {
            (void)ota_sdkconfig_bool(cfg, "A", false);
            (void)ota_sdkconfig_int(cfg, "A", 0);
            (void)ota_sdkconfig_str(cfg, "CONFIG_B", NULL);
            char *out = ota_sdkconfig_format(cfg);
            assert_non_null(out);
            ota_sdkconfig_t *again = NULL;
            /* what the formatter writes, the parser reads back */
            assert_int_equal(ota_sdkconfig_parse(out, strlen(out), &again, NULL), OTA_OK);
            ota_sdkconfig_free(again);
            free(out);
            ota_sdkconfig_free(cfg);
        } else {
            assert_int_equal(err, OTA_ERR_SYNTAX);
            assert_true(strncmp(diag.msg, "line ", 5) == 0);
        }
    }
}

static void test_files_table_garbage(void **state)
{
    (void)state;
    seed();
    unsigned n = iterations(50000);
    uint8_t table[256];
    for (unsigned it = 0; it < n; it++) {
        uint32_t len = below(sizeof(table) + 1);
        for (uint32_t i = 0; i < len; i++) {
            table[i] = (uint8_t)next();
        }
        if (len >= 4 && below(2)) {
            table[0] = (uint8_t)below(4);
            table[1] = table[2] = table[3] = 0;
        }
        uint32_t off = 0;
        uint32_t dlen = 0;
        int err = ota_img_files_find(table, len, "ca_cert.pem", &off, &dlen);
        if (err == OTA_OK) {
            assert_true((uint64_t)off + dlen < len);
            assert_int_equal(table[off + dlen], 0);
        } else {
            assert_true(err == OTA_ERR_NOT_FOUND || err == OTA_ERR_CORRUPT);
        }
    }
}

/* A valid two_ota flash with three packed apps, then damaged at random. */
static void build_flash(uint8_t *flash, size_t size, ota_part_table_t *t)
{
    memset(flash, 0xFF, size);
    assert_int_equal(ota_part_builtin_table("two_ota", NULL, t, NULL), OTA_OK);
    assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), t, flash + 0x8000, NULL), OTA_OK);
    static const char *const labels[] = {"factory", "ota_0", "ota_1"};
    static const uint8_t payload[512] = {7};
    for (int i = 0; i < 3; i++) {
        ota_img_pack_opts_t o;
        ota_img_pack_opts_init(&o);
        o.payload = payload;
        o.payload_len = sizeof(payload);
        o.project_name = labels[i];
        o.has_build_time = true;
        uint8_t *img = NULL;
        size_t len = 0;
        assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
        memcpy(flash + ota_part_find_by_label(t, labels[i])->offset, img, len);
        free(img);
    }
}

static void test_boot_chain_on_damaged_flash(void **state)
{
    (void)state;
    const size_t size = 0x400000;
    uint8_t *pristine = malloc(size);
    uint8_t *flash = malloc(size);
    ota_part_table_t table;
    build_flash(pristine, size, &table);
    seed();
    unsigned n = iterations(400);
    static ota_boot_result_t res;
    unsigned outcomes[5] = {0};
    for (unsigned it = 0; it < n; it++) {
        memcpy(flash, pristine, size);
        /* otadata: random entries (valid CRCs half of the time) */
        for (int s = 0; s < 2; s++) {
            ota_otadata_entry_t e;
            uint8_t raw[32];
            memset(&e, 0xFF, sizeof(e));
            e.seq = below(3) == 0 ? 0xFFFFFFFFu : (uint32_t)below(6);
            e.state = below(3) == 0 ? 0xFFFFFFFFu : (uint32_t)below(6);
            e.crc = below(2) ? ota_otadata_seq_crc(e.seq) : (uint32_t)next();
            ota_otadata_encode(&e, raw);
            memcpy(flash + 0xD000 + (size_t)s * 0x1000, raw, sizeof(raw));
        }
        /* damage: random bytes in the table, the images' headers or their bodies */
        unsigned hits = below(6);
        for (unsigned k = 0; k < hits; k++) {
            static const uint32_t areas[][2] = {{0x8000, 0xE0},    {0x10000, 0x400},
                                                {0x110000, 0x400}, {0x210000, 0x400},
                                                {0x10000, 0x2000}, {0xD000, 0x20}};
            const uint32_t *a = areas[below(6)];
            flash[a[0] + below(a[1])] = (uint8_t)next();
        }
        ota_flash_t f;
        ota_memflash_t m;
        ota_memflash_init(&f, &m, flash, (uint32_t)size, false);
        ota_boot_env_t env = {
            .flash = &f,
            .crypto = ota_crypto_openssl(),
            .chip = ota_chip_by_name("esp32"),
            .chip_rev = 300,
        };
        ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = below(2) == 1};
        assert_int_equal(ota_boot_run(&env, &cfg, &res), OTA_OK);
        outcomes[res.outcome]++;
        if (res.outcome == OTA_BOOT_OK) {
            /* whatever booted verifies on its own */
            ota_img_verify_opts_t opts = {.chip = env.chip, .chip_rev = 300};
            assert_int_equal(
                ota_img_verify(&f, env.crypto, res.part.offset, res.part.size, &opts, NULL, NULL),
                OTA_OK);
            assert_int_equal(res.part.type, OTA_PART_TYPE_APP);
        } else {
            assert_true(res.outcome == OTA_BOOT_TABLE_ERROR ||
                        res.outcome == OTA_BOOT_NO_BOOTABLE ||
                        res.outcome == OTA_BOOT_SELECT_ERROR);
        }
    }
    printf("boot outcomes over %u damaged flashes: booted %u, bad table %u, no bootable app %u, "
           "selection error %u\n",
           n, outcomes[OTA_BOOT_OK], outcomes[OTA_BOOT_TABLE_ERROR], outcomes[OTA_BOOT_NO_BOOTABLE],
           outcomes[OTA_BOOT_SELECT_ERROR]);
    /* the damage is mild enough that most boots succeed, and strong enough to hit the others */
    assert_true(outcomes[OTA_BOOT_OK] > n / 4);
    assert_true(outcomes[OTA_BOOT_TABLE_ERROR] > 0);
    free(flash);
    free(pristine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdkconfig_garbage),
        cmocka_unit_test(test_files_table_garbage),
        cmocka_unit_test(test_boot_chain_on_damaged_flash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
