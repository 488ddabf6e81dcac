/*
 * Flash images on the host: idf.py flash's layout, a read-only inspection that runs the boot
 * chain on a copy, and parttool.py / otatool.py partition operations.
 */
#include "ota/ota_flashimg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ota/ota_boot_cfg.h"
#include "ota/ota_efuse_store.h"
#include "ota/ota_memflash.h"
#include "ota/ota_buf.h"
#include "ota/ota_nor.h"
#include "ota/ota_sdkconfig.h"

/* ---- helpers ------------------------------------------------------------------------------- */

const ota_chip_t *ota_flashimg_detect_chip(const uint8_t *flash, size_t size)
{
    if (flash == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ota_chip_count(); i++) {
        const ota_chip_t *chip = ota_chip_at(i);
        if (chip->legacy || (size_t)chip->bootloader_offset + OTA_IMG_HEADER_LEN > size) {
            continue;
        }
        ota_img_header_t h;
        ota_img_header_decode(flash + chip->bootloader_offset, &h);
        if (h.magic == OTA_IMG_MAGIC && h.chip_id == chip->id) {
            return chip;
        }
    }
    return NULL;
}

int ota_flashimg_file_flash_size(const uint8_t *head, size_t head_len, uint64_t file_len,
                                 uint32_t override, uint32_t *out, ota_diag_t *diag)
{
    if (head == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    uint64_t size = override;
    const char *from = "--size";
    if (override == 0 && ota_nor_size_valid(file_len)) {
        size = file_len;
    } else if (override == 0) {
        const ota_chip_t *chip = ota_flashimg_detect_chip(head, head_len);
        if (chip == NULL) {
            return ota_diag_set(diag, OTA_ERR_SIZE,
                                "flash image size %llu bytes is not a flash size (1 to 128 MiB) "
                                "and no bootloader image names one; give --size",
                                (unsigned long long)file_len);
        }
        size = 0x100000ull << (head[chip->bootloader_offset + 3] >> 4);
        from = "the bootloader image header";
    }
    if (!ota_nor_size_valid(size)) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "flash size %llu bytes (%s) is not 1, 2, 4, 8, 16, 32, 64 or 128 MiB",
                            (unsigned long long)size, from);
    }
    if (file_len > size) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "flash image size %llu bytes is larger than the %llu MiB flash of %s",
                            (unsigned long long)file_len, (unsigned long long)(size >> 20), from);
    }
    *out = (uint32_t)size;
    return OTA_OK;
}

uint16_t ota_flashimg_default_chip_rev(const ota_chip_t *chip)
{
    return chip != NULL ? chip->rev : 0;
}

uint16_t ota_flashimg_default_efuse_blk_rev(const ota_chip_t *chip)
{
    return chip != NULL ? chip->efuse_blk_rev : 0;
}

ota_sdkconfig_t *ota_flashimg_image_sdkconfig(const ota_flash_t *f, uint32_t offset, uint32_t avail)
{
    ota_img_host_info_t info;
    if (ota_img_host_locate(f, offset, avail, &info, NULL) != OTA_OK || info.sdkconfig_len == 0 ||
        info.sdkconfig_offset > avail || info.sdkconfig_len > avail - info.sdkconfig_offset) {
        return NULL;
    }
    char *text = malloc(info.sdkconfig_len);
    if (text == NULL) {
        return NULL;
    }
    ota_sdkconfig_t *cfg = NULL;
    if (ota_flash_read(f, offset + info.sdkconfig_offset, text, info.sdkconfig_len) != OTA_OK ||
        ota_sdkconfig_parse(text, info.sdkconfig_len, &cfg, NULL) != OTA_OK) {
        cfg = NULL;
    }
    free(text);
    return cfg;
}

uint32_t ota_flashimg_bootloader_table_offset(const uint8_t *img, size_t len)
{
    if (img == NULL || len == 0 || len > OTA_IMG_MAX_PARTITION) {
        return 0;
    }
    ota_flash_t f;
    ota_memflash_t m;
    /* Read only: the buffer is never written through f. */
    ota_memflash_init(&f, &m, (uint8_t *)(uintptr_t)img, (uint32_t)len, true);
    ota_sdkconfig_t *cfg = ota_flashimg_image_sdkconfig(&f, 0, (uint32_t)len);
    uint32_t off = 0;
    if (cfg != NULL && ota_sdkconfig_get(cfg, "PARTITION_TABLE_OFFSET") != NULL) {
        long long v = ota_sdkconfig_int(cfg, "PARTITION_TABLE_OFFSET", 0);
        off = v > 0 && v <= (long long)UINT32_MAX ? (uint32_t)v : 0;
    }
    ota_sdkconfig_free(cfg);
    return off;
}

bool ota_flashimg_bootloader_cfg(const ota_flash_t *f, uint32_t offset, uint32_t avail,
                                 ota_boot_cfg_t *cfg)
{
    ota_sdkconfig_t *sdk = f != NULL ? ota_flashimg_image_sdkconfig(f, offset, avail) : NULL;
    ota_boot_cfg_from_sdkconfig(sdk, cfg);
    cfg->data_factory_reset = NULL;
    ota_sdkconfig_free(sdk);
    return sdk != NULL;
}

int ota_flashimg_read_table(const ota_crypto_t *c, const ota_flash_t *f, uint32_t table_offset,
                            ota_part_table_t *out, ota_diag_t *diag)
{
    if (c == NULL || f == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    out->count = 0;
    out->has_md5 = false;
    if (table_offset > f->size || f->size - table_offset < OTA_PART_TABLE_MAX_LEN) {
        return ota_diag_set(diag, OTA_ERR_BOUNDS,
                            "partition table at 0x%x: beyond the end of the flash (0x%x bytes)",
                            (unsigned)table_offset, (unsigned)f->size);
    }
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    int err = ota_part_table_read_raw(f, table_offset, buf);
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "partition table at 0x%x: %s", (unsigned)table_offset,
                            ota_strerror(err));
    }
    ota_diag_t d = {{0}};
    err = ota_part_table_verify(c, buf, f->size, out, &d);
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "partition table at 0x%x: %s", (unsigned)table_offset,
                            ota_diag_why(&d, err));
    }
    return OTA_OK;
}

const ota_part_t *ota_flashimg_boot_default(const ota_part_table_t *t)
{
    const ota_part_t *p = ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_FACTORY, NULL);
    for (int k = 0; p == NULL && k < (int)OTA_OTADATA_MAX_SLOTS; k++) {
        p = ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN + k, NULL);
    }
    return p;
}

/* ---- selection ----------------------------------------------------------------------------- */

/* A type keyword or number (0..254); -1 if neither. */
static int parse_type(const char *s)
{
    for (int v = 0; v < 0xFF; v++) {
        const char *name = ota_part_type_name((uint8_t)v);
        if (name != NULL && strcasecmp(name, s) == 0) {
            return v;
        }
    }
    int64_t n;
    if (ota_part_parse_pyint(s, &n) && n >= 0 && n < 0xFF) {
        return (int)n;
    }
    return -1;
}

/* A subtype keyword of type or a number (0..255); -1 if neither. */
static int parse_subtype(int type, const char *s)
{
    for (int v = 0; v <= 0xFF; v++) {
        const char *name = ota_part_subtype_name((uint8_t)type, (uint8_t)v);
        if (name != NULL && strcasecmp(name, s) == 0) {
            return v;
        }
    }
    int64_t n;
    if (ota_part_parse_pyint(s, &n) && n >= 0 && n <= 0xFF) {
        return (int)n;
    }
    return -1;
}

int ota_flashimg_select(const ota_part_table_t *t, const ota_flashimg_sel_t *sel,
                        const ota_part_t **out, ota_diag_t *diag)
{
    if (t == NULL || sel == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    *out = NULL;
    int ways = (sel->name != NULL) + (sel->type != NULL) + (sel->boot_default ? 1 : 0);
    if (ways == 0 || (ways == 1 && sel->type == NULL && sel->subtype != NULL)) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Partition to operate on should be defined using --partition-name OR "
                            "--partition-type,--partition-subtype OR --partition-boot-default");
    }
    if (ways > 1) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "a partition is selected by name, by type and subtype, or as the "
                            "default boot partition: one of them only");
    }
    if (sel->name != NULL) {
        *out = ota_part_find_by_label(t, sel->name);
        if (*out == NULL) {
            return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                                "Partition does not exist: no partition named '%s'", sel->name);
        }
        return OTA_OK;
    }
    if (sel->boot_default) {
        *out = ota_flashimg_boot_default(t);
        if (*out == NULL) {
            return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                                "Partition does not exist: no factory or ota_N app partition");
        }
        return OTA_OK;
    }
    if (sel->subtype == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "--partition-subtype should be defined when --partition-type is "
                            "defined");
    }
    int type = parse_type(sel->type);
    if (type < 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "unknown partition type '%s' (app, data, bootloader, "
                            "partition_table or a number 0..254)",
                            sel->type);
    }
    int subtype = parse_subtype(type, sel->subtype);
    if (subtype < 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "unknown subtype '%s' for partition type '%s'", sel->subtype,
                            sel->type);
    }
    for (int i = 0; i < t->count; i++) {
        if (t->parts[i].type == type && t->parts[i].subtype == subtype) {
            *out = &t->parts[i];
            return OTA_OK;
        }
    }
    return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                        "Partition does not exist: no partition of type %s subtype %s", sel->type,
                        sel->subtype);
}

/* ---- partition operations ------------------------------------------------------------------ */

static int check_part(const ota_flash_t *f, const ota_part_t *p, bool modify, bool ignore_readonly,
                      ota_diag_t *diag)
{
    if (p->offset > f->size || p->size > f->size - p->offset) {
        return ota_diag_set(diag, OTA_ERR_BOUNDS,
                            "partition '%s': 0x%x bytes at 0x%x lie beyond the end of the flash "
                            "(0x%x bytes)",
                            p->label, (unsigned)p->size, (unsigned)p->offset, (unsigned)f->size);
    }
    if (!modify) {
        return OTA_OK;
    }
    if ((p->flags & OTA_PART_FLAG_READONLY) != 0 && !ignore_readonly) {
        return ota_diag_set(diag, OTA_ERR_READONLY, "\"%s\" partition is read-only", p->label);
    }
    if (p->offset % f->sector_size != 0 || p->size % f->sector_size != 0) {
        return ota_diag_set(diag, OTA_ERR_ALIGN,
                            "partition '%s' (0x%x bytes at 0x%x) does not cover whole 0x%x-byte "
                            "sectors: erasing it would touch its neighbours",
                            p->label, (unsigned)p->size, (unsigned)p->offset,
                            (unsigned)f->sector_size);
    }
    return OTA_OK;
}

int ota_flashimg_write_partition(const ota_flash_t *f, const ota_part_t *p, const void *data,
                                 size_t len, bool ignore_readonly, ota_diag_t *diag)
{
    if (f == NULL || p == NULL || (data == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = check_part(f, p, true, ignore_readonly, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (len > p->size) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "partition '%s': Input file size exceeds partition size (%zu > %u "
                            "bytes)",
                            p->label, len, (unsigned)p->size);
    }
    err = ota_flash_erase_range(f, p->offset, p->size);
    if (err == OTA_OK && len > 0) {
        err = ota_flash_program(f, p->offset, data, (uint32_t)len);
    }
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "partition '%s': flash write failed: %s", p->label,
                            ota_strerror(err));
    }
    return OTA_OK;
}

int ota_flashimg_erase_partition(const ota_flash_t *f, const ota_part_t *p, bool ignore_readonly,
                                 ota_diag_t *diag)
{
    return ota_flashimg_write_partition(f, p, NULL, 0, ignore_readonly, diag);
}

int ota_flashimg_read_partition(const ota_flash_t *f, const ota_part_t *p, void *buf,
                                ota_diag_t *diag)
{
    if (f == NULL || p == NULL || buf == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = check_part(f, p, false, false, diag);
    if (err == OTA_OK) {
        err = ota_flash_read(f, p->offset, buf, p->size);
        if (err != OTA_OK) {
            ota_diag_set(diag, err, "partition '%s': flash read failed: %s", p->label,
                         ota_strerror(err));
        }
    }
    return err;
}

/* ---- otadata ------------------------------------------------------------------------------- */

const ota_part_t *ota_flashimg_otadata(const ota_part_table_t *t)
{
    return ota_part_find(t, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_OTA, NULL);
}

int ota_flashimg_ota_slots(const ota_part_table_t *t,
                           const ota_part_t *parts[OTA_OTADATA_MAX_SLOTS])
{
    int n = 0;
    while (n < (int)OTA_OTADATA_MAX_SLOTS) {
        const ota_part_t *p =
            ota_part_find(t, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_APP_OTA_MIN + n, NULL);
        if (p == NULL) {
            break;
        }
        parts[n++] = p;
    }
    return n;
}

int ota_flashimg_otadata_switch(const ota_flash_t *f, const ota_part_table_t *t, uint32_t slot,
                                const char *name, int *sector, ota_diag_t *diag)
{
    if (f == NULL || t == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *od = ota_flashimg_otadata(t);
    if (od == NULL) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "No otadata partition found");
    }
    const ota_part_t *slots[OTA_OTADATA_MAX_SLOTS];
    int n = ota_flashimg_ota_slots(t, slots);
    if (n == 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "No ota app partitions found");
    }
    if (name != NULL) {
        slot = OTA_OTADATA_MAX_SLOTS;
        for (int k = 0; k < n; k++) {
            if (strcmp(slots[k]->label, name) == 0) {
                slot = (uint32_t)k;
                break;
            }
        }
    }
    if (slot >= (uint32_t)n) {
        if (name != NULL) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Partition to switch to not found: no OTA app partition named "
                                "'%s'",
                                name);
        }
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Partition to switch to not found: slot %u (OTA slots are 0..%d)",
                            (unsigned)slot, n - 1);
    }
    int err = check_part(f, od, true, true, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (od->size < OTA_OTADATA_MIN_SIZE) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "otadata partition '%s' is 0x%x bytes, smaller than 0x%x", od->label,
                            (unsigned)od->size, (unsigned)OTA_OTADATA_MIN_SIZE);
    }
    uint8_t *img = malloc(od->size);
    if (img == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "otadata: out of memory");
    }
    err = ota_flashimg_read_partition(f, od, img, diag);
    if (err == OTA_OK) {
        ota_diag_t d = {{0}};
        err = ota_otadata_tool_switch(img, od->size, slot, (uint32_t)n, sector, &d);
        if (err != OTA_OK) {
            ota_diag_set(diag, err, "otadata partition '%s': %s", od->label, ota_diag_why(&d, err));
        }
    }
    if (err == OTA_OK) {
        err = ota_flashimg_write_partition(f, od, img, od->size, true, diag);
    }
    free(img);
    return err;
}

int ota_flashimg_otadata_erase(const ota_flash_t *f, const ota_part_table_t *t, ota_diag_t *diag)
{
    if (f == NULL || t == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *od = ota_flashimg_otadata(t);
    if (od == NULL) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "No otadata partition found");
    }
    /* otatool erases it whatever its flags (the generator refuses readonly on data/ota). */
    return ota_flashimg_erase_partition(f, od, true, diag);
}

/* ---- create -------------------------------------------------------------------------------- */

/* Header code of a flash size, as the bootloader's MMU default uses it (0 = 1 MB, 4 = 16 MB). */
static uint8_t flash_size_code(uint32_t size)
{
    uint8_t code = 0;
    while (code < 7 && (0x100000u << code) < size) {
        code++;
    }
    return code;
}

static const char *file_name(const ota_flashimg_file_t *fl, size_t i, char *buf, size_t len)
{
    if (fl->path != NULL) {
        return fl->path;
    }
    snprintf(buf, len, "file %zu", i + 1);
    return buf;
}

static void add_item(ota_flashimg_layout_t *l, ota_flashimg_item_kind_t kind, uint32_t offset,
                     uint32_t len, int part, int file)
{
    if (l->count < OTA_FLASHIMG_MAX_ITEMS) {
        ota_flashimg_item_t *it = &l->items[l->count++];
        it->kind = kind;
        it->offset = offset;
        it->len = len;
        it->part = part;
        it->file = file;
    }
}

/* Table offset, chip, table; the first checks of ota_flashimg_create. */
static int create_prepare(const ota_flashimg_create_opts_t *o, ota_flashimg_layout_t *l,
                          ota_diag_t *diag)
{
    const char *bl = o->bootloader_path != NULL ? o->bootloader_path : "bootloader";
    if (!ota_nor_size_valid(o->flash_size)) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "flash size 0x%x: not one of 1, 2, 4, 8, 16, 32, 64 or 128 MiB",
                            (unsigned)o->flash_size);
    }
    /* The chip: named, or the bootloader header's. */
    ota_img_header_t h;
    memset(&h, 0, sizeof(h));
    if (o->bootloader_len >= OTA_IMG_HEADER_LEN) {
        ota_img_header_decode(o->bootloader, &h);
    }
    const ota_chip_t *hdr_chip = h.magic == OTA_IMG_MAGIC ? ota_chip_by_id(h.chip_id) : NULL;
    if (hdr_chip != NULL && hdr_chip->legacy) {
        hdr_chip = NULL;
    }
    l->chip = o->chip != NULL ? o->chip : hdr_chip;
    if (l->chip == NULL) {
        if (h.magic != OTA_IMG_MAGIC) {
            return ota_diag_set(diag, OTA_ERR_CHIP,
                                "%s: not an ESP image (first byte 0x%02x, not 0xe9): cannot tell "
                                "the chip",
                                bl, o->bootloader_len > 0 ? o->bootloader[0] : 0xFF);
        }
        return ota_diag_set(diag, OTA_ERR_CHIP, "%s: image chip ID %u is not a known chip", bl,
                            (unsigned)h.chip_id);
    }
    if (!o->force && o->chip != NULL && (h.magic != OTA_IMG_MAGIC || h.chip_id != o->chip->id)) {
        if (hdr_chip != NULL) {
            return ota_diag_set(diag, OTA_ERR_CHIP, "%s: a bootloader for %s, not for %s", bl,
                                hdr_chip->name, o->chip->name);
        }
        if (h.magic == OTA_IMG_MAGIC) {
            return ota_diag_set(diag, OTA_ERR_CHIP, "%s: image chip ID %u is not %s's (%u)", bl,
                                (unsigned)h.chip_id, o->chip->name, (unsigned)o->chip->id);
        }
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "%s: not an ESP image (first byte 0x%02x, not 0xe9)", bl,
                            o->bootloader_len > 0 ? o->bootloader[0] : 0xFF);
    }
    /* The table offset: given, else the bootloader's, else the default. */
    uint32_t bl_off = ota_flashimg_bootloader_table_offset(o->bootloader, o->bootloader_len);
    l->table_offset = o->table_offset != 0 ? o->table_offset
                      : bl_off != 0        ? bl_off
                                           : OTA_PART_TABLE_OFFSET_DEFAULT;
    if (!o->force && bl_off != 0 && bl_off != l->table_offset) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "%s: this bootloader reads the partition table at 0x%x "
                            "(CONFIG_PARTITION_TABLE_OFFSET), not at 0x%x",
                            bl, (unsigned)bl_off, (unsigned)l->table_offset);
    }
    if (l->table_offset % OTA_PART_TABLE_SECTOR_SIZE != 0 ||
        l->table_offset <= l->chip->bootloader_offset ||
        l->table_offset > o->flash_size - OTA_PART_TABLE_SECTOR_SIZE) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "partition table offset 0x%x: must be a multiple of 0x1000 above the "
                            "%s bootloader at 0x%x, with its sector inside the 0x%x-byte flash",
                            (unsigned)l->table_offset, l->chip->name,
                            (unsigned)l->chip->bootloader_offset, (unsigned)o->flash_size);
    }
    uint32_t region = l->table_offset - l->chip->bootloader_offset;
    if (o->bootloader_len > region) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "%s: %zu bytes do not fit below the partition table (0x%x bytes from "
                            "0x%x to 0x%x)",
                            bl, o->bootloader_len, (unsigned)region,
                            (unsigned)l->chip->bootloader_offset, (unsigned)l->table_offset);
    }
    /* The table. */
    if (o->table != NULL) {
        l->table = *o->table;
    } else {
        ota_part_csv_opts_t copts;
        memset(&copts, 0, sizeof(copts));
        copts.table_offset = l->table_offset;
        copts.flash_size = o->flash_size;
        copts.warn = o->warn;
        copts.warn_ctx = o->warn_ctx;
        ota_diag_t d = {{0}};
        int err = ota_part_table_from_arg(o->table_arg, &copts, &l->table, &d);
        if (err != OTA_OK) {
            /* A file that cannot be read already names itself. */
            if (err == OTA_ERR_IO) {
                return ota_diag_set(diag, err, "%s", d.msg);
            }
            return ota_diag_set(diag, err, "%s: %s", o->table_arg, ota_diag_why(&d, err));
        }
    }
    if (l->table.count < 1 || l->table.count > OTA_PART_MAX_ENTRIES) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "partition table: no entries");
    }
    for (int i = 0; i < l->table.count; i++) {
        const ota_part_t *p = &l->table.parts[i];
        if (p->offset > o->flash_size || p->size > o->flash_size - p->offset) {
            return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                                "partition table: partition '%s' (0x%x bytes at 0x%x) does not "
                                "fit the 0x%x-byte flash",
                                p->label, (unsigned)p->size, (unsigned)p->offset,
                                (unsigned)o->flash_size);
        }
    }
    return OTA_OK;
}

/* Resolves each file's partition; checks names, kinds and sizes. parts[i] = table index. */
static int create_resolve(const ota_flashimg_create_opts_t *o, const ota_flashimg_layout_t *l,
                          int *parts, ota_diag_t *diag)
{
    for (size_t i = 0; i < o->file_count; i++) {
        const ota_flashimg_file_t *fl = &o->files[i];
        char nb[32];
        const char *fname = file_name(fl, i, nb, sizeof(nb));
        if (fl->data == NULL && fl->len > 0) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: no data", fname);
        }
        const ota_part_t *p = fl->label != NULL ? ota_part_find_by_label(&l->table, fl->label)
                                                : ota_flashimg_boot_default(&l->table);
        if (p == NULL) {
            if (fl->label == NULL) {
                return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                                    "%s: the partition table has no factory or ota_N app "
                                    "partition to boot from",
                                    fname);
            }
            return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                                "%s: the partition table has no partition named '%s'", fname,
                                fl->label);
        }
        int idx = (int)(p - l->table.parts);
        for (size_t j = 0; j < i; j++) {
            if (parts[j] == idx) {
                return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                    "%s: partition '%s' is already given another file", fname,
                                    p->label);
            }
        }
        if (fl->app && p->type != OTA_PART_TYPE_APP) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "%s: partition '%s' is not an app partition (type 0x%02x)", fname,
                                p->label, p->type);
        }
        if (fl->len > p->size) {
            return ota_diag_set(diag, OTA_ERR_SIZE,
                                "%s: %zu bytes do not fit partition '%s' (0x%x bytes)", fname,
                                fl->len, p->label, (unsigned)p->size);
        }
        parts[i] = idx;
    }
    return OTA_OK;
}

/* The ROM's check of the bootloader and the device verifier on each app, in place. */
static int create_verify(const ota_crypto_t *c, const ota_flashimg_create_opts_t *o,
                         const ota_flashimg_layout_t *l, const int *parts, const ota_flash_t *f,
                         ota_diag_t *diag)
{
    const char *bl = o->bootloader_path != NULL ? o->bootloader_path : "bootloader";
    ota_img_header_t h;
    ota_img_header_decode(o->bootloader, &h);
    ota_boot_env_t env;
    memset(&env, 0, sizeof(env));
    env.flash = f;
    env.crypto = c;
    env.chip = l->chip;
    env.chip_rev = h.min_chip_rev_full;
    uint32_t used = 0;
    ota_diag_t d = {{0}};
    int err = ota_boot_rom_load(&env, l->table_offset, &used, NULL, &d);
    if (err != OTA_OK) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: not a bootloader the %s ROM loads: %s", bl,
                            l->chip->name, ota_diag_why(&d, err));
    }
    for (size_t i = 0; i < o->file_count; i++) {
        const ota_flashimg_file_t *fl = &o->files[i];
        if (!fl->app) {
            continue;
        }
        const ota_part_t *p = &l->table.parts[parts[i]];
        char nb[32];
        const char *fname = file_name(fl, i, nb, sizeof(nb));
        if (fl->len < OTA_IMG_HEADER_LEN || fl->data[0] != OTA_IMG_MAGIC) {
            return ota_diag_set(diag, OTA_ERR_CORRUPT,
                                "%s: not an app image (first byte 0x%02x, not 0xe9)", fname,
                                fl->len > 0 ? fl->data[0] : 0xFF);
        }
        ota_img_header_decode(fl->data, &h);
        if (h.chip_id != l->chip->id) {
            const ota_chip_t *ic = ota_chip_by_id(h.chip_id);
            if (ic != NULL) {
                return ota_diag_set(diag, OTA_ERR_CHIP, "%s: an app for %s, the flash is for %s",
                                    fname, ic->name, l->chip->name);
            }
            return ota_diag_set(diag, OTA_ERR_CHIP, "%s: image chip ID %u is not %s's (%u)", fname,
                                (unsigned)h.chip_id, l->chip->name, (unsigned)l->chip->id);
        }
        ota_app_desc_t desc;
        ota_img_verify_opts_t vo;
        memset(&vo, 0, sizeof(vo));
        vo.chip = l->chip;
        vo.chip_rev = h.min_chip_rev_full;
        if (ota_img_read_app_desc(f, p->offset, &desc) == OTA_OK) {
            vo.efuse_blk_rev = desc.min_efuse_blk_rev_full;
        }
        vo.mmu_page_size = ota_chip_default_mmu_page_size(l->chip, flash_size_code(f->size));
        vo.hash = OTA_IMG_HASH_AUTO;
        vo.silent = true;
        memset(&d, 0, sizeof(d));
        err = ota_img_verify(f, c, p->offset, p->size, &vo, NULL, &d);
        if (err != OTA_OK) {
            return ota_diag_set(diag, OTA_ERR_CORRUPT,
                                "%s: not a valid %s app image in partition '%s': %s", fname,
                                l->chip->name, p->label, ota_diag_why(&d, err));
        }
    }
    return OTA_OK;
}

int ota_flashimg_create(const ota_crypto_t *c, const ota_flashimg_create_opts_t *opts,
                        uint8_t *flash, ota_flashimg_layout_t *layout, ota_diag_t *diag)
{
    if (c == NULL || opts == NULL || flash == NULL || opts->bootloader == NULL ||
        (opts->table == NULL && opts->table_arg == NULL) ||
        (opts->files == NULL && opts->file_count > 0)) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "flash image: a bootloader and a partition table are required");
    }
    if (opts->file_count > OTA_PART_MAX_ENTRIES) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "flash image: more files than partitions");
    }
    ota_flashimg_layout_t *l = malloc(sizeof(*l));
    if (l == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "flash image: out of memory");
    }
    memset(l, 0, sizeof(*l));
    int parts[OTA_PART_MAX_ENTRIES];
    int err = create_prepare(opts, l, diag);
    if (err == OTA_OK) {
        err = create_resolve(opts, l, parts, diag);
    }
    uint8_t tbin[OTA_PART_TABLE_MAX_LEN];
    if (err == OTA_OK) {
        ota_diag_t d = {{0}};
        err = ota_part_table_encode(c, &l->table, tbin, &d);
        if (err != OTA_OK) {
            ota_diag_set(diag, err, "partition table: %s", ota_diag_why(&d, err));
        }
    }
    if (err != OTA_OK) {
        free(l);
        return err;
    }

    /* An erased chip, then what idf.py flash writes, in its order. */
    memset(flash, 0xFF, opts->flash_size);
    memcpy(flash + l->chip->bootloader_offset, opts->bootloader, opts->bootloader_len);
    add_item(l, OTA_FLASHIMG_ITEM_BOOTLOADER, l->chip->bootloader_offset,
             (uint32_t)opts->bootloader_len, -1, -1);
    memcpy(flash + l->table_offset, tbin, sizeof(tbin));
    add_item(l, OTA_FLASHIMG_ITEM_TABLE, l->table_offset, OTA_PART_TABLE_MAX_LEN, -1, -1);
    const ota_part_t *od = ota_flashimg_otadata(&l->table);
    if (od != NULL) {
        ota_otadata_blank(flash + od->offset, od->size);
        add_item(l, OTA_FLASHIMG_ITEM_OTADATA, od->offset, od->size, (int)(od - l->table.parts),
                 -1);
    }
    for (size_t i = 0; i < opts->file_count; i++) {
        const ota_part_t *p = &l->table.parts[parts[i]];
        memset(flash + p->offset, 0xFF, p->size);
        if (opts->files[i].len > 0) {
            memcpy(flash + p->offset, opts->files[i].data, opts->files[i].len);
        }
        add_item(l, OTA_FLASHIMG_ITEM_FILE, p->offset, (uint32_t)opts->files[i].len, parts[i],
                 (int)i);
    }

    if (!opts->force) {
        ota_flash_t f;
        ota_memflash_t m;
        ota_memflash_init(&f, &m, flash, opts->flash_size, true);
        err = create_verify(c, opts, l, parts, &f, diag);
    }
    if (err == OTA_OK && layout != NULL) {
        *layout = *l;
    }
    free(l);
    return err;
}

/* ---- inspect ------------------------------------------------------------------------------- */

/* eFuses seen by the inspection's boot: read from the real store, burns kept in memory only. */
typedef struct shadow_efuse {
    ota_efuse_t ops;
    const ota_efuse_t *inner; /* NULL: nothing burnt */
    bool sv_set;
    uint32_t sv;
    bool rec_set;
    uint32_t rec;
} shadow_efuse_t;

static int shadow_read_sv(void *ctx, uint32_t *out)
{
    shadow_efuse_t *s = ctx;
    uint32_t v = 0;
    if (s->inner != NULL && s->inner->read_secure_version(s->inner->ctx, &v) != OTA_OK) {
        v = 0;
    }
    *out = s->sv_set && s->sv > v ? s->sv : v;
    return OTA_OK;
}

static int shadow_write_sv(void *ctx, uint32_t version)
{
    shadow_efuse_t *s = ctx;
    if (!s->sv_set || version > s->sv) {
        s->sv = version;
        s->sv_set = true;
    }
    return OTA_OK;
}

static int shadow_read_rec(void *ctx, uint32_t *out)
{
    shadow_efuse_t *s = ctx;
    uint32_t v = 0;
    if (s->rec_set) {
        v = s->rec;
    } else if (s->inner != NULL && s->inner->read_recovery_offset != NULL &&
               s->inner->read_recovery_offset(s->inner->ctx, &v) != OTA_OK) {
        v = 0;
    }
    *out = v;
    return OTA_OK;
}

static int shadow_write_rec(void *ctx, uint32_t offset)
{
    shadow_efuse_t *s = ctx;
    s->rec = offset;
    s->rec_set = true;
    return OTA_OK;
}

/* The bootloader's log, without the partition table listing (printed on its own). */
typedef struct log_buf {
    ota_buf_t text;
    bool in_table;
} log_buf_t;

static void log_sink(void *ctx, char level, const char *tag, const char *msg)
{
    log_buf_t *b = ctx;
    if (strcmp(msg, OTA_PART_LOG_TITLE) == 0) {
        b->in_table = true;
        return;
    }
    if (b->in_table) {
        if (strcmp(msg, OTA_PART_LOG_FOOTER) == 0) {
            b->in_table = false;
        }
        return;
    }
    char line[400];
    int n = snprintf(line, sizeof(line), "%c %s: %s\n", level, tag, msg);
    if (n > 0) {
        ota_buf_put(&b->text, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}

static void copy_why(char *dst, size_t cap, const ota_diag_t *d, int err)
{
    const char *src = ota_diag_why(d, err);
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Every app partition's image as the bootloader's verifier sees it. */
static void inspect_apps(const ota_crypto_t *c, const ota_flash_t *f, ota_flashimg_report_t *r)
{
    for (int i = 0; i < r->table.count; i++) {
        const ota_part_t *p = &r->table.parts[i];
        if (p->type != OTA_PART_TYPE_APP) {
            continue;
        }
        ota_flashimg_app_t *a = &r->apps[r->app_count++];
        a->part = i;
        uint8_t first = 0xFF;
        ota_flash_read(f, p->offset, &first, 1);
        a->erased = first == 0xFF;
        a->has_desc = ota_img_read_app_desc(f, p->offset, &a->desc) == OTA_OK;
        if (r->chip == NULL) {
            a->err = OTA_ERR_CHIP;
            snprintf(a->why, sizeof(a->why), "the chip is unknown");
            continue;
        }
        ota_img_verify_opts_t vo;
        memset(&vo, 0, sizeof(vo));
        vo.chip = r->chip;
        vo.chip_rev = r->chip_rev;
        vo.mmu_page_size = ota_chip_default_mmu_page_size(r->chip, flash_size_code(f->size));
        vo.hash = OTA_IMG_HASH_AUTO;
        vo.silent = true;
        ota_diag_t d = {{0}};
        a->err = ota_img_verify(f, c, p->offset, p->size, &vo, NULL, &d);
        if (a->err != OTA_OK) {
            copy_why(a->why, sizeof(a->why), &d, a->err);
        }
    }
}

/* Sets up the eFuses the boot reads: the efuse partition of the copy, else the sidecar file. */
static void inspect_efuse(const ota_flashimg_inspect_opts_t *o, const ota_flash_t *f,
                          const ota_flashimg_report_t *r, ota_efuse_store_t *store,
                          shadow_efuse_t *sh)
{
    memset(sh, 0, sizeof(*sh));
    sh->ops.ctx = sh;
    sh->ops.read_secure_version = shadow_read_sv;
    sh->ops.write_secure_version = shadow_write_sv;
    sh->ops.read_recovery_offset = shadow_read_rec;
    sh->ops.write_recovery_offset = shadow_write_rec;
    uint32_t bits = r->chip->secure_version_bits;
    const ota_part_t *ep = r->table_err == OTA_OK ? ota_part_find(&r->table, OTA_PART_TYPE_DATA,
                                                                  OTA_PART_SUBTYPE_DATA_EFUSE, NULL)
                                                  : NULL;
    if (ep != NULL && ep->size >= OTA_EFUSE_BLOCK_LEN) {
        if (ota_efuse_store_flash(store, f, ep->offset, bits) == OTA_OK) {
            sh->inner = &store->ops;
        }
    } else if (o->efuse_sidecar != NULL) {
        if (ota_efuse_store_file(store, o->efuse_sidecar, bits) == OTA_OK) {
            sh->inner = &store->ops;
        }
    }
}

/* The ROM step and the bootloader's description and configuration. */
static void inspect_bootloader(const ota_crypto_t *c, const ota_flashimg_inspect_opts_t *o,
                               const ota_boot_env_t *env, ota_flashimg_report_t *r)
{
    uint32_t rom_table = o->table_offset != 0 ? o->table_offset : OTA_PART_TABLE_OFFSET_DEFAULT;
    if (rom_table <= r->chip->bootloader_offset || rom_table > r->flash_size) {
        r->rom_err = OTA_ERR_INVALID_ARG;
        snprintf(r->rom_why, sizeof(r->rom_why),
                 "partition table offset 0x%x is not above the bootloader at 0x%x",
                 (unsigned)rom_table, (unsigned)r->chip->bootloader_offset);
        return;
    }
    ota_img_meta_t meta;
    ota_diag_t d = {{0}};
    r->rom_err = ota_boot_rom_load(env, rom_table, &r->bootloader_at, &meta, &d);
    if (r->rom_err != OTA_OK) {
        copy_why(r->rom_why, sizeof(r->rom_why), &d, r->rom_err);
        return;
    }
    r->bootloader_len = meta.image_len;
    uint32_t avail = rom_table - r->chip->bootloader_offset;
    if (r->bootloader_at != r->chip->bootloader_offset) {
        avail = r->flash_size - r->bootloader_at < avail ? r->flash_size - r->bootloader_at : avail;
    }
    ota_img_info_t *info = malloc(sizeof(*info));
    if (info != NULL &&
        ota_img_parse(env->flash, c, r->bootloader_at, avail, info, NULL) == OTA_OK &&
        info->has_boot_desc) {
        r->has_boot_desc = true;
        r->boot_desc = info->boot_desc;
    }
    free(info);
    r->boot_cfg_baked =
        ota_flashimg_bootloader_cfg(env->flash, r->bootloader_at, avail, &r->boot_cfg);
}

int ota_flashimg_inspect(const ota_crypto_t *c, const uint8_t *flash, size_t size,
                         const ota_flashimg_inspect_opts_t *opts, ota_flashimg_report_t **out)
{
    static const ota_flashimg_inspect_opts_t defaults;
    if (c == NULL || flash == NULL || out == NULL || size == 0 || size > OTA_NOR_MAX_SIZE) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_flashimg_inspect_opts_t *o = opts != NULL ? opts : &defaults;
    ota_flashimg_report_t *r = calloc(1, sizeof(*r));
    uint8_t *copy = malloc(size);
    log_buf_t lb = {0};
    ota_buf_put(&lb.text, "", 0);
    if (r == NULL || copy == NULL || lb.text.oom) {
        free(r);
        free(copy);
        ota_buf_free(&lb.text);
        return OTA_ERR_NO_MEM;
    }
    memcpy(copy, flash, size);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, copy, (uint32_t)size, false);

    r->flash_size = (uint32_t)size;
    r->otadata = -1;
    r->active = -1;
    r->chip = o->chip;
    if (r->chip == NULL) {
        r->chip = ota_flashimg_detect_chip(flash, size);
        r->chip_detected = r->chip != NULL;
    }
    const ota_log_t sink = {log_sink, &lb};
    ota_boot_env_t env;
    memset(&env, 0, sizeof(env));
    env.flash = &f;
    env.crypto = c;
    env.chip = r->chip;
    env.log = &sink;
    env.power_on = true;
    ota_flashimg_bootloader_cfg(NULL, 0, 0, &r->boot_cfg);
    if (r->chip != NULL) {
        if (o->has_chip_rev) {
            r->chip_rev = o->chip_rev;
        } else {
            r->chip_rev = ota_flashimg_default_chip_rev(r->chip);
        }
        env.chip_rev = r->chip_rev;
        r->efuse_blk_rev = ota_flashimg_default_efuse_blk_rev(r->chip);
        env.efuse_blk_rev = r->efuse_blk_rev;
        inspect_bootloader(c, o, &env, r);
    } else {
        r->rom_err = OTA_ERR_NOT_FOUND;
    }
    r->table_offset = o->table_offset != 0 ? o->table_offset : r->boot_cfg.table_offset;
    r->boot_cfg.table_offset = r->table_offset;

    ota_diag_t d = {{0}};
    r->table_err = ota_flashimg_read_table(c, &f, r->table_offset, &r->table, &d);
    if (r->table_err != OTA_OK) {
        copy_why(r->table_why, sizeof(r->table_why), &d, r->table_err);
    }
    const ota_part_t *od = NULL;
    if (r->table_err == OTA_OK) {
        od = ota_flashimg_otadata(&r->table);
        if (od != NULL) {
            r->otadata = (int)(od - r->table.parts);
            r->otadata_err = ota_otadata_read(&f, od->offset, od->size, r->entries, NULL);
            if (r->otadata_err == OTA_OK) {
                r->active = ota_otadata_active(r->entries);
            } else {
                od = NULL;
            }
        }
        r->count_boot = ota_part_ota_count_boot(&r->table);
        r->count_app = ota_part_ota_count_app(&r->table);
        inspect_apps(c, &f, r);
    }

    if (r->chip != NULL && r->rom_err == OTA_OK) {
        ota_efuse_store_t *store = malloc(sizeof(*store));
        shadow_efuse_t sh;
        if (store != NULL) {
            inspect_efuse(o, &f, r, store, &sh);
            env.efuse = &sh.ops;
            ota_boot_run(&env, &r->boot_cfg, &r->boot);
            r->booted_run = true;
        }
        free(store);
        if (od != NULL && memcmp(copy + od->offset, flash + od->offset, od->size) != 0) {
            r->otadata_changed = true;
            ota_otadata_decode_image(copy + od->offset, od->size, r->entries_after);
        }
    }
    free(copy);
    if (lb.text.oom) {
        ota_buf_free(&lb.text);
        free(r);
        return OTA_ERR_NO_MEM;
    }
    r->log = (char *)lb.text.p;
    *out = r;
    return OTA_OK;
}

void ota_flashimg_report_free(ota_flashimg_report_t *r)
{
    if (r != NULL) {
        free(r->log);
        free(r);
    }
}
