/*
 * Firmware server under hostile or broken input, over raw sockets: FIFOs and other non-regular
 * files, malformed requests, TLS versions, a file that shrinks during a download, and floods of
 * slow clients. Every wait is bounded by a poll timeout; nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ota/ota_server.h"
#include "ota/ota_x509.h"
#include "server_fixture.h"

#define SMALL "small file\n"
#define BIG_SIZE (32u << 20) /* far more than the socket buffers hold */

/* ---- fixture ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (fixture_setup("robust") != 0) {
        return -1;
    }
    make_file("www/small.txt", SMALL, strlen(SMALL));
    return 0;
}

/* ---- raw client ------------------------------------------------------------------------- */

/* The status code of the response head in buf, or -1 when there is none. */
static int status_of(const char *buf)
{
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        return -1;
    }
    return status;
}

/* Sends a raw request on a new connection; returns the response's status or -1 (no answer
 * within timeout_ms). */
static int request_status(const void *req, size_t len, int timeout_ms)
{
    int fd = dial();
    send_all(fd, req, len);
    char buf[4096];
    recv_head(fd, buf, sizeof(buf), timeout_ms);
    close(fd);
    return status_of(buf);
}

#define RAW(s) (s), sizeof(s) - 1

/* ---- non-regular files ------------------------------------------------------------------ */

/* Per-test teardown of the FIFO test: a writer that opens and closes the FIFO releases any
 * worker still blocked opening it, so the server can stop even when the test failed. */
static int release_fifo(void **state)
{
    char fifo[512];
    path_in(fifo, sizeof(fifo), "www/pipe");
    int fd = open(fifo, O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
        close(fd);
    }
    unlink(fifo);
    return stop_server(state);
}

/* GET of a FIFO is 404 at once, as often as asked, and never ties up a worker. */
static void test_fifo_is_not_served(void **state)
{
    (void)state;
    char fifo[512];
    path_in(fifo, sizeof(fifo), "www/pipe");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    ota_server_config_t cfg = {.threads = 2};
    server_start(&cfg);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(request_status(RAW("GET /pipe HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 404);
        assert_int_equal(request_status(RAW("HEAD /pipe HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 404);
    }
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
    /* A device node (where one can be made) is not a file either. */
    char dev[512];
    path_in(dev, sizeof(dev), "www/zero");
    if (mknod(dev, S_IFCHR | 0644, makedev(1, 5)) == 0) {
        assert_int_equal(request_status(RAW("GET /zero HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 404);
        unlink(dev);
    }
}

/* ---- request parsing -------------------------------------------------------------------- */

/* Requests nginx refuses with 400 are refused with 400, and nothing is served for them. */
static void test_strict_requests(void **state)
{
    (void)state;
    server_start(NULL);
    /* control: well-formed requests are served */
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.0\r\n\r\n"), 5000), 200);
    assert_int_equal(
        request_status(RAW("GET /small.txt?a=1&b=%00 HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n"
                                        "Content-Length: 2\r\n\r\nab"),
                                    5000),
                     200);
    /* a raw NUL in the target: not "/small.txt" */
    assert_int_equal(request_status(RAW("GET /small.txt\0.bin HTTP/1.1\r\nHost: a\r\n\r\n"), 5000),
                     400);
    assert_int_equal(request_status(RAW("GET /small.txt\0 HTTP/1.0\r\n\r\n"), 5000), 400);
    /* HTTP/1.1 without Host */
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\n\r\n"), 5000), 400);
    /* two Content-Lengths that disagree */
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n"
                                        "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
                                    5000),
                     400);
    /* Content-Length together with Transfer-Encoding (a request-smuggling shape) */
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n"
                                        "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                                        "\r\n0\r\n\r\n"),
                                    5000),
                     400);
    ota_server_stats_t st;
    ota_server_stop(srv, &st);
    srv = NULL;
    assert_int_equal(st.status_2xx, 4);
}

/* ---- TLS -------------------------------------------------------------------------------- */

/* A TLS handshake limited to versions [min, max] (CURL_SSLVERSION_*); returns curl's result. */
static CURLcode tls_handshake(const char *cainfo, long min, long max)
{
    CURL *h = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/small.txt", ota_server_port(srv));
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, min | max);
    /* let the client offer old versions at all (OpenSSL 3 refuses them at its default level) */
    curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    CURLcode c = curl_easy_perform(h);
    curl_easy_cleanup(h);
    return c;
}

/* HTTPS speaks TLS 1.2 and 1.3 only. */
static void test_tls_versions(void **state)
{
    (void)state;
    char cert[320];
    char key[320];
    path_in(cert, sizeof(cert), "cert.pem");
    path_in(key, sizeof(key), "key.pem");
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cert, key, 0, NULL), OTA_OK);
    ota_server_config_t cfg = {.cert_path = cert, .key_path = key};
    server_start(&cfg);
    assert_int_equal(tls_handshake(cert, CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3),
                     CURLE_OK);
    assert_int_equal(tls_handshake(cert, CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2),
                     CURLE_OK);
    assert_int_not_equal(tls_handshake(cert, CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1),
                         CURLE_OK);
    assert_int_not_equal(tls_handshake(cert, CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0),
                         CURLE_OK);
}

/* ---- files that change ------------------------------------------------------------------ */

/* A file cut short during a download ends the connection at once (not after an idle timeout):
 * the client sees the end of the stream with fewer bytes than announced. */
static void test_shrinking_file_closes_the_connection(void **state)
{
    (void)state;
    char big[512];
    path_in(big, sizeof(big), "www/big.bin");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, BIG_SIZE), 0);
    close(fd);
    server_start(NULL);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096; /* keep most of the body on the server's side */
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(ota_server_port(srv)),
                            .sin_addr = {htonl(INADDR_LOOPBACK)}};
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    send_all(c, RAW("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"));
    char head[4096];
    size_t got = recv_head(c, head, sizeof(head), 5000);
    assert_int_equal(status_of(head), 200);
    assert_int_equal(truncate(big, 4096), 0);
    /* Drain what is in flight; the server must then close, well before any idle timeout. */
    static char buf[1 << 16];
    size_t body = got - (size_t)(strstr(head, "\r\n\r\n") + 4 - head);
    bool closed = false;
    time_t t0 = time(NULL);
    while (!closed) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) {
            break; /* no byte and no end for 5 s: the server left the connection idle */
        }
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        closed = n <= 0;
        body += n > 0 ? (size_t)n : 0;
    }
    close(c);
    assert_true(closed);
    assert_true(body < BIG_SIZE);
    assert_true(time(NULL) - t0 < 10);
    unlink(big);
}

/* ---- slow clients ----------------------------------------------------------------------- */

/* A TCP connection to the server from the loopback address from (127.0.0.x), non-blocking
 * after the connect. */
static int dial_from(const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in local = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, from, &local.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&local, sizeof(local)), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(ota_server_port(srv)),
                            .sin_addr = {htonl(INADDR_LOOPBACK)}};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until at least want of the n connections in fds have been closed by the server (or
 * timeout_ms passes); closed ones are set to -1. Returns how many are closed. */
static size_t wait_closed(int *fds, size_t n, size_t want, int timeout_ms)
{
    struct pollfd *p = calloc(n, sizeof(*p));
    assert_non_null(p);
    size_t closed = 0;
    for (size_t i = 0; i < n; i++) {
        closed += fds[i] < 0;
    }
    int64_t end = now_ms() + timeout_ms;
    while (closed < want && now_ms() < end) {
        for (size_t i = 0; i < n; i++) {
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        }
        if (poll(p, n, (int)(end - now_ms())) <= 0) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            char b[256];
            if (fds[i] >= 0 && p[i].revents != 0 && recv(fds[i], b, sizeof(b), 0) <= 0) {
                close(fds[i]);
                fds[i] = -1;
                closed++;
            }
        }
    }
    free(p);
    return closed;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

/* A client that sends prefix, then bytes one at a time, never idle long enough for an idle
 * timeout, is cut off at the deadline. Returns the milliseconds that took (-1: never). */
static int64_t trickle_until_closed(const char *from, const char *prefix, const char *bytes,
                                    int64_t give_up_ms)
{
    int fd = dial_from(from);
    send(fd, prefix, strlen(prefix), MSG_NOSIGNAL); /* at once */
    int64_t t0 = now_ms();
    size_t sent = 0;
    int64_t took = -1;
    while (took < 0 && now_ms() - t0 < give_up_ms) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) > 0) { /* pace: one byte per 200 ms unless the server acts */
            char b[256];
            if (recv(fd, b, sizeof(b), 0) <= 0) {
                took = now_ms() - t0;
            }
        } else if (bytes[sent] != '\0') {
            send(fd, bytes + sent++, 1, MSG_NOSIGNAL);
        }
    }
    close(fd);
    return took;
}

/* The request (head and any body) has a deadline in total, not per byte. */
static void test_head_deadline(void **state)
{
    (void)state;
    ota_server_config_t cfg = {.head_timeout_ms = 1000};
    server_start(&cfg);
    int64_t took = trickle_until_closed("127.0.0.2", "",
                                        "GET /small.txt HTTP/1.1\r\nHost: a\r\nX-Slow: "
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                        6000);
    assert_true(took >= 900);
    assert_true(took < 3000);
    /* A complete head does not stop the clock while a body (ignored, but read) trickles in. */
    took = trickle_until_closed(
        "127.0.0.2", "GET /small.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 64\r\n\r\n",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 6000);
    assert_true(took >= 900);
    assert_true(took < 3000);
    /* A client that keeps to the deadline is served. */
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
}

/* The TLS handshake counts against the same deadline. */
static void test_tls_handshake_deadline(void **state)
{
    (void)state;
    char cert[320];
    char key[320];
    path_in(cert, sizeof(cert), "cert.pem");
    path_in(key, sizeof(key), "key.pem");
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cert, key, 0, NULL), OTA_OK);
    ota_server_config_t cfg = {.cert_path = cert, .key_path = key, .head_timeout_ms = 1000};
    server_start(&cfg);
    /* the start of a ClientHello record, one byte at a time */
    static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int64_t took = trickle_until_closed("127.0.0.2", "", hello, 6000);
    assert_true(took >= 900);
    assert_true(took < 3000);
}

/*
 * A flood of slow connections: 100 from one address, then 16 from each of four more. The
 * per-address limit (16) and the connection limit (48) close the excess at once, a normal
 * client from another address is served meanwhile, and the head deadline frees every slot.
 */
static void test_slow_flood(void **state)
{
    (void)state;
    enum { FLOOD = 100, PER_ADDR = 16, LIMIT = 48, MORE = 4 * 16 };
    ota_server_config_t cfg = {
        .head_timeout_ms = 1500, .max_per_address = PER_ADDR, .max_connections = LIMIT};
    server_start(&cfg);
    int flood[FLOOD];
    for (size_t i = 0; i < FLOOD; i++) {
        flood[i] = dial_from("127.0.0.2");
        send(flood[i], "GET /small.txt HTTP/1.1\r\n", 25, MSG_NOSIGNAL);
    }
    assert_true(wait_closed(flood, FLOOD, FLOOD - PER_ADDR, 3000) >= FLOOD - PER_ADDR);
    int64_t t0 = now_ms();
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
    assert_true(now_ms() - t0 < 1000); /* served at once, not after the slow ones went */
    int more[MORE];
    for (size_t i = 0; i < MORE; i++) {
        char from[16];
        snprintf(from, sizeof(from), "127.0.0.%zu", 3 + i / 16);
        more[i] = dial_from(from);
        send(more[i], "GET /", 5, MSG_NOSIGNAL);
    }
    assert_true(wait_closed(more, MORE, MORE - (LIMIT - PER_ADDR), 3000) >=
                MORE - (LIMIT - PER_ADDR));
    /* At the deadline every slow connection is closed and the server has room again. */
    assert_int_equal(wait_closed(flood, FLOOD, FLOOD, 5000), FLOOD);
    assert_int_equal(wait_closed(more, MORE, MORE, 5000), MORE);
    close_all(flood, FLOOD);
    close_all(more, MORE);
    assert_int_equal(request_status(RAW("GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 5000), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fifo_is_not_served, release_fifo),
        cmocka_unit_test_teardown(test_strict_requests, stop_server),
        cmocka_unit_test_teardown(test_tls_versions, stop_server),
        cmocka_unit_test_teardown(test_shrinking_file_closes_the_connection, stop_server),
        cmocka_unit_test_teardown(test_head_deadline, stop_server),
        cmocka_unit_test_teardown(test_tls_handshake_deadline, stop_server),
        cmocka_unit_test_teardown(test_slow_flood, stop_server),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture_teardown);
}
