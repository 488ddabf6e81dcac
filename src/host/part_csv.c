/*
 * Partition tables as gen_esp32part.py reads and writes them: CSV parsing with automatic
 * placement, the generator's checks, its strict binary parser, CSV output and the built-in
 * tables. Values are carried as 64-bit signed numbers while parsing, as the generator computes
 * with unbounded integers, and narrowed to the 32-bit binary fields at the end.
 */
#include "ota/ota_part_csv.h"
#include "ota/ota_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ota/ota_posix.h"

#define PT_SIZE 0x1000                 /* the table's own sector */
#define NVS_RW_MIN_SIZE 0x3000         /* smaller NVS partitions must be readonly */
#define OTADATA_SIZE 0x2000            /* data/ota and data/tee_ota must be exactly this */
#define VALUE_LIMIT (INT64_C(1) << 62) /* |value| bound so sums of two never overflow */

/* ------------------------------------------------------------------------------------------ */
/* Keyword tables, in the generator's dictionary order (it matters for messages and output).  */

typedef struct kw {
    const char *name;
    int64_t value;
} kw_t;

typedef struct kwlist {
    kw_t *items;
    size_t n;
} kwlist_t;

static const kw_t type_kws[] = {
    {"bootloader", OTA_PART_TYPE_BOOTLOADER},
    {"partition_table", OTA_PART_TYPE_PARTITION_TABLE},
    {"app", OTA_PART_TYPE_APP},
    {"data", OTA_PART_TYPE_DATA},
};

static const kw_t bootloader_kws[] = {
    {"primary", OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY},
    {"ota", OTA_PART_SUBTYPE_BOOTLOADER_OTA},
    {"recovery", OTA_PART_SUBTYPE_BOOTLOADER_RECOVERY},
};

static const kw_t pt_kws[] = {
    {"primary", OTA_PART_SUBTYPE_PT_PRIMARY},
    {"ota", OTA_PART_SUBTYPE_PT_OTA},
};

static const kw_t app_kws[] = {
    {"factory", 0x00}, {"test", 0x20},   {"ota_0", 0x10},  {"ota_1", 0x11},  {"ota_2", 0x12},
    {"ota_3", 0x13},   {"ota_4", 0x14},  {"ota_5", 0x15},  {"ota_6", 0x16},  {"ota_7", 0x17},
    {"ota_8", 0x18},   {"ota_9", 0x19},  {"ota_10", 0x1a}, {"ota_11", 0x1b}, {"ota_12", 0x1c},
    {"ota_13", 0x1d},  {"ota_14", 0x1e}, {"ota_15", 0x1f}, {"tee_0", 0x30},  {"tee_1", 0x31},
};

static const kw_t data_kws[] = {
    {"ota", 0x00},      {"phy", 0x01},    {"nvs", 0x02},       {"coredump", 0x03},
    {"nvs_keys", 0x04}, {"efuse", 0x05},  {"undefined", 0x06}, {"esphttpd", 0x80},
    {"fat", 0x81},      {"spiffs", 0x82}, {"littlefs", 0x83},  {"tee_ota", 0x90},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Everything a parse needs besides the input. */
typedef struct ctx {
    ota_part_csv_opts_t o;
    uint32_t table_offset;
    kwlist_t sub[4]; /* subtype keywords of types 0..3, built-ins then extras */
} ctx_t;

static void ctx_free(ctx_t *c)
{
    for (size_t t = 0; t < 4; t++) {
        free(c->sub[t].items);
        c->sub[t].items = NULL;
        c->sub[t].n = 0;
    }
}

static const kw_t *builtin_subtypes(size_t type, size_t *n)
{
    switch (type) {
    case OTA_PART_TYPE_APP:
        *n = ARRAY_LEN(app_kws);
        return app_kws;
    case OTA_PART_TYPE_DATA:
        *n = ARRAY_LEN(data_kws);
        return data_kws;
    case OTA_PART_TYPE_BOOTLOADER:
        *n = ARRAY_LEN(bootloader_kws);
        return bootloader_kws;
    default:
        *n = ARRAY_LEN(pt_kws);
        return pt_kws;
    }
}

static bool kw_has_value(const kwlist_t *l, int64_t v)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].value == v) {
            return true;
        }
    }
    return false;
}

/* Adds (or, for a known name, re-values) one keyword, as a dictionary assignment does. */
static void kw_set(kwlist_t *l, const char *name, int64_t v)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].name, name) == 0) {
            l->items[i].value = v;
            return;
        }
    }
    l->items[l->n].name = name;
    l->items[l->n].value = v;
    l->n++;
}

static int ctx_init(ctx_t *c, const ota_part_csv_opts_t *opts, ota_diag_t *diag)
{
    memset(c, 0, sizeof(*c));
    if (opts != NULL) {
        c->o = *opts;
    }
    c->table_offset = c->o.table_offset ? c->o.table_offset : OTA_PART_TABLE_OFFSET_DEFAULT;
    if (c->o.extra_subtype_count > 0 && c->o.extra_subtypes == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "extra subtypes missing");
    }
    for (size_t t = 0; t < 4; t++) {
        size_t n;
        const kw_t *b = builtin_subtypes(t, &n);
        c->sub[t].items = calloc(n + c->o.extra_subtype_count, sizeof(kw_t));
        if (c->sub[t].items == NULL) {
            ctx_free(c);
            return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
        }
        memcpy(c->sub[t].items, b, n * sizeof(kw_t));
        c->sub[t].n = n;
    }
    if (c->o.has_primary_bootloader_offset && c->o.primary_bootloader_offset >= c->table_offset) {
        ctx_free(c);
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Unsupported configuration. Primary bootloader must be below partition "
                            "table. Check --primary-bootloader-offset=0x%x and --offset=0x%x",
                            (unsigned)c->o.primary_bootloader_offset, (unsigned)c->table_offset);
    }
    for (size_t i = 0; i < c->o.extra_subtype_count; i++) {
        const ota_part_subtype_def_t *x = &c->o.extra_subtypes[i];
        if (x->type > OTA_PART_TYPE_PARTITION_TABLE || x->name == NULL) {
            ctx_free(c);
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Error parsing custom subtypes: Invalid partition type");
        }
        if (kw_has_value(&c->sub[x->type], x->value)) {
            ctx_free(c);
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Found duplicate value in partition subtype");
        }
        kw_set(&c->sub[x->type], x->name, x->value);
    }
    return OTA_OK;
}

static const kwlist_t *ctx_subtypes(const ctx_t *c, int64_t type)
{
    static const kwlist_t empty = {NULL, 0};
    return type >= 0 && type <= 3 ? &c->sub[type] : &empty;
}

int ota_part_csv_check_opts(const ota_part_csv_opts_t *opts, ota_diag_t *diag)
{
    ctx_t c;
    int err = ctx_init(&c, opts, diag);
    if (err == OTA_OK) {
        ctx_free(&c);
    }
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Python text helpers: UTF-8, whitespace as str.strip() sees it, line breaks of splitlines(). */

/* Decodes one code point of valid UTF-8 at p (at most end - p bytes); *n gets its length. */
static uint32_t u8_decode(const unsigned char *p, const unsigned char *end, size_t *n)
{
    if (p[0] < 0x80 || end - p < 2) {
        *n = 1;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0) {
        *n = 2;
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if ((p[0] & 0xF0) == 0xE0 && end - p >= 3) {
        *n = 3;
        return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if (end - p >= 4) {
        *n = 4;
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
               ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
    *n = 1;
    return p[0];
}

/* Strict UTF-8 check as Python's decoder: no overlongs, surrogates or values past U+10FFFF. */
static bool u8_valid(const unsigned char *s, size_t len, size_t *bad)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        size_t need;
        uint32_t min;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
            min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            min = 0x10000;
        } else {
            *bad = i;
            return false;
        }
        if (len - i <= need) {
            *bad = i;
            return false;
        }
        uint32_t cp = b & (0x3F >> need);
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = i;
            return false;
        }
        i += need + 1;
    }
    return true;
}

static bool py_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* str.strip() on [*b, *e) of valid UTF-8. */
static void py_strip(const char **b, const char **e)
{
    const unsigned char *p = (const unsigned char *)*b;
    const unsigned char *q = (const unsigned char *)*e;
    while (p < q) {
        size_t n;
        uint32_t cp = u8_decode(p, q, &n);
        if (!py_space(cp)) {
            break;
        }
        p += n;
    }
    while (q > p) {
        const unsigned char *s = q - 1;
        while (s > p && (*s & 0xC0) == 0x80) {
            s--;
        }
        size_t n;
        uint32_t cp = u8_decode(s, q, &n);
        if (!py_space(cp) || s + n != q) {
            break;
        }
        q = s;
    }
    *b = (const char *)p;
    *e = (const char *)q;
}

/* Length of the line break of str.splitlines() at p, or 0. */
static size_t line_break_len(const unsigned char *p, const unsigned char *end)
{
    switch (p[0]) {
    case '\r':
        return (end - p >= 2 && p[1] == '\n') ? 2 : 1;
    case '\n':
    case 0x0B:
    case 0x0C:
    case 0x1C:
    case 0x1D:
    case 0x1E:
        return 1;
    case 0xC2:
        return (end - p >= 2 && p[1] == 0x85) ? 2 : 0;
    case 0xE2:
        return (end - p >= 3 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) ? 3 : 0;
    default:
        return 0;
    }
}

/* Appends code point cp as UTF-8. */
static size_t u8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decodes the input as the generator does: a BOM picks UTF-8 (BOM dropped), UTF-16 (FF FE or
 * FE FF; note that a UTF-32 LE BOM also starts FF FE and is read as UTF-16, as there) or UTF-32
 * (00 00 FE FF); otherwise strict UTF-8. *out is malloc'ed UTF-8 text.
 */
static int decode_text(const uint8_t *d, size_t len, char **out, size_t *out_len, ota_diag_t *diag)
{
    int unit = 1;
    bool big = false;
    size_t skip = 0;
    if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) {
        skip = 3;
    } else if (len >= 2 && d[0] == 0xFF && d[1] == 0xFE) {
        unit = 2;
        skip = 2;
    } else if (len >= 2 && d[0] == 0xFE && d[1] == 0xFF) {
        unit = 2;
        big = true;
        skip = 2;
    } else if (len >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0xFE && d[3] == 0xFF) {
        unit = 4;
        big = true;
        skip = 4;
    }
    d += skip;
    len -= skip;
    if (unit == 1) {
        size_t bad;
        if (!u8_valid(d, len, &bad)) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX,
                                "'utf-8' codec can't decode byte 0x%02x in position %zu", d[bad],
                                bad + skip);
        }
        char *t = malloc(len + 1);
        if (t == NULL) {
            return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
        }
        memcpy(t, d, len);
        t[len] = 0;
        *out = t;
        *out_len = len;
        return OTA_OK;
    }
    const char *codec = unit == 2 ? "utf-16" : "utf-32";
    if (len % (size_t)unit != 0) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "'%s' codec can't decode: truncated data", codec);
    }
    char *t = malloc(len * 2 + 1); /* at most 4 UTF-8 bytes per 2 input bytes */
    if (t == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += (size_t)unit) {
        uint32_t cp;
        if (unit == 2) {
            cp = big ? (uint32_t)(d[i] << 8 | d[i + 1]) : (uint32_t)(d[i + 1] << 8 | d[i]);
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
                uint32_t lo = big ? (uint32_t)(d[i + 2] << 8 | d[i + 3])
                                  : (uint32_t)(d[i + 3] << 8 | d[i + 2]);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
        } else {
            cp = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 | (uint32_t)d[i + 2] << 8 |
                 d[i + 3];
        }
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            free(t);
            return ota_diag_set(diag, OTA_ERR_SYNTAX,
                                "'%s' codec can't decode bytes in position %zu", codec, i + skip);
        }
        o += u8_put(t + o, cp);
    }
    t[o] = 0;
    *out = t;
    *out_len = o;
    return OTA_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers as the generator parses them.                                                      */

static bool is_digit_in(char ch, int base)
{
    int v;
    if (ch >= '0' && ch <= '9') {
        v = ch - '0';
    } else if (ch >= 'a' && ch <= 'z') {
        v = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'Z') {
        v = ch - 'A' + 10;
    } else {
        return false;
    }
    return v < base;
}

static int digit_val(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    return (ch | 0x20) - 'a' + 10;
}

/*
 * Digits of base with single underscores between them (and, when lead_us, one allowed before
 * the first digit, as after a 0x prefix). Returns false on bad syntax or a value past 2^63-1.
 */
static bool parse_digits(const char *p, const char *e, int base, bool lead_us, uint64_t *out)
{
    uint64_t v = 0;
    bool any = false;
    bool prev_us = false;
    if (lead_us && p < e && *p == '_') {
        p++;
        prev_us = true;
    }
    for (; p < e; p++) {
        if (*p == '_') {
            if (prev_us || !any) {
                return false;
            }
            prev_us = true;
            continue;
        }
        if (!is_digit_in(*p, base)) {
            return false;
        }
        if (v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - (uint64_t)digit_val(*p)) / (uint64_t)base) {
            return false;
        }
        v = v * (uint64_t)base + (uint64_t)digit_val(*p);
        any = true;
        prev_us = false;
    }
    if (!any || prev_us) {
        return false;
    }
    *out = v;
    return true;
}

/* Python int(s, 0) over [b, e). */
static bool pyint_slice(const char *b, const char *e, int64_t *out)
{
    py_strip(&b, &e);
    bool neg = false;
    if (b < e && (*b == '+' || *b == '-')) {
        neg = *b == '-';
        b++;
    }
    if (b >= e) {
        return false;
    }
    uint64_t v;
    if (e - b >= 2 && b[0] == '0' && strchr("xXoObB", b[1]) != NULL && b[1] != '\0') {
        int base = (b[1] | 0x20) == 'x' ? 16 : (b[1] | 0x20) == 'o' ? 8 : 2;
        if (!parse_digits(b + 2, e, base, true, &v)) {
            return false;
        }
    } else {
        if (!parse_digits(b, e, 10, false, &v)) {
            return false;
        }
        if (b[0] == '0' && v != 0) {
            return false; /* leading zeros are only allowed in zero itself */
        }
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

bool ota_part_parse_pyint(const char *s, int64_t *out)
{
    if (s == NULL || out == NULL) {
        return false;
    }
    const char *e = s + strlen(s);
    size_t bad;
    if (!u8_valid((const unsigned char *)s, (size_t)(e - s), &bad)) {
        return false;
    }
    return pyint_slice(s, e, out);
}

/* "0x1f" or "-0x1f", as Python's '0x%x' % v prints it. */
typedef struct hexbuf {
    char s[24];
} hexbuf_t;

static hexbuf_t py_hex(int64_t v)
{
    hexbuf_t h;
    if (v < 0) {
        snprintf(h.s, sizeof(h.s), "-0x%llx", (unsigned long long)(-(uint64_t)v));
    } else {
        snprintf(h.s, sizeof(h.s), "0x%llx", (unsigned long long)v);
    }
    return h;
}

static int64_t py_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

static bool lower_eq(const char *a, size_t alen, const char *kw)
{
    size_t i = 0;
    for (; i < alen && kw[i] != '\0'; i++) {
        char ch = a[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
        }
        if (ch != kw[i]) {
            return false;
        }
    }
    return i == alen && kw[i] == '\0';
}

/*
 * The generator's field parser: trailing k/K/m/M letters multiply by 1024 / 1048576 (each one,
 * recursively), the rest is int(x, 0) or else a keyword (lower-cased) of kw. Messages name the
 * innermost text, as the recursion does.
 */
static int parse_field(const char *v, const kwlist_t *kw, int64_t *out, ota_diag_t *diag)
{
    size_t len = strlen(v);
    int shift = 0;
    while (len > 0) {
        char ch = (char)(v[len - 1] | 0x20);
        if (ch == 'k') {
            shift += 10;
        } else if (ch == 'm') {
            shift += 20;
        } else {
            break;
        }
        len--;
        if (shift > 80) {
            shift = 80; /* large enough to overflow any non-zero value */
        }
    }
    int64_t val;
    if (!pyint_slice(v, v + len, &val)) {
        if (kw == NULL || kw->n == 0) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX, "Invalid field value %.*s", (int)len, v);
        }
        size_t i = 0;
        for (; i < kw->n; i++) {
            if (lower_eq(v, len, kw->items[i].name)) {
                break;
            }
        }
        if (i == kw->n) {
            char known[400];
            size_t k = 0;
            known[0] = 0;
            for (size_t j = 0; j < kw->n && k < sizeof(known); j++) {
                int w = snprintf(known + k, sizeof(known) - k, "%s%s", j ? ", " : "",
                                 kw->items[j].name);
                k += w > 0 ? (size_t)w : 0;
            }
            return ota_diag_set(diag, OTA_ERR_SYNTAX,
                                "Value '%.*s' is not valid. Known keywords: %s", (int)len, v,
                                known);
        }
        val = kw->items[i].value;
    }
    if (val != 0) {
        uint64_t mag = val < 0 ? -(uint64_t)val : (uint64_t)val;
        if (shift >= 62 || mag > ((uint64_t)VALUE_LIMIT >> shift)) {
            return ota_diag_set(diag, OTA_ERR_BOUNDS, "Value %s is out of range", v);
        }
        val = val < 0 ? -(int64_t)(mag << shift) : (int64_t)(mag << shift);
    }
    if (val > VALUE_LIMIT || val < -VALUE_LIMIT) {
        return ota_diag_set(diag, OTA_ERR_BOUNDS, "Value %s is out of range", v);
    }
    *out = val;
    return OTA_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows: one partition while parsing and checking.                                            */

typedef struct row {
    char *name; /* full name (malloc'ed) */
    int64_t type;
    int64_t subtype;
    bool has_offset;
    int64_t offset;
    int64_t size;
    bool encrypted;
    bool readonly;
    uint32_t other_flags; /* unknown flag bits from a binary */
    int line_no;
} row_t;

typedef struct rows {
    row_t *v;
    size_t n;
    size_t cap;
} rows_t;

static void rows_free(rows_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].name);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static row_t *rows_add(rows_t *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        row_t *v = realloc(r->v, cap * sizeof(row_t));
        if (v == NULL) {
            return NULL;
        }
        r->v = v;
        r->cap = cap;
    }
    row_t *row = &r->v[r->n++];
    memset(row, 0, sizeof(*row));
    return row;
}

static bool is_primary_bootloader(const row_t *r)
{
    return r->type == OTA_PART_TYPE_BOOTLOADER && r->subtype == OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY;
}

static bool is_primary_table(const row_t *r)
{
    return r->type == OTA_PART_TYPE_PARTITION_TABLE && r->subtype == OTA_PART_SUBTYPE_PT_PRIMARY;
}

static int64_t offset_align(int64_t type)
{
    return type == OTA_PART_TYPE_APP ? 0x10000 : 0x1000;
}

static void warnf(const ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(const ctx_t *c, const char *fmt, ...)
{
    if (c->o.warn == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        c->o.warn(c->o.warn_ctx, msg);
        free(msg);
    }
}

/* PartitionDefinition.verify: one partition. */
static int verify_row(const ctx_t *c, const row_t *r, ota_diag_t *diag)
{
    int64_t align = offset_align(r->type);
    if (py_mod(r->offset, align) != 0) {
        return ota_diag_set(diag, OTA_ERR_ALIGN,
                            "Partition %s invalid: Offset %s is not aligned to 0x%llx", r->name,
                            py_hex(r->offset).s, (unsigned long long)align);
    }
    if (r->type == OTA_PART_TYPE_APP) {
        int64_t salign = c->o.secure == OTA_PART_SECURE_V1 ? 0x10000 : 0x1000;
        if (py_mod(r->size, salign) != 0) {
            return ota_diag_set(diag, OTA_ERR_ALIGN,
                                "Partition %s invalid: Size %s is not aligned to 0x%llx", r->name,
                                py_hex(r->size).s, (unsigned long long)salign);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(type_kws); i++) {
        if (strcmp(r->name, type_kws[i].name) == 0 && type_kws[i].value != r->type) {
            warnf(c,
                  "WARNING: Partition has name '%s' which is a partition type, but does not "
                  "match this partition's type (%s). Mistake in partition table?",
                  r->name, py_hex(r->type).s);
        }
    }
    bool is_subtype_name = false;
    for (size_t t = 0; t < 4 && !is_subtype_name; t++) {
        for (size_t i = 0; i < c->sub[t].n; i++) {
            if (strcmp(r->name, c->sub[t].items[i].name) == 0) {
                is_subtype_name = true;
                break;
            }
        }
    }
    if (is_subtype_name) {
        const kwlist_t *own = ctx_subtypes(c, r->type);
        bool matches = false;
        for (size_t i = 0; i < own->n; i++) {
            if (strcmp(r->name, own->items[i].name) == 0) {
                matches = own->items[i].value == r->subtype;
                break;
            }
        }
        if (!matches) {
            warnf(c,
                  "WARNING: Partition has name '%s' which is a partition subtype, but this "
                  "partition has non-matching type %s and subtype %s. Mistake in partition "
                  "table?",
                  r->name, py_hex(r->type).s, py_hex(r->subtype).s);
        }
    }
    if (r->type == OTA_PART_TYPE_DATA &&
        (r->subtype == OTA_PART_SUBTYPE_DATA_OTA || r->subtype == OTA_PART_SUBTYPE_DATA_COREDUMP) &&
        r->readonly) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Partition %s invalid: '%s' partition of type %lld and subtype %lld is "
                            "always read-write and cannot be read-only",
                            r->name, r->name, (long long)r->type, (long long)r->subtype);
    }
    if (r->type == OTA_PART_TYPE_DATA && r->subtype == OTA_PART_SUBTYPE_DATA_NVS &&
        r->size < NVS_RW_MIN_SIZE && !r->readonly) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "Partition %s invalid: '%s' partition of type %lld and subtype %lld of "
                            "this size (%s) must be flagged as 'readonly' (the size of read/write "
                            "NVS has to be at least 0x%x)",
                            r->name, r->name, (long long)r->type, (long long)r->subtype,
                            py_hex(r->size).s, NVS_RW_MIN_SIZE);
    }
    return OTA_OK;
}

/* qsort keys: offset then original position (a stable sort), or name then position. */
typedef struct sort_key {
    const row_t *r;
    size_t pos;
} sort_key_t;

static int cmp_offset(const void *a, const void *b)
{
    const sort_key_t *x = a;
    const sort_key_t *y = b;
    if (x->r->offset != y->r->offset) {
        return x->r->offset < y->r->offset ? -1 : 1;
    }
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

static int cmp_name(const void *a, const void *b)
{
    const sort_key_t *x = a;
    const sort_key_t *y = b;
    int d = strcmp(x->r->name, y->r->name);
    if (d != 0) {
        return d;
    }
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* PartitionTable.verify. */
static int verify_rows(const ctx_t *c, const rows_t *rows, ota_diag_t *diag)
{
    for (size_t i = 0; i < rows->n; i++) {
        int err = verify_row(c, &rows->v[i], diag);
        if (err != OTA_OK) {
            return err;
        }
    }
    if (rows->n == 0) {
        return OTA_OK;
    }
    sort_key_t *k = malloc(rows->n * sizeof(*k));
    if (k == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    for (size_t i = 0; i < rows->n; i++) {
        k[i].r = &rows->v[i];
        k[i].pos = i;
    }
    qsort(k, rows->n, sizeof(*k), cmp_name);
    for (size_t i = 1; i < rows->n; i++) {
        if (strcmp(k[i - 1].r->name, k[i].r->name) == 0) {
            free(k);
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "Partition names must be unique");
        }
    }
    qsort(k, rows->n, sizeof(*k), cmp_offset);
    int64_t floor = (int64_t)c->table_offset + PT_SIZE;
    const row_t *last = NULL;
    for (size_t i = 0; i < rows->n; i++) {
        const row_t *p = k[i].r;
        if (p->offset < floor && !is_primary_bootloader(p) && !is_primary_table(p)) {
            free(k);
            return ota_diag_set(diag, OTA_ERR_BOUNDS, "Partition offset %s is below 0x%llx",
                                py_hex(p->offset).s, (long long)floor);
        }
        if (last != NULL && p->offset < last->offset + last->size) {
            free(k);
            return ota_diag_set(diag, OTA_ERR_BOUNDS, "Partition at %s overlaps %s-%s",
                                py_hex(p->offset).s, py_hex(last->offset).s,
                                py_hex(last->offset + last->size - 1).s);
        }
        last = p;
    }
    free(k);
    static const struct {
        int64_t subtype;
        const char *multiple;
        const char *size;
    } ota_like[] = {
        {OTA_PART_SUBTYPE_DATA_OTA,
         "Found multiple otadata partitions. Only one partition can be defined with "
         "type=\"data\"(1) and subtype=\"ota\"(0).",
         "otadata partition must have size = 0x2000"},
        {OTA_PART_SUBTYPE_DATA_TEE_OTA,
         "Found multiple TEE otadata partitions. Only one partition can be defined with "
         "type=\"data\"(1) and subtype=\"tee_ota\"(0x90).",
         "TEE otadata partition must have size = 0x2000"},
    };
    for (size_t t = 0; t < ARRAY_LEN(ota_like); t++) {
        const row_t *found = NULL;
        size_t n = 0;
        for (size_t i = 0; i < rows->n; i++) {
            if (rows->v[i].type == OTA_PART_TYPE_DATA &&
                rows->v[i].subtype == ota_like[t].subtype) {
                found = &rows->v[i];
                n++;
            }
        }
        if (n > 1) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s", ota_like[t].multiple);
        }
        if (n == 1 && found->size != OTADATA_SIZE) {
            return ota_diag_set(diag, OTA_ERR_SIZE, "%s", ota_like[t].size);
        }
    }
    return OTA_OK;
}

/* PartitionTable.verify_size_fits, with flash_size() taking the entry of highest offset. */
static int check_flash_size(const ctx_t *c, const rows_t *rows, ota_diag_t *diag)
{
    if (c->o.flash_size == 0) {
        return OTA_OK;
    }
    const row_t *last = NULL;
    for (size_t i = 0; i < rows->n; i++) {
        if (last == NULL || rows->v[i].offset > last->offset) {
            last = &rows->v[i];
        }
    }
    int64_t used = last != NULL ? last->offset + last->size : 0;
    if ((int64_t)c->o.flash_size < used) {
        const double mb = 1024.0 * 1024.0;
        return ota_diag_set(
            diag, OTA_ERR_NO_SPACE,
            "Partitions tables occupies %.1fMB of flash (%lld bytes) which does not "
            "fit in configured flash size %dMB. Change the flash size in menuconfig "
            "under the 'Serial Flasher Config' menu.",
            (double)used / mb, (long long)used, (int)(c->o.flash_size / 0x100000u));
    }
    return OTA_OK;
}

/* Narrows checked rows into the binary table (PartitionTable.to_binary's packing and length). */
/* The checks of parsed rows, CSV or binary: verify_rows (unless no_verify), then the flash size. */
static int check_rows(const ctx_t *c, const rows_t *rows, ota_diag_t *diag)
{
    int err = c->o.no_verify ? OTA_OK : verify_rows(c, rows, diag);
    if (err == OTA_OK) {
        err = check_flash_size(c, rows, diag);
    }
    return err;
}

/* The rows (whose fields fit the binary entry) as out's entries; has_md5 = md5. */
static void rows_copy(const rows_t *rows, bool md5, ota_part_table_t *out)
{
    for (size_t i = 0; i < rows->n; i++) {
        const row_t *r = &rows->v[i];
        ota_part_t *p = &out->parts[i];
        memset(p, 0, sizeof(*p));
        p->type = (uint8_t)r->type;
        p->subtype = (uint8_t)r->subtype;
        p->offset = (uint32_t)r->offset;
        p->size = (uint32_t)r->size;
        memcpy(p->label, r->name, strnlen(r->name, OTA_PART_LABEL_LEN)); /* struct '16s' cut */
        p->flags = (r->encrypted ? OTA_PART_FLAG_ENCRYPTED : 0) |
                   (r->readonly ? OTA_PART_FLAG_READONLY : 0) | r->other_flags;
    }
    out->count = (int)rows->n;
    out->has_md5 = md5;
}

static int rows_to_table(const ctx_t *c, const rows_t *rows, bool md5, ota_part_table_t *out,
                         ota_diag_t *diag)
{
    for (size_t i = 0; i < rows->n; i++) {
        const row_t *r = &rows->v[i];
        const char *what = NULL;
        int64_t v = 0;
        if (r->type < 0 || r->type > 0xFF) {
            what = "type";
            v = r->type;
        } else if (r->subtype < 0 || r->subtype > 0xFF) {
            what = "subtype";
            v = r->subtype;
        } else if (r->offset < 0 || r->offset > 0xFFFFFFFF) {
            what = "offset";
            v = r->offset;
        } else if (r->size < 0 || r->size > 0xFFFFFFFF) {
            what = "size";
            v = r->size;
        }
        if (what != NULL) {
            return ota_diag_set(diag, OTA_ERR_BOUNDS,
                                "Partition %s invalid: %s %s does not fit its binary field",
                                r->name, what, py_hex(v).s);
        }
    }
    size_t len = rows->n * OTA_PART_ENTRY_SIZE + (md5 ? OTA_PART_ENTRY_SIZE : 0);
    if (len >= OTA_PART_TABLE_MAX_LEN) {
        return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                            "Binary partition table length (%zu) longer than max", len);
    }
    (void)c;
    rows_copy(rows, md5, out);
    return OTA_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* CSV input.                                                                                 */

static bool is_word(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* os.path.expandvars: $NAME and ${NAME} replaced when set in the environment, else kept. */
static int expand_vars(const char *p, const char *e, ota_buf_t *out)
{
    ota_buf_put(out, "", 0);
    const char *i = p;
    while (i < e) {
        const char *d = memchr(i, '$', (size_t)(e - i));
        if (d == NULL) {
            break;
        }
        const char *nb = NULL;
        const char *ne = NULL;
        const char *j = NULL;
        if (d + 1 < e && is_word(d[1])) {
            nb = d + 1;
            ne = nb;
            while (ne < e && is_word(*ne)) {
                ne++;
            }
            j = ne;
        } else if (d + 1 < e && d[1] == '{') {
            const char *close = memchr(d + 2, '}', (size_t)(e - (d + 2)));
            if (close != NULL) {
                nb = d + 2;
                ne = close;
                j = close + 1;
            }
        }
        if (j == NULL) {
            ota_buf_put(out, i, (size_t)(d + 1 - i));
            i = d + 1;
            continue;
        }
        const char *value = NULL;
        size_t nlen = (size_t)(ne - nb);
        if (nlen > 0 && memchr(nb, '=', nlen) == NULL && memchr(nb, 0, nlen) == NULL) {
            char *name = strndup(nb, nlen);
            if (name == NULL) {
                return OTA_ERR_NO_MEM;
            }
            value = getenv(name);
            free(name);
        }
        ota_buf_put(out, i, (size_t)(d - i));
        if (value != NULL) {
            ota_buf_put(out, value, strlen(value));
        } else {
            ota_buf_put(out, d, (size_t)(j - d));
        }
        i = j;
    }
    ota_buf_put(out, i, (size_t)(e - i));
    return out->oom ? OTA_ERR_NO_MEM : OTA_OK;
}

/* Splits s in place on ',' into up to six stripped, NUL-terminated fields (missing = ""). */
static void split_fields(char *s, char *f[6])
{
    static char empty[1] = "";
    size_t n = 0;
    char *p = s;
    while (n < 6) {
        char *comma = strchr(p, ',');
        if (comma != NULL) {
            *comma = 0;
        }
        const char *b = p;
        const char *e = p + strlen(p);
        py_strip(&b, &e);
        *(char *)e = 0;
        f[n++] = (char *)b;
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    while (n < 6) {
        f[n++] = empty;
    }
}

/* PartitionDefinition.from_csv for one stripped line (NUL-terminated, modified in place). */
static int parse_line(const ctx_t *c, char *line, int line_no, row_t *r, ota_diag_t *diag)
{
    char *f[6];
    split_fields(line, f);
    r->line_no = line_no;
    r->name = strdup(f[0]);
    if (r->name == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    if (f[1][0] == 0) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "Field 'type' can't be left empty.");
    }
    static const kwlist_t types = {(kw_t *)type_kws, ARRAY_LEN(type_kws)};
    int err = parse_field(f[1], &types, &r->type, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (f[2][0] == 0) {
        if (r->type == OTA_PART_TYPE_APP) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX, "App partition cannot have an empty subtype");
        }
        r->subtype = OTA_PART_SUBTYPE_DATA_UNDEFINED;
    } else {
        err = parse_field(f[2], ctx_subtypes(c, r->type), &r->subtype, diag);
        if (err != OTA_OK) {
            return err;
        }
    }
    /* Offset: forced for the primary bootloader, the recovery bootloader, the primary table. */
    if (r->type == OTA_PART_TYPE_BOOTLOADER && r->subtype == OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY) {
        if (!c->o.has_primary_bootloader_offset) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Primary bootloader offset is not defined. "
                                "Please use --primary-bootloader-offset");
        }
        r->offset = c->o.primary_bootloader_offset;
        r->has_offset = true;
    } else if (r->type == OTA_PART_TYPE_BOOTLOADER &&
               r->subtype == OTA_PART_SUBTYPE_BOOTLOADER_RECOVERY) {
        if (!c->o.has_recovery_bootloader_offset) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Recovery bootloader offset is not defined. "
                                "Please use --recovery-bootloader-offset");
        }
        r->offset = c->o.recovery_bootloader_offset;
        r->has_offset = true;
    } else if (is_primary_table(r)) {
        r->offset = c->table_offset;
        r->has_offset = true;
    } else if (f[3][0] != 0) {
        err = parse_field(f[3], NULL, &r->offset, diag);
        if (err != OTA_OK) {
            return err;
        }
        r->has_offset = true;
    }
    /* Size: forced for bootloader and partition_table types. */
    if (r->type == OTA_PART_TYPE_BOOTLOADER) {
        if (!c->o.has_primary_bootloader_offset) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Primary bootloader offset is not defined. "
                                "Please use --primary-bootloader-offset");
        }
        r->size = (int64_t)c->table_offset - (int64_t)c->o.primary_bootloader_offset;
    } else if (r->type == OTA_PART_TYPE_PARTITION_TABLE) {
        r->size = PT_SIZE;
    } else if (f[4][0] == 0) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "Size field can't be empty");
    } else {
        err = parse_field(f[4], NULL, &r->size, diag);
        if (err != OTA_OK) {
            return err;
        }
    }
    /* Flags: colon-separated, exact names. */
    char *fl = f[5];
    for (;;) {
        char *colon = strchr(fl, ':');
        if (colon != NULL) {
            *colon = 0;
        }
        if (strcmp(fl, "encrypted") == 0) {
            r->encrypted = true;
        } else if (strcmp(fl, "readonly") == 0) {
            r->readonly = true;
        } else if (fl[0] != 0) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX, "CSV flag column contains unknown flag '%s'",
                                fl);
        }
        if (colon == NULL) {
            break;
        }
        fl = colon + 1;
    }
    return OTA_OK;
}

static bool row_eq(const row_t *a, const row_t *b)
{
    return strcmp(a->name, b->name) == 0 && a->type == b->type && a->subtype == b->subtype &&
           a->has_offset == b->has_offset && (!a->has_offset || a->offset == b->offset) &&
           a->size == b->size;
}

/* PartitionTable.from_csv: lines to rows, then offsets placed and negative sizes resolved. */
static int csv_rows(const ctx_t *c, const char *text, size_t len, rows_t *rows, ota_diag_t *diag)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + len;
    int line_no = 0;
    ota_buf_t buf = {0};
    int err = OTA_OK;
    while (p < end) {
        const unsigned char *q = p;
        size_t br = 0;
        while (q < end && (br = line_break_len(q, end)) == 0) {
            q++;
        }
        line_no++;
        buf.len = 0;
        err = expand_vars((const char *)p, (const char *)q, &buf);
        const char *s = (const char *)buf.p;
        p = q < end ? q + br : q;
        if (err != OTA_OK) {
            err = ota_diag_set(diag, err, "out of memory");
            break;
        }
        if (s[0] == '$' && (is_word(s[1]) && !(s[1] >= '0' && s[1] <= '9'))) {
            size_t n = 1;
            while (is_word(s[1 + n])) {
                n++;
            }
            err = ota_diag_set(diag, OTA_ERR_SYNTAX, "unknown variable '%.*s'", (int)n, s + 1);
            break;
        }
        const char *b = s;
        const char *e = s + buf.len;
        py_strip(&b, &e);
        if (b == e || *b == '#') {
            continue;
        }
        *(char *)e = 0;
        row_t *r = rows_add(rows);
        if (r == NULL) {
            err = ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
            break;
        }
        ota_diag_t inner;
        inner.msg[0] = 0;
        err = parse_line(c, (char *)b, line_no, r, &inner);
        if (err != OTA_OK) {
            ota_diag_set(diag, err, "Error at line %d: %s", line_no, inner.msg);
            break;
        }
    }
    ota_buf_free(&buf);
    if (err != OTA_OK) {
        return err;
    }
    int64_t last_end = (int64_t)c->table_offset + PT_SIZE;
    for (size_t i = 0; i < rows->n; i++) {
        row_t *e = &rows->v[i];
        if (is_primary_bootloader(e) || is_primary_table(e)) {
            continue;
        }
        if (e->has_offset && e->offset < last_end) {
            if (row_eq(e, &rows->v[0])) {
                return ota_diag_set(diag, OTA_ERR_BOUNDS,
                                    "CSV Error at line %d: Partitions overlap. Partition sets "
                                    "offset %s. But partition table occupies the whole sector "
                                    "0x%x. Use a free offset %s or higher.",
                                    e->line_no, py_hex(e->offset).s, (unsigned)c->table_offset,
                                    py_hex(last_end).s);
            }
            return ota_diag_set(diag, OTA_ERR_BOUNDS,
                                "CSV Error at line %d: Partitions overlap. Partition sets offset "
                                "%s. Previous partition ends %s",
                                e->line_no, py_hex(e->offset).s, py_hex(last_end).s);
        }
        if (!e->has_offset) {
            int64_t pad = offset_align(e->type);
            if (py_mod(last_end, pad) != 0) {
                last_end += pad - py_mod(last_end, pad);
            }
            e->offset = last_end;
            e->has_offset = true;
        }
        if (e->size < 0) {
            e->size = -e->size - e->offset;
        }
        last_end = e->offset + e->size;
    }
    return OTA_OK;
}

/*
 * The start of both parsers: checks the arguments (input may be NULL only when empty), empties
 * *out and sets up the context *c from opts.
 */
static int parse_begin(const void *in, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, ctx_t *c, ota_diag_t *diag)
{
    if (out == NULL || (in == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    out->count = 0;
    out->has_md5 = false;
    return ctx_init(c, opts, diag);
}

int ota_part_csv_parse(const char *text, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, ota_diag_t *diag)
{
    ctx_t c;
    int err = parse_begin(text, len, opts, out, &c, diag);
    if (err != OTA_OK) {
        return err;
    }
    char *utf8 = NULL;
    size_t ulen = 0;
    rows_t rows = {0};
    err = decode_text((const uint8_t *)text, len, &utf8, &ulen, diag);
    if (err == OTA_OK) {
        err = csv_rows(&c, utf8, ulen, &rows, diag);
    }
    if (err == OTA_OK) {
        err = check_rows(&c, &rows, diag);
    }
    if (err == OTA_OK) {
        err = rows_to_table(&c, &rows, !c.o.no_md5, out, diag);
    }
    rows_free(&rows);
    free(utf8);
    ctx_free(&c);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Binary input.                                                                              */

bool ota_part_is_binary(const uint8_t *data, size_t len)
{
    return data != NULL && len >= 2 && data[0] == 0xAA && data[1] == 0x50;
}

/* Python's repr() of a two-byte bytes object, e.g. b'\xeb\xeb'. */
static void bytes_repr(const uint8_t b[2], char *out, size_t cap)
{
    char quote = '\'';
    if ((b[0] == '\'' || b[1] == '\'') && b[0] != '"' && b[1] != '"') {
        quote = '"';
    }
    size_t n = (size_t)snprintf(out, cap, "b%c", quote);
    for (int i = 0; i < 2; i++) {
        uint8_t ch = b[i];
        if (ch == quote || ch == '\\') {
            n += (size_t)snprintf(out + n, cap - n, "\\%c", ch);
        } else if (ch == '\t') {
            n += (size_t)snprintf(out + n, cap - n, "\\t");
        } else if (ch == '\n') {
            n += (size_t)snprintf(out + n, cap - n, "\\n");
        } else if (ch == '\r') {
            n += (size_t)snprintf(out + n, cap - n, "\\r");
        } else if (ch >= 0x20 && ch < 0x7F) {
            n += (size_t)snprintf(out + n, cap - n, "%c", ch);
        } else {
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
        }
    }
    snprintf(out + n, cap - n, "%c", quote);
}

static void hex16(const uint8_t *d, char out[33])
{
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

/* PartitionTable.from_binary and PartitionDefinition.from_binary. */
static int bin_rows(const ctx_t *c, const uint8_t *b, size_t len, rows_t *rows, bool *md5_seen,
                    ota_diag_t *diag)
{
    const ota_crypto_t *cr = ota_crypto_openssl();
    int err = OTA_ERR_CORRUPT;
    bool ended = false;
    *md5_seen = false;
    for (size_t o = 0; o < len; o += OTA_PART_ENTRY_SIZE) {
        const uint8_t *d = b + o;
        if (len - o < OTA_PART_ENTRY_SIZE) {
            ota_diag_set(diag, err, "Partition table length must be a multiple of 32 bytes");
            goto out;
        }
        bool all_ff = true;
        for (size_t i = 0; i < OTA_PART_ENTRY_SIZE; i++) {
            all_ff = all_ff && d[i] == 0xFF;
        }
        if (all_ff) {
            ended = true;
            break;
        }
        if (!c->o.no_md5 && d[0] == 0xEB && d[1] == 0xEB) {
            /* The digest covers every row before this one that was not an MD5 row. */
            uint8_t digest[OTA_MD5_LEN];
            void *copy = cr->hash_start(cr->ctx, OTA_HASH_MD5);
            if (copy == NULL) {
                err = ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
                goto out;
            }
            for (size_t q = 0; q < o; q += OTA_PART_ENTRY_SIZE) {
                if (!(b[q] == 0xEB && b[q + 1] == 0xEB)) {
                    cr->hash_update(copy, b + q, OTA_PART_ENTRY_SIZE);
                }
            }
            cr->hash_finish(copy, digest);
            if (memcmp(digest, d + 16, OTA_MD5_LEN) != 0) {
                char want[33];
                char got[33];
                hex16(digest, want);
                hex16(d + 16, got);
                ota_diag_set(diag, err,
                             "MD5 checksums don't match! (computed: 0x%s, parsed: 0xb'%s')", want,
                             got);
                goto out;
            }
            *md5_seen = true;
            continue;
        }
        if (d[0] != 0xAA || d[1] != 0x50) {
            char r[24];
            bytes_repr(d, r, sizeof(r));
            ota_diag_set(diag, err, "Invalid magic bytes (%s) for partition definition", r);
            goto out;
        }
        size_t nlen = strnlen((const char *)d + 12, OTA_PART_LABEL_LEN);
        size_t bad;
        if (!u8_valid(d + 12, nlen, &bad)) {
            ota_diag_set(diag, err,
                         "Partition name at offset 0x%zx is not valid UTF-8 ('utf-8' codec can't "
                         "decode byte 0x%02x in position %zu)",
                         o, d[12 + bad], bad);
            goto out;
        }
        row_t *r = rows_add(rows);
        if (r == NULL || (r->name = strndup((const char *)d + 12, nlen)) == NULL) {
            err = ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
            goto out;
        }
        ota_part_t p;
        ota_part_decode(d, &p);
        r->type = p.type;
        r->subtype = p.subtype;
        r->offset = p.offset;
        r->has_offset = true;
        r->size = p.size;
        r->encrypted = (p.flags & OTA_PART_FLAG_ENCRYPTED) != 0;
        r->readonly = (p.flags & OTA_PART_FLAG_READONLY) != 0;
        r->other_flags = p.flags & ~(OTA_PART_FLAG_ENCRYPTED | OTA_PART_FLAG_READONLY);
        if (r->other_flags != 0) {
            warnf(c,
                  "WARNING: Partition definition had unknown flag(s) 0x%08x. Newer binary "
                  "format?",
                  (unsigned)r->other_flags);
        }
    }
    if (!ended) {
        ota_diag_set(diag, err, "Partition table is missing an end-of-table marker");
        goto out;
    }
    err = OTA_OK;
out:
    return err;
}

int ota_part_bin_parse(const uint8_t *data, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, ota_diag_t *diag)
{
    ctx_t c;
    int err = parse_begin(data, len, opts, out, &c, diag);
    if (err != OTA_OK) {
        return err;
    }
    rows_t rows = {0};
    bool md5_seen = false;
    err = bin_rows(&c, data, len, &rows, &md5_seen, diag);
    if (err == OTA_OK) {
        err = check_rows(&c, &rows, diag);
    }
    if (err == OTA_OK && rows.n > OTA_PART_MAX_ENTRIES) {
        err = ota_diag_set(diag, OTA_ERR_NO_SPACE, "Partition table has more than %d entries",
                           OTA_PART_MAX_ENTRIES);
    }
    if (err == OTA_OK) {
        rows_copy(&rows, md5_seen, out); /* names are at most 16 bytes here */
    }
    rows_free(&rows);
    ctx_free(&c);
    return err;
}

int ota_part_parse_any(const uint8_t *data, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, bool *is_binary, ota_diag_t *diag)
{
    bool bin = ota_part_is_binary(data, len);
    if (is_binary != NULL) {
        *is_binary = bin;
    }
    if (bin) {
        return ota_part_bin_parse(data, len, opts, out, diag);
    }
    return ota_part_csv_parse((const char *)data, len, opts, out, diag);
}

/* ------------------------------------------------------------------------------------------ */
/* CSV output.                                                                                */

static void size_text(uint32_t v, char *out, size_t cap)
{
    if (v % 0x100000u == 0) {
        snprintf(out, cap, "%uM", (unsigned)(v / 0x100000u));
    } else if (v % 0x400u == 0) {
        snprintf(out, cap, "%uK", (unsigned)(v / 0x400u));
    } else {
        snprintf(out, cap, "0x%x", (unsigned)v);
    }
}

int ota_part_csv_format(const ota_part_table_t *table, const ota_part_csv_opts_t *opts, char **text,
                        size_t *len)
{
    if (table == NULL || text == NULL || table->count < 0 || table->count > OTA_PART_MAX_ENTRIES) {
        return OTA_ERR_INVALID_ARG;
    }
    ctx_t c;
    if (ctx_init(&c, opts, NULL) != OTA_OK) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_buf_t b = {0};
    static const char header[] = "# ESP-IDF Partition Table\n"
                                 "# Name, Type, SubType, Offset, Size, Flags\n";
    ota_buf_put(&b, header, sizeof(header) - 1);
    for (int i = 0; i < table->count; i++) {
        const ota_part_t *p = &table->parts[i];
        char tbuf[8];
        char sbuf[8];
        char szbuf[16];
        const char *tname = NULL;
        for (size_t k = 0; k < ARRAY_LEN(type_kws); k++) {
            if (type_kws[k].value == p->type) {
                tname = type_kws[k].name;
                break;
            }
        }
        if (tname == NULL) {
            snprintf(tbuf, sizeof(tbuf), "%u", p->type);
            tname = tbuf;
        }
        const kwlist_t *subs = ctx_subtypes(&c, p->type);
        const char *sname = NULL;
        for (size_t k = 0; k < subs->n; k++) {
            if (subs->items[k].value == p->subtype) {
                sname = subs->items[k].name;
                break;
            }
        }
        if (sname == NULL) {
            snprintf(sbuf, sizeof(sbuf), "%u", p->subtype);
            sname = sbuf;
        }
        size_text(p->size, szbuf, sizeof(szbuf));
        const char *flags = "";
        bool enc = (p->flags & OTA_PART_FLAG_ENCRYPTED) != 0;
        bool ro = (p->flags & OTA_PART_FLAG_READONLY) != 0;
        if (enc && ro) {
            flags = "encrypted:readonly";
        } else if (enc) {
            flags = "encrypted";
        } else if (ro) {
            flags = "readonly";
        }
        char offbuf[16];
        snprintf(offbuf, sizeof(offbuf), "0x%x", (unsigned)p->offset);
        const char *cells[6] = {p->label, tname, sname, offbuf, szbuf, flags};
        for (size_t k = 0; k < 6; k++) {
            size_t n = k == 0 ? strnlen(p->label, OTA_PART_LABEL_LEN) : strlen(cells[k]);
            ota_buf_put(&b, cells[k], n);
            ota_buf_put(&b, k < 5 ? "," : "\n", 1);
        }
    }
    ctx_free(&c);
    if (b.oom) {
        ota_buf_free(&b);
        return OTA_ERR_NO_MEM;
    }
    *text = (char *)b.p;
    if (len != NULL) {
        *len = b.len;
    }
    return OTA_OK;
}

int ota_part_csv_compile(const char *text, size_t len, const ota_part_csv_opts_t *opts,
                         uint8_t *out, ota_diag_t *diag)
{
    if (out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_part_table_t *tp = malloc(sizeof(*tp));
    if (tp == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    int err = ota_part_csv_parse(text, len, opts, tp, diag);
    if (err == OTA_OK) {
        err = ota_part_table_encode(ota_crypto_openssl(), tp, out, diag);
    }
    free(tp);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Options and built-in tables.                                                               */

int ota_part_extra_subtype_parse(char *spec, ota_part_subtype_def_t *out, ota_diag_t *diag)
{
    if (spec == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    char *f[3];
    char *p = spec;
    for (int i = 0; i < 3; i++) {
        char *comma = strchr(p, ',');
        if (comma == NULL && i < 2) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "Error parsing custom subtypes: expected 'type,name,value' in "
                                "'%s'",
                                spec);
        }
        if (comma != NULL) {
            *comma = 0;
        }
        const char *b = p;
        const char *e = p + strlen(p);
        py_strip(&b, &e);
        *(char *)e = 0;
        f[i] = (char *)b;
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    static const char *const names[4] = {"app", "data", "bootloader", "partition_table"};
    int type = -1;
    for (int i = 0; i < 4; i++) {
        if (strcmp(f[0], names[i]) == 0) {
            type = i;
        }
    }
    if (type < 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Error parsing custom subtypes: Invalid partition type");
    }
    const char *v = f[2];
    bool neg = false;
    if (*v == '+' || *v == '-') {
        neg = *v == '-';
        v++;
    }
    bool prefixed = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
    uint64_t value;
    if (!parse_digits(prefixed ? v + 2 : v, v + strlen(v), 16, prefixed, &value) ||
        (neg && value != 0) || value > 0xFF) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "Error parsing custom subtypes: invalid value '%s'", f[2]);
    }
    out->type = (uint8_t)type;
    out->name = f[1];
    out->value = (uint8_t)value;
    return OTA_OK;
}

/* The tables ESP-IDF ships (components/partition_table/partitions_*.csv), offsets all empty. */
static const struct builtin {
    const char *name;
    const char *csv;
} builtins[] = {
    {"singleapp", "# Name,   Type, SubType, Offset,  Size, Flags\n"
                  "# Single factory app, no OTA (offsets are placed after the table)\n"
                  "nvs,      data, nvs,     ,        0x6000,\n"
                  "phy_init, data, phy,     ,        0x1000,\n"
                  "factory,  app,  factory, ,        1M,\n"},
    {"two_ota", "# Name,   Type, SubType, Offset,   Size, Flags\n"
                "# Factory app, two OTA definitions (offsets are placed after the table)\n"
                "nvs,      data, nvs,     ,        0x4000,\n"
                "otadata,  data, ota,     ,        0x2000,\n"
                "phy_init, data, phy,     ,        0x1000,\n"
                "factory,  app,  factory, ,        1M,\n"
                "ota_0,    app,  ota_0,   ,        1M,\n"
                "ota_1,    app,  ota_1,   ,        1M,\n"},
    {"two_ota_large",
     "# Name,   Type, SubType, Offset,   Size, Flags\n"
     "# Two large OTA definitions, no factory app (offsets are placed after the table)\n"
     "nvs,      data, nvs,     ,        0x6000,\n"
     "otadata,  data, ota,     ,        0x2000,\n"
     "phy_init, data, phy,     ,        0x1000,\n"
     "ota_0,    app,  ota_0,   ,        1700K,\n"
     "ota_1,    app,  ota_1,   ,        1700K,\n"},
    {"singleapp_large", "# Name,   Type, SubType, Offset,  Size, Flags\n"
                        "# Large single factory app, no OTA (offsets are placed after the table)\n"
                        "nvs,      data, nvs,     ,        0x6000,\n"
                        "phy_init, data, phy,     ,        0x1000,\n"
                        "factory,  app,  factory, ,        1500K,\n"},
    {"two_ota_encr_nvs",
     "# Name,   Type, SubType, Offset,   Size, Flags\n"
     "# Factory app, two OTA definitions, NVS keys for encrypted NVS (offsets are placed after "
     "the table)\n"
     "nvs,      data, nvs,     ,        0x4000,\n"
     "otadata,  data, ota,     ,        0x2000,\n"
     "phy_init, data, phy,     ,        0x1000,\n"
     "factory,  app,  factory, ,        1M,\n"
     "ota_0,    app,  ota_0,   ,        1M,\n"
     "ota_1,    app,  ota_1,   ,        1M,\n"
     "nvs_key,  data, nvs_keys,,        0x1000, encrypted\n"},
};

const char *ota_part_builtin_csv(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_LEN(builtins); i++) {
        if (strcmp(name, builtins[i].name) == 0) {
            return builtins[i].csv;
        }
    }
    return NULL;
}

const char *ota_part_builtin_name(size_t i)
{
    return i < ARRAY_LEN(builtins) ? builtins[i].name : NULL;
}

int ota_part_builtin_table(const char *name, const ota_part_csv_opts_t *opts, ota_part_table_t *out,
                           ota_diag_t *diag)
{
    const char *csv = ota_part_builtin_csv(name);
    if (csv == NULL) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND,
                            "unknown built-in table '%s' (singleapp, singleapp_large, two_ota, "
                            "two_ota_large, two_ota_encr_nvs)",
                            name != NULL ? name : "");
    }
    return ota_part_csv_parse(csv, strlen(csv), opts, out, diag);
}

int ota_part_table_from_arg(const char *arg, const ota_part_csv_opts_t *opts, ota_part_table_t *out,
                            ota_diag_t *diag)
{
    if (arg == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    struct stat st;
    if (ota_part_builtin_csv(arg) != NULL && strchr(arg, '/') == NULL && stat(arg, &st) != 0) {
        return ota_part_builtin_table(arg, opts, out, diag);
    }
    FILE *fp = fopen(arg, "rb");
    if (fp == NULL) {
        return ota_diag_set(diag, OTA_ERR_IO, "%s: cannot read: %s", arg, strerror(errno));
    }
    ota_buf_t b = {0};
    bool failed = !ota_buf_read(&b, fp);
    fclose(fp);
    if (failed || b.oom) {
        ota_buf_free(&b);
        return ota_diag_set(diag, failed ? OTA_ERR_IO : OTA_ERR_NO_MEM, "%s: cannot read: %s", arg,
                            failed ? "read error" : "out of memory");
    }
    int err = ota_part_parse_any(b.p, b.len, opts, out, NULL, diag);
    ota_buf_free(&b);
    return err;
}
