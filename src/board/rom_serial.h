/*
 * The chip's serial download protocol (ROM loader and flasher stub), as esptool speaks it.
 *
 * Bytes from the serial line go in (rom_serial_input); SLIP frames come out through the send
 * callback. Commands act on the board's flash through an ota_flash_t, so the flash emulator's
 * timing model, counters and power cuts apply. No sockets here: the state machine is driven by
 * whatever carries the bytes (serial_port.c, or a unit test).
 *
 * The loader starts as the chip's ROM loader. A RAM upload run with MEM_END (esptool's stub
 * upload) switches it to the flasher stub's behaviour: it greets with "OHAI", answers with
 * two status bytes, and adds ERASE_FLASH, ERASE_REGION and the flow-controlled READ_FLASH.
 * Chip detection answers as the configured chip: the magic value esptool reads at 0x40001000
 * (ESP32, ESP32-S2) or the chip id of GET_SECURITY_INFO (later chips).
 */
#ifndef OTAKIT_ROM_SERIAL_H
#define OTAKIT_ROM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "ota/ota_crypto.h"
#include "ota/ota_flash.h"

/* Command codes (esptool's ESP_CMDS). */
enum {
    ROM_CMD_FLASH_BEGIN = 0x02,
    ROM_CMD_FLASH_DATA = 0x03,
    ROM_CMD_FLASH_END = 0x04,
    ROM_CMD_MEM_BEGIN = 0x05,
    ROM_CMD_MEM_END = 0x06,
    ROM_CMD_MEM_DATA = 0x07,
    ROM_CMD_SYNC = 0x08,
    ROM_CMD_WRITE_REG = 0x09,
    ROM_CMD_READ_REG = 0x0A,
    ROM_CMD_SPI_SET_PARAMS = 0x0B,
    ROM_CMD_SPI_ATTACH = 0x0D,
    ROM_CMD_READ_FLASH_SLOW = 0x0E,
    ROM_CMD_CHANGE_BAUDRATE = 0x0F,
    ROM_CMD_FLASH_DEFL_BEGIN = 0x10,
    ROM_CMD_FLASH_DEFL_DATA = 0x11,
    ROM_CMD_FLASH_DEFL_END = 0x12,
    ROM_CMD_SPI_FLASH_MD5 = 0x13,
    ROM_CMD_GET_SECURITY_INFO = 0x14,
    ROM_CMD_ERASE_FLASH = 0xD0,
    ROM_CMD_ERASE_REGION = 0xD1,
    ROM_CMD_READ_FLASH = 0xD2,
};

/* ROM loader error codes (second status byte). */
enum {
    ROM_ERR_INVALID_MSG = 0x05,
    ROM_ERR_FAILED = 0x06,
    ROM_ERR_CHECKSUM = 0x07,
    ROM_ERR_FLASH_WRITE = 0x08,
    ROM_ERR_FLASH_READ = 0x09,
    ROM_ERR_READ_LENGTH = 0x0A,
    ROM_ERR_DEFLATE = 0x0B,
};

/* Flasher stub error codes (first status byte). */
enum {
    STUB_ERR_BAD_DATA_LEN = 0xC0,
    STUB_ERR_BAD_CHECKSUM = 0xC1,
    STUB_ERR_BAD_BLOCKSIZE = 0xC2,
    STUB_ERR_INVALID_CMD = 0xC3,
    STUB_ERR_SPI_OP = 0xC4,
    STUB_ERR_NOT_IN_FLASH_MODE = 0xC6,
    STUB_ERR_INFLATE = 0xC7,
    STUB_ERR_NOT_ENOUGH_DATA = 0xC8,
    STUB_ERR_TOO_MUCH_DATA = 0xC9,
    STUB_ERR_NOT_IMPLEMENTED = 0xFF,
};

/* What the caller must do after rom_serial_input. */
typedef enum {
    ROM_SERIAL_CONTINUE = 0,   /* keep feeding bytes */
    ROM_SERIAL_RUN = 1,        /* the loader left download mode: boot from flash */
    ROM_SERIAL_POWER_LOSS = 2, /* a flash operation lost the power: the chip is off */
} rom_serial_event_t;

typedef struct rom_serial_config {
    const ota_flash_t *flash;     /* the board's flash (read, program, sector/block erase) */
    int (*erase_chip)(void *ctx); /* whole-chip erase; NULL = block by block through flash */
    void *erase_chip_ctx;
    const ota_crypto_t *crypto; /* MD5 of SPI_FLASH_MD5 and READ_FLASH */
    uint16_t chip_id;           /* image chip id of the simulated chip (0 = ESP32) */
    uint16_t chip_rev;          /* major * 100 + minor */
    uint8_t mac[6];             /* base MAC address in eFuse */
    /* Writes bytes to the serial line (called from rom_serial_input). */
    void (*send)(void *ctx, const void *data, size_t len);
    void *send_ctx;
} rom_serial_config_t;

#define ROM_SERIAL_FRAME_MAX (0x4000 + 64) /* the stub's 16 KiB blocks plus headers */
#define ROM_SERIAL_MAX_REGS 64

typedef struct rom_serial {
    rom_serial_config_t cfg;
    bool stub; /* the flasher stub runs */
    bool off;  /* the power was lost: nothing is answered any more */
    /* SLIP decoder */
    uint8_t frame[ROM_SERIAL_FRAME_MAX];
    size_t frame_len;
    bool in_frame, escaped, overflow;
    /* registers written by the host (and the SPI controller's) */
    uint32_t reg_addr[ROM_SERIAL_MAX_REGS];
    uint32_t reg_val[ROM_SERIAL_MAX_REGS];
    size_t n_regs;
    uint32_t baud;
    /* flash write session */
    int wmode; /* 0 none, 1 plain, 2 compressed */
    uint32_t w_offset, w_size, w_block_size, w_seq, w_pos;
    z_stream z;
    bool z_live;
    /* RAM upload */
    bool mem_active;
    uint32_t mem_seq;
    /* flow-controlled READ_FLASH */
    bool reading;
    uint32_t r_offset, r_len, r_block, r_inflight, r_sent;
    void *r_md5;
} rom_serial_t;

/* Initialises rs as the ROM loader in download mode. cfg is copied; its pointers must outlive
 * rs. */
void rom_serial_init(rom_serial_t *rs, const rom_serial_config_t *cfg);

/* Releases what rs holds (an inflate stream, a digest in progress). rs may be re-initialised. */
void rom_serial_free(rom_serial_t *rs);

/*
 * Feeds n bytes received on the serial line. Complete frames are executed and answered through
 * cfg.send. Returns ROM_SERIAL_CONTINUE, ROM_SERIAL_RUN (the answer to the command that left
 * download mode has been sent) or ROM_SERIAL_POWER_LOSS (nothing more will be answered). *used
 * (if not NULL) receives how many bytes were consumed: all of them, or up to the frame that
 * ended download mode.
 */
rom_serial_event_t rom_serial_input(rom_serial_t *rs, const uint8_t *data, size_t n, size_t *used);

/* XOR checksum of data as the ROM computes it (seed 0xEF). */
uint8_t rom_serial_checksum(const uint8_t *data, size_t n);

#endif /* OTAKIT_ROM_SERIAL_H */
