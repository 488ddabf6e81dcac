/*
 * Pulse counter units (driver/pulse_cnt.h) on the board's virtual clock. A running unit's count
 * is brought up to date whenever it is read or a signal changes (pcnt_sync_all): each channel
 * adds the edges an RMT channel drove on its edge pin since the last update, by its edge
 * actions and the level of its level pin. The counter wraps to 0 at its limits as the chip's
 * does; with accum_count, a limit that is a watch point adds its value to the reported count.
 */
#include <stdlib.h>

#include "driver/gpio.h"
#include "driver/pulse_cnt.h"
#include "esp_log.h"
#include "periph_priv.h"

#define PCNT_UNITS 8
#define PCNT_CHANNELS 2
#define PCNT_WATCH_POINTS 5 /* high and low limit, two thresholds, zero */
#define PCNT_MAX_GLITCH_NS 12787u /* 1023 APB cycles */

static const char *TAG = "pcnt";

typedef enum { UNIT_INIT, UNIT_ENABLED } unit_state_t;

struct pcnt_chan_t {
    struct pcnt_unit_t *unit;
    int edge_pin, level_pin;
    bool invert_edge, invert_level;
    int level_virt; /* level when level_pin is -1 */
    pcnt_channel_edge_action_t pos, neg;
    pcnt_channel_level_action_t high, low;
};

struct pcnt_unit_t {
    int low, high;
    bool accum;
    unit_state_t state;
    bool running;
    uint64_t synced; /* ns: the count includes the edges up to here */
    int raw;         /* the hardware counter */
    int64_t accum_value;
    int watch[PCNT_WATCH_POINTS];
    int nwatch;
    struct pcnt_chan_t *chan[PCNT_CHANNELS];
};

static struct pcnt_unit_t *g_unit[PCNT_UNITS];

static bool watched(const struct pcnt_unit_t *u, int value)
{
    for (int i = 0; i < u->nwatch; i++) {
        if (u->watch[i] == value) {
            return true;
        }
    }
    return false;
}

static int step(pcnt_channel_edge_action_t act, pcnt_channel_level_action_t lvl)
{
    int s = act == PCNT_CHANNEL_EDGE_ACTION_INCREASE ? 1
            : act == PCNT_CHANNEL_EDGE_ACTION_DECREASE ? -1 : 0;
    return lvl == PCNT_CHANNEL_LEVEL_ACTION_HOLD ? 0
           : lvl == PCNT_CHANNEL_LEVEL_ACTION_INVERSE ? -s : s;
}

/* The count a channel adds over (from, to]. */
static int64_t chan_delta(const struct pcnt_chan_t *c, uint64_t from, uint64_t to)
{
    uint64_t rise = 0, fall = 0;
    if (c->edge_pin < 0 || !rmt_pin_edges(c->edge_pin, from, to, &rise, &fall)) {
        return 0;
    }
    if (c->invert_edge) {
        uint64_t t = rise;
        rise = fall;
        fall = t;
    }
    int level = c->level_virt;
    if (c->level_pin >= 0) {
        level = rmt_pin_level(c->level_pin, to);
        level = level >= 0 ? level : gpio_get_level(c->level_pin);
    }
    level ^= c->invert_level;
    pcnt_channel_level_action_t la = level ? c->high : c->low;
    return (int64_t)rise * step(c->pos, la) + (int64_t)fall * step(c->neg, la);
}

/* Adds delta to the hardware counter, wrapping at the limits. */
static void count(struct pcnt_unit_t *u, int64_t delta)
{
    int64_t raw = u->raw + delta;
    if (raw >= u->high) {
        int64_t wraps = raw / u->high;
        raw -= wraps * u->high;
        u->accum_value += (u->accum && watched(u, u->high)) ? wraps * u->high : 0;
    } else if (raw <= u->low) {
        int64_t wraps = raw / u->low;
        raw -= wraps * u->low;
        u->accum_value += (u->accum && watched(u, u->low)) ? wraps * u->low : 0;
    }
    u->raw = (int)raw;
}

static void sync_unit(struct pcnt_unit_t *u, uint64_t now)
{
    if (u->running && now > u->synced) {
        int64_t delta = 0;
        for (int i = 0; i < PCNT_CHANNELS; i++) {
            delta += u->chan[i] ? chan_delta(u->chan[i], u->synced, now) : 0;
        }
        count(u, delta);
    }
    u->synced = now;
}

void pcnt_sync_all(void)
{
    uint64_t now = periph_now_ns();
    for (int i = 0; i < PCNT_UNITS; i++) {
        if (g_unit[i] != NULL) {
            sync_unit(g_unit[i], now);
        }
    }
}

static int unit_slot(pcnt_unit_handle_t unit)
{
    for (int i = 0; unit != NULL && i < PCNT_UNITS; i++) {
        if (g_unit[i] == unit) {
            return i;
        }
    }
    return -1;
}

esp_err_t pcnt_new_unit(const pcnt_unit_config_t *config, pcnt_unit_handle_t *ret_unit)
{
    if (config == NULL || ret_unit == NULL || config->low_limit >= 0 ||
        config->high_limit <= 0 || config->low_limit < -32768 || config->high_limit > 32767) {
        ESP_LOGE(TAG, "pcnt_new_unit(%d): invalid limit range", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    int slot = -1;
    for (int i = PCNT_UNITS - 1; i >= 0; i--) {
        slot = g_unit[i] == NULL ? i : slot;
    }
    struct pcnt_unit_t *u = slot < 0 ? NULL : calloc(1, sizeof(*u));
    if (u != NULL) {
        u->low = config->low_limit;
        u->high = config->high_limit;
        u->accum = config->flags.accum_count;
        u->synced = periph_now_ns();
        g_unit[slot] = u;
    }
    periph_unlock();
    if (u == NULL) {
        ESP_LOGE(TAG, "pcnt_register_to_group(%d): no free unit", __LINE__);
        return slot < 0 ? ESP_ERR_NOT_FOUND : ESP_ERR_NO_MEM;
    }
    *ret_unit = u;
    return ESP_OK;
}

esp_err_t pcnt_del_unit(pcnt_unit_handle_t unit)
{
    periph_lock();
    int slot = unit_slot(unit);
    esp_err_t err = slot < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK && (unit->state != UNIT_INIT || unit->chan[0] || unit->chan[1])) {
        ESP_LOGE(TAG, "pcnt_del_unit(%d): unit not in init state or channels not deleted",
                 __LINE__);
        err = ESP_ERR_INVALID_STATE;
    }
    if (err == ESP_OK) {
        g_unit[slot] = NULL;
        free(unit);
    }
    periph_unlock();
    return err;
}

esp_err_t pcnt_unit_set_glitch_filter(pcnt_unit_handle_t unit,
                                      const pcnt_glitch_filter_config_t *config)
{
    if (config != NULL && config->max_glitch_ns > PCNT_MAX_GLITCH_NS) {
        ESP_LOGE(TAG, "pcnt_unit_set_glitch_filter(%d): glitch width out of range", __LINE__);
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG
                    : unit->state != UNIT_INIT ? ESP_ERR_INVALID_STATE : ESP_OK;
    periph_unlock();
    return err; /* the board's signals have no glitches to filter */
}

/* Moves a unit between states; want is the state it must be in. */
static esp_err_t transition(pcnt_unit_handle_t unit, unit_state_t want, unit_state_t to,
                            const char *what)
{
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG
                    : unit->state != want ? ESP_ERR_INVALID_STATE : ESP_OK;
    if (err == ESP_OK) {
        sync_unit(unit, periph_now_ns());
        unit->state = to;
    }
    periph_unlock();
    if (err == ESP_ERR_INVALID_STATE) {
        ESP_LOGE(TAG, "%s(%d): unit in a wrong state", what, __LINE__);
    }
    return err;
}

esp_err_t pcnt_unit_enable(pcnt_unit_handle_t unit)
{
    return transition(unit, UNIT_INIT, UNIT_ENABLED, "pcnt_unit_enable");
}

esp_err_t pcnt_unit_disable(pcnt_unit_handle_t unit)
{
    esp_err_t err = transition(unit, UNIT_ENABLED, UNIT_INIT, "pcnt_unit_disable");
    if (err == ESP_OK) {
        unit->running = false;
    }
    return err;
}

static esp_err_t run(pcnt_unit_handle_t unit, bool on, const char *what)
{
    esp_err_t err = transition(unit, UNIT_ENABLED, UNIT_ENABLED, what);
    if (err == ESP_OK) {
        periph_lock();
        unit->running = on;
        periph_unlock();
    }
    return err;
}

esp_err_t pcnt_unit_start(pcnt_unit_handle_t unit)
{
    return run(unit, true, "pcnt_unit_start");
}

esp_err_t pcnt_unit_stop(pcnt_unit_handle_t unit)
{
    return run(unit, false, "pcnt_unit_stop");
}

esp_err_t pcnt_unit_clear_count(pcnt_unit_handle_t unit)
{
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        sync_unit(unit, periph_now_ns());
        unit->raw = 0;
        unit->accum_value = 0;
    }
    periph_unlock();
    return err;
}

esp_err_t pcnt_unit_get_count(pcnt_unit_handle_t unit, int *value)
{
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 || value == NULL ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK) {
        sync_unit(unit, periph_now_ns());
        *value = (int)(unit->accum_value + unit->raw);
    }
    periph_unlock();
    return err;
}

esp_err_t pcnt_unit_add_watch_point(pcnt_unit_handle_t unit, int watch_point)
{
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG : ESP_OK;
    if (err == ESP_OK && (watch_point < unit->low || watch_point > unit->high)) {
        err = ESP_ERR_INVALID_ARG;
    } else if (err == ESP_OK && watched(unit, watch_point)) {
        err = ESP_ERR_INVALID_STATE;
    } else if (err == ESP_OK && unit->nwatch == PCNT_WATCH_POINTS) {
        err = ESP_ERR_NOT_FOUND;
    }
    if (err == ESP_OK) {
        sync_unit(unit, periph_now_ns());
        unit->watch[unit->nwatch++] = watch_point;
    }
    periph_unlock();
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "pcnt_unit_add_watch_point(%d): cannot watch %d", __LINE__, watch_point);
    }
    return err;
}

esp_err_t pcnt_unit_remove_watch_point(pcnt_unit_handle_t unit, int watch_point)
{
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG : ESP_ERR_INVALID_STATE;
    for (int i = 0; unit_slot(unit) >= 0 && i < unit->nwatch; i++) {
        if (unit->watch[i] == watch_point) {
            sync_unit(unit, periph_now_ns());
            unit->watch[i] = unit->watch[--unit->nwatch];
            err = ESP_OK;
            break;
        }
    }
    periph_unlock();
    return err;
}

esp_err_t pcnt_new_channel(pcnt_unit_handle_t unit, const pcnt_chan_config_t *config,
                           pcnt_channel_handle_t *ret_chan)
{
    if (config == NULL || ret_chan == NULL || config->edge_gpio_num >= GPIO_NUM_MAX ||
        config->level_gpio_num >= GPIO_NUM_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    esp_err_t err = unit_slot(unit) < 0 ? ESP_ERR_INVALID_ARG
                    : unit->state != UNIT_INIT ? ESP_ERR_INVALID_STATE : ESP_ERR_NOT_FOUND;
    for (int i = 0; err == ESP_ERR_NOT_FOUND && i < PCNT_CHANNELS; i++) {
        if (unit->chan[i] == NULL) {
            struct pcnt_chan_t *c = calloc(1, sizeof(*c));
            err = c == NULL ? ESP_ERR_NO_MEM : ESP_OK;
            if (c != NULL) {
                c->unit = unit;
                c->edge_pin = config->edge_gpio_num;
                c->level_pin = config->level_gpio_num;
                c->invert_edge = config->flags.invert_edge_input;
                c->invert_level = config->flags.invert_level_input;
                c->level_virt = config->flags.virt_level_io_level;
                unit->chan[i] = *ret_chan = c;
            }
        }
    }
    periph_unlock();
    return err;
}

esp_err_t pcnt_del_channel(pcnt_channel_handle_t chan)
{
    if (chan == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    struct pcnt_unit_t *u = chan->unit;
    esp_err_t err = u->state != UNIT_INIT ? ESP_ERR_INVALID_STATE : ESP_OK;
    for (int i = 0; err == ESP_OK && i < PCNT_CHANNELS; i++) {
        u->chan[i] = u->chan[i] == chan ? NULL : u->chan[i];
    }
    periph_unlock();
    if (err == ESP_OK) {
        free(chan);
    }
    return err;
}

static esp_err_t set_actions(pcnt_channel_handle_t chan, int a, int b, bool edge)
{
    if (chan == NULL || a < 0 || a > 2 || b < 0 || b > 2) {
        return ESP_ERR_INVALID_ARG;
    }
    periph_lock();
    sync_unit(chan->unit, periph_now_ns());
    if (edge) {
        chan->pos = (pcnt_channel_edge_action_t)a;
        chan->neg = (pcnt_channel_edge_action_t)b;
    } else {
        chan->high = (pcnt_channel_level_action_t)a;
        chan->low = (pcnt_channel_level_action_t)b;
    }
    periph_unlock();
    return ESP_OK;
}

esp_err_t pcnt_channel_set_edge_action(pcnt_channel_handle_t chan,
                                       pcnt_channel_edge_action_t pos_act,
                                       pcnt_channel_edge_action_t neg_act)
{
    return set_actions(chan, pos_act, neg_act, true);
}

esp_err_t pcnt_channel_set_level_action(pcnt_channel_handle_t chan,
                                        pcnt_channel_level_action_t high_act,
                                        pcnt_channel_level_action_t low_act)
{
    return set_actions(chan, high_act, low_act, false);
}
