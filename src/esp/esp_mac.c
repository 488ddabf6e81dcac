/* ESP-IDF MAC addresses from the board's eFuses (see esp_mac.h for the derivation). */
#include "esp_mac.h"

#include <stdbool.h>
#include <string.h>

#include "esp_internal.h"
#include "ota/ota_efuse_store.h"

static uint8_t g_base[6];
static bool g_base_set; /* esp_base_mac_addr_set was called in this boot */

esp_err_t esp_efuse_mac_get_default(uint8_t *mac)
{
    static const uint8_t def[6] = OTA_EFUSE_DEFAULT_MAC;
    if (mac == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const esp_dev_config_t *cfg = esp_dev_installed() ? esp_internal_config() : NULL;
    if (cfg != NULL && cfg->read_mac != NULL) {
        return cfg->read_mac(cfg->board_ctx, mac) == 0 ? ESP_OK : ESP_ERR_INVALID_MAC;
    }
    memcpy(mac, def, sizeof(def));
    return ESP_OK;
}

esp_err_t esp_base_mac_addr_get(uint8_t *mac)
{
    if (mac == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (g_base_set) {
        memcpy(mac, g_base, sizeof(g_base));
        return ESP_OK;
    }
    return esp_efuse_mac_get_default(mac);
}

esp_err_t esp_base_mac_addr_set(const uint8_t *mac)
{
    if (mac == NULL || (mac[0] & 0x01) != 0) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(g_base, mac, sizeof(g_base));
    g_base_set = true;
    return ESP_OK;
}

size_t esp_mac_addr_len_get(esp_mac_type_t type)
{
    if (type == ESP_MAC_IEEE802154) {
        return 8;
    }
    return (unsigned)type <= ESP_MAC_EFUSE_EXT ? 6 : 0;
}

/* The EUI-64 of a 48-bit MAC: ff:fe inserted in the middle. */
static void eui64(const uint8_t base[6], uint8_t out[8])
{
    memcpy(out, base, 3);
    out[3] = 0xff;
    out[4] = 0xfe;
    memcpy(out + 5, base + 3, 3);
}

esp_err_t esp_read_mac(uint8_t *mac, esp_mac_type_t type)
{
    static const uint8_t step[] = {
        [ESP_MAC_WIFI_STA] = 0, [ESP_MAC_WIFI_SOFTAP] = 1, [ESP_MAC_BT] = 2, [ESP_MAC_ETH] = 3};
    if (mac == NULL || esp_mac_addr_len_get(type) == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (type == ESP_MAC_EFUSE_CUSTOM || type == ESP_MAC_EFUSE_EXT) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    if (type == ESP_MAC_EFUSE_FACTORY) {
        return esp_efuse_mac_get_default(mac);
    }
    uint8_t base[6];
    esp_err_t err = esp_base_mac_addr_get(base);
    if (err != ESP_OK) {
        return err;
    }
    if (type == ESP_MAC_IEEE802154) {
        eui64(base, mac);
        return ESP_OK;
    }
    memcpy(mac, base, sizeof(base));
    if (type != ESP_MAC_BASE) {
        mac[5] = (uint8_t)(mac[5] + step[type]);
    }
    return ESP_OK;
}
