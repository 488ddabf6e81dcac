/* Virtual clock: a 64-bit microsecond counter, process-local or attached to shared memory. */
#include "ota/ota_clock.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

static uint64_t local_counter;
static uint64_t *counter = &local_counter;
static void (*advance_hook)(void);

/* Pacing: virtual seconds per real second (0: as fast as the host runs), and the real time at
 * which the virtual clock may reach its current value. */
static double pace;
static struct timespec pace_due;
static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;

/* With pacing on, waits until real time allows the clock to move us microseconds further. A
 * host that falls behind is not made up for later. */
static void pace_wait(uint64_t us)
{
    if (pace <= 0.0 || us == 0) {
        return;
    }
    pthread_mutex_lock(&pace_lock);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (pace_due.tv_sec < now.tv_sec ||
        (pace_due.tv_sec == now.tv_sec && pace_due.tv_nsec < now.tv_nsec)) {
        pace_due = now;
    }
    uint64_t ns = (uint64_t)((double)us * 1000.0 / pace);
    pace_due.tv_sec += (time_t)(ns / 1000000000u);
    pace_due.tv_nsec += (long)(ns % 1000000000u);
    if (pace_due.tv_nsec >= 1000000000L) {
        pace_due.tv_sec++;
        pace_due.tv_nsec -= 1000000000L;
    }
    struct timespec due = pace_due;
    pthread_mutex_unlock(&pace_lock);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR) {
    }
}

void ota_clock_set_pace(double speed)
{
    pthread_mutex_lock(&pace_lock);
    pace = speed > 0.0 ? speed : 0.0;
    clock_gettime(CLOCK_MONOTONIC, &pace_due);
    pthread_mutex_unlock(&pace_lock);
}

uint64_t ota_clock_now_us(void)
{
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

uint32_t ota_clock_now_ms(void)
{
    return (uint32_t)(ota_clock_now_us() / 1000u);
}

void ota_clock_advance_us(uint64_t us)
{
    pace_wait(us);
    __atomic_add_fetch(counter, us, __ATOMIC_SEQ_CST);
    void (*hook)(void) = __atomic_load_n(&advance_hook, __ATOMIC_ACQUIRE);
    if (hook != NULL) {
        hook();
    }
}

void ota_clock_set_us(uint64_t us)
{
    uint64_t now = ota_clock_now_us();
    if (us > now) {
        pace_wait(us - now);
    }
    __atomic_store_n(counter, us, __ATOMIC_SEQ_CST);
}

void ota_clock_attach(uint64_t *c)
{
    counter = c != NULL ? c : &local_counter;
}

void ota_clock_on_advance(void (*hook)(void))
{
    __atomic_store_n(&advance_hook, hook, __ATOMIC_RELEASE);
}
