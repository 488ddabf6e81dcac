/* RMT driver handles and common types (driver/rmt_types.h, ESP-IDF v5.5). */
#ifndef DRIVER_RMT_TYPES_H
#define DRIVER_RMT_TYPES_H

#include <stdint.h>

#include "hal/rmt_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rmt_channel_t *rmt_channel_handle_t;
typedef struct rmt_encoder_t *rmt_encoder_handle_t;

/* Carrier modulation of a channel's output. */
typedef struct {
    uint32_t frequency_hz; /* 0 removes the carrier */
    float duty_cycle;      /* (0, 1) */
    struct {
        uint32_t polarity_active_low : 1; /* modulate the low level instead of the high one */
        uint32_t always_on : 1;           /* keep the carrier when no transmission runs */
    } flags;
} rmt_carrier_config_t;

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_RMT_TYPES_H */
