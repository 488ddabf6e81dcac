/*
 * Self-signed server certificates for the firmware server (host side, OpenSSL).
 *
 * The ESP-IDF OTA guide makes the server's certificate with
 *   openssl req -x509 -newkey rsa:2048 -keyout ca_key.pem -out ca_cert.pem -days 365 -nodes
 *       -subj /CN=HOST -addext subjectAltName=IP:HOST
 * and embeds ca_cert.pem in the app as the trusted root. ota_x509_self_signed() makes the same
 * pair: an RSA-2048 key and an X.509 v3 certificate signed with SHA-256 by that key, subject and
 * issuer CN=HOST, subjectAltName IP:HOST when HOST is an IPv4/IPv6 address and DNS:HOST otherwise,
 * basicConstraints CA:TRUE (critical), subject and authority key identifiers, a random positive
 * 159-bit serial number.
 */
#ifndef OTA_X509_H
#define OTA_X509_H

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validity of a certificate made with days = 0. */
#define OTA_X509_DEFAULT_DAYS 365

/*
 * Generates a key and a self-signed certificate for host and writes them as PEM: the private
 * key (unencrypted PKCS#8, "BEGIN PRIVATE KEY") to key_path with mode 0600 and the certificate
 * to cert_path with mode 0644. Both are built in memory first and each file is written through a
 * temporary file and a rename, so a failure leaves existing files untouched.
 *
 * host: an IPv4 or IPv6 address, or a DNS name (letters, digits, '-', '.', '_', '*'), at most 64
 *       characters (the X.509 limit for a common name).
 * days: validity from now; 0 means OTA_X509_DEFAULT_DAYS.
 *
 * Returns OTA_OK; OTA_ERR_INVALID_ARG for a NULL path or an unusable host name;
 * OTA_ERR_NO_MEM when OpenSSL cannot build the key or the certificate (diag has OpenSSL's
 * reason); OTA_ERR_IO when a file cannot be written (diag names it).
 */
int ota_x509_self_signed(const char *host, const char *cert_path, const char *key_path,
                         unsigned days, ota_diag_t *diag);

/*
 * Tells whether an existing certificate and key can be reused for host: the certificate is valid
 * now, its subject CN equals host, its subjectAltName has host as an IP entry (when host is an
 * address) or a DNS entry (otherwise, compared without regard to case), and the private key in
 * key_path belongs to it.
 *
 * Returns 1 when all of that holds; 0 when the files are readable but one condition fails (diag
 * says which); OTA_ERR_INVALID_ARG for NULL arguments; OTA_ERR_NOT_FOUND when a file does not
 * exist; OTA_ERR_IO when it cannot be read; OTA_ERR_CORRUPT when it holds no PEM certificate or
 * key.
 */
int ota_x509_matches(const char *host, const char *cert_path, const char *key_path,
                     ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_X509_H */
