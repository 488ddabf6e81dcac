/*
 * ESP-IDF HTTPS OTA (esp_https_ota, v5.5) over esp_http_client and the esp_ota_* API.
 *
 * The calls, states, checks, log lines (tag "esp_https_ota"), events and error codes are
 * ESP-IDF v5.5's (spec section 6). Four things go further, each described in docs/DESIGN.md
 * ("HTTPS OTA") and docs/differences.md:
 *
 *  1. One connection per update. The client is never closed between the HEAD request and the
 *     Range requests of a partial download, nor between ranges: each request reuses the
 *     kept-alive (TLS) connection left by the previous, fully read, response.
 *  2. Validators. The strong ETag of the file being downloaded is kept with its URL in NVS
 *     (namespace "otakit_ota") from the first response on, so that after a power cut the
 *     resumed request carries If-Range; every later Range request of the update carries it too.
 *     A changed file is then answered with 200 and the whole new file, and the download starts
 *     again from byte 0 (esp_ota_begin afresh) instead of mixing two images.
 *  3. A 200 answer to any Range request (a server without Range support, or a changed file) is
 *     never written at the requested offset: its body is taken as the whole file and the update
 *     restarts from byte 0 with it, as one full download. A 206 for another start, another
 *     file size or another ETag is refused the same way (a fresh full request).
 *  4. A connection that drops during the body is reopened with a Range request for the first
 *     byte not yet received (bounded attempts), instead of failing the update.
 */
#include "esp_https_ota.h"
#include "esp_flash_encrypt.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "esp_internal.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "https_ota_logic.h"
#include "nvs.h"

ESP_EVENT_DEFINE_BASE(ESP_HTTPS_OTA_EVENT);

static const char *TAG = "esp_https_ota";

#define DEFAULT_REQUEST_SIZE (64 * 1024)
#define DEFAULT_MAX_AUTH_RETRIES 10
#define EVENT_POST_TIMEOUT_MS 2000

/* Image header (24) + segment header (8): where the app/bootloader description starts. */
#define DESC_OFFSET 32
#define IMG_HDR_LEN 24

/* Difference 4: attempts to reopen a dropped connection before perform() gives up. The count
 * starts again whenever body bytes arrive, so a server that keeps dropping but keeps making
 * progress is followed to the end. */
#define RECONNECT_ATTEMPTS 3
/* ...and the number of times one update may go back to byte 0 before a drop ends it (a server
 * that ignores Range and keeps dropping would otherwise be fetched from the start forever). */
#define RESTARTS_MAX 4

/* Difference 2: where the validator of the download in progress is kept. */
#define RECORD_NAMESPACE "otakit_ota"
#define RECORD_KEY_URL "url"
#define RECORD_KEY_ETAG "etag"
#define ETAG_MAX 128

typedef enum {
    ESP_HTTPS_OTA_INIT,
    ESP_HTTPS_OTA_BEGIN,
    ESP_HTTPS_OTA_IN_PROGRESS,
    ESP_HTTPS_OTA_SUCCESS,
    ESP_HTTPS_OTA_RESUME,
} ota_state_t;

typedef struct ota_ctx ota_ctx_t;

struct ota_ctx {
    ota_ctx_t *next; /* registry of live handles (their clients' events come through it) */

    esp_ota_handle_t update_handle;
    const esp_partition_t *staging;
    const esp_partition_t *final;
    bool finalize_with_copy;

    esp_http_client_handle_t client;
    http_event_handle_cb user_handler;
    char *buf;
    int buf_size;
    int binary_file_len; /* bytes written (or header bytes read, before the first write) */
    int image_length;    /* ESP-IDF's image length: Content-Length minus the encryption header */
    ota_state_t state;
    bool partial;
    int max_request;
    bool bulk_erase;
    bool resumption;
    int auth_retries;

    bool decrypt;
    decrypt_cb_t decrypt_cb;
    void *decrypt_ctx;
    uint16_t enc_header;

    /* Position in the file on the server. */
    long long file_len; /* bytes of the file (-1 unknown: chunked) */
    long long pos;      /* file offset of the next body byte of the current response */
    unsigned restarts;  /* times the download went back to byte 0 */
    int reconnects;     /* consecutive reconnection attempts without progress */
    bool resume_check;  /* the request in flight is begin()'s resumption request */
    bool range_ignored; /* ...and the server answered it with the whole file */

    /* Response headers of the current response (captured from HTTP_EVENT_ON_HEADER). */
    char resp_etag[ETAG_MAX + 2];
    char resp_range[96];

    /* The strong ETag of the file being downloaded ("" when none) and the record's key. */
    char etag[ETAG_MAX + 2];
    char *url;

    /* Description handed out by get_img_desc, to notice a file that changes mid-way. */
    bool desc_given;
    unsigned desc_len;
    uint8_t desc[sizeof(esp_app_desc_t)];
    unsigned desc_restarts;
};

/* ---- events ----------------------------------------------------------------------------- */

static const char *const event_names[] = {
    "ESP_HTTPS_OTA_START",
    "ESP_HTTPS_OTA_CONNECTED",
    "ESP_HTTPS_OTA_GET_IMG_DESC",
    "ESP_HTTPS_OTA_VERIFY_CHIP_ID",
    "ESP_HTTPS_OTA_VERIFY_CHIP_REVISION",
    "ESP_HTTPS_OTA_DECRYPT_CB",
    "ESP_HTTPS_OTA_WRITE_FLASH",
    "ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION",
    "ESP_HTTPS_OTA_FINISH",
    "ESP_HTTPS_OTA_ABORT",
};

static void dispatch_event(esp_https_ota_event_t id, const void *data, size_t size)
{
    if (esp_event_post(ESP_HTTPS_OTA_EVENT, id, data, size, EVENT_POST_TIMEOUT_MS) != ESP_OK) {
        ESP_LOGE(TAG, "Failed to post https_ota event: %s", event_names[id]);
    }
}

/* ---- configuration of the installed app ------------------------------------------------ */

static bool app_cfg_bool(const char *key)
{
    if (!esp_dev_installed()) {
        return false;
    }
    return ota_sdkconfig_bool(esp_internal_config()->sdkconfig, key, false);
}

static bool decrypt_enabled(void)
{
    return app_cfg_bool("ESP_HTTPS_OTA_DECRYPT_CB");
}

/* ---- client events: capture the response headers, pass everything on ------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ota_ctx_t *registry;

static void registry_add(ota_ctx_t *ctx)
{
    pthread_mutex_lock(&registry_lock);
    ctx->next = registry;
    registry = ctx;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(ota_ctx_t *ctx)
{
    pthread_mutex_lock(&registry_lock);
    for (ota_ctx_t **p = &registry; *p != NULL; p = &(*p)->next) {
        if (*p == ctx) {
            *p = ctx->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

static void copy_header(char *dst, size_t cap, const char *value)
{
    size_t n = strlen(value);
    if (n >= cap) {
        dst[0] = '\0'; /* too long to be one of ours: treated as absent */
        return;
    }
    memcpy(dst, value, n + 1);
}

static esp_err_t on_client_event(esp_http_client_event_t *evt)
{
    ota_ctx_t *ctx = NULL;
    pthread_mutex_lock(&registry_lock);
    for (ota_ctx_t *c = registry; c != NULL; c = c->next) {
        if (c->client == evt->client) {
            ctx = c;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (ctx == NULL) {
        return ESP_OK;
    }
    if (evt->event_id == HTTP_EVENT_ON_HEADER && evt->header_key != NULL &&
        evt->header_value != NULL) {
        if (strcasecmp(evt->header_key, "ETag") == 0) {
            copy_header(ctx->resp_etag, sizeof(ctx->resp_etag), evt->header_value);
        } else if (strcasecmp(evt->header_key, "Content-Range") == 0) {
            copy_header(ctx->resp_range, sizeof(ctx->resp_range), evt->header_value);
        }
    }
    return ctx->user_handler != NULL ? ctx->user_handler(evt) : ESP_OK;
}

/* ---- the validator record in NVS (difference 2) ---------------------------------------- */

static bool record_open(nvs_open_mode_t mode, nvs_handle_t *h)
{
    esp_err_t err = nvs_open(RECORD_NAMESPACE, mode, h);
    if (err != ESP_OK) {
        ESP_LOGD(TAG, "No OTA validator record (nvs_open: %s)", esp_err_to_name(err));
        return false;
    }
    return true;
}

/* Keeps {url, etag} of the download that just started; no usable ETag erases the record. */
static void record_store(const ota_ctx_t *ctx)
{
    nvs_handle_t h;
    if (ctx->url == NULL || !record_open(NVS_READWRITE, &h)) {
        return;
    }
    esp_err_t err = nvs_erase_all(h);
    if (err == ESP_OK && ctx->etag[0] != '\0') {
        err = nvs_set_str(h, RECORD_KEY_URL, ctx->url);
        if (err == ESP_OK) {
            err = nvs_set_str(h, RECORD_KEY_ETAG, ctx->etag);
        }
    }
    if (err == ESP_OK) {
        err = nvs_commit(h);
    }
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "Could not save the image's ETag for resumption (%s)", esp_err_to_name(err));
    }
    nvs_close(h);
}

static void record_erase(void)
{
    nvs_handle_t h;
    if (!record_open(NVS_READWRITE, &h)) {
        return;
    }
    if (nvs_erase_all(h) == ESP_OK) {
        nvs_commit(h);
    }
    nvs_close(h);
}

/* Loads the ETag saved for url into ctx->etag (left empty when there is none for that URL). */
static void record_load(ota_ctx_t *ctx)
{
    nvs_handle_t h;
    ctx->etag[0] = '\0';
    if (ctx->url == NULL || !record_open(NVS_READONLY, &h)) {
        return;
    }
    size_t len = 0;
    if (nvs_get_str(h, RECORD_KEY_URL, NULL, &len) == ESP_OK && len == strlen(ctx->url) + 1) {
        char *url = malloc(len);
        char etag[ETAG_MAX + 2];
        size_t elen = sizeof(etag);
        if (url != NULL && nvs_get_str(h, RECORD_KEY_URL, url, &len) == ESP_OK &&
            strcmp(url, ctx->url) == 0 && nvs_get_str(h, RECORD_KEY_ETAG, etag, &elen) == ESP_OK &&
            ota_https_etag_strong(etag, ETAG_MAX)) {
            memcpy(ctx->etag, etag, strlen(etag) + 1);
        }
        free(url);
    }
    nvs_close(h);
}

/* Takes the current response's ETag as the validator of the download (if it is strong). */
static void adopt_response_etag(ota_ctx_t *ctx)
{
    if (ota_https_etag_strong(ctx->resp_etag, ETAG_MAX)) {
        memcpy(ctx->etag, ctx->resp_etag, strlen(ctx->resp_etag) + 1);
    } else {
        ctx->etag[0] = '\0';
    }
    record_store(ctx);
}

/* ---- requests --------------------------------------------------------------------------- */

/* Reads and drops the rest of a response body (redirects, 401, error pages). */
static void drain(ota_ctx_t *ctx)
{
    char tmp[256];
    while (esp_http_client_read(ctx->client, tmp, sizeof(tmp)) > 0) {
    }
}

/* ESP-IDF's response handler (spec 6.3). */
static esp_err_t handle_status(ota_ctx_t *ctx, int status)
{
    esp_err_t err;
    switch (ota_https_status_classify(status, ctx->resume_check)) {
    case OTA_HTTPS_STATUS_REDIRECT:
        err = esp_http_client_set_redirection(ctx->client);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "URL redirection Failed");
            return err;
        }
        drain(ctx);
        return ESP_OK;
    case OTA_HTTPS_STATUS_NOT_MODIFIED:
        ESP_LOGI(TAG, "OTA image not modified since last request (status code: %d)", status);
        return ESP_ERR_HTTP_NOT_MODIFIED;
    case OTA_HTTPS_STATUS_RANGE_UNSAT:
        ESP_LOGI(TAG, "Requested range is incorrect (status code: %d)", status);
        return ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE;
    case OTA_HTTPS_STATUS_AUTH:
        if (ctx->auth_retries == 0) {
            ESP_LOGE(TAG, "Reached max_authorization_retries (%d)", status);
            return ESP_FAIL;
        }
        ctx->auth_retries--;
        esp_http_client_add_auth(ctx->client);
        drain(ctx);
        return ESP_OK;
    case OTA_HTTPS_STATUS_NOT_FOUND:
        ESP_LOGE(TAG, "File not found(%d)", status);
        return ESP_FAIL;
    case OTA_HTTPS_STATUS_CLIENT_ERROR:
        ESP_LOGE(TAG, "Client error (%d)", status);
        return ESP_FAIL;
    case OTA_HTTPS_STATUS_SERVER_ERROR:
        ESP_LOGE(TAG, "Server error (%d)", status);
        return ESP_FAIL;
    case OTA_HTTPS_STATUS_RANGE_IGNORED:
        if (ctx->etag[0] != '\0' && ctx->resp_etag[0] != '\0' &&
            strcmp(ctx->etag, ctx->resp_etag) != 0) {
            ESP_LOGW(TAG,
                     "The image changed on the server since the interrupted download "
                     "(ETag %s, was %s)",
                     ctx->resp_etag, ctx->etag);
        } else {
            ESP_LOGW(TAG, "Server ignored the requested Range header");
            ESP_LOGW(TAG, "OTA resumption requires server with range request support.");
        }
        ctx->range_ignored = status == 200;
        return ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE;
    case OTA_HTTPS_STATUS_OK:
        break;
    }
    return ESP_OK;
}

/* The connect routine (spec 6.3): request, headers, status; again after redirects and 401. */
static esp_err_t http_connect(ota_ctx_t *ctx)
{
    int status;
    do {
        ctx->resp_etag[0] = '\0';
        ctx->resp_range[0] = '\0';
        char *post = NULL;
        int post_len = esp_http_client_get_post_field(ctx->client, &post);
        esp_err_t err = esp_http_client_open(ctx->client, post_len);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "Failed to open HTTP connection: %s", esp_err_to_name(err));
            return err;
        }
        while (post_len > 0) {
            int n = esp_http_client_write(ctx->client, post, post_len);
            if (n < 0) {
                ESP_LOGE(TAG, "Write failed");
                return ESP_FAIL;
            }
            post_len -= n;
            post += n;
        }
        int64_t header_ret = esp_http_client_fetch_headers(ctx->client);
        if (header_ret < 0) {
            return (esp_err_t)header_ret;
        }
        status = esp_http_client_get_status_code(ctx->client);
        err = handle_status(ctx, status);
        if (err != ESP_OK) {
            return err;
        }
    } while (ota_https_status_again(status));
    return ESP_OK;
}

static void set_range_headers(ota_ctx_t *ctx, const char *range, bool if_range)
{
    esp_http_client_set_header(ctx->client, "Range", range);
    if (if_range && ctx->etag[0] != '\0') {
        esp_http_client_set_header(ctx->client, "If-Range", ctx->etag);
    } else {
        esp_http_client_delete_header(ctx->client, "If-Range");
    }
}

static void clear_range_headers(ota_ctx_t *ctx)
{
    esp_http_client_delete_header(ctx->client, "Range");
    esp_http_client_delete_header(ctx->client, "If-Range");
}

/* Content-Length of the current response (-1: none, the body ends with the last chunk). */
static long long response_length(const ota_ctx_t *ctx)
{
    if (esp_http_client_is_chunked_response(ctx->client)) {
        return -1;
    }
    return (long long)esp_http_client_get_content_length(ctx->client);
}

/*
 * Differences 2 and 3: the current response (200, no Range applied) carries the whole file, so
 * the download starts again from byte 0 with its body: an open flash session is dropped
 * (nothing more is written at the old offset) and the next perform() begins afresh with
 * esp_ota_begin, erasing as it goes.
 */
static void restart_with_body(ota_ctx_t *ctx)
{
    if (ctx->state == ESP_HTTPS_OTA_IN_PROGRESS) {
        esp_ota_abort(ctx->update_handle);
    }
    if (ctx->state == ESP_HTTPS_OTA_IN_PROGRESS || ctx->state == ESP_HTTPS_OTA_RESUME) {
        ctx->state = ESP_HTTPS_OTA_BEGIN;
    }
    ctx->binary_file_len = 0;
    ctx->pos = 0;
    ctx->partial = false;
    ctx->resumption = false;
    ctx->restarts++;
    ctx->file_len = response_length(ctx);
    ctx->image_length = (int)(ctx->file_len < 0 ? -1 : ctx->file_len - ctx->enc_header);
    clear_range_headers(ctx);
    adopt_response_etag(ctx);
}

/* Asks for the whole file again (no Range) and restarts from byte 0 with the answer. */
static esp_err_t restart_full(ota_ctx_t *ctx)
{
    ESP_LOGW(TAG, "Range response does not continue the image: requesting the whole image");
    clear_range_headers(ctx);
    esp_err_t err = http_connect(ctx);
    if (err != ESP_OK) {
        return err;
    }
    restart_with_body(ctx);
    return ESP_OK;
}

/*
 * Requests the file from absolute offset pos (bounded by max_request in partial mode) with
 * If-Range, and checks that the answer continues the same file there; a 200 restarts from
 * byte 0 with its body, any other mismatch asks for the whole file.
 */
static esp_err_t request_from(ota_ctx_t *ctx, long long pos)
{
    char range[64];
    ota_https_next_range(range, sizeof(range), pos, ctx->file_len,
                         ctx->partial ? ctx->max_request : 0);
    set_range_headers(ctx, range, true);
    esp_err_t err = http_connect(ctx);
    if (err != ESP_OK) {
        return err;
    }
    int status = esp_http_client_get_status_code(ctx->client);
    switch (ota_https_range_check(status, pos, ctx->resp_range, ctx->etag, ctx->resp_etag,
                                  ctx->file_len)) {
    case OTA_HTTPS_RANGE_CONTINUE:
        ctx->pos = pos;
        return ESP_OK;
    case OTA_HTTPS_RANGE_FULL:
        ESP_LOGW(TAG,
                 "Server sent the whole image instead of bytes from %lld: restarting "
                 "download from beginning",
                 pos);
        restart_with_body(ctx);
        return ESP_OK;
    case OTA_HTTPS_RANGE_MISMATCH:
    default:
        return restart_full(ctx);
    }
}

/* Body bytes from the current response; keeps the file position. */
static int ota_read(ota_ctx_t *ctx, char *dst, int len)
{
    int n = esp_http_client_read(ctx->client, dst, len);
    if (n > 0) {
        ctx->pos += n;
    }
    return n;
}

/*
 * Difference 4: reopens a dropped connection at the first byte not yet received. Returns ESP_OK
 * when a response continues the download (or restarted it from byte 0), else ESP_FAIL.
 */
static esp_err_t reconnect_after_drop(ota_ctx_t *ctx)
{
    if (ctx->decrypt) {
        return ESP_FAIL; /* the decryptor's stream cannot be re-entered mid-way */
    }
    if (ctx->restarts >= RESTARTS_MAX) {
        ESP_LOGE(TAG, "Download restarted %u times, not reconnecting again", ctx->restarts);
        return ESP_FAIL;
    }
    while (ctx->reconnects < RECONNECT_ATTEMPTS) {
        ctx->reconnects++;
        if (ctx->file_len >= 0) {
            ESP_LOGW(TAG,
                     "Connection lost after %lld of %lld bytes, reconnecting (attempt %d of %d)",
                     ctx->pos, ctx->file_len, ctx->reconnects, RECONNECT_ATTEMPTS);
        } else {
            ESP_LOGW(TAG, "Connection lost after %lld bytes, reconnecting (attempt %d of %d)",
                     ctx->pos, ctx->reconnects, RECONNECT_ATTEMPTS);
        }
        if (request_from(ctx, ctx->pos) == ESP_OK) {
            ESP_LOGI(TAG, "Download continues at byte %lld", ctx->pos);
            return ESP_OK;
        }
    }
    ESP_LOGE(TAG, "Gave up reconnecting after %d attempts", RECONNECT_ATTEMPTS);
    return ESP_FAIL;
}

/* True when the current response ended before its end (closed or reset connection). */
static bool dropped(const ota_ctx_t *ctx, int n)
{
    if (n == 0) {
        return !esp_http_client_is_complete_data_received(ctx->client);
    }
    return n < 0 && n != -ESP_ERR_HTTP_EAGAIN;
}

static void http_cleanup(ota_ctx_t *ctx)
{
    esp_http_client_close(ctx->client);
    esp_http_client_cleanup(ctx->client);
    registry_remove(ctx);
    ctx->client = NULL;
}

static void ctx_free(ota_ctx_t *ctx)
{
    free(ctx->buf);
    free(ctx->url);
    free(ctx);
}

/* ---- begin ------------------------------------------------------------------------------ */

static bool server_verification_enabled(const esp_http_client_config_t *c)
{
    return c->cert_pem != NULL || c->use_global_ca_store || c->crt_bundle_attach != NULL;
}

/* The key of the validator record: the configured URL, else what the client made of it. */
static char *record_url(const ota_ctx_t *ctx, const esp_http_client_config_t *c)
{
    if (c->url != NULL) {
        return strdup(c->url);
    }
    char url[512];
    if (esp_http_client_get_url(ctx->client, url, sizeof(url)) != ESP_OK) {
        return NULL;
    }
    return strdup(url);
}

/* Partial download: HEAD for the length and validator, then the first Range (spec 6.2 #8). */
static esp_err_t partial_prepare(ota_ctx_t *ctx)
{
    esp_http_client_set_method(ctx->client, HTTP_METHOD_HEAD);
    ctx->resp_etag[0] = '\0';
    esp_err_t err = esp_http_client_perform(ctx->client);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "ESP HTTP client perform failed: %d", err);
        return err;
    }
    int status = esp_http_client_get_status_code(ctx->client);
    if (status != HttpStatus_Ok) {
        ESP_LOGE(TAG, "Received incorrect http status %d", status);
        return ESP_FAIL;
    }
    ctx->file_len = (long long)esp_http_client_get_content_length(ctx->client);
    if (ctx->file_len < 0) {
        ESP_LOGE(TAG, "Failed to get image length from http response");
        return ESP_FAIL;
    }
    ctx->image_length = (int)(ctx->file_len - ctx->enc_header);
    /* The connection stays open for the Range requests (difference 1). */
    bool head_strong = ota_https_etag_strong(ctx->resp_etag, ETAG_MAX);
    if (ctx->binary_file_len > 0 && ctx->etag[0] != '\0' && head_strong &&
        strcmp(ctx->etag, ctx->resp_etag) != 0) {
        ESP_LOGW(TAG,
                 "The image changed on the server since the interrupted download "
                 "(ETag %s, was %s)",
                 ctx->resp_etag, ctx->etag);
        ESP_LOGI(TAG, "Falling back to OTA without resumption and restarting download from "
                      "beginning");
        ctx->resumption = false;
        ctx->binary_file_len = 0;
    }
    if (ctx->binary_file_len == 0 || ctx->etag[0] == '\0') {
        if (head_strong) {
            memcpy(ctx->etag, ctx->resp_etag, strlen(ctx->resp_etag) + 1);
        } else {
            ctx->etag[0] = '\0';
        }
    }
    char range[64];
    if (ota_https_first_range(range, sizeof(range), ctx->binary_file_len, ctx->image_length,
                              ctx->max_request)) {
        set_range_headers(ctx, range, true);
    }
    esp_http_client_set_method(ctx->client, HTTP_METHOD_GET);
    return ESP_OK;
}

/* Checks what the first GET of begin() answered and sets the file position. */
static esp_err_t first_response(ota_ctx_t *ctx)
{
    char *range = NULL;
    esp_http_client_get_header(ctx->client, "Range", &range);
    int status = esp_http_client_get_status_code(ctx->client);
    if (range == NULL) {
        ctx->pos = 0;
        ctx->file_len = response_length(ctx);
        adopt_response_etag(ctx);
        return ESP_OK;
    }
    long long start = ctx->binary_file_len;
    switch (ota_https_range_check(status, start, ctx->resp_range, ctx->etag, ctx->resp_etag,
                                  ctx->file_len)) {
    case OTA_HTTPS_RANGE_CONTINUE: {
        ctx->pos = start;
        long long first, last, total;
        if (ota_https_parse_content_range(ctx->resp_range, &first, &last, &total)) {
            ctx->file_len = total;
        }
        if (start == 0 || ctx->etag[0] == '\0') {
            adopt_response_etag(ctx);
        }
        return ESP_OK;
    }
    case OTA_HTTPS_RANGE_FULL:
        if (ctx->binary_file_len > 0) {
            ESP_LOGW(TAG,
                     "Server sent the whole image instead of bytes from %lld: restarting "
                     "download from beginning",
                     start);
        }
        restart_with_body(ctx);
        return ESP_OK;
    case OTA_HTTPS_RANGE_MISMATCH:
    default:
        return restart_full(ctx);
    }
}

esp_err_t esp_https_ota_begin(const esp_https_ota_config_t *ota_config,
                              esp_https_ota_handle_t *handle)
{
    dispatch_event(ESP_HTTPS_OTA_START, NULL, 0);

    if (handle == NULL || ota_config == NULL || ota_config->http_config == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_begin: Invalid argument");
        if (handle != NULL) {
            *handle = NULL;
        }
        return ESP_ERR_INVALID_ARG;
    }
    const esp_http_client_config_t *hc = ota_config->http_config;
    if (!server_verification_enabled(hc)) {
        if (app_cfg_bool("ESP_HTTPS_OTA_ALLOW_HTTP")) {
            ESP_LOGW(TAG, "Continuing with insecure option because "
                          "CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP is set.");
        } else {
            ESP_LOGE(TAG, "No option for server verification is enabled in esp_http_client "
                          "config.");
            *handle = NULL;
            return ESP_ERR_INVALID_ARG;
        }
    }
    bool decrypt = decrypt_enabled();
    if (decrypt) {
        if (ota_config->decrypt_cb == NULL) {
            *handle = NULL;
            return ESP_ERR_INVALID_ARG;
        }
        if (ota_config->ota_resumption) {
            *handle = NULL;
            return ESP_ERR_NOT_SUPPORTED;
        }
    }

    ota_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        ESP_LOGE(TAG, "Couldn't allocate memory to upgrade data buffer");
        *handle = NULL;
        return ESP_ERR_NO_MEM;
    }
    ctx->partial = ota_config->partial_http_download;
    ctx->max_request = ota_config->max_http_request_size == 0 ? DEFAULT_REQUEST_SIZE
                                                              : ota_config->max_http_request_size;
    ctx->resumption = ota_config->ota_resumption;
    ctx->auth_retries = hc->max_authorization_retries;
    if (ctx->auth_retries == 0) {
        ctx->auth_retries = DEFAULT_MAX_AUTH_RETRIES;
    } else if (ctx->auth_retries == -1) {
        ctx->auth_retries = 0;
    }
    ctx->image_length = -1;
    ctx->file_len = -1;
    ctx->decrypt = decrypt;
    if (decrypt) {
        ctx->decrypt_cb = ota_config->decrypt_cb;
        ctx->decrypt_ctx = ota_config->decrypt_user_ctx;
        ctx->enc_header = ota_config->enc_img_header_size;
    }
    ctx->binary_file_len = (int)ota_https_resume_offset(
        ctx->resumption, ota_config->ota_image_bytes_written, DEFAULT_OTA_BUF_SIZE,
        esp_flash_encryption_enabled());
    if (ctx->binary_file_len > 0) {
        ESP_LOGD(TAG, "Resuming OTA from offset: %d", ctx->binary_file_len);
    }

    /* The client reports its events to us first (response headers), then to the app. */
    esp_http_client_config_t client_cfg = *hc;
    ctx->user_handler = hc->event_handler;
    client_cfg.event_handler = on_client_event;
    esp_err_t err;
    ctx->client = esp_http_client_init(&client_cfg);
    if (ctx->client == NULL) {
        ESP_LOGE(TAG, "Failed to initialise HTTP connection");
        ctx_free(ctx);
        *handle = NULL;
        return ESP_FAIL;
    }
    registry_add(ctx);
    if (ota_config->http_client_init_cb != NULL) {
        err = ota_config->http_client_init_cb(ctx->client);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "http_client_init_cb returned 0x%x", err);
            goto http_cleanup;
        }
    }
    ctx->url = record_url(ctx, hc);
    if (ctx->binary_file_len > 0) {
        record_load(ctx);
    }

    if (ctx->resumption && !ctx->partial) {
        char range[64];
        snprintf(range, sizeof(range), "bytes=%d-", ctx->binary_file_len);
        set_range_headers(ctx, range, ctx->binary_file_len > 0);
        ctx->resume_check = true;
    }
    if (ctx->partial) {
        err = partial_prepare(ctx);
        if (err != ESP_OK) {
            goto http_cleanup;
        }
    }

    err = http_connect(ctx);
    if (err == ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE && ctx->resumption) {
        ESP_LOGE(TAG, "OTA resumption failed with err: %d.", err);
        ESP_LOGI(TAG, "Falling back to OTA without resumption and restarting download from "
                      "beginning");
        ctx->resume_check = false;
        if (ctx->range_ignored) {
            /* The answer already is the whole file: take it from byte 0 (difference 3). */
            restart_with_body(ctx);
            err = ESP_OK;
        } else {
            ctx->resumption = false;
            ctx->binary_file_len = 0;
            clear_range_headers(ctx);
            if (ctx->partial) {
                char range[64];
                if (ctx->image_length > ctx->max_request) {
                    snprintf(range, sizeof(range), "bytes=0-%d", ctx->max_request - 1);
                    set_range_headers(ctx, range, true);
                }
            }
            drain(ctx); /* the 416 page, so the connection stays usable */
            err = http_connect(ctx);
            if (err == ESP_OK) {
                err = first_response(ctx);
            }
        }
    } else if (err == ESP_OK) {
        err = first_response(ctx);
    }
    ctx->resume_check = false;
    if (err != ESP_OK) {
        if (err != ESP_ERR_HTTP_NOT_MODIFIED) {
            ESP_LOGE(TAG, "Failed to establish HTTP connection");
        }
        goto http_cleanup;
    }
    dispatch_event(ESP_HTTPS_OTA_CONNECTED, NULL, 0);

    if (!ctx->partial) {
        ctx->image_length = (int)esp_http_client_get_content_length(ctx->client);
        if (ctx->decrypt) {
            ctx->image_length -= ctx->enc_header;
        }
    }

    ESP_LOGI(TAG, "Starting OTA...");
    if (ota_config->partition.staging != NULL) {
        ctx->staging = esp_partition_verify(ota_config->partition.staging);
    } else {
        ctx->staging = esp_ota_get_next_update_partition(NULL);
    }
    if (ctx->staging == NULL) {
        ESP_LOGE(TAG, "Given staging partition or another suitable Passive OTA partition could "
                      "not be found");
        err = ESP_FAIL;
        goto http_cleanup;
    }
    ESP_LOGI(TAG, "Writing to <%s> partition at offset 0x%" PRIx32, ctx->staging->label,
             ctx->staging->address);
    ctx->final = ctx->staging;
    if (ota_config->partition.final != NULL &&
        ota_config->partition.final != ota_config->partition.staging) {
        const esp_partition_t *final = esp_partition_verify(ota_config->partition.final);
        if (final == NULL) {
            ESP_LOGE(TAG, "Given final partition not found");
            err = ESP_FAIL;
            goto http_cleanup;
        }
        ctx->final = final;
        ctx->finalize_with_copy = ota_config->partition.finalize_with_copy;
    }

    ctx->buf_size = hc->buffer_size > DEFAULT_OTA_BUF_SIZE ? hc->buffer_size : DEFAULT_OTA_BUF_SIZE;
    ctx->buf = malloc((size_t)ctx->buf_size);
    if (ctx->buf == NULL) {
        ESP_LOGE(TAG, "Couldn't allocate memory to upgrade data buffer");
        err = ESP_ERR_NO_MEM;
        goto http_cleanup;
    }
    ctx->bulk_erase = ota_config->bulk_flash_erase;
    ctx->state = ctx->binary_file_len > 0 ? ESP_HTTPS_OTA_RESUME : ESP_HTTPS_OTA_BEGIN;
    *handle = ctx;
    return ESP_OK;

http_cleanup:
    http_cleanup(ctx);
    ctx_free(ctx);
    *handle = NULL;
    return err;
}

/* ---- image description ------------------------------------------------------------------ */

/* Reads IMAGE_HEADER_SIZE bytes into the buffer (spec 6.4), reconnecting after a drop. */
static esp_err_t read_header(ota_ctx_t *ctx)
{
    int want = IMAGE_HEADER_SIZE;
    int got = 0;
    unsigned restarts = ctx->restarts;
    while (want > 0 && !esp_http_client_is_complete_data_received(ctx->client)) {
        int n = ota_read(ctx, ctx->buf + got, want);
        if (n == -ESP_ERR_HTTP_EAGAIN) {
            ESP_LOGD(TAG, "ESP_ERR_HTTP_EAGAIN invoked: Call timed out before data was ready");
            continue;
        }
        if (n > 0) {
            ctx->reconnects = 0;
            want -= n;
            got += n;
            continue;
        }
        if (!dropped(ctx, n)) {
            break;
        }
        if (n < 0) {
            ESP_LOGE(TAG, "Connection closed, errno = %d", errno);
        }
        if (reconnect_after_drop(ctx) != ESP_OK) {
            break;
        }
        if (ctx->restarts != restarts) {
            restarts = ctx->restarts;
            want = IMAGE_HEADER_SIZE;
            got = 0;
        }
    }
    if (want > 0) {
        ESP_LOGE(TAG, "Complete headers were not received");
        return ESP_FAIL;
    }
    ctx->binary_file_len = got;
    return ESP_OK;
}

static unsigned desc_len_for(const esp_partition_t *final)
{
    if (final->type == ESP_PARTITION_TYPE_APP) {
        return sizeof(esp_app_desc_t);
    }
    if (final->type == ESP_PARTITION_TYPE_BOOTLOADER) {
        return sizeof(esp_bootloader_desc_t);
    }
    return 0;
}

static bool desc_magic_ok(const esp_partition_t *final, const uint8_t *desc)
{
    if (final->type == ESP_PARTITION_TYPE_APP) {
        uint32_t magic = (uint32_t)desc[0] | (uint32_t)desc[1] << 8 | (uint32_t)desc[2] << 16 |
                         (uint32_t)desc[3] << 24;
        if (magic != ESP_APP_DESC_MAGIC_WORD) {
            ESP_LOGE(TAG, "Incorrect app descriptor magic");
            return false;
        }
    } else if (desc[0] != ESP_BOOTLOADER_DESC_MAGIC_BYTE) {
        ESP_LOGE(TAG, "Incorrect bootloader descriptor magic");
        return false;
    }
    return true;
}

static esp_err_t get_description(esp_https_ota_handle_t handle, void *out)
{
    dispatch_event(ESP_HTTPS_OTA_GET_IMG_DESC, NULL, 0);
    if (decrypt_enabled()) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    ota_ctx_t *ctx = handle;
    if (ctx == NULL || out == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_get_img_desc: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    if (ctx->state < ESP_HTTPS_OTA_BEGIN) {
        ESP_LOGE(TAG, "esp_https_ota_get_img_desc: Invalid state");
        return ESP_ERR_INVALID_STATE;
    }
    unsigned len = desc_len_for(ctx->final);
    if (len == 0) {
        ESP_LOGE(TAG, "This partition type (%d) is not supported", ctx->final->type);
        return ESP_FAIL;
    }
    const uint8_t *desc;
    if (ctx->binary_file_len >= (int)(DESC_OFFSET + len)) {
        esp_err_t err = esp_partition_read(ctx->staging, DESC_OFFSET, ctx->buf, len);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "partition read failed %d", err);
            return err;
        }
        desc = (const uint8_t *)ctx->buf;
    } else {
        if (read_header(ctx) != ESP_OK) {
            return ESP_FAIL;
        }
        desc = (const uint8_t *)ctx->buf + DESC_OFFSET;
    }
    if (!desc_magic_ok(ctx->final, desc)) {
        return ESP_FAIL;
    }
    memcpy(out, desc, len);
    memcpy(ctx->desc, desc, len);
    ctx->desc_len = len;
    ctx->desc_given = true;
    ctx->desc_restarts = ctx->restarts;
    return ESP_OK;
}

esp_err_t esp_https_ota_get_img_desc(esp_https_ota_handle_t https_ota_handle,
                                     esp_app_desc_t *new_app_info)
{
    return get_description(https_ota_handle, new_app_info);
}

esp_err_t esp_https_ota_get_bootloader_img_desc(esp_https_ota_handle_t https_ota_handle,
                                                esp_bootloader_desc_t *new_img_info)
{
    return get_description(https_ota_handle, new_img_info);
}

/* ---- perform ---------------------------------------------------------------------------- */

/*
 * Runs the decrypt callback (spec 6.8). Returns ESP_OK with output; the callback's error; or,
 * when it produced nothing, ESP-IDF v5.5's value for "need more data": the state value
 * ESP_HTTPS_OTA_IN_PROGRESS (2), not ESP_ERR_HTTPS_OTA_IN_PROGRESS (kept as ESP-IDF has it).
 */
static esp_err_t run_decrypt(ota_ctx_t *ctx, decrypt_cb_arg_t *args)
{
    dispatch_event(ESP_HTTPS_OTA_DECRYPT_CB, NULL, 0);
    esp_err_t ret = ctx->decrypt_cb(args, ctx->decrypt_ctx);
    if (ret != ESP_OK) {
        ESP_LOGE(TAG, "Decrypt callback failed %d", ret);
        return ret;
    }
    return args->data_out_len > 0 ? ESP_OK : (esp_err_t)ESP_HTTPS_OTA_IN_PROGRESS;
}

static esp_err_t ota_write(ota_ctx_t *ctx, const void *data, size_t len)
{
    esp_err_t err = esp_ota_write(ctx->update_handle, data, len);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Error: esp_ota_write failed! err=0x%x", err);
    } else {
        ctx->binary_file_len += (int)len;
        ESP_LOGD(TAG, "Written image length %d", ctx->binary_file_len);
        err = ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    dispatch_event(ESP_HTTPS_OTA_WRITE_FLASH, &ctx->binary_file_len, sizeof(int));
    if (ctx->decrypt) {
        free((void *)data);
    }
    return err;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Chip id and revision of the new image against the running chip (ESP-IDF v5.5). */
static esp_err_t verify_chip(const uint8_t *hdr)
{
    uint16_t chip_id = le16(hdr + 12);
    uint16_t min_rev = le16(hdr + 15);
    uint16_t max_rev = le16(hdr + 17);
    const esp_dev_config_t *dev = esp_dev_installed() ? esp_internal_config() : NULL;
    int expected = dev != NULL ? dev->chip->id : 0;
    unsigned rev = dev != NULL ? dev->chip_rev : 0;

    dispatch_event(ESP_HTTPS_OTA_VERIFY_CHIP_ID, &chip_id, sizeof(chip_id));
    if (chip_id != expected) {
        ESP_LOGE(TAG, "Mismatch chip id, expected %d, found %d", expected, chip_id);
        return ESP_ERR_INVALID_VERSION;
    }
    dispatch_event(ESP_HTTPS_OTA_VERIFY_CHIP_REVISION, &min_rev, sizeof(min_rev));
    if (rev < min_rev) {
        ESP_LOGE(TAG, "Image requires chip rev >= v%d.%d, but chip is v%u.%u", min_rev / 100,
                 min_rev % 100, rev / 100, rev % 100);
        return ESP_ERR_INVALID_VERSION;
    }
    if (max_rev != 0 && max_rev != 0xFFFF && rev > max_rev) {
        ESP_LOGE(TAG, "Image requires chip rev <= v%d.%d, but chip is v%u.%u", max_rev / 100,
                 max_rev % 100, rev / 100, rev % 100);
        return ESP_ERR_INVALID_VERSION;
    }
    return ESP_OK;
}

/* The BEGIN step: open the flash session, check and write the image header (spec 6.5). */
static esp_err_t perform_begin(ota_ctx_t *ctx, size_t erase_size)
{
    esp_err_t err = esp_ota_begin(ctx->staging, erase_size, &ctx->update_handle);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_begin failed (%s)", esp_err_to_name(err));
        return err;
    }
    esp_ota_set_final_partition(ctx->update_handle, ctx->final, ctx->finalize_with_copy);
    ctx->state = ESP_HTTPS_OTA_IN_PROGRESS;
    if (ctx->final->type != ESP_PARTITION_TYPE_APP &&
        ctx->final->type != ESP_PARTITION_TYPE_BOOTLOADER) {
        return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    int len;
    if (ctx->binary_file_len > 0) {
        len = ctx->binary_file_len;
    } else {
        if (read_header(ctx) != ESP_OK) {
            return ESP_FAIL;
        }
        if (ctx->state != ESP_HTTPS_OTA_IN_PROGRESS) {
            /* read_header restarted the download from byte 0: the flash session was dropped;
             * the new header waits in the buffer for the next BEGIN step. */
            return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
        }
        len = IMAGE_HEADER_SIZE;
    }
    ctx->binary_file_len = 0;

    const uint8_t *data = (const uint8_t *)ctx->buf;
    if (ctx->decrypt) {
        decrypt_cb_arg_t args = {.data_in = ctx->buf, .data_in_len = (size_t)len};
        err = run_decrypt(ctx, &args);
        if (err != ESP_OK || args.data_out_len < IMG_HDR_LEN) {
            free(args.data_out);
            ESP_LOGE(TAG, "Decryption of image header failed");
            return ESP_FAIL;
        }
        data = (const uint8_t *)args.data_out;
        len = (int)args.data_out_len;
    }
    if (ctx->desc_given && ctx->desc_restarts != ctx->restarts &&
        (len < (int)(DESC_OFFSET + ctx->desc_len) ||
         memcmp(data + DESC_OFFSET, ctx->desc, ctx->desc_len) != 0)) {
        ESP_LOGE(TAG, "The image changed on the server during the download: its description "
                      "differs from the one read before");
        if (ctx->decrypt) {
            free((void *)data);
        }
        return ESP_FAIL;
    }
    err = verify_chip(data);
    if (err != ESP_OK) {
        if (ctx->decrypt) {
            free((void *)data);
        }
        return err;
    }
    return ota_write(ctx, data, (size_t)len);
}

/* One read of the body and its write (IN_PROGRESS). Sets SUCCESS when the image is in. */
static esp_err_t perform_read(ota_ctx_t *ctx)
{
    int n = ota_read(ctx, ctx->buf, ctx->buf_size);
    if (n > 0) {
        ctx->reconnects = 0;
        const void *data = ctx->buf;
        size_t len = (size_t)n;
        if (ctx->decrypt) {
            decrypt_cb_arg_t args = {.data_in = ctx->buf, .data_in_len = len};
            esp_err_t err = run_decrypt(ctx, &args);
            if (err != ESP_OK) {
                free(args.data_out);
                return err;
            }
            data = args.data_out;
            len = args.data_out_len;
        }
        return ota_write(ctx, data, len);
    }
    if (n == -ESP_ERR_HTTP_EAGAIN) {
        ESP_LOGD(TAG, "ESP_ERR_HTTP_EAGAIN invoked: Call timed out before data was ready");
        return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    if (dropped(ctx, n)) {
        int saved_errno = errno;
        if (reconnect_after_drop(ctx) == ESP_OK) {
            return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
        }
        if (n == 0) {
            ESP_LOGE(TAG, "Connection closed before complete data was received!");
        } else {
            ESP_LOGE(TAG, "data read %d, errno %d", n, saved_errno);
        }
        return ESP_FAIL;
    }
    ESP_LOGD(TAG, "Connection closed");
    if (!ctx->partial || ctx->image_length == ctx->binary_file_len ||
        (ctx->file_len >= 0 && ctx->pos >= ctx->file_len)) {
        ctx->state = ESP_HTTPS_OTA_SUCCESS;
    }
    return ESP_OK;
}

esp_err_t esp_https_ota_perform(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_perform: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    if (ctx->state < ESP_HTTPS_OTA_BEGIN) {
        ESP_LOGE(TAG, "esp_https_ota_perform: Invalid state");
        return ESP_FAIL;
    }
    size_t erase_size = ota_https_erase_size(ctx->bulk_erase, ctx->image_length, OTA_SIZE_UNKNOWN,
                                             OTA_WITH_SEQUENTIAL_WRITES);
    esp_err_t err;
    switch (ctx->state) {
    case ESP_HTTPS_OTA_BEGIN:
        return perform_begin(ctx, erase_size);
    case ESP_HTTPS_OTA_RESUME:
        ESP_LOGD(TAG, "OTA resumption case");
        err = esp_ota_resume(ctx->staging, erase_size, (size_t)ctx->binary_file_len,
                             &ctx->update_handle);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_ota_resume failed (%s)", esp_err_to_name(err));
            return err;
        }
        esp_ota_set_final_partition(ctx->update_handle, ctx->final, ctx->finalize_with_copy);
        ctx->state = ESP_HTTPS_OTA_IN_PROGRESS;
        /* fall through */
    case ESP_HTTPS_OTA_IN_PROGRESS:
        err = perform_read(ctx);
        if (err != ESP_OK) {
            return err;
        }
        break;
    default:
        ESP_LOGE(TAG, "Invalid ESP HTTPS OTA State");
        return ESP_FAIL;
    }
    if (ctx->partial && ctx->state == ESP_HTTPS_OTA_IN_PROGRESS) {
        /* Next range, on the same connection (difference 1). */
        if (request_from(ctx, ctx->pos) != ESP_OK) {
            ESP_LOGE(TAG, "Failed to establish HTTP connection");
            return ESP_FAIL;
        }
        ESP_LOGD(TAG, "Connection start");
        return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    return ESP_OK;
}

/* ---- queries ---------------------------------------------------------------------------- */

bool esp_https_ota_is_complete_data_received(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL) {
        return false;
    }
    if (ctx->partial) {
        return ctx->image_length == ctx->binary_file_len;
    }
    return esp_http_client_is_complete_data_received(ctx->client);
}

int esp_https_ota_get_image_len_read(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL || ctx->state < ESP_HTTPS_OTA_IN_PROGRESS) {
        return -1;
    }
    return ctx->binary_file_len;
}

int esp_https_ota_get_image_size(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL || ctx->state < ESP_HTTPS_OTA_BEGIN) {
        return -1;
    }
    return ctx->image_length;
}

int esp_https_ota_get_status_code(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL || ctx->client == NULL) {
        return -1;
    }
    return esp_http_client_get_status_code(ctx->client);
}

/* ---- finish / abort --------------------------------------------------------------------- */

/*
 * Ends the flash session by state, keeping the image (esp_ota_end: verification) or dropping it
 * (esp_ota_abort), and closes the HTTP side. A state past RESUME logs ESP-IDF's message and
 * gives invalid_state_err (finish reports ESP_OK there, abort ESP_ERR_INVALID_STATE).
 */
static esp_err_t end_session(ota_ctx_t *ctx, bool keep, esp_err_t invalid_state_err)
{
    esp_err_t err = ESP_OK;
    switch (ctx->state) {
    case ESP_HTTPS_OTA_SUCCESS:
    case ESP_HTTPS_OTA_IN_PROGRESS:
        err = keep ? esp_ota_end(ctx->update_handle) : esp_ota_abort(ctx->update_handle);
        /* fall through */
    case ESP_HTTPS_OTA_BEGIN:
    case ESP_HTTPS_OTA_RESUME:
        http_cleanup(ctx);
        break;
    default:
        err = invalid_state_err;
        ESP_LOGE(TAG, "Invalid ESP HTTPS OTA State");
        break;
    }
    return err;
}

esp_err_t esp_https_ota_finish(esp_https_ota_handle_t https_ota_handle)
{
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (ctx->state < ESP_HTTPS_OTA_BEGIN) {
        return ESP_FAIL;
    }
    esp_err_t err = end_session(ctx, true, ESP_OK);
    if (err == ESP_OK && ctx->state == ESP_HTTPS_OTA_SUCCESS) {
        record_erase(); /* the download is complete: no validator to keep */
    }
    if (ctx->final->type == ESP_PARTITION_TYPE_APP && err == ESP_OK &&
        ctx->state == ESP_HTTPS_OTA_SUCCESS) {
        if (ctx->final->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_0 &&
            ctx->final->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX) {
            /* A factory final is never made the boot partition (that would erase otadata). */
            err = esp_ota_set_boot_partition(ctx->staging);
        }
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_ota_set_boot_partition failed! err=0x%x", err);
        } else {
            esp_partition_subtype_t subtype = ctx->final->subtype;
            dispatch_event(ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION, &subtype, sizeof(subtype));
        }
    }
    ctx_free(ctx);
    dispatch_event(ESP_HTTPS_OTA_FINISH, NULL, 0);
    return err;
}

esp_err_t esp_https_ota_abort(esp_https_ota_handle_t https_ota_handle)
{
    dispatch_event(ESP_HTTPS_OTA_ABORT, NULL, 0);
    ota_ctx_t *ctx = https_ota_handle;
    if (ctx == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (ctx->state < ESP_HTTPS_OTA_BEGIN) {
        return ESP_FAIL;
    }
    esp_err_t err = end_session(ctx, false, ESP_ERR_INVALID_STATE);
    ctx_free(ctx);
    return err;
}

/* ---- one-shot --------------------------------------------------------------------------- */

esp_err_t esp_https_ota(const esp_https_ota_config_t *ota_config)
{
    if (ota_config == NULL || ota_config->http_config == NULL) {
        ESP_LOGE(TAG, "esp_https_ota: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    if (ota_config->ota_resumption) {
        ESP_LOGE(TAG, "OTA resumption is not supported in esp_https_ota API");
        return ESP_ERR_NOT_SUPPORTED;
    }
    esp_https_ota_handle_t handle = NULL;
    esp_err_t err = esp_https_ota_begin(ota_config, &handle);
    if (err != ESP_OK) {
        return err;
    }
    if (handle == NULL) {
        return ESP_FAIL;
    }
    do {
        err = esp_https_ota_perform(handle);
    } while (err == ESP_ERR_HTTPS_OTA_IN_PROGRESS);
    if (err != ESP_OK) {
        esp_https_ota_abort(handle);
        return err;
    }
    return esp_https_ota_finish(handle);
}
