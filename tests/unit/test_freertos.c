/*
 * FreeRTOS, esp_timer and sleep on the virtual-time scheduler: tasks are threads, waits block
 * and the clock jumps to the earliest deadline when every task is blocked. Every test checks
 * the virtual clock after its waits, so a timeout that expired in real time instead of virtual
 * time, or a clock that jumped too early, fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esp_internal.h"
#include "esp_sleep.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "esp_bit_defs.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "freertos/timers.h"
#include "ota/ota_clock.h"
#include "ota/ota_chip.h"
#include "ota/ota_posix.h"
#include "ota/ota_memflash.h"

#define MS(x) ((uint64_t)(x)*1000u)

/* Puts the clock at t microseconds (only the main task runs between tests). */
static void clock_at(uint64_t t)
{
    ota_clock_set_us(t);
}

/* ---- tasks and delays ---------------------------------------------------------------------- */

static void exit_idle(void)
{
    _exit(42);
}

static void forever_task(void *arg)
{
    QueueHandle_t q = arg;
    char c;
    if (xQueueReceive(q, &c, pdMS_TO_TICKS(300)) == errQUEUE_EMPTY) {
        xQueueReceive(q, &c, portMAX_DELAY); /* nothing will come */
    }
    vTaskDelete(NULL);
}

/* In a child process: a task that gets its byte ends (wait_all returns, status 7); one that
 * waits forever leaves nothing to run (the idle handler exits with 42). Returns the status. */
static int run_child(bool feed)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        esp_tasks_on_idle(exit_idle);
        QueueHandle_t q = xQueueCreate(1, 1);
        xTaskCreate(forever_task, "forever", 2048, q, 5, NULL);
        if (feed) {
            xQueueSend(q, "x", 0);
        }
        esp_tasks_wait_all();
        _exit(ota_clock_now_us() == 0 ? 7 : 8);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_idle_forever(void **state)
{
    (void)state;
    clock_at(0);
    assert_int_equal(run_child(true), 7);
    assert_int_equal(run_child(false), 42);
}

static void test_config_values(void **state)
{
    (void)state;
    assert_int_equal(configTICK_RATE_HZ, 100);
    assert_int_equal(portTICK_PERIOD_MS, 10);
    assert_int_equal(pdMS_TO_TICKS(1000), 100);
    assert_int_equal(pdMS_TO_TICKS(15), 1);
    assert_int_equal(pdTICKS_TO_MS(7), 70);
    assert_int_equal(portMAX_DELAY, 0xffffffffu);
    assert_int_equal(pdTRUE, 1);
    assert_int_equal(pdPASS, 1);
    assert_int_equal(pdFAIL, 0);
    assert_int_equal(tskNO_AFFINITY, 0x7FFFFFFF);
    assert_int_equal(configMAX_PRIORITIES, 25);
    assert_int_equal(sizeof(StackType_t), 1);
    assert_int_equal(sizeof(TickType_t), 4);
}

static void test_delay_advances_clock(void **state)
{
    (void)state;
    clock_at(1234);
    vTaskDelay(10);
    assert_int_equal(ota_clock_now_us(), 1234 + MS(100));
    assert_int_equal(xTaskGetTickCount(), 10);
    vTaskDelay(0);
    assert_int_equal(ota_clock_now_us(), 1234 + MS(100));
    vTaskDelay(pdMS_TO_TICKS(2000));
    assert_int_equal(esp_timer_get_time(), 1234 + MS(2100));
}

static void test_delay_until(void **state)
{
    (void)state;
    clock_at(MS(3));
    TickType_t last = xTaskGetTickCount();
    assert_int_equal(last, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xTaskDelayUntil(&last, 5), pdTRUE);
    }
    assert_int_equal(last, 15);
    assert_int_equal(ota_clock_now_us(), MS(150)); /* wakes on the tick, not 3 ms after */
    last = 2;                                      /* a wake time already past */
    assert_int_equal(xTaskDelayUntil(&last, 4), pdFALSE);
    assert_int_equal(last, 6);
    assert_int_equal(ota_clock_now_us(), MS(150));
    vTaskDelayUntil(&last, 10); /* 16: one tick ahead */
    assert_int_equal(last, 16);
    assert_int_equal(ota_clock_now_us(), MS(160));
}

typedef struct {
    SemaphoreHandle_t done;
    TaskHandle_t seen;
    char name[16];
    uint64_t woke_at;
    TickType_t delay;
} probe_t;

static void probe_task(void *arg)
{
    probe_t *p = arg;
    p->seen = xTaskGetCurrentTaskHandle();
    snprintf(p->name, sizeof(p->name), "%s", pcTaskGetName(NULL));
    vTaskDelay(p->delay);
    p->woke_at = ota_clock_now_us();
    xSemaphoreGive(p->done);
    vTaskDelete(NULL);
}

static void test_tasks_run_in_virtual_time(void **state)
{
    (void)state;
    clock_at(0);
    assert_string_equal(pcTaskGetName(NULL), "main");
    probe_t a = {.done = xSemaphoreCreateCounting(2, 0), .delay = 30};
    probe_t b = {.done = a.done, .delay = 7};
    TaskHandle_t ha = NULL;
    TaskHandle_t hb = NULL;
    assert_int_equal(xTaskCreate(probe_task, "probe_a", 4096, &a, 5, &ha), pdPASS);
    assert_int_equal(xTaskCreatePinnedToCore(probe_task, "probe_b", 2048, &b, 3, &hb, 1), pdPASS);
    assert_int_equal(xTaskGetCoreID(hb), 1);
    assert_int_equal(xTaskGetCoreID(ha), tskNO_AFFINITY);
    assert_int_equal(uxTaskPriorityGet(ha), 5);
    UBaseType_t mark = uxTaskGetStackHighWaterMark(ha);
    assert_true(mark > 0 && mark < 4096);
    assert_true(uxTaskGetStackHighWaterMark(NULL) > 0);
    assert_ptr_equal(xTaskGetHandle("probe_b"), hb);
    assert_int_equal(xSemaphoreTake(a.done, portMAX_DELAY), pdPASS);
    assert_int_equal(ota_clock_now_us(), MS(70)); /* b first */
    assert_int_equal(xSemaphoreTake(a.done, portMAX_DELAY), pdPASS);
    assert_int_equal(ota_clock_now_us(), MS(300));
    assert_ptr_equal(a.seen, ha);
    assert_ptr_equal(b.seen, hb);
    assert_string_equal(a.name, "probe_a");
    assert_string_equal(b.name, "probe_b");
    assert_int_equal(a.woke_at, MS(300));
    assert_int_equal(b.woke_at, MS(70));
    vSemaphoreDelete(a.done);
}

static void test_wait_all(void **state)
{
    (void)state;
    clock_at(0);
    probe_t a = {.done = xSemaphoreCreateCounting(2, 0), .delay = 12};
    probe_t b = {.done = a.done, .delay = 40};
    xTaskCreate(probe_task, "w1", 2048, &a, 5, NULL);
    xTaskCreate(probe_task, "w2", 2048, &b, 5, NULL);
    esp_tasks_wait_all();
    assert_int_equal(ota_clock_now_us(), MS(400));
    assert_int_equal(uxSemaphoreGetCount(a.done), 2);
    vSemaphoreDelete(a.done);
}

typedef struct {
    QueueHandle_t q;
    volatile int stage;
} victim_t;

static void victim_task(void *arg)
{
    victim_t *v = arg;
    int x;
    v->stage = 1;
    xQueueReceive(v->q, &x, portMAX_DELAY); /* deleted while blocked here */
    v->stage = 2;
    vTaskDelete(NULL);
}

static void self_suspending_task(void *arg)
{
    victim_t *v = arg;
    v->stage = 1;
    vTaskSuspend(NULL);
    v->stage = 2;
    int one = 1;
    xQueueSend(v->q, &one, 0);
    vTaskDelete(NULL);
}

static void test_delete_and_suspend(void **state)
{
    (void)state;
    clock_at(0);
    victim_t v = {.q = xQueueCreate(1, sizeof(int))};
    TaskHandle_t h = NULL;
    UBaseType_t before = uxTaskGetNumberOfTasks();
    xTaskCreate(victim_task, "victim", 2048, &v, 5, &h);
    vTaskDelay(1); /* the victim blocks on the queue */
    assert_int_equal(v.stage, 1);
    assert_int_equal(eTaskGetState(h), eBlocked);
    vTaskDelete(h);
    vTaskDelay(1);
    assert_int_equal(v.stage, 1);
    assert_int_equal(uxTaskGetNumberOfTasks(), before);

    victim_t s = {.q = v.q};
    xTaskCreate(self_suspending_task, "sleeper", 2048, &s, 5, &h);
    vTaskDelay(5);
    assert_int_equal(s.stage, 1);
    assert_int_equal(eTaskGetState(h), eSuspended);
    vTaskResume(h);
    int got = 0;
    assert_int_equal(xQueueReceive(v.q, &got, pdMS_TO_TICKS(100)), pdPASS);
    assert_int_equal(got, 1);
    assert_int_equal(s.stage, 2);
    assert_int_equal(ota_clock_now_us(), MS(70));
    vQueueDelete(v.q);
}

/* ---- queues -------------------------------------------------------------------------------- */

static void test_queue_operations(void **state)
{
    (void)state;
    clock_at(0);
    QueueHandle_t q = xQueueCreate(3, sizeof(int));
    assert_non_null(q);
    int v = 1;
    assert_int_equal(xQueueSend(q, &v, 0), pdPASS);
    v = 2;
    assert_int_equal(xQueueSendToBack(q, &v, 0), pdPASS);
    v = 0;
    assert_int_equal(xQueueSendToFront(q, &v, 0), pdPASS);
    assert_int_equal(uxQueueMessagesWaiting(q), 3);
    assert_int_equal(uxQueueSpacesAvailable(q), 0);
    assert_int_equal(xQueueIsQueueFullFromISR(q), pdTRUE);
    v = 9;
    assert_int_equal(xQueueSend(q, &v, 0), errQUEUE_FULL);
    assert_int_equal(xQueueSend(q, &v, 7), errQUEUE_FULL);
    assert_int_equal(ota_clock_now_us(), MS(70)); /* the send waited 7 ticks of virtual time */
    int out = -1;
    assert_int_equal(xQueuePeek(q, &out, 0), pdPASS);
    assert_int_equal(out, 0);
    for (int want = 0; want < 3; want++) {
        assert_int_equal(xQueueReceive(q, &out, 0), pdPASS);
        assert_int_equal(out, want);
    }
    assert_int_equal(xQueueIsQueueEmptyFromISR(q), pdTRUE);
    assert_int_equal(xQueueReceive(q, &out, 25), errQUEUE_EMPTY);
    assert_int_equal(ota_clock_now_us(), MS(320));
    BaseType_t woken = pdFALSE;
    v = 5;
    assert_int_equal(xQueueSendFromISR(q, &v, &woken), pdPASS);
    v = 4;
    assert_int_equal(xQueueSendToFrontFromISR(q, &v, &woken), pdPASS);
    assert_int_equal(uxQueueMessagesWaitingFromISR(q), 2);
    assert_int_equal(xQueuePeekFromISR(q, &out), pdPASS);
    assert_int_equal(out, 4);
    assert_int_equal(xQueueReceiveFromISR(q, &out, &woken), pdPASS);
    assert_int_equal(out, 4);
    assert_int_equal(xQueueReset(q), pdPASS);
    assert_int_equal(uxQueueMessagesWaiting(q), 0);
    assert_int_equal(uxQueueSpacesAvailable(q), 3);
    vQueueAddToRegistry(q, "numbers");
    assert_string_equal(pcQueueGetName(q), "numbers");
    vQueueDelete(q);

    QueueHandle_t mailbox = xQueueCreate(1, sizeof(int));
    v = 10;
    assert_int_equal(xQueueOverwrite(mailbox, &v), pdPASS);
    v = 11;
    assert_int_equal(xQueueOverwrite(mailbox, &v), pdPASS);
    assert_int_equal(xQueueOverwriteFromISR(mailbox, &v, NULL), pdPASS);
    assert_int_equal(uxQueueMessagesWaiting(mailbox), 1);
    assert_int_equal(xQueueReceive(mailbox, &out, 0), pdPASS);
    assert_int_equal(out, 11);
    vQueueDelete(mailbox);
}

typedef struct {
    QueueHandle_t q;
    SemaphoreHandle_t done;
    int n;
    TickType_t pause;
    int values[16];
    uint64_t times[16];
} pc_t;

static void consumer_task(void *arg)
{
    pc_t *pc = arg;
    for (int i = 0; i < pc->n; i++) {
        xQueueReceive(pc->q, &pc->values[i], portMAX_DELAY);
        pc->times[i] = ota_clock_now_us();
        if (pc->pause != 0) {
            vTaskDelay(pc->pause);
        }
    }
    xSemaphoreGive(pc->done);
    vTaskDelete(NULL);
}

static void producer_task(void *arg)
{
    pc_t *pc = arg;
    for (int i = 0; i < pc->n; i++) {
        int v = 100 + i;
        xQueueSend(pc->q, &v, portMAX_DELAY); /* blocks while the queue is full */
        pc->times[i] = ota_clock_now_us();
    }
    xSemaphoreGive(pc->done);
    vTaskDelete(NULL);
}

static void test_producer_consumer(void **state)
{
    (void)state;
    clock_at(0);
    /* A slow producer (main) and a consumer task that waits forever for each item. */
    pc_t c = {.q = xQueueCreate(4, sizeof(int)), .done = xSemaphoreCreateBinary(), .n = 5};
    xTaskCreate(consumer_task, "consumer", 4096, &c, 5, NULL);
    for (int i = 0; i < c.n; i++) {
        vTaskDelay(10);
        int v = i * i;
        assert_int_equal(xQueueSend(c.q, &v, 0), pdPASS);
    }
    assert_int_equal(xSemaphoreTake(c.done, portMAX_DELAY), pdPASS);
    for (int i = 0; i < c.n; i++) {
        assert_int_equal(c.values[i], i * i);
        assert_int_equal(c.times[i], MS(100) * (uint64_t)(i + 1));
    }
    /* A fast producer task against a slow consumer task: the producer blocks on the full
     * queue, each send completes when the consumer makes room. */
    clock_at(0);
    pc_t p = {.q = c.q, .done = xSemaphoreCreateCounting(2, 0), .n = 8};
    pc_t s = {.q = c.q, .done = p.done, .n = 8, .pause = 5};
    xTaskCreate(producer_task, "producer", 4096, &p, 5, NULL);
    xTaskCreate(consumer_task, "slow", 4096, &s, 5, NULL);
    assert_int_equal(xSemaphoreTake(p.done, portMAX_DELAY), pdPASS);
    assert_int_equal(xSemaphoreTake(p.done, portMAX_DELAY), pdPASS);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s.values[i], 100 + i);
        assert_int_equal(s.times[i], MS(50) * (uint64_t)i);
    }
    /* items 0..4 fit at once (one is taken at 0), the others wait for a slot every 50 ms */
    assert_int_equal(p.times[4], 0);
    assert_int_equal(p.times[5], MS(50));
    assert_int_equal(p.times[7], MS(150));
    assert_int_equal(ota_clock_now_us(), MS(400));
    vSemaphoreDelete(p.done);
    vSemaphoreDelete(c.done);
    vQueueDelete(c.q);
}

/* ---- semaphores and mutexes ---------------------------------------------------------------- */

static void test_binary_and_counting(void **state)
{
    (void)state;
    clock_at(0);
    SemaphoreHandle_t b = xSemaphoreCreateBinary();
    assert_int_equal(uxSemaphoreGetCount(b), 0);
    assert_int_equal(xSemaphoreTake(b, 0), pdFAIL);
    assert_int_equal(xSemaphoreTake(b, 3), pdFAIL);
    assert_int_equal(ota_clock_now_us(), MS(30));
    assert_int_equal(xSemaphoreGive(b), pdPASS);
    assert_int_equal(xSemaphoreGive(b), pdFAIL);
    assert_int_equal(xSemaphoreTake(b, 0), pdPASS);
    BaseType_t woken = pdFALSE;
    assert_int_equal(xSemaphoreGiveFromISR(b, &woken), pdPASS);
    assert_int_equal(xSemaphoreTakeFromISR(b, &woken), pdPASS);
    vSemaphoreDelete(b);

    SemaphoreHandle_t c = xSemaphoreCreateCounting(3, 1);
    assert_int_equal(uxSemaphoreGetCount(c), 1);
    assert_int_equal(xSemaphoreGive(c), pdPASS);
    assert_int_equal(xSemaphoreGive(c), pdPASS);
    assert_int_equal(xSemaphoreGive(c), pdFAIL);
    assert_int_equal(uxSemaphoreGetCount(c), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xSemaphoreTake(c, 0), pdPASS);
    }
    assert_int_equal(xSemaphoreTake(c, pdMS_TO_TICKS(500)), pdFAIL);
    assert_int_equal(ota_clock_now_us(), MS(530));
    vSemaphoreDelete(c);

    SemaphoreHandle_t legacy = NULL;
    vSemaphoreCreateBinary(legacy);
    assert_int_equal(uxSemaphoreGetCount(legacy), 1);
    vSemaphoreDelete(legacy);
}

typedef struct {
    SemaphoreHandle_t m;
    SemaphoreHandle_t done;
    BaseType_t give_result;
} holder_t;

static void holder_task(void *arg)
{
    holder_t *h = arg;
    xSemaphoreTake(h->m, portMAX_DELAY);
    vTaskDelay(20);
    xSemaphoreGive(h->m);
    xSemaphoreGive(h->done);
    vTaskDelete(NULL);
}

static void stranger_task(void *arg)
{
    holder_t *h = arg;
    h->give_result = xSemaphoreGive(h->m); /* not the holder */
    xSemaphoreGive(h->done);
    vTaskDelete(NULL);
}

static void test_mutexes(void **state)
{
    (void)state;
    clock_at(0);
    holder_t h = {.m = xSemaphoreCreateMutex(), .done = xSemaphoreCreateCounting(2, 0)};
    assert_int_equal(uxSemaphoreGetCount(h.m), 1);
    assert_int_equal(xSemaphoreTake(h.m, 0), pdPASS);
    assert_ptr_equal(xSemaphoreGetMutexHolder(h.m), xTaskGetCurrentTaskHandle());
    xTaskCreate(stranger_task, "stranger", 2048, &h, 5, NULL);
    assert_int_equal(xSemaphoreTake(h.done, portMAX_DELAY), pdPASS);
    assert_int_equal(h.give_result, pdFAIL);
    assert_int_equal(xSemaphoreGive(h.m), pdPASS);
    assert_null(xSemaphoreGetMutexHolder(h.m));

    xTaskCreate(holder_task, "holder", 2048, &h, 5, NULL);
    vTaskDelay(1);
    assert_int_equal(xSemaphoreTake(h.m, 5), pdFAIL); /* held from 0 to 200 ms */
    assert_int_equal(ota_clock_now_us(), MS(60));
    assert_int_equal(xSemaphoreTake(h.m, portMAX_DELAY), pdPASS);
    assert_int_equal(ota_clock_now_us(), MS(200));
    assert_int_equal(xSemaphoreTake(h.done, portMAX_DELAY), pdPASS);
    assert_int_equal(xSemaphoreGive(h.m), pdPASS);
    vSemaphoreDelete(h.m);
    vSemaphoreDelete(h.done);

    SemaphoreHandle_t r = xSemaphoreCreateRecursiveMutex();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xSemaphoreTakeRecursive(r, 0), pdPASS);
    }
    assert_int_equal(uxSemaphoreGetCount(r), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xSemaphoreGiveRecursive(r), pdPASS);
    }
    assert_int_equal(xSemaphoreGiveRecursive(r), pdFAIL);
    assert_int_equal(uxSemaphoreGetCount(r), 1);
    vSemaphoreDelete(r);
}

/* ---- event groups -------------------------------------------------------------------------- */


typedef struct {
    EventGroupHandle_t g;
    EventBits_t mine;
    EventBits_t got;
    uint64_t at;
    SemaphoreHandle_t done;
} eg_probe_t;

static void wait_all_task(void *arg)
{
    eg_probe_t *p = arg;
    p->got = xEventGroupWaitBits(p->g, BIT0 | BIT1, pdTRUE, pdTRUE, portMAX_DELAY);
    p->at = ota_clock_now_us();
    xSemaphoreGive(p->done);
    vTaskDelete(NULL);
}

static void sync_task(void *arg)
{
    eg_probe_t *p = arg;
    vTaskDelay(p->mine == BIT1 ? 10 : 30);
    p->got = xEventGroupSync(p->g, p->mine, BIT0 | BIT1 | BIT2, portMAX_DELAY);
    p->at = ota_clock_now_us();
    xSemaphoreGive(p->done);
    vTaskDelete(NULL);
}

static void test_event_groups(void **state)
{
    (void)state;
    clock_at(0);
    EventGroupHandle_t g = xEventGroupCreate();
    assert_int_equal(xEventGroupGetBits(g), 0);
    assert_int_equal(xEventGroupSetBits(g, BIT0 | BIT2), BIT0 | BIT2);
    assert_int_equal(xEventGroupClearBits(g, BIT2), BIT0 | BIT2);
    assert_int_equal(xEventGroupGetBits(g), BIT0);
    /* any bit, no clear: returns at once */
    assert_int_equal(xEventGroupWaitBits(g, BIT0 | BIT1, pdFALSE, pdFALSE, 0), BIT0);
    /* all bits: times out in virtual time and returns the bits as they are */
    assert_int_equal(xEventGroupWaitBits(g, BIT0 | BIT1, pdTRUE, pdTRUE, 4), BIT0);
    assert_int_equal(ota_clock_now_us(), MS(40));
    assert_int_equal(xEventGroupGetBits(g), BIT0);
    /* any bit with clear on exit */
    assert_int_equal(xEventGroupWaitBits(g, BIT0, pdTRUE, pdFALSE, 0), BIT0);
    assert_int_equal(xEventGroupGetBits(g), 0);

    eg_probe_t p = {.g = g, .done = xSemaphoreCreateCounting(3, 0)};
    xTaskCreate(wait_all_task, "waiter", 2048, &p, 5, NULL);
    vTaskDelay(2);
    xEventGroupSetBits(g, BIT0);
    vTaskDelay(3);
    assert_int_equal(xSemaphoreTake(p.done, 0), pdFAIL); /* still waits for BIT1 */
    /* set and clear again at once: the waiter was satisfied when set, so it is not missed */
    assert_int_equal(xEventGroupSetBits(g, BIT1 | BIT2), BIT2);
    xEventGroupClearBits(g, BIT2);
    assert_int_equal(xSemaphoreTake(p.done, portMAX_DELAY), pdPASS);
    assert_int_equal(p.got, BIT0 | BIT1 | BIT2);
    assert_int_equal(p.at, MS(90));
    assert_int_equal(xEventGroupGetBits(g), 0);

    /* a rendezvous of three tasks: the last to arrive releases the others */
    clock_at(0);
    eg_probe_t a = {.g = g, .mine = BIT1, .done = p.done};
    eg_probe_t b = {.g = g, .mine = BIT2, .done = p.done};
    xTaskCreate(sync_task, "sync_a", 2048, &a, 5, NULL);
    xTaskCreate(sync_task, "sync_b", 2048, &b, 5, NULL);
    vTaskDelay(20);
    EventBits_t mine = xEventGroupSync(g, BIT0, BIT0 | BIT1 | BIT2, portMAX_DELAY);
    assert_int_equal(mine, BIT0 | BIT1 | BIT2);
    assert_int_equal(ota_clock_now_us(), MS(300));
    assert_int_equal(xSemaphoreTake(p.done, portMAX_DELAY), pdPASS);
    assert_int_equal(xSemaphoreTake(p.done, portMAX_DELAY), pdPASS);
    assert_int_equal(a.at, MS(300));
    assert_int_equal(b.at, MS(300));
    assert_int_equal(a.got & (BIT0 | BIT1 | BIT2), BIT0 | BIT1 | BIT2);
    assert_int_equal(xEventGroupGetBits(g), 0);
    assert_int_equal(xEventGroupSync(g, BIT0, BIT0 | BIT1, 2), BIT0);
    assert_int_equal(ota_clock_now_us(), MS(320));
    vSemaphoreDelete(p.done);
    vEventGroupDelete(g);
}

/* ---- notifications ------------------------------------------------------------------------- */

typedef struct {
    uint32_t counts[3];
    uint32_t value;
    BaseType_t waited;
    uint64_t at;
    SemaphoreHandle_t done;
} notified_t;

static void take_task(void *arg)
{
    notified_t *n = arg;
    vTaskDelay(1); /* the three gives at 0 ms come first, whichever thread runs first */
    n->counts[0] = ulTaskNotifyTake(pdFALSE, portMAX_DELAY); /* decrements */
    n->counts[1] = ulTaskNotifyTake(pdTRUE, portMAX_DELAY);  /* clears */
    n->counts[2] = ulTaskNotifyTake(pdTRUE, 10);             /* times out */
    n->waited = xTaskNotifyWait(0, 0xffffffffu, &n->value, portMAX_DELAY);
    n->at = ota_clock_now_us();
    xSemaphoreGive(n->done);
    vTaskDelete(NULL);
}

static void test_notifications(void **state)
{
    (void)state;
    clock_at(0);
    notified_t n = {.done = xSemaphoreCreateBinary()};
    TaskHandle_t h = NULL;
    xTaskCreate(take_task, "notified", 2048, &n, 5, &h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xTaskNotifyGive(h), pdPASS);
    }
    vTaskDelay(1);
    /* 3 gives: the first take returns 3 and leaves 2, the second returns 2 and clears */
    vTaskDelay(20); /* the third take timed out at 110 ms */
    uint32_t prev = 0;
    assert_int_equal(xTaskNotifyAndQuery(h, 0x5, eSetBits, &prev), pdPASS);
    assert_int_equal(xSemaphoreTake(n.done, portMAX_DELAY), pdPASS);
    assert_int_equal(n.counts[0], 3);
    assert_int_equal(n.counts[1], 2);
    assert_int_equal(n.counts[2], 0);
    assert_int_equal(n.waited, pdTRUE);
    assert_int_equal(n.value, 0x5);
    assert_int_equal(n.at, MS(210));
    assert_int_equal(prev, 0);
    vSemaphoreDelete(n.done);

    /* the main task's own notification value */
    TaskHandle_t me = xTaskGetCurrentTaskHandle();
    assert_int_equal(xTaskNotify(me, 7, eSetValueWithoutOverwrite), pdPASS);
    assert_int_equal(xTaskNotify(me, 8, eSetValueWithoutOverwrite), pdFAIL);
    assert_int_equal(xTaskNotify(me, 9, eSetValueWithOverwrite), pdPASS);
    uint32_t v = 0;
    assert_int_equal(xTaskNotifyWait(0, 0, &v, 0), pdTRUE);
    assert_int_equal(v, 9);
    assert_int_equal(xTaskNotifyWait(0, 0, &v, 3), pdFALSE);
    assert_int_equal(ota_clock_now_us(), MS(240));
    BaseType_t woken = pdFALSE;
    assert_int_equal(xTaskNotifyFromISR(me, 1, eIncrement, &woken), pdPASS);
    assert_int_equal(xTaskNotifyStateClear(NULL), pdPASS);
    assert_int_equal(xTaskNotifyStateClear(NULL), pdFAIL);
    assert_int_equal(ulTaskNotifyValueClear(NULL, 0xffffffffu), 10);
    assert_int_equal(ulTaskNotifyTake(pdTRUE, 0), 0);
}

/* ---- software timers ----------------------------------------------------------------------- */

static char timer_log[128];
static uint64_t timer_times[16];
static int timer_fired;

static void log_timer(TimerHandle_t t)
{
    char entry[8];
    snprintf(entry, sizeof(entry), "%s%u ", pcTimerGetName(t),
             (unsigned)(ota_clock_now_us() / MS(10)));
    strncat(timer_log, entry, sizeof(timer_log) - strlen(timer_log) - 1);
    if (timer_fired < 16) {
        timer_times[timer_fired] = ota_clock_now_us();
    }
    timer_fired++;
}

static void test_software_timers(void **state)
{
    (void)state;
    clock_at(0);
    timer_log[0] = '\0';
    timer_fired = 0;
    int id = 42;
    TimerHandle_t a = xTimerCreate("A", 3, pdTRUE, &id, log_timer);
    TimerHandle_t b = xTimerCreate("B", 5, pdFALSE, NULL, log_timer);
    TimerHandle_t c = xTimerCreate("C", 4, pdTRUE, NULL, log_timer);
    assert_ptr_equal(pvTimerGetTimerID(a), &id);
    assert_int_equal(xTimerIsTimerActive(a), pdFALSE);
    assert_int_equal(xTimerGetReloadMode(b), pdFALSE);
    assert_int_equal(xTimerGetPeriod(c), 4);
    assert_int_equal(xTimerStart(a, 0), pdPASS);
    assert_int_equal(xTimerStart(b, 0), pdPASS);
    assert_int_equal(xTimerStart(c, 0), pdPASS);
    assert_int_equal(xTimerIsTimerActive(b), pdTRUE);
    assert_int_equal(xTimerGetExpiryTime(b), 5);
    vTaskDelay(13);
    /* equal expiries at 12 fire in arming order: C was re-armed at 8, A at 9 */
    assert_string_equal(timer_log, "A3 C4 B5 A6 C8 A9 C12 A12 ");
    assert_int_equal(xTimerIsTimerActive(b), pdFALSE);
    assert_int_equal(xTimerIsTimerActive(a), pdTRUE);
    assert_int_equal(xTimerStop(a, 0), pdPASS);
    assert_int_equal(xTimerStop(c, 0), pdPASS);
    vTaskDelay(100);
    assert_int_equal(timer_fired, 8);
    assert_int_equal(ota_clock_now_us(), MS(1130)); /* stopped timers leave no deadline */

    /* change the period (starts it), reset pushes the expiry back */
    timer_log[0] = '\0';
    clock_at(0);
    assert_int_equal(xTimerChangePeriod(b, 10, 0), pdPASS);
    vTaskDelay(6);
    assert_int_equal(xTimerReset(b, 0), pdPASS);
    vTaskDelay(20);
    assert_string_equal(timer_log, "B16 ");
    vTimerSetReloadMode(b, pdTRUE);
    vTimerSetTimerID(b, &id);
    assert_ptr_equal(pvTimerGetTimerID(b), &id);
    assert_int_equal(xTimerStartFromISR(b, NULL), pdPASS);
    vTaskDelay(25);
    assert_string_equal(timer_log, "B16 B36 B46 ");
    assert_non_null(xTimerGetTimerDaemonTaskHandle());
    assert_string_equal(pcTaskGetName(xTimerGetTimerDaemonTaskHandle()), "Tmr Svc");
    assert_int_equal(xTimerDelete(b, 0), pdPASS);
    assert_int_equal(xTimerDelete(a, 0), pdPASS);
    assert_int_equal(xTimerDelete(c, 0), pdPASS);
}

/* ---- esp_timer ----------------------------------------------------------------------------- */

static void count_cb(void *arg)
{
    (void)arg;
    if (timer_fired < 16) {
        timer_times[timer_fired] = ota_clock_now_us();
    }
    timer_fired++;
}

static void test_esp_timer(void **state)
{
    (void)state;
    clock_at(0);
    timer_fired = 0;
    esp_timer_handle_t once = NULL;
    esp_timer_handle_t every = NULL;
    esp_timer_create_args_t args = {.callback = count_cb, .name = "once"};
    assert_int_equal(esp_timer_create(NULL, &once), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_timer_create(&args, &once), ESP_OK);
    args.name = "every";
    assert_int_equal(esp_timer_create(&args, &every), ESP_OK);
    assert_int_equal(esp_timer_get_next_alarm(), INT64_MAX);
    assert_int_equal(esp_timer_stop(once), ESP_ERR_INVALID_STATE);
    assert_int_equal(esp_timer_start_once(once, 2500), ESP_OK);
    assert_int_equal(esp_timer_start_once(once, 2500), ESP_ERR_INVALID_STATE);
    assert_int_equal(esp_timer_start_periodic(every, 10), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_timer_start_periodic(every, 4000), ESP_OK);
    assert_true(esp_timer_is_active(once));
    assert_int_equal(esp_timer_get_next_alarm(), 2500);
    uint64_t v = 0;
    assert_int_equal(esp_timer_get_period(every, &v), ESP_OK);
    assert_int_equal(v, 4000);
    assert_int_equal(esp_timer_get_expiry_time(once, &v), ESP_OK);
    assert_int_equal(v, 2500);
    assert_int_equal(esp_timer_get_expiry_time(every, &v), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_timer_delete(every), ESP_ERR_INVALID_STATE);
    vTaskDelay(1); /* 10 ms: once at 2.5 ms, every at 4 and 8 ms */
    assert_int_equal(timer_fired, 3);
    assert_int_equal(timer_times[0], 2500);
    assert_int_equal(timer_times[1], 4000);
    assert_int_equal(timer_times[2], 8000);
    assert_false(esp_timer_is_active(once));
    assert_int_equal(esp_timer_restart(once, 100), ESP_ERR_INVALID_STATE);
    assert_int_equal(esp_timer_restart(every, 3000), ESP_OK); /* next at 13 ms, then 16 */
    vTaskDelay(1);
    assert_int_equal(timer_times[3], 13000);
    assert_int_equal(timer_times[4], 16000);
    assert_int_equal(timer_fired, 6);
    assert_int_equal(esp_timer_stop(every), ESP_OK);
    assert_int_equal(esp_timer_delete(every), ESP_OK);
    assert_int_equal(esp_timer_delete(once), ESP_OK);
    assert_int_equal(esp_timer_delete(NULL), ESP_ERR_INVALID_ARG);
}

/* Flash busy time advances the clock while a task runs: late periodic alarms are caught up
 * unless the timer skips unhandled events. */
static int run_late_timer(bool skip)
{
    clock_at(0);
    timer_fired = 0;
    esp_timer_handle_t t = NULL;
    esp_timer_create_args_t args = {.callback = count_cb, .skip_unhandled_events = skip};
    assert_int_equal(esp_timer_create(&args, &t), ESP_OK);
    assert_int_equal(esp_timer_start_periodic(t, 3000), ESP_OK);
    ota_clock_advance_us(7000); /* as a long flash erase does */
    vTaskDelay(1);              /* until 17 ms */
    assert_int_equal(esp_timer_stop(t), ESP_OK);
    assert_int_equal(esp_timer_delete(t), ESP_OK);
    assert_int_equal(ota_clock_now_us(), 17000);
    return timer_fired;
}

static void test_esp_timer_late_alarms(void **state)
{
    (void)state;
    assert_int_equal(run_late_timer(false), 5); /* 3 and 6 late at 7, then 9, 12, 15 */
    assert_int_equal(timer_times[0], 7000);
    assert_int_equal(timer_times[1], 7000);
    assert_int_equal(timer_times[2], 9000);
    assert_int_equal(timer_times[4], 15000);
    assert_int_equal(run_late_timer(true), 4); /* 3 late at 7, then 10, 13, 16 */
    assert_int_equal(timer_times[1], 10000);
    assert_int_equal(timer_times[3], 16000);
}

/* ---- critical sections --------------------------------------------------------------------- */

static portMUX_TYPE mux = portMUX_INITIALIZER_UNLOCKED;
static volatile int shared_counter;

static void critical_task(void *arg)
{
    SemaphoreHandle_t done = arg;
    for (int i = 0; i < 20000; i++) {
        taskENTER_CRITICAL(&mux);
        portENTER_CRITICAL(&mux); /* nests for the holder */
        int v = shared_counter;
        shared_counter = v + 1;
        portEXIT_CRITICAL(&mux);
        taskEXIT_CRITICAL(&mux);
    }
    xSemaphoreGive(done);
    vTaskDelete(NULL);
}

static void test_critical_sections(void **state)
{
    (void)state;
    SemaphoreHandle_t done = xSemaphoreCreateCounting(2, 0);
    shared_counter = 0;
    xTaskCreate(critical_task, "crit1", 2048, done, 5, NULL);
    xTaskCreate(critical_task, "crit2", 2048, done, 5, NULL);
    xSemaphoreTake(done, portMAX_DELAY);
    xSemaphoreTake(done, portMAX_DELAY);
    assert_int_equal(shared_counter, 40000);
    assert_int_equal(mux.owner, portMUX_FREE_VAL);
    portMUX_TYPE local;
    spinlock_initialize(&local);
    assert_int_equal(xPortEnterCriticalTimeout(&local, portMUX_TRY_LOCK), pdPASS);
    portEXIT_CRITICAL(&local);
    assert_int_equal(local.owner, SPINLOCK_FREE);
    vSemaphoreDelete(done);
}

/* ---- sleep --------------------------------------------------------------------------------- */

static jmp_buf slept;
static int sleep_calls;
static bool sleep_timer;

static void on_deep_sleep(void *ctx, bool timer)
{
    (void)ctx;
    sleep_calls++;
    sleep_timer = timer;
    longjmp(slept, 1);
}

static void install(int reset_reason)
{
    static uint8_t mem[0x10000];
    static ota_memflash_t m;
    static ota_flash_t f;
    memset(mem, 0xFF, sizeof(mem));
    ota_memflash_init(&f, &m, mem, sizeof(mem), false);
    esp_dev_config_t cfg = {
        .flash = &f,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .deep_sleep = on_deep_sleep,
        .reset_reason = reset_reason,
    };
    esp_dev_install(&cfg); /* blank flash: no table, which sleep does not need */
    assert_true(esp_dev_installed());
}

static void test_deep_sleep(void **state)
{
    (void)state;
    install(ESP_RST_POWERON);
    assert_int_equal(esp_sleep_get_wakeup_cause(), ESP_SLEEP_WAKEUP_UNDEFINED);
    clock_at(5000);
    sleep_calls = 0;
    if (setjmp(slept) == 0) {
        esp_deep_sleep(2000000);
    }
    assert_int_equal(sleep_calls, 1);
    assert_true(sleep_timer);
    assert_int_equal(ota_clock_now_us(), 2005000); /* the board boots after the sleep */
    assert_int_equal(esp_sleep_disable_wakeup_source(ESP_SLEEP_WAKEUP_TIMER), ESP_OK);
    assert_int_equal(esp_sleep_disable_wakeup_source(ESP_SLEEP_WAKEUP_TIMER),
                     ESP_ERR_INVALID_STATE);
    if (setjmp(slept) == 0) {
        esp_deep_sleep_start(); /* no wake-up source: sleeps for good */
    }
    assert_int_equal(sleep_calls, 2);
    assert_false(sleep_timer);
    assert_int_equal(ota_clock_now_us(), 2005000);
    assert_int_equal(esp_light_sleep_start(), ESP_ERR_SLEEP_REJECT);
    assert_int_equal(esp_sleep_enable_timer_wakeup(1500), ESP_OK);
    assert_int_equal(esp_light_sleep_start(), ESP_OK);
    assert_int_equal(ota_clock_now_us(), 2006500);

    install(ESP_RST_DEEPSLEEP); /* the next boot */
    assert_int_equal(esp_reset_reason(), ESP_RST_DEEPSLEEP);
    assert_int_equal(esp_sleep_get_wakeup_cause(), ESP_SLEEP_WAKEUP_TIMER);
    esp_dev_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_forever), /* first: forks while no other thread exists */
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_delay_advances_clock),
        cmocka_unit_test(test_delay_until),
        cmocka_unit_test(test_tasks_run_in_virtual_time),
        cmocka_unit_test(test_wait_all),
        cmocka_unit_test(test_delete_and_suspend),
        cmocka_unit_test(test_queue_operations),
        cmocka_unit_test(test_producer_consumer),
        cmocka_unit_test(test_binary_and_counting),
        cmocka_unit_test(test_mutexes),
        cmocka_unit_test(test_event_groups),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_software_timers),
        cmocka_unit_test(test_esp_timer),
        cmocka_unit_test(test_esp_timer_late_alarms),
        cmocka_unit_test(test_critical_sections),
        cmocka_unit_test(test_deep_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
