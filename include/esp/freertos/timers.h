/*
 * FreeRTOS software timers (ESP-IDF v5.5 names and values). Callbacks run in the timer service
 * task ("Tmr Svc") when the virtual clock reaches their expiry; commands take effect at once
 * (no command queue).
 */
#ifndef TIMERS_H
#define TIMERS_H

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmrTimerControl *TimerHandle_t;
typedef void (*TimerCallbackFunction_t)(TimerHandle_t xTimer);

#define tmrCOMMAND_EXECUTE_CALLBACK_FROM_ISR ((BaseType_t)-2)
#define tmrCOMMAND_EXECUTE_CALLBACK ((BaseType_t)-1)
#define tmrCOMMAND_START_DONT_TRACE ((BaseType_t)0)
#define tmrCOMMAND_START ((BaseType_t)1)
#define tmrCOMMAND_RESET ((BaseType_t)2)
#define tmrCOMMAND_STOP ((BaseType_t)3)
#define tmrCOMMAND_CHANGE_PERIOD ((BaseType_t)4)
#define tmrCOMMAND_DELETE ((BaseType_t)5)
#define tmrFIRST_FROM_ISR_COMMAND ((BaseType_t)6)
#define tmrCOMMAND_START_FROM_ISR ((BaseType_t)6)
#define tmrCOMMAND_RESET_FROM_ISR ((BaseType_t)7)
#define tmrCOMMAND_STOP_FROM_ISR ((BaseType_t)8)
#define tmrCOMMAND_CHANGE_PERIOD_FROM_ISR ((BaseType_t)9)

/*
 * Creates a dormant timer of period ticks (> 0) that calls callback(timer) once, or every
 * period if auto_reload. Returns the handle, or NULL.
 */
TimerHandle_t xTimerCreate(const char *const name, const TickType_t period,
                           const BaseType_t auto_reload, void *const id,
                           TimerCallbackFunction_t callback);

/* As xTimerCreate; the caller's buffer is not used. */
TimerHandle_t xTimerCreateStatic(const char *const name, const TickType_t period,
                                 const BaseType_t auto_reload, void *const id,
                                 TimerCallbackFunction_t callback, StaticTimer_t *buffer);

/*
 * Runs a command on timer at once: start and reset arm it to expire one period from now, stop
 * disarms it, change-period sets the period (value) and arms it, delete frees it. ticks and
 * higher_woken are not needed (no command queue). Returns pdPASS.
 */
BaseType_t xTimerGenericCommand(TimerHandle_t timer, const BaseType_t command,
                                const TickType_t value, BaseType_t *const higher_woken,
                                const TickType_t ticks);

/* pdTRUE while the timer is armed. */
BaseType_t xTimerIsTimerActive(TimerHandle_t timer);

void *pvTimerGetTimerID(const TimerHandle_t timer);
void vTimerSetTimerID(TimerHandle_t timer, void *id);
const char *pcTimerGetName(TimerHandle_t timer);
TickType_t xTimerGetPeriod(TimerHandle_t timer);
/* Tick count at which an armed timer expires next. */
TickType_t xTimerGetExpiryTime(TimerHandle_t timer);
void vTimerSetReloadMode(TimerHandle_t timer, const BaseType_t auto_reload);
BaseType_t xTimerGetReloadMode(TimerHandle_t timer);
UBaseType_t uxTimerGetReloadMode(TimerHandle_t timer);
/* The timer service task (started if needed). */
TaskHandle_t xTimerGetTimerDaemonTaskHandle(void);

#define xTimerStart(xTimer, xTicksToWait)                                                          \
    xTimerGenericCommand((xTimer), tmrCOMMAND_START, (xTaskGetTickCount()), NULL, (xTicksToWait))
#define xTimerStop(xTimer, xTicksToWait)                                                           \
    xTimerGenericCommand((xTimer), tmrCOMMAND_STOP, 0U, NULL, (xTicksToWait))
#define xTimerChangePeriod(xTimer, xNewPeriod, xTicksToWait)                                       \
    xTimerGenericCommand((xTimer), tmrCOMMAND_CHANGE_PERIOD, (xNewPeriod), NULL, (xTicksToWait))
#define xTimerDelete(xTimer, xTicksToWait)                                                         \
    xTimerGenericCommand((xTimer), tmrCOMMAND_DELETE, 0U, NULL, (xTicksToWait))
#define xTimerReset(xTimer, xTicksToWait)                                                          \
    xTimerGenericCommand((xTimer), tmrCOMMAND_RESET, (xTaskGetTickCount()), NULL, (xTicksToWait))
#define xTimerStartFromISR(xTimer, pxHigherPriorityTaskWoken)                                      \
    xTimerGenericCommand((xTimer), tmrCOMMAND_START_FROM_ISR, (xTaskGetTickCountFromISR()),        \
                         (pxHigherPriorityTaskWoken), 0U)
#define xTimerStopFromISR(xTimer, pxHigherPriorityTaskWoken)                                       \
    xTimerGenericCommand((xTimer), tmrCOMMAND_STOP_FROM_ISR, 0, (pxHigherPriorityTaskWoken), 0U)
#define xTimerChangePeriodFromISR(xTimer, xNewPeriod, pxHigherPriorityTaskWoken)                   \
    xTimerGenericCommand((xTimer), tmrCOMMAND_CHANGE_PERIOD_FROM_ISR, (xNewPeriod),                \
                         (pxHigherPriorityTaskWoken), 0U)
#define xTimerResetFromISR(xTimer, pxHigherPriorityTaskWoken)                                      \
    xTimerGenericCommand((xTimer), tmrCOMMAND_RESET_FROM_ISR, (xTaskGetTickCountFromISR()),        \
                         (pxHigherPriorityTaskWoken), 0U)

#ifdef __cplusplus
}
#endif

#endif /* TIMERS_H */
