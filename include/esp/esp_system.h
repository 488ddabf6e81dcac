/* ESP-IDF system calls: restart, reset reason, heap figures. */
#ifndef ESP_SYSTEM_H
#define ESP_SYSTEM_H

#include <stdint.h>

#include "esp_bit_defs.h"
#include "esp_err.h"
#include "otakit_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_RST_UNKNOWN,
    ESP_RST_POWERON,
    ESP_RST_EXT,
    ESP_RST_SW,
    ESP_RST_PANIC,
    ESP_RST_INT_WDT,
    ESP_RST_TASK_WDT,
    ESP_RST_WDT,
    ESP_RST_DEEPSLEEP,
    ESP_RST_BROWNOUT,
    ESP_RST_SDIO,
    ESP_RST_USB,
    ESP_RST_JTAG,
    ESP_RST_EFUSE,
    ESP_RST_PWR_GLITCH,
    ESP_RST_CPU_LOCKUP,
} esp_reset_reason_t;

/* A function esp_restart calls before restarting. */
typedef void (*shutdown_handler_t)(void);

/* Registers handle to run at esp_restart (at most 5, run last registered first). Returns ESP_OK;
 * ESP_ERR_INVALID_STATE when it is already registered; ESP_ERR_NO_MEM when 5 are. */
esp_err_t esp_register_shutdown_handler(shutdown_handler_t handle);

/* Removes a registered handler. Returns ESP_OK or ESP_ERR_INVALID_STATE (not registered). */
esp_err_t esp_unregister_shutdown_handler(shutdown_handler_t handle);

/* Runs the shutdown handlers, then restarts the chip through the bootloader. Does not return. */
void esp_restart(void) __attribute__((noreturn));

/* Why the chip last reset (power-on, software restart, panic...). */
esp_reset_reason_t esp_reset_reason(void);

uint32_t esp_get_free_heap_size(void);
uint32_t esp_get_minimum_free_heap_size(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_SYSTEM_H */
