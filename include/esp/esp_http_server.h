/*
 * ESP-IDF's HTTP server (esp_http_server.h, v5.5) on libmicrohttpd.
 *
 * As in ESP-IDF, URI handlers run one at a time in the server's own thread; a handler pulls the
 * request body with httpd_req_recv and sends its response with httpd_resp_send (whole) or
 * httpd_resp_send_chunk (chunked transfer). Each connection has a libmicrohttpd thread that feeds
 * the body to the handler as it arrives, so an upload handler that loops httpd_req_recv into
 * esp_ota_write holds one receive buffer, never the whole body. The server listens on 127.0.0.1
 * (the board's network); server_port 0 picks a free port (httpd_get_port tells which).
 * Not supported: WebSockets, sessions (sess_ctx is kept per request only), httpd_queue_work,
 * custom open/close functions, TLS (esp_https_server).
 */
#ifndef ESP_HTTP_SERVER_H
#define ESP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "esp_err.h"
#include "http_parser.h"
#include "otakit_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_HTTPD_BASE 0xb000
#define ESP_ERR_HTTPD_HANDLERS_FULL (ESP_ERR_HTTPD_BASE + 1)
#define ESP_ERR_HTTPD_HANDLER_EXISTS (ESP_ERR_HTTPD_BASE + 2)
#define ESP_ERR_HTTPD_INVALID_REQ (ESP_ERR_HTTPD_BASE + 3)
#define ESP_ERR_HTTPD_RESULT_TRUNC (ESP_ERR_HTTPD_BASE + 4)
#define ESP_ERR_HTTPD_RESP_HDR (ESP_ERR_HTTPD_BASE + 5)
#define ESP_ERR_HTTPD_RESP_SEND (ESP_ERR_HTTPD_BASE + 6)
#define ESP_ERR_HTTPD_ALLOC_MEM (ESP_ERR_HTTPD_BASE + 7)
#define ESP_ERR_HTTPD_TASK (ESP_ERR_HTTPD_BASE + 8)

#ifdef CONFIG_HTTPD_MAX_REQ_HDR_LEN
#define HTTPD_MAX_REQ_HDR_LEN CONFIG_HTTPD_MAX_REQ_HDR_LEN
#else
#define HTTPD_MAX_REQ_HDR_LEN 512
#endif
#ifdef CONFIG_HTTPD_MAX_URI_LEN
#define HTTPD_MAX_URI_LEN CONFIG_HTTPD_MAX_URI_LEN
#else
#define HTTPD_MAX_URI_LEN 512
#endif

/* httpd_req_recv's failures. */
#define HTTPD_SOCK_ERR_FAIL -1
#define HTTPD_SOCK_ERR_INVALID -2
#define HTTPD_SOCK_ERR_TIMEOUT -3

#define HTTPD_200 "200 OK"
#define HTTPD_204 "204 No Content"
#define HTTPD_207 "207 Multi-Status"
#define HTTPD_400 "400 Bad Request"
#define HTTPD_404 "404 Not Found"
#define HTTPD_408 "408 Request Timeout"
#define HTTPD_500 "500 Internal Server Error"

#define HTTPD_TYPE_JSON "application/json"
#define HTTPD_TYPE_TEXT "text/html"
#define HTTPD_TYPE_OCTET "application/octet-stream"

/* Length argument meaning "strlen of the buffer". */
#define HTTPD_RESP_USE_STRLEN -1

/* Any method (httpd_uri_t.method, for handlers of every method). */
#define HTTP_ANY -1

#define ESP_HTTPD_DEF_CTRL_PORT 32768

typedef void *httpd_handle_t;
typedef enum http_method httpd_method_t;
typedef void (*httpd_free_ctx_fn_t)(void *ctx);
typedef esp_err_t (*httpd_open_func_t)(httpd_handle_t hd, int sockfd);
typedef void (*httpd_close_func_t)(httpd_handle_t hd, int sockfd);
typedef bool (*httpd_uri_match_func_t)(const char *reference_uri, const char *uri_to_match,
                                       size_t match_upto);

typedef struct httpd_config {
    unsigned task_priority;    /* accepted, unused (one host thread) */
    size_t stack_size;         /* accepted, unused */
    int core_id;               /* accepted, unused */
    uint32_t task_caps;        /* accepted, unused */
    size_t max_req_hdr_len;    /* accepted (libmicrohttpd limits the header block itself) */
    size_t max_uri_len;        /* longer request URIs are answered 414 */
    uint16_t server_port;      /* 0: a free port */
    uint16_t ctrl_port;        /* accepted, unused */
    uint16_t max_open_sockets; /* simultaneous connections */
    uint16_t max_uri_handlers;
    uint16_t max_resp_headers;
    uint16_t backlog_conn;
    bool lru_purge_enable;      /* accepted, unused */
    uint16_t recv_wait_timeout; /* seconds httpd_req_recv waits for body bytes */
    uint16_t send_wait_timeout; /* seconds a chunk waits for the client to take earlier ones */
    void *global_user_ctx;      /* freed with global_user_ctx_free_fn (or free) at httpd_stop */
    httpd_free_ctx_fn_t global_user_ctx_free_fn;
    void *global_transport_ctx;
    httpd_free_ctx_fn_t global_transport_ctx_free_fn;
    bool enable_so_linger;
    int linger_timeout;
    bool keep_alive_enable;
    int keep_alive_idle;
    int keep_alive_interval;
    int keep_alive_count;
    httpd_open_func_t open_fn;           /* not supported: must be NULL */
    httpd_close_func_t close_fn;         /* not supported: must be NULL */
    httpd_uri_match_func_t uri_match_fn; /* NULL: exact match of the path */
} httpd_config_t;

#define HTTPD_DEFAULT_CONFIG()                                                                     \
    {                                                                                              \
        .task_priority = 5, .stack_size = 4096, .core_id = 0x7FFFFFFF, .task_caps = 0,             \
        .max_req_hdr_len = HTTPD_MAX_REQ_HDR_LEN, .max_uri_len = HTTPD_MAX_URI_LEN,                \
        .server_port = 80, .ctrl_port = ESP_HTTPD_DEF_CTRL_PORT, .max_open_sockets = 7,            \
        .max_uri_handlers = 8, .max_resp_headers = 8, .backlog_conn = 5,                           \
        .lru_purge_enable = false, .recv_wait_timeout = 5, .send_wait_timeout = 5,                 \
        .global_user_ctx = NULL, .global_user_ctx_free_fn = NULL, .global_transport_ctx = NULL,    \
        .global_transport_ctx_free_fn = NULL, .enable_so_linger = false, .linger_timeout = 0,      \
        .keep_alive_enable = false, .keep_alive_idle = 0, .keep_alive_interval = 0,                \
        .keep_alive_count = 0, .open_fn = NULL, .close_fn = NULL, .uri_match_fn = NULL             \
    }

/* One request, as a handler sees it. */
typedef struct httpd_req {
    httpd_handle_t handle;                 /* the server */
    int method;                            /* enum http_method */
    const char uri[HTTPD_MAX_URI_LEN + 1]; /* as received: path and query, not decoded */
    size_t content_len;                    /* Content-Length (0 without one) */
    void *aux;                             /* the server's private data */
    void *user_ctx;                        /* the handler's httpd_uri_t.user_ctx */
    void *sess_ctx;                        /* freed with free_ctx (or free) after the request */
    httpd_free_ctx_fn_t free_ctx;
    bool ignore_sess_ctx_changes;
} httpd_req_t;

typedef struct httpd_uri {
    const char *uri;       /* path (or template for uri_match_fn) */
    httpd_method_t method; /* or HTTP_ANY */
    esp_err_t (*handler)(httpd_req_t *r);
    void *user_ctx;
} httpd_uri_t;

typedef enum {
    HTTPD_500_INTERNAL_SERVER_ERROR = 0,
    HTTPD_501_METHOD_NOT_IMPLEMENTED,
    HTTPD_505_VERSION_NOT_SUPPORTED,
    HTTPD_400_BAD_REQUEST,
    HTTPD_401_UNAUTHORIZED,
    HTTPD_403_FORBIDDEN,
    HTTPD_404_NOT_FOUND,
    HTTPD_405_METHOD_NOT_ALLOWED,
    HTTPD_408_REQ_TIMEOUT,
    HTTPD_411_LENGTH_REQUIRED,
    HTTPD_414_URI_TOO_LONG,
    HTTPD_431_REQ_HDR_FIELDS_TOO_LARGE,
    HTTPD_ERR_CODE_MAX
} httpd_err_code_t;

/*
 * Starts a server with config and stores its handle in *handle. Returns ESP_OK;
 * ESP_ERR_INVALID_ARG for NULL arguments, open_fn/close_fn set, or no handler or socket slots;
 * ESP_ERR_HTTPD_ALLOC_MEM; ESP_ERR_HTTPD_TASK when the port cannot be bound or the threads
 * cannot start.
 */
esp_err_t httpd_start(httpd_handle_t *handle, const httpd_config_t *config);

/* Stops the server: closes its connections, waits for a running handler to return, frees the
 * handlers and the global contexts. Returns ESP_OK or ESP_ERR_INVALID_ARG (NULL). */
esp_err_t httpd_stop(httpd_handle_t handle);

/* The TCP port the server listens on (useful with server_port 0), or 0 for NULL. otakit. */
uint16_t httpd_get_port(httpd_handle_t handle);

/* The global_user_ctx of the configuration. */
void *httpd_get_global_user_ctx(httpd_handle_t handle);

/*
 * Registers a handler (the structure is copied, the URI string too). Returns ESP_OK;
 * ESP_ERR_INVALID_ARG; ESP_ERR_HTTPD_HANDLER_EXISTS (same URI and method);
 * ESP_ERR_HTTPD_HANDLERS_FULL (max_uri_handlers reached).
 */
esp_err_t httpd_register_uri_handler(httpd_handle_t handle, const httpd_uri_t *uri_handler);

/* Removes the handler of uri and method (ESP_ERR_NOT_FOUND if none). */
esp_err_t httpd_unregister_uri_handler(httpd_handle_t handle, const char *uri,
                                       httpd_method_t method);

/* Removes every handler of uri (ESP_ERR_NOT_FOUND if none). */
esp_err_t httpd_unregister_uri(httpd_handle_t handle, const char *uri);

/*
 * ESP-IDF's wildcard matcher, for uri_match_fn: the template may end in '*' (anything may
 * follow) and its last character may be made optional with a '?' after it ("/api/?*" matches
 * "/api", "/api/" and "/api/x"). Compares the first match_upto characters of uri_to_match.
 */
bool httpd_uri_match_wildcard(const char *uri_template, const char *uri_to_match,
                              size_t match_upto);

/*
 * Reads up to buf_len body bytes (never past content_len) into buf, waiting up to
 * recv_wait_timeout seconds. Returns the number of bytes; 0 when the body is complete (or
 * buf_len is 0, or the client closed the connection); HTTPD_SOCK_ERR_TIMEOUT when nothing came
 * in time; HTTPD_SOCK_ERR_INVALID for bad arguments or a request that is not in progress.
 */
int httpd_req_recv(httpd_req_t *r, char *buf, size_t buf_len);

/* Length of the value of request header field (case-insensitive), 0 when absent. */
size_t httpd_req_get_hdr_value_len(httpd_req_t *r, const char *field);

/*
 * Copies the value of request header field into val (val_size bytes, NUL-terminated).
 * Returns ESP_OK; ESP_ERR_NOT_FOUND; ESP_ERR_HTTPD_RESULT_TRUNC (truncated copy);
 * ESP_ERR_INVALID_ARG; ESP_ERR_HTTPD_INVALID_REQ.
 */
esp_err_t httpd_req_get_hdr_value_str(httpd_req_t *r, const char *field, char *val,
                                      size_t val_size);

/* Length of the query string (after '?'), 0 when there is none. */
size_t httpd_req_get_url_query_len(httpd_req_t *r);

/* Copies the query string as httpd_req_get_hdr_value_str copies a header value. */
esp_err_t httpd_req_get_url_query_str(httpd_req_t *r, char *buf, size_t buf_len);

/*
 * Finds key in a query string "k1=v1&k2=v2" and copies its value (not decoded) into val.
 * Returns ESP_OK; ESP_ERR_NOT_FOUND; ESP_ERR_HTTPD_RESULT_TRUNC; ESP_ERR_INVALID_ARG.
 */
esp_err_t httpd_query_key_value(const char *qry, const char *key, char *val, size_t val_size);

/* The response status ("404 Not Found"; default "200 OK"); the string must stay valid until
 * the response is sent. Returns ESP_OK, ESP_ERR_INVALID_ARG, ESP_ERR_HTTPD_INVALID_REQ. */
esp_err_t httpd_resp_set_status(httpd_req_t *r, const char *status);

/* The Content-Type (default "text/html"); same rules as httpd_resp_set_status. */
esp_err_t httpd_resp_set_type(httpd_req_t *r, const char *type);

/* Adds a response header; ESP_ERR_HTTPD_RESP_HDR past max_resp_headers. */
esp_err_t httpd_resp_set_hdr(httpd_req_t *r, const char *field, const char *value);

/*
 * Sends the whole response: status, headers, Content-Length and buf_len bytes of buf
 * (HTTPD_RESP_USE_STRLEN: strlen). Returns ESP_OK; ESP_ERR_INVALID_ARG;
 * ESP_ERR_HTTPD_INVALID_REQ (a response was already sent); ESP_ERR_HTTPD_RESP_SEND (the client
 * is gone).
 */
esp_err_t httpd_resp_send(httpd_req_t *r, const char *buf, ssize_t buf_len);

/*
 * Sends one chunk of a chunked response (status and headers go with the first); buf_len 0 ends
 * the response. Waits up to send_wait_timeout seconds while the client has not taken earlier
 * chunks. Returns as httpd_resp_send.
 */
esp_err_t httpd_resp_send_chunk(httpd_req_t *r, const char *buf, ssize_t buf_len);

/* httpd_resp_send / _send_chunk of a NUL-terminated string (NULL ends a chunked response). */
esp_err_t httpd_resp_sendstr(httpd_req_t *r, const char *str);
esp_err_t httpd_resp_sendstr_chunk(httpd_req_t *r, const char *str);

/* Sends an error response: the code's status and msg (or ESP-IDF's default text) as the body.
 * Returns as httpd_resp_send. */
esp_err_t httpd_resp_send_err(httpd_req_t *r, httpd_err_code_t error, const char *msg);

static inline esp_err_t httpd_resp_send_404(httpd_req_t *r)
{
    return httpd_resp_send_err(r, HTTPD_404_NOT_FOUND, NULL);
}

static inline esp_err_t httpd_resp_send_408(httpd_req_t *r)
{
    return httpd_resp_send_err(r, HTTPD_408_REQ_TIMEOUT, NULL);
}

static inline esp_err_t httpd_resp_send_500(httpd_req_t *r)
{
    return httpd_resp_send_err(r, HTTPD_500_INTERNAL_SERVER_ERROR, NULL);
}

#ifdef __cplusplus
}
#endif

#endif /* ESP_HTTP_SERVER_H */
