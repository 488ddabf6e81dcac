/*
 * ESP-IDF capability-based heap (esp_heap_caps.h, v5.5). Internal RAM is the host's malloc, with
 * the fixed free-size figures of a freshly booted ESP32 app (they do not move, so heap-leak checks
 * see no change). MALLOC_CAP_SPIRAM is a heap of its own over the board's PSRAM (esp_psram.h),
 * present once the start-up adds it (CONFIG_SPIRAM_USE_CAPS_ALLOC or _USE_MALLOC): its figures
 * count what it hands out, and it returns NULL when exhausted or absent. Its capabilities are
 * ESP-IDF's: SPIRAM, DEFAULT, 8BIT, 32BIT (a request with any other capability and SPIRAM gets
 * NULL); the figures for a request without SPIRAM add it to internal RAM's when it matches.
 */
#ifndef ESP_HEAP_CAPS_H
#define ESP_HEAP_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MALLOC_CAP_EXEC (1 << 0)
#define MALLOC_CAP_32BIT (1 << 1)
#define MALLOC_CAP_8BIT (1 << 2)
#define MALLOC_CAP_DMA (1 << 3)
#define MALLOC_CAP_PID2 (1 << 4)
#define MALLOC_CAP_PID3 (1 << 5)
#define MALLOC_CAP_PID4 (1 << 6)
#define MALLOC_CAP_PID5 (1 << 7)
#define MALLOC_CAP_PID6 (1 << 8)
#define MALLOC_CAP_PID7 (1 << 9)
#define MALLOC_CAP_SPIRAM (1 << 10)
#define MALLOC_CAP_INTERNAL (1 << 11)
#define MALLOC_CAP_DEFAULT (1 << 12)
#define MALLOC_CAP_IRAM_8BIT (1 << 13)
#define MALLOC_CAP_RETENTION (1 << 14)
#define MALLOC_CAP_RTCRAM (1 << 15)
#define MALLOC_CAP_TCM (1 << 16)
#define MALLOC_CAP_DMA_DESC_AHB (1 << 17)
#define MALLOC_CAP_DMA_DESC_AXI (1 << 18)
#define MALLOC_CAP_CACHE_ALIGNED (1 << 19)
#define MALLOC_CAP_SIMD (1 << 20)
#define MALLOC_CAP_INVALID (1u << 31)

/* Allocation: from the PSRAM heap when caps has MALLOC_CAP_SPIRAM, else the host's malloc; NULL
 * for MALLOC_CAP_INVALID. realloc moves a block between the heaps when caps asks the other one;
 * free takes a block of either heap (free() does too, in an app program). */
void *heap_caps_malloc(size_t size, uint32_t caps);
void *heap_caps_calloc(size_t n, size_t size, uint32_t caps);
void *heap_caps_realloc(void *ptr, size_t size, uint32_t caps);
void heap_caps_free(void *ptr);

/* Free bytes, smallest free bytes since boot, largest free block and total size of the heaps
 * that match caps (0 for MALLOC_CAP_INVALID). */
size_t heap_caps_get_free_size(uint32_t caps);
size_t heap_caps_get_minimum_free_size(uint32_t caps);
size_t heap_caps_get_largest_free_block(uint32_t caps);
size_t heap_caps_get_total_size(uint32_t caps);

/* Heap integrity checks: the host heap is checked by the sanitizers, these return true. */
bool heap_caps_check_integrity_all(bool print_errors);
bool heap_caps_check_integrity(uint32_t caps, bool print_errors);

#ifdef __cplusplus
}
#endif

#endif /* ESP_HEAP_CAPS_H */
