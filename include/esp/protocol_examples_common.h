/*
 * ESP-IDF examples' connection helper: on the simulated board the host's network is the
 * "connected" interface; example_connect logs the IPv4 address as the real helper does.
 */
#ifndef PROTOCOL_EXAMPLES_COMMON_H
#define PROTOCOL_EXAMPLES_COMMON_H

#include <stddef.h>

#include "esp_err.h"
#include "esp_netif.h"
#include "otakit_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "Connects" the interfaces the app's sdkconfig selects (CONFIG_EXAMPLE_CONNECT_WIFI, the
 * default, and/or CONFIG_EXAMPLE_CONNECT_ETHERNET), printing protocol_examples_common's lines
 * with the loopback address 127.0.0.1. Returns ESP_OK. */
/* The descriptions protocol_examples_common gives the interfaces it brings up. */
#define EXAMPLE_NETIF_DESC_STA "example_netif_sta"
#define EXAMPLE_NETIF_DESC_ETH "example_netif_eth"
#define EXAMPLE_NETIF_DESC_THREAD "example_netif_thread"
#define EXAMPLE_NETIF_DESC_PPP "example_netif_ppp"

/* The example's default interface: Ethernet when configured, else Wi-Fi (as ESP-IDF's CI
 * configurations prefer). */
#if CONFIG_EXAMPLE_CONNECT_ETHERNET
#define EXAMPLE_INTERFACE get_example_netif_from_desc(EXAMPLE_NETIF_DESC_ETH)
#define get_example_netif() get_example_netif_from_desc(EXAMPLE_NETIF_DESC_ETH)
#elif CONFIG_EXAMPLE_CONNECT_WIFI
#define EXAMPLE_INTERFACE get_example_netif_from_desc(EXAMPLE_NETIF_DESC_STA)
#define get_example_netif() get_example_netif_from_desc(EXAMPLE_NETIF_DESC_STA)
#endif

esp_err_t example_connect(void);

/* The interface example_connect brought up with this description, or NULL. */
esp_netif_t *get_example_netif_from_desc(const char *desc);
/* Ends the connection (nothing to undo on the host). Returns ESP_OK. */
esp_err_t example_disconnect(void);

/* Makes the console usable for fgets on stdin (already the case on the board: nothing to do). */
void example_configure_stdin_stdout(void);

#ifdef __cplusplus
}
#endif

#endif /* PROTOCOL_EXAMPLES_COMMON_H */
