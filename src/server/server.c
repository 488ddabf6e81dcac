/* The firmware server on libmicrohttpd: files of one directory over HTTP or HTTPS. */
#include "ota/ota_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "srv_http.h"
#include "srv_tls_key.h"
#include "srv_watchdog.h"

#define DEFAULT_BIND "127.0.0.1"
#define MIN_THREADS 2 /* default pool: one thread per online core, at least this many */
/* Defaults of the limits against slow clients (see ota_server_config_t). */
#define HEAD_TIMEOUT_MS 15000
#define IDLE_TIMEOUT_S 30
#define MAX_CONNECTIONS 256
#define MAX_PER_ADDRESS 32
#define BODY_BLOCK (64 * 1024)
#define REQUEST_LINE_MAX 2048
/* GnuTLS's defaults without the protocol versions before TLS 1.2 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* What the server keeps per TCP connection (MHD's socket context). */
typedef struct conn_state {
    srv_watch_t watch; /* the head deadline's entry */
    ota_server_t *srv;
    char addr[INET6_ADDRSTRLEN]; /* client address as Python prints it */
    char *target;                /* raw request target of the current request */
    const char *target_at;       /* where MHD's request line holds it (valid during the request) */
} conn_state_t;

struct ota_server {
    struct MHD_Daemon *mhd;
    char *root; /* realpath of the served directory */
    size_t root_len;
    char *cert_pem;
    char *key_pem;
    srv_tls_key_t *tls_key;           /* NULL: libmicrohttpd loads the PEM pair itself */
    ota_server_redirect_t *redirects; /* deep copy */
    size_t redirect_count;
    FILE *log;
    pthread_mutex_t log_lock;
    bool tls;
    bool no_range;
    bool chunked;
    uint64_t drop_bytes;
    uint32_t drop_count;
    uint16_t port;

    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t status[6]; /* by class: [2] = 2xx ... [5] = 5xx */
    atomic_uint_fast64_t body_bytes;
    atomic_uint_fast64_t connections;
    atomic_uint_fast64_t drops;
    atomic_uint_fast32_t drops_claimed;

    srv_watchdog_t watchdog;
};

/* One request being answered. */
typedef struct request {
    ota_server_t *srv;
    struct MHD_Connection *conn;
    conn_state_t *cs;
    const char *method;
    const char *target;
    const char *version;
    bool head;
} request_t;

/* A file body produced by a callback (chunked or dropped bodies). */
typedef struct body {
    ota_server_t *srv;
    int fd;
    uint64_t offset; /* file offset of body byte 0 */
    uint64_t length; /* body length */
    uint64_t limit;  /* body bytes after which the connection is dropped (UINT64_MAX: never) */
} body_t;

/* ---- access log ------------------------------------------------------------------------ */

static void log_line(const request_t *r, const char *message)
{
    ota_server_t *srv = r->srv;
    char when[SRV_LOG_TIME_LEN];
    char text[REQUEST_LINE_MAX];
    srv_log_time(time(NULL), when);
    srv_log_escape(message, text, sizeof(text));
    fprintf(srv->log, "%s - - [%s] %s\n", r->cs != NULL ? r->cs->addr : "-", when, text);
}

/* Logs the request line with its status, preceded by Python's error line when message is set. */
static void log_request(const request_t *r, unsigned status, const char *error_message)
{
    ota_server_t *srv = r->srv;
    if (srv->log == NULL) {
        return;
    }
    char line[REQUEST_LINE_MAX];
    pthread_mutex_lock(&srv->log_lock);
    if (error_message != NULL) {
        snprintf(line, sizeof(line), "code %u, message %s", status, error_message);
        log_line(r, line);
    }
    snprintf(line, sizeof(line), "\"%s %s %s\" %u -", r->method, r->target, r->version, status);
    log_line(r, line);
    fflush(srv->log);
    pthread_mutex_unlock(&srv->log_lock);
}

/* ---- responses ------------------------------------------------------------------------- */

/* Queues resp with status (consuming resp) and counts it. */
static enum MHD_Result queue(const request_t *r, unsigned status, struct MHD_Response *resp)
{
    if (resp == NULL) {
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    unsigned cls = status / 100;
    if (cls >= 2 && cls <= 5) {
        atomic_fetch_add(&r->srv->status[cls], 1);
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static size_t html_escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in != '\0'; in++) {
        const char *rep = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" : NULL;
        size_t len = rep != NULL ? strlen(rep) : 1;
        if (n + len >= cap) {
            break;
        }
        memcpy(out + n, rep != NULL ? rep : in, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

/* An error page; logs Python's two lines. extra_header/extra_value may be NULL. */
static enum MHD_Result send_error(const request_t *r, unsigned status, const char *reason,
                                  const char *message, const char *extra_header,
                                  const char *extra_value)
{
    char safe[256];
    char page[512];
    html_escape(message, safe, sizeof(safe));
    int len = snprintf(page, sizeof(page),
                       "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
                       "<title>%u %s</title></head>\n<body>\n<h1>%u %s</h1>\n<p>%s.</p>\n"
                       "</body>\n</html>\n",
                       status, reason, status, reason, safe);
    size_t size = len < 0 ? 0 : (size_t)len >= sizeof(page) ? sizeof(page) - 1 : (size_t)len;
    log_request(r, status, message);
    struct MHD_Response *resp = MHD_create_response_from_buffer(size, page, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html;charset=utf-8");
        if (extra_header != NULL) {
            MHD_add_response_header(resp, extra_header, extra_value);
        }
    }
    return queue(r, status, resp);
}

static enum MHD_Result send_not_found(const request_t *r)
{
    return send_error(r, MHD_HTTP_NOT_FOUND, "Not Found", "File not found", NULL, NULL);
}

static enum MHD_Result send_redirect(const request_t *r, const char *url)
{
    log_request(r, MHD_HTTP_FOUND, NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, url);
    }
    return queue(r, MHD_HTTP_FOUND, resp);
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    body_t *b = cls;
    if (pos >= b->limit) {
        atomic_fetch_add(&b->srv->drops, 1);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (pos >= b->length) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    uint64_t want = b->length - pos;
    if (b->limit - pos < want) {
        want = b->limit - pos;
    }
    if (want > max) {
        want = max;
    }
    ssize_t got;
    do {
        got = pread(b->fd, buf, (size_t)want, (off_t)(b->offset + pos));
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the file shrank or cannot be read */
    }
    atomic_fetch_add(&b->srv->body_bytes, (uint64_t)got);
    return got;
}

static void body_free(void *cls)
{
    body_t *b = cls;
    close(b->fd);
    free(b);
}

/* True when this body is one of the first drop_count bodies longer than drop_bytes. */
static bool claim_drop(ota_server_t *srv, uint64_t length)
{
    if (srv->drop_count == 0 || length <= srv->drop_bytes) {
        return false;
    }
    uint_fast32_t n = atomic_load(&srv->drops_claimed);
    while (n < srv->drop_count) {
        if (atomic_compare_exchange_weak(&srv->drops_claimed, &n, n + 1)) {
            return true;
        }
    }
    return false;
}

/*
 * A response for [offset, offset + length) of fd; takes ownership of fd. Bodies are read with
 * pread rather than sent with sendfile: a file that shrinks under a download then ends the
 * response with an error, and MHD closes the connection at once instead of waiting on a
 * sendfile that makes no progress until the idle timeout.
 */
static struct MHD_Response *file_response(const request_t *r, int fd, uint64_t offset,
                                          uint64_t length)
{
    ota_server_t *srv = r->srv;
    bool drop = !r->head && claim_drop(srv, length);
    body_t *b = malloc(sizeof(*b));
    if (b == NULL) {
        close(fd);
        return NULL;
    }
    *b = (body_t){.srv = srv,
                  .fd = fd,
                  .offset = offset,
                  .length = length,
                  .limit = drop ? srv->drop_bytes : UINT64_MAX};
    uint64_t size = srv->chunked ? MHD_SIZE_UNKNOWN : length;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(size, BODY_BLOCK, body_read, b, body_free);
    if (resp == NULL) {
        body_free(b);
    }
    return resp;
}

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot != NULL && strchr(dot, '/') == NULL &&
        (strcasecmp(dot, ".txt") == 0 || strcasecmp(dot, ".pem") == 0)) {
        return "text/plain";
    }
    return "application/octet-stream";
}

/* ---- files ----------------------------------------------------------------------------- */

/* Opens the regular file for a decoded request path, only inside the root. -1 when not found.
 * The open never blocks (a FIFO would hold the worker until a writer came): anything but a
 * regular file is closed again and is not found. */
static int open_inside(const ota_server_t *srv, const char *path, struct stat *st)
{
    char full[PATH_MAX];
    int n = snprintf(full, sizeof(full), "%s%s", srv->root, path);
    if (n < 0 || (size_t)n >= sizeof(full)) {
        return -1;
    }
    char *real = realpath(full, NULL);
    if (real == NULL) {
        return -1;
    }
    bool inside = strncmp(real, srv->root, srv->root_len) == 0 &&
                  (real[srv->root_len] == '/' || (srv->root_len == 1 && real[1] != '\0'));
    /* stat first so a device is never opened; fstat again for what was really opened */
    bool regular = inside && stat(real, st) == 0 && S_ISREG(st->st_mode);
    int fd = regular ? open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) : -1;
    free(real);
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
                    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* If-Range: the current ETag, or the exact Last-Modified date of a file at least 1 s old. */
static bool if_range_holds(const char *value, const char *etag, const struct stat *st)
{
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    if (value[0] == '"' || strncmp(value, "W/", 2) == 0) {
        size_t n = strlen(etag);
        const char *end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        return (size_t)(end - value) == n && memcmp(value, etag, n) == 0;
    }
    time_t t;
    return srv_http_date_parse(value, &t) && t == st->st_mtim.tv_sec &&
           st->st_mtim.tv_sec < time(NULL);
}

static const char *header(const request_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void add_validators(const ota_server_t *srv, struct MHD_Response *resp, const char *etag,
                           const char *modified)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    if (!srv->no_range) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    }
}

static enum MHD_Result serve_file(const request_t *r, const char *path)
{
    ota_server_t *srv = r->srv;
    struct stat st;
    int fd = open_inside(srv, path, &st);
    if (fd < 0) {
        return send_not_found(r);
    }
    uint64_t size = (uint64_t)st.st_size;
    char etag[SRV_ETAG_LEN];
    char modified[SRV_HTTP_DATE_LEN];
    srv_etag(&st, etag);
    srv_http_date(st.st_mtim.tv_sec, modified);

    /* Conditional GET: If-None-Match first; If-Modified-Since only without it (as Python). */
    const char *inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims = header(r, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    time_t since;
    bool not_modified =
        inm != NULL ? !srv->no_range && srv_etag_list_matches(inm, etag)
                    : ims != NULL && srv_http_date_parse(ims, &since) && st.st_mtim.tv_sec <= since;
    if (not_modified) {
        close(fd);
        log_request(r, MHD_HTTP_NOT_MODIFIED, NULL);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp != NULL) {
            add_validators(srv, resp, etag, modified);
        }
        return queue(r, MHD_HTTP_NOT_MODIFIED, resp);
    }

    srv_range_t range = SRV_RANGE_IGNORE;
    uint64_t first = 0;
    uint64_t last = 0;
    const char *range_value = header(r, MHD_HTTP_HEADER_RANGE);
    if (!r->head && !srv->no_range && range_value != NULL) {
        const char *if_range = header(r, MHD_HTTP_HEADER_IF_RANGE);
        if (if_range == NULL || if_range_holds(if_range, etag, &st)) {
            range = srv_range_parse(range_value, size, &first, &last);
        }
    }
    if (range == SRV_RANGE_UNSATISFIED) {
        close(fd);
        char unsatisfied[48];
        snprintf(unsatisfied, sizeof(unsatisfied), "bytes */%llu", (unsigned long long)size);
        return send_error(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, "Range Not Satisfiable",
                          "Requested Range Not Satisfiable", MHD_HTTP_HEADER_CONTENT_RANGE,
                          unsatisfied);
    }
    unsigned status = range == SRV_RANGE_OK ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
    uint64_t offset = range == SRV_RANGE_OK ? first : 0;
    uint64_t length = range == SRV_RANGE_OK ? last - first + 1 : size;
    log_request(r, status, NULL);
    struct MHD_Response *resp = file_response(r, fd, offset, length);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
    add_validators(srv, resp, etag, modified);
    if (!srv->no_range) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    }
    if (range == SRV_RANGE_OK) {
        char content_range[80];
        snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)first, (unsigned long long)last, (unsigned long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    }
    return queue(r, status, resp);
}

/* ---- request checks -------------------------------------------------------------------- */

/* What the framing headers of a request say. */
typedef struct framing {
    unsigned lengths;       /* Content-Length fields */
    bool lengths_differ;    /* ...with different values */
    const char *length;     /* the first one */
    bool transfer_encoding; /* a Transfer-Encoding field */
} framing_t;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing_t *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0) {
            f->length = value;
        } else if (strcmp(f->length, value) != 0) {
            f->lengths_differ = true;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding = true;
    }
    return MHD_YES;
}

/*
 * True when the request target held a NUL byte. libmicrohttpd parses the request line in place,
 * so the version follows the target and the space between them; a target string that ends
 * before that space had a NUL inside. A request line without a version is not checked.
 */
static bool target_has_nul(const request_t *r)
{
    const conn_state_t *cs = r->cs;
    if (cs == NULL || cs->target_at == NULL || cs->target == NULL || r->version[0] == '\0') {
        return false;
    }
    uintptr_t at = (uintptr_t)cs->target_at;
    uintptr_t version = (uintptr_t)r->version;
    return version > at && version - at != strlen(cs->target) + 1;
}

/*
 * Why a request must be refused with 400 as nginx refuses it, or NULL when it may be served: a
 * NUL byte in the request target, HTTP/1.1 without Host, and framing that a proxy and this server
 * could read differently (Content-Length fields that disagree, Content-Length with
 * Transfer-Encoding).
 */
static const char *malformed(const request_t *r)
{
    if (target_has_nul(r)) {
        return "Bad request syntax (NUL byte in the request target)";
    }
    if (strcmp(r->version, MHD_HTTP_VERSION_1_1) == 0 && header(r, MHD_HTTP_HEADER_HOST) == NULL) {
        return "Bad request (HTTP/1.1 without Host)";
    }
    framing_t f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.lengths_differ) {
        return "Bad request (conflicting Content-Length)";
    }
    if (f.lengths > 0 && f.transfer_encoding) {
        return "Bad request (Content-Length with Transfer-Encoding)";
    }
    return NULL;
}

/* ---- MHD callbacks --------------------------------------------------------------------- */

static conn_state_t *conn_state_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* The request is in (head and any body): its deadline stops while it is answered. */
static void request_received(const request_t *r)
{
    if (r->cs != NULL) {
        srv_watch_head_done(&r->srv->watchdog, &r->cs->watch);
    }
}

/* The first call, head only: malformed requests and methods other than GET and HEAD are
 * answered now (and the connection closed, as Python does after an error). Answering a GET now
 * would make MHD close the connection afterwards, so its answer comes with the last call. */
static enum MHD_Result on_head(const request_t *r)
{
    atomic_fetch_add(&r->srv->requests, 1);
    const char *why = malformed(r);
    if (why != NULL) {
        request_received(r);
        return send_error(r, MHD_HTTP_BAD_REQUEST, "Bad Request", why, NULL, NULL);
    }
    if (!r->head && strcmp(r->method, "GET") != 0) {
        char message[128];
        snprintf(message, sizeof(message), "Unsupported method ('%.80s')", r->method);
        request_received(r);
        return send_error(r, MHD_HTTP_NOT_IMPLEMENTED, "Not Implemented", message, NULL, NULL);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)upload_data;
    ota_server_t *srv = cls;
    request_t r = {.srv = srv,
                   .conn = conn,
                   .cs = conn_state_of(conn),
                   .method = method,
                   .target = url,
                   .version = version,
                   .head = strcmp(method, "HEAD") == 0};
    if (r.cs != NULL && r.cs->target != NULL) {
        r.target = r.cs->target;
    }
    if (*req_cls == NULL) {
        *req_cls = srv;
        return on_head(&r);
    }
    if (*upload_data_size != 0) {
        /* a body sent with GET or HEAD: read and ignored, within the request's deadline */
        *upload_data_size = 0;
        return MHD_YES;
    }
    request_received(&r);
    char path[PATH_MAX];
    if (!srv_path_decode(url, path, sizeof(path))) {
        return send_not_found(&r);
    }
    for (size_t i = 0; i < srv->redirect_count; i++) {
        if (strcmp(path, srv->redirects[i].path) == 0) {
            return send_redirect(&r, srv->redirects[i].url);
        }
    }
    return serve_file(&r, path);
}

/* A new connection's state: the client address as Python prints it, and the head deadline
 * (a connection that cannot be watched is shut down at once). */
static conn_state_t *conn_started(ota_server_t *srv, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *fd_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn_state_t *cs = calloc(1, sizeof(*cs));
    if (cs != NULL) {
        cs->srv = srv;
    }
    if (cs == NULL || fd_info == NULL) {
        if (fd_info != NULL) {
            shutdown(fd_info->connect_fd, SHUT_RDWR);
        }
        return cs;
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;
    strcpy(cs->addr, "-");
    if (sa != NULL && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, cs->addr,
                  sizeof(cs->addr));
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, cs->addr,
                  sizeof(cs->addr));
    }
    srv_watch_add(&srv->watchdog, &cs->watch, fd_info->connect_fd);
    return cs;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    ota_server_t *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&srv->connections, 1);
        *socket_context = conn_started(srv, conn);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        /* libmicrohttpd notifies before it closes the socket, so the watchdog never shuts
         * down a descriptor that a new connection has reused */
        conn_state_t *cs = *socket_context;
        if (cs != NULL) {
            srv_watch_remove(&srv->watchdog, &cs->watch);
            free(cs->target);
            free(cs);
        }
        *socket_context = NULL;
    }
}

/* A request has been answered: the next head on this connection has its own deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ota_server_t *srv = cls;
    (void)req_cls;
    (void)toe;
    conn_state_t *cs = conn_state_of(conn);
    if (cs != NULL) {
        srv_watch_rearm(&srv->watchdog, &cs->watch);
    }
}

/* Keeps the raw request target for the access log (MHD strips the query before the handler). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    conn_state_t *cs = conn_state_of(conn);
    if (cs != NULL) {
        free(cs->target);
        cs->target = strdup(uri);
        cs->target_at = uri;
    }
    return NULL;
}

/* gnutls_certificate_retrieve_function2 (libmicrohttpd's certificate callback): the server's
 * chain and OpenSSL-signing key, found through the connection libmicrohttpd keeps as the
 * session's pointer. */
static int give_cert(gnutls_session_t session, const gnutls_datum_t *req_ca, int n_req,
                     const gnutls_pk_algorithm_t *algos, int n_algos, gnutls_pcert_st **pcert,
                     unsigned *count, gnutls_privkey_t *privkey)
{
    (void)req_ca;
    (void)n_req;
    (void)algos;
    (void)n_algos;
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    conn_state_t *cs = conn != NULL ? conn_state_of(conn) : NULL;
    if (cs == NULL || cs->srv == NULL || cs->srv->tls_key == NULL) {
        return -1;
    }
    srv_tls_key_give(cs->srv->tls_key, pcert, count, privkey);
    return 0;
}

/* Leaves the URL as received: the handler decodes it itself and refuses encoded separators. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* ---- start and stop -------------------------------------------------------------------- */

/* One pool thread per online core (more only add switches between busy threads). */
static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > MIN_THREADS ? (unsigned)(n < 64 ? n : 64) : MIN_THREADS;
}

/* Reads a whole text file into a NUL-terminated malloc'ed string. */
static int read_text(const char *path, char **out, ota_diag_t *diag)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        int e = errno;
        return ota_diag_set(diag, e == ENOENT ? OTA_ERR_NOT_FOUND : OTA_ERR_IO,
                            "%s: cannot open: %s", path, strerror(e));
    }
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    int err = OTA_OK;
    for (;;) {
        if (cap - len < 4096) {
            char *grown = cap > (1u << 20) ? NULL : realloc(buf, cap + 8192);
            if (grown == NULL) {
                err = ota_diag_set(diag, OTA_ERR_NO_MEM, "%s: too large", path);
                break;
            }
            buf = grown;
            cap += 8192;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp)) {
                err = ota_diag_set(diag, OTA_ERR_IO, "%s: read error", path);
            }
            break;
        }
    }
    fclose(fp);
    if (err != OTA_OK) {
        free(buf);
        return err;
    }
    buf[len] = '\0';
    *out = buf;
    return OTA_OK;
}

/* Checks that the PEM certificate and key parse and belong together. */
static int check_tls_pair(const ota_server_config_t *cfg, const char *cert, const char *key,
                          ota_diag_t *diag)
{
    BIO *cb = BIO_new_mem_buf(cert, -1);
    BIO *kb = BIO_new_mem_buf(key, -1);
    X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pkey = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int err = OTA_OK;
    if (cb == NULL || kb == NULL) {
        err = ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    } else if (x == NULL) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: no PEM certificate", cfg->cert_path);
    } else if (pkey == NULL) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: no PEM private key", cfg->key_path);
    } else if (X509_check_private_key(x, pkey) != 1) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT, "%s: key does not match certificate %s",
                           cfg->key_path, cfg->cert_path);
    }
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    X509_free(x);
    BIO_free(kb);
    BIO_free(cb);
    return err;
}

/* A bound, listening, non-blocking socket on addr:port; returns it or a negative ota_err_t. */
static int open_listener(const char *addr, uint16_t port, int *family, uint16_t *bound,
                         ota_diag_t *diag)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(*v6);
    } else {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%s: not a numeric IP address", addr);
    }
    *family = ss.ss_family;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return ota_diag_set(diag, OTA_ERR_NET, "socket: %s", strerror(errno));
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return ota_diag_set(diag, OTA_ERR_NET, "%s port %u: %s", addr, port, strerror(e));
    }
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        int e = errno;
        close(fd);
        return ota_diag_set(diag, OTA_ERR_NET, "getsockname: %s", strerror(e));
    }
    *bound = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    return fd;
}

/* value, or def when it is 0 (a configuration field left at zero) */
static intptr_t or_default(unsigned value, unsigned def)
{
    return (intptr_t)(value != 0 ? value : def);
}

static void server_free(ota_server_t *srv)
{
    srv_watchdog_stop(&srv->watchdog);
    for (size_t i = 0; i < srv->redirect_count; i++) {
        free((char *)srv->redirects[i].path);
        free((char *)srv->redirects[i].url);
    }
    free(srv->redirects);
    free(srv->cert_pem);
    free(srv->key_pem);
    srv_tls_key_free(srv->tls_key);
    free(srv->root);
    pthread_mutex_destroy(&srv->log_lock);
    free(srv);
}

static int copy_config(ota_server_t *srv, const ota_server_config_t *cfg, ota_diag_t *diag)
{
    srv->root = realpath(cfg->root, NULL);
    struct stat st;
    if (srv->root == NULL || stat(srv->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int e = srv->root == NULL ? errno : ENOTDIR;
        return ota_diag_set(diag, e == ENOMEM ? OTA_ERR_NO_MEM : OTA_ERR_NOT_FOUND, "%s: %s",
                            cfg->root, strerror(e));
    }
    srv->root_len = strlen(srv->root);
    if (cfg->redirect_count > 0) {
        srv->redirects = calloc(cfg->redirect_count, sizeof(*srv->redirects));
        if (srv->redirects == NULL) {
            return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
        }
    }
    for (size_t i = 0; i < cfg->redirect_count; i++) {
        const ota_server_redirect_t *in = &cfg->redirects[i];
        if (in->path == NULL || in->url == NULL) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "redirect %zu: path and URL needed", i);
        }
        srv->redirects[i].path = strdup(in->path);
        srv->redirects[i].url = strdup(in->url);
        srv->redirect_count = i + 1;
        if (srv->redirects[i].path == NULL || srv->redirects[i].url == NULL) {
            return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
        }
    }
    if ((cfg->cert_path == NULL) != (cfg->key_path == NULL)) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "HTTPS needs both a certificate and a key");
    }
    if (cfg->cert_path != NULL) {
        int err = read_text(cfg->cert_path, &srv->cert_pem, diag);
        if (err == OTA_OK) {
            err = read_text(cfg->key_path, &srv->key_pem, diag);
        }
        if (err == OTA_OK) {
            err = check_tls_pair(cfg, srv->cert_pem, srv->key_pem, diag);
        }
        if (err != OTA_OK) {
            return err;
        }
        srv->tls = true;
    }
    srv->log = cfg->access_log;
    srv->no_range = cfg->no_range;
    srv->chunked = cfg->chunked;
    srv->drop_bytes = cfg->drop_after_bytes;
    srv->drop_count = cfg->drop_after_count;
    return OTA_OK;
}

int ota_server_start(const ota_server_config_t *cfg, ota_server_t **out, ota_diag_t *diag)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (cfg == NULL || out == NULL || cfg->root == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "a root directory is required");
    }
    ota_server_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    pthread_mutex_init(&srv->log_lock, NULL);
    int err = copy_config(srv, cfg, diag);
    if (err != OTA_OK) {
        server_free(srv);
        return err;
    }
    tzset();
    int family = AF_INET;
    const char *addr = cfg->bind_addr != NULL ? cfg->bind_addr : DEFAULT_BIND;
    int fd = open_listener(addr, cfg->port, &family, &srv->port, diag);
    if (fd < 0) {
        server_free(srv);
        return fd;
    }
    /* poll(2), not epoll: with TLS, libmicrohttpd 0.9.75's epoll loop calls gnutls_handshake
     * about 40 times per handshake, which costs 1.5 ms of CPU more per connection */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD;
    if (family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (srv->tls) {
        flags |= MHD_USE_TLS;
        srv->tls_key = srv_tls_key_load(srv->cert_pem, srv->key_pem);
    } else {
        tls_options[0].option = MHD_OPTION_END;
    }
    if (srv->tls_key != NULL) {
        /* an option array carries the callback as a data pointer, as libmicrohttpd reads it */
        gnutls_certificate_retrieve_function2 *fn = give_cert;
        _Static_assert(sizeof(fn) == sizeof(void *), "function pointers fit a data pointer");
        tls_options[1].option = MHD_OPTION_HTTPS_CERT_CALLBACK;
        memcpy(&tls_options[1].ptr_value, &fn, sizeof(fn));
        tls_options[2].option = MHD_OPTION_END;
    }
    unsigned threads = cfg->threads != 0 ? cfg->threads : default_threads();
    unsigned head_ms = cfg->head_timeout_ms != 0 ? cfg->head_timeout_ms : HEAD_TIMEOUT_MS;
    struct MHD_OptionItem limits[] = {
        {MHD_OPTION_CONNECTION_TIMEOUT, or_default(cfg->idle_timeout_s, IDLE_TIMEOUT_S), NULL},
        {MHD_OPTION_CONNECTION_LIMIT, or_default(cfg->max_connections, MAX_CONNECTIONS), NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, or_default(cfg->max_per_address, MAX_PER_ADDRESS),
         NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (srv_watchdog_start(&srv->watchdog, head_ms) != 0) {
        close(fd);
        server_free(srv);
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "cannot start the server's watchdog thread");
    }
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv, MHD_OPTION_ARRAY, limits, MHD_OPTION_ARRAY,
        tls_options, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        /* MHD closes a listen socket it was given when it fails to start (libmicrohttpd
         * 0.9.75 aborts the process if it is already closed), so fd is not closed here. */
        server_free(srv);
        return ota_diag_set(diag, OTA_ERR_NET, "%s port %u: the HTTP daemon did not start", addr,
                            cfg->port);
    }
    *out = srv;
    return OTA_OK;
}

uint16_t ota_server_port(const ota_server_t *srv)
{
    return srv != NULL ? srv->port : 0;
}

bool ota_server_is_tls(const ota_server_t *srv)
{
    return srv != NULL && srv->tls;
}

void ota_server_stats(const ota_server_t *srv, ota_server_stats_t *stats)
{
    ota_server_t *s = (ota_server_t *)srv; /* atomics are read-only here */
    memset(stats, 0, sizeof(*stats));
    if (s == NULL) {
        return;
    }
    stats->requests = atomic_load(&s->requests);
    stats->status_2xx = atomic_load(&s->status[2]);
    stats->status_3xx = atomic_load(&s->status[3]);
    stats->status_4xx = atomic_load(&s->status[4]);
    stats->status_5xx = atomic_load(&s->status[5]);
    stats->body_bytes = atomic_load(&s->body_bytes);
    stats->connections = atomic_load(&s->connections);
    stats->drops = atomic_load(&s->drops);
}

void ota_server_stop(ota_server_t *srv, ota_server_stats_t *final_stats)
{
    if (srv == NULL) {
        if (final_stats != NULL) {
            memset(final_stats, 0, sizeof(*final_stats));
        }
        return;
    }
    MHD_stop_daemon(srv->mhd);
    if (final_stats != NULL) {
        ota_server_stats(srv, final_stats);
    }
    server_free(srv);
}
