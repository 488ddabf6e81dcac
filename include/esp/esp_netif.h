/* ESP-IDF network interface start-up (the host's network stands in for Wi-Fi/Ethernet). */
#ifndef ESP_NETIF_H
#define ESP_NETIF_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t esp_netif_init(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_NETIF_H */
