/* ESP-IDF's HTTP server: what a handler calls on its request (body, headers, query, response). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esp_log.h"
#include "httpd_priv.h"

/* Largest amount of a chunked response held for the client before a chunk has to wait. */
#define STREAM_HOLD (64 * 1024)

static httpd_rq_t *rq_of(httpd_req_t *r)
{
    return r != NULL ? r->aux : NULL;
}

/* ---- body ---------------------------------------------------------------------------------- */

int httpd_req_recv(httpd_req_t *r, char *buf, size_t buf_len)
{
    httpd_rq_t *rq = rq_of(r);
    if (rq == NULL || buf == NULL) {
        return HTTPD_SOCK_ERR_INVALID;
    }
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    if (buf_len > rq->remaining) {
        buf_len = rq->remaining;
    }
    struct timespec until = httpd_deadline(srv->cfg.recv_wait_timeout);
    bool in_time = true;
    while (buf_len > 0 && rq->chunk_len == 0 && !rq->body_end && !rq->closed && !srv->stopping &&
           in_time) {
        in_time = httpd_wait(srv, &until);
    }
    int n = 0;
    if (buf_len > 0 && rq->chunk_len > 0) {
        size_t k = rq->chunk_len < buf_len ? rq->chunk_len : buf_len;
        memcpy(buf, rq->chunk, k);
        rq->chunk += k;
        rq->chunk_len -= k;
        rq->remaining -= k;
        n = (int)k;
        pthread_cond_broadcast(&srv->cv);
    } else if (buf_len > 0 && !in_time) {
        n = HTTPD_SOCK_ERR_TIMEOUT;
    }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

/* ---- headers and query --------------------------------------------------------------------- */

/* A request header; none once the response has started (ESP-IDF drops them then). */
static const char *header(httpd_rq_t *rq, const char *field)
{
    if (rq->mode != RESP_NONE) {
        return NULL;
    }
    for (size_t i = 0; i < rq->n_hdrs; i++) {
        if (rq->hdrs[i].name != NULL && strcasecmp(rq->hdrs[i].name, field) == 0) {
            return rq->hdrs[i].value;
        }
    }
    return NULL;
}

/* Copies the n bytes of src into dst (cap bytes, NUL-terminated), truncating if needed. */
static esp_err_t copy_out(const char *src, size_t n, char *dst, size_t cap)
{
    if (cap == 0) {
        return ESP_ERR_HTTPD_RESULT_TRUNC;
    }
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
    return k < n ? ESP_ERR_HTTPD_RESULT_TRUNC : ESP_OK;
}

size_t httpd_req_get_hdr_value_len(httpd_req_t *r, const char *field)
{
    httpd_rq_t *rq = rq_of(r);
    const char *v = rq != NULL && field != NULL ? header(rq, field) : NULL;
    return v != NULL ? strlen(v) : 0;
}

esp_err_t httpd_req_get_hdr_value_str(httpd_req_t *r, const char *field, char *val, size_t val_size)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || field == NULL || val == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    const char *v = header(rq, field);
    return v != NULL ? copy_out(v, strlen(v), val, val_size) : ESP_ERR_NOT_FOUND;
}

static const char *query_of(httpd_req_t *r)
{
    const char *q = strchr(r->uri, '?');
    return q != NULL ? q + 1 : NULL;
}

size_t httpd_req_get_url_query_len(httpd_req_t *r)
{
    const char *q = r != NULL ? query_of(r) : NULL;
    return q != NULL ? strlen(q) : 0;
}

esp_err_t httpd_req_get_url_query_str(httpd_req_t *r, char *buf, size_t buf_len)
{
    if (r == NULL || buf == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const char *q = query_of(r);
    return q != NULL ? copy_out(q, strlen(q), buf, buf_len) : ESP_ERR_NOT_FOUND;
}

esp_err_t httpd_query_key_value(const char *qry, const char *key, char *val, size_t val_size)
{
    if (qry == NULL || key == NULL || val == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    size_t klen = strlen(key);
    for (const char *p = qry; *p != '\0';) {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        size_t name_len = eq != NULL ? (size_t)(eq - p) : plen;
        if (name_len == klen && strncmp(p, key, klen) == 0) {
            const char *v = eq != NULL ? eq + 1 : p + plen;
            return copy_out(v, (size_t)(p + plen - v), val, val_size);
        }
        p += plen;
        if (*p == '&') {
            p++;
        }
    }
    return ESP_ERR_NOT_FOUND;
}

/* ---- response ------------------------------------------------------------------------------ */

esp_err_t httpd_resp_set_status(httpd_req_t *r, const char *status)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || status == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    rq->status = status;
    return ESP_OK;
}

esp_err_t httpd_resp_set_type(httpd_req_t *r, const char *type)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || type == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    rq->type = type;
    return ESP_OK;
}

esp_err_t httpd_resp_set_hdr(httpd_req_t *r, const char *field, const char *value)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || field == NULL || value == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    if (rq->n_resp_hdrs >= rq->srv->cfg.max_resp_headers) {
        return ESP_ERR_HTTPD_RESP_HDR;
    }
    httpd_hdr_t *h = realloc(rq->resp_hdrs, (rq->n_resp_hdrs + 1) * sizeof(*h));
    if (h == NULL) {
        return ESP_ERR_HTTPD_ALLOC_MEM;
    }
    rq->resp_hdrs = h;
    h[rq->n_resp_hdrs++] = (httpd_hdr_t){(char *)field, (char *)value};
    return ESP_OK;
}

/* Appends len bytes to the response body buffer. Lock held. */
static bool append(httpd_rq_t *rq, const char *buf, size_t len)
{
    if (rq->body_len + len > rq->body_cap) {
        size_t cap = rq->body_cap > 0 ? rq->body_cap : 1024;
        while (cap < rq->body_len + len) {
            cap *= 2;
        }
        char *b = realloc(rq->body, cap);
        if (b == NULL) {
            return false;
        }
        rq->body = b;
        rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, buf, len);
    rq->body_len += len;
    return true;
}

esp_err_t httpd_resp_send(httpd_req_t *r, const char *buf, ssize_t buf_len)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || (buf == NULL && buf_len != 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    size_t len = buf_len == HTTPD_RESP_USE_STRLEN ? strlen(buf) : (size_t)buf_len;
    httpd_srv_t *srv = rq->srv;
    esp_err_t ret = ESP_OK;
    pthread_mutex_lock(&srv->mu);
    if (rq->mode != RESP_NONE) {
        ret = ESP_ERR_HTTPD_INVALID_REQ;
    } else if (rq->closed || srv->stopping) {
        ret = ESP_ERR_HTTPD_RESP_SEND;
    } else if (!append(rq, buf, len)) {
        ret = ESP_ERR_HTTPD_ALLOC_MEM;
    } else {
        rq->mode = RESP_FULL;
        pthread_cond_broadcast(&srv->cv);
    }
    pthread_mutex_unlock(&srv->mu);
    return ret;
}

esp_err_t httpd_resp_send_chunk(httpd_req_t *r, const char *buf, ssize_t buf_len)
{
    httpd_rq_t *rq = rq_of(r);
    if (r == NULL || (buf == NULL && buf_len > 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rq == NULL) {
        return ESP_ERR_HTTPD_INVALID_REQ;
    }
    size_t len = buf == NULL ? 0 : buf_len == HTTPD_RESP_USE_STRLEN ? strlen(buf) : (size_t)buf_len;
    httpd_srv_t *srv = rq->srv;
    pthread_mutex_lock(&srv->mu);
    esp_err_t ret = rq->mode == RESP_FULL || rq->stream_end ? ESP_ERR_HTTPD_INVALID_REQ : ESP_OK;
    rq->mode = ret == ESP_OK ? RESP_STREAM : rq->mode;
    pthread_cond_broadcast(&srv->cv);
    struct timespec until = httpd_deadline(srv->cfg.send_wait_timeout);
    bool in_time = true;
    while (ret == ESP_OK && rq->body_len > STREAM_HOLD && !rq->closed && !srv->stopping &&
           in_time) {
        in_time = httpd_wait(srv, &until);
    }
    if (ret == ESP_OK && (rq->closed || srv->stopping || !in_time)) {
        ret = ESP_ERR_HTTPD_RESP_SEND;
    } else if (ret == ESP_OK && len == 0) {
        rq->stream_end = true;
    } else if (ret == ESP_OK && !append(rq, buf, len)) {
        ret = ESP_ERR_HTTPD_ALLOC_MEM;
    }
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    return ret;
}

esp_err_t httpd_resp_sendstr(httpd_req_t *r, const char *str)
{
    return httpd_resp_send(r, str, str != NULL ? HTTPD_RESP_USE_STRLEN : 0);
}

esp_err_t httpd_resp_sendstr_chunk(httpd_req_t *r, const char *str)
{
    return httpd_resp_send_chunk(r, str, str != NULL ? HTTPD_RESP_USE_STRLEN : 0);
}

/* ESP-IDF's status lines and default messages of the error codes. */
static const struct {
    const char *status;
    const char *msg;
} k_errors[HTTPD_ERR_CODE_MAX] = {
    [HTTPD_500_INTERNAL_SERVER_ERROR] = {"500 Internal Server Error",
                                         "Server has encountered an unexpected error"},
    [HTTPD_501_METHOD_NOT_IMPLEMENTED] = {"501 Method Not Implemented",
                                          "Server does not support this method"},
    [HTTPD_505_VERSION_NOT_SUPPORTED] = {"505 Version Not Supported",
                                         "HTTP version not supported by server"},
    [HTTPD_400_BAD_REQUEST] = {"400 Bad Request", "Bad request syntax"},
    [HTTPD_401_UNAUTHORIZED] = {"401 Unauthorized", "No permission -- see authorization schemes"},
    [HTTPD_403_FORBIDDEN] = {"403 Forbidden", "Request forbidden -- authorization will not help"},
    [HTTPD_404_NOT_FOUND] = {"404 Not Found", "Nothing matches the given URI"},
    [HTTPD_405_METHOD_NOT_ALLOWED] = {"405 Method Not Allowed",
                                      "Specified method is invalid for this resource"},
    [HTTPD_408_REQ_TIMEOUT] = {"408 Request Timeout", "Server closed this connection"},
    [HTTPD_411_LENGTH_REQUIRED] = {"411 Length Required", "Client must specify Content-Length"},
    [HTTPD_414_URI_TOO_LONG] = {"414 URI Too Long", "URI is too long"},
    [HTTPD_431_REQ_HDR_FIELDS_TOO_LARGE] = {"431 Request Header Fields Too Large",
                                            "Header fields are too long"},
};

esp_err_t httpd_resp_send_err(httpd_req_t *r, httpd_err_code_t error, const char *msg)
{
    if ((unsigned)error >= HTTPD_ERR_CODE_MAX) {
        error = HTTPD_500_INTERNAL_SERVER_ERROR; /* ESP-IDF's default case */
    }
    const char *text = msg != NULL ? msg : k_errors[error].msg;
    ESP_LOGW("httpd_txrx", "httpd_resp_send_err: %s - %s", k_errors[error].status, text);
    esp_err_t ret = httpd_resp_set_status(r, k_errors[error].status);
    if (ret == ESP_OK) {
        httpd_resp_set_type(r, HTTPD_TYPE_TEXT);
        ret = httpd_resp_sendstr(r, text);
    }
    return ret;
}
