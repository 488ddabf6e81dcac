/* ESP-IDF layer basics: error names, log line format and levels, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "esp_err.h"
#include "esp_log.h"
#include "ota/ota_clock.h"

static void test_err_names(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(esp_err_to_name(ESP_OK), "ESP_OK");
    assert_string_equal(esp_err_to_name(0x1503), "ESP_ERR_OTA_VALIDATE_FAILED");
    assert_string_equal(esp_err_to_name(0x104), "ESP_ERR_INVALID_SIZE");
    assert_string_equal(esp_err_to_name(0x9001), "ESP_ERR_HTTPS_OTA_IN_PROGRESS");
    assert_string_equal(esp_err_to_name(0x700A), "ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE");
    assert_string_equal(esp_err_to_name(0x12345), "UNKNOWN ERROR");
    assert_string_equal(esp_err_to_name_r(0x12345, buf, sizeof(buf)), "Unknown error 74565");
}

static void emit(void)
{
    ota_clock_set_us(1234567);
    ESP_LOGI("boot", "Loaded app from partition at offset 0x%x", 0x10000);
    ESP_LOGD("boot", "hidden at info level");
    ESP_LOGE("esp_ota_ops", "OTA image has invalid magic byte (expected 0xE9, saw 0x%02x)", 0);
    esp_log_level_set("quiet", ESP_LOG_ERROR);
    ESP_LOGW("quiet", "not shown");
    ESP_LOGE("quiet", "shown");
}

static void test_log_format(void **state)
{
    (void)state;
    char out[1024];
    esp_log_set_colors(0);
    test_capture_stdout(emit, out, sizeof(out));
    assert_string_equal(out, "I (1234) boot: Loaded app from partition at offset 0x10000\n"
                             "E (1234) esp_ota_ops: OTA image has invalid magic byte (expected "
                             "0xE9, saw 0x00)\n"
                             "E (1234) quiet: shown\n");
}

static void colored(void)
{
    ota_clock_set_us(5000);
    ESP_LOGI("t", "x");
    ESP_LOGW("t", "y");
}

static void test_log_colors(void **state)
{
    (void)state;
    char out[256];
    esp_log_set_colors(1);
    test_capture_stdout(colored, out, sizeof(out));
    esp_log_set_colors(0);
    assert_string_equal(out, "\033[0;32mI (5) t: x\033[0m\n\033[0;33mW (5) t: y\033[0m\n");
}

static void test_clock_attach(void **state)
{
    (void)state;
    uint64_t shared = 7000;
    ota_clock_attach(&shared);
    ota_clock_advance_us(3000);
    assert_int_equal(shared, 10000);
    assert_int_equal(ota_clock_now_ms(), 10);
    ota_clock_attach(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_log_format),
        cmocka_unit_test(test_log_colors),
        cmocka_unit_test(test_clock_attach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
