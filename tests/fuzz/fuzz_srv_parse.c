/*
 * The firmware server's own parsing (src/server/http.c) on one header value or request target:
 * Range against files of several sizes, the path decoder that keeps requests inside the served
 * directory, HTTP dates, If-None-Match lists and the access log's escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "srv_http.h"

static void check_range(const char *value)
{
    static const uint64_t sizes[] = {0, 1, 100, 5000, (uint64_t)1 << 40};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t first = 7, last = 7;
        srv_range_t r = srv_range_parse(value, sizes[i], &first, &last);
        if (r == SRV_RANGE_OK) {
            FUZZ_CHECK(first <= last && last < sizes[i]);
        }
    }
}

static void check_path(const char *target)
{
    char out[256];
    if (!srv_path_decode(target, out, sizeof(out))) {
        return;
    }
    size_t n = strlen(out);
    FUZZ_CHECK(n < sizeof(out) && out[0] == '/');
    FUZZ_CHECK(strchr(out, '\\') == NULL);
    /* no ".." segment survives: the path stays inside the root */
    for (const char *p = out; (p = strstr(p, "..")) != NULL; p++) {
        FUZZ_CHECK(!(p[-1] == '/' && (p[2] == '/' || p[2] == '\0')));
    }
}

static void check_date(const char *value)
{
    time_t t;
    if (srv_http_date_parse(value, &t)) {
        char again[SRV_HTTP_DATE_LEN];
        srv_http_date(t, again);
        time_t t2;
        FUZZ_CHECK(srv_http_date_parse(again, &t2) && t2 == t);
    }
}

static void check_escape(const char *text)
{
    char out[512];
    srv_log_escape(text, out, sizeof(out));
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f && !(*p >= 0x80 && *p <= 0x9f));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    check_range(text);
    check_path(text);
    check_date(text);
    check_escape(text);
    srv_etag_list_matches(text, "\"1a-2b-3c\"");
    free(text);
    return 0;
}
