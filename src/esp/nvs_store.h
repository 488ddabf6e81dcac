/*
 * The store behind the nvs_* API: ESP-IDF's page format (ota_idfnvs.h) in one partition, with
 * the API's view of types (nvs_type_t values; a blob is NVS_TYPE_BLOB, 0x42) and ESP-IDF's rule
 * that a key holds one value whatever its type. The calls return native error codes (ota_err.h).
 */
#ifndef OTAKIT_NVS_STORE_H
#define OTAKIT_NVS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_flash.h"

/* Mounts the partition as nvs_flash_init does (a blank one mounts empty). */
int nvs_store_mount(const ota_flash_t *f, uint32_t offset, uint32_t size);

/* Erases the partition and mounts it empty (nvs_flash_erase). */
int nvs_store_format(const ota_flash_t *f, uint32_t offset, uint32_t size);

bool nvs_store_mounted(void);

/* The namespace exists (create false) or exists now (create true). */
int nvs_store_ns_open(const char *ns, bool create);

int nvs_store_erase_key(const char *ns, const char *key);
int nvs_store_erase_ns(const char *ns);
int nvs_store_set(const char *ns, const char *key, uint8_t type, const void *data, size_t len);

/* The stored type and length of key (blobs: NVS_TYPE_BLOB). */
int nvs_store_find(const char *ns, const char *key, uint8_t *type, size_t *len);

/* Reads key of type into out (cap bytes): OTA_ERR_UNSUPPORTED when it has another type. */
int nvs_store_get(const char *ns, const char *key, uint8_t type, void *out, size_t cap);

#endif /* OTAKIT_NVS_STORE_H */
