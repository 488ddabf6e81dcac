/*
 * ESP-IDF's memory-region checks (esp_memory_utils.h). On the board code and data live in the
 * host process: every non-NULL pointer counts as internal RAM, instruction RAM and executable.
 */
#ifndef ESP_MEMORY_UTILS_H
#define ESP_MEMORY_UTILS_H

#include <stdbool.h>
#include <stddef.h>

static inline bool esp_ptr_in_iram(const void *p)
{
    return p != NULL;
}

static inline bool esp_ptr_in_dram(const void *p)
{
    return p != NULL;
}

static inline bool esp_ptr_internal(const void *p)
{
    return p != NULL;
}

static inline bool esp_ptr_executable(const void *p)
{
    return p != NULL;
}

static inline bool esp_ptr_external_ram(const void *p)
{
    (void)p;
    return false;
}

#endif /* ESP_MEMORY_UTILS_H */
