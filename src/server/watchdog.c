/* The firmware server's head deadline (see srv_watchdog.h). */
#include "srv_watchdog.h"

#include <sys/socket.h>
#include <time.h>

#define TICK_MS 100 /* how late past its deadline a connection may be shut down */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Shuts down every connection past its deadline; the caller holds the lock. The socket is
 * still open (removal takes the lock before libmicrohttpd closes it), so the fd is the right
 * one. */
static void expire(srv_watchdog_t *wd)
{
    int64_t now = now_ms();
    for (srv_watch_t *w = wd->list; w != NULL; w = w->next) {
        if (w->deadline_ms != 0 && w->deadline_ms <= now) {
            shutdown(w->fd, SHUT_RDWR);
            w->deadline_ms = 0;
        }
    }
}

static void *run(void *arg)
{
    srv_watchdog_t *wd = arg;
    pthread_mutex_lock(&wd->lock);
    while (!wd->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd->wake, &wd->lock, &until);
        expire(wd);
    }
    pthread_mutex_unlock(&wd->lock);
    return NULL;
}

int srv_watchdog_start(srv_watchdog_t *wd, unsigned timeout_ms)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&wd->lock, NULL);
    pthread_cond_init(&wd->wake, &attr);
    pthread_condattr_destroy(&attr);
    wd->list = NULL;
    wd->timeout_ms = timeout_ms;
    wd->stopping = false;
    int e = pthread_create(&wd->thread, NULL, run, wd);
    wd->running = e == 0;
    if (e != 0) {
        pthread_cond_destroy(&wd->wake);
        pthread_mutex_destroy(&wd->lock);
    }
    return e;
}

void srv_watchdog_stop(srv_watchdog_t *wd)
{
    if (!wd->running) {
        return;
    }
    pthread_mutex_lock(&wd->lock);
    wd->stopping = true;
    pthread_cond_signal(&wd->wake);
    pthread_mutex_unlock(&wd->lock);
    pthread_join(wd->thread, NULL);
    pthread_cond_destroy(&wd->wake);
    pthread_mutex_destroy(&wd->lock);
    wd->running = false;
}

void srv_watch_add(srv_watchdog_t *wd, srv_watch_t *w, int fd)
{
    pthread_mutex_lock(&wd->lock);
    w->fd = fd;
    w->deadline_ms = now_ms() + wd->timeout_ms;
    w->prev = NULL;
    w->next = wd->list;
    if (wd->list != NULL) {
        wd->list->prev = w;
    }
    wd->list = w;
    pthread_mutex_unlock(&wd->lock);
}

void srv_watch_remove(srv_watchdog_t *wd, srv_watch_t *w)
{
    pthread_mutex_lock(&wd->lock);
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else if (wd->list == w) {
        wd->list = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
    w->prev = NULL;
    w->next = NULL;
    pthread_mutex_unlock(&wd->lock);
}

void srv_watch_head_done(srv_watchdog_t *wd, srv_watch_t *w)
{
    pthread_mutex_lock(&wd->lock);
    w->deadline_ms = 0;
    pthread_mutex_unlock(&wd->lock);
}

void srv_watch_rearm(srv_watchdog_t *wd, srv_watch_t *w)
{
    pthread_mutex_lock(&wd->lock);
    w->deadline_ms = now_ms() + wd->timeout_ms;
    pthread_mutex_unlock(&wd->lock);
}
