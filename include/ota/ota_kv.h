/*
 * Power-safe key-value store on a flash region (the engine under the ESP-IDF nvs API).
 *
 * The region is a ring of whole erase sectors holding one log: each record is appended and
 * later records supersede earlier ones for the same (namespace, key); erasing a key or a whole
 * namespace appends a tombstone. When the active sector is full the next (erased) sector is
 * opened and the oldest sector is compacted into it: its live records are copied, the new sector
 * is marked complete, and only then is the old sector erased. One sector is always kept erased.
 *
 * Power safety: every record carries a CRC-32 over its header, names and value, so a record cut
 * short by a power loss is ignored and the previous value stays in effect. After a power cut at
 * any flash operation (clean or torn) ota_kv_mount gives, for every key, either its value before
 * or its value after the interrupted call, and finishes an interrupted compaction.
 *
 * The on-flash format is otakit's own, not ESP-IDF's NVS page format.
 *
 * On-flash format (version 1, all integers little-endian):
 *   Sector header, 32 bytes at the start of every sector in use:
 *      0 u32 magic 0x564B544F ("OTKV")
 *      4 u8  format version (OTA_KV_FORMAT_VERSION)
 *      5 u8[3] reserved, 0
 *      8 u32 sequence number: 1 for the first sector, +1 for every sector opened after it
 *     12 u32 kill word 0xFFFFFFFF (left erased; programmed to 0 to retire the sector before
 *            erasing it, which makes the CRC fail)
 *     16 u8[8] reserved, 0
 *     24 u32 CRC-32 of bytes 0..23
 *     28 u32 compaction mark, outside the CRC: 0 when complete; 0xFFFFFFFF (left erased) while
 *            the live records of the oldest sector are being copied into this one; any other
 *            value is a torn mark (the compaction is redone)
 *   Records follow at offset 32, each starting on a 4-byte boundary:
 *      0 u8  type: a value type (ota_kv_type_t), 0xE0 namespace, 0xE1 erase key,
 *            0xE2 erase namespace
 *      1 u8  namespace length (1..15)
 *      2 u8  key length (1..15; 0 for namespace and erase-namespace records)
 *      3 u8  reserved, 0
 *      4 u16 value length (0 for namespace and tombstone records)
 *      6 u16 reserved, 0
 *      8 u32 CRC-32 of bytes 0..7 and of the namespace, key and value bytes that follow
 *     12 namespace bytes, key bytes (no NUL), value bytes (integers little-endian, strings
 *        with their NUL); then erased padding to the next multiple of 4
 *   Free space is erased (0xFF). The CRC is the standard CRC-32 (reflected 0xEDB88320,
 *   initial value and final XOR 0xFFFFFFFF).
 *
 * Not thread-safe: callers serialise access to one ota_kv_t (the ESP-IDF layer holds a mutex).
 * After any flash error the store must be mounted again (calls return OTA_ERR_STATE until then).
 */
#ifndef OTA_KV_H
#define OTA_KV_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_KV_FORMAT_VERSION 1u
#define OTA_KV_MAGIC 0x564B544Fu      /* "OTKV" */
#define OTA_KV_NAME_MAX 15u           /* longest namespace or key name, in characters */
#define OTA_KV_VALUE_MAX 4000u        /* longest string (including its NUL) or blob, in bytes */
#define OTA_KV_MIN_SECTORS 2u         /* smallest region, in sectors */
#define OTA_KV_MAX_SECTORS 128u       /* largest region, in sectors */
#define OTA_KV_MIN_SECTOR_SIZE 4096u  /* a sector must hold the largest record */
#define OTA_KV_SECTOR_HEADER_SIZE 32u /* bytes at the start of each sector */
#define OTA_KV_RECORD_HEADER_SIZE 12u /* bytes before a record's names */

/* Value types; the numbers are ESP-IDF's nvs_type_t values and the on-flash type byte. */
typedef enum {
    OTA_KV_TYPE_U8 = 0x01,
    OTA_KV_TYPE_I8 = 0x11,
    OTA_KV_TYPE_U16 = 0x02,
    OTA_KV_TYPE_I16 = 0x12,
    OTA_KV_TYPE_U32 = 0x04,
    OTA_KV_TYPE_I32 = 0x14,
    OTA_KV_TYPE_U64 = 0x08,
    OTA_KV_TYPE_I64 = 0x18,
    OTA_KV_TYPE_STR = 0x21,  /* NUL-terminated string; length includes the NUL */
    OTA_KV_TYPE_BLOB = 0x42, /* bytes */
} ota_kv_type_t;

/*
 * A mounted store. Caller-owned; fill it with ota_kv_mount or ota_kv_format and treat the fields
 * as private. It refers to the flash device, which must outlive it.
 */
typedef struct ota_kv {
    const ota_flash_t *flash;
    uint32_t offset;      /* region start on the device */
    uint32_t sector_size; /* the device's erase sector */
    uint32_t sectors;     /* sectors in the region */
    bool mounted;         /* false before mount and after a flash error */
    bool empty;           /* no sector in use yet (the first write opens sector 0) */
    uint32_t first;       /* oldest sector of the log */
    uint32_t count;       /* sectors in the log, from first to active in ring order */
    uint32_t active;      /* sector receiving records */
    uint32_t seq;         /* sequence number of the active sector */
    uint32_t write_pos;   /* offset of the next record in the active sector */
    uint32_t rec_end[OTA_KV_MAX_SECTORS]; /* end of the valid records of each log sector */
} ota_kv_t;

/* Usage figures from ota_kv_stats. */
typedef struct ota_kv_stats {
    uint32_t sectors;      /* sectors in the region */
    uint32_t sector_size;  /* bytes per sector */
    uint32_t used_bytes;   /* sector headers and records, live or superseded, in sectors in use */
    uint32_t live_bytes;   /* bytes of the records that are still in effect */
    uint32_t free_bytes;   /* capacity left for records: (sectors - 1) * (sector_size - 32)
                              minus live_bytes */
    uint32_t live_entries; /* keys that hold a value */
    uint32_t namespaces;   /* namespaces created with ota_kv_ns_open */
    uint32_t generation;   /* sequence number of the active sector, 0 for an empty store */
} ota_kv_stats_t;

/*
 * Mounts the store in [offset, offset+size) of flash into *kv. A fully erased region mounts as an
 * empty store. An interrupted compaction or sector switch is completed here, which may program
 * and erase sectors of the region.
 * Returns OTA_OK;
 *   OTA_ERR_INVALID_ARG (NULL kv or flash),
 *   OTA_ERR_ALIGN (offset or size not a multiple of the sector size),
 *   OTA_ERR_BOUNDS (region outside the device),
 *   OTA_ERR_SIZE (fewer than OTA_KV_MIN_SECTORS or more than OTA_KV_MAX_SECTORS sectors, or a
 *     sector smaller than OTA_KV_MIN_SECTOR_SIZE),
 *   OTA_ERR_CORRUPT (the region holds something that is not a store of this format: random
 *     data, or sectors that do not form a consistent log),
 *   OTA_ERR_VERSION (a store sector of another format version),
 *   or a flash error. On failure kv is left unmounted.
 */
int ota_kv_mount(ota_kv_t *kv, const ota_flash_t *flash, uint32_t offset, uint32_t size,
                 ota_diag_t *diag);

/*
 * Erases the whole region and leaves *kv mounted on the resulting empty store.
 * Returns OTA_OK, the geometry errors of ota_kv_mount, or a flash error (kv is then unmounted and
 * the region partly erased).
 */
int ota_kv_format(ota_kv_t *kv, const ota_flash_t *flash, uint32_t offset, uint32_t size,
                  ota_diag_t *diag);

/*
 * Sets ns/key to a value of the given type; the previous value (of any type) is replaced. data
 * points to len bytes: for integer types an object of that C type (uint8_t ... int64_t) and len
 * its size; for OTA_KV_TYPE_STR the string including its NUL (len = strlen + 1); for blobs any
 * bytes (len may be 0, data then may be NULL). data stays the caller's. When the stored value is
 * already identical nothing is written. The value is durable when the call returns OTA_OK.
 * Returns OTA_OK;
 *   OTA_ERR_INVALID_ARG (NULL or empty names, unknown type, data NULL with len > 0, wrong len for
 *     an integer type, a string without its NUL at data[len-1]),
 *   OTA_ERR_SIZE (a name longer than OTA_KV_NAME_MAX, or a value longer than OTA_KV_VALUE_MAX),
 *   OTA_ERR_NO_SPACE (the live data and the new value do not fit in the region),
 *   OTA_ERR_STATE (not mounted), or a flash error.
 */
int ota_kv_set(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t type, const void *data,
               uint32_t len, ota_diag_t *diag);

/*
 * Reads the value of ns/key, which must have the given type, into buf (caller's, cap bytes).
 * For integer types buf receives an object of that C type. *len (may be NULL) receives the
 * value's size in bytes (for strings including the NUL), also when buf is NULL (a size query:
 * nothing is copied and the call returns OTA_OK) and when cap is too small.
 * Returns OTA_OK;
 *   OTA_ERR_NOT_FOUND (no such key in the namespace),
 *   OTA_ERR_UNSUPPORTED (the key holds a value of another type),
 *   OTA_ERR_SIZE (cap smaller than the value; a name longer than OTA_KV_NAME_MAX),
 *   OTA_ERR_INVALID_ARG (NULL or empty names),
 *   OTA_ERR_CORRUPT (the record no longer matches its CRC),
 *   OTA_ERR_STATE (not mounted), or a flash error.
 */
int ota_kv_get(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t type, void *buf,
               uint32_t cap, uint32_t *len, ota_diag_t *diag);

/*
 * Looks ns/key up whatever its type: *type and *len (each may be NULL) receive its type and size.
 * Returns OTA_OK, OTA_ERR_NOT_FOUND, OTA_ERR_INVALID_ARG, OTA_ERR_SIZE (name too long),
 * OTA_ERR_STATE, or a flash error.
 */
int ota_kv_find(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t *type, uint32_t *len);

/*
 * Removes ns/key (appends a tombstone).
 * Returns OTA_OK, OTA_ERR_NOT_FOUND (the key holds no value), OTA_ERR_INVALID_ARG, OTA_ERR_SIZE
 * (name too long), OTA_ERR_NO_SPACE, OTA_ERR_STATE, or a flash error.
 */
int ota_kv_erase_key(ota_kv_t *kv, const char *ns, const char *key, ota_diag_t *diag);

/*
 * Removes every key of namespace ns at once (one tombstone; nothing is written when the
 * namespace holds no key). The namespace itself stays known to ota_kv_ns_open.
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_SIZE (name too long), OTA_ERR_NO_SPACE,
 * OTA_ERR_STATE, or a flash error.
 */
int ota_kv_erase_ns(ota_kv_t *kv, const char *ns, ota_diag_t *diag);

/*
 * Checks that namespace ns exists; when it does not and create is true, records it. Namespaces
 * are independent of keys: setting a key does not create its namespace.
 * Returns OTA_OK, OTA_ERR_NOT_FOUND (absent and create false), OTA_ERR_INVALID_ARG, OTA_ERR_SIZE
 * (name too long), OTA_ERR_NO_SPACE, OTA_ERR_STATE, or a flash error.
 */
int ota_kv_ns_open(ota_kv_t *kv, const char *ns, bool create, ota_diag_t *diag);

/*
 * Fills *st with usage figures (scans the whole log).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_STATE, or a flash error.
 */
int ota_kv_stats(ota_kv_t *kv, ota_kv_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* OTA_KV_H */
