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
        cmocka_unit_test(test_sidecar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
