/*
 * The board's serial port (UART0) on a TCP socket at 127.0.0.1.
 *
 * One client at a time (a newer connection replaces the older one). A client that speaks raw
 * bytes (pyserial's socket:// ports) gets the console and the download protocol. A client whose
 * first byte is a Telnet command (pyserial's rfc2217:// ports) also drives the modem lines: DTR
 * and RTS reach EN and GPIO0 through the auto-reset circuit of ESP development boards (EN low
 * while RTS is on and DTR off, GPIO0 low while DTR is on and RTS off), so esptool's reset
 * sequences reset the board into download mode or into its app.
 *
 * A pseudo-terminal ("pty") carries no modem lines: the board's use of it (board_serial.h) stands
 * in for them.
 *
 * A reset takes effect when EN goes high again; GPIO0 is sampled over the next 100 ms of real
 * time (the RC delay on EN that esptool's sequences rely on), or until data arrives or the client
 * goes away, whichever comes first.
 */
#ifndef OTAKIT_SERIAL_PORT_H
#define OTAKIT_SERIAL_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serial_port serial_port_t;

/* Events of serial_port_serve (receive callbacks return their own, larger values). */
#define SERIAL_EV_NONE 0
#define SERIAL_EV_RESET_BOOT 1     /* EN released with GPIO0 high: boot from flash */
#define SERIAL_EV_RESET_DOWNLOAD 2 /* EN released with GPIO0 low: ROM download mode */
#define SERIAL_EV_HANGUP 3         /* a pty's last client closed it */
#define SERIAL_EV_USER 16          /* first value a receive callback may return */

/* Called with received data bytes; returns 0 to go on, or an event >= SERIAL_EV_USER that ends
 * serial_port_serve (the bytes after the one that ended it are kept for the next call: the
 * callback reports how many it consumed through *used). */
typedef int (*serial_rx_fn)(void *ctx, const uint8_t *data, size_t n, size_t *used);

/*
 * Opens the port described by spec ("socket:PORT", PORT 0 = any free port, or "pty") and prints
 * "otakit: serial port socket://127.0.0.1:PORT" or "otakit: serial port /dev/pts/N" on stderr.
 * Returns 0 and sets *out, or -1 after printing why on stderr.
 */
int serial_port_open(const char *spec, serial_port_t **out);

/* The TCP port the serial port listens on (0 for a pty). */
uint16_t serial_port_number(const serial_port_t *sp);

/* True if the port is a pseudo-terminal (no modem lines). */
bool serial_port_is_pty(const serial_port_t *sp);

/* The path of a pty port's terminal (/dev/pts/N), or NULL for a socket. */
const char *serial_port_pty_path(const serial_port_t *sp);

/* Closes the port and its client (NULL is ignored). */
void serial_port_close(serial_port_t *sp);

/* Sends bytes to the client, if one is connected (otherwise they are lost, as on a UART). */
void serial_port_write(serial_port_t *sp, const void *data, size_t n);

/*
 * Serves the port for up to timeout_ms of real time (0: only what is ready, -1: until an event):
 * accepts clients, handles Telnet commands and modem lines, and passes data bytes to rx. Returns
 * SERIAL_EV_NONE when the time is up, a SERIAL_EV_RESET_* event, or rx's event.
 */
int serial_port_serve(serial_port_t *sp, int timeout_ms, serial_rx_fn rx, void *ctx);

#endif /* OTAKIT_SERIAL_PORT_H */
