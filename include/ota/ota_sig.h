/*
 * Signed app images (spec 8.1): Secure Boot V2 signature blocks (RSA-3072 PSS, ECDSA P-256) and
 * the Secure Boot V1 ECDSA signature, their codecs and the app-side verification ESP-IDF runs
 * when CONFIG_SECURE_SIGNED_ON_UPDATE is set (secure_boot_signatures_app.c).
 *
 * Portable core: no allocation, flash only through ota_flash_t, digests and signature checks
 * only through ota_crypto_t; log lines go to an ota_log_t with ESP-IDF's tags.
 */
#ifndef OTA_SIG_H
#define OTA_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_crypto.h"
#include "ota/ota_flash.h"
#include "ota/ota_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The app signing scheme (CONFIG_SECURE_SIGNED_APPS_*_SCHEME); NONE: images are not signed. */
typedef enum {
    OTA_SIG_SCHEME_NONE = 0,
    OTA_SIG_SCHEME_V1_ECDSA, /* ESP32 only: 4-byte version 0 + 64-byte signature after the image */
    OTA_SIG_SCHEME_V2_RSA,   /* block version 0x02 */
    OTA_SIG_SCHEME_V2_ECDSA, /* block version 0x03, P-256 */
} ota_sig_scheme_t;

#define OTA_SIG_V2_RSA 0x02
#define OTA_SIG_V2_ECDSA 0x03
#define OTA_SIG_BLOCK_CRC_LEN 1196u /* bytes covered by a V2 block's CRC */
#define OTA_SIG_RSA_LEN 384u
#define OTA_SIG_RSA_KEY_LEN 776u  /* n, e, rinv, mdash: what a key digest covers */
#define OTA_SIG_ECDSA_KEY_LEN 65u /* curve id and point */
#define OTA_SIG_V1_LEN 68u        /* esp_secure_boot_sig_block_t */
#define OTA_SIG_V1_KEY_LEN 64u    /* signature_verification_key.bin: X, Y big-endian */
#define OTA_SIG_CURVE_P256 2

/* zlib CRC-32 of n bytes (the ROM's crc32_le(0, ...)). */
uint32_t ota_sig_crc32(const uint8_t *p, size_t n);

/* True if the 1216-byte block has the 0xE7 magic and a matching CRC. */
bool ota_sig_block_valid(const uint8_t *blk);

/* ESP-IDF's name of a scheme or block version ("RSA", "ECDSA", "Unknown"). */
const char *ota_sig_scheme_name(int block_version);

/* The block version a V2 scheme writes (0 for V1 and NONE). */
int ota_sig_block_version(ota_sig_scheme_t scheme);

/*
 * SHA-256 of a V2 block's public key fields (RSA: 776 bytes from offset 36; ECDSA: 65 bytes
 * from offset 36), the digest eFuses hold. Returns OTA_OK, OTA_ERR_INVALID_ARG or OTA_ERR_NO_MEM.
 */
int ota_sig_key_digest(const ota_crypto_t *c, const uint8_t *blk, uint8_t out[32]);

/*
 * Checks a V2 block's signature of digest with the key the block carries (no trust decision).
 * Returns OTA_OK, OTA_ERR_CORRUPT (bad signature, unusable key, or a version that is neither
 * RSA nor ECDSA P-256), OTA_ERR_UNSUPPORTED (c has no sig_verify) or OTA_ERR_NO_MEM.
 */
int ota_sig_block_check(const ota_crypto_t *c, const uint8_t *blk, const uint8_t digest[32]);

/* Checks a V1 signature (68 bytes: u32 version 0, r, s) of digest with a 64-byte key. */
int ota_sig_v1_check(const ota_crypto_t *c, const uint8_t *sig68, const uint8_t key[64],
                     const uint8_t digest[32]);

/* Where trusted keys come from when an app verifies a new image. */
typedef struct ota_sig_trust {
    ota_sig_scheme_t scheme;
    const ota_log_t *log; /* the "secure_boot_v2" / "secure_boot_v1" lines; may be NULL */
    /* V2 without hardware secure boot: the running app's signature blocks are trusted. */
    const ota_flash_t *flash;
    uint32_t running_offset; /* 0 with running_size 0: no running app known */
    uint32_t running_size;
    /* V2: a trusted key digest given directly (a host tool's key file); when set it replaces the
     * running app's blocks and nothing is logged for it. */
    const uint8_t *trusted_digest;
    /* With trusted_digest: it was read from eFuse (hardware Secure Boot V2), which is logged as
     * "Take trusted digest key(s) from eFuse block(s)". */
    bool from_efuse;
    uint8_t efuse_digest[32]; /* storage for a digest read from eFuse */
    /* V1: the app's embedded signature_verification_key.bin (NULL: none embedded). */
    const uint8_t *v1_key;
    size_t v1_key_len;
} ota_sig_trust_t;

/*
 * The key digests of the valid blocks (magic, CRC, the scheme's version; a block of another
 * version logs ESP-IDF's "%s signing scheme selected but signature block generated for %s
 * scheme") of the image at offset in a partition of part_size, compacted into out[0..*n).
 * Returns OTA_OK, OTA_ERR_NOT_FOUND (no valid block), OTA_ERR_CORRUPT (no image), a flash error.
 */
int ota_sig_image_key_digests(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset,
                              ota_sig_scheme_t scheme, const ota_log_t *log, uint8_t out[3][32],
                              int *n);

/*
 * The app's check of a new image's V2 signature sector (esp_secure_boot_verify_sbv2_signature_
 * block without hardware secure boot): trusted digests from the running app ("Take trusted
 * digest key(s) from running app"), block 0 only, "#0 app key digest == #0 trusted key digest",
 * "Verifying with RSA-PSS..." / "Verifying with ECDSA...", "Signature verified successfully!".
 * sector: the first 1216 bytes of the signature sector. Returns OTA_OK; OTA_ERR_CORRUPT when no
 * trusted key or no valid signature (ESP_ERR_IMAGE_INVALID); OTA_ERR_FAIL when trusted digests
 * could not be read (ESP_FAIL); OTA_ERR_INVALID_ARG.
 */
int ota_sig_verify_v2(const ota_crypto_t *c, const ota_sig_trust_t *t, const uint8_t *sector,
                      const uint8_t digest[32]);

/*
 * The app's check of a V1 signature (esp_secure_boot_verify_ecdsa_signature_block): the
 * embedded key must be 64 bytes, the version 0. Returns OTA_OK, OTA_ERR_CORRUPT (bad signature,
 * ESP_ERR_IMAGE_INVALID), OTA_ERR_FAIL (no key, wrong version: ESP_FAIL), OTA_ERR_INVALID_ARG.
 */
int ota_sig_verify_v1(const ota_crypto_t *c, const ota_sig_trust_t *t, const uint8_t *sig68,
                      const uint8_t digest[32]);

#ifdef __cplusplus
}
#endif

#endif /* OTA_SIG_H */
