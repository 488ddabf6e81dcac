/*
 * Internals shared by the ESP-IDF compatibility layer (not installed).
 *
 * The ESP-IDF API has no context argument, so the layer acts on one installed device: the
 * simulated board's flash, its partition table and the running app. The app runtime installs it
 * at start-up; tests install one over an emulated flash.
 */
#ifndef ESP_INTERNAL_H
#define ESP_INTERNAL_H

#include "ota/ota_crypto.h"
#include "ota/ota_flash.h"

/* The installed device's flash (NULL when no device is installed). */
const ota_flash_t *esp_internal_flash(void);

/* The crypto hooks of the installed device (never NULL once installed). */
const ota_crypto_t *esp_internal_crypto(void);

/*
 * Test hook: makes the nvs layer keep its store in [offset, offset+size) of f (caller-owned, must
 * outlive its use) instead of the installed device's data/nvs partition labelled "nvs". f NULL
 * restores the partition lookup. Takes effect at the next nvs_flash_init or nvs_flash_erase.
 */
void nvs_internal_use_region(const ota_flash_t *f, uint32_t offset, uint32_t size);

#endif /* ESP_INTERNAL_H */
