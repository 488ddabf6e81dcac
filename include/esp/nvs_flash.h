/* ESP-IDF NVS initialisation (nvs_flash.h). */
#ifndef NVS_FLASH_H
#define NVS_FLASH_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t nvs_flash_init(void);
esp_err_t nvs_flash_deinit(void);
esp_err_t nvs_flash_erase(void);

#ifdef __cplusplus
}
#endif

#endif /* NVS_FLASH_H */
