/*
 * ESP-IDF examples' connection helper: on the simulated board the host's network is the
 * "connected" interface; example_connect logs the IPv4 address as the real helper does.
 */
#ifndef PROTOCOL_EXAMPLES_COMMON_H
#define PROTOCOL_EXAMPLES_COMMON_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t example_connect(void);
esp_err_t example_disconnect(void);

#ifdef __cplusplus
}
#endif

#endif /* PROTOCOL_EXAMPLES_COMMON_H */
