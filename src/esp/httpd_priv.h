/*
 * Internals of the HTTP server (esp_http_server.c: server, connections, handler thread;
 * esp_http_server_req.c: the request and response calls). Not installed.
 *
 * A request is shared by its libmicrohttpd connection thread (which feeds the body and, once the
 * handler has started the response, hands it to libmicrohttpd) and the server's handler thread.
 * Both sides wait on the server's one mutex and condition variable; the record is freed when
 * both have let it go (refs).
 */
#ifndef HTTPD_PRIV_H
#define HTTPD_PRIV_H

#include <microhttpd.h>
#include <pthread.h>
#include <time.h>
#include <stdbool.h>

#include "esp_http_server.h"

typedef struct httpd_hdr {
    char *name;
    char *value;
} httpd_hdr_t;

typedef enum { RESP_NONE, RESP_FULL, RESP_STREAM } httpd_resp_mode_t;

typedef struct httpd_rq {
    httpd_req_t req; /* first member: handlers get &req, and req.aux points back here */
    struct httpd_srv *srv;
    httpd_uri_t handler;
    int refs;
    bool too_long; /* URI longer than max_uri_len */
    bool started;  /* the connection thread has seen the headers */
    /* request */
    httpd_hdr_t *hdrs;
    size_t n_hdrs;
    const char *chunk; /* body bytes offered by the connection thread */
    size_t chunk_len;
    size_t remaining; /* of content_len */
    bool body_end;
    bool closed; /* the connection is gone */
    bool done;   /* the handler returned */
    esp_err_t result;
    /* response */
    httpd_resp_mode_t mode;
    const char *status;
    const char *type;
    httpd_hdr_t *resp_hdrs; /* pointers owned by the caller until the response goes out */
    size_t n_resp_hdrs;
    char *body; /* RESP_FULL: a copy; RESP_STREAM: bytes not yet taken by libmicrohttpd */
    size_t body_len;
    size_t body_cap;
    bool stream_end;
    struct httpd_rq *next; /* handler queue */
} httpd_rq_t;

typedef struct httpd_srv {
    struct MHD_Daemon *mhd;
    httpd_config_t cfg;
    uint16_t port;
    httpd_uri_t *uris; /* copies, uri strings owned */
    size_t n_uris;
    pthread_t task;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    httpd_rq_t *head;
    httpd_rq_t *tail;
    bool stopping;
} httpd_srv_t;

/* Drops one reference to rq (server lock held); frees it with the last one. */
void httpd_rq_release(httpd_rq_t *rq);

/* Waits on the server's condition until woken or until deadline (NULL: no limit). Returns false
 * once the deadline has passed. Lock held. */
bool httpd_wait(httpd_srv_t *srv, const struct timespec *deadline);

/* The CLOCK_MONOTONIC time timeout_s seconds from now. */
struct timespec httpd_deadline(unsigned timeout_s);

#endif /* HTTPD_PRIV_H */
