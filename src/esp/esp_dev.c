/*
 * The installed device of the ESP-IDF layer: installation from a flash image, the partition
 * records, the native error mapping and the core log sink.
 */
#include "esp_dev_priv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "ota/ota_sdkconfig.h"
#include "ota_le.h"

static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static esp_dev_state_t g;

void esp_dev_lock(void)
{
    pthread_mutex_lock(&g_lock);
}

void esp_dev_unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

esp_dev_state_t *esp_dev_state(void)
{
    return &g;
}

const ota_ops_dev_t *esp_dev_ops(void)
{
    return &g.dev;
}

/* ---- error mapping and log sink ------------------------------------------------------------ */

esp_err_t esp_err_from_ota(int err)
{
    switch (err) {
    case OTA_OK:
        return ESP_OK;
    case OTA_ERR_INVALID_ARG:
    case OTA_ERR_BOUNDS:
    case OTA_ERR_ALIGN:
    case OTA_ERR_SYNTAX:
        return ESP_ERR_INVALID_ARG;
    case OTA_ERR_SIZE:
    case OTA_ERR_NO_SPACE:
        return ESP_ERR_INVALID_SIZE;
    case OTA_ERR_IO:
    case OTA_ERR_NOT_ERASED:
    case OTA_ERR_POWER_LOSS:
        return ESP_ERR_FLASH_OP_FAIL;
    case OTA_ERR_CORRUPT:
        return ESP_ERR_IMAGE_INVALID;
    case OTA_ERR_NOT_FOUND:
        return ESP_ERR_NOT_FOUND;
    case OTA_ERR_READONLY:
        return ESP_ERR_NOT_ALLOWED;
    case OTA_ERR_STATE:
        return ESP_ERR_INVALID_STATE;
    case OTA_ERR_UNSUPPORTED:
        return ESP_ERR_NOT_SUPPORTED;
    case OTA_ERR_NO_MEM:
        return ESP_ERR_NO_MEM;
    case OTA_ERR_CHIP:
        return ESP_ERR_INVALID_VERSION;
    case OTA_ERR_VERSION:
        return ESP_ERR_OTA_SMALL_SEC_VER;
    case OTA_ERR_TIMEOUT:
        return ESP_ERR_TIMEOUT;
    case OTA_ERR_CONFLICT:
        return ESP_ERR_OTA_PARTITION_CONFLICT;
    case OTA_ERR_PENDING_VERIFY:
        return ESP_ERR_OTA_ROLLBACK_INVALID_STATE;
    case OTA_ERR_ROLLBACK_FAILED:
        return ESP_ERR_OTA_ROLLBACK_FAILED;
    case OTA_ERR_VALIDATE:
        return ESP_ERR_OTA_VALIDATE_FAILED;
    case OTA_ERR_NET:
    case OTA_ERR_FAIL:
    default:
        return ESP_FAIL;
    }
}

static void log_line(void *ctx, char level, const char *tag, const char *msg)
{
    (void)ctx;
    esp_log_level_t l = ESP_LOG_INFO;
    switch (level) {
    case 'E':
        l = ESP_LOG_ERROR;
        break;
    case 'W':
        l = ESP_LOG_WARN;
        break;
    case 'D':
        l = ESP_LOG_DEBUG;
        break;
    case 'V':
        l = ESP_LOG_VERBOSE;
        break;
    default:
        break;
    }
    esp_log_line(l, tag, "%s", msg);
}

static const ota_log_t g_log = {log_line, NULL};

const ota_log_t *esp_internal_log(void)
{
    return &g_log;
}

/* ---- records ------------------------------------------------------------------------------- */

bool esp_dev_chip_ok(const esp_flash_t *chip)
{
    return chip == NULL || chip == esp_flash_default_chip;
}

static void fill_info(esp_prec_t *r)
{
    memset(&r->info, 0, sizeof(r->info));
    r->info.flash_chip = esp_flash_default_chip;
    r->info.type = (esp_partition_type_t)r->part.type;
    r->info.subtype = (esp_partition_subtype_t)r->part.subtype;
    r->info.address = r->part.offset;
    r->info.size = r->part.size;
    r->info.erase_size = OTA_OPS_ERASE_SIZE;
    memcpy(r->info.label, r->part.label, sizeof(r->info.label));
    r->info.encrypted = g.enc_on && ota_flash_enc_part_encrypted(&r->part);
    r->info.readonly = (r->part.flags & OTA_PART_FLAG_READONLY) != 0;
}

esp_prec_t *esp_dev_rec_at(size_t i)
{
    if (i < (size_t)g.table.count) {
        return &g.recs[i];
    }
    i -= (size_t)g.table.count;
    for (esp_prec_t *r = g.ext; r != NULL; r = r->next) {
        if (i-- == 0) {
            return r;
        }
    }
    return NULL;
}

const esp_partition_t *esp_dev_info_of(const ota_part_t *p)
{
    if (p == NULL) {
        return NULL;
    }
    if (g.table.count > 0 && p >= &g.table.parts[0] && p < &g.table.parts[g.table.count]) {
        return &g.recs[p - &g.table.parts[0]].info;
    }
    for (esp_prec_t *r = g.ext; r != NULL; r = r->next) {
        if (&r->part == p) {
            return &r->info;
        }
    }
    return NULL;
}

esp_prec_t *esp_dev_rec_of_info(const esp_partition_t *info)
{
    esp_prec_t *r;
    for (size_t i = 0; info != NULL && (r = esp_dev_rec_at(i)) != NULL; i++) {
        if (&r->info == info) {
            return r;
        }
    }
    return NULL;
}

bool esp_dev_refresh_extra(void)
{
    size_t n = 0;
    for (esp_prec_t *r = g.ext; r != NULL; r = r->next) {
        n++;
    }
    const ota_part_t **ptrs = g.ext_ptrs; /* a shrinking list is rebuilt in place */
    if (n > g.n_ext) {
        ptrs = malloc(n * sizeof(*ptrs));
        if (ptrs == NULL) {
            return false;
        }
        free(g.ext_ptrs);
    }
    size_t i = 0;
    for (esp_prec_t *r = g.ext; r != NULL; r = r->next) {
        ptrs[i++] = &r->part;
    }
    g.ext_ptrs = ptrs;
    g.n_ext = n;
    g.dev.extra = ptrs;
    g.dev.n_extra = n;
    return true;
}

void esp_dev_part_from(const esp_partition_t *in, ota_part_t *out)
{
    memset(out, 0, sizeof(*out));
    bool exact = esp_dev_chip_ok(in->flash_chip) && (unsigned)in->type <= 0xFF &&
                 (unsigned)in->subtype <= 0xFF;
    size_t len = strnlen(in->label, sizeof(in->label));
    if (len >= sizeof(in->label)) {
        exact = false;
        len = OTA_PART_LABEL_LEN;
    }
    out->type = (uint8_t)in->type;
    out->subtype = (uint8_t)in->subtype;
    out->offset = in->address;
    out->size = in->size;
    memcpy(out->label, in->label, len);
    /* a record that differs from the device's in its encryption matches no partition */
    bool encrypted = g.enc_on && ota_flash_enc_covers(&g.enc, (uint32_t)in->address);
    if (in->encrypted != encrypted || !exact) {
        out->flags |= OTA_PART_FLAG_ENCRYPTED;
    }
    if (in->readonly) {
        out->flags |= OTA_PART_FLAG_READONLY;
    }
}

void esp_dev_app_desc_from_raw(const uint8_t raw[256], esp_app_desc_t *d)
{
    memset(d, 0, sizeof(*d));
    d->magic_word = ota_get_le32(raw);
    d->secure_version = ota_get_le32(raw + 4);
    d->reserv1[0] = ota_get_le32(raw + 8);
    d->reserv1[1] = ota_get_le32(raw + 12);
    memcpy(d->version, raw + 16, sizeof(d->version));
    memcpy(d->project_name, raw + 48, sizeof(d->project_name));
    memcpy(d->time, raw + 80, sizeof(d->time));
    memcpy(d->date, raw + 96, sizeof(d->date));
    memcpy(d->idf_ver, raw + 112, sizeof(d->idf_ver));
    memcpy(d->app_elf_sha256, raw + 144, sizeof(d->app_elf_sha256));
    d->min_efuse_blk_rev_full = ota_get_le16(raw + 176);
    d->max_efuse_blk_rev_full = ota_get_le16(raw + 178);
    d->mmu_page_size = raw[180];
    memcpy(d->reserv3, raw + 181, sizeof(d->reserv3));
    for (size_t i = 0; i < 18; i++) {
        d->reserv2[i] = ota_get_le32(raw + 184 + 4 * i);
    }
}

void esp_dev_boot_desc_from_raw(const uint8_t raw[80], esp_bootloader_desc_t *d)
{
    memset(d, 0, sizeof(*d));
    d->magic_byte = raw[0];
    memcpy(d->reserved, raw + 1, sizeof(d->reserved));
    d->secure_version = raw[3];
    d->version = ota_get_le32(raw + 4);
    memcpy(d->idf_ver, raw + 8, sizeof(d->idf_ver));
    memcpy(d->date_time, raw + 40, sizeof(d->date_time));
    memcpy(d->reserved2, raw + 64, sizeof(d->reserved2));
}

/* ---- installation -------------------------------------------------------------------------- */

/* Forgets everything of the current installation (lock held). */
static void drop(void)
{
    esp_ota_drop_handles();
    esp_psram_drop();
    esp_prec_t *r = g.ext;
    while (r != NULL) {
        esp_prec_t *next = r->next;
        free(r);
        r = next;
    }
    free(g.recs);
    free(g.ext_ptrs);
    memset(&g, 0, sizeof(g));
}

/* The app signing scheme when signed apps are required (secure boot or "without secure boot"). */
static ota_sig_scheme_t sig_scheme(const ota_sdkconfig_t *sdk)
{
    if (!ota_sdkconfig_bool(sdk, "SECURE_BOOT", false) &&
        !ota_sdkconfig_bool(sdk, "SECURE_SIGNED_APPS_NO_SECURE_BOOT", false)) {
        return OTA_SIG_SCHEME_NONE;
    }
    if (ota_sdkconfig_bool(sdk, "SECURE_SIGNED_APPS_ECDSA_SCHEME", false)) {
        return OTA_SIG_SCHEME_V1_ECDSA;
    }
    if (ota_sdkconfig_bool(sdk, "SECURE_SIGNED_APPS_ECDSA_V2_SCHEME", false)) {
        return OTA_SIG_SCHEME_V2_ECDSA;
    }
    return OTA_SIG_SCHEME_V2_RSA;
}

static int log_err_code(int err)
{
    return esp_err_from_ota(err);
}

/* With flash encryption on in the eFuses, the core reads and writes through the cache's view:
 * the bootloader, the table and the encrypted partitions decrypt and encrypt (lock held). */
static void install_flash_enc(void)
{
    g.enc_on = ota_flash_enc_from_efuse(&g.enc, g.cfg.flash, g.cfg.crypto, g.cfg.efuse,
                                        g.cfg.efuse_virtual, g.cfg.chip->bootloader_offset,
                                        g.cfg.table_offset);
    if (g.enc_on) {
        g.dev.flash = &g.enc.view.flash;
        g.dev.flash_encrypted = true;
    }
}

/* The core's device from the board's configuration and the app's sdkconfig. */
static void set_dev(const esp_dev_config_t *cfg)
{
    const ota_sdkconfig_t *sdk = cfg->sdkconfig;
    g.dev.flash = cfg->flash;
    g.dev.crypto = cfg->crypto;
    g.dev.chip = cfg->chip;
    g.dev.chip_rev = cfg->chip_rev;
    g.dev.efuse_blk_rev = cfg->efuse_blk_rev;
    g.dev.mmu_page_size = (uint32_t)ota_sdkconfig_int(sdk, "MMU_PAGE_SIZE", 0);
    g.dev.efuse = cfg->efuse;
    g.dev.table_offset = g.cfg.table_offset;
    g.dev.table = &g.table;
    g.dev.rollback = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_ROLLBACK_ENABLE", false);
    g.dev.anti_rollback = ota_sdkconfig_bool(sdk, "BOOTLOADER_APP_ANTI_ROLLBACK", false);
    g.dev.secure_version_bits =
        (uint32_t)ota_sdkconfig_int(sdk, "BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD", 0);
    g.dev.sig_scheme = sig_scheme(sdk);
    g.dev.sig_on_update = ota_sdkconfig_bool(sdk, "SECURE_SIGNED_ON_UPDATE", false);
    g.dev.secure_boot_v2 = ota_sdkconfig_bool(sdk, "SECURE_BOOT_V2_ENABLED", false);
    g.dev.sig_v1_key = cfg->sig_v1_key;
    g.dev.sig_v1_key_len = cfg->sig_v1_key_len;
    g.dev.log = &g_log;
    g.dev.log_err = log_err_code;
    g.dev.test_flags = cfg->ota_test_flags;
    g.dev.memo = &g.memo;
}

/* Loads the partition table from flash as esp_partition does at start-up (an unreadable table
 * leaves none, with ESP-IDF's lines). */
static esp_err_t load_table(const esp_dev_config_t *cfg)
{
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t diag = {{0}};
    int err = ota_part_table_read_raw(g.dev.flash, g.cfg.table_offset, buf);
    if (err == OTA_OK) {
        bool md5 = ota_sdkconfig_bool(cfg->sdkconfig, "PARTITION_TABLE_MD5", true);
        err = ota_part_table_load(cfg->crypto, buf, md5, &g.table, &diag);
    }
    if (err == OTA_OK && g.table.count > 0) {
        g.recs = calloc((size_t)g.table.count, sizeof(*g.recs));
        if (g.recs == NULL) {
            err = OTA_ERR_NO_MEM;
        }
    }
    if (err == OTA_OK) {
        for (int i = 0; i < g.table.count; i++) {
            g.recs[i].part = g.table.parts[i];
            fill_info(&g.recs[i]);
        }
        return ESP_OK;
    }
    esp_err_t ret = err == OTA_ERR_CORRUPT ? ESP_ERR_INVALID_STATE : esp_err_from_ota(err);
    if (diag.msg[0] != '\0') {
        ESP_LOGE("partition", "%s", diag.msg);
    }
    ESP_LOGE("partition", "load_partitions returned 0x%x", (unsigned)ret);
    memset(&g.table, 0, sizeof(g.table));
    return ret;
}

/* The app partition holding running_offset becomes the running one. */
static void find_running(uint32_t running_offset)
{
    for (int i = 0; running_offset != 0 && i < g.table.count; i++) {
        const ota_part_t *p = &g.table.parts[i];
        if (p->type == OTA_PART_TYPE_APP && p->offset <= running_offset &&
            (uint64_t)running_offset < (uint64_t)p->offset + p->size) {
            g.dev.running = p;
            g.running = &g.recs[i].info;
            return;
        }
    }
}

esp_err_t esp_dev_install(const esp_dev_config_t *cfg)
{
    if (cfg == NULL || cfg->flash == NULL || cfg->crypto == NULL || cfg->chip == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_dev_lock();
    drop();
    g.cfg = *cfg;
    if (g.cfg.table_offset == 0) {
        g.cfg.table_offset = OTA_PART_TABLE_OFFSET_DEFAULT;
    }
    set_dev(cfg);
    g.installed = true;
    esp_flash_default_chip->size = cfg->flash->size;
    install_flash_enc();
    esp_err_t ret = load_table(cfg);
    find_running(cfg->running_offset);
    esp_dev_unlock();
    return ret;
}

void esp_dev_uninstall(void)
{
    esp_dev_lock();
    drop();
    esp_dev_unlock();
}

bool esp_dev_installed(void)
{
    esp_dev_lock();
    bool installed = g.installed;
    esp_dev_unlock();
    return installed;
}

const ota_flash_t *esp_internal_flash(void)
{
    esp_dev_lock();
    const ota_flash_t *f = g.installed ? g.cfg.flash : NULL;
    esp_dev_unlock();
    return f;
}

const ota_crypto_t *esp_internal_crypto(void)
{
    esp_dev_lock();
    const ota_crypto_t *c = g.installed ? g.cfg.crypto : NULL;
    esp_dev_unlock();
    return c;
}

const esp_dev_config_t *esp_internal_config(void)
{
    esp_dev_lock();
    const esp_dev_config_t *c = g.installed ? &g.cfg : NULL;
    esp_dev_unlock();
    return c;
}
