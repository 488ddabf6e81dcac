/* The store behind the nvs_* API (nvs_store.h): ESP-IDF's page format. */
#include "nvs_store.h"

#include "nvs.h"
#include "ota/ota_idfnvs.h"

static ota_idfnvs_t idf;
static bool mounted;

int nvs_store_mount(const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    int err = ota_idfnvs_mount(&idf, f, offset, size);
    mounted = err == OTA_OK;
    return err;
}

int nvs_store_format(const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    mounted = false;
    int err = ota_flash_erase_range(f, offset, size);
    return err == OTA_OK ? nvs_store_mount(f, offset, size) : err;
}

bool nvs_store_mounted(void)
{
    return mounted;
}

int nvs_store_ns_open(const char *ns, bool create)
{
    return create ? ota_idfnvs_namespace(&idf, ns) : ota_idfnvs_namespace_find(&idf, ns);
}

int nvs_store_erase_key(const char *ns, const char *key)
{
    return ota_idfnvs_erase_key(&idf, ns, key);
}

int nvs_store_erase_ns(const char *ns)
{
    return ota_idfnvs_erase_all(&idf, ns);
}

/* nvs_type_t's blob (0x42) is the format's blob index type (0x48). */
static uint8_t idf_type(uint8_t type)
{
    return type == NVS_TYPE_BLOB ? (uint8_t)OTA_IDFNVS_BLOB : type;
}

int nvs_store_set(const char *ns, const char *key, uint8_t type, const void *data, size_t len)
{
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
    int err = ota_idfnvs_find_key(&idf, ns, key, type, len);
    if (err == OTA_OK && *type == OTA_IDFNVS_BLOB) {
        *type = NVS_TYPE_BLOB;
    }
    return err;
}

int nvs_store_get(const char *ns, const char *key, uint8_t type, void *out, size_t cap)
{
    uint8_t stored;
    size_t n;
    int err = ota_idfnvs_find_key(&idf, ns, key, &stored, &n);
    if (err == OTA_OK && stored != idf_type(type)) {
        return OTA_ERR_UNSUPPORTED;
    }
    return err == OTA_OK ? ota_idfnvs_get(&idf, ns, key, idf_type(type), out, cap, &n) : err;
}
