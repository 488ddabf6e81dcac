/*
 * ESP-IDF's memory-region checks (esp_memory_utils.h). On the board code and data live in the
 * host process: every non-NULL pointer counts as internal RAM, instruction RAM and executable,
 * except a pointer into the board's PSRAM, which is external RAM.
 */
#ifndef ESP_MEMORY_UTILS_H
#define ESP_MEMORY_UTILS_H

#include <stdbool.h>
#include <stddef.h>

bool esp_psram_check_ptr_addr(const void *p); /* esp_private/esp_psram_extram.h */

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
    return p != NULL && !esp_psram_check_ptr_addr(p);
}

static inline bool esp_ptr_executable(const void *p)
{
    return p != NULL;
}

/* Whether p points into the board's mapped PSRAM. */
static inline bool esp_ptr_external_ram(const void *p)
{
    return esp_psram_check_ptr_addr(p);
}

#endif /* ESP_MEMORY_UTILS_H */
