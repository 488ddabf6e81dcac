/* Virtual clock: a 64-bit microsecond counter, process-local or attached to shared memory. */
#include "ota/ota_clock.h"

#include <stddef.h>

static uint64_t local_counter;
static uint64_t *counter = &local_counter;
static void (*advance_hook)(void);

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
    __atomic_add_fetch(counter, us, __ATOMIC_SEQ_CST);
    void (*hook)(void) = __atomic_load_n(&advance_hook, __ATOMIC_ACQUIRE);
    if (hook != NULL) {
        hook();
    }
}

void ota_clock_set_us(uint64_t us)
{
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
