/* The simulated board's use of its serial port (see board_serial.h). */
#include "board_serial.h"

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

static int discard_rx(void *ctx, const uint8_t *data, size_t n, size_t *used)
{
    (void)ctx;
    (void)data;
    *used = n;
    return SERIAL_EV_NONE;
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
    return ev == SERIAL_EV_RESET_DOWNLOAD ? BOARD_DL_DOWNLOAD : BOARD_DL_BOOT;
}

int board_serial_poll(serial_port_t *port)
{
    return serial_port_serve(port, 0, discard_rx, NULL);
}

int board_serial_wait_reset(serial_port_t *port)
{
    int ev;
    do {
        ev = serial_port_serve(port, -1, discard_rx, NULL);
    } while (ev != SERIAL_EV_RESET_BOOT && ev != SERIAL_EV_RESET_DOWNLOAD);
    return ev;
}
