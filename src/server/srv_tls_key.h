/*
 * The server's certificate chain and RSA private key for libmicrohttpd's certificate callback,
 * the key a GnuTLS external key whose signatures OpenSSL makes. A handshake's signature (one
 * per new connection) costs 1.8 ms in GnuTLS 3.7's RSA-2048 and 0.64 ms in OpenSSL 3.0's on
 * the bench machine; the handshake and its signature algorithms are GnuTLS's as before.
 * Not installed.
 */
#ifndef SRV_TLS_KEY_H
#define SRV_TLS_KEY_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>

#define SRV_TLS_KEY_MAX_CHAIN 8

typedef struct srv_tls_key srv_tls_key_t;

/*
 * The pair from PEM text (already checked to match). NULL when the key is not RSA or the chain
 * has more than SRV_TLS_KEY_MAX_CHAIN certificates: the server then hands libmicrohttpd the PEM
 * text, and GnuTLS signs.
 */
srv_tls_key_t *srv_tls_key_load(const char *cert_pem, const char *key_pem);

/* Frees k (NULL is ignored). */
void srv_tls_key_free(srv_tls_key_t *k);

/* The chain and key, as gnutls_certificate_retrieve_function2 returns them (k keeps them). */
void srv_tls_key_give(srv_tls_key_t *k, gnutls_pcert_st **pcert, unsigned *count,
                      gnutls_privkey_t *privkey);

#endif /* SRV_TLS_KEY_H */
