/* esp_chip_info for the simulated chip. */
#include "esp_chip_info.h"

#include <string.h>

#include "esp_internal.h"

typedef struct {
    uint16_t id;
    esp_chip_model_t model;
    uint32_t features;
    uint8_t cores;
} chip_row_t;

#define WIFI CHIP_FEATURE_WIFI_BGN
#define BLE CHIP_FEATURE_BLE
#define BT CHIP_FEATURE_BT
#define ZB CHIP_FEATURE_IEEE802154

static const chip_row_t rows[] = {
    {OTA_CHIP_ID_ESP32, CHIP_ESP32, WIFI | BT | BLE, 2},
    {OTA_CHIP_ID_ESP32S2, CHIP_ESP32S2, WIFI, 1},
    {OTA_CHIP_ID_ESP32S3, CHIP_ESP32S3, WIFI | BLE, 2},
    {OTA_CHIP_ID_ESP32C3, CHIP_ESP32C3, WIFI | BLE, 1},
    {OTA_CHIP_ID_ESP32C2, CHIP_ESP32C2, WIFI | BLE, 1},
    {OTA_CHIP_ID_ESP32C6, CHIP_ESP32C6, WIFI | BLE | ZB, 1},
    {OTA_CHIP_ID_ESP32H2, CHIP_ESP32H2, BLE | ZB, 1},
    {OTA_CHIP_ID_ESP32P4, CHIP_ESP32P4, 0, 2},
    {OTA_CHIP_ID_ESP32C61, CHIP_ESP32C61, WIFI | BLE, 1},
    {OTA_CHIP_ID_ESP32C5, CHIP_ESP32C5, WIFI | BLE | ZB, 1},
    {OTA_CHIP_ID_ESP32H21, CHIP_ESP32H21, BLE | ZB, 1},
    {OTA_CHIP_ID_ESP32H4, CHIP_ESP32H4, BLE | ZB, 2},
};

void esp_chip_info(esp_chip_info_t *out_info)
{
    memset(out_info, 0, sizeof(*out_info));
    const esp_dev_config_t *cfg = esp_dev_installed() ? esp_internal_config() : NULL;
    uint16_t id = cfg != NULL ? cfg->chip->id : OTA_CHIP_ID_ESP32;
    out_info->model = CHIP_POSIX_LINUX;
    out_info->cores = 1;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].id == id) {
            out_info->model = rows[i].model;
            out_info->features = rows[i].features;
            out_info->cores = rows[i].cores;
        }
    }
    out_info->revision = cfg != NULL ? cfg->chip_rev : 0;
}
