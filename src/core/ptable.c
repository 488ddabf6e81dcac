/* Power-safe partition-table updates: backup sector, commit record, boot-time fallback. */
#include "ota/ota_ptable.h"
#include "ota/ota_otadata.h"
#include "ota_le.h"

#include <string.h>

void ota_ptable_record_encode(const ota_ptable_record_t *r, uint8_t raw[OTA_PTABLE_RECORD_LEN])
{
    memcpy(raw, OTA_PTABLE_RECORD_MAGIC, 8);
    ota_put_le32(raw + 8, r->version);
    ota_put_le32(raw + 12, r->generation);
    memcpy(raw + 16, r->md5_prefix, sizeof(r->md5_prefix));
    ota_put_le32(raw + 28, ota_otadata_crc32(0xFFFFFFFFu, raw, 28));
}

int ota_ptable_record_decode(const uint8_t raw[OTA_PTABLE_RECORD_LEN], ota_ptable_record_t *r)
{
    if (memcmp(raw, OTA_PTABLE_RECORD_MAGIC, 8) != 0) {
        return OTA_ERR_NOT_FOUND;
    }
    if (ota_get_le32(raw + 28) != ota_otadata_crc32(0xFFFFFFFFu, raw, 28)) {
        return OTA_ERR_CORRUPT;
    }
    r->version = ota_get_le32(raw + 8);
    r->generation = ota_get_le32(raw + 12);
    memcpy(r->md5_prefix, raw + 16, sizeof(r->md5_prefix));
    return r->version == OTA_PTABLE_RECORD_VERSION ? OTA_OK : OTA_ERR_CORRUPT;
}

/* The table at offset passes the bootloader's check; with need_md5 it must carry an MD5 row. */
static int check_table(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset, bool need_md5,
                       uint8_t *buf, ota_part_table_t *table, ota_diag_t *diag)
{
    int err = ota_part_table_read_raw(f, offset, buf);
    if (err != OTA_OK) {
        return err;
    }
    err = ota_part_table_verify(c, buf, f->size, table, diag);
    if (err == OTA_OK && need_md5 && !table->has_md5) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "partition table at 0x%x has no MD5 row",
                            (unsigned)offset);
    }
    return err;
}

/* The backup sector holds a committed copy: record intact and matching the table bytes. */
static int check_backup(const ota_flash_t *f, const ota_crypto_t *c, uint32_t backup, uint8_t *buf,
                        ota_part_table_t *table, uint32_t *generation)
{
    uint8_t raw[OTA_PTABLE_RECORD_LEN];
    ota_ptable_record_t rec;
    int err = ota_flash_read(f, backup + OTA_PTABLE_RECORD_OFFSET, raw, sizeof(raw));
    if (err != OTA_OK) {
        return err;
    }
    err = ota_ptable_record_decode(raw, &rec);
    if (err != OTA_OK) {
        return OTA_ERR_CORRUPT;
    }
    err = check_table(f, c, backup, true, buf, table, NULL);
    if (err != OTA_OK) {
        return err == OTA_ERR_SIZE ? OTA_ERR_CORRUPT : err;
    }
    uint8_t md5[OTA_MD5_LEN];
    err = ota_hash(c, OTA_HASH_MD5, buf, OTA_PART_TABLE_MAX_LEN, md5);
    if (err != OTA_OK) {
        return err;
    }
    if (memcmp(md5, rec.md5_prefix, sizeof(rec.md5_prefix)) != 0) {
        return OTA_ERR_CORRUPT;
    }
    if (generation != NULL) {
        *generation = rec.generation;
    }
    return OTA_OK;
}

static bool is_flash_error(int err)
{
    return err == OTA_ERR_IO || err == OTA_ERR_POWER_LOSS;
}

int ota_ptable_load(const ota_flash_t *f, const ota_crypto_t *c, uint32_t table_offset,
                    uint32_t backup_offset, ota_part_table_t *table, ota_ptable_source_t *source,
                    uint32_t *generation, ota_diag_t *diag)
{
    uint8_t buf[OTA_PART_TABLE_MAX_LEN];
    if (f == NULL || c == NULL || table == NULL || source == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    *source = OTA_PTABLE_PRIMARY;
    if (generation != NULL) {
        *generation = 0;
    }
    int err = check_table(f, c, table_offset, backup_offset != 0, buf, table, diag);
    if (err == OTA_OK || backup_offset == 0 || is_flash_error(err)) {
        return err;
    }
    ota_part_table_t backup;
    int berr = check_backup(f, c, backup_offset, buf, &backup, generation);
    if (berr != OTA_OK) {
        return is_flash_error(berr) ? berr : err;
    }
    *table = backup;
    *source = OTA_PTABLE_BACKUP;
    return OTA_OK;
}

/* Erases the sector at offset and programs data (len bytes) there, then reads it back. */
static int write_sector(const ota_flash_t *f, uint32_t offset, const uint8_t *data, uint32_t len)
{
    int err = ota_flash_erase_range(f, offset, OTA_PART_TABLE_SECTOR_SIZE);
    if (err == OTA_OK) {
        err = ota_flash_program(f, offset, data, len);
    }
    return err;
}

static int same_bytes(const ota_flash_t *f, uint32_t offset, const uint8_t *data, uint32_t len)
{
    uint8_t buf[256];
    for (uint32_t pos = 0; pos < len; pos += sizeof(buf)) {
        uint32_t n = len - pos < sizeof(buf) ? len - pos : (uint32_t)sizeof(buf);
        int err = ota_flash_read(f, offset + pos, buf, n);
        if (err != OTA_OK) {
            return err;
        }
        if (memcmp(buf, data + pos, n) != 0) {
            return OTA_ERR_IO;
        }
    }
    return OTA_OK;
}

int ota_ptable_update_safe(const ota_flash_t *f, const ota_crypto_t *c, uint32_t table_offset,
                           uint32_t backup_offset, const uint8_t *new_table, ota_diag_t *diag)
{
    if (f == NULL || c == NULL || new_table == NULL || backup_offset == 0 ||
        backup_offset == table_offset || backup_offset > f->size - OTA_PART_TABLE_SECTOR_SIZE) {
        return OTA_ERR_INVALID_ARG;
    }
    if (backup_offset % OTA_PART_TABLE_SECTOR_SIZE != 0 ||
        table_offset % OTA_PART_TABLE_SECTOR_SIZE != 0) {
        return OTA_ERR_ALIGN;
    }
    ota_part_table_t table;
    int err = ota_part_table_verify(c, new_table, f->size, &table, diag);
    if (err != OTA_OK) {
        return OTA_ERR_CORRUPT;
    }
    if (!table.has_md5) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "the new partition table has no MD5 row");
    }

    /* the next generation after the backup that is there, if any */
    ota_ptable_record_t rec = {OTA_PTABLE_RECORD_VERSION, 1, {0}};
    uint8_t raw[OTA_PTABLE_RECORD_LEN];
    ota_ptable_record_t old;
    err = ota_flash_read(f, backup_offset + OTA_PTABLE_RECORD_OFFSET, raw, sizeof(raw));
    if (err != OTA_OK) {
        return err;
    }
    if (ota_ptable_record_decode(raw, &old) == OTA_OK) {
        rec.generation = old.generation + 1;
    }
    uint8_t md5[OTA_MD5_LEN];
    err = ota_hash(c, OTA_HASH_MD5, new_table, OTA_PART_TABLE_MAX_LEN, md5);
    if (err != OTA_OK) {
        return err;
    }
    memcpy(rec.md5_prefix, md5, sizeof(rec.md5_prefix));
    ota_ptable_record_encode(&rec, raw);

    /* (2) the backup, committed by its record */
    err = write_sector(f, backup_offset, new_table, OTA_PART_TABLE_MAX_LEN);
    if (err == OTA_OK) {
        err = ota_flash_program(f, backup_offset + OTA_PTABLE_RECORD_OFFSET, raw, sizeof(raw));
    }
    if (err == OTA_OK) {
        err = same_bytes(f, backup_offset, new_table, OTA_PART_TABLE_MAX_LEN);
    }
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "writing the backup partition table at 0x%x failed",
                            (unsigned)backup_offset);
    }
    /* (3) the primary */
    err = write_sector(f, table_offset, new_table, OTA_PART_TABLE_MAX_LEN);
    if (err == OTA_OK) {
        err = same_bytes(f, table_offset, new_table, OTA_PART_TABLE_MAX_LEN);
    }
    if (err != OTA_OK) {
        return ota_diag_set(diag, err,
                            "writing the partition table at 0x%x failed; the backup copy at "
                            "0x%x is in place",
                            (unsigned)table_offset, (unsigned)backup_offset);
    }
    return OTA_OK;
}
