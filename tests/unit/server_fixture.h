/*
 * The firmware server's test fixture, shared by test_server.c and test_server_robust.c: a
 * temporary directory whose www/ is served, files in it, one server on 127.0.0.1 with an
 * ephemeral port, and a raw TCP client for requests libcurl would not send. Every wait of the
 * raw client is bounded by a poll timeout.
 */
#ifndef SERVER_FIXTURE_H
#define SERVER_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ota/ota_server.h"

static char tmp_dir[256]; /* TMP: the fixture's directory */
static char www[300];     /* TMP/www: the served root */
static ota_server_t *srv; /* the server under test */

static inline void path_in(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", tmp_dir, rel);
}

static inline void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Writes TMP/rel. */
static inline void make_file(const char *rel, const void *data, size_t len)
{
    char p[512];
    path_in(p, sizeof(p), rel);
    write_bytes(p, data, len);
}

/* Group setup: makes $TMPDIR/otakit-NAME-XXXXXX with an empty www/ and starts libcurl. */
static inline int fixture_setup(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/otakit-%s-XXXXXX", tmp != NULL ? tmp : "/tmp", name);
    if (mkdtemp(tmp_dir) == NULL) {
        return -1;
    }
    snprintf(www, sizeof(www), "%s/www", tmp_dir);
    if (mkdir(www, 0755) != 0) {
        return -1;
    }
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* Group teardown: stops libcurl and removes the directory. */
static inline int fixture_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd);
}

/* Starts the server on www for one test (cfg may be NULL for the defaults). */
static inline void server_start(ota_server_config_t *cfg)
{
    ota_server_config_t defaults = {0};
    if (cfg == NULL) {
        cfg = &defaults;
    }
    cfg->root = www;
    cfg->bind_addr = "127.0.0.1";
    ota_diag_t diag = {""};
    if (ota_server_start(cfg, &srv, &diag) != OTA_OK) {
        fail_msg("server did not start: %s", diag.msg);
    }
}

/* Per-test teardown: stops a server a failed assertion left running. */
static inline int stop_server(void **state)
{
    (void)state;
    ota_server_stop(srv, NULL);
    srv = NULL;
    return 0;
}

/* ---- raw client ------------------------------------------------------------------------- */

/* A connected TCP socket to the server. */
static inline int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(ota_server_port(srv)),
                            .sin_addr = {htonl(INADDR_LOOPBACK)}};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static inline void send_all(int fd, const void *data, size_t len)
{
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Receives into buf (cap bytes) until the response head is complete, the peer closes or
 * timeout_ms passes without data. Returns the bytes received; buf is NUL-terminated. */
static inline size_t recv_head(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    buf[0] = '\0';
    while (n + 1 < cap && strstr(buf, "\r\n\r\n") == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) {
            break;
        }
        ssize_t got = recv(fd, buf + n, cap - 1 - n, 0);
        if (got <= 0) {
            break;
        }
        n += (size_t)got;
        buf[n] = '\0';
    }
    return n;
}

#endif /* SERVER_FIXTURE_H */
