/*
 * ESP-IDF capability-based heap (see esp_heap_caps.h): internal RAM is the host's malloc with a
 * freshly booted ESP32's fixed figures; MALLOC_CAP_SPIRAM is the PSRAM heap (esp_psram.c), which
 * counts what it hands out.
 */
#include "esp_heap_caps.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "esp_internal.h"
#include "esp_newlib.h"

/* Internal RAM figures of a freshly booted ESP32 app: the host has no such limit, so they are
 * fixed. */
#define SIM_FREE_HEAP 303148u
#define SIM_MIN_FREE_HEAP 300612u

/* The capabilities of ESP-IDF's PSRAM heap (esp_psram_extram_add_to_heap_allocator). */
#define PSRAM_CAPS (MALLOC_CAP_SPIRAM | MALLOC_CAP_DEFAULT | MALLOC_CAP_8BIT | MALLOC_CAP_32BIT)

static bool wants_psram(uint32_t caps)
{
    return (caps & MALLOC_CAP_SPIRAM) != 0;
}

/* Whether a request for caps may be served by the PSRAM heap (every cap it asks, PSRAM has). */
static bool psram_matches(uint32_t caps)
{
    return (caps & ~(uint32_t)PSRAM_CAPS) == 0;
}

void *heap_caps_malloc(size_t size, uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return NULL;
    }
    if (wants_psram(caps)) {
        return psram_matches(caps) ? esp_psram_heap_alloc(size) : NULL;
    }
    return malloc(size);
}

void *heap_caps_calloc(size_t n, size_t size, uint32_t caps)
{
    if (!wants_psram(caps)) {
        return (caps & MALLOC_CAP_INVALID) ? NULL : calloc(n, size);
    }
    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = heap_caps_malloc(n * size, caps);
    if (p != NULL) {
        memset(p, 0, n * size);
    }
    return p;
}

/* A block moved to the heap caps names: a new block, the old contents, the old block freed. */
static void *move_block(void *ptr, size_t old, size_t size, uint32_t caps)
{
    void *p = heap_caps_malloc(size, caps);
    if (p != NULL) {
        memcpy(p, ptr, old < size ? old : size);
        heap_caps_free(ptr);
    }
    return p;
}

void *heap_caps_realloc(void *ptr, size_t size, uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return NULL;
    }
    if (ptr == NULL) {
        return heap_caps_malloc(size, caps);
    }
    if (size == 0) {
        heap_caps_free(ptr);
        return NULL;
    }
    if (esp_psram_heap_owns(ptr)) {
        size_t old = esp_psram_heap_block_size(ptr);
        if (old >= size && wants_psram(caps)) {
            return ptr;
        }
        return move_block(ptr, old, size, caps);
    }
    if (wants_psram(caps)) {
        return move_block(ptr, malloc_usable_size(ptr), size, caps);
    }
    return realloc(ptr, size);
}

void heap_caps_free(void *ptr)
{
    if (esp_psram_heap_owns(ptr)) {
        esp_psram_heap_free(ptr);
    } else {
        free(ptr);
    }
}

/* The PSRAM heap's figures for a request with caps (all 0 when it does not match). */
static esp_psram_heap_sizes_t psram_sizes(uint32_t caps)
{
    esp_psram_heap_sizes_t z;
    esp_psram_heap_sizes(&z);
    if (!psram_matches(caps)) {
        memset(&z, 0, sizeof(z));
    }
    return z;
}

size_t heap_caps_get_free_size(uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return 0;
    }
    size_t internal = wants_psram(caps) ? 0 : SIM_FREE_HEAP;
    return internal + psram_sizes(caps).free;
}

size_t heap_caps_get_minimum_free_size(uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return 0;
    }
    size_t internal = wants_psram(caps) ? 0 : SIM_MIN_FREE_HEAP;
    return internal + psram_sizes(caps).min_free;
}

size_t heap_caps_get_largest_free_block(uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return 0;
    }
    size_t internal = wants_psram(caps) ? 0 : 110592; /* the ESP32's largest DRAM block */
    size_t ext = psram_sizes(caps).largest;
    return ext > internal ? ext : internal;
}

size_t heap_caps_get_total_size(uint32_t caps)
{
    if (caps & MALLOC_CAP_INVALID) {
        return 0;
    }
    size_t internal = wants_psram(caps) ? 0 : 327680; /* the ESP32's DRAM */
    return internal + psram_sizes(caps).total;
}

bool heap_caps_check_integrity_all(bool print_errors)
{
    (void)print_errors;
    return true;
}

bool heap_caps_check_integrity(uint32_t caps, bool print_errors)
{
    (void)caps;
    (void)print_errors;
    return true;
}

void esp_reent_cleanup(void) {}
