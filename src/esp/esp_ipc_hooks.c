/*
 * Inter-processor calls, FreeRTOS hooks and the flash guard on the board: one CPU's worth of
 * tasks, no tick interrupt, no flash cache. See the headers for what each call does here.
 */
#include "esp_freertos_hooks.h"
#include "esp_ipc.h"
#include "esp_private/spi_flash_os.h"

esp_err_t esp_ipc_call_blocking(uint32_t cpu_id, esp_ipc_func_t func, void *arg)
{
    if (cpu_id > 1 || func == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    func(arg);
    return ESP_OK;
}

esp_err_t esp_ipc_call(uint32_t cpu_id, esp_ipc_func_t func, void *arg)
{
    return esp_ipc_call_blocking(cpu_id, func, arg);
}

static void guard_nothing(void) {}

const spi_flash_guard_funcs_t *spi_flash_guard_get(void)
{
    static const spi_flash_guard_funcs_t guard = {guard_nothing, guard_nothing};
    return &guard;
}

esp_err_t esp_register_freertos_idle_hook_for_cpu(esp_freertos_idle_cb_t cb, UBaseType_t cpuid)
{
    return cb != NULL && cpuid <= 1 ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_register_freertos_idle_hook(esp_freertos_idle_cb_t cb)
{
    return esp_register_freertos_idle_hook_for_cpu(cb, 0);
}

esp_err_t esp_register_freertos_tick_hook_for_cpu(esp_freertos_tick_cb_t cb, UBaseType_t cpuid)
{
    return cb != NULL && cpuid <= 1 ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_register_freertos_tick_hook(esp_freertos_tick_cb_t cb)
{
    return esp_register_freertos_tick_hook_for_cpu(cb, 0);
}

void esp_deregister_freertos_idle_hook_for_cpu(esp_freertos_idle_cb_t cb, UBaseType_t cpuid)
{
    (void)cb;
    (void)cpuid;
}

void esp_deregister_freertos_idle_hook(esp_freertos_idle_cb_t cb)
{
    (void)cb;
}

void esp_deregister_freertos_tick_hook_for_cpu(esp_freertos_tick_cb_t cb, UBaseType_t cpuid)
{
    (void)cb;
    (void)cpuid;
}

void esp_deregister_freertos_tick_hook(esp_freertos_tick_cb_t cb)
{
    (void)cb;
}
