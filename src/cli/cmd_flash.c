/*
 * otakit flash: flash images as `idf.py flash` writes them (create), what is on one and what
 * would boot (info), and parttool.py's partition jobs (read-partition, write-partition,
 * erase-partition) on the emulated NOR flash.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cJSON.h"
#include "cli_flash.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_posix.h"

/* Option spellings (otakit's, then parttool.py's). */
static const char *const opt_name[] = {"--name", "--partition-name", "-n", NULL};
static const char *const opt_type[] = {"--type", "--partition-type", "-t", NULL};
static const char *const opt_subtype[] = {"--subtype", "--partition-subtype", "-s", NULL};
static const char *const opt_default[] = {"--boot-default", "--partition-boot-default", "-d", NULL};
static const char *const opt_ignore_ro[] = {"--ignore-readonly", NULL};

/* ---- create -------------------------------------------------------------------------------- */

static const char create_help[] =
    "usage: otakit flash create OUT --size SIZE --table TABLE --bootloader FILE [OPTIONS]\n"
    "\n"
    "Writes the flash image `idf.py flash` leaves on an erased chip: every byte 0xFF, the\n"
    "bootloader image at the chip's bootloader offset (0x1000 on ESP32 and ESP32-S2, 0x2000 on\n"
    "ESP32-P4, ESP32-C5 and ESP32-H4, 0x0 on the others), the partition table binary at its\n"
    "offset, ota_data_initial.bin (0xFF: blank otadata, so the factory app boots, else ota_0)\n"
    "in the otadata partition, and each file in its partition. OUT is written through a\n"
    "temporary file and replaced only when everything checks out; an existing OUT is\n"
    "overwritten, as esptool overwrites a chip.\n"
    "\n"
    "Options:\n"
    "  --build DIR              take everything from an ESP-IDF build directory (otakit\n"
    "                           build or idf.py build): flasher_args.json's flash size,\n"
    "                           bootloader, partition table, app and other flash files\n"
    "  --size SIZE              flash size: 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB\n"
    "  --table TABLE            partition table: a built-in one (singleapp, two_ota,\n"
    "                           two_ota_large, two_ota_encr_nvs) or a CSV or binary\n"
    "                           file; generated with\n"
    "                           gen_esp32part.py's rules and checked against the flash size\n"
    "  --bootloader FILE        second-stage bootloader image\n"
    "  --app [NAME=]FILE        app image for partition NAME (default: factory, else ota_0);\n"
    "                           it must pass the bootloader's image check for the chip there.\n"
    "                           Repeatable\n"
    "  --part NAME=FILE         raw data for partition NAME (nvs, otadata, ...). Repeatable\n"
    "  --chip NAME              target chip (default: the bootloader image's); a bootloader\n"
    "                           for another chip is refused\n"
    "  --offset OFFSET          partition table offset (default: the bootloader's\n"
    "                           CONFIG_PARTITION_TABLE_OFFSET, else 0x8000); also\n"
    "                           --partition-table-offset\n"
    "  --force                  write the bootloader and apps without checking them (chip,\n"
    "                           structure, checksum, hash) and accept an --offset the\n"
    "                           bootloader disagrees with; sizes and names are still checked\n"
    "\n"
    "Refused with one error line and OUT untouched: a file larger than its partition, a\n"
    "bootloader that does not fit below the table, an unknown partition name or one given\n"
    "twice, an --app for a non-app partition, an image for another chip, an invalid image.\n";

#define MAX_FILES OTA_PART_MAX_ENTRIES

typedef struct create_args {
    const char *out;
    const char *table;
    const char *bootloader;
    const ota_chip_t *chip;
    uint32_t size;
    uint32_t offset;
    bool force;
    bool quiet;
    const char *build;           /* --build DIR */
    const char *spec[MAX_FILES]; /* "[NAME=]FILE" as given */
    bool app[MAX_FILES];
    size_t n;
} create_args_t;

/* Records an --app "[NAME=]FILE" or --part "NAME=FILE" argument. */
static int add_file(const char *cmd, create_args_t *a, const char *v, bool app)
{
    const char *eq = strchr(v, '=');
    if ((!app && eq == NULL) || eq == v || (eq != NULL && eq[1] == '\0') || *v == '\0') {
        return cli_usage_error(cmd, "%s '%s': expected %s", app ? "--app" : "--part", v,
                               app ? "[NAME=]FILE" : "NAME=FILE");
    }
    if (a->n == MAX_FILES) {
        return cli_usage_error(cmd, "more than %d files", MAX_FILES);
    }
    a->spec[a->n] = v;
    a->app[a->n++] = app;
    return CLI_OK;
}

static int parse_create(int argc, char **argv, create_args_t *a)
{
    static const char cmd[] = "flash create";
    static const char *const o_size[] = {"--size", "--flash-size", NULL};
    static const char *const o_table[] = {"--table", NULL};
    static const char *const o_boot[] = {"--bootloader", NULL};
    static const char *const o_app[] = {"--app", NULL};
    static const char *const o_part[] = {"--part", NULL};
    static const char *const o_chip[] = {"--chip", NULL};
    static const char *const o_build[] = {"--build", NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--force") == 0) {
            a->force = true;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_size, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            if (!cli_parse_u32(v, &a->size) || !ota_nor_size_valid(a->size)) {
                return cli_usage_error(
                    cmd, "--size '%s' is not 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB", v);
            }
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_table, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->table = v;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_boot, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->bootloader = v;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_build, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->build = v;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_chip, &v)) != 0) {
            if (r < 0 || (a->chip = cli_parse_chip(cmd, v)) == NULL) {
                return CLI_USAGE;
            }
        } else if ((r = cli_flash_offset_opt(cmd, argc, argv, &i, &a->offset)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_app, &v)) != 0) {
            if (r < 0 || add_file(cmd, a, v, true) != CLI_OK) {
                return CLI_USAGE;
            }
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_part, &v)) != 0) {
            if (r < 0 || add_file(cmd, a, v, false) != CLI_OK) {
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (a->out != NULL) {
            return cli_usage_error(cmd, "one OUT expected, got '%s' too", argv[i]);
        } else {
            a->out = argv[i];
        }
    }
    if (a->out == NULL) {
        return cli_usage_error(cmd, "OUT missing");
    }
    if (a->build != NULL) {
        if (a->size != 0 || a->table != NULL || a->bootloader != NULL || a->n != 0) {
            return cli_usage_error(cmd, "--build takes the layout from the build directory: "
                                        "no --size, --table, --bootloader, --app or --part");
        }
        return CLI_OK;
    }
    if (a->size == 0) {
        return cli_usage_error(cmd, "--size missing");
    }
    if (a->table == NULL) {
        return cli_usage_error(cmd, "--table missing");
    }
    if (a->bootloader == NULL) {
        return cli_usage_error(cmd, "--bootloader missing");
    }
    return CLI_OK;
}

static void create_warn(void *ctx, const char *msg)
{
    fprintf(stderr, "otakit: flash create: %s: warning: %s\n", (const char *)ctx, msg);
}

static void print_layout(const create_args_t *a, const ota_flashimg_create_opts_t *o,
                         const ota_flashimg_layout_t *l)
{
    printf("%s: %u MiB flash image for %s, partition table at 0x%x\n", a->out,
           (unsigned)(o->flash_size >> 20), l->chip->name, (unsigned)l->table_offset);
    for (size_t i = 0; i < l->count; i++) {
        const ota_flashimg_item_t *it = &l->items[i];
        const char *label = it->part >= 0 ? l->table.parts[it->part].label : "";
        switch (it->kind) {
        case OTA_FLASHIMG_ITEM_BOOTLOADER:
            printf("  0x%08x  %-16s %s (%u bytes)\n", (unsigned)it->offset, "bootloader",
                   o->bootloader_path, (unsigned)it->len);
            break;
        case OTA_FLASHIMG_ITEM_TABLE:
            printf("  0x%08x  %-16s %s (%d entries%s)\n", (unsigned)it->offset, "partition table",
                   a->table, l->table.count, l->table.has_md5 ? ", MD5" : "");
            break;
        case OTA_FLASHIMG_ITEM_OTADATA:
            printf("  0x%08x  %-16s ota_data_initial.bin (%u bytes of 0xff)\n",
                   (unsigned)it->offset, label, (unsigned)it->len);
            break;
        case OTA_FLASHIMG_ITEM_FILE:
            printf("  0x%08x  %-16s %s (%u bytes%s)\n", (unsigned)it->offset, label,
                   o->files[it->file].path, (unsigned)it->len,
                   o->files[it->file].app ? ", app image" : "");
            break;
        }
    }
}

/* Writes the flash image a describes (OUT, bootloader, table, files). */
static int create(const create_args_t *ap)
{
    create_args_t a = *ap;
    int rc = CLI_OK;
    ota_flashimg_file_t files[MAX_FILES];
    char *labels[MAX_FILES];
    uint8_t *datas[MAX_FILES];
    uint8_t *boot = NULL;
    uint8_t *flash = NULL;
    size_t boot_len = 0;
    size_t nread = 0;
    memset(files, 0, sizeof(files));
    rc = cli_read_file(a.bootloader, &boot, &boot_len);
    for (; rc == CLI_OK && nread < a.n; nread++) {
        const char *eq = strchr(a.spec[nread], '=');
        labels[nread] = eq != NULL ? strndup(a.spec[nread], (size_t)(eq - a.spec[nread])) : NULL;
        datas[nread] = NULL;
        files[nread].label = labels[nread];
        files[nread].path = eq != NULL ? eq + 1 : a.spec[nread];
        files[nread].app = a.app[nread];
        if (eq != NULL && labels[nread] == NULL) {
            rc = cli_error("flash create: out of memory");
        } else {
            rc = cli_read_file(files[nread].path, &datas[nread], &files[nread].len);
        }
        files[nread].data = datas[nread];
    }
    if (rc == CLI_OK && (flash = malloc(a.size)) == NULL) {
        rc = cli_error("flash create: %s: out of memory", a.out);
    }
    ota_flashimg_layout_t *layout = rc == CLI_OK ? malloc(sizeof(*layout)) : NULL;
    if (rc == CLI_OK && layout == NULL) {
        rc = cli_error("flash create: %s: out of memory", a.out);
    }
    if (rc == CLI_OK) {
        ota_flashimg_create_opts_t o;
        memset(&o, 0, sizeof(o));
        o.flash_size = a.size;
        o.table_offset = a.offset;
        o.table_arg = a.table;
        o.warn = create_warn;
        o.warn_ctx = (void *)(uintptr_t)a.table;
        o.bootloader = boot;
        o.bootloader_len = boot_len;
        o.bootloader_path = a.bootloader;
        o.chip = a.chip;
        o.files = files;
        o.file_count = a.n;
        o.force = a.force;
        ota_diag_t diag = {{0}};
        int err = ota_flashimg_create(ota_crypto_openssl(), &o, flash, layout, &diag);
        if (err != OTA_OK) {
            rc = cli_error("flash create: %s", ota_diag_why(&diag, err));
        } else {
            rc = cli_write_file(a.out, flash, a.size);
            if (rc == CLI_OK && !a.quiet) {
                print_layout(&a, &o, layout);
            }
        }
    }
    free(layout);
    free(flash);
    free(boot);
    for (size_t i = 0; i < nread; i++) {
        free(labels[i]);
        free(datas[i]);
    }
    return rc;
}

/* A string member of a flasher_args.json object ("bootloader" / "file"), or NULL. */
static const char *json_str(const cJSON *root, const char *obj, const char *key)
{
    const cJSON *o = obj != NULL ? cJSON_GetObjectItemCaseSensitive(root, obj) : root;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Fills a from the parsed flasher_args.json of build directory dir; paths go to buf. */
static int args_from_build(const char *dir, const cJSON *root, create_args_t *a,
                           char paths[3][PATH_MAX])
{
    static const char cmd[] = "flash create";
    const char *size =
        json_str(cJSON_GetObjectItemCaseSensitive(root, "flash_settings"), NULL, "flash_size");
    /* with secure boot the build's flash files leave the bootloader out (written once with
     * `idf.py bootloader-flash`); a whole flash image takes it from its place in the build */
    const char *boot = json_str(root, "bootloader", "file");
    if (boot == NULL) {
        boot = "bootloader/bootloader.bin";
    }
    const char *table = json_str(root, "partition-table", "file");
    const char *table_off = json_str(root, "partition-table", "offset");
    const char *app = json_str(root, "app", "file");
    if (size == NULL || boot == NULL || table == NULL || table_off == NULL) {
        return cli_error("%s: %s/flasher_args.json: flash_settings.flash_size or "
                         "partition-table missing",
                         cmd, dir);
    }
    if (!cli_parse_u32(size, &a->size) || !ota_nor_size_valid(a->size)) {
        return cli_error("%s: %s/flasher_args.json: flash size '%s' not supported", cmd, dir, size);
    }
    if (!cli_flash_parse_offset(cmd, table_off, &a->offset)) {
        return CLI_FAIL;
    }
    snprintf(paths[0], PATH_MAX, "%s/%s", dir, boot);
    snprintf(paths[1], PATH_MAX, "%s/%s", dir, table);
    a->bootloader = paths[0];
    a->table = paths[1];
    if (app != NULL) {
        snprintf(paths[2], PATH_MAX, "%s/%s", dir, app);
        a->spec[0] = paths[2];
        a->app[0] = true;
        a->n = 1;
    }
    return CLI_OK;
}

int cli_flash_create_from_build(const char *dir, const char *out, bool quiet)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/flasher_args.json", dir);
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = cli_read_file(path, &text, &len);
    if (rc != CLI_OK) {
        return rc;
    }
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    if (root == NULL) {
        return cli_error("flash create: %s: not valid JSON", path);
    }
    create_args_t a;
    memset(&a, 0, sizeof(a));
    static char paths[3][PATH_MAX];
    rc = args_from_build(dir, root, &a, paths);
    cJSON_Delete(root);
    if (rc != CLI_OK) {
        return rc;
    }
    a.out = out;
    a.quiet = quiet;
    return create(&a);
}

static int cmd_create(int argc, char **argv)
{
    if (cli_help(argc, argv, create_help)) {
        return CLI_OK;
    }
    create_args_t a;
    memset(&a, 0, sizeof(a));
    int rc = parse_create(argc, argv, &a);
    if (rc != CLI_OK) {
        return rc;
    }
    if (a.build != NULL) {
        return cli_flash_create_from_build(a.build, a.out, false);
    }
    return create(&a);
}

/* ---- info ---------------------------------------------------------------------------------- */

static const char info_help[] =
    "usage: otakit flash info FLASH [OPTIONS]\n"
    "\n"
    "Shows what is on a flash image and what would boot from it, without writing anything:\n"
    "the chip and its ROM's check of the bootloader (with the bootloader's ESP-IDF version\n"
    "and configuration), the partition table as the bootloader lists it, every app image as\n"
    "the bootloader's verifier sees it, both otadata entries (seq, state, CRC, validity), and\n"
    "the partition the second-stage bootloader boots after a power-on reset with no GPIO\n"
    "held: the bootloader itself runs on a copy of the flash, rollback, fallback and otadata\n"
    "state changes included, and its log says why.\n"
    "\n"
    "Options:\n"
    "  --offset OFFSET     partition table offset (default: the bootloader's\n"
    "                      CONFIG_PARTITION_TABLE_OFFSET, else 0x8000)\n"
    "  --chip NAME         chip (default: the one whose bootloader offset holds its image)\n"
    "  --chip-rev N        chip revision, major*100+minor (default: the chip's shipped\n"
    "                      revision, v3.0 on ESP32, v0.2 on ESP32-S3, ...)\n"
    "  --size SIZE         flash size (default: FLASH's size; for a shorter merged image, as\n"
    "                      esptool merge_bin writes it, the size its bootloader header names);\n"
    "                      the bytes past FLASH's end read as 0xFF\n"
    "\n"
    "Exit status: 0 when an app boots; 1 when nothing would boot (no loadable bootloader, an\n"
    "invalid partition table, no bootable app) or FLASH cannot be read, with one error line;\n"
    "2 for a wrong command line.\n";

static void print_flags(uint32_t flags)
{
    if (flags & OTA_PART_FLAG_ENCRYPTED) {
        printf(" encrypted");
    }
    if (flags & OTA_PART_FLAG_READONLY) {
        printf(" readonly");
    }
    if (flags & ~(OTA_PART_FLAG_ENCRYPTED | OTA_PART_FLAG_READONLY)) {
        printf(" flags=0x%x", (unsigned)flags);
    }
}

static void print_bootloader(const ota_flashimg_report_t *r)
{
    if (r->chip == NULL) {
        printf("Chip: unknown (no bootloader image naming its chip at 0x0, 0x1000 or 0x2000)\n");
        return;
    }
    printf("Chip: %s (%s), revision v%u.%u\n", r->chip->name,
           r->chip_detected ? "from the bootloader image" : "as given",
           (unsigned)(r->chip_rev / 100), (unsigned)(r->chip_rev % 100));
    if (r->rom_err != OTA_OK) {
        printf("Bootloader: none loads at 0x%x: %s\n", (unsigned)r->chip->bootloader_offset,
               r->rom_why);
        return;
    }
    printf("Bootloader: at 0x%x, %u bytes, loads", (unsigned)r->bootloader_at,
           (unsigned)r->bootloader_len);
    if (r->bootloader_at != r->chip->bootloader_offset) {
        printf(" (the recovery bootloader: the primary one at 0x%x does not)",
               (unsigned)r->chip->bootloader_offset);
    }
    printf("\n");
    if (r->has_boot_desc) {
        printf("  ESP-IDF %s, version %u, built %s\n", r->boot_desc.idf_ver,
               (unsigned)r->boot_desc.version, r->boot_desc.date_time);
    } else {
        printf("  no bootloader description (esp_bootloader_desc_t)\n");
    }
    const ota_boot_cfg_t *c = &r->boot_cfg;
    printf("  configuration (%s): table at 0x%x, rollback %s, anti-rollback %s",
           r->boot_cfg_baked ? "its sdkconfig" : "ESP-IDF's defaults: no sdkconfig in the image",
           (unsigned)c->table_offset, c->rollback ? "on" : "off", c->anti_rollback ? "on" : "off");
    if (c->factory_reset) {
        printf(", factory reset pin %d", c->factory_reset_pin);
    }
    if (c->app_test) {
        printf(", test app pin %d", c->test_pin);
    }
    if (c->skip_validate_always || c->skip_validate_on_power_on) {
        printf(", app validation skipped%s", c->skip_validate_always ? "" : " on power-on");
    }
    printf("\n");
}

static void print_table(const ota_flashimg_report_t *r)
{
    printf("Partition table at 0x%x: %d entries, %s\n", (unsigned)r->table_offset, r->table.count,
           r->table.has_md5 ? "MD5 row present and correct"
                            : "no MD5 row (apps built with CONFIG_PARTITION_TABLE_MD5, the "
                              "default, refuse it)");
    printf("%s\n", OTA_PART_LOG_HEADER);
    for (int i = 0; i < r->table.count; i++) {
        char line[128];
        ota_part_format_log_line(&r->table.parts[i], i, line, sizeof(line));
        printf("%s", line);
        print_flags(r->table.parts[i].flags);
        printf("\n");
    }
}

static void print_apps(const ota_flashimg_report_t *r)
{
    if (r->app_count == 0) {
        return;
    }
    printf("App images:\n");
    for (int i = 0; i < r->app_count; i++) {
        const ota_flashimg_app_t *a = &r->apps[i];
        const ota_part_t *p = &r->table.parts[a->part];
        printf("  %-16s @0x%06x: ", p->label, (unsigned)p->offset);
        if (a->err == OTA_OK) {
            printf("valid");
        } else if (a->erased) {
            printf("empty (erased)");
        } else {
            printf("invalid: %s", a->why);
        }
        if (a->has_desc && (a->err == OTA_OK || !a->erased)) {
            printf("; %s %s, ESP-IDF %s, secure version %u", a->desc.project_name, a->desc.version,
                   a->desc.idf_ver, (unsigned)a->desc.secure_version);
        }
        printf("\n");
    }
}

static void print_otadata(const ota_flashimg_report_t *r)
{
    if (r->otadata < 0) {
        printf("otadata: no otadata partition (the bootloader boots the factory app)\n");
        return;
    }
    const ota_part_t *p = &r->table.parts[r->otadata];
    printf("otadata: partition %s @0x%x size 0x%x\n", p->label, (unsigned)p->offset,
           (unsigned)p->size);
    if (r->otadata_err != OTA_OK) {
        printf("  unreadable: ota_info partition size %u is too small (minimum %u bytes)\n",
               (unsigned)p->size, (unsigned)OTA_OTADATA_MIN_SIZE);
        return;
    }
    cli_flash_print_entries("  ", r->entries);
    cli_flash_print_selection(&r->table, r->entries);
}

/* Prints the boot; returns the reason nothing boots, or NULL when an app does. */
static const char *print_boot(const ota_flashimg_report_t *r, char *why, size_t len)
{
    if (r->chip == NULL) {
        snprintf(why, len, "no bootloader image found (give --chip to check another offset)");
        return why;
    }
    if (r->rom_err != OTA_OK) {
        snprintf(why, len, "nothing boots: no loadable bootloader at 0x%x: %s",
                 (unsigned)r->chip->bootloader_offset, r->rom_why);
        return why;
    }
    const ota_boot_result_t *b = &r->boot;
    printf("Boot log (power-on reset, no GPIO held; the table listing is above):\n");
    const char *s = r->log;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        printf("  %.*s\n", (int)n, s);
        s += n + (nl != NULL);
    }
    if (r->otadata_changed) {
        printf("This boot rewrites otadata to:\n");
        cli_flash_print_entries("  ", r->entries_after);
    }
    switch (b->outcome) {
    case OTA_BOOT_OK:
        printf("Boots: %s (partition %s @0x%x size 0x%x), ", ota_boot_index_name(b->booted),
               b->part.label, (unsigned)b->part.offset, (unsigned)b->part.size);
        if (r->boot_cfg.skip_validate_always || r->boot_cfg.skip_validate_on_power_on) {
            printf("image not verified (validation skipped by the bootloader's configuration)");
        } else {
            printf("image verified");
        }
        if (b->meta.has_app_desc) {
            printf(": %s %s", b->meta.app_desc.project_name, b->meta.app_desc.version);
        }
        printf("\n");
        if (b->booted != b->selected) {
            printf("  (selected %s did not boot; the bootloader fell back)\n",
                   ota_boot_index_name(b->selected));
        }
        return NULL;
    case OTA_BOOT_TABLE_ERROR:
        snprintf(why, len, "nothing boots: %s", r->table_why);
        return why;
    case OTA_BOOT_SELECT_ERROR:
        snprintf(why, len, "nothing boots: the bootloader selects no partition");
        return why;
    case OTA_BOOT_NO_BOOTABLE:
        snprintf(why, len, "nothing boots: No bootable app partitions in the partition table");
        return why;
    default:
        snprintf(why, len, "nothing boots: flash error: %s", ota_strerror(b->err));
        return why;
    }
}

/* "Flash: PATH, N MiB", with the file's length when it is shorter (read as padded). */
static void print_flash_line(const char *path, uint32_t flash_size)
{
    struct stat sb;
    printf("Flash: %s, %u MiB", path, (unsigned)(flash_size >> 20));
    if (stat(path, &sb) == 0 && (uint64_t)sb.st_size < flash_size) {
        printf(" (the file holds %llu bytes; the rest reads as 0xFF)",
               (unsigned long long)sb.st_size);
    }
    printf("\n");
}

/* flash info's command line: the inspection options, FLASH and --size. */
typedef struct info_args {
    ota_flashimg_inspect_opts_t o;
    const char *path;
    uint32_t size; /* --size, 0 = the file's or its bootloader header's */
} info_args_t;

/* Parses flash info's options into *a. Returns CLI_OK, or CLI_USAGE after a usage error. */
static int parse_info(const char *cmd, int argc, char **argv, info_args_t *a)
{
    static const char *const o_chip[] = {"--chip", NULL};
    static const char *const o_rev[] = {"--chip-rev", NULL};
    static const char *const o_size[] = {"--size", "--flash-size", NULL};
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        uint32_t n = 0;
        if ((r = cli_flash_offset_opt(cmd, argc, argv, &i, &a->o.table_offset)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_chip, &v)) != 0) {
            if (r < 0 || (a->o.chip = cli_parse_chip(cmd, v)) == NULL) {
                return CLI_USAGE;
            }
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_rev, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            if (!cli_parse_u32(v, &n) || n > 0xFFFF) {
                return cli_usage_error(cmd, "--chip-rev '%s' is not a revision 0..65535", v);
            }
            a->o.has_chip_rev = true;
            a->o.chip_rev = (uint16_t)n;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, o_size, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            if (!cli_parse_u32(v, &a->size) || !ota_nor_size_valid(a->size)) {
                return cli_usage_error(cmd, "--size '%s' is not 1MB .. 128MB", v);
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (a->path != NULL) {
            return cli_usage_error(cmd, "one FLASH expected");
        } else {
            a->path = argv[i];
        }
    }
    if (a->path == NULL) {
        return cli_usage_error(cmd, "FLASH missing");
    }
    return CLI_OK;
}

static int cmd_info(int argc, char **argv)
{
    static const char cmd[] = "flash info";
    if (cli_help(argc, argv, info_help)) {
        return CLI_OK;
    }
    info_args_t a;
    if (parse_info(cmd, argc, argv, &a) != CLI_OK) {
        return CLI_USAGE;
    }
    const char *path = a.path;
    ota_flashimg_inspect_opts_t o = a.o;
    ota_nor_t *nor = NULL;
    if (cli_flash_open_nor(cmd, path, false, a.size, &nor) != CLI_OK) {
        return CLI_FAIL;
    }
    char *sidecar = malloc(strlen(path) + sizeof(".efuse"));
    if (sidecar == NULL) {
        ota_nor_close(nor);
        return cli_error("%s: %s: out of memory", cmd, path);
    }
    sprintf(sidecar, "%s.efuse", path);
    o.efuse_sidecar = sidecar;
    ota_flashimg_report_t *r = NULL;
    int err =
        ota_flashimg_inspect(ota_crypto_openssl(), ota_nor_data(nor), ota_nor_size(nor), &o, &r);
    ota_nor_close(nor);
    free(sidecar);
    if (err != OTA_OK) {
        return cli_error("%s: %s: %s", cmd, path, ota_strerror(err));
    }
    print_flash_line(path, r->flash_size);
    print_bootloader(r);
    char why[600];
    if (r->table_err != OTA_OK) {
        printf("Partition table at 0x%x: invalid: %s\n", (unsigned)r->table_offset, r->table_why);
    } else {
        print_table(r);
        print_apps(r);
        print_otadata(r);
    }
    const char *fail = print_boot(r, why, sizeof(why));
    if (r->table_err != OTA_OK) {
        snprintf(why, sizeof(why), "%s", r->table_why);
        fail = why;
    }
    ota_flashimg_report_free(r);
    if (fail != NULL) {
        fflush(stdout);
        return cli_error("%s: %s: %s", cmd, path, fail);
    }
    return CLI_OK;
}

/* ---- read / write / erase a partition ------------------------------------------------------ */

/* Partition selection and the other options of the three partition subcommands. */
#define SEL_HELP                                                                                   \
    "Partition selection (one of):\n"                                                              \
    "  --name NAME              by label (also --partition-name, -n)\n"                            \
    "  --type T --subtype S     the first partition of that type and subtype, as keywords\n"       \
    "                           (app, data, ...; factory, ota_0, nvs, ...) or numbers (also\n"     \
    "                           --partition-type / -t, --partition-subtype / -s)\n"                \
    "  --boot-default           the default boot partition: factory, else the first ota_N\n"       \
    "                           (also --partition-boot-default, -d)\n"                             \
    "\n"                                                                                           \
    "Other options:\n"                                                                             \
    "  --offset OFFSET          partition table offset (default: the bootloader's\n"               \
    "                           CONFIG_PARTITION_TABLE_OFFSET, else 0x8000); also\n"               \
    "                           --partition-table-offset\n"

static const char read_help[] =
    "usage: otakit flash read-partition FLASH SELECTION -o FILE\n"
    "\n"
    "Copies a whole partition of the flash image into FILE (parttool.py read_partition);\n"
    "FILE '-' is standard output. FLASH is opened read-only.\n"
    "\n"
    "  -o, --output FILE        where the partition's bytes go\n"
    "\n" SEL_HELP;

static const char write_help[] =
    "usage: otakit flash write-partition FLASH SELECTION FILE\n"
    "\n"
    "Writes FILE into a partition as parttool.py write_partition does: the whole partition\n"
    "is erased, then FILE is programmed at its start; the rest of the partition stays erased\n"
    "and no byte outside it changes. Everything is checked before the first erase: a FILE\n"
    "larger than the partition, a readonly partition, or one not made of whole 4 KiB sectors\n"
    "is refused and the flash stays as it was.\n"
    "\n"
    "  FILE, --input FILE       the data\n"
    "  --ignore-readonly        write a partition flagged readonly\n"
    "\n" SEL_HELP;

static const char erase_help[] =
    "usage: otakit flash erase-partition FLASH SELECTION\n"
    "\n"
    "Erases a whole partition to 0xFF (parttool.py erase_partition); no byte outside it\n"
    "changes. A readonly partition is refused unless --ignore-readonly.\n"
    "\n"
    "  --ignore-readonly        erase a partition flagged readonly\n"
    "\n" SEL_HELP;

typedef enum { PART_READ, PART_WRITE, PART_ERASE } part_op_t;

typedef struct part_args {
    const char *flash;
    const char *file; /* output (read) or input (write) */
    uint32_t offset;
    bool ignore_readonly;
    ota_flashimg_sel_t sel;
} part_args_t;

static int parse_part(const char *cmd, part_op_t op, int argc, char **argv, part_args_t *a)
{
    static const char *const o_out[] = {"--output", "-o", NULL};
    static const char *const o_in[] = {"--input", NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (op != PART_READ && cli_flash_flag(argv[i], opt_ignore_ro)) {
            a->ignore_readonly = true;
        } else if (cli_flash_flag(argv[i], opt_default)) {
            a->sel.boot_default = true;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, opt_name, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->sel.name = v;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, opt_type, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->sel.type = v;
        } else if ((r = cli_flash_opt(cmd, argc, argv, &i, opt_subtype, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->sel.subtype = v;
        } else if ((r = cli_flash_offset_opt(cmd, argc, argv, &i, &a->offset)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
        } else if (op != PART_ERASE &&
                   (r = cli_flash_opt(cmd, argc, argv, &i, op == PART_READ ? o_out : o_in, &v)) !=
                       0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            if (a->file != NULL) {
                return cli_usage_error(cmd, "one FILE expected");
            }
            a->file = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (a->flash == NULL) {
            a->flash = argv[i];
        } else if (op == PART_WRITE && a->file == NULL) {
            a->file = argv[i];
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    if (a->flash == NULL) {
        return cli_usage_error(cmd, "FLASH missing");
    }
    if (op != PART_ERASE && a->file == NULL) {
        return cli_usage_error(cmd, op == PART_READ ? "-o FILE missing" : "FILE missing");
    }
    int ways = (a->sel.name != NULL) + (a->sel.type != NULL) + a->sel.boot_default;
    if (ways != 1) {
        return cli_usage_error(cmd, "select the partition with one of --name, --type and "
                                    "--subtype, --boot-default");
    }
    if (a->sel.type != NULL && a->sel.subtype == NULL) {
        return cli_usage_error(cmd, "--subtype is needed with --type");
    }
    if (a->sel.type == NULL && a->sel.subtype != NULL) {
        return cli_usage_error(cmd, "--subtype goes with --type");
    }
    return CLI_OK;
}

static int write_stdout(const uint8_t *data, size_t len)
{
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        return cli_error("flash read-partition: standard output: write error: %s", strerror(errno));
    }
    return CLI_OK;
}

static int run_part(const char *cmd, part_op_t op, const char *help, int argc, char **argv)
{
    if (cli_help(argc, argv, help)) {
        return CLI_OK;
    }
    part_args_t a;
    memset(&a, 0, sizeof(a));
    int rc = parse_part(cmd, op, argc, argv, &a);
    if (rc != CLI_OK) {
        return rc;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (op == PART_WRITE && cli_read_file(a.file, &data, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    cli_flash_t fl;
    if (cli_flash_open(cmd, a.flash, op != PART_READ, a.offset, &fl) != CLI_OK) {
        free(data);
        return CLI_FAIL;
    }
    const ota_part_t *p = NULL;
    ota_diag_t diag = {{0}};
    int err = ota_flashimg_select(&fl.table, &a.sel, &p, &diag);
    if (err == OTA_OK) {
        switch (op) {
        case PART_READ:
            data = malloc(p->size ? p->size : 1);
            if (data == NULL) {
                err = ota_diag_set(&diag, OTA_ERR_NO_MEM, "out of memory");
                break;
            }
            err = ota_flashimg_read_partition(fl.flash, p, data, &diag);
            break;
        case PART_WRITE:
            err = ota_flashimg_write_partition(fl.flash, p, data, len, a.ignore_readonly, &diag);
            break;
        case PART_ERASE:
            err = ota_flashimg_erase_partition(fl.flash, p, a.ignore_readonly, &diag);
            break;
        }
    }
    if (err != OTA_OK) {
        rc = cli_error("%s: %s: %s%s", cmd, a.flash, ota_diag_why(&diag, err),
                       err == OTA_ERR_READONLY ? " (use --ignore-readonly to change it anyway)"
                                               : "");
    } else if (op == PART_READ) {
        if (strcmp(a.file, "-") == 0) {
            rc = write_stdout(data, p->size);
        } else {
            rc = cli_write_file(a.file, data, p->size);
            if (rc == CLI_OK) {
                printf("Read partition '%s' (0x%x bytes at 0x%x) to file '%s'\n", p->label,
                       (unsigned)p->size, (unsigned)p->offset, a.file);
            }
        }
    } else if (op == PART_WRITE) {
        printf("Wrote %zu bytes of '%s' to partition '%s' at 0x%x (0x%x bytes erased first)\n", len,
               a.file, p->label, (unsigned)p->offset, (unsigned)p->size);
    } else {
        printf("Erased partition '%s' at 0x%x (0x%x bytes)\n", p->label, (unsigned)p->offset,
               (unsigned)p->size);
    }
    cli_flash_close(&fl);
    free(data);
    return rc;
}

static int cmd_read(int argc, char **argv)
{
    return run_part("flash read-partition", PART_READ, read_help, argc, argv);
}

static int cmd_write(int argc, char **argv)
{
    return run_part("flash write-partition", PART_WRITE, write_help, argc, argv);
}

static int cmd_erase(int argc, char **argv)
{
    return run_part("flash erase-partition", PART_ERASE, erase_help, argc, argv);
}

/* ---- group --------------------------------------------------------------------------------- */

static const cli_sub_t subs[] = {
    {"create", "write a flash image as idf.py flash does", cmd_create},
    {"info", "show a flash image's contents and what boots from it", cmd_info},
    {"read-partition", "copy a partition into a file (parttool.py)", cmd_read},
    {"write-partition", "erase a partition and write a file into it (parttool.py)", cmd_write},
    {"erase-partition", "erase a partition (parttool.py)", cmd_erase},
    {"write", "write files at flash addresses, plain or encrypted (esptool write_flash)",
     cli_flash_write_cmd},
    {"enable-encryption", "burn flash encryption on in the eFuses (development mode)",
     cli_flash_enable_enc_cmd},
};

static const char group_help[] =
    "usage: otakit flash SUBCOMMAND [ARGS...]\n"
    "\n"
    "Flash images: raw images of a whole SPI NOR flash (1 to 128 MiB), the bytes\n"
    "'esptool read_flash' gives and 'write_flash' takes, as the simulated board uses them.\n";

static int run(int argc, char **argv)
{
    return cli_dispatch("flash", group_help, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

const cli_cmd_t cli_cmd_flash = {"flash",
                                 "Flash images: create, info, read/write/erase a partition", run};
