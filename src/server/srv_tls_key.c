/*
 * The server's RSA key as a GnuTLS external key whose signatures OpenSSL makes (see
 * srv_tls_key.h): the handshake's one private-key operation at OpenSSL's speed.
 */
#include "srv_tls_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

struct srv_tls_key {
    EVP_PKEY *pkey;
    gnutls_privkey_t privkey;
    gnutls_pcert_st pcert[SRV_TLS_KEY_MAX_CHAIN];
    unsigned pcert_count;
};

/* The digest and padding of a GnuTLS RSA signature algorithm; false for any other. */
static bool sign_algo(gnutls_sign_algorithm_t algo, const EVP_MD **md, int *padding)
{
    static const struct {
        gnutls_sign_algorithm_t algo;
        int padding;
    } table[] = {
        {GNUTLS_SIGN_RSA_SHA256, RSA_PKCS1_PADDING},
        {GNUTLS_SIGN_RSA_SHA384, RSA_PKCS1_PADDING},
        {GNUTLS_SIGN_RSA_SHA512, RSA_PKCS1_PADDING},
        {GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, RSA_PKCS1_PSS_PADDING},
        {GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, RSA_PKCS1_PSS_PADDING},
        {GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, RSA_PKCS1_PSS_PADDING},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].algo == algo) {
            *md =
                EVP_get_digestbyname(gnutls_digest_get_name(gnutls_sign_get_hash_algorithm(algo)));
            *padding = table[i].padding;
            return *md != NULL;
        }
    }
    return false;
}

/* gnutls_privkey_sign_hash_func: signs the digest hash with algo's padding (PSS: salt as long
 * as the digest, as TLS requires). PKCS#1 v1.5 signatures come as GNUTLS_SIGN_RSA_RAW with the
 * DigestInfo already built: padded and signed as they are. */
static int sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
                     unsigned flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
    (void)key;
    (void)flags;
    srv_tls_key_t *k = userdata;
    const EVP_MD *md = NULL;
    int padding = RSA_PKCS1_PADDING;
    if (algo != GNUTLS_SIGN_RSA_RAW && !sign_algo(algo, &md, &padding)) {
        return GNUTLS_E_UNKNOWN_PK_ALGORITHM;
    }
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k->pkey, NULL);
    size_t len = (size_t)EVP_PKEY_get_size(k->pkey);
    sig->data = gnutls_malloc(len);
    bool ok = c != NULL && sig->data != NULL && EVP_PKEY_sign_init(c) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(c, padding) == 1 &&
              (md == NULL || EVP_PKEY_CTX_set_signature_md(c, md) == 1) &&
              (padding != RSA_PKCS1_PSS_PADDING ||
               EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) == 1) &&
              EVP_PKEY_sign(c, sig->data, &len, hash->data, hash->size) == 1;
    EVP_PKEY_CTX_free(c);
    if (!ok) {
        gnutls_free(sig->data);
        sig->data = NULL;
        return GNUTLS_E_PK_SIGN_FAILED;
    }
    sig->size = (unsigned)len;
    return 0;
}

/* gnutls_privkey_info_func: an RSA key of its size, signing with the algorithms above. */
static int key_info(gnutls_privkey_t key, unsigned flags, void *userdata)
{
    (void)key;
    srv_tls_key_t *k = userdata;
    if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO) {
        return GNUTLS_PK_RSA;
    }
    if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS) {
        return EVP_PKEY_get_bits(k->pkey);
    }
    if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
        const EVP_MD *md;
        int padding;
        return sign_algo((gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags), &md, &padding);
    }
    return GNUTLS_E_UNKNOWN_PK_ALGORITHM; /* no preferred algorithm */
}

/* The certificate chain, as GnuTLS hands it out. */
static bool load_chain(srv_tls_key_t *k, const char *cert_pem)
{
    gnutls_datum_t pem = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
    unsigned n = SRV_TLS_KEY_MAX_CHAIN;
    if (gnutls_pcert_list_import_x509_raw(k->pcert, &n, &pem, GNUTLS_X509_FMT_PEM, 0) < 0) {
        return false;
    }
    k->pcert_count = n;
    return true;
}

srv_tls_key_t *srv_tls_key_load(const char *cert_pem, const char *key_pem)
{
    BIO *b = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *pkey = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    srv_tls_key_t *k = NULL;
    if (pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        k = calloc(1, sizeof(*k));
    }
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k->pkey = pkey;
    if (!load_chain(k, cert_pem) || gnutls_privkey_init(&k->privkey) < 0 ||
        gnutls_privkey_import_ext4(k->privkey, k, NULL, sign_hash, NULL, NULL, key_info, 0) < 0) {
        srv_tls_key_free(k);
        return NULL;
    }
    return k;
}

void srv_tls_key_free(srv_tls_key_t *k)
{
    if (k == NULL) {
        return;
    }
    for (unsigned i = 0; i < k->pcert_count; i++) {
        gnutls_pcert_deinit(&k->pcert[i]);
    }
    if (k->privkey != NULL) {
        gnutls_privkey_deinit(k->privkey);
    }
    EVP_PKEY_free(k->pkey);
    free(k);
}

void srv_tls_key_give(srv_tls_key_t *k, gnutls_pcert_st **pcert, unsigned *count,
                      gnutls_privkey_t *privkey)
{
    *pcert = k->pcert;
    *count = k->pcert_count;
    *privkey = k->privkey;
}
