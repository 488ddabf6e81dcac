/*
 * ESP-IDF sleep modes (esp_sleep.h, v5.5 names and values) on the simulated board: the timer is
 * the one wake-up source. Deep sleep ends the app; after the sleep time (virtual) the chip boots
 * again with reset reason ESP_RST_DEEPSLEEP and wake-up cause ESP_SLEEP_WAKEUP_TIMER.
 */
#ifndef ESP_SLEEP_H
#define ESP_SLEEP_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_SLEEP_WAKEUP_UNDEFINED,
    ESP_SLEEP_WAKEUP_ALL,
    ESP_SLEEP_WAKEUP_EXT0,
    ESP_SLEEP_WAKEUP_EXT1,
    ESP_SLEEP_WAKEUP_TIMER,
    ESP_SLEEP_WAKEUP_TOUCHPAD,
    ESP_SLEEP_WAKEUP_ULP,
    ESP_SLEEP_WAKEUP_GPIO,
    ESP_SLEEP_WAKEUP_UART,
} esp_sleep_source_t;

typedef esp_sleep_source_t esp_sleep_wakeup_cause_t;

typedef enum {
    ESP_SLEEP_MODE_LIGHT_SLEEP,
    ESP_SLEEP_MODE_DEEP_SLEEP,
} esp_sleep_mode_t;

enum {
    ESP_ERR_SLEEP_REJECT = ESP_ERR_INVALID_STATE,
    ESP_ERR_SLEEP_TOO_SHORT_SLEEP_DURATION = ESP_ERR_INVALID_ARG,
};

/* Wakes the chip time_in_us after it enters a sleep mode. Returns ESP_OK. */
esp_err_t esp_sleep_enable_timer_wakeup(uint64_t time_in_us);

/* Disables a wake-up source (the timer, or ESP_SLEEP_WAKEUP_ALL). Returns ESP_OK, or
 * ESP_ERR_INVALID_STATE if it was not enabled. */
esp_err_t esp_sleep_disable_wakeup_source(esp_sleep_source_t source);

/*
 * Enters deep sleep: the app ends; with the timer enabled, the board boots again once the sleep
 * time has passed on its clock, else the chip sleeps until the board stops. Does not return.
 */
void esp_deep_sleep_start(void) __attribute__((__noreturn__));

/* esp_sleep_enable_timer_wakeup(time_in_us), then esp_deep_sleep_start(). */
void esp_deep_sleep(uint64_t time_in_us) __attribute__((__noreturn__));

/* As esp_deep_sleep_start / esp_deep_sleep: the board never rejects a sleep, so they do not
 * return. */
esp_err_t esp_deep_sleep_try_to_start(void);
esp_err_t esp_deep_sleep_try(uint64_t time_in_us);

/*
 * Light sleep: the whole chip pauses for the timer's time (the clock advances by it) and the
 * caller goes on. Returns ESP_OK, or ESP_ERR_SLEEP_REJECT when no timer wake-up is enabled (the
 * board would never wake).
 */
esp_err_t esp_light_sleep_start(void);

/* ESP_SLEEP_WAKEUP_TIMER after a deep-sleep wake-up, else ESP_SLEEP_WAKEUP_UNDEFINED. */
esp_sleep_wakeup_cause_t esp_sleep_get_wakeup_cause(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_SLEEP_H */
