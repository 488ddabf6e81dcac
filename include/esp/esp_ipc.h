/*
 * ESP-IDF's inter-processor call (esp_ipc): run a function on a given CPU. The board runs one
 * CPU's worth of tasks, so the function runs at once in the caller.
 */
#ifndef ESP_IPC_H
#define ESP_IPC_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*esp_ipc_func_t)(void *arg);

/* Runs func(arg) and returns ESP_OK once it has run (cpu_id 0 or 1, else ESP_ERR_INVALID_ARG). */
esp_err_t esp_ipc_call_blocking(uint32_t cpu_id, esp_ipc_func_t func, void *arg);

/* As esp_ipc_call_blocking: the call has finished when it returns. */
esp_err_t esp_ipc_call(uint32_t cpu_id, esp_ipc_func_t func, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* ESP_IPC_H */
