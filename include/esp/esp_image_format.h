/*
 * ESP-IDF image verification (esp_image_format.h, v5.5) over otakit's device verifier
 * (ota_img_verify), on the installed device's flash.
 */
#ifndef ESP_IMAGE_FORMAT_H
#define ESP_IMAGE_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_app_format.h"
#include "esp_err.h"
#include "esp_flash_partitions.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_IMAGE_HASH_LEN 32

/* What esp_image_verify found: the header, the segments and the image's length. */
typedef struct {
    uint32_t start_addr;
    esp_image_header_t image;
    esp_image_segment_header_t segments[ESP_IMAGE_MAX_SEGMENTS];
    uint32_t segment_data[ESP_IMAGE_MAX_SEGMENTS]; /* flash offset of each segment's data */
    uint32_t image_len;                            /* including checksum and appended hash */
    uint8_t image_digest[32];                      /* appended SHA-256, when there is one */
} esp_image_metadata_t;

typedef enum {
    ESP_IMAGE_VERIFY,
    ESP_IMAGE_VERIFY_SILENT,
    ESP_IMAGE_LOAD,
    ESP_IMAGE_LOAD_NO_VALIDATE,
} esp_image_load_mode_t;

/*
 * Verifies the app image at part (ESP_IMAGE_VERIFY logs what fails, _SILENT does not; the load
 * modes verify too, nothing is loaded on the host). Fills *data (zeroed on failure).
 * Returns ESP_OK, ESP_ERR_IMAGE_INVALID, ESP_ERR_IMAGE_FLASH_FAIL, ESP_ERR_INVALID_ARG.
 */
esp_err_t esp_image_verify(esp_image_load_mode_t mode, const esp_partition_pos_t *part,
                           esp_image_metadata_t *data);

/* The header and segments of the image at part, as esp_image_verify fills them. */
esp_err_t esp_image_get_metadata(const esp_partition_pos_t *part, esp_image_metadata_t *metadata);

/* Verifies the bootloader image at ESP_BOOTLOADER_OFFSET; *length receives its length. */
esp_err_t esp_image_verify_bootloader(uint32_t *length);

/* Flash size in bytes named by an image header's spi_size field (0 when unknown). */
int esp_image_get_flash_size(esp_image_flash_size_t app_flash_size);

#ifdef __cplusplus
}
#endif

#endif /* ESP_IMAGE_FORMAT_H */
