/* Crypto hooks of the host port, on OpenSSL's EVP digest, cipher and public-key interfaces. */
#include "ota/ota_posix.h"

#include "ota/ota_err.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <string.h>

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

/* A public key from its parameters: RSA n and e, or a P-256 point 04||X||Y. */
static EVP_PKEY *make_pkey(ota_sig_alg_t alg, const uint8_t *key, size_t key_len)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    uint8_t point[65];
    const char *type = "RSA";
    int ok = bld != NULL;
    if (ok && alg == OTA_SIG_RSA_PSS_SHA256) {
        n = BN_bin2bn(key, (int)(key_len - 4), NULL);
        e = BN_bin2bn(key + key_len - 4, 4, NULL);
        ok = n != NULL && e != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    } else if (ok) {
        type = "EC";
        point[0] = 0x04;
        memcpy(point + 1, key, 64);
        ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    }
    OSSL_PARAM *params = ok ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *pc = params != NULL ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    if (pc == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/* A raw r||s signature as the DER ECDSA-Sig-Value OpenSSL verifies; *der is malloc'ed. */
static int ecdsa_der(const uint8_t *sig, uint8_t **der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL);
    BIGNUM *ss = BN_bin2bn(sig + 32, 32, NULL);
    int len = -1;
    if (s != NULL && r != NULL && ss != NULL && ECDSA_SIG_set0(s, r, ss) == 1) {
        r = ss = NULL;
        *der = NULL;
        len = i2d_ECDSA_SIG(s, der);
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return len;
}

static int evp_sig_verify(void *ctx, ota_sig_alg_t alg, const uint8_t *key, size_t key_len,
                          const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    bool rsa = alg == OTA_SIG_RSA_PSS_SHA256;
    if (key == NULL || sig == NULL || digest == NULL || (rsa && key_len <= 4) ||
        (!rsa && (key_len != 64 || sig_len != 64))) {
        return OTA_ERR_CORRUPT;
    }
    EVP_PKEY *pkey = make_pkey(alg, key, key_len);
    if (pkey == NULL) {
        return OTA_ERR_CORRUPT;
    }
    uint8_t *der = NULL;
    int der_len = rsa ? (int)sig_len : ecdsa_der(sig, &der);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
    int ok = der_len > 0 && pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1;
    if (ok && rsa) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1;
    }
    ok = ok && EVP_PKEY_verify(pc, rsa ? sig : der, (size_t)der_len, digest, 32) == 1;
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
    return ok ? OTA_OK : OTA_ERR_CORRUPT;
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
        .sig_verify = evp_sig_verify,
        .aes256_ecb = evp_aes256_ecb,
        .aes256_xts = evp_aes256_xts,
    };
    return &crypto;
}
