/* Pieces shared by `otakit flash` and `otakit otadata`. */
#include "cli_flash.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

int cli_flash_opt(const char *cmd, int argc, char **argv, int *i, const char *const *names,
                  const char **val)
{
    for (; *names != NULL; names++) {
        int r = cli_opt(cmd, argc, argv, i, *names, val);
        if (r != 0) {
            return r;
        }
    }
    return 0;
}

bool cli_flash_flag(const char *arg, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (strcmp(arg, *names) == 0) {
            return true;
        }
    }
    return false;
}

bool cli_flash_parse_offset(const char *cmd, const char *s, uint32_t *out)
{
    int64_t v;
    if (!ota_part_parse_pyint(s, &v) || v <= 0 || v > (int64_t)UINT32_MAX ||
        v % OTA_PART_TABLE_SECTOR_SIZE != 0) {
        cli_usage_error(cmd, "partition table offset '%s' is not a non-zero multiple of 0x1000", s);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

int cli_flash_offset_opt(const char *cmd, int argc, char **argv, int *i, uint32_t *out)
{
    static const char *const names[] = {"--offset", "--partition-table-offset", NULL};
    const char *v = NULL;
    int r = cli_flash_opt(cmd, argc, argv, i, names, &v);
    if (r > 0 && !cli_flash_parse_offset(cmd, v, out)) {
        return -1;
    }
    return r;
}

int cli_flash_open(const char *cmd, const char *path, bool writable, uint32_t table_offset,
                   cli_flash_t *out)
{
    memset(out, 0, sizeof(*out));
    ota_nor_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.readonly = !writable;
    ota_diag_t diag = {{0}};
    int err = ota_nor_open(path, &cfg, &out->nor, &diag);
    if (err != OTA_OK) {
        out->nor = NULL;
        return cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    }
    out->flash = ota_nor_flash(out->nor);
    if (table_offset == 0) {
        /* The offset the bootloader on this flash was built for, as the board reads it. */
        const uint8_t *data = ota_nor_data(out->nor);
        uint32_t size = ota_nor_size(out->nor);
        const ota_chip_t *chip = ota_flashimg_detect_chip(data, size);
        ota_boot_cfg_t bcfg;
        ota_flashimg_bootloader_cfg(chip != NULL ? out->flash : NULL,
                                    chip != NULL ? chip->bootloader_offset : 0,
                                    chip != NULL ? size - chip->bootloader_offset : 0, &bcfg);
        table_offset = bcfg.table_offset;
    }
    out->table_offset = table_offset;
    memset(&diag, 0, sizeof(diag));
    err =
        ota_flashimg_read_table(ota_crypto_openssl(), out->flash, table_offset, &out->table, &diag);
    if (err != OTA_OK) {
        cli_flash_close(out);
        return cli_error("%s: %s: %s", cmd, path, ota_diag_why(&diag, err));
    }
    return CLI_OK;
}

void cli_flash_close(cli_flash_t *fl)
{
    ota_nor_close(fl->nor);
    fl->nor = NULL;
    fl->flash = NULL;
}

void cli_flash_print_entries(const char *indent, const ota_otadata_entry_t e[2])
{
    for (int i = 0; i < 2; i++) {
        uint32_t computed = ota_otadata_seq_crc(e[i].seq);
        bool crc_ok = ota_otadata_crc_ok(&e[i]);
        bool erased = e[i].seq == OTA_OTADATA_SEQ_EMPTY && e[i].crc == 0xFFFFFFFFu;
        printf("%scopy %d: ota_seq=0x%08x (%u) ota_state=0x%08x %-14s crc=0x%08x computed=0x%08x "
               "crc_ok=%s -> %s\n",
               indent, i, (unsigned)e[i].seq, (unsigned)e[i].seq, (unsigned)e[i].state,
               ota_otadata_state_name(e[i].state), (unsigned)e[i].crc, (unsigned)computed,
               crc_ok   ? "yes"
               : erased ? "NO (erased)"
                        : "NO",
               ota_otadata_select_valid(&e[i]) ? "VALID" : "invalid");
    }
}

static void print_part(const ota_part_t *p)
{
    printf("  -> partition %s @0x%x size 0x%x\n", p->label, (unsigned)p->offset, (unsigned)p->size);
}

void cli_flash_print_selection(const ota_part_table_t *t, const ota_otadata_entry_t e[2])
{
    int active = ota_otadata_active(e);
    int boot_n = ota_part_ota_count_boot(t);
    if (active >= 0) {
        printf("active copy: %d\n", active);
    } else {
        printf("active copy: none\n");
    }
    printf("OTA app partitions: %d (bootloader count), %d (app-side consecutive count)\n", boot_n,
           ota_part_ota_count_app(t));
    const ota_part_t *factory =
        ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_FACTORY, NULL);
    const ota_part_t *ota0 =
        ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN, NULL);
    if (active >= 0 && boot_n > 0) {
        int slot = ota_otadata_slot_of_seq(e[active].seq, (uint32_t)boot_n);
        printf("bootloader would select: ota_%d\n", slot);
        const ota_part_t *p =
            ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN + slot, NULL);
        if (p != NULL) {
            print_part(p);
        } else {
            printf("  -> no partition ota_%d: the bootloader tries the others\n", slot);
        }
        return;
    }
    const char *why = boot_n == 0 ? "no OTA app partitions" : "no valid otadata entry";
    if (factory != NULL) {
        printf("bootloader would select: factory (%s)\n", why);
        print_part(factory);
    } else if (ota0 != NULL) {
        printf("bootloader would select: ota_0 (%s, no factory app)\n", why);
        print_part(ota0);
    } else {
        printf("bootloader would select: nothing (%s, no factory app, no ota_0)\n", why);
    }
}
