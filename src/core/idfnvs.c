/*
 * ESP-IDF's NVS page format (ota_idfnvs.h): entries, page headers, mount-time repair of pages,
 * appending items and garbage collection. Items are in idfnvs_items.c.
 */
#include <string.h>

#include "idfnvs_priv.h"
#include "ota/ota_otadata.h"
#include "ota_le.h"

#define PS OTA_IDFNVS_PAGE_SIZE
#define NENT OTA_IDFNVS_ENTRIES

uint32_t idfnvs_crc(const void *p, size_t n)
{
    return ota_otadata_crc32(0xFFFFFFFFu, p, n);
}

static uint32_t addr(const ota_idfnvs_t *s, uint32_t page, uint32_t off)
{
    return s->offset + page * PS + off;
}

uint32_t idfnvs_entry_addr(const ota_idfnvs_t *s, uint32_t page, uint32_t entry)
{
    return addr(s, page, IDFNVS_ENTRY0 + entry * IDFNVS_ESZ);
}

static uint32_t entry_crc(const uint8_t raw[IDFNVS_ESZ])
{
    return ota_otadata_crc32(ota_otadata_crc32(0xFFFFFFFFu, raw, 4), raw + 8, 24);
}

void idfnvs_item_decode(const uint8_t raw[IDFNVS_ESZ], idfnvs_item_t *it)
{
    it->ns = raw[0];
    it->type = raw[1];
    it->span = raw[2];
    it->chunk = raw[3];
    it->crc = ota_get_le32(raw + 4);
    memcpy(it->key, raw + 8, 16);
    it->key[16] = '\0';
    memcpy(it->data, raw + 24, 8);
}

void idfnvs_item_encode(const idfnvs_item_t *it, uint8_t raw[IDFNVS_ESZ])
{
    raw[0] = it->ns;
    raw[1] = it->type;
    raw[2] = it->span;
    raw[3] = it->chunk;
    memset(raw + 8, 0, 16);
    memcpy(raw + 8, it->key, strnlen(it->key, 16));
    memcpy(raw + 24, it->data, 8);
    ota_put_le32(raw + 4, entry_crc(raw));
}

bool idfnvs_item_crc_ok(const uint8_t raw[IDFNVS_ESZ])
{
    return ota_get_le32(raw + 4) == entry_crc(raw);
}

bool idfnvs_variable(uint8_t type)
{
    return type == OTA_IDFNVS_STR || type == OTA_IDFNVS_BLOB_DATA || type == OTA_IDFNVS_BLOB_V1;
}

/* ---- entry states ----------------------------------------------------------------------- */

int idfnvs_get_state(const ota_idfnvs_t *s, uint32_t page, uint32_t entry, uint32_t *st)
{
    uint8_t w[4];
    int err = ota_flash_read(s->flash, addr(s, page, IDFNVS_BITMAP_OFF + 4 * (entry / 16)), w, 4);
    *st = (ota_get_le32(w) >> (2 * (entry % 16))) & 3u;
    return err;
}

/* Sets entries [entry, entry + n) to st (only clearing bits), one bitmap word per program. */
static int set_states(ota_idfnvs_t *s, uint32_t page, uint32_t entry, uint32_t n, uint32_t st)
{
    while (n > 0) {
        uint32_t word = entry / 16;
        uint32_t wa = addr(s, page, IDFNVS_BITMAP_OFF + 4 * word);
        uint8_t w[4];
        int err = ota_flash_read(s->flash, wa, w, 4);
        uint32_t v = ota_get_le32(w);
        for (; n > 0 && entry / 16 == word; n--, entry++) {
            uint32_t sh = 2 * (entry % 16);
            v = (v & ~(3u << sh)) | (st << sh);
        }
        ota_put_le32(w, v);
        if (err == OTA_OK) {
            err = ota_flash_program(s->flash, wa, w, 4);
        }
        if (err != OTA_OK) {
            return err;
        }
    }
    return OTA_OK;
}

int idfnvs_erase_range(ota_idfnvs_t *s, uint32_t page, uint32_t entry, uint32_t span)
{
    if (span == 0 || entry + span > NENT) {
        span = NENT - entry;
    }
    s->page[page].erased = (uint8_t)(s->page[page].erased + span);
    return set_states(s, page, entry, span, IDFNVS_ES_ERASED);
}

bool idfnvs_item_whole(const ota_idfnvs_t *s, uint32_t page, uint32_t entry, idfnvs_item_t *it)
{
    uint8_t raw[IDFNVS_ESZ];
    if (ota_flash_read(s->flash, idfnvs_entry_addr(s, page, entry), raw, IDFNVS_ESZ) != OTA_OK) {
        return false;
    }
    idfnvs_item_decode(raw, it);
    if (!idfnvs_item_crc_ok(raw) || it->span == 0 || entry + it->span > NENT ||
        (!idfnvs_variable(it->type) && it->span != 1)) {
        return false;
    }
    for (uint32_t i = 1; i < it->span; i++) {
        uint32_t st;
        if (idfnvs_get_state(s, page, entry + i, &st) != OTA_OK || st != IDFNVS_ES_WRITTEN) {
            return false;
        }
    }
    if (!idfnvs_variable(it->type)) {
        return true;
    }
    uint32_t size = ota_get_le16(it->data);
    if (size > (uint32_t)(it->span - 1) * IDFNVS_ESZ) {
        return false;
    }
    uint8_t buf[256];
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t off = 0; off < size; off += sizeof(buf)) {
        uint32_t n = size - off < sizeof(buf) ? size - off : (uint32_t)sizeof(buf);
        if (ota_flash_read(s->flash, idfnvs_entry_addr(s, page, entry + 1) + off, buf, n) !=
            OTA_OK) {
            return false;
        }
        crc = ota_otadata_crc32(crc, buf, n);
    }
    return crc == ota_get_le32(it->data + 4);
}

/* ---- page headers --------------------------------------------------------------------------- */

static int set_page_state(ota_idfnvs_t *s, uint32_t page, uint32_t st)
{
    uint8_t w[4];
    ota_put_le32(w, st);
    s->page[page].state = st;
    return ota_flash_program(s->flash, addr(s, page, 0), w, 4);
}

/* Writes an active page header with the next sequence number on an erased page. */
static int init_page(ota_idfnvs_t *s, uint32_t page)
{
    uint8_t h[32];
    uint32_t seq = s->nused > 0 ? s->page[s->order[s->nused - 1]].seq + 1 : 0;
    memset(h, 0xFF, sizeof(h));
    ota_put_le32(h, IDFNVS_ST_ACTIVE);
    ota_put_le32(h + 4, seq);
    h[8] = OTA_IDFNVS_VERSION;
    ota_put_le32(h + 28, idfnvs_crc(h + 4, 24));
    ota_idfnvs_page_t *pg = &s->page[page];
    pg->state = IDFNVS_ST_ACTIVE;
    pg->seq = seq;
    pg->next_free = 0;
    pg->erased = 0;
    s->order[s->nused++] = (uint16_t)page;
    return ota_flash_program(s->flash, addr(s, page, 0), h, sizeof(h));
}

static int erase_page(ota_idfnvs_t *s, uint32_t page)
{
    for (uint32_t i = 0; i < s->nused; i++) {
        if (s->order[i] == page) {
            memmove(&s->order[i], &s->order[i + 1], (s->nused - i - 1) * sizeof(s->order[0]));
            s->nused--;
            break;
        }
    }
    s->page[page].state = IDFNVS_ST_EMPTY;
    s->page[page].next_free = 0;
    s->page[page].erased = 0;
    return ota_flash_erase_range(s->flash, addr(s, page, 0), PS);
}

static int first_free_page(const ota_idfnvs_t *s)
{
    for (uint32_t p = 0; p < s->npages; p++) {
        if (s->page[p].state == IDFNVS_ST_EMPTY) {
            return (int)p;
        }
    }
    return -1;
}

static int active_page(const ota_idfnvs_t *s)
{
    if (s->nused == 0) {
        return -1;
    }
    uint32_t p = s->order[s->nused - 1];
    return s->page[p].state == IDFNVS_ST_ACTIVE ? (int)p : -1;
}

uint32_t idfnvs_room(const ota_idfnvs_t *s)
{
    int p = active_page(s);
    return p < 0 ? 0 : NENT - s->page[p].next_free;
}

/* ---- writing items, garbage collection --------------------------------------------------- */

/* Programs span raw entries at the next free entry of page, then marks them written. */
static int put_entries(ota_idfnvs_t *s, uint32_t page, const uint8_t *raw, uint32_t span,
                       idfnvs_loc_t *at)
{
    ota_idfnvs_page_t *pg = &s->page[page];
    uint32_t e = pg->next_free;
    pg->next_free = (uint8_t)(e + span);
    int err = ota_flash_program(s->flash, idfnvs_entry_addr(s, page, e), raw, span * IDFNVS_ESZ);
    if (err == OTA_OK) {
        err = set_states(s, page, e, span, IDFNVS_ES_WRITTEN);
    }
    if (at != NULL) {
        at->page = page;
        at->entry = e;
    }
    return err;
}

/* Copies every whole written item of page `from` to the active page. */
static int copy_items(ota_idfnvs_t *s, uint32_t from)
{
    int to = active_page(s);
    for (uint32_t e = 0; e < NENT;) {
        uint32_t st;
        idfnvs_item_t it;
        int err = idfnvs_get_state(s, from, e, &st);
        if (err != OTA_OK) {
            return err;
        }
        if (st != IDFNVS_ES_WRITTEN || !idfnvs_item_whole(s, from, e, &it)) {
            e++;
            continue;
        }
        uint8_t raw[IDFNVS_ESZ * 8];
        for (uint32_t done = 0; done < it.span;) {
            uint32_t n = it.span - done < 8 ? it.span - done : 8;
            err =
                ota_flash_read(s->flash, idfnvs_entry_addr(s, from, e + done), raw, n * IDFNVS_ESZ);
            if (err == OTA_OK) {
                uint32_t ne = s->page[to].next_free;
                err = ota_flash_program(s->flash, idfnvs_entry_addr(s, (uint32_t)to, ne), raw,
                                        n * IDFNVS_ESZ);
                s->page[to].next_free = (uint8_t)(ne + n);
            }
            if (err != OTA_OK) {
                return err;
            }
            done += n;
        }
        err = set_states(s, (uint32_t)to, s->page[to].next_free - it.span, it.span,
                         IDFNVS_ES_WRITTEN);
        if (err != OTA_OK) {
            return err;
        }
        e += it.span;
    }
    return OTA_OK;
}

/* Garbage collection: the full page with the most erased entries is copied to the reserved
 * free page and erased. */
static int collect(ota_idfnvs_t *s)
{
    int victim = -1;
    for (uint32_t i = 0; i < s->nused; i++) {
        uint32_t p = s->order[i];
        if (s->page[p].state == IDFNVS_ST_FULL && s->page[p].erased > 0 &&
            (victim < 0 || s->page[p].erased > s->page[victim].erased)) {
            victim = (int)p;
        }
    }
    int free_page = first_free_page(s);
    if (victim < 0 || free_page < 0) {
        return OTA_ERR_NO_SPACE;
    }
    int err = set_page_state(s, (uint32_t)victim, IDFNVS_ST_FREEING);
    if (err == OTA_OK) {
        err = init_page(s, (uint32_t)free_page);
    }
    if (err == OTA_OK) {
        err = copy_items(s, (uint32_t)victim);
    }
    return err == OTA_OK ? erase_page(s, (uint32_t)victim) : err;
}

/* Makes a new active page: a free one while more than the reserved one is left, else by
 * garbage collection. */
static int new_page(ota_idfnvs_t *s)
{
    int cur = active_page(s);
    if (cur >= 0) {
        int err = set_page_state(s, (uint32_t)cur, IDFNVS_ST_FULL);
        if (err != OTA_OK) {
            return err;
        }
    }
    if (s->npages - s->nused > 1) {
        return init_page(s, (uint32_t)first_free_page(s));
    }
    return collect(s);
}

int idfnvs_append(ota_idfnvs_t *s, const uint8_t *raw, uint32_t span, idfnvs_loc_t *at)
{
    if (span == 0 || span > NENT) {
        return OTA_ERR_NO_SPACE;
    }
    for (int tries = 0; idfnvs_room(s) < span; tries++) {
        if (tries >= 2 && s->nused == s->npages - 1) {
            return OTA_ERR_NO_SPACE;
        }
        if (tries > (int)s->npages + 1) {
            return OTA_ERR_NO_SPACE;
        }
        int err = new_page(s);
        if (err != OTA_OK) {
            return err;
        }
    }
    return put_entries(s, (uint32_t)active_page(s), raw, span, at);
}

/* ---- mount ---------------------------------------------------------------------------------- */

/* Scans a used page's entries: next free entry, erased count; marks erased what was programmed
 * but not marked, and written items that are not whole. */
static int scan_page(ota_idfnvs_t *s, uint32_t page)
{
    ota_idfnvs_page_t *pg = &s->page[page];
    pg->next_free = 0;
    pg->erased = 0;
    for (uint32_t e = 0; e < NENT; e++) {
        uint32_t st;
        idfnvs_item_t it;
        int err = idfnvs_get_state(s, page, e, &st);
        if (err == OTA_OK && st == IDFNVS_ES_EMPTY) {
            int r = ota_flash_is_erased(s->flash, idfnvs_entry_addr(s, page, e), IDFNVS_ESZ);
            if (r == 1) {
                continue;
            }
            err = r == 0 ? idfnvs_erase_range(s, page, e, 1) : r;
        } else if (err == OTA_OK && st == IDFNVS_ES_WRITTEN) {
            if (idfnvs_item_whole(s, page, e, &it)) {
                e += it.span - 1u;
            } else {
                err = idfnvs_erase_range(s, page, e, 1);
            }
        } else if (err == OTA_OK) {
            pg->erased++;
        }
        if (err != OTA_OK) {
            return err;
        }
        pg->next_free = (uint8_t)(e + 1);
    }
    return OTA_OK;
}

/* Reads page p's header: a used page joins the order, a broken one is erased. */
static int load_page(ota_idfnvs_t *s, uint32_t p)
{
    uint8_t h[32];
    int err = ota_flash_read(s->flash, addr(s, p, 0), h, sizeof(h));
    if (err != OTA_OK) {
        return err;
    }
    uint32_t st = ota_get_le32(h);
    s->page[p].state = IDFNVS_ST_EMPTY;
    if (st == IDFNVS_ST_EMPTY) {
        int r = ota_flash_is_erased(s->flash, addr(s, p, 0), PS);
        return r == 1 ? OTA_OK : r == 0 ? erase_page(s, p) : r;
    }
    bool used = st == IDFNVS_ST_ACTIVE || st == IDFNVS_ST_FULL || st == IDFNVS_ST_FREEING;
    if (!used || ota_get_le32(h + 28) != idfnvs_crc(h + 4, 24)) {
        return erase_page(s, p);
    }
    if (h[8] != OTA_IDFNVS_VERSION && h[8] != 0xFF) {
        return OTA_ERR_VERSION;
    }
    s->page[p].state = st;
    s->page[p].seq = ota_get_le32(h + 4);
    s->order[s->nused++] = (uint16_t)p;
    return scan_page(s, p);
}

static void sort_order(ota_idfnvs_t *s)
{
    for (uint32_t i = 1; i < s->nused; i++) {
        uint16_t v = s->order[i];
        uint32_t j = i;
        for (; j > 0 && s->page[s->order[j - 1]].seq > s->page[v].seq; j--) {
            s->order[j] = s->order[j - 1];
        }
        s->order[j] = v;
    }
}

/* An interrupted garbage collection: an active page after the freeing one is the copy's
 * destination and only holds copies, so it is erased and the copy done again. A full last page
 * holds live items (the cut came before the destination was started): it stays, as in ESP-IDF. */
static int finish_freeing(ota_idfnvs_t *s)
{
    for (uint32_t i = 0; i < s->nused; i++) {
        uint32_t p = s->order[i];
        if (s->page[p].state != IDFNVS_ST_FREEING) {
            continue;
        }
        int err = OTA_OK;
        uint32_t last = s->order[s->nused - 1];
        if (i + 1 < s->nused && s->page[last].state == IDFNVS_ST_ACTIVE) {
            err = erase_page(s, last);
        }
        int fp = first_free_page(s);
        if (err == OTA_OK && fp >= 0) {
            err = init_page(s, (uint32_t)fp);
        }
        if (err == OTA_OK) {
            err = copy_items(s, p);
        }
        return err == OTA_OK ? erase_page(s, p) : err;
    }
    return OTA_OK;
}

int ota_idfnvs_mount(ota_idfnvs_t *s, const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    if (s == NULL || f == NULL || offset % PS != 0 || size % PS != 0 || size / PS < 2 ||
        size / PS > OTA_IDFNVS_MAX_PAGES) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(s, 0, sizeof(*s));
    s->flash = f;
    s->offset = offset;
    s->npages = size / PS;
    for (uint32_t p = 0; p < s->npages; p++) {
        int err = load_page(s, p);
        if (err != OTA_OK) {
            return err;
        }
    }
    sort_order(s);
    int err = finish_freeing(s);
    if (err == OTA_OK) {
        err = idfnvs_repair_items(s);
    }
    if (err == OTA_OK && s->nused == s->npages) {
        err = OTA_ERR_STATE;
    }
    if (err == OTA_OK && s->nused == 0) { /* a blank partition gets its first page, as ESP-IDF */
        err = init_page(s, (uint32_t)first_free_page(s));
    }
    return err;
}

bool ota_idfnvs_detect(const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    for (uint32_t p = 0; f != NULL && p < size / PS; p++) {
        uint8_t h[32];
        if (ota_flash_read(f, offset + p * PS, h, sizeof(h)) != OTA_OK) {
            return false;
        }
        uint32_t st = ota_get_le32(h);
        if ((st == IDFNVS_ST_ACTIVE || st == IDFNVS_ST_FULL || st == IDFNVS_ST_FREEING) &&
            ota_get_le32(h + 28) == idfnvs_crc(h + 4, 24)) {
            return true;
        }
    }
    return false;
}

void ota_idfnvs_stats(const ota_idfnvs_t *s, uint32_t *used, uint32_t *free_entries)
{
    uint32_t u = 0;
    uint32_t fr = 0;
    for (uint32_t p = 0; p < s->npages; p++) {
        const ota_idfnvs_page_t *pg = &s->page[p];
        if (pg->state == IDFNVS_ST_EMPTY) {
            fr += NENT;
        } else {
            u += pg->next_free - pg->erased;
            fr += NENT - pg->next_free;
        }
    }
    *used = u;
    *free_entries = fr;
}
