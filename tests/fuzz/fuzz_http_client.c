/*
 * esp_http_client's response path (libcurl underneath) fed from a byte stream: every connection
 * the client opens is one end of a socketpair whose other end holds the next response of the
 * input and is then closed for writing, so no network is involved. The input's first byte picks
 * the way the client is driven (perform with its events, or open / fetch_headers / read with
 * redirects followed by hand, as esp_https_ota does), the method, the buffer size and redirect
 * handling; the rest is up to four responses separated by "\n--next--\n". The client must end
 * every request within its time-out and never report more body bytes than it was sent.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "esp_http_client.h"
#include "esp_http_client_priv.h"
#include "esp_log.h"
#include "fuzz_util.h"

#define SEP "\n--next--\n"
#define MAX_RESPONSES 4

typedef struct stream {
    const uint8_t *resp[MAX_RESPONSES];
    size_t len[MAX_RESPONSES];
    int count;
    int next;
    int peers[16]; /* the other ends, closed after the request */
    int npeers;
    size_t total; /* bytes of every response */
} stream_t;

static stream_t st;
static int client_fds[16]; /* the ends handed to the client */
static int nclient;

/*
 * libcurl 7.88 (Debian 12) calls connect() even when the socket-option callback says the socket
 * is already connected (a regression fixed in curl 8.0, curl/curl#10626), so this program
 * provides connect() for the ends it handed out, and the system call for everything else.
 */
#if defined(__USE_GNU) && !defined(__cplusplus)
#define SOCKADDR_OF(a) ((a).__sockaddr__) /* glibc's transparent union */
#else
#define SOCKADDR_OF(a) (a)
#endif

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    for (int i = 0; i < nclient; i++) {
        if (client_fds[i] == fd) {
            return 0;
        }
    }
    return (int)syscall(SYS_connect, fd, SOCKADDR_OF(addr), len);
}

static int connect_fn(void *ctx)
{
    stream_t *s = ctx;
    int sv[2];
    if (s->next >= s->count || s->npeers >= 16 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        return -1;
    }
    /* a response larger than the socket buffer is cut there (the input is at most 8 KiB) */
    const uint8_t *p = s->resp[s->next];
    size_t left = s->len[s->next];
    s->next++;
    while (left > 0) {
        ssize_t n = send(sv[1], p, left, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    s->peers[s->npeers++] = sv[1];
    client_fds[nclient++] = sv[0];
    return sv[0];
}

static void split(const uint8_t *data, size_t size)
{
    memset(&st, 0, sizeof(st));
    st.total = size;
    const uint8_t *end = data + size;
    while (st.count < MAX_RESPONSES) {
        const uint8_t *sep = memmem(data, (size_t)(end - data), SEP, strlen(SEP));
        st.resp[st.count] = data;
        st.len[st.count] = sep ? (size_t)(sep - data) : (size_t)(end - data);
        st.count++;
        if (sep == NULL) {
            break;
        }
        data = sep + strlen(SEP);
    }
}

static int64_t event_bytes;

static esp_err_t on_event(esp_http_client_event_t *evt)
{
    if (evt->event_id == HTTP_EVENT_ON_DATA) {
        FUZZ_CHECK(evt->data_len >= 0);
        event_bytes += evt->data_len;
    } else if (evt->event_id == HTTP_EVENT_ON_HEADER) {
        FUZZ_CHECK(evt->header_key != NULL && evt->header_value != NULL);
    }
    return ESP_OK;
}

/* open / fetch_headers / read, following redirects by hand. */
static int64_t drive_by_hand(esp_http_client_handle_t c)
{
    int64_t body = 0;
    for (int round = 0; round < 3; round++) {
        if (esp_http_client_open(c, 0) != ESP_OK) {
            break;
        }
        esp_http_client_fetch_headers(c);
        int status = esp_http_client_get_status_code(c);
        char buf[700];
        int n;
        while ((n = esp_http_client_read(c, buf, sizeof(buf))) > 0) {
            FUZZ_CHECK(n <= (int)sizeof(buf));
            body += n;
        }
        esp_http_client_is_complete_data_received(c);
        if (status >= 300 && status < 400 && esp_http_client_set_redirection(c) == ESP_OK) {
            esp_http_client_close(c);
            continue;
        }
        break;
    }
    esp_http_client_close(c);
    return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        esp_log_level_set("*", ESP_LOG_NONE);
        esp_http_client_set_connect_hook(connect_fn, &st);
    }
    fuzz_in_t in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    split(in.data, in.size);
    static const int sizes[] = {512, 1024, 2048, 4096};
    esp_http_client_config_t cfg = {
        .url = "http://127.0.0.1:8070/fw.bin",
        .event_handler = on_event,
        .method = (mode & 2) ? HTTP_METHOD_HEAD : HTTP_METHOD_GET,
        .buffer_size = sizes[(mode >> 2) & 3],
        .disable_auto_redirect = (mode & 16) != 0,
        .max_redirection_count = 2,
        .timeout_ms = 3000,
    };
    esp_http_client_handle_t c = esp_http_client_init(&cfg);
    if (c == NULL) {
        return 0;
    }
    event_bytes = 0;
    int64_t body = 0;
    if (mode & 1) {
        esp_http_client_perform(c);
        esp_http_client_get_status_code(c);
        esp_http_client_get_content_length(c);
        esp_http_client_is_chunked_response(c);
        if (mode & 32) { /* a second request on the same client */
            esp_http_client_perform(c);
        }
    } else {
        body = drive_by_hand(c);
    }
    FUZZ_CHECK(body <= (int64_t)st.total);
    FUZZ_CHECK(event_bytes <= (int64_t)st.total);
    esp_http_client_cleanup(c);
    for (int i = 0; i < st.npeers; i++) {
        close(st.peers[i]);
    }
    nclient = 0;
    return 0;
}
