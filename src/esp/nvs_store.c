/* The store behind the nvs_* API (nvs_store.h): ESP-IDF's page format or otakit's own. */
#include "nvs_store.h"

#include <string.h>

#include "ota/ota_idfnvs.h"
#include "ota/ota_kv.h"

static ota_kv_t kv;
static ota_idfnvs_t idf;
static bool idf_mounted;
static bool use_idf;
static bool formatted_idf; /* nvs_store_format erased an ESP-IDF-format partition */

/* ESP-IDF's format when the partition holds its pages, or is blank and that is wanted. */
static bool pick_idf(const ota_flash_t *f, uint32_t offset, uint32_t size, bool idf_when_blank)
{
    if (ota_idfnvs_detect(f, offset, size)) {
        return true;
    }
    return idf_when_blank && ota_flash_is_erased(f, offset, size) == 1;
}

int nvs_store_mount(const ota_flash_t *f, uint32_t offset, uint32_t size, bool idf_when_blank)
{
    use_idf = pick_idf(f, offset, size, idf_when_blank || formatted_idf);
    idf_mounted = false;
    if (!use_idf) {
        return ota_kv_mount(&kv, f, offset, size, NULL);
    }
    int err = ota_idfnvs_mount(&idf, f, offset, size);
    idf_mounted = err == OTA_OK;
    return err;
}

int nvs_store_format(const ota_flash_t *f, uint32_t offset, uint32_t size, bool idf_when_blank)
{
    bool was_idf = ota_idfnvs_detect(f, offset, size) || idf_when_blank;
    idf_mounted = false;
    use_idf = was_idf;
    formatted_idf = was_idf;
    if (!use_idf) {
        return ota_kv_format(&kv, f, offset, size, NULL);
    }
    int err = ota_flash_erase_range(f, offset, size);
    if (err == OTA_OK) {
        err = ota_idfnvs_mount(&idf, f, offset, size);
    }
    idf_mounted = err == OTA_OK;
    return err;
}

bool nvs_store_mounted(void)
{
    return use_idf ? idf_mounted : kv.mounted;
}

bool nvs_store_is_idf(void)
{
    return use_idf;
}

int nvs_store_ns_open(const char *ns, bool create)
{
    if (!use_idf) {
        return ota_kv_ns_open(&kv, ns, create, NULL);
    }
    return create ? ota_idfnvs_namespace(&idf, ns) : ota_idfnvs_namespace_find(&idf, ns);
}

int nvs_store_erase_key(const char *ns, const char *key)
{
    return use_idf ? ota_idfnvs_erase_key(&idf, ns, key) : ota_kv_erase_key(&kv, ns, key, NULL);
}

int nvs_store_erase_ns(const char *ns)
{
    return use_idf ? ota_idfnvs_erase_all(&idf, ns) : ota_kv_erase_ns(&kv, ns, NULL);
}

/* nvs_type_t's blob (0x42) is the ESP-IDF format's blob index type (0x48). */
static uint8_t idf_type(uint8_t type)
{
    return type == OTA_KV_TYPE_BLOB ? (uint8_t)OTA_IDFNVS_BLOB : type;
}

int nvs_store_set(const char *ns, const char *key, uint8_t type, const void *data, size_t len)
{
    if (!use_idf) {
        return ota_kv_set(&kv, ns, key, (ota_kv_type_t)type, data, (uint32_t)len, NULL);
    }
    /* ESP-IDF keeps one value per key: a value of another type is replaced */
    uint8_t stored;
    size_t n;
    int err = ota_idfnvs_find_key(&idf, ns, key, &stored, &n);
    if (err == OTA_OK && stored != idf_type(type)) {
        err = ota_idfnvs_erase_key(&idf, ns, key);
    }
    err = err == OTA_ERR_NOT_FOUND ? OTA_OK : err;
    return err == OTA_OK ? ota_idfnvs_set(&idf, ns, key, idf_type(type), data, len) : err;
}

int nvs_store_find(const char *ns, const char *key, uint8_t *type, size_t *len)
{
    if (!use_idf) {
        ota_kv_type_t t;
        uint32_t n = 0;
        int err = ota_kv_find(&kv, ns, key, &t, &n);
        *type = (uint8_t)t;
        *len = n;
        return err;
    }
    int err = ota_idfnvs_find_key(&idf, ns, key, type, len);
    if (err == OTA_OK && *type == OTA_IDFNVS_BLOB) {
        *type = OTA_KV_TYPE_BLOB;
    }
    return err;
}

int nvs_store_get(const char *ns, const char *key, uint8_t type, void *out, size_t cap)
{
    if (!use_idf) {
        return ota_kv_get(&kv, ns, key, (ota_kv_type_t)type, out, (uint32_t)cap, NULL, NULL);
    }
    uint8_t stored;
    size_t n;
    int err = ota_idfnvs_find_key(&idf, ns, key, &stored, &n);
    if (err == OTA_OK && stored != idf_type(type)) {
        return OTA_ERR_UNSUPPORTED;
    }
    return err == OTA_OK ? ota_idfnvs_get(&idf, ns, key, idf_type(type), out, cap, &n) : err;
}
