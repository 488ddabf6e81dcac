/*
 * ESP-IDF HTTP client (esp_http_client), v5.5 names, types, values and return conventions, on
 * the host over libcurl's multi interface.
 *
 * The client is a pull model, as on the device: esp_http_client_open() connects and sends the
 * request headers, esp_http_client_fetch_headers() runs the transfer until the response headers
 * are in, esp_http_client_read() runs it until body bytes are available. Received body bytes
 * wait in an internal buffer of max(buffer_size, 1024) bytes; when it is full the transfer is
 * paused, so memory stays bounded whatever the body size. esp_http_client_perform() does the
 * whole request, follows redirects and answers 401 challenges like ESP-IDF, and hands the body
 * to the event handler (HTTP_EVENT_ON_DATA).
 *
 * Differences from the device (see docs/DESIGN.md, "HTTP client"):
 * - No ESP event loop: events reach only the config's event_handler.
 * - keep_alive_enable also keeps the connection open across esp_http_client_close(), so a
 *   sequence of open/fetch/read/close cycles on one handle shares one TCP/TLS connection
 *   (without it, close() ends the connection as on the device). A response that was not read to
 *   the end is never reused.
 * - is_async is refused (esp_http_client_init returns NULL); write_len < 0 (a chunked request
 *   body written by the caller) is refused by esp_http_client_open.
 * - TLS is OpenSSL's: cert_pem (PEM or, with cert_len, DER) is the only trust anchor;
 *   crt_bundle_attach trusts the system store plus esp_crt_bundle_add_pem() certificates;
 *   with neither, the system store. use_global_ca_store selects the system store.
 * - HTTP digest authentication is not implemented (basic is).
 *
 * Thread safety: one handle must be used by one thread at a time; different handles are
 * independent. libcurl's global state is initialised once, on the first esp_http_client_init
 * (thread-safe), and released at process exit.
 */
#ifndef ESP_HTTP_CLIENT_H
#define ESP_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DEFAULT_HTTP_BUF_SIZE (512)

typedef struct esp_http_client *esp_http_client_handle_t;
typedef struct esp_http_client_event *esp_http_client_event_handle_t;

/* Event ids, values as in ESP-IDF v5.5. */
typedef enum {
    HTTP_EVENT_ERROR = 0,    /* an error during the request (data: esp-tls style error record) */
    HTTP_EVENT_ON_CONNECTED, /* a new connection to the server is established */
    HTTP_EVENT_HEADERS_SENT, /* the request headers have been sent */
    HTTP_EVENT_HEADER_SENT = HTTP_EVENT_HEADERS_SENT, /* deprecated alias */
    HTTP_EVENT_ON_HEADER,    /* one response header: header_key / header_value */
    HTTP_EVENT_ON_DATA,      /* body bytes received: data / data_len */
    HTTP_EVENT_ON_FINISH,    /* esp_http_client_perform finished a response */
    HTTP_EVENT_DISCONNECTED, /* esp_http_client_close was called (the connection ended) */
    HTTP_EVENT_REDIRECT,     /* 3xx with disable_auto_redirect: redirect left to the handler */
} esp_http_client_event_id_t;

/* What the event handler receives. Pointers are valid only during the call. */
typedef struct esp_http_client_event {
    esp_http_client_event_id_t event_id;
    esp_http_client_handle_t client;
    void *data;
    int data_len;
    void *user_data;
    char *header_key;
    char *header_value;
} esp_http_client_event_t;

/* Event-loop payloads of ESP-IDF (declared for source compatibility; no event loop here). */
typedef struct esp_http_client_on_data {
    esp_http_client_handle_t client;
    int64_t data_process;
} esp_http_client_on_data_t;

typedef struct esp_http_client_redirect_event_data {
    esp_http_client_handle_t client;
    int status_code;
} esp_http_client_redirect_event_data_t;

typedef enum {
    HTTP_TRANSPORT_UNKNOWN = 0x0,
    HTTP_TRANSPORT_OVER_TCP,
    HTTP_TRANSPORT_OVER_SSL,
} esp_http_client_transport_t;

typedef enum {
    ESP_HTTP_CLIENT_TLS_VER_ANY = 0,
    ESP_HTTP_CLIENT_TLS_VER_TLS_1_2 = 0x1,
    ESP_HTTP_CLIENT_TLS_VER_TLS_1_3 = 0x2,
    ESP_HTTP_CLIENT_TLS_VER_MAX,
} esp_http_client_proto_ver_t;

typedef esp_err_t (*http_event_handle_cb)(esp_http_client_event_t *evt);

typedef enum {
    HTTP_METHOD_GET = 0,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_NOTIFY,
    HTTP_METHOD_SUBSCRIBE,
    HTTP_METHOD_UNSUBSCRIBE,
    HTTP_METHOD_OPTIONS,
    HTTP_METHOD_COPY,
    HTTP_METHOD_MOVE,
    HTTP_METHOD_LOCK,
    HTTP_METHOD_UNLOCK,
    HTTP_METHOD_PROPFIND,
    HTTP_METHOD_PROPPATCH,
    HTTP_METHOD_MKCOL,
    HTTP_METHOD_REPORT,
    HTTP_METHOD_MAX,
} esp_http_client_method_t;

typedef enum {
    HTTP_AUTH_TYPE_NONE = 0,
    HTTP_AUTH_TYPE_BASIC,
    HTTP_AUTH_TYPE_DIGEST,
} esp_http_client_auth_type_t;

struct ifreq;
struct esp_transport_item_t;

/* How TLS buffers are kept after the handshake (mbedTLS dynamic buffers); accepted, ignored:
 * OpenSSL manages its own buffers. */
typedef enum {
    HTTP_TLS_DYN_BUF_RX_STATIC = 1,
    HTTP_TLS_DYN_BUF_STRATEGY_MAX,
} HTTP_TLS_DYN_BUF_STRATEGY;

/*
 * Client configuration; zero-filled fields take ESP-IDF's defaults (port from the scheme,
 * path "/", timeout 5000 ms, buffers 512 bytes, 10 redirects, 10 authorisation retries,
 * user agent "ESP32 HTTP Client/1.0"). Strings are copied by esp_http_client_init except the
 * certificate and key buffers, which must stay valid while the client exists (as on the device).
 */
typedef struct {
    const char *url; /* overrides host/port/path/query when set */
    const char *host;
    int port;
    const char *username;
    const char *password;
    esp_http_client_auth_type_t auth_type;
    const char *path;
    const char *query;
    const char *cert_pem; /* trust anchor(s): PEM text, or DER when cert_len != 0 */
    size_t cert_len;      /* 0: cert_pem is a NUL-terminated PEM string */
    const char *client_cert_pem;
    size_t client_cert_len;
    const char *client_key_pem;
    size_t client_key_len;
    const char *client_key_password;
    size_t client_key_password_len;
    esp_http_client_proto_ver_t tls_version;
    bool use_ecdsa_peripheral;   /* accepted, ignored */
    uint8_t ecdsa_key_efuse_blk; /* accepted, ignored */
    const char *user_agent;
    esp_http_client_method_t method;
    int timeout_ms;
    bool disable_auto_redirect;
    int max_redirection_count;
    int max_authorization_retries; /* 0: 10; -1: none */
    http_event_handle_cb event_handler;
    esp_http_client_transport_t transport_type;
    int buffer_size;    /* receive buffer */
    int buffer_size_tx; /* transmit buffer (request line limit) */
    void *user_data;
    bool is_async; /* not supported: init fails */
    bool use_global_ca_store;
    bool skip_cert_common_name_check;
    const char *common_name; /* name the server certificate must match instead of the host */
    esp_err_t (*crt_bundle_attach)(void *conf);
    bool keep_alive_enable;
    int keep_alive_idle;     /* seconds, default 5 */
    int keep_alive_interval; /* seconds, default 5 */
    int keep_alive_count;    /* default 3 */
    struct ifreq *if_name;   /* accepted, ignored */
    bool use_secure_element; /* accepted, ignored */
    void *ds_data;           /* accepted, ignored */
    bool save_client_session;
    struct esp_transport_item_t *transport; /* accepted, ignored */
    HTTP_TLS_DYN_BUF_STRATEGY tls_dyn_buf_strategy; /* accepted, ignored */
} esp_http_client_config_t;

/* HTTP status codes named by ESP-IDF. */
typedef enum {
    HttpStatus_Ok = 200,
    HttpStatus_PartialContent = 206,
    HttpStatus_MultipleChoices = 300,
    HttpStatus_MovedPermanently = 301,
    HttpStatus_Found = 302,
    HttpStatus_SeeOther = 303,
    HttpStatus_NotModified = 304,
    HttpStatus_TemporaryRedirect = 307,
    HttpStatus_PermanentRedirect = 308,
    HttpStatus_BadRequest = 400,
    HttpStatus_Unauthorized = 401,
    HttpStatus_Forbidden = 403,
    HttpStatus_NotFound = 404,
    HttpStatus_RangeNotSatisfiable = 416,
    HttpStatus_InternalError = 500
} HttpStatus_Code;

/*
 * Creates a client. Parses config->url (or host/path), sets the default "User-Agent" and "Host"
 * request headers. Returns the handle (release it with esp_http_client_cleanup), or NULL when
 * config is NULL, the URL does not parse, neither url nor host+path is given, is_async is set,
 * or memory runs out.
 */
esp_http_client_handle_t esp_http_client_init(const esp_http_client_config_t *config);

/*
 * Performs the whole request: open, send the post field (esp_http_client_set_post_field), fetch
 * the headers, follow redirects (up to max_redirection_count, unless disable_auto_redirect) and
 * 401 challenges, hand the body to HTTP_EVENT_ON_DATA, fire HTTP_EVENT_ON_FINISH per response.
 * Returns ESP_OK (whatever the final status code; a body cut short by a timeout or a closed
 * connection is not an error, as on the device), ESP_ERR_HTTP_CONNECT, ESP_ERR_HTTP_WRITE_DATA,
 * ESP_ERR_HTTP_FETCH_HEADER, ESP_ERR_HTTP_CONNECTION_CLOSED (server closed before answering),
 * ESP_ERR_HTTP_EAGAIN (no response headers within timeout_ms), ESP_ERR_HTTP_MAX_REDIRECT,
 * ESP_FAIL (redirect without Location), ESP_ERR_INVALID_ARG (client NULL).
 */
esp_err_t esp_http_client_perform(esp_http_client_handle_t client);

/*
 * Aborts the request in progress and reconnects so the handle can be used again.
 * Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL), ESP_ERR_INVALID_STATE (not connected), ESP_FAIL.
 */
esp_err_t esp_http_client_cancel_request(esp_http_client_handle_t client);

/*
 * Replaces the parts of the URL present in url (scheme, host, port, user info, path, query; an
 * absent path becomes "/", an absent query is cleared). A different host or port closes the
 * current connection and updates the "Host" header (host only, as ESP-IDF does).
 * Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL or unparsable URL), ESP_ERR_NO_MEM.
 */
esp_err_t esp_http_client_set_url(esp_http_client_handle_t client, const char *url);

/*
 * Sets the request body sent by esp_http_client_perform (not copied: data must stay valid) and,
 * if no Content-Type header is set, "Content-Type: application/x-www-form-urlencoded".
 * data NULL clears the body and returns ESP_ERR_INVALID_ARG (ESP-IDF v5.5 does the same).
 * Returns ESP_OK, ESP_ERR_INVALID_ARG, ESP_ERR_NO_MEM.
 */
esp_err_t esp_http_client_set_post_field(esp_http_client_handle_t client, const char *data,
                                         int len);

/* Stores the post field pointer in *data; returns its length, or 0 when none is set. */
int esp_http_client_get_post_field(esp_http_client_handle_t client, char **data);

/*
 * Sets (or replaces; keys compare case-insensitively) a request header; both strings are copied.
 * Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL argument), ESP_ERR_NO_MEM.
 */
esp_err_t esp_http_client_set_header(esp_http_client_handle_t client, const char *key,
                                     const char *value);

/*
 * Looks up a request header. *value receives a pointer to the stored value (owned by the
 * client, valid until the header changes) or NULL when the header is not set.
 * Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL client or key).
 */
esp_err_t esp_http_client_get_header(esp_http_client_handle_t client, const char *key,
                                     char **value);

/* Username/password/auth type for basic authentication. Strings are copied; NULL clears.
 * Getters hand out the client's own string. All return ESP_OK or ESP_ERR_INVALID_ARG. */
esp_err_t esp_http_client_get_username(esp_http_client_handle_t client, char **value);
esp_err_t esp_http_client_set_username(esp_http_client_handle_t client, const char *username);
esp_err_t esp_http_client_get_password(esp_http_client_handle_t client, char **value);
esp_err_t esp_http_client_set_password(esp_http_client_handle_t client, const char *password);
esp_err_t esp_http_client_set_authtype(esp_http_client_handle_t client,
                                       esp_http_client_auth_type_t auth_type);

/* user_data handed to the event handler. Return ESP_OK or ESP_ERR_INVALID_ARG (NULL). */
esp_err_t esp_http_client_get_user_data(esp_http_client_handle_t client, void **data);
esp_err_t esp_http_client_set_user_data(esp_http_client_handle_t client, void *data);

/*
 * The socket-level errno of the last failure (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTCONN for
 * a connection the server closed...), then cleared, as ESP-IDF's transport does. 0 when none;
 * -1 when client is NULL.
 */
int esp_http_client_get_errno(esp_http_client_handle_t client);

/* Sets the method of the next request. Returns ESP_OK, ESP_ERR_INVALID_ARG. */
esp_err_t esp_http_client_set_method(esp_http_client_handle_t client,
                                     esp_http_client_method_t method);

/* Sets the network timeout (connect, and each wait for data). Returns ESP_OK, INVALID_ARG. */
esp_err_t esp_http_client_set_timeout_ms(esp_http_client_handle_t client, int timeout_ms);

/* Removes a request header (absent: no change). Returns ESP_OK, ESP_ERR_INVALID_ARG. */
esp_err_t esp_http_client_delete_header(esp_http_client_handle_t client, const char *key);

/* Removes every request header, the defaults included. Returns ESP_OK, ESP_ERR_INVALID_ARG. */
esp_err_t esp_http_client_delete_all_headers(esp_http_client_handle_t client);

/*
 * Connects (or reuses the kept-alive connection) and sends the request line and headers.
 * write_len is the request body length the caller will send with esp_http_client_write
 * (0: none; it becomes Content-Length, always for methods other than GET/HEAD/DELETE).
 * Any request still in progress on the handle is ended first.
 * Returns ESP_OK; ESP_ERR_HTTP_CONNECT (DNS, refused, TLS handshake or certificate failure,
 * connect timeout; logged like esp-tls); ESP_ERR_HTTP_WRITE_DATA; ESP_ERR_HTTP_INVALID_TRANSPORT
 * (scheme neither http nor https); ESP_ERR_NOT_SUPPORTED (write_len < 0); ESP_ERR_INVALID_ARG;
 * ESP_ERR_NO_MEM. Failures fire HTTP_EVENT_ERROR.
 */
esp_err_t esp_http_client_open(esp_http_client_handle_t client, int write_len);

/*
 * Sends len bytes of the request body announced to esp_http_client_open. Returns the number of
 * bytes written (len), or -1 when the request is not open or the connection fails or stalls
 * for timeout_ms.
 */
int esp_http_client_write(esp_http_client_handle_t client, const char *buffer, int len);

/*
 * Receives the response headers (HTTP_EVENT_ON_HEADER for each). Returns the Content-Length;
 * 0 when there is none or it is 0 (the response is then treated as chunked: its end is the
 * final chunk or the server closing, as on the device); -ESP_ERR_HTTP_EAGAIN when no headers
 * arrived within timeout_ms (call again to keep waiting); ESP_FAIL (-1) when no request is open
 * or the connection failed or closed first (errno / esp_http_client_get_errno tell why).
 */
int64_t esp_http_client_fetch_headers(esp_http_client_handle_t client);

/* True when the response is chunked (or has no usable Content-Length, see fetch_headers). */
bool esp_http_client_is_chunked_response(esp_http_client_handle_t client);

/*
 * Reads up to len body bytes into buffer, waiting (timeout_ms per wait) until len bytes are in
 * or the body ends. Sets errno to 0 on entry. Returns:
 *  > 0  bytes read (fewer than len at the end of the body or when a wait timed out after some
 *       bytes arrived);
 *  0    the body is complete, or the server closed the connection before the end (then errno
 *       and esp_http_client_get_errno are ENOTCONN and is_complete_data_received is false);
 *  -ESP_ERR_HTTP_EAGAIN  nothing arrived within timeout_ms (the transfer goes on; call again);
 *  -1   a connection error (e.g. reset: errno ECONNRESET) before any byte of this call, or no
 *       response headers fetched; fires HTTP_EVENT_ERROR for connection errors.
 */
int esp_http_client_read(esp_http_client_handle_t client, char *buffer, int len);

/* Status code of the last response; -1 while fetch_headers waits; 0 before any request. */
int esp_http_client_get_status_code(esp_http_client_handle_t client);

/* Content-Length of the last response; -1 when absent (chunked or close-delimited). */
int64_t esp_http_client_get_content_length(esp_http_client_handle_t client);

/*
 * Ends the current request and fires HTTP_EVENT_DISCONNECTED (always, as ESP-IDF does). The
 * connection is closed unless keep_alive_enable is set and the response was read to the end.
 * The handle keeps its configuration and can open again. Returns ESP_OK, ESP_ERR_INVALID_ARG.
 */
esp_err_t esp_http_client_close(esp_http_client_handle_t client);

/*
 * Closes the connection and frees the client and everything it owns. Returns ESP_OK, or
 * ESP_FAIL when client is NULL.
 */
esp_err_t esp_http_client_cleanup(esp_http_client_handle_t client);

/* HTTP_TRANSPORT_OVER_SSL for https, _OVER_TCP for http, _UNKNOWN otherwise. */
esp_http_client_transport_t esp_http_client_get_transport_type(esp_http_client_handle_t client);

/*
 * Moves the client to the Location of the last 3xx response (relative references are resolved
 * against the current URL) and counts one redirection. Returns ESP_OK, ESP_ERR_INVALID_ARG
 * (NULL client or no Location received), or set_url's errors.
 */
esp_err_t esp_http_client_set_redirection(esp_http_client_handle_t client);

/* Resets the redirection counter. Returns ESP_OK, ESP_ERR_INVALID_ARG. */
esp_err_t esp_http_client_reset_redirect_counter(esp_http_client_handle_t client);

/*
 * Appends len bytes of auth_data to the stored WWW-Authenticate value (as ESP-IDF does).
 * Returns ESP_OK, ESP_ERR_INVALID_ARG (NULL, len <= 0).
 */
esp_err_t esp_http_client_set_auth_data(esp_http_client_handle_t client, const char *auth_data,
                                        int len);

/*
 * After a 401 response: reads the WWW-Authenticate challenge and prepares the credentials for
 * the next request (basic only; digest and unknown schemes log an error and clear auth_type).
 */
void esp_http_client_add_auth(esp_http_client_handle_t client);

/*
 * True when the whole body was received: the final chunk (or the close of a close-delimited
 * body) for chunked responses, Content-Length bytes otherwise.
 */
bool esp_http_client_is_complete_data_received(esp_http_client_handle_t client);

/* Calls esp_http_client_read until len bytes or the end; returns the bytes read (>= 0). */
int esp_http_client_read_response(esp_http_client_handle_t client, char *buffer, int len);

/*
 * Reads and discards the rest of the body. *len (optional) receives the bytes discarded.
 * Returns ESP_OK, ESP_FAIL (read error or timeout), ESP_ERR_INVALID_ARG.
 */
esp_err_t esp_http_client_flush_response(esp_http_client_handle_t client, int *len);

/*
 * Writes "scheme://host/path" (ESP-IDF leaves out port and query) into url (len bytes,
 * truncated, NUL-terminated). Returns ESP_OK, ESP_ERR_INVALID_ARG, ESP_FAIL.
 */
esp_err_t esp_http_client_get_url(esp_http_client_handle_t client, char *url, const int len);

/*
 * Length of the current chunk of a chunked response (0 on the host, where chunks are decoded
 * below this layer). Returns ESP_OK, ESP_FAIL (not chunked), ESP_ERR_INVALID_ARG.
 */
esp_err_t esp_http_client_get_chunk_length(esp_http_client_handle_t client, int *len);

#ifdef __cplusplus
}
#endif

#endif /* ESP_HTTP_CLIENT_H */
