/*
 * Power-safe key-value store: a ring of flash sectors holding one log of CRC-checked records
 * (format and guarantees in ota_kv.h).
 *
 * Invariants between calls, once mounted and not empty:
 *   - the log is the sectors first, first+1, ..., active (ring order, `count` of them) with
 *     sequence numbers seq-count+1 ... seq; every other sector is erased;
 *   - the sector after active is erased (so the next sector switch has somewhere to go);
 *   - rec_end[s] is the end of the CRC-valid records of log sector s; in the active sector,
 *     everything from write_pos to the end is erased (write_pos is the sector size when not).
 *
 * Switching to the next sector when the ring is full compacts the oldest sector into the new one:
 *   1. program the new sector's header (sequence + 1), compaction mark pending;
 *   2. copy the oldest sector's live records (values and namespaces no later record supersedes);
 *   3. program the compaction mark;
 *   4. erase the oldest sector.
 * A cut in 1 leaves a torn header in the sector after the active one: mount erases it. A cut in 2
 * leaves the oldest sector intact and the mark pending (all-ones): mount resumes the copy (records
 * already copied are superseded by their copies, so they are not copied again). When the copy
 * left a torn record (no more appends possible there) or the mark itself is torn (neither
 * all-ones nor zero), mount drops the new sector - programs its kill word, which makes the header
 * fail its CRC, then erases it - and starts the switch over. A cut in 4 leaves the mark at zero:
 * mount erases the old sector again.
 *
 * No byte is ever programmed twice: records go to erased space, and the kill word and the mark are
 * left erased when the header is written, so the store also runs on flash that refuses to program
 * non-erased bytes.
 */
#include "ota/ota_kv.h"
#include "ota_le.h"

#include <stddef.h>
#include <string.h>

#define SECTOR_HDR OTA_KV_SECTOR_HEADER_SIZE
#define REC_HDR OTA_KV_RECORD_HEADER_SIZE
#define HDR_KILL_OFFSET 12u
#define HDR_CRC_OFFSET 24u
#define HDR_MARK_OFFSET 28u
#define MARK_PENDING 0xFFFFFFFFu
#define MARK_DONE 0u
#define CHUNK 256u

/* Record types besides the value types. */
enum { REC_NAMESPACE = 0xE0, REC_ERASE_KEY = 0xE1, REC_ERASE_NS = 0xE2 };

#define ALIGN4(x) (((x) + 3u) & ~3u)

_Static_assert(SECTOR_HDR == 32u, "sector header is 32 bytes");
_Static_assert(REC_HDR == 12u, "record header is 12 bytes");
_Static_assert(HDR_MARK_OFFSET + 4u == SECTOR_HDR, "compaction mark ends the sector header");
_Static_assert(SECTOR_HDR + ALIGN4(REC_HDR + 2u * OTA_KV_NAME_MAX + OTA_KV_VALUE_MAX) <=
                   OTA_KV_MIN_SECTOR_SIZE,
               "the largest record fits in a sector");

/* A record header as read from flash, with its names and position. */
typedef struct {
    uint8_t type;
    uint8_t ns_len;
    uint8_t key_len;
    uint16_t len; /* value bytes */
    uint32_t crc;
    char ns[OTA_KV_NAME_MAX + 1];
    char key[OTA_KV_NAME_MAX + 1];
    uint32_t sector;
    uint32_t off;  /* offset inside the sector */
    uint32_t size; /* bytes taken, padding included */
} kv_rec_t;

/* Position in the log: index of the sector in the log (0 = first) and offset inside it. */
typedef struct {
    uint32_t i;
    uint32_t off;
} kv_it_t;

/* ---- CRC-32 (reflected 0xEDB88320), four bits at a time ---- */

static uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    const uint8_t *p = data;
    while (len-- > 0) {
        crc ^= *p++;
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return crc;
}

/* ---- types and names ---- */

static bool is_value_type(uint8_t t)
{
    switch (t) {
    case OTA_KV_TYPE_U8:
    case OTA_KV_TYPE_I8:
    case OTA_KV_TYPE_U16:
    case OTA_KV_TYPE_I16:
    case OTA_KV_TYPE_U32:
    case OTA_KV_TYPE_I32:
    case OTA_KV_TYPE_U64:
    case OTA_KV_TYPE_I64:
    case OTA_KV_TYPE_STR:
    case OTA_KV_TYPE_BLOB:
        return true;
    default:
        return false;
    }
}

/* Size of an integer type, 0 for strings, blobs and anything else. */
static uint32_t int_size(uint8_t t)
{
    switch (t) {
    case OTA_KV_TYPE_U8:
    case OTA_KV_TYPE_I8:
        return 1;
    case OTA_KV_TYPE_U16:
    case OTA_KV_TYPE_I16:
        return 2;
    case OTA_KV_TYPE_U32:
    case OTA_KV_TYPE_I32:
        return 4;
    case OTA_KV_TYPE_U64:
    case OTA_KV_TYPE_I64:
        return 8;
    default:
        return 0;
    }
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case OTA_KV_TYPE_U8:
        return "u8";
    case OTA_KV_TYPE_I8:
        return "i8";
    case OTA_KV_TYPE_U16:
        return "u16";
    case OTA_KV_TYPE_I16:
        return "i16";
    case OTA_KV_TYPE_U32:
        return "u32";
    case OTA_KV_TYPE_I32:
        return "i32";
    case OTA_KV_TYPE_U64:
        return "u64";
    case OTA_KV_TYPE_I64:
        return "i64";
    case OTA_KV_TYPE_STR:
        return "string";
    case OTA_KV_TYPE_BLOB:
        return "blob";
    default:
        return "?";
    }
}

/* Length of a namespace or key name into *out; rejects NULL, empty and over-long names. */
static int name_len(const char *s, const char *what, uint8_t *out, ota_diag_t *diag)
{
    if (s == NULL || s[0] == '\0') {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s name is empty", what);
    }
    uint32_t n = 0;
    while (s[n] != '\0' && n <= OTA_KV_NAME_MAX) {
        n++;
    }
    if (n > OTA_KV_NAME_MAX) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "%s name \"%.20s...\" is longer than %u characters",
                            what, s, OTA_KV_NAME_MAX);
    }
    *out = (uint8_t)n;
    return OTA_OK;
}

/* Fills a query record with ns and, when with_key, key (then required). */
static int make_query(kv_rec_t *q, const char *ns, const char *key, bool with_key, ota_diag_t *diag)
{
    memset(q, 0, sizeof(*q));
    int err = name_len(ns, "namespace", &q->ns_len, diag);
    if (err == OTA_OK && with_key) {
        err = name_len(key, "key", &q->key_len, diag);
    }
    if (err != OTA_OK) {
        return err;
    }
    memcpy(q->ns, ns, q->ns_len);
    if (with_key) {
        memcpy(q->key, key, q->key_len);
    }
    return OTA_OK;
}

static bool same_ns(const kv_rec_t *a, const kv_rec_t *b)
{
    return a->ns_len == b->ns_len && memcmp(a->ns, b->ns, a->ns_len) == 0;
}

static bool same_key(const kv_rec_t *a, const kv_rec_t *b)
{
    return same_ns(a, b) && a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* True if record `later`, found after r in the log, takes r out of effect. */
static bool supersedes(const kv_rec_t *later, const kv_rec_t *r)
{
    if (r->type == REC_NAMESPACE || r->type == REC_ERASE_NS) {
        return later->type == r->type && same_ns(later, r);
    }
    if (later->type == REC_ERASE_NS) {
        return same_ns(later, r);
    }
    if (is_value_type(later->type) || later->type == REC_ERASE_KEY) {
        return same_key(later, r);
    }
    return false;
}

static uint32_t rec_size(uint32_t ns_len, uint32_t key_len, uint32_t len)
{
    return ALIGN4(REC_HDR + ns_len + key_len + len);
}

/* ---- flash access; any failure leaves the store unmounted ---- */

static uint32_t sector_addr(const ota_kv_t *kv, uint32_t s)
{
    return kv->offset + s * kv->sector_size;
}

static int kv_read(ota_kv_t *kv, uint32_t addr, void *dst, uint32_t len)
{
    int err = ota_flash_read(kv->flash, addr, dst, len);
    if (err != OTA_OK) {
        kv->mounted = false;
    }
    return err;
}

static int kv_program(ota_kv_t *kv, uint32_t addr, const void *src, uint32_t len)
{
    int err = ota_flash_program(kv->flash, addr, src, len);
    if (err != OTA_OK) {
        kv->mounted = false;
    }
    return err;
}

static int kv_erase(ota_kv_t *kv, uint32_t s)
{
    int err = ota_flash_erase_range(kv->flash, sector_addr(kv, s), kv->sector_size);
    if (err != OTA_OK) {
        kv->mounted = false;
    }
    return err;
}

/* 1 if [addr, addr+len) is erased, 0 if not, or a flash error. */
static int kv_is_erased(ota_kv_t *kv, uint32_t addr, uint32_t len)
{
    int rc = ota_flash_is_erased(kv->flash, addr, len);
    if (rc < 0) {
        kv->mounted = false;
    }
    return rc;
}

/* ---- records ---- */

/*
 * Decodes the record header at sector s, offset off (names included, CRC not checked).
 * Returns 1 for a well-formed header, 0 for anything else (erased space, torn or foreign
 * bytes), or a flash error.
 */
static int read_rec(ota_kv_t *kv, uint32_t s, uint32_t off, kv_rec_t *r)
{
    uint8_t b[REC_HDR + 2 * OTA_KV_NAME_MAX];
    uint32_t avail = kv->sector_size - off;
    if (off >= kv->sector_size || avail < REC_HDR) {
        return 0;
    }
    uint32_t n = avail < sizeof(b) ? avail : (uint32_t)sizeof(b);
    int err = kv_read(kv, sector_addr(kv, s) + off, b, n);
    if (err != OTA_OK) {
        return err;
    }
    r->type = b[0];
    r->ns_len = b[1];
    r->key_len = b[2];
    r->len = ota_get_le16(b + 4);
    r->crc = ota_get_le32(b + 8);
    r->sector = s;
    r->off = off;
    if (b[3] != 0 || ota_get_le16(b + 6) != 0 || r->ns_len == 0 || r->ns_len > OTA_KV_NAME_MAX ||
        r->key_len > OTA_KV_NAME_MAX) {
        return 0;
    }
    if (is_value_type(r->type)) {
        uint32_t isz = int_size(r->type);
        if (r->key_len == 0 || r->len > OTA_KV_VALUE_MAX || (isz != 0 && r->len != isz) ||
            (r->type == OTA_KV_TYPE_STR && r->len == 0)) {
            return 0;
        }
    } else if (r->type == REC_ERASE_KEY) {
        if (r->key_len == 0 || r->len != 0) {
            return 0;
        }
    } else if (r->type == REC_NAMESPACE || r->type == REC_ERASE_NS) {
        if (r->key_len != 0 || r->len != 0) {
            return 0;
        }
    } else {
        return 0;
    }
    r->size = rec_size(r->ns_len, r->key_len, r->len);
    if (r->size > avail) {
        return 0;
    }
    memcpy(r->ns, b + REC_HDR, r->ns_len);
    r->ns[r->ns_len] = '\0';
    memcpy(r->key, b + REC_HDR + r->ns_len, r->key_len);
    r->key[r->key_len] = '\0';
    return 1;
}

/* CRC of a record's header fields and names (the start of its CRC). */
static uint32_t rec_crc_head(const kv_rec_t *r)
{
    uint8_t h[8];
    h[0] = r->type;
    h[1] = r->ns_len;
    h[2] = r->key_len;
    h[3] = 0;
    ota_put_le16(h + 4, r->len);
    ota_put_le16(h + 6, 0);
    uint32_t crc = crc32_update(0xFFFFFFFFu, h, sizeof(h));
    crc = crc32_update(crc, r->ns, r->ns_len);
    return crc32_update(crc, r->key, r->key_len);
}

static uint32_t value_addr(const ota_kv_t *kv, const kv_rec_t *r)
{
    return sector_addr(kv, r->sector) + r->off + REC_HDR + r->ns_len + r->key_len;
}

/* 1 if the record's value matches its CRC, 0 if not, or a flash error. */
static int rec_crc_ok(ota_kv_t *kv, const kv_rec_t *r)
{
    uint8_t buf[CHUNK];
    uint32_t crc = rec_crc_head(r);
    uint32_t addr = value_addr(kv, r);
    uint32_t left = r->len;
    while (left > 0) {
        uint32_t n = left < CHUNK ? left : CHUNK;
        int err = kv_read(kv, addr, buf, n);
        if (err != OTA_OK) {
            return err;
        }
        crc = crc32_update(crc, buf, n);
        addr += n;
        left -= n;
    }
    return (crc ^ 0xFFFFFFFFu) == r->crc;
}

/* ---- walking the log ---- */

static uint32_t log_sector(const ota_kv_t *kv, uint32_t i)
{
    return (kv->first + i) % kv->sectors;
}

static void it_start(kv_it_t *it)
{
    it->i = 0;
    it->off = SECTOR_HDR;
}

/* Next record of the log into *r: 1, 0 at the end, or a negative error. */
static int it_next(ota_kv_t *kv, kv_it_t *it, kv_rec_t *r)
{
    while (it->i < kv->count) {
        uint32_t s = log_sector(kv, it->i);
        if (it->off < kv->rec_end[s]) {
            int rc = read_rec(kv, s, it->off, r);
            if (rc < 0) {
                return rc;
            }
            if (rc == 0) {
                /* validated at mount: the flash changed behind the store's back */
                kv->mounted = false;
                return OTA_ERR_CORRUPT;
            }
            it->off += r->size;
            return 1;
        }
        it->i++;
        it->off = SECTOR_HDR;
    }
    return 0;
}

/*
 * Whether record r (a value or a namespace; `after` positioned just past it) is still in
 * effect: 1 yes, 0 no (tombstones are never live), or a negative error.
 */
static int is_live(ota_kv_t *kv, const kv_rec_t *r, kv_it_t after)
{
    if (!is_value_type(r->type) && r->type != REC_NAMESPACE) {
        return 0;
    }
    kv_rec_t l;
    int rc;
    while ((rc = it_next(kv, &after, &l)) == 1) {
        if (supersedes(&l, r)) {
            return 0;
        }
    }
    return rc < 0 ? rc : 1;
}

/* Finds the value of q's ns/key: 1 (in *found), 0 if none, or a negative error. */
static int lookup(ota_kv_t *kv, const kv_rec_t *q, kv_rec_t *found)
{
    kv_it_t it;
    kv_rec_t r;
    int rc;
    int have = 0;
    it_start(&it);
    while ((rc = it_next(kv, &it, &r)) == 1) {
        if (is_value_type(r.type) && same_key(&r, q)) {
            *found = r;
            have = 1;
        } else if ((r.type == REC_ERASE_KEY && same_key(&r, q)) ||
                   (r.type == REC_ERASE_NS && same_ns(&r, q))) {
            have = 0;
        }
    }
    return rc < 0 ? rc : have;
}

/*
 * Adds up the records in effect: their bytes into *bytes and, when the pointers are not NULL,
 * the namespaces into *namespaces and the values into *values (each set to 0 first).
 * Returns OTA_OK or a negative error.
 */
static int live_totals(ota_kv_t *kv, uint32_t *bytes, uint32_t *namespaces, uint32_t *values)
{
    uint32_t unused_ns;
    uint32_t unused_values;
    namespaces = namespaces != NULL ? namespaces : &unused_ns;
    values = values != NULL ? values : &unused_values;
    *bytes = 0;
    *namespaces = 0;
    *values = 0;
    kv_it_t it;
    kv_rec_t r;
    int rc;
    it_start(&it);
    while ((rc = it_next(kv, &it, &r)) == 1) {
        int live = is_live(kv, &r, it);
        if (live < 0) {
            return live;
        }
        if (live) {
            *bytes += r.size;
            if (r.type == REC_NAMESPACE) {
                (*namespaces)++;
            } else {
                (*values)++;
            }
        }
    }
    return rc;
}

static uint32_t capacity(const ota_kv_t *kv)
{
    return (kv->sectors - 1) * (kv->sector_size - SECTOR_HDR);
}

/* ---- sectors ---- */

static void encode_sector_header(uint8_t h[SECTOR_HDR], uint32_t seq, uint32_t mark)
{
    memset(h, 0, SECTOR_HDR);
    ota_put_le32(h, OTA_KV_MAGIC);
    h[4] = (uint8_t)OTA_KV_FORMAT_VERSION;
    ota_put_le32(h + 8, seq);
    ota_put_le32(h + HDR_KILL_OFFSET, 0xFFFFFFFFu); /* left erased */
    ota_put_le32(h + HDR_CRC_OFFSET, crc32_update(0xFFFFFFFFu, h, HDR_CRC_OFFSET) ^ 0xFFFFFFFFu);
    ota_put_le32(h + HDR_MARK_OFFSET, mark);
}

/* Copies record r (from the sector being compacted) to the end of the active sector. */
static int copy_record(ota_kv_t *kv, const kv_rec_t *r, ota_diag_t *diag)
{
    uint8_t buf[CHUNK];
    if (kv->write_pos + r->size > kv->sector_size) {
        kv->mounted = false;
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "sector %u: live records overflow sector %u",
                            (unsigned)r->sector, (unsigned)kv->active);
    }
    uint32_t src = sector_addr(kv, r->sector) + r->off;
    uint32_t dst = sector_addr(kv, kv->active) + kv->write_pos;
    uint32_t left = REC_HDR + r->ns_len + r->key_len + r->len;
    while (left > 0) {
        uint32_t n = left < CHUNK ? left : CHUNK;
        int err = kv_read(kv, src, buf, n);
        if (err == OTA_OK) {
            err = kv_program(kv, dst, buf, n);
        }
        if (err != OTA_OK) {
            return err;
        }
        src += n;
        dst += n;
        left -= n;
    }
    kv_rec_t c;
    int rc = read_rec(kv, kv->active, kv->write_pos, &c);
    if (rc == 1) {
        rc = rec_crc_ok(kv, &c);
    }
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        kv->mounted = false;
        return ota_diag_set(diag, OTA_ERR_IO,
                            "sector %u offset 0x%x: copied record reads back wrong",
                            (unsigned)kv->active, (unsigned)kv->write_pos);
    }
    kv->write_pos += r->size;
    kv->rec_end[kv->active] = kv->write_pos;
    return OTA_OK;
}

/*
 * Copies the live records of the oldest sector into the active one (which follows the last
 * closed sector and was opened for this), marks the active sector complete and erases the
 * oldest one. Safe to repeat after a cut: copies supersede their originals.
 */
static int compact_oldest(ota_kv_t *kv, ota_diag_t *diag)
{
    uint32_t old = kv->first;
    kv_it_t it;
    kv_rec_t r;
    it_start(&it);
    for (;;) {
        int rc = it_next(kv, &it, &r);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0 || r.sector != old) {
            break;
        }
        int live = is_live(kv, &r, it);
        if (live < 0) {
            return live;
        }
        if (live) {
            int err = copy_record(kv, &r, diag);
            if (err != OTA_OK) {
                return err;
            }
        }
    }
    uint8_t done[4];
    ota_put_le32(done, MARK_DONE);
    int err = kv_program(kv, sector_addr(kv, kv->active) + HDR_MARK_OFFSET, done, sizeof(done));
    if (err == OTA_OK) {
        err = kv_erase(kv, old);
    }
    if (err != OTA_OK) {
        return err;
    }
    kv->first = (old + 1) % kv->sectors;
    kv->count--;
    return OTA_OK;
}

/*
 * First sector of an empty store: the first erased one. Sectors holding a torn first header are
 * left alone until a valid header exists elsewhere (an erase cut short in an empty store would
 * otherwise leave something that no longer looks like a store); then they are erased.
 */
static int first_sector(ota_kv_t *kv, uint32_t *out)
{
    for (uint32_t s = 0; s < kv->sectors; s++) {
        int rc = kv_is_erased(kv, sector_addr(kv, s), kv->sector_size);
        if (rc < 0) {
            return rc;
        }
        if (rc) {
            *out = s;
            return OTA_OK;
        }
    }
    *out = 0;
    return kv_erase(kv, 0);
}

/* Erases every sector outside the log that is not erased. */
static int erase_strays(ota_kv_t *kv)
{
    for (uint32_t k = kv->count; k < kv->sectors; k++) {
        uint32_t s = (kv->active + kv->sectors - k) % kv->sectors;
        int rc = kv_is_erased(kv, sector_addr(kv, s), kv->sector_size);
        if (rc < 0) {
            return rc;
        }
        if (!rc && (rc = kv_erase(kv, s)) != OTA_OK) {
            return rc;
        }
    }
    return OTA_OK;
}

/* Opens the erased sector after the active one (or the first sector of an empty store). */
static int open_next(ota_kv_t *kv, ota_diag_t *diag)
{
    uint32_t n = (kv->active + 1) % kv->sectors;
    uint32_t seq = kv->seq + 1;
    bool was_empty = kv->empty;
    if (was_empty) {
        int err = first_sector(kv, &n);
        if (err != OTA_OK) {
            return err;
        }
        seq = 1;
    }
    bool compact = !was_empty && kv->count == kv->sectors - 1;
    uint8_t h[SECTOR_HDR];
    encode_sector_header(h, seq, compact ? MARK_PENDING : MARK_DONE);
    int err = kv_program(kv, sector_addr(kv, n), h, sizeof(h));
    if (err != OTA_OK) {
        return err;
    }
    if (was_empty) {
        kv->first = n;
        kv->count = 1;
        kv->empty = false;
    } else {
        kv->count++;
    }
    kv->active = n;
    kv->seq = seq;
    kv->write_pos = SECTOR_HDR;
    kv->rec_end[n] = SECTOR_HDR;
    if (was_empty) {
        return erase_strays(kv);
    }
    return compact ? compact_oldest(kv, diag) : OTA_OK;
}

/* Makes room for a record of `size` bytes in the active sector, switching sectors as needed. */
static int make_room(ota_kv_t *kv, uint32_t size, ota_diag_t *diag)
{
    for (uint32_t tries = 0;; tries++) {
        if (!kv->empty && kv->write_pos + size <= kv->sector_size) {
            return OTA_OK;
        }
        if (tries == 0 && !kv->empty) {
            uint32_t live;
            int err = live_totals(kv, &live, NULL, NULL);
            if (err != OTA_OK) {
                return err;
            }
            if (live + size > capacity(kv)) {
                return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                                    "%u bytes in use and %u more do not fit in %u", (unsigned)live,
                                    (unsigned)size, (unsigned)capacity(kv));
            }
        }
        if (tries == kv->sectors) {
            return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                                "no room for a %u-byte record after compacting every sector",
                                (unsigned)size);
        }
        int err = open_next(kv, diag);
        if (err != OTA_OK) {
            return err;
        }
    }
}

/*
 * Appends a record: type, names from q, value (len bytes, already in on-flash form). Header,
 * names and a short value go in one program, a longer value in a second one.
 */
static int append(ota_kv_t *kv, uint8_t type, const kv_rec_t *q, const void *value, uint32_t len,
                  ota_diag_t *diag)
{
    kv_rec_t r = *q;
    r.type = type;
    r.len = (uint16_t)len;
    r.size = rec_size(q->ns_len, q->key_len, len);
    int err = make_room(kv, r.size, diag);
    if (err != OTA_OK) {
        return err;
    }
    uint32_t crc = crc32_update(rec_crc_head(&r), value, len) ^ 0xFFFFFFFFu;
    uint8_t b[REC_HDR + 2 * OTA_KV_NAME_MAX + 8];
    b[0] = type;
    b[1] = q->ns_len;
    b[2] = q->key_len;
    b[3] = 0;
    ota_put_le16(b + 4, (uint16_t)len);
    ota_put_le16(b + 6, 0);
    ota_put_le32(b + 8, crc);
    memcpy(b + REC_HDR, q->ns, q->ns_len);
    memcpy(b + REC_HDR + q->ns_len, q->key, q->key_len);
    uint32_t n = REC_HDR + q->ns_len + q->key_len;
    uint32_t addr = sector_addr(kv, kv->active) + kv->write_pos;
    if (len <= 8) {
        if (len > 0) {
            memcpy(b + n, value, len);
        }
        err = kv_program(kv, addr, b, n + len);
    } else {
        err = kv_program(kv, addr, b, n);
        if (err == OTA_OK) {
            err = kv_program(kv, addr + n, value, len);
        }
    }
    if (err != OTA_OK) {
        return err;
    }
    kv_rec_t c;
    int rc = read_rec(kv, kv->active, kv->write_pos, &c);
    if (rc == 1) {
        rc = c.crc == crc ? rec_crc_ok(kv, &c) : 0;
    }
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        kv->mounted = false;
        return ota_diag_set(diag, OTA_ERR_IO, "sector %u offset 0x%x: record reads back wrong",
                            (unsigned)kv->active, (unsigned)kv->write_pos);
    }
    kv->write_pos += r.size;
    kv->rec_end[kv->active] = kv->write_pos;
    return OTA_OK;
}

/* ---- mount ---- */

enum { SEC_ERASED, SEC_VALID, SEC_TORN_HEADER, SEC_GARBAGE };

static int setup(ota_kv_t *kv, const ota_flash_t *flash, uint32_t offset, uint32_t size,
                 ota_diag_t *diag)
{
    if (kv == NULL || flash == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no store or no flash");
    }
    memset(kv, 0, sizeof(*kv));
    uint32_t ss = flash->sector_size;
    if (ss < OTA_KV_MIN_SECTOR_SIZE) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "sector size 0x%x is below 0x%x", (unsigned)ss,
                            OTA_KV_MIN_SECTOR_SIZE);
    }
    if (offset % ss != 0 || size % ss != 0) {
        return ota_diag_set(diag, OTA_ERR_ALIGN,
                            "region 0x%x+0x%x is not made of whole 0x%x-byte sectors",
                            (unsigned)offset, (unsigned)size, (unsigned)ss);
    }
    if (offset > flash->size || size > flash->size - offset) {
        return ota_diag_set(diag, OTA_ERR_BOUNDS, "region 0x%x+0x%x is outside the 0x%x-byte flash",
                            (unsigned)offset, (unsigned)size, (unsigned)flash->size);
    }
    if (size / ss < OTA_KV_MIN_SECTORS || size / ss > OTA_KV_MAX_SECTORS) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "region of %u sectors; %u to %u are supported",
                            (unsigned)(size / ss), OTA_KV_MIN_SECTORS, OTA_KV_MAX_SECTORS);
    }
    kv->flash = flash;
    kv->offset = offset;
    kv->sector_size = ss;
    kv->sectors = size / ss;
    return OTA_OK;
}

/* Classifies sector s; for a valid one fills *seq and *mark. */
static int classify(ota_kv_t *kv, uint32_t s, uint32_t *seq, uint32_t *mark, ota_diag_t *diag)
{
    uint8_t h[SECTOR_HDR];
    uint32_t addr = sector_addr(kv, s);
    int err = kv_read(kv, addr, h, sizeof(h));
    if (err != OTA_OK) {
        return err;
    }
    if (ota_get_le32(h) == OTA_KV_MAGIC &&
        ota_get_le32(h + HDR_CRC_OFFSET) ==
            (crc32_update(0xFFFFFFFFu, h, HDR_CRC_OFFSET) ^ 0xFFFFFFFFu)) {
        if (h[4] != OTA_KV_FORMAT_VERSION) {
            return ota_diag_set(diag, OTA_ERR_VERSION,
                                "sector %u at 0x%x: store format version %u, this one reads %u",
                                (unsigned)s, (unsigned)addr, h[4], OTA_KV_FORMAT_VERSION);
        }
        *seq = ota_get_le32(h + 8);
        *mark = ota_get_le32(h + HDR_MARK_OFFSET);
        return *seq == 0 ? SEC_GARBAGE : SEC_VALID;
    }
    int rest = kv_is_erased(kv, addr + SECTOR_HDR, kv->sector_size - SECTOR_HDR);
    if (rest < 0) {
        return rest;
    }
    if (!rest) {
        return SEC_GARBAGE;
    }
    int head = kv_is_erased(kv, addr, SECTOR_HDR);
    if (head < 0) {
        return head;
    }
    return head ? SEC_ERASED : SEC_TORN_HEADER;
}

/* Validates the records of log sector s and sets rec_end[s]. */
static int scan_sector(ota_kv_t *kv, uint32_t s)
{
    uint32_t off = SECTOR_HDR;
    kv_rec_t r;
    for (;;) {
        int rc = read_rec(kv, s, off, &r);
        if (rc == 1) {
            rc = rec_crc_ok(kv, &r);
        }
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            break;
        }
        off += r.size;
    }
    kv->rec_end[s] = off;
    return OTA_OK;
}

/*
 * Takes the active sector out after its compaction was cut in a way that cannot be resumed, so
 * the sector switch can be redone. The kill word goes first: if the erase is then cut, what is
 * left of the header no longer passes its CRC.
 */
static int drop_active(ota_kv_t *kv)
{
    uint8_t zero[4] = {0, 0, 0, 0};
    uint32_t a = kv->active;
    int err = kv_program(kv, sector_addr(kv, a) + HDR_KILL_OFFSET, zero, sizeof(zero));
    if (err == OTA_OK) {
        err = kv_erase(kv, a);
    }
    if (err != OTA_OK) {
        return err;
    }
    kv->count--;
    kv->active = (a + kv->sectors - 1) % kv->sectors;
    kv->seq--;
    kv->write_pos = kv->sector_size;
    return OTA_OK;
}

int ota_kv_mount(ota_kv_t *kv, const ota_flash_t *flash, uint32_t offset, uint32_t size,
                 ota_diag_t *diag)
{
    int err = setup(kv, flash, offset, size, diag);
    if (err != OTA_OK) {
        return err;
    }
    uint8_t state[OTA_KV_MAX_SECTORS];
    uint32_t seq[OTA_KV_MAX_SECTORS];
    uint32_t mark[OTA_KV_MAX_SECTORS];
    uint32_t n = kv->sectors;
    bool any_valid = false;
    uint32_t a = 0;
    for (uint32_t s = 0; s < n; s++) {
        int c = classify(kv, s, &seq[s], &mark[s], diag);
        if (c < 0) {
            return c;
        }
        state[s] = (uint8_t)c;
        if (c == SEC_VALID && (!any_valid || seq[s] > seq[a])) {
            a = s;
            any_valid = true;
        }
    }

    if (!any_valid) {
        /* empty store, possibly with the torn header of its first sector */
        for (uint32_t s = 0; s < n; s++) {
            if (state[s] == SEC_GARBAGE) {
                return ota_diag_set(diag, OTA_ERR_CORRUPT,
                                    "sector %u at 0x%x: neither erased nor a store sector",
                                    (unsigned)s, (unsigned)sector_addr(kv, s));
            }
        }
        kv->empty = true; /* torn first headers are dealt with by the first write */
        kv->mounted = true;
        return OTA_OK;
    }

    /* the log: valid sectors with consecutive sequence numbers, ending at the newest */
    uint32_t count = 0;
    while (count < n) {
        uint32_t s = (a + n - count) % n;
        if (state[s] != SEC_VALID || seq[a] < count + 1 || seq[s] != seq[a] - count) {
            break;
        }
        count++;
    }
    kv->active = a;
    kv->seq = seq[a];
    kv->count = count;
    kv->first = (a + n + 1 - count) % n;
    kv->mounted = true;

    /*
     * A full ring whose newest sector has its compaction mark written: the oldest sector's erase
     * did not finish. Without the mark, the oldest sector is still being compacted.
     */
    bool pending = false;
    if (count == n && mark[a] == MARK_DONE) {
        if ((err = kv_erase(kv, kv->first)) != OTA_OK) {
            return err;
        }
        kv->first = (kv->first + 1) % n;
        kv->count--;
    } else if (count == n) {
        pending = true;
    }
    /* sectors outside the log: torn headers of a sector switch, erases cut short */
    for (uint32_t k = count; k < n; k++) {
        uint32_t s = (a + n - k) % n;
        if (state[s] != SEC_ERASED && (err = kv_erase(kv, s)) != OTA_OK) {
            return err;
        }
    }

    for (uint32_t i = 0; i < kv->count; i++) {
        if ((err = scan_sector(kv, log_sector(kv, i))) != OTA_OK) {
            return err;
        }
    }
    kv->write_pos = kv->rec_end[a];
    int clean =
        kv_is_erased(kv, sector_addr(kv, a) + kv->write_pos, kv->sector_size - kv->write_pos);
    if (clean < 0) {
        return clean;
    }
    if (!clean) {
        kv->write_pos = kv->sector_size; /* a torn record: no more appends here */
    }

    if (pending) {
        if (clean && mark[a] == MARK_PENDING) {
            err = compact_oldest(kv, diag);
        } else {
            err = drop_active(kv);
            if (err == OTA_OK) {
                err = open_next(kv, diag);
            }
        }
        if (err != OTA_OK) {
            kv->mounted = false;
            return err;
        }
    }
    return OTA_OK;
}

int ota_kv_format(ota_kv_t *kv, const ota_flash_t *flash, uint32_t offset, uint32_t size,
                  ota_diag_t *diag)
{
    int err = setup(kv, flash, offset, size, diag);
    if (err != OTA_OK) {
        return err;
    }
    err = ota_flash_erase_range(flash, offset, size);
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "erasing region 0x%x+0x%x: %s", (unsigned)offset,
                            (unsigned)size, ota_strerror(err));
    }
    kv->empty = true;
    kv->mounted = true;
    return OTA_OK;
}

/* ---- operations ---- */

static int check_mounted(const ota_kv_t *kv, ota_diag_t *diag)
{
    if (kv == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no store");
    }
    if (!kv->mounted) {
        return ota_diag_set(diag, OTA_ERR_STATE, "store not mounted");
    }
    return OTA_OK;
}

/* Checks kv is mounted and fills the query q as make_query does: the start of every operation. */
static int begin_op(ota_kv_t *kv, kv_rec_t *q, const char *ns, const char *key, bool with_key,
                    ota_diag_t *diag)
{
    int err = check_mounted(kv, diag);
    if (err == OTA_OK) {
        err = make_query(q, ns, key, with_key, diag);
    }
    return err;
}

/*
 * Begins an operation on ns/key and finds the key's live record into *r (the query into *q).
 * OTA_ERR_NOT_FOUND if the key holds no value; else as begin_op and lookup.
 */
static int find_key(ota_kv_t *kv, kv_rec_t *q, kv_rec_t *r, const char *ns, const char *key,
                    ota_diag_t *diag)
{
    int err = begin_op(kv, q, ns, key, true, diag);
    if (err != OTA_OK) {
        return err;
    }
    int rc = lookup(kv, q, r);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "%s/%s: not found", ns, key);
    }
    return OTA_OK;
}

/* Reads the value of r into out (r->len bytes) and checks it against the record's CRC. */
static int read_value(ota_kv_t *kv, const kv_rec_t *r, uint8_t *out, ota_diag_t *diag)
{
    int err = kv_read(kv, value_addr(kv, r), out, r->len);
    if (err != OTA_OK) {
        return err;
    }
    if ((crc32_update(rec_crc_head(r), out, r->len) ^ 0xFFFFFFFFu) != r->crc) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "%s/%s: value does not match its CRC", r->ns,
                            r->key);
    }
    return OTA_OK;
}

/* 1 if the stored value of r equals data (len bytes), 0 if not, or a flash error. */
static int value_equals(ota_kv_t *kv, const kv_rec_t *r, const uint8_t *data, uint32_t len)
{
    uint8_t buf[CHUNK];
    if (r->len != len) {
        return 0;
    }
    uint32_t addr = value_addr(kv, r);
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < CHUNK ? len - done : CHUNK;
        int err = kv_read(kv, addr + done, buf, n);
        if (err != OTA_OK) {
            return err;
        }
        if (memcmp(buf, data + done, n) != 0) {
            return 0;
        }
        done += n;
    }
    return 1;
}

/* Integer value between C object and on-flash little-endian form. */
static void int_to_le(uint8_t type, const void *obj, uint8_t *le)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (int_size(type)) {
    case 1:
        memcpy(&u8, obj, 1);
        le[0] = u8;
        break;
    case 2:
        memcpy(&u16, obj, 2);
        ota_put_le16(le, u16);
        break;
    case 4:
        memcpy(&u32, obj, 4);
        ota_put_le32(le, u32);
        break;
    default:
        memcpy(&u64, obj, 8);
        ota_put_le32(le, (uint32_t)u64);
        ota_put_le32(le + 4, (uint32_t)(u64 >> 32));
        break;
    }
}

static void int_from_le(uint8_t type, const uint8_t *le, void *obj)
{
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (int_size(type)) {
    case 1:
        memcpy(obj, le, 1);
        break;
    case 2:
        u16 = ota_get_le16(le);
        memcpy(obj, &u16, 2);
        break;
    case 4:
        u32 = ota_get_le32(le);
        memcpy(obj, &u32, 4);
        break;
    default:
        u64 = ota_get_le32(le) | ((uint64_t)ota_get_le32(le + 4) << 32);
        memcpy(obj, &u64, 8);
        break;
    }
}

int ota_kv_set(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t type, const void *data,
               uint32_t len, ota_diag_t *diag)
{
    kv_rec_t q;
    int err = begin_op(kv, &q, ns, key, true, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (!is_value_type((uint8_t)type)) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s/%s: unknown value type 0x%x", ns, key,
                            (unsigned)type);
    }
    if (data == NULL && len > 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s/%s: no data", ns, key);
    }
    uint32_t isz = int_size((uint8_t)type);
    uint8_t le[8];
    const uint8_t *value = data;
    if (isz != 0) {
        if (len != isz) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s/%s: a %s takes %u bytes, not %u", ns,
                                key, type_name((uint8_t)type), (unsigned)isz, (unsigned)len);
        }
        int_to_le((uint8_t)type, data, le);
        value = le;
    } else if (len > OTA_KV_VALUE_MAX) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "%s/%s: %u bytes, the limit is %u", ns, key,
                            (unsigned)len, OTA_KV_VALUE_MAX);
    } else if (type == OTA_KV_TYPE_STR && (len == 0 || value[len - 1] != '\0')) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s/%s: string without its NUL", ns, key);
    }

    kv_rec_t cur;
    int rc = lookup(kv, &q, &cur);
    if (rc == 1 && cur.type == (uint8_t)type) {
        rc = value_equals(kv, &cur, value, len);
        if (rc == 1) {
            return OTA_OK; /* already stored */
        }
    }
    if (rc < 0) {
        return rc;
    }
    return append(kv, (uint8_t)type, &q, value, len, diag);
}

int ota_kv_get(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t type, void *buf,
               uint32_t cap, uint32_t *len, ota_diag_t *diag)
{
    kv_rec_t q;
    kv_rec_t r;
    int err = find_key(kv, &q, &r, ns, key, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (r.type != (uint8_t)type) {
        return ota_diag_set(diag, OTA_ERR_UNSUPPORTED, "%s/%s: stored as %s, read as %s", ns, key,
                            type_name(r.type), type_name((uint8_t)type));
    }
    if (len != NULL) {
        *len = r.len;
    }
    if (buf == NULL) {
        return OTA_OK;
    }
    if (cap < r.len) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "%s/%s: %u bytes do not fit in %u", ns, key,
                            (unsigned)r.len, (unsigned)cap);
    }
    if (int_size(r.type) != 0) {
        uint8_t le[8];
        err = read_value(kv, &r, le, diag);
        if (err == OTA_OK) {
            int_from_le(r.type, le, buf);
        }
        return err;
    }
    return read_value(kv, &r, buf, diag);
}

int ota_kv_find(ota_kv_t *kv, const char *ns, const char *key, ota_kv_type_t *type, uint32_t *len)
{
    kv_rec_t q;
    kv_rec_t r;
    int err = find_key(kv, &q, &r, ns, key, NULL);
    if (err != OTA_OK) {
        return err;
    }
    if (type != NULL) {
        *type = (ota_kv_type_t)r.type;
    }
    if (len != NULL) {
        *len = r.len;
    }
    return OTA_OK;
}

int ota_kv_erase_key(ota_kv_t *kv, const char *ns, const char *key, ota_diag_t *diag)
{
    kv_rec_t q;
    kv_rec_t r;
    int err = find_key(kv, &q, &r, ns, key, diag);
    if (err != OTA_OK) {
        return err;
    }
    return append(kv, REC_ERASE_KEY, &q, NULL, 0, diag);
}

int ota_kv_erase_ns(ota_kv_t *kv, const char *ns, ota_diag_t *diag)
{
    kv_rec_t q;
    int err = begin_op(kv, &q, ns, NULL, false, diag);
    if (err != OTA_OK) {
        return err;
    }
    /* write a tombstone only when some key of the namespace holds a value */
    kv_it_t it;
    kv_rec_t r;
    int rc;
    int any = 0;
    it_start(&it);
    while (!any && (rc = it_next(kv, &it, &r)) == 1) {
        if (is_value_type(r.type) && same_ns(&r, &q)) {
            any = is_live(kv, &r, it);
            if (any < 0) {
                return any;
            }
        }
    }
    if (!any) {
        return rc < 0 ? rc : OTA_OK;
    }
    return append(kv, REC_ERASE_NS, &q, NULL, 0, diag);
}

int ota_kv_ns_open(ota_kv_t *kv, const char *ns, bool create, ota_diag_t *diag)
{
    kv_rec_t q;
    int err = begin_op(kv, &q, ns, NULL, false, diag);
    if (err != OTA_OK) {
        return err;
    }
    kv_it_t it;
    kv_rec_t r;
    int rc;
    it_start(&it);
    while ((rc = it_next(kv, &it, &r)) == 1) {
        if (r.type == REC_NAMESPACE && same_ns(&r, &q)) {
            return OTA_OK;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (!create) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "namespace %s: not found", ns);
    }
    return append(kv, REC_NAMESPACE, &q, NULL, 0, diag);
}

int ota_kv_stats(ota_kv_t *kv, ota_kv_stats_t *st)
{
    int err = check_mounted(kv, NULL);
    if (err != OTA_OK) {
        return err;
    }
    if (st == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(st, 0, sizeof(*st));
    st->sectors = kv->sectors;
    st->sector_size = kv->sector_size;
    if (kv->empty) {
        st->free_bytes = capacity(kv);
        return OTA_OK;
    }
    st->generation = kv->seq;
    for (uint32_t i = 0; i < kv->count; i++) {
        st->used_bytes += kv->rec_end[log_sector(kv, i)];
    }
    err = live_totals(kv, &st->live_bytes, &st->namespaces, &st->live_entries);
    if (err != OTA_OK) {
        return err;
    }
    st->free_bytes = st->live_bytes < capacity(kv) ? capacity(kv) - st->live_bytes : 0;
    return OTA_OK;
}
