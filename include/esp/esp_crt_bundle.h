/*
 * ESP-IDF certificate bundle (esp_crt_bundle) on the host.
 *
 * On the device the bundle is a list of root certificates built into the firmware; setting
 * `.crt_bundle_attach = esp_crt_bundle_attach` in esp_http_client_config_t makes the TLS layer
 * verify servers against it. Here the bundle is the host's system CA store plus the
 * certificates added at run time with esp_crt_bundle_add_pem() (the app runtime adds the
 * certificate embedded in the app image this way, as the ESP-IDF examples' custom bundle does).
 * The added certificates are process-wide and shared by every client.
 */
#ifndef ESP_CRT_BUNDLE_H
#define ESP_CRT_BUNDLE_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Selects the bundle for the TLS configuration conf. The HTTP client calls it for every HTTPS
 * connection with its own configuration record; conf NULL only checks that the bundle is
 * usable. Returns ESP_OK.
 */
esp_err_t esp_crt_bundle_attach(void *conf);

/* Deselects the bundle from conf (NULL: no effect). */
void esp_crt_bundle_detach(void *conf);

/*
 * Adds every certificate found in the NUL-terminated PEM text pem to the bundle (copied;
 * the caller keeps pem). Adding a certificate twice is harmless.
 * Returns ESP_OK; ESP_ERR_INVALID_ARG when pem is NULL or holds no certificate;
 * ESP_ERR_NO_MEM.
 */
esp_err_t esp_crt_bundle_add_pem(const char *pem);

/* Removes all certificates added with esp_crt_bundle_add_pem (the system store remains). */
void esp_crt_bundle_clear_pem(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_CRT_BUNDLE_H */
