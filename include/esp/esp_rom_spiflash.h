/* ESP-IDF ROM SPI flash driver (esp_rom_spiflash.h): the status codes apps compare against. */
#ifndef ESP_ROM_SPIFLASH_H
#define ESP_ROM_SPIFLASH_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_ROM_SPIFLASH_RESULT_OK,
    ESP_ROM_SPIFLASH_RESULT_ERR,
    ESP_ROM_SPIFLASH_RESULT_TIMEOUT,
} esp_rom_spiflash_result_t;

#ifdef __cplusplus
}
#endif

#endif /* ESP_ROM_SPIFLASH_H */
