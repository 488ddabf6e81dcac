/*
 * App and bootloader images: esptool's lenient parser, the device verifier in app and bootloader
 * mode (the image's own chip, hash checks on and off), get_metadata, the host-descriptor locator
 * and the image_info printer. Their verdicts must agree: what the device accepts, the tool parses
 * with a valid checksum and hash.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_chip.h"
#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "ota_le.h"

static void sink(void *ctx, char level, const char *msg)
{
    size_t *n = ctx;
    FUZZ_CHECK(level == 'E' || level == 'I' || level == 'W');
    *n += strlen(msg);
}

static void verify_as(const ota_flash_t *f, const ota_crypto_t *c, const uint8_t *data,
                      size_t len, const ota_img_info_t *in, int perr, int variant)
{
    ota_img_verify_opts_t o;
    memset(&o, 0, sizeof(o));
    size_t logged = 0;
    o.chip = ota_chip_by_name("esp32");
    if (len >= 14) {
        const ota_chip_t *own = ota_chip_by_id(ota_get_le16(data + 12));
        if (own != NULL && !own->legacy) {
            o.chip = own;
        }
    }
    o.bootloader = variant == 1;
    o.hash = variant == 2 ? OTA_IMG_HASH_CHECK : OTA_IMG_HASH_AUTO;
    o.secure_boot_v2 = variant == 2;
    o.load = variant == 1;
    o.silent = variant == 2;
    o.chip_rev = 300;
    o.log = sink;
    o.log_ctx = &logged;
    uint32_t part = (uint32_t)len;
    ota_img_meta_t meta;
    ota_diag_t d = {{0}};
    int verr = ota_img_verify(f, c, 0, part, &o, &meta, &d);
    if (verr == OTA_OK) {
        FUZZ_CHECK(meta.image_len <= part);
        FUZZ_CHECK(meta.fail == OTA_IMG_FAIL_NONE);
        /* esptool alone refuses a hash_appended byte other than 0 and 1 */
        if (data[23] <= 1) {
            FUZZ_CHECK(perr == OTA_OK);
            FUZZ_CHECK(in->checksum_valid);
            if (meta.hash_checked) {
                FUZZ_CHECK(in->hash_valid);
            }
        }
    } else {
        FUZZ_CHECK(verr == OTA_ERR_CORRUPT || verr == OTA_ERR_IO || verr == OTA_ERR_INVALID_ARG);
        FUZZ_CHECK(meta.fail != OTA_IMG_FAIL_NONE);
        FUZZ_CHECK(d.msg[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t empty;
    const ota_crypto_t *c = ota_crypto_openssl();
    uint8_t *copy = fuzz_padded(data, size, size, 0);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, size ? copy : &empty, (uint32_t)size, true);

    static ota_img_info_t in;
    int perr = ota_img_parse(&f, c, 0, (uint32_t)size, &in, NULL);
    if (perr == OTA_OK) {
        FUZZ_CHECK(in.seg_count <= OTA_IMG_MAX_SEGMENTS);
        FUZZ_CHECK(in.data_len <= size);
        FUZZ_CHECK(in.image_len <= size + 32);
    } else {
        FUZZ_CHECK(perr == OTA_ERR_CORRUPT);
    }
    for (int variant = 0; variant < 3 && size > 0; variant++) {
        verify_as(&f, c, copy, size, &in, perr, variant);
    }

    ota_img_meta_t g;
    int gerr = ota_img_get_metadata(&f, 0, &g, NULL);
    FUZZ_CHECK(gerr == OTA_OK || gerr == OTA_ERR_CORRUPT || gerr == OTA_ERR_BOUNDS);

    ota_img_host_info_t h;
    if (ota_img_host_locate(&f, 0, (uint32_t)size, &h, NULL) == OTA_OK) {
        FUZZ_CHECK((uint64_t)h.sdkconfig_offset + h.sdkconfig_len <= size);
        if (h.has_payload) {
            FUZZ_CHECK((uint64_t)h.payload_offset + h.payload_len <= size);
        }
    }

    char *text = NULL;
    ota_diag_t d;
    if (ota_img_info_format(c, copy, size, &text, &d) == OTA_OK) {
        FUZZ_CHECK(text != NULL && strncmp(text, "Image size: ", 12) == 0);
        free(text);
    } else {
        FUZZ_CHECK(text == NULL);
    }
    free(copy);
    return 0;
}
