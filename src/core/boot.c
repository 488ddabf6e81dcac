/*
 * Second-stage bootloader logic and the ROM step (spec section 5), as ESP-IDF v5.5's
 * bootloader_start.c and bootloader_utility.c behave: partition table check and listing, boot
 * index selection with rollback and anti-rollback, factory-reset and test-app pins, and the
 * fallback order when an image does not verify.
 */
#include "ota/ota_boot.h"
#include "ota/ota_otadata.h"
#include "ota/ota_ptable.h"

#include <stdio.h>
#include <string.h>

#define TAG "boot"

/* What the bootloader collects from the table (bootloader_state_t). An absent partition has
 * size 0. */
typedef struct {
    ota_part_t factory;
    ota_part_t test;
    ota_part_t ota[OTA_OTADATA_MAX_SLOTS];
    ota_part_t otadata;
    uint32_t app_count;
} bstate_t;

const char *ota_boot_index_name(int index)
{
    static const char *const names[] = {"ota_0",  "ota_1",  "ota_2",  "ota_3", "ota_4",  "ota_5",
                                        "ota_6",  "ota_7",  "ota_8",  "ota_9", "ota_10", "ota_11",
                                        "ota_12", "ota_13", "ota_14", "ota_15"};
    if (index == OTA_BOOT_FACTORY_INDEX) {
        return "factory";
    }
    if (index == OTA_BOOT_TEST_APP_INDEX) {
        return "test";
    }
    if (index >= 0 && index < 16) {
        return names[index];
    }
    return "invalid";
}

static void collect(const ota_part_table_t *t, bstate_t *bs)
{
    memset(bs, 0, sizeof(*bs));
    for (int i = 0; i < t->count; i++) {
        const ota_part_t *p = &t->parts[i];
        if (p->type == OTA_PART_TYPE_APP) {
            if (p->subtype == OTA_PART_SUBTYPE_APP_FACTORY) {
                bs->factory = *p;
            } else if (p->subtype == OTA_PART_SUBTYPE_APP_TEST) {
                bs->test = *p;
            } else if ((p->subtype & ~0x0F) == OTA_PART_SUBTYPE_APP_OTA_MIN) {
                bs->ota[p->subtype & 0x0F] = *p;
                bs->app_count++;
            }
        } else if (p->type == OTA_PART_TYPE_DATA && p->subtype == OTA_PART_SUBTYPE_DATA_OTA) {
            bs->otadata = *p;
        }
    }
}

/* Loads, verifies and lists the partition table (bootloader_utility_load_partition_table),
 * falling back to otakit's backup copy when one is configured and the primary is unusable. */
static bool load_table(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                       ota_part_table_t *table, uint32_t *used, int *flash_err)
{
    ota_diag_t diag = {{0}};
    ota_ptable_source_t source = OTA_PTABLE_PRIMARY;
    uint32_t generation = 0;
    int err = ota_ptable_load(env->flash, env->crypto, cfg->table_offset, cfg->table_backup_offset,
                              table, &source, &generation, &diag);
    if (err == OTA_ERR_IO || err == OTA_ERR_POWER_LOSS) {
        *flash_err = err;
        ota_logf(env->log, 'E', TAG, "bootloader_mmap(0x%x, 0x%x) failed",
                 (unsigned)cfg->table_offset, (unsigned)OTA_PART_TABLE_MAX_LEN);
        return false;
    }
    if (err != OTA_OK) {
        ota_logf(env->log, 'E', "flash_parts", "%s", diag.msg);
        ota_logf(env->log, 'E', TAG, "Failed to verify partition table");
        return false;
    }
    *used = cfg->table_offset;
    if (source == OTA_PTABLE_BACKUP) {
        *used = cfg->table_backup_offset;
        ota_logf(env->log, 'W', TAG,
                 "partition table at 0x%x is unusable (%s); using the backup copy at 0x%x "
                 "(generation %u)",
                 (unsigned)cfg->table_offset, diag.msg, (unsigned)cfg->table_backup_offset,
                 (unsigned)generation);
    }
    ota_logf(env->log, 'I', TAG, "%s", OTA_PART_LOG_TITLE);
    ota_logf(env->log, 'I', TAG, "%s", OTA_PART_LOG_HEADER);
    for (int i = 0; i < table->count; i++) {
        char line[96];
        ota_part_format_log_line(&table->parts[i], i, line, sizeof(line));
        ota_logf(env->log, 'I', TAG, "%s", line);
    }
    ota_logf(env->log, 'I', TAG, "%s", OTA_PART_LOG_FOOTER);
    return true;
}

static uint32_t sec_ver_bits(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg)
{
    return cfg->secure_version_bits ? cfg->secure_version_bits : env->chip->secure_version_bits;
}

/* check_anti_rollback: the partition's app secure_version is at least the eFuse counter. */
static bool anti_rollback_ok(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                             const ota_part_t *p)
{
    if (!cfg->anti_rollback) {
        return true;
    }
    if (p->size == 0 || env->efuse == NULL) {
        return false;
    }
    ota_app_desc_t desc;
    uint32_t counter = 0;
    if (ota_img_read_app_desc(env->flash, p->offset, &desc) != OTA_OK ||
        env->efuse->read_secure_version(env->efuse->ctx, &counter) != OTA_OK) {
        return false;
    }
    return desc.secure_version >= counter;
}

/* update_anti_rollback: raise the eFuse counter to the partition's app secure_version. */
static void anti_rollback_update(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                                 const ota_part_t *p)
{
    ota_app_desc_t desc;
    uint32_t counter = 0;
    if (env->efuse == NULL || ota_img_read_app_desc(env->flash, p->offset, &desc) != OTA_OK ||
        env->efuse->read_secure_version(env->efuse->ctx, &counter) != OTA_OK) {
        return;
    }
    uint32_t bits = sec_ver_bits(env, cfg);
    if (desc.secure_version > bits) {
        ota_logf(env->log, 'E', "efuse",
                 "Max secure version is %u. Given %u version can not be written.", (unsigned)bits,
                 (unsigned)desc.secure_version);
        return;
    }
    if (desc.secure_version > counter) {
        env->efuse->write_secure_version(env->efuse->ctx, desc.secure_version);
    }
}

static bool both_initial(const ota_otadata_entry_t e[2])
{
    return !ota_otadata_seq_crc_ok(&e[0]) && !ota_otadata_seq_crc_ok(&e[1]);
}

/* write_otadata: a failed write is logged and the boot goes on with the selection made (as
 * ESP-IDF's bootloader does); only a power cut stops the boot. */
static int write_entry(const ota_boot_env_t *env, const bstate_t *bs, int sector,
                       const ota_otadata_entry_t *e)
{
    int err = ota_otadata_write_entry(env->flash, bs->otadata.offset, bs->otadata.size, sector, e);
    if (err != OTA_OK && err != OTA_ERR_POWER_LOSS) {
        ota_logf(env->log, 'E', TAG, "Error in write_otadata operation. err = 0x%x", 0xFFFFFFFFu);
        return OTA_OK;
    }
    return err;
}

static int select_index(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, const bstate_t *bs,
                        bool *initial, int *flash_err)
{
    *initial = false;
    if (bs->otadata.size == 0 && bs->otadata.offset == 0) {
        return OTA_BOOT_FACTORY_INDEX;
    }
    ota_otadata_entry_t e[2];
    ota_diag_t diag = {{0}};
    int err = ota_otadata_read(env->flash, bs->otadata.offset, bs->otadata.size, e, &diag);
    if (err != OTA_OK) {
        if (err != OTA_ERR_SIZE && err != OTA_ERR_INVALID_ARG) {
            *flash_err = err;
        }
        ota_logf(env->log, 'E', TAG, "%s", diag.msg);
        return OTA_BOOT_INVALID_INDEX;
    }
    ota_logf(env->log, 'D', TAG, "otadata[0]: sequence values 0x%08x", (unsigned)e[0].seq);
    ota_logf(env->log, 'D', TAG, "otadata[1]: sequence values 0x%08x", (unsigned)e[1].seq);

    if (cfg->rollback) {
        for (int i = 0; i < 2; i++) {
            if (e[i].state == OTA_OTADATA_STATE_PENDING_VERIFY) {
                ota_logf(env->log, 'D', TAG, "otadata[%d] is marking as ABORTED", i);
                e[i].state = OTA_OTADATA_STATE_ABORTED;
                err = write_entry(env, bs, i, &e[i]);
                if (err != OTA_OK) {
                    *flash_err = err;
                    return OTA_BOOT_INVALID_INDEX;
                }
            }
        }
    }

    int active;
    if (!cfg->anti_rollback) {
        if ((ota_otadata_select_invalid(&e[0]) && ota_otadata_select_invalid(&e[1])) ||
            bs->app_count == 0) {
            if (bs->factory.size != 0) {
                ota_logf(env->log, 'I', TAG, "Defaulting to factory image");
                return OTA_BOOT_FACTORY_INDEX;
            }
            ota_logf(env->log, 'I', TAG, "No factory image, trying OTA 0");
            *initial = both_initial(e);
            return 0;
        }
        active = ota_otadata_active(e);
    } else {
        uint32_t counter = 0;
        if (env->efuse != NULL) {
            env->efuse->read_secure_version(env->efuse->ctx, &counter);
        }
        ota_logf(env->log, 'I', TAG, "Enabled a check secure version of app for anti rollback");
        ota_logf(env->log, 'I', TAG, "Secure version (from eFuse) = %u", (unsigned)counter);
        if (both_initial(e)) {
            ota_logf(env->log, 'I', TAG, "otadata[0..1] in initial state");
            *initial = true;
            return OTA_BOOT_FACTORY_INDEX;
        }
        bool valid[2];
        for (int i = 0; i < 2; i++) {
            valid[i] = ota_otadata_select_valid(&e[i]) && bs->app_count > 0 &&
                       anti_rollback_ok(env, cfg, &bs->ota[(e[i].seq - 1) % bs->app_count]);
        }
        active = ota_otadata_select(e, valid, true);
    }

    if (active != -1) {
        uint32_t seq = e[active].seq - 1;
        int index = (int)(seq % bs->app_count);
        ota_logf(env->log, 'D', TAG, "Active otadata[%d]", active);
        ota_logf(env->log, 'D', TAG, "Mapping seq %u -> OTA slot %d", (unsigned)seq, index);
        if (cfg->rollback && e[active].state == OTA_OTADATA_STATE_NEW) {
            ota_logf(env->log, 'D', TAG,
                     "otadata[%d] is selected as new and marked PENDING_VERIFY state", active);
            e[active].state = OTA_OTADATA_STATE_PENDING_VERIFY;
            err = write_entry(env, bs, active, &e[active]);
            if (err != OTA_OK) {
                *flash_err = err;
                return OTA_BOOT_INVALID_INDEX;
            }
        }
        if (cfg->anti_rollback && e[active].state == OTA_OTADATA_STATE_VALID) {
            anti_rollback_update(env, cfg, &bs->ota[index]);
        }
        return index;
    }
    if (bs->factory.size != 0) {
        ota_logf(env->log, 'E', TAG, "ota data partition invalid, falling back to factory");
    } else {
        ota_logf(env->log, 'E', TAG,
                 "ota data partition invalid and no factory, will try all "
                 "partitions");
    }
    return OTA_BOOT_FACTORY_INDEX;
}

int ota_boot_select(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                    const ota_part_table_t *table, bool *initial, int *flash_err)
{
    bstate_t bs;
    bool init = false;
    int ferr = OTA_OK;
    collect(table, &bs);
    int index = select_index(env, cfg, &bs, &init, &ferr);
    if (initial != NULL) {
        *initial = init;
    }
    if (flash_err != NULL) {
        *flash_err = ferr;
    }
    return index;
}

/* bootloader_common_label_search: label is one of the ", "-separated names in list. */
static bool label_listed(const char *list, const char *label)
{
    size_t n = strlen(label);
    const char *p = list;
    while (p != NULL && *p != '\0') {
        while (*p == ',' || *p == ' ') {
            p++;
        }
        size_t len = strcspn(p, ", ");
        if (len == n && n > 0 && strncmp(p, label, n) == 0) {
            return true;
        }
        p += len;
    }
    return false;
}

/* bootloader_common_erase_part_type_data; false if any erase failed. */
static bool factory_reset_erase(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                                const ota_part_table_t *table, int *flash_err)
{
    const char *list = cfg->data_factory_reset ? cfg->data_factory_reset : "nvs";
    bool ok = true;
    ota_logf(env->log, 'I', "boot_comm", "## Label            Usage Offset   Length   Cleaned");
    for (int i = 0; i < table->count; i++) {
        const ota_part_t *p = &table->parts[i];
        if (p->type != OTA_PART_TYPE_DATA) {
            continue;
        }
        const char *marker = "no";
        bool otadata = cfg->ota_data_erase && p->subtype == OTA_PART_SUBTYPE_DATA_OTA;
        if (otadata || label_listed(list, p->label)) {
            int err = ota_flash_erase_range(env->flash, p->offset, p->size);
            marker = err == OTA_OK ? "yes" : "err";
            if (err != OTA_OK) {
                ok = false;
                if (err == OTA_ERR_POWER_LOSS || err == OTA_ERR_IO) {
                    *flash_err = err;
                }
            }
        }
        ota_logf(env->log, 'I', "boot_comm", "%2d %-16s data  %08x %08x [%s]", i, p->label,
                 (unsigned)p->offset, (unsigned)p->size, marker);
    }
    return ok;
}

/* selected_boot_partition of bootloader_start.c: selection, then the GPIO options. */
static int select_with_pins(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                            const ota_part_table_t *table, const bstate_t *bs,
                            ota_boot_result_t *res, bool *initial, int *flash_err)
{
    int index = select_index(env, cfg, bs, initial, flash_err);
    if (index == OTA_BOOT_INVALID_INDEX || env->deep_sleep_wake) {
        return index;
    }
    uint32_t hold = cfg->hold_time_s ? cfg->hold_time_s : 5;
    if (cfg->factory_reset && env->gpio_hold != NULL &&
        env->gpio_hold(env->gpio_ctx, cfg->factory_reset_pin, cfg->factory_reset_high, hold) ==
            OTA_GPIO_LONG_HOLD) {
        res->factory_reset = true;
        ota_logf(env->log, 'I', TAG, "Detect a condition of the factory reset");
        const char *list = cfg->data_factory_reset ? cfg->data_factory_reset : "nvs";
        ota_logf(env->log, 'I', TAG, "Data partitions to erase: %s", list);
        if (!factory_reset_erase(env, cfg, table, flash_err)) {
            ota_logf(env->log, 'E', TAG, "Not all partitions were erased");
        }
        if (*flash_err != OTA_OK) {
            return OTA_BOOT_INVALID_INDEX;
        }
        return select_index(env, cfg, bs, initial, flash_err);
    }
    if (cfg->app_test && env->gpio_hold != NULL &&
        env->gpio_hold(env->gpio_ctx, cfg->test_pin, cfg->test_high, hold) == OTA_GPIO_LONG_HOLD) {
        res->test_app = true;
        ota_logf(env->log, 'I', TAG, "Detect a boot condition of the test firmware");
        if (bs->test.size != 0) {
            return OTA_BOOT_TEST_APP_INDEX;
        }
        ota_logf(env->log, 'E', TAG, "Test firmware is not found in partition table");
        return OTA_BOOT_INVALID_INDEX;
    }
    return index;
}

typedef struct {
    const ota_log_t *log;
} img_log_ctx_t;

static void img_log(void *ctx, char level, const char *msg)
{
    img_log_ctx_t *c = ctx;
    ota_logf(c->log, level, "esp_image", "%s", msg);
}

/* Header code of a flash size (0 = 1 MB ... 4 = 16 MB). */
static uint8_t flash_size_code(uint32_t size)
{
    uint8_t code = 0;
    while (code < 7 && (0x100000u << code) < size) {
        code++;
    }
    return code;
}

/* try_load_partition: verifies (or, when validation is skipped, parses) the app image. */
static int try_load(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, const ota_part_t *p,
                    ota_img_meta_t *meta)
{
    if (cfg->skip_validate_always || (cfg->skip_validate_on_power_on && env->power_on)) {
        return ota_img_get_metadata(env->flash, p->offset, meta, NULL);
    }
    img_log_ctx_t lc = {env->log};
    ota_efuse_secure_boot_t sb = {0};
    ota_sig_trust_t trust = {.scheme = cfg->secure_boot_v2, .log = env->log};
    bool sb_on = cfg->secure_boot_v2 != OTA_SIG_SCHEME_NONE && env->efuse != NULL &&
                 env->efuse->read_secure_boot != NULL &&
                 env->efuse->read_secure_boot(env->efuse->ctx, &sb) == OTA_OK && sb.enabled;
    trust.trusted_digest = sb.digest;
    ota_img_verify_opts_t opts = {
        .chip = env->chip,
        .chip_rev = env->chip_rev,
        .efuse_blk_rev = env->efuse_blk_rev,
        .mmu_page_size =
            ota_chip_default_mmu_page_size(env->chip, flash_size_code(env->flash->size)),
        .hash = OTA_IMG_HASH_AUTO,
        .load = true,
        .log = img_log,
        .log_ctx = &lc,
        .secure_boot_v2 = sb_on,
        .sig_scheme = sb_on ? cfg->secure_boot_v2 : OTA_SIG_SCHEME_NONE,
        .sig_check = sb_on,
        .sig_trust = &trust,
    };
    return ota_img_verify(env->flash, env->crypto, p->offset, p->size, &opts, meta, NULL);
}

static const ota_part_t *index_part(const bstate_t *bs, int index)
{
    static const ota_part_t none;
    if (index == OTA_BOOT_FACTORY_INDEX) {
        return &bs->factory;
    }
    if (index == OTA_BOOT_TEST_APP_INDEX) {
        return &bs->test;
    }
    if (index >= 0 && (uint32_t)index < bs->app_count && index < 16) {
        return &bs->ota[index];
    }
    return &none;
}

static void log_not_bootable(const ota_boot_env_t *env, int index)
{
    if (index == OTA_BOOT_FACTORY_INDEX) {
        ota_logf(env->log, 'E', TAG, "Factory app partition is not bootable");
    } else if (index == OTA_BOOT_TEST_APP_INDEX) {
        ota_logf(env->log, 'E', TAG, "Factory test app partition is not bootable");
    } else {
        ota_logf(env->log, 'E', TAG, "OTA app partition slot %d is not bootable", index);
    }
}

/* set_actual_ota_seq: only after an initial otadata and for an OTA slot. */
static int set_actual_seq(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, const bstate_t *bs,
                          int index, bool initial)
{
    if (index <= OTA_BOOT_FACTORY_INDEX || !initial) {
        return OTA_OK;
    }
    ota_otadata_entry_t e;
    ota_otadata_make((uint32_t)index + 1, OTA_OTADATA_STATE_VALID, &e);
    int err = write_entry(env, bs, 0, &e);
    if (err != OTA_OK) {
        return err;
    }
    ota_logf(env->log, 'I', TAG, "Set actual ota_seq=%u in otadata[0]", (unsigned)e.seq);
    if (cfg->anti_rollback) {
        anti_rollback_update(env, cfg, &bs->ota[index]);
    }
    return OTA_OK;
}

/* Records that the app at index, in partition p, booted (load_image's log line). */
static void loaded(const ota_boot_env_t *env, ota_boot_result_t *res, int index,
                   const ota_part_t *p)
{
    res->booted = index;
    res->part = *p;
    res->outcome = OTA_BOOT_OK;
    ota_logf(env->log, 'I', TAG, "Loaded app from partition at offset 0x%x", (unsigned)p->offset);
}

/* The test partition exists, passes the anti-rollback check and its image verifies. */
static bool test_app_loads(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, const bstate_t *bs,
                           ota_boot_result_t *res)
{
    return bs->test.size != 0 && anti_rollback_ok(env, cfg, &bs->test) &&
           try_load(env, cfg, &bs->test, &res->meta) == OTA_OK;
}

/* One attempt of the fallback loop; true when the partition booted (res filled). */
static bool attempt(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, const bstate_t *bs,
                    int index, bool initial, ota_boot_result_t *res, int *flash_err)
{
    const ota_part_t *p = index_part(bs, index);
    if (p->size == 0) {
        return false;
    }
    ota_logf(env->log, 'D', TAG, "Trying partition index %d offs 0x%x size 0x%x", index,
             (unsigned)p->offset, (unsigned)p->size);
    if (anti_rollback_ok(env, cfg, p)) {
        int err = try_load(env, cfg, p, &res->meta);
        if (err == OTA_ERR_POWER_LOSS || err == OTA_ERR_IO) {
            *flash_err = err;
            return false;
        }
        if (err == OTA_OK) {
            err = set_actual_seq(env, cfg, bs, index, initial);
            if (err != OTA_OK) {
                *flash_err = err;
                return false;
            }
            loaded(env, res, index, p);
            return true;
        }
    }
    log_not_bootable(env, index);
    return false;
}

/* bootloader_utility_load_boot_image: the fallback order of spec 5.5. */
static void load_boot_image(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                            const bstate_t *bs, int start, bool initial, ota_boot_result_t *res)
{
    int ferr = OTA_OK;
    if (start == OTA_BOOT_TEST_APP_INDEX) {
        if (test_app_loads(env, cfg, bs, res)) {
            loaded(env, res, OTA_BOOT_TEST_APP_INDEX, &bs->test);
            return;
        }
        ota_logf(env->log, 'E', TAG, "No bootable test partition in the partition table");
        res->outcome = OTA_BOOT_NO_BOOTABLE;
        return;
    }
    for (int index = start; index >= OTA_BOOT_FACTORY_INDEX; index--) {
        if (attempt(env, cfg, bs, index, initial, res, &ferr)) {
            return;
        }
        if (ferr != OTA_OK) {
            goto flash_failed;
        }
    }
    for (int index = start + 1; index < (int)bs->app_count; index++) {
        if (attempt(env, cfg, bs, index, initial, res, &ferr)) {
            return;
        }
        if (ferr != OTA_OK) {
            goto flash_failed;
        }
    }
    if (test_app_loads(env, cfg, bs, res)) {
        ota_logf(env->log, 'W', TAG, "Falling back to test app as only bootable partition");
        loaded(env, res, OTA_BOOT_TEST_APP_INDEX, &bs->test);
        return;
    }
    ota_logf(env->log, 'E', TAG, "No bootable app partitions in the partition table");
    memset(&res->meta, 0, sizeof(res->meta));
    res->outcome = OTA_BOOT_NO_BOOTABLE;
    return;

flash_failed:
    memset(&res->meta, 0, sizeof(res->meta));
    res->outcome = OTA_BOOT_FLASH_ERROR;
    res->err = ferr;
}

int ota_boot_run(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, ota_boot_result_t *res)
{
    if (env == NULL || cfg == NULL || res == NULL || env->flash == NULL || env->crypto == NULL ||
        env->chip == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(res, 0, sizeof(*res));
    res->selected = OTA_BOOT_INVALID_INDEX;
    res->booted = OTA_BOOT_INVALID_INDEX;

    int ferr = OTA_OK;
    if (!load_table(env, cfg, &res->table, &res->table_used, &ferr)) {
        ota_logf(env->log, 'E', TAG, "load partition table error!");
        res->outcome = ferr != OTA_OK ? OTA_BOOT_FLASH_ERROR : OTA_BOOT_TABLE_ERROR;
        res->err = ferr;
        return OTA_OK;
    }
    bstate_t bs;
    collect(&res->table, &bs);

    bool initial = false;
    int index = select_with_pins(env, cfg, &res->table, &bs, res, &initial, &ferr);
    res->selected = index;
    if (ferr != OTA_OK) {
        res->outcome = OTA_BOOT_FLASH_ERROR;
        res->err = ferr;
        return OTA_OK;
    }
    if (index == OTA_BOOT_INVALID_INDEX) {
        res->outcome = OTA_BOOT_SELECT_ERROR;
        return OTA_OK;
    }
    load_boot_image(env, cfg, &bs, index, initial, res);
    return OTA_OK;
}

int ota_boot_rom_load(const ota_boot_env_t *env, uint32_t table_offset, uint32_t *used,
                      ota_img_meta_t *meta, ota_diag_t *diag)
{
    if (env == NULL || env->flash == NULL || env->crypto == NULL || env->chip == NULL ||
        used == NULL || table_offset <= env->chip->bootloader_offset) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_img_meta_t local;
    ota_img_meta_t *m = meta != NULL ? meta : &local;
    uint32_t region = table_offset - env->chip->bootloader_offset;
    ota_img_verify_opts_t opts = {
        .chip = env->chip,
        .chip_rev = env->chip_rev,
        .efuse_blk_rev = env->efuse_blk_rev,
        .bootloader = true,
        .hash = OTA_IMG_HASH_CHECK,
        .silent = true,
    };
    int err = ota_img_verify(env->flash, env->crypto, env->chip->bootloader_offset, region, &opts,
                             m, diag);
    if (err == OTA_OK) {
        *used = env->chip->bootloader_offset;
        return OTA_OK;
    }
    /* Whatever stopped the primary (a bad image, or one whose segments run past its region so
     * that reading them fails), the ROM tries the recovery copy; only a power cut stops it. */
    if (err == OTA_ERR_POWER_LOSS || !env->chip->recovery_bootloader || env->efuse == NULL ||
        env->efuse->read_recovery_offset == NULL) {
        return err;
    }
    uint32_t recovery = 0;
    int e2 = env->efuse->read_recovery_offset(env->efuse->ctx, &recovery);
    if (e2 != OTA_OK || recovery == 0 || recovery >= env->flash->size) {
        return err;
    }
    uint32_t avail = env->flash->size - recovery;
    e2 = ota_img_verify(env->flash, env->crypto, recovery, avail < region ? avail : region, &opts,
                        m, diag);
    if (e2 == OTA_OK) {
        *used = recovery;
    }
    return e2;
}
