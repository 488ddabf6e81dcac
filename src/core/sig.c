/*
 * Signed app images: signature block codecs and the app-side verification of ESP-IDF v5.5
 * (secure_boot_signatures_app.c for V2, secure_boot_v1's app verifier for V1), spec 8.1.
 */
#include "ota/ota_sig.h"

#include <string.h>

#include "ota/ota_err.h"
#include "ota/ota_img.h"
#include "ota_le.h"

#define TAG_V2 "secure_boot_v2"
#define TAG_V1 "secure_boot_v1"
#define MBEDTLS_RSA_VERIFY_FAILED (-0x4380)
#define MBEDTLS_ECP_VERIFY_FAILED (-0x4E00)

_Static_assert(1 + 1 + 2 + 32 + OTA_SIG_RSA_KEY_LEN + OTA_SIG_RSA_LEN + 4 + 16 == OTA_SIG_BLOCK_LEN,
               "RSA block layout");
_Static_assert(4 + 64 == OTA_SIG_V1_LEN, "esp_secure_boot_sig_block_t");

uint32_t ota_sig_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

bool ota_sig_block_valid(const uint8_t *blk)
{
    return blk != NULL && blk[0] == OTA_SIG_BLOCK_MAGIC &&
           ota_sig_crc32(blk, OTA_SIG_BLOCK_CRC_LEN) == ota_get_le32(blk + OTA_SIG_BLOCK_CRC_LEN);
}

const char *ota_sig_scheme_name(int block_version)
{
    switch (block_version) {
    case OTA_SIG_V2_RSA:
        return "RSA";
    case 0:
    case OTA_SIG_V2_ECDSA:
        return "ECDSA";
    default:
        return "Unknown";
    }
}

int ota_sig_block_version(ota_sig_scheme_t scheme)
{
    return scheme == OTA_SIG_SCHEME_V2_RSA     ? OTA_SIG_V2_RSA
           : scheme == OTA_SIG_SCHEME_V2_ECDSA ? OTA_SIG_V2_ECDSA
                                               : 0;
}

int ota_sig_key_digest(const ota_crypto_t *c, const uint8_t *blk, uint8_t out[32])
{
    if (c == NULL || blk == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    size_t len = blk[1] == OTA_SIG_V2_ECDSA ? OTA_SIG_ECDSA_KEY_LEN : OTA_SIG_RSA_KEY_LEN;
    return ota_hash(c, OTA_HASH_SHA256, blk + 36, len, out);
}

/* Copies n bytes reversed (the blocks store numbers little-endian). */
static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[n - 1 - i];
    }
}

int ota_sig_block_check(const ota_crypto_t *c, const uint8_t *blk, const uint8_t digest[32])
{
    if (c == NULL || blk == NULL || digest == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (c->sig_verify == NULL) {
        return OTA_ERR_UNSUPPORTED;
    }
    if (blk[1] == OTA_SIG_V2_RSA) {
        uint8_t key[OTA_SIG_RSA_LEN + 4];
        uint8_t sig[OTA_SIG_RSA_LEN];
        reverse(key, blk + 36, OTA_SIG_RSA_LEN);
        reverse(key + OTA_SIG_RSA_LEN, blk + 36 + OTA_SIG_RSA_LEN, 4);
        reverse(sig, blk + 812, OTA_SIG_RSA_LEN);
        return c->sig_verify(c->ctx, OTA_SIG_RSA_PSS_SHA256, key, sizeof(key), digest, sig,
                             sizeof(sig));
    }
    if (blk[1] == OTA_SIG_V2_ECDSA && blk[2] == 0 && blk[36] == OTA_SIG_CURVE_P256) {
        uint8_t key[64];
        uint8_t sig[64];
        reverse(key, blk + 37, 32);
        reverse(key + 32, blk + 69, 32);
        reverse(sig, blk + 101, 32);
        reverse(sig + 32, blk + 133, 32);
        return c->sig_verify(c->ctx, OTA_SIG_ECDSA_P256_SHA256, key, sizeof(key), digest, sig,
                             sizeof(sig));
    }
    return OTA_ERR_CORRUPT;
}

int ota_sig_v1_check(const ota_crypto_t *c, const uint8_t *sig68, const uint8_t key[64],
                     const uint8_t digest[32])
{
    if (c == NULL || sig68 == NULL || key == NULL || digest == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (c->sig_verify == NULL) {
        return OTA_ERR_UNSUPPORTED;
    }
    if (ota_get_le32(sig68) != 0) {
        return OTA_ERR_CORRUPT;
    }
    return c->sig_verify(c->ctx, OTA_SIG_ECDSA_P256_SHA256, key, 64, digest, sig68 + 4, 64);
}

/* validate_signature_block: magic, CRC, then the configured scheme's version. */
static bool block_usable(const uint8_t *blk, ota_sig_scheme_t scheme, const ota_log_t *log)
{
    if (!ota_sig_block_valid(blk)) {
        return false;
    }
    int want = ota_sig_block_version(scheme);
    if (blk[1] != want) {
        ota_logf(log, 'E', TAG_V2,
                 "%s signing scheme selected but signature block generated for %s scheme",
                 ota_sig_scheme_name(want), ota_sig_scheme_name(blk[1]));
        return false;
    }
    return true;
}

int ota_sig_image_key_digests(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset,
                              ota_sig_scheme_t scheme, const ota_log_t *log, uint8_t out[3][32],
                              int *n)
{
    ota_img_meta_t m;
    if (f == NULL || c == NULL || out == NULL || n == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    *n = 0;
    memset(out, 0, 3 * 32);
    int err = ota_img_get_metadata(f, offset, &m, NULL);
    if (err != OTA_OK) {
        ota_logf(log, 'E', TAG_V2, "Error reading metadata from running app (err=0x%x)", 0x2002u);
        return OTA_ERR_CORRUPT;
    }
    uint32_t at =
        offset + (m.image_len + OTA_SIG_SECTOR_LEN - 1) / OTA_SIG_SECTOR_LEN * OTA_SIG_SECTOR_LEN;
    for (int i = 0; i < OTA_SIG_MAX_BLOCKS; i++) {
        uint8_t blk[OTA_SIG_BLOCK_LEN];
        err = ota_flash_read(f, at + (uint32_t)i * OTA_SIG_BLOCK_LEN, blk, sizeof(blk));
        if (err != OTA_OK) {
            ota_logf(log, 'E', TAG_V2,
                     "Secure boot sign blocks cannot be read from image at %lx (err=0x%x)",
                     (unsigned long)offset, 0x2001u);
            return err;
        }
        if (block_usable(blk, scheme, log)) {
            err = ota_sig_key_digest(c, blk, out[*n]);
            if (err != OTA_OK) {
                return err;
            }
            (*n)++;
        }
    }
    return *n > 0 ? OTA_OK : OTA_ERR_NOT_FOUND;
}

/* get_secure_boot_key_digests without hardware secure boot. */
static int running_digests(const ota_crypto_t *c, const ota_sig_trust_t *t, uint8_t d[3][32])
{
    int n = 0;
    if (t->trusted_digest != NULL) {
        if (t->from_efuse) {
            ota_logf(t->log, 'I', TAG_V2, "Take trusted digest key(s) from eFuse block(s)");
        }
        memset(d, 0, 3 * 32);
        memcpy(d[0], t->trusted_digest, 32);
        return OTA_OK;
    }
    ota_logf(t->log, 'I', TAG_V2, "Take trusted digest key(s) from running app");
    if (t->flash == NULL || t->running_size == 0) {
        ota_logf(t->log, 'E', TAG_V2, "Cannot get running partition");
        return OTA_ERR_FAIL;
    }
    int err = ota_sig_image_key_digests(t->flash, c, t->running_offset, t->scheme, t->log, d, &n);
    if (n == 0) {
        ota_logf(t->log, 'E', TAG_V2, "No signatures were found for the running app");
    }
    return err == OTA_OK ? OTA_OK : OTA_ERR_FAIL;
}

int ota_sig_verify_v2(const ota_crypto_t *c, const ota_sig_trust_t *t, const uint8_t *sector,
                      const uint8_t digest[32])
{
    uint8_t trusted[3][32];
    uint8_t mine[32];
    if (c == NULL || t == NULL || sector == NULL || digest == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (running_digests(c, t, trusted) != OTA_OK) {
        ota_logf(t->log, 'E', TAG_V2, "Could not read secure boot digests!");
        return OTA_ERR_FAIL;
    }
    /* Without hardware secure boot only block 0 and trusted digest 0 count. */
    if (!block_usable(sector, t->scheme, t->log) || ota_sig_key_digest(c, sector, mine) != OTA_OK ||
        memcmp(mine, trusted[0], sizeof(mine)) != 0) {
        return OTA_ERR_CORRUPT;
    }
    ota_logf(t->log, 'I', TAG_V2, "#%d app key digest == #%d trusted key digest", 0, 0);
    bool rsa = t->scheme == OTA_SIG_SCHEME_V2_RSA;
    ota_logf(t->log, 'I', TAG_V2, rsa ? "Verifying with RSA-PSS..." : "Verifying with ECDSA...");
    int err = ota_sig_block_check(c, sector, digest);
    if (err == OTA_ERR_NO_MEM) {
        return err;
    }
    if (err != OTA_OK) {
        ota_logf(t->log, 'E', TAG_V2,
                 rsa ? "Failed mbedtls_rsa_rsassa_pss_verify, err: %d"
                     : "Failed mbedtls_ecdsa_verify, err: %d",
                 rsa ? MBEDTLS_RSA_VERIFY_FAILED : MBEDTLS_ECP_VERIFY_FAILED);
        return OTA_ERR_CORRUPT;
    }
    ota_logf(t->log, 'I', TAG_V2, "Signature verified successfully!");
    return OTA_OK;
}

int ota_sig_verify_v1(const ota_crypto_t *c, const ota_sig_trust_t *t, const uint8_t *sig68,
                      const uint8_t digest[32])
{
    if (c == NULL || t == NULL || sig68 == NULL || digest == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (t->v1_key == NULL || t->v1_key_len != OTA_SIG_V1_KEY_LEN) {
        ota_logf(t->log, 'E', TAG_V1, "Embedded public verification key has wrong length %d",
                 t->v1_key == NULL ? 0 : (int)t->v1_key_len);
        return OTA_ERR_FAIL;
    }
    uint32_t version = ota_get_le32(sig68);
    if (version != 0) {
        ota_logf(t->log, 'E', TAG_V1,
                 "image has invalid signature version field 0x%08x (image without a signature?)",
                 (unsigned)version);
        return OTA_ERR_FAIL;
    }
    int err = ota_sig_v1_check(c, sig68, t->v1_key, digest);
    return err == OTA_ERR_NO_MEM ? err : err == OTA_OK ? OTA_OK : OTA_ERR_CORRUPT;
}
