/*
 * Boot selection and otadata queries of ESP-IDF v5.5's esp_ota_ops.c (spec 2.8, 4.9 - 4.11):
 * set_boot, get_boot, next_update, the app-side OTA count, image states, rollback control and
 * the inactive-slot erases.
 */
#include "ota_le.h"
#include "ota_ops_priv.h"

#include <string.h>

static const ota_part_t *ota_slot_part(const ota_ops_dev_t *dev, uint32_t slot)
{
    return ota_ops_find(dev, OTA_PART_TYPE_APP, (int)(OTA_PART_SUBTYPE_APP_OTA_MIN + slot), NULL);
}

int ota_ops_app_count(const ota_ops_dev_t *dev)
{
    int n = 0;
    while (n < (int)OTA_OTADATA_MAX_SLOTS && ota_slot_part(dev, (uint32_t)n) != NULL) {
        n++;
    }
    return n;
}

/* Slot of seq as the app computes it: (seq - 1) mod n in 32-bit unsigned arithmetic. */
static uint32_t slot_of(uint32_t seq, int n)
{
    return (seq - 1u) % (uint32_t)n;
}

/* ---- set_boot ------------------------------------------------------------------------------ */

/* esp_rewrite_ota_data (spec 2.8, v5.5). */
static int rewrite_ota_data(const ota_ops_dev_t *dev, const ota_part_t *p)
{
    ota_otadata_entry_t e[2];
    const ota_part_t *od = ota_ops_otadata(dev, e);
    if (od == NULL) {
        return OTA_ERR_NOT_FOUND;
    }
    int n = ota_ops_app_count(dev);
    if (!ota_ops_is_ota_slot(p) || (uint32_t)(p->subtype & 0x0F) >= (uint32_t)n) {
        return OTA_ERR_INVALID_ARG;
    }
    int sector;
    ota_otadata_entry_t next;
    int err = ota_otadata_next(e, p->subtype & 0x0Fu, (uint32_t)n, dev->rollback, &sector, &next);
    if (err != OTA_OK) {
        return err;
    }
    int active = ota_otadata_active(e);
    if ((dev->test_flags & OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR) && active != -1) {
        sector = active; /* test only: the wrong write order (see ota_ops.h) */
    }
    if (dev->rollback) {
        ota_logf(dev->log, 'D', OTA_OPS_TAG, "Monitoring the first boot of the app is enabled.");
    }
    e[sector].state = next.state; /* label bytes stay as that sector holds them */
    return ota_ops_otadata_rewrite(dev, od, e, sector, next.seq);
}

int ota_ops_set_boot(const ota_ops_dev_t *dev, const ota_part_t *p)
{
    if (dev == NULL || p == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (ota_ops_verify_image(dev, p, false, false) != OTA_OK) {
        return OTA_ERR_VALIDATE;
    }
    if (p->type != OTA_PART_TYPE_APP) {
        return OTA_ERR_INVALID_ARG;
    }
    if (p->subtype == OTA_PART_SUBTYPE_APP_FACTORY) {
        const ota_part_t *od =
            ota_ops_find(dev, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_OTA, NULL);
        return od != NULL ? ota_ops_part_erase(dev, od, 0, od->size) : OTA_ERR_NOT_FOUND;
    }
    if (dev->anti_rollback) {
        uint8_t raw[OTA_APP_DESC_LEN];
        int err = ota_ops_app_desc(dev, p, raw);
        if (err != OTA_OK) {
            return err;
        }
        uint32_t counter = 0;
        err = ota_ops_secure_version(dev, &counter);
        if (err != OTA_OK) {
            return err;
        }
        if (ota_get_le32(raw + 4) < counter) {
            ota_logf(dev->log, 'E', OTA_OPS_TAG,
                     "This a new partition can not be booted due to a secure version is lower "
                     "than stored in efuse. Partition will be erased.");
            err = ota_ops_part_erase(dev, p, 0, p->size);
            return err != OTA_OK ? err : OTA_ERR_VERSION;
        }
    }
    return rewrite_ota_data(dev, p);
}

/* ---- queries ------------------------------------------------------------------------------- */

/* find_default_boot_partition: factory, else the first OTA slot, else test. */
static const ota_part_t *default_boot(const ota_ops_dev_t *dev)
{
    const ota_part_t *p = ota_ops_find(dev, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_FACTORY, NULL);
    if (p != NULL) {
        return p;
    }
    for (uint32_t slot = 0; slot < OTA_OTADATA_MAX_SLOTS; slot++) {
        p = ota_slot_part(dev, slot);
        if (p != NULL) {
            return p;
        }
    }
    p = ota_ops_find(dev, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_TEST, NULL);
    if (p == NULL) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG, "invalid partition table, no app partitions");
    }
    return p;
}

const ota_part_t *ota_ops_get_boot(const ota_ops_dev_t *dev)
{
    ota_otadata_entry_t e[2];
    if (dev == NULL || ota_ops_otadata(dev, e) == NULL) {
        return NULL;
    }
    int n = ota_ops_app_count(dev);
    ota_logf(dev->log, 'D', OTA_OPS_TAG, "found ota app max = %d", n);
    if ((ota_otadata_select_invalid(&e[0]) && ota_otadata_select_invalid(&e[1])) || n == 0) {
        ota_logf(dev->log, 'D', OTA_OPS_TAG, "finding factory app...");
        return default_boot(dev);
    }
    int active = ota_otadata_active(e);
    if (active != -1) {
        uint32_t slot = slot_of(e[active].seq, n);
        ota_logf(dev->log, 'D', OTA_OPS_TAG, "finding ota_%u app...",
                 (unsigned)(OTA_PART_SUBTYPE_APP_OTA_MIN + slot));
        return ota_slot_part(dev, slot);
    }
    ota_logf(dev->log, 'E', OTA_OPS_TAG, "ota data invalid, no current app. Assuming factory");
    return default_boot(dev);
}

const ota_part_t *ota_ops_next_update(const ota_ops_dev_t *dev, const ota_part_t *start_from)
{
    if (dev == NULL) {
        return NULL;
    }
    const ota_part_t *start =
        start_from == NULL ? dev->running : ota_ops_part_verify(dev, start_from);
    const ota_part_t *first = NULL;
    bool next_is_result = false;
    for (uint32_t slot = 0; slot < OTA_OTADATA_MAX_SLOTS; slot++) {
        const ota_part_t *p = ota_slot_part(dev, slot);
        if (p == NULL) {
            continue;
        }
        if (first == NULL) {
            first = p;
        }
        if (start != NULL && ota_ops_part_same(p, start)) {
            next_is_result = true;
        } else if (next_is_result) {
            return p;
        }
    }
    return first;
}

int ota_ops_get_state(const ota_ops_dev_t *dev, const ota_part_t *p, uint32_t *state)
{
    if (dev == NULL || p == NULL || state == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (!ota_ops_is_ota_slot(p)) {
        return OTA_ERR_UNSUPPORTED;
    }
    int n = ota_ops_app_count(dev);
    ota_otadata_entry_t e[2];
    if (ota_ops_otadata(dev, e) == NULL || n == 0) {
        return OTA_ERR_NOT_FOUND;
    }
    uint32_t want = (uint32_t)(p->subtype - OTA_PART_SUBTYPE_APP_OTA_MIN);
    for (int i = 0; i < 2; i++) {
        if (slot_of(e[i].seq, n) == want && ota_otadata_crc_ok(&e[i])) {
            *state = e[i].state;
            return OTA_OK;
        }
    }
    return OTA_ERR_NOT_FOUND;
}

const ota_part_t *ota_ops_last_invalid(const ota_ops_dev_t *dev)
{
    ota_otadata_entry_t e[2];
    if (dev == NULL || ota_ops_otadata(dev, e) == NULL) {
        return NULL;
    }
    bool invalid[2] = {ota_otadata_invalid_record(&e[0]), ota_otadata_invalid_record(&e[1])};
    int i = ota_otadata_select(e, invalid, false);
    ota_logf(dev->log, 'D', OTA_OPS_TAG, "Invalid otadata[%d]", i);
    int n = ota_ops_app_count(dev);
    if (i == -1 || n == 0) {
        return NULL;
    }
    uint32_t slot = slot_of(e[i].seq, n);
    ota_logf(dev->log, 'D', OTA_OPS_TAG, "Find invalid ota_%u app",
             (unsigned)(OTA_PART_SUBTYPE_APP_OTA_MIN + slot));
    const ota_part_t *p = ota_slot_part(dev, slot);
    if (p != NULL && ota_ops_verify_image(dev, p, false, true) != OTA_OK) {
        ota_logf(dev->log, 'D', OTA_OPS_TAG, "Last invalid partition has corrupted app");
        return NULL;
    }
    return p;
}

/* The app's secure_version is acceptable to the anti-rollback counter. */
static bool secure_version_ok(const ota_ops_dev_t *dev, const ota_part_t *p)
{
    uint8_t raw[OTA_APP_DESC_LEN];
    uint32_t counter = 0;
    return ota_ops_app_desc(dev, p, raw) == OTA_OK &&
           ota_ops_secure_version(dev, &counter) == OTA_OK && ota_get_le32(raw + 4) >= counter;
}

bool ota_ops_rollback_possible(const ota_ops_dev_t *dev)
{
    ota_otadata_entry_t e[2];
    if (dev == NULL || ota_ops_otadata(dev, e) == NULL) {
        return false;
    }
    int n = ota_ops_app_count(dev);
    if (n == 0) {
        return false;
    }
    bool valid[2] = {ota_otadata_select_valid(&e[0]), ota_otadata_select_valid(&e[1])};
    int active = ota_otadata_select(e, valid, true);
    if (active == -1) {
        return false;
    }
    int last = 1 - active;
    if (!dev->anti_rollback && !valid[last]) {
        const ota_part_t *factory =
            ota_ops_find(dev, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_FACTORY, NULL);
        if (factory != NULL && ota_ops_verify_image(dev, factory, false, true) == OTA_OK) {
            return true;
        }
    }
    if (valid[last]) {
        const ota_part_t *p = ota_slot_part(dev, slot_of(e[last].seq, n));
        if (p != NULL && ota_ops_verify_image(dev, p, false, true) == OTA_OK) {
            return !dev->anti_rollback || secure_version_ok(dev, p);
        }
    }
    return false;
}

/* esp_ota_current_ota_is_workable. */
static int mark_active(const ota_ops_dev_t *dev, bool valid)
{
    ota_otadata_entry_t e[2];
    if (dev == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *od = ota_ops_otadata(dev, e);
    if (od == NULL) {
        return OTA_ERR_NOT_FOUND;
    }
    int active = ota_otadata_active(e);
    if (active == -1 || ota_ops_app_count(dev) == 0) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG, "Running firmware is factory");
        return OTA_ERR_FAIL;
    }
    if (valid) {
        if (e[active].state == OTA_OTADATA_STATE_VALID) {
            return OTA_OK;
        }
        e[active].state = OTA_OTADATA_STATE_VALID;
        ota_logf(dev->log, 'D', OTA_OPS_TAG, "OTA[current] partition is marked as VALID");
        int err = ota_ops_otadata_rewrite(dev, od, e, active, e[active].seq);
        if (err == OTA_OK && dev->anti_rollback) {
            /* esp_ota_set_anti_rollback: the RUNNING app's secure_version */
            uint8_t raw[OTA_APP_DESC_LEN];
            err = ota_ops_app_desc(dev, dev->running, raw);
            if (err == OTA_OK) {
                err = ota_ops_raise_secure_version(dev, ota_get_le32(raw + 4));
            }
        }
        return err;
    }
    if (!ota_ops_rollback_possible(dev)) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG,
                 "Rollback is not possible, do not have any suitable apps in slots");
        return OTA_ERR_ROLLBACK_FAILED;
    }
    ota_logf(dev->log, 'D', OTA_OPS_TAG, "OTA[current] partition is marked as INVALID");
    e[active].state = OTA_OTADATA_STATE_INVALID;
    int err = ota_ops_otadata_rewrite(dev, od, e, active, e[active].seq);
    if (err != OTA_OK) {
        return err;
    }
    ota_logf(dev->log, 'I', OTA_OPS_TAG, "Rollback to previously worked partition.");
    return OTA_OK;
}

int ota_ops_mark_valid(const ota_ops_dev_t *dev)
{
    return mark_active(dev, true);
}

int ota_ops_mark_invalid(const ota_ops_dev_t *dev)
{
    return mark_active(dev, false);
}

/* erase_last_boot_app_partition of esp_ota_ops.c. */
static int erase_inactive(const ota_ops_dev_t *dev, bool erase_app)
{
    ota_otadata_entry_t e[2];
    if (dev == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *od = ota_ops_otadata(dev, e);
    if (od == NULL) {
        return OTA_ERR_FAIL;
    }
    int active = ota_otadata_active(e);
    int n = ota_ops_app_count(dev);
    if (active == -1 || n == 0) {
        return OTA_ERR_FAIL;
    }
    int inactive = 1 - active;
    if (!ota_otadata_seq_crc_ok(&e[inactive])) {
        return OTA_ERR_FAIL;
    }
    uint32_t slot = slot_of(e[inactive].seq, n);
    ota_logf(dev->log, 'D', OTA_OPS_TAG, "finding last_boot_app_partition ota_%u app...",
             (unsigned)(OTA_PART_SUBTYPE_APP_OTA_MIN + slot));
    const ota_part_t *last = ota_slot_part(dev, slot);
    if (last == NULL || dev->running == NULL || ota_ops_part_same(last, dev->running)) {
        return OTA_ERR_FAIL;
    }
    if (erase_app) {
        int err = ota_ops_part_erase(dev, last, 0, last->size);
        if (err != OTA_OK) {
            return err;
        }
    }
    return ota_ops_part_erase(dev, od, (size_t)inactive * OTA_OPS_ERASE_SIZE, OTA_OPS_ERASE_SIZE);
}

int ota_ops_erase_last_boot(const ota_ops_dev_t *dev)
{
    return erase_inactive(dev, true);
}

int ota_ops_invalidate_inactive(const ota_ops_dev_t *dev)
{
    return erase_inactive(dev, false);
}
