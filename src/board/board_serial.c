/* The simulated board's use of its serial port (see board_serial.h). */
#include "board_serial.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "ota/ota_clock.h"
#include "ota/ota_posix.h"
#include "rom_serial.h"

/* The base MAC address in the simulated chip's eFuses. */
static const uint8_t board_mac[6] = {0x24, 0x0A, 0xC4, 0x0B, 0x7A, 0x01};

static void send_bytes(void *ctx, const void *data, size_t n)
{
    serial_port_write(ctx, data, n);
}

/* ERASE_FLASH: one chip erase, its modeled time charged to the clock. */
static int erase_chip(void *ctx)
{
    ota_nor_t *nor = ctx;
    uint64_t before = ota_nor_state(nor)->busy_typ_us;
    int err = ota_nor_erase_chip(nor);
    ota_clock_advance_us(ota_nor_state(nor)->busy_typ_us - before);
    return err;
}

static int rom_rx(void *ctx, const uint8_t *data, size_t n, size_t *used)
{
    rom_serial_event_t ev = rom_serial_input(ctx, data, n, used);
    return ev == ROM_SERIAL_CONTINUE ? SERIAL_EV_NONE : SERIAL_EV_USER + (int)ev;
}

void board_serial_feed(int fd, const void *data, size_t n)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = write(fd, data, n); /* a full pipe drops input, as a UART's FIFO overflows */
    if (w < 0 && errno == EPIPE) {
        struct timespec now = {0, 0};
        sigtimedwait(&pipe_set, NULL, &now); /* the app has gone: its input is lost */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The start of esptool's SYNC command as SLIP frames it: what esptool sends after a reset it
 * could not make through a port without modem lines. */
static const uint8_t sync_frame[] = {0xC0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x07, 0x07, 0x12, 0x20};

/* Follows SYNC's frame through the bytes; true once it has been seen whole. */
static bool sync_seen(board_serial_console_t *con, uint8_t c)
{
    if (c == sync_frame[con->sync_len]) {
        con->sync_len++;
    } else {
        con->sync_len = c == sync_frame[0] ? 1 : 0;
    }
    if (con->sync_len == sizeof(sync_frame)) {
        con->sync_len = 0;
        return true;
    }
    return false;
}

/* Console input: passed to the app (when one runs); on a pty, esptool's SYNC resets the chip
 * into download mode. */
static int console_rx(void *ctx, const uint8_t *data, size_t n, size_t *used)
{
    board_serial_console_t *con = ctx;
    size_t i = 0;
    int ev = SERIAL_EV_NONE;
    bool pty = serial_port_is_pty(con->port);
    while (i < n && ev == SERIAL_EV_NONE) {
        if (pty && sync_seen(con, data[i])) {
            ev = SERIAL_EV_USER;
        }
        i++;
    }
    *used = i;
    if (con->app_in >= 0 && ev == SERIAL_EV_NONE) {
        board_serial_feed(con->app_in, data, i);
    }
    return ev;
}

/* A SYNC on a pty counts as esptool's reset into download mode. */
static int console_event(int ev)
{
    return ev == SERIAL_EV_USER ? SERIAL_EV_RESET_DOWNLOAD : ev;
}

int board_serial_download(const board_serial_chip_t *chip)
{
    static rom_serial_t rs;
    rom_serial_config_t cfg = {
        .flash = chip->flash,
        .erase_chip = erase_chip,
        .erase_chip_ctx = chip->nor,
        .crypto = ota_crypto_openssl(),
        .chip_id = chip->chip_id,
        .chip_rev = chip->chip_rev,
        .send = send_bytes,
        .send_ctx = chip->port,
    };
    for (int i = 0; i < 6; i++) {
        cfg.mac[i] = board_mac[i];
    }
    rom_serial_init(&rs, &cfg);
    int ev = serial_port_serve(chip->port, -1, rom_rx, &rs);
    rom_serial_free(&rs);
    if (ev == SERIAL_EV_USER + ROM_SERIAL_POWER_LOSS) {
        return BOARD_DL_POWER_LOSS;
    }
    /* SERIAL_EV_HANGUP: the client of a pty closed it, which stands for the hard reset that
     * esptool's --after cannot make without modem lines. */
    return ev == SERIAL_EV_RESET_DOWNLOAD ? BOARD_DL_DOWNLOAD : BOARD_DL_BOOT;
}

int board_serial_poll(board_serial_console_t *con)
{
    int ev = console_event(serial_port_serve(con->port, 0, console_rx, con));
    return ev == SERIAL_EV_HANGUP ? SERIAL_EV_NONE : ev;
}

int board_serial_wait_reset(board_serial_console_t *con)
{
    int ev;
    con->app_in = -1;
    do {
        ev = console_event(serial_port_serve(con->port, -1, console_rx, con));
    } while (ev != SERIAL_EV_RESET_BOOT && ev != SERIAL_EV_RESET_DOWNLOAD);
    return ev;
}
