/* ESP-IDF GPIO driver over the board's input schedule. */
#include "driver/gpio.h"

#include "esp_internal.h"

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

static bool pin_ok(gpio_num_t pin)
{
    return pin >= 0 && pin < GPIO_NUM_MAX;
}

esp_err_t gpio_config(const gpio_config_t *cfg)
{
    if (cfg == NULL || cfg->pin_bit_mask == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    for (int pin = 0; pin < GPIO_NUM_MAX; pin++) {
        if (cfg->pin_bit_mask & (1ULL << pin)) {
            set_pull(pin, cfg->pull_up_en ? 1 : cfg->pull_down_en ? 0 : -1);
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
    return ESP_OK;
}

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode)
{
    (void)mode;
    return pin_ok(gpio_num) ? ESP_OK : ESP_ERR_INVALID_ARG;
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
    return 0;
}

esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level)
{
    (void)level; /* outputs are not observed on the simulated board */
    return pin_ok(gpio_num) ? ESP_OK : ESP_ERR_INVALID_ARG;
}
