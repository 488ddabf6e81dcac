/* The board's serial port on a TCP socket, raw or RFC 2217 (see serial_port.h). */
#include "serial_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Telnet and RFC 2217 codes. */
#define T_SE 240
#define T_SB 250
#define T_WILL 251
#define T_WONT 252
#define T_DO 253
#define T_DONT 254
#define T_IAC 255
#define OPT_BINARY 0
#define OPT_SGA 3
#define OPT_COM_PORT 44
#define CPO_SET_CONTROL 5
#define CTL_DTR_ON 8
#define CTL_DTR_OFF 9
#define CTL_RTS_ON 11
#define CTL_RTS_OFF 12
#define CPO_SERVER_OFFSET 100

#define RC_DELAY_MS 100 /* EN's RC delay: how long GPIO0 is sampled after EN goes high */
#define PTY_CHECK_MS 20 /* how often a pty without a client is checked for one */

typedef enum { T_DATA, T_CMD, T_OPT, T_SUB, T_SUB_IAC } tstate_t;

struct serial_port {
    bool pty;      /* a pseudo-terminal: listen_fd is its master, client_fd too while open */
    int listen_fd; /* the listening socket, or the pty's master */
    int client_fd;
    bool fresh;  /* no byte received from this client yet */
    bool telnet; /* the client speaks RFC 2217 */
    tstate_t ts;
    uint8_t tcmd;
    uint8_t sub[64];
    size_t sub_len;
    bool dtr, rts;
    bool en_low;
    bool pending;     /* EN went high: GPIO0 is being sampled */
    bool pending_low; /* GPIO0 was low during the sampling */
    uint64_t pending_end_ms;
    uint8_t keep[4096]; /* data bytes not yet consumed by a receive callback */
    size_t keep_len;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A pseudo-terminal in raw mode; prints its path. Returns its master, or -1 after an error. */
static int open_pty(void)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;
    if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0 || tcgetattr(fd, &t) != 0) {
        fprintf(stderr, "otakit: board run: --serial pty: %s\n", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    cfmakeraw(&t); /* the slave's settings: bytes pass unchanged until a client sets its own */
    tcsetattr(fd, TCSANOW, &t);
    /* Until its slave has been opened once, a master does not report hang-ups: open and close
     * it, so that the port starts as a UART with nobody on the other end. */
    int slave = open(ptsname(fd), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        close(slave);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fprintf(stderr, "otakit: serial port %s\n", ptsname(fd));
    return fd;
}

/* A TCP socket listening on 127.0.0.1:port; prints its URL. Returns it, or -1 after an error. */
static int open_socket(const char *spec, unsigned long port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        fprintf(stderr, "otakit: board run: --serial %s: %s\n", spec, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    fprintf(stderr, "otakit: serial port socket://127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
    return fd;
}

int serial_port_open(const char *spec, serial_port_t **out)
{
    unsigned long port = 0;
    char *end = NULL;
    bool pty = strcmp(spec, "pty") == 0;
    if (!pty && (strncmp(spec, "socket:", 7) != 0 || spec[7] == '\0' ||
                 (port = strtoul(spec + 7, &end, 10), *end != '\0') || port > 65535)) {
        fprintf(stderr, "otakit: board run: --serial %s: expected socket:PORT or pty\n", spec);
        return -1;
    }
    serial_port_t *sp = calloc(1, sizeof(*sp));
    if (sp == NULL) {
        fprintf(stderr, "otakit: board run: --serial %s: out of memory\n", spec);
        return -1;
    }
    sp->pty = pty;
    sp->listen_fd = pty ? open_pty() : open_socket(spec, port);
    sp->client_fd = -1;
    fflush(stderr);
    if (sp->listen_fd < 0) {
        free(sp);
        return -1;
    }
    *out = sp;
    return 0;
}

bool serial_port_is_pty(const serial_port_t *sp)
{
    return sp->pty;
}

const char *serial_port_pty_path(const serial_port_t *sp)
{
    return sp->pty ? ptsname(sp->listen_fd) : NULL;
}

uint16_t serial_port_number(const serial_port_t *sp)
{
    if (sp->pty) {
        return 0;
    }
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    if (getsockname(sp->listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        return 0;
    }
    return ntohs(sa.sin_port);
}

static void drop_client(serial_port_t *sp)
{
    if (sp->client_fd >= 0) {
        if (!sp->pty) {
            close(sp->client_fd); /* a pty's master stays open for the next client */
        }
        sp->client_fd = -1;
    }
    sp->keep_len = 0;
}

void serial_port_close(serial_port_t *sp)
{
    if (sp == NULL) {
        return;
    }
    drop_client(sp);
    close(sp->listen_fd);
    free(sp);
}

static void raw_write(serial_port_t *sp, const uint8_t *p, size_t n)
{
    while (n > 0 && sp->client_fd >= 0) {
        ssize_t w = sp->pty ? write(sp->client_fd, p, n) : send(sp->client_fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            return; /* a pty whose client does not read: the rest is lost, as on a UART */
        }
        if (w <= 0) {
            drop_client(sp);
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void serial_port_write(serial_port_t *sp, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (sp == NULL || sp->client_fd < 0) {
        return;
    }
    if (!sp->telnet) {
        raw_write(sp, p, n);
        return;
    }
    uint8_t buf[1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 2 > sizeof(buf)) {
            raw_write(sp, buf, k);
            k = 0;
        }
        buf[k++] = p[i];
        if (p[i] == T_IAC) {
            buf[k++] = T_IAC; /* a data byte 255 is doubled */
        }
    }
    raw_write(sp, buf, k);
}

/* ---- modem lines --------------------------------------------------------------------------- */

/* DTR/RTS changed: follow EN and GPIO0 through the auto-reset circuit. */
static void lines_changed(serial_port_t *sp)
{
    bool en_low = sp->rts && !sp->dtr;
    bool io0_low = sp->dtr && !sp->rts;
    if (en_low) {
        sp->pending = false;
    } else if (sp->en_low) {
        sp->pending = true;
        sp->pending_low = io0_low;
        sp->pending_end_ms = now_ms() + RC_DELAY_MS;
    } else if (sp->pending && io0_low) {
        sp->pending_low = true;
    }
    sp->en_low = en_low;
}

static int commit_reset(serial_port_t *sp)
{
    if (!sp->pending) {
        return SERIAL_EV_NONE;
    }
    sp->pending = false;
    return sp->pending_low ? SERIAL_EV_RESET_DOWNLOAD : SERIAL_EV_RESET_BOOT;
}

/* ---- Telnet -------------------------------------------------------------------------------- */

static void telnet_reply(serial_port_t *sp, uint8_t verb, uint8_t opt)
{
    uint8_t r[3] = {T_IAC, verb, opt};
    raw_write(sp, r, sizeof(r));
}

/* A WILL/WONT/DO/DONT: BINARY, SGA and COM-PORT-OPTION are accepted, the rest refused. */
static void telnet_option(serial_port_t *sp, uint8_t verb, uint8_t opt)
{
    bool ok = opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COM_PORT;
    if (verb == T_WILL) {
        telnet_reply(sp, ok ? T_DO : T_DONT, opt);
    } else if (verb == T_DO) {
        telnet_reply(sp, ok ? T_WILL : T_WONT, opt);
    }
}

/* A subnegotiation: every COM-PORT-OPTION request is acknowledged with its value. */
static void telnet_sub(serial_port_t *sp)
{
    if (sp->sub_len < 2 || sp->sub[0] != OPT_COM_PORT) {
        return;
    }
    uint8_t cmd = sp->sub[1];
    if (cmd == CPO_SET_CONTROL && sp->sub_len >= 3) {
        uint8_t v = sp->sub[2];
        if (v == CTL_DTR_ON || v == CTL_DTR_OFF) {
            sp->dtr = v == CTL_DTR_ON;
            lines_changed(sp);
        } else if (v == CTL_RTS_ON || v == CTL_RTS_OFF) {
            sp->rts = v == CTL_RTS_ON;
            lines_changed(sp);
        }
    }
    uint8_t r[2 * sizeof(sp->sub) + 6];
    size_t k = 0;
    r[k++] = T_IAC;
    r[k++] = T_SB;
    r[k++] = OPT_COM_PORT;
    r[k++] = (uint8_t)(cmd + CPO_SERVER_OFFSET);
    for (size_t i = 2; i < sp->sub_len; i++) {
        r[k++] = sp->sub[i];
        if (sp->sub[i] == T_IAC) {
            r[k++] = T_IAC;
        }
    }
    r[k++] = T_IAC;
    r[k++] = T_SE;
    raw_write(sp, r, k);
}

/* Runs the Telnet parser over one byte; returns true if it is a data byte (*c). */
static bool telnet_byte(serial_port_t *sp, uint8_t *c)
{
    switch (sp->ts) {
    case T_DATA:
        if (*c != T_IAC) {
            return true;
        }
        sp->ts = T_CMD;
        return false;
    case T_CMD:
        sp->ts = T_DATA;
        if (*c == T_IAC) {
            return true;
        }
        if (*c >= T_WILL) {
            sp->tcmd = *c;
            sp->ts = T_OPT;
        } else if (*c == T_SB) {
            sp->sub_len = 0;
            sp->ts = T_SUB;
        }
        return false;
    case T_OPT:
        telnet_option(sp, sp->tcmd, *c);
        sp->ts = T_DATA;
        return false;
    case T_SUB:
        if (*c == T_IAC) {
            sp->ts = T_SUB_IAC;
        } else if (sp->sub_len < sizeof(sp->sub)) {
            sp->sub[sp->sub_len++] = *c;
        }
        return false;
    case T_SUB_IAC:
    default:
        if (*c == T_IAC) {
            if (sp->sub_len < sizeof(sp->sub)) {
                sp->sub[sp->sub_len++] = T_IAC;
            }
            sp->ts = T_SUB;
        } else {
            telnet_sub(sp);
            sp->ts = T_DATA;
        }
        return false;
    }
}

/* ---- serving ------------------------------------------------------------------------------- */

static void start_client(serial_port_t *sp, int fd)
{
    drop_client(sp);
    sp->client_fd = fd;
    sp->fresh = true;
    sp->telnet = false;
    sp->ts = T_DATA;
    sp->dtr = sp->rts = sp->en_low = false;
}

static void accept_client(serial_port_t *sp)
{
    int fd = accept4(sp->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    start_client(sp, fd);
}

/* A pty has a client while some program holds its slave open (the master then no longer hangs
 * up); there is nothing to accept, so this is checked from time to time. */
static void pty_check_client(serial_port_t *sp)
{
    if (!sp->pty || sp->client_fd >= 0) {
        return;
    }
    struct pollfd p = {.fd = sp->listen_fd, .events = POLLIN};
    if (poll(&p, 1, 0) >= 0 && (p.revents & POLLHUP) == 0) {
        start_client(sp, sp->listen_fd);
    }
}

/* Passes the kept data bytes to rx; returns rx's event or SERIAL_EV_NONE. */
static int deliver(serial_port_t *sp, serial_rx_fn rx, void *ctx)
{
    if (sp->keep_len == 0) {
        return SERIAL_EV_NONE;
    }
    size_t used = sp->keep_len;
    int ev = rx(ctx, sp->keep, sp->keep_len, &used);
    if (used > sp->keep_len) {
        used = sp->keep_len;
    }
    memmove(sp->keep, sp->keep + used, sp->keep_len - used);
    sp->keep_len -= used;
    return ev;
}

/* Reads what the client sent; data bytes are kept. Returns a reset event, or NONE. */
static int read_client(serial_port_t *sp)
{
    uint8_t buf[sizeof(sp->keep)];
    size_t room = sizeof(sp->keep) - sp->keep_len;
    size_t want = room < sizeof(buf) ? room : sizeof(buf);
    ssize_t n = sp->pty ? read(sp->client_fd, buf, want) : recv(sp->client_fd, buf, want, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return SERIAL_EV_NONE;
    }
    if (n <= 0) {
        drop_client(sp); /* a pty's master reads EIO once its last client closed the slave */
        return sp->pty ? SERIAL_EV_HANGUP : commit_reset(sp);
    }
    if (sp->fresh) {
        sp->telnet = buf[0] == T_IAC;
        sp->fresh = false;
    }
    bool data = false;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t c = buf[i];
        if (!sp->telnet || telnet_byte(sp, &c)) {
            sp->keep[sp->keep_len++] = c;
            data = true;
        }
    }
    return data ? commit_reset(sp) : SERIAL_EV_NONE;
}

/* How long serve may wait in poll: until the deadline or the end of GPIO0's sampling, and no
 * longer than PTY_CHECK_MS while a pty waits for a client. */
static int wait_ms(const serial_port_t *sp, uint64_t deadline, uint64_t now)
{
    uint64_t until = sp->pending && sp->pending_end_ms < deadline ? sp->pending_end_ms : deadline;
    if (sp->pty && sp->client_fd < 0 && until - now > PTY_CHECK_MS) {
        until = now + PTY_CHECK_MS;
    }
    return until == UINT64_MAX ? -1 : until > now ? (int)(until - now) : 0;
}

int serial_port_serve(serial_port_t *sp, int timeout_ms, serial_rx_fn rx, void *ctx)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int ev = deliver(sp, rx, ctx);
        if (ev != SERIAL_EV_NONE) {
            return ev;
        }
        uint64_t now = now_ms();
        if (sp->pending && now >= sp->pending_end_ms) {
            return commit_reset(sp);
        }
        pty_check_client(sp);
        bool room = sp->keep_len < sizeof(sp->keep);
        struct pollfd pfd[2] = {{.fd = sp->pty ? -1 : sp->listen_fd, .events = POLLIN},
                                {.fd = room ? sp->client_fd : -1, .events = POLLIN}};
        int r = poll(pfd, 2, wait_ms(sp, deadline, now));
        if (r < 0 && errno != EINTR) {
            return SERIAL_EV_NONE;
        }
        if (r > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && sp->client_fd >= 0) {
            ev = read_client(sp);
            if (ev != SERIAL_EV_NONE) {
                return ev;
            }
        }
        if (r > 0 && (pfd[0].revents & POLLIN) != 0) {
            accept_client(sp);
        }
        if (deadline != UINT64_MAX && now_ms() >= deadline) {
            ev = deliver(sp, rx, ctx);
            if (ev == SERIAL_EV_NONE && sp->pending && now_ms() >= sp->pending_end_ms) {
                ev = commit_reset(sp);
            }
            return ev;
        }
    }
}
