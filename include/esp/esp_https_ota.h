/* ESP-IDF HTTPS OTA (esp_https_ota.h, v5.5) over esp_http_client and the native OTA API. */
#ifndef ESP_HTTPS_OTA_H
#define ESP_HTTPS_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootloader_common.h"
#include "esp_app_desc.h"
#include "esp_bootloader_desc.h"
#include "esp_err.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_partition.h"

#ifdef __cplusplus
extern "C" {
#endif

ESP_EVENT_DECLARE_BASE(ESP_HTTPS_OTA_EVENT);

typedef enum {
    ESP_HTTPS_OTA_START,
    ESP_HTTPS_OTA_CONNECTED,
    ESP_HTTPS_OTA_GET_IMG_DESC,
    ESP_HTTPS_OTA_VERIFY_CHIP_ID,
    ESP_HTTPS_OTA_VERIFY_CHIP_REVISION,
    ESP_HTTPS_OTA_DECRYPT_CB,
    ESP_HTTPS_OTA_WRITE_FLASH,
    ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION,
    ESP_HTTPS_OTA_FINISH,
    ESP_HTTPS_OTA_ABORT,
} esp_https_ota_event_t;

typedef void *esp_https_ota_handle_t;
typedef esp_err_t (*http_client_init_cb_t)(esp_http_client_handle_t);

typedef struct {
    const char *data_in;
    size_t data_in_len;
    char *data_out;
    size_t data_out_len;
} decrypt_cb_arg_t;

typedef esp_err_t (*decrypt_cb_t)(decrypt_cb_arg_t *args, void *user_ctx);

typedef struct {
    const esp_http_client_config_t *http_config;
    http_client_init_cb_t http_client_init_cb;
    bool bulk_flash_erase;
    bool partial_http_download;
    int max_http_request_size;
    uint32_t buffer_caps;
    bool ota_resumption;
    size_t ota_image_bytes_written;
    /* Used only when CONFIG_ESP_HTTPS_OTA_DECRYPT_CB is enabled in the app's sdkconfig. */
    decrypt_cb_t decrypt_cb;
    void *decrypt_user_ctx;
    uint16_t enc_img_header_size;
    struct {
        const esp_partition_t *staging;
        const esp_partition_t *final;
        bool finalize_with_copy;
    } partition;
} esp_https_ota_config_t;

#define DEFAULT_OTA_BUF_SIZE IMAGE_HEADER_SIZE
#define IMAGE_HEADER_SIZE 1024

esp_err_t esp_https_ota(const esp_https_ota_config_t *ota_config);
esp_err_t esp_https_ota_begin(const esp_https_ota_config_t *ota_config,
                              esp_https_ota_handle_t *handle);
esp_err_t esp_https_ota_perform(esp_https_ota_handle_t https_ota_handle);
bool esp_https_ota_is_complete_data_received(esp_https_ota_handle_t https_ota_handle);
esp_err_t esp_https_ota_finish(esp_https_ota_handle_t https_ota_handle);
esp_err_t esp_https_ota_abort(esp_https_ota_handle_t https_ota_handle);
esp_err_t esp_https_ota_get_img_desc(esp_https_ota_handle_t https_ota_handle,
                                     esp_app_desc_t *new_app_info);
esp_err_t esp_https_ota_get_bootloader_img_desc(esp_https_ota_handle_t https_ota_handle,
                                                esp_bootloader_desc_t *new_img_info);
int esp_https_ota_get_image_len_read(esp_https_ota_handle_t https_ota_handle);
int esp_https_ota_get_image_size(esp_https_ota_handle_t https_ota_handle);
int esp_https_ota_get_status_code(esp_https_ota_handle_t https_ota_handle);

#ifdef __cplusplus
}
#endif

#endif /* ESP_HTTPS_OTA_H */
