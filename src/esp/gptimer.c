/*
 * General purpose timers (driver/gptimer.h) on the board's virtual clock: a running timer's
 * count is its value at the last start, stop or set, plus or minus the ticks of resolution_hz
 * since then.
 */
#include <stdlib.h>

#include "driver/gptimer.h"
#include "esp_log.h"
#include "periph_priv.h"

#define GPTIMER_COUNT 4

static const char *TAG = "gptimer";

struct gptimer_t {
    uint32_t resolution_hz;
    bool up;
    bool enabled, running;
    uint64_t base;    /* count at since_us */
    uint64_t since_us;
};

static struct gptimer_t *g_timer[GPTIMER_COUNT];

static uint32_t source_hz(gptimer_clock_source_t src)
{
    switch ((int)src) {
    case SOC_MOD_CLK_APB: return OTAKIT_CLK_APB_HZ;
    case SOC_MOD_CLK_PLL_F80M: return OTAKIT_CLK_APB_HZ;
    case SOC_MOD_CLK_XTAL: return OTAKIT_CLK_XTAL_HZ;
    case SOC_MOD_CLK_RC_FAST: return OTAKIT_CLK_RC_FAST_HZ;
    default: return 0;
    }
}

static int slot_of(gptimer_handle_t t)
{
    for (int i = 0; t != NULL && i < GPTIMER_COUNT; i++) {
        if (g_timer[i] == t) {
            return i;
        }
    }
    return -1;
}

/* Lock held. The count now. */
static uint64_t now_count(const struct gptimer_t *t)
{
    if (!t->running) {
        return t->base;
    }
    uint64_t us = periph_now_ns() / 1000u - t->since_us;
    uint64_t ticks = us / 1000000u * t->resolution_hz + us % 1000000u * t->resolution_hz / 1000000u;
    return t->up ? t->base + ticks : t->base - ticks;
}

esp_err_t gptimer_new_timer(const gptimer_config_t *config, gptimer_handle_t *ret_timer)
{
    if (config == NULL || ret_timer == NULL || config->resolution_hz == 0 ||
        config->resolution_hz > source_hz(config->clk_src)) {
        ESP_LOGE(TAG, "gptimer_new_timer(%d): invalid clock source or resolution", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    int slot = slot_of(NULL);
    for (int i = GPTIMER_COUNT - 1; i >= 0; i--) {
        slot = g_timer[i] == NULL ? i : slot;
    }
    struct gptimer_t *t = slot < 0 ? NULL : calloc(1, sizeof(*t));
    if (t != NULL) {
        t->resolution_hz = config->resolution_hz;
        t->up = config->direction == GPTIMER_COUNT_UP;
        g_timer[slot] = t;
    }
    periph_unlock();
    if (t == NULL) {
        ESP_LOGE(TAG, "gptimer_register_to_group(%d): no free timer", __LINE__);
        return slot < 0 ? ESP_ERR_NOT_FOUND : ESP_ERR_NO_MEM;
    }
    *ret_timer = t;
    return ESP_OK;
}

esp_err_t gptimer_del_timer(gptimer_handle_t timer)
{
    periph_lock();
    int slot = slot_of(timer);
    esp_err_t err = slot < 0 ? ESP_ERR_INVALID_ARG : timer->enabled ? ESP_ERR_INVALID_STATE : ESP_OK;
    if (err == ESP_OK) {
        g_timer[slot] = NULL;
        free(timer);
    }
    periph_unlock();
    return err;
}

/* Checks that timer is valid and enabled == want_enabled (and, if want_running >= 0, running
 * == want_running), then applies the change. */
static esp_err_t change(gptimer_handle_t timer, bool want_enabled, int want_running,
                        int enable_to, int run_to)
{
    periph_lock();
    esp_err_t err = slot_of(timer) < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK && (timer->enabled != want_enabled ||
                          (want_running >= 0 && timer->running != (bool)want_running))) {
        err = ESP_ERR_INVALID_STATE;
    }
    if (err == ESP_OK) {
        timer->base = now_count(timer);
        timer->since_us = periph_now_ns() / 1000u;
        timer->enabled = enable_to >= 0 ? (bool)enable_to : timer->enabled;
        timer->running = run_to >= 0 ? (bool)run_to : timer->running;
    }
    periph_unlock();
    if (err == ESP_ERR_INVALID_STATE) {
        ESP_LOGE(TAG, "timer in a wrong state");
    }
    return err;
}

esp_err_t gptimer_enable(gptimer_handle_t timer)
{
    return change(timer, false, -1, 1, -1);
}

esp_err_t gptimer_disable(gptimer_handle_t timer)
{
    return change(timer, true, 0, 0, -1);
}

esp_err_t gptimer_start(gptimer_handle_t timer)
{
    return change(timer, true, 0, -1, 1);
}

esp_err_t gptimer_stop(gptimer_handle_t timer)
{
    return change(timer, true, 1, -1, 0);
}

esp_err_t gptimer_set_raw_count(gptimer_handle_t timer, uint64_t value)
{
    periph_lock();
    esp_err_t err = slot_of(timer) < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        timer->base = value;
        timer->since_us = periph_now_ns() / 1000u;
    }
    periph_unlock();
    return err;
}

esp_err_t gptimer_get_raw_count(gptimer_handle_t timer, uint64_t *value)
{
    periph_lock();
    esp_err_t err = slot_of(timer) < 0 || value == NULL ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        *value = now_count(timer);
    }
    periph_unlock();
    return err;
}

esp_err_t gptimer_get_resolution(gptimer_handle_t timer, uint32_t *out_resolution)
{
    periph_lock();
    esp_err_t err = slot_of(timer) < 0 || out_resolution == NULL ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        *out_resolution = timer->resolution_hz;
    }
    periph_unlock();
    return err;
}
