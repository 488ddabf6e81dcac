/* ESP-IDF NVS initialisation (nvs_flash.h). */
#ifndef NVS_FLASH_H
#define NVS_FLASH_H

#include "esp_err.h"
#include "nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t nvs_flash_init(void);
esp_err_t nvs_flash_deinit(void);
esp_err_t nvs_flash_erase(void);

/* The same calls for a partition named by label. The store lives in the "nvs" partition only:
 * that label behaves as the calls above; any other is ESP_ERR_NVS_PART_NOT_FOUND (NULL label:
 * ESP_ERR_INVALID_ARG). */
esp_err_t nvs_flash_init_partition(const char *partition_label);
esp_err_t nvs_flash_deinit_partition(const char *partition_label);
esp_err_t nvs_flash_erase_partition(const char *partition_label);

#ifdef __cplusplus
}
#endif

#endif /* NVS_FLASH_H */
