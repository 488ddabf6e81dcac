/*
 * FreeRTOS queues, semaphores and mutexes on the virtual-time scheduler (rtos_priv.h).
 *
 * A queue is a ring of fixed-size items; semaphores and mutexes are queues of zero-sized items
 * whose count is the number of gives available. Tasks waiting to receive block on q->rx, tasks
 * waiting to send on q->tx; each change wakes one waiter of the other side, which checks again.
 */
#include "freertos/queue.h"

#include <stdlib.h>
#include <string.h>

#include "rtos_priv.h"

struct QueueDefinition {
    uint8_t type;
    UBaseType_t length;
    UBaseType_t item_size;
    UBaseType_t count;
    UBaseType_t head;      /* slot of the oldest item */
    TaskHandle_t holder;   /* mutexes: the task that took it */
    UBaseType_t recursion; /* recursive mutexes: takes not yet given back */
    const char *name;
    char rx; /* wait object: tasks waiting to receive or take */
    char tx; /* wait object: tasks waiting to send or give */
    uint8_t items[];
};

static bool is_mutex(const struct QueueDefinition *q)
{
    return q->type == queueQUEUE_TYPE_MUTEX || q->type == queueQUEUE_TYPE_RECURSIVE_MUTEX;
}

QueueHandle_t xQueueGenericCreate(const UBaseType_t length, const UBaseType_t item_size,
                                  const uint8_t type)
{
    if (length == 0 || (item_size != 0 && length > SIZE_MAX / item_size)) {
        return NULL;
    }
    struct QueueDefinition *q = calloc(1, sizeof(*q) + (size_t)length * item_size);
    if (q != NULL) {
        q->type = type;
        q->length = length;
        q->item_size = item_size;
    }
    return q;
}

QueueHandle_t xQueueGenericCreateStatic(const UBaseType_t length, const UBaseType_t item_size,
                                        uint8_t *storage, StaticQueue_t *buffer, const uint8_t type)
{
    (void)storage;
    (void)buffer;
    return xQueueGenericCreate(length, item_size, type);
}

QueueHandle_t xQueueCreateCountingSemaphore(const UBaseType_t max_count,
                                            const UBaseType_t initial_count)
{
    configASSERT(max_count != 0 && initial_count <= max_count);
    QueueHandle_t q = xQueueGenericCreate(max_count, 0, queueQUEUE_TYPE_COUNTING_SEMAPHORE);
    if (q != NULL) {
        q->count = initial_count;
    }
    return q;
}

QueueHandle_t xQueueCreateCountingSemaphoreStatic(const UBaseType_t max_count,
                                                  const UBaseType_t initial_count,
                                                  StaticQueue_t *buffer)
{
    (void)buffer;
    return xQueueCreateCountingSemaphore(max_count, initial_count);
}

QueueHandle_t xQueueCreateMutex(const uint8_t type)
{
    QueueHandle_t q = xQueueGenericCreate(1, 0, type);
    if (q != NULL) {
        q->count = 1;
    }
    return q;
}

QueueHandle_t xQueueCreateMutexStatic(const uint8_t type, StaticQueue_t *buffer)
{
    (void)buffer;
    return xQueueCreateMutex(type);
}

void vQueueDelete(QueueHandle_t queue)
{
    configASSERT(queue != NULL);
    free(queue);
}

/* ---- sending ------------------------------------------------------------------------------- */

/* Lock held. Stores the item if there is room (or it overwrites). self is the caller's task, NULL
 * from an interrupt. Returns whether it was stored; *woken counts woken receivers. */
static bool try_send(QueueHandle_t q, const void *item, BaseType_t pos, TaskHandle_t self,
                     int *woken)
{
    if (q->count >= q->length && pos != queueOVERWRITE) {
        return false;
    }
    if (is_mutex(q)) {
        if (q->holder != self) {
            return false; /* only the holder gives a mutex back */
        }
        q->holder = NULL;
        q->recursion = 0;
    }
    UBaseType_t slot;
    if (pos == queueOVERWRITE) {
        slot = q->head;
        q->count = 1;
    } else if (pos == queueSEND_TO_FRONT) {
        q->head = (q->head + q->length - 1) % q->length;
        slot = q->head;
        q->count++;
    } else {
        slot = (q->head + q->count) % q->length;
        q->count++;
    }
    if (q->item_size != 0 && item != NULL) {
        memcpy(q->items + (size_t)slot * q->item_size, item, q->item_size);
    }
    *woken += rtos_wake(&q->rx, 1);
    return true;
}

BaseType_t xQueueGenericSend(QueueHandle_t queue, const void *const item, TickType_t ticks,
                             const BaseType_t position)
{
    configASSERT(queue != NULL);
    configASSERT(position != queueOVERWRITE || queue->length == 1);
    rtos_lock();
    uint64_t deadline = rtos_deadline(ticks);
    TaskHandle_t self = rtos_self();
    int woken = 0;
    bool sent;
    bool waited = true;
    while (!(sent = try_send(queue, item, position, self, &woken)) && waited) {
        if (is_mutex(queue)) {
            break; /* a give never waits for the mutex to be free */
        }
        waited = rtos_wait(&queue->tx, NULL, deadline);
    }
    rtos_unlock();
    return sent ? pdPASS : errQUEUE_FULL;
}

BaseType_t xQueueGenericSendFromISR(QueueHandle_t queue, const void *const item,
                                    BaseType_t *const higher_woken, const BaseType_t position)
{
    configASSERT(queue != NULL);
    configASSERT(position != queueOVERWRITE || queue->length == 1);
    rtos_lock();
    int woken = 0;
    bool sent = try_send(queue, item, position, NULL, &woken);
    rtos_unlock();
    if (higher_woken != NULL && woken > 0) {
        *higher_woken = pdTRUE;
    }
    return sent ? pdPASS : errQUEUE_FULL;
}

BaseType_t xQueueGiveFromISR(QueueHandle_t queue, BaseType_t *const higher_woken)
{
    return xQueueGenericSendFromISR(queue, NULL, higher_woken, queueSEND_TO_BACK);
}

/* ---- receiving ----------------------------------------------------------------------------- */

/* Lock held. Copies out the oldest item if there is one, removing it unless peek. self takes a
 * mutex. Returns whether there was an item; *woken counts woken tasks. */
static bool try_receive(QueueHandle_t q, void *buffer, bool peek, TaskHandle_t self, int *woken)
{
    if (q->count == 0) {
        return false;
    }
    if (q->item_size != 0 && buffer != NULL) {
        memcpy(buffer, q->items + (size_t)q->head * q->item_size, q->item_size);
    }
    if (peek) {
        *woken += rtos_wake(&q->rx, 1); /* the item is still there for the next receiver */
        return true;
    }
    q->head = (q->head + 1) % q->length;
    q->count--;
    if (is_mutex(q)) {
        q->holder = self;
    }
    *woken += rtos_wake(&q->tx, 1);
    return true;
}

static BaseType_t receive(QueueHandle_t q, void *buffer, TickType_t ticks, bool peek)
{
    configASSERT(q != NULL);
    rtos_lock();
    uint64_t deadline = rtos_deadline(ticks);
    TaskHandle_t self = rtos_self();
    int woken = 0;
    bool got;
    bool waited = true;
    while (!(got = try_receive(q, buffer, peek, self, &woken)) && waited) {
        waited = rtos_wait(&q->rx, NULL, deadline);
    }
    rtos_unlock();
    return got ? pdPASS : errQUEUE_EMPTY;
}

BaseType_t xQueueReceive(QueueHandle_t queue, void *const buffer, TickType_t ticks)
{
    return receive(queue, buffer, ticks, false);
}

BaseType_t xQueuePeek(QueueHandle_t queue, void *const buffer, TickType_t ticks)
{
    return receive(queue, buffer, ticks, true);
}

BaseType_t xQueueSemaphoreTake(QueueHandle_t queue, TickType_t ticks)
{
    return receive(queue, NULL, ticks, false);
}

static BaseType_t receive_from_isr(QueueHandle_t q, void *buffer, bool peek,
                                   BaseType_t *higher_woken)
{
    configASSERT(q != NULL);
    rtos_lock();
    int woken = 0;
    bool got = try_receive(q, buffer, peek, NULL, &woken);
    rtos_unlock();
    if (higher_woken != NULL && woken > 0) {
        *higher_woken = pdTRUE;
    }
    return got ? pdPASS : errQUEUE_EMPTY;
}

BaseType_t xQueueReceiveFromISR(QueueHandle_t queue, void *const buffer,
                                BaseType_t *const higher_woken)
{
    return receive_from_isr(queue, buffer, false, higher_woken);
}

BaseType_t xQueuePeekFromISR(QueueHandle_t queue, void *const buffer)
{
    return receive_from_isr(queue, buffer, true, NULL);
}

/* ---- recursive mutexes --------------------------------------------------------------------- */

BaseType_t xQueueTakeMutexRecursive(QueueHandle_t mutex, TickType_t ticks)
{
    configASSERT(mutex != NULL);
    rtos_lock();
    if (mutex->holder == rtos_self()) {
        mutex->recursion++;
        rtos_unlock();
        return pdPASS;
    }
    rtos_unlock();
    BaseType_t r = receive(mutex, NULL, ticks, false);
    if (r == pdPASS) {
        rtos_lock();
        mutex->recursion = 1;
        rtos_unlock();
    }
    return r;
}

BaseType_t xQueueGiveMutexRecursive(QueueHandle_t mutex)
{
    configASSERT(mutex != NULL);
    rtos_lock();
    TaskHandle_t self = rtos_self();
    BaseType_t r = pdFAIL;
    if (mutex->holder == self) {
        r = pdPASS;
        if (--mutex->recursion == 0) {
            int woken = 0;
            try_send(mutex, NULL, queueSEND_TO_BACK, self, &woken);
        }
    }
    rtos_unlock();
    return r;
}

TaskHandle_t xQueueGetMutexHolder(QueueHandle_t mutex)
{
    configASSERT(mutex != NULL);
    rtos_lock();
    TaskHandle_t t = is_mutex(mutex) ? mutex->holder : NULL;
    rtos_unlock();
    return t;
}

TaskHandle_t xQueueGetMutexHolderFromISR(QueueHandle_t mutex)
{
    return xQueueGetMutexHolder(mutex);
}

/* ---- state --------------------------------------------------------------------------------- */

UBaseType_t uxQueueMessagesWaiting(const QueueHandle_t queue)
{
    configASSERT(queue != NULL);
    rtos_lock();
    UBaseType_t n = queue->count;
    rtos_unlock();
    return n;
}

UBaseType_t uxQueueMessagesWaitingFromISR(const QueueHandle_t queue)
{
    return uxQueueMessagesWaiting(queue);
}

UBaseType_t uxQueueSpacesAvailable(const QueueHandle_t queue)
{
    configASSERT(queue != NULL);
    rtos_lock();
    UBaseType_t n = queue->length - queue->count;
    rtos_unlock();
    return n;
}

BaseType_t xQueueIsQueueEmptyFromISR(const QueueHandle_t queue)
{
    return uxQueueMessagesWaiting(queue) == 0 ? pdTRUE : pdFALSE;
}

BaseType_t xQueueIsQueueFullFromISR(const QueueHandle_t queue)
{
    return uxQueueSpacesAvailable(queue) == 0 ? pdTRUE : pdFALSE;
}

BaseType_t xQueueGenericReset(QueueHandle_t queue, BaseType_t new_queue)
{
    (void)new_queue;
    configASSERT(queue != NULL);
    rtos_lock();
    queue->count = 0;
    queue->head = 0;
    rtos_wake(&queue->tx, (int)queue->length);
    rtos_unlock();
    return pdPASS;
}

void vQueueAddToRegistry(QueueHandle_t queue, const char *name)
{
    if (queue != NULL) {
        queue->name = name;
    }
}

void vQueueUnregisterQueue(QueueHandle_t queue)
{
    if (queue != NULL) {
        queue->name = NULL;
    }
}

const char *pcQueueGetName(QueueHandle_t queue)
{
    return queue != NULL ? queue->name : NULL;
}
