/*
 * A growing byte buffer for host tools (image building, text reports, CSV output).
 *
 * A zero-filled ota_buf_t is empty. The content is always followed by a NUL (not counted in
 * len), so a buffer of text can be used as a C string. An allocation failure latches `oom`:
 * later calls do nothing, and the caller checks oom once at the end.
 */
#ifndef OTA_BUF_H
#define OTA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ota_buf {
    uint8_t *p; /* malloc'ed; the caller frees it (ota_buf_free) or takes it */
    size_t len;
    size_t cap;
    bool oom;
} ota_buf_t;

/* Appends n bytes of data. */
void ota_buf_put(ota_buf_t *b, const void *data, size_t n);

/* Appends n bytes of value v. */
void ota_buf_fill(ota_buf_t *b, uint8_t v, size_t n);

/* Appends formatted text. */
void ota_buf_printf(ota_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends everything fp has left to read. False on a read error; an allocation failure latches
 * oom as for the other calls. */
bool ota_buf_read(ota_buf_t *b, FILE *fp);

/* Frees the content and empties the buffer. */
void ota_buf_free(ota_buf_t *b);

#ifdef __cplusplus
}
#endif

#endif /* OTA_BUF_H */
