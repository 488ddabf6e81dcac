/*
 * The board's virtual clock (host port).
 *
 * Time on the simulated board never waits on the wall clock: delays, timeouts and modeled flash
 * busy time advance this clock instead. It counts microseconds since the last reset of the
 * board. By default it lives in the process; the simulated board attaches it to memory shared
 * between its processes so the bootloader and the app see one clock.
 */
#ifndef OTA_CLOCK_H
#define OTA_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Microseconds since the last reset. Thread-safe. */
uint64_t ota_clock_now_us(void);

/* Milliseconds since the last reset (what log lines print). */
uint32_t ota_clock_now_ms(void);

/* Advances the clock by us microseconds. Thread-safe. */
void ota_clock_advance_us(uint64_t us);

/*
 * Paces the clock against real time: it then moves at most `speed` virtual seconds per real
 * second (1.0: as a chip; advances wait for real time to catch up); 0 (the default) lets it
 * jump. For tests written against hardware timing, such as ESP-IDF's, whose servers need the
 * real seconds a chip's boot and network bring-up give them. Per process; thread-safe.
 */
void ota_clock_set_pace(double speed);

/* Sets the clock (the board sets 0 at each reset; a forward jump is paced). */
void ota_clock_set_us(uint64_t us);

/*
 * Makes the clock live in *counter (e.g. in shared memory); NULL goes back to the process's own
 * counter. The caller keeps counter valid while attached.
 */
void ota_clock_attach(uint64_t *counter);

/*
 * Makes ota_clock_advance_us call hook after each advance (NULL: none), so that a scheduler can
 * wake what waits for the new time. ota_clock_set_us does not call it.
 */
void ota_clock_on_advance(void (*hook)(void));

#ifdef __cplusplus
}
#endif

#endif /* OTA_CLOCK_H */
