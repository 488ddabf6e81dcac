/*
 * FreeRTOS as ESP-IDF v5.5 configures it: 100 Hz tick, 25 priorities, 16-character task names,
 * stack depths in bytes. Tasks are host threads; time is the board's virtual clock (see
 * docs/DESIGN.md, "Virtual-time scheduler").
 */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- FreeRTOSConfig (ESP-IDF defaults) ---------------------------------------------------- */

#define configTICK_RATE_HZ 100
#define configMAX_PRIORITIES 25
#define configMINIMAL_STACK_SIZE 768
#define configMAX_TASK_NAME_LEN 16
#define configSTACK_DEPTH_TYPE uint32_t
#define configUSE_16_BIT_TICKS 0
#define configUSE_MUTEXES 1
#define configUSE_RECURSIVE_MUTEXES 1
#define configUSE_COUNTING_SEMAPHORES 1
#define configUSE_TIMERS 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 1
#define configTIMER_TASK_PRIORITY 1
#define configTIMER_QUEUE_LENGTH 10
#define configTIMER_TASK_STACK_DEPTH 2048
#define configTIMER_SERVICE_TASK_NAME "Tmr Svc"
#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 1
#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskDelayUntil 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_uxTaskPriorityGet 1
#define INCLUDE_vTaskPrioritySet 1
#define INCLUDE_eTaskGetState 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_xTaskGetHandle 1
#define INCLUDE_uxTaskGetStackHighWaterMark 1
#define INCLUDE_uxTaskGetStackHighWaterMark2 1
#define INCLUDE_xTimerPendFunctionCall 0

#include "esp_heap_caps.h" /* ESP-IDF's port brings the heap calls (pvPortMalloc's) */
#include "freertos/portmacro.h"

#define configNUMBER_OF_CORES portNUM_PROCESSORS

/* Reports a failed configASSERT as ESP-IDF does ("assert failed: ...") and aborts (the chip
 * panics and resets). Does not return. */
void otakit_assert_failed(const char *func, const char *file, int line, const char *expr)
    __attribute__((noreturn));

#define configASSERT(a) ((a) ? (void)0 : otakit_assert_failed(__func__, __FILE__, __LINE__, #a))

/* ---- projdefs ------------------------------------------------------------------------------ */

typedef void (*TaskFunction_t)(void *);

#define pdMS_TO_TICKS(xTimeInMs)                                                                   \
    ((TickType_t)(((uint64_t)(xTimeInMs) * (uint64_t)configTICK_RATE_HZ) / (uint64_t)1000U))
#define pdTICKS_TO_MS(xTicks) ((TickType_t)((uint64_t)(xTicks)*1000U / configTICK_RATE_HZ))

#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdPASS (pdTRUE)
#define pdFAIL (pdFALSE)
#define errQUEUE_EMPTY ((BaseType_t)0)
#define errQUEUE_FULL ((BaseType_t)0)
#define errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY (-1)
#define errQUEUE_BLOCKED (-4)
#define errQUEUE_YIELD (-5)

#define tskNO_AFFINITY ((BaseType_t)0x7FFFFFFF)

/* ---- static allocation buffers (the board allocates objects itself; the buffers are unused) - */

typedef struct xSTATIC_OPAQUE {
    void *pvDummy[24];
} StaticTask_t;
typedef struct xSTATIC_QUEUE {
    void *pvDummy[20];
} StaticQueue_t;
typedef StaticQueue_t StaticSemaphore_t;
typedef struct xSTATIC_EVENT_GROUP {
    void *pvDummy[8];
} StaticEventGroup_t;
typedef struct xSTATIC_TIMER {
    void *pvDummy[12];
} StaticTimer_t;

#ifdef __cplusplus
}
#endif

#endif /* INC_FREERTOS_H */
