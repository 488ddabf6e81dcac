/*
 * ESP-IDF eFuse calls for anti-rollback (esp_efuse.h) over the installed device's eFuse hooks.
 * Without hooks the counter reads 0 and raising it burns nothing.
 */
#include "esp_efuse.h"
#include "esp_flash_encrypt.h"
#include "esp_log.h"

#include "esp_dev_priv.h"

uint32_t esp_efuse_read_secure_version(void)
{
    uint32_t v = 0;
    esp_dev_lock();
    if (ota_ops_secure_version(esp_dev_ops(), &v) != OTA_OK) {
        v = 0;
    }
    esp_dev_unlock();
    return v;
}

bool esp_efuse_check_secure_version(uint32_t secure_version)
{
    return secure_version >= esp_efuse_read_secure_version();
}

esp_err_t esp_efuse_update_secure_version(uint32_t secure_version)
{
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(ota_ops_raise_secure_version(esp_dev_ops(), secure_version));
    esp_dev_unlock();
    return ret;
}

uint32_t esp_efuse_get_recovery_bootloader_offset(void)
{
    uint32_t off = 0;
    esp_dev_lock();
    const ota_efuse_t *e = esp_dev_state()->installed ? esp_dev_state()->cfg.efuse : NULL;
    if (e == NULL || e->read_recovery_offset == NULL ||
        e->read_recovery_offset(e->ctx, &off) != OTA_OK) {
        off = 0;
    }
    esp_dev_unlock();
    return off;
}

esp_err_t esp_efuse_set_recovery_bootloader_offset(const uint32_t recovery_offset)
{
    if (recovery_offset == 0 || recovery_offset % 0x1000u != 0) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t ret;
    esp_dev_lock();
    const ota_efuse_t *e = esp_dev_state()->installed ? esp_dev_state()->cfg.efuse : NULL;
    uint32_t cur = 0;
    if (e == NULL || e->read_recovery_offset == NULL || e->write_recovery_offset == NULL) {
        ret = ESP_ERR_NOT_SUPPORTED;
    } else if (e->read_recovery_offset(e->ctx, &cur) != OTA_OK) {
        ret = ESP_FAIL;
    } else if (cur == recovery_offset) {
        ret = ESP_OK;
    } else if (cur != 0) {
        ret = ESP_ERR_INVALID_STATE; /* eFuse bits cannot be cleared */
    } else {
        ret = esp_err_from_ota(e->write_recovery_offset(e->ctx, recovery_offset));
    }
    esp_dev_unlock();
    return ret;
}

bool esp_flash_encryption_enabled(void)
{
    esp_dev_lock();
    bool on = esp_dev_state()->installed && esp_dev_state()->enc_on;
    esp_dev_unlock();
    return on;
}

esp_flash_enc_mode_t esp_get_flash_encryption_mode(void)
{
    return esp_flash_encryption_enabled() ? ESP_FLASH_ENC_MODE_DEVELOPMENT
                                          : ESP_FLASH_ENC_MODE_DISABLED;
}

void esp_flash_encryption_init_checks(void)
{
    if (esp_get_flash_encryption_mode() != ESP_FLASH_ENC_MODE_DEVELOPMENT) {
        return;
    }
    esp_dev_lock();
    const ota_sdkconfig_t *sdk = esp_dev_state()->cfg.sdkconfig;
    bool release = ota_sdkconfig_bool(sdk, "SECURE_FLASH_ENCRYPTION_MODE_RELEASE", false);
    esp_dev_unlock();
    if (release) {
        ESP_LOGE("flash_encrypt", "Flash encryption settings error: app is configured for "
                                  "RELEASE but efuses are set for DEVELOPMENT");
        ESP_LOGE("flash_encrypt", "Mismatch found in security options in bootloader menuconfig "
                                  "and efuse settings. Device is not secure.");
    } else {
        ESP_LOGW("flash_encrypt", "Flash encryption mode is DEVELOPMENT (not secure)");
    }
}
