/*
 * ESP-IDF v5.5's pulse counter driver (driver/pulse_cnt.h) on the simulated board. A unit counts
 * the edges of the signal on its channels' edge pins as the board's virtual clock advances: the
 * pulses an RMT channel sends on that pin (driver/rmt_tx.h), nothing on a pin that only holds a
 * level. Watch points bound the counter as on the chip (it wraps to 0 at a limit; with
 * flags.accum_count the driver keeps the overflows in the value it reports). Event callbacks,
 * step notification and the clear signal are not modelled.
 */
#ifndef DRIVER_PULSE_CNT_H
#define DRIVER_PULSE_CNT_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"
#include "hal/pcnt_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pcnt_unit_t *pcnt_unit_handle_t;
typedef struct pcnt_chan_t *pcnt_channel_handle_t;

typedef struct {
    int low_limit;     /* below 0 */
    int high_limit;    /* above 0 */
    int intr_priority; /* accepted, no interrupts on the board */
    struct {
        uint32_t accum_count : 1; /* report the count across limit overflows */
    } flags;
} pcnt_unit_config_t;

typedef struct {
    int edge_gpio_num;  /* pin whose edges count; -1: none */
    int level_gpio_num; /* pin whose level steers the edge action; -1: none */
    struct {
        uint32_t invert_edge_input : 1;
        uint32_t invert_level_input : 1;
        uint32_t virt_edge_io_level : 1;
        uint32_t virt_level_io_level : 1;
        uint32_t io_loop_back : 1;
    } flags;
} pcnt_chan_config_t;

typedef struct {
    uint32_t max_glitch_ns; /* pulses shorter than this are ignored */
} pcnt_glitch_filter_config_t;

esp_err_t pcnt_new_unit(const pcnt_unit_config_t *config, pcnt_unit_handle_t *ret_unit);
esp_err_t pcnt_del_unit(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_set_glitch_filter(pcnt_unit_handle_t unit,
                                      const pcnt_glitch_filter_config_t *config);
esp_err_t pcnt_unit_enable(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_disable(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_start(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_stop(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_clear_count(pcnt_unit_handle_t unit);
esp_err_t pcnt_unit_get_count(pcnt_unit_handle_t unit, int *value);
esp_err_t pcnt_unit_add_watch_point(pcnt_unit_handle_t unit, int watch_point);
esp_err_t pcnt_unit_remove_watch_point(pcnt_unit_handle_t unit, int watch_point);

esp_err_t pcnt_new_channel(pcnt_unit_handle_t unit, const pcnt_chan_config_t *config,
                           pcnt_channel_handle_t *ret_chan);
esp_err_t pcnt_del_channel(pcnt_channel_handle_t chan);
esp_err_t pcnt_channel_set_edge_action(pcnt_channel_handle_t chan,
                                       pcnt_channel_edge_action_t pos_act,
                                       pcnt_channel_edge_action_t neg_act);
esp_err_t pcnt_channel_set_level_action(pcnt_channel_handle_t chan,
                                        pcnt_channel_level_action_t high_act,
                                        pcnt_channel_level_action_t low_act);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_PULSE_CNT_H */
