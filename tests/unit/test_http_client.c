/*
 * esp_http_client over libcurl against real servers on 127.0.0.1: libmicrohttpd (plain and
 * TLS), `openssl s_server -WWW` (HTTP/1.0, close-delimited body) and raw socket servers for
 * timeouts and dropped connections. Expected values come from the ESP-IDF v5.5 API contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esp_crt_bundle.h"
#include "esp_http_client.h"
#include "esp_log.h"
#include "http_test_server.h"
#include "test_util.h"

#define BODY_LEN (300 * 1024 + 123)
#define SSERVER_FILE "image.bin"
#define SSERVER_LEN (70 * 1024 + 5)

typedef struct {
    char dir[64];
    uint8_t *body;
    char *cert_pem; /* server certificate for 127.0.0.1 */
    char *key_pem;
    char *other_pem; /* an unrelated self-signed certificate */
    ts_mhd_t http;
    ts_mhd_t https;
    ts_sserver_t sserver;
} fixture_t;

static fixture_t fx;

/* ---------------------------------------------------------------------------------------- */
/* Event recorder                                                                              */

#define MAX_EVENTS 4096

typedef struct {
    int ids[MAX_EVENTS];
    int count;
    uint8_t *data;
    size_t data_len;
    size_t max_chunk;
    int user_tag;
    bool saw_content_length;
    char content_length[32];
} recorder_t;

static esp_err_t record_event(esp_http_client_event_t *evt)
{
    recorder_t *r = evt->user_data;
    if (r->count < MAX_EVENTS) {
        r->ids[r->count++] = evt->event_id;
    }
    if (evt->event_id == HTTP_EVENT_ON_DATA) {
        r->data = realloc(r->data, r->data_len + (size_t)evt->data_len);
        memcpy(r->data + r->data_len, evt->data, (size_t)evt->data_len);
        r->data_len += (size_t)evt->data_len;
        if ((size_t)evt->data_len > r->max_chunk) {
            r->max_chunk = (size_t)evt->data_len;
        }
    } else if (evt->event_id == HTTP_EVENT_ON_HEADER) {
        assert_non_null(evt->header_key);
        assert_non_null(evt->header_value);
        if (strcasecmp(evt->header_key, "Content-Length") == 0) {
            r->saw_content_length = true;
            snprintf(r->content_length, sizeof(r->content_length), "%s", evt->header_value);
        }
    }
    return ESP_OK;
}

static int count_events(const recorder_t *r, int id)
{
    int n = 0;
    for (int i = 0; i < r->count; i++) {
        n += r->ids[i] == id;
    }
    return n;
}

/* The recorded ids with consecutive repeats folded ("1 2 3 4 5" style). */
static void event_pattern(const recorder_t *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < r->count; i++) {
        if (i > 0 && r->ids[i] == r->ids[i - 1]) {
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%d", n > 0 ? " " : "", r->ids[i]);
    }
}

static void recorder_free(recorder_t *r)
{
    free(r->data);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                     */

static char *url_of(const ts_mhd_t *s, bool tls, const char *path)
{
    static char buf[4][256];
    static int next;
    char *u = buf[next++ % 4];
    snprintf(u, 256, "%s://127.0.0.1:%u%s", tls ? "https" : "http", (unsigned)s->port, path);
    return u;
}

static esp_http_client_handle_t client_for(const char *url, recorder_t *rec)
{
    esp_http_client_config_t cfg = {
        .url = url,
        .event_handler = rec != NULL ? record_event : NULL,
        .user_data = rec,
        .timeout_ms = 5000,
    };
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_non_null(c);
    return c;
}

/* Reads the whole body in pieces of `piece` bytes; returns the byte count or -1 on mismatch. */
static long read_all(esp_http_client_handle_t c, const uint8_t *expect, size_t piece)
{
    char *buf = malloc(piece);
    long total = 0;
    for (;;) {
        int n = esp_http_client_read(c, buf, (int)piece);
        if (n < 0) {
            total = -2;
            break;
        }
        if (n == 0) {
            break;
        }
        if (expect != NULL && memcmp(buf, expect + total, (size_t)n) != 0) {
            total = -1;
            break;
        }
        total += n;
    }
    free(buf);
    return total;
}

static int64_t elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Runs fn with stdout (the ESP log) captured into out. */
static void capture_log(void (*fn)(void *), void *arg, char *out, size_t cap)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), STDOUT_FILENO);
    fn(arg);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

/*
 * True when log has a line "<level> (<ms>) <head>...<tail>" (tail at the end of the line, empty
 * for an exact message).
 */
static bool log_has(const char *log, char level, const char *head, const char *tail)
{
    for (const char *line = log; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        const char *msg = memchr(line, ')', len);
        if (line[0] == level && line[1] == ' ' && line[2] == '(' && msg != NULL) {
            msg += 2;
            size_t mlen = len - (size_t)(msg - line);
            size_t hl = strlen(head), tl = strlen(tail);
            if (mlen >= hl + tl && strncmp(msg, head, hl) == 0 &&
                (tl == 0 ? mlen == hl : strncmp(msg + mlen - tl, tail, tl) == 0)) {
                return true;
            }
        }
        line += len + (end != NULL);
    }
    return false;
}

static char *read_text(const char *dir, const char *name)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return (char *)test_read_file(path, &len);
}

/* ---------------------------------------------------------------------------------------- */
/* Fixture                                                                                     */

static int setup(void **state)
{
    (void)state;
    esp_log_set_colors(0);
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/otakit-http-XXXXXX");
    if (mkdtemp(fx.dir) == NULL) {
        return -1;
    }
    fx.body = malloc(BODY_LEN);
    uint32_t x = 0x12345678;
    for (size_t i = 0; i < BODY_LEN; i++) {
        x = x * 1103515245u + 12345u;
        fx.body[i] = (uint8_t)(x >> 16);
    }
    if (ts_make_cert(fx.dir, "server") != 0 || ts_make_cert(fx.dir, "other") != 0) {
        return -1;
    }
    fx.cert_pem = read_text(fx.dir, "server.crt");
    fx.key_pem = read_text(fx.dir, "server.key");
    fx.other_pem = read_text(fx.dir, "other.crt");
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fx.dir, SSERVER_FILE);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(fx.body, 1, SSERVER_LEN, fp) != SSERVER_LEN) {
        return -1;
    }
    fclose(fp);
    if (fx.cert_pem == NULL || fx.key_pem == NULL || fx.other_pem == NULL ||
        ts_mhd_start(&fx.http, fx.body, BODY_LEN, NULL, NULL) != 0 ||
        ts_mhd_start(&fx.https, fx.body, BODY_LEN, fx.cert_pem, fx.key_pem) != 0 ||
        ts_sserver_start(&fx.sserver, fx.dir, "server") != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_sserver_stop(&fx.sserver);
    ts_mhd_stop(&fx.http);
    ts_mhd_stop(&fx.https);
    const char *files[] = {"server.crt", "server.key", "other.crt", "other.key", SSERVER_FILE};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", fx.dir, files[i]);
        unlink(path);
    }
    rmdir(fx.dir);
    free(fx.body);
    free(fx.cert_pem);
    free(fx.key_pem);
    free(fx.other_pem);
    esp_crt_bundle_clear_pem();
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming reads                                                                             */

static void test_open_fetch_read_exact(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/file"), NULL);
    assert_int_equal(esp_http_client_get_transport_type(c), HTTP_TRANSPORT_OVER_TCP);
    assert_int_equal(esp_http_client_get_status_code(c), 0);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    assert_int_equal(esp_http_client_get_content_length(c), BODY_LEN);
    assert_false(esp_http_client_is_chunked_response(c));
    assert_int_equal(read_all(c, fx.body, 1000), BODY_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));
    assert_int_equal(errno, 0);
    assert_int_equal(esp_http_client_read(c, (char[8]){0}, 8), 0);
    assert_int_equal(esp_http_client_close(c), ESP_OK);
    assert_int_equal(esp_http_client_cleanup(c), ESP_OK);
}

/* ESP-IDF's read fills the whole buffer unless the body ends (native_ota_example relies on
 * the first read being longer than 288 bytes). */
static void test_read_fills_buffer(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/chunked"), NULL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 0);
    char *buf = malloc(5000);
    assert_int_equal(esp_http_client_read(c, buf, 5000), 5000); /* chunks are 777 bytes */
    assert_memory_equal(buf, fx.body, 5000);
    free(buf);
    esp_http_client_cleanup(c);
}

static void test_perform_events(void **state)
{
    (void)state;
    recorder_t rec = {.user_tag = 42};
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/file"), &rec);
    void *ud = NULL;
    assert_int_equal(esp_http_client_get_user_data(c, &ud), ESP_OK);
    assert_ptr_equal(ud, &rec);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    assert_int_equal(esp_http_client_get_content_length(c), BODY_LEN);
    char pattern[128];
    event_pattern(&rec, pattern, sizeof(pattern));
    /* ON_CONNECTED, HEADERS_SENT, ON_HEADER..., ON_DATA..., ON_FINISH */
    assert_string_equal(pattern, "1 2 3 4 5");
    assert_true(rec.saw_content_length);
    char expect[32];
    snprintf(expect, sizeof(expect), "%d", BODY_LEN);
    assert_string_equal(rec.content_length, expect);
    assert_int_equal(rec.data_len, BODY_LEN);
    assert_memory_equal(rec.data, fx.body, BODY_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));
    /* A second perform reuses the kept-alive connection: no ON_CONNECTED. */
    int before = rec.count;
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(rec.ids[before], HTTP_EVENT_HEADERS_SENT);
    assert_int_equal(count_events(&rec, HTTP_EVENT_ON_CONNECTED), 1);
    assert_int_equal(count_events(&rec, HTTP_EVENT_ON_FINISH), 2);
    esp_http_client_cleanup(c);
    assert_int_equal(rec.ids[rec.count - 1], HTTP_EVENT_DISCONNECTED);
    recorder_free(&rec);
}

static void test_chunked(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/chunked"), NULL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 0);
    assert_true(esp_http_client_is_chunked_response(c));
    assert_int_equal(esp_http_client_get_content_length(c), -1);
    assert_false(esp_http_client_is_complete_data_received(c));
    assert_int_equal(read_all(c, fx.body, 1024), BODY_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));
    esp_http_client_close(c);
    esp_http_client_cleanup(c);

    /* perform on a chunked body */
    recorder_t rec = {0};
    c = client_for(url_of(&fx.http, false, "/chunked"), &rec);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(rec.data_len, BODY_LEN);
    assert_memory_equal(rec.data, fx.body, BODY_LEN);
    assert_true(esp_http_client_is_chunked_response(c));
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

/* openssl s_server -WWW: HTTP/1.0, no Content-Length, the body ends when the server closes. */
static void test_close_delimited_https(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/%s", (unsigned)fx.sserver.port, SSERVER_FILE);
    esp_http_client_config_t cfg = {.url = url, .cert_pem = fx.cert_pem, .timeout_ms = 5000};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_non_null(c);
    assert_int_equal(esp_http_client_get_transport_type(c), HTTP_TRANSPORT_OVER_SSL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 0);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    assert_int_equal(esp_http_client_get_content_length(c), -1);
    assert_true(esp_http_client_is_chunked_response(c)); /* ESP-IDF's rule for no length */
    assert_int_equal(read_all(c, fx.body, 1024), SSERVER_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));
    assert_int_equal(errno, 0); /* native_ota_example then logs "Connection closed" */
    esp_http_client_close(c);
    esp_http_client_cleanup(c);
}

static void test_head(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/file"), NULL);
    assert_int_equal(esp_http_client_set_method(c, HTTP_METHOD_HEAD), ESP_OK);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_read(c, (char[16]){0}, 16), 0);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_method, "HEAD");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_cleanup(c);
}

static void test_404(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/missing"), NULL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 9);
    assert_int_equal(esp_http_client_get_status_code(c), HttpStatus_NotFound);
    char buf[32] = {0};
    assert_int_equal(esp_http_client_read_response(c, buf, sizeof(buf)), 9);
    assert_string_equal(buf, "not found");
    esp_http_client_cleanup(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Redirects                                                                                   */

static void test_redirect_perform(void **state)
{
    (void)state;
    static const char *paths[] = {"/redirect/301", "/redirect/302", "/redirect/307"};
    for (size_t i = 0; i < 3; i++) {
        recorder_t rec = {0};
        esp_http_client_handle_t c = client_for(url_of(&fx.http, false, paths[i]), &rec);
        assert_int_equal(esp_http_client_perform(c), ESP_OK);
        assert_int_equal(esp_http_client_get_status_code(c), 200);
        char url[128];
        assert_int_equal(esp_http_client_get_url(c, url, sizeof(url)), ESP_OK);
        assert_string_equal(url, "http://127.0.0.1/file"); /* ESP-IDF leaves out the port */
        /* the redirect bodies also reach ON_DATA; the file is the tail */
        assert_true(rec.data_len >= BODY_LEN);
        assert_memory_equal(rec.data + rec.data_len - BODY_LEN, fx.body, BODY_LEN);
        int hops = i == 1 ? 3 : 2; /* 302 -> 307 -> file */
        assert_int_equal(count_events(&rec, HTTP_EVENT_ON_FINISH), hops);
        assert_int_equal(count_events(&rec, HTTP_EVENT_REDIRECT), 0);
        esp_http_client_cleanup(c);
        recorder_free(&rec);
    }
}

static void test_redirect_manual(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/redirect/301"), NULL);
    assert_int_equal(esp_http_client_set_redirection(c), ESP_ERR_INVALID_ARG); /* no Location */
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 5);
    assert_int_equal(esp_http_client_get_status_code(c), HttpStatus_MovedPermanently);
    assert_int_equal(esp_http_client_set_redirection(c), ESP_OK);
    int flushed = -1;
    assert_int_equal(esp_http_client_flush_response(c, &flushed), ESP_OK);
    assert_int_equal(flushed, 5);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    assert_int_equal(read_all(c, fx.body, 4096), BODY_LEN);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_url, "/file");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_cleanup(c);
}

static void test_redirect_disabled(void **state)
{
    (void)state;
    recorder_t rec = {0};
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/redirect/302"),
                                    .disable_auto_redirect = true,
                                    .event_handler = record_event,
                                    .user_data = &rec};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(esp_http_client_get_status_code(c), 302);
    assert_int_equal(count_events(&rec, HTTP_EVENT_REDIRECT), 1);
    assert_int_equal(rec.data_len, 5);
    assert_memory_equal(rec.data, "found", 5);
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

static void test_max_redirect(void **state)
{
    (void)state;
    ts_mhd_reset_counts(&fx.http);
    recorder_t rec = {0};
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/loop"),
                                    .max_redirection_count = 3,
                                    .event_handler = record_event,
                                    .user_data = &rec};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_perform(c), ESP_ERR_HTTP_MAX_REDIRECT);
    assert_int_equal(atomic_load(&fx.http.loop_requests), 4); /* the first + 3 redirects */
    assert_int_equal(count_events(&rec, HTTP_EVENT_ERROR), 1);
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

/* ---------------------------------------------------------------------------------------- */
/* Connections                                                                                 */

static void range_requests(bool keep_alive, int *connections)
{
    ts_mhd_reset_counts(&fx.http);
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/file"),
                                    .keep_alive_enable = keep_alive};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_non_null(c);
    const size_t step = 20000;
    for (size_t i = 0; i < 5; i++) {
        char range[64];
        size_t first = i * step + 7;
        snprintf(range, sizeof(range), "bytes=%zu-%zu", first, first + step - 1);
        assert_int_equal(esp_http_client_set_header(c, "Range", range), ESP_OK);
        assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
        assert_int_equal(esp_http_client_fetch_headers(c), step);
        assert_int_equal(esp_http_client_get_status_code(c), HttpStatus_PartialContent);
        assert_int_equal(read_all(c, fx.body + first, 1024), step);
        assert_true(esp_http_client_is_complete_data_received(c));
        assert_int_equal(esp_http_client_close(c), ESP_OK);
    }
    esp_http_client_cleanup(c);
    assert_int_equal(atomic_load(&fx.http.requests), 5);
    *connections = atomic_load(&fx.http.connections);
}

static void test_keep_alive_ranges(void **state)
{
    (void)state;
    int conns = 0;
    range_requests(true, &conns);
    assert_int_equal(conns, 1);
    range_requests(false, &conns); /* close() ends the connection, as on the device */
    assert_int_equal(conns, 5);
}

static void test_unread_response_not_reused(void **state)
{
    (void)state;
    ts_mhd_reset_counts(&fx.http);
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/file"),
                                    .keep_alive_enable = true};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    char buf[100];
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_read(c, buf, sizeof(buf)), sizeof(buf));
    assert_false(esp_http_client_is_complete_data_received(c));
    assert_int_equal(esp_http_client_close(c), ESP_OK);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(read_all(c, fx.body, 3000), BODY_LEN);
    esp_http_client_cleanup(c);
    assert_int_equal(atomic_load(&fx.http.connections), 2);
}

/* ---------------------------------------------------------------------------------------- */
/* TLS                                                                                         */

static void test_tls_cert_pem(void **state)
{
    (void)state;
    recorder_t rec = {0};
    esp_http_client_config_t cfg = {.url = url_of(&fx.https, true, "/file"),
                                    .cert_pem = fx.cert_pem,
                                    .keep_alive_enable = true,
                                    .event_handler = record_event,
                                    .user_data = &rec};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_get_transport_type(c), HTTP_TRANSPORT_OVER_SSL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(read_all(c, fx.body, 1024), BODY_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));
    esp_http_client_close(c);
    /* a second request on the same TLS connection */
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(read_all(c, fx.body, 4096), BODY_LEN);
    esp_http_client_cleanup(c);
    assert_int_equal(count_events(&rec, HTTP_EVENT_ON_CONNECTED), 1);
    recorder_free(&rec);
}

typedef struct {
    esp_http_client_config_t cfg;
    esp_err_t err;
    int events_error;
} tls_try_t;

static void tls_try(void *arg)
{
    tls_try_t *t = arg;
    recorder_t rec = {0};
    t->cfg.event_handler = record_event;
    t->cfg.user_data = &rec;
    esp_http_client_handle_t c = esp_http_client_init(&t->cfg);
    assert_non_null(c);
    t->err = esp_http_client_open(c, 0);
    if (t->err == ESP_OK) {
        t->err = esp_http_client_fetch_headers(c) == BODY_LEN ? ESP_OK : ESP_FAIL;
    }
    t->events_error = count_events(&rec, HTTP_EVENT_ERROR);
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

static void test_tls_wrong_ca(void **state)
{
    (void)state;
    tls_try_t t = {.cfg = {.url = url_of(&fx.https, true, "/file"), .cert_pem = fx.other_pem}};
    char log[4096];
    capture_log(tls_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
    assert_int_equal(t.events_error, 1);
    assert_true(log_has(log, 'E', "esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700", ""));
    assert_true(log_has(log, 'I', "esp-tls-mbedtls: Failed to verify peer certificate!", ""));
    assert_true(log_has(log, 'E', "esp-tls: Failed to open new connection", ""));
    assert_true(log_has(log, 'E', "transport_base: Failed to open a new connection", ""));
    assert_true(log_has(log, 'E', "HTTP_CLIENT: Connection failed, sock < 0", ""));
}

static void test_tls_hostname(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof(url), "https://localhost:%u/file", (unsigned)fx.https.port);
    tls_try_t t = {.cfg = {.url = url, .cert_pem = fx.cert_pem}};
    char log[4096];
    capture_log(tls_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT); /* the certificate names only 127.0.0.1 */
    assert_true(log_has(log, 'I', "esp-tls-mbedtls: Failed to verify peer certificate!", ""));

    t = (tls_try_t){
        .cfg = {.url = url, .cert_pem = fx.cert_pem, .skip_cert_common_name_check = true}};
    tls_try(&t);
    assert_int_equal(t.err, ESP_OK);

    /* common_name names the expected certificate name instead of the host */
    t = (tls_try_t){.cfg = {.url = url, .cert_pem = fx.cert_pem, .common_name = "127.0.0.1"}};
    tls_try(&t);
    assert_int_equal(t.err, ESP_OK);
    t = (tls_try_t){.cfg = {.url = url_of(&fx.https, true, "/file"),
                            .cert_pem = fx.cert_pem,
                            .common_name = "example.com"}};
    capture_log(tls_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);

    /* skipping the name check still verifies the chain */
    t = (tls_try_t){
        .cfg = {.url = url, .cert_pem = fx.other_pem, .skip_cert_common_name_check = true}};
    capture_log(tls_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
}

static void test_crt_bundle(void **state)
{
    (void)state;
    tls_try_t t = {.cfg = {.url = url_of(&fx.https, true, "/file"),
                           .crt_bundle_attach = esp_crt_bundle_attach}};
    char log[4096];
    capture_log(tls_try, &t, log, sizeof(log)); /* the system store does not know our CA */
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
    assert_int_equal(esp_crt_bundle_add_pem(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_crt_bundle_add_pem("no certificate here"), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_crt_bundle_add_pem(fx.other_pem), ESP_OK);
    assert_int_equal(esp_crt_bundle_add_pem(fx.cert_pem), ESP_OK);
    t = (tls_try_t){.cfg = {.url = url_of(&fx.https, true, "/file"),
                            .crt_bundle_attach = esp_crt_bundle_attach}};
    tls_try(&t);
    assert_int_equal(t.err, ESP_OK);
    /* the bundle takes precedence over cert_pem, as on the device */
    t = (tls_try_t){.cfg = {.url = url_of(&fx.https, true, "/file"),
                            .crt_bundle_attach = esp_crt_bundle_attach,
                            .cert_pem = fx.other_pem}};
    tls_try(&t);
    assert_int_equal(t.err, ESP_OK);
    esp_crt_bundle_clear_pem();
    t = (tls_try_t){.cfg = {.url = url_of(&fx.https, true, "/file"),
                            .crt_bundle_attach = esp_crt_bundle_attach}};
    capture_log(tls_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
}

static void test_tls_der_cert(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/server.der", fx.dir);
    char *argv[] = {"openssl", "x509", "-in",        "server.crt", "-outform",
                    "DER",     "-out", "server.der", NULL};
    assert_int_equal(ts_run(fx.dir, argv), 0);
    size_t len = 0;
    uint8_t *der = test_read_file(path, &len);
    unlink(path);
    assert_non_null(der);
    tls_try_t t = {.cfg = {.url = url_of(&fx.https, true, "/file"),
                           .cert_pem = (const char *)der,
                           .cert_len = len}};
    tls_try(&t);
    assert_int_equal(t.err, ESP_OK);
    free(der);
}

/* ---------------------------------------------------------------------------------------- */
/* Failures                                                                                    */

typedef struct {
    esp_http_client_handle_t c;
    esp_err_t err;
} open_try_t;

static void open_try(void *arg)
{
    open_try_t *t = arg;
    t->err = esp_http_client_open(t->c, 0);
}

static void test_connect_refused(void **state)
{
    (void)state;
    recorder_t rec = {0};
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/file", (unsigned)ts_free_port());
    open_try_t t = {client_for(url, &rec), 0};
    char log[2048];
    capture_log(open_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
    assert_true(
        log_has(log, 'E', "esp-tls: [sock=", "] delayed connect error: Connection refused"));
    assert_true(log_has(log, 'E', "transport_base: Failed to open a new connection", ""));
    assert_true(log_has(log, 'E', "HTTP_CLIENT: Connection failed, sock < 0", ""));
    assert_int_equal(esp_http_client_get_errno(t.c), ECONNREFUSED);
    assert_int_equal(esp_http_client_get_errno(t.c), 0); /* read once, then cleared */
    assert_int_equal(count_events(&rec, HTTP_EVENT_ERROR), 1);
    assert_int_equal(count_events(&rec, HTTP_EVENT_ON_CONNECTED), 0);
    esp_http_client_cleanup(t.c);
    recorder_free(&rec);

    esp_http_client_config_t cfg = {.url = "http://host.invalid/x", .timeout_ms = 3000};
    t.c = esp_http_client_init(&cfg);
    capture_log(open_try, &t, log, sizeof(log));
    assert_int_equal(t.err, ESP_ERR_HTTP_CONNECT);
    assert_true(log_has(log, 'E', "esp-tls: couldn't get hostname for :host.invalid: ",
                        "getaddrinfo() returns 202, addrinfo=0x0"));
    esp_http_client_cleanup(t.c);
}

static void test_timeout(void **state)
{
    (void)state;
    ts_raw_t raw;
    assert_int_equal(ts_raw_start(&raw, RAW_SILENT, NULL, 0, 0), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)raw.port);
    esp_http_client_config_t cfg = {.url = url, .timeout_ms = 200};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(esp_http_client_fetch_headers(c), -ESP_ERR_HTTP_EAGAIN);
    int64_t ms = elapsed_ms(&t0);
    assert_true(ms >= 190 && ms < 3000);
    assert_int_equal(esp_http_client_get_status_code(c), -1);
    esp_http_client_close(c);
    esp_http_client_cleanup(c);
    ts_raw_stop(&raw);

    /* perform maps the header timeout to ESP_ERR_HTTP_EAGAIN */
    assert_int_equal(ts_raw_start(&raw, RAW_SILENT, NULL, 0, 0), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)raw.port);
    c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_perform(c), ESP_ERR_HTTP_EAGAIN);
    esp_http_client_cleanup(c);
    ts_raw_stop(&raw);
}

static void test_read_timeout(void **state)
{
    (void)state;
    ts_raw_t raw;
    assert_int_equal(ts_raw_start(&raw, RAW_STALL_BODY, fx.body, 10000, 3000), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)raw.port);
    esp_http_client_config_t cfg = {.url = url, .timeout_ms = 150};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 10000);
    char *buf = malloc(10000);
    assert_int_equal(esp_http_client_read(c, buf, 10000), 3000); /* what came before the stall */
    assert_memory_equal(buf, fx.body, 3000);
    assert_int_equal(esp_http_client_read(c, buf, 10000), -ESP_ERR_HTTP_EAGAIN);
    assert_false(esp_http_client_is_complete_data_received(c));
    free(buf);
    esp_http_client_cleanup(c);
    ts_raw_stop(&raw);
}

static void test_dropped_fin(void **state)
{
    (void)state;
    ts_raw_t raw;
    assert_int_equal(ts_raw_start(&raw, RAW_PARTIAL_FIN, fx.body, 10000, 4000), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)raw.port);
    esp_http_client_handle_t c = client_for(url, NULL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 10000);
    char *buf = malloc(1024);
    long total = 0;
    int n;
    while ((n = esp_http_client_read(c, buf, 1024)) > 0) {
        assert_memory_equal(buf, fx.body + total, (size_t)n);
        total += n;
    }
    assert_int_equal(n, 0); /* as ESP-IDF's read on a FIN */
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(total, 4000);
    assert_false(esp_http_client_is_complete_data_received(c));
    assert_int_equal(esp_http_client_get_errno(c), ENOTCONN);
    free(buf);
    esp_http_client_cleanup(c);
    ts_raw_stop(&raw);

    /* libmicrohttpd dropping a Content-Length body part-way */
    c = client_for(url_of(&fx.http, false, "/drop"), NULL);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    total = read_all(c, fx.body, 1024);
    assert_true(total >= 0 && total < BODY_LEN);
    assert_true(errno == ENOTCONN || errno == ECONNRESET);
    assert_false(esp_http_client_is_complete_data_received(c));
    esp_http_client_cleanup(c);
}

static void test_dropped_rst(void **state)
{
    (void)state;
    ts_raw_t raw;
    assert_int_equal(ts_raw_start(&raw, RAW_PARTIAL_RST, fx.body, 10000, 2000), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)raw.port);
    recorder_t rec = {0};
    esp_http_client_handle_t c = client_for(url, &rec);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    int64_t cl = esp_http_client_fetch_headers(c);
    char buf[1024];
    int n = 0;
    if (cl == 10000) { /* the reset may also beat the headers */
        while ((n = esp_http_client_read(c, buf, sizeof(buf))) > 0) {
        }
        assert_int_equal(n, ESP_FAIL);
        assert_int_equal(count_events(&rec, HTTP_EVENT_ERROR), 1);
    } else {
        assert_int_equal(cl, ESP_FAIL);
    }
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(esp_http_client_get_errno(c), ECONNRESET);
    assert_false(esp_http_client_is_complete_data_received(c));
    esp_http_client_cleanup(c);
    ts_raw_stop(&raw);
    recorder_free(&rec);
}

/* ---------------------------------------------------------------------------------------- */
/* Headers, auth, bodies                                                                       */

static void test_headers(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/file"), NULL);
    char *v = NULL;
    assert_int_equal(esp_http_client_get_header(c, "User-Agent", &v), ESP_OK);
    assert_string_equal(v, "ESP32 HTTP Client/1.0");
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)fx.http.port);
    assert_int_equal(esp_http_client_get_header(c, "host", &v), ESP_OK);
    assert_string_equal(v, host);
    assert_int_equal(esp_http_client_get_header(c, "X-Otakit", &v), ESP_OK);
    assert_null(v);
    assert_int_equal(esp_http_client_set_header(c, "X-Otakit", "one"), ESP_OK);
    assert_int_equal(esp_http_client_set_header(c, "x-otakit", "two"), ESP_OK);
    assert_int_equal(esp_http_client_get_header(c, "X-OTAKIT", &v), ESP_OK);
    assert_string_equal(v, "two");
    assert_int_equal(esp_http_client_set_header(c, "X", NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_set_header(NULL, "X", "y"), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_custom, "two");
    assert_string_equal(fx.http.last_user_agent, "ESP32 HTTP Client/1.0");
    assert_string_equal(fx.http.last_host, host);
    assert_string_equal(fx.http.last_accept, ""); /* ESP-IDF sends no Accept header */
    pthread_mutex_unlock(&fx.http.lock);
    assert_int_equal(esp_http_client_delete_header(c, "X-Otakit"), ESP_OK);
    assert_int_equal(esp_http_client_get_header(c, "X-Otakit", &v), ESP_OK);
    assert_null(v);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_custom, "");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_cleanup(c);

    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/file"),
                                    .user_agent = "otakit-test"};
    c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_get_header(c, "User-Agent", &v), ESP_OK);
    assert_string_equal(v, "otakit-test");
    esp_http_client_cleanup(c);
}

static void test_basic_auth(void **state)
{
    (void)state;
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/auth"),
                                    .username = "user",
                                    .password = "pass",
                                    .auth_type = HTTP_AUTH_TYPE_BASIC};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_auth, "Basic dXNlcjpwYXNz");
    pthread_mutex_unlock(&fx.http.lock);
    char *v = NULL;
    assert_int_equal(esp_http_client_get_header(c, "Authorization", &v), ESP_OK);
    assert_string_equal(v, "Basic dXNlcjpwYXNz");
    esp_http_client_cleanup(c);

    /* credentials in the URL, no auth type: the 401 challenge selects basic and retries */
    ts_mhd_reset_counts(&fx.http);
    char url[128];
    snprintf(url, sizeof(url), "http://user:pass@127.0.0.1:%u/auth", (unsigned)fx.http.port);
    c = client_for(url, NULL);
    assert_int_equal(esp_http_client_get_username(c, &v), ESP_OK);
    assert_string_equal(v, "user");
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(esp_http_client_get_status_code(c), 200);
    assert_int_equal(atomic_load(&fx.http.requests), 2);
    esp_http_client_cleanup(c);

    /* Wrong password: every 401 counts as a redirection too, so with the defaults (10 and 10)
     * ESP-IDF's perform ends with ESP_ERR_HTTP_MAX_REDIRECT after 10 retries. */
    ts_mhd_reset_counts(&fx.http);
    c = client_for(url_of(&fx.http, false, "/auth"), NULL);
    assert_int_equal(esp_http_client_set_username(c, "user"), ESP_OK);
    assert_int_equal(esp_http_client_set_password(c, "wrong"), ESP_OK);
    assert_int_equal(esp_http_client_set_authtype(c, HTTP_AUTH_TYPE_BASIC), ESP_OK);
    assert_int_equal(esp_http_client_perform(c), ESP_ERR_HTTP_MAX_REDIRECT);
    assert_int_equal(atomic_load(&fx.http.requests), 11);
    esp_http_client_cleanup(c);

    /* fewer authorisation retries: perform returns ESP_OK with the 401 */
    ts_mhd_reset_counts(&fx.http);
    esp_http_client_config_t cfg2 = {.url = url_of(&fx.http, false, "/auth"),
                                     .username = "user",
                                     .password = "wrong",
                                     .auth_type = HTTP_AUTH_TYPE_BASIC,
                                     .max_authorization_retries = 2};
    c = esp_http_client_init(&cfg2);
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(esp_http_client_get_status_code(c), 401);
    assert_int_equal(atomic_load(&fx.http.requests), 3);
    esp_http_client_cleanup(c);
}

static void test_post(void **state)
{
    (void)state;
    static const char msg[] = "field=value&other=1";
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/echo"), NULL);
    assert_int_equal(esp_http_client_set_method(c, HTTP_METHOD_POST), ESP_OK);
    assert_int_equal(esp_http_client_open(c, 40000), ESP_OK);
    assert_int_equal(esp_http_client_write(c, (const char *)fx.body, 15000), 15000);
    assert_int_equal(esp_http_client_write(c, (const char *)fx.body + 15000, 25000), 25000);
    assert_int_equal(esp_http_client_write(c, "x", 1), ESP_FAIL); /* beyond write_len */
    assert_int_equal(esp_http_client_fetch_headers(c), 40000);
    assert_int_equal(read_all(c, fx.body, 1500), 40000);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_content_length, "40000");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_close(c);

    assert_int_equal(esp_http_client_set_post_field(c, msg, (int)strlen(msg)), ESP_OK);
    char *p = NULL;
    assert_int_equal(esp_http_client_get_post_field(c, &p), strlen(msg));
    assert_ptr_equal(p, msg);
    char *ct = NULL;
    esp_http_client_get_header(c, "Content-Type", &ct);
    assert_string_equal(ct, "application/x-www-form-urlencoded");
    assert_int_equal(esp_http_client_perform(c), ESP_OK); /* open() left the method at POST */
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_method, "POST");
    assert_string_equal(fx.http.last_content_length, "19");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_cleanup(c);
    recorder_t rec = {0};

    c = client_for(url_of(&fx.http, false, "/echo"), &rec);
    esp_http_client_set_method(c, HTTP_METHOD_POST);
    esp_http_client_set_post_field(c, msg, (int)strlen(msg));
    assert_int_equal(esp_http_client_perform(c), ESP_OK);
    assert_int_equal(rec.data_len, strlen(msg));
    assert_memory_equal(rec.data, msg, strlen(msg));
    assert_int_equal(esp_http_client_set_post_field(c, NULL, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_get_post_field(c, &p), 0);
    assert_int_equal(esp_http_client_open(c, -1), ESP_ERR_NOT_SUPPORTED);
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

/* A small buffer bounds what is held between reads: the transfer pauses. */
static void test_buffer_size(void **state)
{
    (void)state;
    recorder_t rec = {0};
    esp_http_client_config_t cfg = {.url = url_of(&fx.http, false, "/file"),
                                    .buffer_size = 512,
                                    .event_handler = record_event,
                                    .user_data = &rec};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    char buf[100];
    long consumed = 0;
    for (int i = 0; i < 50; i++) {
        int n = esp_http_client_read(c, buf, sizeof(buf));
        assert_int_equal(n, sizeof(buf));
        assert_memory_equal(buf, fx.body + consumed, sizeof(buf));
        consumed += n;
        /* received but not yet read: at most one 1024-byte receive buffer */
        assert_true((long)rec.data_len - consumed <= 1024);
    }
    assert_false(esp_http_client_is_complete_data_received(c));
    assert_int_equal(read_all(c, fx.body + consumed, 333), BODY_LEN - consumed);
    assert_true(rec.max_chunk <= 1024);
    assert_true(esp_http_client_is_complete_data_received(c));
    esp_http_client_cleanup(c);
    recorder_free(&rec);
}

/* ---------------------------------------------------------------------------------------- */
/* Life cycle                                                                                  */

static void test_lifecycle(void **state)
{
    (void)state;
    recorder_t rec = {0};
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/file"), &rec);
    assert_int_equal(esp_http_client_cleanup(c), ESP_OK); /* never opened */
    assert_int_equal(rec.count, 1);
    assert_int_equal(rec.ids[0], HTTP_EVENT_DISCONNECTED); /* ESP-IDF's close() always fires */
    recorder_free(&rec);

    c = client_for(url_of(&fx.http, false, "/file"), &rec);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_close(c), ESP_OK);
    assert_int_equal(esp_http_client_close(c), ESP_OK);
    assert_int_equal(count_events(&rec, HTTP_EVENT_DISCONNECTED), 2);
    assert_int_equal(esp_http_client_read(c, (char[8]){0}, 8), ESP_FAIL); /* nothing open */
    assert_int_equal(esp_http_client_fetch_headers(c), ESP_FAIL);
    assert_int_equal(esp_http_client_write(c, "x", 1), ESP_FAIL);
    /* the handle opens again after close */
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    esp_http_client_cleanup(c);
    recorder_free(&rec);

    assert_int_equal(esp_http_client_cleanup(NULL), ESP_FAIL);
    assert_int_equal(esp_http_client_get_errno(NULL), -1);
}

static void test_init_and_url(void **state)
{
    (void)state;
    assert_null(esp_http_client_init(NULL));
    esp_http_client_config_t cfg = {0};
    assert_null(esp_http_client_init(&cfg)); /* neither url nor host+path */
    cfg.url = "http://127.0.0.1/x";
    cfg.is_async = true;
    assert_null(esp_http_client_init(&cfg));
    cfg = (esp_http_client_config_t){.url = "::not a url::"};
    assert_null(esp_http_client_init(&cfg));

    /* host + path, transport type selects the scheme and default port */
    cfg = (esp_http_client_config_t){
        .host = "127.0.0.1", .path = "/file", .transport_type = HTTP_TRANSPORT_OVER_SSL};
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    char url[128];
    assert_int_equal(esp_http_client_get_url(c, url, sizeof(url)), ESP_OK);
    assert_string_equal(url, "https://127.0.0.1/file");
    char *v = NULL;
    esp_http_client_get_header(c, "Host", &v);
    assert_string_equal(v, "127.0.0.1");
    assert_int_equal(esp_http_client_set_url(c, url_of(&fx.http, false, "/missing?q=1")), ESP_OK);
    assert_int_equal(esp_http_client_get_transport_type(c), HTTP_TRANSPORT_OVER_TCP);
    assert_int_equal(esp_http_client_set_url(c, "/file"), ESP_OK); /* path only */
    assert_int_equal(esp_http_client_set_url(c, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_set_timeout_ms(c, 4000), ESP_OK);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    pthread_mutex_lock(&fx.http.lock);
    assert_string_equal(fx.http.last_url, "/file");
    pthread_mutex_unlock(&fx.http.lock);
    esp_http_client_cleanup(c);

    /* ESP-IDF's request line must fit buffer_size_tx */
    cfg = (esp_http_client_config_t){.url = url_of(&fx.http, false, "/file"), .buffer_size_tx = 16};
    c = esp_http_client_init(&cfg);
    assert_int_equal(esp_http_client_open(c, 0), ESP_FAIL);
    esp_http_client_cleanup(c);
}

/* Numeric values that must match ESP-IDF v5.5 (apps switch on them, logs print them). */
static void test_values(void **state)
{
    (void)state;
    assert_int_equal(HTTP_EVENT_ERROR, 0);
    assert_int_equal(HTTP_EVENT_ON_CONNECTED, 1);
    assert_int_equal(HTTP_EVENT_HEADERS_SENT, 2);
    assert_int_equal(HTTP_EVENT_HEADER_SENT, 2);
    assert_int_equal(HTTP_EVENT_ON_HEADER, 3);
    assert_int_equal(HTTP_EVENT_ON_DATA, 4);
    assert_int_equal(HTTP_EVENT_ON_FINISH, 5);
    assert_int_equal(HTTP_EVENT_DISCONNECTED, 6);
    assert_int_equal(HTTP_EVENT_REDIRECT, 7);
    assert_int_equal(HTTP_METHOD_HEAD, 5);
    assert_int_equal(HTTP_METHOD_REPORT, 17);
    assert_int_equal(HTTP_TRANSPORT_OVER_SSL, 2);
    assert_int_equal(HTTP_AUTH_TYPE_BASIC, 1);
    assert_int_equal(ESP_ERR_HTTP_MAX_REDIRECT, 0x7001);
    assert_int_equal(ESP_ERR_HTTP_CONNECT, 0x7002);
    assert_int_equal(ESP_ERR_HTTP_EAGAIN, 0x7007);
    assert_int_equal(ESP_ERR_HTTP_CONNECTION_CLOSED, 0x7008);
    assert_int_equal(DEFAULT_HTTP_BUF_SIZE, 512);
    assert_int_equal(HttpStatus_RangeNotSatisfiable, 416);
    assert_int_equal(HttpStatus_PermanentRedirect, 308);
}

static void test_misc_api(void **state)
{
    (void)state;
    esp_http_client_handle_t c = client_for(url_of(&fx.http, false, "/chunked"), NULL);
    assert_int_equal(esp_http_client_cancel_request(c), ESP_ERR_INVALID_STATE);
    assert_int_equal(esp_http_client_cancel_request(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), 0);
    int len = -1;
    assert_int_equal(esp_http_client_get_chunk_length(c, &len), ESP_OK);
    assert_int_equal(esp_http_client_get_chunk_length(c, NULL), ESP_ERR_INVALID_ARG);
    char buf[2000];
    assert_int_equal(esp_http_client_read(c, buf, sizeof(buf)), sizeof(buf));
    assert_int_equal(esp_http_client_cancel_request(c), ESP_OK);
    /* the handle works again after the cancel */
    assert_int_equal(esp_http_client_set_url(c, "/file"), ESP_OK);
    assert_int_equal(esp_http_client_open(c, 0), ESP_OK);
    assert_int_equal(esp_http_client_fetch_headers(c), BODY_LEN);
    assert_int_equal(esp_http_client_get_chunk_length(c, &len), ESP_FAIL); /* not chunked */
    assert_int_equal(esp_http_client_flush_response(c, &len), ESP_OK);
    assert_int_equal(len, BODY_LEN);
    assert_true(esp_http_client_is_complete_data_received(c));

    assert_int_equal(esp_http_client_reset_redirect_counter(c), ESP_OK);
    assert_int_equal(esp_http_client_reset_redirect_counter(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_http_client_set_auth_data(c, "Basic realm=x", 13), ESP_OK);
    assert_int_equal(esp_http_client_set_auth_data(c, "x", 0), ESP_ERR_INVALID_ARG);
    char *v = NULL;
    assert_int_equal(esp_http_client_set_password(c, "secret"), ESP_OK);
    assert_int_equal(esp_http_client_get_password(c, &v), ESP_OK);
    assert_string_equal(v, "secret");
    assert_int_equal(esp_http_client_set_password(c, NULL), ESP_OK);
    assert_int_equal(esp_http_client_get_password(c, &v), ESP_OK);
    assert_null(v);
    assert_int_equal(esp_http_client_delete_all_headers(c), ESP_OK);
    assert_int_equal(esp_http_client_get_header(c, "User-Agent", &v), ESP_OK);
    assert_null(v);
    int tag = 7;
    void *ud = NULL;
    assert_int_equal(esp_http_client_set_user_data(c, &tag), ESP_OK);
    assert_int_equal(esp_http_client_get_user_data(c, &ud), ESP_OK);
    assert_ptr_equal(ud, &tag);
    assert_int_equal(esp_http_client_set_method(c, HTTP_METHOD_MAX), ESP_ERR_INVALID_ARG);
    esp_http_client_cleanup(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_fetch_read_exact),
        cmocka_unit_test(test_read_fills_buffer),
        cmocka_unit_test(test_perform_events),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_close_delimited_https),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_404),
        cmocka_unit_test(test_redirect_perform),
        cmocka_unit_test(test_redirect_manual),
        cmocka_unit_test(test_redirect_disabled),
        cmocka_unit_test(test_max_redirect),
        cmocka_unit_test(test_keep_alive_ranges),
        cmocka_unit_test(test_unread_response_not_reused),
        cmocka_unit_test(test_tls_cert_pem),
        cmocka_unit_test(test_tls_wrong_ca),
        cmocka_unit_test(test_tls_hostname),
        cmocka_unit_test(test_crt_bundle),
        cmocka_unit_test(test_tls_der_cert),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_dropped_fin),
        cmocka_unit_test(test_dropped_rst),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_buffer_size),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_init_and_url),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_misc_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
