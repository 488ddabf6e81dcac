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

#endif /* ESP_INTERNAL_H */
