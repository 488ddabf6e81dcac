/*
 * Power-loss sweeps of partitions_ota's updates (spec 7.4), each played as the example does it
 * on flash (esp_ota_begin on a staging partition, set_final, writes, esp_ota_end, then the copy or
 * commit), cut at every flash operation, before / after / torn:
 *
 *   bootloader           ESP-IDF's unsafe path: staged in the passive slot, copied over the
 *                        primary bootloader (a cut in the copy bricks: measured)
 *   bootloader_recovery  the safe path on an ESP32-C5: the primary is first copied to the
 *                        recovery slot named in eFuse (when it verifies; the copy is read
 *                        back), then the new one is written in place; the ROM falls back to the
 * recovery copy (no bricks) bootloader_recovery_idf  the same as ESP-IDF's example plays it,
 * copying the primary whatever it holds: a retry after a cut in the primary's write copies the
 * damaged primary over the recovery copy (a second cut bricks) ptable_idf           ESP-IDF's
 * partition-table update: staged, copied over the table sector (a cut in the copy bricks: measured)
 *   ptable_safe          otakit's power-safe table update: backup copy with a commit record
 *                        first, then the table (no bricks expected)
 *   storage              a data partition updated with finalize_with_copy: the app always boots;
 *                        the partition may be caught half-copied (measured)
 *
 * Usage: sweep_partitions [--scenario NAME] [sweep options, see sweep.h]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_efuse.h"
#include "esp_image_format.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "ota/ota_otadata.h"
#include "otakit_ota_ext.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "sweep.h"

#define TABLE_CSV                                                                                  \
    "nvs, data, nvs, , 0x6000,\n"                                                                  \
    "nvs_key, data, nvs_keys, , 0x1000,\n"                                                         \
    "storage, data, , , 0x1000,\n"                                                                 \
    "otadata, data, ota, , 0x2000,\n"                                                              \
    "phy_init, data, phy, , 0x1000,\n"                                                             \
    "emul_efuse, data, efuse, , 0x2000,\n"
#define BACKUP_ROW "PrtTableBak, partition_table, ota, , 0x1000,\n"
#define APPS_CSV                                                                                   \
    "ota_0, app, ota_0, , 0x1B0000,\n"                                                             \
    "ota_1, app, ota_1, , 0x1B0000,\n"
#define EXTRA_ROW "extra, data, fat, , 0x10000,\n"

#define BACKUP_OFFSET 0x16000u
#define RECOVERY_OFFSET 0x3F0000u
#define STORAGE_OFFSET 0x10000u
#define OLD_BL "v5.5-otakit-old"
#define NEW_BL "v5.5-otakit-new"
#define STORAGE_NEW "7296406769363431"

typedef struct {
    uint8_t *image; /* the new bootloader image or the new table binary or the new storage */
    uint32_t len;
    int old_parts; /* entries in the old table */
} data_t;

static data_t *data_of(sweep_t *s)
{
    return s->user;
}

/* A flash with a bootloader, the table, the app in ota_0 selected by otadata. */
static void base_setup(sweep_t *s, const char *boot_sdk, const char *table_csv, const char *app_sdk)
{
    s->user = calloc(1, sizeof(data_t));
    uint8_t *img;
    uint32_t len;
    sweep_pack_bootloader(s, OLD_BL, boot_sdk, &img, &len);
    sweep_write(s, s->chip->bootloader_offset, img, len);
    free(img);
    sweep_put_table(s, table_csv);
    ota_part_table_t t;
    ota_part_table_verify(ota_crypto_openssl(), ota_nor_data(s->nor) + 0x8000, ota_nor_size(s->nor),
                          &t, NULL);
    data_of(s)->old_parts = t.count;
    sweep_pack_app(s, "partitions_ota", "1", app_sdk, 16 * 1024, 7, &img, &len);
    sweep_write(s, ota_part_find_by_label(&t, "ota_0")->offset, img, len);
    free(img);
    const ota_part_t *od = ota_part_find_by_label(&t, "otadata");
    ota_otadata_entry_t e;
    ota_otadata_make(1, OTA_OTADATA_STATE_UNDEFINED, &e);
    if (ota_otadata_write_entry(s->flash, od->offset, od->size, 0, &e) != OTA_OK) {
        exit(2);
    }
    static const uint8_t old_storage[] = "old storage contents";
    sweep_write(s, STORAGE_OFFSET, old_storage, sizeof(old_storage));
}

static void cleanup(sweep_t *s)
{
    free(data_of(s)->image);
}

static const esp_partition_t *find_or_register(uint32_t offset, uint32_t size, const char *label,
                                               esp_partition_type_t type,
                                               esp_partition_subtype_t subtype)
{
    const esp_partition_t *p = esp_partition_find_first(type, subtype, NULL);
    if (p == NULL &&
        esp_partition_register_external(NULL, offset, size, label, type, subtype, &p) != ESP_OK) {
        return NULL;
    }
    return p;
}

/* ---- bootloader ------------------------------------------------------------------------------ */

static void setup_bootloader(sweep_t *s)
{
    base_setup(s, NULL, TABLE_CSV APPS_CSV, "");
    sweep_pack_bootloader(s, NEW_BL, NULL, &data_of(s)->image, &data_of(s)->len);
}

static void flow_bootloader_unsafe(sweep_t *s)
{
    uint32_t size = 0x8000 - s->chip->bootloader_offset;
    const esp_partition_t *primary =
        find_or_register(s->chip->bootloader_offset, size, "PrimaryBTLDR",
                         ESP_PARTITION_TYPE_BOOTLOADER, ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY);
    const esp_partition_t *staging = esp_ota_get_next_update_partition(NULL);
    if (primary == NULL || staging == NULL ||
        sweep_ota_write(staging, primary, false, data_of(s)->image, data_of(s)->len) != ESP_OK ||
        esp_partition_copy(primary, 0, staging, 0, primary->size) != ESP_OK) {
        return;
    }
    esp_partition_deregister_external(primary);
    esp_restart();
}

/* True when the first len bytes of a and b read back the same (a copy is checked before the
 * original is overwritten). */
static bool same_bytes(const esp_partition_t *a, const esp_partition_t *b, uint32_t len)
{
    uint8_t x[1024];
    uint8_t y[1024];
    for (uint32_t off = 0; off < len; off += sizeof(x)) {
        uint32_t n = len - off < sizeof(x) ? len - off : (uint32_t)sizeof(x);
        if (esp_partition_read(a, off, x, n) != ESP_OK ||
            esp_partition_read(b, off, y, n) != ESP_OK || memcmp(x, y, n) != 0) {
            return false;
        }
    }
    return true;
}

/* The recovery path as ESP-IDF's partitions_ota example plays it: the primary is copied to the
 * recovery slot first, whatever it holds; guarded: only when the primary loads (after an
 * interrupted update the ROM booted the recovery copy, and the primary is the damaged one), and
 * the copy is read back before the primary is overwritten. */
static void flow_bootloader_recovery_common(sweep_t *s, bool guarded)
{
    uint32_t size = 0x8000 - s->chip->bootloader_offset;
    const esp_partition_t *primary =
        find_or_register(s->chip->bootloader_offset, size, "PrimaryBTLDR",
                         ESP_PARTITION_TYPE_BOOTLOADER, ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY);
    const esp_partition_t *recovery =
        find_or_register(RECOVERY_OFFSET, size, "RecoveryBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                         ESP_PARTITION_SUBTYPE_BOOTLOADER_RECOVERY);
    if (primary == NULL || recovery == NULL ||
        esp_efuse_set_recovery_bootloader_offset(RECOVERY_OFFSET) != ESP_OK) {
        return;
    }
    /* The primary is copied only when it loads as the ROM checks it (its hash included; an app
     * learns the same from esp_rom_get_bootloader_offset(), which names the copy that booted). */
    uint32_t len = 0;
    bool copy = !guarded || (esp_image_verify_bootloader(&len) == ESP_OK &&
                             sweep_image_verifies(s, primary->address, primary->size, true));
    if ((copy && esp_partition_copy(recovery, 0, primary, 0, primary->size) != ESP_OK) ||
        (copy && guarded && !same_bytes(recovery, primary, len)) ||
        sweep_ota_write(primary, primary, false, data_of(s)->image, data_of(s)->len) != ESP_OK) {
        return;
    }
    esp_restart();
}

static void flow_bootloader_recovery(sweep_t *s)
{
    flow_bootloader_recovery_common(s, true);
}

static void flow_bootloader_recovery_idf(sweep_t *s)
{
    flow_bootloader_recovery_common(s, false);
}

/* 0 old bootloader, 1 new, -1 no bootloader loads or no app boots. */
static int settle_bootloader(sweep_t *s, char *why)
{
    sweep_boot_t b;
    bool booted = sweep_boot(s, &b);
    const char *v = sweep_bootloader_version(s, &b);
    if (!b.rom_ok || !booted) {
        snprintf(why, 64, "%s", b.rom_ok ? "no app boots" : "no second-stage bootloader loads");
        return -1;
    }
    if (strcmp(v, OLD_BL) == 0) {
        return 0;
    }
    if (strcmp(v, NEW_BL) == 0) {
        return 1;
    }
    snprintf(why, 64, "bootloader '%s'", v);
    return -2;
}

/* ---- partition table ---------------------------------------------------------------------------
 */

static void setup_table(sweep_t *s, bool safe)
{
    const char *app_sdk = safe ? "CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET=0x16000\n" : "";
    const char *csv = safe ? TABLE_CSV BACKUP_ROW APPS_CSV : TABLE_CSV APPS_CSV;
    const char *new_csv =
        safe ? TABLE_CSV BACKUP_ROW APPS_CSV EXTRA_ROW : TABLE_CSV APPS_CSV EXTRA_ROW;
    base_setup(s, safe ? "CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET=0x16000\n" : NULL, csv,
               app_sdk);
    data_t *d = data_of(s);
    d->image = malloc(OTA_PART_TABLE_MAX_LEN);
    d->len = OTA_PART_TABLE_MAX_LEN;
    if (ota_part_csv_compile(new_csv, strlen(new_csv), NULL, d->image, NULL) != OTA_OK) {
        exit(2);
    }
}

static void setup_ptable_idf(sweep_t *s)
{
    setup_table(s, false);
}

static void setup_ptable_safe(sweep_t *s)
{
    setup_table(s, true);
}

static void flow_ptable(sweep_t *s, bool safe)
{
    const esp_partition_t *primary =
        find_or_register(0x8000, 0x1000, "PrimaryPrtTable", ESP_PARTITION_TYPE_PARTITION_TABLE,
                         ESP_PARTITION_SUBTYPE_PARTITION_TABLE_PRIMARY);
    const esp_partition_t *staging = esp_ota_get_next_update_partition(NULL);
    if (primary == NULL || staging == NULL ||
        sweep_ota_write(staging, primary, false, data_of(s)->image, data_of(s)->len) != ESP_OK) {
        return;
    }
    esp_err_t err = safe ? otakit_partition_table_update_safe(staging)
                         : esp_partition_copy(primary, 0, staging, 0, 0x1000);
    if (err == ESP_OK) {
        esp_restart();
    }
}

static void flow_ptable_idf(sweep_t *s)
{
    flow_ptable(s, false);
}

static void flow_ptable_safe(sweep_t *s)
{
    flow_ptable(s, true);
}

/* 0 old table, 1 new table, -1 the board does not boot. */
static int settle_ptable(sweep_t *s, char *why)
{
    sweep_boot_t b;
    if (!sweep_boot(s, &b)) {
        snprintf(why, 64, "%s", b.rom_ok ? "no usable partition table or app" : "no bootloader");
        return -1;
    }
    int n = b.res.table.count;
    if (n == data_of(s)->old_parts) {
        return 0;
    }
    if (n == data_of(s)->old_parts + 1) {
        return 1;
    }
    snprintf(why, 64, "a table of %d entries", n);
    return -2;
}

/* ---- storage -----------------------------------------------------------------------------------
 */

static void setup_storage(sweep_t *s)
{
    base_setup(s, NULL, TABLE_CSV APPS_CSV, "");
    data_t *d = data_of(s);
    d->len = 500;
    d->image = calloc(1, d->len);
    memcpy(d->image, STORAGE_NEW, strlen(STORAGE_NEW));
}

static void flow_storage(sweep_t *s)
{
    const esp_partition_t *storage =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, "storage");
    if (storage != NULL &&
        sweep_ota_write(NULL, storage, true, data_of(s)->image, data_of(s)->len) == ESP_OK) {
        esp_restart();
    }
}

/* 0 old contents, 1 new contents, -2 neither (caught mid-copy), -1 the board does not boot. */
static int settle_storage(sweep_t *s, char *why)
{
    sweep_boot_t b;
    if (!sweep_boot(s, &b)) {
        snprintf(why, 64, "the board does not boot");
        return -1;
    }
    const uint8_t *p = ota_nor_data(s->nor) + STORAGE_OFFSET;
    if (memcmp(p, "old storage contents", 21) == 0) {
        return 0;
    }
    if (memcmp(p, data_of(s)->image, data_of(s)->len) == 0) {
        return 1;
    }
    snprintf(why, 64, "storage holds neither the old nor the new contents");
    return -2;
}

static const sweep_scenario_t scenarios[] = {
    {.name = "bootloader",
     .setup = setup_bootloader,
     .flow = flow_bootloader_unsafe,
     .settle = settle_bootloader,
     .cleanup = cleanup,
     .bricks_allowed = true},
    {.name = "bootloader_recovery",
     .setup = setup_bootloader,
     .flow = flow_bootloader_recovery,
     .settle = settle_bootloader,
     .cleanup = cleanup,
     .chip = "esp32c5"},
    {.name = "bootloader_recovery_idf",
     .setup = setup_bootloader,
     .flow = flow_bootloader_recovery_idf,
     .settle = settle_bootloader,
     .cleanup = cleanup,
     .chip = "esp32c5",
     .bricks_allowed = true},
    {.name = "ptable_idf",
     .setup = setup_ptable_idf,
     .flow = flow_ptable_idf,
     .settle = settle_ptable,
     .cleanup = cleanup,
     .bricks_allowed = true},
    {.name = "ptable_safe",
     .setup = setup_ptable_safe,
     .flow = flow_ptable_safe,
     .settle = settle_ptable,
     .cleanup = cleanup},
    {.name = "storage",
     .setup = setup_storage,
     .flow = flow_storage,
     .settle = settle_storage,
     .cleanup = cleanup,
     .others_allowed = true},
};

int main(int argc, char **argv)
{
    const char *only = NULL;
    char *args[16];
    int n = 0;
    for (int i = 0; i < argc && n < 16; i++) {
        if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            args[n++] = argv[i];
        }
    }
    if (only == NULL) {
        /* a --case id names its scenario */
        for (int i = 1; i + 1 < n; i++) {
            if (strcmp(args[i], "--case") == 0) {
                static char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(args[i + 1], ":"), args[i + 1]);
                only = name;
            }
        }
    }
    int status = 0;
    bool ran = false;
    for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
        if (only != NULL && strcmp(only, scenarios[k].name) != 0) {
            continue;
        }
        ran = true;
        int rc = sweep_main(&scenarios[k], n, args);
        status = rc > status ? rc : status;
    }
    if (!ran) {
        fprintf(stderr, "sweep_partitions: no scenario named '%s'\n", only);
        return 2;
    }
    return status;
}
