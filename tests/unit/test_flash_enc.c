/* Flash encryption (ota_flash_enc.h): the cipher's tweak, the encrypting view over a flash whose
 * table is encrypted, and OTA sessions writing whole 16-byte blocks through it. */
#include "fixture.h"

#include <stdlib.h>

#include "ota/ota_flash_enc.h"
#include "ota/ota_memflash.h"
#include "ota/ota_ops.h"

#define FLASH_SIZE 0x400000u

static const uint8_t key[32] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54,
                                0x76, 0x98, 0xba, 0xdc, 0xfe, 0xaa, 0x55, 0x00, 0xff, 0x12, 0x34,
                                0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xf0, 0x11, 0xee};

typedef struct {
    uint8_t *buf;
    ota_memflash_t mem;
    ota_flash_t raw;
    ota_flash_enc_t enc;
    ota_part_table_t table;
} fixture_t;

static fixture_t fx;

static const ota_crypto_t *crypto(void)
{
    return ota_crypto_openssl();
}

/* A flash with the two_ota table written encrypted at 0x8000, and the view over it. */
static int setup(void **state)
{
    (void)state;
    fx.buf = malloc(FLASH_SIZE);
    assert_non_null(fx.buf);
    memset(fx.buf, 0xFF, FLASH_SIZE);
    ota_memflash_init(&fx.raw, &fx.mem, fx.buf, FLASH_SIZE, false);
    test_table_builtin("two_ota", &fx.table);
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_encode(crypto(), &fx.table, bin, NULL), OTA_OK);
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0xF, false, 0x8000, bin, sizeof(bin)),
                     OTA_OK);
    memcpy(fx.buf + 0x8000, bin, sizeof(bin));
    assert_int_equal(ota_flash_enc_init(&fx.enc, &fx.raw, crypto(), key, 0xF, 0x1000, 0x8000),
                     OTA_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fx.buf);
    return 0;
}

static void test_tweak_by_32_byte_block(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    memset(a, 0x5A, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0xF, false, 0x10000, a, sizeof(a)), OTA_OK);
    /* one key per 32-byte block: its two 16-byte halves encrypt alike, the next block not */
    assert_memory_equal(a, a + 16, 16);
    assert_memory_not_equal(a, a + 32, 16);
    assert_memory_not_equal(a, b, 16);
    /* FLASH_CRYPT_CONFIG 0 tweaks nothing: every block alike */
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0x0, false, 0x10000, b, sizeof(b)), OTA_OK);
    assert_memory_equal(b, b + 32, 16);
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0xF, true, 0x10000, a, sizeof(a)), OTA_OK);
    uint8_t plain[64];
    memset(plain, 0x5A, sizeof(plain));
    assert_memory_equal(a, plain, sizeof(plain));
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0xF, false, 0x10008, a, 16), OTA_ERR_ALIGN);
    assert_int_equal(ota_flash_enc_crypt(crypto(), key, 0xF, false, 0x10000, a, 24), OTA_ERR_ALIGN);
}

static void test_regions_from_encrypted_table(void **state)
{
    (void)state;
    assert_true(ota_flash_enc_covers(&fx.enc, 0x1000));  /* bootloader */
    assert_true(ota_flash_enc_covers(&fx.enc, 0x8000));  /* partition table */
    assert_false(ota_flash_enc_covers(&fx.enc, 0x9000)); /* nvs */
    assert_true(ota_flash_enc_covers(&fx.enc, 0xd000));  /* otadata */
    assert_false(ota_flash_enc_covers(&fx.enc, 0xf000)); /* phy_init */
    assert_true(ota_flash_enc_covers(&fx.enc, 0x10000)); /* factory */
    assert_true(ota_flash_enc_covers(&fx.enc, 0x30ffff));
    assert_false(ota_flash_enc_covers(&fx.enc, 0x310000)); /* past ota_1 */
}

static void test_view_reads_and_writes(void **state)
{
    (void)state;
    const ota_flash_t *v = &fx.enc.view.flash;
    uint8_t data[48], back[48];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 1);
    }
    /* plain region: the chip holds the bytes as written */
    assert_int_equal(ota_flash_program(v, 0x9000, data, 5), OTA_OK);
    assert_memory_equal(fx.buf + 0x9000, data, 5);
    /* encrypted region: ciphertext on the chip, plaintext through the view, also unaligned */
    assert_int_equal(ota_flash_program(v, 0x10000, data, sizeof(data)), OTA_OK);
    assert_memory_not_equal(fx.buf + 0x10000, data, 16);
    assert_int_equal(ota_flash_read(v, 0x10000, back, sizeof(back)), OTA_OK);
    assert_memory_equal(back, data, sizeof(data));
    assert_int_equal(ota_flash_read(v, 0x10003, back, 5), OTA_OK);
    assert_memory_equal(back, data + 3, 5);
    assert_int_equal(ota_flash_enc_read(&fx.enc, 0x10010, back, 16), OTA_OK);
    assert_memory_equal(back, data + 16, 16);
    /* encrypted writes are whole 16-byte blocks */
    assert_int_equal(ota_flash_program(v, 0x11000, data, 5), OTA_ERR_ALIGN);
    assert_int_equal(ota_flash_program(v, 0x11008, data, 16), OTA_ERR_ALIGN);
    /* a read across the border of a plain and an encrypted region */
    assert_int_equal(ota_flash_program(v, 0xfff0, data, 16), OTA_OK);
    assert_int_equal(ota_flash_read(v, 0xfff0, back, 32), OTA_OK);
    assert_memory_equal(back, data, 16);
    assert_memory_equal(back + 16, data, 16); /* the start of the factory app, written above */
    assert_memory_equal(fx.buf + 0xfff0, data, 16);
}

/* An OTA device on the view with flash encryption on. */
static ota_ops_dev_t enc_dev(void)
{
    ota_ops_dev_t dev;
    memset(&dev, 0, sizeof(dev));
    dev.flash = &fx.enc.view.flash;
    dev.crypto = crypto();
    dev.chip = ota_chip_by_id(OTA_CHIP_ID_ESP32);
    dev.chip_rev = 300;
    dev.table = &fx.table;
    dev.flash_encrypted = true;
    return dev;
}

static void test_session_writes_blocks(void **state)
{
    (void)state;
    ota_ops_dev_t dev = enc_dev();
    static const uint8_t payload[3000] = {9, 8, 7};
    size_t len = 0;
    uint8_t *img = test_app_image("app", "2", -1, payload, sizeof(payload), &len);
    const ota_part_t *ota0 = ota_ops_find(&dev, OTA_PART_TYPE_APP, 0x10, NULL);
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&dev, ota0, len, &s), OTA_OK);
    for (size_t off = 0; off < len; off += 7) {
        size_t n = len - off < 7 ? len - off : 7;
        assert_int_equal(ota_ops_write(&dev, &s, img + off, n), OTA_OK);
        assert_int_equal(s.wrote_size % 16, 0);
        assert_int_equal(s.wrote_size + s.partial_len, off + n);
    }
    assert_int_equal(ota_ops_end(&dev, &s), OTA_OK);
    uint8_t *back = malloc(len);
    assert_non_null(back);
    assert_int_equal(ota_flash_read(dev.flash, ota0->offset, back, (uint32_t)len), OTA_OK);
    assert_memory_equal(back, img, len);
    assert_memory_not_equal(fx.buf + ota0->offset, img, 16);
    free(back);
    free(img);
    /* esp_ota_write_with_offset takes whole blocks only */
    assert_int_equal(ota_ops_begin(&dev, ota0, 0x1000, &s), OTA_OK);
    uint8_t five[5] = {0xE9};
    assert_int_equal(ota_ops_write_at(&dev, &s, five, sizeof(five), 0), OTA_ERR_INVALID_ARG);
    ota_ops_abort(&s);
}

/* esp_ota_end pads the last block with 0x00 when no buffered block was flushed before, with
 * 0xFF after one was. */
static void test_end_pads_last_block(void **state)
{
    (void)state;
    ota_ops_dev_t dev = enc_dev();
    const ota_part_t *ota1 = ota_ops_find(&dev, OTA_PART_TYPE_APP, 0x11, NULL);
    uint8_t data[36], back[48];
    memset(data, 0xE9, sizeof(data));
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&dev, ota1, 0x1000, &s), OTA_OK);
    assert_int_equal(ota_ops_write(&dev, &s, data, 36), OTA_OK); /* 32 written, 4 waiting */
    assert_int_equal(s.wrote_size, 32);
    assert_int_equal(ota_ops_end(&dev, &s), OTA_ERR_VALIDATE); /* not an image; flushed first */
    assert_int_equal(ota_flash_read(dev.flash, ota1->offset, back, 48), OTA_OK);
    assert_memory_equal(back, data, 36);
    for (int i = 36; i < 48; i++) {
        assert_int_equal(back[i], 0x00);
    }
    assert_int_equal(ota_ops_begin(&dev, ota1, 0x1000, &s), OTA_OK);
    assert_int_equal(ota_ops_write(&dev, &s, data, 10), OTA_OK); /* nothing written yet */
    assert_int_equal(s.wrote_size, 0);
    assert_int_equal(ota_ops_write(&dev, &s, data, 10), OTA_OK); /* one block flushed, 4 wait */
    assert_int_equal(s.wrote_size, 16);
    assert_int_equal(ota_ops_end(&dev, &s), OTA_ERR_VALIDATE);
    assert_int_equal(ota_flash_read(dev.flash, ota1->offset, back, 32), OTA_OK);
    assert_memory_equal(back, data, 20);
    for (int i = 20; i < 32; i++) {
        assert_int_equal(back[i], 0xFF);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tweak_by_32_byte_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regions_from_encrypted_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_reads_and_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_writes_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_pads_last_block, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
