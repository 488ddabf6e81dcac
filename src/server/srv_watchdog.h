/*
 * The firmware server's head deadline: a connection must complete its TLS handshake and its
 * request head within a fixed time in total (from the connection or from the end of the
 * previous response), however steadily it trickles bytes. libmicrohttpd only has an idle
 * timeout, which every byte resets; a watchdog thread shuts down the sockets of connections past
 * their deadline, and libmicrohttpd then closes them as it does any connection the peer ended.
 * Internal to src/server.
 */
#ifndef OTAKIT_SRV_WATCHDOG_H
#define OTAKIT_SRV_WATCHDOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* One watched connection (embedded in the server's per-connection state). */
typedef struct srv_watch {
    int fd;
    int64_t deadline_ms; /* monotonic; 0 while a request is being answered */
    struct srv_watch *prev;
    struct srv_watch *next;
} srv_watch_t;

typedef struct srv_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    srv_watch_t *list;
    unsigned timeout_ms;
    bool stopping;
    bool running;
} srv_watchdog_t;

/* Starts the watchdog thread with the deadline timeout_ms. Returns 0 or an errno value. */
int srv_watchdog_start(srv_watchdog_t *wd, unsigned timeout_ms);

/* Stops and joins the thread and releases its lock (a no-op when it never started). Call it
 * after the last connection was removed or when none can be added or removed any more. */
void srv_watchdog_stop(srv_watchdog_t *wd);

/* Watches a new connection on socket fd: its deadline starts now. */
void srv_watch_add(srv_watchdog_t *wd, srv_watch_t *w, int fd);

/* Stops watching w (the connection is closing; its socket is still open). */
void srv_watch_remove(srv_watchdog_t *wd, srv_watch_t *w);

/* The request head is complete: no deadline while the request is answered. */
void srv_watch_head_done(srv_watchdog_t *wd, srv_watch_t *w);

/* The response is complete: the next request head's deadline starts now. */
void srv_watch_rearm(srv_watchdog_t *wd, srv_watch_t *w);

#endif /* OTAKIT_SRV_WATCHDOG_H */
