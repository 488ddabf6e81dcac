/*
 * The store behind the nvs_* API: ESP-IDF's page format (ota_idfnvs.h) or otakit's own
 * log-structured store (ota_kv.h). nvs_store_mount picks the format: ESP-IDF's when the
 * partition holds ESP-IDF pages (a partition from nvs_partition_gen.py or a device), or is blank
 * and the app's sdkconfig sets CONFIG_OTAKIT_NVS_FORMAT_IDF; otakit's otherwise. The calls
 * return native error codes (ota_err.h); types are ESP-IDF's nvs_type_t values.
 */
#ifndef OTAKIT_NVS_STORE_H
#define OTAKIT_NVS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_flash.h"

/* Mounts the partition; idf_when_blank chooses the format of a blank partition. */
int nvs_store_mount(const ota_flash_t *f, uint32_t offset, uint32_t size, bool idf_when_blank);

/* Erases the partition and mounts it empty, in the format it had (nvs_flash_erase). */
int nvs_store_format(const ota_flash_t *f, uint32_t offset, uint32_t size, bool idf_when_blank);

bool nvs_store_mounted(void);

/* True when the mounted store is in ESP-IDF's format. */
bool nvs_store_is_idf(void);

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
