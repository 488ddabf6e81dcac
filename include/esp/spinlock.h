/*
 * ESP-IDF spinlocks (esp_hw_support's spinlock.h): the lock behind portMUX_TYPE critical
 * sections. On the simulated board the owner is the calling thread, so a task may nest them.
 */
#ifndef __ESP_SPINLOCK_H__
#define __ESP_SPINLOCK_H__

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPINLOCK_FREE 0xB33FFFFF
#define SPINLOCK_WAIT_FOREVER (-1)
#define SPINLOCK_NO_WAIT 0
#define SPINLOCK_INITIALIZER                                                                       \
    {                                                                                              \
        .owner = SPINLOCK_FREE, .count = 0                                                         \
    }

typedef struct {
    uint32_t owner; /* SPINLOCK_FREE, or the thread that holds it */
    uint32_t count; /* nesting depth of the owner */
} spinlock_t;

/* Makes lock free. */
static inline void spinlock_initialize(spinlock_t *lock)
{
    lock->owner = SPINLOCK_FREE;
    lock->count = 0;
}

/*
 * Takes lock (again, if the caller holds it). timeout: SPINLOCK_WAIT_FOREVER, SPINLOCK_NO_WAIT or
 * a number of attempts. Returns true when taken, false when the attempts ran out.
 */
bool spinlock_acquire(spinlock_t *lock, int32_t timeout);

/* Releases one level of lock held by the caller; nothing if the caller does not hold it. */
void spinlock_release(spinlock_t *lock);

#ifdef __cplusplus
}
#endif

#endif /* __ESP_SPINLOCK_H__ */
