/*
 * The RMT, pulse counter and general purpose timer drivers on the virtual clock: a pulse counter
 * counts the edges an RMT channel drives on its pin as time advances (test_utils' reference
 * clock on the ESP32), limits wrap the counter, watch points make accum_count keep the count,
 * and a timer counts at its resolution while it runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include "driver/gptimer.h"
#include "driver/pulse_cnt.h"
#include "driver/rmt_tx.h"
#include "ota/ota_clock.h"

#define PIN 0

typedef struct {
    rmt_channel_handle_t rmt;
    rmt_encoder_handle_t enc;
    pcnt_unit_handle_t unit;
    pcnt_channel_handle_t chan;
} rig_t;

/* A pulse counter on PIN counting both edges, limits +/-limit (watched when watch). */
static void counter(rig_t *r, int limit, bool accum, bool watch)
{
    pcnt_unit_config_t ucfg = {.high_limit = limit, .low_limit = -100};
    ucfg.flags.accum_count = accum;
    assert_int_equal(pcnt_new_unit(&ucfg, &r->unit), ESP_OK);
    pcnt_chan_config_t ccfg = {.edge_gpio_num = PIN, .level_gpio_num = -1};
    assert_int_equal(pcnt_new_channel(r->unit, &ccfg, &r->chan), ESP_OK);
    assert_int_equal(pcnt_channel_set_edge_action(r->chan, PCNT_CHANNEL_EDGE_ACTION_INCREASE,
                                                  PCNT_CHANNEL_EDGE_ACTION_INCREASE), ESP_OK);
    if (watch) {
        assert_int_equal(pcnt_unit_add_watch_point(r->unit, limit), ESP_OK);
        assert_int_equal(pcnt_unit_add_watch_point(r->unit, limit), ESP_ERR_INVALID_STATE);
    }
    assert_int_equal(pcnt_unit_enable(r->unit), ESP_OK);
    assert_int_equal(pcnt_unit_start(r->unit), ESP_OK);
}

/* An RMT channel on PIN sending one high symbol and staying high, with a carrier of hz. */
static void carrier(rig_t *r, uint32_t hz)
{
    rmt_tx_channel_config_t tcfg = {.clk_src = RMT_CLK_SRC_REF_TICK, .gpio_num = PIN,
                                    .mem_block_symbols = 64, .resolution_hz = 10000,
                                    .trans_queue_depth = 1};
    assert_int_equal(rmt_new_tx_channel(&tcfg, &r->rmt), ESP_OK);
    rmt_carrier_config_t ccfg = {.duty_cycle = 0.5, .frequency_hz = hz};
    assert_int_equal(rmt_apply_carrier(r->rmt, &ccfg), ESP_OK);
    assert_int_equal(rmt_enable(r->rmt), ESP_OK);
    static const rmt_copy_encoder_config_t ecfg;
    assert_int_equal(rmt_new_copy_encoder(&ecfg, &r->enc), ESP_OK);
    rmt_symbol_word_t sym = {.level0 = 1, .duration0 = 1, .level1 = 1, .duration1 = 0};
    rmt_transmit_config_t xcfg = {.loop_count = 0};
    xcfg.flags.eot_level = 1;
    assert_int_equal(rmt_transmit(r->rmt, r->enc, &sym, sizeof(sym), &xcfg), ESP_OK);
}

static void teardown_rig(rig_t *r)
{
    assert_int_equal(pcnt_unit_stop(r->unit), ESP_OK);
    assert_int_equal(pcnt_del_unit(r->unit), ESP_ERR_INVALID_STATE); /* enabled, channel */
    assert_int_equal(pcnt_unit_disable(r->unit), ESP_OK);
    assert_int_equal(pcnt_del_channel(r->chan), ESP_OK);
    assert_int_equal(pcnt_del_unit(r->unit), ESP_OK);
    assert_int_equal(rmt_del_channel(r->rmt), ESP_ERR_INVALID_STATE); /* still enabled */
    assert_int_equal(rmt_disable(r->rmt), ESP_OK);
    assert_int_equal(rmt_del_channel(r->rmt), ESP_OK);
    assert_int_equal(rmt_del_encoder(r->enc), ESP_OK);
}

static int count(const rig_t *r)
{
    int v = -1;
    assert_int_equal(pcnt_unit_get_count(r->unit, &v), ESP_OK);
    return v;
}

/* test_utils' reference clock: a 500 kHz carrier gives one edge per microsecond. */
static void test_reference_clock(void **state)
{
    (void)state;
    rig_t r;
    ota_clock_set_us(1000);
    counter(&r, 30000, true, true);
    carrier(&r, 500000);
    assert_int_equal(count(&r), 0);
    ota_clock_advance_us(1000); /* the rising edge that starts the transmission, then 999 */
    assert_int_equal(count(&r), 1000);
    ota_clock_advance_us(100000); /* past three overflows of the 30000 limit */
    assert_int_equal(count(&r), 101000);
    assert_int_equal(pcnt_unit_stop(r.unit), ESP_OK);
    ota_clock_advance_us(500);
    assert_int_equal(count(&r), 101000); /* a stopped counter holds */
    assert_int_equal(pcnt_unit_start(r.unit), ESP_OK);
    ota_clock_advance_us(10);
    assert_int_equal(count(&r), 101010);
    assert_int_equal(pcnt_unit_clear_count(r.unit), ESP_OK);
    assert_int_equal(count(&r), 0);
    teardown_rig(&r);
}

/* Without a watch point on the limit, the count wraps as the hardware counter does. */
static void test_counter_wraps_at_limit(void **state)
{
    (void)state;
    rig_t r;
    ota_clock_set_us(0);
    counter(&r, 1000, true, false);
    carrier(&r, 50000); /* 20 us period: an edge every 10 us... */
    ota_clock_advance_us(25000); /* ...2500 edges: 2 * 1000 wrapped away */
    assert_int_equal(count(&r), 500);
    teardown_rig(&r);
}

static void test_argument_checks(void **state)
{
    (void)state;
    pcnt_unit_handle_t unit;
    pcnt_unit_config_t bad = {.high_limit = 0, .low_limit = -1};
    assert_int_equal(pcnt_new_unit(&bad, &unit), ESP_ERR_INVALID_ARG);
    rmt_channel_handle_t ch;
    rmt_tx_channel_config_t tcfg = {.clk_src = RMT_CLK_SRC_REF_TICK, .gpio_num = PIN,
                                    .mem_block_symbols = 64, .resolution_hz = 2000000,
                                    .trans_queue_depth = 1};
    /* REF_TICK is 1 MHz: 2 MHz ticks are impossible */
    assert_int_equal(rmt_new_tx_channel(&tcfg, &ch), ESP_ERR_INVALID_ARG);
    tcfg.resolution_hz = 1000;
    tcfg.mem_block_symbols = 48;
    assert_int_equal(rmt_new_tx_channel(&tcfg, &ch), ESP_ERR_INVALID_ARG);
}

static void test_gptimer_counts_virtual_time(void **state)
{
    (void)state;
    gptimer_handle_t t;
    gptimer_config_t cfg = {.clk_src = GPTIMER_CLK_SRC_XTAL, .direction = GPTIMER_COUNT_UP,
                            .resolution_hz = 1000000};
    ota_clock_set_us(5000);
    assert_int_equal(gptimer_new_timer(&cfg, &t), ESP_OK);
    assert_int_equal(gptimer_start(t), ESP_ERR_INVALID_STATE); /* not enabled */
    assert_int_equal(gptimer_enable(t), ESP_OK);
    assert_int_equal(gptimer_start(t), ESP_OK);
    ota_clock_advance_us(12345);
    uint64_t v = 0;
    assert_int_equal(gptimer_get_raw_count(t, &v), ESP_OK);
    assert_int_equal(v, 12345);
    assert_int_equal(gptimer_stop(t), ESP_OK);
    ota_clock_advance_us(1000);
    assert_int_equal(gptimer_get_raw_count(t, &v), ESP_OK);
    assert_int_equal(v, 12345);
    assert_int_equal(gptimer_del_timer(t), ESP_ERR_INVALID_STATE); /* still enabled */
    assert_int_equal(gptimer_disable(t), ESP_OK);
    assert_int_equal(gptimer_del_timer(t), ESP_OK);
    cfg.resolution_hz = 80000000; /* above the 40 MHz crystal */
    assert_int_equal(gptimer_new_timer(&cfg, &t), ESP_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_clock),
        cmocka_unit_test(test_counter_wraps_at_limit),
        cmocka_unit_test(test_argument_checks),
        cmocka_unit_test(test_gptimer_counts_virtual_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
