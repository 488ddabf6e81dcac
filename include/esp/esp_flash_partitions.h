/* ESP-IDF otadata states (esp_flash_partitions.h). */
#ifndef ESP_FLASH_PARTITIONS_H
#define ESP_FLASH_PARTITIONS_H

#include <stdint.h>

#include "otakit_sdkconfig.h"

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
#define ESP_PARTITION_MAGIC 0x50AA
#define ESP_PARTITION_MAGIC_MD5 0xEBEB
#define PART_TYPE_APP 0x00
#define PART_TYPE_DATA 0x01
#define PART_TYPE_BOOTLOADER 0x02
#define PART_TYPE_PARTITION_TABLE 0x03
#define PART_TYPE_END 0xff
#define PART_SUBTYPE_FACTORY 0x00
#define PART_SUBTYPE_OTA_FLAG 0x10
#define PART_SUBTYPE_OTA_MASK 0x0f
#define PART_SUBTYPE_TEST 0x20
#define PART_SUBTYPE_DATA_OTA 0x00
#define PART_SUBTYPE_DATA_RF 0x01
#define PART_SUBTYPE_DATA_WIFI 0x02
#define PART_SUBTYPE_DATA_NVS_KEYS 0x04
#define PART_SUBTYPE_DATA_EFUSE_EM 0x05
#define PART_SUBTYPE_DATA_TEE_OTA 0x90
#define PART_SUBTYPE_END 0xff
#define PART_FLAG_ENCRYPTED (1 << 0)
#define PART_FLAG_READONLY (1 << 1)

/* Flash offsets of the bootloader and the partition table: the build's CONFIG_ values when an
 * sdkconfig.h is compiled in, else the running device's (its chip and its table offset). */
uint32_t otakit_bootloader_offset(void);
uint32_t otakit_partition_table_offset(void);
#ifdef CONFIG_BOOTLOADER_OFFSET_IN_FLASH
#define ESP_BOOTLOADER_OFFSET CONFIG_BOOTLOADER_OFFSET_IN_FLASH
#else
#define ESP_BOOTLOADER_OFFSET otakit_bootloader_offset()
#endif
#define ESP_PRIMARY_BOOTLOADER_OFFSET ESP_BOOTLOADER_OFFSET
#ifdef CONFIG_PARTITION_TABLE_OFFSET
#define ESP_PARTITION_TABLE_OFFSET CONFIG_PARTITION_TABLE_OFFSET
#else
#define ESP_PARTITION_TABLE_OFFSET otakit_partition_table_offset()
#endif
#define ESP_PRIMARY_PARTITION_TABLE_OFFSET ESP_PARTITION_TABLE_OFFSET
#define ESP_PARTITION_TABLE_SIZE 0x1000 /* the sector the table occupies */
#define ESP_BOOTLOADER_SIZE (ESP_PARTITION_TABLE_OFFSET - ESP_BOOTLOADER_OFFSET)

/* One otadata entry (32 bytes), as stored in each of the otadata partition's two sectors. */
typedef struct {
    uint32_t ota_seq;
    uint8_t seq_label[20];
    uint32_t ota_state;
    uint32_t crc; /* CRC-32 (little-endian, ESP-IDF's esp_rom_crc32_le) of ota_seq */
} esp_ota_select_entry_t;

/* Where a partition lies in flash. */
typedef struct {
    uint32_t offset;
    uint32_t size;
} esp_partition_pos_t;

/* One partition table entry (32 bytes) as stored in flash. */
typedef struct {
    uint16_t magic;
    uint8_t type;
    uint8_t subtype;
    esp_partition_pos_t pos;
    uint8_t label[16];
    uint32_t flags;
} esp_partition_info_t;

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_PARTITIONS_H */
