/* ESP-IDF capability-based heap on the host's malloc (see esp_heap_caps.h). */
#include "esp_heap_caps.h"

#include <stdlib.h>

#include "esp_newlib.h"
#include "esp_system.h"

void *heap_caps_malloc(size_t size, uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? NULL : malloc(size);
}

void *heap_caps_calloc(size_t n, size_t size, uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? NULL : calloc(n, size);
}

void *heap_caps_realloc(void *ptr, size_t size, uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? NULL : realloc(ptr, size);
}

void heap_caps_free(void *ptr)
{
    free(ptr);
}

size_t heap_caps_get_free_size(uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? 0 : esp_get_free_heap_size();
}

size_t heap_caps_get_minimum_free_size(uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? 0 : esp_get_minimum_free_heap_size();
}

size_t heap_caps_get_largest_free_block(uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? 0 : 110592; /* the ESP32's largest DRAM block */
}

size_t heap_caps_get_total_size(uint32_t caps)
{
    return (caps & MALLOC_CAP_INVALID) ? 0 : 327680; /* the ESP32's DRAM */
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
