/* Crypto hooks of the host port, on OpenSSL's EVP digest interface. */
#include "ota/ota_posix.h"

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

const ota_crypto_t *ota_crypto_openssl(void)
{
    static const ota_crypto_t crypto = {
        .ctx = NULL,
        .hash_start = evp_start,
        .hash_update = evp_update,
        .hash_finish = evp_finish,
    };
    return &crypto;
}
