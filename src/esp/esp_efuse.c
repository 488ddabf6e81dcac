/*
 * ESP-IDF eFuse calls for anti-rollback (esp_efuse.h) over the installed device's eFuse hooks.
 * Without hooks the counter reads 0 and raising it burns nothing.
 */
#include "esp_efuse.h"

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
