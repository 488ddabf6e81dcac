/*
 * esp_http_server on libmicrohttpd: handlers in the server thread, request bodies pulled in
 * pieces with httpd_req_recv (the "upload firmware from a web page" pattern), headers, query
 * strings, whole and chunked responses, errors, wildcard URIs, timeouts and dropped clients.
 * The server runs on 127.0.0.1 on a free port; libcurl (and a raw socket) is the client.
 * Handlers only record what they saw: the assertions run in the test thread.
 */
#include "fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "esp_http_server.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "ota/ota_nor.h"

#define UPLOAD_SIZE 300007u /* not a multiple of any buffer size */
#define RECV_BUF 1024u

static httpd_handle_t server;
static char base[64];

/* ---- what the handlers saw --------------------------------------------------------------- */

typedef struct seen {
    int calls;
    int method;
    size_t content_len;
    char uri[HTTPD_MAX_URI_LEN + 1];
    char token[64];
    esp_err_t token_err;
    size_t token_len;
    size_t token_len_after; /* once the response went out */
    char query[128];
    char name[16];
    esp_err_t name_err;
    size_t received;
    uint32_t sum;
    int max_piece;
    int last_ret; /* httpd_req_recv's last return value */
    bool in_server_thread;
} seen_t;

static seen_t seen;
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cv = PTHREAD_COND_INITIALIZER;
static pthread_t test_thread;

static void seen_reset(void)
{
    pthread_mutex_lock(&seen_mu);
    memset(&seen, 0, sizeof(seen));
    pthread_mutex_unlock(&seen_mu);
}

/* Marks a handler call done (after its fields were written). */
static void seen_done(void)
{
    pthread_mutex_lock(&seen_mu);
    seen.calls++;
    pthread_cond_broadcast(&seen_cv);
    pthread_mutex_unlock(&seen_mu);
}

/* Waits (at most 10 s) until n handler calls are done. */
static void wait_calls(int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&seen_mu);
    while (seen.calls < n && pthread_cond_timedwait(&seen_cv, &seen_mu, &until) == 0) {
    }
    int calls = seen.calls;
    pthread_mutex_unlock(&seen_mu);
    assert_int_equal(calls, n);
}

/* ---- handlers ------------------------------------------------------------------------------ */

/* GET /info?name=...: echoes what it read, as JSON, with a header and a status of its own. */
static esp_err_t info_get(httpd_req_t *req)
{
    seen.in_server_thread = !pthread_equal(pthread_self(), test_thread);
    seen.method = req->method;
    snprintf(seen.uri, sizeof(seen.uri), "%s", req->uri);
    seen.token_len = httpd_req_get_hdr_value_len(req, "x-token");
    seen.token_err = httpd_req_get_hdr_value_str(req, "X-Token", seen.token, 8);
    httpd_req_get_url_query_str(req, seen.query, sizeof(seen.query));
    seen.name_err = httpd_query_key_value(seen.query, "name", seen.name, sizeof(seen.name));
    char body[128];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"ctx\":\"%s\"}", seen.name,
             (const char *)req->user_ctx);
    httpd_resp_set_status(req, "202 Accepted");
    httpd_resp_set_type(req, HTTPD_TYPE_JSON);
    httpd_resp_set_hdr(req, "X-Board", "otakit");
    esp_err_t err = httpd_resp_send(req, body, HTTPD_RESP_USE_STRLEN);
    seen.token_len_after = httpd_req_get_hdr_value_len(req, "X-Token");
    seen_done();
    return err;
}

/* POST /update: the upload loop of a firmware page, recv into a small buffer until the
 * content length is consumed (here summed instead of written with esp_ota_write). */
static esp_err_t update_post(httpd_req_t *req)
{
    char buf[RECV_BUF];
    size_t remaining = req->content_len;
    seen.content_len = req->content_len;
    while (remaining > 0) {
        int n = httpd_req_recv(req, buf, sizeof(buf));
        seen.last_ret = n;
        if (n == HTTPD_SOCK_ERR_TIMEOUT) {
            continue;
        }
        if (n <= 0) {
            seen_done();
            return ESP_FAIL;
        }
        for (int i = 0; i < n; i++) {
            seen.sum = seen.sum * 31u + (uint8_t)buf[i];
        }
        seen.max_piece = n > seen.max_piece ? n : seen.max_piece;
        seen.received += (size_t)n;
        remaining -= (size_t)n;
    }
    seen.last_ret = httpd_req_recv(req, buf, sizeof(buf)); /* the end: 0 */
    char reply[64];
    snprintf(reply, sizeof(reply), "%zu %08x", seen.received, (unsigned)seen.sum);
    seen_done();
    return httpd_resp_sendstr(req, reply);
}

/* PUT /files/... (wildcard): answers in chunks. */
static esp_err_t files_put(httpd_req_t *req)
{
    snprintf(seen.uri, sizeof(seen.uri), "%s", req->uri);
    seen.method = req->method;
    seen_done();
    httpd_resp_set_type(req, "text/plain");
    httpd_resp_sendstr_chunk(req, "stored ");
    httpd_resp_send_chunk(req, req->uri, HTTPD_RESP_USE_STRLEN);
    httpd_resp_send_chunk(req, "\n", 1);
    return httpd_resp_send_chunk(req, NULL, 0);
}

/* GET /fail?code=N: an error response (N 0: the default 500; 1: 400 with a message); N 2 fails
 * without a response. */
static esp_err_t fail_get(httpd_req_t *req)
{
    char q[32] = "";
    char code[4] = "0";
    httpd_req_get_url_query_str(req, q, sizeof(q));
    httpd_query_key_value(q, "code", code, sizeof(code));
    seen_done();
    if (code[0] == '1') {
        return httpd_resp_send_err(req, HTTPD_400_BAD_REQUEST, "firmware too large");
    }
    if (code[0] == '2') {
        return ESP_FAIL;
    }
    return httpd_resp_send_500(req);
}

/* POST /slow: one recv with the server's timeout, its result recorded. */
static esp_err_t slow_post(httpd_req_t *req)
{
    char buf[64];
    int first = httpd_req_recv(req, buf, sizeof(buf));
    seen.received = first > 0 ? (size_t)first : 0;
    seen.last_ret = httpd_req_recv(req, buf, sizeof(buf));
    seen_done();
    return httpd_resp_sendstr(req, "late");
}

/* POST /ota: ESP-IDF's "upload firmware from a web page" handler: the body goes straight into
 * the next OTA slot with esp_ota_write, one receive buffer at a time. */
static esp_err_t ota_post(httpd_req_t *req)
{
    const esp_partition_t *slot = esp_ota_get_next_update_partition(NULL);
    esp_ota_handle_t h = 0;
    esp_err_t err = esp_ota_begin(slot, OTA_WITH_SEQUENTIAL_WRITES, &h);
    char buf[RECV_BUF];
    size_t remaining = req->content_len;
    while (err == ESP_OK && remaining > 0) {
        int n = httpd_req_recv(req, buf, sizeof(buf));
        if (n == HTTPD_SOCK_ERR_TIMEOUT) {
            continue;
        }
        if (n <= 0) {
            esp_ota_abort(h);
            seen_done();
            return ESP_FAIL;
        }
        err = esp_ota_write(h, buf, (size_t)n);
        remaining -= (size_t)n;
        seen.received += (size_t)n;
    }
    if (err == ESP_OK) {
        err = esp_ota_end(h);
    }
    if (err == ESP_OK) {
        err = esp_ota_set_boot_partition(slot);
    }
    seen.last_ret = err;
    seen_done();
    if (err != ESP_OK) {
        return httpd_resp_send_err(req, HTTPD_500_INTERNAL_SERVER_ERROR, esp_err_to_name(err));
    }
    return httpd_resp_sendstr(req, slot->label);
}

static const httpd_uri_t k_info = {"/info", HTTP_GET, info_get, "info-ctx"};
static const httpd_uri_t k_update = {"/update", HTTP_POST, update_post, NULL};
static const httpd_uri_t k_files = {"/files/*", HTTP_PUT, files_put, NULL};
static const httpd_uri_t k_fail = {"/fail", HTTP_GET, fail_get, NULL};
static const httpd_uri_t k_slow = {"/slow", HTTP_POST, slow_post, NULL};
static const httpd_uri_t k_ota = {"/ota", HTTP_POST, ota_post, NULL};

/* ---- client -------------------------------------------------------------------------------- */

typedef struct reply {
    CURLcode code;
    long status;
    char body[4096];
    size_t len;
    char head[4096];
    size_t hlen;
} reply_t;

typedef struct upload {
    const uint8_t *data;
    size_t len;
    size_t off;
    size_t piece; /* bytes handed to libcurl per call */
} upload_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply_t *r = ud;
    size_t k = size * n;
    size_t room = sizeof(r->body) - 1 - r->len;
    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply_t *r = ud;
    size_t k = size * n;
    size_t room = sizeof(r->head) - 1 - r->hlen;
    memcpy(r->head + r->hlen, p, k < room ? k : room);
    r->hlen += k < room ? k : room;
    r->head[r->hlen] = '\0';
    return k;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    upload_t *u = ud;
    size_t k = size * n;
    k = k < u->piece ? k : u->piece;
    k = k < u->len - u->off ? k : u->len - u->off;
    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

/* Runs one request; up (may be NULL) is the body, sent with a Content-Length. */
static void request(const char *method, const char *path, const char *header, upload_t *up,
                    reply_t *r)
{
    memset(r, 0, sizeof(*r));
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    if (header != NULL) {
        hdrs = curl_slist_append(hdrs, header);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (up != NULL) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up->len);
    }
    r->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

/* A raw connection to the server (for clients that stall or vanish). */
static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(httpd_get_port(server))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Sends stdout to a temporary file until capture_end copies it into buf. */
static int saved_stdout = -1;
static FILE *captured;

static void capture_begin(void)
{
    fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    captured = tmpfile();
    dup2(fileno(captured), STDOUT_FILENO);
}

static void capture_end(char *buf, size_t cap)
{
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    rewind(captured);
    size_t n = fread(buf, 1, cap - 1, captured);
    buf[n] = '\0';
    fclose(captured);
}

/* ---- fixture ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    esp_log_set_colors(0);
    test_thread = pthread_self();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    httpd_config_t cfg = HTTPD_DEFAULT_CONFIG();
    cfg.server_port = 0;
    cfg.recv_wait_timeout = 1;
    cfg.uri_match_fn = httpd_uri_match_wildcard;
    if (httpd_start(&server, &cfg) != ESP_OK) {
        return -1;
    }
    const httpd_uri_t *all[] = {&k_info, &k_update, &k_files, &k_fail, &k_slow, &k_ota};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (httpd_register_uri_handler(server, all[i]) != ESP_OK) {
            return -1;
        }
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)httpd_get_port(server));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httpd_stop(server);
    curl_global_cleanup();
    return 0;
}

static int reset(void **state)
{
    (void)state;
    seen_reset();
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_get_headers_query(void **state)
{
    (void)state;
    reply_t r;
    request("GET", "/info?name=board%201&n=5", "X-Token: abcdefghijkl", NULL, &r);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body, "{\"name\":\"board%201\",\"ctx\":\"info-ctx\"}");
    assert_non_null(strstr(r.head, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(r.head, "X-Board: otakit\r\n"));
    assert_non_null(strstr(r.head, "Content-Length: 37\r\n"));
    wait_calls(1);
    assert_true(seen.in_server_thread);
    assert_int_equal(seen.method, HTTP_GET);
    assert_string_equal(seen.uri, "/info?name=board%201&n=5"); /* as received, not decoded */
    assert_int_equal(seen.token_len, 12);
    assert_int_equal(seen.token_len_after, 0); /* ESP-IDF drops request headers on sending */
    assert_int_equal(seen.token_err, ESP_ERR_HTTPD_RESULT_TRUNC);
    assert_string_equal(seen.token, "abcdefg");
    assert_string_equal(seen.query, "name=board%201&n=5");
    assert_int_equal(seen.name_err, ESP_OK);
}

static void test_post_upload_in_pieces(void **state)
{
    (void)state;
    uint8_t *fw = malloc(UPLOAD_SIZE);
    uint32_t sum = 0;
    for (size_t i = 0; i < UPLOAD_SIZE; i++) {
        fw[i] = (uint8_t)(i * 7u + (i >> 9));
        sum = sum * 31u + fw[i];
    }
    upload_t up = {fw, UPLOAD_SIZE, 0, 1000};
    reply_t r;
    request("POST", "/update", NULL, &up, &r);
    char want[64];
    snprintf(want, sizeof(want), "%u %08x", UPLOAD_SIZE, (unsigned)sum);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    assert_non_null(strstr(r.head, "Content-Type: text/html\r\n"));
    wait_calls(1);
    assert_int_equal(seen.content_len, UPLOAD_SIZE);
    assert_int_equal(seen.received, UPLOAD_SIZE);
    assert_true(seen.max_piece > 0 && seen.max_piece <= (int)RECV_BUF);
    assert_int_equal(seen.last_ret, 0);
    free(fw);
}

static void test_put_wildcard_chunked(void **state)
{
    (void)state;
    reply_t r;
    request("PUT", "/files/images/app.bin", NULL, NULL, &r);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "stored /files/images/app.bin\n");
    assert_non_null(strstr(r.head, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(r.head, "Content-Type: text/plain\r\n"));
    wait_calls(1);
    assert_int_equal(seen.method, HTTP_PUT);
    assert_string_equal(seen.uri, "/files/images/app.bin");
}

static void test_not_found_and_method(void **state)
{
    (void)state;
    reply_t r;
    char log[2048];
    capture_begin();
    request("GET", "/nothing?x=1", NULL, NULL, &r);
    capture_end(log, sizeof(log));
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "Nothing matches the given URI");
    assert_non_null(strstr(r.head, "Connection: close\r\n"));
    assert_non_null(strstr(log, "W (0) httpd_uri: httpd_uri: URI '/nothing?x=1' not found\n"));
    assert_non_null(strstr(log, "W (0) httpd_txrx: httpd_resp_send_err: 404 Not Found - Nothing "
                                "matches the given URI\n"));
    capture_begin();
    request("POST", "/info", NULL, NULL, &r);
    capture_end(log, sizeof(log));
    assert_int_equal(r.status, 405);
    assert_string_equal(r.body, "Specified method is invalid for this resource");
    assert_non_null(strstr(log, "httpd_uri: httpd_uri: Method '3' not allowed for URI '/info'\n"));
    request("GET", "/files/x", NULL, NULL, &r); /* the wildcard handler is PUT only */
    assert_int_equal(r.status, 405);
    assert_int_equal(seen.calls, 0);
}

static void test_error_responses(void **state)
{
    (void)state;
    reply_t r;
    char log[1024];
    capture_begin();
    request("GET", "/fail?code=1", NULL, NULL, &r);
    capture_end(log, sizeof(log));
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body, "firmware too large");
    assert_non_null(
        strstr(log, "httpd_txrx: httpd_resp_send_err: 400 Bad Request - firmware too large\n"));
    request("GET", "/fail", NULL, NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "Server has encountered an unexpected error");
    request("GET", "/fail?code=2", NULL, NULL, &r); /* no response: the connection closes */
    assert_int_equal(r.code, CURLE_GOT_NOTHING);
    wait_calls(3);
}

static void test_recv_timeout(void **state)
{
    (void)state;
    int fd = raw_connect();
    raw_send(fd, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    wait_calls(1); /* the second recv waited recv_wait_timeout (1 s) for the other 5 bytes */
    assert_int_equal(seen.received, 5);
    assert_int_equal(seen.last_ret, HTTPD_SOCK_ERR_TIMEOUT);
    close(fd);
}

static void test_client_gone_mid_upload(void **state)
{
    (void)state;
    int fd = raw_connect();
    raw_send(fd, "POST /update HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    char part[1500];
    memset(part, 'a', sizeof(part) - 1);
    part[sizeof(part) - 1] = '\0';
    raw_send(fd, part);
    close(fd);
    wait_calls(1);
    assert_true(seen.received < 5000);
    assert_int_equal(seen.last_ret, 0); /* ESP-IDF: 0 when the peer closed */
    reply_t r;
    request("GET", "/info?name=next", NULL, NULL, &r); /* the server goes on */
    assert_int_equal(r.status, 202);
    wait_calls(2); /* its handler has finished, before the next test resets what it saw */
}

static void test_registration(void **state)
{
    (void)state;
    httpd_uri_t dup = k_info;
    assert_int_equal(httpd_register_uri_handler(server, &dup), ESP_ERR_HTTPD_HANDLER_EXISTS);
    httpd_uri_t more[4] = {{"/a", HTTP_GET, info_get, ""},
                           {"/b", HTTP_GET, info_get, ""},
                           {"/c", HTTP_GET, info_get, ""},
                           {"/d", HTTP_GET, info_get, ""}};
    assert_int_equal(httpd_register_uri_handler(server, &more[0]), ESP_OK);
    assert_int_equal(httpd_register_uri_handler(server, &more[1]), ESP_OK); /* 8 = the max */
    assert_int_equal(httpd_register_uri_handler(server, &more[2]), ESP_ERR_HTTPD_HANDLERS_FULL);
    assert_int_equal(httpd_unregister_uri_handler(server, "/a", HTTP_GET), ESP_OK);
    assert_int_equal(httpd_unregister_uri(server, "/b"), ESP_OK);
    assert_int_equal(httpd_unregister_uri(server, "/b"), ESP_ERR_NOT_FOUND);
    assert_int_equal(httpd_register_uri_handler(server, &more[3]), ESP_OK); /* room again */
    assert_int_equal(httpd_unregister_uri(server, "/d"), ESP_OK);
    reply_t r;
    request("GET", "/a", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
}

static void test_upload_into_ota_slot(void **state)
{
    (void)state;
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(4u << 20, NULL, &nor, NULL), OTA_OK);
    ota_part_table_t t;
    test_table_builtin("two_ota", &t);
    test_table_put(ota_nor_flash(nor), &t);
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_id(OTA_CHIP_ID_ESP32),
        .chip_rev = 300,
        .running_offset = 0x10000,
    };
    assert_int_equal(esp_dev_install(&cfg), ESP_OK);
    uint8_t *payload = malloc(UPLOAD_SIZE);
    for (size_t i = 0; i < UPLOAD_SIZE; i++) {
        payload[i] = (uint8_t)(i * 5u + 1u);
    }
    size_t len = 0;
    uint8_t *img = test_app_image("web_upload", "2.0", -1, payload, UPLOAD_SIZE, &len);
    upload_t up = {img, len, 0, 1400};
    reply_t r;
    request("POST", "/ota", NULL, &up, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ota_0");
    wait_calls(1);
    assert_int_equal(seen.last_ret, ESP_OK);
    assert_int_equal(seen.received, len);
    const esp_partition_t *boot = esp_ota_get_boot_partition();
    assert_string_equal(boot->label, "ota_0");
    esp_app_desc_t d;
    assert_int_equal(esp_ota_get_partition_description(boot, &d), ESP_OK);
    assert_string_equal(d.project_name, "web_upload");
    /* a corrupt upload fails verification in esp_ota_end: 500 with the error's name */
    img[len / 2] ^= 0xFF;
    up.off = 0;
    request("POST", "/ota", NULL, &up, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "ESP_ERR_OTA_VALIDATE_FAILED");
    free(img);
    free(payload);
    esp_dev_uninstall();
    ota_nor_close(nor);
}

static void test_wildcard_matcher(void **state)
{
    (void)state;
    const char *u = "/api/v1";
    assert_true(httpd_uri_match_wildcard("/api/*", "/api/v1", strlen(u)));
    assert_false(httpd_uri_match_wildcard("/api/*", "/api", 4));
    assert_true(httpd_uri_match_wildcard("/api/?*", "/api", 4));
    assert_true(httpd_uri_match_wildcard("/api/?*", "/api/", 5));
    assert_true(httpd_uri_match_wildcard("/api/?*", "/api/x/y", 8));
    assert_false(httpd_uri_match_wildcard("/api/?*", "/apix", 5));
    assert_true(httpd_uri_match_wildcard("/api/?", "/api", 4));
    assert_true(httpd_uri_match_wildcard("/api/?", "/api/", 5));
    assert_false(httpd_uri_match_wildcard("/api/?", "/api/x", 6));
    assert_true(httpd_uri_match_wildcard("/exact", "/exact?q=1", 6)); /* match_upto: the path */
    assert_false(httpd_uri_match_wildcard("/exact", "/exactly", 8));
}

static void test_query_key_value(void **state)
{
    (void)state;
    char v[8];
    const char *q = "ssid=home&pass=secret12345&empty=&flag";
    assert_int_equal(httpd_query_key_value(q, "ssid", v, sizeof(v)), ESP_OK);
    assert_string_equal(v, "home");
    assert_int_equal(httpd_query_key_value(q, "pass", v, sizeof(v)), ESP_ERR_HTTPD_RESULT_TRUNC);
    assert_string_equal(v, "secret1");
    assert_int_equal(httpd_query_key_value(q, "empty", v, sizeof(v)), ESP_OK);
    assert_string_equal(v, "");
    assert_int_equal(httpd_query_key_value(q, "flag", v, sizeof(v)), ESP_OK);
    assert_int_equal(httpd_query_key_value(q, "pas", v, sizeof(v)), ESP_ERR_NOT_FOUND);
    assert_int_equal(httpd_query_key_value(NULL, "x", v, sizeof(v)), ESP_ERR_INVALID_ARG);
}

static void test_start_arguments(void **state)
{
    (void)state;
    httpd_handle_t h = NULL;
    httpd_config_t cfg = HTTPD_DEFAULT_CONFIG();
    assert_int_equal(httpd_start(NULL, &cfg), ESP_ERR_INVALID_ARG);
    cfg.server_port = httpd_get_port(server); /* taken */
    assert_int_equal(httpd_start(&h, &cfg), ESP_ERR_HTTPD_TASK);
    assert_int_equal(httpd_stop(NULL), ESP_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_headers_query, reset),
        cmocka_unit_test_setup(test_post_upload_in_pieces, reset),
        cmocka_unit_test_setup(test_put_wildcard_chunked, reset),
        cmocka_unit_test_setup(test_not_found_and_method, reset),
        cmocka_unit_test_setup(test_error_responses, reset),
        cmocka_unit_test_setup(test_recv_timeout, reset),
        cmocka_unit_test_setup(test_client_gone_mid_upload, reset),
        cmocka_unit_test_setup(test_registration, reset),
        cmocka_unit_test_setup(test_upload_into_ota_slot, reset),
        cmocka_unit_test(test_wildcard_matcher),
        cmocka_unit_test(test_query_key_value),
        cmocka_unit_test(test_start_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
