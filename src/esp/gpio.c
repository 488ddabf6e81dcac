/* ESP-IDF GPIO driver over the board's input schedule and its driven outputs. */
#include "driver/gpio.h"

#include "esp_internal.h"

/* The output register and output enable of each pin in this boot. */
static uint8_t g_out_level[GPIO_NUM_MAX];
static bool g_out_enabled[GPIO_NUM_MAX];

static const esp_dev_config_t *board(void)
{
    return esp_dev_installed() ? esp_internal_config() : NULL;
}

static void set_pull(gpio_num_t pin, int pull)
{
    const esp_dev_config_t *cfg = board();
    if (cfg != NULL && cfg->gpio_pull != NULL) {
        cfg->gpio_pull(cfg->board_ctx, pin, pull);
    }
}

/* Tells the board what the pin drives now: its output level when enabled, else nothing. */
static void update_drive(gpio_num_t pin)
{
    const esp_dev_config_t *cfg = board();
    if (cfg != NULL && cfg->gpio_drive != NULL) {
        cfg->gpio_drive(cfg->board_ctx, pin, g_out_enabled[pin] ? g_out_level[pin] : -1);
    }
}

static bool pin_ok(gpio_num_t pin)
{
    return pin >= 0 && pin < GPIO_NUM_MAX;
}

static void set_mode(gpio_num_t pin, gpio_mode_t mode)
{
    g_out_enabled[pin] = (mode & GPIO_MODE_OUTPUT) != 0;
    update_drive(pin);
}

esp_err_t gpio_config(const gpio_config_t *cfg)
{
    if (cfg == NULL || cfg->pin_bit_mask == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    for (int pin = 0; pin < GPIO_NUM_MAX; pin++) {
        if (cfg->pin_bit_mask & (1ULL << pin)) {
            set_pull(pin, cfg->pull_up_en ? 1 : cfg->pull_down_en ? 0 : -1);
            set_mode(pin, cfg->mode);
        }
    }
    return ESP_OK;
}

esp_err_t gpio_reset_pin(gpio_num_t gpio_num)
{
    if (!pin_ok(gpio_num)) {
        return ESP_ERR_INVALID_ARG;
    }
    set_pull(gpio_num, 1); /* ESP-IDF resets a pin to input with pull-up */
    g_out_level[gpio_num] = 0;
    set_mode(gpio_num, GPIO_MODE_INPUT);
    return ESP_OK;
}

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode)
{
    if (!pin_ok(gpio_num)) {
        return ESP_ERR_INVALID_ARG;
    }
    set_mode(gpio_num, mode);
    return ESP_OK;
}

esp_err_t gpio_set_pull_mode(gpio_num_t gpio_num, gpio_pull_mode_t pull)
{
    if (!pin_ok(gpio_num)) {
        return ESP_ERR_INVALID_ARG;
    }
    set_pull(gpio_num, pull == GPIO_PULLUP_ONLY || pull == GPIO_PULLUP_PULLDOWN ? 1
                       : pull == GPIO_PULLDOWN_ONLY                             ? 0
                                                                                : -1);
    return ESP_OK;
}

int gpio_get_level(gpio_num_t gpio_num)
{
    const esp_dev_config_t *cfg = board();
    if (!pin_ok(gpio_num)) {
        return 0;
    }
    if (cfg != NULL && cfg->gpio_level != NULL) {
        return cfg->gpio_level(cfg->board_ctx, gpio_num);
    }
    return g_out_enabled[gpio_num] ? g_out_level[gpio_num] : 0;
}

esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level)
{
    if (!pin_ok(gpio_num)) {
        return ESP_ERR_INVALID_ARG;
    }
    g_out_level[gpio_num] = level != 0;
    update_drive(gpio_num);
    return ESP_OK;
}

esp_err_t gpio_hold_en(gpio_num_t gpio_num)
{
    return pin_ok(gpio_num) ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t gpio_hold_dis(gpio_num_t gpio_num)
{
    return pin_ok(gpio_num) ? ESP_OK : ESP_ERR_INVALID_ARG;
}
