/*
 * Secure Boot V2 on the ESP32 (ota_boot_secure_boot_v2, the boot-time check in ota_boot_run):
 * the first boot burns the signed bootloader's key digest and ABS_DONE_1, an unsigned
 * bootloader is refused with nothing burnt, and once secure boot is on an app signed with
 * another key is refused with ESP-IDF's lines while one signed with the burnt key boots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "ota/ota_boot.h"
#include "ota/ota_img_build.h"
#include "ota/ota_img_sign.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "test_keys.h"

#define FLASH_SIZE (4u * 1024 * 1024)

static char dir[64];
static char key_a[128], key_b[128];
static char log_text[16384];
static size_t log_len;
static uint8_t *mem;
static ota_flash_t flash;
static ota_memflash_t mf;
static ota_part_table_t table;

/* The eFuse double: BLK2 and the flags, burnt bits only ever set. */
static ota_efuse_secure_boot_t fuses;

static int sb_read(void *ctx, ota_efuse_secure_boot_t *out)
{
    (void)ctx;
    *out = fuses;
    return OTA_OK;
}

static int sb_burn(void *ctx, const uint8_t *digest, uint8_t flags)
{
    (void)ctx;
    if (digest != NULL) {
        for (int i = 0; i < 32; i++) {
            fuses.digest[i] |= digest[i];
        }
        fuses.digest_burnt = true;
    }
    fuses.enabled |= (flags & OTA_EFUSE_ABS_DONE_1) != 0;
    fuses.download_disabled |= (flags & OTA_EFUSE_UART_DOWNLOAD_DIS) != 0;
    return OTA_OK;
}

static ota_efuse_t efuse = {.read_secure_boot = sb_read, .burn_secure_boot = sb_burn};

static void collect(void *ctx, char level, const char *tag, const char *msg)
{
    (void)ctx;
    test_log_append(log_text, sizeof(log_text), &log_len, level, tag, msg);
}

static const ota_log_t sink = {collect, NULL};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/otakit-sb-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(key_a, sizeof(key_a), "%s/a.pem", dir);
    snprintf(key_b, sizeof(key_b), "%s/b.pem", dir);
    test_write_key(EVP_RSA_gen(3072), key_a);
    test_write_key(EVP_RSA_gen(3072), key_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh board: erased flash, the two_ota table, blank eFuses, empty log. */
static int fresh(void **state)
{
    (void)state;
    free(mem);
    mem = malloc(FLASH_SIZE);
    assert_non_null(mem);
    memset(mem, 0xFF, FLASH_SIZE);
    ota_memflash_init(&flash, &mf, mem, FLASH_SIZE, false);
    test_table_builtin("two_ota", &table);
    test_table_put(&flash, &table);
    memset(&fuses, 0, sizeof(fuses));
    log_len = 0;
    log_text[0] = '\0';
    return 0;
}

static int release(void **state)
{
    (void)state;
    free(mem);
    mem = NULL;
    return 0;
}

/* img signed (V2) with key, or as it is when key is NULL, written at addr. */
static void put_signed(uint32_t addr, uint8_t *img, size_t len, const char *key)
{
    uint8_t *s = NULL;
    size_t slen = len;
    if (key != NULL) {
        ota_diag_t d = {{0}};
        assert_int_equal(ota_img_sign(img, len, key, 2, &s, &slen, &d), OTA_OK);
    }
    test_flash_put(&flash, addr, s != NULL ? s : img, slen);
    free(s);
    free(img);
}

static void put_bootloader(const char *key)
{
    size_t len = 0;
    uint8_t *img = test_bootloader_image(&len);
    put_signed(0x1000, img, len, key);
}

static void put_app(const char *key)
{
    static const uint8_t payload[512] = {1};
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.payload = payload;
    o.payload_len = sizeof(payload);
    o.project_ver = "1";
    o.has_build_time = true;
    o.secure_pad = 2;
    uint8_t *img = NULL;
    size_t len = 0;
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
    put_signed(ota_part_find_by_label(&table, "factory")->offset, img, len, key);
}

static ota_boot_env_t env(void)
{
    ota_boot_env_t e = {
        .flash = &flash,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = &efuse,
        .log = &sink,
        .power_on = true,
    };
    return e;
}

static ota_boot_cfg_t cfg(void)
{
    ota_boot_cfg_t c = {.table_offset = 0x8000, .secure_boot_v2 = OTA_SIG_SCHEME_V2_RSA};
    return c;
}

static int enable(void)
{
    ota_boot_env_t e = env();
    ota_boot_cfg_t c = cfg();
    return ota_boot_secure_boot_v2(&e, &c, 0x1000, 0x7000);
}

static void test_first_boot_burns_digest(void **state)
{
    (void)state;
    uint8_t want[32];
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_sign_key_digest(key_a, want, &d), OTA_OK);
    put_bootloader(key_a);
    assert_int_equal(enable(), OTA_OK);
    assert_true(fuses.enabled);
    assert_memory_equal(fuses.digest, want, 32);
    assert_non_null(strstr(log_text, "I secure_boot_v2: Secure boot digests absent, generating..\n"
                                     "I secure_boot_v2: Digests successfully calculated, 1 valid "
                                     "signatures (image offset 0x1000)\n"));
    assert_non_null(strstr(log_text, "I secure_boot_v2: Secure boot permanently enabled\n"));
    log_len = 0;
    log_text[0] = '\0';
    assert_int_equal(enable(), OTA_OK);
    assert_non_null(strstr(log_text, "secure boot v2 is already enabled, continuing.."));
    assert_memory_equal(fuses.digest, want, 32);
}

static void test_unsigned_bootloader_refused(void **state)
{
    (void)state;
    put_bootloader(NULL);
    assert_int_equal(enable(), OTA_ERR_CORRUPT);
    assert_false(fuses.enabled);
    assert_false(fuses.digest_burnt);
    assert_non_null(strstr(log_text, "E secure_boot_v2: No valid bootloader signature blocks "
                                     "found.\n"));
}

static ota_boot_outcome_t boot(void)
{
    ota_boot_env_t e = env();
    ota_boot_cfg_t c = cfg();
    static ota_boot_result_t res;
    log_len = 0;
    log_text[0] = '\0';
    assert_int_equal(ota_boot_run(&e, &c, &res), OTA_OK);
    return res.outcome;
}

static void test_app_signed_with_other_key_refused(void **state)
{
    (void)state;
    put_bootloader(key_a);
    assert_int_equal(enable(), OTA_OK);
    put_app(key_b);
    assert_int_equal(boot(), OTA_BOOT_NO_BOOTABLE);
    assert_non_null(strstr(log_text, "E esp_image: Secure boot signature verification failed\n"));
    put_app(key_a);
    assert_int_equal(boot(), OTA_BOOT_OK);
    assert_non_null(strstr(log_text, "I secure_boot_v2: Signature verified successfully!\n"));
}

static void test_unsigned_app_boots_without_secure_boot(void **state)
{
    (void)state;
    put_app(NULL); /* eFuses blank: the bootloader has not enabled secure boot */
    assert_int_equal(boot(), OTA_BOOT_OK);
    assert_null(strstr(log_text, "Verifying image signature"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_boot_burns_digest, fresh, release),
        cmocka_unit_test_setup_teardown(test_unsigned_bootloader_refused, fresh, release),
        cmocka_unit_test_setup_teardown(test_app_signed_with_other_key_refused, fresh, release),
        cmocka_unit_test_setup_teardown(test_unsigned_app_boots_without_secure_boot, fresh,
                                        release),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
