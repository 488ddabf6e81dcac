/*
 * Firmware server: serves the files of one directory over HTTP or HTTPS (host side).
 *
 * The counterpart of the servers the ESP-IDF OTA examples are tested against (Python's
 * http.server with SimpleHTTPRequestHandler over TLS, RangeHTTPServer, `openssl s_server -WWW`),
 * built on libmicrohttpd:
 *
 * - GET and HEAD; any other method is answered 501, as Python does.
 * - One byte range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`): 206 with Content-Range,
 *   the end clamped to the file; 416 when the range starts past the end (its Content-Range
 *   gives "*" for the range and the file size); a request for several ranges, or a malformed
 *   Range, gets 200 and the whole file. Range is honoured for GET only.
 * - Validators: a strong ETag built from the file's inode, size and mtime in nanoseconds (so a
 *   file that changes gets a new one) and Last-Modified. If-Range honours the Range when it
 *   names the current ETag (strong comparison) or exactly the Last-Modified date of a file
 *   modified at least one second before the request (RFC 9110's condition for a date to be a
 *   strong validator); otherwise the whole file is sent with 200. If-None-Match (or, without
 *   it, If-Modified-Since) answers 304.
 * - Keep-alive: HTTP/1.1 connections serve any number of requests; a pool of threads serves
 *   many clients at once.
 * - Only regular files inside the root are served. A path with a ".." segment, an encoded
 *   slash, backslash or NUL, a raw backslash, or whose real path (symlinks resolved) leaves the
 *   root, and every directory, FIFO or device, is answered 404 "File not found" (no listings);
 *   nothing is opened in a way that could block.
 * - Requests nginx refuses get 400: a raw NUL in the request target, HTTP/1.1 without Host,
 *   Content-Length fields that disagree, Content-Length with Transfer-Encoding. HTTPS speaks
 *   TLS 1.2 and 1.3 only.
 * - Slow clients: the TLS handshake and request head must complete within a deadline in total;
 *   a connection idle (nothing received or sent) too long is closed; connections are limited in
 *   total and per client address (see the configuration's limits). A file that shrinks during
 *   a download ends the connection at once.
 * - Access log in Python http.server's format, one line per request:
 *     127.0.0.1 - - [24/Nov/2026 10:11:12] "GET /hello_world.bin HTTP/1.1" 200 -
 *   preceded, for 404, 416 and 501, by Python's error line
 *     127.0.0.1 - - [24/Nov/2026 10:11:12] code 404, message File not found
 *   Local time, English month names; control characters in the request line are written as
 *   \xNN and backslashes doubled, as Python does.
 *
 * Test switches make it behave like the weaker servers: no_range (Python's handler: no Range,
 * no ETag, no Accept-Ranges), chunked bodies (openssl s_server -WWW), redirects, and connections
 * dropped part-way through a body.
 */
#ifndef OTA_SERVER_H
#define OTA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fixed redirect: a request whose decoded path equals `path` gets 302 with Location `url`. */
typedef struct ota_server_redirect {
    const char *path; /* "/old.bin" */
    const char *url;  /* "https://127.0.0.1:8070/new.bin" or "/new.bin" */
} ota_server_redirect_t;

/*
 * Server configuration. A zero-filled struct plus `root` is a plain-HTTP server on 127.0.0.1
 * with an ephemeral port. The server copies everything it needs during ota_server_start(); the
 * caller may free the strings afterwards. The access log stream is used, not owned: it must stay
 * open until ota_server_stop() returns.
 */
typedef struct ota_server_config {
    const char *root;      /* directory to serve (required) */
    const char *bind_addr; /* numeric IPv4 or IPv6 address; NULL = "127.0.0.1" */
    uint16_t port;         /* 0 = an ephemeral port (see ota_server_port) */
    const char *cert_path; /* PEM certificate (chain); with key_path, serves HTTPS */
    const char *key_path;  /* PEM private key; both NULL = plain HTTP */
    FILE *access_log;      /* NULL = no access log */
    unsigned threads;      /* worker threads; 0 = one per online core, at least 2 */

    /* Limits against slow or abusive clients; 0 = the default given. */
    unsigned head_timeout_ms; /* TLS handshake plus request (head and any body), in total, from
                                 the connection or the previous response; also the keep-alive
                                 wait (15000) */
    unsigned idle_timeout_s;  /* no byte received or sent, e.g. a client that stops reading (30) */
    unsigned max_connections; /* connections at once; more are closed when accepted (256) */
    unsigned max_per_address; /* connections at once from one client address (32) */

    /* Behaviour switches for tests. */
    bool no_range;                          /* ignore Range/If-Range, send 200 and the whole file */
    const ota_server_redirect_t *redirects; /* redirect_count entries, checked before files */
    size_t redirect_count;
    uint64_t drop_after_bytes; /* with drop_after_count > 0: close the connection after this */
    uint32_t drop_after_count; /* ...many body bytes, for the first drop_after_count bodies */
    bool chunked;              /* chunked transfer encoding, no Content-Length, for file bodies */
} ota_server_config_t;

/* Counters since start. Status classes count responses queued, whatever happened after. */
typedef struct ota_server_stats {
    uint64_t requests;   /* requests that reached the server's handler */
    uint64_t status_2xx; /* responses by status class */
    uint64_t status_3xx;
    uint64_t status_4xx;
    uint64_t status_5xx;
    uint64_t body_bytes;  /* file body bytes sent (HEAD and error pages excluded) */
    uint64_t connections; /* TCP connections accepted */
    uint64_t drops;       /* connections closed on purpose by drop_after */
} ota_server_stats_t;

typedef struct ota_server ota_server_t;

/*
 * Starts serving cfg->root in background threads and stores the handle in *out (the caller owns
 * it and releases it with ota_server_stop()). For HTTPS the certificate and key are read and
 * checked against each other before the server starts.
 *
 * Returns OTA_OK; OTA_ERR_INVALID_ARG for NULL cfg/out/root, a bind address that is not a
 * numeric IP address, only one of cert_path/key_path, or a redirect without path or URL;
 * OTA_ERR_NOT_FOUND when the root does not exist or is not a directory, or a certificate or key
 * file is missing; OTA_ERR_CORRUPT when the certificate or key cannot be parsed or do not match;
 * OTA_ERR_NET when the address cannot be bound or listened on (diag has the system's reason) or
 * the HTTP daemon cannot start; OTA_ERR_NO_MEM when an allocation fails. On failure *out is NULL
 * and nothing is left running.
 */
int ota_server_start(const ota_server_config_t *cfg, ota_server_t **out, ota_diag_t *diag);

/* The TCP port the server listens on (the real one when the configured port was 0). */
uint16_t ota_server_port(const ota_server_t *srv);

/* True when the server speaks HTTPS. */
bool ota_server_is_tls(const ota_server_t *srv);

/* Copies the current counters into *stats (a consistent-enough snapshot; counters only grow). */
void ota_server_stats(const ota_server_t *srv, ota_server_stats_t *stats);

/*
 * Stops the server: closes the listening socket and every connection, waits for the threads,
 * frees the handle. When final_stats is not NULL it receives the counters after the last
 * connection ended. NULL srv is a no-op. The port is free for reuse when this returns.
 */
void ota_server_stop(ota_server_t *srv, ota_server_stats_t *final_stats);

#ifdef __cplusplus
}
#endif

#endif /* OTA_SERVER_H */
