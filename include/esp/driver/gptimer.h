/*
 * ESP-IDF v5.5's general purpose timer driver (driver/gptimer.h) on the simulated board: a
 * started timer counts at resolution_hz, up or down, on the board's virtual clock. Alarms and
 * their callbacks are not modelled.
 */
#ifndef DRIVER_GPTIMER_H
#define DRIVER_GPTIMER_H

#include <stdint.h>

#include "esp_err.h"
#include "hal/timer_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gptimer_t *gptimer_handle_t;

typedef struct {
    gptimer_clock_source_t clk_src;
    gptimer_count_direction_t direction;
    uint32_t resolution_hz; /* at most the source's frequency */
    int intr_priority;      /* accepted, no interrupts on the board */
    struct {
        uint32_t intr_shared : 1;
        uint32_t allow_pd : 1;
        uint32_t backup_before_sleep : 1;
    } flags;
} gptimer_config_t;

esp_err_t gptimer_new_timer(const gptimer_config_t *config, gptimer_handle_t *ret_timer);
esp_err_t gptimer_del_timer(gptimer_handle_t timer);
esp_err_t gptimer_enable(gptimer_handle_t timer);
esp_err_t gptimer_disable(gptimer_handle_t timer);
esp_err_t gptimer_start(gptimer_handle_t timer);
esp_err_t gptimer_stop(gptimer_handle_t timer);
esp_err_t gptimer_set_raw_count(gptimer_handle_t timer, uint64_t value);
esp_err_t gptimer_get_raw_count(gptimer_handle_t timer, uint64_t *value);
esp_err_t gptimer_get_resolution(gptimer_handle_t timer, uint32_t *out_resolution);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_GPTIMER_H */
