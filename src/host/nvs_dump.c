/* nvs_tool.py's text listings of an NVS partition (ota_nvs_dump.h). */
#include "ota/ota_nvs_dump.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "ota/ota_err.h"

#define PAGE 4096u
#define ENT 32u
#define FIRST 2u    /* the header and the bitmap take the first two entry slots */
#define SLOTS 128u  /* entry slots of a page, header and bitmap included */
#define NENTRY 126u /* entries of a page */

/* An entry as nvs_tool.py parses it: its raw bytes, index and bitmap state, and the entries it
 * spans (within its page). */
typedef struct {
    const uint8_t *raw;
    unsigned index;
    const char *state;
    unsigned nchildren;
} entry_t;

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

static const char *page_status(const uint8_t *pg)
{
    switch (le(pg, 4)) {
    case 0xFFFFFFFFu:
        return "Empty";
    case 0xFFFFFFFEu:
        return "Active";
    case 0xFFFFFFFCu:
        return "Full";
    case 0xFFFFFFF8u:
        return "Erasing";
    case 0:
        return "Corrupted";
    default:
        return "Invalid";
    }
}

static const char *entry_state(const uint8_t *pg, unsigned index)
{
    static const char *const names[4] = {"Erased", "Invalid", "Written", "Empty"};
    return names[(pg[ENT + index / 4] >> (2 * (index % 4))) & 3];
}

/* nvs_tool.py's type name, NULL for a type it does not know. */
static const char *type_name(uint8_t t)
{
    static const struct {
        uint8_t t;
        const char *name;
    } names[] = {{0x01, "uint8_t"},  {0x11, "int8_t"},  {0x02, "uint16_t"},  {0x12, "int16_t"},
                 {0x04, "uint32_t"}, {0x14, "int32_t"}, {0x08, "uint64_t"},  {0x18, "int64_t"},
                 {0x21, "string"},   {0x41, "blob"},    {0x42, "blob_data"}, {0x48, "blob_index"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].t == t) {
            return names[i].name;
        }
    }
    return NULL;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return false;
        }
    }
    return true;
}

/* The key as nvs_tool.py decodes it (trailing NULs dropped, ASCII only): false for None. */
static bool key_of(const uint8_t *raw, char key[17])
{
    size_t n = 16;
    while (n > 0 && raw[8 + n - 1] == 0) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (raw[8 + i] >= 0x80) {
            return false;
        }
        key[i] = (char)raw[8 + i];
    }
    key[n] = '\0';
    return true;
}

static void print_key(FILE *out, const uint8_t *raw)
{
    char key[17];
    if (key_of(raw, key)) {
        fwrite(key, 1, strlen(key), out); /* NULs inside a key are printed too */
    } else {
        fputs("None", out);
    }
}

static bool is_fixed(uint8_t t)
{
    return t < 0x20;
}

static bool is_variable(uint8_t t)
{
    return t == 0x21 || t == 0x41 || t == 0x42 || t == 0x48;
}

/* An integer entry's value as Python prints it ("None" for unknown types or keys). */
static void print_number(FILE *out, const uint8_t *raw)
{
    char key[17];
    uint8_t t = raw[1];
    if (!key_of(raw, key) || type_name(t) == NULL || !is_fixed(t)) {
        fputs("None", out);
        return;
    }
    unsigned size = t & 0x0Fu;
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;) {
        v = v << 8 | raw[24 + i];
    }
    if ((t & 0xF0u) != 0 && size > 0 && size < 8 && (v >> (8 * size - 1)) != 0) {
        v |= ~UINT64_C(0) << (8 * size); /* sign-extend */
    }
    if ((t & 0xF0u) != 0) {
        fprintf(out, "%" PRId64, (int64_t)v);
    } else {
        fprintf(out, "%" PRIu64, v);
    }
}

/* One character of dump_raw's text column: printable as Python's str.isprintable says (Latin-1
 * characters in UTF-8), else '.'. */
static void print_char(FILE *out, uint8_t c)
{
    if (c >= 0x20 && c < 0x7F) {
        fputc(c, out);
    } else if (c >= 0xA1 && c != 0xAD) {
        fputc(0xC0 | (c >> 6), out);
        fputc(0x80 | (c & 0x3F), out);
    } else {
        fputc('.', out);
    }
}

/* A spanned entry's line: offset, 32 bytes in hex in two halves, and as text. */
static void print_child(FILE *out, unsigned i, const uint8_t *raw)
{
    fprintf(out, "      0x%03x  ", i * ENT);
    for (unsigned k = 0; k < ENT; k++) {
        fprintf(out, k == ENT / 2 ? " %02x " : "%02x ", raw[k]);
    }
    fputc(' ', out);
    for (unsigned k = 0; k < ENT; k++) {
        if (k == ENT / 2) {
            fputc(' ', out);
        }
        print_char(out, raw[k]);
    }
    fputc('\n', out);
}

/* The value part of an entry line of the full listing. */
static void print_entry_value(FILE *out, const uint8_t *raw)
{
    uint8_t t = raw[1];
    char key[17];
    if (type_name(t) == NULL || !is_variable(t)) {
        print_number(out, raw);
    } else if (!key_of(raw, key)) {
        fputs("None", out); /* nvs_tool.py fails here */
    } else if (t == 0x48) {
        fprintf(out, "Size=%" PRIu32 ", ChunkCount=%u, ChunkStart=%u", le(raw + 24, 4), raw[28],
                raw[29]);
    } else {
        fprintf(out, "Size=%" PRIu32 ", CRC32=%" PRIx32, le(raw + 24, 2), le(raw + 28, 4));
    }
    fputc('\n', out);
}

static void print_entry(FILE *out, const entry_t *e)
{
    const uint8_t *r = e->raw;
    const char *state = strcmp(e->state, "Erased") == 0 ? "Erased " : e->state;
    fprintf(out, " %03u. %s, Namespace Index: %03u, Type: ", e->index, state, r[0]);
    const char *tn = type_name(r[1]);
    if (tn != NULL) {
        fprintf(out, "%-10s", tn);
    } else {
        fprintf(out, "0x%02x      ", r[1]);
    }
    fprintf(out, ", Span: %03u, Chunk Index: %03u, CRC32: %8" PRIx32 " | ", r[2], r[3],
            le(r + 4, 4));
    print_key(out, r);
    fputs(": ", out);
    print_entry_value(out, r);
    for (unsigned i = 0; r[2] != 1 && i < e->nchildren; i++) {
        print_child(out, i, r + (i + 1) * ENT);
    }
}

/* Prints a run of empty entries: three or more as first, "...", last. */
static void flush_empty(FILE *out, unsigned first, unsigned count)
{
    if (count >= 3) {
        fprintf(out, " %03u. Empty\n ...\n %03u. Empty\n", first, first + count - 1);
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        fprintf(out, " %03u. Empty\n", first + i);
    }
}

/* Walks the entries of a page as nvs_tool.py does (an entry's span skips its children). */
static void page_entries(const uint8_t *pg, void (*fn)(void *ctx, const entry_t *e), void *ctx)
{
    for (unsigned i = FIRST; i < SLOTS;) {
        unsigned span = pg[i * ENT + 2];
        span = span == 0xFF || span == 0 ? 1 : span;
        entry_t e = {pg + i * ENT, i - FIRST, entry_state(pg, i - FIRST), 0};
        for (unsigned k = 1; k < span && i + k < SLOTS; k++) {
            e.nchildren++;
        }
        fn(ctx, &e);
        i += span;
    }
}

/* ---- -d all / written ------------------------------------------------------------------------ */

typedef struct {
    FILE *out;
    bool written_only;
    unsigned empty_first;
    unsigned empty_count;
} full_ctx_t;

static void full_entry(void *ctx, const entry_t *e)
{
    full_ctx_t *c = ctx;
    if (c->written_only && strcmp(e->state, "Written") != 0) {
        return;
    }
    if (strcmp(e->state, "Empty") == 0 && all_ff(e->raw, ENT)) {
        c->empty_first = c->empty_count == 0 ? e->index : c->empty_first;
        c->empty_count++;
        return;
    }
    flush_empty(c->out, c->empty_first, c->empty_count);
    c->empty_count = 0;
    print_entry(c->out, e);
}

static void full_page(FILE *out, const uint8_t *pg, uint32_t addr, bool written_only)
{
    if (all_ff(pg, ENT)) {
        fprintf(out, "Page Empty, Page address: 0x%" PRIx32 "\n", addr);
    } else {
        fprintf(out,
                "Page no. %" PRIu32 ", Status: %s, Version: %u, CRC32: %8" PRIx32
                ", Page address: 0x%" PRIx32 "\n",
                le(pg + 4, 4), page_status(pg), 256u - pg[8], le(pg + 28, 4), addr);
    }
    fputs(" Entry state bitmap: ", out);
    for (unsigned i = 0; i < ENT; i++) {
        fprintf(out, "%02x ", pg[ENT + i]);
    }
    fputc('\n', out);
    full_ctx_t c = {out, written_only, 0, 0};
    page_entries(pg, full_entry, &c);
    flush_empty(out, c.empty_first, c.empty_count);
    fputc('\n', out);
}

/* ---- -d minimal / namespaces --------------------------------------------------------------- */

typedef struct {
    FILE *out;
    bool known[256];
    bool named[256]; /* the key decoded (else nvs_tool.py prints None) */
    char name[256][17];
} ns_ctx_t;

static void ns_entry(void *ctx, const entry_t *e)
{
    ns_ctx_t *c = ctx;
    const uint8_t *r = e->raw;
    unsigned size = r[1] & 0x0Fu;
    if (strcmp(e->state, "Written") != 0 || r[0] != 0 || type_name(r[1]) == NULL ||
        !is_fixed(r[1]) || ((r[1] & 0xF0u) != 0 && (r[24 + size - 1] & 0x80u) != 0)) {
        return; /* not a namespace entry, or a negative index */
    }
    for (unsigned i = 1; i < size; i++) {
        if (r[24 + i] != 0) {
            return; /* an index past 255 names no namespace an entry can have */
        }
    }
    c->known[r[24]] = true;
    c->named[r[24]] = key_of(r, c->name[r[24]]);
}

/* Python's repr() of bytes. */
static void print_bytes_repr(FILE *out, const uint8_t *p, size_t n)
{
    bool sq = memchr(p, '\'', n) != NULL;
    bool dq = memchr(p, '"', n) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    fprintf(out, "b%c", quote);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == (uint8_t)quote || ch == '\\') {
            fprintf(out, "\\%c", ch);
        } else if (ch == '\t' || ch == '\n' || ch == '\r') {
            fprintf(out, "\\%c", ch == '\t' ? 't' : ch == '\n' ? 'n' : 'r');
        } else if (ch < 0x20 || ch >= 0x7F) {
            fprintf(out, "\\x%02x", ch);
        } else {
            fputc(ch, out);
        }
    }
    fputc(quote, out);
}

/* A string's or blob's bytes: its children, cut to its size. */
static void print_variable(FILE *out, const entry_t *e)
{
    size_t size = le(e->raw + 24, 2);
    size_t have = (size_t)e->nchildren * ENT;
    size_t n = size < have ? size : have;
    if (e->raw[1] == 0x21) {
        fwrite(e->raw + ENT, 1, n, out); /* decoded as UTF-8, with its NUL */
    } else {
        print_bytes_repr(out, e->raw + ENT, n);
    }
}

static void minimal_entry(void *ctx, const entry_t *e)
{
    ns_ctx_t *c = ctx;
    const uint8_t *r = e->raw;
    if (strcmp(e->state, "Written") != 0 || r[0] == 0 || r[1] == 0x48 || !c->known[r[0]]) {
        return;
    }
    fprintf(c->out, " %s:", c->named[r[0]] ? c->name[r[0]] : "None");
    print_key(c->out, r);
    if (type_name(r[1]) == NULL || !is_variable(r[1])) {
        fputs(" = ", c->out);
        print_number(c->out, r);
    } else if (r[1] == 0x42) {
        fprintf(c->out, "[%u] = ", r[3] >= 128 ? r[3] - 128u : r[3]);
    } else {
        fputs(" = ", c->out);
        print_variable(c->out, e);
    }
    fputc('\n', c->out);
}

static void minimal_page(ns_ctx_t *c, const uint8_t *pg)
{
    if (all_ff(pg, ENT)) {
        fputs("Page Empty\n", c->out);
    } else {
        fprintf(c->out, "Page no. %" PRIu32 ", Status: %s\n", le(pg + 4, 4), page_status(pg));
    }
    page_entries(pg, minimal_entry, c);
    fputc('\n', c->out);
}

static void print_namespaces(const ns_ctx_t *c)
{
    fputs("Index: Namespace\n", c->out);
    for (unsigned i = 0; i < 256; i++) {
        if (c->known[i]) {
            fprintf(c->out, " %03u: %s\n", i, c->named[i] ? c->name[i] : "None");
        }
    }
}

int ota_nvs_dump_print(FILE *out, const uint8_t *part, size_t len, ota_nvs_dump_t what)
{
    if (len % PAGE != 0) {
        return OTA_ERR_SIZE;
    }
    if (what == OTA_NVS_DUMP_ALL || what == OTA_NVS_DUMP_WRITTEN) {
        for (size_t off = 0; off < len; off += PAGE) {
            full_page(out, part + off, (uint32_t)off, what == OTA_NVS_DUMP_WRITTEN);
        }
        return OTA_OK;
    }
    static ns_ctx_t c;
    memset(&c, 0, sizeof(c));
    c.out = out;
    for (size_t off = 0; off < len; off += PAGE) {
        page_entries(part + off, ns_entry, &c);
    }
    if (what == OTA_NVS_DUMP_NAMESPACES) {
        print_namespaces(&c);
        return OTA_OK;
    }
    for (size_t off = 0; off < len; off += PAGE) {
        minimal_page(&c, part + off);
    }
    return OTA_OK;
}
