/*
 * The bootloader's configuration from its sdkconfig (host side): the CONFIG_* keys ESP-IDF's
 * bootloader is built with, read into the core's ota_boot_cfg_t.
 */
#ifndef OTA_BOOT_CFG_H
#define OTA_BOOT_CFG_H

#include "ota/ota_boot.h"
#include "ota/ota_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Fills *cfg from sdk (NULL = every key absent): PARTITION_TABLE_OFFSET (0x8000),
 * OTAKIT_PARTITION_TABLE_BACKUP_OFFSET (0 = none),
 * BOOTLOADER_APP_ROLLBACK_ENABLE, BOOTLOADER_APP_ANTI_ROLLBACK,
 * BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD (0 = the chip's width), BOOTLOADER_FACTORY_RESET,
 * BOOTLOADER_NUM_PIN_FACTORY_RESET (4), BOOTLOADER_FACTORY_RESET_PIN_HIGH,
 * BOOTLOADER_DATA_FACTORY_RESET ("nvs"), BOOTLOADER_OTA_DATA_ERASE, BOOTLOADER_APP_TEST,
 * BOOTLOADER_NUM_PIN_APP_TEST (18), BOOTLOADER_APP_TEST_PIN_HIGH, BOOTLOADER_HOLD_TIME_GPIO (5),
 * BOOTLOADER_SKIP_VALIDATE_ALWAYS, BOOTLOADER_SKIP_VALIDATE_ON_POWER_ON. String fields point into
 * sdk (or static defaults): keep sdk alive while cfg is used.
 */
void ota_boot_cfg_from_sdkconfig(const ota_sdkconfig_t *sdk, ota_boot_cfg_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* OTA_BOOT_CFG_H */
