/*
 * Host (POSIX) port: services the portable core needs, implemented with the host's libraries.
 */
#ifndef OTA_POSIX_H
#define OTA_POSIX_H

#include "ota/ota_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Crypto hooks backed by OpenSSL's libcrypto (EVP). The returned struct is static; never NULL. */
const ota_crypto_t *ota_crypto_openssl(void);

#ifdef __cplusplus
}
#endif

#endif /* OTA_POSIX_H */
