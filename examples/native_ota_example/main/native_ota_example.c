/*
 * native_ota_example: downloads a new app over HTTPS with esp_http_client and writes it with the
 * app_update API (esp_ota_begin / esp_ota_write / esp_ota_end / esp_ota_set_boot_partition).
 * Behaviour and log lines as ESP-IDF's examples/system/ota/native_ota_example.
 *
 * Configuration (main/Kconfig.projbuild): CONFIG_EXAMPLE_FIRMWARE_UPG_URL ("FROM_STDIN" reads it
 * from the console), CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK, CONFIG_EXAMPLE_SKIP_VERSION_CHECK,
 * CONFIG_EXAMPLE_GPIO_DIAGNOSTIC, CONFIG_EXAMPLE_OTA_RECV_TIMEOUT. The server certificate is
 * server_certs/ca_cert.pem, embedded by the build.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp_app_desc.h"
#include "esp_event.h"
#include "esp_flash_partitions.h"
#include "esp_http_client.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"

#define BUFFSIZE 1024
#define HASH_LEN 32
#define OTA_URL_SIZE 256

static const char *TAG = "native_ota_example";

/* The server's root certificate, linked in from server_certs/ca_cert.pem (EMBED_TXTFILES). */
extern const uint8_t server_cert_pem_start[] asm("_binary_ca_cert_pem_start");
extern const uint8_t server_cert_pem_end[] asm("_binary_ca_cert_pem_end");

/* Receive buffer, one byte longer so a chunk can be terminated. */
static char ota_write_data[BUFFSIZE + 1];

void app_main(void);

static void http_cleanup(esp_http_client_handle_t client)
{
    esp_http_client_close(client);
    esp_http_client_cleanup(client);
}

static void __attribute__((noreturn)) task_fatal_error(void)
{
    ESP_LOGE(TAG, "Exiting task due to fatal error...");
    (void)vTaskDelete(NULL);

    while (1) {
        ;
    }
}

static void __attribute__((noreturn)) infinite_loop(void)
{
    int i = 0;
    ESP_LOGI(TAG, "When a new firmware is available on the server, press the reset button to "
                  "download it");
    for (;;) {
        ESP_LOGI(TAG, "Waiting for a new firmware ... %d", ++i);
        vTaskDelay(2000 / portTICK_PERIOD_MS);
    }
}

static void print_sha256(const uint8_t *digest, const char *label)
{
    char hex[HASH_LEN * 2 + 1];
    for (int i = 0; i < HASH_LEN; i++) {
        snprintf(&hex[i * 2], 3, "%02x", digest[i]);
    }
    ESP_LOGI(TAG, "%s: %s", label, hex);
}

#ifdef CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN
/* The URL as one line typed on the console (the newline dropped); false when nothing came. */
static bool url_from_console(char *buf, size_t cap)
{
    example_configure_stdin_stdout();
    if (fgets(buf, (int)cap, stdin) == NULL) {
        ESP_LOGE(TAG, "No firmware URL on the console");
        return false;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}
#endif

/* Checks the new image's description; returns true when the update should go on. */
static bool new_version_wanted(const esp_app_desc_t *new_info, const esp_partition_t *running)
{
    ESP_LOGI(TAG, "New firmware version: %s", new_info->version);

    esp_app_desc_t running_info;
    if (esp_ota_get_partition_description(running, &running_info) == ESP_OK) {
        ESP_LOGI(TAG, "Running firmware version: %s", running_info.version);
    }

    const esp_partition_t *last_invalid = esp_ota_get_last_invalid_partition();
    esp_app_desc_t invalid_info;
    if (esp_ota_get_partition_description(last_invalid, &invalid_info) == ESP_OK) {
        ESP_LOGI(TAG, "Last invalid firmware version: %s", invalid_info.version);
    }

    if (last_invalid != NULL &&
        memcmp(invalid_info.version, new_info->version, sizeof(new_info->version)) == 0) {
        ESP_LOGW(TAG, "New version is the same as invalid version.");
        ESP_LOGW(TAG,
                 "Previously, there was an attempt to launch the firmware with %s version, "
                 "but it failed.",
                 invalid_info.version);
        ESP_LOGW(TAG, "The firmware has been rolled back to the previous version.");
        return false;
    }
#ifndef CONFIG_EXAMPLE_SKIP_VERSION_CHECK
    if (memcmp(new_info->version, running_info.version, sizeof(new_info->version)) == 0) {
        ESP_LOGW(TAG, "Current running version is the same as a new. We will not continue the "
                      "update.");
        return false;
    }
#endif
    return true;
}

static void ota_example_task(void *arg)
{
    (void)arg;
    esp_ota_handle_t update_handle = 0;
    const esp_partition_t *update_partition = NULL;

    ESP_LOGI(TAG, "Starting OTA example task");

    const esp_partition_t *configured = esp_ota_get_boot_partition();
    const esp_partition_t *running = esp_ota_get_running_partition();
    if (configured != running) {
        ESP_LOGW(TAG,
                 "Configured OTA boot partition at offset 0x%08x, but running from offset "
                 "0x%08x",
                 (unsigned)(configured ? configured->address : 0), (unsigned)running->address);
        ESP_LOGW(TAG, "(This can happen if either the OTA boot data or preferred boot image "
                      "become corrupted somehow.)");
    }
    ESP_LOGI(TAG, "Running partition type %d subtype %d (offset 0x%08x)", running->type,
             running->subtype, (unsigned)running->address);

    esp_http_client_config_t config = {
        .url = CONFIG_EXAMPLE_FIRMWARE_UPG_URL,
        .cert_pem = (const char *)server_cert_pem_start,
        .timeout_ms = CONFIG_EXAMPLE_OTA_RECV_TIMEOUT,
        .keep_alive_enable = true,
    };
#ifdef CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN
    char url_buf[OTA_URL_SIZE];
    if (!url_from_console(url_buf, sizeof(url_buf))) {
        task_fatal_error();
    }
    config.url = url_buf;
#endif
#ifdef CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK
    config.skip_cert_common_name_check = true;
#endif

    esp_http_client_handle_t client = esp_http_client_init(&config);
    if (client == NULL) {
        ESP_LOGE(TAG, "Failed to initialise HTTP connection");
        task_fatal_error();
    }
    esp_err_t err = esp_http_client_open(client, 0);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Failed to open HTTP connection: %s", esp_err_to_name(err));
        esp_http_client_cleanup(client);
        task_fatal_error();
    }
    esp_http_client_fetch_headers(client);

    update_partition = esp_ota_get_next_update_partition(NULL);
    if (update_partition == NULL) {
        ESP_LOGE(TAG, "Passive OTA partition not found");
        http_cleanup(client);
        task_fatal_error();
    }
    ESP_LOGI(TAG, "Writing to partition subtype %d at offset 0x%" PRIx32, update_partition->subtype,
             update_partition->address);

    int binary_file_length = 0;
    bool image_header_was_checked = false;
    for (;;) {
        int data_read = esp_http_client_read(client, ota_write_data, BUFFSIZE);
        if (data_read < 0) {
            ESP_LOGE(TAG, "Error: SSL data read error");
            http_cleanup(client);
            task_fatal_error();
        } else if (data_read > 0) {
            if (!image_header_was_checked) {
                const size_t desc_end = 24 + 8 + sizeof(esp_app_desc_t);
                if ((size_t)data_read <= desc_end) {
                    ESP_LOGE(TAG, "received package is not fit len");
                    http_cleanup(client);
                    task_fatal_error();
                }
                esp_app_desc_t new_info;
                memcpy(&new_info, &ota_write_data[24 + 8], sizeof(new_info));
                if (!new_version_wanted(&new_info, running)) {
                    http_cleanup(client);
                    infinite_loop();
                }
                image_header_was_checked = true;

                err = esp_ota_begin(update_partition, OTA_WITH_SEQUENTIAL_WRITES, &update_handle);
                if (err != ESP_OK) {
                    ESP_LOGE(TAG, "esp_ota_begin failed (%s)", esp_err_to_name(err));
                    http_cleanup(client);
                    esp_ota_abort(update_handle);
                    task_fatal_error();
                }
                ESP_LOGI(TAG, "esp_ota_begin succeeded");
            }
            err = esp_ota_write(update_handle, ota_write_data, (size_t)data_read);
            if (err != ESP_OK) {
                http_cleanup(client);
                esp_ota_abort(update_handle);
                task_fatal_error();
            }
            binary_file_length += data_read;
            ESP_LOGD(TAG, "Written image length %d", binary_file_length);
        } else {
            /* data_read == 0: the peer closed or the body is complete. */
            if (errno == ECONNRESET || errno == ENOTCONN) {
                ESP_LOGE(TAG, "Connection closed, errno = %d", errno);
                break;
            }
            if (esp_http_client_is_complete_data_received(client)) {
                ESP_LOGI(TAG, "Connection closed");
                break;
            }
        }
    }
    ESP_LOGI(TAG, "Total Write binary data length: %d", binary_file_length);
    if (!esp_http_client_is_complete_data_received(client)) {
        ESP_LOGE(TAG, "Error in receiving complete file");
        http_cleanup(client);
        esp_ota_abort(update_handle);
        task_fatal_error();
    }

    err = esp_ota_end(update_handle);
    if (err != ESP_OK) {
        if (err == ESP_ERR_OTA_VALIDATE_FAILED) {
            ESP_LOGE(TAG, "Image validation failed, image is corrupted");
        } else {
            ESP_LOGE(TAG, "esp_ota_end failed (%s)!", esp_err_to_name(err));
        }
        http_cleanup(client);
        task_fatal_error();
    }

    err = esp_ota_set_boot_partition(update_partition);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition failed (%s)!", esp_err_to_name(err));
        http_cleanup(client);
        task_fatal_error();
    }
    ESP_LOGI(TAG, "Prepare to restart system!");
    esp_restart();
}

/* Samples the diagnostics pin once, after five seconds: high means the new app works. */
static bool diagnostic(void)
{
    const int pin = CONFIG_EXAMPLE_GPIO_DIAGNOSTIC;
    gpio_config_t io_conf = {
        .intr_type = GPIO_INTR_DISABLE,
        .mode = GPIO_MODE_INPUT,
        .pin_bit_mask = (1ULL << pin),
        .pull_down_en = GPIO_PULLDOWN_DISABLE,
        .pull_up_en = GPIO_PULLUP_ENABLE,
    };
    gpio_config(&io_conf);

    ESP_LOGI(TAG, "Diagnostics (5 sec)...");
    vTaskDelay(5000 / portTICK_PERIOD_MS);

    bool ok = gpio_get_level(pin) != 0;
    gpio_reset_pin(pin);
    return ok;
}

void app_main(void)
{
    ESP_LOGI(TAG, "OTA example app_main start");

    uint8_t sha_256[HASH_LEN] = {0};
    esp_partition_t partition = {0};

    partition.address = CONFIG_PARTITION_TABLE_OFFSET;
    partition.size = ESP_PARTITION_TABLE_MAX_LEN;
    partition.type = ESP_PARTITION_TYPE_DATA;
    esp_partition_get_sha256(&partition, sha_256);
    print_sha256(sha_256, "SHA-256 for the partition table: ");

    partition.address = CONFIG_BOOTLOADER_OFFSET_IN_FLASH;
    partition.size = CONFIG_PARTITION_TABLE_OFFSET;
    partition.type = ESP_PARTITION_TYPE_APP;
    esp_partition_get_sha256(&partition, sha_256);
    print_sha256(sha_256, "SHA-256 for bootloader: ");

    esp_partition_get_sha256(esp_ota_get_running_partition(), sha_256);
    print_sha256(sha_256, "SHA-256 for current firmware: ");

    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_ota_img_states_t ota_state;
    if (esp_ota_get_state_partition(running, &ota_state) == ESP_OK &&
        ota_state == ESP_OTA_IMG_PENDING_VERIFY) {
        if (diagnostic()) {
            ESP_LOGI(TAG, "Diagnostics completed successfully! Continuing execution ...");
            esp_ota_mark_app_valid_cancel_rollback();
        } else {
            ESP_LOGE(TAG, "Diagnostics failed! Start rollback to the previous version ...");
            esp_ota_mark_app_invalid_rollback_and_reboot();
        }
    }

    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);

    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());
    esp_wifi_set_ps(WIFI_PS_NONE);

    xTaskCreate(&ota_example_task, "ota_example_task", 8192, NULL, 5, NULL);
}
