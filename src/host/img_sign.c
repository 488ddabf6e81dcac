/* Signing app images as espsecure sign_data (versions 1 and 2), on OpenSSL. */
#include "ota/ota_img_sign.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_img.h"
#include "ota/ota_sig.h"

/* Reads a PEM private key, or a public key when public_ok. NULL (diag set) on failure. */
static EVP_PKEY *load_key(const char *path, bool public_ok, ota_diag_t *diag)
{
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: cannot open the key file", path);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (k == NULL && public_ok && BIO_reset(bio) == 0) {
        k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    if (k == NULL) {
        ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: not a PEM %skey", path,
                     public_ok ? "" : "private ");
    }
    return k;
}

/* True for an EC key on NIST P-256. */
static bool is_p256(EVP_PKEY *k)
{
    char group[64];
    size_t n = 0;
    return EVP_PKEY_is_a(k, "EC") &&
           EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                          &n) == 1 &&
           (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
}

/* The EC public point as X, Y (32 bytes each, big-endian). */
static bool ec_point(EVP_PKEY *k, uint8_t xy[64])
{
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    bool ok = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
              EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
              BN_bn2binpad(x, xy, 32) == 32 && BN_bn2binpad(y, xy + 32, 32) == 32;
    BN_free(x);
    BN_free(y);
    return ok;
}

/* Signs a SHA-256 digest: RSA-PSS (salt 32, MGF1-SHA-256) or ECDSA as DER. */
static bool sign_digest(EVP_PKEY *k, const uint8_t digest[32], uint8_t *sig, size_t *sig_len)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(k, NULL);
    bool ok = pc != NULL && EVP_PKEY_sign_init(pc) == 1 &&
              EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1;
    if (ok && EVP_PKEY_is_a(k, "RSA")) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1;
    }
    ok = ok && EVP_PKEY_sign(pc, sig, sig_len, digest, 32) == 1;
    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* An ECDSA signature of digest as r, s (32 bytes each, big-endian). */
static bool ecdsa_raw(EVP_PKEY *k, const uint8_t digest[32], uint8_t rs[64])
{
    uint8_t der[80];
    size_t len = sizeof(der);
    if (!sign_digest(k, digest, der, &len)) {
        return false;
    }
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    bool ok = s != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32) == 32;
    ECDSA_SIG_free(s);
    return ok;
}

/* Writes bn little-endian into n bytes. */
static bool put_le(const BIGNUM *bn, uint8_t *dst, int n)
{
    return BN_bn2lebinpad(bn, dst, n) == n;
}

/* RSA block key fields from offset 36: n, e, rinv = 2^6144 mod n, mdash = -n^-1 mod 2^32. */
static bool rsa_key_fields(EVP_PKEY *k, uint8_t *blk)
{
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    BIGNUM *r = BN_new();
    BN_CTX *bc = BN_CTX_new();
    bool ok = r != NULL && bc != NULL && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
              EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
              put_le(n, blk + 36, OTA_SIG_RSA_LEN) && put_le(e, blk + 420, 4) &&
              BN_set_bit(r, 2 * 8 * OTA_SIG_RSA_LEN) == 1 && BN_mod(r, r, n, bc) == 1 &&
              put_le(r, blk + 424, OTA_SIG_RSA_LEN);
    if (ok) {
        uint32_t n0 = (uint32_t)BN_mod_word(n, 0x100000000ull); /* BN_ULONG is 64-bit here */
        uint32_t inv = n0; /* Newton's iteration: correct to 3, 6, 12, 24, 48 bits */
        for (int i = 0; i < 5; i++) {
            inv *= 2u - n0 * inv;
        }
        uint32_t mdash = 0u - inv;
        for (int i = 0; i < 4; i++) {
            blk[808 + i] = (uint8_t)(mdash >> (8 * i));
        }
    }
    BN_free(n);
    BN_free(e);
    BN_free(r);
    BN_CTX_free(bc);
    return ok;
}

/* RSA block fields: the key, then the signature of digest (little-endian). */
static bool rsa_fields(EVP_PKEY *k, const uint8_t digest[32], uint8_t *blk)
{
    uint8_t sig[OTA_SIG_RSA_LEN];
    size_t sig_len = sizeof(sig);
    if (!rsa_key_fields(k, blk) || !sign_digest(k, digest, sig, &sig_len) ||
        sig_len != sizeof(sig)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(sig); i++) {
        blk[812 + i] = sig[sizeof(sig) - 1 - i];
    }
    return true;
}

/* ECDSA block key fields: curve P-256, X, Y (little-endian). */
static bool ecdsa_key_fields(EVP_PKEY *k, uint8_t *blk)
{
    uint8_t xy[64];
    if (!ec_point(k, xy)) {
        return false;
    }
    blk[36] = OTA_SIG_CURVE_P256;
    for (int i = 0; i < 32; i++) {
        blk[37 + i] = xy[31 - i];
        blk[69 + i] = xy[63 - i];
    }
    return true;
}

/* ECDSA block fields: sha version 0, the key, r, s (little-endian). */
static bool ecdsa_fields(EVP_PKEY *k, const uint8_t digest[32], uint8_t *blk)
{
    uint8_t rs[64];
    if (!ecdsa_key_fields(k, blk) || !ecdsa_raw(k, digest, rs)) {
        return false;
    }
    for (int i = 0; i < 32; i++) {
        blk[101 + i] = rs[31 - i];
        blk[133 + i] = rs[63 - i];
    }
    return true;
}

/* The V2 signature sector for digest. */
static int sector_v2(EVP_PKEY *k, const char *path, const uint8_t digest[32], uint8_t *sector,
                     ota_diag_t *diag)
{
    bool rsa = EVP_PKEY_is_a(k, "RSA");
    if (rsa && EVP_PKEY_get_bits(k) != 8 * (int)OTA_SIG_RSA_LEN) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: RSA key of %d bits, 3072 expected",
                            path, EVP_PKEY_get_bits(k));
    }
    if (!rsa && !is_p256(k)) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "%s: neither an RSA-3072 nor an ECDSA P-256 key", path);
    }
    memset(sector, 0xFF, OTA_SIG_SECTOR_LEN);
    memset(sector, 0, OTA_SIG_BLOCK_LEN);
    sector[0] = OTA_SIG_BLOCK_MAGIC;
    sector[1] = rsa ? OTA_SIG_V2_RSA : OTA_SIG_V2_ECDSA;
    memcpy(sector + 4, digest, 32);
    if (!(rsa ? rsa_fields(k, digest, sector) : ecdsa_fields(k, digest, sector))) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: signing failed", path);
    }
    uint32_t crc = ota_sig_crc32(sector, OTA_SIG_BLOCK_CRC_LEN);
    for (int i = 0; i < 4; i++) {
        sector[OTA_SIG_BLOCK_CRC_LEN + i] = (uint8_t)(crc >> (8 * i));
    }
    return OTA_OK;
}

/* The signed image: contents (padded for V2), then the signature. */
static int sign_with(EVP_PKEY *k, const uint8_t *in, size_t in_len, const char *path, int version,
                     uint8_t **out, size_t *out_len, ota_diag_t *diag)
{
    size_t body = version == 2
                      ? (in_len + OTA_SIG_SECTOR_LEN - 1) / OTA_SIG_SECTOR_LEN * OTA_SIG_SECTOR_LEN
                      : in_len;
    size_t total = body + (version == 2 ? OTA_SIG_SECTOR_LEN : OTA_SIG_V1_LEN);
    uint8_t *img = malloc(total);
    if (img == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    memcpy(img, in, in_len);
    memset(img + in_len, 0xFF, body - in_len);
    uint8_t digest[32];
    unsigned int dl = 0;
    int err = EVP_Digest(img, body, digest, &dl, EVP_sha256(), NULL) == 1
                  ? OTA_OK
                  : ota_diag_set(diag, OTA_ERR_NO_MEM, "SHA-256 failed");
    if (err == OTA_OK && version == 2) {
        err = sector_v2(k, path, digest, img + body, diag);
    } else if (err == OTA_OK) {
        memset(img + body, 0, 4);
        if (!is_p256(k)) {
            err = ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                               "%s: Secure Boot V1 needs an ECDSA P-256 key", path);
        } else if (!ecdsa_raw(k, digest, img + body + 4)) {
            err = ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: signing failed", path);
        }
    }
    if (err != OTA_OK) {
        free(img);
        return err;
    }
    *out = img;
    *out_len = total;
    return OTA_OK;
}

int ota_img_sign(const uint8_t *in, size_t in_len, const char *key_path, int version, uint8_t **out,
                 size_t *out_len, ota_diag_t *diag)
{
    if (in == NULL || in_len == 0 || key_path == NULL || out == NULL || out_len == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "nothing to sign");
    }
    if (version != 1 && version != 2) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "signature version %d (1 or 2)", version);
    }
    EVP_PKEY *k = load_key(key_path, false, diag);
    if (k == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = sign_with(k, in, in_len, key_path, version, out, out_len, diag);
    EVP_PKEY_free(k);
    return err;
}

int ota_img_sign_public_key_v1(const char *key_path, uint8_t out[64], ota_diag_t *diag)
{
    if (key_path == NULL || out == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no key");
    }
    EVP_PKEY *k = load_key(key_path, true, diag);
    if (k == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = is_p256(k) && ec_point(k, out)
                  ? OTA_OK
                  : ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: not an ECDSA P-256 key", key_path);
    EVP_PKEY_free(k);
    return err;
}

int ota_img_sign_key_digest(const char *key_path, uint8_t out[32], ota_diag_t *diag)
{
    if (key_path == NULL || out == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no key");
    }
    EVP_PKEY *k = load_key(key_path, true, diag);
    if (k == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    uint8_t blk[OTA_SIG_BLOCK_LEN] = {0};
    bool rsa = EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bits(k) == 8 * (int)OTA_SIG_RSA_LEN;
    bool ok = rsa ? rsa_key_fields(k, blk) : is_p256(k) && ecdsa_key_fields(k, blk);
    blk[1] = rsa ? OTA_SIG_V2_RSA : OTA_SIG_V2_ECDSA;
    EVP_PKEY_free(k);
    if (!ok) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "%s: neither an RSA-3072 nor an ECDSA P-256 key", key_path);
    }
    size_t n = rsa ? OTA_SIG_RSA_KEY_LEN : OTA_SIG_ECDSA_KEY_LEN;
    unsigned int dl = 0;
    return EVP_Digest(blk + 36, n, out, &dl, EVP_sha256(), NULL) == 1
               ? OTA_OK
               : ota_diag_set(diag, OTA_ERR_NO_MEM, "SHA-256 failed");
}
