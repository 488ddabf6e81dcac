/* ESP-IDF network interface start-up (the host's network stands in for Wi-Fi/Ethernet). */
#ifndef ESP_NETIF_H
#define ESP_NETIF_H

#include <net/if.h> /* struct ifreq, which ESP-IDF reaches through esp_netif.h (lwIP) */

#include "esp_err.h"

#define ESP_ERR_ESP_NETIF_BASE 0x5000
#define ESP_ERR_ESP_NETIF_IF_NOT_READY (ESP_ERR_ESP_NETIF_BASE + 0x03)

#ifdef __cplusplus
extern "C" {
#endif

/* A network interface of the board (ESP-IDF's esp_netif object); the host's loopback stands
 * for each one an app brings up. */
typedef struct esp_netif_obj esp_netif_t;

esp_err_t esp_netif_init(void);

/* The interface's description ("example_netif_sta", ...), or NULL for a NULL netif. */
const char *esp_netif_get_desc(esp_netif_t *esp_netif);

/* Copies the name of the interface under the netif ("lo" on the board; at most 6 bytes with the
 * NUL, as lwIP's names) into name. ESP_ERR_ESP_NETIF_IF_NOT_READY for NULL arguments. */
esp_err_t esp_netif_get_netif_impl_name(esp_netif_t *esp_netif, char *name);

#ifdef __cplusplus
}
#endif

#endif /* ESP_NETIF_H */
