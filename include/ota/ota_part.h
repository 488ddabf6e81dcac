/*
 * Partition table (ESP-IDF format): entries, the MD5 row, the two on-device verifiers and binary
 * generation. Portable core: no allocation, caller owns every buffer.
 *
 * A table lives in one 4 KiB sector at the table offset (0x8000 by default); its data is at most
 * 0xC00 bytes: 32-byte entries, an optional MD5 row (magic 0xEBEB) and an all-0xFF end marker.
 */
#ifndef OTA_PART_H
#define OTA_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_PART_TABLE_OFFSET_DEFAULT 0x8000u
#define OTA_PART_TABLE_SECTOR_SIZE 0x1000u
#define OTA_PART_TABLE_MAX_LEN 0xC00u /* table data; the rest of the sector is for a signature */
#define OTA_PART_ENTRY_SIZE 32u
#define OTA_PART_MAX_ENTRIES 96 /* 0xC00 / 32: slots a verifier scans */
#define OTA_PART_MAGIC 0x50AAu
#define OTA_PART_MD5_MAGIC 0xEBEBu

/* Types */
#define OTA_PART_TYPE_APP 0x00
#define OTA_PART_TYPE_DATA 0x01
#define OTA_PART_TYPE_BOOTLOADER 0x02
#define OTA_PART_TYPE_PARTITION_TABLE 0x03
#define OTA_PART_TYPE_ANY 0xFF

/* App subtypes */
#define OTA_PART_SUBTYPE_APP_FACTORY 0x00
#define OTA_PART_SUBTYPE_APP_OTA_MIN 0x10 /* ota_N = 0x10 + N */
#define OTA_PART_SUBTYPE_APP_OTA_MAX 0x20 /* exclusive */
#define OTA_PART_SUBTYPE_APP_TEST 0x20
#define OTA_PART_SUBTYPE_APP_TEE_0 0x30
#define OTA_PART_SUBTYPE_APP_TEE_1 0x31

/* Data subtypes */
#define OTA_PART_SUBTYPE_DATA_OTA 0x00
#define OTA_PART_SUBTYPE_DATA_PHY 0x01
#define OTA_PART_SUBTYPE_DATA_NVS 0x02
#define OTA_PART_SUBTYPE_DATA_COREDUMP 0x03
#define OTA_PART_SUBTYPE_DATA_NVS_KEYS 0x04
#define OTA_PART_SUBTYPE_DATA_EFUSE 0x05
#define OTA_PART_SUBTYPE_DATA_UNDEFINED 0x06
#define OTA_PART_SUBTYPE_DATA_ESPHTTPD 0x80
#define OTA_PART_SUBTYPE_DATA_FAT 0x81
#define OTA_PART_SUBTYPE_DATA_SPIFFS 0x82
#define OTA_PART_SUBTYPE_DATA_LITTLEFS 0x83
#define OTA_PART_SUBTYPE_DATA_TEE_OTA 0x90

/* Bootloader and partition-table subtypes */
#define OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY 0x00
#define OTA_PART_SUBTYPE_BOOTLOADER_OTA 0x01
#define OTA_PART_SUBTYPE_BOOTLOADER_RECOVERY 0x02
#define OTA_PART_SUBTYPE_PT_PRIMARY 0x00
#define OTA_PART_SUBTYPE_PT_OTA 0x01

#define OTA_PART_SUBTYPE_ANY 0xFF

/* Flags */
#define OTA_PART_FLAG_ENCRYPTED 0x1u
#define OTA_PART_FLAG_READONLY 0x2u

#define OTA_PART_LABEL_LEN 16

typedef struct ota_part {
    uint8_t type;
    uint8_t subtype;
    uint32_t offset; /* absolute flash address */
    uint32_t size;
    /* The 16 label bytes as stored, plus a NUL: a 16-character label fills label[0..15]. Bytes
     * after the first NUL in the stored field are not kept (they are written back as NUL). */
    char label[OTA_PART_LABEL_LEN + 1];
    uint32_t flags; /* OTA_PART_FLAG_*; unknown bits are kept */
} ota_part_t;

typedef struct ota_part_table {
    ota_part_t parts[OTA_PART_MAX_ENTRIES];
    int count;    /* real entries (the MD5 row is not one) */
    bool has_md5; /* an MD5 row was present (parse) / is wanted (encode) */
} ota_part_table_t;

/* Decodes one 32-byte entry (any magic; the caller checks it). */
void ota_part_decode(const uint8_t raw[OTA_PART_ENTRY_SIZE], ota_part_t *out);

/* Encodes one entry with magic 0x50AA into raw (32 bytes). */
void ota_part_encode(const ota_part_t *p, uint8_t raw[OTA_PART_ENTRY_SIZE]);

/*
 * The bootloader's verifier (esp_partition_table_verify, spec 1.3) over buf, which holds at least
 * OTA_PART_TABLE_MAX_LEN bytes. chip_size bounds every entry.
 * On success fills table (if non-NULL) with the real entries, sets has_md5, returns OTA_OK.
 * Failures: OTA_ERR_SIZE for an entry beyond the chip (ESP_ERR_INVALID_SIZE), OTA_ERR_CORRUPT for
 * everything else (ESP_ERR_INVALID_STATE); diag gets the reference log text. An entry whose end
 * passes 4 GiB counts as beyond the chip (ESP-IDF's 32-bit sum would wrap). Also
 * OTA_ERR_INVALID_ARG for a NULL c or buf and OTA_ERR_NO_MEM if the MD5 cannot be computed.
 * On failure table->count is 0.
 */
int ota_part_table_verify(const ota_crypto_t *c, const uint8_t *buf, uint32_t chip_size,
                          ota_part_table_t *table, ota_diag_t *diag);

/*
 * The application's loader (esp_partition, spec 1.3 "Runtime loading"): walks entries until the
 * MD5 row or a non-0x50AA magic, accumulating MD5. With require_md5, a missing MD5 row is
 * OTA_ERR_NOT_FOUND ("No MD5 found in partition table") and a mismatch OTA_ERR_CORRUPT
 * ("Partition table MD5 mismatch"). Without require_md5 the MD5 row only ends the walk.
 * table->has_md5 tells whether an MD5 row was found. Also OTA_ERR_INVALID_ARG (NULL c, buf or
 * table) and OTA_ERR_NO_MEM (MD5 cannot be computed). On failure table->count is 0.
 */
int ota_part_table_load(const ota_crypto_t *c, const uint8_t *buf, bool require_md5,
                        ota_part_table_t *table, ota_diag_t *diag);

/*
 * Reads the table sector region (OTA_PART_TABLE_MAX_LEN bytes at offset) from flash into buf
 * (caller's, at least OTA_PART_TABLE_MAX_LEN bytes). Returns OTA_OK or the flash error.
 */
int ota_part_table_read_raw(const ota_flash_t *f, uint32_t offset, uint8_t *buf);

/*
 * Encodes a table as the reference generator does: entries, then the MD5 row if table->has_md5,
 * then 0xFF up to OTA_PART_TABLE_MAX_LEN bytes (out must hold that many).
 * Returns OTA_OK, or OTA_ERR_NO_SPACE when the entries (plus MD5 row) reach 0xC00 bytes
 * ("Binary partition table length (%d) longer than max"), OTA_ERR_INVALID_ARG for a NULL table
 * or out, a count outside 0..OTA_PART_MAX_ENTRIES or a NULL c with has_md5, OTA_ERR_NO_MEM if
 * the MD5 cannot be computed. c is only used for the MD5 row (may be NULL without it).
 */
int ota_part_table_encode(const ota_crypto_t *c, const ota_part_table_t *table, uint8_t *out,
                          ota_diag_t *diag);

/*
 * First entry in table order matching type, subtype (OTA_PART_*_ANY = wildcard) and label (NULL =
 * any; otherwise exact match). Returns NULL if none.
 */
const ota_part_t *ota_part_find(const ota_part_table_t *table, int type, int subtype,
                                const char *label);

/* First entry whose label equals name, or NULL. */
const ota_part_t *ota_part_find_by_label(const ota_part_table_t *table, const char *name);

/* True for app subtypes ota_0..ota_15. */
bool ota_part_is_ota_slot(const ota_part_t *p);

/* App-side OTA count: ota_0, ota_1, ... counted consecutively, stopping at the first gap. */
int ota_part_ota_count_app(const ota_part_table_t *table);

/* Bootloader OTA count: number of entries with an app subtype in 0x10..0x1F. */
int ota_part_ota_count_boot(const ota_part_table_t *table);

/* Keyword for a type ("app", "data", "bootloader", "partition_table") or NULL if none. */
const char *ota_part_type_name(uint8_t type);

/* Keyword for a subtype of the given type ("factory", "ota_3", "nvs", ...) or NULL if none. */
const char *ota_part_subtype_name(uint8_t type, uint8_t subtype);

/*
 * The bootloader's "Usage" column text for an entry (spec 5.1), e.g. "OTA app", "WiFi data", as a
 * bootloader built without TEE support prints it. Static string; never NULL ("unknown" for NULL).
 */
const char *ota_part_usage(const ota_part_t *p);

/* The lines around the bootloader's partition table listing (spec 5.1). */
#define OTA_PART_LOG_TITLE "Partition Table:"
#define OTA_PART_LOG_HEADER "## Label            Usage          Type ST Offset   Length"
#define OTA_PART_LOG_FOOTER "End of partition table"

/*
 * Formats the bootloader's listing line for entry number index into buf (len bytes, always
 * NUL-terminated when len > 0): "%2d %-16s %-16s %02x %02x %08x %08x" with index, label, usage,
 * type, subtype, offset and size. Returns the length snprintf reports (the line may be truncated
 * when that is >= len), or OTA_ERR_INVALID_ARG for a NULL p or buf.
 */
int ota_part_format_log_line(const ota_part_t *p, int index, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* OTA_PART_H */
