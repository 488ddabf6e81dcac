/* Pure decisions of esp_https_ota: status table, Range values, Content-Range, validators. */
#include "https_ota_logic.h"

#include <stdio.h>
#include <string.h>

ota_https_status_t ota_https_status_classify(int status, bool resume_range)
{
    switch (status) {
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
        return OTA_HTTPS_STATUS_REDIRECT;
    case 304:
        return OTA_HTTPS_STATUS_NOT_MODIFIED;
    case 416:
        return OTA_HTTPS_STATUS_RANGE_UNSAT;
    case 401:
        return OTA_HTTPS_STATUS_AUTH;
    case 403:
    case 404:
        return OTA_HTTPS_STATUS_NOT_FOUND;
    default:
        break;
    }
    if (status >= 400 && status < 500) {
        return OTA_HTTPS_STATUS_CLIENT_ERROR;
    }
    if (status >= 500) {
        return OTA_HTTPS_STATUS_SERVER_ERROR;
    }
    if (resume_range && status != 206) {
        return OTA_HTTPS_STATUS_RANGE_IGNORED;
    }
    return OTA_HTTPS_STATUS_OK;
}

bool ota_https_status_again(int status)
{
    ota_https_status_t s = ota_https_status_classify(status, false);
    return s == OTA_HTTPS_STATUS_REDIRECT || s == OTA_HTTPS_STATUS_AUTH;
}

bool ota_https_first_range(char *buf, size_t cap, long long offset, long long image_len,
                           long long max)
{
    long long start = offset;
    long long end = image_len > max + start ? start + max - 1 : image_len;
    if (end - start >= image_len) {
        return false;
    }
    snprintf(buf, cap, "bytes=%lld-%lld", start, end);
    return true;
}

void ota_https_next_range(char *buf, size_t cap, long long pos, long long file_len, long long max)
{
    if (max > 0 && file_len >= 0 && file_len - pos > max) {
        snprintf(buf, cap, "bytes=%lld-%lld", pos, pos + max - 1);
    } else {
        snprintf(buf, cap, "bytes=%lld-", pos);
    }
}

/* Parses decimal digits at *p (at least one, no sign, no overflow past 2^62). */
static bool parse_num(const char **p, long long *out)
{
    const char *s = *p;
    long long v = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        if (v > (1LL << 58)) {
            return false;
        }
        v = v * 10 + (*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

bool ota_https_parse_content_range(const char *value, long long *first, long long *last,
                                   long long *total)
{
    if (value == NULL) {
        return false;
    }
    const char *p = value;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (strncmp(p, "bytes", 5) != 0 || (p[5] != ' ' && p[5] != '\t')) {
        return false;
    }
    p += 5;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    long long a, b, t = -1;
    if (!parse_num(&p, &a) || *p++ != '-' || !parse_num(&p, &b) || *p++ != '/') {
        return false;
    }
    if (*p == '*') {
        p++;
    } else if (!parse_num(&p, &t)) {
        return false;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p != '\0' || b < a || (t >= 0 && b >= t)) {
        return false;
    }
    *first = a;
    *last = b;
    *total = t;
    return true;
}

static bool empty(const char *s)
{
    return s == NULL || *s == '\0';
}

ota_https_range_t ota_https_range_check(int status, long long want_start, const char *content_range,
                                        const char *sent_etag, const char *got_etag,
                                        long long file_len)
{
    if (status == 200) {
        return OTA_HTTPS_RANGE_FULL;
    }
    long long first, last, total;
    if (status != 206 || !ota_https_parse_content_range(content_range, &first, &last, &total) ||
        first != want_start) {
        return OTA_HTTPS_RANGE_MISMATCH;
    }
    if (!empty(sent_etag) && !empty(got_etag) && strcmp(sent_etag, got_etag) != 0) {
        return OTA_HTTPS_RANGE_MISMATCH;
    }
    if (file_len >= 0 && total >= 0 && total != file_len) {
        return OTA_HTTPS_RANGE_MISMATCH;
    }
    return OTA_HTTPS_RANGE_CONTINUE;
}

bool ota_https_etag_strong(const char *etag, size_t max_len)
{
    if (etag == NULL) {
        return false;
    }
    size_t n = strlen(etag);
    if (n < 2 || n > max_len || etag[0] != '"' || etag[n - 1] != '"') {
        return false;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char ch = (unsigned char)etag[i];
        if (ch == '"' || ch < 0x21 || ch > 0x7e) {
            return false;
        }
    }
    return true;
}

size_t ota_https_resume_offset(bool resumption, size_t written, size_t min_written,
                               bool flash_encryption)
{
    if (!resumption || written < min_written) {
        return 0;
    }
    return flash_encryption ? (written & ~(size_t)0xF) : written;
}

size_t ota_https_erase_size(bool bulk, long long image_len, size_t unknown_size, size_t seq_size)
{
    if (!bulk) {
        return seq_size;
    }
    return image_len > 0 ? (size_t)image_len : unknown_size;
}
