/* The bootloader's CONFIG_* keys into the core's boot configuration. */
#include "ota/ota_boot_cfg.h"

#include <string.h>

void ota_boot_cfg_from_sdkconfig(const ota_sdkconfig_t *sdk, ota_boot_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->table_offset = (uint32_t)ota_sdkconfig_int(sdk, "PARTITION_TABLE_OFFSET", 0x8000);
    cfg->table_backup_offset =
        (uint32_t)ota_sdkconfig_int(sdk, "OTAKIT_PARTITION_TABLE_BACKUP_OFFSET", 0);
    cfg->rollback = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_ROLLBACK_ENABLE", false);
    cfg->anti_rollback = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_ANTI_ROLLBACK", false);
    cfg->secure_version_bits =
        (uint32_t)ota_sdkconfig_int(sdk, "BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD", 0);
    cfg->factory_reset = ota_sdkconfig_bool(sdk, "BOOTLOADER_FACTORY_RESET", false);
    cfg->factory_reset_pin = (int)ota_sdkconfig_int(sdk, "BOOTLOADER_NUM_PIN_FACTORY_RESET", 4);
    cfg->factory_reset_high = ota_sdkconfig_bool(sdk, "BOOTLOADER_FACTORY_RESET_PIN_HIGH", false);
    cfg->data_factory_reset = ota_sdkconfig_str(sdk, "BOOTLOADER_DATA_FACTORY_RESET", "nvs");
    cfg->ota_data_erase = ota_sdkconfig_bool(sdk, "BOOTLOADER_OTA_DATA_ERASE", false);
    cfg->app_test = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_TEST", false);
    cfg->test_pin = (int)ota_sdkconfig_int(sdk, "BOOTLOADER_NUM_PIN_APP_TEST", 18);
    cfg->test_high = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_TEST_PIN_HIGH", false);
    cfg->hold_time_s = (uint32_t)ota_sdkconfig_int(sdk, "BOOTLOADER_HOLD_TIME_GPIO", 5);
    cfg->skip_validate_always = ota_sdkconfig_bool(sdk, "BOOTLOADER_SKIP_VALIDATE_ALWAYS", false);
    cfg->skip_validate_on_power_on =
        ota_sdkconfig_bool(sdk, "BOOTLOADER_SKIP_VALIDATE_ON_POWER_ON", false);
    if (ota_sdkconfig_bool(sdk, "SECURE_BOOT_V2_ENABLED", false)) {
        cfg->secure_boot_v2 = ota_sdkconfig_bool(sdk, "SECURE_SIGNED_APPS_ECDSA_V2_SCHEME", false)
                                  ? OTA_SIG_SCHEME_V2_ECDSA
                                  : OTA_SIG_SCHEME_V2_RSA;
    }
}
