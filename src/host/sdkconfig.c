/* sdkconfig parsing, lookup and formatting. */
#include "ota/ota_sdkconfig.h"
#include "ota/ota_buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;   /* without the CONFIG_ prefix */
    char *value; /* raw value as written after '=' (strings keep their quotes); NULL = not set */
    char *text;  /* value with string quotes and escapes removed; NULL = not set */
} kv_t;

struct ota_sdkconfig {
    kv_t *items;
    size_t count;
    size_t cap;
};

static const char *strip_prefix(const char *key)
{
    return strncmp(key, "CONFIG_", 7) == 0 ? key + 7 : key;
}

ota_sdkconfig_t *ota_sdkconfig_new(void)
{
    return calloc(1, sizeof(ota_sdkconfig_t));
}

void ota_sdkconfig_free(ota_sdkconfig_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->items[i].key);
        free(cfg->items[i].value);
        free(cfg->items[i].text);
    }
    free(cfg->items);
    free(cfg);
}

static kv_t *lookup(const ota_sdkconfig_t *cfg, const char *key, size_t keylen)
{
    for (size_t i = 0; i < cfg->count; i++) {
        if (strlen(cfg->items[i].key) == keylen && memcmp(cfg->items[i].key, key, keylen) == 0) {
            return &cfg->items[i];
        }
    }
    return NULL;
}

/* The text of a raw value: a quoted string loses its quotes and escapes. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
        return strdup(v);
    }
    char *out = malloc(n);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[i] == '\\' && i + 2 < n) {
            i++;
        }
        out[o++] = v[i];
    }
    out[o] = '\0';
    return out;
}

/* Stores key (keylen bytes, prefix already stripped) = value (NULL for "not set"). */
static int store(ota_sdkconfig_t *cfg, const char *key, size_t keylen, const char *val,
                 size_t vallen)
{
    char *v = NULL;
    char *t = NULL;
    if (val != NULL) {
        v = strndup(val, vallen);
        t = v ? unquote(v) : NULL;
        if (t == NULL) {
            free(v);
            return OTA_ERR_NO_MEM;
        }
    }
    kv_t *kv = lookup(cfg, key, keylen);
    if (kv != NULL) {
        free(kv->value);
        free(kv->text);
        kv->value = v;
        kv->text = t;
        return OTA_OK;
    }
    if (cfg->count == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 32;
        kv_t *items = realloc(cfg->items, cap * sizeof(*items));
        if (items == NULL) {
            free(v);
            free(t);
            return OTA_ERR_NO_MEM;
        }
        cfg->items = items;
        cfg->cap = cap;
    }
    char *k = strndup(key, keylen);
    if (k == NULL) {
        free(v);
        free(t);
        return OTA_ERR_NO_MEM;
    }
    cfg->items[cfg->count].key = k;
    cfg->items[cfg->count].value = v;
    cfg->items[cfg->count].text = t;
    cfg->count++;
    return OTA_OK;
}

static bool is_key_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

static int parse_line(ota_sdkconfig_t *cfg, const char *s, size_t n, int lineno, ota_diag_t *diag)
{
    if (memchr(s, '\0', n) != NULL) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "line %d: NUL byte", lineno);
    }
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    if (n == 0) {
        return OTA_OK;
    }
    if (s[0] == '#') {
        static const char tail[] = " is not set";
        size_t tl = sizeof(tail) - 1;
        const char *p = s + 1;
        size_t m = n - 1;
        while (m > 0 && *p == ' ') {
            p++;
            m--;
        }
        if (m > 7 + tl && strncmp(p, "CONFIG_", 7) == 0 && memcmp(p + m - tl, tail, tl) == 0) {
            size_t klen = m - tl - 7;
            for (size_t i = 0; i < klen; i++) {
                if (!is_key_char(p[7 + i])) {
                    return OTA_OK; /* an ordinary comment */
                }
            }
            return store(cfg, p + 7, klen, NULL, 0);
        }
        return OTA_OK;
    }
    const char *eq = memchr(s, '=', n);
    if (eq == NULL) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "line %d: expected NAME=value", lineno);
    }
    size_t klen = (size_t)(eq - s);
    while (klen > 0 && isspace((unsigned char)s[klen - 1])) {
        klen--;
    }
    if (klen == 0) {
        return ota_diag_set(diag, OTA_ERR_SYNTAX, "line %d: empty key", lineno);
    }
    for (size_t i = 0; i < klen; i++) {
        if (!is_key_char(s[i])) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX, "line %d: invalid character in key", lineno);
        }
    }
    const char *key = s;
    if (klen > 7 && strncmp(key, "CONFIG_", 7) == 0) {
        key += 7;
        klen -= 7;
    }
    const char *val = eq + 1;
    size_t vlen = n - (size_t)(val - s);
    while (vlen > 0 && isspace((unsigned char)*val)) {
        val++;
        vlen--;
    }
    if (vlen > 0 && val[0] == '"') {
        bool closed = false;
        for (size_t i = 1; i < vlen; i++) {
            if (val[i] == '\\' && i + 1 < vlen) {
                i++;
            } else if (val[i] == '"') {
                if (i != vlen - 1) {
                    return ota_diag_set(diag, OTA_ERR_SYNTAX,
                                        "line %d: text after the closing quote", lineno);
                }
                closed = true;
            }
        }
        if (!closed) {
            return ota_diag_set(diag, OTA_ERR_SYNTAX, "line %d: unterminated string", lineno);
        }
    }
    return store(cfg, key, klen, val, vlen);
}

int ota_sdkconfig_parse(const char *text, size_t len, ota_sdkconfig_t **out, ota_diag_t *diag)
{
    ota_sdkconfig_t *cfg = ota_sdkconfig_new();
    if (cfg == NULL) {
        return OTA_ERR_NO_MEM;
    }
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        lineno++;
        int err = parse_line(cfg, start, n, lineno, diag);
        if (err != OTA_OK) {
            ota_sdkconfig_free(cfg);
            return err;
        }
        pos += n + (nl ? 1 : 0);
    }
    *out = cfg;
    return OTA_OK;
}

int ota_sdkconfig_load(const char *path, ota_sdkconfig_t **out, ota_diag_t *diag)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return ota_diag_set(diag, OTA_ERR_IO, "%s: %s", path, strerror(errno));
    }
    ota_buf_t b = {0};
    bool failed = !ota_buf_read(&b, fp);
    fclose(fp);
    if (failed) {
        ota_buf_free(&b);
        return ota_diag_set(diag, OTA_ERR_IO, "%s: read error", path);
    }
    if (b.oom) {
        ota_buf_free(&b);
        return OTA_ERR_NO_MEM;
    }
    int err = ota_sdkconfig_parse(b.p != NULL ? (const char *)b.p : "", b.len, out, diag);
    ota_buf_free(&b);
    return err;
}

static const kv_t *find(const ota_sdkconfig_t *cfg, const char *key)
{
    if (cfg == NULL || key == NULL) {
        return NULL;
    }
    key = strip_prefix(key);
    return lookup(cfg, key, strlen(key));
}

const char *ota_sdkconfig_get(const ota_sdkconfig_t *cfg, const char *key)
{
    const kv_t *kv = find(cfg, key);
    if (kv == NULL || kv->value == NULL) {
        return NULL;
    }
    return kv->value;
}

bool ota_sdkconfig_bool(const ota_sdkconfig_t *cfg, const char *key, bool def)
{
    const kv_t *kv = find(cfg, key);
    if (kv == NULL) {
        return def;
    }
    return kv->value != NULL && strcmp(kv->value, "y") == 0;
}

long long ota_sdkconfig_int(const ota_sdkconfig_t *cfg, const char *key, long long def)
{
    const char *v = ota_sdkconfig_get(cfg, key);
    if (v == NULL || *v == '\0') {
        return def;
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 0);
    if (errno != 0 || end == v || *end != '\0') {
        return def;
    }
    return x;
}

const char *ota_sdkconfig_str(const ota_sdkconfig_t *cfg, const char *key, const char *def)
{
    const kv_t *kv = find(cfg, key);
    if (kv == NULL || kv->text == NULL) {
        return def;
    }
    return kv->text;
}

int ota_sdkconfig_set(ota_sdkconfig_t *cfg, const char *key, const char *raw)
{
    key = strip_prefix(key);
    if (raw != NULL && strcmp(raw, "n") == 0) {
        raw = NULL;
    }
    return store(cfg, key, strlen(key), raw, raw ? strlen(raw) : 0);
}

char *ota_sdkconfig_format(const ota_sdkconfig_t *cfg)
{
    size_t cap = 64;
    for (size_t i = 0; i < cfg->count; i++) {
        cap += strlen(cfg->items[i].key) + 32 +
               (cfg->items[i].value ? strlen(cfg->items[i].value) : 0);
    }
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < cfg->count; i++) {
        const kv_t *kv = &cfg->items[i];
        int w = kv->value ? snprintf(out + o, cap - o, "CONFIG_%s=%s\n", kv->key, kv->value)
                          : snprintf(out + o, cap - o, "# CONFIG_%s is not set\n", kv->key);
        o += (size_t)w;
    }
    out[o] = '\0';
    return out;
}
