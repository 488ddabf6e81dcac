/*
 * ESP-IDF's PSRAM driver (esp_psram.h, v5.5) on the simulated board. The board's PSRAM chip (its
 * size: `otakit board run --psram`, esp_dev_config_t.psram_size) is host memory mapped for the
 * app; esp_psram_init() finds it as ESP-IDF finds an ESP32's quad PSRAM, with its log lines, and
 * the heap capability allocator serves MALLOC_CAP_SPIRAM from it.
 */
#ifndef ESP_PSRAM_H
#define ESP_PSRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Finds and maps the board's PSRAM. Returns ESP_OK; ESP_ERR_INVALID_STATE when it is already
 * initialized; ESP_ERR_NOT_SUPPORTED when the board has no PSRAM chip (after ESP-IDF's "PSRAM ID
 * read error" line). */
esp_err_t esp_psram_init(void);

/* Whether esp_psram_init() succeeded. */
bool esp_psram_is_initialized(void);

/* The PSRAM chip's size in bytes, or 0 when PSRAM is not initialized. */
size_t esp_psram_get_size(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_PSRAM_H */
