/*
 * Power-loss sweep of an update written through the board's serial port, as esptool and
 * otatool.py write it: the chip is in ROM download mode (factory app in flash, otadata blank),
 * the host uploads the flasher stub, writes the new app into ota_0 with compressed blocks
 * (FLASH_DEFL_BEGIN / DATA), checks it with SPI_FLASH_MD5, then writes otadata selecting ota_0
 * (`otatool.py switch_ota_partition`, which rewrites the whole otadata partition through
 * esptool), and resets the chip. Commands go through the same protocol state machine as the
 * board's serial port (rom_serial.c); the cut is armed in the flash under it.
 *
 * A cut at any flash operation, clean or torn, must leave a board whose bootloader boots a
 * verified app: the factory app (old) or the new app in ota_0 (new).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "rom_serial.h"
#include "sweep.h"

#define OLD_VERSION "factory-1"
#define NEW_VERSION "serial-2"
#define FACTORY_OFFSET 0x10000u
#define OTA0_OFFSET 0x110000u
#define OTADATA_OFFSET 0xD000u
#define OTADATA_SIZE 0x2000u
#define STUB_BLOCK 0x4000u /* esptool's FLASH_WRITE_SIZE with the stub */

typedef struct {
    uint8_t *image; /* the new app image */
    uint32_t len;
} serial_data_t;

/* The host's side of the line: the last answer's status, and whether the chip still answers. */
typedef struct host {
    rom_serial_t rs;
    uint8_t frame[96]; /* the frame being received */
    size_t frame_len;
    uint8_t answer[96]; /* the last response frame (the stub's greeting is not one) */
    size_t answer_len;
    bool in, esc;
    bool off;
    bool failed;
} host_t;

static void host_receive(void *ctx, const void *data, size_t n)
{
    host_t *h = ctx;
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0xC0) {
            if (h->in && h->frame_len > 0 && h->frame[0] == 0x01) {
                memcpy(h->answer, h->frame, h->frame_len);
                h->answer_len = h->frame_len;
            }
            h->in = !h->in;
            h->frame_len = 0;
            h->esc = false;
            continue;
        }
        uint8_t c = p[i];
        if (h->esc) {
            c = c == 0xDC ? 0xC0 : 0xDB;
            h->esc = false;
        } else if (c == 0xDB) {
            h->esc = true;
            continue;
        }
        if (h->in && h->frame_len < sizeof(h->frame)) {
            h->frame[h->frame_len++] = c;
        }
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Sends one command frame; returns true if the chip answered it with success. */
static bool host_cmd(host_t *h, uint8_t op, const uint8_t *data, uint32_t n, uint32_t chk)
{
    static uint8_t frame[2 * (STUB_BLOCK + 64) + 2];
    uint8_t head[8] = {0x00, op, (uint8_t)n, (uint8_t)(n >> 8)};
    size_t k = 0;
    put32(head + 4, chk);
    frame[k++] = 0xC0;
    for (uint32_t i = 0; i < 8 + n; i++) {
        uint8_t c = i < 8 ? head[i] : data[i - 8];
        if (c == 0xC0 || c == 0xDB) {
            frame[k++] = 0xDB;
            frame[k++] = c == 0xC0 ? 0xDC : 0xDD;
        } else {
            frame[k++] = c;
        }
    }
    frame[k++] = 0xC0;
    h->answer_len = 0;
    if (rom_serial_input(&h->rs, frame, k, NULL) == ROM_SERIAL_POWER_LOSS) {
        h->off = true;
        return false;
    }
    size_t nstat = h->rs.stub ? 2 : 4;
    bool ok =
        h->answer_len >= 8 + nstat && h->answer[1] == op && h->answer[h->answer_len - nstat] == 0;
    h->failed |= !ok;
    return ok;
}

/* SYNC, then the stub's upload (its bytes are not run: the loader answers as the stub). */
static bool host_connect(host_t *h)
{
    uint8_t sync[36] = {0x07, 0x07, 0x12, 0x20};
    memset(sync + 4, 0x55, 32);
    uint8_t begin[16], end[8], block[16 + 64];
    put32(begin, sizeof(block) - 16);
    put32(begin + 4, 1);
    put32(begin + 8, sizeof(block) - 16);
    put32(begin + 12, 0x4009F000u);
    memset(block, 0, sizeof(block));
    put32(block, sizeof(block) - 16);
    put32(end, 0);
    put32(end + 4, 0x4009F000u);
    return host_cmd(h, ROM_CMD_SYNC, sync, sizeof(sync), 0) &&
           host_cmd(h, ROM_CMD_MEM_BEGIN, begin, sizeof(begin), 0) &&
           host_cmd(h, ROM_CMD_MEM_DATA, block, sizeof(block),
                    rom_serial_checksum(block + 16, sizeof(block) - 16)) &&
           host_cmd(h, ROM_CMD_MEM_END, end, sizeof(end), 0);
}

/* esptool write_flash of one file, compressed, with the MD5 check of what was written. */
static bool host_write(host_t *h, uint32_t offset, const uint8_t *data, uint32_t len)
{
    uLongf zlen = compressBound(len);
    uint8_t *z = malloc(zlen);
    if (z == NULL || compress2(z, &zlen, data, len, 9) != Z_OK) {
        free(z);
        h->failed = true;
        return false;
    }
    uint32_t blocks = (uint32_t)((zlen + STUB_BLOCK - 1) / STUB_BLOCK);
    uint8_t begin[16];
    put32(begin, len);
    put32(begin + 4, blocks);
    put32(begin + 8, STUB_BLOCK);
    put32(begin + 12, offset);
    bool ok = host_cmd(h, ROM_CMD_FLASH_DEFL_BEGIN, begin, sizeof(begin), 0);
    static uint8_t block[16 + STUB_BLOCK];
    for (uint32_t seq = 0; ok && seq < blocks; seq++) {
        uint32_t n =
            (uint32_t)(zlen - seq * STUB_BLOCK < STUB_BLOCK ? zlen - seq * STUB_BLOCK : STUB_BLOCK);
        memset(block, 0, 16);
        put32(block, n);
        put32(block + 4, seq);
        memcpy(block + 16, z + seq * STUB_BLOCK, n);
        ok =
            host_cmd(h, ROM_CMD_FLASH_DEFL_DATA, block, 16 + n, rom_serial_checksum(block + 16, n));
    }
    free(z);
    uint8_t md5q[16] = {0};
    put32(md5q, offset);
    put32(md5q + 4, len);
    ok = ok && host_cmd(h, ROM_CMD_SPI_FLASH_MD5, md5q, sizeof(md5q), 0);
    uint8_t want[16];
    const ota_crypto_t *c = ota_crypto_openssl();
    void *hs = c->hash_start(c->ctx, OTA_HASH_MD5);
    c->hash_update(hs, data, len);
    c->hash_finish(hs, want);
    if (ok && memcmp(h->answer + 8, want, sizeof(want)) != 0) {
        h->failed = true;
        return false;
    }
    return ok;
}

static void setup(sweep_t *s)
{
    serial_data_t *d = calloc(1, sizeof(*d));
    s->user = d;
    ota_part_table_t table;
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_part_builtin_table("two_ota", NULL, &table, NULL);
    ota_part_table_encode(ota_crypto_openssl(), &table, bin, NULL);
    sweep_write(s, OTA_PART_TABLE_OFFSET_DEFAULT, bin, sizeof(bin));
    uint8_t *img;
    uint32_t len;
    sweep_pack_bootloader(s, NULL, NULL, &img, &len);
    sweep_write(s, s->chip->bootloader_offset, img, len);
    free(img);
    sweep_pack_app(s, "app", OLD_VERSION, "", 8192, 1, &img, &len);
    sweep_write(s, FACTORY_OFFSET, img, len);
    free(img);
    sweep_pack_app(s, "app", NEW_VERSION, "", s->full ? 256 * 1024 : 24 * 1024, 2, &d->image,
                   &d->len);
}

/* The host's session: connect, write the app, switch otadata to ota_0, end as esptool does
 * after write_flash with the stub (FLASH_BEGIN of nothing, FLASH_DEFL_END staying in the stub),
 * then the hard reset (the next boot). */
static void play(sweep_t *s)
{
    serial_data_t *d = s->user;
    static host_t h;
    memset(&h, 0, sizeof(h));
    rom_serial_config_t cfg = {
        .flash = s->flash,
        .crypto = ota_crypto_openssl(),
        .chip_id = s->chip->id,
        .chip_rev = 300,
        .send = host_receive,
        .send_ctx = &h,
    };
    rom_serial_init(&h.rs, &cfg);
    static uint8_t otadata[OTADATA_SIZE];
    ota_otadata_blank(otadata, sizeof(otadata));
    ota_otadata_tool_switch(otadata, sizeof(otadata), 0, 2, NULL, NULL);
    uint8_t nothing[16] = {0}, stay[4];
    put32(stay, 1);
    bool ok = host_connect(&h) && host_write(&h, OTA0_OFFSET, d->image, d->len) &&
              host_write(&h, OTADATA_OFFSET, otadata, sizeof(otadata)) &&
              host_cmd(&h, ROM_CMD_FLASH_DEFL_BEGIN, nothing, sizeof(nothing), 0) &&
              host_cmd(&h, ROM_CMD_FLASH_DEFL_END, stay, sizeof(stay), 0);
    rom_serial_free(&h.rs);
    /* A damaged chip may refuse the session (esptool then stops, as here): the board must still
     * boot a verified app. A perfect chip refuses nothing. */
    if (!ok && !h.off && ota_nor_state(s->nor)->faults.injected == 0) {
        printf("serial: the chip refused a command of the session (no power cut)\n");
        exit(1);
    }
}

/* Classifies one boot: 0 factory app, 1 new app in ota_0, -1 bricked, -2 other. */
static int classify(sweep_t *s, bool booted, const sweep_boot_t *b, char *why)
{
    if (!booted) {
        snprintf(why, 64, "no verified app boots (ROM %s, bootloader outcome %d)",
                 b->rom_ok ? "ok" : "failed", (int)b->res.outcome);
        return -1;
    }
    const char *v = sweep_running_version(s, b);
    if (strcmp(v, OLD_VERSION) == 0 && b->res.part.offset == FACTORY_OFFSET) {
        return 0;
    }
    if (strcmp(v, NEW_VERSION) == 0 && b->res.part.offset == OTA0_OFFSET) {
        return 1;
    }
    snprintf(why, 64, "booted version '%s' at 0x%x", v, (unsigned)b->res.part.offset);
    return -2;
}

/* After the reset: the bootloader boots a verified app, and again on the next boot. */
static int settle(sweep_t *s, char *why)
{
    sweep_boot_t b;
    bool ok = sweep_boot(s, &b);
    int first = classify(s, ok, &b, why);
    if (first < 0) {
        return first;
    }
    ok = sweep_boot(s, &b);
    int second = classify(s, ok, &b, why);
    if (second != first && second >= 0) {
        snprintf(why, 64, "the second boot ran another app");
        return -2;
    }
    return second;
}

static void cleanup(sweep_t *s)
{
    serial_data_t *d = s->user;
    free(d->image);
}

static const sweep_scenario_t scenario = {
    .name = "serial",
    .setup = setup,
    .play = play,
    .settle = settle,
    .cleanup = cleanup,
    .bricks_allowed = false,
};

int main(int argc, char **argv)
{
    return sweep_main(&scenario, argc, argv);
}
