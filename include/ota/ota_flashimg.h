/*
 * Flash images on the host: what `idf.py flash` writes into an erased flash (bootloader, partition
 * table, blank otadata, app and data files), a read-only inspection of a flash image that runs the
 * real boot chain on a copy, and the partition-level jobs of parttool.py and otatool.py (select a
 * partition, write, erase, switch or erase otadata) on any ota_flash_t.
 *
 * Host code: it may allocate (results say who frees what). Partition operations go through the
 * flash callbacks only and never touch a byte outside the selected partition: every check is made
 * before the first erase, so a refused operation changes nothing.
 *
 * Errors are ota_err_t values; the optional diag receives one line "WHERE: WHY" (WHERE is a file
 * name, a partition or a flash area; WHY in the reference tool's words where it has some).
 */
#ifndef OTA_FLASHIMG_H
#define OTA_FLASHIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_boot.h"
#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_img.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part.h"
#include "ota/ota_sdkconfig.h"
#include "ota/ota_part_csv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- helpers shared by the operations below ------------------------------------------------ */

/*
 * The chip whose bootloader offset holds an image header naming that chip (magic 0xE9 and the
 * chip's id), trying the chips in table order; legacy chips are skipped. flash holds size bytes.
 * Returns the chip, or NULL when no bootloader image is found.
 */
const ota_chip_t *ota_flashimg_detect_chip(const uint8_t *flash, size_t size);

/*
 * The flash size a flash image file of file_len bytes stands for; head holds its first head_len
 * bytes (at least up to the last bootloader offset's header, 0x2018, or the whole file).
 * override != 0 (a --size option): that size, which must be a flash size not below file_len.
 * Else file_len itself when it is a flash size; else, for a shorter file (a merged image as
 * `esptool merge_bin` writes it, not padded), the flash size its bootloader image header names
 * (header byte 3). Returns OTA_OK with *out set; OTA_ERR_SIZE when the size cannot be found or
 * the file does not fit it (diag says why); OTA_ERR_INVALID_ARG for NULL head or out.
 */
int ota_flashimg_file_flash_size(const uint8_t *head, size_t head_len, uint64_t file_len,
                                 uint32_t override, uint32_t *out, ota_diag_t *diag);

/*
 * The chip revision the simulated board assumes when none is given: the chip table's shipped
 * revision (ota_chip_t.rev: v3.0 on ESP32, v0.2 on ESP32-S3, ...), which ESP-IDF v5.5's default
 * revision range accepts. Returns major * 100 + minor; 0 for a NULL chip.
 */
uint16_t ota_flashimg_default_chip_rev(const ota_chip_t *chip);

/*
 * The eFuse block revision the simulated board assumes: the chip table's
 * ota_chip_t.efuse_blk_rev. Returns major * 100 + minor; 0 for a NULL chip.
 */
uint16_t ota_flashimg_default_efuse_blk_rev(const ota_chip_t *chip);

/*
 * The sdkconfig `otakit image pack` baked into the image at flash offset `offset` (avail bytes
 * readable from there), read through f. Returns a new configuration the caller frees, or NULL
 * when the image carries none (an image built by ESP-IDF) or it cannot be parsed.
 */
ota_sdkconfig_t *ota_flashimg_image_sdkconfig(const ota_flash_t *f, uint32_t offset,
                                              uint32_t avail);

/*
 * The table offset a bootloader image reads: CONFIG_PARTITION_TABLE_OFFSET from the sdkconfig that
 * `otakit image pack` baked into it. img holds len bytes (the image from its start). Returns the
 * offset, or 0 when the image carries no sdkconfig or the key is absent (ESP-IDF's own bootloaders:
 * the caller then assumes OTA_PART_TABLE_OFFSET_DEFAULT).
 */
uint32_t ota_flashimg_bootloader_table_offset(const uint8_t *img, size_t len);

/*
 * The bootloader's configuration baked into the image at flash offset `offset` (avail bytes may be
 * read from there): ota_boot_cfg_from_sdkconfig of its sdkconfig, or of an empty one (ESP-IDF's
 * defaults) when there is none. cfg->data_factory_reset is set to NULL (use the default "nvs");
 * every other field is plain data. Returns true when an sdkconfig was found.
 */
bool ota_flashimg_bootloader_cfg(const ota_flash_t *f, uint32_t offset, uint32_t avail,
                                 ota_boot_cfg_t *cfg);

/*
 * The partition table of a flash device: OTA_PART_TABLE_MAX_LEN bytes at table_offset checked by
 * the bootloader's verifier (entries bounded by f->size). Fills *out (caller's).
 * Returns OTA_OK; OTA_ERR_BOUNDS when the table area lies outside the flash; the verifier's error
 * (OTA_ERR_CORRUPT, OTA_ERR_SIZE) with diag "partition table at 0x8000: <the bootloader's words>";
 * OTA_ERR_INVALID_ARG; or the flash error.
 */
int ota_flashimg_read_table(const ota_crypto_t *c, const ota_flash_t *f, uint32_t table_offset,
                            ota_part_table_t *out, ota_diag_t *diag);

/*
 * parttool.py's default boot partition: the first factory app, else the first of ota_0, ota_1, ...
 * ota_15 present (in subtype order). Returns NULL when the table has none of them.
 */
const ota_part_t *ota_flashimg_boot_default(const ota_part_table_t *t);

/* ---- partition selection (parttool.py) ----------------------------------------------------- */

/* Exactly one of: name; type with subtype; boot_default. */
typedef struct ota_flashimg_sel {
    const char *name;    /* partition label (exact match) */
    const char *type;    /* keyword ("app", "data", "bootloader", "partition_table") or number */
    const char *subtype; /* keyword of that type ("ota_1", "nvs", ...) or number; with type */
    bool boot_default;   /* ota_flashimg_boot_default */
} ota_flashimg_sel_t;

/*
 * Finds the partition sel names in t (the first match in table order). Keywords are compared
 * case-insensitively; numbers use Python's int(x, 0) syntax (0..254 for a type, 0..255 for a
 * subtype). *out points into t. Returns OTA_OK; OTA_ERR_INVALID_ARG for an empty or ambiguous
 * selection, a type without a subtype ("--partition-subtype should be defined when
 * --partition-type is defined") or an unknown keyword; OTA_ERR_NOT_FOUND when no partition
 * matches ("Partition does not exist").
 */
int ota_flashimg_select(const ota_part_table_t *t, const ota_flashimg_sel_t *sel,
                        const ota_part_t **out, ota_diag_t *diag);

/* ---- partition operations ------------------------------------------------------------------ */

/*
 * Writes data into partition p as parttool.py write_partition does (erase the whole partition,
 * then program the data at its start; the rest of the partition stays erased), after checking
 * everything first: a readonly partition (flag bit 1) is refused unless ignore_readonly
 * (OTA_ERR_READONLY, '"NAME" partition is read-only'); data longer than the partition is refused
 * (OTA_ERR_SIZE, "Input file size exceeds partition size"); a partition whose offset or size is
 * not a multiple of the flash sector is refused (OTA_ERR_ALIGN: erasing it would touch its
 * neighbours); a partition outside the flash gives OTA_ERR_BOUNDS. Returns OTA_OK, those,
 * OTA_ERR_INVALID_ARG, or the flash error (the partition may then be partly written).
 */
int ota_flashimg_write_partition(const ota_flash_t *f, const ota_part_t *p, const void *data,
                                 size_t len, bool ignore_readonly, ota_diag_t *diag);

/*
 * Erases the whole partition p (parttool.py erase_partition), with the readonly, alignment and
 * bounds checks of ota_flashimg_write_partition. Returns as that function.
 */
int ota_flashimg_erase_partition(const ota_flash_t *f, const ota_part_t *p, bool ignore_readonly,
                                 ota_diag_t *diag);

/*
 * Reads the whole partition p into buf (p->size bytes, caller's). Returns OTA_OK,
 * OTA_ERR_BOUNDS (outside the flash), OTA_ERR_INVALID_ARG or the flash error.
 */
int ota_flashimg_read_partition(const ota_flash_t *f, const ota_part_t *p, void *buf,
                                ota_diag_t *diag);

/* ---- otadata (otatool.py, idf.py erase_otadata) -------------------------------------------- */

/* The otadata partition (the first data/ota entry) or NULL. */
const ota_part_t *ota_flashimg_otadata(const ota_part_table_t *t);

/*
 * The OTA app partitions as otatool.py lists them: for k = 0, 1, ... the first app partition of
 * subtype ota_k, stopping at the first k that has none. Fills parts[0..n) with pointers into t
 * (parts holds OTA_OTADATA_MAX_SLOTS) and returns n.
 */
int ota_flashimg_ota_slots(const ota_part_table_t *t,
                           const ota_part_t *parts[OTA_OTADATA_MAX_SLOTS]);

/*
 * otatool.py switch_ota_partition on a flash device: the target is slot `slot` (when name is NULL)
 * or the OTA partition labelled name; reads the whole otadata partition, applies
 * ota_otadata_tool_switch (spec 2.10) and writes the whole partition back (erase it, program it)
 * as otatool.py does. Sets *sector (if non-NULL) to the entry rewritten. Returns OTA_OK;
 * OTA_ERR_NOT_FOUND ("No otadata partition found"); OTA_ERR_INVALID_ARG ("No ota app partitions
 * found", "Partition to switch to not found"); OTA_ERR_SIZE (otadata smaller than 0x2000);
 * OTA_ERR_NO_SPACE (the sequence number would reach 0xFFFFFFFF); OTA_ERR_ALIGN / OTA_ERR_BOUNDS
 * (see ota_flashimg_write_partition); OTA_ERR_NO_MEM; or the flash error. Nothing is written on any
 * failure before the erase.
 */
int ota_flashimg_otadata_switch(const ota_flash_t *f, const ota_part_table_t *t, uint32_t slot,
                                const char *name, int *sector, ota_diag_t *diag);

/*
 * Erases the otadata partition (idf.py erase_otadata, otatool.py erase_otadata): the bootloader
 * then boots factory, else ota_0. Returns OTA_OK, OTA_ERR_NOT_FOUND ("No otadata partition
 * found"), or what ota_flashimg_erase_partition returns.
 */
int ota_flashimg_otadata_erase(const ota_flash_t *f, const ota_part_table_t *t, ota_diag_t *diag);

/* ---- building a flash image (idf.py flash) ------------------------------------------------- */

/* A file to place into a partition. */
typedef struct ota_flashimg_file {
    const char *label;   /* partition label; NULL = ota_flashimg_boot_default */
    const char *path;    /* name used in messages (NULL: "file N") */
    const uint8_t *data; /* caller's, len bytes */
    size_t len;
    bool app; /* an app image: the partition must be an app one, and (unless force) the image
                 must pass the device verifier for the chip in that partition */
} ota_flashimg_file_t;

/* Options; zero-filled fields take the defaults noted. */
typedef struct ota_flashimg_create_opts {
    uint32_t flash_size; /* 1, 2, 4, 8, 16, 32, 64 or 128 MiB (required) */
    /* Table offset; 0 = the bootloader's CONFIG_PARTITION_TABLE_OFFSET, else 0x8000. When set and
     * the bootloader names another offset, that is an error unless force. */
    uint32_t table_offset;
    const ota_part_table_t *table; /* a parsed table (its has_md5 decides the MD5 row), or NULL */
    const char *table_arg; /* else: a built-in table name or a CSV / binary file, parsed with the
                              generator's rules at the table offset with the flash size check */
    ota_part_warn_fn warn; /* the generator's warnings (may be NULL) */
    void *warn_ctx;
    const uint8_t *bootloader; /* the second-stage bootloader image (required) */
    size_t bootloader_len;
    const char *bootloader_path; /* name used in messages (NULL: "bootloader") */
    const ota_chip_t *chip;      /* NULL = the chip named by the bootloader image's header */
    const ota_flashimg_file_t *files;
    size_t file_count;
    bool force; /* skip the image checks: bootloader and apps are written as they are, whatever
                   their chip, and table_offset may differ from the bootloader's. Sizes and
                   names are always checked. */
} ota_flashimg_create_opts_t;

/* What went where. */
typedef enum {
    OTA_FLASHIMG_ITEM_BOOTLOADER = 0,
    OTA_FLASHIMG_ITEM_TABLE,
    OTA_FLASHIMG_ITEM_OTADATA, /* ota_data_initial.bin: all 0xFF */
    OTA_FLASHIMG_ITEM_FILE,
} ota_flashimg_item_kind_t;

typedef struct ota_flashimg_item {
    ota_flashimg_item_kind_t kind;
    uint32_t offset;
    uint32_t len;
    int part; /* table index of the partition (-1 for the bootloader and the table) */
    int file; /* index into opts->files for OTA_FLASHIMG_ITEM_FILE, else -1 */
} ota_flashimg_item_t;

#define OTA_FLASHIMG_MAX_ITEMS (3 + OTA_PART_MAX_ENTRIES)

typedef struct ota_flashimg_layout {
    const ota_chip_t *chip;
    uint32_t table_offset;
    ota_part_table_t table;
    ota_flashimg_item_t items[OTA_FLASHIMG_MAX_ITEMS]; /* in the order they are written */
    size_t count;
} ota_flashimg_layout_t;

/*
 * Builds the flash image `idf.py flash` leaves on an erased chip into flash (caller's buffer of
 * opts->flash_size bytes, entirely overwritten): 0xFF everywhere, the bootloader at the chip's
 * bootloader offset, the partition table binary at the table offset, ota_data_initial.bin (0xFF)
 * in the otadata partition, then each file in its partition (the rest of the partition erased).
 * layout (may be NULL) says what went where.
 * Checks, all before anything counts as done: the flash size; the table offset (a sector
 * multiple above the bootloader offset, its sector inside the flash); the table (generator's
 * rules, entries inside the flash); the chip (known, same as the bootloader's unless force); the
 * bootloader below the table; each file's partition (exists, named once, an app partition for an
 * app) and size; unless force, the ROM's check of the bootloader and the device verifier on each
 * app in its partition.
 * Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL or missing argument, bad table offset, a partition
 * named twice, an app for a non-app partition, a table offset the bootloader disagrees with);
 * OTA_ERR_SIZE (flash size, a file or the bootloader too large); OTA_ERR_NOT_FOUND (unknown
 * partition, no default boot partition); OTA_ERR_CHIP (unknown chip, chips that disagree);
 * OTA_ERR_CORRUPT (an image that does not verify); OTA_ERR_NO_SPACE (a partition beyond the
 * flash); the table parser's errors (ota_part_csv.h); OTA_ERR_NO_MEM. diag says "WHERE: WHY" with
 * WHERE the file (or table argument) concerned. On failure the buffer's contents are unspecified.
 */
int ota_flashimg_create(const ota_crypto_t *c, const ota_flashimg_create_opts_t *opts,
                        uint8_t *flash, ota_flashimg_layout_t *layout, ota_diag_t *diag);

/* ---- inspecting a flash image (read only) -------------------------------------------------- */

typedef struct ota_flashimg_inspect_opts {
    uint32_t table_offset;     /* 0 = the bootloader's configuration, else 0x8000 */
    const ota_chip_t *chip;    /* NULL = ota_flashimg_detect_chip */
    bool has_chip_rev;         /* false: ota_flashimg_default_chip_rev */
    uint16_t chip_rev;         /* major * 100 + minor, with has_chip_rev */
    const char *efuse_sidecar; /* eFuse file used when the table has no efuse partition (read
                                  only; NULL or missing = nothing burnt) */
} ota_flashimg_inspect_opts_t;

/* One app partition's image, as the bootloader's verifier sees it. */
typedef struct ota_flashimg_app {
    int part;      /* table index */
    bool erased;   /* the partition's first byte is 0xFF: no image */
    int err;       /* ota_img_verify's result */
    char why[200]; /* its reason when err != OTA_OK */
    bool has_desc; /* an esp_app_desc_t was found */
    ota_app_desc_t desc;
} ota_flashimg_app_t;

typedef struct ota_flashimg_report {
    uint32_t flash_size;
    const ota_chip_t *chip; /* NULL: no bootloader image found and no chip given */
    bool chip_detected;     /* chip came from the bootloader image */
    uint16_t chip_rev;
    uint16_t efuse_blk_rev; /* ota_flashimg_default_efuse_blk_rev */

    /* The ROM step (valid when chip != NULL). */
    int rom_err; /* ota_boot_rom_load's result */
    char rom_why[200];
    uint32_t bootloader_at; /* where the bootloader that loads is */
    uint32_t bootloader_len;
    bool has_boot_desc;
    ota_boot_desc_t boot_desc;
    bool boot_cfg_baked;     /* the bootloader carries its sdkconfig */
    ota_boot_cfg_t boot_cfg; /* the configuration used (data_factory_reset NULL) */

    /* The partition table. */
    uint32_t table_offset;
    int table_err; /* the bootloader's verifier */
    char table_why[sizeof(((ota_diag_t *)0)->msg)];
    ota_part_table_t table; /* valid when table_err == OTA_OK */

    /* otadata (entries valid when otadata >= 0 and otadata_err == OTA_OK). */
    int otadata;     /* table index of the otadata partition, -1 if none */
    int otadata_err; /* ota_otadata_read's result (OTA_ERR_SIZE: smaller than 0x2000) */
    ota_otadata_entry_t entries[2];
    int active;     /* ota_otadata_active: -1, 0 or 1 */
    int count_boot; /* OTA app partitions, bootloader count */
    int count_app;  /* app-side consecutive count */

    ota_flashimg_app_t apps[OTA_PART_MAX_ENTRIES]; /* app partitions in table order */
    int app_count;

    /* The boot (ota_boot_run on a copy), when a bootloader loads and the table verifies. */
    bool booted_run;
    ota_boot_result_t boot;
    char *log; /* the bootloader's log lines ("I boot: message\n"), without the table listing;
                  malloc'ed, freed with the report; never NULL */
    bool otadata_changed;                 /* the boot would rewrite otadata... */
    ota_otadata_entry_t entries_after[2]; /* ...to these entries */
} ota_flashimg_report_t;

/*
 * Inspects flash[0..size) without modifying it: detects the chip, runs the ROM step, reads the
 * bootloader's description and configuration, checks the table, decodes otadata, verifies every
 * app partition's image, then runs the second-stage bootloader (ota_boot_run: selection, rollback
 * state changes, fallback) on a private copy with no GPIO held, as after a power-on reset.
 * Failures of the flash's contents are reported in *out, not returned. *out is malloc'ed (free it
 * with ota_flashimg_report_free). Returns OTA_OK, OTA_ERR_INVALID_ARG (NULL argument, size 0 or
 * above 128 MiB) or OTA_ERR_NO_MEM.
 */
int ota_flashimg_inspect(const ota_crypto_t *c, const uint8_t *flash, size_t size,
                         const ota_flashimg_inspect_opts_t *opts, ota_flashimg_report_t **out);

/* Frees a report (NULL is ignored). */
void ota_flashimg_report_free(ota_flashimg_report_t *r);

#ifdef __cplusplus
}
#endif

#endif /* OTA_FLASHIMG_H */
