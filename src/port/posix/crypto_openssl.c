/* Crypto hooks of the host port, on OpenSSL's EVP digest and cipher interfaces. */
#include "ota/ota_posix.h"

#include <limits.h>

#include <openssl/evp.h>

static void *evp_start(void *ctx, ota_hash_alg_t alg)
{
    (void)ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NULL;
    }
    const EVP_MD *type = alg == OTA_HASH_MD5 ? EVP_md5() : EVP_sha256();
    if (EVP_DigestInit_ex(md, type, NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

static void evp_update(void *state, const void *data, size_t len)
{
    EVP_DigestUpdate((EVP_MD_CTX *)state, data, len);
}

static void evp_finish(void *state, uint8_t *out)
{
    EVP_MD_CTX *md = state;
    if (out != NULL) {
        unsigned int n = 0;
        EVP_DigestFinal_ex(md, out, &n);
    }
    EVP_MD_CTX_free(md);
}

static int evp_aes256_ecb(void *ctx, const uint8_t key[32], bool decrypt, const uint8_t *in,
                          uint8_t *out, size_t len)
{
    (void)ctx;
    if (len % 16 != 0 || len > INT_MAX) {
        return -1;
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return -1;
    }
    int n = 0;
    int ok = EVP_CipherInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL, decrypt ? 0 : 1) == 1 &&
             EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
             EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 && n == (int)len;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static int evp_aes256_xts(void *ctx, const uint8_t key[64], bool decrypt, const uint8_t tweak[16],
                          const uint8_t *in, uint8_t *out, size_t len)
{
    (void)ctx;
    if (len < 16 || len > INT_MAX) {
        return -1;
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return -1;
    }
    int n = 0;
    int ok = EVP_CipherInit_ex(c, EVP_aes_256_xts(), NULL, key, tweak, decrypt ? 0 : 1) == 1 &&
             EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 && n == (int)len;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

const ota_crypto_t *ota_crypto_openssl(void)
{
    static const ota_crypto_t crypto = {
        .ctx = NULL,
        .hash_start = evp_start,
        .hash_update = evp_update,
        .hash_finish = evp_finish,
        .aes256_ecb = evp_aes256_ecb,
        .aes256_xts = evp_aes256_xts,
    };
    return &crypto;
}
