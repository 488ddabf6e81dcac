/* Internal link between esp_crt_bundle.c and the HTTP client's TLS set-up (not installed). */
#ifndef ESP_CRT_BUNDLE_PRIV_H
#define ESP_CRT_BUNDLE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509_vfy.h>

/* The "TLS configuration" the client hands to config->crt_bundle_attach. */
typedef struct {
    uint32_t magic; /* ESP_CRT_BUNDLE_CONF_MAGIC: tells our record from a foreign pointer */
    bool use_bundle;
} esp_crt_bundle_conf_t;

#define ESP_CRT_BUNDLE_CONF_MAGIC 0x43525442u /* "CRTB" */

/*
 * Adds the certificates registered with esp_crt_bundle_add_pem to store (which already holds
 * the system CAs). Returns the number of certificates added. Thread-safe.
 */
int esp_crt_bundle_add_to_store(X509_STORE *store);

#endif /* ESP_CRT_BUNDLE_PRIV_H */
