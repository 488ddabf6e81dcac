/*
 * ESP-IDF native OTA API (app_update, esp_ota_ops.h, v5.5) over the native OTA core
 * (ota_ops.h). This file owns only the handles: a handle is a number from a counter that is
 * pre-incremented (the first handle is 1, 0 is never valid) naming a heap record that holds the
 * core's session; several may be open at once; esp_ota_end (whatever its result) and
 * esp_ota_abort free them. Everything else is the core's, with errors mapped by
 * esp_err_from_ota.
 */
#include "esp_ota_ops.h"

#include <stdlib.h>
#include <string.h>

#include "esp_dev_priv.h"
#include "esp_log.h"
#include "esp_system.h"

#define TAG "esp_ota_ops"

typedef struct ota_handle {
    esp_ota_handle_t id;
    ota_session_t s;
    struct ota_handle *next;
} ota_handle_t;

static ota_handle_t *g_handles;
static esp_ota_handle_t g_last_handle;

void esp_ota_drop_handles(void)
{
    while (g_handles != NULL) {
        ota_handle_t *h = g_handles;
        g_handles = h->next;
        free(h);
    }
    g_last_handle = 0; /* a new installation is a new boot */
}

bool esp_ota_handle_uses(const ota_part_t *p)
{
    for (ota_handle_t *h = g_handles; h != NULL; h = h->next) {
        if (h->s.staging == p || h->s.final == p) {
            return true;
        }
    }
    return false;
}

static ota_handle_t *find_handle(esp_ota_handle_t id)
{
    for (ota_handle_t *h = g_handles; h != NULL; h = h->next) {
        if (h->id == id) {
            return h;
        }
    }
    return NULL;
}

static void free_handle(ota_handle_t *h)
{
    for (ota_handle_t **pp = &g_handles; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    free(h);
}

/*
 * Checks the arguments of esp_ota_begin / esp_ota_resume, converts partition into *want and
 * allocates the record *h that open_handle links or frees. ESP_OK, ESP_ERR_INVALID_ARG or
 * ESP_ERR_NO_MEM (nothing allocated then).
 */
static esp_err_t new_handle(const esp_partition_t *partition, const esp_ota_handle_t *out_handle,
                            ota_part_t *want, ota_handle_t **h)
{
    if (partition == NULL || out_handle == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_dev_part_from(partition, want);
    *h = calloc(1, sizeof(**h));
    return *h != NULL ? ESP_OK : ESP_ERR_NO_MEM;
}

/* Links h as a new handle when the core opened its session (err OTA_OK), else frees it. A
 * session that was opened and closed again by a failed erase consumes its number, as the handle
 * was already allocated at that point in ESP-IDF (which keeps it; this layer frees it). Lock
 * held. */
static esp_err_t open_handle(ota_handle_t *h, int err, esp_ota_handle_t *out_handle)
{
    if (err != OTA_OK) {
        if (h->s.staging != NULL) {
            ++g_last_handle; /* the erase failed: ESP-IDF had allocated this number already */
        }
        free(h);
        return esp_err_from_ota(err);
    }
    h->id = ++g_last_handle;
    h->next = g_handles;
    g_handles = h;
    *out_handle = h->id;
    return ESP_OK;
}

/* Runs a core operation on the installed device under its lock; its result as an esp_err_t. */
static esp_err_t run_locked(int (*op)(const ota_ops_dev_t *dev))
{
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(op(esp_dev_ops()));
    esp_dev_unlock();
    return ret;
}

/* The ESP-IDF partition record of the partition a core query returns, under the device lock. */
static const esp_partition_t *find_locked(const ota_part_t *(*query)(const ota_ops_dev_t *dev))
{
    esp_dev_lock();
    const esp_partition_t *p = esp_dev_info_of(query(esp_dev_ops()));
    esp_dev_unlock();
    return p;
}

esp_err_t esp_ota_begin(const esp_partition_t *partition, size_t image_size,
                        esp_ota_handle_t *out_handle)
{
    ota_part_t want;
    ota_handle_t *h = NULL;
    esp_err_t ret = new_handle(partition, out_handle, &want, &h);
    if (ret != ESP_OK) {
        return ret;
    }
    esp_dev_lock();
    ret = open_handle(h, ota_ops_begin(esp_dev_ops(), &want, image_size, &h->s), out_handle);
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_resume(const esp_partition_t *partition, const size_t erase_size,
                         const size_t image_offset, esp_ota_handle_t *out_handle)
{
    ota_part_t want;
    ota_handle_t *h = NULL;
    esp_err_t ret = new_handle(partition, out_handle, &want, &h);
    if (ret != ESP_OK) {
        return ret;
    }
    esp_dev_lock();
    ret = open_handle(h, ota_ops_resume(esp_dev_ops(), &want, erase_size, image_offset, &h->s),
                      out_handle);
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_set_final_partition(esp_ota_handle_t handle, const esp_partition_t *final,
                                      bool finalize_with_copy)
{
    if (final == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_dev_lock();
    esp_err_t ret = ESP_ERR_NOT_FOUND;
    ota_handle_t *h = find_handle(handle);
    if (h != NULL) {
        ota_part_t want;
        const ota_part_t *target = &want;
        if (final == esp_dev_info_of(h->s.staging)) {
            target = h->s.staging;
        } else {
            esp_dev_part_from(final, &want);
        }
        ret = esp_err_from_ota(ota_ops_set_final(esp_dev_ops(), &h->s, target, finalize_with_copy));
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_write(esp_ota_handle_t handle, const void *data, size_t size)
{
    esp_dev_lock();
    esp_err_t ret;
    if (data == NULL || size == 0) {
        ret = esp_err_from_ota(ota_ops_write(esp_dev_ops(), NULL, data, size));
    } else {
        ota_handle_t *h = find_handle(handle);
        if (h == NULL) {
            ESP_LOGE(TAG, "not found the handle");
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_ops_write(esp_dev_ops(), &h->s, data, size));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_write_with_offset(esp_ota_handle_t handle, const void *data, size_t size,
                                    uint32_t offset)
{
    esp_dev_lock();
    esp_err_t ret;
    if (data == NULL) {
        ret = esp_err_from_ota(ota_ops_write_at(esp_dev_ops(), NULL, data, size, offset));
    } else {
        ota_handle_t *h = find_handle(handle);
        if (h == NULL) {
            ESP_LOGE(TAG, "OTA handle not found");
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_ops_write_at(esp_dev_ops(), &h->s, data, size, offset));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_end(esp_ota_handle_t handle)
{
    esp_dev_lock();
    esp_err_t ret = ESP_ERR_NOT_FOUND;
    ota_handle_t *h = find_handle(handle);
    if (h != NULL) {
        ret = esp_err_from_ota(ota_ops_end(esp_dev_ops(), &h->s));
        free_handle(h);
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_abort(esp_ota_handle_t handle)
{
    esp_dev_lock();
    esp_err_t ret = ESP_ERR_NOT_FOUND;
    ota_handle_t *h = find_handle(handle);
    if (h != NULL) {
        (void)ota_ops_abort(&h->s);
        free_handle(h);
        ret = ESP_OK;
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p); /* used as given, as ESP-IDF does */
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(ota_ops_set_boot(esp_dev_ops(), &p));
    esp_dev_unlock();
    return ret;
}

const esp_partition_t *esp_ota_get_boot_partition(void)
{
    return find_locked(ota_ops_get_boot);
}

const esp_partition_t *esp_ota_get_running_partition(void)
{
    esp_dev_lock();
    const esp_partition_t *p = esp_dev_state()->running;
    esp_dev_unlock();
    return p;
}

const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from)
{
    ota_part_t want;
    if (start_from != NULL) {
        esp_dev_part_from(start_from, &want);
    }
    esp_dev_lock();
    const esp_partition_t *p =
        esp_dev_info_of(ota_ops_next_update(esp_dev_ops(), start_from != NULL ? &want : NULL));
    esp_dev_unlock();
    return p;
}

esp_err_t esp_ota_get_partition_description(const esp_partition_t *partition,
                                            esp_app_desc_t *app_desc)
{
    if (partition == NULL || app_desc == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p);
    uint8_t raw[OTA_APP_DESC_LEN];
    esp_dev_lock();
    int err = ota_ops_app_desc(esp_dev_ops(), &p, raw);
    esp_dev_unlock();
    if (err == OTA_OK || err == OTA_ERR_NOT_FOUND) {
        esp_dev_app_desc_from_raw(raw, app_desc); /* ESP-IDF fills it before the magic check */
    }
    return esp_err_from_ota(err);
}

esp_err_t esp_ota_get_bootloader_description(const esp_partition_t *bootloader_partition,
                                             esp_bootloader_desc_t *desc)
{
    if (desc == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    if (bootloader_partition != NULL) {
        esp_dev_part_from(bootloader_partition, &p);
    }
    uint8_t raw[OTA_BOOT_DESC_LEN];
    esp_dev_lock();
    int err = ota_ops_boot_desc(esp_dev_ops(), bootloader_partition != NULL ? &p : NULL, raw);
    esp_dev_unlock();
    if (err == OTA_OK || err == OTA_ERR_NOT_FOUND) {
        esp_dev_boot_desc_from_raw(raw, desc);
    }
    return esp_err_from_ota(err);
}

uint8_t esp_ota_get_app_partition_count(void)
{
    esp_dev_lock();
    int n = ota_ops_app_count(esp_dev_ops());
    esp_dev_unlock();
    return (uint8_t)n;
}

esp_err_t esp_ota_mark_app_valid_cancel_rollback(void)
{
    return run_locked(ota_ops_mark_valid);
}

esp_err_t esp_ota_mark_app_invalid_rollback(void)
{
    return run_locked(ota_ops_mark_invalid);
}

esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void)
{
    esp_err_t ret = esp_ota_mark_app_invalid_rollback();
    if (ret == ESP_OK) {
        esp_restart();
    }
    return ret;
}

const esp_partition_t *esp_ota_get_last_invalid_partition(void)
{
    return find_locked(ota_ops_last_invalid);
}

esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition,
                                      esp_ota_img_states_t *ota_state)
{
    if (partition == NULL || ota_state == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_part_t p;
    esp_dev_part_from(partition, &p);
    uint32_t state = 0;
    esp_dev_lock();
    esp_err_t ret = esp_err_from_ota(ota_ops_get_state(esp_dev_ops(), &p, &state));
    esp_dev_unlock();
    if (ret == ESP_OK) {
        *ota_state = (esp_ota_img_states_t)state;
    }
    return ret;
}

esp_err_t esp_ota_erase_last_boot_app_partition(void)
{
    return run_locked(ota_ops_erase_last_boot);
}

esp_err_t esp_ota_invalidate_inactive_ota_data_slot(void)
{
    return run_locked(ota_ops_invalidate_inactive);
}

bool esp_ota_check_rollback_is_possible(void)
{
    esp_dev_lock();
    bool possible = ota_ops_rollback_possible(esp_dev_ops());
    esp_dev_unlock();
    return possible;
}
