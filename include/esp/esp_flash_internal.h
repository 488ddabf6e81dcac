/* ESP-IDF's flash driver internals an app may call (esp_flash_internal.h, v5.5). */
#ifndef ESP_FLASH_INTERNAL_H
#define ESP_FLASH_INTERNAL_H

#include <stdbool.h>

#include "esp_err.h"
#include "esp_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Switches the driver's protection of the bootloader, partition table and running app regions.
 * The simulated board does not model that protection (docs/differences.md): the switch is
 * recorded and reported by esp_flash_get_dangerous_write_protection only. ESP_OK;
 * ESP_ERR_INVALID_ARG for a chip other than the main one.
 */
esp_err_t esp_flash_set_dangerous_write_protection(esp_flash_t *chip, const bool protect);

/* The switch last set (true, protected, at boot). */
bool esp_flash_get_dangerous_write_protection(esp_flash_t *chip);

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_INTERNAL_H */
