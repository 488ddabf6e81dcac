/*
 * ESP-IDF's NVS items (ota_idfnvs.h): namespaces, lookups, values of every type, multi-page
 * blobs, erasing, iteration and the mount-time repairs across items.
 */
#include <string.h>

#include "idfnvs_priv.h"
#include "ota/ota_otadata.h"
#include "ota_le.h"

#define NENT OTA_IDFNVS_ENTRIES
#define ESZ IDFNVS_ESZ

static bool type_matches(uint8_t want, uint8_t have)
{
    if (want == 0) {
        return have != OTA_IDFNVS_BLOB_DATA;
    }
    return have == want || (want == OTA_IDFNVS_BLOB && have == OTA_IDFNVS_BLOB_V1);
}

static bool loc_eq(const idfnvs_loc_t *a, uint32_t page, uint32_t entry)
{
    return a != NULL && a->page == page && a->entry == entry;
}

/* Calls fn for every whole written item in page order; stops at a non-zero return. */
static int walk(const ota_idfnvs_t *s,
                int (*fn)(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it), void *ctx)
{
    for (uint32_t i = 0; i < s->nused; i++) {
        uint32_t p = s->order[i];
        for (uint32_t e = 0; e < s->page[p].next_free; e++) {
            uint32_t st;
            idfnvs_item_t it;
            int err = idfnvs_get_state(s, p, e, &st);
            if (err != OTA_OK) {
                return err;
            }
            if (st != IDFNVS_ES_WRITTEN || !idfnvs_item_whole(s, p, e, &it)) {
                continue;
            }
            idfnvs_loc_t at = {p, e};
            int r = fn(ctx, &at, &it);
            if (r != 0) {
                return r;
            }
            e += it.span - 1u;
        }
    }
    return OTA_OK;
}

typedef struct find_ctx {
    uint8_t ns;
    uint8_t type;
    uint8_t chunk;
    const char *key;
    const idfnvs_loc_t *skip;
    idfnvs_loc_t *at;
    idfnvs_item_t *it;
} find_ctx_t;

enum { FOUND = 1 };

static int find_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    find_ctx_t *f = ctx;
    if (it->ns != f->ns || !type_matches(f->type, it->type) || strcmp(it->key, f->key) != 0 ||
        (f->chunk != IDFNVS_CHUNK_ANY && it->chunk != f->chunk) ||
        loc_eq(f->skip, at->page, at->entry)) {
        return 0;
    }
    *f->at = *at;
    *f->it = *it;
    return FOUND;
}

int idfnvs_find(const ota_idfnvs_t *s, uint8_t ns, uint8_t type, const char *key, uint8_t chunk,
                const idfnvs_loc_t *skip, idfnvs_loc_t *at, idfnvs_item_t *it)
{
    find_ctx_t f = {ns, type, chunk, key, skip, at, it};
    int r = walk(s, find_fn, &f);
    return r == FOUND ? OTA_OK : r == OTA_OK ? OTA_ERR_NOT_FOUND : r;
}

static bool name_ok(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= OTA_IDFNVS_KEY_MAX;
}

/* ---- namespaces ----------------------------------------------------------------------------- */

static int ns_lookup(const ota_idfnvs_t *s, const char *name, uint8_t *index)
{
    idfnvs_loc_t at;
    idfnvs_item_t it;
    int err =
        idfnvs_find(s, IDFNVS_NS_TABLE, OTA_IDFNVS_U8, name, IDFNVS_CHUNK_ANY, NULL, &at, &it);
    *index = it.data[0];
    return err;
}

typedef struct ns_used {
    uint8_t used[32]; /* bit per index */
} ns_used_t;

static int ns_used_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    (void)at;
    ns_used_t *u = ctx;
    if (it->ns == IDFNVS_NS_TABLE && it->type == OTA_IDFNVS_U8) {
        u->used[it->data[0] / 8] |= (uint8_t)(1u << (it->data[0] % 8));
    }
    return 0;
}

/* The index of namespace name, created (the lowest free index) when missing. */
static int ns_open(ota_idfnvs_t *s, const char *name, uint8_t *index)
{
    int err = ns_lookup(s, name, index);
    if (err != OTA_ERR_NOT_FOUND) {
        return err;
    }
    ns_used_t u;
    memset(&u, 0, sizeof(u));
    err = walk(s, ns_used_fn, &u);
    uint32_t i = 1;
    while (i <= IDFNVS_NS_LAST && (u.used[i / 8] & (1u << (i % 8))) != 0) {
        i++;
    }
    if (err != OTA_OK || i > IDFNVS_NS_LAST) {
        return err != OTA_OK ? err : OTA_ERR_NO_SPACE;
    }
    idfnvs_item_t it = {IDFNVS_NS_TABLE, OTA_IDFNVS_U8, 1, IDFNVS_CHUNK_ANY, 0, {0}, {0}};
    memcpy(it.key, name, strlen(name) + 1);
    memset(it.data, 0xFF, sizeof(it.data));
    it.data[0] = (uint8_t)i;
    uint8_t raw[ESZ];
    idfnvs_item_encode(&it, raw);
    *index = (uint8_t)i;
    return idfnvs_append(s, raw, 1, NULL);
}

int ota_idfnvs_namespace(ota_idfnvs_t *s, const char *ns)
{
    uint8_t index;
    return s == NULL || !name_ok(ns) ? OTA_ERR_INVALID_ARG : ns_open(s, ns, &index);
}

int ota_idfnvs_namespace_find(ota_idfnvs_t *s, const char *ns)
{
    uint8_t index;
    return s == NULL || !name_ok(ns) ? OTA_ERR_INVALID_ARG : ns_lookup(s, ns, &index);
}

int ota_idfnvs_find_key(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t *type,
                        size_t *len)
{
    uint8_t nsi;
    if (s == NULL || type == NULL || len == NULL || !name_ok(ns) || !name_ok(key)) {
        return OTA_ERR_INVALID_ARG;
    }
    idfnvs_loc_t at;
    idfnvs_item_t it;
    int err = ns_lookup(s, ns, &nsi);
    if (err == OTA_OK) {
        err = idfnvs_find(s, nsi, 0, key, IDFNVS_CHUNK_ANY, NULL, &at, &it);
    }
    if (err != OTA_OK) {
        return err;
    }
    *type = it.type == OTA_IDFNVS_BLOB_V1 ? (uint8_t)OTA_IDFNVS_BLOB : it.type;
    *len = it.type == OTA_IDFNVS_BLOB_IDX ? ota_get_le32(it.data)
           : idfnvs_variable(it.type)     ? ota_get_le16(it.data)
                                          : (size_t)(it.type & 0x0F);
    return OTA_OK;
}

/* ---- reading -------------------------------------------------------------------------------- */

static size_t int_width(uint8_t type)
{
    switch (type) {
    case OTA_IDFNVS_U8:
    case OTA_IDFNVS_I8:
        return 1;
    case OTA_IDFNVS_U16:
    case OTA_IDFNVS_I16:
        return 2;
    case OTA_IDFNVS_U32:
    case OTA_IDFNVS_I32:
        return 4;
    case OTA_IDFNVS_U64:
    case OTA_IDFNVS_I64:
        return 8;
    default:
        return 0;
    }
}

/* Reads n data bytes of the item at `at` from offset off into out. */
static int read_data(const ota_idfnvs_t *s, const idfnvs_loc_t *at, uint32_t off, void *out,
                     size_t n)
{
    return ota_flash_read(s->flash, idfnvs_entry_addr(s, at->page, at->entry + 1) + off, out,
                          (uint32_t)n);
}

/* A version 2 blob: its chunks in order into out (cap bytes). */
static int get_blob(const ota_idfnvs_t *s, uint8_t ns, const char *key, const idfnvs_item_t *idx,
                    uint8_t *out, size_t cap, size_t *len)
{
    uint32_t size = ota_get_le32(idx->data);
    *len = size;
    if (out == NULL) {
        return OTA_OK;
    }
    if (cap < size) {
        return OTA_ERR_SIZE;
    }
    uint32_t got = 0;
    for (uint32_t c = 0; c < idx->data[4]; c++) {
        idfnvs_loc_t at;
        idfnvs_item_t it;
        int err = idfnvs_find(s, ns, OTA_IDFNVS_BLOB_DATA, key, (uint8_t)(idx->data[5] + c), NULL,
                              &at, &it);
        uint32_t n = ota_get_le16(it.data);
        if (err != OTA_OK || got + n > size) {
            return err == OTA_ERR_NOT_FOUND || err == OTA_OK ? OTA_ERR_CORRUPT : err;
        }
        err = read_data(s, &at, 0, out + got, n);
        if (err != OTA_OK) {
            return err;
        }
        got += n;
    }
    return got == size ? OTA_OK : OTA_ERR_CORRUPT;
}

int ota_idfnvs_get(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t type, void *out,
                   size_t cap, size_t *len)
{
    uint8_t nsi;
    if (s == NULL || len == NULL || !name_ok(ns) || !name_ok(key)) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = ns_lookup(s, ns, &nsi);
    idfnvs_loc_t at;
    idfnvs_item_t it;
    if (err == OTA_OK) {
        err = idfnvs_find(s, nsi, type, key, IDFNVS_CHUNK_ANY, NULL, &at, &it);
    }
    if (err != OTA_OK) {
        return err;
    }
    if (it.type == OTA_IDFNVS_BLOB_IDX) {
        return get_blob(s, nsi, key, &it, out, cap, len);
    }
    size_t n = idfnvs_variable(it.type) ? ota_get_le16(it.data) : int_width(it.type);
    *len = n;
    if (out == NULL) {
        return OTA_OK;
    }
    if (cap < n) {
        return OTA_ERR_SIZE;
    }
    if (!idfnvs_variable(it.type)) {
        memcpy(out, it.data, n);
        return OTA_OK;
    }
    return read_data(s, &at, 0, out, n);
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Writes one item of the given type: the header entry, then data (n bytes) in the next ones. */
static int write_item(ota_idfnvs_t *s, const idfnvs_item_t *head, const uint8_t *data, size_t n,
                      idfnvs_loc_t *at)
{
    uint8_t raw[ESZ * 8];
    uint32_t span = head->span;
    if (span <= 8) {
        memset(raw, 0xFF, sizeof(raw));
        idfnvs_item_encode(head, raw);
        if (n > 0) {
            memcpy(raw + ESZ, data, n);
        }
        return idfnvs_append(s, raw, span, at);
    }
    /* long values: the same, assembled in a page-sized buffer */
    static uint8_t big[OTA_IDFNVS_PAGE_SIZE];
    memset(big, 0xFF, span * ESZ);
    idfnvs_item_encode(head, big);
    memcpy(big + ESZ, data, n);
    return idfnvs_append(s, big, span, at);
}

/* A string or blob chunk's header: size, 0xFFFF, data CRC. */
static void var_head(idfnvs_item_t *it, uint8_t ns, uint8_t type, const char *key, uint8_t chunk,
                     const uint8_t *data, size_t n)
{
    it->ns = ns;
    it->type = type;
    it->span = (uint8_t)(1 + (n + ESZ - 1) / ESZ);
    it->chunk = chunk;
    memset(it->key, 0, sizeof(it->key));
    memcpy(it->key, key, strlen(key));
    ota_put_le16(it->data, (uint16_t)n);
    ota_put_le16(it->data + 2, 0xFFFF);
    ota_put_le32(it->data + 4, idfnvs_crc(data, n));
}

/* True when the stored item at `at` already holds exactly this value. */
static bool same_value(const ota_idfnvs_t *s, const idfnvs_loc_t *at, const idfnvs_item_t *old,
                       const idfnvs_item_t *now, const uint8_t *data, size_t n)
{
    if (old->type != now->type || memcmp(old->data, now->data, 8) != 0) {
        return false;
    }
    uint8_t buf[64];
    for (size_t off = 0; idfnvs_variable(old->type) && off < n; off += sizeof(buf)) {
        size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
        if (read_data(s, at, (uint32_t)off, buf, k) != OTA_OK || memcmp(buf, data + off, k) != 0) {
            return false;
        }
    }
    return true;
}

/* A number or a string: write the new item, then erase the old one. */
static int set_simple(ota_idfnvs_t *s, uint8_t nsi, const char *key, uint8_t type,
                      const uint8_t *data, size_t n)
{
    idfnvs_item_t now;
    if (type == OTA_IDFNVS_STR) {
        var_head(&now, nsi, type, key, IDFNVS_CHUNK_ANY, data, n);
    } else {
        now.ns = nsi;
        now.type = type;
        now.span = 1;
        now.chunk = IDFNVS_CHUNK_ANY;
        memset(now.key, 0, sizeof(now.key));
        memcpy(now.key, key, strlen(key));
        memset(now.data, 0xFF, sizeof(now.data));
        memcpy(now.data, data, n);
    }
    idfnvs_loc_t old_at;
    idfnvs_item_t old;
    int found = idfnvs_find(s, nsi, type, key, IDFNVS_CHUNK_ANY, NULL, &old_at, &old);
    if (found == OTA_OK && same_value(s, &old_at, &old, &now, data, n)) {
        return OTA_OK;
    }
    if (found != OTA_OK && found != OTA_ERR_NOT_FOUND) {
        return found;
    }
    idfnvs_loc_t at;
    int err = write_item(s, &now, type == OTA_IDFNVS_STR ? data : NULL,
                         type == OTA_IDFNVS_STR ? n : 0, &at);
    if (err != OTA_OK || found != OTA_OK) {
        return err;
    }
    /* the old item may have moved during garbage collection: find it again */
    err = idfnvs_find(s, nsi, type, key, IDFNVS_CHUNK_ANY, &at, &old_at, &old);
    return err == OTA_OK ? idfnvs_erase_range(s, old_at.page, old_at.entry, old.span) : OTA_OK;
}

int idfnvs_erase_chunks(ota_idfnvs_t *s, uint8_t ns, const char *key, uint8_t start, uint32_t count)
{
    for (uint32_t c = 0; c < count; c++) {
        idfnvs_loc_t at;
        idfnvs_item_t it;
        int err =
            idfnvs_find(s, ns, OTA_IDFNVS_BLOB_DATA, key, (uint8_t)(start + c), NULL, &at, &it);
        if (err == OTA_OK) {
            err = idfnvs_erase_range(s, at.page, at.entry, it.span);
        }
        if (err != OTA_OK && err != OTA_ERR_NOT_FOUND) {
            return err;
        }
    }
    return OTA_OK;
}

/* Writes a blob's chunks from chunk index start; *count receives how many. */
static int write_chunks(ota_idfnvs_t *s, uint8_t nsi, const char *key, uint8_t start,
                        const uint8_t *data, size_t n, uint32_t *count)
{
    size_t off = 0;
    *count = 0;
    do {
        uint32_t room = idfnvs_room(s);
        if (room < 2) {
            room = NENT; /* the next page */
        }
        size_t chunk = (room - 1) * ESZ;
        chunk = chunk > n - off ? n - off : chunk;
        if (*count >= 127) {
            return OTA_ERR_NO_SPACE;
        }
        idfnvs_item_t head;
        var_head(&head, nsi, OTA_IDFNVS_BLOB_DATA, key, (uint8_t)(start + *count), data + off,
                 chunk);
        int err = write_item(s, &head, data + off, chunk, NULL);
        if (err != OTA_OK) {
            return err;
        }
        (*count)++;
        off += chunk;
    } while (off < n);
    return OTA_OK;
}

static int set_blob(ota_idfnvs_t *s, uint8_t nsi, const char *key, const uint8_t *data, size_t n)
{
    idfnvs_loc_t old_at;
    idfnvs_item_t old;
    int found =
        idfnvs_find(s, nsi, OTA_IDFNVS_BLOB_IDX, key, IDFNVS_CHUNK_ANY, NULL, &old_at, &old);
    if (found != OTA_OK && found != OTA_ERR_NOT_FOUND) {
        return found;
    }
    uint8_t start = found == OTA_OK ? (uint8_t)(old.data[5] ^ IDFNVS_VER_FLIP) : 0;
    uint32_t count = 0;
    int err = write_chunks(s, nsi, key, start, data, n, &count);
    if (err != OTA_OK) {
        idfnvs_erase_chunks(s, nsi, key, start, count + 1);
        return err;
    }
    idfnvs_item_t idx = {nsi, OTA_IDFNVS_BLOB_IDX, 1, IDFNVS_CHUNK_ANY, 0, {0}, {0}};
    memcpy(idx.key, key, strlen(key));
    ota_put_le32(idx.data, (uint32_t)n);
    idx.data[4] = (uint8_t)count;
    idx.data[5] = start;
    ota_put_le16(idx.data + 6, 0xFFFF);
    idfnvs_loc_t at;
    err = write_item(s, &idx, NULL, 0, &at);
    if (err != OTA_OK) {
        idfnvs_erase_chunks(s, nsi, key, start, count);
        return err;
    }
    if (found != OTA_OK) {
        return OTA_OK;
    }
    err = idfnvs_find(s, nsi, OTA_IDFNVS_BLOB_IDX, key, IDFNVS_CHUNK_ANY, &at, &old_at, &old);
    if (err == OTA_OK) {
        err = idfnvs_erase_range(s, old_at.page, old_at.entry, 1);
    }
    return err == OTA_OK ? idfnvs_erase_chunks(s, nsi, key, old.data[5], old.data[4]) : OTA_OK;
}

int ota_idfnvs_set(ota_idfnvs_t *s, const char *ns, const char *key, uint8_t type, const void *data,
                   size_t len)
{
    if (s == NULL || !name_ok(ns) || !name_ok(key) || (data == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    bool ok = type == OTA_IDFNVS_BLOB ||
              (type == OTA_IDFNVS_STR && len > 0 && len <= OTA_IDFNVS_STR_MAX) ||
              (int_width(type) != 0 && int_width(type) == len);
    if (!ok) {
        return OTA_ERR_INVALID_ARG;
    }
    uint8_t nsi;
    int err = ns_open(s, ns, &nsi);
    if (err != OTA_OK) {
        return err;
    }
    return type == OTA_IDFNVS_BLOB ? set_blob(s, nsi, key, data, len)
                                   : set_simple(s, nsi, key, type, data, len);
}

/* ---- erasing -------------------------------------------------------------------------------- */

static int erase_item(ota_idfnvs_t *s, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    int err = idfnvs_erase_range(s, at->page, at->entry, it->span);
    if (err == OTA_OK && it->type == OTA_IDFNVS_BLOB_IDX) {
        err = idfnvs_erase_chunks(s, it->ns, it->key, it->data[5], it->data[4]);
    }
    return err;
}

int ota_idfnvs_erase_key(ota_idfnvs_t *s, const char *ns, const char *key)
{
    uint8_t nsi;
    if (s == NULL || !name_ok(ns) || !name_ok(key)) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = ns_lookup(s, ns, &nsi);
    bool any = false;
    idfnvs_loc_t at;
    idfnvs_item_t it;
    while (err == OTA_OK &&
           (err = idfnvs_find(s, nsi, 0, key, IDFNVS_CHUNK_ANY, NULL, &at, &it)) == OTA_OK) {
        any = true;
        err = erase_item(s, &at, &it);
    }
    return err == OTA_ERR_NOT_FOUND && any ? OTA_OK : err;
}

typedef struct erase_all_ctx {
    ota_idfnvs_t *s;
    uint8_t ns;
    int err;
} erase_all_ctx_t;

static int erase_all_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    erase_all_ctx_t *c = ctx;
    if (it->ns == c->ns) {
        c->err = idfnvs_erase_range(c->s, at->page, at->entry, it->span);
    }
    return c->err;
}

int ota_idfnvs_erase_all(ota_idfnvs_t *s, const char *ns)
{
    uint8_t nsi;
    if (s == NULL || !name_ok(ns)) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = ns_lookup(s, ns, &nsi);
    erase_all_ctx_t c = {s, nsi, OTA_OK};
    return err == OTA_OK ? walk(s, erase_all_fn, &c) : err;
}

/* ---- iteration ------------------------------------------------------------------------------ */

typedef struct each_ctx {
    const ota_idfnvs_t *s;
    int (*fn)(void *ctx, const ota_idfnvs_value_t *v);
    void *ctx;
} each_ctx_t;

typedef struct ns_name_ctx {
    uint8_t index;
    char *name;
} ns_name_ctx_t;

static int ns_name_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    (void)at;
    ns_name_ctx_t *c = ctx;
    if (it->ns == IDFNVS_NS_TABLE && it->type == OTA_IDFNVS_U8 && it->data[0] == c->index) {
        memcpy(c->name, it->key, sizeof(it->key));
        return FOUND;
    }
    return 0;
}

static int each_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    (void)at;
    each_ctx_t *c = ctx;
    if (it->ns == IDFNVS_NS_TABLE || it->type == OTA_IDFNVS_BLOB_DATA) {
        return 0;
    }
    char name[OTA_IDFNVS_KEY_MAX + 2] = "?";
    ns_name_ctx_t nc = {it->ns, name};
    int r = walk(c->s, ns_name_fn, &nc);
    if (r != OTA_OK && r != FOUND) {
        return r;
    }
    ota_idfnvs_value_t v = {name, it->key, it->type, 0, 0};
    size_t w = int_width(it->type);
    for (size_t i = 0; i < w; i++) {
        v.num |= (uint64_t)it->data[i] << (8 * i);
    }
    if ((it->type & 0x10) != 0 && w < 8 && (v.num >> (8 * w - 1)) != 0) {
        v.num |= ~0ull << (8 * w); /* sign-extend */
    }
    if (it->type == OTA_IDFNVS_BLOB_IDX) {
        v.len = ota_get_le32(it->data);
    } else if (idfnvs_variable(it->type)) {
        v.len = ota_get_le16(it->data);
    }
    return c->fn(c->ctx, &v);
}

int ota_idfnvs_foreach(ota_idfnvs_t *s, int (*fn)(void *ctx, const ota_idfnvs_value_t *v),
                       void *ctx)
{
    if (s == NULL || fn == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    each_ctx_t c = {s, fn, ctx};
    return walk(s, each_fn, &c);
}

/* ---- mount-time repairs across items -------------------------------------------------------- */

typedef struct later_ctx {
    const idfnvs_loc_t *self;
    const idfnvs_item_t *item;
    bool seen;
} later_ctx_t;

static int later_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    later_ctx_t *c = ctx;
    if (loc_eq(c->self, at->page, at->entry)) {
        c->seen = true;
        return 0;
    }
    return c->seen && it->ns == c->item->ns && it->type == c->item->type &&
                   it->chunk == c->item->chunk && strcmp(it->key, c->item->key) == 0
               ? FOUND
               : 0;
}

/* True when a newer copy of the item at `at` (same namespace, type, key, chunk) exists. */
static int has_later(const ota_idfnvs_t *s, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    later_ctx_t c = {at, it, false};
    return walk(s, later_fn, &c);
}

/* A blob index whose chunks are all there and add up to its size. */
static bool blob_whole(const ota_idfnvs_t *s, const idfnvs_item_t *idx)
{
    uint32_t sum = 0;
    for (uint32_t k = 0; k < idx->data[4]; k++) {
        idfnvs_loc_t at;
        idfnvs_item_t it;
        if (idfnvs_find(s, idx->ns, OTA_IDFNVS_BLOB_DATA, idx->key, (uint8_t)(idx->data[5] + k),
                        NULL, &at, &it) != OTA_OK) {
            return false;
        }
        sum += ota_get_le16(it.data);
    }
    return sum == ota_get_le32(idx->data);
}

typedef struct repair_ctx {
    ota_idfnvs_t *s;
    int err;
} repair_ctx_t;

/* Erases an item with a newer copy (an update cut before the old one was erased), blob chunks no
 * index names, and indexes whose chunks are not all there. */
static int repair_fn(void *ctx, const idfnvs_loc_t *at, const idfnvs_item_t *it)
{
    repair_ctx_t *c = ctx;
    idfnvs_loc_t other;
    idfnvs_item_t o;
    bool drop;
    if (it->type == OTA_IDFNVS_BLOB_DATA) {
        int err = idfnvs_find(c->s, it->ns, OTA_IDFNVS_BLOB_IDX, it->key, IDFNVS_CHUNK_ANY, NULL,
                              &other, &o);
        drop = err == OTA_ERR_NOT_FOUND ||
               (err == OTA_OK && (it->chunk < o.data[5] || it->chunk >= o.data[5] + o.data[4]));
    } else {
        int r = has_later(c->s, at, it);
        if (r != FOUND && r != OTA_OK) {
            return r;
        }
        drop = r == FOUND || (it->type == OTA_IDFNVS_BLOB_IDX && !blob_whole(c->s, it));
    }
    if (drop) {
        c->err = idfnvs_erase_range(c->s, at->page, at->entry, it->span);
    }
    return c->err;
}

int idfnvs_repair_items(ota_idfnvs_t *s)
{
    repair_ctx_t c = {s, OTA_OK};
    /* twice: indexes erased in the first pass leave orphan chunks for the second */
    int err = walk(s, repair_fn, &c);
    return err == OTA_OK ? walk(s, repair_fn, &c) : err;
}
