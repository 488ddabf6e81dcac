/*
 * Timer services: a system task per service runs its alarms' callbacks in expiry order on the
 * virtual clock (FreeRTOS's "Tmr Svc" task, esp_timer's task). The task blocks until the
 * earliest expiry, so when every other task is blocked the clock jumps there.
 */
#include <stdlib.h>

#include "ota/ota_clock.h"
#include "rtos_priv.h"

static uint64_t arm_seq;

/* Lock held. The active alarm that fires first (earliest expiry, then earliest armed). */
static rtos_alarm_t *first_due(const rtos_service_t *svc)
{
    rtos_alarm_t *best = NULL;
    for (rtos_alarm_t *a = svc->alarms; a != NULL; a = a->next) {
        if (a->active &&
            (best == NULL || a->at < best->at || (a->at == best->at && a->seq < best->seq))) {
            best = a;
        }
    }
    return best;
}

/* Lock held. Takes a due alarm's next expiry (or disarms it) before its callback runs. */
static void rearm_after_expiry(rtos_alarm_t *a, uint64_t now)
{
    if (a->period == 0) {
        a->active = false;
        return;
    }
    a->at += a->period;
    if (a->skip_missed && a->at <= now) {
        a->at = now + a->period;
    }
    a->seq = ++arm_seq;
}

static void service_main(void *arg)
{
    rtos_service_t *svc = arg;
    rtos_lock();
    for (;;) {
        rtos_alarm_t *a = first_due(svc);
        uint64_t now = ota_clock_now_us();
        if (a == NULL || a->at > now) {
            rtos_wait(&svc->wake, NULL, a != NULL ? a->at : RTOS_FOREVER);
            continue;
        }
        rearm_after_expiry(a, now);
        a->firing = true;
        rtos_unlock();
        a->fire(a);
        rtos_lock();
        a->firing = false;
        if (a->dead) {
            free(a);
        }
    }
}

TaskHandle_t rtos_service_task(rtos_service_t *svc)
{
    if (svc->task == NULL) {
        svc->task =
            rtos_start_system_task(service_main, svc->name, svc->stack_depth, svc, svc->priority);
    }
    return svc->task;
}

bool rtos_alarm_attach(rtos_service_t *svc, rtos_alarm_t *a)
{
    if (rtos_service_task(svc) == NULL) {
        return false;
    }
    a->svc = svc;
    a->next = svc->alarms;
    svc->alarms = a;
    return true;
}

void rtos_alarm_arm(rtos_alarm_t *a, uint64_t at, uint64_t period)
{
    a->at = at;
    a->period = period;
    a->seq = ++arm_seq;
    a->active = true;
    rtos_wake(&a->svc->wake, 1);
}

void rtos_alarm_disarm(rtos_alarm_t *a)
{
    if (a->active) {
        a->active = false;
        rtos_wake(&a->svc->wake, 1); /* its deadline may have been the service's */
    }
}

bool rtos_alarm_detach(rtos_alarm_t *a)
{
    rtos_alarm_disarm(a);
    for (rtos_alarm_t **p = &a->svc->alarms; *p != NULL; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    if (a->firing) {
        a->dead = true;
        return false;
    }
    return true;
}

uint64_t rtos_alarm_next(const rtos_service_t *svc, bool wake_only)
{
    uint64_t next = RTOS_FOREVER;
    for (const rtos_alarm_t *a = svc->alarms; a != NULL; a = a->next) {
        if (a->active && !(wake_only && a->skip_missed) && a->at < next) {
            next = a->at;
        }
    }
    return next;
}
