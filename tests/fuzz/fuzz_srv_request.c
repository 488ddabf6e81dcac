/*
 * The firmware server (src/server) answering raw request bytes: one server, started once over
 * plain HTTP on 127.0.0.1 with an ephemeral port, serves a directory holding files, a
 * subdirectory, a FIFO and a symbolic link that points outside it. Each input is sent as it is on
 * a new connection, whose sending side is then closed. The server must answer with an HTTP
 * status line or nothing, keep Content-Range within the file, and never send a byte of the file
 * outside the served directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "ota/ota_server.h"

#define SECRET "SECRET-OUTSIDE-THE-ROOT"

static ota_server_t *srv;
static uint16_t port;

static void put_file(const char *dir, const char *name, const char *text, size_t repeat)
{
    char path[512];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = n > 0 && (size_t)n < sizeof(path) ? fopen(path, "w") : NULL;
    if (fp == NULL) {
        abort();
    }
    for (size_t i = 0; i < repeat; i++) {
        fputs(text, fp);
    }
    fclose(fp);
}

static void start_server(void)
{
    static char top[] = "/tmp/otakit-fuzz-srv-XXXXXX";
    static char root[600];
    if (mkdtemp(top) == NULL) {
        abort();
    }
    snprintf(root, sizeof(root), "%s/www", top);
    char sub[700], path[700];
    snprintf(sub, sizeof(sub), "%s/dir", root);
    if (mkdir(root, 0700) != 0 || mkdir(sub, 0700) != 0) {
        abort();
    }
    put_file(top, "secret.txt", SECRET "\n", 1);
    put_file(root, "small.txt", "hello\n", 1);
    put_file(root, "fw.bin", "0123456789abcdef", 320);
    put_file(sub, "a b.txt", "spaced\n", 1);
    snprintf(path, sizeof(path), "%s/fifo", root);
    mkfifo(path, 0600);
    snprintf(path, sizeof(path), "%s/link", root);
    if (symlink("../secret.txt", path) != 0) {
        abort();
    }
    static const ota_server_redirect_t redirects[] = {{"/old.bin", "/fw.bin"}};
    ota_server_config_t cfg = {0};
    cfg.root = root;
    cfg.threads = 2;
    cfg.redirects = redirects;
    cfg.redirect_count = 1;
    cfg.head_timeout_ms = 3000;
    ota_diag_t diag;
    if (ota_server_start(&cfg, &srv, &diag) != OTA_OK) {
        fprintf(stderr, "fuzz_srv_request: %s\n", diag.msg);
        abort();
    }
    port = ota_server_port(srv);
}

/*
 * Sends the request and reads the answer (into *out, malloc'ed, NUL-terminated): until the server
 * closes the connection, or 30 ms after the last byte (a keep-alive connection stays open for the
 * next request), or 2 s without any byte. The connection is then reset.
 */
static void exchange(const uint8_t *data, size_t size, char **out, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        abort();
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        abort();
    }
    /* the server may answer and close before it has read everything */
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 65536;
    *out = malloc(cap);
    *len = 0;
    for (;;) {
        if (*out == NULL) {
            abort();
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, *len ? 30 : 2000) <= 0) {
            break;
        }
        ssize_t n = recv(fd, *out + *len, cap - 1 - *len, 0);
        if (n <= 0) {
            break;
        }
        *len += (size_t)n;
        if (cap - 1 - *len < 4096) {
            cap *= 2;
            *out = realloc(*out, cap);
        }
    }
    (*out)[*len] = '\0';
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* Every Content-Range the answer carries ("bytes a-b/c") lies within the file. */
static void check_ranges(const char *text, size_t len)
{
    static const char key[] = "\r\nContent-Range: bytes ";
    const char *end = text + len;
    for (const char *p = text; (p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1)) != NULL;
         p++) {
        unsigned long long a, b, c;
        if (sscanf(p + sizeof(key) - 1, "%llu-%llu/%llu", &a, &b, &c) == 3) {
            FUZZ_CHECK(a <= b && b < c);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (srv == NULL) {
        start_server();
    }
    char *out = NULL;
    size_t len = 0;
    exchange(data, size, &out, &len);
    FUZZ_CHECK(len == 0 || strncmp(out, "HTTP/1.", 7) == 0);
    /* error pages echo the method and the path, so a request may carry the text itself */
    FUZZ_CHECK(memmem(out, len, SECRET, strlen(SECRET)) == NULL ||
               memmem(data, size, SECRET, strlen(SECRET)) != NULL);
    check_ranges(out, len);
    free(out);
    return 0;
}
