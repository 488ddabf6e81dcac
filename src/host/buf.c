/* A growing byte buffer for host tools. */
#include "ota/ota_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for extra more bytes and the terminating NUL; false on allocation failure. */
static bool reserve(ota_buf_t *b, size_t extra)
{
    if (b->oom) {
        return false;
    }
    if (b->len + extra + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void ota_buf_put(ota_buf_t *b, const void *data, size_t n)
{
    if (reserve(b, n)) {
        if (n > 0) {
            memcpy(b->p + b->len, data, n);
        }
        b->len += n;
        b->p[b->len] = 0;
    }
}

void ota_buf_fill(ota_buf_t *b, uint8_t v, size_t n)
{
    if (reserve(b, n)) {
        memset(b->p + b->len, v, n);
        b->len += n;
        b->p[b->len] = 0;
    }
}

void ota_buf_printf(ota_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (reserve(b, (size_t)n)) {
        va_start(ap, fmt);
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
    }
}

bool ota_buf_read(ota_buf_t *b, FILE *fp)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        ota_buf_put(b, chunk, n);
    }
    return ferror(fp) == 0;
}

void ota_buf_free(ota_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}
