/*
 * ESP-IDF high-resolution timers (esp_timer, v5.5 names and values) on the board's virtual
 * clock: time is microseconds since boot; callbacks run in the "esp_timer" task when the clock
 * reaches their alarm (both dispatch methods).
 */
#ifndef ESP_TIMER_H
#define ESP_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp_timer *esp_timer_handle_t;

typedef void (*esp_timer_cb_t)(void *arg);

typedef enum {
    ESP_TIMER_TASK,
    ESP_TIMER_ISR,
    ESP_TIMER_MAX,
} esp_timer_dispatch_t;

typedef struct {
    esp_timer_cb_t callback;
    void *arg;
    esp_timer_dispatch_t dispatch_method;
    const char *name;
    bool skip_unhandled_events; /* periodic: a late alarm is not caught up */
} esp_timer_create_args_t;

/* Creates a stopped timer (args may be on the stack). Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL
 * args, callback or out_handle; bad dispatch method) or ESP_ERR_NO_MEM. */
esp_err_t esp_timer_create(const esp_timer_create_args_t *create_args,
                           esp_timer_handle_t *out_handle);

/* Starts a one-shot timer timeout_us from now. Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL) or
 * ESP_ERR_INVALID_STATE (already running). */
esp_err_t esp_timer_start_once(esp_timer_handle_t timer, uint64_t timeout_us);

/* Starts a timer firing every period microseconds (at least 50). Returns ESP_OK,
 * ESP_ERR_INVALID_ARG or ESP_ERR_INVALID_STATE (already running). */
esp_err_t esp_timer_start_periodic(esp_timer_handle_t timer, uint64_t period);

/* Restarts a running timer timeout_us from now (a periodic one with that period). Returns ESP_OK,
 * ESP_ERR_INVALID_ARG or ESP_ERR_INVALID_STATE (not running). */
esp_err_t esp_timer_restart(esp_timer_handle_t timer, uint64_t timeout_us);

/* Stops a running timer. Returns ESP_OK, ESP_ERR_INVALID_ARG or ESP_ERR_INVALID_STATE (not
 * running). */
esp_err_t esp_timer_stop(esp_timer_handle_t timer);

/* Deletes a stopped timer. Returns ESP_OK, ESP_ERR_INVALID_ARG or ESP_ERR_INVALID_STATE
 * (running). */
esp_err_t esp_timer_delete(esp_timer_handle_t timer);

/* Microseconds since boot (the board's virtual clock). */
int64_t esp_timer_get_time(void);

/* Time of the earliest alarm of a running timer, or INT64_MAX if none. */
int64_t esp_timer_get_next_alarm(void);

/* As esp_timer_get_next_alarm, skipping timers made with skip_unhandled_events. */
int64_t esp_timer_get_next_alarm_for_wake_up(void);

/* Period of timer (0 for one-shot). Returns ESP_OK or ESP_ERR_INVALID_ARG. */
esp_err_t esp_timer_get_period(esp_timer_handle_t timer, uint64_t *period);

/* Alarm time of a one-shot timer. Returns ESP_OK, ESP_ERR_INVALID_ARG or ESP_ERR_NOT_SUPPORTED
 * (periodic). */
esp_err_t esp_timer_get_expiry_time(esp_timer_handle_t timer, uint64_t *expiry);

/* Prints the running timers (name, period, alarm) to stream. Returns ESP_OK. */
esp_err_t esp_timer_dump(FILE *stream);

/* True while timer is running. */
bool esp_timer_is_active(esp_timer_handle_t timer);

#ifdef __cplusplus
}
#endif

#endif /* ESP_TIMER_H */
