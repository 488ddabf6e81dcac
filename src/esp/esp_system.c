/* ESP-IDF system calls on the simulated board: restart, reset reason, heap figures. */
#include "esp_system.h"

#include <stdio.h>
#include <stdlib.h>

#include "esp_heap_caps.h"
#include "esp_internal.h"

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

/* As ESP-IDF: the heaps that serve malloc (internal RAM, and PSRAM once it is in the heap). */
uint32_t esp_get_free_heap_size(void)
{
    return (uint32_t)heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
}

uint32_t esp_get_minimum_free_heap_size(void)
{
    return (uint32_t)heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT);
}
