/*
 * FreeRTOS tasks on the host: the virtual-time scheduler (rtos_priv.h), task creation and
 * deletion, delays, suspension, notifications and critical sections.
 *
 * Each task is a thread. The process's initial thread is the main task ("main", the one that
 * calls app_main); a thread that calls the API without being a task becomes one. The scheduler
 * counts the tasks that are not blocked; when none is left it sets the clock to the earliest
 * deadline of a blocked task and wakes it, so waiting costs no wall-clock time.
 */
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_internal.h"
#include "ota/ota_clock.h"
#include "rtos_priv.h"

/* What ESP-IDF's main task is made with (CONFIG_ESP_MAIN_TASK_STACK_SIZE, ESP_TASK_MAIN_PRIO). */
#define MAIN_STACK 3584u
#define MAIN_PRIO 1u
/* What ESP-IDF's pthread tasks get (CONFIG_PTHREAD_TASK_STACK_SIZE_DEFAULT, _PRIO_DEFAULT). */
#define PTHREAD_STACK 3072u
#define PTHREAD_PRIO 5u
/* Host threads need more stack than a chip's task: at least this much. */
#define HOST_STACK_MIN (256u * 1024u)
/* Stack a task typically uses on the chip (for the high-water mark). */
#define TYPICAL_STACK_USE 1536u

enum { NOTIFY_NONE, NOTIFY_WAITING, NOTIFY_RECEIVED };

struct tskTaskControlBlock {
    struct tskTaskControlBlock *next;
    char name[configMAX_TASK_NAME_LEN];
    TaskFunction_t fn;
    void *arg;
    UBaseType_t priority;
    uint32_t stack_depth;
    BaseType_t core;
    bool system;  /* a timer service: not one of the app's tasks */
    bool adopted; /* a thread that became a task by calling the API */
    pthread_cond_t cond;
    bool blocked;
    bool woken;
    const void *wait_obj;
    void *wait_data;
    uint64_t deadline;
    uint64_t wait_seq;
    bool suspended;
    bool delete_pending;
    uint32_t notify_value;
    uint8_t notify_state;
};

static struct tskTaskControlBlock main_task = {
    .name = "main",
    .priority = MAIN_PRIO,
    .stack_depth = MAIN_STACK,
    .core = 0,
    .cond = PTHREAD_COND_INITIALIZER,
};

static struct {
    pthread_mutex_t lock;
    TaskHandle_t tasks;       /* every live task, main first */
    int running;              /* live tasks not blocked (the main task counts from the start) */
    int app_tasks;            /* live tasks made by xTaskCreate */
    uint64_t seq;             /* wait and arming order */
    TaskHandle_t waiting_all; /* the task in esp_tasks_wait_all */
    uint64_t next_deadline;   /* earliest deadline of a blocked task (read without the lock) */
    void (*idle)(void);       /* every task waits forever */
} S = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .tasks = &main_task,
    .running = 1,
    .next_deadline = UINT64_MAX,
};

static _Thread_local TaskHandle_t self_tcb;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t adopted_key;

static void on_clock_advance(void);
static void adopted_thread_ended(void *p);

static void init_once(void)
{
    pthread_key_create(&adopted_key, adopted_thread_ended);
    ota_clock_on_advance(on_clock_advance);
}

void rtos_lock(void)
{
    pthread_once(&once, init_once);
    pthread_mutex_lock(&S.lock);
}

void rtos_unlock(void)
{
    pthread_mutex_unlock(&S.lock);
}

uint64_t rtos_deadline(TickType_t ticks)
{
    if (ticks == portMAX_DELAY) {
        return RTOS_FOREVER;
    }
    return ota_clock_now_us() + (uint64_t)ticks * RTOS_TICK_US;
}

/* ---- the scheduler (lock held) ------------------------------------------------------------- */

static void unblock(TaskHandle_t t, bool woken)
{
    t->blocked = false;
    t->woken = woken;
    S.running++;
    pthread_cond_signal(&t->cond);
}

/* Wakes the blocked tasks whose deadline is not after now; records the next deadline. */
static void expire_due(uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (TaskHandle_t t = S.tasks; t != NULL; t = t->next) {
        if (!t->blocked) {
            continue;
        }
        if (t->deadline <= now) {
            unblock(t, false);
        } else if (t->deadline < next) {
            next = t->deadline;
        }
    }
    __atomic_store_n(&S.next_deadline, next, __ATOMIC_RELEASE);
}

static void __attribute__((noreturn)) idle_forever(void)
{
    fflush(NULL);
    if (S.idle != NULL) {
        S.idle();
    }
    fprintf(stderr, "E (%u) FreeRTOS: every task waits with no timeout; nothing can run again\n",
            ota_clock_now_ms());
    abort();
}

/* Every task is blocked: the clock moves to the earliest deadline. */
static void idle_advance(void)
{
    uint64_t next = UINT64_MAX;
    for (TaskHandle_t t = S.tasks; t != NULL; t = t->next) {
        if (t->blocked && t->deadline < next) {
            next = t->deadline;
        }
    }
    if (next == UINT64_MAX) {
        if (S.waiting_all != NULL && S.app_tasks == 0) {
            unblock(S.waiting_all, true);
            return;
        }
        idle_forever();
    }
    if (next > ota_clock_now_us()) {
        ota_clock_set_us(next);
    }
    expire_due(next);
}

static void on_clock_advance(void)
{
    uint64_t now = ota_clock_now_us();
    if (now < __atomic_load_n(&S.next_deadline, __ATOMIC_ACQUIRE)) {
        return;
    }
    pthread_mutex_lock(&S.lock);
    expire_due(now);
    pthread_mutex_unlock(&S.lock);
}

static bool block(TaskHandle_t self, const void *obj, void *data, uint64_t deadline)
{
    if (deadline <= ota_clock_now_us()) {
        return false;
    }
    self->blocked = true;
    self->woken = false;
    self->wait_obj = obj;
    self->wait_data = data;
    self->deadline = deadline;
    self->wait_seq = ++S.seq;
    if (deadline < S.next_deadline) {
        __atomic_store_n(&S.next_deadline, deadline, __ATOMIC_RELEASE);
    }
    if (--S.running == 0) {
        idle_advance();
    }
    while (self->blocked) {
        pthread_cond_wait(&self->cond, &S.lock);
    }
    return self->woken;
}

static void unlink_task(TaskHandle_t t)
{
    for (TaskHandle_t *p = &S.tasks; *p != NULL; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            return;
        }
    }
}

/* Ends the calling task (lock held; released here). Does not return. */
static void __attribute__((noreturn)) end_task(TaskHandle_t self)
{
    if (self == &main_task) {
        /* The main task deleting itself is app_main's end: wait for the others, then exit. */
        rtos_unlock();
        esp_tasks_wait_all();
        fflush(NULL);
        exit(0);
    }
    unlink_task(self);
    if (!self->system && !self->adopted) {
        S.app_tasks--;
    }
    if (--S.running == 0) {
        idle_advance();
    }
    rtos_unlock();
    if (self->adopted) {
        pthread_setspecific(adopted_key, NULL);
    }
    pthread_cond_destroy(&self->cond);
    free(self);
    self_tcb = NULL;
    pthread_exit(NULL);
}

/* Deletion and suspension asked by other tasks take effect here. A wake-up this task can no
 * longer use passes to the next waiter. */
static void take_requests(TaskHandle_t self, const void *obj)
{
    for (;;) {
        if ((self->delete_pending || self->suspended) && self->woken && obj != NULL) {
            self->woken = false;
            rtos_wake(obj, 1);
        }
        if (self->delete_pending) {
            end_task(self);
        }
        if (!self->suspended) {
            return;
        }
        block(self, &self->suspended, NULL, RTOS_FOREVER);
    }
}

bool rtos_wait(const void *obj, void *data, uint64_t deadline)
{
    TaskHandle_t self = rtos_self();
    bool woken = block(self, obj, data, deadline);
    self->wait_obj = NULL;
    take_requests(self, obj);
    return woken;
}

static bool ranks_before(TaskHandle_t a, TaskHandle_t b)
{
    return b == NULL || a->priority > b->priority ||
           (a->priority == b->priority && a->wait_seq < b->wait_seq);
}

int rtos_wake(const void *obj, int max)
{
    int n = 0;
    while (n < max) {
        TaskHandle_t best = NULL;
        for (TaskHandle_t t = S.tasks; t != NULL; t = t->next) {
            if (t->blocked && t->wait_obj == obj && ranks_before(t, best)) {
                best = t;
            }
        }
        if (best == NULL) {
            break;
        }
        unblock(best, true);
        n++;
    }
    return n;
}

int rtos_wake_if(const void *obj, bool (*match)(void *data, void *ctx), void *ctx)
{
    int n = 0;
    for (TaskHandle_t t = S.tasks; t != NULL; t = t->next) {
        if (t->blocked && t->wait_obj == obj && match(t->wait_data, ctx)) {
            unblock(t, true);
            n++;
        }
    }
    return n;
}

/* ---- tasks --------------------------------------------------------------------------------- */

static TaskHandle_t new_tcb(const char *name, uint32_t depth, UBaseType_t prio, BaseType_t core)
{
    TaskHandle_t t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    snprintf(t->name, sizeof(t->name), "%s", name != NULL ? name : "");
    t->stack_depth = depth;
    t->priority = prio < configMAX_PRIORITIES ? prio : configMAX_PRIORITIES - 1;
    t->core = core;
    pthread_cond_init(&t->cond, NULL);
    return t;
}

static void link_task(TaskHandle_t t)
{
    TaskHandle_t *p = &S.tasks;
    while (*p != NULL) {
        p = &(*p)->next;
    }
    *p = t;
    S.running++;
}

TaskHandle_t rtos_self(void)
{
    if (self_tcb != NULL) {
        return self_tcb;
    }
    if (gettid() == getpid()) {
        self_tcb = &main_task;
        return self_tcb;
    }
    TaskHandle_t t = new_tcb("pthread", PTHREAD_STACK, PTHREAD_PRIO, tskNO_AFFINITY);
    if (t == NULL) {
        abort(); /* out of memory while adopting a thread: nothing sensible is left */
    }
    t->adopted = true;
    link_task(t);
    pthread_setspecific(adopted_key, t);
    self_tcb = t;
    return t;
}

static void adopted_thread_ended(void *p)
{
    TaskHandle_t t = p;
    pthread_mutex_lock(&S.lock);
    unlink_task(t);
    if (--S.running == 0) {
        idle_advance();
    }
    pthread_mutex_unlock(&S.lock);
    pthread_cond_destroy(&t->cond);
    free(t);
}

static void *task_main(void *p)
{
    TaskHandle_t t = p;
    self_tcb = t;
    t->fn(t->arg);
    /* A FreeRTOS task must not return; ESP-IDF then reports the error and aborts. */
    fprintf(stdout, "E (%u) FreeRTOS: FreeRTOS Task \"%s\" should not return, Aborting now!\n",
            ota_clock_now_ms(), t->name);
    fflush(stdout);
    abort();
}

/* Lock held. Creates and starts a task; it counts as running from now on. */
static TaskHandle_t start_task(TaskFunction_t fn, const char *name, uint32_t depth, void *arg,
                               UBaseType_t prio, BaseType_t core, bool system)
{
    TaskHandle_t t = fn != NULL ? new_tcb(name, depth, prio, core) : NULL;
    if (t == NULL) {
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->system = system;
    link_task(t);
    if (!system) {
        S.app_tasks++;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t stack = (size_t)depth * 8u;
    pthread_attr_setstacksize(&attr, stack < HOST_STACK_MIN ? HOST_STACK_MIN : stack);
    pthread_t th;
    int rc = pthread_create(&th, &attr, task_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        unlink_task(t);
        S.running--;
        if (!system) {
            S.app_tasks--;
        }
        pthread_cond_destroy(&t->cond);
        free(t);
        return NULL;
    }
    return t;
}

TaskHandle_t rtos_start_system_task(TaskFunction_t fn, const char *name, uint32_t depth, void *arg,
                                    UBaseType_t prio)
{
    return start_task(fn, name, depth, arg, prio, 0, true);
}

BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *const name,
                                   const uint32_t stack_depth, void *const arg,
                                   UBaseType_t priority, TaskHandle_t *const out_handle,
                                   const BaseType_t core_id)
{
    rtos_lock();
    TaskHandle_t t = start_task(fn, name, stack_depth, arg, priority, core_id, false);
    rtos_unlock();
    if (out_handle != NULL) {
        *out_handle = t;
    }
    return t != NULL ? pdPASS : errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY;
}

BaseType_t xTaskCreate(TaskFunction_t fn, const char *const name, const uint32_t stack_depth,
                       void *const arg, UBaseType_t priority, TaskHandle_t *const out_handle)
{
    return xTaskCreatePinnedToCore(fn, name, stack_depth, arg, priority, out_handle,
                                   tskNO_AFFINITY);
}

TaskHandle_t xTaskCreateStaticPinnedToCore(TaskFunction_t fn, const char *const name,
                                           const uint32_t stack_depth, void *const arg,
                                           UBaseType_t priority, StackType_t *const stack,
                                           StaticTask_t *const tcb, const BaseType_t core_id)
{
    (void)stack;
    (void)tcb;
    TaskHandle_t t = NULL;
    xTaskCreatePinnedToCore(fn, name, stack_depth, arg, priority, &t, core_id);
    return t;
}

TaskHandle_t xTaskCreateStatic(TaskFunction_t fn, const char *const name,
                               const uint32_t stack_depth, void *const arg, UBaseType_t priority,
                               StackType_t *const stack, StaticTask_t *const tcb)
{
    return xTaskCreateStaticPinnedToCore(fn, name, stack_depth, arg, priority, stack, tcb,
                                         tskNO_AFFINITY);
}

void vTaskDelete(TaskHandle_t task)
{
    rtos_lock();
    TaskHandle_t self = rtos_self();
    if (task == NULL || task == self) {
        end_task(self);
    }
    task->delete_pending = true;
    if (task->blocked) {
        unblock(task, false);
    }
    rtos_unlock();
}

void esp_tasks_wait_all(void)
{
    rtos_lock();
    S.waiting_all = rtos_self();
    block(S.waiting_all, &S.waiting_all, NULL, RTOS_FOREVER);
    S.waiting_all = NULL;
    rtos_unlock();
}

void esp_tasks_on_idle(void (*fn)(void))
{
    rtos_lock();
    S.idle = fn;
    rtos_unlock();
}

/* ---- time ---------------------------------------------------------------------------------- */

void vTaskDelay(const TickType_t ticks)
{
    rtos_lock();
    if (ticks == 0) {
        take_requests(rtos_self(), NULL);
        rtos_unlock();
        sched_yield();
        return;
    }
    rtos_wait(NULL, NULL, rtos_deadline(ticks));
    rtos_unlock();
}

BaseType_t xTaskDelayUntil(TickType_t *const previous_wake, const TickType_t increment)
{
    configASSERT(previous_wake != NULL && increment > 0);
    rtos_lock();
    uint64_t now = ota_clock_now_us();
    TickType_t tick = (TickType_t)(now / RTOS_TICK_US);
    TickType_t prev = *previous_wake;
    TickType_t wake = prev + increment;
    bool delay;
    if (tick < prev) { /* the tick count wrapped since prev */
        delay = wake < prev && wake > tick;
    } else {
        delay = wake < prev || wake > tick;
    }
    *previous_wake = wake;
    if (delay) {
        uint64_t start = now - now % RTOS_TICK_US;
        rtos_wait(NULL, NULL, start + (uint64_t)(TickType_t)(wake - tick) * RTOS_TICK_US);
    }
    rtos_unlock();
    return delay ? pdTRUE : pdFALSE;
}

TickType_t xTaskGetTickCount(void)
{
    return (TickType_t)(ota_clock_now_us() / RTOS_TICK_US);
}

TickType_t xTaskGetTickCountFromISR(void)
{
    return xTaskGetTickCount();
}

/* ---- information and control --------------------------------------------------------------- */

TaskHandle_t xTaskGetCurrentTaskHandle(void)
{
    rtos_lock();
    TaskHandle_t t = rtos_self();
    rtos_unlock();
    return t;
}

char *pcTaskGetName(TaskHandle_t task)
{
    return task != NULL ? task->name : xTaskGetCurrentTaskHandle()->name;
}

TaskHandle_t xTaskGetHandle(const char *name)
{
    TaskHandle_t found = NULL;
    rtos_lock();
    for (TaskHandle_t t = S.tasks; t != NULL && name != NULL; t = t->next) {
        if (strncmp(t->name, name, sizeof(t->name)) == 0) {
            found = t;
            break;
        }
    }
    rtos_unlock();
    return found;
}

UBaseType_t uxTaskGetNumberOfTasks(void)
{
    UBaseType_t n = 0;
    rtos_lock();
    for (TaskHandle_t t = S.tasks; t != NULL; t = t->next) {
        n++;
    }
    rtos_unlock();
    return n;
}

UBaseType_t uxTaskPriorityGet(const TaskHandle_t task)
{
    rtos_lock();
    UBaseType_t p = (task != NULL ? task : rtos_self())->priority;
    rtos_unlock();
    return p;
}

void vTaskPrioritySet(TaskHandle_t task, UBaseType_t priority)
{
    rtos_lock();
    TaskHandle_t t = task != NULL ? task : rtos_self();
    t->priority = priority < configMAX_PRIORITIES ? priority : configMAX_PRIORITIES - 1;
    rtos_unlock();
}

eTaskState eTaskGetState(TaskHandle_t task)
{
    eTaskState st;
    rtos_lock();
    if (task == rtos_self()) {
        st = eRunning;
    } else if (task->blocked) {
        st = task->wait_obj == &task->suspended ? eSuspended : eBlocked;
    } else {
        st = eReady;
    }
    rtos_unlock();
    return st;
}

BaseType_t xTaskGetCoreID(TaskHandle_t task)
{
    return (task != NULL ? task : xTaskGetCurrentTaskHandle())->core;
}

configSTACK_DEPTH_TYPE uxTaskGetStackHighWaterMark2(TaskHandle_t task)
{
    uint32_t depth = (task != NULL ? task : xTaskGetCurrentTaskHandle())->stack_depth;
    uint32_t used = depth / 2 < TYPICAL_STACK_USE ? depth / 2 : TYPICAL_STACK_USE;
    return depth - used;
}

UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t task)
{
    return (UBaseType_t)uxTaskGetStackHighWaterMark2(task);
}

void vTaskSuspend(TaskHandle_t task)
{
    rtos_lock();
    TaskHandle_t self = rtos_self();
    TaskHandle_t t = task != NULL ? task : self;
    t->suspended = true;
    if (t == self) {
        take_requests(self, NULL);
    }
    rtos_unlock();
}

void vTaskResume(TaskHandle_t task)
{
    if (task == NULL) {
        return;
    }
    rtos_lock();
    if (task->suspended) {
        task->suspended = false;
        if (task->blocked && task->wait_obj == &task->suspended) {
            unblock(task, true);
        }
    }
    rtos_unlock();
}

BaseType_t xTaskResumeFromISR(TaskHandle_t task)
{
    vTaskResume(task);
    return pdFALSE;
}

BaseType_t xTaskGetSchedulerState(void)
{
    return taskSCHEDULER_RUNNING;
}

void vPortYield(void)
{
    vTaskDelay(0);
}

BaseType_t xPortInIsrContext(void)
{
    return pdFALSE;
}

/* ---- notifications ------------------------------------------------------------------------- */

/* Lock held. */
static BaseType_t notify(TaskHandle_t t, uint32_t value, eNotifyAction action, uint32_t *prev)
{
    if (prev != NULL) {
        *prev = t->notify_value;
    }
    uint8_t was = t->notify_state;
    switch (action) {
    case eSetBits:
        t->notify_value |= value;
        break;
    case eIncrement:
        t->notify_value++;
        break;
    case eSetValueWithOverwrite:
        t->notify_value = value;
        break;
    case eSetValueWithoutOverwrite:
        if (was == NOTIFY_RECEIVED) {
            return pdFAIL;
        }
        t->notify_value = value;
        break;
    case eNoAction:
    default:
        break;
    }
    t->notify_state = NOTIFY_RECEIVED;
    if (was == NOTIFY_WAITING) {
        rtos_wake(&t->notify_state, 1);
    }
    return pdPASS;
}

BaseType_t xTaskGenericNotify(TaskHandle_t task, UBaseType_t index, uint32_t value,
                              eNotifyAction action, uint32_t *previous)
{
    configASSERT(task != NULL && index < configTASK_NOTIFICATION_ARRAY_ENTRIES);
    rtos_lock();
    BaseType_t r = notify(task, value, action, previous);
    rtos_unlock();
    return r;
}

BaseType_t xTaskGenericNotifyFromISR(TaskHandle_t task, UBaseType_t index, uint32_t value,
                                     eNotifyAction action, uint32_t *previous,
                                     BaseType_t *higher_woken)
{
    if (higher_woken != NULL) {
        *higher_woken = pdFALSE;
    }
    return xTaskGenericNotify(task, index, value, action, previous);
}

void vTaskGenericNotifyGiveFromISR(TaskHandle_t task, UBaseType_t index, BaseType_t *higher_woken)
{
    xTaskGenericNotifyFromISR(task, index, 0, eIncrement, NULL, higher_woken);
}

BaseType_t xTaskGenericNotifyWait(UBaseType_t index, uint32_t clear_on_entry,
                                  uint32_t clear_on_exit, uint32_t *value, TickType_t ticks)
{
    configASSERT(index < configTASK_NOTIFICATION_ARRAY_ENTRIES);
    rtos_lock();
    TaskHandle_t self = rtos_self();
    uint64_t deadline = rtos_deadline(ticks);
    if (self->notify_state != NOTIFY_RECEIVED) {
        self->notify_value &= ~clear_on_entry;
        self->notify_state = NOTIFY_WAITING;
        while (self->notify_state != NOTIFY_RECEIVED &&
               rtos_wait(&self->notify_state, NULL, deadline)) {
        }
    }
    if (value != NULL) {
        *value = self->notify_value;
    }
    BaseType_t r = pdFALSE;
    if (self->notify_state == NOTIFY_RECEIVED) {
        self->notify_value &= ~clear_on_exit;
        r = pdTRUE;
    }
    self->notify_state = NOTIFY_NONE;
    rtos_unlock();
    return r;
}

uint32_t ulTaskGenericNotifyTake(UBaseType_t index, BaseType_t clear, TickType_t ticks)
{
    configASSERT(index < configTASK_NOTIFICATION_ARRAY_ENTRIES);
    rtos_lock();
    TaskHandle_t self = rtos_self();
    uint64_t deadline = rtos_deadline(ticks);
    while (self->notify_value == 0) {
        self->notify_state = NOTIFY_WAITING;
        if (!rtos_wait(&self->notify_state, NULL, deadline)) {
            break;
        }
    }
    uint32_t v = self->notify_value;
    if (v != 0) {
        self->notify_value = clear ? 0 : v - 1;
    }
    self->notify_state = NOTIFY_NONE;
    rtos_unlock();
    return v;
}

BaseType_t xTaskGenericNotifyStateClear(TaskHandle_t task, UBaseType_t index)
{
    configASSERT(index < configTASK_NOTIFICATION_ARRAY_ENTRIES);
    rtos_lock();
    TaskHandle_t t = task != NULL ? task : rtos_self();
    BaseType_t r = t->notify_state == NOTIFY_RECEIVED ? pdPASS : pdFAIL;
    if (r == pdPASS) {
        t->notify_state = NOTIFY_NONE;
    }
    rtos_unlock();
    return r;
}

uint32_t ulTaskGenericNotifyValueClear(TaskHandle_t task, UBaseType_t index, uint32_t bits)
{
    configASSERT(index < configTASK_NOTIFICATION_ARRAY_ENTRIES);
    rtos_lock();
    TaskHandle_t t = task != NULL ? task : rtos_self();
    uint32_t v = t->notify_value;
    t->notify_value &= ~bits;
    rtos_unlock();
    return v;
}

/* ---- critical sections and asserts --------------------------------------------------------- */

bool spinlock_acquire(spinlock_t *lock, int32_t timeout)
{
    uint32_t me = (uint32_t)gettid();
    if (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) == me) {
        lock->count++;
        return true;
    }
    for (int32_t tries = 0;; tries++) {
        uint32_t expected = SPINLOCK_FREE;
        if (__atomic_compare_exchange_n(&lock->owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            lock->count = 1;
            return true;
        }
        if (timeout != SPINLOCK_WAIT_FOREVER && tries >= timeout) {
            return false;
        }
        sched_yield();
    }
}

void spinlock_release(spinlock_t *lock)
{
    if (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != (uint32_t)gettid()) {
        return;
    }
    if (--lock->count == 0) {
        __atomic_store_n(&lock->owner, SPINLOCK_FREE, __ATOMIC_RELEASE);
    }
}

void vPortEnterCritical(portMUX_TYPE *mux)
{
    spinlock_acquire(mux, SPINLOCK_WAIT_FOREVER);
}

void vPortExitCritical(portMUX_TYPE *mux)
{
    spinlock_release(mux);
}

BaseType_t xPortEnterCriticalTimeout(portMUX_TYPE *mux, BaseType_t timeout)
{
    return spinlock_acquire(mux, timeout) ? pdPASS : pdFAIL;
}

void otakit_assert_failed(const char *func, const char *file, int line, const char *expr)
{
    const char *base = strrchr(file, '/');
    fprintf(stdout, "\nassert failed: %s %s:%d (%s)\n", func, base != NULL ? base + 1 : file, line,
            expr);
    fflush(stdout);
    abort();
}
