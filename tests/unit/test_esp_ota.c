/*
 * ESP-IDF API layer over the native OTA core: esp_ota_* (spec 4), esp_partition_* (spec 1.9),
 * esp_flash_*, esp_app_*, esp_efuse_* after esp_dev_install on an in-memory emulated NOR flash
 * with real packed images. Checks ESP-IDF's numeric error codes and log lines (captured from
 * stdout), handle numbering, the spec 2.8 worked example through esp_ota_set_boot_partition,
 * partition-table / bootloader / data staging, and a full update cycle with the boot chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_app_desc.h"
#include "esp_efuse.h"
#include "esp_flash.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "ota/ota_boot.h"
#include "ota/ota_img_build.h"
#include "ota/ota_nor.h"
#include "ota/ota_ops.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "fixture.h"

#define FLASH_SIZE 0x400000u
#define MiB 0x100000u

typedef struct {
    ota_nor_t *nor;
    const ota_flash_t *flash;
    ota_part_table_t table;
    ota_sdkconfig_t *sdk;
    ota_efuse_t efuse;
    test_fuses_t fuses;
    uint32_t test_flags;
    FILE *cap;
    int saved_stdout;
    char text[1 << 17];
} fixture_t;

static fixture_t fx;

/* ---- log capture (the layer logs to stdout) ------------------------------------------------ */

static void cap_clear(void)
{
    fflush(stdout);
    assert_int_equal(ftruncate(fileno(fx.cap), 0), 0);
    lseek(fileno(fx.cap), 0, SEEK_SET);
}

static const char *cap_text(void)
{
    fflush(stdout);
    long end = lseek(fileno(fx.cap), 0, SEEK_CUR);
    size_t n = 0;
    if (end > 0) {
        n = (size_t)pread(fileno(fx.cap), fx.text, sizeof(fx.text) - 1, 0);
    }
    fx.text[n] = '\0';
    return fx.text;
}

/* A line "L (ms) tag: msg" was printed. */
static bool logged(char level, const char *tag, const char *msg)
{
    char needle[512];
    snprintf(needle, sizeof(needle), ") %s: %s\n", tag, msg);
    const char *t = cap_text();
    for (const char *line = t; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        const char *hit = strstr(line, needle);
        if (line[0] == level && hit != NULL && (nl == NULL || hit < nl)) {
            return true;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

/* ---- board --------------------------------------------------------------------------------- */

static void use_table(const ota_part_table_t *t)
{
    fx.table = *t;
    test_table_put(fx.flash, &fx.table);
}

static void put_table(const char *name)
{
    ota_part_table_t t;
    test_table_builtin(name, &t);
    use_table(&t);
}

static void put_csv(const char *csv)
{
    ota_part_table_t t;
    test_table_csv(csv, &t);
    use_table(&t);
}

static const ota_part_t *tpart(const char *label)
{
    const ota_part_t *p = ota_part_find_by_label(&fx.table, label);
    assert_non_null(p);
    return p;
}

static const uint8_t payload[3000] = {9, 8, 7};

/* A packed app image (malloc'ed) of project "app". */
static uint8_t *make_app(const char *version, long long secure_version, size_t *len)
{
    return test_app_image("app", version, secure_version, payload, sizeof(payload), len);
}

static void put_app(const char *label, const char *version, long long secure_version)
{
    size_t len;
    uint8_t *img = make_app(version, secure_version, &len);
    test_flash_put(fx.flash, tpart(label)->offset, img, len);
    free(img);
}

static void set_cfg(const char *key, const char *value)
{
    assert_int_equal(ota_sdkconfig_set(fx.sdk, key, value), OTA_OK);
}

/* Installs the device with the given running partition (NULL = none). */
static esp_err_t install(const char *running)
{
    esp_dev_config_t cfg = {
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = &fx.efuse,
        .running_offset = running != NULL ? tpart(running)->offset : 0,
        .sdkconfig = fx.sdk,
        .ota_test_flags = fx.test_flags,
    };
    return esp_dev_install(&cfg);
}

static const esp_partition_t *P(const char *label)
{
    const esp_partition_t *p =
        esp_partition_find_first(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, label);
    assert_non_null(p);
    return p;
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    assert_int_equal(ota_nor_create_mem(FLASH_SIZE, NULL, &fx.nor, NULL), OTA_OK);
    fx.flash = ota_nor_flash(fx.nor);
    fx.efuse = test_fuses_ops(&fx.fuses, false);
    fx.sdk = ota_sdkconfig_new();
    assert_non_null(fx.sdk);
    esp_log_set_colors(0);
    fflush(stdout);
    fx.saved_stdout = dup(STDOUT_FILENO);
    fx.cap = tmpfile();
    dup2(fileno(fx.cap), STDOUT_FILENO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esp_dev_uninstall();
    fflush(stdout);
    dup2(fx.saved_stdout, STDOUT_FILENO);
    close(fx.saved_stdout);
    fclose(fx.cap);
    ota_sdkconfig_free(fx.sdk);
    ota_nor_close(fx.nor);
    return 0;
}

/* two_ota with images in factory (1), ota_0 (2), ota_1 (3); installed with factory running. */
static void two_ota_board(void)
{
    put_table("two_ota");
    put_app("factory", "1", -1);
    put_app("ota_0", "2", -1);
    put_app("ota_1", "3", -1);
    assert_int_equal(install("factory"), ESP_OK);
    cap_clear();
}

/* Asserts the 32 bytes of otadata sector i, as hex. */
static void assert_sector(int i, const char *hex)
{
    test_assert_hex32(ota_nor_data(fx.nor) + tpart("otadata")->offset + (uint32_t)i * 0x1000u, hex);
}

static void stream(esp_ota_handle_t h, const uint8_t *img, size_t len, size_t n)
{
    for (size_t off = 0; off < len; off += n) {
        size_t k = len - off < n ? len - off : n;
        assert_int_equal(esp_ota_write(h, img + off, k), ESP_OK);
    }
}

/* ---- installation and records ------------------------------------------------------------ */

static void test_install_records(void **state)
{
    (void)state;
    put_csv("nvs, data, nvs, , 0x4000\n"
            "otadata, data, ota, , 0x2000\n"
            "phy_init, data, phy, , 0x1000, readonly\n"
            "factory, app, factory, , 1M\n"
            "ota_0, app, ota_0, , 1M\n"
            "ota_1, app, ota_1, , 1M\n");
    assert_int_equal(install("factory"), ESP_OK);
    const esp_partition_t *p = P("ota_0");
    assert_ptr_equal(p->flash_chip, esp_flash_default_chip);
    assert_int_equal(p->type, ESP_PARTITION_TYPE_APP);
    assert_int_equal(p->subtype, ESP_PARTITION_SUBTYPE_APP_OTA_0);
    assert_int_equal(p->address, 0x110000);
    assert_int_equal(p->size, 0x100000);
    assert_int_equal(p->erase_size, 0x1000);
    assert_string_equal(p->label, "ota_0");
    assert_false(p->encrypted);
    assert_false(p->readonly);
    assert_true(P("phy_init")->readonly);

    /* table order, externals after */
    const char *order[] = {"nvs", "otadata", "phy_init", "factory", "ota_0", "ota_1"};
    esp_partition_iterator_t it =
        esp_partition_find(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL);
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(it);
        assert_string_equal(esp_partition_get(it)->label, order[i]);
        it = esp_partition_next(it);
    }
    assert_null(it);
    it = esp_partition_find(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_ANY, NULL);
    assert_string_equal(esp_partition_get(it)->label, "factory");
    esp_partition_iterator_release(it);
    assert_null(esp_partition_find(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_APP_OTA_0, NULL));
    assert_null(esp_partition_find(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_ANY, "nvs"));
    assert_null(esp_partition_find(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY,
                                   "nvs_with_a_very_long_name"));
    assert_ptr_equal(
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, NULL),
        P("otadata"));
    assert_null(esp_partition_get(NULL));
    assert_null(esp_partition_next(NULL));

    /* verify: the table's own record for an identical description */
    esp_partition_t copy = *P("ota_1");
    assert_ptr_equal(esp_partition_verify(&copy), P("ota_1"));
    copy.label[0] = '\0';
    assert_ptr_equal(esp_partition_verify(&copy), P("ota_1"));
    copy.flash_chip = NULL;
    assert_ptr_equal(esp_partition_verify(&copy), P("ota_1"));
    copy.encrypted = true;
    assert_null(esp_partition_verify(&copy));
    copy.encrypted = false;
    copy.size = 0x1000;
    assert_null(esp_partition_verify(&copy));
    assert_null(esp_partition_verify(NULL));

    assert_ptr_equal(esp_ota_get_running_partition(), P("factory"));
    assert_int_equal(esp_ota_get_app_partition_count(), 2);
    assert_int_equal(esp_partition_get_main_flash_sector_size(), 0x1000);
    assert_true(esp_dev_installed());
    esp_dev_uninstall();
    assert_false(esp_dev_installed());
    assert_null(esp_partition_find_first(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL));
    assert_int_equal(esp_dev_install(NULL), ESP_ERR_INVALID_ARG);
}

static void test_install_md5(void **state)
{
    (void)state;
    ota_part_table_t t;
    assert_int_equal(ota_part_builtin_table("two_ota", NULL, &t, NULL), OTA_OK);
    t.has_md5 = false;
    use_table(&t);
    cap_clear();
    assert_int_equal(install(NULL), ESP_ERR_NOT_FOUND);
    assert_true(logged('E', "partition", "No MD5 found in partition table"));
    assert_true(logged('E', "partition", "load_partitions returned 0x105"));
    assert_null(esp_partition_find_first(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL));
    set_cfg("PARTITION_TABLE_MD5", "n");
    assert_int_equal(install(NULL), ESP_OK);
    assert_non_null(P("ota_1"));

    /* a wrong digest */
    t.has_md5 = true;
    use_table(&t);
    uint8_t b = 0x00;
    assert_int_equal(ota_flash_program(fx.flash, 0x8000 + 0xD0, &b, 1), OTA_OK);
    set_cfg("PARTITION_TABLE_MD5", "y");
    cap_clear();
    assert_int_equal(install(NULL), ESP_ERR_INVALID_STATE);
    assert_true(logged('E', "partition", "Partition table MD5 mismatch"));
}

/* ---- esp_ota_begin / handles ----------------------------------------------------------- */

static void test_handles(void **state)
{
    (void)state;
    two_ota_board();
    esp_ota_handle_t h1 = 0, h2 = 0, h3 = 0;
    assert_int_equal(esp_ota_begin(P("ota_0"), OTA_WITH_SEQUENTIAL_WRITES, &h1), ESP_OK);
    assert_int_equal(h1, 1);
    assert_int_equal(esp_ota_begin(P("ota_1"), OTA_WITH_SEQUENTIAL_WRITES, &h2), ESP_OK);
    assert_int_equal(h2, 2);
    /* nothing written: INVALID_ARG, and the handle is gone */
    assert_int_equal(esp_ota_end(h1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_abort(h1), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_end(h1), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_abort(h2), ESP_OK);
    assert_int_equal(esp_ota_abort(h2), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_abort(0), ESP_ERR_NOT_FOUND);
    /* a failing erase consumes a number (ESP-IDF allocated it before erasing) */
    assert_int_equal(esp_ota_begin(P("ota_0"), 2 * MiB, &h3), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_ota_begin(P("ota_0"), OTA_WITH_SEQUENTIAL_WRITES, &h3), ESP_OK);
    assert_int_equal(h3, 4);
    /* a checks failure does not */
    assert_int_equal(esp_ota_begin(P("factory"), 0, &h3), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_resume(P("ota_1"), 0, 0, &h3), ESP_OK);
    assert_int_equal(h3, 5);
    /* a new installation is a new boot */
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_abort(5), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_begin(P("ota_0"), OTA_WITH_SEQUENTIAL_WRITES, &h3), ESP_OK);
    assert_int_equal(h3, 1);
}

static void test_begin_errors(void **state)
{
    (void)state;
    two_ota_board();
    esp_ota_handle_t h;
    assert_int_equal(esp_ota_begin(NULL, 0, &h), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_begin(P("ota_0"), 0, NULL), ESP_ERR_INVALID_ARG);
    esp_partition_t fake = *P("ota_0");
    fake.address = 0x300000;
    assert_int_equal(esp_ota_begin(&fake, 0, &h), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_begin(P("factory"), 0, &h), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_begin(P("ota_0"), MiB + 1, &h), ESP_ERR_INVALID_SIZE);
    /* a stack copy of a registered partition is looked up */
    esp_partition_t copy = *P("ota_1");
    assert_int_equal(esp_ota_begin(&copy, 5000, &h), ESP_OK);

    assert_int_equal(install("ota_0"), ESP_OK);
    assert_int_equal(esp_ota_begin(P("ota_0"), 0, &h), ESP_ERR_OTA_PARTITION_CONFLICT);

    /* rollback: an unconfirmed running app cannot start an update */
    set_cfg("BOOTLOADER_APP_ROLLBACK_ENABLE", "y");
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    ota_otadata_entry_t e;
    ota_otadata_make(1, OTA_OTADATA_STATE_PENDING_VERIFY, &e);
    assert_int_equal(ota_otadata_write_entry(fx.flash, 0xD000, 0x2000, 0, &e), OTA_OK);
    assert_int_equal(install("ota_0"), ESP_OK);
    cap_clear();
    assert_int_equal(esp_ota_begin(P("ota_1"), 0, &h), ESP_ERR_OTA_ROLLBACK_INVALID_STATE);
    assert_true(logged('E', "esp_ota_ops",
                       "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY)"));
    assert_int_equal(esp_ota_mark_app_valid_cancel_rollback(), ESP_OK);
    assert_int_equal(esp_ota_begin(P("ota_1"), 0, &h), ESP_OK);
}

static void test_write_errors(void **state)
{
    (void)state;
    two_ota_board();
    esp_ota_handle_t h;
    uint8_t bad[32] = {0x00};
    uint8_t good[32] = {0xE9};
    assert_int_equal(esp_ota_begin(P("ota_0"), OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);

    assert_int_equal(esp_ota_write(h, NULL, 4), ESP_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "write data is invalid"));
    cap_clear();
    assert_int_equal(esp_ota_write(h + 100, good, 4), ESP_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "not found the handle"));
    assert_int_equal(esp_ota_write(h + 100, good, 0), ESP_OK); /* size 0 comes first */

    cap_clear();
    assert_int_equal(esp_ota_write(h, bad, sizeof(bad)), ESP_ERR_OTA_VALIDATE_FAILED);
    assert_true(
        logged('E', "esp_ota_ops", "OTA image has invalid magic byte (expected 0xE9, saw 0x00)"));
    /* the handle is still open */
    assert_int_equal(esp_ota_write(h, good, sizeof(good)), ESP_OK);
    assert_int_equal(esp_ota_write(h, bad, sizeof(bad)), ESP_OK);

    /* writing past the partition end */
    esp_ota_handle_t h2;
    assert_int_equal(esp_ota_resume(P("ota_1"), 0, MiB - 16, &h2), ESP_OK);
    assert_int_equal(esp_ota_write(h2, bad, 17), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_ota_write(h2, bad, 16), ESP_OK);

    /* write_with_offset */
    cap_clear();
    assert_int_equal(esp_ota_write_with_offset(h + 100, good, 4, 0), ESP_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "OTA handle not found"));
    cap_clear();
    assert_int_equal(esp_ota_write_with_offset(h, NULL, 4, 0), ESP_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "write data is invalid"));
    assert_int_equal(esp_ota_write_with_offset(h, good, 4, 0), ESP_ERR_INVALID_STATE);
    esp_ota_handle_t h3;
    assert_int_equal(esp_ota_begin(P("ota_1"), OTA_SIZE_UNKNOWN, &h3), ESP_OK);
    assert_int_equal(esp_ota_write_with_offset(h3, bad, sizeof(bad), 0x1000), ESP_OK);
    assert_int_equal(esp_ota_write_with_offset(h3, bad, sizeof(bad), 0), ESP_OK); /* no check */
    assert_int_equal(esp_ota_write_with_offset(h3, bad, sizeof(bad), MiB - 8),
                     ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_ota_write_with_offset(h3, bad, 1, MiB + 1), ESP_ERR_INVALID_ARG);
}

static void test_end(void **state)
{
    (void)state;
    two_ota_board();
    size_t len;
    uint8_t *img = make_app("5", -1, &len);
    esp_ota_handle_t h;
    assert_int_equal(esp_ota_end(77), ESP_ERR_NOT_FOUND);

    assert_int_equal(esp_ota_begin(P("ota_0"), OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    stream(h, img, 64000, 1024);
    cap_clear();
    assert_int_equal(esp_ota_end(h), ESP_ERR_OTA_VALIDATE_FAILED);
    assert_true(logged('E', "esp_ota_ops", "New image failed verification"));
    assert_int_equal(esp_ota_abort(h), ESP_ERR_NOT_FOUND);

    assert_int_equal(esp_ota_begin(P("ota_0"), len, &h), ESP_OK);
    stream(h, img, len, 4096);
    cap_clear();
    assert_int_equal(esp_ota_end(h), ESP_OK);
    assert_non_null(strstr(cap_text(), ") esp_image: segment 0: paddr=00110020"));
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_ptr_equal(esp_ota_get_boot_partition(), P("ota_0"));
    esp_app_desc_t d;
    assert_int_equal(esp_ota_get_partition_description(P("ota_0"), &d), ESP_OK);
    assert_string_equal(d.version, "5");
    free(img);
}

static void test_set_final_and_staging(void **state)
{
    (void)state;
    two_ota_board();
    esp_ota_handle_t h;
    const esp_partition_t *pt = NULL;
    assert_int_equal(esp_partition_register_external(NULL, 0x8000, 0x1000, "PrimaryPrtTable",
                                                     ESP_PARTITION_TYPE_PARTITION_TABLE,
                                                     ESP_PARTITION_SUBTYPE_PARTITION_TABLE_PRIMARY,
                                                     &pt),
                     ESP_OK);
    assert_int_equal(esp_ota_begin(P("ota_1"), OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    assert_int_equal(esp_ota_set_final_partition(h, NULL, false), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_set_final_partition(h + 9, pt, false), ESP_ERR_NOT_FOUND);
    esp_partition_t ghost = *pt;
    ghost.address = 0x7000;
    assert_int_equal(esp_ota_set_final_partition(h, &ghost, false), ESP_ERR_NOT_FOUND);
    cap_clear();
    assert_int_equal(esp_ota_set_final_partition(h, P("ota_1"), true), ESP_OK);
    assert_int_equal(strlen(cap_text()), 0);
    assert_int_equal(esp_ota_set_final_partition(h, pt, true), ESP_OK);
    assert_true(logged('I', "esp_ota_ops",
                       "Staging partition - <ota_1>. Final partition - <PrimaryPrtTable>."));

    /* the new table: two_ota plus a "storage" data partition */
    ota_part_table_t t;
    assert_int_equal(ota_part_builtin_table("two_ota", NULL, &t, NULL), OTA_OK);
    t.parts[t.count] = (ota_part_t){.type = 1, .subtype = 6, .offset = 0x310000, .size = 0x1000};
    snprintf(t.parts[t.count++].label, 17, "storage");
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), &t, bin, NULL), OTA_OK);
    uint8_t wrong[2] = {0xE9, 0x00};
    cap_clear();
    assert_int_equal(esp_ota_write(h, wrong, 2), ESP_ERR_OTA_VALIDATE_FAILED);
    assert_true(logged('E', "esp_ota_ops",
                       "Partition table image has invalid magic word (expected 0x50AA, saw "
                       "0x00e9)"));
    stream(h, bin, sizeof(bin), 1000);
    assert_int_equal(esp_ota_set_final_partition(h, pt, false), ESP_ERR_INVALID_STATE);
    cap_clear();
    assert_int_equal(esp_ota_end(h), ESP_OK);
    assert_true(
        logged('I', "esp_ota_ops", "Copy from <ota_1> staging partition to <PrimaryPrtTable>..."));
    assert_memory_equal(ota_nor_data(fx.nor) + 0x8000, bin, sizeof(bin));
    assert_int_equal(esp_partition_deregister_external(pt), ESP_OK);

    /* the new table is in effect after the next start-up */
    assert_int_equal(install("factory"), ESP_OK);
    const esp_partition_t *storage = P("storage");
    assert_int_equal(storage->address, 0x310000);

    /* data staging into "storage" with the copy done by esp_ota_end */
    uint8_t data[500] = "7296406769363431";
    assert_int_equal(esp_ota_begin(P("ota_1"), OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    assert_int_equal(esp_ota_set_final_partition(h, storage, true), ESP_OK);
    assert_int_equal(esp_ota_write(h, data, sizeof(data)), ESP_OK);
    assert_int_equal(esp_ota_end(h), ESP_OK);
    char back[17] = {0};
    assert_int_equal(esp_partition_read(storage, 0, back, 16), ESP_OK);
    assert_string_equal(back, "7296406769363431");

    /* bootloader staging */
    size_t bl_len = 0;
    uint8_t *bl = test_bootloader_image(&bl_len);
    const esp_partition_t *primary = NULL;
    assert_int_equal(esp_partition_register_external(
                         NULL, 0x1000, 0x7000, "PrimaryBTLDR", ESP_PARTITION_TYPE_BOOTLOADER,
                         ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY, &primary),
                     ESP_OK);
    assert_int_equal(esp_ota_begin(P("ota_1"), OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    assert_int_equal(esp_ota_set_final_partition(h, primary, true), ESP_OK);
    stream(h, bl, bl_len, 700);
    assert_int_equal(esp_partition_deregister_external(primary), ESP_ERR_INVALID_STATE);
    assert_int_equal(esp_ota_end(h), ESP_OK);
    assert_memory_equal(ota_nor_data(fx.nor) + 0x1000, bl, bl_len);
    esp_bootloader_desc_t bd;
    assert_int_equal(esp_ota_get_bootloader_description(NULL, &bd), ESP_OK);
    assert_int_equal(bd.magic_byte, ESP_BOOTLOADER_DESC_MAGIC_BYTE);
    assert_int_equal(bd.version, 1);
    assert_int_equal(esp_ota_get_bootloader_description(primary, &bd), ESP_OK);
    assert_int_equal(esp_ota_get_bootloader_description(NULL, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_deregister_external(primary), ESP_OK);
    free(bl);
}

/* ---- boot selection ----------------------------------------------------------------------- */

static void test_worked_example(void **state)
{
    (void)state;
    two_ota_board();
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");
    assert_sector(1, BLANK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_sector(0, "03000000" FF20 "ffffffff11504aed");
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");

    /* with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE the state words are NEW */
    assert_int_equal(ota_otadata_erase(fx.flash, 0xD000, 0x2000), OTA_OK);
    set_cfg("BOOTLOADER_APP_ROLLBACK_ENABLE", "y");
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_sector(0, "01000000" FF20 "000000009a984347");
    assert_sector(1, BLANK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK);
    assert_sector(0, "01000000" FF20 "000000009a984347");
    assert_sector(1, "02000000" FF20 "000000007437f655");
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_sector(0, "03000000" FF20 "0000000011504aed");
    assert_sector(1, "02000000" FF20 "000000007437f655");
    esp_ota_img_states_t st;
    assert_int_equal(esp_ota_get_state_partition(P("ota_0"), &st), ESP_OK);
    assert_int_equal(st, ESP_OTA_IMG_NEW);
}

static void test_flip_switch(void **state)
{
    (void)state;
    two_ota_board();
    fx.test_flags = OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR;
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK);
    assert_sector(0, "02000000" FF20 "ffffffff7437f655");
    assert_sector(1, BLANK);
    fx.test_flags = 0;
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_sector(1, "03000000" FF20 "ffffffff11504aed");
}

static void test_set_boot(void **state)
{
    (void)state;
    put_csv("nvs, data, nvs, , 0x4000\n"
            "otadata, data, ota, , 0x2000\n"
            "factory, app, factory, , 512K\n"
            "ota_0, app, ota_0, , 512K\n"
            "ota_1, app, ota_1, , 512K\n"
            "test, app, test, , 512K\n");
    put_app("factory", "1", -1);
    put_app("ota_0", "2", -1);
    put_app("test", "t", -1);
    assert_int_equal(install("factory"), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(NULL), ESP_ERR_INVALID_ARG);
    cap_clear();
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_ERR_OTA_VALIDATE_FAILED);
    assert_true(logged('E', "esp_image",
                       "image at 0x110000 has invalid magic byte (nothing flashed here?)"));
    assert_int_equal(esp_ota_set_boot_partition(P("test")), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    assert_ptr_equal(esp_ota_get_boot_partition(), P("ota_0"));
    assert_int_equal(esp_ota_set_boot_partition(P("factory")), ESP_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, P("otadata")->address, 0x2000), 1);
    assert_ptr_equal(esp_ota_get_boot_partition(), P("factory"));
    /* a caller-made struct is used as given */
    esp_partition_t made = {.type = ESP_PARTITION_TYPE_APP,
                            .subtype = ESP_PARTITION_SUBTYPE_APP_OTA_0,
                            .address = P("ota_0")->address,
                            .size = P("ota_0")->size};
    assert_int_equal(esp_ota_set_boot_partition(&made), ESP_OK);
    assert_ptr_equal(esp_ota_get_boot_partition(), P("ota_0"));
}

static void test_anti_rollback(void **state)
{
    (void)state;
    put_table("two_ota_large");
    put_app("ota_0", "1", 2);
    put_app("ota_1", "2", 1);
    set_cfg("BOOTLOADER_APP_ROLLBACK_ENABLE", "y");
    set_cfg("BOOTLOADER_APP_ANTI_ROLLBACK", "y");
    fx.fuses.counter = 2;
    assert_int_equal(install("ota_0"), ESP_OK);
    cap_clear();
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_ERR_OTA_SMALL_SEC_VER);
    assert_true(logged('E', "esp_ota_ops",
                       "This a new partition can not be booted due to a secure version is lower "
                       "than stored in efuse. Partition will be erased."));
    assert_int_equal(ota_flash_is_erased(fx.flash, P("ota_1")->address, P("ota_1")->size), 1);
    assert_int_equal(esp_efuse_read_secure_version(), 2);
    assert_false(esp_efuse_check_secure_version(1));
    assert_true(esp_efuse_check_secure_version(2));

    /* eFuse API */
    cap_clear();
    assert_int_equal(esp_efuse_update_secure_version(33), ESP_ERR_INVALID_ARG);
    assert_true(logged('E', "efuse",
                       "Max secure version is 32. Given 33 version can not be "
                       "written."));
    assert_int_equal(esp_efuse_update_secure_version(1), ESP_OK);
    assert_int_equal(fx.fuses.counter, 2);
    assert_int_equal(esp_efuse_update_secure_version(4), ESP_OK);
    assert_int_equal(esp_efuse_read_secure_version(), 4);
    set_cfg("BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD", "4");
    assert_int_equal(install("ota_0"), ESP_OK);
    assert_int_equal(esp_efuse_update_secure_version(5), ESP_ERR_INVALID_ARG);
}

static void test_queries_without_otadata(void **state)
{
    (void)state;
    put_table("singleapp");
    put_app("factory", "1", -1);
    assert_int_equal(install("factory"), ESP_OK);
    cap_clear();
    assert_null(esp_ota_get_boot_partition());
    assert_true(logged('E', "esp_ota_ops", "not found otadata"));
    assert_int_equal(esp_ota_mark_app_valid_cancel_rollback(), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_set_boot_partition(P("factory")), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_erase_last_boot_app_partition(), ESP_FAIL);
    assert_int_equal(esp_ota_invalidate_inactive_ota_data_slot(), ESP_FAIL);
    assert_null(esp_ota_get_next_update_partition(NULL));
    assert_null(esp_ota_get_last_invalid_partition());
    assert_false(esp_ota_check_rollback_is_possible());
    assert_int_equal(esp_ota_get_app_partition_count(), 0);
}

static void test_rollback_control(void **state)
{
    (void)state;
    put_table("two_ota_large");
    put_app("ota_0", "1", -1);
    put_app("ota_1", "2", -1);
    set_cfg("BOOTLOADER_APP_ROLLBACK_ENABLE", "y");
    assert_int_equal(install("ota_0"), ESP_OK);
    /* blank otadata: "factory" */
    cap_clear();
    assert_int_equal(esp_ota_mark_app_valid_cancel_rollback(), ESP_FAIL);
    assert_true(logged('E', "esp_ota_ops", "Running firmware is factory"));
    assert_int_equal(esp_ota_mark_app_invalid_rollback_and_reboot(), ESP_FAIL);

    /* only one entry, no factory: no rollback target */
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);
    cap_clear();
    assert_int_equal(esp_ota_mark_app_invalid_rollback(), ESP_ERR_OTA_ROLLBACK_FAILED);
    assert_true(logged('E', "esp_ota_ops",
                       "Rollback is not possible, do not have any suitable apps in slots"));
    assert_int_equal(esp_ota_mark_app_invalid_rollback_and_reboot(), ESP_ERR_OTA_ROLLBACK_FAILED);
    esp_ota_img_states_t st;
    assert_int_equal(esp_ota_get_state_partition(P("ota_0"), &st), ESP_OK);
    assert_int_equal(st, ESP_OTA_IMG_NEW);
    assert_int_equal(esp_ota_get_state_partition(P("ota_1"), &st), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_ota_get_state_partition(NULL, &st), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_get_state_partition(P("nvs"), &st), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_ota_mark_app_valid_cancel_rollback(), ESP_OK);
    assert_sector(0, "01000000" FF20 "020000009a984347");

    /* ota_0 -> ota_1: ota_0 is now a rollback target */
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK);
    assert_true(esp_ota_check_rollback_is_possible());
    assert_int_equal(install("ota_1"), ESP_OK);
    cap_clear();
    assert_int_equal(esp_ota_mark_app_invalid_rollback(), ESP_OK);
    assert_true(logged('I', "esp_ota_ops", "Rollback to previously worked partition."));
    assert_int_equal(esp_ota_get_state_partition(P("ota_1"), &st), ESP_OK);
    assert_int_equal(st, ESP_OTA_IMG_INVALID);
    assert_ptr_equal(esp_ota_get_boot_partition(), P("ota_0"));
    assert_ptr_equal(esp_ota_get_last_invalid_partition(), P("ota_1"));

    /* the inactive entry (seq 1, ota_0) is not the running app (ota_1): only its sector goes */
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK); /* seq 2, sector 1 */
    assert_int_equal(esp_ota_invalidate_inactive_ota_data_slot(), ESP_OK);
    assert_sector(0, BLANK);
    assert_sector(1, "02000000" FF20 "000000007437f655");
    assert_int_equal(esp_ota_erase_last_boot_app_partition(), ESP_FAIL); /* inactive is blank */
    assert_int_equal(esp_ota_set_boot_partition(P("ota_0")), ESP_OK);    /* seq 3, sector 0 */
    /* now the inactive entry names the running slot */
    assert_int_equal(esp_ota_erase_last_boot_app_partition(), ESP_FAIL);
    assert_int_equal(esp_ota_set_boot_partition(P("ota_1")), ESP_OK); /* seq 4, sector 1 */
    assert_int_equal(esp_ota_erase_last_boot_app_partition(), ESP_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, P("ota_0")->address, P("ota_0")->size), 1);
    assert_sector(0, BLANK);
    assert_sector(1, "04000000" FF20 "00000000a8689d70");
}

static void test_next_update_and_boot(void **state)
{
    (void)state;
    two_ota_board();
    assert_ptr_equal(esp_ota_get_boot_partition(), P("factory"));
    assert_ptr_equal(esp_ota_get_next_update_partition(NULL), P("ota_0"));
    assert_ptr_equal(esp_ota_get_next_update_partition(P("ota_0")), P("ota_1"));
    assert_ptr_equal(esp_ota_get_next_update_partition(P("ota_1")), P("ota_0"));
    esp_partition_t copy = *P("ota_0");
    assert_ptr_equal(esp_ota_get_next_update_partition(&copy), P("ota_1"));
    assert_int_equal(install("ota_0"), ESP_OK);
    assert_ptr_equal(esp_ota_get_next_update_partition(NULL), P("ota_1"));
    /* no running partition known (nothing installed it): ESP-IDF would abort */
    assert_int_equal(install(NULL), ESP_OK);
    assert_null(esp_ota_get_running_partition());
    assert_ptr_equal(esp_ota_get_next_update_partition(NULL), P("ota_0"));
}

/* ---- descriptions --------------------------------------------------------------------------- */

static void test_descriptions(void **state)
{
    (void)state;
    two_ota_board();
    esp_app_desc_t d;
    assert_int_equal(esp_ota_get_partition_description(NULL, &d), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_get_partition_description(P("ota_0"), NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_ota_get_partition_description(P("nvs"), &d), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_ota_get_partition_description(P("ota_1"), &d), ESP_OK);
    assert_int_equal(d.magic_word, ESP_APP_DESC_MAGIC_WORD);
    assert_string_equal(d.version, "3");
    assert_string_equal(d.project_name, "app");
    assert_string_equal(d.idf_ver, OTA_IDF_VER_DEFAULT);
    esp_partition_t made = {.type = ESP_PARTITION_TYPE_APP, .address = 0x110000, .size = MiB};
    assert_int_equal(esp_ota_get_partition_description(&made, &d), ESP_OK);
    assert_string_equal(d.version, "2");
    made.address = 0x310000;
    assert_int_equal(esp_ota_get_partition_description(&made, &d), ESP_ERR_NOT_FOUND);
    esp_bootloader_desc_t bd;
    assert_int_equal(esp_ota_get_bootloader_description(NULL, &bd), ESP_ERR_NOT_FOUND);

    /* the running app */
    const esp_app_desc_t *run = esp_app_get_description();
    assert_string_equal(run->version, "1");
    assert_ptr_equal(esp_ota_get_app_description(), run);
    uint8_t sha[32];
    assert_int_equal(ota_hash(ota_crypto_openssl(), OTA_HASH_SHA256, payload, sizeof(payload), sha),
                     OTA_OK);
    assert_memory_equal(run->app_elf_sha256, sha, 32);
    char hex[65];
    char want[9];
    snprintf(want, sizeof(want), "%02x%02x%02x%02x", sha[0], sha[1], sha[2], sha[3]);
    assert_int_equal(esp_app_get_elf_sha256(hex, sizeof(hex)), 9);
    assert_string_equal(hex, want);
    assert_int_equal(esp_ota_get_app_elf_sha256(hex, 5), 5);
    assert_int_equal(strlen(hex), 4);
    assert_memory_equal(hex, want, 4);
    assert_int_equal(esp_app_get_elf_sha256(hex, 1), 0);
    assert_int_equal(esp_app_get_elf_sha256(NULL, 10), 0);
    set_cfg("APP_RETRIEVE_LEN_ELF_SHA", "16");
    assert_int_equal(install("ota_1"), ESP_OK);
    assert_int_equal(esp_app_get_elf_sha256(hex, sizeof(hex)), 17);
    assert_string_equal(esp_app_get_description()->version, "3");
}

/* ---- esp_partition I/O ------------------------------------------------------------------- */

static void test_partition_io(void **state)
{
    (void)state;
    put_csv("nvs, data, nvs, , 0x4000\n"
            "otadata, data, ota, , 0x2000\n"
            "phy_init, data, phy, , 0x1000, readonly\n"
            "factory, app, factory, , 1M\n");
    put_app("factory", "1", -1);
    assert_int_equal(install("factory"), ESP_OK);
    const esp_partition_t *nvs = P("nvs");
    uint8_t buf[64] = {1, 2, 3, 4};
    assert_int_equal(esp_partition_read(nvs, 0x4001, buf, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_read(nvs, 0x3FFF, buf, 2), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_read(NULL, 0, buf, 2), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_write(nvs, 0x4001, buf, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_write(nvs, 0x3FFF, buf, 2), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_write(nvs, 0x100, buf, 4), ESP_OK);
    assert_int_equal(esp_partition_read_raw(nvs, 0x100, buf + 8, 4), ESP_OK);
    assert_memory_equal(buf + 8, buf, 4);
    assert_int_equal(esp_partition_write_raw(nvs, 0x200, buf, 4), ESP_OK);
    assert_int_equal(esp_partition_erase_range(nvs, 0x5000, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_erase_range(nvs, 0x1000, 0x4000), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_erase_range(nvs, 0, 0x800), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_erase_range(nvs, 0x800, 0x1000), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_erase_range(nvs, 0, 0x1000), ESP_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, 0x9000, 0x1000), 1);
    const esp_partition_t *phy = P("phy_init");
    assert_int_equal(esp_partition_write(phy, 0, buf, 1), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esp_partition_write_raw(phy, 0, buf, 1), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esp_partition_erase_range(phy, 0, 0x1000), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esp_partition_read(phy, 0, buf, 4), ESP_OK);
    /* a caller-made partition beyond the chip: the flash driver refuses */
    esp_partition_t far = {.type = ESP_PARTITION_TYPE_DATA, .address = 0x3FF000, .size = 0x4000};
    assert_int_equal(esp_partition_read(&far, 0x2000, buf, 4), ESP_ERR_INVALID_ARG);

    /* mmap: a copy */
    const void *ptr = NULL;
    esp_partition_mmap_handle_t mh = 0;
    assert_int_equal(esp_partition_mmap(nvs, 0x100, 8, ESP_PARTITION_MMAP_DATA, &ptr, &mh), ESP_OK);
    assert_memory_equal(ptr, ota_nor_data(fx.nor) + 0x9100, 8);
    esp_partition_munmap(mh);
    assert_int_equal(esp_partition_mmap(nvs, 0x4001, 1, ESP_PARTITION_MMAP_DATA, &ptr, &mh),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_mmap(nvs, 0x3000, 0x1001, ESP_PARTITION_MMAP_DATA, &ptr, &mh),
                     ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_mmap(nvs, 0, 1, ESP_PARTITION_MMAP_DATA, NULL, &mh),
                     ESP_ERR_INVALID_ARG);
    esp_partition_munmap(12345);

    /* sha256 of a stack struct with only address, size and type (as the examples do) */
    size_t len;
    uint8_t *img = make_app("1", -1, &len);
    esp_partition_t made = {.type = ESP_PARTITION_TYPE_APP, .address = 0x10000, .size = MiB};
    uint8_t sha[32];
    assert_int_equal(esp_partition_get_sha256(&made, sha), ESP_OK);
    assert_memory_equal(sha, img + len - 32, 32);
    assert_true(esp_partition_check_identity(&made, P("factory")));
    assert_false(esp_partition_check_identity(nvs, P("factory")));
    esp_partition_t table = {.type = ESP_PARTITION_TYPE_DATA, .address = 0x8000, .size = 0xC00};
    uint8_t want[32];
    assert_int_equal(
        ota_hash(ota_crypto_openssl(), OTA_HASH_SHA256, ota_nor_data(fx.nor) + 0x8000, 0xC00, want),
        OTA_OK);
    assert_int_equal(esp_partition_get_sha256(&table, sha), ESP_OK);
    assert_memory_equal(sha, want, 32);
    made.address = 0x200000; /* nothing there */
    assert_int_equal(esp_partition_get_sha256(&made, sha), ESP_ERR_IMAGE_INVALID);
    assert_int_equal(esp_partition_get_sha256(NULL, sha), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_get_sha256(&table, NULL), ESP_ERR_INVALID_ARG);
    table.size = 0;
    assert_int_equal(esp_partition_get_sha256(&table, sha), ESP_ERR_INVALID_ARG);
    far.size = 0x10000;
    assert_int_equal(esp_partition_get_sha256(&far, sha), ESP_FAIL);
    free(img);
}

static void test_register_external(void **state)
{
    (void)state;
    two_ota_board();
    const esp_partition_t *p = (const esp_partition_t *)1;
    assert_int_equal(esp_partition_register_external(NULL, 0x3FF000, 0x2000, "x",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &p),
                     ESP_ERR_INVALID_SIZE);
    assert_null(p);
    assert_int_equal(esp_partition_register_external(NULL, 0x20F000, 0x2000, "x",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &p),
                     ESP_ERR_INVALID_ARG); /* overlaps ota_0 / ota_1 */
    assert_int_equal(esp_partition_register_external(NULL, 0x310000, 0x2000, NULL,
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &p),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_register_external(esp_flash_default_chip, 0x310000, 0x2000,
                                                     "ThisLabelIsLongerThan16",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &p),
                     ESP_OK);
    assert_string_equal(p->label, "ThisLabelIsLonge");
    assert_int_equal(p->address, 0x310000);
    assert_int_equal(p->size, 0x2000);
    assert_int_equal(p->erase_size, 0x1000);
    assert_false(p->readonly);
    assert_false(p->encrypted);
    assert_ptr_equal(P("ThisLabelIsLonge"), p);
    const esp_partition_t *q = NULL;
    assert_int_equal(esp_partition_register_external(NULL, 0x311000, 0x1000, "y",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &q),
                     ESP_ERR_INVALID_ARG); /* overlaps the first one */
    assert_int_equal(esp_partition_register_external(NULL, 0x312000, 0x1000, "y",
                                                     ESP_PARTITION_TYPE_DATA, 0x81, &q),
                     ESP_OK);
    /* externals come after the table, in registration order */
    esp_partition_iterator_t it =
        esp_partition_find(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, NULL);
    const esp_partition_t *seen[8];
    int n = 0;
    for (; it != NULL; it = esp_partition_next(it)) {
        seen[n++] = esp_partition_get(it);
    }
    assert_int_equal(n, 5);
    assert_ptr_equal(seen[3], p);
    assert_ptr_equal(seen[4], q);
    /* writes work on it */
    assert_int_equal(esp_partition_erase_range(p, 0, 0x2000), ESP_OK);
    assert_int_equal(esp_partition_write(p, 0, "abc", 3), ESP_OK);

    assert_int_equal(esp_partition_deregister_external(P("nvs")), ESP_ERR_INVALID_ARG);
    esp_partition_t copy = *p;
    assert_int_equal(esp_partition_deregister_external(&copy), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_partition_deregister_external(NULL), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_partition_deregister_external(p), ESP_OK);
    assert_int_equal(esp_partition_deregister_external(p), ESP_ERR_NOT_FOUND);
    assert_null(esp_partition_find_first(ESP_PARTITION_TYPE_DATA, 0x80, NULL));
    assert_ptr_equal(esp_partition_find_first(ESP_PARTITION_TYPE_DATA, 0x81, NULL), q);
    /* the space is free again */
    assert_int_equal(esp_partition_register_external(NULL, 0x310000, 0x2000, "again",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, NULL),
                     ESP_OK);
}

static void test_copy(void **state)
{
    (void)state;
    two_ota_board();
    const esp_partition_t *src = NULL;
    const esp_partition_t *dst = NULL;
    assert_int_equal(esp_partition_register_external(NULL, 0x310000, 0x2000, "src",
                                                     ESP_PARTITION_TYPE_DATA, 0x80, &src),
                     ESP_OK);
    assert_int_equal(esp_partition_register_external(NULL, 0x320000, 0x3000, "dst",
                                                     ESP_PARTITION_TYPE_DATA, 0x81, &dst),
                     ESP_OK);
    uint8_t pattern[0x2000];
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (uint8_t)(i ^ (i >> 8));
    }
    assert_int_equal(esp_partition_erase_range(src, 0, 0x2000), ESP_OK);
    assert_int_equal(esp_partition_write(src, 0, pattern, sizeof(pattern)), ESP_OK);
    uint8_t zeros[0x3000] = {0};
    assert_int_equal(esp_partition_erase_range(dst, 0, 0x3000), ESP_OK);
    assert_int_equal(esp_partition_write(dst, 0, zeros, sizeof(zeros)), ESP_OK);

    assert_int_equal(esp_partition_copy(NULL, 0, src, 0, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_copy(dst, 0, NULL, 0, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_copy(src, 0, src, 0, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_partition_copy(dst, 0x3001, src, 0, 1), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_copy(dst, 0, src, 0x2001, 1), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_copy(dst, 0x2000, src, 0, 0x1001), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esp_partition_copy(dst, 0x10, src, 0, 1), ESP_ERR_INVALID_ARG);

    assert_int_equal(esp_partition_copy(dst, 0x1000, src, 0x100, 0x80), ESP_OK);
    const uint8_t *d = ota_nor_data(fx.nor) + 0x320000;
    assert_memory_equal(d + 0x1000, pattern + 0x100, 0x80);
    assert_int_equal(d[0], 0); /* outside the erased sector */
    assert_int_equal(ota_flash_is_erased(fx.flash, 0x321080, 0xF80), 1);
    assert_int_equal(d[0x2000], 0);

    assert_int_equal(esp_partition_copy(dst, 0, src, 0, SIZE_MAX), ESP_OK);
    assert_memory_equal(d, pattern, 0x2000);
    assert_int_equal(ota_flash_is_erased(fx.flash, 0x322000, 0x1000), 1);
    assert_int_equal(esp_partition_copy(src, 0, dst, 0, SIZE_MAX), ESP_ERR_INVALID_SIZE);

    /* a source on another chip */
    esp_partition_t other = *src;
    other.flash_chip = (esp_flash_t *)&other;
    cap_clear();
    assert_int_equal(esp_partition_copy(dst, 0, &other, 0, 16), ESP_ERR_NOT_SUPPORTED);
    assert_true(logged('E', "partition",
                       "Source partition is on external flash. Operation not supported."));
}

static void test_small_otadata(void **state)
{
    (void)state;
    ota_part_table_t t = {.count = 2, .has_md5 = true};
    t.parts[0] = (ota_part_t){.type = 1, .subtype = 0, .offset = 0xD000, .size = 0x1000};
    snprintf(t.parts[0].label, sizeof(t.parts[0].label), "otadata");
    t.parts[1] = (ota_part_t){.type = 0, .subtype = 0x10, .offset = 0x10000, .size = MiB};
    snprintf(t.parts[1].label, sizeof(t.parts[1].label), "ota_0");
    use_table(&t);
    assert_int_equal(install(NULL), ESP_OK);
    cap_clear();
    assert_null(esp_ota_get_boot_partition());
    assert_true(logged('E', "esp_ota_ops", "mmap otadata filed. Err=0x     104"));
}

static void test_flash(void **state)
{
    (void)state;
    uint32_t size = 0;
    assert_int_equal(esp_flash_get_size(NULL, &size), ESP_ERR_FLASH_NOT_INITIALISED);
    two_ota_board();
    assert_int_equal(esp_flash_get_size(NULL, &size), ESP_OK);
    assert_int_equal(size, FLASH_SIZE);
    assert_int_equal(esp_flash_get_size(esp_flash_default_chip, &size), ESP_OK);
    assert_int_equal(esp_flash_get_size(NULL, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_get_size((esp_flash_t *)&size, &size), ESP_ERR_INVALID_ARG);
    uint8_t buf[16] = {0x12, 0x34};
    assert_int_equal(esp_flash_read(NULL, buf, FLASH_SIZE - 8, 9), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_read(NULL, NULL, 0, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_write(NULL, buf, FLASH_SIZE, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_erase_region(NULL, 0x3FF000, 0x2000), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_erase_region(NULL, 0x3FF800, 0x800), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_erase_region(NULL, 0x3FF000, 0x800), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_flash_erase_region(NULL, 0x3FF000, 0x1000), ESP_OK);
    assert_int_equal(esp_flash_write(NULL, buf, 0x3FF010, 2), ESP_OK);
    uint8_t back[2];
    assert_int_equal(esp_flash_read(esp_flash_default_chip, back, 0x3FF010, 2), ESP_OK);
    assert_memory_equal(back, buf, 2);
}

/* ---- the update cycle with the boot chain --------------------------------------------------- */

static int boot_and_install(bool rollback)
{
    ota_boot_env_t env = {
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = &fx.efuse,
        .power_on = true,
    };
    ota_boot_cfg_t cfg = {.table_offset = OTA_PART_TABLE_OFFSET_DEFAULT, .rollback = rollback};
    static ota_boot_result_t res;
    assert_int_equal(ota_boot_run(&env, &cfg, &res), OTA_OK);
    assert_int_equal(res.outcome, OTA_BOOT_OK);
    esp_dev_config_t dc = {
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = env.chip,
        .chip_rev = 300,
        .efuse = &fx.efuse,
        .running_offset = res.part.offset,
        .sdkconfig = fx.sdk,
    };
    assert_int_equal(esp_dev_install(&dc), ESP_OK);
    return res.booted;
}

static void update(const char *version)
{
    size_t len;
    uint8_t *img = make_app(version, -1, &len);
    const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
    esp_ota_handle_t h;
    assert_int_equal(esp_ota_begin(next, OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    stream(h, img, len, 1024);
    assert_int_equal(esp_ota_end(h), ESP_OK);
    assert_int_equal(esp_ota_set_boot_partition(next), ESP_OK);
    free(img);
}

static esp_ota_img_states_t state_of(const char *label)
{
    esp_ota_img_states_t st = (esp_ota_img_states_t)0x55;
    assert_int_equal(esp_ota_get_state_partition(P(label), &st), ESP_OK);
    return st;
}

static void test_cycle(void **state)
{
    (void)state;
    put_table("two_ota");
    put_app("factory", "1", -1);
    /* rollback off: factory -> ota_0 -> ota_1 -> ota_0, states UNDEFINED */
    assert_int_equal(boot_and_install(false), OTA_BOOT_FACTORY_INDEX);
    update("2");
    assert_int_equal(boot_and_install(false), 0);
    assert_string_equal(esp_app_get_description()->version, "2");
    assert_int_equal(state_of("ota_0"), ESP_OTA_IMG_UNDEFINED);
    update("3");
    assert_int_equal(boot_and_install(false), 1);
    update("4");
    assert_int_equal(boot_and_install(false), 0);
    assert_string_equal(esp_app_get_description()->version, "4");

    /* rollback on: NEW -> PENDING_VERIFY -> VALID, then an unconfirmed one is ABORTED */
    set_cfg("BOOTLOADER_APP_ROLLBACK_ENABLE", "y");
    assert_int_equal(boot_and_install(true), 0);
    update("5");
    assert_int_equal(state_of("ota_1"), ESP_OTA_IMG_NEW);
    assert_int_equal(boot_and_install(true), 1);
    assert_int_equal(state_of("ota_1"), ESP_OTA_IMG_PENDING_VERIFY);
    esp_ota_handle_t h;
    assert_int_equal(esp_ota_begin(P("ota_0"), 0, &h), ESP_ERR_OTA_ROLLBACK_INVALID_STATE);
    assert_int_equal(esp_ota_mark_app_valid_cancel_rollback(), ESP_OK);
    assert_int_equal(state_of("ota_1"), ESP_OTA_IMG_VALID);
    update("6");
    assert_int_equal(boot_and_install(true), 0);
    assert_int_equal(state_of("ota_0"), ESP_OTA_IMG_PENDING_VERIFY);
    assert_int_equal(boot_and_install(true), 1); /* not confirmed: rolled back */
    assert_int_equal(state_of("ota_0"), ESP_OTA_IMG_ABORTED);
    assert_string_equal(esp_app_get_description()->version, "5");
    assert_ptr_equal(esp_ota_get_last_invalid_partition(), P("ota_0"));
    esp_app_desc_t d;
    assert_int_equal(esp_ota_get_partition_description(esp_ota_get_last_invalid_partition(), &d),
                     ESP_OK);
    assert_string_equal(d.version, "6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_install_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_md5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_final_and_staging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worked_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flip_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anti_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries_without_otadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_update_and_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_external, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_otadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
