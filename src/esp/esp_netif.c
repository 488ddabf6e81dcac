/*
 * Network start-up of the ESP-IDF examples on the simulated board: the host's network is the
 * interface, so "connecting" succeeds at once and reports the loopback address, with the log
 * lines of ESP-IDF's example_connect.
 */
#include "esp_netif.h"
#include "esp_wifi.h"
#include "protocol_examples_common.h"

#include <stdio.h>
#include <string.h>

#include "esp_log.h"

esp_err_t esp_netif_init(void)
{
    return ESP_OK;
}

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type)
{
    return type <= WIFI_PS_MAX_MODEM ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t example_connect(void)
{
    ESP_LOGI("example_connect", "Start example_connect.");
    ESP_LOGI("example_connect", "Got IPv4 event: Interface \"example_netif_sta\" address: "
                                "127.0.0.1");
    ESP_LOGI("example_common", "Connected to example_netif_sta");
    ESP_LOGI("example_common", "- IPv4 address: 127.0.0.1,");
    return ESP_OK;
}

esp_err_t example_disconnect(void)
{
    return ESP_OK;
}

const char *example_firmware_url(const char *configured, char *buf, size_t cap)
{
    if (strcmp(configured, "FROM_STDIN") != 0) {
        return configured;
    }
    if (cap == 0 || fgets(buf, (int)cap, stdin) == NULL) {
        if (cap > 0) {
            buf[0] = '\0';
        }
        return buf;
    }
    size_t len = strlen(buf);
    if (len > 0) {
        buf[len - 1] = '\0';
    }
    return buf;
}
