/*
 * FreeRTOS event groups on the virtual-time scheduler (rtos_priv.h). As in FreeRTOS, setting
 * bits decides at once which waiters are satisfied, records each one's result and clears their
 * clear-on-exit bits afterwards, so a bit set and cleared again is not missed.
 */
#include "freertos/event_groups.h"

#include <stdlib.h>

#include "rtos_priv.h"

/* Bits above these are FreeRTOS's control bits (32-bit ticks). */
#define EVENT_BITS_CONTROL 0xff000000UL

struct EventGroupDef_t {
    EventBits_t bits;
    char waiters; /* wait object */
};

/* What a waiting task waits for, and what a setter found. */
typedef struct {
    EventBits_t want;
    bool all;
    bool clear;
    bool matched;
    EventBits_t result;
} eg_wait_t;

typedef struct {
    EventBits_t bits;  /* the group's bits after the set */
    EventBits_t clear; /* collected clear-on-exit bits */
} eg_set_t;

static bool satisfied(EventBits_t bits, EventBits_t want, bool all)
{
    return all ? (bits & want) == want : (bits & want) != 0;
}

static bool match_set(void *data, void *ctx)
{
    eg_wait_t *w = data;
    eg_set_t *s = ctx;
    if (!satisfied(s->bits, w->want, w->all)) {
        return false;
    }
    w->matched = true;
    w->result = s->bits;
    if (w->clear) {
        s->clear |= w->want;
    }
    return true;
}

static bool match_deleted(void *data, void *ctx)
{
    (void)ctx;
    eg_wait_t *w = data;
    w->matched = true;
    w->result = 0;
    return true;
}

EventGroupHandle_t xEventGroupCreate(void)
{
    return calloc(1, sizeof(struct EventGroupDef_t));
}

EventGroupHandle_t xEventGroupCreateStatic(StaticEventGroup_t *buffer)
{
    (void)buffer;
    return xEventGroupCreate();
}

void vEventGroupDelete(EventGroupHandle_t group)
{
    configASSERT(group != NULL);
    rtos_lock();
    rtos_wake_if(&group->waiters, match_deleted, NULL);
    rtos_unlock();
    free(group);
}

/* Lock held. */
static EventBits_t set_bits(EventGroupHandle_t g, EventBits_t bits)
{
    g->bits |= bits;
    eg_set_t s = {g->bits, 0};
    rtos_wake_if(&g->waiters, match_set, &s);
    g->bits &= ~s.clear;
    return g->bits;
}

EventBits_t xEventGroupSetBits(EventGroupHandle_t group, const EventBits_t bits)
{
    configASSERT(group != NULL && (bits & EVENT_BITS_CONTROL) == 0);
    rtos_lock();
    EventBits_t r = set_bits(group, bits);
    rtos_unlock();
    return r;
}

EventBits_t xEventGroupClearBits(EventGroupHandle_t group, const EventBits_t bits)
{
    configASSERT(group != NULL && (bits & EVENT_BITS_CONTROL) == 0);
    rtos_lock();
    EventBits_t r = group->bits;
    group->bits &= ~bits;
    rtos_unlock();
    return r;
}

BaseType_t xEventGroupSetBitsFromISR(EventGroupHandle_t group, const EventBits_t bits,
                                     BaseType_t *higher_woken)
{
    if (higher_woken != NULL) {
        *higher_woken = pdFALSE;
    }
    xEventGroupSetBits(group, bits);
    return pdPASS;
}

BaseType_t xEventGroupClearBitsFromISR(EventGroupHandle_t group, const EventBits_t bits)
{
    xEventGroupClearBits(group, bits);
    return pdPASS;
}

EventBits_t xEventGroupGetBitsFromISR(EventGroupHandle_t group)
{
    return xEventGroupClearBits(group, 0);
}

/* Lock held. Waits for w; returns the bits as xEventGroupWaitBits does. May free nothing: the
 * group may be deleted while waiting, then the result is 0. */
static EventBits_t wait_for(EventGroupHandle_t g, eg_wait_t *w, uint64_t deadline)
{
    while (!w->matched && rtos_wait(&g->waiters, w, deadline)) {
    }
    if (w->matched) {
        return w->result;
    }
    EventBits_t bits = g->bits;
    if (satisfied(bits, w->want, w->all) && w->clear) {
        g->bits &= ~w->want;
    }
    return bits;
}

EventBits_t xEventGroupWaitBits(EventGroupHandle_t group, const EventBits_t bits,
                                const BaseType_t clear_on_exit, const BaseType_t wait_all,
                                TickType_t ticks)
{
    configASSERT(group != NULL && bits != 0 && (bits & EVENT_BITS_CONTROL) == 0);
    rtos_lock();
    uint64_t deadline = rtos_deadline(ticks);
    EventBits_t now = group->bits;
    EventBits_t r;
    if (satisfied(now, bits, wait_all != pdFALSE)) {
        if (clear_on_exit != pdFALSE) {
            group->bits &= ~bits;
        }
        r = now;
    } else {
        eg_wait_t w = {bits, wait_all != pdFALSE, clear_on_exit != pdFALSE, false, 0};
        r = wait_for(group, &w, deadline);
    }
    rtos_unlock();
    return r;
}

EventBits_t xEventGroupSync(EventGroupHandle_t group, const EventBits_t set_bits_,
                            const EventBits_t wait_bits, TickType_t ticks)
{
    configASSERT(group != NULL && wait_bits != 0 && (wait_bits & EVENT_BITS_CONTROL) == 0);
    rtos_lock();
    uint64_t deadline = rtos_deadline(ticks);
    EventBits_t before = group->bits;
    set_bits(group, set_bits_);
    EventBits_t r;
    if (((before | set_bits_) & wait_bits) == wait_bits) {
        r = before | set_bits_;
        group->bits &= ~wait_bits;
    } else {
        eg_wait_t w = {wait_bits, true, true, false, 0};
        r = wait_for(group, &w, deadline);
    }
    rtos_unlock();
    return r;
}
