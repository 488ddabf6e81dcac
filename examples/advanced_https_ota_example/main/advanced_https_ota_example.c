/*
 * advanced_https_ota_example: the esp_https_ota step API — begin, read the new image's
 * description, check it, perform until done, finish — with OTA events, optional partial (Range)
 * download and optional resumption across resets (progress kept in NVS). Behaviour and log lines
 * as ESP-IDF's examples/system/ota/advanced_https_ota.
 *
 * Configuration (main/Kconfig.projbuild): CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL ("FROM_STDIN"),
 * CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK, CONFIG_EXAMPLE_SKIP_VERSION_CHECK,
 * CONFIG_EXAMPLE_OTA_RECV_TIMEOUT, CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD,
 * CONFIG_EXAMPLE_HTTP_REQUEST_SIZE, CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION, CONFIG_EXAMPLE_OTA_BUF_SIZE;
 * and the bootloader's CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK.
 * The server certificate is server_certs/ca_cert.pem, embedded by the build.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esp_efuse.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"

#define OTA_URL_SIZE 256
#define NVS_NAMESPACE_OTA_RESUMPTION "ota_resumption"
#define NVS_KEY_OTA_WR_LENGTH "nvs_ota_wr_len"
#define NVS_KEY_OTA_URL "nvs_ota_url"

static const char *TAG = "advanced_https_ota_example";

/* The server's root certificate, linked in from server_certs/ca_cert.pem (EMBED_TXTFILES). */
extern const uint8_t server_cert_pem_start[] asm("_binary_ca_cert_pem_start");
extern const uint8_t server_cert_pem_end[] asm("_binary_ca_cert_pem_end");

void app_main(void);

static void event_handler(void *arg, esp_event_base_t event_base, int32_t event_id,
                          void *event_data)
{
    (void)arg;
    if (event_base != ESP_HTTPS_OTA_EVENT) {
        return;
    }
    switch (event_id) {
    case ESP_HTTPS_OTA_START:
        ESP_LOGI(TAG, "OTA started");
        break;
    case ESP_HTTPS_OTA_CONNECTED:
        ESP_LOGI(TAG, "Connected to server");
        break;
    case ESP_HTTPS_OTA_GET_IMG_DESC:
        ESP_LOGI(TAG, "Reading Image Description");
        break;
    case ESP_HTTPS_OTA_VERIFY_CHIP_ID:
        ESP_LOGI(TAG, "Verifying chip id of new image: %d", *(uint16_t *)event_data);
        break;
    case ESP_HTTPS_OTA_VERIFY_CHIP_REVISION:
        ESP_LOGI(TAG, "Verifying chip revision of new image: %d", *(uint16_t *)event_data);
        break;
    case ESP_HTTPS_OTA_DECRYPT_CB:
        ESP_LOGI(TAG, "Callback to decrypt function");
        break;
    case ESP_HTTPS_OTA_WRITE_FLASH:
        ESP_LOGD(TAG, "Writing to flash: %d written", *(int *)event_data);
        break;
    case ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION:
        ESP_LOGI(TAG, "Boot partition updated. Next Partition: %d", *(int *)event_data);
        break;
    case ESP_HTTPS_OTA_FINISH:
        ESP_LOGI(TAG, "OTA finish");
        break;
    case ESP_HTTPS_OTA_ABORT:
        ESP_LOGI(TAG, "OTA abort");
        break;
    default:
        break;
    }
}

static esp_err_t validate_image_header(const esp_app_desc_t *new_app_info)
{
    if (new_app_info == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_app_desc_t running_app_info = {0};
    if (esp_ota_get_partition_description(running, &running_app_info) == ESP_OK) {
        ESP_LOGI(TAG, "Running firmware version: %s", running_app_info.version);
    }
#ifndef CONFIG_EXAMPLE_SKIP_VERSION_CHECK
    if (memcmp(new_app_info->version, running_app_info.version, sizeof(new_app_info->version)) ==
        0) {
        ESP_LOGW(TAG, "Current running version is the same as a new. We will not continue the "
                      "update.");
        return ESP_FAIL;
    }
#endif
#ifdef CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    const uint32_t hw_sec_version = esp_efuse_read_secure_version();
    if (new_app_info->secure_version < hw_sec_version) {
        ESP_LOGW(TAG,
                 "New firmware security version is less than eFuse programmed, %" PRIu32
                 " < %" PRIu32,
                 new_app_info->secure_version, hw_sec_version);
        return ESP_FAIL;
    }
#endif
    return ESP_OK;
}

static esp_err_t http_client_init_cb(esp_http_client_handle_t http_client)
{
    (void)http_client;
    return ESP_OK;
}

/* Bytes already written by an interrupted download of the same URL, from NVS (0 if none). */
static size_t saved_progress(nvs_handle_t nvs, const char *url)
{
    uint16_t kib = 0;
    char saved_url[OTA_URL_SIZE] = {0};
    size_t url_len = sizeof(saved_url);
    if (nvs_get_u16(nvs, NVS_KEY_OTA_WR_LENGTH, &kib) != ESP_OK ||
        nvs_get_str(nvs, NVS_KEY_OTA_URL, saved_url, &url_len) != ESP_OK ||
        strcmp(saved_url, url) != 0) {
        return 0;
    }
    return (size_t)kib * 1024;
}

static void save_progress(nvs_handle_t nvs, const char *url, int bytes_written, bool *url_saved)
{
    uint16_t kib = (uint16_t)(bytes_written / 1024);
    if (nvs_set_u16(nvs, NVS_KEY_OTA_WR_LENGTH, kib) != ESP_OK) {
        ESP_LOGE(TAG, "Failed to save OTA progress to NVS");
        return;
    }
    if (kib != 0 && !*url_saved) {
        if (nvs_set_str(nvs, NVS_KEY_OTA_URL, url) == ESP_OK) {
            *url_saved = true;
        }
    }
    nvs_commit(nvs);
}

static void advanced_ota_example_task(void *arg)
{
    (void)arg;
    ESP_LOGI(TAG, "Starting Advanced OTA example");

    esp_http_client_config_t config = {
        .url = CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL,
        .cert_pem = (const char *)server_cert_pem_start,
        .timeout_ms = CONFIG_EXAMPLE_OTA_RECV_TIMEOUT,
        .keep_alive_enable = true,
        .buffer_size = CONFIG_EXAMPLE_OTA_BUF_SIZE,
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

#ifdef CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION
    bool resumption = true;
#else
    bool resumption = false;
#endif
    esp_https_ota_config_t ota_config = {
        .http_config = &config,
        .http_client_init_cb = http_client_init_cb,
#ifdef CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD
        .partial_http_download = true,
        .max_http_request_size = CONFIG_EXAMPLE_HTTP_REQUEST_SIZE,
#endif
        .ota_resumption = resumption,
    };

    nvs_handle_t nvs = 0;
    bool url_saved = false;
    if (resumption) {
        if (nvs_open(NVS_NAMESPACE_OTA_RESUMPTION, NVS_READWRITE, &nvs) != ESP_OK) {
            ESP_LOGE(TAG, "Failed to open NVS namespace %s", NVS_NAMESPACE_OTA_RESUMPTION);
            resumption = false;
        } else {
            ota_config.ota_image_bytes_written = saved_progress(nvs, config.url);
            url_saved = ota_config.ota_image_bytes_written > 0;
        }
    }

    esp_https_ota_handle_t https_ota_handle = NULL;
    esp_err_t err = esp_https_ota_begin(&ota_config, &https_ota_handle);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "ESP HTTPS OTA Begin failed");
        vTaskDelete(NULL);
    }

    esp_app_desc_t app_desc = {0};
    err = esp_https_ota_get_img_desc(https_ota_handle, &app_desc);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_https_ota_get_img_desc failed");
        goto ota_end;
    }
    err = validate_image_header(&app_desc);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "image header verification failed");
        goto ota_end;
    }

    for (;;) {
        err = esp_https_ota_perform(https_ota_handle);
        if (err != ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
            break;
        }
        int len_read = esp_https_ota_get_image_len_read(https_ota_handle);
        ESP_LOGD(TAG, "Image bytes read: %d", len_read);
        if (resumption) {
            save_progress(nvs, config.url, len_read, &url_saved);
        }
    }

    if (!esp_https_ota_is_complete_data_received(https_ota_handle)) {
        ESP_LOGE(TAG, "Complete data was not received.");
    } else {
        if (resumption) {
            nvs_erase_all(nvs);
            nvs_commit(nvs);
            nvs_close(nvs);
        }
        esp_err_t ota_finish_err = esp_https_ota_finish(https_ota_handle);
        if (err == ESP_OK && ota_finish_err == ESP_OK) {
            ESP_LOGI(TAG, "ESP_HTTPS_OTA upgrade successful. Rebooting ...");
            vTaskDelay(1000 / portTICK_PERIOD_MS);
            esp_restart();
        }
        if (ota_finish_err == ESP_ERR_OTA_VALIDATE_FAILED) {
            ESP_LOGE(TAG, "Image validation failed, image is corrupted");
        }
        ESP_LOGE(TAG, "ESP_HTTPS_OTA upgrade failed 0x%x", ota_finish_err);
        vTaskDelete(NULL);
    }

ota_end:
    esp_https_ota_abort(https_ota_handle);
    ESP_LOGE(TAG, "ESP_HTTPS_OTA upgrade failed");
    vTaskDelete(NULL);
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
    ESP_ERROR_CHECK(
        esp_event_handler_register(ESP_HTTPS_OTA_EVENT, ESP_EVENT_ANY_ID, &event_handler, NULL));
    ESP_ERROR_CHECK(example_connect());

#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    /* A working network connection is this example's proof that the new app is good. */
    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_ota_img_states_t ota_state;
    if (esp_ota_get_state_partition(running, &ota_state) == ESP_OK &&
        ota_state == ESP_OTA_IMG_PENDING_VERIFY) {
        if (esp_ota_mark_app_valid_cancel_rollback() == ESP_OK) {
            ESP_LOGI(TAG, "App is valid, rollback cancelled successfully");
        } else {
            ESP_LOGE(TAG, "Failed to cancel rollback");
        }
    }
#endif
    esp_wifi_set_ps(WIFI_PS_NONE);

    xTaskCreate(&advanced_ota_example_task, "advanced_ota_example_task", 1024 * 8, NULL, 5, NULL);
}
