/* ESP-IDF system calls on the simulated board: restart, reset reason, heap figures. */
#include "esp_system.h"

#include <stdio.h>
#include <stdlib.h>

#include "esp_internal.h"

/* Heap figures of a freshly booted ESP32 app: the host has no such limit, so they are fixed. */
#define SIM_FREE_HEAP 303148u
#define SIM_MIN_FREE_HEAP 300612u

#define SHUTDOWN_HANDLERS_NO 5

static shutdown_handler_t g_shutdown[SHUTDOWN_HANDLERS_NO];

esp_err_t esp_register_shutdown_handler(shutdown_handler_t handle)
{
    for (int i = 0; i < SHUTDOWN_HANDLERS_NO; i++) {
        if (g_shutdown[i] == handle) {
            return ESP_ERR_INVALID_STATE;
        }
    }
    for (int i = 0; i < SHUTDOWN_HANDLERS_NO; i++) {
        if (g_shutdown[i] == NULL) {
            g_shutdown[i] = handle;
            return ESP_OK;
        }
    }
    return ESP_ERR_NO_MEM;
}

esp_err_t esp_unregister_shutdown_handler(shutdown_handler_t handle)
{
    for (int i = 0; i < SHUTDOWN_HANDLERS_NO; i++) {
        if (g_shutdown[i] == handle) {
            g_shutdown[i] = NULL;
            return ESP_OK;
        }
    }
    return ESP_ERR_INVALID_STATE;
}

void esp_restart(void)
{
    for (int i = SHUTDOWN_HANDLERS_NO - 1; i >= 0; i--) {
        shutdown_handler_t h = g_shutdown[i];
        if (h != NULL) {
            g_shutdown[i] = NULL; /* each runs once, as the restart is final */
            h();
        }
    }
    fflush(NULL);
    const esp_dev_config_t *cfg = esp_dev_installed() ? esp_internal_config() : NULL;
    if (cfg != NULL && cfg->restart != NULL) {
        cfg->restart(cfg->restart_ctx);
    }
    exit(0);
}

esp_reset_reason_t esp_reset_reason(void)
{
    const esp_dev_config_t *cfg = esp_dev_installed() ? esp_internal_config() : NULL;
    return cfg != NULL ? (esp_reset_reason_t)cfg->reset_reason : ESP_RST_UNKNOWN;
}

uint32_t esp_get_free_heap_size(void)
{
    return SIM_FREE_HEAP;
}

uint32_t esp_get_minimum_free_heap_size(void)
{
    return SIM_MIN_FREE_HEAP;
}
