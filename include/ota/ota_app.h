/*
 * Services of the app runtime on the simulated board.
 *
 * An ESP-IDF build turns sdkconfig into compile-time CONFIG_* macros and links embedded files
 * (EMBED_TXTFILES) into the binary. An otakit app image carries its sdkconfig and embedded files
 * inside the image, and the app reads them back at run time through these calls, so the same
 * program behaves differently when its image is built with another configuration.
 */
#ifndef OTA_APP_H
#define OTA_APP_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONFIG_<key> from the running image's sdkconfig (key with or without the CONFIG_ prefix). */
bool ota_app_cfg_bool(const char *key, bool def);
long long ota_app_cfg_int(const char *key, long long def);
const char *ota_app_cfg_str(const char *key, const char *def);

/*
 * An embedded file of the running image by name (e.g. "ca_cert.pem"): pointer to its bytes
 * (followed by a NUL, like ESP-IDF's EMBED_TXTFILES) and its length in *len (may be NULL), or
 * NULL when the image has no such file. Valid for the life of the app.
 */
const char *ota_app_embedded(const char *name, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* OTA_APP_H */
