/* Emulated eFuse block in the efuse partition or in a sidecar file. */
#include "ota/ota_efuse_store.h"
#include "ota_le.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORD_SECURE_VERSION 0
#define WORD_RECOVERY_SECTOR 4
#define FIELD_MAC 8
#define FIELD_CRYPT_CNT 14
#define FIELD_CRYPT_CONFIG 15
#define FIELD_SECURE_BOOT 16 /* bit 0 ABS_DONE_1, bit 1 UART_DOWNLOAD_DIS */
#define FIELD_KEY 32
#define FIELD_BLK2 64

int ota_efuse_store_read_block(const ota_efuse_store_t *s, uint8_t block[OTA_EFUSE_BLOCK_LEN])
{
    if (s->flash != NULL) {
        return ota_flash_read(s->flash, s->offset, block, OTA_EFUSE_BLOCK_LEN);
    }
    memset(block, 0xFF, OTA_EFUSE_BLOCK_LEN);
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? OTA_OK : OTA_ERR_IO;
    }
    ssize_t n = pread(fd, block, OTA_EFUSE_BLOCK_LEN, 0);
    close(fd);
    if (n < 0) {
        return OTA_ERR_IO;
    }
    if (n < (ssize_t)OTA_EFUSE_BLOCK_LEN) {
        memset(block + n, 0xFF, OTA_EFUSE_BLOCK_LEN - (size_t)n);
    }
    return OTA_OK;
}

int ota_efuse_store_read_mac(const ota_efuse_store_t *s, uint8_t mac[6])
{
    static const uint8_t def[6] = OTA_EFUSE_DEFAULT_MAC;
    uint8_t block[OTA_EFUSE_BLOCK_LEN];
    int err = ota_efuse_store_read_block(s, block);
    if (err != OTA_OK) {
        return err;
    }
    uint8_t any = 0;
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)~block[FIELD_MAC + i];
        any |= mac[i];
    }
    if (any == 0) {
        memcpy(mac, def, sizeof(def));
    }
    return OTA_OK;
}

/* Burns the bits set in bits[0..n) into the field at off (programs their inverse). */
static int burn_bytes(ota_efuse_store_t *s, uint32_t off, const uint8_t *bits, uint32_t n)
{
    uint8_t raw[OTA_EFUSE_BLOCK_LEN];
    for (uint32_t i = 0; i < n; i++) {
        raw[i] = (uint8_t)~bits[i];
    }
    if (s->flash != NULL) {
        return ota_flash_program(s->flash, s->offset + off, raw, n);
    }
    int fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return OTA_ERR_IO;
    }
    uint8_t file[OTA_EFUSE_SIDECAR_LEN];
    ssize_t got = pread(fd, file, sizeof(file), 0);
    if (got < 0) {
        close(fd);
        return OTA_ERR_IO;
    }
    memset(file + got, 0xFF, sizeof(file) - (size_t)got);
    for (uint32_t i = 0; i < n; i++) {
        file[off + i] &= raw[i];
    }
    int err = pwrite(fd, file, sizeof(file), 0) == (ssize_t)sizeof(file) ? OTA_OK : OTA_ERR_IO;
    if (close(fd) != 0) {
        err = OTA_ERR_IO;
    }
    return err;
}

/* Burns the bits set in `bits` into the word at off. */
static int burn_word(ota_efuse_store_t *s, uint32_t off, uint32_t bits)
{
    uint8_t le[4];
    ota_put_le32(le, bits);
    return burn_bytes(s, off, le, sizeof(le));
}

static int read_word(ota_efuse_store_t *s, uint32_t off, uint32_t *out)
{
    uint8_t block[OTA_EFUSE_BLOCK_LEN];
    int err = ota_efuse_store_read_block(s, block);
    if (err == OTA_OK) {
        *out = ~ota_get_le32(block + off);
    }
    return err;
}

static int read_secure_version(void *ctx, uint32_t *out)
{
    ota_efuse_store_t *s = ctx;
    uint32_t bits = 0;
    int err = read_word(s, WORD_SECURE_VERSION, &bits);
    if (err == OTA_OK) {
        uint32_t mask = s->field_bits >= 32 ? 0xFFFFFFFFu : ((1u << s->field_bits) - 1u);
        *out = (uint32_t)__builtin_popcount(bits & mask);
    }
    return err;
}

static int write_secure_version(void *ctx, uint32_t version)
{
    ota_efuse_store_t *s = ctx;
    if (version > s->field_bits) {
        return OTA_ERR_INVALID_ARG;
    }
    uint32_t current = 0;
    int err = read_secure_version(ctx, &current);
    if (err != OTA_OK || version <= current) {
        return err;
    }
    uint32_t bits = version >= 32 ? 0xFFFFFFFFu : ((1u << version) - 1u);
    return burn_word(s, WORD_SECURE_VERSION, bits);
}

static int read_recovery_offset(void *ctx, uint32_t *out)
{
    uint32_t sector = 0;
    int err = read_word(ctx, WORD_RECOVERY_SECTOR, &sector);
    if (err == OTA_OK) {
        *out = sector * 0x1000u;
    }
    return err;
}

static int write_recovery_offset(void *ctx, uint32_t offset)
{
    if (offset % 0x1000u != 0) {
        return OTA_ERR_ALIGN;
    }
    return burn_word(ctx, WORD_RECOVERY_SECTOR, offset / 0x1000u);
}

static int read_flash_crypt(void *ctx, ota_efuse_flash_crypt_t *out)
{
    uint8_t block[OTA_EFUSE_BLOCK_LEN];
    int err = ota_efuse_store_read_block(ctx, block);
    if (err != OTA_OK) {
        return err;
    }
    out->cnt = (uint8_t)(~block[FIELD_CRYPT_CNT] & 0x7Fu);
    out->config = (uint8_t)(~block[FIELD_CRYPT_CONFIG] & 0x0Fu);
    for (int i = 0; i < 32; i++) {
        out->key[i] = (uint8_t)~block[FIELD_KEY + i];
    }
    return OTA_OK;
}

int ota_efuse_store_enable_flash_crypt(ota_efuse_store_t *s, const uint8_t key[32], uint8_t config)
{
    ota_efuse_flash_crypt_t fc;
    int err = read_flash_crypt(s, &fc);
    if (err != OTA_OK) {
        return err;
    }
    for (int i = 0; i < 32; i++) {
        if ((fc.key[i] & ~key[i]) != 0) {
            return OTA_ERR_STATE; /* another key is burnt: its bits cannot be cleared */
        }
    }
    if (ota_efuse_flash_crypt_on(&fc)) {
        return memcmp(fc.key, key, 32) == 0 ? OTA_OK : OTA_ERR_STATE;
    }
    uint8_t cfg = (uint8_t)(config & 0x0Fu);
    uint8_t cnt = (uint8_t)(fc.cnt | (uint8_t)((fc.cnt + 1u) & ~fc.cnt)); /* one more bit */
    err = burn_bytes(s, FIELD_KEY, key, 32);
    if (err == OTA_OK) {
        err = burn_bytes(s, FIELD_CRYPT_CONFIG, &cfg, 1);
    }
    return err == OTA_OK ? burn_bytes(s, FIELD_CRYPT_CNT, &cnt, 1) : err;
}

static int read_secure_boot(void *ctx, ota_efuse_secure_boot_t *out)
{
    uint8_t block[OTA_EFUSE_BLOCK_LEN];
    int err = ota_efuse_store_read_block(ctx, block);
    if (err != OTA_OK) {
        return err;
    }
    uint8_t flags = (uint8_t)~block[FIELD_SECURE_BOOT];
    out->enabled = (flags & OTA_EFUSE_ABS_DONE_1) != 0;
    out->download_disabled = (flags & OTA_EFUSE_UART_DOWNLOAD_DIS) != 0;
    out->digest_burnt = false;
    for (int i = 0; i < 32; i++) {
        out->digest[i] = (uint8_t)~block[FIELD_BLK2 + i];
        out->digest_burnt |= out->digest[i] != 0;
    }
    return OTA_OK;
}

/* Burns the key digest into BLK2 (an empty block only), then the flags. */
static int burn_secure_boot(void *ctx, const uint8_t *digest, uint8_t flags)
{
    ota_efuse_secure_boot_t sb;
    int err = read_secure_boot(ctx, &sb);
    if (err != OTA_OK) {
        return err;
    }
    if (digest != NULL && sb.digest_burnt && memcmp(sb.digest, digest, 32) != 0) {
        return OTA_ERR_STATE; /* another digest is burnt */
    }
    if (digest != NULL && !sb.digest_burnt) {
        err = burn_bytes(ctx, FIELD_BLK2, digest, 32);
    }
    return err == OTA_OK && flags != 0 ? burn_bytes(ctx, FIELD_SECURE_BOOT, &flags, 1) : err;
}

static void fill_ops(ota_efuse_store_t *s)
{
    s->ops.ctx = s;
    s->ops.read_secure_version = read_secure_version;
    s->ops.write_secure_version = write_secure_version;
    s->ops.read_recovery_offset = read_recovery_offset;
    s->ops.write_recovery_offset = write_recovery_offset;
    s->ops.read_flash_crypt = read_flash_crypt;
    s->ops.read_secure_boot = read_secure_boot;
    s->ops.burn_secure_boot = burn_secure_boot;
}

int ota_efuse_store_flash(ota_efuse_store_t *s, const ota_flash_t *f, uint32_t offset,
                          uint32_t field_bits)
{
    if (s == NULL || f == NULL || field_bits == 0 || field_bits > 32) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(s, 0, sizeof(*s));
    s->flash = f;
    s->offset = offset;
    s->field_bits = field_bits;
    fill_ops(s);
    return OTA_OK;
}

int ota_efuse_store_file(ota_efuse_store_t *s, const char *path, uint32_t field_bits)
{
    if (s == NULL || path == NULL || field_bits == 0 || field_bits > 32 ||
        strlen(path) >= sizeof(s->path)) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->field_bits = field_bits;
    fill_ops(s);
    return OTA_OK;
}
