/*
 * sdkconfig files: the CONFIG_* keys that configure apps and the bootloader (host side).
 *
 * Accepts ESP-IDF's sdkconfig syntax: `CONFIG_NAME=value` (y, a number, or a double-quoted string
 * with \" and \\ escapes), `# CONFIG_NAME is not set` (an explicit "n"), other `#` lines and empty
 * lines ignored. Later lines override earlier ones. Keys may be looked up with or without the
 * CONFIG_ prefix.
 */
#ifndef OTA_SDKCONFIG_H
#define OTA_SDKCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ota_sdkconfig ota_sdkconfig_t;

/* Creates an empty configuration; NULL on allocation failure. Free with ota_sdkconfig_free. */
ota_sdkconfig_t *ota_sdkconfig_new(void);

/*
 * Parses len bytes of text into a new configuration (*out, caller frees).
 * Returns OTA_OK, OTA_ERR_SYNTAX (diag: "line N: why"; a NUL byte anywhere is one) or
 * OTA_ERR_NO_MEM.
 */
int ota_sdkconfig_parse(const char *text, size_t len, ota_sdkconfig_t **out, ota_diag_t *diag);

/* Reads and parses a file. Returns as ota_sdkconfig_parse, or OTA_ERR_IO if it can't be read. */
int ota_sdkconfig_load(const char *path, ota_sdkconfig_t **out, ota_diag_t *diag);

void ota_sdkconfig_free(ota_sdkconfig_t *cfg);

/* The value of key (unquoted for strings), or NULL if the key is absent or "is not set". */
const char *ota_sdkconfig_get(const ota_sdkconfig_t *cfg, const char *key);

/* y → true, "is not set" → false, absent → def. */
bool ota_sdkconfig_bool(const ota_sdkconfig_t *cfg, const char *key, bool def);

/* Integer value (decimal or 0x hex); absent or not a number → def. */
long long ota_sdkconfig_int(const ota_sdkconfig_t *cfg, const char *key, long long def);

/* String value; absent → def. */
const char *ota_sdkconfig_str(const ota_sdkconfig_t *cfg, const char *key, const char *def);

/*
 * Sets key to a raw value: "y", "n" (stored as "is not set"), a number, or a string that is kept
 * as given (quote it yourself as "\"text\"" to make it a string). Returns OTA_OK or OTA_ERR_NO_MEM.
 */
int ota_sdkconfig_set(ota_sdkconfig_t *cfg, const char *key, const char *raw);

/*
 * Formats the configuration as sdkconfig text (keys in insertion order). Returns a malloc'ed,
 * NUL-terminated string the caller frees, or NULL on allocation failure.
 */
char *ota_sdkconfig_format(const ota_sdkconfig_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* OTA_SDKCONFIG_H */
