/*
 * ESP-IDF bootloader_support helpers an app may call (bootloader_common.h, v5.5): digests and
 * descriptions of partitions, otadata entry checks. They work on the installed device's flash.
 * This directory mirrors ESP-IDF's component layout, so that "../bootloader_flash/include/..."
 * resolves from here as it does in ESP-IDF.
 */
#ifndef BOOTLOADER_COMMON_H
#define BOOTLOADER_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_err.h"
#include "esp_flash_partitions.h"
#include "esp_image_format.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Result of a long-hold GPIO check. */
typedef enum {
    GPIO_LONG_HOLD = 1,
    GPIO_SHORT_HOLD = -1,
    GPIO_NOT_HOLD = 0,
} esp_comm_gpio_hold_t;

/* CRC-32 of an otadata entry's ota_seq (the value its crc field must hold). */
uint32_t bootloader_common_ota_select_crc(const esp_ota_select_entry_t *s);

/* True when the entry's sequence is set and its CRC matches. */
bool bootloader_common_ota_select_valid(const esp_ota_select_entry_t *s);

/* True when the entry is valid and its state is ESP_OTA_IMG_INVALID or ESP_OTA_IMG_ABORTED. */
bool bootloader_common_ota_select_invalid(const esp_ota_select_entry_t *s);

/*
 * SHA-256 of the partition at [address, address + size): for an app (type 0) the image's
 * digest (the appended SHA-256 or the one computed while verifying), else the whole region.
 * Returns ESP_OK; ESP_ERR_INVALID_ARG for a NULL out_sha_256; ESP_ERR_IMAGE_INVALID for an app
 * region whose image does not verify; ESP_FAIL when the region cannot be read.
 */
esp_err_t bootloader_common_get_sha256_of_partition(uint32_t address, uint32_t size, int type,
                                                    uint8_t *out_sha_256);

/*
 * Reads the esp_app_desc_t of the app image at partition into app_desc. Returns ESP_OK;
 * ESP_ERR_INVALID_ARG for NULL arguments or a zero size; ESP_ERR_NOT_FOUND when the descriptor's
 * magic word is absent; ESP_FAIL when the flash cannot be read.
 */
esp_err_t bootloader_common_get_partition_description(const esp_partition_pos_t *partition,
                                                      esp_app_desc_t *app_desc);

#ifdef __cplusplus
}
#endif

#endif /* BOOTLOADER_COMMON_H */
