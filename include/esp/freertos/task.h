/*
 * FreeRTOS tasks (ESP-IDF v5.5 names, types and values). On the simulated board each task is a
 * host thread and time is the board's virtual clock: a task that waits (delay, queue, semaphore,
 * event group, notification) blocks, and when every task is blocked the clock jumps to the
 * earliest deadline. Priorities are recorded but do not preempt; see docs/differences.md.
 */
#ifndef INC_TASK_H
#define INC_TASK_H

#include <stdint.h>

#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tskTaskControlBlock *TaskHandle_t;

typedef enum {
    eRunning = 0,
    eReady,
    eBlocked,
    eSuspended,
    eDeleted,
    eInvalid,
} eTaskState;

typedef enum {
    eNoAction = 0,
    eSetBits,
    eIncrement,
    eSetValueWithOverwrite,
    eSetValueWithoutOverwrite,
} eNotifyAction;

#define tskIDLE_PRIORITY ((UBaseType_t)0U)
#define tskDEFAULT_INDEX_TO_NOTIFY 0
#define taskSCHEDULER_SUSPENDED ((BaseType_t)0)
#define taskSCHEDULER_NOT_STARTED ((BaseType_t)1)
#define taskSCHEDULER_RUNNING ((BaseType_t)2)

#define taskYIELD() portYIELD()
#define taskENTER_CRITICAL(x) portENTER_CRITICAL(x)
#define taskEXIT_CRITICAL(x) portEXIT_CRITICAL(x)
#define taskENTER_CRITICAL_ISR(x) portENTER_CRITICAL_ISR(x)
#define taskEXIT_CRITICAL_ISR(x) portEXIT_CRITICAL_ISR(x)
#define taskDISABLE_INTERRUPTS() portDISABLE_INTERRUPTS()
#define taskENABLE_INTERRUPTS() portENABLE_INTERRUPTS()

/* ---- creation and deletion ----------------------------------------------------------------- */

/*
 * Creates a task running fn(arg) in a thread of its own. stack_depth is in bytes (the host
 * thread gets at least 256 KiB); priority and core are recorded. *out_handle (if not NULL)
 * receives the handle. Returns pdPASS, or errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY.
 */
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *const name,
                                   const uint32_t stack_depth, void *const arg,
                                   UBaseType_t priority, TaskHandle_t *const out_handle,
                                   const BaseType_t core_id);

/* xTaskCreatePinnedToCore with tskNO_AFFINITY. */
BaseType_t xTaskCreate(TaskFunction_t fn, const char *const name, const uint32_t stack_depth,
                       void *const arg, UBaseType_t priority, TaskHandle_t *const out_handle);

/* As xTaskCreatePinnedToCore; the caller's buffers are not used. Returns the handle or NULL. */
TaskHandle_t xTaskCreateStaticPinnedToCore(TaskFunction_t fn, const char *const name,
                                           const uint32_t stack_depth, void *const arg,
                                           UBaseType_t priority, StackType_t *const stack,
                                           StaticTask_t *const tcb, const BaseType_t core_id);

/* xTaskCreateStaticPinnedToCore with tskNO_AFFINITY. */
TaskHandle_t xTaskCreateStatic(TaskFunction_t fn, const char *const name,
                               const uint32_t stack_depth, void *const arg, UBaseType_t priority,
                               StackType_t *const stack, StaticTask_t *const tcb);

/*
 * Deletes a task. NULL (or the caller's own handle) ends the calling task at once; another task
 * ends at its next blocking call (at once if it is blocked now). The handle is invalid after.
 */
void vTaskDelete(TaskHandle_t task);

/* ---- time ---------------------------------------------------------------------------------- */

/* Blocks the caller for ticks ticks (10 ms each) of virtual time; 0 only yields. */
void vTaskDelay(const TickType_t ticks);

/*
 * Blocks until the tick count reaches *previous_wake + increment, then stores that value in
 * *previous_wake. Returns pdTRUE if the task blocked, pdFALSE if the wake time had passed.
 */
BaseType_t xTaskDelayUntil(TickType_t *const previous_wake, const TickType_t increment);

#define vTaskDelayUntil(pxPreviousWakeTime, xTimeIncrement)                                        \
    do {                                                                                           \
        (void)xTaskDelayUntil((pxPreviousWakeTime), (xTimeIncrement));                             \
    } while (0)

/* Ticks since boot (virtual clock / 10 ms). */
TickType_t xTaskGetTickCount(void);
TickType_t xTaskGetTickCountFromISR(void);

/* ---- information and control --------------------------------------------------------------- */

/* The calling task's handle (a thread that is not a task becomes one, named "pthread"). */
TaskHandle_t xTaskGetCurrentTaskHandle(void);

/* Name of task (NULL: the caller). The main task is "main". */
char *pcTaskGetName(TaskHandle_t task);

/* The live task named name, or NULL. */
TaskHandle_t xTaskGetHandle(const char *name);

/* Number of live tasks (the main task and the timer services included). */
UBaseType_t uxTaskGetNumberOfTasks(void);

/* Recorded priority of task (NULL: the caller). */
UBaseType_t uxTaskPriorityGet(const TaskHandle_t task);

/* Records a new priority for task (NULL: the caller); it changes no scheduling. */
void vTaskPrioritySet(TaskHandle_t task, UBaseType_t priority);

/* State of task: eRunning for the caller, eBlocked or eSuspended while it waits, else eReady. */
eTaskState eTaskGetState(TaskHandle_t task);

/* Core the task was pinned to (tskNO_AFFINITY if none). */
BaseType_t xTaskGetCoreID(TaskHandle_t task);

/*
 * Smallest free stack seen, in bytes, for task (NULL: the caller). The board cannot measure a
 * chip's stack; it reports the stack depth less a typical use (see docs/differences.md).
 */
UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t task);
configSTACK_DEPTH_TYPE uxTaskGetStackHighWaterMark2(TaskHandle_t task);

/*
 * Suspends task (NULL: the caller). The caller stops at once; another task stops at its next
 * blocking call, or stays blocked until resumed.
 */
void vTaskSuspend(TaskHandle_t task);

/* Resumes a suspended task. */
void vTaskResume(TaskHandle_t task);

/* vTaskResume from an interrupt. Returns pdFALSE (no context switch is needed). */
BaseType_t xTaskResumeFromISR(TaskHandle_t task);

/* Always taskSCHEDULER_RUNNING. */
BaseType_t xTaskGetSchedulerState(void);

/* ---- notifications ------------------------------------------------------------------------- */

/*
 * Notifies task: applies action with value to its notification value (*previous receives the
 * old value if not NULL) and wakes the task if it waits for a notification. index must be 0.
 * Returns pdPASS, or pdFAIL for eSetValueWithoutOverwrite while a notification is pending.
 */
BaseType_t xTaskGenericNotify(TaskHandle_t task, UBaseType_t index, uint32_t value,
                              eNotifyAction action, uint32_t *previous);

/* xTaskGenericNotify from an interrupt; *higher_woken (if not NULL) gets pdFALSE. */
BaseType_t xTaskGenericNotifyFromISR(TaskHandle_t task, UBaseType_t index, uint32_t value,
                                     eNotifyAction action, uint32_t *previous,
                                     BaseType_t *higher_woken);

/* Increments task's notification value from an interrupt (xTaskNotifyGive). */
void vTaskGenericNotifyGiveFromISR(TaskHandle_t task, UBaseType_t index, BaseType_t *higher_woken);

/*
 * Waits up to ticks for a notification: clears clear_on_entry bits first (unless one is
 * pending), stores the value in *value (if not NULL), clears clear_on_exit bits when one was
 * received. Returns pdTRUE if a notification was received, pdFALSE on timeout.
 */
BaseType_t xTaskGenericNotifyWait(UBaseType_t index, uint32_t clear_on_entry,
                                  uint32_t clear_on_exit, uint32_t *value, TickType_t ticks);

/*
 * Waits up to ticks for the notification value to be non-zero, then zeroes it (clear) or
 * decrements it. Returns the value before that, 0 on timeout.
 */
uint32_t ulTaskGenericNotifyTake(UBaseType_t index, BaseType_t clear, TickType_t ticks);

/* Clears a pending notification of task (NULL: the caller). Returns pdPASS if one was pending. */
BaseType_t xTaskGenericNotifyStateClear(TaskHandle_t task, UBaseType_t index);

/* Clears bits of task's notification value. Returns the value before. */
uint32_t ulTaskGenericNotifyValueClear(TaskHandle_t task, UBaseType_t index, uint32_t bits);

#define xTaskNotify(xTaskToNotify, ulValue, eAction)                                               \
    xTaskGenericNotify((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY), (ulValue), (eAction), NULL)
#define xTaskNotifyIndexed(xTaskToNotify, uxIndexToNotify, ulValue, eAction)                       \
    xTaskGenericNotify((xTaskToNotify), (uxIndexToNotify), (ulValue), (eAction), NULL)
#define xTaskNotifyAndQuery(xTaskToNotify, ulValue, eAction, pulPreviousNotifyValue)               \
    xTaskGenericNotify((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY), (ulValue), (eAction),        \
                       (pulPreviousNotifyValue))
#define xTaskNotifyFromISR(xTaskToNotify, ulValue, eAction, pxHigherPriorityTaskWoken)             \
    xTaskGenericNotifyFromISR((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY), (ulValue), (eAction), \
                              NULL, (pxHigherPriorityTaskWoken))
#define xTaskNotifyAndQueryFromISR(xTaskToNotify, ulValue, eAction, pulPreviousNotificationValue,  \
                                   pxHigherPriorityTaskWoken)                                      \
    xTaskGenericNotifyFromISR((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY), (ulValue), (eAction), \
                              (pulPreviousNotificationValue), (pxHigherPriorityTaskWoken))
#define xTaskNotifyWait(ulBitsToClearOnEntry, ulBitsToClearOnExit, pulNotificationValue,           \
                        xTicksToWait)                                                              \
    xTaskGenericNotifyWait(tskDEFAULT_INDEX_TO_NOTIFY, (ulBitsToClearOnEntry),                     \
                           (ulBitsToClearOnExit), (pulNotificationValue), (xTicksToWait))
#define xTaskNotifyWaitIndexed(uxIndexToWaitOn, ulBitsToClearOnEntry, ulBitsToClearOnExit,         \
                               pulNotificationValue, xTicksToWait)                                 \
    xTaskGenericNotifyWait((uxIndexToWaitOn), (ulBitsToClearOnEntry), (ulBitsToClearOnExit),       \
                           (pulNotificationValue), (xTicksToWait))
#define xTaskNotifyGive(xTaskToNotify)                                                             \
    xTaskGenericNotify((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY), (0), eIncrement, NULL)
#define xTaskNotifyGiveIndexed(xTaskToNotify, uxIndexToNotify)                                     \
    xTaskGenericNotify((xTaskToNotify), (uxIndexToNotify), (0), eIncrement, NULL)
#define vTaskNotifyGiveFromISR(xTaskToNotify, pxHigherPriorityTaskWoken)                           \
    vTaskGenericNotifyGiveFromISR((xTaskToNotify), (tskDEFAULT_INDEX_TO_NOTIFY),                   \
                                  (pxHigherPriorityTaskWoken))
#define ulTaskNotifyTake(xClearCountOnExit, xTicksToWait)                                          \
    ulTaskGenericNotifyTake((tskDEFAULT_INDEX_TO_NOTIFY), (xClearCountOnExit), (xTicksToWait))
#define ulTaskNotifyTakeIndexed(uxIndexToWaitOn, xClearCountOnExit, xTicksToWait)                  \
    ulTaskGenericNotifyTake((uxIndexToWaitOn), (xClearCountOnExit), (xTicksToWait))
#define xTaskNotifyStateClear(xTask)                                                               \
    xTaskGenericNotifyStateClear((xTask), (tskDEFAULT_INDEX_TO_NOTIFY))
#define ulTaskNotifyValueClear(xTask, ulBitsToClear)                                               \
    ulTaskGenericNotifyValueClear((xTask), (tskDEFAULT_INDEX_TO_NOTIFY), (ulBitsToClear))

#ifdef __cplusplus
}
#endif

#endif /* INC_TASK_H */
