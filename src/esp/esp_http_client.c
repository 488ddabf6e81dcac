/*
 * ESP-IDF esp_http_client on libcurl's multi interface.
 *
 * One client = one easy handle + one multi handle (the multi owns the connection cache, so
 * dropping the multi closes the client's connections). Calls that wait (open, fetch_headers,
 * read, write, perform) run curl_multi_perform/curl_multi_poll until the condition they need
 * holds, the transfer ends, or timeout_ms passes without progress.
 *
 * Response body bytes go to a bounded receive buffer; when a delivery does not fit, the write
 * callback returns CURL_WRITEFUNC_PAUSE and read() resumes the transfer once it has drained the
 * buffer. esp_http_client_perform hands the body to the event handler and never pauses.
 *
 * Request and response state follow ESP-IDF v5.5's esp_http_client.c: the same defaults, the
 * same redirect/401 loop in perform, the same "no Content-Length means chunked" rule in
 * fetch_headers, the same return values on timeouts (-ESP_ERR_HTTP_EAGAIN) and closes.
 */
#include "esp_http_client.h"
#include "esp_crt_bundle_priv.h"
#include "esp_http_client_priv.h"
#include "esp_log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

static const char *TAG = "HTTP_CLIENT";
static const char *TAG_TLS = "esp-tls";
static const char *TAG_MBEDTLS = "esp-tls-mbedtls";
static const char *TAG_TRANSPORT = "transport_base";

#define DEFAULT_HTTP_PORT 80
#define DEFAULT_HTTPS_PORT 443
#define DEFAULT_MAX_REDIRECT 10
#define DEFAULT_MAX_AUTH_RETRIES 10
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_KEEP_ALIVE_IDLE 5
#define DEFAULT_KEEP_ALIVE_INTERVAL 5
#define DEFAULT_HTTP_USER_AGENT "ESP32 HTTP Client/1.0"
#define MIN_RX_CHUNK 1024         /* libcurl's smallest receive buffer */
#define MAX_RX_CHUNK (512 * 1024) /* libcurl's largest receive buffer */
#define MBEDTLS_X509_CERT_VERIFY_FAILED 0x2700
#define MBEDTLS_X509_BADCERT_EXPIRED 0x01
#define MBEDTLS_X509_BADCERT_CN_MISMATCH 0x04
#define MBEDTLS_X509_BADCERT_NOT_TRUSTED 0x08

static const char *const method_names[HTTP_METHOD_MAX] = {
    "GET",    "POST",      "PUT",         "PATCH",     "DELETE", "HEAD",
    "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "OPTIONS",   "COPY",   "MOVE",
    "LOCK",   "UNLOCK",    "PROPFIND",    "PROPPATCH", "MKCOL",  "REPORT",
};

/* Same layout as ESP-IDF's esp_tls_last_error_t: the data of ERROR/DISCONNECTED events. */
typedef struct {
    esp_err_t last_error;
    int esp_tls_error_code;
    int esp_tls_flags;
} tls_last_error_t;

typedef struct header {
    char *key;
    char *value;
    struct header *next;
} header_t;

typedef enum {
    REQ_IDLE = 0,     /* no request open */
    REQ_SENT,         /* open() sent the request headers */
    REQ_HEADERS_DONE, /* fetch_headers() has the response headers; body follows */
} req_state_t;

typedef enum { DRIVE_MET, DRIVE_DONE, DRIVE_TIMEOUT } drive_result_t;

struct esp_http_client {
    /* Request configuration. */
    char *scheme;
    char *host;
    int port;
    char *path;
    char *query;
    char *username;
    char *password;
    esp_http_client_method_t method;
    esp_http_client_auth_type_t auth_type;
    header_t *headers;
    const char *post_data;
    int post_len;
    int timeout_ms;
    int buffer_size_rx;
    int buffer_size_tx;
    int max_redirection_count;
    int max_authorization_retries;
    int redirect_counter;
    bool disable_auto_redirect;
    bool keep_alive_enable;
    int keep_alive_idle;
    int keep_alive_interval;
    http_event_handle_cb event_handler;
    void *user_data;

    /* TLS configuration (certificate buffers belong to the caller). */
    const char *cert;
    size_t cert_len;
    const char *client_cert;
    size_t client_cert_len;
    const char *client_key;
    size_t client_key_len;
    char *client_key_password;
    char *common_name;
    bool skip_cn;
    bool use_global_ca_store;
    bool session_cache;
    esp_http_client_proto_ver_t tls_version;
    esp_err_t (*crt_bundle_attach)(void *conf);
    bool use_bundle;
    char *cert_pem_copy; /* PEM form of a DER cert_pem */

    /* libcurl. */
    CURL *easy;
    CURLM *multi;
    struct curl_slist *req_headers;
    bool attached; /* easy is in multi */
    unsigned transfers; /* transfers started on easy */
    CURLSH *share;      /* TLS sessions kept across the easy handles (save_client_session) */
    bool done;     /* the transfer ended */
    CURLcode result;
    long os_errno;
    char errbuf[CURL_ERROR_SIZE];
    int last_fd;
    bool new_socket;   /* a socket was opened for this request */
    bool connected;    /* the connection is up (pre-request callback ran) */
    bool headers_sent; /* the request headers went out */
    unsigned progress; /* bumped by every callback that moves data */

    /* Current request and response. */
    req_state_t state;
    bool perform_mode; /* body to the event handler only */
    bool process_again;
    const char *tx_data;
    size_t tx_left;
    int64_t tx_remaining;
    bool tx_paused;
    int status_code;
    int http_major;
    int http_minor;
    int64_t content_length;
    int64_t data_process;
    bool is_chunked;
    bool te_chunked; /* Transfer-Encoding: chunked was received */
    bool is_chunk_complete;
    bool headers_done;
    bool conn_close;
    bool conn_keep_alive;
    char *location;
    char *auth_header;

    /* Receive buffer: rx_len bytes at rx + rx_off. */
    char *rx;
    size_t rx_cap;
    size_t rx_off;
    size_t rx_len;
    bool rx_paused;

    bool initialized; /* init completed: close() fires HTTP_EVENT_DISCONNECTED */

    /* Errors. */
    int sock_errno;
    tls_last_error_t tls_err;
    esp_http_client_event_t event;
};

typedef struct esp_http_client esp_http_client_t;

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                               */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void curl_global_release(void)
{
    curl_global_cleanup();
}

/* libcurl's global state: initialised once per process (pthread_once), released at exit. */
static void curl_global_setup(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        curl_ready = true;
        atexit(curl_global_release);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replaces *dst with a copy of len bytes of src (len < 0: strlen). Returns false on no memory. */
static bool assign_str(char **dst, const char *src, int len)
{
    char *copy = NULL;
    if (src != NULL) {
        size_t n = len < 0 ? strlen(src) : (size_t)len;
        copy = malloc(n + 1);
        if (copy == NULL) {
            return false;
        }
        memcpy(copy, src, n);
        copy[n] = '\0';
    }
    free(*dst);
    *dst = copy;
    return true;
}

/* Appends len bytes of src to *dst (as ESP-IDF's http_utils_append_string). */
static bool append_str(char **dst, const char *src, size_t len)
{
    size_t old = *dst != NULL ? strlen(*dst) : 0;
    char *grown = realloc(*dst, old + len + 1);
    if (grown == NULL) {
        return false;
    }
    memcpy(grown + old, src, len);
    grown[old + len] = '\0';
    *dst = grown;
    return true;
}

static void free_secret(char **s)
{
    if (*s != NULL) {
        memset(*s, 0, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

static esp_err_t dispatch(esp_http_client_t *c, esp_http_client_event_id_t id, void *data, int len)
{
    if (c->event_handler == NULL) {
        return ESP_OK;
    }
    c->event.event_id = id;
    c->event.client = c;
    c->event.user_data = c->user_data;
    c->event.data = data;
    c->event.data_len = len;
    return c->event_handler(&c->event);
}

/* ---------------------------------------------------------------------------------------- */
/* Request headers                                                                             */

static header_t *header_find(const esp_http_client_t *c, const char *key)
{
    for (header_t *h = c->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->key, key) == 0) {
            return h;
        }
    }
    return NULL;
}

static esp_err_t header_set(esp_http_client_t *c, const char *key, const char *value)
{
    header_t *h = header_find(c, key);
    if (h != NULL) {
        return assign_str(&h->value, value, -1) ? ESP_OK : ESP_ERR_NO_MEM;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL || !assign_str(&h->key, key, -1) || !assign_str(&h->value, value, -1)) {
        if (h != NULL) {
            free(h->key);
            free(h);
        }
        return ESP_ERR_NO_MEM;
    }
    header_t **tail = &c->headers;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = h;
    return ESP_OK;
}

static void header_delete(esp_http_client_t *c, const char *key)
{
    for (header_t **p = &c->headers; *p != NULL; p = &(*p)->next) {
        if (strcasecmp((*p)->key, key) == 0) {
            header_t *h = *p;
            *p = h->next;
            free(h->key);
            free(h->value);
            free(h);
            return;
        }
    }
}

static void header_clear(esp_http_client_t *c)
{
    while (c->headers != NULL) {
        header_delete(c, c->headers->key);
    }
}

/* "host" or "host:port" unless the port is 80 or 443 (ESP-IDF's Host header). */
static esp_err_t set_host_header(esp_http_client_t *c)
{
    char buf[300];
    if (c->port != DEFAULT_HTTP_PORT && c->port != DEFAULT_HTTPS_PORT) {
        snprintf(buf, sizeof(buf), "%s:%d", c->host, c->port);
    } else {
        snprintf(buf, sizeof(buf), "%s", c->host);
    }
    return header_set(c, "Host", buf);
}

/* ---------------------------------------------------------------------------------------- */
/* Receive buffer and libcurl callbacks                                                        */

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    esp_http_client_t *c = userdata;
    size_t total = size * nitems;
    size_t len = total;
    c->progress++;
    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n')) {
        len--;
    }
    if (total >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        int major = 0, minor = 0, code = 0;
        char line[64];
        snprintf(line, sizeof(line), "%.*s", (int)(len < 63 ? len : 63), buf);
        if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &code) < 3) {
            sscanf(line, "HTTP/%d %d", &major, &code);
        }
        c->status_code = code;
        c->http_major = major;
        c->http_minor = minor;
        c->content_length = -1;
        c->is_chunked = false;
        c->te_chunked = false;
        c->is_chunk_complete = false;
        c->headers_done = false;
        c->conn_close = false;
        c->conn_keep_alive = false;
        return total;
    }
    if (len == 0) {
        if (c->status_code >= 200 || c->status_code < 100) {
            c->headers_done = true;
        }
        return total;
    }
    const char *colon = memchr(buf, ':', len);
    if (colon == NULL || (c->status_code >= 100 && c->status_code < 200)) {
        return total;
    }
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
        vlen--;
    }
    char *key = NULL;
    char *value = NULL;
    if (!assign_str(&key, buf, (int)klen) || !assign_str(&value, v, (int)vlen)) {
        free(key);
        return 0; /* aborts the transfer: out of memory */
    }
    if (!c->headers_done) {
        if (strcasecmp(key, "Content-Length") == 0) {
            c->content_length = strtoll(value, NULL, 10);
        } else if (strcasecmp(key, "Transfer-Encoding") == 0 && strcmp(value, "chunked") == 0) {
            c->is_chunked = true;
            c->te_chunked = true;
        } else if (strcasecmp(key, "Location") == 0) {
            append_str(&c->location, value, vlen);
        } else if (strcasecmp(key, "WWW-Authenticate") == 0) {
            append_str(&c->auth_header, value, vlen);
        } else if (strcasecmp(key, "Connection") == 0) {
            c->conn_close = strcasestr(value, "close") != NULL;
            c->conn_keep_alive = strcasestr(value, "keep-alive") != NULL;
        }
    }
    ESP_LOGD(TAG, "HEADER=%s:%s", key, value);
    c->event.header_key = key;
    c->event.header_value = value;
    dispatch(c, HTTP_EVENT_ON_HEADER, NULL, 0);
    c->event.header_key = NULL;
    c->event.header_value = NULL;
    free(key);
    free(value);
    return total;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    esp_http_client_t *c = userdata;
    size_t n = size * nmemb;
    if (!c->perform_mode) {
        if (c->rx_len + n > c->rx_cap) {
            if (c->rx_len > 0) {
                c->rx_paused = true;
                return CURL_WRITEFUNC_PAUSE;
            }
            /* A delivery larger than the buffer (at most libcurl's write size): hold it. */
            char *grown = realloc(c->rx, n);
            if (grown == NULL) {
                return 0;
            }
            c->rx = grown;
            c->rx_cap = n;
            c->rx_off = 0;
        }
        if (c->rx_off + c->rx_len + n > c->rx_cap) {
            memmove(c->rx, c->rx + c->rx_off, c->rx_len);
            c->rx_off = 0;
        }
        memcpy(c->rx + c->rx_off + c->rx_len, ptr, n);
        c->rx_len += n;
    }
    c->progress++;
    c->data_process += (int64_t)n;
    dispatch(c, HTTP_EVENT_ON_DATA, ptr, (int)n);
    return n;
}

static size_t on_upload(char *buf, size_t size, size_t nitems, void *userdata)
{
    esp_http_client_t *c = userdata;
    size_t cap = size * nitems;
    if (c->tx_left == 0) {
        if (c->tx_remaining <= 0) {
            return 0;
        }
        c->tx_paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t n = c->tx_left < cap ? c->tx_left : cap;
    memcpy(buf, c->tx_data, n);
    c->tx_data += n;
    c->tx_left -= n;
    c->tx_remaining -= (int64_t)n;
    c->progress++;
    return n;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userdata)
{
    (void)h;
    esp_http_client_t *c = userdata;
    if (type == CURLINFO_HEADER_OUT) {
        if (!c->headers_sent) {
            c->headers_sent = true;
            c->progress++;
            ESP_LOGD(TAG, "Write header: %.*s", (int)size, data);
            dispatch(c, HTTP_EVENT_HEADERS_SENT, NULL, 0);
        }
    } else if (type == CURLINFO_TEXT) {
        int n = (int)size;
        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r')) {
            n--;
        }
        ESP_LOGV(TAG, "curl: %.*s", n, data);
    }
    return 0;
}

/* The test seam (esp_http_client_priv.h). */
static esp_http_client_connect_fn connect_hook;
static void *connect_hook_ctx;

void esp_http_client_set_connect_hook(esp_http_client_connect_fn fn, void *ctx)
{
    connect_hook = fn;
    connect_hook_ctx = ctx;
}

static int on_sockopt_connected(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
    (void)userdata;
    (void)fd;
    (void)purpose;
    return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
    (void)purpose;
    esp_http_client_t *c = userdata;
    int fd = connect_hook != NULL
                 ? connect_hook(connect_hook_ctx)
                 : socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0) {
        return CURL_SOCKET_BAD;
    }
    c->last_fd = fd;
    c->new_socket = true;
    return fd;
}

static int on_prereq(void *userdata, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    esp_http_client_t *c = userdata;
    c->connected = true;
    c->progress++;
    if (c->new_socket) {
        c->new_socket = false;
        dispatch(c, HTTP_EVENT_ON_CONNECTED, NULL, 0);
    }
    return CURL_PREREQFUNC_OK;
}

static CURLcode on_ssl_ctx(CURL *h, void *sslctx, void *userdata)
{
    (void)h;
    esp_http_client_t *c = userdata;
    SSL_CTX *ctx = sslctx;
    if (c->use_bundle) {
        esp_crt_bundle_add_to_store(SSL_CTX_get_cert_store(ctx));
    }
    if (c->common_name != NULL && !c->skip_cn) {
        X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), c->common_name, 0);
    }
    return CURLE_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Driving the transfer                                                                        */

static void collect(esp_http_client_t *c)
{
    CURLMsg *m;
    int queued;
    while ((m = curl_multi_info_read(c->multi, &queued)) != NULL) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == c->easy) {
            c->done = true;
            c->result = m->data.result;
            c->os_errno = 0;
            curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &c->os_errno);
            if (c->result == CURLE_OK) {
                c->is_chunk_complete = true;
            } else {
                ESP_LOGD(TAG, "transfer ended: %s (%s), os errno %ld",
                         curl_easy_strerror(c->result), c->errbuf, c->os_errno);
            }
        }
    }
}

/*
 * Runs the transfer until cond(c) holds (DRIVE_MET), the transfer ends (DRIVE_DONE) or
 * timeout_ms passes without any progress (DRIVE_TIMEOUT; timeout_ms < 0 waits forever).
 */
static drive_result_t drive(esp_http_client_t *c, bool (*cond)(const esp_http_client_t *),
                            int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    unsigned seen = c->progress;
    for (;;) {
        if (cond(c)) {
            return DRIVE_MET;
        }
        if (c->done) {
            return DRIVE_DONE;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        collect(c);
        if (cond(c)) {
            return DRIVE_MET;
        }
        if (c->done) {
            return DRIVE_DONE;
        }
        if (mc != CURLM_OK) {
            ESP_LOGE(TAG, "curl_multi_perform: %s", curl_multi_strerror(mc));
            c->done = true;
            c->result = CURLE_FAILED_INIT;
            return DRIVE_DONE;
        }
        if (c->progress != seen) {
            seen = c->progress;
            deadline = now_ms() + timeout_ms;
        }
        int wait = 1000;
        if (timeout_ms >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                return DRIVE_TIMEOUT;
            }
            wait = left < INT_MAX ? (int)left : INT_MAX;
        }
        curl_multi_poll(c->multi, NULL, 0, wait, NULL);
    }
}

static bool cond_headers_sent(const esp_http_client_t *c)
{
    return c->headers_sent;
}

static bool cond_headers_done(const esp_http_client_t *c)
{
    return c->headers_done;
}

static bool cond_rx_data(const esp_http_client_t *c)
{
    return c->rx_len > 0;
}

static bool cond_tx_sent(const esp_http_client_t *c)
{
    return c->tx_left == 0;
}

static bool cond_never(const esp_http_client_t *c)
{
    (void)c;
    return false;
}

/* Ends the transfer on the easy handle; libcurl closes the connection if it was not done. */
static void end_transfer(esp_http_client_t *c)
{
    if (c->attached && !c->done && c->headers_done && !c->te_chunked && c->content_length >= 0 &&
        c->data_process >= c->content_length) {
        /* The last bytes came in through a resume: let libcurl finish the transfer so the
         * connection goes back to the cache clean instead of being closed. */
        drive(c, cond_never, c->timeout_ms);
    }
    if (c->attached) {
        curl_multi_remove_handle(c->multi, c->easy);
        c->attached = false;
    }
    c->rx_off = 0;
    c->rx_len = 0;
    c->rx_paused = false;
    c->tx_data = NULL;
    c->tx_left = 0;
    c->tx_remaining = 0;
    c->tx_paused = false;
    c->state = REQ_IDLE;
}

/* Ends the transfer and closes every connection of the client. */
static void drop_connections(esp_http_client_t *c)
{
    end_transfer(c);
    if (c->multi != NULL) {
        curl_multi_cleanup(c->multi);
    }
    c->multi = curl_multi_init();
    c->connected = false;
}

/* ---------------------------------------------------------------------------------------- */
/* URL handling                                                                                */

static char *url_part(CURLU *u, CURLUPart part)
{
    char *s = NULL;
    if (curl_url_get(u, part, &s, 0) != CURLUE_OK) {
        return NULL;
    }
    return s;
}

static esp_err_t set_path_query(esp_http_client_t *c, const char *path, const char *query)
{
    if (!assign_str(&c->path, path != NULL && *path != '\0' ? path : "/", -1)) {
        return ESP_ERR_NO_MEM;
    }
    if (query != NULL) {
        return assign_str(&c->query, query, -1) ? ESP_OK : ESP_ERR_NO_MEM;
    }
    free(c->query);
    c->query = NULL;
    return ESP_OK;
}

/* A URL that is only a path ("/x?y"): replaces path and query. */
static esp_err_t set_relative_url(esp_http_client_t *c, const char *url)
{
    size_t end = strcspn(url, "#");
    char *copy = NULL;
    if (!assign_str(&copy, url, (int)end)) {
        return ESP_ERR_NO_MEM;
    }
    char *q = strchr(copy, '?');
    if (q != NULL) {
        *q++ = '\0';
    }
    esp_err_t err = set_path_query(c, copy, q != NULL && *q != '\0' ? q : NULL);
    free(copy);
    return err;
}

esp_err_t esp_http_client_set_url(esp_http_client_handle_t client, const char *url)
{
    if (client == NULL || url == NULL) {
        ESP_LOGE(TAG, "client or url must not NULL");
        return ESP_ERR_INVALID_ARG;
    }
    if (url[0] == '/') {
        return set_relative_url(client, url);
    }
    CURLU *u = curl_url();
    if (u == NULL) {
        return ESP_ERR_NO_MEM;
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        curl_url_cleanup(u);
        ESP_LOGE(TAG, "Error parse url %s", url);
        return ESP_ERR_INVALID_ARG;
    }
    char *scheme = url_part(u, CURLUPART_SCHEME);
    char *host = url_part(u, CURLUPART_HOST);
    char *port = url_part(u, CURLUPART_PORT);
    char *user = url_part(u, CURLUPART_USER);
    char *pass = url_part(u, CURLUPART_PASSWORD);
    char *path = url_part(u, CURLUPART_PATH);
    char *query = url_part(u, CURLUPART_QUERY);
    curl_url_cleanup(u);

    esp_err_t err = ESP_OK;
    int old_port = client->port;
    if (host != NULL && *host != '\0') {
        bool changed = client->host != NULL && strcasecmp(client->host, host) != 0;
        if (!assign_str(&client->host, host, -1)) {
            err = ESP_ERR_NO_MEM;
            goto out;
        }
        if (changed) {
            ESP_LOGD(TAG, "New host assign = %s", client->host);
            if (header_set(client, "Host", client->host) != ESP_OK) {
                err = ESP_ERR_NO_MEM;
                goto out;
            }
            esp_http_client_close(client);
        }
    }
    if (scheme != NULL) {
        if (!assign_str(&client->scheme, scheme, -1)) {
            err = ESP_ERR_NO_MEM;
            goto out;
        }
        if (strcasecmp(scheme, "http") == 0) {
            client->port = DEFAULT_HTTP_PORT;
        } else if (strcasecmp(scheme, "https") == 0) {
            client->port = DEFAULT_HTTPS_PORT;
        }
    }
    if (port != NULL) {
        client->port = (int)strtol(port, NULL, 10);
    }
    if (old_port != client->port) {
        esp_http_client_close(client);
    }
    if (user != NULL) {
        if (pass != NULL && !assign_str(&client->password, pass, -1)) {
            err = ESP_ERR_NO_MEM;
            goto out;
        }
        if (!assign_str(&client->username, user, -1)) {
            err = ESP_ERR_NO_MEM;
            goto out;
        }
    }
    err = set_path_query(client, path, query);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    if (pass != NULL) {
        memset(pass, 0, strlen(pass));
    }
    curl_free(pass);
    curl_free(path);
    curl_free(query);
    return err;
}

esp_err_t esp_http_client_get_url(esp_http_client_handle_t client, char *url, const int len)
{
    if (client == NULL || url == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (client->host != NULL && client->scheme != NULL && client->path != NULL) {
        snprintf(url, (size_t)len, "%s://%s%s", client->scheme, client->host, client->path);
        return ESP_OK;
    }
    ESP_LOGE(TAG, "Failed to get URL");
    return ESP_FAIL;
}

/* ---------------------------------------------------------------------------------------- */
/* Configuration                                                                               */

static bool is_https(const esp_http_client_t *c)
{
    return c->scheme != NULL && strcasecmp(c->scheme, "https") == 0;
}

static esp_err_t set_config(esp_http_client_t *c, const esp_http_client_config_t *cfg)
{
    c->method = cfg->method;
    c->port = cfg->port;
    c->auth_type = cfg->auth_type;
    c->event_handler = cfg->event_handler;
    c->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_redirection_count =
        cfg->max_redirection_count != 0 ? cfg->max_redirection_count : DEFAULT_MAX_REDIRECT;
    c->max_authorization_retries = cfg->max_authorization_retries;
    if (c->max_authorization_retries == 0) {
        c->max_authorization_retries = DEFAULT_MAX_AUTH_RETRIES;
    } else if (c->max_authorization_retries == -1) {
        c->max_authorization_retries = 0;
    }
    c->user_data = cfg->user_data;
    c->buffer_size_rx = cfg->buffer_size > 0 ? cfg->buffer_size : DEFAULT_HTTP_BUF_SIZE;
    c->buffer_size_tx = cfg->buffer_size_tx > 0 ? cfg->buffer_size_tx : DEFAULT_HTTP_BUF_SIZE;
    c->disable_auto_redirect = cfg->disable_auto_redirect;
    c->keep_alive_enable = cfg->keep_alive_enable;
    c->keep_alive_idle = cfg->keep_alive_idle != 0 ? cfg->keep_alive_idle : DEFAULT_KEEP_ALIVE_IDLE;
    c->keep_alive_interval =
        cfg->keep_alive_interval != 0 ? cfg->keep_alive_interval : DEFAULT_KEEP_ALIVE_INTERVAL;

    c->cert = cfg->cert_pem;
    c->cert_len = cfg->cert_len;
    c->client_cert = cfg->client_cert_pem;
    c->client_cert_len = cfg->client_cert_len;
    c->client_key = cfg->client_key_pem;
    c->client_key_len = cfg->client_key_len;
    c->skip_cn = cfg->skip_cert_common_name_check;
    c->use_global_ca_store = cfg->use_global_ca_store;
    c->session_cache = cfg->save_client_session;
    c->tls_version = cfg->tls_version;
    c->crt_bundle_attach = cfg->crt_bundle_attach;

    bool ok = assign_str(&c->path, cfg->path != NULL ? cfg->path : "/", -1) &&
              assign_str(&c->host, cfg->host, -1) && assign_str(&c->query, cfg->query, -1) &&
              assign_str(&c->username, cfg->username, -1) &&
              assign_str(&c->password, cfg->password, -1) &&
              assign_str(&c->common_name, cfg->common_name, -1);
    if (ok && cfg->client_key_password != NULL && cfg->client_key_password_len > 0) {
        ok = assign_str(&c->client_key_password, cfg->client_key_password,
                        (int)cfg->client_key_password_len);
    }
    if (!ok) {
        return ESP_ERR_NO_MEM;
    }
    if (cfg->transport_type == HTTP_TRANSPORT_OVER_SSL) {
        ok = assign_str(&c->scheme, "https", -1);
        if (c->port == 0) {
            c->port = DEFAULT_HTTPS_PORT;
        }
    } else {
        ok = assign_str(&c->scheme, "http", -1);
        if (c->port == 0) {
            c->port = DEFAULT_HTTP_PORT;
        }
    }
    return ok ? ESP_OK : ESP_ERR_NO_MEM;
}

/* Options that do not change between requests. */
static void setup_easy(esp_http_client_t *c)
{
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(e, CURLOPT_READDATA, c);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, c);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    if (connect_hook != NULL) {
        curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt_connected);
    }
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, c);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)c->rx_cap);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, c->session_cache ? 1L : 0L);
    if (c->session_cache && c->share == NULL && (c->share = curl_share_init()) != NULL) {
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    if (c->keep_alive_enable) {
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, (long)c->keep_alive_idle);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, (long)c->keep_alive_interval);
    }
}

/* PEM text for a DER certificate given with cert_len (libcurl's CA blob takes PEM). */
static const char *cert_as_pem(esp_http_client_t *c, size_t *len)
{
    if (c->cert_len == 0) {
        *len = strlen(c->cert);
        return c->cert;
    }
    if (c->cert_len > 10 && memcmp(c->cert, "-----BEGIN", 10) == 0) {
        *len = strnlen(c->cert, c->cert_len);
        return c->cert;
    }
    if (c->cert_pem_copy == NULL) {
        const unsigned char *p = (const unsigned char *)c->cert;
        X509 *x = d2i_X509(NULL, &p, (long)c->cert_len);
        BIO *bio = BIO_new(BIO_s_mem());
        if (x != NULL && bio != NULL && PEM_write_bio_X509(bio, x)) {
            char *data = NULL;
            long n = BIO_get_mem_data(bio, &data);
            assign_str(&c->cert_pem_copy, data, (int)n);
        }
        BIO_free(bio);
        X509_free(x);
    }
    *len = c->cert_pem_copy != NULL ? strlen(c->cert_pem_copy) : 0;
    return c->cert_pem_copy;
}

static void setup_tls(esp_http_client_t *c)
{
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->skip_cn || c->common_name != NULL ? 0L : 2L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, c);
    if (c->cert != NULL && !c->use_bundle && !c->use_global_ca_store) {
        struct curl_blob blob = {0};
        blob.data = (void *)cert_as_pem(c, &blob.len);
        if (blob.data == NULL || blob.len == 0) {
            blob.data = (void *)"unusable certificate"; /* never fall back to the system store */
            blob.len = strlen(blob.data);
        }
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    } else if (c->use_bundle) {
        /* The system store is loaded afresh per connection, then on_ssl_ctx adds ours. */
        curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    }
    if (c->client_cert != NULL) {
        struct curl_blob blob = {
            (void *)c->client_cert,
            c->client_cert_len != 0 ? c->client_cert_len : strlen(c->client_cert), CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(
            e, CURLOPT_SSLCERTTYPE,
            c->client_cert_len >= 5 && memcmp(c->client_cert, "-----", 5) != 0 ? "DER" : "PEM");
    }
    if (c->client_key != NULL) {
        struct curl_blob blob = {(void *)c->client_key,
                                 c->client_key_len != 0 ? c->client_key_len : strlen(c->client_key),
                                 CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE,
                         c->client_key_len >= 5 && memcmp(c->client_key, "-----", 5) != 0 ? "DER"
                                                                                          : "PEM");
        curl_easy_setopt(e, CURLOPT_KEYPASSWD, c->client_key_password);
    }
    long version = CURL_SSLVERSION_DEFAULT;
    if (c->tls_version == ESP_HTTP_CLIENT_TLS_VER_TLS_1_2) {
        version = CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2;
    } else if (c->tls_version == ESP_HTTP_CLIENT_TLS_VER_TLS_1_3) {
        version = CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3;
    }
    curl_easy_setopt(e, CURLOPT_SSLVERSION, version);
}

/* URL, headers, method and body source of the next request. */
static esp_err_t setup_request(esp_http_client_t *c, int64_t body_len, bool from_post_field)
{
    CURL *e = c->easy;
    char url[2048];
    const char *path = c->path != NULL ? c->path : "/";
    int n = snprintf(url, sizeof(url), "%s://%s:%d%s%s%s%s", c->scheme, c->host, c->port,
                     path[0] == '/' ? "" : "/", path, c->query != NULL ? "?" : "",
                     c->query != NULL ? c->query : "");
    if (n < 0 || (size_t)n >= sizeof(url)) {
        ESP_LOGE(TAG, "URL too long");
        return ESP_ERR_INVALID_ARG;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms > 0 ? (long)c->timeout_ms : 0L);

    curl_slist_free_all(c->req_headers);
    c->req_headers = NULL;
    for (const header_t *h = c->headers; h != NULL; h = h->next) {
        char line[1024];
        if (h->value[0] == '\0') {
            snprintf(line, sizeof(line), "%s;", h->key);
        } else {
            snprintf(line, sizeof(line), "%s: %s", h->key, h->value);
        }
        struct curl_slist *l = curl_slist_append(c->req_headers, line);
        if (l == NULL) {
            return ESP_ERR_NO_MEM;
        }
        c->req_headers = l;
    }
    /* ESP-IDF sends neither "Accept" nor "Expect: 100-continue". */
    const char *suppress[] = {"Accept:", "Expect:"};
    for (size_t i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
        if (header_find(c, suppress[i]) == NULL) {
            struct curl_slist *l = curl_slist_append(c->req_headers, suppress[i]);
            if (l == NULL) {
                return ESP_ERR_NO_MEM;
            }
            c->req_headers = l;
        }
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers);

    const char *method = method_names[c->method];
    /* Back to a plain GET (setting POSTFIELDS, even to NULL, selects POST: do it first). */
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    bool length_required = c->method != HTTP_METHOD_GET && c->method != HTTP_METHOD_HEAD &&
                           c->method != HTTP_METHOD_DELETE;
    if (c->method == HTTP_METHOD_HEAD) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (body_len > 0 || length_required) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        if (body_len == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        } else if (from_post_field) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->post_data);
        }
        if (c->method != HTTP_METHOD_POST) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        }
    } else if (c->method != HTTP_METHOD_GET) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    c->tx_remaining = from_post_field ? 0 : body_len;

    if (is_https(c)) {
        setup_tls(c);
    }
    return ESP_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                      */

static void capture_errno(esp_http_client_t *c, int err)
{
    c->sock_errno = err;
    errno = err;
}

/* Logs a failed connection the way esp-tls and the transport do on the device. */
static void report_connect_error(esp_http_client_t *c, bool timed_out)
{
    CURLcode r = timed_out ? CURLE_OPERATION_TIMEDOUT : c->result;
    int os = (int)c->os_errno;
    memset(&c->tls_err, 0, sizeof(c->tls_err));
    switch (r) {
    case CURLE_COULDNT_RESOLVE_HOST:
        ESP_LOGE(TAG_TLS, "couldn't get hostname for :%s: getaddrinfo() returns 202, addrinfo=0x0",
                 c->host);
        c->tls_err.last_error = ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME;
        capture_errno(c, 0);
        break;
    case CURLE_COULDNT_CONNECT:
        os = os != 0 ? os : ECONNREFUSED;
        ESP_LOGE(TAG_TLS, "[sock=%d] delayed connect error: %s", c->last_fd, strerror(os));
        c->tls_err.last_error = ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST;
        c->tls_err.esp_tls_error_code = os;
        capture_errno(c, os);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        ESP_LOGE(TAG_TLS, "[sock=%d] select() timeout", c->last_fd);
        c->tls_err.last_error = ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT;
        capture_errno(c, ETIMEDOUT);
        break;
    case CURLE_PEER_FAILED_VERIFICATION: {
        long verify = 0;
        curl_easy_getinfo(c->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
        int flags = MBEDTLS_X509_BADCERT_CN_MISMATCH;
        if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
            flags = MBEDTLS_X509_BADCERT_EXPIRED;
        } else if (verify != X509_V_OK) {
            flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
        }
        ESP_LOGE(TAG_MBEDTLS, "mbedtls_ssl_handshake returned -0x%04X",
                 MBEDTLS_X509_CERT_VERIFY_FAILED);
        ESP_LOGI(TAG_MBEDTLS, "Failed to verify peer certificate!");
        ESP_LOGD(TAG_MBEDTLS, "verification info: %s", c->errbuf);
        c->tls_err.esp_tls_error_code = MBEDTLS_X509_CERT_VERIFY_FAILED;
        c->tls_err.esp_tls_flags = flags;
        capture_errno(c, 0);
        break;
    }
    default:
        if (os != 0) {
            capture_errno(c, os);
        }
        ESP_LOGE(is_https(c) ? TAG_MBEDTLS : TAG_TLS, "%s: %s",
                 is_https(c) ? "TLS handshake failed" : "connection failed",
                 c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(r));
        c->tls_err.last_error = ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST;
        break;
    }
    if (is_https(c)) {
        ESP_LOGE(TAG_TLS, "Failed to open new connection");
    }
    ESP_LOGE(TAG_TRANSPORT, "Failed to open a new connection");
    ESP_LOGE(TAG, "Connection failed, sock < 0");
}

/* True when the transfer ended because the peer closed the connection (no socket error). */
static bool ended_by_close(const esp_http_client_t *c)
{
    switch (c->result) {
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
        return true;
    case CURLE_RECV_ERROR:
        return c->os_errno == 0;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Requests                                                                                    */

static esp_err_t prepare(esp_http_client_t *c)
{
    c->process_again = false;
    c->data_process = 0;
    free(c->location);
    c->location = NULL;
    free(c->auth_header);
    c->auth_header = NULL;
    if (c->username != NULL && c->auth_type == HTTP_AUTH_TYPE_BASIC) {
        const char *pw = c->password != NULL ? c->password : "";
        size_t n = strlen(c->username) + 1 + strlen(pw);
        char *plain = malloc(n + 1);
        char *value = malloc(6 + 4 * ((n + 2) / 3) + 1);
        if (plain == NULL || value == NULL) {
            free(plain);
            free(value);
            return ESP_ERR_NO_MEM;
        }
        snprintf(plain, n + 1, "%s:%s", c->username, pw);
        memcpy(value, "Basic ", 6);
        EVP_EncodeBlock((unsigned char *)value + 6, (const unsigned char *)plain, (int)n);
        memset(plain, 0, n);
        free(plain);
        esp_err_t err = header_set(c, "Authorization", value);
        free(value);
        return err;
    }
    return ESP_OK;
}

/*
 * libcurl 7.88 (Debian 12) keeps a pointer to the last response header it stored across the
 * transfers of one easy handle and follows it when the next response starts with a folded
 * (obs-fold) line: a use-after-free inside libcurl (fixed in curl 8.0, "headers: clear (possibly)
 * lingering pointer in init"). So every transfer after the first runs on a fresh copy of the
 * handle, with the same options; connections live in the multi handle's cache, so a kept-alive
 * connection is still reused, and TLS sessions (save_client_session) in the client's share.
 */
static esp_err_t renew_easy(esp_http_client_t *c)
{
    if (c->transfers++ == 0) {
        return ESP_OK;
    }
    CURL *fresh = curl_easy_duphandle(c->easy);
    if (fresh == NULL) {
        return ESP_ERR_NO_MEM;
    }
    curl_easy_cleanup(c->easy);
    c->easy = fresh;
    curl_easy_setopt(fresh, CURLOPT_SHARE, c->share); /* the TLS sessions go on */
    return ESP_OK;
}

/*
 * Starts a request: connects (or reuses the connection) and sends the request headers. body_len
 * is the request body size; from_post_field selects the post field as the body (perform), else
 * the body comes from esp_http_client_write.
 */
static esp_err_t start_request(esp_http_client_t *c, int64_t body_len, bool from_post_field)
{
    end_transfer(c);
    esp_err_t err = renew_easy(c);
    if (err != ESP_OK) {
        return err;
    }
    err = prepare(c);
    if (err != ESP_OK) {
        return err;
    }
    if (c->scheme == NULL ||
        (strcasecmp(c->scheme, "http") != 0 && strcasecmp(c->scheme, "https") != 0)) {
        ESP_LOGE(TAG, "No transport found");
        return ESP_ERR_HTTP_INVALID_TRANSPORT;
    }
    size_t first_line = strlen(method_names[c->method]) + 1 + strlen(c->path) +
                        (c->query != NULL ? 1 + strlen(c->query) : 0) + strlen(" HTTP/1.1\r\n");
    if (first_line >= (size_t)c->buffer_size_tx) {
        ESP_LOGE(TAG, "Out of buffer");
        return ESP_FAIL;
    }
    c->use_bundle = false;
    if (is_https(c) && c->crt_bundle_attach != NULL) {
        esp_crt_bundle_conf_t conf = {ESP_CRT_BUNDLE_CONF_MAGIC, false};
        err = c->crt_bundle_attach(&conf);
        if (err != ESP_OK) {
            ESP_LOGE(TAG_MBEDTLS, "Failed to set CRT bundle");
            ESP_LOGE(TAG, "Connection failed, sock < 0");
            return ESP_ERR_HTTP_CONNECT;
        }
        c->use_bundle = conf.use_bundle;
    }
    err = setup_request(c, body_len, from_post_field);
    if (err != ESP_OK) {
        return err;
    }
    c->done = false;
    c->result = CURLE_OK;
    c->os_errno = 0;
    c->errbuf[0] = '\0';
    c->new_socket = false;
    c->connected = false;
    c->headers_sent = false;
    c->headers_done = false;
    c->is_chunk_complete = false;
    if (c->multi == NULL) {
        c->multi = curl_multi_init();
        if (c->multi == NULL) {
            return ESP_ERR_NO_MEM;
        }
    }
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
        return ESP_FAIL;
    }
    c->attached = true;
    drive_result_t d = drive(c, cond_headers_sent, c->timeout_ms);
    if (d == DRIVE_MET) {
        c->state = REQ_SENT;
        return ESP_OK;
    }
    bool was_connected = c->connected;
    if (was_connected) {
        ESP_LOGE(TAG, "Error write request");
        capture_errno(c, c->os_errno != 0 ? (int)c->os_errno : ENOTCONN);
    } else {
        report_connect_error(c, d == DRIVE_TIMEOUT);
    }
    drop_connections(c);
    return was_connected ? ESP_ERR_HTTP_WRITE_DATA : ESP_ERR_HTTP_CONNECT;
}

esp_err_t esp_http_client_open(esp_http_client_handle_t client, int write_len)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (write_len < 0) {
        ESP_LOGE(TAG, "Chunked request bodies (write_len < 0) are not supported");
        return ESP_ERR_NOT_SUPPORTED;
    }
    client->post_len = write_len;
    esp_err_t err = start_request(client, write_len, false);
    if (err != ESP_OK) {
        dispatch(client, HTTP_EVENT_ERROR, &client->tls_err, 0);
    }
    return err;
}

int esp_http_client_write(esp_http_client_handle_t client, const char *buffer, int len)
{
    if (client == NULL || client->state < REQ_SENT || buffer == NULL || len < 0) {
        return ESP_FAIL;
    }
    if (len == 0) {
        return 0;
    }
    if (client->done || (int64_t)len > client->tx_remaining) {
        ESP_LOGE(TAG, "Error write request");
        return ESP_FAIL;
    }
    client->tx_data = buffer;
    client->tx_left = (size_t)len;
    if (client->tx_paused) {
        client->tx_paused = false;
        curl_easy_pause(client->easy, client->rx_paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
    }
    drive(client, cond_tx_sent, client->timeout_ms);
    int written = len - (int)client->tx_left;
    client->tx_remaining -= (int64_t)client->tx_left; /* what was not sent is dropped */
    client->tx_data = NULL;
    client->tx_left = 0;
    return written > 0 ? written : ESP_FAIL;
}

int64_t esp_http_client_fetch_headers(esp_http_client_handle_t client)
{
    if (client == NULL || client->state < REQ_SENT) {
        return ESP_FAIL;
    }
    if (client->state == REQ_HEADERS_DONE) {
        return client->content_length > 0 ? client->content_length : 0;
    }
    if (!client->headers_done) {
        client->status_code = -1;
    }
    errno = 0;
    drive_result_t d = drive(client, cond_headers_done, client->timeout_ms);
    if (d == DRIVE_TIMEOUT) {
        ESP_LOGW(TAG, "Connection timed out before data was ready!");
        errno = 0;
        return -ESP_ERR_HTTP_EAGAIN;
    }
    if (d == DRIVE_DONE && !client->headers_done) {
        if (ended_by_close(client)) {
            capture_errno(client, ENOTCONN);
        } else {
            capture_errno(client, client->os_errno != 0 ? (int)client->os_errno : EIO);
        }
        ESP_LOGD(TAG, "no response headers: %s", client->errbuf);
        return ESP_FAIL;
    }
    errno = 0;
    client->state = REQ_HEADERS_DONE;
    if (client->is_chunked) {
        client->content_length = -1;
    }
    ESP_LOGD(TAG, "content_length = %lld", (long long)client->content_length);
    if (client->content_length <= 0) {
        client->is_chunked = true;
        return 0;
    }
    return client->content_length;
}

bool esp_http_client_is_complete_data_received(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return false;
    }
    if (client->is_chunked) {
        if (!client->is_chunk_complete) {
            ESP_LOGD(TAG, "Chunks were not completely read");
            return false;
        }
    } else if (client->data_process != client->content_length) {
        ESP_LOGD(TAG, "Data processed %lld != Data specified in content length %lld",
                 (long long)client->data_process, (long long)client->content_length);
        return false;
    }
    return true;
}

/* Moves up to len buffered body bytes to out; resumes a paused transfer once room is made. */
static int take_rx(esp_http_client_t *c, char *out, int len)
{
    size_t n = c->rx_len < (size_t)len ? c->rx_len : (size_t)len;
    memcpy(out, c->rx + c->rx_off, n);
    c->rx_off += n;
    c->rx_len -= n;
    if (c->rx_len == 0) {
        c->rx_off = 0;
    }
    if (c->rx_paused && c->attached) {
        c->rx_paused = false;
        curl_easy_pause(c->easy, c->tx_paused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
    }
    return (int)n;
}

static bool data_remains(const esp_http_client_t *c)
{
    if (c->is_chunked) {
        return !c->is_chunk_complete;
    }
    return c->data_process < c->content_length;
}

int esp_http_client_read(esp_http_client_handle_t client, char *buffer, int len)
{
    if (client == NULL || buffer == NULL || client->state == REQ_SENT) {
        return ESP_FAIL;
    }
    errno = 0;
    int err = 0;
    int ridx = 0;
    while (ridx < len) {
        if (client->rx_len > 0) {
            ridx += take_rx(client, buffer + ridx, len - ridx);
            continue;
        }
        if (client->state != REQ_HEADERS_DONE || client->method == HTTP_METHOD_HEAD ||
            !data_remains(client)) {
            break;
        }
        drive_result_t d = drive(client, cond_rx_data, client->timeout_ms);
        if (d == DRIVE_MET) {
            continue;
        }
        if (d == DRIVE_TIMEOUT) {
            ESP_LOGD(TAG, "Connection timed out before data was ready!");
            errno = 0;
            return ridx > 0 ? ridx : -ESP_ERR_HTTP_EAGAIN;
        }
        if (client->result == CURLE_OK) {
            break; /* the body ended (close-delimited bodies end here) */
        }
        if (ended_by_close(client)) {
            err = ENOTCONN;
            capture_errno(client, err);
            esp_log_level_t sev = client->is_chunked ? ESP_LOG_DEBUG : ESP_LOG_WARN;
            esp_log_line(sev, TAG, "esp_transport_read returned:0 and errno:%d ", err);
            break;
        }
        err = client->os_errno != 0 ? (int)client->os_errno : EIO;
        capture_errno(client, err);
        client->tls_err.last_error = ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST;
        ESP_LOGW(TAG, "esp_transport_read returned:-1 and errno:%d ", err);
        ESP_LOGE(TAG, "transport_read: error - %d | %s", ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST,
                 esp_err_to_name(ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST));
        if (ridx == 0 && !esp_http_client_is_complete_data_received(client)) {
            dispatch(client, HTTP_EVENT_ERROR, &client->tls_err, 0);
            errno = err;
            return ESP_FAIL;
        }
        break;
    }
    if (ridx == 0 && client->state == REQ_IDLE &&
        !esp_http_client_is_complete_data_received(client)) {
        return ESP_FAIL;
    }
    errno = err; /* libcurl's own EAGAINs are not the caller's business */
    return ridx;
}

int esp_http_client_read_response(esp_http_client_handle_t client, char *buffer, int len)
{
    int read_len = 0;
    while (read_len < len) {
        int n = esp_http_client_read(client, buffer + read_len, len - read_len);
        if (n <= 0) {
            return read_len;
        }
        read_len += n;
    }
    return read_len;
}

esp_err_t esp_http_client_flush_response(esp_http_client_handle_t client, int *len)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "client must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    char scratch[512];
    int total = 0;
    for (;;) {
        int n = esp_http_client_read(client, scratch, sizeof(scratch));
        if (n > 0) {
            total += n;
            continue;
        }
        if (n < 0 || !esp_http_client_is_complete_data_received(client)) {
            return ESP_FAIL;
        }
        break;
    }
    if (len != NULL) {
        *len = total;
    }
    return ESP_OK;
}

/* ESP-IDF's http_should_keep_alive on the parsed response. */
static bool should_keep_alive(const esp_http_client_t *c)
{
    if (c->http_major > 0 && c->http_minor > 0) {
        if (c->conn_close) {
            return false;
        }
    } else if (!c->conn_keep_alive) {
        return false;
    }
    bool no_body = (c->status_code >= 100 && c->status_code < 200) || c->status_code == 204 ||
                   c->status_code == 304 || c->method == HTTP_METHOD_HEAD;
    bool needs_eof = !no_body && !c->te_chunked && c->content_length < 0;
    return !needs_eof;
}

/* ESP-IDF's esp_http_check_response: redirect and 401 handling after the headers. */
static esp_err_t check_response(esp_http_client_t *c)
{
    int status = c->status_code;
    if (status >= HttpStatus_Ok && status < HttpStatus_MultipleChoices) {
        c->redirect_counter = 0;
        return ESP_OK;
    }
    if (c->redirect_counter >= c->max_redirection_count) {
        ESP_LOGE(TAG, "Error, reach max_redirection_count count=%d", c->redirect_counter);
        return ESP_ERR_HTTP_MAX_REDIRECT;
    }
    switch (status) {
    case HttpStatus_MovedPermanently:
    case HttpStatus_Found:
    case HttpStatus_SeeOther:
    case HttpStatus_TemporaryRedirect:
    case HttpStatus_PermanentRedirect:
        if (c->disable_auto_redirect) {
            dispatch(c, HTTP_EVENT_REDIRECT, NULL, 0);
        } else if (esp_http_client_set_redirection(c) != ESP_OK) {
            return ESP_FAIL;
        }
        break;
    case HttpStatus_Unauthorized:
        esp_http_client_add_auth(c);
        break;
    default:
        break;
    }
    return ESP_OK;
}

static esp_err_t perform_once(esp_http_client_t *c)
{
    esp_err_t err = start_request(c, c->post_data != NULL ? c->post_len : 0, true);
    if (err != ESP_OK) {
        dispatch(c, HTTP_EVENT_ERROR, &c->tls_err, 0);
        return err;
    }
    int64_t ret = esp_http_client_fetch_headers(c);
    if (ret < 0) {
        if (ret == -ESP_ERR_HTTP_EAGAIN) {
            return ESP_ERR_HTTP_EAGAIN;
        }
        if (c->sock_errno == ENOTCONN) {
            c->sock_errno = 0;
            ESP_LOGW(TAG, "Close connection due to FIN received");
            esp_http_client_close(c);
            dispatch(c, HTTP_EVENT_ERROR, &c->tls_err, 0);
            return ESP_ERR_HTTP_CONNECTION_CLOSED;
        }
        dispatch(c, HTTP_EVENT_ERROR, &c->tls_err, 0);
        return ESP_ERR_HTTP_FETCH_HEADER;
    }
    err = check_response(c);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Error response");
        dispatch(c, HTTP_EVENT_ERROR, &c->tls_err, 0);
        return err;
    }
    /* The body goes to HTTP_EVENT_ON_DATA; a timeout or a close just ends it. */
    if (c->attached && c->method != HTTP_METHOD_HEAD && data_remains(c)) {
        if (drive(c, cond_never, c->timeout_ms) == DRIVE_TIMEOUT) {
            ESP_LOGD(TAG, "Read finish or server requests close");
        }
    }
    dispatch(c, HTTP_EVENT_ON_FINISH, NULL, 0);
    bool complete = c->done && c->result == CURLE_OK;
    if (!should_keep_alive(c) || (c->attached && !complete)) {
        ESP_LOGD(TAG, "Close connection");
        esp_http_client_close(c);
    } else {
        end_transfer(c);
    }
    return ESP_OK;
}

esp_err_t esp_http_client_perform(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err;
    client->perform_mode = true;
    do {
        err = perform_once(client);
    } while (err == ESP_OK && client->process_again);
    client->perform_mode = false;
    return err;
}

esp_err_t esp_http_client_close(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (client->initialized) {
        dispatch(client, HTTP_EVENT_DISCONNECTED, &client->tls_err, 0);
    }
    if (client->keep_alive_enable) {
        end_transfer(client); /* an unfinished response closes its connection */
    } else {
        drop_connections(client);
    }
    return ESP_OK;
}

esp_err_t esp_http_client_cancel_request(esp_http_client_handle_t client)
{
    if (client == NULL) {
        ESP_LOGD(TAG, "Client handle is NULL");
        return ESP_ERR_INVALID_ARG;
    }
    if (!client->attached && !client->connected) {
        ESP_LOGD(TAG, "Invalid State: not connected");
        return ESP_ERR_INVALID_STATE;
    }
    drop_connections(client);
    client->data_process = client->content_length;
    return client->multi != NULL ? ESP_OK : ESP_FAIL;
}

/* ---------------------------------------------------------------------------------------- */
/* Life cycle                                                                                  */

esp_http_client_handle_t esp_http_client_init(const esp_http_client_config_t *config)
{
    if (config == NULL) {
        ESP_LOGE(TAG, "config must not be NULL");
        return NULL;
    }
    if (config->is_async) {
        ESP_LOGE(TAG, "Asynchronous mode (is_async) is not supported");
        return NULL;
    }
    pthread_once(&curl_once, curl_global_setup);
    if (!curl_ready) {
        ESP_LOGE(TAG, "Error initialize transport");
        return NULL;
    }
    esp_http_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        ESP_LOGE(TAG, "Error allocate memory");
        return NULL;
    }
    c->last_fd = -1;
    c->content_length = 0;
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (c->easy == NULL || c->multi == NULL) {
        ESP_LOGE(TAG, "Error initialize transport");
        goto error;
    }
    if (set_config(c, config) != ESP_OK) {
        ESP_LOGE(TAG, "Error set configurations");
        goto error;
    }
    c->rx_cap = (size_t)c->buffer_size_rx;
    if (c->rx_cap < MIN_RX_CHUNK) {
        c->rx_cap = MIN_RX_CHUNK;
    } else if (c->rx_cap > MAX_RX_CHUNK) {
        c->rx_cap = MAX_RX_CHUNK;
    }
    c->rx = malloc(c->rx_cap);
    if (c->rx == NULL) {
        ESP_LOGE(TAG, "Allocation failed");
        goto error;
    }
    const char *agent = config->user_agent != NULL ? config->user_agent : DEFAULT_HTTP_USER_AGENT;
    if (config->host != NULL && config->path != NULL) {
        if (c->host == NULL) {
            ESP_LOGE(TAG, "invalid host");
            goto error;
        }
    } else if (config->url != NULL) {
        if (esp_http_client_set_url(c, config->url) != ESP_OK) {
            ESP_LOGE(TAG, "Failed to set URL");
            goto error;
        }
        if (c->host == NULL) {
            ESP_LOGE(TAG, "invalid host");
            goto error;
        }
    } else {
        ESP_LOGE(TAG, "config should have either URL or host & path");
        goto error;
    }
    if (header_set(c, "User-Agent", agent) != ESP_OK || set_host_header(c) != ESP_OK) {
        ESP_LOGE(TAG, "Error while setting default configurations");
        goto error;
    }
    setup_easy(c);
    c->initialized = true;
    return c;
error:
    esp_http_client_cleanup(c);
    return NULL;
}

esp_err_t esp_http_client_cleanup(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return ESP_FAIL;
    }
    if (client->easy != NULL && client->multi != NULL) {
        esp_http_client_close(client);
    }
    end_transfer(client);
    if (client->multi != NULL) {
        curl_multi_cleanup(client->multi);
    }
    if (client->easy != NULL) {
        curl_easy_cleanup(client->easy);
    }
    if (client->share != NULL) {
        curl_share_cleanup(client->share);
    }
    curl_slist_free_all(client->req_headers);
    header_clear(client);
    free(client->scheme);
    free(client->host);
    free(client->path);
    free(client->query);
    free(client->username);
    free_secret(&client->password);
    free_secret(&client->client_key_password);
    free(client->common_name);
    free(client->cert_pem_copy);
    free(client->location);
    free(client->auth_header);
    free(client->rx);
    free(client);
    return ESP_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Redirects and authentication                                                                */

esp_err_t esp_http_client_set_redirection(esp_http_client_handle_t client)
{
    if (client == NULL || client->location == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ESP_LOGD(TAG, "Redirect to %s", client->location);
    /* Resolve a relative Location against the current URL. */
    char base[2048];
    snprintf(base, sizeof(base), "%s://%s:%d%s%s%s", client->scheme, client->host, client->port,
             client->path, client->query != NULL ? "?" : "",
             client->query != NULL ? client->query : "");
    CURLU *u = curl_url();
    if (u == NULL) {
        return ESP_ERR_NO_MEM;
    }
    char *target = NULL;
    esp_err_t err = ESP_ERR_INVALID_ARG;
    if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, client->location, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &target, 0) == CURLUE_OK) {
        err = esp_http_client_set_url(client, target);
    } else {
        ESP_LOGE(TAG, "Error parse url %s", client->location);
    }
    curl_free(target);
    curl_url_cleanup(u);
    if (err == ESP_OK) {
        client->redirect_counter++;
        client->process_again = true;
    }
    return err;
}

esp_err_t esp_http_client_reset_redirect_counter(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    client->redirect_counter = 0;
    return ESP_OK;
}

esp_err_t esp_http_client_set_auth_data(esp_http_client_handle_t client, const char *auth_data,
                                        int len)
{
    if (client == NULL || auth_data == NULL || len <= 0) {
        return ESP_ERR_INVALID_ARG;
    }
    return append_str(&client->auth_header, auth_data, (size_t)len) ? ESP_OK : ESP_ERR_NO_MEM;
}

void esp_http_client_add_auth(esp_http_client_handle_t client)
{
    if (client == NULL || client->state != REQ_HEADERS_DONE) {
        return;
    }
    if (client->redirect_counter >= client->max_authorization_retries) {
        ESP_LOGE(TAG, "Error, reached max_authorization_retries count=%d",
                 client->redirect_counter);
        return;
    }
    const char *h = client->auth_header;
    if (h == NULL) {
        client->auth_type = HTTP_AUTH_TYPE_NONE;
        ESP_LOGW(TAG, "This request requires authentication, but does not provide header "
                      "information for that");
        return;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    ESP_LOGD(TAG, "UNAUTHORIZED: %s", h);
    client->redirect_counter++;
    if (strncasecmp(h, "Basic", 5) == 0) {
        ESP_LOGD(TAG, "type = Basic");
        client->auth_type = HTTP_AUTH_TYPE_BASIC;
        client->process_again = true;
        return;
    }
    client->auth_type = HTTP_AUTH_TYPE_NONE;
    ESP_LOGE(TAG, "This authentication method is not supported: %s", h);
}

/* ---------------------------------------------------------------------------------------- */
/* Accessors                                                                                   */

esp_err_t esp_http_client_set_header(esp_http_client_handle_t client, const char *key,
                                     const char *value)
{
    if (client == NULL || key == NULL || value == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    return header_set(client, key, value);
}

esp_err_t esp_http_client_get_header(esp_http_client_handle_t client, const char *key, char **value)
{
    if (client == NULL || key == NULL || value == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    header_t *h = header_find(client, key);
    *value = h != NULL ? h->value : NULL;
    return ESP_OK;
}

esp_err_t esp_http_client_delete_header(esp_http_client_handle_t client, const char *key)
{
    if (client == NULL || key == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    header_delete(client, key);
    return ESP_OK;
}

esp_err_t esp_http_client_delete_all_headers(esp_http_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    header_clear(client);
    return ESP_OK;
}

esp_err_t esp_http_client_get_username(esp_http_client_handle_t client, char **value)
{
    if (client == NULL || value == NULL) {
        ESP_LOGE(TAG, "client or value must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    *value = client->username;
    return ESP_OK;
}

esp_err_t esp_http_client_set_username(esp_http_client_handle_t client, const char *username)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "client must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    return assign_str(&client->username, username, -1) ? ESP_OK : ESP_ERR_NO_MEM;
}

esp_err_t esp_http_client_get_password(esp_http_client_handle_t client, char **value)
{
    if (client == NULL || value == NULL) {
        ESP_LOGE(TAG, "client or value must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    *value = client->password;
    return ESP_OK;
}

esp_err_t esp_http_client_set_password(esp_http_client_handle_t client, const char *password)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "client must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    free_secret(&client->password);
    return assign_str(&client->password, password, -1) ? ESP_OK : ESP_ERR_NO_MEM;
}

esp_err_t esp_http_client_set_authtype(esp_http_client_handle_t client,
                                       esp_http_client_auth_type_t auth_type)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "client must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    client->auth_type = auth_type;
    return ESP_OK;
}

esp_err_t esp_http_client_get_user_data(esp_http_client_handle_t client, void **data)
{
    if (client == NULL || data == NULL) {
        ESP_LOGE(TAG, "client or data must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    *data = client->user_data;
    return ESP_OK;
}

esp_err_t esp_http_client_set_user_data(esp_http_client_handle_t client, void *data)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "client must not be NULL");
        return ESP_ERR_INVALID_ARG;
    }
    client->user_data = data;
    return ESP_OK;
}

int esp_http_client_get_errno(esp_http_client_handle_t client)
{
    if (client == NULL) {
        ESP_LOGE(TAG, "Invalid client handle");
        return -1;
    }
    int e = client->sock_errno;
    client->sock_errno = 0;
    return e;
}

esp_err_t esp_http_client_set_method(esp_http_client_handle_t client,
                                     esp_http_client_method_t method)
{
    if (client == NULL || (int)method < 0 || method >= HTTP_METHOD_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    client->method = method;
    return ESP_OK;
}

esp_err_t esp_http_client_set_timeout_ms(esp_http_client_handle_t client, int timeout_ms)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    client->timeout_ms = timeout_ms;
    return ESP_OK;
}

esp_err_t esp_http_client_set_post_field(esp_http_client_handle_t client, const char *data, int len)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    client->post_data = data;
    client->post_len = len;
    ESP_LOGD(TAG, "set post file length = %d", len);
    if (data == NULL) {
        client->post_len = 0;
        return ESP_ERR_INVALID_ARG; /* ESP-IDF: set_header(..., NULL) refuses */
    }
    if (header_find(client, "Content-Type") == NULL) {
        return header_set(client, "Content-Type", "application/x-www-form-urlencoded");
    }
    return ESP_OK;
}

int esp_http_client_get_post_field(esp_http_client_handle_t client, char **data)
{
    if (client == NULL || data == NULL || client->post_data == NULL) {
        return 0;
    }
    *data = (char *)client->post_data;
    return client->post_len;
}

int esp_http_client_get_status_code(esp_http_client_handle_t client)
{
    return client != NULL ? client->status_code : -1;
}

int64_t esp_http_client_get_content_length(esp_http_client_handle_t client)
{
    return client != NULL ? client->content_length : -1;
}

bool esp_http_client_is_chunked_response(esp_http_client_handle_t client)
{
    return client != NULL && client->is_chunked;
}

esp_http_client_transport_t esp_http_client_get_transport_type(esp_http_client_handle_t client)
{
    if (client == NULL || client->scheme == NULL) {
        return HTTP_TRANSPORT_UNKNOWN;
    }
    if (strcasecmp(client->scheme, "https") == 0) {
        return HTTP_TRANSPORT_OVER_SSL;
    }
    if (strcasecmp(client->scheme, "http") == 0) {
        return HTTP_TRANSPORT_OVER_TCP;
    }
    return HTTP_TRANSPORT_UNKNOWN;
}

esp_err_t esp_http_client_get_chunk_length(esp_http_client_handle_t client, int *len)
{
    if (client == NULL || len == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!client->is_chunked) {
        ESP_LOGE(TAG, "Response is not chunked");
        return ESP_FAIL;
    }
    *len = 0;
    return ESP_OK;
}
