/*
 * ESP-IDF v5.5's RMT transmit driver (driver/rmt_tx.h) on the simulated board. A channel drives
 * its pin with the levels of the symbols it sends, in ticks of resolution_hz on the board's
 * virtual clock, then holds the end-of-transmission level; a carrier modulates the active level
 * while the channel is enabled. A pulse counter on the same pin counts those edges
 * (driver/pulse_cnt.h). rmt_transmit starts a transmission at once (one at a time: a new one
 * replaces the rest of the previous); rmt_tx_wait_all_done advances the clock to its end.
 * Loops (loop_count != 0), DMA, receive channels and sync managers are not modelled.
 */
#ifndef DRIVER_RMT_TX_H
#define DRIVER_RMT_TX_H

#include <stddef.h>
#include <stdint.h>

#include "driver/rmt_common.h"
#include "driver/rmt_encoder.h"
#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int gpio_num;                /* output pin */
    rmt_clock_source_t clk_src;  /* source of the channel's ticks */
    uint32_t resolution_hz;      /* tick rate */
    size_t mem_block_symbols;    /* at least 64, even */
    size_t trans_queue_depth;    /* at least 1 */
    int intr_priority;           /* accepted, no interrupts on the board */
    struct {
        uint32_t invert_out : 1;
        uint32_t with_dma : 1;
        uint32_t io_loop_back : 1;
        uint32_t io_od_mode : 1;
        uint32_t allow_pd : 1;
        uint32_t init_level : 1;
    } flags;
} rmt_tx_channel_config_t;

typedef struct {
    int loop_count; /* 0: send once */
    struct {
        uint32_t eot_level : 1;         /* level held after the last symbol */
        uint32_t queue_nonblocking : 1;
    } flags;
} rmt_transmit_config_t;

esp_err_t rmt_new_tx_channel(const rmt_tx_channel_config_t *config,
                             rmt_channel_handle_t *ret_chan);
esp_err_t rmt_transmit(rmt_channel_handle_t tx_channel, rmt_encoder_handle_t encoder,
                       const void *payload, size_t payload_bytes,
                       const rmt_transmit_config_t *config);
esp_err_t rmt_tx_wait_all_done(rmt_channel_handle_t tx_channel, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_RMT_TX_H */
