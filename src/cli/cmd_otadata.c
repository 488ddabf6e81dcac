/*
 * otakit otadata: the OTA selection data of a flash image, as otatool.py and idf.py handle it:
 * read both entries, erase them (idf.py erase_otadata), switch the boot slot
 * (otatool.py switch_ota_partition).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "cli_flash.h"
#include "ota/ota_flashimg.h"

/* The option every subcommand takes, last in each help. */
#define OFFSET_HELP                                                                                \
    "  --offset OFFSET     partition table offset (default: the bootloader's\n"                    \
    "                      CONFIG_PARTITION_TABLE_OFFSET, else 0x8000); also\n"                    \
    "                      --partition-table-offset\n"

typedef struct od_args {
    const char *flash;
    uint32_t offset;
    bool has_slot;
    uint32_t slot;
    const char *name;
} od_args_t;

/* Parses FLASH, --offset and (with_target) --slot / --name. */
static int parse_args(const char *cmd, bool with_target, int argc, char **argv, od_args_t *a)
{
    static const char *const o_slot[] = {"--slot", NULL};
    static const char *const o_name[] = {"--name", NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_flash_offset_opt(cmd, argc, argv, &i, &a->offset)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
        } else if (with_target && (r = cli_flash_opt(cmd, argc, argv, &i, o_slot, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            if (!cli_parse_u32(v, &a->slot) || a->slot >= OTA_OTADATA_MAX_SLOTS) {
                return cli_usage_error(cmd, "--slot '%s' is not an OTA slot 0..15", v);
            }
            a->has_slot = true;
        } else if (with_target && (r = cli_flash_opt(cmd, argc, argv, &i, o_name, &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->name = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (a->flash != NULL) {
            return cli_usage_error(cmd, "one FLASH expected");
        } else {
            a->flash = argv[i];
        }
    }
    if (a->flash == NULL) {
        return cli_usage_error(cmd, "FLASH missing");
    }
    if (with_target && a->has_slot == (a->name != NULL)) {
        return cli_usage_error(cmd, "Partition to switch to should be defined using --slot OR "
                                    "--name");
    }
    return CLI_OK;
}

/*
 * Parses the arguments into *a (with_target: --slot / --name too) and opens the flash image into
 * *fl, for writing when writable. Returns CLI_OK with the flash open (close it with
 * cli_flash_close), else the exit status after the error line.
 */
static int open_flash(const char *cmd, bool with_target, bool writable, int argc, char **argv,
                      od_args_t *a, cli_flash_t *fl)
{
    memset(a, 0, sizeof(*a));
    int rc = parse_args(cmd, with_target, argc, argv, a);
    if (rc != CLI_OK) {
        return rc;
    }
    return cli_flash_open(cmd, a->flash, writable, a->offset, fl);
}

/* The otadata partition of an open flash, or NULL after an error line. */
static const ota_part_t *find_otadata(const char *cmd, const od_args_t *a, const cli_flash_t *fl)
{
    const ota_part_t *od = ota_flashimg_otadata(&fl->table);
    if (od == NULL) {
        cli_error("%s: %s: No otadata partition found", cmd, a->flash);
    }
    return od;
}

/* ---- read ---------------------------------------------------------------------------------- */

static const char read_help[] =
    "usage: otakit otadata read FLASH [--offset OFFSET]\n"
    "\n"
    "Prints the two otadata entries of a flash image: otatool.py read_otadata's table of\n"
    "sequence numbers and CRCs, then for each copy its sequence number, state, stored and\n"
    "computed CRC and whether the bootloader accepts it, the active copy, the number of OTA\n"
    "app partitions (as the bootloader and as the app count them) and the slot the bootloader\n"
    "takes from otadata. Whether that slot's image verifies is 'otakit flash info''s job.\n"
    "\n"
    "Options:\n" OFFSET_HELP;

static int cmd_read(int argc, char **argv)
{
    static const char cmd[] = "otadata read";
    if (cli_help(argc, argv, read_help)) {
        return CLI_OK;
    }
    od_args_t a;
    cli_flash_t fl;
    int rc = open_flash(cmd, false, false, argc, argv, &a, &fl);
    if (rc != CLI_OK) {
        return rc;
    }
    const ota_part_t *od = find_otadata(cmd, &a, &fl);
    ota_otadata_entry_t e[2];
    ota_diag_t diag = {{0}};
    int err = od != NULL ? ota_otadata_read(fl.flash, od->offset, od->size, e, &diag) : OTA_OK;
    if (od == NULL) {
        rc = CLI_FAIL;
    } else if (err != OTA_OK) {
        rc = cli_error("%s: %s: otadata partition '%s': %s", cmd, a.flash, od->label,
                       ota_diag_why(&diag, err));
    } else {
        /* otatool.py read_otadata's two lines first, byte for byte, then otakit's details */
        printf("             %-8s \t  %-8s | \t  %-8s \t   %-8s\n", "OTA_SEQ", "CRC", "OTA_SEQ",
               "CRC");
        printf("Firmware:  0x%08x \t0x%08x | \t0x%08x \t 0x%08x\n", (unsigned)e[0].seq,
               (unsigned)e[0].crc, (unsigned)e[1].seq, (unsigned)e[1].crc);
        printf("otadata: partition %s @0x%x size 0x%x\n", od->label, (unsigned)od->offset,
               (unsigned)od->size);
        cli_flash_print_entries("  ", e);
        cli_flash_print_selection(&fl.table, e);
    }
    cli_flash_close(&fl);
    return rc;
}

/* ---- erase --------------------------------------------------------------------------------- */

static const char erase_help[] =
    "usage: otakit otadata erase FLASH [--offset OFFSET]\n"
    "\n"
    "Erases the otadata partition (idf.py erase_otadata, otatool.py erase_otadata): both\n"
    "entries become blank and the bootloader boots the factory app, or ota_0 without one.\n"
    "Nothing outside the otadata partition changes.\n"
    "\n"
    "Options:\n" OFFSET_HELP;

static int cmd_erase(int argc, char **argv)
{
    static const char cmd[] = "otadata erase";
    if (cli_help(argc, argv, erase_help)) {
        return CLI_OK;
    }
    od_args_t a;
    cli_flash_t fl;
    int rc = open_flash(cmd, false, true, argc, argv, &a, &fl);
    if (rc != CLI_OK) {
        return rc;
    }
    const ota_part_t *od = find_otadata(cmd, &a, &fl);
    ota_diag_t diag = {{0}};
    int err = od != NULL ? ota_flashimg_otadata_erase(fl.flash, &fl.table, &diag) : OTA_OK;
    if (od == NULL) {
        rc = CLI_FAIL;
    } else if (err != OTA_OK) {
        rc = cli_error("%s: %s: %s", cmd, a.flash, ota_diag_why(&diag, err));
    } else {
        printf("Erased ota_data partition contents (partition %s @0x%x size 0x%x)\n", od->label,
               (unsigned)od->offset, (unsigned)od->size);
    }
    cli_flash_close(&fl);
    return rc;
}

/* ---- switch -------------------------------------------------------------------------------- */

static const char switch_help[] =
    "usage: otakit otadata switch FLASH (--slot N | --name NAME) [--offset OFFSET]\n"
    "\n"
    "Selects the OTA slot the bootloader boots next, as otatool.py switch_ota_partition does:\n"
    "reads the whole otadata partition, takes the higher valid sequence number as the base\n"
    "(valid: not 0xFFFFFFFF and CRC matching; the state is not looked at), computes the next\n"
    "sequence number that maps to the target slot, writes only the sequence number and CRC\n"
    "of the other copy (its state and label bytes stay), and writes the partition back\n"
    "(erase, then program). Nothing outside the otadata partition changes.\n"
    "\n"
    "Options:\n"
    "  --slot N            the OTA slot: app partition ota_N (0..15)\n"
    "  --name NAME         the OTA app partition with this label\n" OFFSET_HELP;

static int cmd_switch(int argc, char **argv)
{
    static const char cmd[] = "otadata switch";
    if (cli_help(argc, argv, switch_help)) {
        return CLI_OK;
    }
    od_args_t a;
    cli_flash_t fl;
    int rc = open_flash(cmd, true, true, argc, argv, &a, &fl);
    if (rc != CLI_OK) {
        return rc;
    }
    int sector = -1;
    ota_diag_t diag = {{0}};
    int err = ota_flashimg_otadata_switch(fl.flash, &fl.table, a.slot, a.name, &sector, &diag);
    if (err != OTA_OK) {
        rc = cli_error("%s: %s: %s", cmd, a.flash, ota_diag_why(&diag, err));
    } else {
        const ota_part_t *od = ota_flashimg_otadata(&fl.table);
        ota_otadata_entry_t e[2];
        if (ota_otadata_read(fl.flash, od->offset, od->size, e, NULL) == OTA_OK) {
            printf("otadata copy %d: ota_seq=0x%08x (%u) crc=0x%08x\n", sector,
                   (unsigned)e[sector].seq, (unsigned)e[sector].seq, (unsigned)e[sector].crc);
            cli_flash_print_selection(&fl.table, e);
        }
    }
    cli_flash_close(&fl);
    return rc;
}

/* ---- group --------------------------------------------------------------------------------- */

static const cli_sub_t subs[] = {
    {"read", "print both otadata entries and the slot they select", cmd_read},
    {"erase", "erase otadata: boot factory, else ota_0 (idf.py erase_otadata)", cmd_erase},
    {"switch", "select the OTA slot to boot (otatool.py switch_ota_partition)", cmd_switch},
};

static const char group_help[] =
    "usage: otakit otadata SUBCOMMAND FLASH [ARGS...]\n"
    "\n"
    "The OTA selection data (otadata partition) of a flash image, as otatool.py handles it.\n";

static int run(int argc, char **argv)
{
    return cli_dispatch("otadata", group_help, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

const cli_cmd_t cli_cmd_otadata = {"otadata", "OTA selection data: read, erase, switch", run};
