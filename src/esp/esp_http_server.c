/*
 * ESP-IDF's HTTP server on libmicrohttpd: the server, its handler table and thread, and the
 * connection side of each request (see httpd_priv.h for how the two sides meet).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_log.h"
#include "httpd_priv.h"

/* ---- shared helpers ------------------------------------------------------------------------ */

struct timespec httpd_deadline(unsigned timeout_s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)timeout_s;
    return t;
}

bool httpd_wait(httpd_srv_t *srv, const struct timespec *deadline)
{
    if (deadline == NULL) {
        pthread_cond_wait(&srv->cv, &srv->mu);
        return true;
    }
    return pthread_cond_timedwait(&srv->cv, &srv->mu, deadline) != ETIMEDOUT;
}

static void free_hdrs(httpd_hdr_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

void httpd_rq_release(httpd_rq_t *rq)
{
    if (--rq->refs > 0) {
        return;
    }
    if (rq->req.sess_ctx != NULL) {
        (rq->req.free_ctx != NULL ? rq->req.free_ctx : free)(rq->req.sess_ctx);
    }
    free_hdrs(rq->hdrs, rq->n_hdrs);
    free(rq->resp_hdrs);
    free(rq->body);
    free(rq);
}

/* ---- handler table ------------------------------------------------------------------------- */

static bool path_match(const httpd_srv_t *srv, const char *tpl, const char *path, size_t len)
{
    if (srv->cfg.uri_match_fn != NULL) {
        return srv->cfg.uri_match_fn(tpl, path, len);
    }
    return strlen(tpl) == len && strncmp(tpl, path, len) == 0;
}

/* The handler for path (len bytes) and method; *path_known tells whether any method has one.
 * Lock held. */
static const httpd_uri_t *find_handler(const httpd_srv_t *srv, const char *path, size_t len,
                                       int method, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < srv->n_uris; i++) {
        const httpd_uri_t *u = &srv->uris[i];
        if (path_match(srv, u->uri, path, len)) {
            *path_known = true;
            if ((int)u->method == method || (int)u->method == HTTP_ANY) {
                return u;
            }
        }
    }
    return NULL;
}

esp_err_t httpd_register_uri_handler(httpd_handle_t handle, const httpd_uri_t *uri_handler)
{
    httpd_srv_t *srv = handle;
    if (srv == NULL || uri_handler == NULL || uri_handler->uri == NULL ||
        uri_handler->handler == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t ret = ESP_OK;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->n_uris && ret == ESP_OK; i++) {
        if (srv->uris[i].method == uri_handler->method &&
            strcmp(srv->uris[i].uri, uri_handler->uri) == 0) {
            ret = ESP_ERR_HTTPD_HANDLER_EXISTS;
        }
    }
    if (ret == ESP_OK && srv->n_uris >= srv->cfg.max_uri_handlers) {
        ret = ESP_ERR_HTTPD_HANDLERS_FULL;
    }
    char *copy = ret == ESP_OK ? strdup(uri_handler->uri) : NULL;
    if (ret == ESP_OK && copy == NULL) {
        ret = ESP_ERR_HTTPD_ALLOC_MEM;
    }
    if (ret == ESP_OK) {
        srv->uris[srv->n_uris] = *uri_handler;
        srv->uris[srv->n_uris++].uri = copy;
    }
    pthread_mutex_unlock(&srv->mu);
    return ret;
}

/* Removes the handlers of uri (of method, or of any when any_method). */
static esp_err_t unregister(httpd_srv_t *srv, const char *uri, int method, bool any_method)
{
    if (srv == NULL || uri == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t ret = ESP_ERR_NOT_FOUND;
    pthread_mutex_lock(&srv->mu);
    size_t kept = 0;
    for (size_t i = 0; i < srv->n_uris; i++) {
        httpd_uri_t *u = &srv->uris[i];
        if (strcmp(u->uri, uri) == 0 && (any_method || (int)u->method == method)) {
            free((char *)u->uri);
            ret = ESP_OK;
        } else {
            srv->uris[kept++] = *u;
        }
    }
    srv->n_uris = kept;
    pthread_mutex_unlock(&srv->mu);
    return ret;
}

esp_err_t httpd_unregister_uri_handler(httpd_handle_t handle, const char *uri,
                                       httpd_method_t method)
{
    return unregister(handle, uri, (int)method, false);
}

esp_err_t httpd_unregister_uri(httpd_handle_t handle, const char *uri)
{
    return unregister(handle, uri, 0, true);
}

bool httpd_uri_match_wildcard(const char *uri_template, const char *uri_to_match, size_t match_upto)
{
    size_t tl = strlen(uri_template);
    const char *t = uri_template;
    bool star = tl > 0 && (t[tl - 1] == '*' || (tl > 1 && t[tl - 1] == '?' && t[tl - 2] == '*'));
    bool quest = tl > 0 && (t[tl - 1] == '?' || (tl > 1 && t[tl - 1] == '*' && t[tl - 2] == '?'));
    size_t core = tl - (size_t)star - (size_t)quest; /* template without its markers */
    if (!quest) {
        return match_upto >= core && strncmp(t, uri_to_match, core) == 0 &&
               (star || match_upto == core);
    }
    if (core == 0) {
        return false;
    }
    size_t prefix = core - 1; /* t[prefix] is the optional character */
    if (match_upto < prefix || strncmp(t, uri_to_match, prefix) != 0) {
        return false;
    }
    if (match_upto == prefix) {
        return true;
    }
    return uri_to_match[prefix] == t[prefix] && (star || match_upto == prefix + 1);
}

/* ---- handler thread ------------------------------------------------------------------------ */

/* Runs queued requests one at a time, as ESP-IDF's server task does. */
static void *handler_task(void *arg)
{
    httpd_srv_t *srv = arg;
    pthread_mutex_lock(&srv->mu);
    for (;;) {
        while (srv->head == NULL && !srv->stopping) {
            httpd_wait(srv, NULL);
        }
        httpd_rq_t *rq = srv->head;
        if (rq == NULL) {
            break;
        }
        srv->head = rq->next;
        if (srv->head == NULL) {
            srv->tail = NULL;
        }
        esp_err_t result = ESP_FAIL;
        if (!rq->closed && !srv->stopping) {
            pthread_mutex_unlock(&srv->mu);
            result = rq->handler.handler(&rq->req);
            pthread_mutex_lock(&srv->mu);
        }
        rq->result = result;
        rq->done = true;
        pthread_cond_broadcast(&srv->cv);
        httpd_rq_release(rq);
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* ---- connection side ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    int method;
} k_methods[] = {
    {"DELETE", HTTP_DELETE},   {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},
    {"POST", HTTP_POST},       {"PUT", HTTP_PUT},     {"CONNECT", HTTP_CONNECT},
    {"OPTIONS", HTTP_OPTIONS}, {"TRACE", HTTP_TRACE}, {"PATCH", HTTP_PATCH},
};

static int method_number(const char *name)
{
    for (size_t i = 0; i < sizeof(k_methods) / sizeof(k_methods[0]); i++) {
        if (strcmp(k_methods[i].name, name) == 0) {
            return k_methods[i].method;
        }
    }
    return -2; /* no handler can match */
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request record starts with the URI as received. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    httpd_srv_t *srv = cls;
    httpd_rq_t *rq = calloc(1, sizeof(*rq));
    if (rq == NULL) {
        return NULL;
    }
    rq->srv = srv;
    rq->refs = 1;
    rq->req.handle = srv;
    rq->req.aux = rq;
    size_t len = strlen(uri);
    rq->too_long = len > srv->cfg.max_uri_len || len > HTTPD_MAX_URI_LEN;
    if (!rq->too_long) {
        memcpy((char *)rq->req.uri, uri, len + 1);
    }
    return rq;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    httpd_rq_t *rq = cls;
    httpd_hdr_t *h = realloc(rq->hdrs, (rq->n_hdrs + 1) * sizeof(*h));
    if (h == NULL) {
        return MHD_NO;
    }
    rq->hdrs = h;
    h[rq->n_hdrs].name = strdup(key);
    h[rq->n_hdrs].value = strdup(value != NULL ? value : "");
    rq->n_hdrs++;
    return MHD_YES;
}

static const char k_404[] = "Nothing matches the given URI";
static const char k_405[] = "Specified method is invalid for this resource";

/* Queues a whole response of status with body text (text/html), after which the connection
 * closes, as ESP-IDF closes it after the errors it answers itself. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/html");
    MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* First call: headers are in. Finds the handler and queues the request, or answers 404 / 405 /
 * 414 at once. */
static enum MHD_Result start_request(httpd_rq_t *rq, struct MHD_Connection *conn,
                                     const char *method)
{
    httpd_srv_t *srv = rq->srv;
    rq->started = true;
    if (rq->too_long) {
        return answer(conn, 414, "URI is too long");
    }
    rq->req.method = method_number(method);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, rq);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    rq->req.content_len = cl != NULL ? (size_t)strtoull(cl, NULL, 10) : 0;
    rq->remaining = rq->req.content_len;
    size_t path_len = strcspn(rq->req.uri, "?");
    bool known = false;
    pthread_mutex_lock(&srv->mu);
    const httpd_uri_t *h = find_handler(srv, rq->req.uri, path_len, rq->req.method, &known);
    if (h != NULL) {
        rq->handler = *h;
        rq->req.user_ctx = h->user_ctx;
        rq->refs++;
        if (srv->tail != NULL) {
            srv->tail->next = rq;
        } else {
            srv->head = rq;
        }
        srv->tail = rq;
        pthread_cond_broadcast(&srv->cv);
    }
    pthread_mutex_unlock(&srv->mu);
    if (h != NULL) {
        return MHD_YES;
    }
    if (known) {
        ESP_LOGW("httpd_uri", "httpd_uri: Method '%d' not allowed for URI '%s'", rq->req.method,
                 rq->req.uri);
        ESP_LOGW("httpd_txrx", "httpd_resp_send_err: 405 Method Not Allowed - %s", k_405);
        return answer(conn, 405, k_405);
    }
    ESP_LOGW("httpd_uri", "httpd_uri: URI '%s' not found", rq->req.uri);
    ESP_LOGW("httpd_txrx", "httpd_resp_send_err: 404 Not Found - %s", k_404);
    return answer(conn, 404, k_404);
}

/* Offers body bytes to the handler and waits until it took them all, started its response
 * (the rest of the body is then dropped) or returned. */
static void feed_body(httpd_rq_t *rq, const char *data, size_t len)
{
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    rq->chunk = data;
    rq->chunk_len = len;
    pthread_cond_broadcast(&srv->cv);
    while (rq->chunk_len > 0 && rq->mode == RESP_NONE && !rq->done && !srv->stopping) {
        httpd_wait(srv, NULL);
    }
    rq->chunk = NULL;
    rq->chunk_len = 0;
    pthread_mutex_unlock(&srv->mu);
}

/* libmicrohttpd pulls a chunked response's bytes from the handler's stream. */
static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    httpd_rq_t *rq = cls;
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    while (rq->body_len == 0 && !rq->stream_end && !rq->done && !srv->stopping) {
        httpd_wait(srv, NULL);
    }
    ssize_t n;
    if (rq->body_len > 0) {
        size_t k = rq->body_len < max ? rq->body_len : max;
        memcpy(buf, rq->body, k);
        memmove(rq->body, rq->body + k, rq->body_len - k);
        rq->body_len -= k;
        n = (ssize_t)k;
        pthread_cond_broadcast(&srv->cv);
    } else {
        n = rq->stream_end ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

static void release_locked(void *cls)
{
    httpd_rq_t *rq = cls;
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    httpd_rq_release(rq);
    pthread_mutex_unlock(&srv->mu);
}

/* The response the handler started, as libmicrohttpd's (NULL when it sent none). Lock held. */
static struct MHD_Response *make_response(httpd_rq_t *rq)
{
    struct MHD_Response *r = NULL;
    if (rq->mode == RESP_FULL) {
        r = MHD_create_response_from_buffer(rq->body_len, rq->body, MHD_RESPMEM_MUST_COPY);
    } else if (rq->mode == RESP_STREAM) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, rq,
                                              release_locked);
        if (r != NULL) {
            rq->refs++; /* the stream reader's */
        }
    }
    if (r == NULL) {
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", rq->type != NULL ? rq->type : HTTPD_TYPE_TEXT);
    for (size_t i = 0; i < rq->n_resp_hdrs; i++) {
        MHD_add_response_header(r, rq->resp_hdrs[i].name, rq->resp_hdrs[i].value);
    }
    return r;
}

/* Last call: the body is complete. Waits for the handler's response and queues it; no
 * response (the handler failed before sending one) closes the connection, as ESP-IDF does. */
static enum MHD_Result finish_request(httpd_rq_t *rq, struct MHD_Connection *conn)
{
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    rq->body_end = true;
    pthread_cond_broadcast(&srv->cv);
    while (rq->mode == RESP_NONE && !rq->done && !srv->stopping) {
        httpd_wait(srv, NULL);
    }
    unsigned status = rq->status != NULL ? (unsigned)strtoul(rq->status, NULL, 10) : 200;
    struct MHD_Response *r = srv->stopping ? NULL : make_response(rq);
    pthread_mutex_unlock(&srv->mu);
    if (r == NULL) {
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    httpd_rq_t *rq = *con_cls;
    if (rq == NULL) {
        return MHD_NO;
    }
    if (!rq->started) {
        return start_request(rq, conn, method);
    }
    if (*upload_data_size > 0) {
        feed_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish_request(rq, conn);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the connection side lets the request go. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    httpd_srv_t *srv = cls;
    httpd_rq_t *rq = *con_cls;
    if (rq == NULL) {
        return;
    }
    pthread_mutex_lock(&srv->mu);
    rq->closed = true;
    pthread_cond_broadcast(&srv->cv);
    httpd_rq_release(rq);
    pthread_mutex_unlock(&srv->mu);
    *con_cls = NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

/* Keeps the URI as received: handlers match and see it undecoded, as in ESP-IDF. */
static size_t keep_raw(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* A listening socket on 127.0.0.1:port (0: any free port); sets *bound. -1 on failure. */
static int listen_socket(uint16_t port, int backlog, uint16_t *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

static void free_server(httpd_srv_t *srv)
{
    for (size_t i = 0; i < srv->n_uris; i++) {
        free((char *)srv->uris[i].uri);
    }
    free(srv->uris);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}

static httpd_srv_t *new_server(const httpd_config_t *config)
{
    httpd_srv_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return NULL;
    }
    srv->cfg = *config;
    srv->uris = calloc(config->max_uri_handlers, sizeof(*srv->uris));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&srv->mu, NULL);
    if (srv->uris == NULL) {
        free_server(srv);
        return NULL;
    }
    return srv;
}

static struct MHD_Daemon *start_daemon(httpd_srv_t *srv, int fd)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
                            (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)srv->cfg.max_open_sockets, MHD_OPTION_URI_LOG_CALLBACK,
                            on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                            MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, srv, MHD_OPTION_END);
}

esp_err_t httpd_start(httpd_handle_t *handle, const httpd_config_t *config)
{
    if (handle == NULL || config == NULL || config->open_fn != NULL || config->close_fn != NULL ||
        config->max_uri_handlers == 0 || config->max_open_sockets == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    httpd_srv_t *srv = new_server(config);
    if (srv == NULL) {
        return ESP_ERR_HTTPD_ALLOC_MEM;
    }
    int fd = listen_socket(config->server_port, config->backlog_conn > 0 ? config->backlog_conn : 5,
                           &srv->port);
    if (fd < 0) {
        free_server(srv);
        return ESP_ERR_HTTPD_TASK;
    }
    if (pthread_create(&srv->task, NULL, handler_task, srv) != 0) {
        close(fd);
        free_server(srv);
        return ESP_ERR_HTTPD_TASK;
    }
    srv->mhd = start_daemon(srv, fd);
    if (srv->mhd == NULL) {
        close(fd);
        httpd_stop(srv);
        return ESP_ERR_HTTPD_TASK;
    }
    *handle = srv;
    return ESP_OK;
}

esp_err_t httpd_stop(httpd_handle_t handle)
{
    httpd_srv_t *srv = handle;
    if (srv == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    if (srv->mhd != NULL) {
        MHD_stop_daemon(srv->mhd);
    }
    pthread_join(srv->task, NULL);
    if (srv->cfg.global_user_ctx != NULL) {
        (srv->cfg.global_user_ctx_free_fn ? srv->cfg.global_user_ctx_free_fn
                                          : free)(srv->cfg.global_user_ctx);
    }
    if (srv->cfg.global_transport_ctx != NULL) {
        (srv->cfg.global_transport_ctx_free_fn ? srv->cfg.global_transport_ctx_free_fn
                                               : free)(srv->cfg.global_transport_ctx);
    }
    free_server(srv);
    return ESP_OK;
}

uint16_t httpd_get_port(httpd_handle_t handle)
{
    return handle != NULL ? ((httpd_srv_t *)handle)->port : 0;
}

void *httpd_get_global_user_ctx(httpd_handle_t handle)
{
    return handle != NULL ? ((httpd_srv_t *)handle)->cfg.global_user_ctx : NULL;
}
