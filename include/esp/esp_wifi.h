/* ESP-IDF Wi-Fi power-save setting (accepted and recorded; the host network has none). */
#ifndef ESP_WIFI_H
#define ESP_WIFI_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { WIFI_PS_NONE, WIFI_PS_MIN_MODEM, WIFI_PS_MAX_MODEM } wifi_ps_type_t;

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type);

#ifdef __cplusplus
}
#endif

#endif /* ESP_WIFI_H */
