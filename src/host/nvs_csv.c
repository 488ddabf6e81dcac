/* NVS partitions from CSV (ota_nvs_csv.h), as nvs_partition_gen.py generate makes them. */
#include "ota/ota_nvs_csv.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ota/ota_buf.h"
#include "ota/ota_idfnvs.h"
#include "ota/ota_memflash.h"

enum { COL_KEY, COL_TYPE, COL_ENC, COL_VALUE, NCOLS };

typedef struct gen {
    ota_idfnvs_t *store;
    int cols[NCOLS]; /* field index of each column, -1 before the header */
    char ns[OTA_IDFNVS_KEY_MAX + 1];
    unsigned line;
    ota_diag_t *diag;
} gen_t;

/* Splits line (modified in place) into at most max comma-separated fields, double quotes
 * grouping and "" escaping one. Returns the number of fields. */
static int split_csv(char *line, char **f, int max)
{
    int n = 0;
    char *r = line;
    while (n < max) {
        char *w = r;
        f[n++] = w;
        bool quoted = *r == '"';
        r += quoted;
        for (; *r != '\0' && (quoted || *r != ','); r++) {
            if (quoted && *r == '"') {
                if (r[1] != '"') {
                    quoted = false;
                    continue;
                }
                r++;
            }
            *w++ = *r;
        }
        bool more = *r == ',';
        *w = '\0';
        if (!more) {
            break;
        }
        r++;
    }
    return n;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static int fail(gen_t *g, int err, const char *what, const char *detail)
{
    return ota_diag_set(g->diag, err, "line %u: %s%s", g->line, what, detail);
}

static int header(gen_t *g, char **f, int n)
{
    static const char *const names[NCOLS] = {"key", "type", "encoding", "value"};
    for (int c = 0; c < NCOLS; c++) {
        g->cols[c] = -1;
        for (int i = 0; i < n; i++) {
            if (strcmp(trim(f[i]), names[c]) == 0) {
                g->cols[c] = i;
            }
        }
        if (g->cols[c] < 0 && c != COL_VALUE) {
            return fail(g, OTA_ERR_SYNTAX, "the header lacks the column ", names[c]);
        }
    }
    return OTA_OK;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Decodes hex text (whitespace around it ignored) into out. */
static int decode_hex(gen_t *g, const char *text, size_t len, ota_buf_t *out)
{
    while (len > 0 && isspace((unsigned char)text[len - 1])) {
        len--;
    }
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    if (len % 2 != 0) {
        return fail(g, OTA_ERR_SYNTAX, "hex2bin: ", "invalid data length, not a multiple of 2");
    }
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval((unsigned char)text[i]);
        int lo = hexval((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0) {
            return fail(g, OTA_ERR_SYNTAX, "hex2bin: ", "not a hexadecimal digit");
        }
        uint8_t b = (uint8_t)(hi << 4 | lo);
        ota_buf_put(out, &b, 1);
    }
    return OTA_OK;
}

/* Decodes base64 text (characters outside the alphabet skipped, as binascii does) into out. */
static int decode_base64(gen_t *g, const char *text, size_t len, ota_buf_t *out)
{
    ota_buf_t clean = {0};
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=') {
            ota_buf_put(&clean, &c, 1);
        }
    }
    size_t n = clean.len;
    int err = OTA_OK;
    if (n % 4 != 0) {
        err = fail(g, OTA_ERR_SYNTAX, "base64: ", "incorrect padding");
    } else if (n > 0) {
        size_t pad = (clean.p[n - 1] == '=') + (n > 1 && clean.p[n - 2] == '=');
        ota_buf_fill(out, 0, n / 4 * 3);
        int got = EVP_DecodeBlock(out->p + out->len - n / 4 * 3, clean.p, (int)n);
        if (got < 0) {
            err = fail(g, OTA_ERR_SYNTAX, "base64: ", "invalid data");
        }
        out->len -= pad;
    }
    ota_buf_free(&clean);
    return err;
}

static int read_value_file(gen_t *g, const char *path, ota_buf_t *out)
{
    FILE *fp = fopen(path, "rb");
    bool ok = fp != NULL && ota_buf_read(out, fp);
    int e = errno;
    if (fp != NULL) {
        fclose(fp);
    }
    return ok ? OTA_OK
              : ota_diag_set(g->diag, OTA_ERR_IO, "line %u: %s: %s", g->line, path, strerror(e));
}

typedef struct int_type {
    const char *name;
    uint8_t type;
    int64_t min;
    uint64_t max;
} int_type_t;

static const int_type_t ints[] = {
    {"u8", OTA_IDFNVS_U8, 0, UINT8_MAX},    {"i8", OTA_IDFNVS_I8, INT8_MIN, INT8_MAX},
    {"u16", OTA_IDFNVS_U16, 0, UINT16_MAX}, {"i16", OTA_IDFNVS_I16, INT16_MIN, INT16_MAX},
    {"u32", OTA_IDFNVS_U32, 0, UINT32_MAX}, {"i32", OTA_IDFNVS_I32, INT32_MIN, INT32_MAX},
    {"u64", OTA_IDFNVS_U64, 0, UINT64_MAX}, {"i64", OTA_IDFNVS_I64, INT64_MIN, INT64_MAX},
};

/* An integer row: decimal text, range-checked, stored little-endian. */
static int put_int(gen_t *g, const char *key, const int_type_t *t, const char *text)
{
    char *end = NULL;
    errno = 0;
    bool neg = *text == '-';
    uint64_t u = neg ? 0 : strtoull(text, &end, 10);
    int64_t v = neg ? strtoll(text, &end, 10) : 0;
    if (end == text || *end != '\0' || errno != 0 || (neg && v < t->min) || (!neg && u > t->max)) {
        return fail(g, OTA_ERR_SYNTAX, "integer out of range or not a number: ", text);
    }
    uint64_t raw = neg ? (uint64_t)v : u;
    uint8_t b[8];
    size_t w = t->type & 0x0F;
    for (size_t i = 0; i < w; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    int err = ota_idfnvs_set(g->store, g->ns, key, t->type, b, w);
    return err == OTA_OK ? OTA_OK : fail(g, err, "cannot store ", key);
}

/* A string or binary row: the value's bytes from the cell or the file, then decoded. */
static int put_var(gen_t *g, const char *key, const char *type, const char *enc, const char *val)
{
    ota_buf_t text = {0};
    ota_buf_t bytes = {0};
    bool file = strcmp(type, "file") == 0;
    int err = file ? read_value_file(g, val, &text) : (ota_buf_put(&text, val, strlen(val)), 0);
    bool str = strcmp(enc, "string") == 0;
    if (err == OTA_OK && (str || strcmp(enc, "binary") == 0)) {
        ota_buf_put(&bytes, text.p, text.len);
    } else if (err == OTA_OK && strcmp(enc, "hex2bin") == 0) {
        err = decode_hex(g, (const char *)text.p, text.len, &bytes);
    } else if (err == OTA_OK && strcmp(enc, "base64") == 0) {
        err = decode_base64(g, (const char *)text.p, text.len, &bytes);
    } else if (err == OTA_OK) {
        err = fail(g, OTA_ERR_SYNTAX, "unsupported encoding ", enc);
    }
    if (err == OTA_OK && str) {
        ota_buf_put(&bytes, "", 1);
    }
    if (err == OTA_OK && (text.oom || bytes.oom)) {
        err = ota_diag_set(g->diag, OTA_ERR_NO_MEM, "out of memory");
    }
    if (err == OTA_OK) {
        err = ota_idfnvs_set(g->store, g->ns, key, str ? OTA_IDFNVS_STR : OTA_IDFNVS_BLOB, bytes.p,
                             bytes.len);
        err = err == OTA_OK
                  ? OTA_OK
                  : fail(g, err == OTA_ERR_INVALID_ARG ? OTA_ERR_SYNTAX : err,
                         err == OTA_ERR_NO_SPACE ? "no space left for " : "cannot store ", key);
    }
    ota_buf_free(&text);
    ota_buf_free(&bytes);
    return err;
}

static int row(gen_t *g, char **f, int n)
{
    const char *cell[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        cell[c] = g->cols[c] >= 0 && g->cols[c] < n ? trim(f[g->cols[c]]) : "";
    }
    const char *key = cell[COL_KEY];
    const char *type = cell[COL_TYPE];
    if (key[0] == '\0' || strlen(key) > OTA_IDFNVS_KEY_MAX) {
        return fail(g, OTA_ERR_SYNTAX, "a key must have 1 to 15 characters: ", key);
    }
    if (strcmp(type, "namespace") == 0) {
        snprintf(g->ns, sizeof(g->ns), "%s", key);
        int err = ota_idfnvs_namespace(g->store, key);
        return err == OTA_OK ? OTA_OK : fail(g, err, "cannot create namespace ", key);
    }
    if (strcmp(type, "data") != 0 && strcmp(type, "file") != 0) {
        return fail(g, OTA_ERR_SYNTAX, "unknown type ", type);
    }
    if (g->ns[0] == '\0') {
        return fail(g, OTA_ERR_SYNTAX, "data before any namespace: ", key);
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (strcmp(cell[COL_ENC], ints[i].name) == 0) {
            return put_int(g, key, &ints[i], cell[COL_VALUE]);
        }
    }
    return put_var(g, key, type, cell[COL_ENC], cell[COL_VALUE]);
}

/* Feeds every line of text to header() then row(). */
static int parse(gen_t *g, char *text)
{
    g->cols[0] = -1;
    for (char *line = text; line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        g->line++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r') {
            line[n - 1] = '\0';
        }
        if (line[0] != '#' && trim(line)[0] != '\0') {
            char *f[8];
            int nf = split_csv(line, f, 8);
            int err = g->cols[0] < 0 ? header(g, f, nf) : row(g, f, nf);
            if (err != OTA_OK) {
                return err;
            }
        }
        line = next;
    }
    return g->cols[0] < 0 ? ota_diag_set(g->diag, OTA_ERR_SYNTAX, "no header line") : OTA_OK;
}

int ota_nvs_csv_apply(ota_idfnvs_t *s, const char *csv, size_t len, ota_diag_t *diag)
{
    if (s == NULL || csv == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    gen_t *g = calloc(1, sizeof(*g));
    char *text = malloc(len + 1);
    int err = g != NULL && text != NULL ? OTA_OK : OTA_ERR_NO_MEM;
    if (err == OTA_OK) {
        memcpy(text, csv, len);
        text[len] = '\0';
        g->store = s;
        g->diag = diag;
        err = parse(g, text);
    } else {
        ota_diag_set(diag, err, "out of memory");
    }
    free(text);
    free(g);
    return err;
}

int ota_nvs_csv_generate(const char *csv, size_t len, uint32_t size, uint8_t **out,
                         ota_diag_t *diag)
{
    if (csv == NULL || out == NULL || size % OTA_IDFNVS_PAGE_SIZE != 0 ||
        size / OTA_IDFNVS_PAGE_SIZE < 2 || size / OTA_IDFNVS_PAGE_SIZE > OTA_IDFNVS_MAX_PAGES) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "size must be 2 to %u pages of 4096 bytes (0x2000 .. 0x%x)",
                            OTA_IDFNVS_MAX_PAGES, OTA_IDFNVS_MAX_PAGES * OTA_IDFNVS_PAGE_SIZE);
    }
    static ota_idfnvs_t store;
    uint8_t *buf = malloc(size);
    if (buf == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    ota_flash_t f;
    ota_memflash_t m;
    memset(buf, 0xFF, size);
    ota_memflash_init(&f, &m, buf, size, false);
    int err = ota_idfnvs_mount(&store, &f, 0, size);
    if (err == OTA_OK) {
        err = ota_nvs_csv_apply(&store, csv, len, diag);
    }
    if (err != OTA_OK) {
        free(buf);
        return err;
    }
    *out = buf;
    return OTA_OK;
}
