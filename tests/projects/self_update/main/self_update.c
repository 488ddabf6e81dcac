/*
 * self_update: an app that keeps itself up to date, as an ESP-IDF project would be written.
 *
 * Every boot it counts itself in NVS, confirms a freshly updated image (rollback), waits on an
 * event group for the network, then an OTA task asks the server for CONFIG_SELF_UPDATE_URL over
 * HTTPS (certificate embedded from server_certs/ca_cert.pem) and installs it when its version
 * differs from the running one. The task reports to app_main through a queue.
 */
#include <inttypes.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/queue.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"

#define NETWORK_UP BIT0

typedef enum { RESULT_UPDATED, RESULT_CURRENT, RESULT_FAILED } result_t;

static const char *TAG = "self_update";

extern const uint8_t server_cert_pem_start[] asm("_binary_ca_cert_pem_start");
extern const uint8_t server_cert_pem_end[] asm("_binary_ca_cert_pem_end");

static EventGroupHandle_t network;
static QueueHandle_t results;

static uint32_t count_boot(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    nvs_handle_t nvs;
    ESP_ERROR_CHECK(nvs_open("storage", NVS_READWRITE, &nvs));
    uint32_t boots = 0;
    nvs_get_u32(nvs, "boots", &boots); /* ESP_ERR_NVS_NOT_FOUND on the first boot */
    boots++;
    ESP_ERROR_CHECK(nvs_set_u32(nvs, "boots", boots));
    ESP_ERROR_CHECK(nvs_commit(nvs));
    nvs_close(nvs);
    return boots;
}

static void confirm_image(void)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_ota_img_states_t state;
    if (esp_ota_get_state_partition(running, &state) == ESP_OK &&
        state == ESP_OTA_IMG_PENDING_VERIFY) {
        ESP_LOGI(TAG, "New image on %s works: cancelling the rollback", running->label);
        ESP_ERROR_CHECK(esp_ota_mark_app_valid_cancel_rollback());
    }
}

static result_t update(void)
{
    esp_http_client_config_t http = {
        .url = CONFIG_SELF_UPDATE_URL,
        .cert_pem = (const char *)server_cert_pem_start,
        .timeout_ms = CONFIG_SELF_UPDATE_TIMEOUT_MS,
        .keep_alive_enable = true,
    };
    esp_https_ota_config_t cfg = {.http_config = &http};
    esp_https_ota_handle_t ota = NULL;
    if (esp_https_ota_begin(&cfg, &ota) != ESP_OK) {
        return RESULT_FAILED;
    }
    esp_app_desc_t offered;
    const esp_app_desc_t *running = esp_app_get_description();
    if (esp_https_ota_get_img_desc(ota, &offered) != ESP_OK) {
        esp_https_ota_abort(ota);
        return RESULT_FAILED;
    }
    if (strcmp(offered.version, running->version) == 0) {
        ESP_LOGI(TAG, "Already running version %s", running->version);
        esp_https_ota_abort(ota);
        return RESULT_CURRENT;
    }
    ESP_LOGI(TAG, "Updating from version %s to %s", running->version, offered.version);
    esp_err_t err;
    while ((err = esp_https_ota_perform(ota)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
    }
    if (err != ESP_OK || !esp_https_ota_is_complete_data_received(ota)) {
        esp_https_ota_abort(ota);
        return RESULT_FAILED;
    }
    return esp_https_ota_finish(ota) == ESP_OK ? RESULT_UPDATED : RESULT_FAILED;
}

static void ota_task(void *arg)
{
    xEventGroupWaitBits(network, NETWORK_UP, pdFALSE, pdTRUE, portMAX_DELAY);
    result_t r = update();
    xQueueSend(results, &r, portMAX_DELAY);
    vTaskDelete(NULL);
}

void app_main(void)
{
    ESP_LOGI(TAG, "Boot count: %" PRIu32, count_boot());
    confirm_image();
    network = xEventGroupCreate();
    results = xQueueCreate(1, sizeof(result_t));
    xTaskCreate(ota_task, "ota_task", 8192, NULL, 5, NULL);

    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());
    xEventGroupSetBits(network, NETWORK_UP);

    result_t r;
    xQueueReceive(results, &r, portMAX_DELAY);
    if (r == RESULT_UPDATED) {
        ESP_LOGI(TAG, "Update installed, restarting");
        esp_restart();
    }
    ESP_LOGI(TAG, r == RESULT_CURRENT ? "Up to date" : "Update failed, keeping this version");
}
