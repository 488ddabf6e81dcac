/* ESP-IDF's private PSRAM calls (esp_private/esp_psram_extram.h, v5.5). */
#ifndef ESP_PSRAM_EXTRAM_H
#define ESP_PSRAM_EXTRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether p points into the mapped PSRAM. */
bool esp_psram_check_ptr_addr(const void *p);

/* Adds the PSRAM left after the external .bss/.noinit sections to the heap (MALLOC_CAP_SPIRAM,
 * MALLOC_CAP_DEFAULT, 8BIT, 32BIT), with ESP-IDF's "Adding pool" line. Returns ESP_OK, or
 * ESP_ERR_INVALID_STATE when PSRAM is not initialized or already added. */
esp_err_t esp_psram_extram_add_to_heap_allocator(void);

/* ESP-IDF's start-up memory test of the mapped PSRAM (writes, then checks, a word every 32
 * bytes). Returns whether it passed, after ESP-IDF's line. */
bool esp_psram_extram_test(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_PSRAM_EXTRAM_H */
