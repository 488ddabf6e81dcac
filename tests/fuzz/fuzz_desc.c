/*
 * The descriptors inside images: esp_app_desc_t, esp_bootloader_desc_t, otakit's host
 * descriptor with its baked-in sdkconfig and embedded-files table. Input: the bytes of an image's
 * first segment data, wrapped into a one-segment image so the flash-level readers see them too.
 * A descriptor that decodes must encode to bytes that decode to the same descriptor.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_img.h"
#include "ota/ota_memflash.h"
#include "ota/ota_sdkconfig.h"
#include "ota_le.h"

static void app_desc(const uint8_t *seg, size_t size)
{
    uint8_t *raw = fuzz_padded(seg, size, OTA_APP_DESC_LEN, 0);
    ota_app_desc_t d, again;
    memset(&d, 0, sizeof(d));
    memset(&again, 0, sizeof(again));
    if (ota_app_desc_decode(raw, &d)) {
        uint8_t enc[OTA_APP_DESC_LEN];
        ota_app_desc_encode(&d, enc);
        FUZZ_CHECK(ota_app_desc_decode(enc, &again));
        FUZZ_CHECK(memcmp(&d, &again, sizeof(d)) == 0);
        FUZZ_CHECK(strlen(d.version) < sizeof(d.version));
        FUZZ_CHECK(strlen(d.project_name) < sizeof(d.project_name));
    }
    free(raw);
}

static void boot_desc(const uint8_t *seg, size_t size)
{
    uint8_t *raw = fuzz_padded(seg, size, OTA_BOOT_DESC_LEN, 0);
    ota_boot_desc_t d, again;
    memset(&d, 0, sizeof(d));
    memset(&again, 0, sizeof(again));
    if (ota_boot_desc_decode(raw, &d)) {
        uint8_t enc[OTA_BOOT_DESC_LEN];
        ota_boot_desc_encode(&d, enc);
        FUZZ_CHECK(ota_boot_desc_decode(enc, &again));
        FUZZ_CHECK(memcmp(&d, &again, sizeof(d)) == 0);
    }
    free(raw);
}

static void host_desc(const uint8_t *seg, size_t size)
{
    for (size_t at = 80; at <= 256; at += 176) {
        if (size < at) {
            return;
        }
        uint8_t *raw = fuzz_padded(seg + at, size - at, OTA_HOST_DESC_LEN, 0);
        ota_host_desc_t d, again;
        memset(&d, 0, sizeof(d));
        memset(&again, 0, sizeof(again));
        if (ota_host_desc_decode(raw, &d) == OTA_OK) {
            uint8_t enc[OTA_HOST_DESC_LEN];
            ota_host_desc_encode(&d, enc);
            FUZZ_CHECK(ota_host_desc_decode(enc, &again) == OTA_OK);
            FUZZ_CHECK(memcmp(&d, &again, sizeof(d)) == 0);
        }
        free(raw);
    }
}

/* A one-segment image around seg: header (the given chip id), segment header, data, checksum. */
static uint8_t *wrap(const uint8_t *seg, size_t size, uint32_t load, size_t *len)
{
    size_t data_len = (size + 3) & ~(size_t)3;
    size_t n = 24 + 8 + data_len + 16;
    uint8_t *img = calloc(1, n);
    if (img == NULL) {
        abort();
    }
    img[0] = OTA_IMG_MAGIC;
    img[1] = 1;
    img[2] = 2;
    img[8] = OTA_IMG_WP_PIN_DISABLED;
    ota_put_le32(img + 24, load);
    ota_put_le32(img + 28, (uint32_t)data_len);
    memcpy(img + 32, seg, size);
    size_t end = 32 + data_len;
    size_t pad = 15 - (end % 16);
    img[end + pad] = ota_img_checksum(img + 32, data_len, OTA_IMG_CHECKSUM_SEED);
    *len = end + pad + 1;
    return img;
}

static void in_image(const uint8_t *seg, size_t size, uint32_t load)
{
    size_t len;
    uint8_t *img = wrap(seg, size, load, &len);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, img, (uint32_t)len, true);
    ota_app_desc_t d;
    ota_img_read_app_desc(&f, 0, &d);
    ota_img_host_info_t h;
    if (ota_img_host_locate(&f, 0, (uint32_t)len, &h, NULL) == OTA_OK && h.has_files) {
        FUZZ_CHECK((uint64_t)h.files_offset + h.files_len <= len);
        uint32_t off, n;
        if (ota_img_files_find(img + h.files_offset, h.files_len, "a.txt", &off, &n) == OTA_OK) {
            FUZZ_CHECK((uint64_t)off + n < h.files_len);
        }
    }
    ota_sdkconfig_t *cfg = ota_flashimg_image_sdkconfig(&f, 0, (uint32_t)len);
    ota_sdkconfig_free(cfg);
    ota_flashimg_bootloader_table_offset(img, len);
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    app_desc(data, size);
    boot_desc(data, size);
    host_desc(data, size);
    if (size <= 0x10000) {
        in_image(data, size, 0x3F400020); /* DROM: the app descriptor's segment */
        in_image(data, size, 0x3FFF0000); /* DRAM: the bootloader descriptor's segment */
    }
    /* the embedded-files table on its own */
    uint32_t off, n;
    uint8_t *table = fuzz_padded(data, size, size, 0);
    if (ota_img_files_find(table, (uint32_t)size, "", &off, &n) == OTA_OK) {
        FUZZ_CHECK((uint64_t)off + n < size);
    }
    free(table);
    return 0;
}
