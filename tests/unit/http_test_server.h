/*
 * Test servers for the HTTP client tests, all on 127.0.0.1 with ephemeral ports:
 *  - a libmicrohttpd server (plain or TLS) serving an in-memory body with Content-Length,
 *    chunked, Range, redirects, 404, basic auth, an echo of POST bodies and a body dropped
 *    mid-way; it counts connections (MHD_OPTION_NOTIFY_CONNECTION) and requests;
 *  - a raw socket server thread for one connection that never answers, stalls mid-body, or
 *    cuts the body with a FIN or a RST;
 *  - `openssl s_server -WWW` as a child process (HTTP/1.0, body delimited by the close);
 *  - certificates made by the `openssl` command in a temporary directory.
 * Included only by test_http_client.c.
 */
#ifndef HTTP_TEST_SERVER_H
#define HTTP_TEST_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------- */
/* Child processes                                                                            */

/* Runs argv (PATH lookup) in dir with stdout/stderr to /dev/null; returns its exit status. */
static int ts_run(const char *dir, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        if (dir != NULL && chdir(dir) != 0) {
            _exit(126);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Makes a self-signed EC certificate "<name>.crt"/"<name>.key" in dir for CN/SAN 127.0.0.1. */
static int ts_make_cert(const char *dir, const char *name)
{
    char key[256], crt[256];
    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(crt, sizeof(crt), "%s.crt", name);
    char *argv[] = {"openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    key,
                    "-out",
                    crt,
                    "-days",
                    "2",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    NULL};
    return ts_run(dir, argv);
}

/* An ephemeral port that was free a moment ago (for servers that take a port number). */
static uint16_t ts_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct {
    pid_t pid;
    uint16_t port;
} ts_sserver_t;

/*
 * Starts `openssl s_server -WWW` serving the files of dir over TLS with <name>.crt/.key and
 * waits until it listens (it prints "ACCEPT"). Returns 0 on success.
 */
static int ts_sserver_start(ts_sserver_t *s, const char *dir, const char *name)
{
    char cert[256], key[256], accept[64];
    int out[2];
    s->port = ts_free_port();
    snprintf(cert, sizeof(cert), "%s.crt", name);
    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(accept, sizeof(accept), "127.0.0.1:%u", (unsigned)s->port);
    if (s->port == 0 || pipe(out) != 0) {
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0) {
        return -1;
    }
    if (s->pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(out[1], STDOUT_FILENO);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        close(out[0]);
        if (chdir(dir) != 0) {
            _exit(126);
        }
        execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", cert, "-key", key,
               "-WWW", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char buf[512];
    size_t have = 0;
    int ok = -1;
    for (;;) {
        ssize_t n = read(out[0], buf + have, sizeof(buf) - 1 - have);
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "ACCEPT") != NULL) {
            ok = 0;
            break;
        }
        if (have == sizeof(buf) - 1) {
            have = 0;
        }
    }
    close(out[0]);
    return ok;
}

static void ts_sserver_stop(ts_sserver_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        s->pid = 0;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* libmicrohttpd server                                                                       */

typedef struct {
    struct MHD_Daemon *daemon;
    uint16_t port;
    const uint8_t *body;
    size_t body_len;
    size_t drop_after; /* /drop: bytes sent before the connection is dropped */
    atomic_int connections;
    atomic_int requests;
    atomic_int loop_requests;
    pthread_mutex_t lock;
    char last_url[256];
    char last_method[16];
    char last_user_agent[128];
    char last_host[128];
    char last_auth[256];
    char last_custom[128];
    char last_accept[64];
    char last_content_length[32];
} ts_mhd_t;

typedef struct {
    char *data;
    size_t len;
} ts_upload_t;

static void ts_copy_header(struct MHD_Connection *conn, const char *key, char *dst, size_t cap)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, key);
    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

static enum MHD_Result ts_queue(struct MHD_Connection *conn, unsigned code, const char *body,
                                const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (hname != NULL) {
        MHD_add_response_header(r, hname, hvalue);
    }
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct {
    const ts_mhd_t *srv;
    size_t limit; /* bytes to serve before ending */
    bool error_at_limit;
} ts_stream_t;

static ssize_t ts_stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    ts_stream_t *st = cls;
    if (pos >= st->limit) {
        return st->error_at_limit ? MHD_CONTENT_READER_END_WITH_ERROR
                                  : MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = st->limit - (size_t)pos;
    if (n > max) {
        n = max;
    }
    if (n > 777) {
        n = 777; /* many small chunks */
    }
    memcpy(buf, st->srv->body + pos, n);
    return (ssize_t)n;
}

static void ts_stream_free(void *cls)
{
    free(cls);
}

static enum MHD_Result ts_serve_file(ts_mhd_t *s, struct MHD_Connection *conn)
{
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    unsigned long long first = 0, last = s->body_len - 1;
    unsigned code = MHD_HTTP_OK;
    if (range != NULL) {
        int n = sscanf(range, "bytes=%llu-%llu", &first, &last);
        if (n < 1 || first >= s->body_len) {
            return ts_queue(conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, "", NULL, NULL);
        }
        if (n < 2 || last >= s->body_len) {
            last = s->body_len - 1;
        }
        code = MHD_HTTP_PARTIAL_CONTENT;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        (size_t)(last - first + 1), (void *)(s->body + first), MHD_RESPMEM_PERSISTENT);
    if (code == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%zu", first, last, s->body_len);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result ts_stream(ts_mhd_t *s, struct MHD_Connection *conn, bool known_size)
{
    ts_stream_t *st = calloc(1, sizeof(*st));
    st->srv = s;
    st->limit = known_size ? s->drop_after : s->body_len;
    st->error_at_limit = known_size;
    struct MHD_Response *r = MHD_create_response_from_callback(
        known_size ? s->body_len : MHD_SIZE_UNKNOWN, 4096, ts_stream_reader, st, ts_stream_free);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result ts_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)method;
    ts_mhd_t *s = cls;
    /* Answer only once the whole request is in: a response queued on the first call makes
     * libmicrohttpd close the connection ("Connection: close"). */
    ts_upload_t *up = *con_cls;
    if (up == NULL) {
        *con_cls = calloc(1, sizeof(ts_upload_t));
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        up->data = realloc(up->data, up->len + *upload_data_size + 1);
        memcpy(up->data + up->len, upload_data, *upload_data_size);
        up->len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&s->requests, 1);
    pthread_mutex_lock(&s->lock);
    snprintf(s->last_url, sizeof(s->last_url), "%s", url);
    snprintf(s->last_method, sizeof(s->last_method), "%s", method);
    ts_copy_header(conn, "User-Agent", s->last_user_agent, sizeof(s->last_user_agent));
    ts_copy_header(conn, "Host", s->last_host, sizeof(s->last_host));
    ts_copy_header(conn, "Authorization", s->last_auth, sizeof(s->last_auth));
    ts_copy_header(conn, "X-Otakit", s->last_custom, sizeof(s->last_custom));
    ts_copy_header(conn, "Accept", s->last_accept, sizeof(s->last_accept));
    ts_copy_header(conn, "Content-Length", s->last_content_length, sizeof(s->last_content_length));
    pthread_mutex_unlock(&s->lock);

    if (strcmp(url, "/file") == 0) {
        return ts_serve_file(s, conn);
    }
    if (strcmp(url, "/chunked") == 0) {
        return ts_stream(s, conn, false);
    }
    if (strcmp(url, "/drop") == 0) {
        return ts_stream(s, conn, true);
    }
    if (strcmp(url, "/redirect/301") == 0) {
        return ts_queue(conn, 301, "moved", "Location", "/file");
    }
    if (strcmp(url, "/redirect/302") == 0) {
        return ts_queue(conn, 302, "found", "Location", "/redirect/307");
    }
    if (strcmp(url, "/redirect/307") == 0) {
        char loc[64];
        snprintf(loc, sizeof(loc), "http://127.0.0.1:%u/file", (unsigned)s->port);
        return ts_queue(conn, 307, "", "Location", loc);
    }
    if (strcmp(url, "/loop") == 0) {
        atomic_fetch_add(&s->loop_requests, 1);
        return ts_queue(conn, 302, "again", "Location", "/loop");
    }
    if (strcmp(url, "/auth") == 0) {
        if (strcmp(s->last_auth, "Basic dXNlcjpwYXNz") == 0) { /* user:pass */
            return ts_queue(conn, 200, "welcome", NULL, NULL);
        }
        return ts_queue(conn, 401, "who are you", "WWW-Authenticate", "Basic realm=\"otakit\"");
    }
    if (strcmp(url, "/echo") == 0) {
        size_t n = up->len;
        struct MHD_Response *r = MHD_create_response_from_buffer(n, n > 0 ? up->data : (void *)"",
                                                                 MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    return ts_queue(conn, MHD_HTTP_NOT_FOUND, "not found", NULL, NULL);
}

static void ts_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    ts_upload_t *up = *con_cls;
    if (up != NULL) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

static void ts_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    ts_mhd_t *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
    }
}

/* Starts the server (TLS when cert_pem/key_pem are given). Returns 0 on success. */
static int ts_mhd_start(ts_mhd_t *s, const uint8_t *body, size_t body_len, const char *cert_pem,
                        const char *key_pem)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->body = body;
    s->body_len = body_len;
    s->drop_after = body_len / 3;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (cert_pem != NULL) {
        s->daemon =
            MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, ts_handler, s,
                             MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_NOTIFY_COMPLETED, ts_completed, s,
                             MHD_OPTION_NOTIFY_CONNECTION, ts_notify, s, MHD_OPTION_HTTPS_MEM_KEY,
                             key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_END);
    } else {
        s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, ts_handler, s, MHD_OPTION_SOCK_ADDR, &a,
                                     MHD_OPTION_NOTIFY_COMPLETED, ts_completed, s,
                                     MHD_OPTION_NOTIFY_CONNECTION, ts_notify, s, MHD_OPTION_END);
    }
    if (s->daemon == NULL) {
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : 0;
    return s->port != 0 ? 0 : -1;
}

static void ts_mhd_stop(ts_mhd_t *s)
{
    if (s->daemon != NULL) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
    }
    pthread_mutex_destroy(&s->lock);
}

static void ts_mhd_reset_counts(ts_mhd_t *s)
{
    atomic_store(&s->connections, 0);
    atomic_store(&s->requests, 0);
    atomic_store(&s->loop_requests, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Raw one-connection server                                                                  */

typedef enum {
    RAW_SILENT,      /* accepts, never answers */
    RAW_STALL_BODY,  /* headers + part of the body, then silence */
    RAW_PARTIAL_FIN, /* headers + part of the body, then a clean close */
    RAW_PARTIAL_RST, /* headers + part of the body, then a reset */
} ts_raw_mode_t;

typedef struct {
    ts_raw_mode_t mode;
    int listen_fd;
    int stop[2];
    uint16_t port;
    pthread_t thread;
    size_t announced; /* Content-Length sent */
    size_t sent;      /* body bytes actually sent */
    const uint8_t *body;
} ts_raw_t;

/* Waits until fd is readable or the stop pipe fires; returns false on stop. */
static bool ts_raw_wait(ts_raw_t *r, int fd)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
    while (poll(p, 2, -1) < 0) {
        if (errno != EINTR) {
            return false;
        }
    }
    return (p[1].revents & POLLIN) == 0;
}

static void *ts_raw_main(void *arg)
{
    ts_raw_t *r = arg;
    if (!ts_raw_wait(r, r->listen_fd)) {
        return NULL;
    }
    int fd = accept(r->listen_fd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    if (r->mode != RAW_SILENT) {
        /* Read the request up to the blank line. */
        char req[4096];
        size_t have = 0;
        while (have < sizeof(req) - 1) {
            if (!ts_raw_wait(r, fd)) {
                close(fd);
                return NULL;
            }
            ssize_t n = read(fd, req + have, sizeof(req) - 1 - have);
            if (n <= 0) {
                break;
            }
            have += (size_t)n;
            req[have] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL) {
                break;
            }
        }
        char head[128];
        int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                          r->announced);
        if (write(fd, head, (size_t)hn) != hn || write(fd, r->body, r->sent) != (ssize_t)r->sent) {
            close(fd);
            return NULL;
        }
    }
    if (r->mode == RAW_PARTIAL_RST) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
        return NULL;
    }
    if (r->mode == RAW_PARTIAL_FIN) {
        shutdown(fd, SHUT_WR);
    }
    /* Keep the connection until told to stop (the client closes its end first). */
    struct pollfd p = {r->stop[0], POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(fd);
    return NULL;
}

static int ts_raw_start(ts_raw_t *r, ts_raw_mode_t mode, const uint8_t *body, size_t announced,
                        size_t sent)
{
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    r->body = body;
    r->announced = announced;
    r->sent = sent;
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(r->listen_fd, 4) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&a, &len) != 0 || pipe(r->stop) != 0) {
        return -1;
    }
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->thread, NULL, ts_raw_main, r) == 0 ? 0 : -1;
}

static void ts_raw_stop(ts_raw_t *r)
{
    if (write(r->stop[1], "x", 1) != 1) {
        return;
    }
    pthread_join(r->thread, NULL);
    close(r->stop[0]);
    close(r->stop[1]);
    close(r->listen_fd);
}

#endif /* HTTP_TEST_SERVER_H */
