/*
 * Signing app images as `espsecure sign_data` does (host tool, OpenSSL): Secure Boot V2 with an
 * RSA-3072 or ECDSA P-256 key, Secure Boot V1 with an ECDSA P-256 key (spec 8.1).
 */
#ifndef OTA_IMG_SIGN_H
#define OTA_IMG_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Signs in[0..in_len) with the PEM private key in key_path.
 * version 2: the contents padded with 0xFF to a multiple of 4096, then a 4096-byte sector: one
 * signature block (RSA-PSS for an RSA-3072 key, version 0x02; ECDSA for a P-256 key, 0x03) over
 * the SHA-256 of the padded contents, the rest 0xFF.
 * version 1: the contents, a 4-byte version 0 and the 64-byte ECDSA signature (r, s big-endian)
 * of their SHA-256 (P-256 key only).
 * On success *out (malloc'ed) and *out_len hold the signed image. Returns OTA_OK;
 * OTA_ERR_INVALID_ARG (bad version, empty input, unreadable or unsuitable key: diag says why);
 * OTA_ERR_NO_MEM.
 */
int ota_img_sign(const uint8_t *in, size_t in_len, const char *key_path, int version, uint8_t **out,
                 size_t *out_len, ota_diag_t *diag);

/*
 * The Secure Boot V1 public key of the P-256 key in key_path (a private or public PEM key) as
 * `espsecure extract_public_key --version 1` writes signature_verification_key.bin: X then Y,
 * 32 bytes each, big-endian. Returns OTA_OK or OTA_ERR_INVALID_ARG (diag says why).
 */
int ota_img_sign_public_key_v1(const char *key_path, uint8_t out[64], ota_diag_t *diag);

/*
 * The Secure Boot V2 key digest of the RSA-3072 or P-256 key in key_path (private or public
 * PEM): SHA-256 of the key fields a signature block carries (ota_sig_key_digest). Returns
 * OTA_OK or OTA_ERR_INVALID_ARG (diag says why).
 */
int ota_img_sign_key_digest(const char *key_path, uint8_t out[32], ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_IMG_SIGN_H */
