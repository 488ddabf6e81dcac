/* ESP-IDF bootloader description (esp_bootloader_desc_t, 80 bytes). */
#ifndef ESP_BOOTLOADER_DESC_H
#define ESP_BOOTLOADER_DESC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_BOOTLOADER_DESC_MAGIC_BYTE 80

typedef struct {
    uint8_t magic_byte;
    uint8_t reserved[2];
    uint8_t secure_version;
    uint32_t version;
    char idf_ver[32];
    char date_time[24];
    uint8_t reserved2[16];
} esp_bootloader_desc_t;

_Static_assert(sizeof(esp_bootloader_desc_t) == 80, "esp_bootloader_desc_t must be 80 bytes");

#ifdef __cplusplus
}
#endif

#endif /* ESP_BOOTLOADER_DESC_H */
