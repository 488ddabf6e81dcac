/*
 * FreeRTOS event groups (ESP-IDF v5.5 names and values): 24 usable bits; tasks wait for any or
 * all of a set of bits in virtual time (see task.h).
 */
#ifndef EVENT_GROUPS_H
#define EVENT_GROUPS_H

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct EventGroupDef_t *EventGroupHandle_t;
typedef TickType_t EventBits_t;

/* Creates an event group with every bit clear. Returns the handle, or NULL. */
EventGroupHandle_t xEventGroupCreate(void);

/* As xEventGroupCreate; the caller's buffer is not used. */
EventGroupHandle_t xEventGroupCreateStatic(StaticEventGroup_t *buffer);

/*
 * Waits up to ticks until any (wait_all pdFALSE) or all of bits are set. When the wait is
 * satisfied and clear_on_exit is pdTRUE, those bits are cleared. Returns the group's bits when
 * the wait was satisfied (before clearing), or on timeout.
 */
EventBits_t xEventGroupWaitBits(EventGroupHandle_t group, const EventBits_t bits,
                                const BaseType_t clear_on_exit, const BaseType_t wait_all,
                                TickType_t ticks);

/* Sets bits, waking the tasks whose wait is now satisfied. Returns the bits after the woken
 * tasks' clear-on-exit. */
EventBits_t xEventGroupSetBits(EventGroupHandle_t group, const EventBits_t bits);

/* Clears bits. Returns the bits before clearing. */
EventBits_t xEventGroupClearBits(EventGroupHandle_t group, const EventBits_t bits);

/* Interrupt variants: act at once. Return pdPASS; *higher_woken (if not NULL) gets pdFALSE. */
BaseType_t xEventGroupSetBitsFromISR(EventGroupHandle_t group, const EventBits_t bits,
                                     BaseType_t *higher_woken);
BaseType_t xEventGroupClearBitsFromISR(EventGroupHandle_t group, const EventBits_t bits);
EventBits_t xEventGroupGetBitsFromISR(EventGroupHandle_t group);

/*
 * Sets set_bits, then waits up to ticks until all of wait_bits are set, and clears them (a
 * rendezvous). Returns the bits when the rendezvous happened (before clearing), or on timeout.
 */
EventBits_t xEventGroupSync(EventGroupHandle_t group, const EventBits_t set_bits,
                            const EventBits_t wait_bits, TickType_t ticks);

/* Frees the group; tasks waiting on it return 0. */
void vEventGroupDelete(EventGroupHandle_t group);

#define xEventGroupGetBits(xEventGroup) xEventGroupClearBits((xEventGroup), 0)

#ifdef __cplusplus
}
#endif

#endif /* EVENT_GROUPS_H */
