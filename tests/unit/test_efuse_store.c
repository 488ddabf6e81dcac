/* Emulated eFuses: burn-only semantics in the efuse partition and in a sidecar file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ota/ota_efuse_store.h"
#include "ota/ota_memflash.h"

static void check_counter(ota_efuse_store_t *s, uint32_t bits)
{
    uint32_t v = 99;
    const ota_efuse_t *e = &s->ops;
    assert_int_equal(e->read_secure_version(e->ctx, &v), OTA_OK);
    assert_int_equal(v, 0);
    assert_int_equal(e->write_secure_version(e->ctx, 3), OTA_OK);
    assert_int_equal(e->read_secure_version(e->ctx, &v), OTA_OK);
    assert_int_equal(v, 3);
    /* lowering is a no-op: eFuse bits are never cleared */
    assert_int_equal(e->write_secure_version(e->ctx, 1), OTA_OK);
    assert_int_equal(e->read_secure_version(e->ctx, &v), OTA_OK);
    assert_int_equal(v, 3);
    assert_int_equal(e->write_secure_version(e->ctx, bits + 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(e->write_secure_version(e->ctx, bits), OTA_OK);
    assert_int_equal(e->read_secure_version(e->ctx, &v), OTA_OK);
    assert_int_equal(v, bits);

    uint32_t off = 1;
    assert_int_equal(e->read_recovery_offset(e->ctx, &off), OTA_OK);
    assert_int_equal(off, 0);
    assert_int_equal(e->write_recovery_offset(e->ctx, 0x3F0000), OTA_OK);
    assert_int_equal(e->read_recovery_offset(e->ctx, &off), OTA_OK);
    assert_int_equal(off, 0x3F0000);
    assert_int_equal(e->write_recovery_offset(e->ctx, 0x123), OTA_ERR_ALIGN);
}

static void test_in_partition(void **state)
{
    (void)state;
    static uint8_t flash[0x10000];
    memset(flash, 0xFF, sizeof(flash));
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, flash, sizeof(flash), false);
    ota_efuse_store_t s;
    assert_int_equal(ota_efuse_store_flash(&s, &f, 0x4000, 16), OTA_OK);
    check_counter(&s, 16);
    /* stored inverted: 16 bits burnt = low 16 bits programmed to 0 */
    assert_int_equal(flash[0x4000], 0x00);
    assert_int_equal(flash[0x4001], 0x00);
    assert_int_equal(flash[0x4002], 0xFF);
    assert_int_equal(flash[0x4008], 0xFF);
}

/* Secure Boot V2 fields in the efuse partition: BLK2 once, the flags, all stored inverted. */
static void test_secure_boot_fields(void **state)
{
    (void)state;
    static uint8_t flash[0x10000];
    memset(flash, 0xFF, sizeof(flash));
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, flash, sizeof(flash), false);
    ota_efuse_store_t s;
    assert_int_equal(ota_efuse_store_flash(&s, &f, 0x4000, 16), OTA_OK);
    const ota_efuse_t *e = &s.ops;
    ota_efuse_secure_boot_t sb;
    assert_int_equal(e->read_secure_boot(e->ctx, &sb), OTA_OK);
    assert_false(sb.enabled || sb.download_disabled || sb.digest_burnt);
    uint8_t d[32], other[32];
    memset(d, 0xA5, sizeof(d));
    memset(other, 0x5A, sizeof(other));
    assert_int_equal(e->burn_secure_boot(e->ctx, d, OTA_EFUSE_ABS_DONE_1), OTA_OK);
    assert_int_equal(e->read_secure_boot(e->ctx, &sb), OTA_OK);
    assert_true(sb.enabled && sb.digest_burnt);
    assert_false(sb.download_disabled);
    assert_memory_equal(sb.digest, d, 32);
    assert_int_equal(flash[0x4000 + 64], 0x5A); /* 0xA5 stored inverted */
    assert_int_equal(flash[0x4000 + 16], 0xFE);
    /* BLK2 is written once: another digest is refused, the same one is a no-op */
    assert_int_equal(e->burn_secure_boot(e->ctx, other, 0), OTA_ERR_STATE);
    assert_int_equal(e->burn_secure_boot(e->ctx, d, OTA_EFUSE_UART_DOWNLOAD_DIS), OTA_OK);
    assert_int_equal(e->read_secure_boot(e->ctx, &sb), OTA_OK);
    assert_true(sb.enabled && sb.download_disabled);
    assert_memory_equal(sb.digest, d, 32);
}

static void test_sidecar(void **state)
{
    (void)state;
    char dir[] = "/tmp/otakit-efuse-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/flash.bin.efuse", dir);
    ota_efuse_store_t s;
    assert_int_equal(ota_efuse_store_file(&s, path, 32), OTA_OK);
    check_counter(&s, 32);
    /* a second store on the same file sees the burnt bits */
    ota_efuse_store_t again;
    uint32_t v = 0;
    assert_int_equal(ota_efuse_store_file(&again, path, 32), OTA_OK);
    assert_int_equal(again.ops.read_secure_version(again.ops.ctx, &v), OTA_OK);
    assert_int_equal(v, 32);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_partition),
        cmocka_unit_test(test_secure_boot_fields),
        cmocka_unit_test(test_sidecar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
