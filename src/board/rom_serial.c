/* The serial download protocol of the chip's ROM loader and flasher stub (see rom_serial.h). */
#include "rom_serial.h"

#include <stdio.h>
#include <string.h>

#include "ota/ota_err.h"

/* What esptool reads to tell chips apart and to run SPI flash commands, per chip. */
typedef struct chip_regs {
    uint16_t chip_id;
    uint32_t magic;         /* value at 0x40001000 (0: the chip is told by its chip id) */
    uint8_t sec_info_len;   /* GET_SECURITY_INFO answer length (0: not supported) */
    uint32_t spi_base;      /* SPI flash controller (SPI_CMD_REG) */
    uint32_t spi_usr2_offs; /* SPI_USR2_REG: command byte */
    uint32_t spi_w0_offs;   /* SPI_W0_REG: data */
    uint32_t uart_clkdiv;   /* UART0 clock divider register */
} chip_regs_t;

static const chip_regs_t chip_table[] = {
    {0, 0x00F01D83u, 0, 0x3FF42000u, 0x24, 0x80, 0x3FF40014u},  /* ESP32 */
    {2, 0x000007C6u, 12, 0x3F402000u, 0x20, 0x58, 0x3F400014u}, /* ESP32-S2 */
    {5, 0, 20, 0x60002000u, 0x20, 0x58, 0x60000014u},           /* ESP32-C3 */
    {9, 0, 20, 0x60002000u, 0x20, 0x58, 0x60000014u},           /* ESP32-S3 */
    {12, 0, 20, 0x60002000u, 0x20, 0x58, 0x60000014u},          /* ESP32-C2 */
    {13, 0, 20, 0x60003000u, 0x20, 0x58, 0x60000014u},          /* ESP32-C6 */
    {16, 0, 20, 0x60003000u, 0x20, 0x58, 0x60000014u},          /* ESP32-H2 */
};

#define CHIP_DETECT_MAGIC_REG 0x40001000u
#define SPI_CMD_USR (1u << 18)
#define SPI_CMD_RDID 0x9F
#define ESP32_EFUSE_BASE 0x3FF5A000u
#define ESP32_APB_CTL_DATE 0x3FF6607Cu
#define ESP32_RTCCALICFG1 0x3FF5F06Cu
#define ESP32C3_EFUSE_BLK1 0x60008844u
#define XTAL_HZ 40000000u
#define SYNC_VALUE 0x20120707u /* any non-zero value: the ROM answers SYNC with it */

static const chip_regs_t *chip_regs(const rom_serial_t *rs)
{
    for (size_t i = 0; i < sizeof(chip_table) / sizeof(chip_table[0]); i++) {
        if (chip_table[i].chip_id == rs->cfg.chip_id) {
            return &chip_table[i];
        }
    }
    return &chip_table[2]; /* a chip told by its chip id, with the common register layout */
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint8_t rom_serial_checksum(const uint8_t *data, size_t n)
{
    uint8_t c = 0xEF;
    for (size_t i = 0; i < n; i++) {
        c ^= data[i];
    }
    return c;
}

/* ---- output -------------------------------------------------------------------------------- */

/* Sends one SLIP frame holding n bytes. */
static void send_frame(rom_serial_t *rs, const uint8_t *p, size_t n)
{
    uint8_t out[512];
    size_t k = 0;
    out[k++] = 0xC0;
    for (size_t i = 0; i < n; i++) {
        if (k + 3 > sizeof(out)) {
            rs->cfg.send(rs->cfg.send_ctx, out, k);
            k = 0;
        }
        if (p[i] == 0xC0) {
            out[k++] = 0xDB;
            out[k++] = 0xDC;
        } else if (p[i] == 0xDB) {
            out[k++] = 0xDB;
            out[k++] = 0xDD;
        } else {
            out[k++] = p[i];
        }
    }
    out[k++] = 0xC0;
    rs->cfg.send(rs->cfg.send_ctx, out, k);
}

/* Sends a response: header, data, then the status bytes (4 from the ROM, 2 from the stub). */
static void respond_full(rom_serial_t *rs, uint8_t op, uint32_t val, const void *data, size_t n,
                         uint8_t status, uint8_t err)
{
    uint8_t pkt[8 + 64 + 4];
    size_t nstat = rs->stub ? 2 : 4;
    if (n > 64) {
        n = 64;
    }
    pkt[0] = 0x01;
    pkt[1] = op;
    pkt[2] = (uint8_t)(n + nstat);
    pkt[3] = (uint8_t)((n + nstat) >> 8);
    put_le32(pkt + 4, val);
    if (n > 0) {
        memcpy(pkt + 8, data, n);
    }
    memset(pkt + 8 + n, 0, nstat);
    pkt[8 + n] = status;
    pkt[8 + n + 1] = err;
    send_frame(rs, pkt, 8 + n + nstat);
}

static void respond(rom_serial_t *rs, uint8_t op, uint32_t val)
{
    respond_full(rs, op, val, NULL, 0, 0, 0);
}

/* A failed command: the ROM says status 1 and its error code, the stub its own code. */
static void fail(rom_serial_t *rs, uint8_t op, uint8_t rom_err, uint8_t stub_err)
{
    if (rs->stub) {
        respond_full(rs, op, 0, NULL, 0, stub_err, 0);
    } else {
        respond_full(rs, op, 0, NULL, 0, 1, rom_err);
    }
}

/* ---- registers ----------------------------------------------------------------------------- */

/* eFuse and peripheral words of an ESP32 (revision, package, MAC, clock calibration). */
static bool esp32_reg(const rom_serial_t *rs, uint32_t addr, uint32_t *out)
{
    int major = rs->cfg.chip_rev / 100;
    const uint8_t *mac = rs->cfg.mac;
    switch (addr) {
    case ESP32_EFUSE_BASE + 4:
        *out = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
        return true;
    case ESP32_EFUSE_BASE + 8:
        *out = (uint32_t)mac[0] << 8 | mac[1];
        return true;
    case ESP32_EFUSE_BASE + 12: /* package D0WD, revision bit 0 */
        *out = 1u << 9 | (major >= 1 ? 1u << 15 : 0);
        return true;
    case ESP32_EFUSE_BASE + 16: /* 8 MHz clock calibration: 100 */
        *out = 100;
        return true;
    case ESP32_EFUSE_BASE + 20: /* revision bit 1, minor revision */
        *out = (major >= 2 ? 1u << 20 : 0) | (uint32_t)(rs->cfg.chip_rev % 100 & 3) << 24;
        return true;
    case ESP32_APB_CTL_DATE:
        *out = major >= 3 ? 1u << 31 : 0;
        return true;
    case ESP32_RTCCALICFG1: /* with the 100 above, the ROM's crystal estimate is 40 MHz */
        *out = 1024u << 7;
        return true;
    default:
        return false;
    }
}

/* eFuse block 1 words of an ESP32-C3 (MAC, revision). */
static bool esp32c3_reg(const rom_serial_t *rs, uint32_t addr, uint32_t *out)
{
    const uint8_t *mac = rs->cfg.mac;
    uint32_t major = (uint32_t)(rs->cfg.chip_rev / 100), minor = (uint32_t)(rs->cfg.chip_rev % 100);
    switch (addr) {
    case ESP32C3_EFUSE_BLK1:
        *out = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
        return true;
    case ESP32C3_EFUSE_BLK1 + 4:
        *out = (uint32_t)mac[0] << 8 | mac[1];
        return true;
    case ESP32C3_EFUSE_BLK1 + 12: /* minor revision, low bits */
        *out = (minor & 7u) << 18;
        return true;
    case ESP32C3_EFUSE_BLK1 + 20: /* major revision, minor revision high bit */
        *out = (major & 3u) << 24 | (minor >> 3 & 1u) << 23;
        return true;
    default:
        return false;
    }
}

static uint32_t reg_read(const rom_serial_t *rs, uint32_t addr)
{
    const chip_regs_t *cr = chip_regs(rs);
    for (size_t i = 0; i < rs->n_regs; i++) {
        if (rs->reg_addr[i] == addr) {
            return rs->reg_val[i];
        }
    }
    uint32_t v = 0;
    if (addr == CHIP_DETECT_MAGIC_REG) {
        return cr->magic;
    }
    if (addr == cr->uart_clkdiv) {
        return rs->baud != 0 ? XTAL_HZ / rs->baud : XTAL_HZ / 115200u;
    }
    if (rs->cfg.chip_id == 0 && esp32_reg(rs, addr, &v)) {
        return v;
    }
    if (rs->cfg.chip_id == 5 && esp32c3_reg(rs, addr, &v)) {
        return v;
    }
    return 0;
}

static void reg_store(rom_serial_t *rs, uint32_t addr, uint32_t val)
{
    for (size_t i = 0; i < rs->n_regs; i++) {
        if (rs->reg_addr[i] == addr) {
            rs->reg_val[i] = val;
            return;
        }
    }
    if (rs->n_regs < ROM_SERIAL_MAX_REGS) {
        rs->reg_addr[rs->n_regs] = addr;
        rs->reg_val[rs->n_regs++] = val;
    }
}

/* The SPI controller runs a user command: RDID answers the flash's JEDEC id, others 0. */
static void spi_user_command(rom_serial_t *rs, const chip_regs_t *cr)
{
    uint8_t cmd = (uint8_t)reg_read(rs, cr->spi_base + cr->spi_usr2_offs);
    uint32_t w0 = 0;
    if (cmd == SPI_CMD_RDID) {
        uint32_t log2 = 0;
        while ((1u << log2) < rs->cfg.flash->size) {
            log2++;
        }
        w0 = 0xEFu | 0x40u << 8 | log2 << 16; /* Winbond W25Q, capacity 2^log2 */
    }
    reg_store(rs, cr->spi_base + cr->spi_w0_offs, w0);
    reg_store(rs, cr->spi_base, reg_read(rs, cr->spi_base) & ~SPI_CMD_USR);
}

static void cmd_write_reg(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    const chip_regs_t *cr = chip_regs(rs);
    if (n == 0 || n % 16 != 0) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return;
    }
    for (size_t i = 0; i < n; i += 16) {
        uint32_t addr = le32(d + i);
        uint32_t mask = le32(d + i + 8);
        uint32_t val = (reg_read(rs, addr) & ~mask) | (le32(d + i + 4) & mask);
        reg_store(rs, addr, val);
        if (addr == cr->spi_base && (val & SPI_CMD_USR) != 0) {
            spi_user_command(rs, cr);
        }
    }
    respond(rs, op, 0);
}

/* ---- flash --------------------------------------------------------------------------------- */

/* Maps a flash error to the event and answer; returns true when the power is gone. */
static bool flash_failed(rom_serial_t *rs, uint8_t op, int err, uint8_t rom_err)
{
    if (err == OTA_ERR_POWER_LOSS) {
        rs->off = true;
        return true;
    }
    fail(rs, op, rom_err, STUB_ERR_SPI_OP);
    return false;
}

/* Erases the sectors covering [addr, addr + len). */
static int erase_cover(rom_serial_t *rs, uint32_t addr, uint32_t len)
{
    uint32_t sec = rs->cfg.flash->sector_size;
    uint32_t start = addr / sec * sec;
    uint64_t end = ((uint64_t)addr + len + sec - 1) / sec * sec;
    if (len == 0) {
        return OTA_OK;
    }
    if (end > rs->cfg.flash->size) {
        return OTA_ERR_BOUNDS;
    }
    return ota_flash_erase_range(rs->cfg.flash, start, (uint32_t)(end - start));
}

static void end_session(rom_serial_t *rs)
{
    if (rs->z_live) {
        inflateEnd(&rs->z);
        rs->z_live = false;
    }
    rs->wmode = 0;
}

/* FLASH_BEGIN and FLASH_DEFL_BEGIN: size, blocks, block size, offset. The range to write is
 * erased first (the ROM does so; the stub erases as it goes, with the same result). */
static rom_serial_event_t cmd_flash_begin(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    if (n < 16) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    end_session(rs);
    uint32_t size = le32(d), block = le32(d + 8), offset = le32(d + 12);
    if ((uint64_t)offset + size > rs->cfg.flash->size) {
        fail(rs, op, ROM_ERR_FAILED, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    if (op == ROM_CMD_FLASH_DEFL_BEGIN) {
        memset(&rs->z, 0, sizeof(rs->z));
        if (inflateInit(&rs->z) != Z_OK) {
            fail(rs, op, ROM_ERR_DEFLATE, STUB_ERR_INFLATE);
            return ROM_SERIAL_CONTINUE;
        }
        rs->z_live = true;
    }
    int err = erase_cover(rs, offset, size);
    if (err != OTA_OK) {
        end_session(rs);
        return flash_failed(rs, op, err, ROM_ERR_FLASH_WRITE) ? ROM_SERIAL_POWER_LOSS
                                                              : ROM_SERIAL_CONTINUE;
    }
    rs->wmode = op == ROM_CMD_FLASH_DEFL_BEGIN ? 2 : 1;
    rs->w_offset = offset;
    rs->w_size = size;
    rs->w_block_size = block;
    rs->w_seq = 0;
    rs->w_pos = 0;
    respond(rs, op, 0);
    return ROM_SERIAL_CONTINUE;
}

/* Programs n bytes at the session's write position. */
static int session_program(rom_serial_t *rs, const uint8_t *p, uint32_t n)
{
    uint32_t room = rs->cfg.flash->size - (rs->w_offset + rs->w_pos);
    if (n > room) {
        return OTA_ERR_BOUNDS;
    }
    int err = ota_flash_program(rs->cfg.flash, rs->w_offset + rs->w_pos, p, n);
    if (err == OTA_OK) {
        rs->w_pos += n;
    }
    return err;
}

/* Inflates a compressed block and programs what comes out. */
static int inflate_block(rom_serial_t *rs, const uint8_t *p, uint32_t n, bool *too_much)
{
    static uint8_t out[0x4000];
    rs->z.next_in = (Bytef *)(uintptr_t)p;
    rs->z.avail_in = n;
    for (;;) {
        rs->z.next_out = out;
        rs->z.avail_out = sizeof(out);
        int zr = inflate(&rs->z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            return OTA_ERR_CORRUPT;
        }
        uint32_t got = (uint32_t)(sizeof(out) - rs->z.avail_out);
        if (rs->w_pos + got > rs->w_size) {
            *too_much = true;
            return OTA_ERR_SIZE;
        }
        int err = got > 0 ? session_program(rs, out, got) : OTA_OK;
        if (err != OTA_OK) {
            return err;
        }
        if (zr == Z_STREAM_END || (rs->z.avail_in == 0 && got < sizeof(out))) {
            return OTA_OK;
        }
        if (zr == Z_BUF_ERROR && got == 0) {
            return OTA_OK;
        }
    }
}

/* Checks a data command's header (length, checksum, sequence); answers on failure. */
static bool data_header_ok(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n, uint32_t chk,
                           uint32_t want_seq)
{
    if (n < 16 || le32(d) != n - 16) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return false;
    }
    if (rom_serial_checksum(d + 16, n - 16) != (uint8_t)chk) {
        fail(rs, op, ROM_ERR_CHECKSUM, STUB_ERR_BAD_CHECKSUM);
        return false;
    }
    if (le32(d + 4) != want_seq) {
        fail(rs, op, ROM_ERR_FAILED, STUB_ERR_BAD_DATA_LEN);
        return false;
    }
    return true;
}

static rom_serial_event_t cmd_flash_data(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n,
                                         uint32_t chk)
{
    int want = op == ROM_CMD_FLASH_DEFL_DATA ? 2 : 1;
    if (rs->wmode != want) {
        fail(rs, op, ROM_ERR_FAILED, STUB_ERR_NOT_IN_FLASH_MODE);
        return ROM_SERIAL_CONTINUE;
    }
    if (!data_header_ok(rs, op, d, n, chk, rs->w_seq)) {
        return ROM_SERIAL_CONTINUE;
    }
    bool too_much = false;
    int err;
    if (want == 1) {
        rs->w_pos = rs->w_seq * rs->w_block_size;
        err = session_program(rs, d + 16, (uint32_t)(n - 16));
    } else {
        err = inflate_block(rs, d + 16, (uint32_t)(n - 16), &too_much);
    }
    if (err == OTA_ERR_CORRUPT || too_much) {
        fail(rs, op, ROM_ERR_DEFLATE, too_much ? STUB_ERR_TOO_MUCH_DATA : STUB_ERR_INFLATE);
        return ROM_SERIAL_CONTINUE;
    }
    if (err != OTA_OK) {
        return flash_failed(rs, op, err, ROM_ERR_FLASH_WRITE) ? ROM_SERIAL_POWER_LOSS
                                                              : ROM_SERIAL_CONTINUE;
    }
    rs->w_seq++;
    respond(rs, op, 0);
    return ROM_SERIAL_CONTINUE;
}

/* FLASH_END / FLASH_DEFL_END: 0 = reboot, 1 = run the user code. The ROM leaves download mode
 * either way; the stub goes back to the ROM loader on a reboot and stays otherwise. */
static rom_serial_event_t cmd_flash_end(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    uint32_t run_user = n >= 4 ? le32(d) : 1;
    end_session(rs);
    respond(rs, op, 0);
    if (!rs->stub) {
        return ROM_SERIAL_RUN;
    }
    if (run_user == 0) {
        rs->stub = false;
    }
    return ROM_SERIAL_CONTINUE;
}

static rom_serial_event_t cmd_erase(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    int err;
    if (op == ROM_CMD_ERASE_FLASH) {
        err = rs->cfg.erase_chip != NULL
                  ? rs->cfg.erase_chip(rs->cfg.erase_chip_ctx)
                  : ota_flash_erase_range(rs->cfg.flash, 0, rs->cfg.flash->size);
    } else {
        uint32_t offset = n >= 8 ? le32(d) : 1, size = n >= 8 ? le32(d + 4) : 1;
        uint32_t sec = rs->cfg.flash->sector_size;
        if (offset % sec != 0 || size % sec != 0 || (uint64_t)offset + size > rs->cfg.flash->size) {
            fail(rs, op, ROM_ERR_FAILED, STUB_ERR_BAD_DATA_LEN);
            return ROM_SERIAL_CONTINUE;
        }
        err = size > 0 ? ota_flash_erase_range(rs->cfg.flash, offset, size) : OTA_OK;
    }
    if (err != OTA_OK) {
        return flash_failed(rs, op, err, ROM_ERR_FLASH_WRITE) ? ROM_SERIAL_POWER_LOSS
                                                              : ROM_SERIAL_CONTINUE;
    }
    respond(rs, op, 0);
    return ROM_SERIAL_CONTINUE;
}

/* SPI_FLASH_MD5: the ROM answers 32 hex characters, the stub 16 bytes. */
static rom_serial_event_t cmd_md5(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    if (n < 16) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    uint32_t addr = le32(d), size = le32(d + 4);
    if ((uint64_t)addr + size > rs->cfg.flash->size) {
        fail(rs, op, ROM_ERR_READ_LENGTH, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    void *h = rs->cfg.crypto->hash_start(rs->cfg.crypto->ctx, OTA_HASH_MD5);
    if (h == NULL) {
        fail(rs, op, ROM_ERR_FAILED, STUB_ERR_SPI_OP);
        return ROM_SERIAL_CONTINUE;
    }
    static uint8_t buf[0x10000];
    for (uint32_t done = 0; done < size;) {
        uint32_t k = size - done < sizeof(buf) ? size - done : (uint32_t)sizeof(buf);
        int err = ota_flash_read(rs->cfg.flash, addr + done, buf, k);
        if (err != OTA_OK) {
            rs->cfg.crypto->hash_finish(h, NULL);
            return flash_failed(rs, op, err, ROM_ERR_FLASH_READ) ? ROM_SERIAL_POWER_LOSS
                                                                 : ROM_SERIAL_CONTINUE;
        }
        rs->cfg.crypto->hash_update(h, buf, k);
        done += k;
    }
    uint8_t md5[16];
    char hex[33];
    rs->cfg.crypto->hash_finish(h, md5);
    if (rs->stub) {
        respond_full(rs, op, 0, md5, 16, 0, 0);
    } else {
        for (int i = 0; i < 16; i++) {
            snprintf(hex + 2 * i, 3, "%02x", md5[i]);
        }
        respond_full(rs, op, 0, hex, 32, 0, 0);
    }
    return ROM_SERIAL_CONTINUE;
}

/* ---- reads --------------------------------------------------------------------------------- */

/* Sends READ_FLASH data packets while fewer than r_inflight are unacknowledged. */
static rom_serial_event_t read_pump(rom_serial_t *rs, uint32_t acked)
{
    static uint8_t buf[0x4000];
    while (rs->r_sent < rs->r_len && rs->r_sent - acked < rs->r_inflight * rs->r_block) {
        uint32_t k = rs->r_len - rs->r_sent;
        k = k < rs->r_block ? k : rs->r_block;
        int err = ota_flash_read(rs->cfg.flash, rs->r_offset + rs->r_sent, buf, k);
        if (err != OTA_OK) {
            rs->cfg.crypto->hash_finish(rs->r_md5, NULL);
            rs->r_md5 = NULL;
            rs->reading = false;
            rs->off = err == OTA_ERR_POWER_LOSS;
            return rs->off ? ROM_SERIAL_POWER_LOSS : ROM_SERIAL_CONTINUE;
        }
        rs->cfg.crypto->hash_update(rs->r_md5, buf, k);
        send_frame(rs, buf, k);
        rs->r_sent += k;
    }
    if (acked >= rs->r_len) {
        uint8_t md5[16];
        rs->cfg.crypto->hash_finish(rs->r_md5, md5);
        rs->r_md5 = NULL;
        rs->reading = false;
        send_frame(rs, md5, sizeof(md5));
    }
    return ROM_SERIAL_CONTINUE;
}

/* READ_FLASH (stub): offset, length, packet size, packets in flight. */
static rom_serial_event_t cmd_read_flash(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    if (n < 16) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    uint32_t offset = le32(d), len = le32(d + 4), block = le32(d + 8), inflight = le32(d + 12);
    if ((uint64_t)offset + len > rs->cfg.flash->size || block == 0 || block > 0x4000 ||
        inflight == 0) {
        fail(rs, op, ROM_ERR_READ_LENGTH, STUB_ERR_BAD_BLOCKSIZE);
        return ROM_SERIAL_CONTINUE;
    }
    rs->r_md5 = rs->cfg.crypto->hash_start(rs->cfg.crypto->ctx, OTA_HASH_MD5);
    if (rs->r_md5 == NULL) {
        fail(rs, op, ROM_ERR_FAILED, STUB_ERR_SPI_OP);
        return ROM_SERIAL_CONTINUE;
    }
    respond(rs, op, 0);
    rs->reading = true;
    rs->r_offset = offset;
    rs->r_len = len;
    rs->r_block = block;
    rs->r_inflight = inflight;
    rs->r_sent = 0;
    return read_pump(rs, 0);
}

/* READ_FLASH_SLOW (ESP32 ROM): offset, length up to 64; always 64 data bytes back. */
static rom_serial_event_t cmd_read_slow(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    uint8_t buf[64];
    if (n < 8 || le32(d + 4) > 64 || (uint64_t)le32(d) + le32(d + 4) > rs->cfg.flash->size) {
        fail(rs, op, ROM_ERR_READ_LENGTH, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    memset(buf, 0xFF, sizeof(buf));
    int err = ota_flash_read(rs->cfg.flash, le32(d), buf, le32(d + 4));
    if (err != OTA_OK) {
        return flash_failed(rs, op, err, ROM_ERR_FLASH_READ) ? ROM_SERIAL_POWER_LOSS
                                                             : ROM_SERIAL_CONTINUE;
    }
    respond_full(rs, op, 0, buf, sizeof(buf), 0, 0);
    return ROM_SERIAL_CONTINUE;
}

/* ---- commands ------------------------------------------------------------------------------ */

static void cmd_sync(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n)
{
    static const uint8_t head[4] = {0x07, 0x07, 0x12, 0x20};
    if (n != 36 || memcmp(d, head, 4) != 0) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return;
    }
    for (size_t i = 4; i < n; i++) {
        if (d[i] != 0x55) {
            fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
            return;
        }
    }
    /* the ROM answers eight times with a non-zero value; the stub with 0 */
    for (int i = 0; i < 8; i++) {
        respond(rs, op, rs->stub ? 0 : SYNC_VALUE);
    }
}

static void cmd_security_info(rom_serial_t *rs, uint8_t op)
{
    const chip_regs_t *cr = chip_regs(rs);
    uint8_t info[20];
    if (cr->sec_info_len == 0) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_NOT_IMPLEMENTED);
        return;
    }
    memset(info, 0, sizeof(info)); /* no security feature enabled, no key purposes */
    put_le32(info + 12, rs->cfg.chip_id);
    put_le32(info + 16, (uint32_t)(rs->cfg.chip_rev / 100));
    respond_full(rs, op, 0, info, cr->sec_info_len, 0, 0);
}

static rom_serial_event_t cmd_mem(rom_serial_t *rs, uint8_t op, const uint8_t *d, size_t n,
                                  uint32_t chk)
{
    if (op == ROM_CMD_MEM_BEGIN) {
        if (n < 16) {
            fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
            return ROM_SERIAL_CONTINUE;
        }
        rs->mem_active = true;
        rs->mem_seq = 0;
        respond(rs, op, 0);
    } else if (op == ROM_CMD_MEM_DATA) {
        if (!rs->mem_active) {
            fail(rs, op, ROM_ERR_FAILED, STUB_ERR_NOT_IN_FLASH_MODE);
        } else if (data_header_ok(rs, op, d, n, chk, rs->mem_seq)) {
            rs->mem_seq++;
            respond(rs, op, 0);
        }
    } else {
        /* MEM_END: flag 0 = jump to the entry point. The code uploaded through the ROM is
         * taken to be esptool's flasher stub, which then greets. */
        bool run = n >= 8 && le32(d) == 0;
        rs->mem_active = false;
        respond(rs, op, 0);
        if (run && !rs->stub) {
            rs->stub = true;
            send_frame(rs, (const uint8_t *)"OHAI", 4);
        }
    }
    return ROM_SERIAL_CONTINUE;
}

/* Executes one decoded frame. */
static rom_serial_event_t execute(rom_serial_t *rs, const uint8_t *f, size_t len)
{
    if (rs->reading) { /* READ_FLASH acknowledgements: bytes received so far */
        return len == 4 ? read_pump(rs, le32(f)) : ROM_SERIAL_CONTINUE;
    }
    if (len < 8 || f[0] != 0x00) {
        return ROM_SERIAL_CONTINUE;
    }
    uint8_t op = f[1];
    size_t n = (size_t)f[2] | (size_t)f[3] << 8;
    uint32_t chk = le32(f + 4);
    const uint8_t *d = f + 8;
    if (n != len - 8) {
        fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        return ROM_SERIAL_CONTINUE;
    }
    switch (op) {
    case ROM_CMD_SYNC:
        cmd_sync(rs, op, d, n);
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_READ_REG:
        if (n < 4) {
            fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_BAD_DATA_LEN);
        } else {
            respond(rs, op, reg_read(rs, le32(d)));
        }
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_WRITE_REG:
        cmd_write_reg(rs, op, d, n);
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_SPI_ATTACH:
    case ROM_CMD_SPI_SET_PARAMS:
        respond(rs, op, 0);
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_CHANGE_BAUDRATE:
        if (n >= 4 && le32(d) != 0) {
            rs->baud = le32(d);
        }
        respond(rs, op, 0);
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_GET_SECURITY_INFO:
        cmd_security_info(rs, op);
        return ROM_SERIAL_CONTINUE;
    case ROM_CMD_FLASH_BEGIN:
    case ROM_CMD_FLASH_DEFL_BEGIN:
        return cmd_flash_begin(rs, op, d, n);
    case ROM_CMD_FLASH_DATA:
    case ROM_CMD_FLASH_DEFL_DATA:
        return cmd_flash_data(rs, op, d, n, chk);
    case ROM_CMD_FLASH_END:
    case ROM_CMD_FLASH_DEFL_END:
        return cmd_flash_end(rs, op, d, n);
    case ROM_CMD_MEM_BEGIN:
    case ROM_CMD_MEM_DATA:
    case ROM_CMD_MEM_END:
        return cmd_mem(rs, op, d, n, chk);
    case ROM_CMD_SPI_FLASH_MD5:
        return cmd_md5(rs, op, d, n);
    case ROM_CMD_READ_FLASH_SLOW:
        if (!rs->stub && rs->cfg.chip_id == 0) {
            return cmd_read_slow(rs, op, d, n);
        }
        break;
    case ROM_CMD_ERASE_FLASH:
    case ROM_CMD_ERASE_REGION:
        if (rs->stub) {
            return cmd_erase(rs, op, d, n);
        }
        break;
    case ROM_CMD_READ_FLASH:
        if (rs->stub) {
            return cmd_read_flash(rs, op, d, n);
        }
        break;
    default:
        break;
    }
    fail(rs, op, ROM_ERR_INVALID_MSG, STUB_ERR_NOT_IMPLEMENTED);
    return ROM_SERIAL_CONTINUE;
}

void rom_serial_init(rom_serial_t *rs, const rom_serial_config_t *cfg)
{
    memset(rs, 0, sizeof(*rs));
    rs->cfg = *cfg;
    rs->baud = 115200;
}

void rom_serial_free(rom_serial_t *rs)
{
    end_session(rs);
    if (rs->r_md5 != NULL) {
        rs->cfg.crypto->hash_finish(rs->r_md5, NULL);
        rs->r_md5 = NULL;
    }
    rs->reading = false;
}

rom_serial_event_t rom_serial_input(rom_serial_t *rs, const uint8_t *data, size_t n, size_t *used)
{
    if (used != NULL) {
        *used = n;
    }
    for (size_t i = 0; i < n && !rs->off; i++) {
        uint8_t c = data[i];
        if (c == 0xC0) {
            rom_serial_event_t ev = ROM_SERIAL_CONTINUE;
            if (rs->in_frame && rs->frame_len > 0 && !rs->overflow) {
                ev = execute(rs, rs->frame, rs->frame_len);
            }
            rs->frame_len = 0;
            rs->overflow = false;
            rs->escaped = false;
            rs->in_frame = true;
            if (ev != ROM_SERIAL_CONTINUE) {
                rs->in_frame = false;
                if (used != NULL) {
                    *used = i + 1;
                }
                return ev;
            }
            continue;
        }
        if (!rs->in_frame) {
            continue;
        }
        if (rs->escaped) {
            c = c == 0xDC ? 0xC0 : c == 0xDD ? 0xDB : c;
            rs->escaped = false;
        } else if (c == 0xDB) {
            rs->escaped = true;
            continue;
        }
        if (rs->frame_len == sizeof(rs->frame)) {
            rs->overflow = true;
            continue;
        }
        rs->frame[rs->frame_len++] = c;
    }
    return rs->off ? ROM_SERIAL_POWER_LOSS : ROM_SERIAL_CONTINUE;
}
