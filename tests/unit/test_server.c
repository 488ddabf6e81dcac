/*
 * Firmware server: GET/HEAD, byte ranges, validators, path safety, keep-alive, concurrency, TLS,
 * test switches and the access log, driven in-process with libcurl as the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "ota/ota_server.h"
#include "ota/ota_x509.h"
#include "server_fixture.h"
#include "srv_http.h"

#define FW_SIZE 300007u /* not a multiple of any block size */
#define SECRET "outside-the-root"

/* Layout: TMP/www is served; TMP/x and TMP/outside/secret.bin must never be. */
static uint8_t fw[FW_SIZE];

/* How to reach the server under test. */
static char base_url[128];
static char cainfo[320];
static bool use_tls;

typedef struct reply {
    CURLcode code;
    long status;
    uint8_t *body;
    size_t len;
    size_t cap;
    char head[8192];
    size_t hlen;
} reply_t;

/* ---- fixture ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (fixture_setup("server") != 0) {
        return -1;
    }
    char p[512];
    path_in(p, sizeof(p), "www/sub");
    mkdir(p, 0755);
    path_in(p, sizeof(p), "outside");
    mkdir(p, 0755);
    uint32_t x = 12345;
    for (size_t i = 0; i < FW_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        fw[i] = (uint8_t)(x >> 16);
    }
    make_file("www/fw.bin", fw, FW_SIZE);
    make_file("www/notes.txt", "hello\n", 6);
    make_file("www/sub/inner.bin", "inner", 5);
    make_file("x", SECRET, strlen(SECRET));
    make_file("outside/secret.bin", SECRET, strlen(SECRET));
    char target[512];
    path_in(target, sizeof(target), "outside/secret.bin");
    path_in(p, sizeof(p), "www/evil");
    if (symlink(target, p) != 0) {
        return -1;
    }
    path_in(p, sizeof(p), "www/sub/up");
    if (symlink("../../x", p) != 0) {
        return -1;
    }
    path_in(p, sizeof(p), "www/alias.bin");
    if (symlink("fw.bin", p) != 0) {
        return -1;
    }
    /* A fixed modification time well in the past, for date validators. */
    path_in(p, sizeof(p), "www/fw.bin");
    struct timespec times[2] = {{1700000000, 0}, {1700000000, 123456789}};
    utimensat(AT_FDCWD, p, times, 0);
    return 0;
}

/* Starts the server for one test; cfg may be NULL for the defaults. */
static void start(ota_server_config_t *cfg)
{
    server_start(cfg);
    use_tls = ota_server_is_tls(srv);
    snprintf(base_url, sizeof(base_url), "%s://127.0.0.1:%u", use_tls ? "https" : "http",
             ota_server_port(srv));
}

static void stop(ota_server_stats_t *stats)
{
    ota_server_stop(srv, stats);
    srv = NULL;
}

/* ---- client ----------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    reply_t *r = ud;
    size_t len = size * n;
    if (r->len + len > r->cap) {
        size_t cap = (r->len + len) * 2;
        uint8_t *grown = realloc(r->body, cap);
        if (grown == NULL) {
            return 0;
        }
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    reply_t *r = ud;
    size_t len = size * n;
    if (r->hlen + len < sizeof(r->head)) {
        memcpy(r->head + r->hlen, data, len);
        r->hlen += len;
        r->head[r->hlen] = 0;
    }
    return len;
}

static void reply_free(reply_t *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Value of the last response header `name` (case-insensitive), or NULL. Static buffer. */
static const char *header_of(const reply_t *r, const char *name)
{
    static char value[512];
    const char *found = NULL;
    size_t n = strlen(name);
    for (const char *line = r->head; *line != 0;) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL) {
            break;
        }
        if (strncasecmp(line, "HTTP/", 5) == 0) {
            found = NULL; /* a new response (after a redirect) */
        } else if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            snprintf(value, sizeof(value), "%.*s", (int)(end - v), v);
            found = value;
        }
        line = end + 2;
    }
    return found;
}

static void configure(CURL *h, const char *method, const char *path, struct curl_slist *hdrs,
                      reply_t *r)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (use_tls) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
    }
}

/*
 * Performs one request, on `h` when given (so that connections are reused) or on a fresh
 * handle. Extra headers come as a NULL-terminated list.
 */
static CURLcode fetch_on(CURL *h, const char *method, const char *path, const char *const *extra,
                         reply_t *r)
{
    memset(r, 0, sizeof(*r));
    bool own = h == NULL;
    if (own) {
        h = curl_easy_init();
    } else {
        curl_easy_reset(h);
    }
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        hdrs = curl_slist_append(hdrs, extra[i]);
    }
    configure(h, method, path, hdrs, r);
    r->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    if (own) {
        curl_easy_cleanup(h);
    }
    return r->code;
}

static CURLcode fetch(const char *method, const char *path, const char *const *extra, reply_t *r)
{
    return fetch_on(NULL, method, path, extra, r);
}

static void assert_body(const reply_t *r, const void *want, size_t len)
{
    assert_int_equal(r->len, len);
    if (len > 0) {
        assert_memory_equal(r->body, want, len);
    }
}

static void assert_no_secret(const reply_t *r)
{
    for (size_t i = 0; i + strlen(SECRET) <= r->len; i++) {
        assert_false(memcmp(r->body + i, SECRET, strlen(SECRET)) == 0);
    }
}

static void etag_of_file(const char *rel, char *out)
{
    char p[512];
    struct stat st;
    path_in(p, sizeof(p), rel);
    assert_int_equal(stat(p, &st), 0);
    unsigned long long ns = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                            (unsigned long long)st.st_mtim.tv_nsec;
    snprintf(out, 64, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, ns);
}

/* ---- plain requests --------------------------------------------------------------------- */

static void test_get_and_head(void **state)
{
    (void)state;
    start(NULL);
    reply_t r;
    assert_int_equal(fetch("GET", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, FW_SIZE);
    assert_string_equal(header_of(&r, "Content-Length"), "300007");
    assert_string_equal(header_of(&r, "Content-Type"), "application/octet-stream");
    assert_string_equal(header_of(&r, "Accept-Ranges"), "bytes");
    assert_string_equal(header_of(&r, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    char etag[64];
    etag_of_file("www/fw.bin", etag);
    assert_string_equal(header_of(&r, "ETag"), etag);
    assert_null(header_of(&r, "Content-Range"));
    reply_free(&r);

    assert_int_equal(fetch("HEAD", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    assert_string_equal(header_of(&r, "Content-Length"), "300007");
    assert_string_equal(header_of(&r, "ETag"), etag);
    reply_free(&r);

    assert_int_equal(fetch("GET", "/notes.txt", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, "hello\n", 6);
    assert_string_equal(header_of(&r, "Content-Type"), "text/plain");
    reply_free(&r);

    /* Percent-encoded ordinary characters and a query string are fine. */
    assert_int_equal(fetch("GET", "/%66w.bin?v=2", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, FW_SIZE);
    reply_free(&r);

    assert_int_equal(fetch("GET", "/sub/inner.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, "inner", 5);
    reply_free(&r);

    /* A symlink that stays inside the root is served. */
    assert_int_equal(fetch("GET", "/alias.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, FW_SIZE);
    reply_free(&r);

    /* Other methods: 501 as Python's handler. */
    assert_int_equal(fetch("POST", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 501);
    reply_free(&r);
    assert_int_equal(fetch("DELETE", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 501);
    reply_free(&r);

    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.requests, 8);
    assert_int_equal(st.status_2xx, 6);
    assert_int_equal(st.status_5xx, 2);
    assert_int_equal(st.body_bytes, 3u * FW_SIZE + 6 + 5);
}

typedef struct range_case {
    const char *header;
    long status;
    uint64_t first; /* for 206 */
    uint64_t last;
} range_case_t;

static void test_ranges(void **state)
{
    (void)state;
    const range_case_t cases[] = {
        {"Range: bytes=0-99", 206, 0, 99},
        {"Range: bytes=100-", 206, 100, FW_SIZE - 1},
        {"Range: bytes=-500", 206, FW_SIZE - 500, FW_SIZE - 1},
        {"Range: bytes=1000-99999999", 206, 1000, FW_SIZE - 1}, /* end clamped */
        {"Range: bytes=-99999999", 206, 0, FW_SIZE - 1},        /* suffix longer than file */
        {"Range: bytes=300006-300006", 206, FW_SIZE - 1, FW_SIZE - 1},
        {"Range: bytes=0-0", 206, 0, 0},
        {"Range: BYTES = 7 - 9", 206, 7, 9},
        {"Range: bytes=300007-", 416, 0, 0},
        {"Range: bytes=300007-300100", 416, 0, 0},
        {"Range: bytes=-0", 416, 0, 0},
        {"Range: bytes=0-1,5-6", 200, 0, 0}, /* several ranges: the whole file */
        {"Range: bytes=9-5", 200, 0, 0},     /* malformed: ignored */
        {"Range: bytes=abc", 200, 0, 0},
        {"Range: items=0-5", 200, 0, 0},
    };
    start(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const range_case_t *c = &cases[i];
        const char *extra[] = {c->header, NULL};
        reply_t r;
        assert_int_equal(fetch("GET", "/fw.bin", extra, &r), CURLE_OK);
        if (r.status != c->status) {
            fail_msg("%s: status %ld, expected %ld", c->header, r.status, c->status);
        }
        if (c->status == 206) {
            char want[80];
            snprintf(want, sizeof(want), "bytes %llu-%llu/%u", (unsigned long long)c->first,
                     (unsigned long long)c->last, FW_SIZE);
            assert_string_equal(header_of(&r, "Content-Range"), want);
            assert_body(&r, fw + c->first, (size_t)(c->last - c->first + 1));
        } else if (c->status == 416) {
            assert_string_equal(header_of(&r, "Content-Range"), "bytes */300007");
        } else {
            assert_null(header_of(&r, "Content-Range"));
            assert_body(&r, fw, FW_SIZE);
        }
        reply_free(&r);
    }
    /* HEAD ignores Range. */
    const char *extra[] = {"Range: bytes=0-9", NULL};
    reply_t r;
    assert_int_equal(fetch("HEAD", "/fw.bin", extra, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(header_of(&r, "Content-Length"), "300007");
    reply_free(&r);
    stop(NULL);
}

static void test_if_range(void **state)
{
    (void)state;
    start(NULL);
    char etag[64];
    char if_range[128];
    etag_of_file("www/fw.bin", etag);
    reply_t r;

    snprintf(if_range, sizeof(if_range), "If-Range: %s", etag);
    const char *match[] = {"Range: bytes=10-19", if_range, NULL};
    assert_int_equal(fetch("GET", "/fw.bin", match, &r), CURLE_OK);
    assert_int_equal(r.status, 206);
    assert_body(&r, fw + 10, 10);
    reply_free(&r);

    const char *other[] = {"Range: bytes=10-19", "If-Range: \"1-2-3\"", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", other, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, FW_SIZE);
    reply_free(&r);

    snprintf(if_range, sizeof(if_range), "If-Range: W/%s", etag); /* weak never matches */
    const char *weak[] = {"Range: bytes=10-19", if_range, NULL};
    assert_int_equal(fetch("GET", "/fw.bin", weak, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    const char *date[] = {"Range: bytes=10-19", "If-Range: Tue, 14 Nov 2023 22:13:20 GMT", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", date, &r), CURLE_OK);
    assert_int_equal(r.status, 206);
    assert_body(&r, fw + 10, 10);
    reply_free(&r);

    const char *old[] = {"Range: bytes=10-19", "If-Range: Tue, 14 Nov 2023 22:13:19 GMT", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", old, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* An unsatisfiable range under a stale validator is no error: the whole file. */
    const char *stale416[] = {"Range: bytes=999999999-", "If-Range: \"x\"", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", stale416, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    stop(NULL);
}

static void test_etag_changes_with_the_file(void **state)
{
    (void)state;
    char p[512];
    path_in(p, sizeof(p), "www/changing.bin");
    write_bytes(p, "version-1", 9);
    struct timespec t1[2] = {{1600000000, 0}, {1600000000, 0}};
    utimensat(AT_FDCWD, p, t1, 0);
    start(NULL);
    reply_t r;
    assert_int_equal(fetch("GET", "/changing.bin", NULL, &r), CURLE_OK);
    char etag1[128];
    snprintf(etag1, sizeof(etag1), "%s", header_of(&r, "ETag"));
    reply_free(&r);

    /* Same size, same inode, new contents and mtime. */
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "version-2", 9, 0), 9);
    close(fd);
    struct timespec t2[2] = {{1600000000, 0}, {1600000000, 1}}; /* one nanosecond later */
    utimensat(AT_FDCWD, p, t2, 0);
    assert_int_equal(fetch("GET", "/changing.bin", NULL, &r), CURLE_OK);
    char etag2[128];
    snprintf(etag2, sizeof(etag2), "%s", header_of(&r, "ETag"));
    assert_string_not_equal(etag1, etag2);
    reply_free(&r);

    /* A client resuming with the old ETag gets the new file from the start. */
    char if_range[160];
    snprintf(if_range, sizeof(if_range), "If-Range: %s", etag1);
    const char *resume[] = {"Range: bytes=4-", if_range, NULL};
    assert_int_equal(fetch("GET", "/changing.bin", resume, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, "version-2", 9);
    reply_free(&r);

    /* A longer file: another ETag again. */
    write_bytes(p, "version-3!", 10);
    assert_int_equal(fetch("GET", "/changing.bin", NULL, &r), CURLE_OK);
    assert_string_not_equal(header_of(&r, "ETag"), etag2);
    reply_free(&r);
    stop(NULL);
    unlink(p);
}

static void test_not_modified(void **state)
{
    (void)state;
    start(NULL);
    char etag[64];
    char inm[160];
    etag_of_file("www/fw.bin", etag);
    reply_t r;
    snprintf(inm, sizeof(inm), "If-None-Match: \"zzz\", %s", etag);
    const char *match[] = {inm, NULL};
    assert_int_equal(fetch("GET", "/fw.bin", match, &r), CURLE_OK);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    assert_string_equal(header_of(&r, "ETag"), etag);
    reply_free(&r);

    const char *star[] = {"If-None-Match: *", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", star, &r), CURLE_OK);
    assert_int_equal(r.status, 304);
    reply_free(&r);

    const char *other[] = {"If-None-Match: \"zzz\"", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", other, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, FW_SIZE);
    reply_free(&r);

    const char *ims[] = {"If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", ims, &r), CURLE_OK);
    assert_int_equal(r.status, 304);
    reply_free(&r);

    const char *older[] = {"If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", older, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* If-None-Match wins over If-Modified-Since. */
    const char *both[] = {"If-None-Match: \"zzz\"",
                          "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", both, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    stop(NULL);
}

/* ---- path safety ------------------------------------------------------------------------ */

static void test_no_path_escapes_the_root(void **state)
{
    (void)state;
    static const char *const attempts[] = {
        "/../x",
        "/%2e%2e/x",
        "/%2E%2E/x",
        "/a/..%2f..%2fx",
        "/sub/..%2f..%2fx",
        "/%2e%2e%2fx",
        "/sub/../../x",
        "/sub/%2e%2e/%2e%2e/x",
        "/..",
        "/sub/..",
        "/sub/../fw.bin", /* ".." is refused wherever it leads */
        "/..%5cx",
        "/..\\x",
        "/fw.bin%00",
        "/fw.bin%00.txt",
        "/%00",
        "/evil",   /* absolute symlink to a file outside */
        "/sub/up", /* relative symlink climbing out */
        "/../outside/secret.bin",
        "/%2e%2e/outside/secret.bin",
        "//x",
        "/%",
        "/%zz",
        "/%2",
    };
    start(NULL);
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        reply_t r;
        CURLcode c = fetch("GET", attempts[i], NULL, &r);
        if (c != CURLE_OK || r.status != 404) {
            fail_msg("%s: curl %d, status %ld", attempts[i], c, r.status);
        }
        assert_no_secret(&r);
        reply_free(&r);
    }
    stop(NULL);
}

static void test_directories_are_not_listed(void **state)
{
    (void)state;
    static const char *const dirs[] = {"/", "/sub", "/sub/", "/fw.bin/", "/missing.bin"};
    start(NULL);
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        reply_t r;
        assert_int_equal(fetch("GET", dirs[i], NULL, &r), CURLE_OK);
        if (r.status != 404) {
            fail_msg("%s: status %ld", dirs[i], r.status);
        }
        assert_null(memmem(r.body, r.len, "inner.bin", 9));
        reply_free(&r);
    }
    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.status_4xx, 5);
    assert_int_equal(st.body_bytes, 0); /* error pages are not file bodies */
}

/* ---- connections ------------------------------------------------------------------------ */

/* Five range requests on one handle: one TCP connection. */
static void five_ranges_one_connection(void)
{
    CURL *h = curl_easy_init();
    for (unsigned i = 0; i < 5; i++) {
        char range[64];
        snprintf(range, sizeof(range), "Range: bytes=%u-%u", i * 4096, i * 4096 + 4095);
        const char *extra[] = {range, NULL};
        reply_t r;
        assert_int_equal(fetch_on(h, "GET", "/fw.bin", extra, &r), CURLE_OK);
        assert_int_equal(r.status, 206);
        assert_body(&r, fw + i * 4096, 4096);
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.status_2xx, 5);
    assert_int_equal(st.body_bytes, 5 * 4096);
}

static void test_keep_alive(void **state)
{
    (void)state;
    start(NULL);
    five_ranges_one_connection();
}

static void test_concurrent_clients(void **state)
{
    (void)state;
    enum { N = 16 };
    start(NULL);
    CURLM *multi = curl_multi_init();
    CURL *handles[N];
    reply_t replies[N];
    struct curl_slist *hdrs[N];
    memset(replies, 0, sizeof(replies));
    for (unsigned i = 0; i < N; i++) {
        handles[i] = curl_easy_init();
        hdrs[i] = NULL;
        if (i % 2 == 1) { /* odd ones ask for a range, even ones for the whole file */
            char range[64];
            snprintf(range, sizeof(range), "Range: bytes=%u-%u", i * 10000, i * 10000 + 9999);
            hdrs[i] = curl_slist_append(NULL, range);
        }
        configure(handles[i], "GET", "/fw.bin", hdrs[i], &replies[i]);
        curl_easy_setopt(handles[i], CURLOPT_FORBID_REUSE, 1L);
        curl_multi_add_handle(multi, handles[i]);
    }
    int running = 1;
    while (running > 0) {
        assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
        if (running > 0) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        assert_int_equal(msg->data.result, CURLE_OK);
    }
    for (unsigned i = 0; i < N; i++) {
        long status = 0;
        curl_easy_getinfo(handles[i], CURLINFO_RESPONSE_CODE, &status);
        if (i % 2 == 1) {
            assert_int_equal(status, 206);
            assert_body(&replies[i], fw + i * 10000, 10000);
        } else {
            assert_int_equal(status, 200);
            assert_body(&replies[i], fw, FW_SIZE);
        }
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
        curl_slist_free_all(hdrs[i]);
        reply_free(&replies[i]);
    }
    curl_multi_cleanup(multi);
    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.requests, N);
    assert_int_equal(st.connections, N);
    assert_int_equal(st.body_bytes, (N / 2) * (uint64_t)FW_SIZE + (N / 2) * 10000u);
}

/* ---- TLS -------------------------------------------------------------------------------- */

static void test_tls_self_signed(void **state)
{
    (void)state;
    char key[320];
    path_in(cainfo, sizeof(cainfo), "ca_cert.pem");
    path_in(key, sizeof(key), "ca_key.pem");
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cainfo, key, 0, NULL), OTA_OK);
    ota_server_config_t cfg = {.cert_path = cainfo, .key_path = key};
    start(&cfg);
    assert_true(use_tls);
    assert_non_null(strstr(base_url, "https://"));

    reply_t r;
    assert_int_equal(fetch("GET", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, FW_SIZE);
    reply_free(&r);

    /* The certificate names 127.0.0.1 only: another host name fails verification. */
    CURL *h = curl_easy_init();
    char url[160];
    char resolve[80];
    snprintf(url, sizeof(url), "https://otakit-test.invalid:%u/fw.bin", ota_server_port(srv));
    snprintf(resolve, sizeof(resolve), "otakit-test.invalid:%u:127.0.0.1", ota_server_port(srv));
    struct curl_slist *res = curl_slist_append(NULL, resolve);
    memset(&r, 0, sizeof(r));
    configure(h, "GET", "/fw.bin", NULL, &r);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, res);
    assert_int_equal(curl_easy_perform(h), CURLE_PEER_FAILED_VERIFICATION);
    assert_int_equal(r.len, 0);
    reply_free(&r);
    /* Without trusting the certificate, 127.0.0.1 fails too. */
    curl_easy_reset(h);
    configure(h, "GET", "/fw.bin", NULL, &r);
    curl_easy_setopt(h, CURLOPT_CAINFO, "/nonexistent-ca.pem");
    curl_easy_setopt(h, CURLOPT_CAPATH, "/nonexistent-ca-dir");
    assert_int_not_equal(curl_easy_perform(h), CURLE_OK);
    reply_free(&r);
    curl_easy_cleanup(h);
    curl_slist_free_all(res);
    stop(NULL);

    /* All ranges share one TLS connection. */
    start(&cfg);
    five_ranges_one_connection();
    use_tls = false;
}

/* A TLS connection to the server offering only the signature algorithms sigalgs, up to
 * version max: the handshake verifies, and the server signed with a PKCS#1 v1.5 (pss false) or
 * PSS signature over the digest md_nid. */
static void handshake_signs(int max, const char *sigalgs, bool pss, int md_nid)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max), 1);
    assert_int_equal(SSL_CTX_set1_sigalgs_list(ctx, sigalgs), 1);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, cainfo, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(ota_server_port(srv)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    assert_int_equal(SSL_get_verify_result(ssl), X509_V_OK);
    int type = 0, md = 0;
    assert_int_equal(SSL_get_peer_signature_type_nid(ssl, &type), 1);
    assert_int_equal(SSL_get_peer_signature_nid(ssl, &md), 1);
    assert_int_equal(type, pss ? EVP_PKEY_RSA_PSS : EVP_PKEY_RSA);
    assert_int_equal(md, md_nid);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
}

/* The handshake's signatures (OpenSSL makes them for an RSA key): each kind TLS 1.2 and 1.3
 * allow verifies with the certificate's key. */
static void test_tls_signatures(void **state)
{
    (void)state;
    char key[320];
    path_in(cainfo, sizeof(cainfo), "ca_cert.pem");
    path_in(key, sizeof(key), "ca_key.pem");
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cainfo, key, 0, NULL), OTA_OK);
    ota_server_config_t cfg = {.cert_path = cainfo, .key_path = key};
    start(&cfg);
    handshake_signs(TLS1_2_VERSION, "RSA+SHA256", false, NID_sha256);
    handshake_signs(TLS1_2_VERSION, "RSA+SHA512", false, NID_sha512);
    handshake_signs(TLS1_2_VERSION, "rsa_pss_rsae_sha256", true, NID_sha256);
    handshake_signs(TLS1_3_VERSION, "rsa_pss_rsae_sha256", true, NID_sha256);
    handshake_signs(TLS1_3_VERSION, "rsa_pss_rsae_sha384", true, NID_sha384);
    stop(NULL);
    use_tls = false;
}

static void test_tls_configuration_errors(void **state)
{
    (void)state;
    char a_cert[320];
    char a_key[320];
    char b_cert[320];
    char b_key[320];
    path_in(a_cert, sizeof(a_cert), "a_cert.pem");
    path_in(a_key, sizeof(a_key), "a_key.pem");
    path_in(b_cert, sizeof(b_cert), "b_cert.pem");
    path_in(b_key, sizeof(b_key), "b_key.pem");
    assert_int_equal(ota_x509_self_signed("127.0.0.1", a_cert, a_key, 0, NULL), OTA_OK);
    assert_int_equal(ota_x509_self_signed("127.0.0.1", b_cert, b_key, 0, NULL), OTA_OK);
    ota_server_t *s = (ota_server_t *)1;
    ota_diag_t diag = {""};
    ota_server_config_t cfg = {.root = www, .cert_path = a_cert, .key_path = b_key};
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_CORRUPT);
    assert_null(s);
    assert_non_null(strstr(diag.msg, "does not match"));
    cfg.key_path = "/nonexistent/key.pem";
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.msg, "/nonexistent/key.pem"));
    cfg.key_path = NULL;
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_INVALID_ARG);
    cfg.cert_path = a_key; /* a key where the certificate should be */
    cfg.key_path = a_key;
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_CORRUPT);
    unlink(a_cert);
    unlink(a_key);
    unlink(b_cert);
    unlink(b_key);
}

/* ---- test switches ---------------------------------------------------------------------- */

static void test_no_range_mode(void **state)
{
    (void)state;
    ota_server_config_t cfg = {.no_range = true};
    start(&cfg);
    const char *extra[] = {"Range: bytes=100-199", NULL};
    reply_t r;
    assert_int_equal(fetch("GET", "/fw.bin", extra, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, FW_SIZE);
    assert_null(header_of(&r, "Accept-Ranges"));
    assert_null(header_of(&r, "Content-Range"));
    assert_null(header_of(&r, "ETag"));
    assert_string_equal(header_of(&r, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_string_equal(header_of(&r, "Content-Length"), "300007");
    reply_free(&r);
    const char *unsat[] = {"Range: bytes=999999999-", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", unsat, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    stop(NULL);
}

static void test_redirect(void **state)
{
    (void)state;
    const ota_server_redirect_t redirects[] = {
        {"/old.bin", "/fw.bin"},
        {"/elsewhere.bin", "https://example.invalid/x.bin"},
    };
    ota_server_config_t cfg = {.redirects = redirects, .redirect_count = 2};
    start(&cfg);
    reply_t r;
    assert_int_equal(fetch("GET", "/old.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 302);
    assert_string_equal(header_of(&r, "Location"), "/fw.bin");
    reply_free(&r);
    assert_int_equal(fetch("GET", "/elsewhere.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 302);
    assert_string_equal(header_of(&r, "Location"), "https://example.invalid/x.bin");
    reply_free(&r);

    CURL *h = curl_easy_init();
    memset(&r, 0, sizeof(r));
    configure(h, "GET", "/old.bin", NULL, &r);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, FW_SIZE);
    reply_free(&r);
    curl_easy_cleanup(h);
    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.status_3xx, 3);
    assert_int_equal(st.status_2xx, 1);
}

static void test_drop_after(void **state)
{
    (void)state;
    ota_server_config_t cfg = {.drop_after_bytes = 70000, .drop_after_count = 2};
    start(&cfg);
    reply_t r;
    /* HEAD and short bodies do not use up a drop. */
    assert_int_equal(fetch("HEAD", "/fw.bin", NULL, &r), CURLE_OK);
    reply_free(&r);
    assert_int_equal(fetch("GET", "/notes.txt", NULL, &r), CURLE_OK);
    reply_free(&r);

    assert_int_equal(fetch("GET", "/fw.bin", NULL, &r), CURLE_PARTIAL_FILE);
    assert_int_equal(r.status, 200);
    assert_body(&r, fw, 70000);
    reply_free(&r);

    /* Resume: the second long body is cut too, after another 70000 bytes. */
    const char *resume[] = {"Range: bytes=70000-", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", resume, &r), CURLE_PARTIAL_FILE);
    assert_int_equal(r.status, 206);
    assert_body(&r, fw + 70000, 70000);
    reply_free(&r);

    const char *rest[] = {"Range: bytes=140000-", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", rest, &r), CURLE_OK);
    assert_int_equal(r.status, 206);
    assert_body(&r, fw + 140000, FW_SIZE - 140000);
    reply_free(&r);
    ota_server_stats_t st;
    stop(&st);
    assert_int_equal(st.drops, 2);
    assert_int_equal(st.body_bytes, 6 + 70000 + 70000 + (FW_SIZE - 140000));
}

static void test_chunked(void **state)
{
    (void)state;
    ota_server_config_t cfg = {.chunked = true};
    start(&cfg);
    reply_t r;
    assert_int_equal(fetch("GET", "/fw.bin", NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(header_of(&r, "Transfer-Encoding"), "chunked");
    assert_null(header_of(&r, "Content-Length"));
    assert_body(&r, fw, FW_SIZE);
    reply_free(&r);
    const char *range[] = {"Range: bytes=5-104", NULL};
    assert_int_equal(fetch("GET", "/fw.bin", range, &r), CURLE_OK);
    assert_int_equal(r.status, 206);
    assert_string_equal(header_of(&r, "Content-Range"), "bytes 5-104/300007");
    assert_body(&r, fw + 5, 100);
    reply_free(&r);
    stop(NULL);
    /* Chunked bodies keep the connection open too. */
    start(&cfg);
    five_ranges_one_connection();
}

/* ---- access log ------------------------------------------------------------------------- */

static void test_access_log_format(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    assert_non_null(log);
    ota_server_config_t cfg = {.access_log = log};
    start(&cfg);
    time_t before = time(NULL);
    reply_t r;
    fetch("GET", "/fw.bin?x=1", NULL, &r);
    reply_free(&r);
    fetch("GET", "/nope.bin", NULL, &r);
    reply_free(&r);
    fetch("POST", "/fw.bin", NULL, &r);
    reply_free(&r);
    const char *unsat[] = {"Range: bytes=999999999-", NULL};
    fetch("GET", "/fw.bin", unsat, &r);
    reply_free(&r);
    const char *part[] = {"Range: bytes=0-1", NULL};
    fetch("HEAD", "/fw.bin", part, &r);
    reply_free(&r);
    time_t after = time(NULL);
    stop(NULL);

    static const char *const want[] = {
        "\"GET /fw.bin?x=1 HTTP/1.1\" 200 -", "code 404, message File not found",
        "\"GET /nope.bin HTTP/1.1\" 404 -",   "code 501, message Unsupported method ('POST')",
        "\"POST /fw.bin HTTP/1.1\" 501 -",    "code 416, message Requested Range Not Satisfiable",
        "\"GET /fw.bin HTTP/1.1\" 416 -",     "\"HEAD /fw.bin HTTP/1.1\" 200 -",
    };
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^127\\.0\\.0\\.1 - - \\[([0-9]{2})/"
                             "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/([0-9]{4}) "
                             "([0-9]{2}):([0-9]{2}):([0-9]{2})\\] (.*)$",
                             REG_EXTENDED),
                     0);
    rewind(log);
    char line[1024];
    size_t n = 0;
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    while (fgets(line, sizeof(line), log) != NULL) {
        line[strcspn(line, "\n")] = 0;
        regmatch_t m[8];
        if (regexec(&re, line, 8, m, 0) != 0) {
            fail_msg("log line not in Python's format: '%s'", line);
        }
        assert_true(n < sizeof(want) / sizeof(want[0]));
        assert_string_equal(line + m[7].rm_so, want[n]);
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        tm.tm_mday = atoi(line + m[1].rm_so);
        tm.tm_mon = (int)((strstr(months, (char[4]){line[m[2].rm_so], line[m[2].rm_so + 1],
                                                    line[m[2].rm_so + 2], 0}) -
                           months) /
                          3);
        tm.tm_year = atoi(line + m[3].rm_so) - 1900;
        tm.tm_hour = atoi(line + m[4].rm_so);
        tm.tm_min = atoi(line + m[5].rm_so);
        tm.tm_sec = atoi(line + m[6].rm_so);
        tm.tm_isdst = -1;
        time_t t = mktime(&tm); /* local time, as Python logs */
        assert_true(t >= before - 1 && t <= after + 1);
        n++;
    }
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    regfree(&re);
    fclose(log);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static void test_stop_releases_the_port(void **state)
{
    (void)state;
    start(NULL);
    uint16_t port = ota_server_port(srv);
    assert_true(port != 0);
    /* A second server cannot take the port while the first listens. */
    ota_server_t *other = NULL;
    ota_diag_t diag = {""};
    ota_server_config_t cfg = {.root = www, .bind_addr = "127.0.0.1", .port = port};
    assert_int_equal(ota_server_start(&cfg, &other, &diag), OTA_ERR_NET);
    assert_non_null(strstr(diag.msg, "in use"));
    /* A client keeps an idle keep-alive connection open while the server stops. */
    CURL *h = curl_easy_init();
    reply_t r;
    assert_int_equal(fetch_on(h, "GET", "/notes.txt", NULL, &r), CURLE_OK);
    reply_free(&r);
    stop(NULL);
    curl_easy_cleanup(h);
    /* The port is free: a new server gets exactly that port. */
    assert_int_equal(ota_server_start(&cfg, &other, &diag), OTA_OK);
    assert_int_equal(ota_server_port(other), port);
    ota_server_stop(other, NULL);
    /* Plain sockets can bind it as well. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(INADDR_LOOPBACK)}};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
}

static void test_start_errors(void **state)
{
    (void)state;
    ota_server_t *s = NULL;
    ota_diag_t diag = {""};
    assert_int_equal(ota_server_start(NULL, &s, &diag), OTA_ERR_INVALID_ARG);
    ota_server_config_t cfg = {.root = "/nonexistent-otakit-root"};
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.msg, "/nonexistent-otakit-root"));
    char file[512];
    path_in(file, sizeof(file), "x");
    cfg.root = file;
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_NOT_FOUND);
    cfg.root = www;
    cfg.bind_addr = "localhost";
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_INVALID_ARG);
    assert_null(s);
    const ota_server_redirect_t bad = {"/a", NULL};
    cfg.bind_addr = NULL;
    cfg.redirects = &bad;
    cfg.redirect_count = 1;
    assert_int_equal(ota_server_start(&cfg, &s, &diag), OTA_ERR_INVALID_ARG);
    /* IPv6 loopback works where the host has it. */
    cfg.redirect_count = 0;
    cfg.bind_addr = "::1";
    if (ota_server_start(&cfg, &s, &diag) == OTA_OK) {
        ota_server_stop(s, NULL);
    }
    ota_server_stop(NULL, NULL);
}

/* ---- helpers without a network ---------------------------------------------------------- */

static void test_range_parser(void **state)
{
    (void)state;
    uint64_t a = 0;
    uint64_t b = 0;
    assert_int_equal(srv_range_parse("bytes=0-9", 10, &a, &b), SRV_RANGE_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 9);
    assert_int_equal(srv_range_parse("bytes=-3", 10, &a, &b), SRV_RANGE_OK);
    assert_int_equal(a, 7);
    assert_int_equal(srv_range_parse("bytes=0-", 0, &a, &b), SRV_RANGE_UNSATISFIED);
    assert_int_equal(srv_range_parse("bytes=-5", 0, &a, &b), SRV_RANGE_UNSATISFIED);
    assert_int_equal(srv_range_parse("bytes=99999999999999999999999-", 10, &a, &b),
                     SRV_RANGE_UNSATISFIED);
    assert_int_equal(srv_range_parse("bytes=0-99999999999999999999999", 10, &a, &b), SRV_RANGE_OK);
    assert_int_equal(b, 9);
    assert_int_equal(srv_range_parse("bytes=", 10, &a, &b), SRV_RANGE_IGNORE);
    assert_int_equal(srv_range_parse("bytes=-", 10, &a, &b), SRV_RANGE_IGNORE);
    assert_int_equal(srv_range_parse("bytes=1-2x", 10, &a, &b), SRV_RANGE_IGNORE);
    assert_int_equal(srv_range_parse("bytes 1-2", 10, &a, &b), SRV_RANGE_IGNORE);
    assert_int_equal(srv_range_parse("bytesx=1-2", 10, &a, &b), SRV_RANGE_IGNORE);
    assert_int_equal(srv_range_parse(NULL, 10, &a, &b), SRV_RANGE_IGNORE);
}

static void test_path_decoder(void **state)
{
    (void)state;
    char out[64];
    assert_true(srv_path_decode("/a%20b/c.bin?q=%2f", out, sizeof(out)));
    assert_string_equal(out, "/a b/c.bin");
    assert_true(srv_path_decode("/...bin", out, sizeof(out)));
    assert_true(srv_path_decode("/a..b/..c/d..", out, sizeof(out)));
    assert_false(srv_path_decode("/a/..", out, sizeof(out)));
    assert_false(srv_path_decode("/..", out, sizeof(out)));
    assert_false(srv_path_decode("/.%2e/x", out, sizeof(out)));
    assert_false(srv_path_decode("/a%2Fb", out, sizeof(out)));
    assert_false(srv_path_decode("/a%5Cb", out, sizeof(out)));
    assert_false(srv_path_decode("/a\\b", out, sizeof(out)));
    assert_false(srv_path_decode("/a%00", out, sizeof(out)));
    assert_false(srv_path_decode("/a%0", out, sizeof(out)));
    assert_false(srv_path_decode("a.bin", out, sizeof(out)));
    assert_false(srv_path_decode("*", out, sizeof(out)));
    assert_false(srv_path_decode("/0123456789", out, 8)); /* does not fit */
}

static void test_dates_and_log_text(void **state)
{
    (void)state;
    char date[SRV_HTTP_DATE_LEN];
    srv_http_date(784111777, date);
    assert_string_equal(date, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_t t = 0;
    assert_true(srv_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    assert_int_equal(t, 784111777);
    assert_false(srv_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    assert_false(srv_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t));
    assert_false(srv_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t));
    assert_false(srv_http_date_parse("\"abc\"", &t));

    char text[64];
    srv_log_escape("GET /a\x01\x7f\x9f\\b\xa0 HTTP/1.1", text, sizeof(text));
    assert_string_equal(text, "GET /a\\x01\\x7f\\x9f\\\\b\xa0 HTTP/1.1");
    srv_log_escape("0123456789\x01", text, 12); /* never a cut escape */
    assert_string_equal(text, "0123456789");

    assert_true(srv_etag_list_matches("W/\"1-2-3\"", "\"1-2-3\""));
    assert_true(srv_etag_list_matches(" \"a\" , \"1-2-3\"", "\"1-2-3\""));
    assert_false(srv_etag_list_matches("\"1-2-30\"", "\"1-2-3\""));
    assert_false(srv_etag_list_matches("1-2-3", "\"1-2-3\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_parser),
        cmocka_unit_test(test_path_decoder),
        cmocka_unit_test(test_dates_and_log_text),
        cmocka_unit_test(test_get_and_head),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_etag_changes_with_the_file),
        cmocka_unit_test(test_not_modified),
        cmocka_unit_test(test_no_path_escapes_the_root),
        cmocka_unit_test(test_directories_are_not_listed),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_tls_self_signed),
        cmocka_unit_test(test_tls_signatures),
        cmocka_unit_test(test_tls_configuration_errors),
        cmocka_unit_test(test_no_range_mode),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_drop_after),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_access_log_format),
        cmocka_unit_test(test_stop_releases_the_port),
        cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture_teardown);
}
