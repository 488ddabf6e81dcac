/*
 * Crypto hooks for the portable core.
 *
 * The core computes digests (SHA-256 for images, MD5 for partition tables) and the AES of flash
 * encryption through this small hook set, so a port can use a hardware engine or a library. The
 * host port implements it with OpenSSL's libcrypto (ota_crypto_openssl()).
 */
#ifndef OTA_CRYPTO_H
#define OTA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OTA_HASH_SHA256 = 0, /* 32-byte digest */
    OTA_HASH_MD5 = 1,    /* 16-byte digest */
} ota_hash_alg_t;

#define OTA_SHA256_LEN 32
#define OTA_MD5_LEN 16

/* Signature algorithms of signed app images (spec 8.1), all over a SHA-256 digest. */
typedef enum {
    /* RSA-PSS, MGF1-SHA-256, salt length 32 (Secure Boot V2 RSA). key: the modulus big-endian
     * followed by the public exponent as 4 big-endian bytes; sig: big-endian, as long as the
     * modulus. */
    OTA_SIG_RSA_PSS_SHA256 = 0,
    /* ECDSA on NIST P-256 (Secure Boot V1 and V2 ECDSA). key: X then Y, 32 bytes each,
     * big-endian; sig: r then s, 32 bytes each, big-endian. */
    OTA_SIG_ECDSA_P256_SHA256 = 1,
} ota_sig_alg_t;

typedef struct ota_crypto {
    void *ctx; /* passed unchanged to hash_start */
    /* Starts a digest; returns an opaque state owned by the port, or NULL on failure. */
    void *(*hash_start)(void *ctx, ota_hash_alg_t alg);
    /* Feeds len bytes. */
    void (*hash_update)(void *state, const void *data, size_t len);
    /* Writes the digest to out (if out is non-NULL) and releases the state. */
    void (*hash_finish)(void *state, uint8_t *out);
    /*
     * Checks signature sig (sig_len bytes) of the 32-byte digest with the public key key
     * (key_len bytes), formats as ota_sig_alg_t says. Optional (NULL: signed images cannot be
     * verified). Returns OTA_OK when the signature is valid, OTA_ERR_CORRUPT when it is not or the
     * key is unusable, OTA_ERR_NO_MEM.
     */
    int (*sig_verify)(void *ctx, ota_sig_alg_t alg, const uint8_t *key, size_t key_len,
                      const uint8_t digest[32], const uint8_t *sig, size_t sig_len);
    /* AES-256 in ECB mode: len bytes (a multiple of 16) from in to out (they may be the same
     * buffer), encrypted, or decrypted when decrypt is true, with the 32-byte key. Returns 0, or
     * non-zero on failure. NULL when the port has no AES (flash encryption is then unavailable). */
    int (*aes256_ecb)(void *ctx, const uint8_t key[32], bool decrypt, const uint8_t *in,
                      uint8_t *out, size_t len);
    /* AES-256-XTS (IEEE 1619) of one data unit: len bytes (at least 16) from in to out with the
     * 64-byte key (data key, then tweak key) and the 16-byte tweak. Returns 0, or non-zero on
     * failure. NULL when the port has none (encrypted NVS is then unavailable). */
    int (*aes256_xts)(void *ctx, const uint8_t key[64], bool decrypt, const uint8_t tweak[16],
                      const uint8_t *in, uint8_t *out, size_t len);
} ota_crypto_t;

/*
 * One-shot digest of a buffer into out (32 or 16 bytes by alg).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG (NULL crypto/out) or OTA_ERR_NO_MEM (hash_start failed).
 */
int ota_hash(const ota_crypto_t *c, ota_hash_alg_t alg, const void *data, size_t len, uint8_t *out);

/* Length in bytes of a digest of alg. */
size_t ota_hash_len(ota_hash_alg_t alg);

#ifdef __cplusplus
}
#endif

#endif /* OTA_CRYPTO_H */
