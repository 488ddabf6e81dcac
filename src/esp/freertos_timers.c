/*
 * FreeRTOS software timers on the timer service (rtos_alarm.c): the "Tmr Svc" task calls each
 * callback when the virtual clock reaches its expiry. Commands act at once under the scheduler
 * lock instead of going through FreeRTOS's command queue.
 */
#include "freertos/timers.h"

#include <stdlib.h>

#include "ota/ota_clock.h"
#include "rtos_priv.h"

struct tmrTimerControl {
    rtos_alarm_t alarm; /* first: the service frees a timer deleted by its own callback */
    const char *name;
    TickType_t period;
    bool auto_reload;
    void *id;
    TimerCallbackFunction_t callback;
};

static rtos_service_t service = {
    .name = configTIMER_SERVICE_TASK_NAME,
    .priority = configTIMER_TASK_PRIORITY,
    .stack_depth = configTIMER_TASK_STACK_DEPTH,
};

static void fire(rtos_alarm_t *a)
{
    TimerHandle_t t = (TimerHandle_t)a;
    t->callback(t);
}

TimerHandle_t xTimerCreate(const char *const name, const TickType_t period,
                           const BaseType_t auto_reload, void *const id,
                           TimerCallbackFunction_t callback)
{
    configASSERT(period > 0);
    TimerHandle_t t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->alarm.fire = fire;
    t->name = name;
    t->period = period;
    t->auto_reload = auto_reload != pdFALSE;
    t->id = id;
    t->callback = callback;
    rtos_lock();
    bool ok = rtos_alarm_attach(&service, &t->alarm);
    rtos_unlock();
    if (!ok) {
        free(t);
        return NULL;
    }
    return t;
}

TimerHandle_t xTimerCreateStatic(const char *const name, const TickType_t period,
                                 const BaseType_t auto_reload, void *const id,
                                 TimerCallbackFunction_t callback, StaticTimer_t *buffer)
{
    (void)buffer;
    return xTimerCreate(name, period, auto_reload, id, callback);
}

/* Lock held. */
static void arm(TimerHandle_t t)
{
    uint64_t period = (uint64_t)t->period * RTOS_TICK_US;
    rtos_alarm_arm(&t->alarm, ota_clock_now_us() + period, t->auto_reload ? period : 0);
}

BaseType_t xTimerGenericCommand(TimerHandle_t timer, const BaseType_t command,
                                const TickType_t value, BaseType_t *const higher_woken,
                                const TickType_t ticks)
{
    (void)ticks;
    configASSERT(timer != NULL);
    if (higher_woken != NULL) {
        *higher_woken = pdFALSE;
    }
    rtos_lock();
    bool free_now = false;
    switch (command) {
    case tmrCOMMAND_START:
    case tmrCOMMAND_START_DONT_TRACE:
    case tmrCOMMAND_RESET:
    case tmrCOMMAND_START_FROM_ISR:
    case tmrCOMMAND_RESET_FROM_ISR:
        arm(timer);
        break;
    case tmrCOMMAND_STOP:
    case tmrCOMMAND_STOP_FROM_ISR:
        rtos_alarm_disarm(&timer->alarm);
        break;
    case tmrCOMMAND_CHANGE_PERIOD:
    case tmrCOMMAND_CHANGE_PERIOD_FROM_ISR:
        configASSERT(value > 0);
        timer->period = value;
        arm(timer);
        break;
    case tmrCOMMAND_DELETE:
        free_now = rtos_alarm_detach(&timer->alarm);
        break;
    default:
        break;
    }
    rtos_unlock();
    if (free_now) {
        free(timer);
    }
    return pdPASS;
}

BaseType_t xTimerIsTimerActive(TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    rtos_lock();
    BaseType_t r = timer->alarm.active ? pdTRUE : pdFALSE;
    rtos_unlock();
    return r;
}

void *pvTimerGetTimerID(const TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    rtos_lock();
    void *id = timer->id;
    rtos_unlock();
    return id;
}

void vTimerSetTimerID(TimerHandle_t timer, void *id)
{
    configASSERT(timer != NULL);
    rtos_lock();
    timer->id = id;
    rtos_unlock();
}

const char *pcTimerGetName(TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    return timer->name;
}

TickType_t xTimerGetPeriod(TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    rtos_lock();
    TickType_t p = timer->period;
    rtos_unlock();
    return p;
}

TickType_t xTimerGetExpiryTime(TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    rtos_lock();
    TickType_t at = (TickType_t)(timer->alarm.at / RTOS_TICK_US);
    rtos_unlock();
    return at;
}

void vTimerSetReloadMode(TimerHandle_t timer, const BaseType_t auto_reload)
{
    configASSERT(timer != NULL);
    rtos_lock();
    timer->auto_reload = auto_reload != pdFALSE;
    timer->alarm.period = timer->auto_reload ? (uint64_t)timer->period * RTOS_TICK_US : 0;
    rtos_unlock();
}

BaseType_t xTimerGetReloadMode(TimerHandle_t timer)
{
    configASSERT(timer != NULL);
    rtos_lock();
    BaseType_t r = timer->auto_reload ? pdTRUE : pdFALSE;
    rtos_unlock();
    return r;
}

UBaseType_t uxTimerGetReloadMode(TimerHandle_t timer)
{
    return (UBaseType_t)xTimerGetReloadMode(timer);
}

TaskHandle_t xTimerGetTimerDaemonTaskHandle(void)
{
    rtos_lock();
    TaskHandle_t t = rtos_service_task(&service);
    rtos_unlock();
    return t;
}
