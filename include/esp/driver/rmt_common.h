/* Calls common to RMT TX and RX channels (driver/rmt_common.h, ESP-IDF v5.5). */
#ifndef DRIVER_RMT_COMMON_H
#define DRIVER_RMT_COMMON_H

#include "driver/rmt_types.h"
#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t rmt_del_channel(rmt_channel_handle_t channel);
/* config NULL removes the carrier. */
esp_err_t rmt_apply_carrier(rmt_channel_handle_t channel, const rmt_carrier_config_t *config);
esp_err_t rmt_enable(rmt_channel_handle_t channel);
esp_err_t rmt_disable(rmt_channel_handle_t channel);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_RMT_COMMON_H */
