/* ESP-IDF chip information (esp_chip_info.h). */
#ifndef ESP_CHIP_INFO_H
#define ESP_CHIP_INFO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CHIP_ESP32 = 1,
    CHIP_ESP32S2 = 2,
    CHIP_ESP32S3 = 9,
    CHIP_ESP32C3 = 5,
    CHIP_ESP32C2 = 12,
    CHIP_ESP32C6 = 13,
    CHIP_ESP32H2 = 16,
    CHIP_ESP32P4 = 18,
    CHIP_ESP32C61 = 20,
    CHIP_ESP32C5 = 23,
    CHIP_ESP32H21 = 25,
    CHIP_ESP32H4 = 28,
    CHIP_POSIX_LINUX = 999,
} esp_chip_model_t;

#define CHIP_FEATURE_EMB_FLASH (1UL << 0)
#define CHIP_FEATURE_WIFI_BGN (1UL << 1)
#define CHIP_FEATURE_BLE (1UL << 4)
#define CHIP_FEATURE_BT (1UL << 5)
#define CHIP_FEATURE_IEEE802154 (1UL << 6)
#define CHIP_FEATURE_EMB_PSRAM (1UL << 7)

typedef struct {
    esp_chip_model_t model;
    uint32_t features;
    uint16_t revision; /* major * 100 + minor */
    uint8_t cores;
} esp_chip_info_t;

/* Fills *out_info for the simulated chip. */
void esp_chip_info(esp_chip_info_t *out_info);

#ifdef __cplusplus
}
#endif

#endif /* ESP_CHIP_INFO_H */
