/* ESP-IDF system calls on the simulated board: restart, reset reason, heap figures. */
#include "esp_system.h"

#include <stdio.h>
#include <stdlib.h>

#include "esp_internal.h"

/* Heap figures of a freshly booted ESP32 app: the host has no such limit, so they are fixed. */
#define SIM_FREE_HEAP 303148u
#define SIM_MIN_FREE_HEAP 300612u

void esp_restart(void)
{
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
