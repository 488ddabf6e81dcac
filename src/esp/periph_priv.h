/*
 * Signals the board's peripherals exchange on pins (not installed): what an RMT channel drives
 * on a pin, read by the pulse counter. Times are virtual nanoseconds (the board's clock * 1000).
 */
#ifndef PERIPH_PRIV_H
#define PERIPH_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/* The lock of the RMT and pulse-counter state (recursive). */
void periph_lock(void);
void periph_unlock(void);

/* Now on the board's clock, in nanoseconds. */
uint64_t periph_now_ns(void);

/* Lock held. Rising and falling edges an RMT channel drives on pin in [from, to); false (and no
 * edges) when no channel drives it. */
bool rmt_pin_edges(int pin, uint64_t from, uint64_t to, uint64_t *rise, uint64_t *fall);

/* Lock held. The level an RMT channel drives on pin at time t, or -1 when none drives it. */
int rmt_pin_level(int pin, uint64_t t);

/* Lock held. Brings every running pulse counter up to now: called before a signal changes. */
void pcnt_sync_all(void);

#endif /* PERIPH_PRIV_H */
