/*
 * ESP-IDF GPIO driver on the simulated board. Inputs read the board's GPIO schedule
 * (`otakit board run --gpio`) and the pull the app configured. An output pin drives its level
 * into the board, which keeps it across esp_restart (as a held pad does) until the app releases
 * it (gpio_reset_pin, input direction) or the power goes: the bootloader then reads that level,
 * which is how a test app asserts the factory-reset or test-app pin for its next boot.
 */
#ifndef DRIVER_GPIO_H_SHIM
#define DRIVER_GPIO_H_SHIM

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int gpio_num_t;
#define GPIO_NUM_NC (-1)
#define GPIO_NUM_0 0
#define GPIO_NUM_1 1
#define GPIO_NUM_2 2
#define GPIO_NUM_3 3
#define GPIO_NUM_4 4
#define GPIO_NUM_5 5
#define GPIO_NUM_6 6
#define GPIO_NUM_7 7
#define GPIO_NUM_8 8
#define GPIO_NUM_9 9
#define GPIO_NUM_10 10
#define GPIO_NUM_11 11
#define GPIO_NUM_12 12
#define GPIO_NUM_13 13
#define GPIO_NUM_14 14
#define GPIO_NUM_15 15
#define GPIO_NUM_16 16
#define GPIO_NUM_17 17
#define GPIO_NUM_18 18
#define GPIO_NUM_19 19
#define GPIO_NUM_20 20
#define GPIO_NUM_21 21
#define GPIO_NUM_22 22
#define GPIO_NUM_23 23
#define GPIO_NUM_24 24
#define GPIO_NUM_25 25
#define GPIO_NUM_26 26
#define GPIO_NUM_27 27
#define GPIO_NUM_28 28
#define GPIO_NUM_29 29
#define GPIO_NUM_30 30
#define GPIO_NUM_31 31
#define GPIO_NUM_32 32
#define GPIO_NUM_33 33
#define GPIO_NUM_34 34
#define GPIO_NUM_35 35
#define GPIO_NUM_36 36
#define GPIO_NUM_37 37
#define GPIO_NUM_38 38
#define GPIO_NUM_39 39
#define GPIO_NUM_40 40
#define GPIO_NUM_41 41
#define GPIO_NUM_42 42
#define GPIO_NUM_43 43
#define GPIO_NUM_44 44
#define GPIO_NUM_45 45
#define GPIO_NUM_46 46
#define GPIO_NUM_47 47
#define GPIO_NUM_48 48
#define GPIO_NUM_MAX 64

typedef enum {
    GPIO_MODE_DISABLE = 0,
    GPIO_MODE_INPUT = 1,
    GPIO_MODE_OUTPUT = 2,
    GPIO_MODE_OUTPUT_OD = 6,
    GPIO_MODE_INPUT_OUTPUT_OD = 7,
    GPIO_MODE_INPUT_OUTPUT = 3,
} gpio_mode_t;

typedef enum { GPIO_PULLUP_DISABLE = 0, GPIO_PULLUP_ENABLE = 1 } gpio_pullup_t;
typedef enum { GPIO_PULLDOWN_DISABLE = 0, GPIO_PULLDOWN_ENABLE = 1 } gpio_pulldown_t;
typedef enum { GPIO_INTR_DISABLE = 0 } gpio_int_type_t;
typedef enum {
    GPIO_PULLUP_ONLY,
    GPIO_PULLDOWN_ONLY,
    GPIO_PULLUP_PULLDOWN,
    GPIO_FLOATING,
} gpio_pull_mode_t;

typedef struct {
    uint64_t pin_bit_mask;
    gpio_mode_t mode;
    gpio_pullup_t pull_up_en;
    gpio_pulldown_t pull_down_en;
    gpio_int_type_t intr_type;
} gpio_config_t;

/* Configures every pin of cfg->pin_bit_mask: pulls, and the mode (an output mode starts driving
 * the pin's output level, 0 until set). ESP_OK; ESP_ERR_INVALID_ARG for NULL or an empty mask. */
esp_err_t gpio_config(const gpio_config_t *cfg);
/* Back to ESP-IDF's reset state: input with pull-up, output released. ESP_OK;
 * ESP_ERR_INVALID_ARG for a pin out of range. */
esp_err_t gpio_reset_pin(gpio_num_t gpio_num);
/* Sets the mode: an output mode drives the pin's output level, another releases it. ESP_OK;
 * ESP_ERR_INVALID_ARG for a pin out of range. */
esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode);
esp_err_t gpio_set_pull_mode(gpio_num_t gpio_num, gpio_pull_mode_t pull);
/* Level of an input: the board's setting for the pin at the current virtual time, else its
 * pull (pull-up → 1, otherwise 0). */
int gpio_get_level(gpio_num_t gpio_num);
/* Sets the output level of a pin (0 or non-zero = 1). It is driven when the pin is in an output
 * mode (now or later). ESP_OK; ESP_ERR_INVALID_ARG for a pin out of range. */
esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level);
/* Pad hold: accepted; a driven level is always kept across restarts on the board. ESP_OK;
 * ESP_ERR_INVALID_ARG for a pin out of range. */
esp_err_t gpio_hold_en(gpio_num_t gpio_num);
esp_err_t gpio_hold_dis(gpio_num_t gpio_num);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_GPIO_H_SHIM */
