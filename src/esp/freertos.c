/*
 * FreeRTOS tasks on the host: each task is a thread. Delays advance the board's virtual clock
 * (1 tick = 10 ms) and yield, so waiting costs no wall-clock time.
 */
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_internal.h"
#include "ota/ota_clock.h"

typedef struct task {
    TaskFunction_t fn;
    void *arg;
    char name[16];
} task_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static int live_tasks;

static void task_ended(void)
{
    pthread_mutex_lock(&lock);
    live_tasks--;
    pthread_cond_broadcast(&idle);
    pthread_mutex_unlock(&lock);
}

static void *task_main(void *p)
{
    task_t t = *(task_t *)p;
    free(p);
    t.fn(t.arg);
    /* A FreeRTOS task must not return; ESP-IDF then reports the error and aborts. */
    fprintf(stdout, "E (%u) FreeRTOS: FreeRTOS Task \"%s\" should not return, Aborting now!\n",
            ota_clock_now_ms(), t.name);
    fflush(stdout);
    abort();
}

BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *name, uint32_t stack_depth,
                                   void *arg, UBaseType_t priority, TaskHandle_t *out_handle,
                                   BaseType_t core_id)
{
    (void)priority;
    (void)core_id;
    task_t *t = calloc(1, sizeof(*t));
    if (t == NULL || fn == NULL) {
        free(t);
        return pdFAIL;
    }
    t->fn = fn;
    t->arg = arg;
    snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* ESP-IDF counts the stack in bytes; host code needs more room than the chip's. */
    size_t stack = (size_t)stack_depth * 8u;
    pthread_attr_setstacksize(&attr, stack < 256u * 1024u ? 256u * 1024u : stack);
    pthread_mutex_lock(&lock);
    live_tasks++;
    pthread_mutex_unlock(&lock);
    pthread_t th;
    int rc = pthread_create(&th, &attr, task_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(t);
        task_ended();
        return pdFAIL;
    }
    if (out_handle != NULL) {
        *out_handle = (TaskHandle_t)(uintptr_t)th;
    }
    return pdPASS;
}

BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, uint32_t stack_depth, void *arg,
                       UBaseType_t priority, TaskHandle_t *out_handle)
{
    return xTaskCreatePinnedToCore(fn, name, stack_depth, arg, priority, out_handle,
                                   tskNO_AFFINITY);
}

void vTaskDelete(TaskHandle_t task)
{
    (void)task; /* only the calling task can be deleted on the host */
    task_ended();
    pthread_exit(NULL);
}

void vTaskDelay(TickType_t ticks)
{
    ota_clock_advance_us((uint64_t)ticks * (1000000u / configTICK_RATE_HZ));
    sched_yield();
}

TickType_t xTaskGetTickCount(void)
{
    return (TickType_t)(ota_clock_now_us() / (1000000u / configTICK_RATE_HZ));
}

void esp_tasks_wait_all(void)
{
    pthread_mutex_lock(&lock);
    while (live_tasks > 0) {
        pthread_cond_wait(&idle, &lock);
    }
    pthread_mutex_unlock(&lock);
}
