/*
 * Garbage in: random bytes and mutations of valid images through the lenient parser, the
 * verifier, get_metadata, the host-descriptor locator and the image_info printer. Run under the
 * sanitizers, this checks that no input reads out of bounds or crashes, and that the verdicts
 * agree with each other. Reproducible: OTAKIT_FUZZ_SEED and OTAKIT_FUZZ_ITERS override the
 * defaults, and a failing case prints its seed and iteration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "ota_le.h"
#include "test_util.h"

static uint64_t rng;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

typedef struct seed {
    uint8_t *data;
    size_t len;
} seed_t;

static seed_t seeds[16];
static int nseeds;

static void add_seed(uint8_t *data, size_t len)
{
    if (nseeds < 16) {
        seeds[nseeds].data = data;
        seeds[nseeds].len = len;
        nseeds++;
    } else {
        free(data);
    }
}

static void make_seeds(void)
{
    static const char *const chips[] = {"esp32", "esp32c3", "esp32c6", "esp32s3", "esp32c2"};
    static const uint8_t payload[300] = {0x7F, 'E', 'L', 'F'};
    for (size_t i = 0; i < sizeof(chips) / sizeof(chips[0]); i++) {
        for (int boot = 0; boot < 2; boot++) {
            ota_img_pack_opts_t o;
            ota_img_pack_opts_init(&o);
            o.chip = ota_chip_by_name(chips[i]);
            o.bootloader = boot;
            o.payload = boot ? NULL : payload;
            o.payload_len = boot ? 0 : sizeof(payload);
            o.sdkconfig = "CONFIG_A=y\n";
            o.sdkconfig_len = 11;
            o.has_build_time = true;
            uint8_t *img = NULL;
            size_t len = 0;
            assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
            add_seed(img, len);
        }
    }
    /* small real images, when the vectors are there */
    static const char *const real[] = {
        "espressif__esptool/c859e47d46/test/images/bootloader.bin",
        "espressif__esptool/d61a1f59d8/test/images/bootloader_esp32c6.bin",
        "espressif__esp-serial-flasher/25401b9d4c/examples/binaries/Hello-world/ESP32_C2/"
        "hello_world.bin",
    };
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        const char *p = test_vector_path(real[i]);
        size_t len = 0;
        uint8_t *d = p ? test_read_file(p, &len) : NULL;
        if (d != NULL) {
            add_seed(d, len);
        }
    }
}

static void mutate(uint8_t **buf, size_t *len)
{
    int ops = 1 + (int)below(4);
    for (int k = 0; k<ops && * len> 0; k++) {
        uint32_t at = below((uint32_t)*len);
        switch (below(7)) {
        case 0:
            (*buf)[at] ^= (uint8_t)(1u << below(8));
            break;
        case 1:
            (*buf)[at] = (uint8_t)rnd();
            break;
        case 2: {
            static const uint32_t magic[] = {0,        1,       3,          0xFFFFFFFF, 0x1000000,
                                             0xFFFFFC, 0x10000, 0x3F400020, 0x42000020, 0x7FFFFFFF};
            if (at + 4 <= *len) {
                uint32_t v = magic[below(10)];
                if (below(2)) {
                    v = (uint32_t)*len - at + below(64) - 32;
                }
                ota_put_le32(*buf + at, v);
            }
            break;
        }
        case 3:
            *len = at; /* truncate */
            break;
        case 4: { /* header fields that steer parsing */
            static const int hdr[] = {1, 3, 12, 23};
            int h = hdr[below(4)];
            if ((size_t)h < *len) {
                (*buf)[h] = (uint8_t)below(h == 1 ? 20 : h == 23 ? 3 : 256);
            }
            break;
        }
        case 5: { /* grow by random bytes */
            size_t add = below(300);
            uint8_t *p = realloc(*buf, *len + add + 1);
            assert_non_null(p);
            for (size_t i = 0; i < add; i++) {
                p[*len + i] = (uint8_t)rnd();
            }
            *buf = p;
            *len += add;
            break;
        }
        default: { /* segment length field of segment 0 or 1 */
            if (*len < 40) {
                break;
            }
            size_t pos = below(2) ? 28 : 28 + 8 + ota_get_le32(*buf + 28) % 64;
            if (pos + 4 <= *len) {
                ota_put_le32(*buf + pos, rnd() & (below(2) ? 0xFFFFFFFF : 0xFFFC));
            }
            break;
        }
        }
    }
}

static void sink(void *ctx, char level, const char *msg)
{
    size_t *n = ctx;
    assert_true(level == 'E' || level == 'I' || level == 'W');
    *n += strlen(msg);
}

static void one_case(const uint8_t *data, size_t len)
{
    static uint8_t empty;
    const ota_crypto_t *c = ota_crypto_openssl();
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, len ? (uint8_t *)data : &empty, (uint32_t)len, true);

    ota_img_info_t in;
    int perr = ota_img_parse(&f, c, 0, (uint32_t)len, &in, NULL);
    if (perr == OTA_OK) {
        assert_true(in.seg_count <= OTA_IMG_MAX_SEGMENTS);
        assert_true(in.data_len <= len);
        assert_true(in.image_len <= len + 32);
    } else {
        assert_int_equal(perr, OTA_ERR_CORRUPT);
    }

    ota_img_verify_opts_t o;
    memset(&o, 0, sizeof(o));
    size_t logged = 0;
    do {
        o.chip = ota_chip_at(below((uint32_t)ota_chip_count()));
    } while (o.chip->legacy);
    if (len >= 14 && below(4) != 0) {
        const ota_chip_t *own = ota_chip_by_id(ota_get_le16(data + 12));
        if (own != NULL && !own->legacy) {
            o.chip = own;
        }
    }
    o.chip_rev = (uint16_t)below(400);
    o.efuse_blk_rev = (uint16_t)below(200);
    o.bootloader = below(2);
    o.hash = (ota_img_hash_mode_t)below(3);
    o.secure_boot_v2 = below(4) == 0;
    o.load = below(2);
    o.silent = below(2);
    o.mmu_page_size = below(2) ? 0x8000 : 0;
    o.log = sink;
    o.log_ctx = &logged;
    uint32_t part = below(3) == 0 ? below(0x1100000) : (uint32_t)len;
    ota_img_meta_t meta;
    ota_diag_t d = {{0}};
    int verr = ota_img_verify(&f, c, 0, part, &o, &meta, &d);
    if (verr == OTA_OK) {
        assert_true(meta.image_len <= part);
        assert_int_equal(meta.fail, OTA_IMG_FAIL_NONE);
        /* what the device accepts, the tool parses with a valid checksum (esptool alone
         * refuses a hash_appended byte other than 0 and 1, which ESP-IDF reads as a boolean) */
        if (data[23] <= 1) {
            assert_int_equal(perr, OTA_OK);
            assert_true(in.checksum_valid);
            if (meta.hash_checked) {
                assert_true(in.hash_valid);
            }
        }
    } else {
        assert_true(verr == OTA_ERR_CORRUPT || verr == OTA_ERR_IO || verr == OTA_ERR_INVALID_ARG);
        assert_true(meta.fail != OTA_IMG_FAIL_NONE);
        assert_true(d.msg[0] != '\0');
    }

    ota_img_meta_t g;
    int gerr = ota_img_get_metadata(&f, 0, &g, NULL);
    assert_true(gerr == OTA_OK || gerr == OTA_ERR_CORRUPT || gerr == OTA_ERR_BOUNDS);

    ota_img_host_info_t h;
    int herr = ota_img_host_locate(&f, 0, (uint32_t)len, &h, NULL);
    if (herr == OTA_OK) {
        assert_true((uint64_t)h.sdkconfig_offset + h.sdkconfig_len <= len);
        if (h.has_payload) {
            assert_true((uint64_t)h.payload_offset + h.payload_len <= len);
        }
    }

    char *text = NULL;
    int ierr = ota_img_info_format(c, data, len, &text, &d);
    if (ierr == OTA_OK) {
        assert_non_null(text);
        assert_int_equal(strncmp(text, "Image size: ", 12), 0);
        free(text);
    } else {
        assert_null(text);
    }
}

static void test_fuzz(void **state)
{
    (void)state;
    const char *s = getenv("OTAKIT_FUZZ_SEED");
    const char *n = getenv("OTAKIT_FUZZ_ITERS");
    uint64_t seed = s ? strtoull(s, NULL, 0) : 0x5EED1234ABCDull;
    long iters = n ? strtol(n, NULL, 0) : 3000;
    make_seeds();
    for (long it = 0; it < iters; it++) {
        rng = seed ^ ((uint64_t)(it + 1) * 0x9E3779B97F4A7C15ull);
        if (rng == 0) {
            rng = 1;
        }
        uint8_t *buf;
        size_t len;
        if (below(5) == 0 || nseeds == 0) {
            len = below(2048);
            buf = malloc(len + 1);
            assert_non_null(buf);
            for (size_t i = 0; i < len; i++) {
                buf[i] = (uint8_t)rnd();
            }
            if (len > 24 && below(2)) {
                buf[0] = OTA_IMG_MAGIC;
                buf[1] = (uint8_t)below(18);
                buf[23] = (uint8_t)below(2);
            }
        } else {
            const seed_t *sd = &seeds[below((uint32_t)nseeds)];
            len = sd->len;
            buf = malloc(len + 1);
            assert_non_null(buf);
            memcpy(buf, sd->data, len);
            mutate(&buf, &len);
        }
        if (it % 250 == 0) {
            print_message("fuzz seed 0x%llx iteration %ld\n", (unsigned long long)seed, it);
        }
        one_case(buf, len);
        free(buf);
    }
    for (int i = 0; i < nseeds; i++) {
        free(seeds[i].data);
    }
    nseeds = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
