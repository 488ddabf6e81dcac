/* Core basics: range-checked flash access, multi-unit erase, hashing hooks, error strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "test_util.h"

static uint32_t erase_log[64][2];
static int erase_count;
static ota_memflash_t mem;

static int logging_erase(void *ctx, uint32_t addr, uint32_t len)
{
    (void)ctx;
    erase_log[erase_count][0] = addr;
    erase_log[erase_count][1] = len;
    erase_count++;
    memset(mem.buf + addr, 0xFF, len);
    return OTA_OK;
}

static void test_erase_range_uses_blocks_where_aligned(void **state)
{
    (void)state;
    static uint8_t buf[0x40000];
    ota_flash_t f;
    ota_memflash_init(&f, &mem, buf, sizeof(buf), false);
    f.erase = logging_erase;
    erase_count = 0;
    /* 0xF000..0x31000: one sector, two blocks, one sector */
    assert_int_equal(ota_flash_erase_range(&f, 0xF000, 0x22000), OTA_OK);
    assert_int_equal(erase_count, 4);
    assert_int_equal(erase_log[0][0], 0xF000);
    assert_int_equal(erase_log[0][1], 0x1000);
    assert_int_equal(erase_log[1][0], 0x10000);
    assert_int_equal(erase_log[1][1], 0x10000);
    assert_int_equal(erase_log[2][0], 0x20000);
    assert_int_equal(erase_log[2][1], 0x10000);
    assert_int_equal(erase_log[3][0], 0x30000);
    assert_int_equal(erase_log[3][1], 0x1000);
    assert_int_equal(ota_flash_erase_range(&f, 0x800, 0x1000), OTA_ERR_ALIGN);
    assert_int_equal(ota_flash_erase_range(&f, 0x3F000, 0x2000), OTA_ERR_BOUNDS);
}

static void test_program_only_clears_bits(void **state)
{
    (void)state;
    static uint8_t buf[0x2000];
    ota_flash_t f;
    ota_memflash_t m;
    memset(buf, 0xFF, sizeof(buf));
    ota_memflash_init(&f, &m, buf, sizeof(buf), false);
    uint8_t a = 0xF0;
    uint8_t b = 0x3C;
    uint8_t r = 0;
    assert_int_equal(ota_flash_program(&f, 5, &a, 1), OTA_OK);
    assert_int_equal(ota_flash_program(&f, 5, &b, 1), OTA_OK);
    assert_int_equal(ota_flash_read(&f, 5, &r, 1), OTA_OK);
    assert_int_equal(r, 0x30);
    assert_int_equal(ota_flash_is_erased(&f, 0, 5), 1);
    assert_int_equal(ota_flash_is_erased(&f, 0, 6), 0);
    assert_int_equal(ota_flash_read(&f, 0x1FFF, &r, 2), OTA_ERR_BOUNDS);
    assert_int_equal(ota_flash_program(&f, 0x2000, &a, 1), OTA_ERR_BOUNDS);
}

static void test_hashes(void **state)
{
    (void)state;
    uint8_t d[32];
    uint8_t want[32];
    const ota_crypto_t *c = ota_crypto_openssl();
    assert_int_equal(ota_hash(c, OTA_HASH_SHA256, "abc", 3, d), OTA_OK);
    test_unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    assert_memory_equal(d, want, 32);
    assert_int_equal(ota_hash(c, OTA_HASH_MD5, "abc", 3, d), OTA_OK);
    test_unhex("900150983cd24fb0d6963f7d28e17f72", want, 16);
    assert_memory_equal(d, want, 16);
    assert_int_equal(ota_hash_len(OTA_HASH_MD5), 16);
}

static void test_strerror_and_diag(void **state)
{
    (void)state;
    ota_diag_t d;
    assert_string_equal(ota_strerror(OTA_ERR_POWER_LOSS), "power lost");
    assert_string_equal(ota_strerror(12345), "unknown error");
    assert_int_equal(ota_diag_set(&d, OTA_ERR_CORRUPT, "entry %d", 3), OTA_ERR_CORRUPT);
    assert_string_equal(d.msg, "entry 3");
    assert_int_equal(ota_diag_set(NULL, OTA_ERR_IO, "x"), OTA_ERR_IO);
    /* the detail when one was reported, else the code's description */
    assert_string_equal(ota_diag_why(&d, OTA_ERR_IO), "entry 3");
    d.msg[0] = '\0';
    assert_string_equal(ota_diag_why(&d, OTA_ERR_IO), ota_strerror(OTA_ERR_IO));
    assert_string_equal(ota_diag_why(NULL, OTA_ERR_POWER_LOSS), "power lost");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erase_range_uses_blocks_where_aligned),
        cmocka_unit_test(test_program_only_clears_bits),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_strerror_and_diag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
