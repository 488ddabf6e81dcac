/*
 * ESP-IDF's NVS page format (src/core/idfnvs*.c) mounting garbage flash: the input is the start
 * of a five-page partition (the rest erased). Whatever mounts must list consistently, and values
 * written after the mount must read back, also after mounting again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_idfnvs.h"
#include "ota/ota_memflash.h"

#define PAGES 5u
#define SIZE (PAGES * OTA_IDFNVS_PAGE_SIZE)

static int each(void *ctx, const ota_idfnvs_value_t *v)
{
    ota_idfnvs_t *s = ctx;
    FUZZ_CHECK(strlen(v->key) <= OTA_IDFNVS_KEY_MAX);
    FUZZ_CHECK(strlen(v->ns) <= OTA_IDFNVS_KEY_MAX);
    if (v->type == OTA_IDFNVS_STR || v->type == OTA_IDFNVS_BLOB) {
        static uint8_t buf[SIZE];
        size_t len = 0;
        int rc = ota_idfnvs_get(s, v->ns, v->key, v->type, buf, sizeof(buf), &len);
        /* a listed value reads back (a key may repeat in another namespace of the same name) */
        FUZZ_CHECK(rc != OTA_OK || len <= sizeof(buf));
    }
    return 0;
}

static void write_and_check(ota_idfnvs_t *s, const ota_flash_t *f)
{
    static uint8_t blob[3000];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    uint32_t num = 0xA5A5F00Du;
    bool num_ok = ota_idfnvs_set(s, "fuzz", "num", OTA_IDFNVS_U32, &num, 4) == OTA_OK;
    bool str_ok = ota_idfnvs_set(s, "fuzz", "str", OTA_IDFNVS_STR, "value", 6) == OTA_OK;
    bool blob_ok = ota_idfnvs_set(s, "fuzz", "blob", OTA_IDFNVS_BLOB, blob, sizeof(blob)) == OTA_OK;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t got = 0;
        size_t len = 0;
        if (num_ok) {
            FUZZ_CHECK(ota_idfnvs_get(s, "fuzz", "num", OTA_IDFNVS_U32, &got, 4, &len) == OTA_OK);
            FUZZ_CHECK(got == num);
        }
        if (str_ok) {
            char str[8];
            FUZZ_CHECK(ota_idfnvs_get(s, "fuzz", "str", OTA_IDFNVS_STR, str, 8, &len) == OTA_OK);
            FUZZ_CHECK(len == 6 && strcmp(str, "value") == 0);
        }
        if (blob_ok) {
            static uint8_t back[sizeof(blob)];
            FUZZ_CHECK(ota_idfnvs_get(s, "fuzz", "blob", OTA_IDFNVS_BLOB, back, sizeof(back),
                                      &len) == OTA_OK);
            FUZZ_CHECK(len == sizeof(blob) && memcmp(back, blob, len) == 0);
        }
        if (pass == 0 && ota_idfnvs_mount(s, f, 0, SIZE) != OTA_OK) {
            FUZZ_CHECK(!num_ok && !str_ok && !blob_ok);
            return;
        }
    }
    if (num_ok) {
        FUZZ_CHECK(ota_idfnvs_erase_key(s, "fuzz", "num") == OTA_OK);
        size_t len;
        uint32_t got;
        FUZZ_CHECK(ota_idfnvs_get(s, "fuzz", "num", OTA_IDFNVS_U32, &got, 4, &len) ==
                   OTA_ERR_NOT_FOUND);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_padded(data, size, SIZE, 0xFF);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, buf, SIZE, false);
    static ota_idfnvs_t s;
    ota_idfnvs_detect(&f, 0, SIZE);
    if (ota_idfnvs_mount(&s, &f, 0, SIZE) == OTA_OK) {
        uint32_t used, free_entries;
        ota_idfnvs_stats(&s, &used, &free_entries);
        FUZZ_CHECK(used + free_entries <= PAGES * OTA_IDFNVS_ENTRIES);
        ota_idfnvs_foreach(&s, each, &s);
        write_and_check(&s, &f);
    }
    free(buf);
    return 0;
}
