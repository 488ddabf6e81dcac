/*
 * ESP-IDF nvs API over an emulated flash region: init/erase/deinit, namespaces and handles,
 * values of every type, ESP-IDF's length protocol and error codes, the advanced_https_ota_example
 * resumption keys, and concurrent use from threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_internal.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "ota/ota_flash.h"
#include "ota/ota_idfnvs.h"
#include "ota/ota_memflash.h"
#include "ota/ota_nvs_csv.h"
#include "ota/ota_otadata.h"
#include "test_util.h"

#define DEV_SIZE 0x20000u
#define NVS_OFFSET 0x9000u
#define NVS_SIZE 0x6000u

static uint8_t dev[DEV_SIZE];
static ota_memflash_t mem;
static ota_flash_t fl;

/* Erased device, store region installed, nvs not initialised. */
static int setup(void **state)
{
    (void)state;
    nvs_flash_deinit();
    memset(dev, 0xFF, sizeof(dev));
    ota_memflash_init(&fl, &mem, dev, sizeof(dev), false);
    nvs_internal_use_region(&fl, NVS_OFFSET, NVS_SIZE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nvs_flash_deinit();
    nvs_internal_use_region(NULL, 0, 0);
    return 0;
}

/* The init sequence of the ESP-IDF examples. */
static esp_err_t example_init(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        esp_err_t e = nvs_flash_erase();
        if (e != ESP_OK) {
            return e;
        }
        err = nvs_flash_init();
    }
    return err;
}

static void test_not_initialized(void **state)
{
    (void)state;
    nvs_handle_t h = 0;
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_flash_deinit(), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_set_u8(1, "k", 1), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(nvs_flash_init(), ESP_OK); /* erased region: empty store */
    assert_int_equal(nvs_flash_init(), ESP_OK); /* again: nothing to do */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_flash_deinit(), ESP_ERR_NVS_NOT_INITIALIZED);
}

/* advanced_https_ota_example: progress and URL in "ota_resumption", erased when complete. */
static void test_ota_resumption_flow(void **state)
{
    (void)state;
    const char *url = "https://192.168.2.106:8070/hello_world.bin";
    nvs_handle_t h = 0;
    assert_int_equal(example_init(), ESP_OK);
    assert_int_equal(nvs_open("ota_resumption", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_open("ota_resumption", NVS_READWRITE, &h), ESP_OK);
    assert_int_not_equal(h, 0);

    uint16_t kib = 0xFFFF;
    char saved[256] = {0};
    size_t url_len = sizeof(saved);
    assert_int_equal(nvs_get_u16(h, "nvs_ota_wr_len", &kib), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(kib, 0xFFFF); /* untouched on error */
    assert_int_equal(nvs_get_str(h, "nvs_ota_url", saved, &url_len), ESP_ERR_NVS_NOT_FOUND);

    for (uint16_t k = 1; k <= 40; k++) {
        assert_int_equal(nvs_set_u16(h, "nvs_ota_wr_len", k), ESP_OK);
        if (k == 1) {
            assert_int_equal(nvs_set_str(h, "nvs_ota_url", url), ESP_OK);
        }
        assert_int_equal(nvs_commit(h), ESP_OK);
    }
    nvs_close(h);

    /* "reboot": the progress is there */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(example_init(), ESP_OK);
    assert_int_equal(nvs_open("ota_resumption", NVS_READONLY, &h), ESP_OK);
    assert_int_equal(nvs_get_u16(h, "nvs_ota_wr_len", &kib), ESP_OK);
    assert_int_equal(kib, 40);
    assert_int_equal(nvs_get_str(h, "nvs_ota_url", saved, &url_len), ESP_OK);
    assert_string_equal(saved, url);
    assert_int_equal(url_len, strlen(url) + 1);
    assert_int_equal(nvs_erase_all(h), ESP_ERR_NVS_READ_ONLY);
    nvs_close(h);

    /* download complete: the namespace is emptied but still exists */
    assert_int_equal(nvs_open("ota_resumption", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_erase_all(h), ESP_OK);
    assert_int_equal(nvs_commit(h), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_open("ota_resumption", NVS_READONLY, &h), ESP_OK);
    assert_int_equal(nvs_get_u16(h, "nvs_ota_wr_len", &kib), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_get_str(h, "nvs_ota_url", NULL, &url_len), ESP_ERR_NVS_NOT_FOUND);
    nvs_close(h);
}

static void test_types_and_lengths(void **state)
{
    (void)state;
    nvs_handle_t h;
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("storage", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u8(h, "u8", 200), ESP_OK);
    assert_int_equal(nvs_set_u16(h, "u16", 60000), ESP_OK);
    assert_int_equal(nvs_set_u32(h, "u32", 4000000000u), ESP_OK);
    assert_int_equal(nvs_set_i32(h, "i32", -123456789), ESP_OK);
    assert_int_equal(nvs_set_str(h, "str", "hello"), ESP_OK);
    assert_int_equal(nvs_set_str(h, "empty", ""), ESP_OK);
    const uint8_t mac[6] = {0x24, 0x0a, 0xc4, 0x01, 0x02, 0x03};
    assert_int_equal(nvs_set_blob(h, "mac", mac, sizeof(mac)), ESP_OK);

    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    int32_t i32 = 0;
    assert_int_equal(nvs_get_u8(h, "u8", &u8), ESP_OK);
    assert_int_equal(u8, 200);
    assert_int_equal(nvs_get_u16(h, "u16", &u16), ESP_OK);
    assert_int_equal(u16, 60000);
    assert_int_equal(nvs_get_u32(h, "u32", &u32), ESP_OK);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(nvs_get_i32(h, "i32", &i32), ESP_OK);
    assert_int_equal(i32, -123456789);

    /* strings: size query, exact, too small (length gets the size needed), NULL length */
    char buf[16];
    size_t len = 0;
    assert_int_equal(nvs_get_str(h, "str", NULL, &len), ESP_OK);
    assert_int_equal(len, 6);
    len = 6;
    assert_int_equal(nvs_get_str(h, "str", buf, &len), ESP_OK);
    assert_string_equal(buf, "hello");
    assert_int_equal(len, 6);
    len = 5;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(nvs_get_str(h, "str", buf, &len), ESP_ERR_NVS_INVALID_LENGTH);
    assert_int_equal(len, 6);
    assert_int_equal(buf[0], 'x');
    assert_int_equal(nvs_get_str(h, "str", buf, NULL), ESP_ERR_NVS_INVALID_LENGTH);
    len = sizeof(buf);
    assert_int_equal(nvs_get_str(h, "empty", buf, &len), ESP_OK);
    assert_int_equal(len, 1);
    assert_string_equal(buf, "");

    /* blobs */
    uint8_t got[6] = {0};
    len = 0;
    assert_int_equal(nvs_get_blob(h, "mac", NULL, &len), ESP_OK);
    assert_int_equal(len, 6);
    len = 3;
    assert_int_equal(nvs_get_blob(h, "mac", got, &len), ESP_ERR_NVS_INVALID_LENGTH);
    assert_int_equal(len, 6);
    len = sizeof(got);
    assert_int_equal(nvs_get_blob(h, "mac", got, &len), ESP_OK);
    assert_memory_equal(got, mac, 6);

    /* wrong type on read; another type on write replaces the value */
    assert_int_equal(nvs_get_u16(h, "u8", &u16), ESP_ERR_NVS_TYPE_MISMATCH);
    assert_int_equal(nvs_get_i32(h, "u32", &i32), ESP_ERR_NVS_TYPE_MISMATCH);
    len = sizeof(buf);
    assert_int_equal(nvs_get_str(h, "mac", buf, &len), ESP_ERR_NVS_TYPE_MISMATCH);
    assert_int_equal(nvs_get_blob(h, "str", got, &len), ESP_ERR_NVS_TYPE_MISMATCH);
    assert_int_equal(nvs_set_u32(h, "u8", 7), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "u8", &u32), ESP_OK);
    assert_int_equal(u32, 7);
    assert_int_equal(nvs_get_u8(h, "u8", &u8), ESP_ERR_NVS_TYPE_MISMATCH);

    /* erase one key */
    assert_int_equal(nvs_erase_key(h, "u16"), ESP_OK);
    assert_int_equal(nvs_get_u16(h, "u16", &u16), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_erase_key(h, "u16"), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_get_i32(h, "i32", &i32), ESP_OK);

    /* keys are per namespace */
    nvs_handle_t h2;
    assert_int_equal(nvs_open("other", NVS_READWRITE, &h2), ESP_OK);
    assert_int_not_equal(h2, h);
    assert_int_equal(nvs_get_i32(h2, "i32", &i32), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_set_i32(h2, "i32", 5), ESP_OK);
    assert_int_equal(nvs_erase_all(h2), ESP_OK);
    assert_int_equal(nvs_get_i32(h, "i32", &i32), ESP_OK);
    assert_int_equal(i32, -123456789);
    nvs_close(h2);
    nvs_close(h);
}

static void test_error_codes(void **state)
{
    (void)state;
    static char big[OTA_IDFNVS_STR_MAX + 2];
    nvs_handle_t h;
    nvs_handle_t ro;
    uint8_t u8;
    size_t len = 4;
    assert_int_equal(nvs_flash_init(), ESP_OK);

    /* namespace names */
    assert_int_equal(nvs_open("sixteen_chars_ns", NVS_READWRITE, &h), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(nvs_open("", NVS_READWRITE, &h), ESP_ERR_NVS_INVALID_NAME);
    assert_int_equal(nvs_open(NULL, NVS_READWRITE, &h), ESP_ERR_NVS_INVALID_NAME);
    assert_int_equal(nvs_open("ns", NVS_READWRITE, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_open("fifteen_chars_n", NVS_READWRITE, &h), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READONLY, &ro), ESP_OK);

    /* key names */
    assert_int_equal(nvs_set_u8(h, "sixteen_chars_kk", 1), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(nvs_get_u8(h, "sixteen_chars_kk", &u8), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(nvs_set_u8(h, "", 1), ESP_ERR_NVS_INVALID_NAME);
    assert_int_equal(nvs_set_u8(h, NULL, 1), ESP_ERR_NVS_INVALID_NAME);
    assert_int_equal(nvs_erase_key(h, ""), ESP_ERR_NVS_INVALID_NAME);
    assert_int_equal(nvs_set_u8(h, "fifteen_chars_k", 1), ESP_OK);

    /* string lengths: 4000 bytes including the NUL fit, one more does not; blobs span pages */
    memset(big, 'a', sizeof(big));
    big[OTA_IDFNVS_STR_MAX - 1] = '\0';
    assert_int_equal(nvs_set_str(h, "s", big), ESP_OK);
    big[OTA_IDFNVS_STR_MAX - 1] = 'a';
    big[OTA_IDFNVS_STR_MAX] = '\0';
    assert_int_equal(nvs_set_str(h, "s", big), ESP_ERR_NVS_VALUE_TOO_LONG);
    assert_int_equal(nvs_set_blob(h, "b", big, OTA_IDFNVS_STR_MAX + 1), ESP_OK);
    assert_int_equal(nvs_set_blob(h, "b", NULL, 4), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_set_str(h, "s", NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_get_u8(h, "fifteen_chars_k", NULL), ESP_ERR_INVALID_ARG);
    len = 0;
    assert_int_equal(nvs_get_str(h, "s", NULL, &len), ESP_OK);
    assert_int_equal(len, OTA_IDFNVS_STR_MAX);

    /* read-only handle */
    assert_int_equal(nvs_get_u8(ro, "fifteen_chars_k", &u8), ESP_OK);
    assert_int_equal(nvs_set_u8(ro, "k", 1), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_set_str(ro, "k", "v"), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_set_blob(ro, "k", "v", 1), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_erase_key(ro, "fifteen_chars_k"), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_erase_all(ro), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_commit(ro), ESP_OK);

    /* invalid handles: 0, never issued, closed */
    nvs_close(ro);
    const nvs_handle_t bad[3] = {0, h + 1000, ro};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nvs_set_u8(bad[i], "k", 1), ESP_ERR_NVS_INVALID_HANDLE);
        assert_int_equal(nvs_get_u8(bad[i], "k", &u8), ESP_ERR_NVS_INVALID_HANDLE);
        assert_int_equal(nvs_get_str(bad[i], "k", NULL, &len), ESP_ERR_NVS_INVALID_HANDLE);
        assert_int_equal(nvs_erase_key(bad[i], "k"), ESP_ERR_NVS_INVALID_HANDLE);
        assert_int_equal(nvs_erase_all(bad[i]), ESP_ERR_NVS_INVALID_HANDLE);
        assert_int_equal(nvs_commit(bad[i]), ESP_ERR_NVS_INVALID_HANDLE);
        nvs_close(bad[i]); /* harmless */
    }
    /* handles are not reused */
    nvs_handle_t again;
    assert_int_equal(nvs_open("ns", NVS_READONLY, &again), ESP_OK);
    assert_true(again > ro);
    nvs_close(again);

    /* deinit closes every handle */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_get_u8(h, "fifteen_chars_k", &u8), ESP_ERR_NVS_INVALID_HANDLE);
}

/*
 * A region of random bytes: as in ESP-IDF, pages whose header does not check out count as free
 * (erased when taken), so init gives an empty store that takes writes and keeps them.
 */
static void test_random_region(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (uint32_t i = NVS_OFFSET; i < NVS_OFFSET + NVS_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        dev[i] = (uint8_t)(x >> 16);
    }
    assert_int_equal(example_init(), ESP_OK);
    nvs_handle_t h;
    assert_int_equal(nvs_open("ns", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u32(h, "k", 9), ESP_OK);
    assert_true(ota_idfnvs_detect(&fl, NVS_OFFSET, NVS_SIZE));
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    uint32_t v = 0;
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READONLY, &h), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "k", &v), ESP_OK);
    assert_int_equal(v, 9);
    /* bytes around the region are untouched */
    assert_int_equal(dev[NVS_OFFSET - 1], 0xFF);
    assert_int_equal(dev[NVS_OFFSET + NVS_SIZE], 0xFF);
}

/*
 * A blank partition gets ESP-IDF's page format: an active first page (sequence 0, version 0xFE,
 * header CRC). The same page with a newer version is ESP_ERR_NVS_NEW_VERSION_FOUND; erase and
 * retry work.
 */
static void test_blank_gets_idf_format(void **state)
{
    (void)state;
    nvs_handle_t h;
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u32(h, "k", 9), ESP_OK);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    uint8_t *hdr = dev + NVS_OFFSET;
    static const uint8_t active_seq0[8] = {0xFE, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
    assert_memory_equal(hdr, active_seq0, 8);
    assert_int_equal(hdr[8], 0xFE);
    assert_int_equal(ota_otadata_crc32(0xFFFFFFFFu, hdr + 4, 24),
                     (uint32_t)hdr[28] | (uint32_t)hdr[29] << 8 | (uint32_t)hdr[30] << 16 |
                         (uint32_t)hdr[31] << 24);
    hdr[8] = 0xFD;
    uint32_t c = ota_otadata_crc32(0xFFFFFFFFu, hdr + 4, 24);
    for (int i = 0; i < 4; i++) {
        hdr[28 + i] = (uint8_t)(c >> (8 * i));
    }
    assert_int_equal(nvs_flash_init(), ESP_ERR_NVS_NEW_VERSION_FOUND);
    assert_int_equal(example_init(), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
}

static void test_erase_and_persistence(void **state)
{
    (void)state;
    nvs_handle_t h;
    uint32_t v = 0;
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("cfg", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u32(h, "boot", 1), ESP_OK);
    /* values survive deinit and init */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("cfg", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "boot", &v), ESP_OK);
    assert_int_equal(v, 1);
    /* erase while initialised: handles closed, store empty, init needed again */
    assert_int_equal(nvs_flash_erase(), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "boot", &v), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(nvs_open("cfg", NVS_READONLY, &h), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("cfg", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
}

/* Many updates of a few keys in the 0x6000 partition: compaction keeps them going. */
static void test_many_updates(void **state)
{
    (void)state;
    nvs_handle_t h;
    char url[128];
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ota_resumption", NVS_READWRITE, &h), ESP_OK);
    for (int dl = 0; dl < 60; dl++) {
        snprintf(url, sizeof(url), "https://192.168.2.106:8070/firmware-%d.bin", dl);
        for (uint16_t k = 1; k <= 30; k++) {
            assert_int_equal(nvs_set_u16(h, "nvs_ota_wr_len", k), ESP_OK);
            if (k == 1) {
                assert_int_equal(nvs_set_str(h, "nvs_ota_url", url), ESP_OK);
            }
        }
        if (dl != 59) {
            assert_int_equal(nvs_erase_all(h), ESP_OK);
        }
    }
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ota_resumption", NVS_READONLY, &h), ESP_OK);
    uint16_t kib = 0;
    char got[128];
    size_t len = sizeof(got);
    assert_int_equal(nvs_get_u16(h, "nvs_ota_wr_len", &kib), ESP_OK);
    assert_int_equal(kib, 30);
    assert_int_equal(nvs_get_str(h, "nvs_ota_url", got, &len), ESP_OK);
    assert_string_equal(got, "https://192.168.2.106:8070/firmware-59.bin");
}

/* The layer's geometry limits: a one-sector region is unusable. */
static void test_region_too_small(void **state)
{
    (void)state;
    nvs_internal_use_region(&fl, NVS_OFFSET, 0x1000);
    assert_int_equal(nvs_flash_init(), ESP_ERR_NVS_NO_FREE_PAGES);
}

#define THREADS 4
#define PER_THREAD 150

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char key[8];
    nvs_handle_t h;
    snprintf(key, sizeof(key), "t%d", id);
    if (nvs_open(id % 2 ? "odd" : "even", NVS_READWRITE, &h) != ESP_OK) {
        return (void *)1;
    }
    for (uint32_t i = 1; i <= PER_THREAD; i++) {
        uint32_t back = 0;
        if (nvs_set_u32(h, key, i * 10 + (uint32_t)id) != ESP_OK ||
            nvs_get_u32(h, key, &back) != ESP_OK || back != i * 10 + (uint32_t)id) {
            return (void *)1;
        }
    }
    nvs_close(h);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    assert_int_equal(nvs_flash_init(), ESP_OK);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *ret = (void *)1;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    nvs_handle_t h;
    for (int i = 0; i < THREADS; i++) {
        char key[8];
        uint32_t v = 0;
        snprintf(key, sizeof(key), "t%d", i);
        assert_int_equal(nvs_open(i % 2 ? "odd" : "even", NVS_READONLY, &h), ESP_OK);
        assert_int_equal(nvs_get_u32(h, key, &v), ESP_OK);
        assert_int_equal(v, PER_THREAD * 10 + i);
        nvs_close(h);
    }
}

/*
 * A partition in ESP-IDF's format (as nvs_partition_gen.py makes it) is used in that format:
 * every value type reads back through nvs_get_*; writes, erasures and garbage collection keep
 * the format, and the ESP-IDF-format reader sees exactly the app's values.
 */
static void test_idf_format_partition(void **state)
{
    (void)state;
    static const char csv[] = "key,type,encoding,value\n"
                              "ns_a,namespace,,\n"
                              "u8,data,u8,255\n"
                              "i8,data,i8,-128\n"
                              "u16,data,u16,65535\n"
                              "i16,data,i16,-32768\n"
                              "u32,data,u32,4294967295\n"
                              "i32,data,i32,-2147483648\n"
                              "u64,data,u64,18446744073709551615\n"
                              "i64,data,i64,-9223372036854775808\n"
                              "str,data,string,hello\n"
                              "hex,data,hex2bin,deadbeef\n";
    uint8_t *part = NULL;
    assert_int_equal(ota_nvs_csv_generate(csv, sizeof(csv) - 1, NVS_SIZE, &part, NULL), OTA_OK);
    memcpy(dev + NVS_OFFSET, part, NVS_SIZE);
    free(part);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    nvs_handle_t h = 0;
    assert_int_equal(nvs_open("ns_a", NVS_READWRITE, &h), ESP_OK);
    uint8_t u8 = 0;
    int8_t i8 = 0;
    uint16_t u16 = 0;
    int16_t i16 = 0;
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    assert_int_equal(nvs_get_u8(h, "u8", &u8), ESP_OK);
    assert_int_equal(nvs_get_i8(h, "i8", &i8), ESP_OK);
    assert_int_equal(nvs_get_u16(h, "u16", &u16), ESP_OK);
    assert_int_equal(nvs_get_i16(h, "i16", &i16), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "u32", &u32), ESP_OK);
    assert_int_equal(nvs_get_i32(h, "i32", &i32), ESP_OK);
    assert_int_equal(nvs_get_u64(h, "u64", &u64), ESP_OK);
    assert_int_equal(nvs_get_i64(h, "i64", &i64), ESP_OK);
    assert_true(u8 == 255 && i8 == -128 && u16 == 65535 && i16 == -32768);
    assert_true(u32 == 4294967295u && i32 == INT32_MIN && u64 == UINT64_MAX && i64 == INT64_MIN);
    char str[16];
    size_t len = sizeof(str);
    assert_int_equal(nvs_get_str(h, "str", str, &len), ESP_OK);
    assert_string_equal(str, "hello");
    uint8_t blob[8000];
    len = sizeof(blob);
    assert_int_equal(nvs_get_blob(h, "hex", blob, &len), ESP_OK);
    assert_int_equal(len, 4);
    assert_int_equal(nvs_get_u16(h, "u8", &u16), ESP_ERR_NVS_TYPE_MISMATCH);

    /* the app writes: far more than the partition holds, so pages are collected */
    for (uint32_t i = 0; i < 200; i++) {
        memset(blob, (int)i, sizeof(blob));
        assert_int_equal(nvs_set_u32(h, "u32", i), ESP_OK);
        assert_int_equal(nvs_set_blob(h, "big", blob, 5000), ESP_OK);
        assert_int_equal(nvs_commit(h), ESP_OK);
    }
    assert_int_equal(nvs_erase_key(h, "hex"), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);

    ota_idfnvs_t *s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_true(ota_idfnvs_detect(&fl, NVS_OFFSET, NVS_SIZE));
    assert_int_equal(ota_idfnvs_mount(s, &fl, NVS_OFFSET, NVS_SIZE), OTA_OK);
    assert_int_equal(ota_idfnvs_get(s, "ns_a", "u32", OTA_IDFNVS_U32, &u32, 4, &len), OTA_OK);
    assert_int_equal(u32, 199);
    assert_int_equal(ota_idfnvs_get(s, "ns_a", "big", OTA_IDFNVS_BLOB, blob, 5000, &len), OTA_OK);
    assert_int_equal(len, 5000);
    assert_int_equal(blob[4999], 199);
    assert_int_equal(ota_idfnvs_get(s, "ns_a", "hex", OTA_IDFNVS_BLOB, blob, 8, &len),
                     OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_idfnvs_get(s, "ns_a", "i64", OTA_IDFNVS_I64, &i64, 8, &len), OTA_OK);
    assert_true(i64 == INT64_MIN);
    free(s);
}

/* Writes an ESP-IDF page header (state, seq, version, CRC) at page p of the nvs region. */
static void idf_page(uint32_t p, uint32_t state, uint32_t seq, uint8_t version)
{
    uint8_t *h = dev + NVS_OFFSET + p * 0x1000;
    memset(h, 0xFF, 32);
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(state >> (8 * i));
        h[4 + i] = (uint8_t)(seq >> (8 * i));
    }
    h[8] = version;
    uint32_t crc = ota_otadata_crc32(0xFFFFFFFFu, h + 4, 24);
    for (int i = 0; i < 4; i++) {
        h[28 + i] = (uint8_t)(crc >> (8 * i));
    }
}

/* nvs_flash_init's errors on ESP-IDF-format partitions: no free page, a newer format version. */
static void test_idf_format_init_errors(void **state)
{
    (void)state;
    for (uint32_t p = 0; p < NVS_SIZE / 0x1000; p++) {
        idf_page(p, 0xFFFFFFFCu, p, 0xFE); /* every page full */
    }
    assert_int_equal(nvs_flash_init(), ESP_ERR_NVS_NO_FREE_PAGES);
    memset(dev + NVS_OFFSET, 0xFF, NVS_SIZE);
    idf_page(0, 0xFFFFFFFEu, 0, 0xFD); /* a page of a newer version */
    assert_int_equal(nvs_flash_init(), ESP_ERR_NVS_NEW_VERSION_FOUND);
    /* the examples then erase and initialise again: an empty store in ESP-IDF's format */
    assert_int_equal(example_init(), ESP_OK);
    nvs_handle_t h = 0;
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u8(h, "k", 7), ESP_OK);
    assert_true(ota_idfnvs_detect(&fl, NVS_OFFSET, NVS_SIZE));
    nvs_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_initialized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ota_resumption_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types_and_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_gets_idf_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_and_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idf_format_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idf_format_init_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
