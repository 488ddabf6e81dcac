/* HTTP pieces of the firmware server: paths, ranges, dates, entity tags, log text. */
#include "srv_http.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* Reads decimal digits at *pp (saturating at UINT64_MAX); false when there are none. */
static bool read_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') {
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *pp = p;
    *out = v;
    return true;
}

srv_range_t srv_range_parse(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (value == NULL) {
        return SRV_RANGE_IGNORE;
    }
    const char *p = skip_space(value);
    if (strncasecmp(p, "bytes", 5) != 0) {
        return SRV_RANGE_IGNORE;
    }
    p = skip_space(p + 5);
    if (*p != '=' || strchr(p, ',') != NULL) {
        return SRV_RANGE_IGNORE;
    }
    p = skip_space(p + 1);
    if (*p == '-') {
        uint64_t n;
        p++;
        if (!read_u64(&p, &n) || *skip_space(p) != '\0') {
            return SRV_RANGE_IGNORE;
        }
        if (n == 0 || size == 0) {
            return SRV_RANGE_UNSATISFIED;
        }
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return SRV_RANGE_OK;
    }
    uint64_t a;
    uint64_t b = 0;
    if (!read_u64(&p, &a)) {
        return SRV_RANGE_IGNORE;
    }
    p = skip_space(p);
    if (*p != '-') {
        return SRV_RANGE_IGNORE;
    }
    p = skip_space(p + 1);
    bool has_end = read_u64(&p, &b);
    if (*skip_space(p) != '\0' || (has_end && b < a)) {
        return SRV_RANGE_IGNORE;
    }
    if (a >= size) {
        return SRV_RANGE_UNSATISFIED;
    }
    *first = a;
    *last = (!has_end || b >= size) ? size - 1 : b;
    return SRV_RANGE_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool srv_path_decode(const char *target, char *out, size_t cap)
{
    if (target == NULL || target[0] != '/' || cap == 0) {
        return false;
    }
    size_t n = 0;
    for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hex_value(p[1]);
            int lo = hi < 0 ? -1 : hex_value(p[2]);
            if (lo < 0) {
                return false;
            }
            c = hi * 16 + lo;
            if (c == 0 || c == '/' || c == '\\') {
                return false;
            }
            p += 2;
        } else if (c == '\\') {
            return false;
        }
        if (n + 1 >= cap) {
            return false;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    /* No ".." segment anywhere: "/..", "/../x", "/a/../b", "/a/.." */
    for (const char *s = out; (s = strstr(s, "..")) != NULL; s += 2) {
        if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0')) {
            return false;
        }
    }
    return true;
}

void srv_http_date(time_t t, char *out)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(out, SRV_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
             tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* Reads exactly n decimal digits. */
static bool read_digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

bool srv_http_date_parse(const char *s, time_t *out)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (s == NULL) {
        return false;
    }
    s = skip_space(s);
    if (strlen(s) < 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strncmp(s + 25, " GMT", 4) != 0 ||
        *skip_space(s + 29) != '\0') {
        return false;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int year;
    if (!read_digits(s + 5, 2, &tm.tm_mday) || !read_digits(s + 12, 4, &year) ||
        !read_digits(s + 17, 2, &tm.tm_hour) || !read_digits(s + 20, 2, &tm.tm_min) ||
        !read_digits(s + 23, 2, &tm.tm_sec)) {
        return false;
    }
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++) {
        if (strncmp(s + 8, month_names[i], 3) == 0) {
            tm.tm_mon = i;
        }
    }
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60) {
        return false;
    }
    tm.tm_year = year - 1900;
    *out = timegm(&tm);
    return true;
}

void srv_etag(const struct stat *st, char *out)
{
    uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    snprintf(out, SRV_ETAG_LEN, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st->st_ino,
             (uint64_t)st->st_size, ns);
}

bool srv_etag_list_matches(const char *value, const char *etag)
{
    if (value == NULL) {
        return false;
    }
    const char *p = skip_space(value);
    if (p[0] == '*' && *skip_space(p + 1) == '\0') {
        return true;
    }
    size_t elen = strlen(etag);
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (*p != '"') {
            return false; /* not a list of entity tags */
        }
        const char *end = strchr(p + 1, '"');
        if (end == NULL) {
            return false;
        }
        size_t len = (size_t)(end - p) + 1;
        if (len == elen && memcmp(p, etag, len) == 0) {
            return true;
        }
        p = end + 1;
    }
    return false;
}

void srv_log_time(time_t t, char *out)
{
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
    }
    snprintf(out, SRV_LOG_TIME_LEN, "%02d/%s/%04d %02d:%02d:%02d", tm.tm_mday,
             month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void srv_log_escape(const char *text, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (cap == 0) {
        return;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        char piece[4];
        size_t len = 0;
        if (*p < 0x20 || (*p >= 0x7f && *p <= 0x9f)) {
            piece[0] = '\\';
            piece[1] = 'x';
            piece[2] = hex[*p >> 4];
            piece[3] = hex[*p & 15];
            len = 4;
        } else if (*p == '\\') {
            piece[0] = '\\';
            piece[1] = '\\';
            len = 2;
        } else {
            piece[0] = (char)*p;
            len = 1;
        }
        if (n + len >= cap) {
            break;
        }
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = '\0';
}
