/* Self-signed server certificates (RSA-2048, SHA-256, X.509 v3) with OpenSSL 3. */
#include "ota/ota_x509.h"
#include "ota/ota_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CN_MAX 64 /* ub-common-name in RFC 5280 */

/* A host as it goes into the certificate: an address (4 or 16 bytes) or a DNS name. */
typedef struct {
    bool is_ip;
    unsigned char ip[16];
    int ip_len;
} host_kind_t;

static int classify_host(const char *host, host_kind_t *kind, ota_diag_t *diag)
{
    memset(kind, 0, sizeof(*kind));
    size_t n = host != NULL ? strlen(host) : 0;
    if (n == 0 || n > CN_MAX) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "host name must be 1 to %d characters",
                            CN_MAX);
    }
    if (inet_pton(AF_INET, host, kind->ip) == 1) {
        kind->is_ip = true;
        kind->ip_len = 4;
        return OTA_OK;
    }
    if (inet_pton(AF_INET6, host, kind->ip) == 1) {
        kind->is_ip = true;
        kind->ip_len = 16;
        return OTA_OK;
    }
    for (const char *p = host; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '*';
        if (!ok) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "'%s' is neither an IP address nor a DNS name", host);
        }
    }
    return OTA_OK;
}

/* Sets diag to "what: <OpenSSL's first queued error>" and returns OTA_ERR_NO_MEM. */
static int ssl_fail(ota_diag_t *diag, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[120] = "unknown error";
    if (e != 0) {
        ERR_error_string_n(e, reason, sizeof(reason));
    }
    ERR_clear_error();
    return ota_diag_set(diag, OTA_ERR_NO_MEM, "%s: %s", what, reason);
}

static int add_conf_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return 0;
    }
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int add_san(X509 *x, const char *host, const host_kind_t *kind)
{
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_STRING *value = kind->is_ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    int ok = 0;
    if (names == NULL || gen == NULL || value == NULL) {
        goto out;
    }
    if (kind->is_ip) {
        ok = ASN1_OCTET_STRING_set(value, kind->ip, kind->ip_len);
    } else {
        ok = ASN1_STRING_set(value, host, (int)strlen(host));
    }
    if (!ok) {
        goto out;
    }
    GENERAL_NAME_set0_value(gen, kind->is_ip ? GEN_IPADD : GEN_DNS, value);
    value = NULL;
    if (!sk_GENERAL_NAME_push(names, gen)) {
        ok = 0;
        goto out;
    }
    gen = NULL;
    ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
out:
    ASN1_STRING_free(value);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(names);
    return ok;
}

static int set_random_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    int ok = bn != NULL && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

/* Builds the certificate for pkey; NULL on failure (OpenSSL's error queue says why). */
static X509 *build_cert(EVP_PKEY *pkey, const char *host, const host_kind_t *kind, unsigned days)
{
    X509 *x = X509_new();
    if (x == NULL) {
        return NULL;
    }
    X509_NAME *name = X509_get_subject_name(x);
    int ok = X509_set_version(x, X509_VERSION_3) && set_random_serial(x) &&
             X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
             X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) != NULL &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1,
                                        -1, 0) &&
             X509_set_issuer_name(x, name) && X509_set_pubkey(x, pkey) &&
             add_conf_ext(x, NID_basic_constraints, "critical,CA:TRUE") &&
             add_conf_ext(x, NID_subject_key_identifier, "hash") &&
             add_conf_ext(x, NID_authority_key_identifier, "keyid:always") &&
             add_san(x, host, kind) && X509_sign(x, pkey, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* PEM text of a key or certificate in a memory BIO; returns the BIO (caller frees) or NULL. */
static BIO *pem_of(EVP_PKEY *pkey, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }
    int ok = pkey != NULL ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_X509(bio, x);
    if (!ok) {
        BIO_free(bio);
        return NULL;
    }
    return bio;
}

int ota_x509_self_signed(const char *host, const char *cert_path, const char *key_path,
                         unsigned days, ota_diag_t *diag)
{
    if (cert_path == NULL || key_path == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "certificate and key paths are required");
    }
    host_kind_t kind;
    int err = classify_host(host, &kind, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (days == 0) {
        days = OTA_X509_DEFAULT_DAYS;
    }
    ERR_clear_error();
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    if (pkey == NULL) {
        return ssl_fail(diag, "RSA key generation");
    }
    X509 *x = build_cert(pkey, host, &kind, days);
    if (x == NULL) {
        EVP_PKEY_free(pkey);
        return ssl_fail(diag, "certificate");
    }
    BIO *key_pem = pem_of(pkey, NULL);
    BIO *cert_pem = pem_of(NULL, x);
    if (key_pem == NULL || cert_pem == NULL) {
        err = ssl_fail(diag, "PEM encoding");
    } else {
        char *data = NULL;
        long len = BIO_get_mem_data(key_pem, &data);
        err = ota_file_write(key_path, data, (size_t)len, 0600, diag);
        if (err == OTA_OK) {
            len = BIO_get_mem_data(cert_pem, &data);
            err = ota_file_write(cert_path, data, (size_t)len, 0644, diag);
        }
    }
    BIO_free(key_pem);
    BIO_free(cert_pem);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return err;
}

/* Opens path for reading; maps a failure onto NOT_FOUND or IO with a diag line. */
static int open_pem(const char *path, FILE **fp, ota_diag_t *diag)
{
    *fp = fopen(path, "r");
    if (*fp == NULL) {
        int e = errno;
        return ota_diag_set(diag, e == ENOENT ? OTA_ERR_NOT_FOUND : OTA_ERR_IO,
                            "%s: cannot open: %s", path, strerror(e));
    }
    return OTA_OK;
}

static bool cn_equals(X509 *x, const char *host)
{
    X509_NAME *name = X509_get_subject_name(x);
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0) {
        return false;
    }
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    size_t n = strlen(host);
    return (size_t)ASN1_STRING_length(s) == n && memcmp(ASN1_STRING_get0_data(s), host, n) == 0;
}

static bool san_has(X509 *x, const char *host, const host_kind_t *kind)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (kind->is_ip && g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = g->d.iPAddress;
            found = ASN1_STRING_length(ip) == kind->ip_len &&
                    memcmp(ASN1_STRING_get0_data(ip), kind->ip, (size_t)kind->ip_len) == 0;
        } else if (!kind->is_ip && g->type == GEN_DNS) {
            const ASN1_IA5STRING *dns = g->d.dNSName;
            size_t n = strlen(host);
            found = (size_t)ASN1_STRING_length(dns) == n &&
                    strncasecmp((const char *)ASN1_STRING_get0_data(dns), host, n) == 0;
        }
    }
    GENERAL_NAMES_free(names);
    return found;
}

int ota_x509_matches(const char *host, const char *cert_path, const char *key_path,
                     ota_diag_t *diag)
{
    if (host == NULL || cert_path == NULL || key_path == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "host, certificate and key are required");
    }
    host_kind_t kind;
    if (classify_host(host, &kind, diag) != OTA_OK) {
        return OTA_ERR_INVALID_ARG;
    }
    FILE *fp = NULL;
    int err = open_pem(cert_path, &fp, diag);
    if (err != OTA_OK) {
        return err;
    }
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (x == NULL) {
        ERR_clear_error();
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: no PEM certificate", cert_path);
    }
    err = open_pem(key_path, &fp, diag);
    if (err != OTA_OK) {
        X509_free(x);
        return err;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (pkey == NULL) {
        ERR_clear_error();
        X509_free(x);
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: no PEM private key", key_path);
    }
    int result = 1;
    if (!cn_equals(x, host)) {
        result = ota_diag_set(diag, 0, "%s: subject CN is not %s", cert_path, host);
    } else if (!san_has(x, host, &kind)) {
        result = ota_diag_set(diag, 0, "%s: subjectAltName has no %s:%s", cert_path,
                              kind.is_ip ? "IP" : "DNS", host);
    } else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0 ||
               X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
        result = ota_diag_set(diag, 0, "%s: not valid now", cert_path);
    } else if (X509_check_private_key(x, pkey) != 1) {
        result = ota_diag_set(diag, 0, "%s: key does not match %s", key_path, cert_path);
    }
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    X509_free(x);
    return result;
}
