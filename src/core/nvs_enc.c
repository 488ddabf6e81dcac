/* Encrypted NVS: the XTS view over one NVS partition and the nvs_keys record. */
#include "ota/ota_nvs_enc.h"
#include "ota/ota_err.h"
#include "ota/ota_otadata.h"
#include "ota_le.h"

#include <string.h>

/* True when the unit at addr (a multiple of 32 inside the partition) is an entry: encrypted. */
static bool is_entry(const ota_nvs_enc_t *e, uint32_t addr)
{
    return addr >= e->base && addr - e->base < e->size &&
           (addr - e->base) % OTA_FLASH_SECTOR_SIZE >= OTA_NVS_ENC_PLAIN_HEAD;
}

static int unit_crypt(const ota_nvs_enc_t *e, bool decrypt, uint32_t addr, uint8_t *unit)
{
    uint8_t tweak[16] = {0};
    ota_put_le32(tweak, addr - e->base);
    return e->crypto->aes256_xts(e->crypto->ctx, e->key, decrypt, tweak, unit, unit,
                                 OTA_NVS_ENC_UNIT) == 0
               ? OTA_OK
               : OTA_ERR_FAIL;
}

static bool erased(const uint8_t *unit)
{
    for (uint32_t i = 0; i < OTA_NVS_ENC_UNIT; i++) {
        if (unit[i] != 0xFF) {
            return false;
        }
    }
    return true;
}

static int view_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    const ota_nvs_enc_t *e = ctx;
    uint8_t *out = dst;
    while (len > 0) {
        uint32_t unit = addr & ~(OTA_NVS_ENC_UNIT - 1);
        uint32_t skip = addr - unit;
        uint32_t n = OTA_NVS_ENC_UNIT - skip < len ? OTA_NVS_ENC_UNIT - skip : len;
        if (!is_entry(e, unit)) {
            int err = ota_flash_read(e->view.below, addr, out, n);
            if (err != OTA_OK) {
                return err;
            }
        } else {
            uint8_t buf[OTA_NVS_ENC_UNIT];
            int err = ota_flash_read(e->view.below, unit, buf, sizeof(buf));
            if (err == OTA_OK && !erased(buf)) {
                err = unit_crypt(e, true, unit, buf);
            }
            if (err != OTA_OK) {
                return err;
            }
            memcpy(out, buf + skip, n);
        }
        out += n;
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

static int view_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    const ota_nvs_enc_t *e = ctx;
    const uint8_t *in = src;
    while (len > 0) {
        uint32_t unit = addr & ~(OTA_NVS_ENC_UNIT - 1);
        uint32_t n = unit + OTA_NVS_ENC_UNIT - addr < len ? unit + OTA_NVS_ENC_UNIT - addr : len;
        int err;
        if (!is_entry(e, unit)) {
            err = ota_flash_program(e->view.below, addr, in, n);
        } else if (unit != addr || n != OTA_NVS_ENC_UNIT) {
            err = OTA_ERR_ALIGN; /* entries are written whole */
        } else {
            uint8_t buf[OTA_NVS_ENC_UNIT];
            memcpy(buf, in, sizeof(buf));
            err = unit_crypt(e, false, unit, buf);
            if (err == OTA_OK) {
                err = ota_flash_program(e->view.below, unit, buf, sizeof(buf));
            }
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

int ota_nvs_enc_init(ota_nvs_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                     const uint8_t key[OTA_NVS_ENC_KEY_LEN], uint32_t base, uint32_t size)
{
    if (e == NULL || raw == NULL || c == NULL || key == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (c->aes256_xts == NULL) {
        return OTA_ERR_UNSUPPORTED;
    }
    memset(e, 0, sizeof(*e));
    ota_flash_view_init(&e->view, raw, view_read, view_program);
    e->crypto = c;
    memcpy(e->key, key, OTA_NVS_ENC_KEY_LEN);
    e->base = base;
    e->size = size;
    return OTA_OK;
}

int ota_nvs_enc_decrypt_image(const ota_crypto_t *c, const uint8_t key[OTA_NVS_ENC_KEY_LEN],
                              uint8_t *buf, uint32_t len)
{
    ota_nvs_enc_t e;
    ota_flash_t none;
    memset(&none, 0, sizeof(none));
    int err = ota_nvs_enc_init(&e, &none, c, key, 0, len);
    for (uint32_t a = 0; err == OTA_OK && len >= OTA_NVS_ENC_UNIT && a <= len - OTA_NVS_ENC_UNIT;
         a += OTA_NVS_ENC_UNIT) {
        if (is_entry(&e, a) && !erased(buf + a)) {
            err = unit_crypt(&e, true, a, buf + a);
        }
    }
    return err;
}

void ota_nvs_enc_keys_encode(const uint8_t key[OTA_NVS_ENC_KEY_LEN],
                             uint8_t rec[OTA_NVS_ENC_KEYS_REC])
{
    memcpy(rec, key, OTA_NVS_ENC_KEY_LEN);
    ota_put_le32(rec + OTA_NVS_ENC_KEY_LEN,
                 ota_otadata_crc32(0xFFFFFFFFu, key, OTA_NVS_ENC_KEY_LEN));
}

bool ota_nvs_enc_keys_ok(const uint8_t rec[OTA_NVS_ENC_KEYS_REC])
{
    return ota_get_le32(rec + OTA_NVS_ENC_KEY_LEN) ==
           ota_otadata_crc32(0xFFFFFFFFu, rec, OTA_NVS_ENC_KEY_LEN);
}
