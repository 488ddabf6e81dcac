/*
 * HTTP pieces of the firmware server that need no network: request paths, byte ranges, dates,
 * entity tags and access-log text. Internal to src/server.
 */
#ifndef OTAKIT_SRV_HTTP_H
#define OTAKIT_SRV_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL, with room the compiler can prove. */
#define SRV_HTTP_DATE_LEN 64
/* "24/Nov/2026 10:11:12" plus NUL, with room the compiler can prove. */
#define SRV_LOG_TIME_LEN 64
/* A quoted ETag of three 64-bit hex numbers plus NUL. */
#define SRV_ETAG_LEN 56

/* How a Range header applies to a file. */
typedef enum {
    SRV_RANGE_IGNORE = 0,  /* absent, malformed, another unit or several ranges: send it all */
    SRV_RANGE_OK,          /* one satisfiable range: [*first, *last] */
    SRV_RANGE_UNSATISFIED, /* one range that starts past the end (or an empty suffix): 416 */
} srv_range_t;

/*
 * Applies a Range header value to a file of `size` bytes. Accepts one range of the forms
 * "bytes=a-b", "bytes=a-" and "bytes=-n" (unit case-insensitive, spaces around the parts); an
 * end past the file is clamped to size - 1 and a suffix longer than the file means the whole
 * file. Sets *first and *last only for SRV_RANGE_OK.
 */
srv_range_t srv_range_parse(const char *value, uint64_t size, uint64_t *first, uint64_t *last);

/*
 * Decodes the path of a request target (everything before '?' or '#') into out (cap bytes
 * including the NUL). Rejects, returning false: a target that does not start with '/', a '%'
 * not followed by two hex digits, an encoded NUL, slash or backslash, a raw backslash, a ".."
 * segment, and a result that does not fit.
 */
bool srv_path_decode(const char *target, char *out, size_t cap);

/* Formats t as an HTTP date (IMF-fixdate, GMT) into out[SRV_HTTP_DATE_LEN]. */
void srv_http_date(time_t t, char *out);

/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); false when it is not one. */
bool srv_http_date_parse(const char *s, time_t *out);

/* The strong ETag of a file state: "inode-size-mtime_ns" in hex, quoted, into out[SRV_ETAG_LEN]. */
void srv_etag(const struct stat *st, char *out);

/*
 * True when an If-None-Match value ("*" or a comma-separated list of entity tags) matches etag
 * by weak comparison (a W/ prefix is ignored on either side).
 */
bool srv_etag_list_matches(const char *value, const char *etag);

/*
 * Formats t in local time the way Python's http.server logs it, "24/Nov/2026 10:11:12" (English
 * month abbreviations whatever the locale), into out[SRV_LOG_TIME_LEN].
 */
void srv_log_time(time_t t, char *out);

/*
 * Copies text into out (cap bytes including the NUL, truncating) with Python http.server's log
 * escaping: bytes 0x00-0x1f and 0x7f-0x9f become \xNN and a backslash becomes two.
 */
void srv_log_escape(const char *text, char *out, size_t cap);

#endif /* OTAKIT_SRV_HTTP_H */
