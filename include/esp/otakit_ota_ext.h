/*
 * otakit's extensions to the ESP-IDF OTA API (not in ESP-IDF).
 */
#ifndef OTAKIT_OTA_EXT_H
#define OTAKIT_OTA_EXT_H

#include "esp_err.h"
#include "esp_partition.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Power-safe partition-table update (see include/ota/ota_ptable.h): takes the new table from the
 * first 0xC00 bytes of `staging` (verified first: the bootloader's rules and an MD5 row), writes
 * it with its commit record into the backup sector at CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET,
 * then over the table at CONFIG_PARTITION_TABLE_OFFSET. The bootloader must be built with the same
 * backup offset. A power cut at any point leaves a table the bootloader can boot with.
 * Returns ESP_OK; ESP_ERR_INVALID_ARG (NULL staging); ESP_ERR_NOT_SUPPORTED (no backup offset
 * configured); ESP_ERR_OTA_VALIDATE_FAILED (the staged table is not valid; nothing written);
 * ESP_ERR_FLASH_OP_FAIL.
 * The ESP-IDF way (esp_partition_copy onto the table sector) stays available and is unsafe: a
 * cut between its erase and its last write leaves a chip that cannot boot.
 */
esp_err_t otakit_partition_table_update_safe(const esp_partition_t *staging);

#ifdef __cplusplus
}
#endif

#endif /* OTAKIT_OTA_EXT_H */
