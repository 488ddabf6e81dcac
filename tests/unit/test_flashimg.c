/*
 * Flash image module: idf.py flash's layout and its refusals, partition selection as parttool.py,
 * partition writes and erases that touch nothing else (strict NOR flash, operation counters,
 * wear), otatool's switch against the spec's worked example, and the read-only inspection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_flashimg.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_nor.h"
#include "ota/ota_posix.h"
#include "test_util.h"

#define MIB 0x100000u
#define FLASH_SIZE (4 * MIB)

/* Images packed once for all tests. */
static uint8_t *boot_img, *boot_c3_img, *boot_rb_img, *app_img, *app_c3_img;
static size_t boot_len, boot_c3_len, boot_rb_len, app_len, app_c3_len;

static uint8_t *pack(bool bootloader, const char *chip, const char *sdkconfig, size_t *len)
{
    static const uint8_t payload[1500] = {1, 2, 3};
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.bootloader = bootloader;
    o.chip = ota_chip_by_name(chip);
    if (!bootloader) {
        o.payload = payload;
        o.payload_len = sizeof(payload);
        o.project_name = "unit";
        o.project_ver = "7";
    }
    o.sdkconfig = sdkconfig;
    o.sdkconfig_len = sdkconfig != NULL ? strlen(sdkconfig) : 0;
    o.has_build_time = true;
    uint8_t *out = NULL;
    ota_diag_t d = {{0}};
    int err = ota_img_pack(ota_crypto_openssl(), &o, &out, len, &d);
    if (err != OTA_OK) {
        fail_msg("pack: %s", d.msg);
    }
    return out;
}

static int group_setup(void **state)
{
    (void)state;
    boot_img = pack(true, "esp32", NULL, &boot_len);
    boot_c3_img = pack(true, "esp32c3", NULL, &boot_c3_len);
    boot_rb_img = pack(true, "esp32",
                       "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y\n"
                       "CONFIG_PARTITION_TABLE_OFFSET=0x9000\n",
                       &boot_rb_len);
    app_img = pack(false, "esp32", NULL, &app_len);
    app_c3_img = pack(false, "esp32c3", NULL, &app_c3_len);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(boot_img);
    free(boot_c3_img);
    free(boot_rb_img);
    free(app_img);
    free(app_c3_img);
    return 0;
}

static const ota_crypto_t *crypto(void)
{
    return ota_crypto_openssl();
}

static void base_opts(ota_flashimg_create_opts_t *o, const char *table)
{
    memset(o, 0, sizeof(*o));
    o->flash_size = FLASH_SIZE;
    o->table_arg = table;
    o->bootloader = boot_img;
    o->bootloader_len = boot_len;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return false;
        }
    }
    return true;
}

/* ---- create -------------------------------------------------------------------------------- */

/* The flash size of a file: its own, --size, or its bootloader header's for a shorter one. */
static void test_file_flash_size(void **state)
{
    (void)state;
    static uint8_t head[0x3000];
    memset(head, 0xFF, sizeof(head));
    uint32_t size = 0;
    ota_diag_t d = {{0}};
    /* no bootloader: only a flash-size file or --size */
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 0x400000, 0, &size, &d),
                     OTA_OK);
    assert_int_equal(size, 0x400000);
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0, &size, &d),
                     OTA_ERR_SIZE);
    assert_non_null(strstr(d.msg, "give --size"));
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0x2000000, &size, &d),
                     OTA_OK);
    assert_int_equal(size, 0x2000000);
    /* an ESP32 bootloader header at 0x1000 naming 8 MB (code 3) */
    memset(head + 0x1000, 0, 24);
    head[0x1000] = OTA_IMG_MAGIC;
    head[0x1003] = 0x30;
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0, &size, &d),
                     OTA_OK);
    assert_int_equal(size, 0x800000);
    /* 128 MB (code 7); a file longer than the named size is refused */
    head[0x1003] = 0x70;
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0, &size, &d),
                     OTA_OK);
    assert_int_equal(size, 0x8000000);
    head[0x1003] = 0x00;
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 0x180000, 0, &size, &d),
                     OTA_ERR_SIZE);
    assert_non_null(strstr(d.msg, "larger than the 1 MiB flash of the bootloader image header"));
    /* codes past 128 MB name no flash size */
    head[0x1003] = 0x80;
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0, &size, &d),
                     OTA_ERR_SIZE);
    assert_int_equal(ota_flashimg_file_flash_size(head, sizeof(head), 980128, 0x3000000, &size, &d),
                     OTA_ERR_SIZE);
}

static void test_create_layout(void **state)
{
    (void)state;
    uint8_t *flash = malloc(FLASH_SIZE);
    ota_flashimg_layout_t *l = malloc(sizeof(*l));
    ota_flashimg_create_opts_t o;
    base_opts(&o, "two_ota");
    ota_flashimg_file_t files[2] = {
        {NULL, "app.bin", app_img, app_len, true},
        {"nvs", "nvs.bin", (const uint8_t *)"hello", 5, false},
    };
    o.files = files;
    o.file_count = 2;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, l, &d), OTA_OK);

    assert_ptr_equal(l->chip, ota_chip_by_name("esp32"));
    assert_int_equal(l->table_offset, 0x8000);
    assert_int_equal(l->table.count, 6);
    assert_true(all_ff(flash, 0x1000));
    assert_memory_equal(flash + 0x1000, boot_img, boot_len);
    assert_true(all_ff(flash + 0x1000 + boot_len, 0x7000 - boot_len));
    /* The table: the generator's bytes (spec 1.8: the first entry, the MD5 row). */
    static const uint8_t nvs_row[12] = {0xaa, 0x50, 0x01, 0x02, 0x00, 0x90,
                                        0x00, 0x00, 0x00, 0x40, 0x00, 0x00};
    assert_memory_equal(flash + 0x8000, nvs_row, sizeof(nvs_row));
    assert_int_equal(flash[0x80C0], 0xEB);
    assert_int_equal(flash[0x80D0], 0xBF);
    assert_true(all_ff(flash + 0x80E0, 0x1000 - 0xE0));
    assert_memory_equal(flash + 0x9000, "hello", 5);
    assert_true(all_ff(flash + 0x9005, 0x4000 - 5));
    assert_true(all_ff(flash + 0xD000, 0x2000)); /* ota_data_initial.bin */
    assert_memory_equal(flash + 0x10000, app_img, app_len);
    assert_true(all_ff(flash + 0x10000 + app_len, FLASH_SIZE - 0x10000 - app_len));

    /* What went where, in the order it is written. */
    assert_int_equal(l->count, 5);
    assert_int_equal(l->items[0].kind, OTA_FLASHIMG_ITEM_BOOTLOADER);
    assert_int_equal(l->items[0].offset, 0x1000);
    assert_int_equal(l->items[1].kind, OTA_FLASHIMG_ITEM_TABLE);
    assert_int_equal(l->items[2].kind, OTA_FLASHIMG_ITEM_OTADATA);
    assert_int_equal(l->items[2].offset, 0xD000);
    assert_int_equal(l->items[3].kind, OTA_FLASHIMG_ITEM_FILE);
    assert_int_equal(l->items[3].offset, 0x10000);
    assert_int_equal(l->items[3].file, 0);
    assert_string_equal(l->table.parts[l->items[3].part].label, "factory");
    assert_int_equal(l->items[4].offset, 0x9000);
    free(l);
    free(flash);
}

static void test_create_c3_and_parsed_table(void **state)
{
    (void)state;
    uint8_t *flash = malloc(2 * MIB);
    ota_part_table_t t;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_part_builtin_table("singleapp", NULL, &t, &d), OTA_OK);
    ota_flashimg_create_opts_t o;
    base_opts(&o, NULL);
    o.flash_size = 2 * MIB;
    o.table = &t;
    o.bootloader = boot_c3_img;
    o.bootloader_len = boot_c3_len;
    ota_flashimg_file_t f = {"factory", NULL, app_c3_img, app_c3_len, true};
    o.files = &f;
    o.file_count = 1;
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, NULL, &d), OTA_OK);
    assert_memory_equal(flash, boot_c3_img, boot_c3_len); /* ESP32-C3: bootloader at 0x0 */
    assert_memory_equal(flash + 0x10000, app_c3_img, app_c3_len);
    assert_ptr_equal(ota_flashimg_detect_chip(flash, 2 * MIB), ota_chip_by_name("esp32c3"));
    free(flash);
}

static void test_create_table_offset_from_bootloader(void **state)
{
    (void)state;
    assert_int_equal(ota_flashimg_bootloader_table_offset(boot_rb_img, boot_rb_len), 0x9000);
    assert_int_equal(ota_flashimg_bootloader_table_offset(boot_img, boot_len), 0);
    uint8_t *flash = malloc(FLASH_SIZE);
    ota_flashimg_layout_t *l = malloc(sizeof(*l));
    ota_flashimg_create_opts_t o;
    base_opts(&o, "two_ota");
    o.bootloader = boot_rb_img;
    o.bootloader_len = boot_rb_len;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, l, &d), OTA_OK);
    assert_int_equal(l->table_offset, 0x9000);
    assert_int_equal(flash[0x9000], 0xAA);
    assert_int_equal(l->table.parts[0].offset, 0xA000); /* placed after the table sector */
    o.table_offset = 0x8000;
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, l, &d), OTA_ERR_INVALID_ARG);
    assert_non_null(strstr(d.msg, "CONFIG_PARTITION_TABLE_OFFSET"));
    o.force = true;
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, l, &d), OTA_OK);
    assert_int_equal(l->table_offset, 0x8000);
    free(l);
    free(flash);
}

/* Expects create to fail with err and a message containing needle. */
static void create_fails(ota_flashimg_create_opts_t *o, int err, const char *needle)
{
    uint8_t *flash = malloc(16 * MIB);
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_create(crypto(), o, flash, NULL, &d), err);
    if (strstr(d.msg, needle) == NULL) {
        fail_msg("'%s' lacks '%s'", d.msg, needle);
    }
    free(flash);
}

static void test_create_refusals(void **state)
{
    (void)state;
    ota_flashimg_create_opts_t o;
    ota_flashimg_file_t f[2];
    uint8_t *big = malloc(0x100001);
    memset(big, 0, 0x100001);

    base_opts(&o, "two_ota");
    o.flash_size = 3 * MIB;
    create_fails(&o, OTA_ERR_SIZE, "not one of 1, 2, 4, 8, 16, 32, 64 or 128 MiB");

    base_opts(&o, "two_ota");
    o.table_offset = 0x8800;
    create_fails(&o, OTA_ERR_INVALID_ARG, "partition table offset 0x8800");

    base_opts(&o, "two_ota");
    o.bootloader = big;
    o.bootloader_len = 0x7001;
    memcpy(big, boot_img, boot_len);
    create_fails(&o, OTA_ERR_SIZE, "do not fit below the partition table");

    base_opts(&o, "two_ota");
    o.chip = ota_chip_by_name("esp32s3");
    create_fails(&o, OTA_ERR_CHIP, "a bootloader for ESP32, not for ESP32-S3");

    base_opts(&o, "two_ota");
    o.flash_size = 2 * MIB;
    create_fails(&o, OTA_ERR_NO_SPACE, "does not fit in configured flash size 2MB");

    base_opts(&o, "no_such_table.csv");
    create_fails(&o, OTA_ERR_IO, "no_such_table.csv: cannot read");

    base_opts(&o, "two_ota");
    f[0] = (ota_flashimg_file_t){"nope", "x.bin", app_img, app_len, false};
    o.files = f;
    o.file_count = 1;
    create_fails(&o, OTA_ERR_NOT_FOUND, "x.bin: the partition table has no partition named 'nope'");

    f[0] = (ota_flashimg_file_t){"nvs", "big.bin", big, 0x4001, false};
    create_fails(&o, OTA_ERR_SIZE, "big.bin: 16385 bytes do not fit partition 'nvs'");

    f[0] = (ota_flashimg_file_t){"phy_init", NULL, app_img, app_len, true};
    create_fails(&o, OTA_ERR_INVALID_ARG, "file 1: partition 'phy_init' is not an app partition");

    f[0] = (ota_flashimg_file_t){NULL, "a", app_img, app_len, true};
    f[1] = (ota_flashimg_file_t){"factory", "b", app_img, app_len, true};
    o.file_count = 2;
    create_fails(&o, OTA_ERR_INVALID_ARG, "b: partition 'factory' is already given");

    f[0] = (ota_flashimg_file_t){"ota_1", "c3.bin", app_c3_img, app_c3_len, true};
    o.file_count = 1;
    create_fails(&o, OTA_ERR_CHIP, "c3.bin: an app for ESP32-C3, the flash is for ESP32");

    /* A flipped byte: the hash (or checksum) check of the device verifier refuses it. */
    uint8_t *bad = malloc(app_len);
    memcpy(bad, app_img, app_len);
    bad[app_len - 40] ^= 0x01;
    f[0] = (ota_flashimg_file_t){"ota_0", "bad.bin", bad, app_len, true};
    create_fails(&o, OTA_ERR_CORRUPT, "bad.bin: not a valid ESP32 app image in partition 'ota_0'");
    o.force = true;
    uint8_t *flash = malloc(FLASH_SIZE);
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_create(crypto(), &o, flash, NULL, &d), OTA_OK);
    assert_memory_equal(flash + 0x110000, bad, app_len);
    free(flash);
    o.force = false;

    /* A bootloader that does not verify (checksum byte flipped). */
    memcpy(big, boot_img, boot_len);
    big[boot_len - 33] ^= 0xFF;
    base_opts(&o, "two_ota");
    o.bootloader = big;
    o.bootloader_len = boot_len;
    create_fails(&o, OTA_ERR_CORRUPT, "not a bootloader the ESP32 ROM loads");

    /* No default boot partition for an app without a name. */
    ota_part_table_t t;
    assert_int_equal(ota_part_csv_parse("nvs,data,nvs,,0x4000,\n", 22, NULL, &t, &d), OTA_OK);
    base_opts(&o, NULL);
    o.table = &t;
    f[0] = (ota_flashimg_file_t){NULL, "app.bin", app_img, app_len, true};
    o.files = f;
    o.file_count = 1;
    create_fails(&o, OTA_ERR_NOT_FOUND, "no factory or ota_N app partition");

    /* A parsed table whose entry lies beyond the flash. */
    t.parts[0].size = FLASH_SIZE;
    o.file_count = 0;
    create_fails(&o, OTA_ERR_NO_SPACE, "partition 'nvs' (0x400000 bytes at 0x9000)");
    free(bad);
    free(big);
}

/* ---- selection ----------------------------------------------------------------------------- */

static void load(const char *csv, ota_part_table_t *t)
{
    ota_diag_t d = {{0}};
    if (ota_part_csv_parse(csv, strlen(csv), NULL, t, &d) != OTA_OK) {
        fail_msg("table: %s", d.msg);
    }
}

static const char sel_csv[] = "nvs,data,nvs,,0x4000,\n"
                              "otadata,data,ota,,0x2000,\n"
                              "store,data,nvs,,0x4000,\n"
                              "ota_1,app,ota_1,,1M,\n"
                              "ota_0,app,ota_0,,1M,\n";

static const char *select_label(const ota_part_table_t *t, const char *name, const char *type,
                                const char *subtype, bool def, int want_err)
{
    ota_flashimg_sel_t s = {name, type, subtype, def};
    const ota_part_t *p = NULL;
    static ota_diag_t d; /* the message outlives the call */
    memset(&d, 0, sizeof(d));
    assert_int_equal(ota_flashimg_select(t, &s, &p, &d), want_err);
    return p != NULL ? p->label : d.msg;
}

static void test_select(void **state)
{
    (void)state;
    ota_part_table_t t;
    load(sel_csv, &t);
    assert_string_equal(select_label(&t, "store", NULL, NULL, false, OTA_OK), "store");
    /* First match in table order. */
    assert_string_equal(select_label(&t, NULL, "data", "nvs", false, OTA_OK), "nvs");
    assert_string_equal(select_label(&t, NULL, "DATA", "Ota", false, OTA_OK), "otadata");
    assert_string_equal(select_label(&t, NULL, "1", "0x02", false, OTA_OK), "nvs");
    assert_string_equal(select_label(&t, NULL, "app", "0x11", false, OTA_OK), "ota_1");
    assert_string_equal(select_label(&t, NULL, "0", "ota_0", false, OTA_OK), "ota_0");
    /* No factory: the lowest OTA subtype, wherever it is in the table. */
    assert_string_equal(select_label(&t, NULL, NULL, NULL, true, OTA_OK), "ota_0");
    ota_part_table_t t2;
    load("a,app,ota_3,,1M,\nf,app,factory,,1M,\n", &t2);
    assert_string_equal(select_label(&t2, NULL, NULL, NULL, true, OTA_OK), "f");

    assert_non_null(
        strstr(select_label(&t, "nope", NULL, NULL, false, OTA_ERR_NOT_FOUND), "'nope'"));
    assert_non_null(strstr(select_label(&t, NULL, "app", "factory", false, OTA_ERR_NOT_FOUND),
                           "Partition does not exist"));
    assert_non_null(strstr(select_label(&t, NULL, "app", "nvs", false, OTA_ERR_INVALID_ARG),
                           "unknown subtype 'nvs'"));
    assert_non_null(strstr(select_label(&t, NULL, "apps", "ota_0", false, OTA_ERR_INVALID_ARG),
                           "unknown partition type 'apps'"));
    assert_non_null(strstr(select_label(&t, NULL, "app", NULL, false, OTA_ERR_INVALID_ARG),
                           "--partition-subtype should be defined"));
    select_label(&t, NULL, NULL, NULL, false, OTA_ERR_INVALID_ARG);
    select_label(&t, "nvs", NULL, NULL, true, OTA_ERR_INVALID_ARG);
    select_label(&t, NULL, "255", "0", false, OTA_ERR_INVALID_ARG);
    ota_part_table_t t3;
    load("nvs,data,nvs,,0x4000,\n", &t3);
    select_label(&t3, NULL, NULL, NULL, true, OTA_ERR_NOT_FOUND);
}

/* ---- partition operations on a strict NOR flash -------------------------------------------- */

typedef struct {
    ota_nor_t *nor;
    const ota_flash_t *f;
    uint8_t *before;
} nor_fx_t;

/* A strict 4 MiB device filled with a pattern; counters start at zero. */
static void nor_open(nor_fx_t *x)
{
    ota_nor_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.strict = true;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_nor_create_mem(FLASH_SIZE, &cfg, &x->nor, &d), OTA_OK);
    x->f = ota_nor_flash(x->nor);
    x->before = malloc(FLASH_SIZE);
    for (uint32_t i = 0; i < FLASH_SIZE; i++) {
        x->before[i] = (uint8_t)(i * 7 + (i >> 12));
    }
    assert_int_equal(ota_nor_restore(x->nor, x->before, FLASH_SIZE), OTA_OK);
    ota_nor_reset_counters(x->nor);
}

static void nor_close(nor_fx_t *x)
{
    ota_nor_close(x->nor);
    free(x->before);
}

/* Bytes outside [off, off + len) are as they were, and no sector outside was erased. */
static void untouched_outside(nor_fx_t *x, uint32_t off, uint32_t len)
{
    const uint8_t *now = ota_nor_data(x->nor);
    assert_memory_equal(now, x->before, off);
    assert_memory_equal(now + off + len, x->before + off + len, FLASH_SIZE - off - len);
    const ota_nor_state_t *st = ota_nor_state(x->nor);
    for (uint32_t s = 0; s < FLASH_SIZE / 0x1000; s++) {
        if (s * 0x1000 < off || s * 0x1000 >= off + len) {
            assert_int_equal(st->wear[s], 0);
        }
    }
}

static void test_write_erase_partition(void **state)
{
    (void)state;
    nor_fx_t x;
    nor_open(&x);
    ota_part_t p = {OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_NVS, 0x20000, 0x13000, "store", 0};
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i ^ 0x5A);
    }
    ota_diag_t d = {{0}};
    /* Strict mode: programming works only because the partition was erased first. */
    assert_int_equal(ota_flashimg_write_partition(x.f, &p, data, sizeof(data), false, &d), OTA_OK);
    const uint8_t *now = ota_nor_data(x.nor);
    assert_memory_equal(now + p.offset, data, sizeof(data));
    assert_true(all_ff(now + p.offset + sizeof(data), p.size - sizeof(data)));
    untouched_outside(&x, p.offset, p.size);
    const ota_nor_state_t *st = ota_nor_state(x.nor);
    assert_int_equal(st->block_erases, 1);  /* 0x20000..0x2FFFF */
    assert_int_equal(st->sector_erases, 3); /* 0x30000..0x32FFF */
    assert_int_equal(st->program_bytes, sizeof(data));

    uint8_t *back = malloc(p.size);
    assert_int_equal(ota_flashimg_read_partition(x.f, &p, back, &d), OTA_OK);
    assert_memory_equal(back, data, sizeof(data));
    free(back);

    assert_int_equal(ota_flashimg_erase_partition(x.f, &p, false, &d), OTA_OK);
    assert_true(all_ff(now + p.offset, p.size));
    untouched_outside(&x, p.offset, p.size);
    nor_close(&x);
}

static void test_partition_refusals_touch_nothing(void **state)
{
    (void)state;
    nor_fx_t x;
    nor_open(&x);
    uint8_t data[0x1001];
    memset(data, 0, sizeof(data));
    ota_diag_t d = {{0}};
    ota_part_t p = {OTA_PART_TYPE_DATA, 0x40, 0x9000, 0x1000, "cfg", OTA_PART_FLAG_READONLY};
    assert_int_equal(ota_flashimg_write_partition(x.f, &p, data, 10, false, &d), OTA_ERR_READONLY);
    assert_string_equal(d.msg, "\"cfg\" partition is read-only");
    assert_int_equal(ota_flashimg_erase_partition(x.f, &p, false, &d), OTA_ERR_READONLY);
    p.flags = 0;
    assert_int_equal(ota_flashimg_write_partition(x.f, &p, data, sizeof(data), false, &d),
                     OTA_ERR_SIZE);
    assert_non_null(strstr(d.msg, "Input file size exceeds partition size"));
    p.size = 0x1800;
    assert_int_equal(ota_flashimg_erase_partition(x.f, &p, false, &d), OTA_ERR_ALIGN);
    p.offset = FLASH_SIZE - 0x1000;
    p.size = 0x2000;
    assert_int_equal(ota_flashimg_erase_partition(x.f, &p, false, &d), OTA_ERR_BOUNDS);
    uint8_t buf[0x2000];
    assert_int_equal(ota_flashimg_read_partition(x.f, &p, buf, &d), OTA_ERR_BOUNDS);
    const ota_nor_state_t *st = ota_nor_state(x.nor);
    assert_int_equal(st->erase_ops, 0);
    assert_int_equal(st->program_ops, 0);
    assert_memory_equal(ota_nor_data(x.nor), x.before, FLASH_SIZE);
    /* With ignore_readonly the readonly partition is written. */
    p = (ota_part_t){OTA_PART_TYPE_DATA, 0x40, 0x9000, 0x1000, "cfg", OTA_PART_FLAG_READONLY};
    assert_int_equal(ota_flashimg_write_partition(x.f, &p, data, 10, true, &d), OTA_OK);
    untouched_outside(&x, p.offset, p.size);
    nor_close(&x);
}

/* ---- otadata ------------------------------------------------------------------------------- */

static const char ota_csv[] = "nvs,data,nvs,,0x4000,\n"
                              "otadata,data,ota,,0x2000,\n"
                              "phy_init,data,phy,,0x1000,\n"
                              "factory,app,factory,,1M,\n"
                              "ota_0,app,ota_0,,1M,\n"
                              "ota_1,app,ota_1,,1M,\n";

static void test_otadata_switch_spec_example(void **state)
{
    (void)state;
    nor_fx_t x;
    nor_open(&x);
    ota_part_table_t t;
    load(ota_csv, &t);
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_otadata_erase(x.f, &t, &d), OTA_OK);
    memset(x.before + 0xD000, 0xFF, 0x2000);
    untouched_outside(&x, 0xD000, 0x2000);
    const uint8_t *od = ota_nor_data(x.nor) + 0xD000;
    uint8_t want[32];
    int sector = -1;

    /* Spec 2.8's worked example (the tool writes seq and crc only; state stays 0xFFFFFFFF). */
    assert_int_equal(ota_flashimg_otadata_switch(x.f, &t, 0, NULL, &sector, &d), OTA_OK);
    assert_int_equal(sector, 0);
    test_unhex("01000000ffffffffffffffffffffffffffffffffffffffffffffffff9a984347", want, 32);
    assert_memory_equal(od, want, 32);
    assert_true(all_ff(od + 0x1000, 0x1000));

    assert_int_equal(ota_flashimg_otadata_switch(x.f, &t, 0, "ota_1", &sector, &d), OTA_OK);
    assert_int_equal(sector, 1);
    test_unhex("02000000ffffffffffffffffffffffffffffffffffffffffffffffff7437f655", want, 32);
    assert_memory_equal(od + 0x1000, want, 32);

    assert_int_equal(ota_flashimg_otadata_switch(x.f, &t, 0, NULL, &sector, &d), OTA_OK);
    assert_int_equal(sector, 0);
    test_unhex("03000000ffffffffffffffffffffffffffffffffffffffffffffffff11504aed", want, 32);
    assert_memory_equal(od, want, 32);
    assert_true(all_ff(od + 32, 0x1000 - 32));
    untouched_outside(&x, 0xD000, 0x2000);

    /* Refusals leave otadata alone. */
    uint8_t keep[0x2000];
    memcpy(keep, od, sizeof(keep));
    assert_int_equal(ota_flashimg_otadata_switch(x.f, &t, 2, NULL, NULL, &d), OTA_ERR_INVALID_ARG);
    assert_non_null(strstr(d.msg, "Partition to switch to not found"));
    assert_int_equal(ota_flashimg_otadata_switch(x.f, &t, 0, "factory", NULL, &d),
                     OTA_ERR_INVALID_ARG);
    assert_memory_equal(od, keep, sizeof(keep));

    ota_part_table_t none;
    load("nvs,data,nvs,,0x4000,\nfactory,app,factory,,1M,\n", &none);
    assert_int_equal(ota_flashimg_otadata_switch(x.f, &none, 0, NULL, NULL, &d), OTA_ERR_NOT_FOUND);
    assert_string_equal(d.msg, "No otadata partition found");
    assert_int_equal(ota_flashimg_otadata_erase(x.f, &none, &d), OTA_ERR_NOT_FOUND);
    ota_part_table_t noota;
    load("otadata,data,ota,,0x2000,\nfactory,app,factory,,1M,\n", &noota);
    assert_int_equal(ota_flashimg_otadata_switch(x.f, &noota, 0, NULL, NULL, &d),
                     OTA_ERR_INVALID_ARG);
    assert_string_equal(d.msg, "No ota app partitions found");
    nor_close(&x);
}

static void test_ota_slots_stop_at_gap(void **state)
{
    (void)state;
    ota_part_table_t t;
    load("a,app,ota_0,,1M,\nb,app,ota_1,,1M,\nc,app,ota_3,,1M,\n", &t);
    const ota_part_t *slots[OTA_OTADATA_MAX_SLOTS];
    assert_int_equal(ota_flashimg_ota_slots(&t, slots), 2);
    assert_string_equal(slots[1]->label, "b");
}

/* ---- inspect ------------------------------------------------------------------------------- */

static uint8_t *make_flash(const char *table, const uint8_t *boot, size_t blen, const char *label)
{
    uint8_t *flash = malloc(FLASH_SIZE);
    ota_flashimg_create_opts_t o;
    base_opts(&o, table);
    o.bootloader = boot;
    o.bootloader_len = blen;
    ota_flashimg_file_t f = {label, NULL, app_img, app_len, true};
    o.files = &f;
    o.file_count = 1;
    ota_diag_t d = {{0}};
    if (ota_flashimg_create(crypto(), &o, flash, NULL, &d) != OTA_OK) {
        fail_msg("create: %s", d.msg);
    }
    return flash;
}

static void test_inspect_factory(void **state)
{
    (void)state;
    uint8_t *flash = make_flash("two_ota", boot_img, boot_len, NULL);
    ota_flashimg_report_t *r = NULL;
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, NULL, &r), OTA_OK);
    assert_ptr_equal(r->chip, ota_chip_by_name("esp32"));
    assert_true(r->chip_detected);
    assert_int_equal(r->chip_rev, 300);
    assert_int_equal(r->rom_err, OTA_OK);
    assert_int_equal(r->bootloader_at, 0x1000);
    assert_true(r->has_boot_desc);
    assert_string_equal(r->boot_desc.idf_ver, OTA_IDF_VER_DEFAULT);
    assert_false(r->boot_cfg_baked);
    assert_int_equal(r->table_err, OTA_OK);
    assert_int_equal(r->table.count, 6);
    assert_int_equal(r->otadata, 1);
    assert_int_equal(r->active, -1);
    assert_int_equal(r->count_boot, 2);
    assert_int_equal(r->app_count, 3);
    assert_int_equal(r->apps[0].err, OTA_OK);
    assert_string_equal(r->apps[0].desc.project_name, "unit");
    assert_true(r->apps[1].erased);
    assert_int_not_equal(r->apps[1].err, OTA_OK);
    assert_true(r->booted_run);
    assert_int_equal(r->boot.outcome, OTA_BOOT_OK);
    assert_int_equal(r->boot.booted, OTA_BOOT_FACTORY_INDEX);
    assert_non_null(strstr(r->log, "I boot: Defaulting to factory image\n"));
    assert_null(strstr(r->log, "Partition Table:"));
    assert_false(r->otadata_changed);
    ota_flashimg_report_free(r);

    /* otadata pointing at an empty slot: selected ota_1, fell back to factory. */
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, flash, FLASH_SIZE, false);
    ota_part_table_t t;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_flashimg_read_table(crypto(), &f, 0x8000, &t, &d), OTA_OK);
    assert_int_equal(ota_flashimg_otadata_switch(&f, &t, 1, NULL, NULL, &d), OTA_OK);
    uint8_t *copy = malloc(FLASH_SIZE);
    memcpy(copy, flash, FLASH_SIZE);
    ota_flashimg_inspect_opts_t io = {0, NULL, true, 101, NULL};
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, &io, &r), OTA_OK);
    assert_int_equal(r->chip_rev, 101);
    assert_int_equal(r->active, 0);
    assert_int_equal(r->boot.selected, 1);
    assert_int_equal(r->boot.booted, OTA_BOOT_FACTORY_INDEX);
    assert_non_null(strstr(r->log, "E boot: OTA app partition slot 1 is not bootable\n"));
    ota_flashimg_report_free(r);
    assert_memory_equal(flash, copy, FLASH_SIZE);
    free(copy);

    /* A broken table. */
    flash[0x8000] = 0x00;
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, NULL, &r), OTA_OK);
    assert_int_equal(r->table_err, OTA_ERR_CORRUPT);
    assert_string_equal(r->table_why,
                        "partition table at 0x8000: partition 0 invalid magic number 0x5000");
    assert_int_equal(r->boot.outcome, OTA_BOOT_TABLE_ERROR);
    ota_flashimg_report_free(r);

    /* No bootloader at all. */
    memset(flash, 0xFF, 0x8000);
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, NULL, &r), OTA_OK);
    assert_null(r->chip);
    assert_false(r->booted_run);
    ota_flashimg_report_free(r);
    assert_null(ota_flashimg_detect_chip(flash, FLASH_SIZE));
    free(flash);

    assert_int_equal(ota_flashimg_inspect(crypto(), NULL, FLASH_SIZE, NULL, &r),
                     OTA_ERR_INVALID_ARG);
}

static void test_inspect_rollback_and_no_factory(void **state)
{
    (void)state;
    /* A bootloader with rollback reading its table at 0x9000; ota_0 holds the app and otadata
     * selects it in state NEW: the boot turns it into PENDING_VERIFY (in the copy only). */
    uint8_t *flash = make_flash("two_ota", boot_rb_img, boot_rb_len, "ota_0");
    ota_otadata_entry_t e;
    ota_otadata_make(1, OTA_OTADATA_STATE_NEW, &e);
    uint8_t raw[32];
    ota_otadata_encode(&e, raw);
    memcpy(flash + 0xE000, raw, sizeof(raw)); /* otadata follows nvs at 0xA000 */
    ota_flashimg_report_t *r = NULL;
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, NULL, &r), OTA_OK);
    assert_true(r->boot_cfg_baked);
    assert_true(r->boot_cfg.rollback);
    assert_int_equal(r->table_offset, 0x9000);
    assert_string_equal(r->table.parts[1].label, "otadata");
    assert_int_equal(r->table.parts[1].offset, 0xE000);
    assert_int_equal(r->boot.booted, 0);
    assert_true(r->otadata_changed);
    assert_int_equal(r->entries[0].state, OTA_OTADATA_STATE_NEW);
    assert_int_equal(r->entries_after[0].state, OTA_OTADATA_STATE_PENDING_VERIFY);
    assert_int_equal(flash[0xE000 + 24], 0x00); /* the input is unchanged */
    ota_flashimg_report_free(r);
    free(flash);

    /* No factory and blank otadata: ota_0 boots and set_actual_ota_seq writes seq 1. */
    flash = make_flash("two_ota_large", boot_img, boot_len, NULL);
    assert_int_equal(ota_flashimg_inspect(crypto(), flash, FLASH_SIZE, NULL, &r), OTA_OK);
    assert_int_equal(r->boot.booted, 0);
    assert_string_equal(r->boot.part.label, "ota_0");
    assert_true(r->otadata_changed);
    assert_int_equal(r->entries_after[0].seq, 1);
    assert_int_equal(r->entries_after[0].state, OTA_OTADATA_STATE_VALID);
    assert_true(all_ff(flash + 0xF000, 0x2000));
    ota_flashimg_report_free(r);
    free(flash);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_layout),
        cmocka_unit_test(test_file_flash_size),
        cmocka_unit_test(test_create_c3_and_parsed_table),
        cmocka_unit_test(test_create_table_offset_from_bootloader),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_write_erase_partition),
        cmocka_unit_test(test_partition_refusals_touch_nothing),
        cmocka_unit_test(test_otadata_switch_spec_example),
        cmocka_unit_test(test_ota_slots_stop_at_gap),
        cmocka_unit_test(test_inspect_factory),
        cmocka_unit_test(test_inspect_rollback_and_no_factory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
