/*
 * ESP-IDF's NVS storage format (nvs_flash, version 2 "multipage blob"), read and written byte
 * for byte, over an ota_flash_t: what nvs_partition_gen.py generates and a device writes, and
 * what nvs_tool.py reads.
 *
 * Layout (4 KiB pages, each):
 *   0   u32 state      0xFFFFFFFF empty, 0xFFFFFFFE active, 0xFFFFFFFC full, 0xFFFFFFF8 freeing,
 *                      0xFFFFFFF0 corrupt (bits are only cleared)
 *   4   u32 sequence number (pages are used in sequence order; the active page is the last)
 *   8   u8  version (0xFE = version 2), 19 bytes 0xFF
 *   28  u32 CRC-32 (ESP-IDF's crc32_le, seed 0xFFFFFFFF) of bytes 4..27
 *   32  entry state bitmap: 2 bits per entry (11 empty, 10 written, 00 erased), entry i in the
 *       little-endian u32 at 32 + 4 * (i / 16), bits 2 * (i % 16)
 *   64  126 entries of 32 bytes
 * Entry: u8 namespace index (0 = the namespace table), u8 type, u8 span (entries of the item),
 * u8 chunk index (0xFF, or a blob chunk's), u32 CRC-32 of bytes 0..3 and 8..31, char key[16],
 * 8 data bytes: a primitive value (little-endian, 0xFF-padded); for strings and blob chunks u16
 * size, u16 0xFFFF, u32 CRC-32 of the bytes that follow in span - 1 entries; for a blob index
 * u32 total size, u8 chunk count, u8 first chunk index (0 or 128, alternating per update).
 *
 * Writes follow ESP-IDF's order so that a power cut leaves the old or the new value: an item's
 * entries are programmed, then their bitmap state; an update writes the new item, then erases the
 * old one; a blob update writes its chunks under the other chunk-index base, then the new index,
 * then erases the old index and chunks. One page stays empty for garbage collection: when the
 * active page is full and only that page is free, the full page with the most erased entries is
 * marked freeing, its written items are copied to the reserved page, and it is erased. Mount
 * finishes what a cut interrupted: entries programmed but not marked are erased, items whose CRC
 * fails are erased, of two copies of one key the older is erased, blob chunks without an index
 * and indexes without all their chunks are erased, and a freeing page is copied again and erased.
 *
 * Portable core: no allocation; the store is a caller-owned struct.
 */
#ifndef OTA_IDFNVS_H
#define OTA_IDFNVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_IDFNVS_PAGE_SIZE 4096u
#define OTA_IDFNVS_ENTRIES 126u
#define OTA_IDFNVS_MAX_PAGES 256u /* partitions up to 1 MiB */
#define OTA_IDFNVS_KEY_MAX 15u    /* characters of a key or namespace name */
#define OTA_IDFNVS_STR_MAX 4000u  /* a string's bytes with its NUL */
#define OTA_IDFNVS_VERSION 0xFEu

/* nvs_type_t values, as stored in an entry. */
typedef enum ota_idfnvs_type {
    OTA_IDFNVS_U8 = 0x01,
    OTA_IDFNVS_I8 = 0x11,
    OTA_IDFNVS_U16 = 0x02,
    OTA_IDFNVS_I16 = 0x12,
    OTA_IDFNVS_U32 = 0x04,
    OTA_IDFNVS_I32 = 0x14,
    OTA_IDFNVS_U64 = 0x08,
    OTA_IDFNVS_I64 = 0x18,
    OTA_IDFNVS_STR = 0x21,
    OTA_IDFNVS_BLOB_V1 = 0x41, /* a version 1 blob in one page (read only) */
    OTA_IDFNVS_BLOB_DATA = 0x42,
    OTA_IDFNVS_BLOB_IDX = 0x48,
    OTA_IDFNVS_BLOB = 0x48, /* the type a caller names a blob by */
} ota_idfnvs_type_t;

typedef struct ota_idfnvs_page {
    uint32_t state;
    uint32_t seq;
    uint8_t next_free; /* first entry never written (OTA_IDFNVS_ENTRIES when full) */
    uint8_t erased;    /* erased entries */
} ota_idfnvs_page_t;

typedef struct ota_idfnvs {
    const ota_flash_t *flash;
    uint32_t offset; /* partition start in flash, a multiple of 4 KiB */
    uint32_t npages;
    ota_idfnvs_page_t page[OTA_IDFNVS_MAX_PAGES];
    uint16_t order[OTA_IDFNVS_MAX_PAGES]; /* used pages by sequence number, the active one last */
    uint32_t nused;
} ota_idfnvs_t;

/*
 * Mounts the NVS partition [offset, offset + size) of f, as nvs_flash_init does, repairing what
 * an interrupted operation left (see above). An all-erased partition mounts empty (its first
 * page is written, as ESP-IDF does). Returns
 * OTA_OK; OTA_ERR_INVALID_ARG (NULL, offset or size not page-aligned, fewer than 2 or more than
 * OTA_IDFNVS_MAX_PAGES pages); OTA_ERR_VERSION (a page of a newer format version:
 * ESP_ERR_NVS_NEW_VERSION_FOUND); OTA_ERR_STATE (no free page left: ESP_ERR_NVS_NO_FREE_PAGES);
 * a flash error.
 */
int ota_idfnvs_mount(ota_idfnvs_t *s, const ota_flash_t *f, uint32_t offset, uint32_t size);

/*
 * Reads the value of key in namespace ns. type names the value's type (OTA_IDFNVS_BLOB for a
 * blob). out receives up to cap bytes (may be NULL to ask for the length); *len (required) the
 * value's length (a string's with its NUL). Returns OTA_OK; OTA_ERR_NOT_FOUND (no such
 * namespace or key of that type); OTA_ERR_SIZE (cap too small: *len is set);
 * OTA_ERR_INVALID_ARG; OTA_ERR_CORRUPT (a blob's chunks do not add up); a flash error.
 */
int ota_idfnvs_get(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t type, void *out,
                   size_t cap, size_t *len);

/*
 * Sets key in namespace ns (created if new) to len bytes of data of the given type: 1, 2, 4 or
 * 8 bytes for the integer types, a string with its NUL (at most OTA_IDFNVS_STR_MAX bytes), any
 * blob that fits. Writing the value already stored writes nothing, as ESP-IDF. Returns OTA_OK;
 * OTA_ERR_INVALID_ARG (bad name, type or length); OTA_ERR_NO_SPACE (ESP_ERR_NVS_NOT_ENOUGH_SPACE,
 * or no namespace index left); a flash error.
 */
int ota_idfnvs_set(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t type, const void *data,
                   size_t len);

/* Creates namespace ns if it does not exist (nvs_open in read-write mode). Returns OTA_OK,
 * OTA_ERR_INVALID_ARG, OTA_ERR_NO_SPACE or a flash error. */
int ota_idfnvs_namespace(ota_idfnvs_t *s, const char *ns);

/* OTA_OK when namespace ns exists, OTA_ERR_NOT_FOUND when not (nvs_open read-only), or a flash
 * error. */
int ota_idfnvs_namespace_find(ota_idfnvs_t *s, const char *ns);

/*
 * Finds key in ns whatever its type: *type (OTA_IDFNVS_BLOB for a blob of either version) and
 * *len (a string's with its NUL, a blob's, an integer's width). Returns OTA_OK,
 * OTA_ERR_NOT_FOUND, OTA_ERR_INVALID_ARG or a flash error.
 */
int ota_idfnvs_find_key(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t *type,
                        size_t *len);

/*
 * True when [offset, offset + size) of f holds at least one page in ESP-IDF's format (an
 * active, full or freeing page whose header CRC matches).
 */
bool ota_idfnvs_detect(const ota_flash_t *f, uint32_t offset, uint32_t size);

/* Erases key (of any type) in ns. Returns OTA_OK, OTA_ERR_NOT_FOUND, or a flash error. */
int ota_idfnvs_erase_key(ota_idfnvs_t *s, const char *ns, const char *key);

/* Erases every key of ns (the namespace entry stays). Returns OTA_OK, OTA_ERR_NOT_FOUND or a
 * flash error. */
int ota_idfnvs_erase_all(ota_idfnvs_t *s, const char *ns);

/* One stored value, as ota_idfnvs_foreach reports it. */
typedef struct ota_idfnvs_value {
    const char *ns; /* namespace name */
    const char *key;
    uint8_t type; /* OTA_IDFNVS_BLOB for a (version 2) blob */
    uint64_t num; /* integer types: the value, sign-extended for signed types */
    size_t len;   /* strings and blobs: the length (a string's with its NUL) */
} ota_idfnvs_value_t;

/*
 * Calls fn for every stored key in page order (namespace entries and blob chunks are not keys).
 * Stops at the first non-zero return of fn and returns it; else OTA_OK or a flash error.
 */
int ota_idfnvs_foreach(ota_idfnvs_t *s, int (*fn)(void *ctx, const ota_idfnvs_value_t *v),
                       void *ctx);

/* Erased, written and empty entries over the whole partition (nvs_get_stats' used_entries is
 * written, free_entries empty + erased on full pages is not counted as free by ESP-IDF). */
void ota_idfnvs_stats(const ota_idfnvs_t *s, uint32_t *used, uint32_t *free_entries);

#ifdef __cplusplus
}
#endif

#endif /* OTA_IDFNVS_H */
