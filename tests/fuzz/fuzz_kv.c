/*
 * otakit's key-value store (src/core/kv.c) mounting garbage flash: the input is the start of a
 * four-sector region (the rest erased). Whatever mounts must report consistent figures, and
 * values written after the mount must read back, also after mounting again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_kv.h"
#include "ota/ota_memflash.h"

#define SECTORS 4u
#define SIZE (SECTORS * 4096u)

static void write_and_check(ota_kv_t *kv, const ota_flash_t *f)
{
    static uint8_t blob[3000];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    uint32_t num = 0xA5A5F00Du;
    bool ns_ok = ota_kv_ns_open(kv, "fuzz", true, NULL) == OTA_OK;
    bool num_ok = ota_kv_set(kv, "fuzz", "num", OTA_KV_TYPE_U32, &num, 4, NULL) == OTA_OK;
    bool str_ok = ota_kv_set(kv, "fuzz", "str", OTA_KV_TYPE_STR, "value", 6, NULL) == OTA_OK;
    bool blob_ok =
        ota_kv_set(kv, "fuzz", "blob", OTA_KV_TYPE_BLOB, blob, sizeof(blob), NULL) == OTA_OK;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t got = 0, len = 0;
        if (ns_ok) {
            FUZZ_CHECK(ota_kv_ns_open(kv, "fuzz", false, NULL) == OTA_OK);
        }
        if (num_ok) {
            FUZZ_CHECK(ota_kv_get(kv, "fuzz", "num", OTA_KV_TYPE_U32, &got, 4, &len, NULL) ==
                       OTA_OK);
            FUZZ_CHECK(got == num);
        }
        if (str_ok) {
            char str[8];
            FUZZ_CHECK(ota_kv_get(kv, "fuzz", "str", OTA_KV_TYPE_STR, str, 8, &len, NULL) ==
                       OTA_OK);
            FUZZ_CHECK(len == 6 && strcmp(str, "value") == 0);
        }
        if (blob_ok) {
            static uint8_t back[sizeof(blob)];
            FUZZ_CHECK(ota_kv_get(kv, "fuzz", "blob", OTA_KV_TYPE_BLOB, back, sizeof(back), &len,
                                  NULL) == OTA_OK);
            FUZZ_CHECK(len == sizeof(blob) && memcmp(back, blob, len) == 0);
        }
        if (pass == 0 && ota_kv_mount(kv, f, 0, SIZE, NULL) != OTA_OK) {
            FUZZ_CHECK(!ns_ok && !num_ok && !str_ok && !blob_ok);
            return;
        }
    }
    if (num_ok) {
        FUZZ_CHECK(ota_kv_erase_key(kv, "fuzz", "num", NULL) == OTA_OK);
        FUZZ_CHECK(ota_kv_find(kv, "fuzz", "num", NULL, NULL) == OTA_ERR_NOT_FOUND);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_padded(data, size, SIZE, 0xFF);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, buf, SIZE, false);
    static ota_kv_t kv;
    ota_diag_t diag;
    if (ota_kv_mount(&kv, &f, 0, SIZE, &diag) == OTA_OK) {
        ota_kv_stats_t st;
        if (ota_kv_stats(&kv, &st) == OTA_OK) {
            FUZZ_CHECK(st.sectors == SECTORS);
            FUZZ_CHECK(st.live_bytes <= st.used_bytes);
        }
        write_and_check(&kv, &f);
    }
    free(buf);
    return 0;
}
