/*
 * Sleep modes on the simulated board. Deep sleep advances the clock by the sleep time and hands
 * the end of the app to the board (esp_dev_config_t.deep_sleep), which boots again with a
 * deep-sleep reset; light sleep only advances the clock.
 */
#include "esp_sleep.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "esp_internal.h"
#include "esp_system.h"
#include "ota/ota_clock.h"

static struct {
    bool timer;
    uint64_t timer_us;
} wake;

esp_err_t esp_sleep_enable_timer_wakeup(uint64_t time_in_us)
{
    wake.timer = true;
    wake.timer_us = time_in_us;
    return ESP_OK;
}

esp_err_t esp_sleep_disable_wakeup_source(esp_sleep_source_t source)
{
    if (source == ESP_SLEEP_WAKEUP_ALL || (source == ESP_SLEEP_WAKEUP_TIMER && wake.timer)) {
        wake.timer = false;
        return ESP_OK;
    }
    return ESP_ERR_INVALID_STATE;
}

void esp_deep_sleep_start(void)
{
    fflush(NULL);
    bool timer = wake.timer;
    if (timer) {
        ota_clock_advance_us(wake.timer_us);
    }
    const esp_dev_config_t *cfg = esp_dev_installed() ? esp_internal_config() : NULL;
    if (cfg != NULL && cfg->deep_sleep != NULL) {
        cfg->deep_sleep(cfg->restart_ctx, timer);
    }
    exit(0);
}

void esp_deep_sleep(uint64_t time_in_us)
{
    esp_sleep_enable_timer_wakeup(time_in_us);
    esp_deep_sleep_start();
}

esp_err_t esp_deep_sleep_try_to_start(void)
{
    esp_deep_sleep_start();
}

esp_err_t esp_deep_sleep_try(uint64_t time_in_us)
{
    esp_deep_sleep(time_in_us);
}

esp_err_t esp_light_sleep_start(void)
{
    if (!wake.timer) {
        return ESP_ERR_SLEEP_REJECT;
    }
    ota_clock_advance_us(wake.timer_us);
    return ESP_OK;
}

esp_sleep_wakeup_cause_t esp_sleep_get_wakeup_cause(void)
{
    return esp_reset_reason() == ESP_RST_DEEPSLEEP ? ESP_SLEEP_WAKEUP_TIMER
                                                   : ESP_SLEEP_WAKEUP_UNDEFINED;
}
