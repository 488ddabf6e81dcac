/*
 * Network start-up of the ESP-IDF examples on the simulated board: the host's network is the
 * interface, so "connecting" succeeds at once and reports the loopback address, with the log
 * lines of ESP-IDF's protocol_examples_common (v5.5) for a Wi-Fi or Ethernet connection.
 */
#include "esp_netif.h"
#include "esp_wifi.h"
#include "protocol_examples_common.h"

#include <stdio.h>
#include <string.h>

#include "esp_internal.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

/* The interface descriptions protocol_examples_common gives its netifs, and the address the
 * host's network answers on. */
#define NETIF_STA "example_netif_sta"
#define NETIF_ETH "example_netif_eth"
#define LOOPBACK "127.0.0.1"

/* The interfaces example_connect brings up; each stands for the host's loopback. */
struct esp_netif_obj {
    const char *desc;
    bool up;
};

static struct esp_netif_obj netifs[] = {{NETIF_STA, false}, {NETIF_ETH, false}};

esp_err_t esp_netif_init(void)
{
    return ESP_OK;
}

const char *esp_netif_get_desc(esp_netif_t *esp_netif)
{
    return esp_netif != NULL ? esp_netif->desc : NULL;
}

esp_err_t esp_netif_get_netif_impl_name(esp_netif_t *esp_netif, char *name)
{
    if (esp_netif == NULL || name == NULL) {
        return ESP_ERR_ESP_NETIF_IF_NOT_READY;
    }
    strcpy(name, "lo");
    return ESP_OK;
}

esp_netif_t *get_example_netif_from_desc(const char *desc)
{
    for (size_t i = 0; desc != NULL && i < sizeof(netifs) / sizeof(netifs[0]); i++) {
        if (netifs[i].up && strcmp(netifs[i].desc, desc) == 0) {
            return &netifs[i];
        }
    }
    return NULL;
}

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type)
{
    return type <= WIFI_PS_MAX_MODEM ? ESP_OK : ESP_ERR_INVALID_ARG;
}

/* The app's sdkconfig value of key (a bool), or def without an installed device or value. */
static bool app_cfg_bool(const char *key, bool def)
{
    return esp_dev_installed() ? ota_sdkconfig_bool(esp_internal_config()->sdkconfig, key, def)
                               : def;
}

/* Which interfaces the example connects: protocol_examples_common's Kconfig choices (Wi-Fi by
 * default, Ethernet when selected). */
static void interfaces(bool *eth, bool *wifi)
{
    *eth = app_cfg_bool("EXAMPLE_CONNECT_ETHERNET", false);
    *wifi = app_cfg_bool("EXAMPLE_CONNECT_WIFI", !*eth);
}

/* Link-up and DHCP take about this long on a chip (virtual time; real time too with --pace): an
 * Ethernet PHY's auto-negotiation alone takes 1.5 to 2 s after power-on. */
#define ETH_UP_MS 2000
#define WIFI_UP_MS 1500

static void connect_ethernet(void)
{
    ESP_LOGI("ethernet_connect", "Waiting for IP(s).");
    vTaskDelay(pdMS_TO_TICKS(ETH_UP_MS));
    ESP_LOGI("ethernet_connect", "Got IPv4 event: Interface \"%s\" address: %s", NETIF_ETH,
             LOOPBACK);
}

static void connect_wifi(void)
{
    const char *ssid = esp_dev_installed() ? ota_sdkconfig_str(esp_internal_config()->sdkconfig,
                                                               "EXAMPLE_WIFI_SSID", "myssid")
                                           : "myssid";
    ESP_LOGI("example_connect", "Start example_connect.");
    char line[32 + 64 + 2] = "";
    if (app_cfg_bool("EXAMPLE_WIFI_SSID_PWD_FROM_STDIN", false)) {
        /* "SSID PASSWORD" typed on the console, as the example's CI configuration asks */
        ESP_LOGI("example_connect", "Please input ssid password:");
        char *save = NULL;
        ssid = fgets(line, sizeof(line), stdin) != NULL ? strtok_r(line, " \r\n", &save) : NULL;
        ssid = ssid != NULL ? ssid : "";
    }
    ESP_LOGI("example_connect", "Connecting to %s...", ssid);
    ESP_LOGI("example_connect", "Waiting for IP(s)");
    vTaskDelay(pdMS_TO_TICKS(WIFI_UP_MS));
    ESP_LOGI("example_connect", "Got IPv4 event: Interface \"%s\" address: %s", NETIF_STA,
             LOOPBACK);
}

static void print_ips(const char *netif)
{
    ESP_LOGI("example_common", "Connected to %s", netif);
    ESP_LOGI("example_common", "- IPv4 address: %s,", LOOPBACK);
}

esp_err_t example_connect(void)
{
    bool eth = false;
    bool wifi = false;
    interfaces(&eth, &wifi);
    if (eth) {
        connect_ethernet();
    }
    if (wifi) {
        connect_wifi();
    }
    if (eth) {
        netifs[1].up = true;
        print_ips(NETIF_ETH);
    }
    if (wifi) {
        netifs[0].up = true;
        print_ips(NETIF_STA);
    }
    return ESP_OK;
}

esp_err_t example_disconnect(void)
{
    return ESP_OK;
}

void example_configure_stdin_stdout(void) {}
