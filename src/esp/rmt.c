/*
 * RMT transmit channels (driver/rmt_tx.h) on the board's virtual clock. A channel's output is a
 * waveform in time: the idle level until a transmission, the levels of its symbols (durations in
 * ticks of resolution_hz), then the end-of-transmission level; while the channel is enabled a
 * carrier turns the active level into a square wave. The pulse counter reads the edges of that
 * waveform (rmt_pin_edges) between any two instants.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "driver/gpio.h"
#include "driver/rmt_tx.h"
#include "esp_log.h"
#include "ota/ota_clock.h"
#include "periph_priv.h"

#define RMT_CHANNELS 8

static const char *TAG = "rmt";

typedef struct {
    uint64_t end; /* ns */
    uint8_t level;
} rmt_seg_t;

struct rmt_channel_t {
    int pin;
    uint32_t src_hz;
    uint32_t resolution_hz;
    bool enabled;
    uint8_t idle_level;
    uint8_t eot_level;
    uint64_t t0;     /* start of the transmission (ns); UINT64_MAX: none yet */
    rmt_seg_t *segs; /* the transmission's levels */
    size_t nsegs;
    uint64_t period; /* carrier period (ns); 0: no carrier */
    uint64_t high;   /* the carrier's first part of a period (ns) */
    uint8_t active;  /* level the carrier modulates */
};

struct rmt_encoder_t {
    int kind; /* 1: copy encoder */
};

static pthread_mutex_t g_lock;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct rmt_channel_t *g_chan[RMT_CHANNELS];

static void lock_init(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

void periph_lock(void)
{
    pthread_once(&g_once, lock_init);
    pthread_mutex_lock(&g_lock);
}

void periph_unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

uint64_t periph_now_ns(void)
{
    return ota_clock_now_us() * 1000u;
}

static struct rmt_channel_t *chan_on(int pin)
{
    for (int i = 0; i < RMT_CHANNELS; i++) {
        if (g_chan[i] != NULL && g_chan[i]->pin == pin) {
            return g_chan[i];
        }
    }
    return NULL;
}

/* Times base + k * period (k >= kmin) in [lo, hi). */
static uint64_t ticks_in(uint64_t lo, uint64_t hi, uint64_t base, uint64_t period, uint64_t kmin)
{
    uint64_t first = base + kmin * period;
    if (hi <= lo || hi <= first) {
        return 0;
    }
    uint64_t below_hi = (hi - first - 1) / period + 1;
    uint64_t below_lo = lo <= first ? 0 : (lo - first - 1) / period + 1;
    return below_hi - below_lo;
}

/* Adds the edges in [from, to) of one constant-level stretch [s, e) that follows level prev (-1:
 * none). The carrier runs from origin: it leaves the active level at origin + k*period + high
 * and comes back at origin + k*period; a transition at s is itself the stretch's first edge. */
static void stretch_edges(const struct rmt_channel_t *c, uint64_t s, uint64_t e, int prev,
                          int level, uint64_t origin, uint64_t from, uint64_t to,
                          uint64_t *edge[2])
{
    bool transition = prev >= 0 && prev != level;
    if (transition && s >= from && s < to) {
        (*edge[level ? 0 : 1])++;
    }
    if (!c->enabled || c->period == 0 || level != c->active) {
        return;
    }
    uint64_t start = transition ? s + 1 : s;
    uint64_t lo = from > start ? from : start;
    uint64_t hi = to < e ? to : e;
    uint64_t away = ticks_in(lo, hi, origin + c->high, c->period, 0);
    uint64_t back = ticks_in(lo, hi, origin, c->period, 0);
    *edge[level ? 1 : 0] += away;
    *edge[level ? 0 : 1] += back;
}

bool rmt_pin_edges(int pin, uint64_t from, uint64_t to, uint64_t *rise, uint64_t *fall)
{
    *rise = *fall = 0;
    const struct rmt_channel_t *c = chan_on(pin);
    if (c == NULL) {
        return false;
    }
    uint64_t *edge[2] = {rise, fall};
    if (c->t0 == UINT64_MAX) {
        stretch_edges(c, 0, UINT64_MAX, -1, c->idle_level, 0, from, to, edge);
        return true;
    }
    stretch_edges(c, 0, c->t0, -1, c->idle_level, 0, from, to, edge);
    int prev = c->idle_level;
    uint64_t s = c->t0;
    for (size_t i = 0; i < c->nsegs; i++) {
        stretch_edges(c, s, c->segs[i].end, prev, c->segs[i].level, c->t0, from, to, edge);
        prev = c->segs[i].level;
        s = c->segs[i].end;
    }
    stretch_edges(c, s, UINT64_MAX, prev, c->eot_level, c->t0, from, to, edge);
    return true;
}

int rmt_pin_level(int pin, uint64_t t)
{
    const struct rmt_channel_t *c = chan_on(pin);
    if (c == NULL) {
        return -1;
    }
    if (c->t0 == UINT64_MAX || t < c->t0) {
        return c->idle_level;
    }
    for (size_t i = 0; i < c->nsegs; i++) {
        if (t < c->segs[i].end) {
            return c->segs[i].level;
        }
    }
    return c->eot_level;
}

static uint32_t source_hz(rmt_clock_source_t src)
{
    switch ((int)src) {
    case SOC_MOD_CLK_APB: return OTAKIT_CLK_APB_HZ;
    case SOC_MOD_CLK_REF_TICK: return OTAKIT_CLK_REF_TICK_HZ;
    case SOC_MOD_CLK_XTAL: return OTAKIT_CLK_XTAL_HZ;
    case SOC_MOD_CLK_RC_FAST: return OTAKIT_CLK_RC_FAST_HZ;
    default: return 0;
    }
}

static esp_err_t check_tx_config(const rmt_tx_channel_config_t *config, uint32_t *src_hz)
{
    if (config == NULL || config->gpio_num < 0 || config->gpio_num >= GPIO_NUM_MAX) {
        ESP_LOGE(TAG, "rmt_new_tx_channel(%d): invalid GPIO number", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    *src_hz = source_hz(config->clk_src);
    if (*src_hz == 0 || config->resolution_hz == 0 || config->resolution_hz > *src_hz) {
        ESP_LOGE(TAG, "rmt_new_tx_channel(%d): invalid clock source or resolution", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    if (config->mem_block_symbols < 64 || (config->mem_block_symbols & 1) ||
        config->trans_queue_depth == 0) {
        ESP_LOGE(TAG, "rmt_new_tx_channel(%d): mem_block_symbols must be even and at least 64, "
                      "trans_queue_depth at least 1", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

esp_err_t rmt_new_tx_channel(const rmt_tx_channel_config_t *config, rmt_channel_handle_t *ret_chan)
{
    uint32_t src_hz;
    esp_err_t err = ret_chan == NULL ? ESP_ERR_INVALID_ARG : check_tx_config(config, &src_hz);
    if (err != ESP_OK) {
        return err;
    }
    periph_lock();
    int slot = -1;
    for (int i = RMT_CHANNELS - 1; i >= 0; i--) {
        slot = g_chan[i] == NULL ? i : slot;
    }
    struct rmt_channel_t *c = slot < 0 ? NULL : calloc(1, sizeof(*c));
    if (c != NULL) {
        pcnt_sync_all();
        c->pin = config->gpio_num;
        c->src_hz = src_hz;
        c->resolution_hz = config->resolution_hz;
        c->idle_level = config->flags.init_level;
        c->t0 = UINT64_MAX;
        c->active = 1;
        g_chan[slot] = c;
    }
    periph_unlock();
    if (c == NULL) {
        ESP_LOGE(TAG, "rmt_tx_register_to_group(%d): all tx channels are used", __LINE__);
        return slot < 0 ? ESP_ERR_NOT_FOUND : ESP_ERR_NO_MEM;
    }
    *ret_chan = c;
    return ESP_OK;
}

static int slot_of(rmt_channel_handle_t channel)
{
    for (int i = 0; channel != NULL && i < RMT_CHANNELS; i++) {
        if (g_chan[i] == channel) {
            return i;
        }
    }
    return -1;
}

esp_err_t rmt_del_channel(rmt_channel_handle_t channel)
{
    periph_lock();
    int slot = slot_of(channel);
    esp_err_t err = slot < 0 ? ESP_ERR_INVALID_ARG : channel->enabled ? ESP_ERR_INVALID_STATE : ESP_OK;
    if (err == ESP_OK) {
        pcnt_sync_all();
        g_chan[slot] = NULL;
        free(channel->segs);
        free(channel);
    }
    periph_unlock();
    if (err == ESP_ERR_INVALID_STATE) {
        ESP_LOGE(TAG, "rmt_del_channel(%d): channel not in init state", __LINE__);
    }
    return err;
}

esp_err_t rmt_apply_carrier(rmt_channel_handle_t channel, const rmt_carrier_config_t *config)
{
    if (config != NULL && (config->frequency_hz == 0 || config->duty_cycle <= 0 ||
                           config->duty_cycle >= 1)) {
        if (config->frequency_hz != 0) {
            ESP_LOGE(TAG, "rmt_apply_carrier(%d): invalid duty cycle", __LINE__);
            return ESP_ERR_INVALID_ARG;
        }
        config = NULL; /* frequency 0 removes the carrier */
    }
    periph_lock();
    esp_err_t err = slot_of(channel) < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        pcnt_sync_all();
        channel->period = config ? 1000000000ull / config->frequency_hz : 0;
        channel->high = config ? (uint64_t)((double)channel->period * config->duty_cycle + 0.5) : 0;
        channel->active = config ? !config->flags.polarity_active_low : 1;
    }
    periph_unlock();
    return err;
}

static esp_err_t set_enabled(rmt_channel_handle_t channel, bool on)
{
    periph_lock();
    esp_err_t err = slot_of(channel) < 0 ? ESP_ERR_INVALID_ARG
                    : channel->enabled == on ? ESP_ERR_INVALID_STATE : ESP_OK;
    if (err == ESP_OK) {
        pcnt_sync_all();
        channel->enabled = on;
    }
    periph_unlock();
    if (err == ESP_ERR_INVALID_STATE) {
        ESP_LOGE(TAG, "rmt_%s(%d): channel %s", on ? "enable" : "disable", __LINE__,
                 on ? "not in init state" : "not enabled yet");
    }
    return err;
}

esp_err_t rmt_enable(rmt_channel_handle_t channel)
{
    return set_enabled(channel, true);
}

esp_err_t rmt_disable(rmt_channel_handle_t channel)
{
    return set_enabled(channel, false);
}

esp_err_t rmt_new_copy_encoder(const rmt_copy_encoder_config_t *config,
                               rmt_encoder_handle_t *ret_encoder)
{
    if (config == NULL || ret_encoder == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    struct rmt_encoder_t *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return ESP_ERR_NO_MEM;
    }
    e->kind = 1;
    *ret_encoder = e;
    return ESP_OK;
}

esp_err_t rmt_del_encoder(rmt_encoder_handle_t encoder)
{
    if (encoder == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    free(encoder);
    return ESP_OK;
}

esp_err_t rmt_encoder_reset(rmt_encoder_handle_t encoder)
{
    return encoder == NULL ? ESP_ERR_INVALID_ARG : ESP_OK;
}

/* The levels of symbols sent from t0, up to the first zero duration. */
static size_t encode(const rmt_symbol_word_t *sym, size_t n, uint64_t t0, uint32_t hz,
                     rmt_seg_t *out)
{
    size_t k = 0;
    uint64_t ticks = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t dur[2] = {sym[i].duration0, sym[i].duration1};
        uint8_t lvl[2] = {sym[i].level0, sym[i].level1};
        for (int h = 0; h < 2; h++) {
            if (dur[h] == 0) {
                return k;
            }
            ticks += dur[h];
            out[k].end = t0 + ticks * 1000000000ull / hz;
            out[k++].level = lvl[h];
        }
    }
    return k;
}

esp_err_t rmt_transmit(rmt_channel_handle_t tx_channel, rmt_encoder_handle_t encoder,
                       const void *payload, size_t payload_bytes,
                       const rmt_transmit_config_t *config)
{
    if (encoder == NULL || payload == NULL || config == NULL || payload_bytes == 0 ||
        payload_bytes % sizeof(rmt_symbol_word_t) != 0 || config->loop_count != 0) {
        ESP_LOGE(TAG, "rmt_transmit(%d): invalid argument", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    size_t n = payload_bytes / sizeof(rmt_symbol_word_t);
    rmt_seg_t *segs = malloc(2 * n * sizeof(*segs));
    if (segs == NULL) {
        return ESP_ERR_NO_MEM;
    }
    periph_lock();
    esp_err_t err = slot_of(tx_channel) < 0 ? ESP_ERR_INVALID_ARG
                    : !tx_channel->enabled ? ESP_ERR_INVALID_STATE : ESP_OK;
    if (err == ESP_OK) {
        pcnt_sync_all();
        /* The new transmission starts from the level the pin has now. */
        uint64_t now = periph_now_ns();
        tx_channel->idle_level = (uint8_t)rmt_pin_level(tx_channel->pin, now);
        free(tx_channel->segs);
        tx_channel->t0 = now;
        tx_channel->nsegs = encode(payload, n, now, tx_channel->resolution_hz, segs);
        tx_channel->segs = segs;
        tx_channel->eot_level = config->flags.eot_level;
        segs = NULL;
    }
    periph_unlock();
    free(segs);
    if (err == ESP_ERR_INVALID_STATE) {
        ESP_LOGE(TAG, "rmt_transmit(%d): channel not enabled", __LINE__);
    }
    return err;
}

/* Waits, on the board's clock, for the last symbol to leave the channel. */
esp_err_t rmt_tx_wait_all_done(rmt_channel_handle_t tx_channel, int timeout_ms)
{
    periph_lock();
    int slot = slot_of(tx_channel);
    uint64_t end = 0;
    if (slot >= 0 && tx_channel->nsegs > 0) {
        end = tx_channel->segs[tx_channel->nsegs - 1].end;
    }
    periph_unlock();
    if (slot < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    uint64_t now = periph_now_ns();
    if (end <= now) {
        return ESP_OK;
    }
    uint64_t wait_us = (end - now + 999) / 1000;
    if (timeout_ms >= 0 && wait_us > (uint64_t)timeout_ms * 1000u) {
        ota_clock_advance_us((uint64_t)timeout_ms * 1000u);
        return ESP_ERR_TIMEOUT;
    }
    ota_clock_advance_us(wait_us);
    return ESP_OK;
}
