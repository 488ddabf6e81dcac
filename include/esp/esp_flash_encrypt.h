/* ESP-IDF's flash encryption state (esp_flash_encrypt.h), from the board's eFuses. */
#ifndef ESP_FLASH_ENCRYPT_H
#define ESP_FLASH_ENCRYPT_H

#include <stdbool.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_FLASH_ENC_MODE_DISABLED,    /* FLASH_CRYPT_CNT has an even number of bits set */
    ESP_FLASH_ENC_MODE_DEVELOPMENT, /* enabled; reflashing over the serial port allowed */
    ESP_FLASH_ENC_MODE_RELEASE,     /* enabled and locked (not modelled: never reported) */
} esp_flash_enc_mode_t;

/* True when FLASH_CRYPT_CNT has an odd number of bits set. */
bool esp_flash_encryption_enabled(void);

/* DISABLED or DEVELOPMENT (the board has no release-mode eFuses). */
esp_flash_enc_mode_t esp_get_flash_encryption_mode(void);

/* The start-up check: logs "Flash encryption mode is DEVELOPMENT (not secure)" (W) when it is. */
void esp_flash_encryption_init_checks(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_ENCRYPT_H */
