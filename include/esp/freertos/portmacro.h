/*
 * FreeRTOS port layer as ESP-IDF v5.5 defines it for its chips (32-bit types, stack depths in
 * bytes, spinlock critical sections). On the simulated board interrupts do not exist: the
 * interrupt macros do nothing and critical sections are the spinlock alone.
 */
#ifndef PORTMACRO_H
#define PORTMACRO_H

#include <stdbool.h>
#include <stdint.h>

#include "spinlock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define portCHAR int8_t
#define portFLOAT float
#define portDOUBLE double
#define portLONG int32_t
#define portSHORT int16_t
#define portSTACK_TYPE uint8_t
#define portBASE_TYPE int

typedef portSTACK_TYPE StackType_t;
typedef portBASE_TYPE BaseType_t;
typedef unsigned portBASE_TYPE UBaseType_t;
typedef uint32_t TickType_t;

#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define portTICK_TYPE_IS_ATOMIC 1
#define portSTACK_GROWTH (-1)
#define portBYTE_ALIGNMENT 4
#define portNUM_PROCESSORS 2
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)

typedef spinlock_t portMUX_TYPE;
#define portMUX_FREE_VAL SPINLOCK_FREE
#define portMUX_NO_TIMEOUT SPINLOCK_WAIT_FOREVER
#define portMUX_TRY_LOCK SPINLOCK_NO_WAIT
#define portMUX_INITIALIZER_UNLOCKED SPINLOCK_INITIALIZER
#define portMUX_INITIALIZE(mux) spinlock_initialize(mux)

/* Enters a critical section guarded by mux (nests for the holder). */
void vPortEnterCritical(portMUX_TYPE *mux);

/* Leaves one level of the critical section guarded by mux. */
void vPortExitCritical(portMUX_TYPE *mux);

/* Enters the critical section, giving up after timeout attempts (portMUX_NO_TIMEOUT: never).
 * Returns pdPASS when entered, pdFAIL otherwise. */
BaseType_t xPortEnterCriticalTimeout(portMUX_TYPE *mux, BaseType_t timeout);

/* Lets other tasks run (a host thread yield). */
void vPortYield(void);

/* Always 0: no code on the board runs in an interrupt. */
BaseType_t xPortInIsrContext(void);

/* The core the caller runs on: always 0 on the board. */
static inline BaseType_t xPortGetCoreID(void)
{
    return 0;
}

#define portENTER_CRITICAL(mux) vPortEnterCritical(mux)
#define portEXIT_CRITICAL(mux) vPortExitCritical(mux)
#define portTRY_ENTER_CRITICAL(mux, timeout) xPortEnterCriticalTimeout((mux), (timeout))
#define portENTER_CRITICAL_ISR(mux) vPortEnterCritical(mux)
#define portEXIT_CRITICAL_ISR(mux) vPortExitCritical(mux)
#define portTRY_ENTER_CRITICAL_ISR(mux, timeout) xPortEnterCriticalTimeout((mux), (timeout))
#define portENTER_CRITICAL_SAFE(mux) vPortEnterCritical(mux)
#define portEXIT_CRITICAL_SAFE(mux) vPortExitCritical(mux)

#define portYIELD() vPortYield()
#define portYIELD_FROM_ISR(...) ((void)0)
#define portYIELD_WITHIN_API() vPortYield()
#define portDISABLE_INTERRUPTS() ((void)0)
#define portENABLE_INTERRUPTS() ((void)0)
#define portSET_INTERRUPT_MASK_FROM_ISR() 0
#define portCLEAR_INTERRUPT_MASK_FROM_ISR(state) ((void)(state))
#define portGET_CORE_ID() xPortGetCoreID()
#define portCHECK_IF_IN_ISR() xPortInIsrContext()

#ifdef __cplusplus
}
#endif

#endif /* PORTMACRO_H */
