/*
 * ESP-IDF MAC addresses (esp_mac.h). The base MAC is the factory MAC in the board's eFuses (see
 * ota_efuse_store.h); the interface MACs derive from it as with four universal addresses
 * (CONFIG_ESP_MAC_ADDR_UNIVERSE_NUM 4, the ESP32 default): station = base, soft-AP = base + 1,
 * Bluetooth = base + 2, Ethernet = base + 3, added to the last octet.
 */
#ifndef ESP_MAC_H
#define ESP_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_MAC_WIFI_STA,
    ESP_MAC_WIFI_SOFTAP,
    ESP_MAC_BT,
    ESP_MAC_ETH,
    ESP_MAC_IEEE802154,
    ESP_MAC_BASE,
    ESP_MAC_EFUSE_FACTORY,
    ESP_MAC_EFUSE_CUSTOM,
    ESP_MAC_EFUSE_EXT,
} esp_mac_type_t;

#define MACSTR "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC2STR(a) (a)[0], (a)[1], (a)[2], (a)[3], (a)[4], (a)[5]

/* Copies the factory MAC burnt in eFuse into mac (6 bytes). ESP_OK; ESP_ERR_INVALID_ARG for a
 * NULL mac. */
esp_err_t esp_efuse_mac_get_default(uint8_t *mac);

/* Copies the base MAC (the factory MAC unless esp_base_mac_addr_set changed it) into mac. ESP_OK;
 * ESP_ERR_INVALID_ARG for a NULL mac. */
esp_err_t esp_base_mac_addr_get(uint8_t *mac);

/* Replaces the base MAC for this boot (not kept across restarts). ESP_OK; ESP_ERR_INVALID_ARG for
 * NULL or a multicast address (bit 0 of the first octet set). */
esp_err_t esp_base_mac_addr_set(const uint8_t *mac);

/* Copies the MAC of interface type into mac: 6 bytes, 8 for ESP_MAC_IEEE802154 (the EUI-64
 * ff:fe expansion of the base MAC). ESP_OK; ESP_ERR_INVALID_ARG for NULL or an unknown type;
 * ESP_ERR_NOT_SUPPORTED for ESP_MAC_EFUSE_CUSTOM and ESP_MAC_EFUSE_EXT (never burnt here). */
esp_err_t esp_read_mac(uint8_t *mac, esp_mac_type_t type);

/* Length in bytes of a MAC of that type (8 for IEEE 802.15.4, 6 otherwise; 0 if unknown). */
size_t esp_mac_addr_len_get(esp_mac_type_t type);

#ifdef __cplusplus
}
#endif

#endif /* ESP_MAC_H */
