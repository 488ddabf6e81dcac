/* otakit's extensions to the ESP-IDF OTA API. */
#include "otakit_ota_ext.h"

#include "esp_internal.h"
#include "esp_log.h"
#include "ota/ota_ptable.h"

static const char *TAG = "esp_ota_ops";

esp_err_t otakit_partition_table_update_safe(const esp_partition_t *staging)
{
    if (staging == NULL || !esp_dev_installed()) {
        return ESP_ERR_INVALID_ARG;
    }
    const esp_dev_config_t *cfg = esp_internal_config();
    uint32_t table = (uint32_t)ota_sdkconfig_int(cfg->sdkconfig, "PARTITION_TABLE_OFFSET", 0x8000);
    uint32_t backup =
        (uint32_t)ota_sdkconfig_int(cfg->sdkconfig, "OTAKIT_PARTITION_TABLE_BACKUP_OFFSET", 0);
    if (backup == 0) {
        ESP_LOGE(TAG, "no CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET: the safe table update needs "
                      "a backup sector");
        return ESP_ERR_NOT_SUPPORTED;
    }
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    esp_err_t err = esp_partition_read(staging, 0, buf, sizeof(buf));
    if (err != ESP_OK) {
        return err;
    }
    ESP_LOGI(TAG,
             "Power-safe partition table update: backup copy at 0x%x first, then the table "
             "at 0x%x",
             (unsigned)backup, (unsigned)table);
    ota_diag_t diag = {{0}};
    int rc = ota_ptable_update_safe(esp_internal_flash(), esp_internal_crypto(), table, backup, buf,
                                    &diag);
    if (rc == OTA_OK) {
        return ESP_OK;
    }
    ESP_LOGE(TAG, "Partition table update failed: %s", ota_diag_why(&diag, rc));
    return rc == OTA_ERR_CORRUPT ? ESP_ERR_OTA_VALIDATE_FAILED : esp_err_from_ota(rc);
}
