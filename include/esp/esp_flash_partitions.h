/* ESP-IDF otadata states (esp_flash_partitions.h). */
#ifndef ESP_FLASH_PARTITIONS_H
#define ESP_FLASH_PARTITIONS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ESP-IDF's enum has a value above INT_MAX; __extension__ keeps it without a pedantic error. */
__extension__ typedef enum {
    ESP_OTA_IMG_NEW = 0x0U,
    ESP_OTA_IMG_PENDING_VERIFY = 0x1U,
    ESP_OTA_IMG_VALID = 0x2U,
    ESP_OTA_IMG_INVALID = 0x3U,
    ESP_OTA_IMG_ABORTED = 0x4U,
    ESP_OTA_IMG_UNDEFINED = 0xFFFFFFFFU,
} esp_ota_img_states_t;

#define ESP_BOOTLOADER_DIGEST_OFFSET 0x0
#define ESP_PARTITION_TABLE_MAX_LEN 0xC00

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_PARTITIONS_H */
