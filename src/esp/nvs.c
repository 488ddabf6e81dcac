/*
 * ESP-IDF nvs API (nvs.h, nvs_flash.h) over the store of nvs_store.h (ESP-IDF's page format),
 * kept in a data/nvs partition of the installed device: "nvs" by default, another one (of the
 * table or registered with esp_partition_register_external) through the *_partition calls. One
 * partition is initialised at a time.
 *
 * Writes go to flash at once and are durable when the call returns, so nvs_commit only checks
 * its handle. One mutex serialises every call (apps run their tasks as threads). Handles are
 * numbered from 1 upwards as in ESP-IDF and become invalid on nvs_close, nvs_flash_deinit and
 * nvs_flash_erase.
 */
#include "nvs.h"
#include "nvs_flash.h"

#include "esp_internal.h"
#include "esp_partition.h"
#include "nvs_store.h"
#include "ota/ota_idfnvs.h"
#include "ota/ota_nvs_enc.h"
#include "ota/ota_sdkconfig.h"

#include "esp_flash_encrypt.h"
#include "esp_log.h"
#include "esp_random.h"

#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#define MAX_HANDLES 64

typedef struct {
    nvs_handle_t id; /* 0 = free slot */
    bool readonly;
    char ns[OTA_IDFNVS_KEY_MAX + 1];
} nvs_slot_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;
static nvs_slot_t slots[MAX_HANDLES];
static nvs_handle_t last_id;
static char part_label[sizeof(((esp_partition_t *)0)->label)] = NVS_DEFAULT_PART_NAME;

static const ota_flash_t *region_flash; /* test override, NULL = the partition */
static uint32_t region_offset;
static uint32_t region_size;

void nvs_internal_use_region(const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    pthread_mutex_lock(&lock);
    region_flash = f;
    region_offset = offset;
    region_size = size;
    pthread_mutex_unlock(&lock);
}

/*
 * Where the partition labelled label lives: the override region (for "nvs"), else that data/nvs
 * partition of the installed device. False if there is no device or no such partition.
 */
static bool nvs_find_region(const char *label, const ota_flash_t **flash, uint32_t *offset,
                            uint32_t *size)
{
    if (region_flash != NULL && strcmp(label, NVS_DEFAULT_PART_NAME) == 0) {
        *flash = region_flash;
        *offset = region_offset;
        *size = region_size;
        return true;
    }
    *flash = esp_internal_flash();
    if (*flash == NULL) {
        return false;
    }
    const esp_partition_t *p =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_NVS, label);
    if (p == NULL) {
        return false;
    }
    *offset = p->address;
    *size = p->size;
    return true;
}

/* The XTS view of the initialised partition when NVS is encrypted. */
static ota_nvs_enc_t nvs_enc;

/* The keys of the nvs_keys partition kp into key: read, or on a blank partition generated and
 * written through flash encryption, as nvs_flash_init does (the record padded to 96 bytes). */
static esp_err_t nvs_keys(const esp_partition_t *kp, uint8_t key[OTA_NVS_ENC_KEY_LEN])
{
    uint8_t rec[96];
    esp_err_t ret = esp_partition_read_raw(kp, 0, rec, OTA_NVS_ENC_KEYS_REC);
    bool blank = ret == ESP_OK;
    for (uint32_t i = 0; blank && i < OTA_NVS_ENC_KEYS_REC; i++) {
        blank = rec[i] == 0xFF;
    }
    if (ret == ESP_OK && !blank) {
        ret = esp_partition_read(kp, 0, rec, OTA_NVS_ENC_KEYS_REC);
        if (ret == ESP_OK && !ota_nvs_enc_keys_ok(rec)) {
            ret = ESP_ERR_NVS_CORRUPT_KEY_PART;
        }
    } else if (ret == ESP_OK) {
        ESP_LOGW("nvs", "Failed to read NVS security cfg: [0x%02X] (%s)",
                 ESP_ERR_NVS_KEYS_NOT_INITIALIZED,
                 esp_err_to_name(ESP_ERR_NVS_KEYS_NOT_INITIALIZED));
        ESP_LOGI("nvs", "Generating NVS encr-keys...");
        esp_fill_random(key, OTA_NVS_ENC_KEY_LEN);
        memset(rec, 0xFF, sizeof(rec));
        ota_nvs_enc_keys_encode(key, rec);
        ret = esp_partition_erase_range(kp, 0, kp->size);
        if (ret == ESP_OK) {
            ret = esp_partition_write(kp, 0, rec, sizeof(rec));
        }
    }
    if (ret == ESP_OK) {
        memcpy(key, rec, OTA_NVS_ENC_KEY_LEN);
    }
    return ret;
}

/* With CONFIG_NVS_ENCRYPTION on a board whose flash encryption is on, *flash becomes the XTS
 * view of the partition [offset, offset+size) (lock held). */
static esp_err_t secure_region(const ota_flash_t **flash, uint32_t offset, uint32_t size)
{
    const esp_dev_config_t *cfg = esp_internal_config();
    if (*flash == region_flash || cfg == NULL ||
        !ota_sdkconfig_bool(cfg->sdkconfig, "NVS_ENCRYPTION", false) ||
        !esp_flash_encryption_enabled()) {
        return ESP_OK;
    }
    const esp_partition_t *kp = esp_partition_find_first(ESP_PARTITION_TYPE_DATA,
                                                         ESP_PARTITION_SUBTYPE_DATA_NVS_KEYS, NULL);
    if (kp == NULL) {
        ESP_LOGE("nvs", "CONFIG_NVS_ENCRYPTION is enabled, but no partition with subtype nvs_keys "
                        "found in the partition table.");
        return ESP_ERR_NOT_FOUND;
    }
    uint8_t key[OTA_NVS_ENC_KEY_LEN];
    esp_err_t ret = nvs_keys(kp, key);
    if (ret == ESP_OK) {
        ret = ota_nvs_enc_init(&nvs_enc, *flash, esp_internal_crypto(), key, offset, size) == OTA_OK
                  ? ESP_OK
                  : ESP_ERR_NOT_SUPPORTED;
    }
    if (ret == ESP_OK) {
        *flash = &nvs_enc.view.flash;
    }
    return ret;
}

/* esp_err_t for a store error of a get, set or erase. */
static esp_err_t map_err(int err)
{
    switch (err) {
    case OTA_OK:
        return ESP_OK;
    case OTA_ERR_NOT_FOUND:
        return ESP_ERR_NVS_NOT_FOUND;
    case OTA_ERR_UNSUPPORTED:
        return ESP_ERR_NVS_TYPE_MISMATCH;
    case OTA_ERR_NO_SPACE:
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    case OTA_ERR_STATE:
        return ESP_ERR_NVS_INVALID_STATE;
    case OTA_ERR_SIZE:
        return ESP_ERR_NVS_INVALID_LENGTH;
    case OTA_ERR_INVALID_ARG:
        return ESP_ERR_INVALID_ARG;
    case OTA_ERR_READONLY:
        return ESP_ERR_NOT_ALLOWED;
    case OTA_ERR_CORRUPT:
        return ESP_FAIL;
    default:
        return ESP_ERR_FLASH_OP_FAIL;
    }
}

/* esp_err_t for a failed mount, as nvs_flash_init reports it. */
static esp_err_t map_mount_err(int err)
{
    switch (err) {
    case OTA_ERR_VERSION:
        return ESP_ERR_NVS_NEW_VERSION_FOUND;
    case OTA_ERR_STATE: /* every page in use, none left for collection */
    case OTA_ERR_CORRUPT:
    case OTA_ERR_SIZE:
    case OTA_ERR_ALIGN:
    case OTA_ERR_BOUNDS:
        return ESP_ERR_NVS_NO_FREE_PAGES;
    default:
        return map_err(err);
    }
}

static void close_all(void)
{
    memset(slots, 0, sizeof(slots));
}

static nvs_slot_t *find_slot(nvs_handle_t h)
{
    if (h == 0) {
        return NULL;
    }
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (slots[i].id == h) {
            return &slots[i];
        }
    }
    return NULL;
}

/* ESP_OK for a usable namespace or key name, else ESP-IDF's code for what is wrong. */
static esp_err_t check_name(const char *name)
{
    if (name == NULL || name[0] == '\0') {
        return ESP_ERR_NVS_INVALID_NAME;
    }
    if (strlen(name) > OTA_IDFNVS_KEY_MAX) {
        return ESP_ERR_NVS_KEY_TOO_LONG;
    }
    return ESP_OK;
}

static esp_err_t init_part(const char *label)
{
    uint32_t offset;
    uint32_t size;
    esp_err_t ret = ESP_OK;
    pthread_mutex_lock(&lock);
    if (initialized && strcmp(label, part_label) != 0) {
        ret = ESP_ERR_NVS_INVALID_STATE; /* another partition is initialised */
        goto out;
    }
    if (initialized && nvs_store_mounted()) {
        goto out; /* already initialised */
    }
    const ota_flash_t *f = NULL;
    if (!nvs_find_region(label, &f, &offset, &size)) {
        ret = ESP_ERR_NOT_FOUND;
        goto out;
    }
    ret = secure_region(&f, offset, size);
    if (ret != ESP_OK) {
        goto out;
    }
    snprintf(part_label, sizeof(part_label), "%s", label);
    /* one page, as in ESP-IDF: it becomes the active page and none is left free */
    int err = size < 2 * OTA_IDFNVS_PAGE_SIZE ? OTA_ERR_STATE : nvs_store_mount(f, offset, size);
    if (err != OTA_OK) {
        ret = map_mount_err(err);
        goto out;
    }
    initialized = true;
out:
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_flash_init(void)
{
    return init_part(NVS_DEFAULT_PART_NAME);
}

static esp_err_t deinit_part(const char *label)
{
    esp_err_t ret = ESP_OK;
    pthread_mutex_lock(&lock);
    if (!initialized || strcmp(label, part_label) != 0) {
        ret = ESP_ERR_NVS_NOT_INITIALIZED;
    } else {
        close_all();
        initialized = false;
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_flash_deinit(void)
{
    return deinit_part(NVS_DEFAULT_PART_NAME);
}

/* Erases the partition labelled label (deinitialising it first, as ESP-IDF does); the store
 * stays with an initialised other partition. */
static esp_err_t erase_part(const char *label)
{
    uint32_t offset;
    uint32_t size;
    esp_err_t ret = ESP_OK;
    pthread_mutex_lock(&lock);
    bool other = initialized && strcmp(label, part_label) != 0;
    if (!other) {
        close_all();
        initialized = false;
    }
    const ota_flash_t *f = NULL;
    if (!nvs_find_region(label, &f, &offset, &size)) {
        ret = ESP_ERR_NOT_FOUND;
    } else {
        if (!other) {
            snprintf(part_label, sizeof(part_label), "%s", label);
            ret = secure_region(&f, offset, size);
        }
        int err = ret != ESP_OK ? OTA_OK
                  : other       ? ota_flash_erase_range(f, offset, size)
                                : nvs_store_format(f, offset, size);
        if (err != OTA_OK) {
            ret = err == OTA_ERR_READONLY ? ESP_ERR_NOT_ALLOWED : map_mount_err(err);
        }
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_flash_erase(void)
{
    return erase_part(NVS_DEFAULT_PART_NAME);
}

esp_err_t nvs_open(const char *namespace_name, nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    esp_err_t ret;
    pthread_mutex_lock(&lock);
    if (!initialized) {
        ret = ESP_ERR_NVS_NOT_INITIALIZED;
    } else if (out_handle == NULL) {
        ret = ESP_ERR_INVALID_ARG;
    } else if ((ret = check_name(namespace_name)) == ESP_OK) {
        nvs_slot_t *slot = NULL;
        for (int i = 0; slot == NULL && i < MAX_HANDLES; i++) {
            if (slots[i].id == 0) {
                slot = &slots[i];
            }
        }
        if (slot == NULL) {
            ret = ESP_ERR_NO_MEM;
        } else {
            ret = map_err(nvs_store_ns_open(namespace_name, open_mode == NVS_READWRITE));
        }
        if (ret == ESP_OK) {
            if (++last_id == 0) {
                last_id = 1;
            }
            slot->id = last_id;
            slot->readonly = open_mode != NVS_READWRITE;
            memcpy(slot->ns, namespace_name, strlen(namespace_name) + 1);
            *out_handle = slot->id;
        }
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

void nvs_close(nvs_handle_t handle)
{
    pthread_mutex_lock(&lock);
    nvs_slot_t *slot = find_slot(handle);
    if (slot != NULL) {
        memset(slot, 0, sizeof(*slot));
    }
    pthread_mutex_unlock(&lock);
}

esp_err_t nvs_commit(nvs_handle_t handle)
{
    pthread_mutex_lock(&lock);
    esp_err_t ret = find_slot(handle) != NULL ? ESP_OK : ESP_ERR_NVS_INVALID_HANDLE;
    pthread_mutex_unlock(&lock);
    return ret;
}

/* Handle lookup for a call that writes: ESP_OK and *slot, or the error to return. */
static esp_err_t writable_slot(nvs_handle_t handle, nvs_slot_t **slot)
{
    *slot = find_slot(handle);
    if (*slot == NULL) {
        return ESP_ERR_NVS_INVALID_HANDLE;
    }
    return (*slot)->readonly ? ESP_ERR_NVS_READ_ONLY : ESP_OK;
}

esp_err_t nvs_erase_key(nvs_handle_t handle, const char *key)
{
    nvs_slot_t *slot;
    pthread_mutex_lock(&lock);
    esp_err_t ret = writable_slot(handle, &slot);
    if (ret == ESP_OK) {
        ret = check_name(key);
    }
    if (ret == ESP_OK) {
        ret = map_err(nvs_store_erase_key(slot->ns, key));
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_erase_all(nvs_handle_t handle)
{
    nvs_slot_t *slot;
    pthread_mutex_lock(&lock);
    esp_err_t ret = writable_slot(handle, &slot);
    if (ret == ESP_OK) {
        ret = map_err(nvs_store_erase_ns(slot->ns));
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

/* Common body of the setters; len was checked against the type by the caller. */
static esp_err_t set_value(nvs_handle_t handle, const char *key, nvs_type_t type, const void *data,
                           size_t len)
{
    nvs_slot_t *slot;
    pthread_mutex_lock(&lock);
    esp_err_t ret = writable_slot(handle, &slot);
    if (ret == ESP_OK) {
        ret = check_name(key);
    }
    if (ret == ESP_OK && data == NULL && len > 0) {
        ret = ESP_ERR_INVALID_ARG;
    }
    if (ret == ESP_OK && type == NVS_TYPE_STR && len > OTA_IDFNVS_STR_MAX) {
        ret = ESP_ERR_NVS_VALUE_TOO_LONG;
    }
    if (ret == ESP_OK) {
        ret = map_err(nvs_store_set(slot->ns, key, (uint8_t)type, data, len));
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_set_str(nvs_handle_t handle, const char *key, const char *value)
{
    /* a NULL string gets ESP_ERR_INVALID_ARG from set_value, after the handle checks */
    return set_value(handle, key, NVS_TYPE_STR, value, value != NULL ? strlen(value) + 1 : 1);
}

esp_err_t nvs_set_blob(nvs_handle_t handle, const char *key, const void *value, size_t length)
{
    return set_value(handle, key, NVS_TYPE_BLOB, value, length);
}

/* Common body of the integer getters: *out is written only on success. */
static esp_err_t get_int(nvs_handle_t handle, const char *key, nvs_type_t type, void *out,
                         size_t size)
{
    pthread_mutex_lock(&lock);
    nvs_slot_t *slot = find_slot(handle);
    esp_err_t ret = slot == NULL ? ESP_ERR_NVS_INVALID_HANDLE : check_name(key);
    if (ret == ESP_OK && out == NULL) {
        ret = ESP_ERR_INVALID_ARG;
    }
    if (ret == ESP_OK) {
        ret = map_err(nvs_store_get(slot->ns, key, (uint8_t)type, out, size));
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

/* nvs_set_<name> and nvs_get_<name> of an integer type: set_value and get_int with its tag. */
#define NVS_INT_ACCESSORS(name, ctype, tag)                                                        \
    esp_err_t nvs_set_##name(nvs_handle_t handle, const char *key, ctype value)                    \
    {                                                                                              \
        return set_value(handle, key, tag, &value, sizeof(value));                                 \
    }                                                                                              \
    esp_err_t nvs_get_##name(nvs_handle_t handle, const char *key, ctype *out_value)               \
    {                                                                                              \
        return get_int(handle, key, tag, out_value, sizeof(*out_value));                           \
    }

NVS_INT_ACCESSORS(u8, uint8_t, NVS_TYPE_U8)
NVS_INT_ACCESSORS(i8, int8_t, NVS_TYPE_I8)
NVS_INT_ACCESSORS(u16, uint16_t, NVS_TYPE_U16)
NVS_INT_ACCESSORS(i16, int16_t, NVS_TYPE_I16)
NVS_INT_ACCESSORS(u32, uint32_t, NVS_TYPE_U32)
NVS_INT_ACCESSORS(i32, int32_t, NVS_TYPE_I32)
NVS_INT_ACCESSORS(u64, uint64_t, NVS_TYPE_U64)
NVS_INT_ACCESSORS(i64, int64_t, NVS_TYPE_I64)

/*
 * Common body of nvs_get_str and nvs_get_blob, with ESP-IDF's length protocol: length NULL is
 * an error; out NULL is a size query; a buffer too small gets the size needed in *length and
 * ESP_ERR_NVS_INVALID_LENGTH.
 */
static esp_err_t get_var(nvs_handle_t handle, const char *key, nvs_type_t type, void *out,
                         size_t *length)
{
    uint8_t stored = 0;
    size_t size = 0;
    pthread_mutex_lock(&lock);
    nvs_slot_t *slot = find_slot(handle);
    esp_err_t ret = slot == NULL ? ESP_ERR_NVS_INVALID_HANDLE : check_name(key);
    if (ret == ESP_OK) {
        ret = map_err(nvs_store_find(slot->ns, key, &stored, &size));
    }
    if (ret == ESP_OK && stored != type) {
        ret = ESP_ERR_NVS_TYPE_MISMATCH;
    }
    if (ret == ESP_OK) {
        if (length == NULL) {
            ret = ESP_ERR_NVS_INVALID_LENGTH;
        } else if (out == NULL) {
            *length = size;
        } else if (*length < size) {
            *length = size;
            ret = ESP_ERR_NVS_INVALID_LENGTH;
        } else {
            *length = size;
            ret = map_err(nvs_store_get(slot->ns, key, (uint8_t)type, out, size));
        }
    }
    pthread_mutex_unlock(&lock);
    return ret;
}

esp_err_t nvs_get_str(nvs_handle_t handle, const char *key, char *out_value, size_t *length)
{
    return get_var(handle, key, NVS_TYPE_STR, out_value, length);
}

esp_err_t nvs_get_blob(nvs_handle_t handle, const char *key, void *out_value, size_t *length)
{
    return get_var(handle, key, NVS_TYPE_BLOB, out_value, length);
}

/* ESP_OK when label names the one store ("nvs"), else the error for it. */
esp_err_t nvs_flash_init_partition(const char *partition_label)
{
    return partition_label == NULL ? ESP_ERR_INVALID_ARG : init_part(partition_label);
}

esp_err_t nvs_flash_deinit_partition(const char *partition_label)
{
    return partition_label == NULL ? ESP_ERR_INVALID_ARG : deinit_part(partition_label);
}

esp_err_t nvs_flash_erase_partition(const char *partition_label)
{
    return partition_label == NULL ? ESP_ERR_INVALID_ARG : erase_part(partition_label);
}

/* ESP_OK when label names the initialised partition. */
static esp_err_t check_label(const char *label)
{
    if (label == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    bool ok = initialized && strcmp(label, part_label) == 0;
    pthread_mutex_unlock(&lock);
    return ok ? ESP_OK : ESP_ERR_NVS_PART_NOT_FOUND;
}

esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name,
                                  nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    esp_err_t err = check_label(part_name);
    return err == ESP_OK ? nvs_open(namespace_name, open_mode, out_handle) : err;
}
