/*
 * The virtual-time scheduler shared by the FreeRTOS objects, the timer services and esp_timer
 * (not installed).
 *
 * One lock guards every task, queue, event group and timer. A task that waits blocks on an
 * object (any address) with a deadline in virtual microseconds; the scheduler counts the tasks
 * that are not blocked, and when that count reaches zero it moves the board's clock to the
 * earliest deadline and wakes the tasks whose deadline has come. Waking marks a task runnable
 * before the waker lets go of the lock, so the clock never jumps while a woken task has yet to
 * run.
 */
#ifndef RTOS_PRIV_H
#define RTOS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#define RTOS_TICK_US (1000000u / configTICK_RATE_HZ)
#define RTOS_FOREVER UINT64_MAX

/* Takes and releases the scheduler lock (not recursive). */
void rtos_lock(void);
void rtos_unlock(void);

/* Lock held. The calling task (a thread that is not a task yet becomes one). */
TaskHandle_t rtos_self(void);

/* The deadline of a wait of ticks from now (portMAX_DELAY: RTOS_FOREVER). */
uint64_t rtos_deadline(TickType_t ticks);

/*
 * Lock held. Blocks the calling task on obj until rtos_wake / rtos_wake_if picks it or the clock
 * reaches deadline; data is what rtos_wake_if's match function sees. A task deleted meanwhile
 * ends here; a suspended one stays here until resumed. Returns true when woken, false on timeout
 * (at once, without blocking, when the deadline is not in the future).
 */
bool rtos_wait(const void *obj, void *data, uint64_t deadline);

/* Lock held. Wakes up to max tasks waiting on obj, highest priority first, then the longest
 * waiting. Returns how many were woken. */
int rtos_wake(const void *obj, int max);

/* Lock held. Wakes every task waiting on obj for which match(its data, ctx) is true. Returns how
 * many were woken. */
int rtos_wake_if(const void *obj, bool (*match)(void *data, void *ctx), void *ctx);

/* Lock held. Starts a task of the system (a timer service): it does not count as one of the
 * app's tasks that esp_tasks_wait_all waits for. Returns NULL if it cannot be started. */
TaskHandle_t rtos_start_system_task(TaskFunction_t fn, const char *name, uint32_t depth, void *arg,
                                    UBaseType_t prio);

/* ---- timer services (FreeRTOS software timers, esp_timer) --------------------------------- */

typedef struct rtos_alarm rtos_alarm_t;
typedef struct rtos_service rtos_service_t;

struct rtos_alarm {
    rtos_alarm_t *next;
    rtos_service_t *svc;
    uint64_t at;     /* next expiry (virtual microseconds) while active */
    uint64_t period; /* 0: one-shot */
    uint64_t seq;    /* arming order: equal expiries fire in this order */
    bool active;
    bool skip_missed; /* periodic: after a late expiry, the next is one period from now */
    bool firing;      /* its callback runs now */
    bool dead;        /* removed while firing: the service frees it after the callback */
    void (*fire)(rtos_alarm_t *a); /* runs in the service's task without the lock */
};

/* A task that runs its alarms' callbacks in expiry order. Zero-filled apart from the names. */
struct rtos_service {
    const char *name;
    UBaseType_t priority;
    uint32_t stack_depth;
    rtos_alarm_t *alarms;
    TaskHandle_t task;
    char wake; /* wait object of the service's task */
};

/* Lock held. Adds a (malloc'ed) alarm to svc, inactive; starts the service task if needed.
 * Returns false if the task cannot be started. */
bool rtos_alarm_attach(rtos_service_t *svc, rtos_alarm_t *a);

/* Lock held. Arms a to expire at (virtual microseconds), then every period if not 0. */
void rtos_alarm_arm(rtos_alarm_t *a, uint64_t at, uint64_t period);

/* Lock held. Disarms a. */
void rtos_alarm_disarm(rtos_alarm_t *a);

/* Lock held. Removes a from its service. Returns true if the caller frees it now, false if its
 * callback is running (the service frees it after). */
bool rtos_alarm_detach(rtos_alarm_t *a);

/* Lock held. Earliest expiry among svc's active alarms (skipping skip_missed ones if
 * wake_only), or RTOS_FOREVER. */
uint64_t rtos_alarm_next(const rtos_service_t *svc, bool wake_only);

/* Lock held. The service's task, started if needed (NULL if it cannot be). */
TaskHandle_t rtos_service_task(rtos_service_t *svc);

#endif /* RTOS_PRIV_H */
