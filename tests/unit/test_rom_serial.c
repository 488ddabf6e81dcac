/* The serial download protocol: SLIP frames in, responses out, acting on an emulated flash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_nor.h"
#include "ota/ota_posix.h"
#include "rom_serial.h"

#define MIB 0x100000u
#define MAX_FRAMES 64

/* What the loader sent, SLIP-decoded into frames. */
typedef struct sink {
    uint8_t frames[MAX_FRAMES][0x1100];
    size_t len[MAX_FRAMES];
    size_t n;
    bool in, esc;
} sink_t;

typedef struct fixture {
    ota_nor_t *nor;
    rom_serial_t rs;
    sink_t out;
} fixture_t;

static void sink_send(void *ctx, const void *data, size_t n)
{
    sink_t *s = ctx;
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0xC0) {
            if (s->in) {
                s->n++;
                s->in = false;
            } else {
                assert_true(s->n < MAX_FRAMES);
                s->len[s->n] = 0;
                s->in = true;
            }
            continue;
        }
        uint8_t c = p[i];
        if (s->esc) {
            c = c == 0xDC ? 0xC0 : 0xDB;
            s->esc = false;
        } else if (c == 0xDB) {
            s->esc = true;
            continue;
        }
        s->frames[s->n][s->len[s->n]++] = c;
    }
}

static fixture_t *setup_chip(uint16_t chip_id)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(ota_nor_create_mem(MIB, NULL, &f->nor, NULL), OTA_OK);
    rom_serial_config_t cfg = {
        .flash = ota_nor_flash(f->nor),
        .crypto = ota_crypto_openssl(),
        .chip_id = chip_id,
        .chip_rev = 300,
        .mac = {0x24, 0x0A, 0xC4, 1, 2, 3},
        .send = sink_send,
        .send_ctx = &f->out,
    };
    rom_serial_init(&f->rs, &cfg);
    return f;
}

static void teardown_chip(fixture_t *f)
{
    rom_serial_free(&f->rs);
    ota_nor_close(f->nor);
    free(f);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* SLIP-encodes raw bytes as one frame and feeds them. */
static rom_serial_event_t feed_frame(fixture_t *f, const uint8_t *p, size_t n)
{
    uint8_t *enc = malloc(2 * n + 2);
    size_t k = 0;
    enc[k++] = 0xC0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0xC0 || p[i] == 0xDB) {
            enc[k++] = 0xDB;
            enc[k++] = p[i] == 0xC0 ? 0xDC : 0xDD;
        } else {
            enc[k++] = p[i];
        }
    }
    enc[k++] = 0xC0;
    rom_serial_event_t ev = rom_serial_input(&f->rs, enc, k, NULL);
    free(enc);
    return ev;
}

/* Sends command op with data and checksum value chk. */
static rom_serial_event_t command(fixture_t *f, uint8_t op, const void *data, size_t n,
                                  uint32_t chk)
{
    uint8_t *pkt = malloc(8 + n);
    pkt[0] = 0;
    pkt[1] = op;
    pkt[2] = (uint8_t)n;
    pkt[3] = (uint8_t)(n >> 8);
    put32(pkt + 4, chk);
    if (n > 0) {
        memcpy(pkt + 8, data, n);
    }
    rom_serial_event_t ev = feed_frame(f, pkt, 8 + n);
    free(pkt);
    return ev;
}

/* The i-th response frame is for op, with val, and status bytes (status, err) at its end. */
static void expect_response(fixture_t *f, size_t i, uint8_t op, uint8_t status, uint8_t err)
{
    assert_true(i < f->out.n);
    const uint8_t *r = f->out.frames[i];
    size_t nstat = f->rs.stub ? 2 : 4;
    assert_true(f->out.len[i] >= 8 + nstat);
    assert_int_equal(r[0], 1);
    assert_int_equal(r[1], op);
    assert_int_equal((size_t)(r[2] | r[3] << 8), f->out.len[i] - 8);
    size_t body = f->out.len[i] - 8;
    assert_int_equal(r[8 + body - nstat], status);
    assert_int_equal(r[8 + body - nstat + 1], err);
}

static void test_sync_answers_eight_times(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t sync[36] = {0x07, 0x07, 0x12, 0x20};
    memset(sync + 4, 0x55, 32);
    /* a frame split across two reads, with noise before it */
    uint8_t noise[] = {'x', 'y'};
    assert_int_equal(rom_serial_input(&f->rs, noise, sizeof(noise), NULL), ROM_SERIAL_CONTINUE);
    assert_int_equal(command(f, ROM_CMD_SYNC, sync, sizeof(sync), 0), ROM_SERIAL_CONTINUE);
    assert_int_equal(f->out.n, 8);
    for (size_t i = 0; i < 8; i++) {
        expect_response(f, i, ROM_CMD_SYNC, 0, 0);
        assert_int_not_equal(get32(f->out.frames[i] + 4), 0); /* the ROM's value is non-zero */
    }
    /* a wrong sync pattern is refused */
    sync[5] = 0x54;
    command(f, ROM_CMD_SYNC, sync, sizeof(sync), 0);
    assert_int_equal(f->out.n, 9);
    expect_response(f, 8, ROM_CMD_SYNC, 1, ROM_ERR_INVALID_MSG);
    teardown_chip(f);
}

static uint32_t read_reg(fixture_t *f, uint32_t addr)
{
    uint8_t d[4];
    put32(d, addr);
    size_t i = f->out.n;
    command(f, ROM_CMD_READ_REG, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_READ_REG, 0, 0);
    return get32(f->out.frames[i] + 4);
}

static void write_reg(fixture_t *f, uint32_t addr, uint32_t val)
{
    uint8_t d[16];
    put32(d, addr);
    put32(d + 4, val);
    put32(d + 8, 0xFFFFFFFFu);
    put32(d + 12, 0);
    size_t i = f->out.n;
    command(f, ROM_CMD_WRITE_REG, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_WRITE_REG, 0, 0);
}

static void test_chip_detection(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    assert_int_equal(read_reg(f, 0x40001000u), 0x00F01D83u); /* ESP32's magic value */
    size_t i = f->out.n;
    command(f, ROM_CMD_GET_SECURITY_INFO, NULL, 0, 0); /* not in the ESP32 ROM */
    expect_response(f, i, ROM_CMD_GET_SECURITY_INFO, 1, ROM_ERR_INVALID_MSG);
    /* MAC words of eFuse block 0, as esptool reassembles them */
    assert_int_equal(read_reg(f, 0x3FF5A004u), 0xC4010203u);
    assert_int_equal(read_reg(f, 0x3FF5A008u) & 0xFFFF, 0x240A);
    teardown_chip(f);

    f = setup_chip(5); /* ESP32-C3: told by the chip id of GET_SECURITY_INFO */
    command(f, ROM_CMD_GET_SECURITY_INFO, NULL, 0, 0);
    expect_response(f, 0, ROM_CMD_GET_SECURITY_INFO, 0, 0);
    assert_int_equal(f->out.len[0], 8 + 20 + 4);
    assert_int_equal(get32(f->out.frames[0] + 8), 0);        /* no security flags */
    assert_int_equal(get32(f->out.frames[0] + 8 + 12), 5);   /* chip id */
    assert_int_equal(read_reg(f, 0x60008844u), 0xC4010203u); /* MAC in eFuse block 1 */
    assert_int_equal(read_reg(f, 0x60008858u) >> 24 & 3, 3); /* major revision (v3.0) */
    teardown_chip(f);
}

static void test_spi_rdid_through_registers(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    write_reg(f, 0x3FF42000u + 0x24, 7u << 28 | 0x9F); /* SPI_USR2: command 0x9F */
    write_reg(f, 0x3FF42000u, 1u << 18);               /* SPI_CMD: USR */
    assert_int_equal(read_reg(f, 0x3FF42000u) & (1u << 18), 0);
    assert_int_equal(read_reg(f, 0x3FF42000u + 0x80), 0x1440EFu); /* W25Q, 1 MiB */
    teardown_chip(f);
}

/* Sends FLASH_BEGIN (or DEFL) for size bytes at offset in blocks of block bytes. */
static void flash_begin(fixture_t *f, uint8_t op, uint32_t size, uint32_t block, uint32_t offset)
{
    uint8_t d[16];
    put32(d, size);
    put32(d + 4, (size + block - 1) / block);
    put32(d + 8, block);
    put32(d + 12, offset);
    size_t i = f->out.n;
    assert_int_equal(command(f, op, d, sizeof(d), 0), ROM_SERIAL_CONTINUE);
    expect_response(f, i, op, 0, 0);
}

static rom_serial_event_t flash_data(fixture_t *f, uint8_t op, const uint8_t *p, uint32_t n,
                                     uint32_t seq, uint8_t chk)
{
    uint8_t *d = malloc(16 + n);
    put32(d, n);
    put32(d + 4, seq);
    put32(d + 8, 0);
    put32(d + 12, 0);
    memcpy(d + 16, p, n);
    rom_serial_event_t ev = command(f, op, d, 16 + n, chk);
    free(d);
    return ev;
}

static void test_flash_begin_data_end(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t data[0x800];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 1);
    }
    /* old contents in the range: the write erases first */
    uint8_t zeros[16] = {0};
    assert_int_equal(ota_nor_program(f->nor, 0x10000, zeros, sizeof(zeros)), OTA_OK);
    flash_begin(f, ROM_CMD_FLASH_BEGIN, sizeof(data), 0x400, 0x10000);
    for (uint32_t s = 0; s < 2; s++) {
        size_t i = f->out.n;
        const uint8_t *blk = data + s * 0x400;
        flash_data(f, ROM_CMD_FLASH_DATA, blk, 0x400, s, rom_serial_checksum(blk, 0x400));
        expect_response(f, i, ROM_CMD_FLASH_DATA, 0, 0);
    }
    assert_memory_equal(ota_nor_data(f->nor) + 0x10000, data, sizeof(data));
    uint8_t run[4] = {1, 0, 0, 0};
    size_t i = f->out.n;
    assert_int_equal(command(f, ROM_CMD_FLASH_END, run, sizeof(run), 0), ROM_SERIAL_RUN);
    expect_response(f, i, ROM_CMD_FLASH_END, 0, 0);
    teardown_chip(f);
}

static void test_checksum_and_sequence_errors(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t blk[0x400];
    memset(blk, 0x12, sizeof(blk));
    flash_begin(f, ROM_CMD_FLASH_BEGIN, sizeof(blk), sizeof(blk), 0x20000);
    size_t i = f->out.n;
    flash_data(f, ROM_CMD_FLASH_DATA, blk, sizeof(blk), 0, rom_serial_checksum(blk, 0x400) ^ 1);
    expect_response(f, i, ROM_CMD_FLASH_DATA, 1, ROM_ERR_CHECKSUM);
    assert_int_equal(ota_nor_data(f->nor)[0x20000], 0xFF); /* nothing written */
    flash_data(f, ROM_CMD_FLASH_DATA, blk, sizeof(blk), 3, rom_serial_checksum(blk, 0x400));
    expect_response(f, i + 1, ROM_CMD_FLASH_DATA, 1, ROM_ERR_FAILED); /* wrong sequence */
    /* a frame whose length field disagrees with its size */
    uint8_t bad[12] = {0, ROM_CMD_READ_REG, 9, 0};
    feed_frame(f, bad, sizeof(bad));
    expect_response(f, i + 2, ROM_CMD_READ_REG, 1, ROM_ERR_INVALID_MSG);
    /* an unknown command */
    command(f, 0x77, NULL, 0, 0);
    expect_response(f, i + 3, 0x77, 1, ROM_ERR_INVALID_MSG);
    teardown_chip(f);
}

/* Uploads a "stub" to RAM and runs it: the loader greets and behaves as the stub. */
static void start_stub(fixture_t *f)
{
    uint8_t d[16] = {0};
    uint8_t code[32];
    memset(code, 0x5A, sizeof(code));
    put32(d, sizeof(code));
    put32(d + 4, 1);
    put32(d + 8, 0x1800);
    put32(d + 12, 0x40080000u);
    size_t i = f->out.n;
    command(f, ROM_CMD_MEM_BEGIN, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_MEM_BEGIN, 0, 0);
    flash_data(f, ROM_CMD_MEM_DATA, code, sizeof(code), 0, rom_serial_checksum(code, 32));
    expect_response(f, i + 1, ROM_CMD_MEM_DATA, 0, 0);
    uint8_t end[8];
    put32(end, 0);
    put32(end + 4, 0x40080400u);
    command(f, ROM_CMD_MEM_END, end, sizeof(end), 0);
    assert_int_equal(f->out.n, i + 4);
    assert_int_equal(f->out.len[i + 3], 4);
    assert_memory_equal(f->out.frames[i + 3], "OHAI", 4);
    assert_true(f->rs.stub);
}

static void md5_of(fixture_t *f, uint32_t addr, uint32_t len, uint8_t out[16])
{
    assert_int_equal(
        ota_hash(ota_crypto_openssl(), OTA_HASH_MD5, ota_nor_data(f->nor) + addr, len, out),
        OTA_OK);
}

static void test_md5_rom_and_stub(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t pattern[100];
    memset(pattern, 0x3C, sizeof(pattern));
    assert_int_equal(ota_nor_program(f->nor, 0x1000, pattern, sizeof(pattern)), OTA_OK);
    uint8_t want[16];
    char hex[33];
    md5_of(f, 0x1000, 0x2000, want);
    for (int k = 0; k < 16; k++) {
        snprintf(hex + 2 * k, 3, "%02x", want[k]);
    }
    uint8_t d[16] = {0};
    put32(d, 0x1000);
    put32(d + 4, 0x2000);
    command(f, ROM_CMD_SPI_FLASH_MD5, d, sizeof(d), 0);
    expect_response(f, 0, ROM_CMD_SPI_FLASH_MD5, 0, 0);
    assert_int_equal(f->out.len[0], 8 + 32 + 4);
    assert_memory_equal(f->out.frames[0] + 8, hex, 32); /* the ROM answers in hex */
    start_stub(f);
    size_t i = f->out.n;
    command(f, ROM_CMD_SPI_FLASH_MD5, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_SPI_FLASH_MD5, 0, 0);
    assert_int_equal(f->out.len[i], 8 + 16 + 2);
    assert_memory_equal(f->out.frames[i] + 8, want, 16); /* the stub in binary */
    teardown_chip(f);
}

static void test_compressed_write(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    start_stub(f);
    static uint8_t data[0x6000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i / 97);
    }
    static uint8_t z[0x8000];
    uLongf zlen = sizeof(z);
    assert_int_equal(compress2(z, &zlen, data, sizeof(data), 9), Z_OK);
    flash_begin(f, ROM_CMD_FLASH_DEFL_BEGIN, sizeof(data), 0x100, 0x30000);
    uint32_t seq = 0;
    for (uLongf off = 0; off < zlen; off += 0x100, seq++) {
        uint32_t n = zlen - off < 0x100 ? (uint32_t)(zlen - off) : 0x100;
        size_t i = f->out.n;
        flash_data(f, ROM_CMD_FLASH_DEFL_DATA, z + off, n, seq, rom_serial_checksum(z + off, n));
        expect_response(f, i, ROM_CMD_FLASH_DEFL_DATA, 0, 0);
    }
    assert_memory_equal(ota_nor_data(f->nor) + 0x30000, data, sizeof(data));
    /* the stub stays after FLASH_DEFL_END with "run user code" */
    uint8_t run[4] = {1, 0, 0, 0};
    assert_int_equal(command(f, ROM_CMD_FLASH_DEFL_END, run, 4, 0), ROM_SERIAL_CONTINUE);
    assert_true(f->rs.stub);
    teardown_chip(f);
}

static void test_read_flash_flow_control(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t pattern[0x3000];
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (uint8_t)(i ^ (i >> 8));
    }
    assert_int_equal(ota_nor_program(f->nor, 0x40000, pattern, sizeof(pattern)), OTA_OK);
    start_stub(f);
    size_t i = f->out.n;
    uint8_t d[16];
    put32(d, 0x40000);
    put32(d + 4, sizeof(pattern));
    put32(d + 8, 0x1000);
    put32(d + 12, 1); /* one packet in flight */
    command(f, ROM_CMD_READ_FLASH, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_READ_FLASH, 0, 0);
    assert_int_equal(f->out.n, i + 2); /* the first packet, then it waits */
    for (uint32_t k = 1; k <= 3; k++) {
        assert_int_equal(f->out.len[i + k], 0x1000);
        assert_memory_equal(f->out.frames[i + k], pattern + (k - 1) * 0x1000, 0x1000);
        uint8_t ack[4];
        put32(ack, k * 0x1000);
        feed_frame(f, ack, sizeof(ack));
    }
    uint8_t want[16];
    md5_of(f, 0x40000, sizeof(pattern), want);
    assert_int_equal(f->out.n, i + 5); /* three packets and the digest */
    assert_int_equal(f->out.len[i + 4], 16);
    assert_memory_equal(f->out.frames[i + 4], want, 16);
    teardown_chip(f);
}

static void test_erase_region_and_power_cut(void **state)
{
    (void)state;
    fixture_t *f = setup_chip(0);
    uint8_t zeros[64] = {0};
    assert_int_equal(ota_nor_program(f->nor, 0x50000, zeros, sizeof(zeros)), OTA_OK);
    size_t i = f->out.n;
    uint8_t d[8];
    put32(d, 0x50000);
    put32(d + 4, 0x1000);
    command(f, ROM_CMD_ERASE_REGION, d, sizeof(d), 0); /* stub only */
    expect_response(f, i, ROM_CMD_ERASE_REGION, 1, ROM_ERR_INVALID_MSG);
    start_stub(f);
    i = f->out.n;
    command(f, ROM_CMD_ERASE_REGION, d, sizeof(d), 0);
    expect_response(f, i, ROM_CMD_ERASE_REGION, 0, 0);
    assert_int_equal(ota_nor_data(f->nor)[0x50000], 0xFF);
    /* the power fails during the next erase: no answer, nothing more is answered */
    assert_int_equal(ota_nor_program(f->nor, 0x60000, zeros, sizeof(zeros)), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(f->nor, 1, OTA_NOR_CUT_BEFORE, 1), OTA_OK);
    put32(d, 0x60000);
    i = f->out.n;
    assert_int_equal(command(f, ROM_CMD_ERASE_REGION, d, sizeof(d), 0), ROM_SERIAL_POWER_LOSS);
    assert_int_equal(f->out.n, i);
    assert_int_equal(ota_nor_data(f->nor)[0x60000], 0x00);
    uint8_t sync[36] = {0x07, 0x07, 0x12, 0x20};
    memset(sync + 4, 0x55, 32);
    assert_int_equal(command(f, ROM_CMD_SYNC, sync, sizeof(sync), 0), ROM_SERIAL_POWER_LOSS);
    assert_int_equal(f->out.n, i);
    teardown_chip(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_answers_eight_times),
        cmocka_unit_test(test_chip_detection),
        cmocka_unit_test(test_spi_rdid_through_registers),
        cmocka_unit_test(test_flash_begin_data_end),
        cmocka_unit_test(test_checksum_and_sequence_errors),
        cmocka_unit_test(test_md5_rom_and_stub),
        cmocka_unit_test(test_compressed_write),
        cmocka_unit_test(test_read_flash_flow_control),
        cmocka_unit_test(test_erase_region_and_power_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
