/* ESP-IDF SPI flash chip handle (the simulated board has one chip, the emulated NOR flash). */
#ifndef ESP_FLASH_H
#define ESP_FLASH_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A flash chip. The fields ESP-IDF apps read are kept; the driver's internals are not. */
typedef struct esp_flash_t {
    uint32_t size;    /* bytes (set when the device is installed) */
    uint32_t chip_id; /* JEDEC id (0 on the simulated board) */
} esp_flash_t;

/* The main flash chip. */
extern esp_flash_t *esp_flash_default_chip;

/* Size of the chip in bytes (ESP_ERR_INVALID_ARG for a NULL out_size). */
esp_err_t esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size);

/* Raw chip access, bounds-checked against the chip size. */
esp_err_t esp_flash_read(esp_flash_t *chip, void *buffer, uint32_t address, uint32_t length);
esp_err_t esp_flash_write(esp_flash_t *chip, const void *buffer, uint32_t address, uint32_t length);
esp_err_t esp_flash_erase_region(esp_flash_t *chip, uint32_t start, uint32_t len);

/* Access through flash encryption (ESP_ERR_NOT_SUPPORTED while it is off in the eFuses): the
 * write encrypts (address and length multiples of 16: ESP_ERR_INVALID_ARG, ESP_ERR_INVALID_SIZE),
 * the read decrypts. */
esp_err_t esp_flash_write_encrypted(esp_flash_t *chip, uint32_t address, const void *buffer,
                                    uint32_t length);
esp_err_t esp_flash_read_encrypted(esp_flash_t *chip, uint32_t address, void *out_buffer,
                                   uint32_t length);

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_H */
