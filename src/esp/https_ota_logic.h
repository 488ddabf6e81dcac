/*
 * Decisions of esp_https_ota that depend only on numbers and header values (not installed):
 * the HTTP status table, Range header values, Content-Range parsing, what a response to a Range
 * request means, ETag usability and the resumption offset. Kept free of I/O so the unit tests
 * can drive every branch; src/esp/esp_https_ota.c applies them.
 */
#ifndef HTTPS_OTA_LOGIC_H
#define HTTPS_OTA_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the connect routine does with a status code (spec 6.3). */
typedef enum {
    OTA_HTTPS_STATUS_OK,           /* 200/206 (and any other status below 300 or 3xx not listed) */
    OTA_HTTPS_STATUS_REDIRECT,     /* 301, 302, 303, 307, 308: follow, drain, ask again */
    OTA_HTTPS_STATUS_AUTH,         /* 401: add credentials and ask again while retries remain */
    OTA_HTTPS_STATUS_NOT_MODIFIED, /* 304 */
    OTA_HTTPS_STATUS_RANGE_UNSAT,  /* 416 */
    OTA_HTTPS_STATUS_NOT_FOUND,    /* 403, 404 */
    OTA_HTTPS_STATUS_CLIENT_ERROR, /* other 400..499 */
    OTA_HTTPS_STATUS_SERVER_ERROR, /* >= 500 */
    OTA_HTTPS_STATUS_RANGE_IGNORED /* resumption (single request) answered with something not 206 */
} ota_https_status_t;

/*
 * Classifies status as ESP-IDF v5.5's response handler does, in its order: redirects, 304, 416,
 * 401, 403/404, other 4xx, 5xx, then (only when resume_range is set: a resumption Range request
 * outside partial-download mode) any status other than 206.
 */
ota_https_status_t ota_https_status_classify(int status, bool resume_range);

/* True for the statuses after which the connect routine sends the request again (3xx, 401). */
bool ota_https_status_again(int status);

/*
 * Formats the Range value of the first request of a partial download, with ESP-IDF's arithmetic:
 * start = offset, end = offset + max - 1 when image_len > offset + max, else image_len (one past
 * the last byte; servers clamp it). Writes "bytes=<start>-<end>" into buf (cap bytes) and
 * returns true when a header is needed, i.e. (end - start) < image_len; returns false (buf
 * untouched) when the request would cover the whole image.
 */
bool ota_https_first_range(char *buf, size_t cap, long long offset, long long image_len,
                           long long max);

/*
 * Formats the Range value for the next request from absolute file position pos of a file of
 * file_len bytes (-1 unknown): "bytes=<pos>-<pos+max-1>" when max > 0 and more than max bytes
 * remain, else "bytes=<pos>-" (ESP-IDF's partial-download rule; max <= 0 means one open range).
 */
void ota_https_next_range(char *buf, size_t cap, long long pos, long long file_len, long long max);

/*
 * Parses a Content-Range value "bytes <first>-<last>/<total>" (total may be "*": *total = -1).
 * Returns false for anything else, including last < first and last >= total.
 */
bool ota_https_parse_content_range(const char *value, long long *first, long long *last,
                                   long long *total);

/* How a response to a request that carried a Range header continues the download. */
typedef enum {
    OTA_HTTPS_RANGE_CONTINUE, /* 206 for exactly the requested start, same file: go on */
    OTA_HTTPS_RANGE_FULL,     /* 200: the body is the whole (current) file from byte 0 */
    OTA_HTTPS_RANGE_MISMATCH  /* 206 for another start, another file or without Content-Range */
} ota_https_range_t;

/*
 * Decides what a response to a Range request starting at want_start means.
 * content_range: the response's Content-Range (NULL if none). sent_etag: the validator sent in
 * If-Range (NULL/"" if none); got_etag: the response's ETag (NULL/"" if none); a different ETag
 * on a 206 means the server ignored If-Range for a changed file. file_len: the file size known
 * from earlier responses (-1 unknown); a 206 whose total differs names another file.
 * Statuses other than 200 and 206 are not for this function (they never reach it).
 */
ota_https_range_t ota_https_range_check(int status, long long want_start, const char *content_range,
                                        const char *sent_etag, const char *got_etag,
                                        long long file_len);

/*
 * True when etag can be sent in If-Range: a strong entity tag, i.e. a quoted string ("...",
 * no W/ prefix) of printable ASCII without further quotes, at most max_len characters.
 */
bool ota_https_etag_strong(const char *etag, size_t max_len);

/*
 * Offset a resumption starts from: 0 unless resumption is on and written >= min_written (1024,
 * the OTA buffer minimum); rounded down to 16 bytes when flash encryption is on.
 */
size_t ota_https_resume_offset(bool resumption, size_t written, size_t min_written,
                               bool flash_encryption);

/*
 * Erase size handed to esp_ota_begin/esp_ota_resume: bulk erase takes image_len when known
 * (> 0), else unknown_size (OTA_SIZE_UNKNOWN); otherwise seq_size (OTA_WITH_SEQUENTIAL_WRITES).
 */
size_t ota_https_erase_size(bool bulk, long long image_len, size_t unknown_size, size_t seq_size);

#endif /* HTTPS_OTA_LOGIC_H */
