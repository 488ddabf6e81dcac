/*
 * FreeRTOS queues (ESP-IDF v5.5 names and values). Items are copied in and out; a task that
 * waits to send or receive blocks in virtual time (see task.h). Semaphores and mutexes are
 * queues of zero-sized items, as in FreeRTOS (semphr.h).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stdint.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct QueueDefinition *QueueHandle_t;
typedef struct QueueDefinition *QueueSetHandle_t;
typedef struct QueueDefinition *QueueSetMemberHandle_t;

#define queueSEND_TO_BACK ((BaseType_t)0)
#define queueSEND_TO_FRONT ((BaseType_t)1)
#define queueOVERWRITE ((BaseType_t)2)

#define queueQUEUE_TYPE_BASE ((uint8_t)0U)
#define queueQUEUE_TYPE_SET ((uint8_t)0U)
#define queueQUEUE_TYPE_MUTEX ((uint8_t)1U)
#define queueQUEUE_TYPE_COUNTING_SEMAPHORE ((uint8_t)2U)
#define queueQUEUE_TYPE_BINARY_SEMAPHORE ((uint8_t)3U)
#define queueQUEUE_TYPE_RECURSIVE_MUTEX ((uint8_t)4U)

/* Creates a queue of length items of item_size bytes (type: queueQUEUE_TYPE_*). Returns the
 * handle, or NULL (out of memory, or length 0). */
QueueHandle_t xQueueGenericCreate(const UBaseType_t length, const UBaseType_t item_size,
                                  const uint8_t type);

/* As xQueueGenericCreate; the caller's buffers are not used. */
QueueHandle_t xQueueGenericCreateStatic(const UBaseType_t length, const UBaseType_t item_size,
                                        uint8_t *storage, StaticQueue_t *buffer,
                                        const uint8_t type);

/*
 * Copies *item into the queue at the back, the front, or over the single item (queueOVERWRITE,
 * queues of length 1 only), waiting up to ticks for room. A semaphore give passes item NULL.
 * Returns pdPASS, or errQUEUE_FULL (also for a mutex the caller does not hold).
 */
BaseType_t xQueueGenericSend(QueueHandle_t queue, const void *const item, TickType_t ticks,
                             const BaseType_t position);

/* xQueueGenericSend without waiting, from an interrupt. *higher_woken (if not NULL) gets pdTRUE
 * when a waiting task was woken. */
BaseType_t xQueueGenericSendFromISR(QueueHandle_t queue, const void *const item,
                                    BaseType_t *const higher_woken, const BaseType_t position);

/* Gives a semaphore from an interrupt. */
BaseType_t xQueueGiveFromISR(QueueHandle_t queue, BaseType_t *const higher_woken);

/* Moves the oldest item into *buffer, waiting up to ticks for one. Returns pdPASS, or
 * errQUEUE_EMPTY. */
BaseType_t xQueueReceive(QueueHandle_t queue, void *const buffer, TickType_t ticks);

/* Copies the oldest item into *buffer without removing it, waiting up to ticks. */
BaseType_t xQueuePeek(QueueHandle_t queue, void *const buffer, TickType_t ticks);

/* Takes a semaphore or mutex (the caller then holds the mutex), waiting up to ticks. */
BaseType_t xQueueSemaphoreTake(QueueHandle_t queue, TickType_t ticks);

/* xQueueReceive / xQueuePeek without waiting, from an interrupt. */
BaseType_t xQueueReceiveFromISR(QueueHandle_t queue, void *const buffer,
                                BaseType_t *const higher_woken);
BaseType_t xQueuePeekFromISR(QueueHandle_t queue, void *const buffer);

/* Items in the queue; room left. */
UBaseType_t uxQueueMessagesWaiting(const QueueHandle_t queue);
UBaseType_t uxQueueMessagesWaitingFromISR(const QueueHandle_t queue);
UBaseType_t uxQueueSpacesAvailable(const QueueHandle_t queue);
BaseType_t xQueueIsQueueEmptyFromISR(const QueueHandle_t queue);
BaseType_t xQueueIsQueueFullFromISR(const QueueHandle_t queue);

/* Empties the queue (tasks waiting to send may then proceed). Returns pdPASS. */
BaseType_t xQueueGenericReset(QueueHandle_t queue, BaseType_t new_queue);

/* Frees the queue. No task may be waiting on it. */
void vQueueDelete(QueueHandle_t queue);

/* Mutexes and counting semaphores (semphr.h's macros use these). */
QueueHandle_t xQueueCreateMutex(const uint8_t type);
QueueHandle_t xQueueCreateMutexStatic(const uint8_t type, StaticQueue_t *buffer);
QueueHandle_t xQueueCreateCountingSemaphore(const UBaseType_t max_count,
                                            const UBaseType_t initial_count);
QueueHandle_t xQueueCreateCountingSemaphoreStatic(const UBaseType_t max_count,
                                                  const UBaseType_t initial_count,
                                                  StaticQueue_t *buffer);
/* The task holding a mutex, or NULL (free, or not a mutex). */
TaskHandle_t xQueueGetMutexHolder(QueueHandle_t mutex);
TaskHandle_t xQueueGetMutexHolderFromISR(QueueHandle_t mutex);
/* Recursive mutexes: the holder may take again; each take needs a give. */
BaseType_t xQueueTakeMutexRecursive(QueueHandle_t mutex, TickType_t ticks);
BaseType_t xQueueGiveMutexRecursive(QueueHandle_t mutex);

/* Debugging names (kept, otherwise unused). */
void vQueueAddToRegistry(QueueHandle_t queue, const char *name);
void vQueueUnregisterQueue(QueueHandle_t queue);
const char *pcQueueGetName(QueueHandle_t queue);

#define xQueueCreate(uxQueueLength, uxItemSize)                                                    \
    xQueueGenericCreate((uxQueueLength), (uxItemSize), (queueQUEUE_TYPE_BASE))
#define xQueueCreateStatic(uxQueueLength, uxItemSize, pucQueueStorage, pxQueueBuffer)              \
    xQueueGenericCreateStatic((uxQueueLength), (uxItemSize), (pucQueueStorage), (pxQueueBuffer),   \
                              (queueQUEUE_TYPE_BASE))
#define xQueueSendToFront(xQueue, pvItemToQueue, xTicksToWait)                                     \
    xQueueGenericSend((xQueue), (pvItemToQueue), (xTicksToWait), queueSEND_TO_FRONT)
#define xQueueSendToBack(xQueue, pvItemToQueue, xTicksToWait)                                      \
    xQueueGenericSend((xQueue), (pvItemToQueue), (xTicksToWait), queueSEND_TO_BACK)
#define xQueueSend(xQueue, pvItemToQueue, xTicksToWait)                                            \
    xQueueGenericSend((xQueue), (pvItemToQueue), (xTicksToWait), queueSEND_TO_BACK)
#define xQueueOverwrite(xQueue, pvItemToQueue)                                                     \
    xQueueGenericSend((xQueue), (pvItemToQueue), 0, queueOVERWRITE)
#define xQueueSendToFrontFromISR(xQueue, pvItemToQueue, pxHigherPriorityTaskWoken)                 \
    xQueueGenericSendFromISR((xQueue), (pvItemToQueue), (pxHigherPriorityTaskWoken),               \
                             queueSEND_TO_FRONT)
#define xQueueSendToBackFromISR(xQueue, pvItemToQueue, pxHigherPriorityTaskWoken)                  \
    xQueueGenericSendFromISR((xQueue), (pvItemToQueue), (pxHigherPriorityTaskWoken),               \
                             queueSEND_TO_BACK)
#define xQueueOverwriteFromISR(xQueue, pvItemToQueue, pxHigherPriorityTaskWoken)                   \
    xQueueGenericSendFromISR((xQueue), (pvItemToQueue), (pxHigherPriorityTaskWoken), queueOVERWRITE)
#define xQueueSendFromISR(xQueue, pvItemToQueue, pxHigherPriorityTaskWoken)                        \
    xQueueGenericSendFromISR((xQueue), (pvItemToQueue), (pxHigherPriorityTaskWoken),               \
                             queueSEND_TO_BACK)
#define xQueueReset(xQueue) xQueueGenericReset((xQueue), pdFALSE)

#ifdef __cplusplus
}
#endif

#endif /* QUEUE_H */
