/*
 * PSRAM on the ESP layer: the heap over one region (heap_pool.c) and ESP-IDF's esp_psram and
 * MALLOC_CAP_SPIRAM calls on an installed device with and without a PSRAM chip: free sizes count
 * allocations, exhaustion gives NULL, blocks move between the heaps, no chip fails as ESP-IDF's
 * driver fails.
 */
#include "fixture.h"
#include "test_util.h"

#include <stdlib.h>

#include "esp_heap_caps.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_memory_utils.h"
#include "esp_private/esp_psram_extram.h"
#include "esp_psram.h"
#include "esp_system.h"
#include "heap_pool.h"
#include "ota/ota_nor.h"
#include "ota/ota_sdkconfig.h"

#define MB (1024u * 1024u)

static ota_nor_t *nor;
static ota_sdkconfig_t *sdk;

static void install(uint32_t psram)
{
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_id(OTA_CHIP_ID_ESP32),
        .chip_rev = 300,
        .psram_size = psram,
        .sdkconfig = sdk,
    };
    assert_int_equal(esp_dev_install(&cfg), ESP_OK);
}

static int setup(void **state)
{
    (void)state;
    esp_log_set_colors(0);
    if (ota_nor_create_mem(4u << 20, NULL, &nor, NULL) != OTA_OK) {
        return -1;
    }
    ota_part_table_t t;
    test_table_builtin("two_ota", &t);
    test_table_put(ota_nor_flash(nor), &t);
    sdk = ota_sdkconfig_new();
    ota_sdkconfig_set(sdk, "SPIRAM", "y");
    ota_sdkconfig_set(sdk, "SPIRAM_USE_MALLOC", "y");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esp_dev_uninstall();
    ota_sdkconfig_free(sdk);
    ota_nor_close(nor);
    return 0;
}

/* The pool hands out what it has, counts it, refuses what it did not hand out, and merges freed
 * neighbours back into one block. */
static void test_pool(void **state)
{
    (void)state;
    static uint8_t region[64 * 1024 + 8];
    heap_pool_t p;
    assert_true(heap_pool_init(&p, region + 3, sizeof(region) - 3));
    size_t f0 = p.free;
    assert_true(f0 > 63 * 1024 && f0 < 64 * 1024);
    assert_null(heap_pool_alloc(&p, 0));
    uint8_t *a = heap_pool_alloc(&p, 1000);
    uint8_t *b = heap_pool_alloc(&p, 20000);
    uint8_t *c = heap_pool_alloc(&p, 30000);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal((uintptr_t)a % 16, 0);
    assert_true(f0 - p.free >= 51000);
    assert_true(heap_pool_block_size(&p, b) >= 20000);
    assert_null(heap_pool_alloc(&p, 20000));  /* exhausted for that size */
    assert_false(heap_pool_free(&p, b + 16)); /* not a block */
    assert_false(heap_pool_free(&p, region)); /* outside */
    assert_true(heap_pool_free(&p, a));
    assert_false(heap_pool_free(&p, a)); /* twice */
    assert_true(heap_pool_free(&p, b));
    assert_true(heap_pool_largest_free(&p) >= 21000); /* a and b merged */
    assert_true(heap_pool_free(&p, c));
    assert_int_equal(p.free, f0);
    assert_int_equal(heap_pool_largest_free(&p), f0);
    assert_true(p.min_free <= f0 - 51000);
    assert_non_null(heap_pool_alloc(&p, f0)); /* the whole pool is one block again */
}

/* A 4 MB chip: ESP-IDF's driver calls, then the heap once the PSRAM is added to it. */
static void test_psram_heap(void **state)
{
    (void)state;
    install(4 * MB);
    assert_false(esp_psram_is_initialized());
    assert_int_equal(esp_psram_get_size(), 0);
    assert_int_equal(esp_psram_init(), ESP_OK);
    assert_int_equal(esp_psram_init(), ESP_ERR_INVALID_STATE);
    assert_true(esp_psram_is_initialized());
    assert_int_equal(esp_psram_get_size(), 4 * MB);
    assert_true(esp_psram_extram_test());
    /* not in the heap yet */
    assert_null(heap_caps_malloc(16, MALLOC_CAP_SPIRAM));
    assert_int_equal(heap_caps_get_free_size(MALLOC_CAP_SPIRAM), 0);
    size_t internal = esp_get_free_heap_size();
    assert_int_equal(esp_psram_extram_add_to_heap_allocator(), ESP_OK);
    assert_int_equal(esp_psram_extram_add_to_heap_allocator(), ESP_ERR_INVALID_STATE);

    size_t f0 = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    assert_true(f0 > 4 * MB - 64 && f0 <= 4 * MB);
    assert_int_equal(heap_caps_get_total_size(MALLOC_CAP_SPIRAM), f0);
    assert_int_equal(esp_get_free_heap_size(), internal + f0); /* MALLOC_CAP_DEFAULT has both */
    assert_int_equal(heap_caps_get_free_size(MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT), f0);
    assert_null(heap_caps_malloc(16, MALLOC_CAP_SPIRAM | MALLOC_CAP_DMA)); /* no DMA PSRAM */

    uint8_t *big = heap_caps_malloc(MB, MALLOC_CAP_SPIRAM);
    assert_non_null(big);
    assert_true(esp_ptr_external_ram(big));
    assert_false(esp_ptr_internal(big));
    memset(big, 0xa5, MB);
    assert_true(f0 - heap_caps_get_free_size(MALLOC_CAP_SPIRAM) >= MB);
    assert_true(heap_caps_get_minimum_free_size(MALLOC_CAP_SPIRAM) <= f0 - MB);
    assert_true(heap_caps_get_largest_free_block(MALLOC_CAP_SPIRAM) < f0 - MB);

    /* realloc to internal RAM moves the contents out of the PSRAM heap */
    uint8_t *moved = heap_caps_realloc(big, 100, MALLOC_CAP_8BIT);
    assert_non_null(moved);
    assert_false(esp_ptr_external_ram(moved));
    assert_int_equal(moved[99], 0xa5);
    assert_int_equal(heap_caps_get_free_size(MALLOC_CAP_SPIRAM), f0);
    heap_caps_free(moved);

    uint32_t *z = heap_caps_calloc(1000, sizeof(uint32_t), MALLOC_CAP_SPIRAM);
    assert_non_null(z);
    assert_int_equal(z[0] | z[999], 0);
    heap_caps_free(z);

    /* exhaustion: NULL, with less than a block left */
    void *blocks[80];
    int n = 0;
    while (n < 80 && (blocks[n] = heap_caps_malloc(64 * 1024, MALLOC_CAP_SPIRAM)) != NULL) {
        n++;
    }
    assert_int_equal(n, 63);
    assert_true(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) < 64 * 1024);
    while (n > 0) {
        heap_caps_free(blocks[--n]);
    }
    assert_int_equal(heap_caps_get_free_size(MALLOC_CAP_SPIRAM), f0);
    esp_dev_uninstall();
    assert_false(esp_psram_is_initialized());
}

/* An 8 MB chip: an ESP32 maps 4 MB of it. */
static void test_psram_8mb(void **state)
{
    (void)state;
    install(8 * MB);
    assert_int_equal(esp_psram_init(), ESP_OK);
    assert_int_equal(esp_psram_get_size(), 8 * MB);
    assert_int_equal(esp_psram_extram_add_to_heap_allocator(), ESP_OK);
    assert_true(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) <= 4 * MB);
    assert_null(heap_caps_malloc(4 * MB, MALLOC_CAP_SPIRAM));
    esp_dev_uninstall();
}

/* No chip: the driver fails as ESP-IDF's does and there is no PSRAM heap. */
static void test_no_chip(void **state)
{
    (void)state;
    install(0);
    assert_int_equal(esp_psram_init(), ESP_ERR_NOT_SUPPORTED);
    assert_false(esp_psram_is_initialized());
    assert_int_equal(esp_psram_get_size(), 0);
    assert_int_equal(esp_psram_extram_add_to_heap_allocator(), ESP_ERR_INVALID_STATE);
    assert_null(heap_caps_malloc(16, MALLOC_CAP_SPIRAM));
    assert_int_equal(heap_caps_get_free_size(MALLOC_CAP_SPIRAM), 0);
    void *p = heap_caps_malloc(16, MALLOC_CAP_8BIT); /* internal RAM still serves */
    assert_non_null(p);
    assert_false(esp_ptr_external_ram(p));
    heap_caps_free(p);
    esp_dev_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_psram_heap),
        cmocka_unit_test(test_psram_8mb),
        cmocka_unit_test(test_no_chip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
