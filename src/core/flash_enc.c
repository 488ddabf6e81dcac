/* ESP32 flash encryption: the key tweak, the block cipher, and the encrypting flash view. */
#include "ota/ota_flash_enc.h"
#include "ota/ota_err.h"

#include <string.h>

#define CHUNK 256u /* bytes decrypted or encrypted per step (a multiple of 32) */

/* The four quarters of the key that FLASH_CRYPT_CONFIG bits 0..3 tweak, as key bit indexes
 * counted from the most significant bit of key byte 0, and the highest address bit of the last
 * run of each quarter. */
static const uint16_t quarter_start[5] = {0, 67, 132, 195, 256};
static const uint8_t quarter_top[4] = {14, 12, 10, 8};

/* The address bit that flips key bit n: each quarter runs address bits 23..5 three times, then
 * from its own top bit down to 5. */
static unsigned tweak_bit(unsigned n, unsigned q)
{
    unsigned i = n - quarter_start[q];
    return i < 57 ? 23 - i % 19 : quarter_top[q] - (i - 57);
}

static void tweak_key(const uint8_t key[OTA_FLASH_ENC_KEY_LEN], uint8_t config, uint32_t addr,
                      uint8_t out[OTA_FLASH_ENC_KEY_LEN])
{
    memcpy(out, key, OTA_FLASH_ENC_KEY_LEN);
    for (unsigned q = 0; q < 4; q++) {
        if ((config & (1u << q)) == 0) {
            continue;
        }
        for (unsigned n = quarter_start[q]; n < quarter_start[q + 1]; n++) {
            if (addr & (1u << tweak_bit(n, q))) {
                out[n / 8] ^= (uint8_t)(0x80u >> (n % 8));
            }
        }
    }
}

static void reverse16(uint8_t *b)
{
    for (int i = 0; i < 8; i++) {
        uint8_t t = b[i];
        b[i] = b[15 - i];
        b[15 - i] = t;
    }
}

int ota_flash_enc_crypt(const ota_crypto_t *c, const uint8_t key[OTA_FLASH_ENC_KEY_LEN],
                        uint8_t config, bool decrypt, uint32_t addr, uint8_t *data, size_t len)
{
    if (c == NULL || key == NULL || (data == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (c->aes256_ecb == NULL) {
        return OTA_ERR_UNSUPPORTED;
    }
    if (addr % OTA_FLASH_ENC_BLOCK != 0 || len % OTA_FLASH_ENC_BLOCK != 0) {
        return OTA_ERR_ALIGN;
    }
    uint8_t k[OTA_FLASH_ENC_KEY_LEN];
    for (size_t done = 0; done < len; done += OTA_FLASH_ENC_BLOCK) {
        uint32_t at = addr + (uint32_t)done;
        if (done == 0 || at % 32 == 0) {
            tweak_key(key, config, at, k);
        }
        uint8_t *b = data + done;
        reverse16(b);
        /* the hardware runs AES backwards: writing flash is AES decryption */
        if (c->aes256_ecb(c->ctx, k, !decrypt, b, b, OTA_FLASH_ENC_BLOCK) != 0) {
            return OTA_ERR_FAIL;
        }
        reverse16(b);
    }
    return OTA_OK;
}

bool ota_flash_enc_part_encrypted(const ota_part_t *p)
{
    if (p->flags & OTA_PART_FLAG_ENCRYPTED) {
        return true;
    }
    switch (p->type) {
    case OTA_PART_TYPE_APP:
    case OTA_PART_TYPE_BOOTLOADER:
    case OTA_PART_TYPE_PARTITION_TABLE:
        return true;
    case OTA_PART_TYPE_DATA:
        return p->subtype == OTA_PART_SUBTYPE_DATA_OTA ||
               p->subtype == OTA_PART_SUBTYPE_DATA_NVS_KEYS ||
               p->subtype == OTA_PART_SUBTYPE_DATA_TEE_OTA;
    default:
        return false;
    }
}

bool ota_flash_enc_covers(const ota_flash_enc_t *e, uint32_t addr)
{
    for (size_t i = 0; i < e->n_ranges; i++) {
        if (addr >= e->ranges[i].start && addr < e->ranges[i].end) {
            return true;
        }
    }
    return false;
}

/* The end of the run of addresses from addr that are all encrypted (*enc) or all plain. */
static uint32_t run_end(const ota_flash_enc_t *e, uint32_t addr, bool *enc)
{
    *enc = false;
    uint32_t end = e->view.flash.size;
    for (size_t i = 0; i < e->n_ranges; i++) {
        const ota_flash_enc_range_t *r = &e->ranges[i];
        if (addr >= r->start && addr < r->end) {
            *enc = true;
            return r->end; /* another range may continue it: the caller asks again */
        }
        if (r->start > addr && r->start < end) {
            end = r->start;
        }
    }
    return end;
}

int ota_flash_enc_read(const ota_flash_enc_t *e, uint32_t addr, void *dst, uint32_t len)
{
    uint8_t buf[CHUNK];
    uint8_t *out = dst;
    while (len > 0) {
        uint32_t base = addr & ~(OTA_FLASH_ENC_BLOCK - 1);
        uint32_t skip = addr - base;
        uint32_t span = CHUNK - skip < len ? CHUNK - skip : len;
        uint32_t whole = (skip + span + OTA_FLASH_ENC_BLOCK - 1) & ~(OTA_FLASH_ENC_BLOCK - 1);
        int err = ota_flash_read(e->view.below, base, buf, whole);
        if (err == OTA_OK && !e->is_virtual) {
            err = ota_flash_enc_crypt(e->crypto, e->key, e->config, true, base, buf, whole);
        }
        if (err != OTA_OK) {
            return err;
        }
        memcpy(out, buf + skip, span);
        out += span;
        addr += span;
        len -= span;
    }
    return OTA_OK;
}

int ota_flash_enc_write(const ota_flash_enc_t *e, uint32_t addr, const void *src, uint32_t len)
{
    if (addr % OTA_FLASH_ENC_BLOCK != 0 || len % OTA_FLASH_ENC_BLOCK != 0) {
        return OTA_ERR_ALIGN;
    }
    uint8_t buf[CHUNK];
    const uint8_t *in = src;
    while (len > 0) {
        uint32_t n = len < CHUNK ? len : CHUNK;
        memcpy(buf, in, n);
        int err = e->is_virtual
                      ? OTA_OK
                      : ota_flash_enc_crypt(e->crypto, e->key, e->config, false, addr, buf, n);
        if (err == OTA_OK) {
            err = ota_flash_program(e->view.below, addr, buf, n);
        }
        if (err != OTA_OK) {
            return err;
        }
        in += n;
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

static int view_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    const ota_flash_enc_t *e = ctx;
    uint8_t *out = dst;
    while (len > 0) {
        bool enc = false;
        uint32_t end = run_end(e, addr, &enc);
        uint32_t n = end - addr < len ? end - addr : len;
        int err =
            enc ? ota_flash_enc_read(e, addr, out, n) : ota_flash_read(e->view.below, addr, out, n);
        if (err != OTA_OK) {
            return err;
        }
        out += n;
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

static int view_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    const ota_flash_enc_t *e = ctx;
    const uint8_t *in = src;
    while (len > 0) {
        bool enc = false;
        uint32_t end = run_end(e, addr, &enc);
        uint32_t n = end - addr < len ? end - addr : len;
        int err = enc ? ota_flash_enc_write(e, addr, in, n)
                      : ota_flash_program(e->view.below, addr, in, n);
        if (err != OTA_OK) {
            return err;
        }
        in += n;
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

int ota_flash_enc_add_range(ota_flash_enc_t *e, uint32_t start, uint32_t len)
{
    if (e->n_ranges == OTA_FLASH_ENC_MAX_RANGES) {
        return OTA_ERR_NO_SPACE;
    }
    uint32_t end = len > UINT32_MAX - start ? UINT32_MAX : start + len;
    e->ranges[e->n_ranges].start = start;
    e->ranges[e->n_ranges].end = end;
    e->n_ranges++;
    return OTA_OK;
}

static int init_view(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                     const uint8_t key[OTA_FLASH_ENC_KEY_LEN], uint8_t config,
                     uint32_t bootloader_offset, uint32_t table_offset, bool is_virtual)
{
    if (e == NULL || raw == NULL || c == NULL || key == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(e, 0, sizeof(*e));
    e->is_virtual = is_virtual;
    ota_flash_view_init(&e->view, raw, view_read, view_program);
    e->crypto = c;
    memcpy(e->key, key, OTA_FLASH_ENC_KEY_LEN);
    e->config = config;
    if (table_offset > bootloader_offset) {
        ota_flash_enc_add_range(e, bootloader_offset, table_offset - bootloader_offset);
    }
    ota_flash_enc_add_range(e, table_offset, OTA_FLASH_SECTOR_SIZE);
    ota_part_table_t table;
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    if (ota_part_table_read_raw(&e->view.flash, table_offset, buf) != OTA_OK ||
        ota_part_table_load(c, buf, false, &table, NULL) != OTA_OK) {
        return OTA_OK;
    }
    for (int i = 0; i < table.count; i++) {
        const ota_part_t *p = &table.parts[i];
        if (ota_flash_enc_part_encrypted(p)) {
            ota_flash_enc_add_range(e, p->offset, p->size);
        }
    }
    return OTA_OK;
}

int ota_flash_enc_init(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                       const uint8_t key[OTA_FLASH_ENC_KEY_LEN], uint8_t config,
                       uint32_t bootloader_offset, uint32_t table_offset)
{
    return init_view(e, raw, c, key, config, bootloader_offset, table_offset, false);
}

int ota_flash_enc_init_virtual(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                               uint32_t bootloader_offset, uint32_t table_offset)
{
    static const uint8_t none[OTA_FLASH_ENC_KEY_LEN] = {0};
    return init_view(e, raw, c, none, 0, bootloader_offset, table_offset, true);
}

bool ota_flash_enc_from_efuse(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                              const ota_efuse_t *fuses, bool efuse_virtual,
                              uint32_t bootloader_offset, uint32_t table_offset)
{
    ota_efuse_flash_crypt_t fc;
    if (fuses == NULL || fuses->read_flash_crypt == NULL ||
        fuses->read_flash_crypt(fuses->ctx, &fc) != OTA_OK || !ota_efuse_flash_crypt_on(&fc)) {
        return false;
    }
    if (efuse_virtual) {
        return ota_flash_enc_init_virtual(e, raw, c, bootloader_offset, table_offset) == OTA_OK;
    }
    return c != NULL && c->aes256_ecb != NULL &&
           ota_flash_enc_init(e, raw, c, fc.key, fc.config, bootloader_offset, table_offset) ==
               OTA_OK;
}
