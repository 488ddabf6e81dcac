/* Internals shared by idfnvs.c (pages, mount, garbage collection) and idfnvs_items.c (items). */
#ifndef OTA_IDFNVS_PRIV_H
#define OTA_IDFNVS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_idfnvs.h"

#define IDFNVS_ESZ 32u
#define IDFNVS_BITMAP_OFF 32u
#define IDFNVS_ENTRY0 64u

#define IDFNVS_ST_EMPTY 0xFFFFFFFFu
#define IDFNVS_ST_ACTIVE 0xFFFFFFFEu
#define IDFNVS_ST_FULL 0xFFFFFFFCu
#define IDFNVS_ST_FREEING 0xFFFFFFF8u

#define IDFNVS_ES_EMPTY 3u
#define IDFNVS_ES_WRITTEN 2u
#define IDFNVS_ES_ERASED 0u

#define IDFNVS_CHUNK_ANY 0xFFu
#define IDFNVS_NS_TABLE 0u
#define IDFNVS_NS_LAST 254u
#define IDFNVS_VER_FLIP 0x80u

/* A decoded entry (the first of an item). */
typedef struct idfnvs_item {
    uint8_t ns;
    uint8_t type;
    uint8_t span;
    uint8_t chunk;
    uint32_t crc;
    char key[OTA_IDFNVS_KEY_MAX + 2];
    uint8_t data[8];
} idfnvs_item_t;

/* Where an item is: page and entry. */
typedef struct idfnvs_loc {
    uint32_t page;
    uint32_t entry;
} idfnvs_loc_t;

/* ESP-IDF's CRC-32 (crc32_le with seed 0xFFFFFFFF) of n bytes. */
uint32_t idfnvs_crc(const void *p, size_t n);

/* Flash address of entry `entry` of page `page`. */
uint32_t idfnvs_entry_addr(const ota_idfnvs_t *s, uint32_t page, uint32_t entry);

void idfnvs_item_decode(const uint8_t raw[IDFNVS_ESZ], idfnvs_item_t *it);

/* Encodes it (key NUL-padded to 16 bytes) and fills in the entry CRC. */
void idfnvs_item_encode(const idfnvs_item_t *it, uint8_t raw[IDFNVS_ESZ]);

/* True when raw's stored CRC matches its contents. */
bool idfnvs_item_crc_ok(const uint8_t raw[IDFNVS_ESZ]);

/* True for strings and blob chunks (their data follows in span - 1 entries). */
bool idfnvs_variable(uint8_t type);

/* The 2-bit state of an entry. Returns OTA_OK or a flash error. */
int idfnvs_get_state(const ota_idfnvs_t *s, uint32_t page, uint32_t entry, uint32_t *st);

/* Marks entries [entry, entry + span) erased (clipped to the page) and counts them. */
int idfnvs_erase_range(ota_idfnvs_t *s, uint32_t page, uint32_t entry, uint32_t span);

/*
 * Checks the written item at (page, entry): its CRC, the states of its span entries and, for
 * strings and blob chunks, the data CRC. Fills *it. Returns true when the item is whole.
 */
bool idfnvs_item_whole(const ota_idfnvs_t *s, uint32_t page, uint32_t entry, idfnvs_item_t *it);

/*
 * Writes span entries (raw, span * 32 bytes) at the active page's next free entry, then marks
 * them written; the active page is made (full page marked, new page taken, garbage collected)
 * when it lacks room. *at receives where. Returns OTA_OK, OTA_ERR_NO_SPACE or a flash error.
 */
int idfnvs_append(ota_idfnvs_t *s, const uint8_t *raw, uint32_t span, idfnvs_loc_t *at);

/* The active page's free entries (0 without an active page). */
uint32_t idfnvs_room(const ota_idfnvs_t *s);

/*
 * Finds the written item of namespace ns, type (OTA_IDFNVS_BLOB also finds a version 1 blob;
 * 0 = any type but blob chunks), key and chunk index (IDFNVS_CHUNK_ANY = any) in page order,
 * skipping `skip` (may be NULL). Returns OTA_OK with *at and *it, OTA_ERR_NOT_FOUND, or a flash
 * error.
 */
int idfnvs_find(const ota_idfnvs_t *s, uint8_t ns, uint8_t type, const char *key, uint8_t chunk,
                const idfnvs_loc_t *skip, idfnvs_loc_t *at, idfnvs_item_t *it);

/* Erases the blob chunks [start, start + count) of (ns, key). Returns OTA_OK or a flash error. */
int idfnvs_erase_chunks(ota_idfnvs_t *s, uint8_t ns, const char *key, uint8_t start,
                        uint32_t count);

/* Mount-time repairs across items: duplicates, orphan chunks, incomplete blobs. */
int idfnvs_repair_items(ota_idfnvs_t *s);

#endif /* OTA_IDFNVS_PRIV_H */
