/*
 * ESP-IDF's FreeRTOS idle and tick hooks. The board's virtual-time scheduler has no idle task
 * that runs between ticks: registrations are accepted and kept, and never called.
 */
#ifndef ESP_FREERTOS_HOOKS_H
#define ESP_FREERTOS_HOOKS_H

#include <stdbool.h>

#include "esp_err.h"
#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef bool (*esp_freertos_idle_cb_t)(void);
typedef void (*esp_freertos_tick_cb_t)(void);

/* ESP_OK (ESP_ERR_INVALID_ARG for a NULL callback or a CPU other than 0 and 1). */
esp_err_t esp_register_freertos_idle_hook_for_cpu(esp_freertos_idle_cb_t cb, UBaseType_t cpuid);
esp_err_t esp_register_freertos_idle_hook(esp_freertos_idle_cb_t cb);
esp_err_t esp_register_freertos_tick_hook_for_cpu(esp_freertos_tick_cb_t cb, UBaseType_t cpuid);
esp_err_t esp_register_freertos_tick_hook(esp_freertos_tick_cb_t cb);
void esp_deregister_freertos_idle_hook_for_cpu(esp_freertos_idle_cb_t cb, UBaseType_t cpuid);
void esp_deregister_freertos_idle_hook(esp_freertos_idle_cb_t cb);
void esp_deregister_freertos_tick_hook_for_cpu(esp_freertos_tick_cb_t cb, UBaseType_t cpuid);
void esp_deregister_freertos_tick_hook(esp_freertos_tick_cb_t cb);

#ifdef __cplusplus
}
#endif

#endif /* ESP_FREERTOS_HOOKS_H */
