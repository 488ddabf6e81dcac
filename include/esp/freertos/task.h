/*
 * FreeRTOS tasks on the simulated board: each task is a host thread; delays advance the board's
 * virtual clock instead of waiting.
 */
#ifndef FREERTOS_TASK_H_SHIM
#define FREERTOS_TASK_H_SHIM

#include <stdint.h>

#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);

BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, uint32_t stack_depth, void *arg,
                       UBaseType_t priority, TaskHandle_t *out_handle);
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *name, uint32_t stack_depth,
                                   void *arg, UBaseType_t priority, TaskHandle_t *out_handle,
                                   BaseType_t core_id);
/* NULL deletes the calling task (its thread ends). */
void vTaskDelete(TaskHandle_t task) __attribute__((noreturn));
/* Advances the virtual clock by ticks (10 ms each) and yields. */
void vTaskDelay(TickType_t ticks);
TickType_t xTaskGetTickCount(void);

#ifdef __cplusplus
}
#endif

#endif /* FREERTOS_TASK_H_SHIM */
