/*
 * partitions_ota: OTA of the app, the bootloader, the partition table and a data partition with
 * esp_https_ota's staging / final partitions. Behaviour and log lines as ESP-IDF's
 * examples/system/ota/partitions_ota. What is updated follows from the file name in the URL:
 *
 *   partitions_ota.bin   the app (next OTA slot, boot partition switched)
 *   bootloader.bin       the bootloader: the "safe" path on chips with a recovery bootloader
 *                        (a backup copy in the recovery slot, download straight into the
 *                        primary), else the "unsafe" path (stage, then copy over the primary)
 *   partition-table.bin  the partition table: staged in the passive app slot, then either copied
 *                        over the table as ESP-IDF does (unsafe), or, with
 *                        CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET, committed with otakit's
 *                        power-safe update (backup copy first)
 *   storage.bin          the data partition "storage" (finalize_with_copy)
 *
 * Configuration: CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL ("FROM_STDIN" in the tests) and
 * CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK (main/Kconfig.projbuild); CONFIG_PARTITION_TABLE_OFFSET,
 * CONFIG_BOOTLOADER_OFFSET_IN_FLASH, CONFIG_BOOTLOADER_RECOVERY_ENABLE,
 * CONFIG_BOOTLOADER_RECOVERY_OFFSET, CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE and otakit's
 * CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET (undefined, so 0, in an ESP-IDF build). The server
 * certificate is server_certs/ca_cert.pem, embedded by the build.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_efuse.h"
#include "esp_event.h"
#include "esp_flash.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"
#if CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET
#include "otakit_ota_ext.h"
#endif

#define OTA_URL_SIZE 256
#define PARTITION_TABLE_SIZE 0x1000
#define STORAGE_CHECK "7296406769363431"

static const char *TAG = "ota_example";

/* The server's root certificate, linked in from server_certs/ca_cert.pem (EMBED_TXTFILES). */
extern const uint8_t server_cert_pem_start[] asm("_binary_ca_cert_pem_start");
extern const uint8_t server_cert_pem_end[] asm("_binary_ca_cert_pem_end");

void app_main(void);

static uint32_t table_offset(void)
{
    return CONFIG_PARTITION_TABLE_OFFSET;
}

static uint32_t bootloader_offset(void)
{
    return CONFIG_BOOTLOADER_OFFSET_IN_FLASH;
}

/* Finds the partition of this type/subtype, or registers one at offset. */
static esp_err_t register_partition(size_t offset, size_t size, const char *label,
                                    esp_partition_type_t type, esp_partition_subtype_t subtype,
                                    const esp_partition_t **partition)
{
    *partition = esp_partition_find_first(type, subtype, NULL);
    if (*partition == NULL) {
        esp_err_t err =
            esp_partition_register_external(NULL, offset, size, label, type, subtype, partition);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "Failed to register %s partition (err=0x%x)", "PrimaryBTLDR", err);
            return err;
        }
    }
    ESP_LOGI(TAG, "Use <%s> partition (0x%08" PRIx32 ")", (*partition)->label,
             (*partition)->address);
    return ESP_OK;
}

/* The first gap in the flash layout of at least size bytes, at or after the table's sector. */
static uint32_t find_free_space(uint32_t size)
{
    uint32_t from = table_offset() + PARTITION_TABLE_SIZE;
    uint32_t flash_size = 0;
    esp_flash_get_size(NULL, &flash_size);
    uint32_t starts[128];
    uint32_t ends[128];
    int n = 0;
    esp_partition_iterator_t it =
        esp_partition_find(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL);
    for (; it != NULL && n < 128; it = esp_partition_next(it)) {
        const esp_partition_t *p = esp_partition_get(it);
        starts[n] = p->address;
        ends[n] = p->address + p->size;
        n++;
    }
    esp_partition_iterator_release(it);
    for (int i = 1; i < n; i++) { /* sort by address */
        for (int k = i; k > 0 && starts[k] < starts[k - 1]; k--) {
            uint32_t s = starts[k];
            uint32_t e = ends[k];
            starts[k] = starts[k - 1];
            ends[k] = ends[k - 1];
            starts[k - 1] = s;
            ends[k - 1] = e;
        }
    }
    uint32_t cursor = from;
    for (int i = 0; i < n; i++) {
        if (ends[i] <= cursor) {
            continue;
        }
        if (starts[i] >= cursor + size) {
            return cursor;
        }
        cursor = ends[i] > cursor ? ends[i] : cursor;
    }
    return cursor + size <= flash_size ? cursor : 0;
}

#ifdef CONFIG_BOOTLOADER_RECOVERY_ENABLE
static esp_err_t update_bootloader_safe(esp_https_ota_config_t *ota_config)
{
    uint32_t recovery_at = CONFIG_BOOTLOADER_RECOVERY_OFFSET;
    ESP_LOGI(TAG, "Safe OTA bootloader update: This chip version supports the recovery bootloader "
                  "feature.");
    ESP_LOGI(TAG, "The current bootloader is copied to the recovery bootloader partition first.");
    ESP_LOGI(TAG, "If the new bootloader is interrupted or corrupted, the ROM loads the recovery "
                  "bootloader.");
    uint32_t size = table_offset() - bootloader_offset();
    const esp_partition_t *primary = NULL;
    const esp_partition_t *recovery = NULL;
    esp_err_t err =
        register_partition(bootloader_offset(), size, "PrimaryBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                           ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY, &primary);
    if (err == ESP_OK) {
        err = register_partition(recovery_at, size, "RecoveryBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                                 ESP_PARTITION_SUBTYPE_BOOTLOADER_RECOVERY, &recovery);
    }
    if (err == ESP_OK && recovery->address != recovery_at) {
        ESP_LOGE(TAG, "Recovery bootloader partition at 0x%" PRIx32 ", configured 0x%" PRIx32,
                 recovery->address, recovery_at);
        err = ESP_ERR_INVALID_STATE;
    }
    if (err == ESP_OK) {
        err = esp_efuse_set_recovery_bootloader_offset(recovery_at);
    }
    if (err == ESP_OK) {
        ESP_LOGI(TAG, "Backup, copy <%s> -> <%s>", primary->label, recovery->label);
        err = esp_partition_copy(recovery, 0, primary, 0, primary->size);
    }
    if (err == ESP_OK) {
        ota_config->partition.staging = primary;
        ota_config->partition.final = primary;
        ota_config->partition.finalize_with_copy = false;
        err = esp_https_ota(ota_config);
    }
    if (primary != NULL) {
        esp_partition_deregister_external(primary);
    }
    if (recovery != NULL) {
        esp_partition_deregister_external(recovery);
    }
    return err;
}
#else
/* The passive slot holds a confirmed app the device could roll back to. */
static bool passive_slot_is_valid(const esp_partition_t *slot)
{
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    esp_ota_img_states_t st;
    return esp_ota_get_state_partition(slot, &st) == ESP_OK && st == ESP_OTA_IMG_VALID;
#else
    (void)slot;
    return false;
#endif
}

static esp_err_t update_bootloader_unsafe(esp_https_ota_config_t *ota_config)
{
    ESP_LOGW(TAG, "Unsafe OTA bootloader update: This chip version does not support the recovery "
                  "bootloader feature.");
    ESP_LOGW(TAG, "If a failure or power loss occurs during the final copy, the chip may become "
                  "unbootable.");
    const esp_partition_t *primary = NULL;
    uint32_t size = table_offset() - bootloader_offset();
    esp_err_t err =
        register_partition(bootloader_offset(), size, "PrimaryBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                           ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY, &primary);
    if (err != ESP_OK) {
        return err;
    }
    const esp_partition_t *staging = esp_ota_get_next_update_partition(NULL);
    const esp_partition_t *temp = NULL;
    if (staging != NULL && passive_slot_is_valid(staging)) {
        ESP_LOGW(TAG,
                 "Passive OTA app partition <%s> contains a valid app image eligible for "
                 "rollback.",
                 staging->label);
        uint32_t at = find_free_space(size);
        if (at == 0 || esp_partition_register_external(
                           NULL, at, size, "OtaBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                           ESP_PARTITION_SUBTYPE_BOOTLOADER_OTA, &temp) != ESP_OK) {
            ESP_LOGE(TAG, "No unallocated space for a temporary OTA bootloader partition");
            return ESP_ERR_NOT_FOUND;
        }
        ESP_LOGW(TAG,
                 "To avoid overwriting the passive app partition, using the unallocated "
                 "space on the flash to create a temporary OTA bootloader partition <%s>",
                 temp->label);
        staging = temp;
    }
    ota_config->partition.staging = staging;
    ota_config->partition.final = primary;
    ota_config->partition.finalize_with_copy = false;
    err = esp_https_ota(ota_config);
    if (err == ESP_OK) {
        ESP_LOGW(TAG, "Ensure stable power supply! Loss of power at this stage leads to a chip "
                      "bricking");
        ESP_LOGI(TAG, "Copy from <%s> staging partition to <%s>...", staging->label,
                 primary->label);
        err = esp_partition_copy(primary, 0, staging, 0, primary->size);
        if (err != ESP_OK) {
            ESP_LOGE(TAG,
                     "Failed to copy partition to Primary bootloader (err=0x%x). Bootloader "
                     "likely corrupted. Device will not be able to boot again!",
                     err);
        }
    }
    esp_partition_deregister_external(primary);
    if (temp != NULL) {
        esp_partition_deregister_external(temp);
    }
    return err;
}
#endif


static esp_err_t update_partition_table(esp_https_ota_config_t *ota_config)
{
    const esp_partition_t *primary = NULL;
    esp_err_t err = register_partition(table_offset(), PARTITION_TABLE_SIZE, "PrimaryPrtTable",
                                       ESP_PARTITION_TYPE_PARTITION_TABLE,
                                       ESP_PARTITION_SUBTYPE_PARTITION_TABLE_PRIMARY, &primary);
    if (err != ESP_OK) {
        return err;
    }
    const esp_partition_t *staging = esp_ota_get_next_update_partition(NULL);
    ota_config->partition.staging = staging;
    ota_config->partition.final = primary;
    ota_config->partition.finalize_with_copy = false;
    err = esp_https_ota(ota_config);
    if (err == ESP_OK) {
#if CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET
        err = otakit_partition_table_update_safe(staging);
#else
        ESP_LOGW(TAG, "Ensure stable power supply! Loss of power at this stage leads to a chip "
                      "bricking.");
        ESP_LOGI(TAG, "Copy from <%s> staging partition to <%s>...", staging->label,
                 primary->label);
        err = esp_partition_copy(primary, 0, staging, 0, PARTITION_TABLE_SIZE);
        if (err != ESP_OK) {
            ESP_LOGE(TAG,
                     "Failed to copy partition to Primary partition table (err=0x%x). "
                     "Partition table likely corrupted. Device will not be able to boot "
                     "again!",
                     err);
        }
#endif
    }
    esp_partition_deregister_external(primary);
    return err;
}

static esp_err_t update_storage(esp_https_ota_config_t *ota_config)
{
    const esp_partition_t *storage =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, "storage");
    if (storage == NULL) {
        ESP_LOGE(TAG, "No data partition labelled \"storage\"");
        return ESP_ERR_NOT_FOUND;
    }
    ota_config->partition.staging = NULL;
    ota_config->partition.final = storage;
    ota_config->partition.finalize_with_copy = true;
    esp_err_t err = esp_https_ota(ota_config);
    if (err != ESP_OK) {
        return err;
    }
    char buf[sizeof(STORAGE_CHECK)] = {0};
    err = esp_partition_read(storage, 0, buf, strlen(STORAGE_CHECK));
    if (err == ESP_OK) {
        ESP_LOGI(TAG, "storage: %s", buf);
        if (memcmp(buf, STORAGE_CHECK, strlen(STORAGE_CHECK)) != 0) {
            ESP_LOGE(TAG, "storage does not hold the expected data");
            abort();
        }
    }
    return err;
}

static esp_err_t ota_update_partitions(esp_https_ota_config_t *ota_config)
{
    const char *url = ota_config->http_config->url;
    if (strstr(url, "partitions_ota.bin") != NULL) {
        return esp_https_ota(ota_config);
    }
    if (strstr(url, "bootloader.bin") != NULL) {
#ifdef CONFIG_BOOTLOADER_RECOVERY_ENABLE
        return update_bootloader_safe(ota_config);
#else
        return update_bootloader_unsafe(ota_config);
#endif
    }
    if (strstr(url, "partition-table.bin") != NULL) {
        return update_partition_table(ota_config);
    }
    if (strstr(url, "storage.bin") != NULL) {
        return update_storage(ota_config);
    }
    ESP_LOGE(TAG, "Unable to load this file (%s). The final partition is unknown.", url);
    return ESP_ERR_NOT_SUPPORTED;
}

static void ota_task(void *arg)
{
    (void)arg;
    ESP_LOGI(TAG, "Starting OTA example task");
    esp_http_client_config_t config = {
        .url = CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL,
        .cert_pem = (const char *)server_cert_pem_start,
        .keep_alive_enable = true,
    };
#ifdef CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN
    char url_buf[OTA_URL_SIZE];
    example_configure_stdin_stdout();
    if (fgets(url_buf, sizeof(url_buf), stdin) == NULL) {
        ESP_LOGE(TAG, "No firmware URL on the console");
        vTaskDelete(NULL);
    }
    url_buf[strcspn(url_buf, "\r\n")] = '\0';
    config.url = url_buf;
#endif
#ifdef CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK
    config.skip_cert_common_name_check = true;
#endif
    esp_https_ota_config_t ota_config = {
        .http_config = &config,
    };
    ESP_LOGI(TAG, "Attempting to download update from %s", config.url);
    esp_err_t err = ota_update_partitions(&ota_config);
    if (err == ESP_OK) {
        ESP_LOGI(TAG, "OTA Succeed, Rebooting...");
        esp_restart();
    }
    ESP_LOGE(TAG, "Firmware upgrade failed");
    for (;;) {
        vTaskDelay(1000 / portTICK_PERIOD_MS);
    }
}

void app_main(void)
{
    ESP_LOGI(TAG, "OTA example app_main start");
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());
    xTaskCreate(&ota_task, "ota_task", 8192, NULL, 5, NULL);
}
