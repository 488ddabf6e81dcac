/*
 * Power-safe partition-table updates (otakit's scheme; ESP-IDF has none).
 *
 * ESP-IDF replaces the table by erasing its sector and writing the new one: a power cut in
 * between leaves a chip that cannot boot. otakit keeps a verified copy in a backup sector whose
 * offset the bootloader knows from its own configuration (CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_
 * OFFSET), so it never needs the table to find it:
 *
 *   backup sector (4 KiB, reserved in the table, e.g. as type partition_table subtype ota):
 *     +0x000  the table, 0xC00 bytes, exactly as at the table offset (entries, MD5 row, 0xFF)
 *     +0xC00  the commit record (32 bytes, little-endian):
 *               0 magic "OTKPTBAK"   8 u32 version (1)   12 u32 generation
 *               16 u8[12] the first 12 bytes of the table's MD5 (its whole-0xC00 digest)
 *               28 u32 CRC-32 (ROM variant, ota_otadata_crc32 seed 0xFFFFFFFF) of bytes 0..27
 *
 * Update (ota_ptable_update_safe): (1) check the new table (bootloader rules, MD5 row required);
 * (2) erase the backup sector, program the new table there, then program the record — the
 * record is the commit point — and read the copy back; (3) erase the primary sector, program the
 * new table, read it back. At every moment one of the two sectors holds a complete, verified
 * table: before (3) the primary (old or new), during (3) the backup (new).
 *
 * Boot (ota_ptable_load): the primary table is used when it passes the bootloader's check WITH
 * its MD5 row (a torn write cannot pass); otherwise the backup when its record and table check
 * out. Without a backup offset the ESP-IDF rules apply unchanged (MD5 row optional).
 */
#ifndef OTA_PTABLE_H
#define OTA_PTABLE_H

#include <stdint.h>

#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_part.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_PTABLE_RECORD_OFFSET 0xC00u
#define OTA_PTABLE_RECORD_LEN 32u
#define OTA_PTABLE_RECORD_MAGIC "OTKPTBAK"
#define OTA_PTABLE_RECORD_VERSION 1u

/* A decoded commit record. */
typedef struct ota_ptable_record {
    uint32_t version;
    uint32_t generation;
    uint8_t md5_prefix[12];
} ota_ptable_record_t;

_Static_assert(OTA_PTABLE_RECORD_LEN == 32, "backup commit record is 32 bytes");

/* Encodes a record with magic and CRC into 32 bytes. */
void ota_ptable_record_encode(const ota_ptable_record_t *r, uint8_t raw[OTA_PTABLE_RECORD_LEN]);

/* Decodes 32 bytes. Returns OTA_OK, OTA_ERR_NOT_FOUND (no magic: no record) or OTA_ERR_CORRUPT
 * (bad CRC or version). */
int ota_ptable_record_decode(const uint8_t raw[OTA_PTABLE_RECORD_LEN], ota_ptable_record_t *r);

/* Where the table the bootloader uses came from. */
typedef enum {
    OTA_PTABLE_PRIMARY = 0,
    OTA_PTABLE_BACKUP = 1,
} ota_ptable_source_t;

/*
 * Loads the table the bootloader should use. With backup_offset 0: the table at table_offset
 * checked by ota_part_table_verify (ESP-IDF's rules). Otherwise: the primary table when it
 * verifies with an MD5 row, else the backup sector's table when its record is intact and matches
 * (*source tells which; *generation, may be NULL, the backup's generation or 0).
 * Returns OTA_OK; OTA_ERR_CORRUPT / OTA_ERR_SIZE when no usable table exists (diag: the primary's
 * problem); or the flash error.
 */
int ota_ptable_load(const ota_flash_t *f, const ota_crypto_t *c, uint32_t table_offset,
                    uint32_t backup_offset, ota_part_table_t *table, ota_ptable_source_t *source,
                    uint32_t *generation, ota_diag_t *diag);

/*
 * The power-safe update described above: new_table holds OTA_PART_TABLE_MAX_LEN bytes.
 * backup_offset must be a sector outside the table sector and below the flash end.
 * Returns OTA_OK; OTA_ERR_CORRUPT (the new table fails the check, nothing written);
 * OTA_ERR_INVALID_ARG / OTA_ERR_ALIGN (offsets); OTA_ERR_IO when a read-back differs; or the
 * flash error (after a power cut the next boot finds a usable table).
 */
int ota_ptable_update_safe(const ota_flash_t *f, const ota_crypto_t *c, uint32_t table_offset,
                           uint32_t backup_offset, const uint8_t *new_table, ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_PTABLE_H */
