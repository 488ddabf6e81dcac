/*
 * The simulated board's use of its serial port: ROM download mode on the board's flash, and
 * resets through the port's modem lines while the board runs or waits.
 */
#ifndef OTAKIT_BOARD_SERIAL_H
#define OTAKIT_BOARD_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_flash.h"
#include "ota/ota_nor.h"
#include "serial_port.h"

/* What ROM download mode ended with. */
#define BOARD_DL_BOOT 0       /* boot from flash (the loader ran the flash, or a reset) */
#define BOARD_DL_DOWNLOAD 1   /* a reset with GPIO0 low: download mode again */
#define BOARD_DL_POWER_LOSS 2 /* a flash operation lost the power */

/* The chip as download mode needs it. */
typedef struct board_serial_chip {
    serial_port_t *port;
    const ota_flash_t *flash; /* the board's timed flash */
    ota_nor_t *nor;           /* the same device, for whole-chip erase */
    uint16_t chip_id;         /* image chip id */
    uint16_t chip_rev;        /* major * 100 + minor */
} board_serial_chip_t;

/* Runs ROM download mode (after the ROM's banner, which the caller prints) until it ends;
 * returns a BOARD_DL_* value. On a pty, the client closing the port ends it with BOARD_DL_BOOT
 * (esptool's hard reset after its command, which a pty cannot carry). */
int board_serial_download(const board_serial_chip_t *chip);

/* The port while the chip runs its app or waits: console input goes to the app. A pty has no
 * modem lines, so there esptool's SYNC command (what esptool sends once its reset through DTR
 * and RTS failed) resets the chip into download mode. */
typedef struct board_serial_console {
    serial_port_t *port;
    int app_in;      /* the app's console input (a pipe), -1 while no app runs */
    size_t sync_len; /* bytes of a SYNC frame seen so far */
} board_serial_console_t;

/* Writes console input to the app's input pipe fd without blocking: what does not fit is
 * dropped, and an app that has gone (the pipe closed) loses it without signalling the board. */
void board_serial_feed(int fd, const void *data, size_t n);

/* Serves the port without waiting, passing input to con->app_in; returns SERIAL_EV_NONE or a
 * SERIAL_EV_RESET_* event. */
int board_serial_poll(board_serial_console_t *con);

/* Waits until a reset comes through the port (input is dropped: nothing runs); returns its
 * SERIAL_EV_RESET_* event. */
int board_serial_wait_reset(board_serial_console_t *con);

#endif /* OTAKIT_BOARD_SERIAL_H */
