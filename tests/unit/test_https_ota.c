/*
 * esp_https_ota: the one-shot and step APIs against the firmware server in-process (HTTPS with a
 * self-signed certificate for 127.0.0.1, and plain HTTP), on a device installed over an
 * in-memory NOR flash with the two_ota table. Covers ESP-IDF v5.5's behaviour (events, checks,
 * status table, resumption, partial download) and otakit's additions: one connection for all
 * ranges, If-Range with the ETag kept in NVS, 200 answers to Range requests, reconnection after
 * a dropped connection. The decision functions of https_ota_logic.h are tested directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "esp_event.h"
#include "esp_https_ota.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "https_ota_logic.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "ota/ota_chip.h"
#include "ota/ota_img_build.h"
#include "ota/ota_nor.h"
#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"
#include "ota/ota_server.h"
#include "ota/ota_x509.h"
#include "fixture.h"
#include "test_util.h"

#define FLASH_SIZE (4u * 1024 * 1024)
#define TABLE_OFFSET 0x8000u
#define FACTORY_OFFSET 0x10000u
#define OTA0_OFFSET 0x110000u
#define OTA1_OFFSET 0x210000u
#define MIN_REV_FULL 1 /* v0.1: the image's minimum chip revision, as the event carries it */

/* ---- fixture: files, certificates, images ------------------------------------------------ */

static char tmp_dir[256];
static char www[300];
static char cert_ip[320], key_ip[320];       /* CN/SAN 127.0.0.1 */
static char cert_other[320], key_other[320]; /* CN/SAN wronghost.test */
static char *pem_ip;
static char *pem_other;

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob_t;

static blob_t img_v1, img_v2, img_v3, img_c3;

static void path_in(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", www, rel);
}

static void put_file(const char *name, const void *data, size_t len)
{
    char p[512];
    path_in(p, sizeof(p), name);
    char tmp[560];
    snprintf(tmp, sizeof(tmp), "%s.tmp", p);
    FILE *fp = fopen(tmp, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(rename(tmp, p), 0);
}

static void pack(blob_t *out, const char *chip, const char *ver, size_t payload_len, uint32_t seed)
{
    uint8_t *payload = malloc(payload_len);
    assert_non_null(payload);
    uint32_t x = seed;
    for (size_t i = 0; i < payload_len; i++) {
        x = x * 1103515245u + 12345u;
        payload[i] = (uint8_t)(x >> 16);
    }
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.chip = ota_chip_by_name(chip);
    assert_non_null(o.chip);
    o.payload = payload;
    o.payload_len = payload_len;
    o.project_name = "https_ota_test";
    o.project_ver = ver;
    o.has_build_time = true;
    o.build_time = 1700000000;
    o.min_rev_full = MIN_REV_FULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &out->data, &out->len, &diag), OTA_OK);
    free(payload);
}

static int group_setup(void **state)
{
    (void)state;
    esp_log_set_colors(0);
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/otakit-https-ota-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(tmp_dir) == NULL) {
        return -1;
    }
    snprintf(www, sizeof(www), "%s/www", tmp_dir);
    mkdir(www, 0755);
    snprintf(cert_ip, sizeof(cert_ip), "%s/ip_cert.pem", tmp_dir);
    snprintf(key_ip, sizeof(key_ip), "%s/ip_key.pem", tmp_dir);
    snprintf(cert_other, sizeof(cert_other), "%s/other_cert.pem", tmp_dir);
    snprintf(key_other, sizeof(key_other), "%s/other_key.pem", tmp_dir);
    if (ota_x509_self_signed("127.0.0.1", cert_ip, key_ip, 0, NULL) != OTA_OK ||
        ota_x509_self_signed("wronghost.test", cert_other, key_other, 0, NULL) != OTA_OK) {
        return -1;
    }
    size_t n;
    pem_ip = (char *)test_read_file(cert_ip, &n);
    pem_other = (char *)test_read_file(cert_other, &n);
    pack(&img_v1, "esp32", "1", 40000, 1);
    pack(&img_v2, "esp32", "2", 300000, 2);
    pack(&img_v3, "esp32", "3", 310000, 3);
    pack(&img_c3, "esp32c3", "2", 30000, 4);
    put_file("app_v2.bin", img_v2.data, img_v2.len);
    put_file("app_c3.bin", img_c3.data, img_c3.len);
    put_file("truncated.bin", img_v2.data, 64000);
    put_file("header_only.bin", img_v2.data, 180);
    /* Random data whose first byte is 0 but whose header fields pass the chip checks. */
    uint8_t rnd[32000];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        x = x * 1103515245u + 12345u;
        rnd[i] = (uint8_t)(x >> 16);
    }
    rnd[0] = 0x00;
    rnd[12] = 0x00; /* chip id 0 (ESP32) */
    rnd[13] = 0x00;
    rnd[15] = 0x00; /* min revision 0 */
    rnd[16] = 0x00;
    rnd[17] = 0xFF; /* max revision unset */
    rnd[18] = 0xFF;
    put_file("random.bin", rnd, sizeof(rnd));
    uint8_t storage[500] = {0};
    memcpy(storage, "7296406769363431", 16);
    put_file("storage.bin", storage, sizeof(storage));
    return 0;
}

static void rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

static int group_teardown(void **state)
{
    (void)state;
    free(img_v1.data);
    free(img_v2.data);
    free(img_v3.data);
    free(img_c3.data);
    free(pem_ip);
    free(pem_other);
    rm_tree(tmp_dir);
    return 0;
}

/* ---- fixture: the device ------------------------------------------------------------------ */

static ota_nor_t *nor;
static ota_sdkconfig_t *sdk;

static void write_table(const char *csv)
{
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_part_csv_compile(csv, strlen(csv), NULL, bin, &diag), OTA_OK);
    test_flash_put(ota_nor_flash(nor), TABLE_OFFSET, bin, sizeof(bin));
}

static void write_at(uint32_t addr, const void *data, size_t len)
{
    test_flash_put(ota_nor_flash(nor), addr, data, len);
}

/* (Re)installs the device as booted from running_offset; NVS is mounted again. */
static void dev_boot(uint32_t running_offset)
{
    nvs_flash_deinit();
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_id(OTA_CHIP_ID_ESP32),
        .chip_rev = 300,
        .table_offset = TABLE_OFFSET,
        .running_offset = running_offset,
        .sdkconfig = sdk,
    };
    assert_int_equal(esp_dev_install(&cfg), ESP_OK);
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        assert_int_equal(nvs_flash_erase(), ESP_OK);
        err = nvs_flash_init();
    }
    assert_int_equal(err, ESP_OK);
}

/* Events posted to the default loop, in order. */
#define MAX_EVENTS 1024
static int ev_ids[MAX_EVENTS];
static int ev_data[MAX_EVENTS];
static int ev_count;

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    if (base != ESP_HTTPS_OTA_EVENT || ev_count == MAX_EVENTS) {
        return;
    }
    int v = -1;
    if (id == ESP_HTTPS_OTA_VERIFY_CHIP_ID || id == ESP_HTTPS_OTA_VERIFY_CHIP_REVISION) {
        uint16_t u;
        memcpy(&u, data, sizeof(u));
        v = u;
    } else if (id == ESP_HTTPS_OTA_WRITE_FLASH || id == ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION) {
        memcpy(&v, data, sizeof(v));
    }
    ev_ids[ev_count] = id;
    ev_data[ev_count] = v;
    ev_count++;
}

static int setup(void **state)
{
    (void)state;
    if (ota_nor_create_mem(FLASH_SIZE, NULL, &nor, NULL) != OTA_OK) {
        return -1;
    }
    sdk = ota_sdkconfig_new();
    write_table(ota_part_builtin_csv("two_ota"));
    write_at(FACTORY_OFFSET, img_v1.data, img_v1.len);
    dev_boot(FACTORY_OFFSET);
    esp_event_loop_create_default();
    esp_event_handler_register(ESP_HTTPS_OTA_EVENT, ESP_EVENT_ANY_ID, on_event, NULL);
    ev_count = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esp_event_loop_delete_default();
    nvs_flash_deinit();
    esp_dev_uninstall();
    ota_nor_close(nor);
    ota_sdkconfig_free(sdk);
    return 0;
}

/* ---- fixture: servers and logs ------------------------------------------------------------ */

typedef struct server {
    ota_server_t *srv;
    char base[128];
    FILE *log;
    char log_path[400];
} server_t;

/* Starts a server over www; cert/key NULL = plain HTTP. sw holds the test switches. */
static void server_start(server_t *s, const char *cert, const char *key,
                         const ota_server_config_t *sw)
{
    ota_server_config_t cfg = {0};
    if (sw != NULL) {
        cfg = *sw;
    }
    cfg.root = www;
    cfg.cert_path = cert;
    cfg.key_path = key;
    snprintf(s->log_path, sizeof(s->log_path), "%s/access.log", tmp_dir);
    s->log = fopen(s->log_path, "w+");
    assert_non_null(s->log);
    setvbuf(s->log, NULL, _IOLBF, 0);
    cfg.access_log = s->log;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_server_start(&cfg, &s->srv, &diag), OTA_OK);
    snprintf(s->base, sizeof(s->base), "%s://127.0.0.1:%u", cert != NULL ? "https" : "http",
             ota_server_port(s->srv));
}

/* Stops the server; final counters in *st, access log text in *log (malloc'ed) if wanted. */
static void server_stop(server_t *s, ota_server_stats_t *st, char **log)
{
    ota_server_stop(s->srv, st);
    if (log != NULL) {
        fflush(s->log);
        size_t n;
        *log = (char *)test_read_file(s->log_path, &n);
        assert_non_null(*log);
    }
    fclose(s->log);
}

static FILE *log_file;
static int saved_stdout = -1;

/* Sends the ESP log (stdout) to a temporary file until log_end(). */
static void log_begin(void)
{
    fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    log_file = tmpfile();
    assert_non_null(log_file);
    dup2(fileno(log_file), STDOUT_FILENO);
}

/* Restores stdout and returns what was logged (malloc'ed); the text is echoed to stderr. */
static char *log_end(void)
{
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    long n = ftell(log_file);
    rewind(log_file);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    size_t got = fread(text, 1, (size_t)n, log_file);
    text[got] = '\0';
    fclose(log_file);
    return text;
}

/* True when log has a line "<level> (<ms>) <msg>" with msg starting with head. */
static bool log_has(const char *log, char level, const char *head)
{
    for (const char *line = log; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        const char *msg = memchr(line, ')', len);
        if (len > 3 && line[0] == level && line[1] == ' ' && line[2] == '(' && msg != NULL &&
            (size_t)(msg + 2 - line) <= len && strncmp(msg + 2, head, strlen(head)) == 0) {
            return true;
        }
        line += len + (end != NULL);
    }
    return false;
}

static int count_substr(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static void http_cfg(esp_http_client_config_t *hc, const server_t *s, const char *path, char *url,
                     size_t cap)
{
    snprintf(url, cap, "%s/%s", s->base, path);
    memset(hc, 0, sizeof(*hc));
    hc->url = url;
    hc->cert_pem = strncmp(url, "https", 5) == 0 ? pem_ip : NULL;
    hc->timeout_ms = 5000;
    hc->keep_alive_enable = true;
}

/* A server and a client configuration for one of its files. */
typedef struct conn {
    server_t s;
    char url[256];
    esp_http_client_config_t hc;
} conn_t;

/*
 * Starts a server as server_start does (cert/key NULL = plain HTTP, sw its switches) and fills
 * c->hc as http_cfg does for path on it.
 */
static void conn_open(conn_t *c, const char *cert, const char *key, const ota_server_config_t *sw,
                      const char *path)
{
    server_start(&c->s, cert, key, sw);
    http_cfg(&c->hc, &c->s, path, c->url, sizeof(c->url));
}

static bool slot_equals(uint32_t addr, const blob_t *img)
{
    const uint8_t *data = ota_nor_data(nor);
    return memcmp(data + addr, img->data, img->len) == 0;
}

typedef struct run {
    esp_err_t begin;
    esp_err_t desc;
    esp_err_t perform;
    esp_err_t finish;
    int performs;
    int len_read;
    int image_size;
    esp_app_desc_t app;
} run_t;

/*
 * The advanced example's sequence: begin, get_img_desc, perform while IN_PROGRESS, then finish
 * (or abort on an error). stop_after > 0 aborts after that many performs instead (a reset).
 */
static void run_steps(const esp_https_ota_config_t *cfg, int stop_after, run_t *r)
{
    memset(r, 0, sizeof(*r));
    esp_https_ota_handle_t h = NULL;
    r->begin = esp_https_ota_begin(cfg, &h);
    if (r->begin != ESP_OK) {
        assert_null(h);
        return;
    }
    r->image_size = esp_https_ota_get_image_size(h);
    r->desc = esp_https_ota_get_img_desc(h, &r->app);
    if (r->desc != ESP_OK) {
        esp_https_ota_abort(h);
        return;
    }
    do {
        r->perform = esp_https_ota_perform(h);
        r->performs++;
        r->len_read = esp_https_ota_get_image_len_read(h);
        if (stop_after > 0 && r->performs == stop_after) {
            assert_int_equal(esp_https_ota_abort(h), ESP_OK);
            return;
        }
    } while (r->perform == ESP_ERR_HTTPS_OTA_IN_PROGRESS);
    if (r->perform != ESP_OK) {
        esp_https_ota_abort(h);
        return;
    }
    assert_true(esp_https_ota_is_complete_data_received(h));
    r->finish = esp_https_ota_finish(h);
}

static uint32_t boot_address(void)
{
    const esp_partition_t *p = esp_ota_get_boot_partition();
    return p != NULL ? p->address : 0;
}

/* ---- decision functions ----------------------------------------------------------------- */

static void test_logic_status_table(void **state)
{
    (void)state;
    static const int redirects[] = {301, 302, 303, 307, 308};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ota_https_status_classify(redirects[i], false), OTA_HTTPS_STATUS_REDIRECT);
        assert_true(ota_https_status_again(redirects[i]));
    }
    assert_int_equal(ota_https_status_classify(401, false), OTA_HTTPS_STATUS_AUTH);
    assert_true(ota_https_status_again(401));
    assert_int_equal(ota_https_status_classify(304, true), OTA_HTTPS_STATUS_NOT_MODIFIED);
    assert_int_equal(ota_https_status_classify(416, true), OTA_HTTPS_STATUS_RANGE_UNSAT);
    assert_int_equal(ota_https_status_classify(403, false), OTA_HTTPS_STATUS_NOT_FOUND);
    assert_int_equal(ota_https_status_classify(404, false), OTA_HTTPS_STATUS_NOT_FOUND);
    assert_int_equal(ota_https_status_classify(400, false), OTA_HTTPS_STATUS_CLIENT_ERROR);
    assert_int_equal(ota_https_status_classify(499, true), OTA_HTTPS_STATUS_CLIENT_ERROR);
    assert_int_equal(ota_https_status_classify(500, false), OTA_HTTPS_STATUS_SERVER_ERROR);
    assert_int_equal(ota_https_status_classify(503, true), OTA_HTTPS_STATUS_SERVER_ERROR);
    assert_int_equal(ota_https_status_classify(200, false), OTA_HTTPS_STATUS_OK);
    assert_int_equal(ota_https_status_classify(206, true), OTA_HTTPS_STATUS_OK);
    assert_int_equal(ota_https_status_classify(200, true), OTA_HTTPS_STATUS_RANGE_IGNORED);
    assert_int_equal(ota_https_status_classify(300, false), OTA_HTTPS_STATUS_OK);
    assert_false(ota_https_status_again(200));
    assert_false(ota_https_status_again(304));
}

static void test_logic_ranges(void **state)
{
    (void)state;
    char b[64];
    /* First request of a partial download (ESP-IDF's arithmetic, end one past when clamped). */
    assert_true(ota_https_first_range(b, sizeof(b), 0, 300000, 65536));
    assert_string_equal(b, "bytes=0-65535");
    assert_false(ota_https_first_range(b, sizeof(b), 0, 1000, 65536)); /* whole image */
    assert_true(ota_https_first_range(b, sizeof(b), 50000, 100000, 65536));
    assert_string_equal(b, "bytes=50000-100000");
    assert_true(ota_https_first_range(b, sizeof(b), 5000, 100000, 65536));
    assert_string_equal(b, "bytes=5000-70535");
    /* Following requests. */
    ota_https_next_range(b, sizeof(b), 65536, 300000, 65536);
    assert_string_equal(b, "bytes=65536-131071");
    ota_https_next_range(b, sizeof(b), 262144, 300000, 65536);
    assert_string_equal(b, "bytes=262144-");
    ota_https_next_range(b, sizeof(b), 1234, 300000, 0);
    assert_string_equal(b, "bytes=1234-");
    ota_https_next_range(b, sizeof(b), 1234, -1, 4096);
    assert_string_equal(b, "bytes=1234-");

    long long f, l, t;
    assert_true(ota_https_parse_content_range("bytes 0-99/300", &f, &l, &t));
    assert_true(f == 0 && l == 99 && t == 300);
    assert_true(ota_https_parse_content_range("bytes 5-9/*", &f, &l, &t));
    assert_true(f == 5 && l == 9 && t == -1);
    assert_false(ota_https_parse_content_range("bytes */300", &f, &l, &t));
    assert_false(ota_https_parse_content_range("bytes 9-5/300", &f, &l, &t));
    assert_false(ota_https_parse_content_range("bytes 0-300/300", &f, &l, &t));
    assert_false(ota_https_parse_content_range("items 0-1/2", &f, &l, &t));
    assert_false(ota_https_parse_content_range("bytes 0-1/2x", &f, &l, &t));
    assert_false(ota_https_parse_content_range(NULL, &f, &l, &t));

    const char *e = "\"abc\"";
    assert_int_equal(ota_https_range_check(206, 100, "bytes 100-199/300", e, e, 300),
                     OTA_HTTPS_RANGE_CONTINUE);
    assert_int_equal(ota_https_range_check(206, 100, "bytes 100-199/300", e, NULL, -1),
                     OTA_HTTPS_RANGE_CONTINUE);
    assert_int_equal(ota_https_range_check(200, 100, NULL, e, e, 300), OTA_HTTPS_RANGE_FULL);
    assert_int_equal(ota_https_range_check(206, 100, "bytes 0-199/300", e, e, 300),
                     OTA_HTTPS_RANGE_MISMATCH);
    assert_int_equal(ota_https_range_check(206, 100, "bytes 100-199/300", e, "\"x\"", 300),
                     OTA_HTTPS_RANGE_MISMATCH);
    assert_int_equal(ota_https_range_check(206, 100, "bytes 100-199/301", e, e, 300),
                     OTA_HTTPS_RANGE_MISMATCH);
    assert_int_equal(ota_https_range_check(206, 100, NULL, e, e, 300), OTA_HTTPS_RANGE_MISMATCH);

    assert_true(ota_https_etag_strong("\"1a-2b\"", 128));
    assert_false(ota_https_etag_strong("W/\"1a\"", 128));
    assert_false(ota_https_etag_strong("1a", 128));
    assert_false(ota_https_etag_strong("\"a\"b\"", 128));
    assert_false(ota_https_etag_strong("\"abcdef\"", 4));
    assert_false(ota_https_etag_strong(NULL, 128));

    assert_int_equal(ota_https_resume_offset(true, 1023, 1024, false), 0);
    assert_int_equal(ota_https_resume_offset(true, 1024, 1024, false), 1024);
    assert_int_equal(ota_https_resume_offset(true, 5000, 1024, false), 5000);
    assert_int_equal(ota_https_resume_offset(true, 5007, 1024, true), 4992);
    assert_int_equal(ota_https_resume_offset(false, 5000, 1024, false), 0);
    assert_int_equal(ota_https_erase_size(false, 1000, 0xffffffff, 0xfffffffe), 0xfffffffe);
    assert_int_equal(ota_https_erase_size(true, 1000, 0xffffffff, 0xfffffffe), 1000);
    assert_int_equal(ota_https_erase_size(true, -1, 0xffffffff, 0xfffffffe), 0xffffffff);
}

/* ---- full updates ------------------------------------------------------------------------ */

static void test_full_update_events(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);

    assert_int_equal(r.begin, ESP_OK);
    assert_int_equal(r.desc, ESP_OK);
    assert_string_equal(r.app.version, "2");
    assert_string_equal(r.app.project_name, "https_ota_test");
    assert_int_equal(r.image_size, (int)img_v2.len);
    assert_int_equal(r.perform, ESP_OK);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(boot_address(), OTA0_OFFSET);
    assert_true(log_has(log, 'I', "esp_https_ota: Starting OTA..."));
    assert_true(
        log_has(log, 'I', "esp_https_ota: Writing to <ota_0> partition at offset 0x110000"));
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.connections, 1);

    /* START, CONNECTED, GET_IMG_DESC, VERIFY_CHIP_ID, VERIFY_CHIP_REVISION, WRITE_FLASH...,
     * UPDATE_BOOT_PARTITION, FINISH. */
    assert_true(ev_count > 8);
    assert_int_equal(ev_ids[0], ESP_HTTPS_OTA_START);
    assert_int_equal(ev_ids[1], ESP_HTTPS_OTA_CONNECTED);
    assert_int_equal(ev_ids[2], ESP_HTTPS_OTA_GET_IMG_DESC);
    assert_int_equal(ev_ids[3], ESP_HTTPS_OTA_VERIFY_CHIP_ID);
    assert_int_equal(ev_data[3], OTA_CHIP_ID_ESP32);
    assert_int_equal(ev_ids[4], ESP_HTTPS_OTA_VERIFY_CHIP_REVISION);
    assert_int_equal(ev_data[4], MIN_REV_FULL);
    int last = 0;
    int i = 5;
    for (; i < ev_count && ev_ids[i] == ESP_HTTPS_OTA_WRITE_FLASH; i++) {
        assert_true(ev_data[i] > last);
        last = ev_data[i];
    }
    assert_int_equal(ev_data[5], IMAGE_HEADER_SIZE);
    assert_int_equal(last, (int)img_v2.len);
    assert_int_equal(ev_count, i + 2);
    assert_int_equal(ev_ids[i], ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION);
    assert_int_equal(ev_data[i], ESP_PARTITION_SUBTYPE_APP_OTA_0);
    assert_int_equal(ev_ids[i + 1], ESP_HTTPS_OTA_FINISH);
    /* Event ids are v5.5's. */
    assert_int_equal(ESP_HTTPS_OTA_WRITE_FLASH, 6);
    assert_int_equal(ESP_HTTPS_OTA_ABORT, 9);
    free(log);
}

static void test_three_updates_alternate(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    const uint32_t expect[3] = {OTA0_OFFSET, OTA1_OFFSET, OTA0_OFFSET};
    log_begin();
    for (int i = 0; i < 3; i++) {
        esp_err_t err = esp_https_ota(&cfg);
        assert_int_equal(err, ESP_OK);
        assert_int_equal(boot_address(), expect[i]);
        assert_true(slot_equals(expect[i], &img_v2));
        dev_boot(expect[i]); /* restart into the new slot */
        assert_int_equal(esp_ota_get_running_partition()->address, expect[i]);
    }
    free(log_end());
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(st.requests, 3);
}

static void test_chunked(void **state)
{
    (void)state;
    ota_server_config_t sw = {.chunked = true};
    conn_t c;
    conn_open(&c, cert_ip, key_ip, &sw, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    free(log_end());
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.image_size, -1);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(boot_address(), OTA0_OFFSET);
}

static void test_redirect(void **state)
{
    (void)state;
    ota_server_redirect_t redir = {"/old.bin", "/app_v2.bin"};
    ota_server_config_t sw = {.redirects = &redir, .redirect_count = 1};
    conn_t c;
    conn_open(&c, cert_ip, key_ip, &sw, "old.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    log_begin();
    esp_err_t err = esp_https_ota(&cfg);
    free(log_end());
    char *access;
    ota_server_stats_t st;
    server_stop(&c.s, &st, &access);
    assert_int_equal(err, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_non_null(strstr(access, "\"GET /old.bin HTTP/1.1\" 302 -"));
    assert_non_null(strstr(access, "\"GET /app_v2.bin HTTP/1.1\" 200 -"));
    assert_int_equal(st.status_3xx, 1);
    assert_int_equal(st.connections, 1); /* same server: the redirect reuses the connection */
    free(access);
}

/* ---- bad images and server errors ------------------------------------------------------- */

static void test_truncated_image(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "truncated.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    free(log_end());
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.perform, ESP_OK);
    assert_int_equal(r.len_read, 64000);
    assert_int_equal(r.finish, ESP_ERR_OTA_VALIDATE_FAILED);
    assert_int_equal(boot_address(), FACTORY_OFFSET); /* nothing switched */
}

static void test_truncated_header(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "header_only.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.begin, ESP_OK);
    assert_int_equal(r.desc, ESP_FAIL);
    assert_true(log_has(log, 'E', "esp_https_ota: Complete headers were not received"));
    assert_int_equal(ev_ids[ev_count - 1], ESP_HTTPS_OTA_ABORT);
    free(log);
}

static void test_random_data(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "random.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r); /* the advanced example: the description check fails */
    esp_err_t one_shot = esp_https_ota(&cfg); /* the simple example: the first byte fails */
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.desc, ESP_FAIL);
    assert_true(log_has(log, 'E', "esp_https_ota: Incorrect app descriptor magic"));
    assert_int_equal(one_shot, ESP_ERR_OTA_VALIDATE_FAILED);
    assert_true(log_has(log, 'E',
                        "esp_ota_ops: OTA image has invalid magic byte (expected 0xE9, "
                        "saw 0x00)"));
    assert_true(log_has(log, 'E', "esp_https_ota: Error: esp_ota_write failed! err=0x1503"));
    assert_int_equal(boot_address(), FACTORY_OFFSET);
    free(log);
}

static void test_wrong_chip(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_c3.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    log_begin();
    esp_err_t err = esp_https_ota(&cfg);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(err, ESP_ERR_INVALID_VERSION);
    assert_true(log_has(log, 'E', "esp_https_ota: Mismatch chip id, expected 0, found 5"));
    int chip_event = -1;
    for (int i = 0; i < ev_count; i++) {
        if (ev_ids[i] == ESP_HTTPS_OTA_VERIFY_CHIP_ID) {
            chip_event = ev_data[i];
        }
    }
    assert_int_equal(chip_event, OTA_CHIP_ID_ESP32C3);
    assert_int_equal(ev_ids[ev_count - 1], ESP_HTTPS_OTA_ABORT);
    free(log);
}

static void test_not_found(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "missing.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    esp_https_ota_handle_t h = (esp_https_ota_handle_t)&c.hc;
    log_begin();
    esp_err_t err = esp_https_ota_begin(&cfg, &h);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(err, ESP_FAIL);
    assert_null(h);
    assert_true(log_has(log, 'E', "esp_https_ota: File not found(404)"));
    assert_true(log_has(log, 'E', "esp_https_ota: Failed to establish HTTP connection"));
    free(log);
}

/* ---- TLS and plain HTTP ------------------------------------------------------------------ */

static void test_tls_checks(void **state)
{
    (void)state;
    conn_t c;
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    esp_https_ota_handle_t h;

    /* A certificate for another host name. */
    conn_open(&c, cert_other, key_other, NULL, "app_v2.bin");
    c.hc.cert_pem = pem_other;
    log_begin();
    esp_err_t wrong_name = esp_https_ota_begin(&cfg, &h);
    c.hc.skip_cert_common_name_check = true;
    esp_err_t skipped = esp_https_ota(&cfg);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(wrong_name, ESP_ERR_HTTP_CONNECT);
    assert_true(log_has(log, 'E',
                        "esp_https_ota: Failed to open HTTP connection: "
                        "ESP_ERR_HTTP_CONNECT"));
    assert_int_equal(skipped, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    free(log);

    /* A server whose certificate the client does not trust. */
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    c.hc.cert_pem = pem_other;
    log_begin();
    esp_err_t untrusted = esp_https_ota_begin(&cfg, &h);
    log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(untrusted, ESP_ERR_HTTP_CONNECT);
    assert_true(log_has(log, 'E', "esp_https_ota: Failed to establish HTTP connection"));
    free(log);
}

static void test_plain_http(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, NULL, NULL, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    log_begin();
    esp_err_t refused = esp_https_ota(&cfg);
    int events_refused = ev_count;
    assert_int_equal(ota_sdkconfig_set(sdk, "CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP", "y"), OTA_OK);
    esp_err_t allowed = esp_https_ota(&cfg);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(refused, ESP_ERR_INVALID_ARG);
    assert_int_equal(events_refused, 1); /* START only */
    assert_true(log_has(log, 'E',
                        "esp_https_ota: No option for server verification is enabled "
                        "in esp_http_client config."));
    assert_int_equal(allowed, ESP_OK);
    assert_true(log_has(log, 'W',
                        "esp_https_ota: Continuing with insecure option because "
                        "CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP is set."));
    assert_int_equal(st.requests, 1); /* the refused attempt sent nothing */
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    free(log);
}

/* ---- partial download: one connection (difference 1) ------------------------------------ */

static void test_partial_one_connection(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    c.hc.keep_alive_enable = false; /* the app's choice does not matter: ranges share one */
    const int max = 16384;
    esp_https_ota_config_t cfg = {
        .http_config = &c.hc, .partial_http_download = true, .max_http_request_size = max};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    free(log_end());
    char *access;
    ota_server_stats_t st;
    server_stop(&c.s, &st, &access);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    int ranges = (int)((img_v2.len + max - 1) / max);
    assert_int_equal(st.requests, 1 + ranges); /* HEAD + one GET per range */
    assert_int_equal(count_substr(access, "\"HEAD /app_v2.bin HTTP/1.1\" 200"), 1);
    assert_int_equal(count_substr(access, "\"GET /app_v2.bin HTTP/1.1\" 206"), ranges);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.body_bytes, img_v2.len); /* no byte fetched twice */
    fprintf(stderr, "partial download: %d ranges of %d bytes, %llu requests, %llu connection(s)\n",
            ranges, max, (unsigned long long)st.requests, (unsigned long long)st.connections);
    free(access);
}

/* A server that ignores Range in partial mode: one full download from byte 0 (difference 3). */
static void test_partial_server_without_range(void **state)
{
    (void)state;
    ota_server_config_t sw = {.no_range = true};
    conn_t c;
    conn_open(&c, cert_ip, key_ip, &sw, "app_v2.bin");
    esp_https_ota_config_t cfg = {
        .http_config = &c.hc, .partial_http_download = true, .max_http_request_size = 16384};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    free(log_end());
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(st.requests, 2); /* HEAD, then one GET answered with the whole file */
    assert_int_equal(st.body_bytes, img_v2.len);
}

/*
 * The file changes between two ranges of a partial download: the next Range request carries
 * If-Range, the server answers 200 with the new file, and the download starts again from byte 0
 * (difference 2 and 3). When the app has read the old description, perform() refuses instead.
 */
static void test_partial_file_changes_midway(void **state)
{
    (void)state;
    put_file("moving.bin", img_v2.data, img_v2.len);
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "moving.bin");
    esp_https_ota_config_t cfg = {
        .http_config = &c.hc, .partial_http_download = true, .max_http_request_size = 16384};
    log_begin();
    for (int with_desc = 0; with_desc < 2; with_desc++) {
        put_file("moving.bin", img_v2.data, img_v2.len);
        esp_https_ota_handle_t h;
        assert_int_equal(esp_https_ota_begin(&cfg, &h), ESP_OK);
        esp_app_desc_t app;
        if (with_desc) {
            assert_int_equal(esp_https_ota_get_img_desc(h, &app), ESP_OK);
            assert_string_equal(app.version, "2");
        }
        esp_err_t err;
        while ((err = esp_https_ota_perform(h)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS &&
               esp_https_ota_get_image_len_read(h) < 50000) {
        }
        assert_int_equal(err, ESP_ERR_HTTPS_OTA_IN_PROGRESS);
        put_file("moving.bin", img_v3.data, img_v3.len);
        while ((err = esp_https_ota_perform(h)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        }
        if (with_desc) {
            assert_int_equal(err, ESP_FAIL);
            assert_int_equal(esp_https_ota_abort(h), ESP_OK);
        } else {
            assert_int_equal(err, ESP_OK);
            assert_int_equal(esp_https_ota_get_image_len_read(h), (int)img_v3.len);
            assert_int_equal(esp_https_ota_finish(h), ESP_OK);
            assert_true(slot_equals(OTA0_OFFSET, &img_v3));
            assert_int_equal(boot_address(), OTA0_OFFSET);
        }
    }
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_true(log_has(log, 'W',
                        "esp_https_ota: Server sent the whole image instead of bytes "
                        "from "));
    assert_true(log_has(log, 'E',
                        "esp_https_ota: The image changed on the server during the "
                        "download: its description differs from the one read before"));
    free(log);
}

/* ---- resumption ------------------------------------------------------------------------- */

/*
 * Downloads part of path from a server of its own, then "resets" (abort, reinstall): returns
 * the count the app kept (bytes written in whole KiB, as the advanced example saves it).
 */
static size_t interrupted_download(const char *path, int performs, uint16_t *port)
{
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, path);
    *port = ota_server_port(c.s.srv); /* the resumed session's server reuses it: same URL */
    esp_https_ota_config_t cfg = {.http_config = &c.hc, .ota_resumption = true};
    run_t r;
    run_steps(&cfg, performs, &r);
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.perform, ESP_ERR_HTTPS_OTA_IN_PROGRESS);
    assert_true(r.len_read > 0);
    dev_boot(FACTORY_OFFSET);
    return (size_t)(r.len_read / 1024) * 1024;
}

/*
 * The set-up of a resumption: with the ESP log captured (log_begin), an interrupted download of
 * path (performs performs, then a reset), then a server with switches sw on the same port and a
 * client that resumes from the count the app kept (cfg->ota_image_bytes_written), in *c and *cfg.
 */
static void resume_open(conn_t *c, esp_https_ota_config_t *cfg, const char *path, int performs,
                        ota_server_config_t sw)
{
    uint16_t port;
    log_begin();
    size_t written = interrupted_download(path, performs, &port);
    sw.port = port;
    conn_open(c, cert_ip, key_ip, &sw, path);
    *cfg = (esp_https_ota_config_t){
        .http_config = &c->hc, .ota_resumption = true, .ota_image_bytes_written = written};
}

static void test_resume_tail_only(void **state)
{
    (void)state;
    conn_t c;
    esp_https_ota_config_t cfg;
    resume_open(&c, &cfg, "app_v2.bin", 120, (ota_server_config_t){0});
    run_t r;
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.begin, ESP_OK);
    assert_int_equal(r.desc, ESP_OK); /* read back from the staging partition */
    assert_string_equal(r.app.version, "2");
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(boot_address(), OTA0_OFFSET);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.body_bytes, img_v2.len - cfg.ota_image_bytes_written); /* the tail only */
    assert_false(log_has(log, 'I', "esp_https_ota: Falling back"));
    free(log);
}

static void test_resume_server_without_range(void **state)
{
    (void)state;
    conn_t c;
    esp_https_ota_config_t cfg;
    resume_open(&c, &cfg, "app_v2.bin", 60, (ota_server_config_t){.no_range = true});
    run_t r;
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_true(log_has(log, 'W', "esp_https_ota: Server ignored the requested Range header"));
    assert_true(log_has(log, 'E', "esp_https_ota: OTA resumption failed with err: 28682."));
    assert_true(log_has(log, 'I',
                        "esp_https_ota: Falling back to OTA without resumption and "
                        "restarting download from beginning"));
    assert_int_equal(st.requests, 1); /* the 200's body is used: no second request */
    assert_int_equal(st.body_bytes, img_v2.len);
    free(log);
}

/* A resumption offset past the end of the file: 416, then ESP-IDF's fallback to a full
 * download, on the same connection (the 416 page is read before asking again). */
static void test_resume_range_not_satisfiable(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {
        .http_config = &c.hc, .ota_resumption = true, .ota_image_bytes_written = img_v2.len + 4096};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    char *access;
    ota_server_stats_t st;
    server_stop(&c.s, &st, &access);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_true(
        log_has(log, 'I', "esp_https_ota: Requested range is incorrect (status code: 416)"));
    assert_true(log_has(log, 'E', "esp_https_ota: OTA resumption failed with err: 28682."));
    assert_true(log_has(log, 'I',
                        "esp_https_ota: Falling back to OTA without resumption and "
                        "restarting download from beginning"));
    assert_non_null(strstr(access, "\"GET /app_v2.bin HTTP/1.1\" 416 -"));
    assert_non_null(strstr(access, "\"GET /app_v2.bin HTTP/1.1\" 200 -"));
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.connections, 1);
    free(log);
    free(access);
}

/* Difference 2: the file changed between the reset and the resumption. */
static void test_resume_changed_file(void **state)
{
    (void)state;
    put_file("moving.bin", img_v2.data, img_v2.len);
    conn_t c;
    esp_https_ota_config_t cfg;
    resume_open(&c, &cfg, "moving.bin", 100, (ota_server_config_t){0});
    put_file("moving.bin", img_v3.data, img_v3.len); /* a new release appears */
    run_t r;
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.begin, ESP_OK);
    assert_string_equal(r.app.version, "3"); /* the description is the new file's */
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v3)); /* the new image, never a mix */
    assert_true(log_has(log, 'W',
                        "esp_https_ota: The image changed on the server since the "
                        "interrupted download"));
    assert_true(log_has(log, 'I',
                        "esp_https_ota: Falling back to OTA without resumption and "
                        "restarting download from beginning"));
    free(log);
}

/* Without the ETag record (NVS erased) the same resumption mixes two files, as ESP-IDF would:
 * the verification at finish is then all that stops it. */
static void test_resume_changed_file_without_record(void **state)
{
    (void)state;
    put_file("moving.bin", img_v2.data, img_v2.len);
    conn_t c;
    esp_https_ota_config_t cfg;
    resume_open(&c, &cfg, "moving.bin", 100, (ota_server_config_t){0});
    nvs_handle_t nh;
    assert_int_equal(nvs_open("otakit_ota", NVS_READWRITE, &nh), ESP_OK);
    assert_int_equal(nvs_erase_all(nh), ESP_OK);
    nvs_close(nh);
    put_file("moving.bin", img_v3.data, img_v3.len);
    run_t r;
    run_steps(&cfg, 0, &r);
    free(log_end());
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.finish, ESP_ERR_OTA_VALIDATE_FAILED);
    assert_int_equal(boot_address(), FACTORY_OFFSET);
}

/* A power cut during the download: the app's persisted count (KiB, after every perform) drives
 * the resumption; what is fetched again is bounded by one perform's read plus 1023 bytes. */
static void test_power_cut_resume(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc, .ota_resumption = true};
    log_begin();
    esp_https_ota_handle_t h;
    assert_int_equal(esp_https_ota_begin(&cfg, &h), ESP_OK);
    /* Cut the power at the 40th flash operation from here (programs and erases). */
    assert_int_equal(ota_nor_cut_arm(nor, 40, OTA_NOR_CUT_TORN, 7), OTA_OK);
    size_t persisted = 0;
    int last_len = 0;
    esp_err_t err;
    while ((err = esp_https_ota_perform(h)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        last_len = esp_https_ota_get_image_len_read(h);
        persisted = (size_t)(last_len / 1024) * 1024;
    }
    assert_true(ota_nor_power_lost(nor));
    esp_https_ota_abort(h);
    uint16_t port = ota_server_port(c.s.srv);
    server_stop(&c.s, NULL, NULL);
    ota_server_config_t sw = {.port = port};
    server_start(&c.s, cert_ip, key_ip, &sw);
    ota_nor_power_on(nor);
    dev_boot(FACTORY_OFFSET);
    assert_true(persisted >= 1024);

    cfg.ota_image_bytes_written = persisted;
    run_t r;
    run_steps(&cfg, 0, &r);
    free(log_end());
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.body_bytes, img_v2.len - persisted);
    /* Received before the cut: last_len plus at most one read (1024-byte buffer). */
    size_t refetched_max = (size_t)last_len + 1024 - persisted;
    assert_true(refetched_max <= 1024 + 1023);
    fprintf(stderr, "power cut: resumed at %zu of %zu, at most %zu bytes fetched again\n",
            persisted, img_v2.len, refetched_max);
}

/* ---- dropped connections (difference 4) --------------------------------------------------- */

static void test_drop_reconnects(void **state)
{
    (void)state;
    const uint64_t drop = 100000;
    ota_server_config_t sw = {.drop_after_bytes = drop, .drop_after_count = 2};
    conn_t c;
    conn_open(&c, cert_ip, key_ip, &sw, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    ota_server_stats_t st;
    server_stop(&c.s, &st, NULL);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_int_equal(boot_address(), OTA0_OFFSET);
    assert_int_equal(st.drops, 2);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.connections, 3);
    assert_true(log_has(log, 'W', "esp_https_ota: Connection lost after "));
    assert_true(log_has(log, 'I', "esp_https_ota: Download continues at byte "));
    /* Each reconnection asks for the first byte not received: the server sent the image once
     * plus only what was lost in transit when it cut (never more than it sent before a cut). */
    uint64_t lost = st.body_bytes - img_v2.len;
    assert_true(lost <= 2 * drop);
    long long first = -1, second = -1;
    const char *p = strstr(log, "Download continues at byte ");
    assert_non_null(p);
    first = atoll(p + strlen("Download continues at byte "));
    p = strstr(p + 1, "Download continues at byte ");
    assert_non_null(p);
    second = atoll(p + strlen("Download continues at byte "));
    assert_true(first > 0 && first <= (long long)drop);
    assert_true(second > first && second <= first + (long long)drop);
    assert_int_equal(lost, 2 * drop - (uint64_t)first - (uint64_t)(second - first));
    fprintf(stderr,
            "drops: resumed at %lld and %lld, %llu bytes lost in transit, 0 received "
            "twice\n",
            first, second, (unsigned long long)lost);
    free(log);
}

/* A drop with a server that ignores Range: the reconnection gets the whole file (200) and the
 * download starts again from byte 0 instead of writing it at the old offset. */
static void test_drop_without_range(void **state)
{
    (void)state;
    ota_server_config_t sw = {.drop_after_bytes = 50000, .drop_after_count = 1, .no_range = true};
    conn_t c;
    conn_open(&c, cert_ip, key_ip, &sw, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    run_t r;
    log_begin();
    run_steps(&cfg, 0, &r);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(r.finish, ESP_OK);
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    assert_true(log_has(log, 'W',
                        "esp_https_ota: Server sent the whole image instead of bytes "
                        "from "));
    free(log);
}

/* ---- options ---------------------------------------------------------------------------- */

static void test_bulk_flash_erase(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    const uint8_t marker[4] = {0x12, 0x34, 0x56, 0x78};
    const uint32_t inside = OTA0_OFFSET + 0x40000; /* within the image's sectors */
    const uint32_t beyond = OTA0_OFFSET + 0x80000; /* past ALIGN_UP(image, 4 KiB) */
    const uint8_t *flash = ota_nor_data(nor);
    log_begin();
    for (int bulk = 0; bulk < 2; bulk++) {
        write_at(inside, marker, sizeof(marker));
        write_at(beyond, marker, sizeof(marker));
        esp_https_ota_config_t cfg = {.http_config = &c.hc, .bulk_flash_erase = bulk != 0};
        run_t r;
        run_steps(&cfg, 3, &r); /* three writes (3 KiB), then stop */
        bool inside_erased = flash[inside] == 0xFF && flash[inside + 3] == 0xFF;
        assert_int_equal(inside_erased, bulk != 0);
        assert_memory_equal(flash + beyond, marker, sizeof(marker));
    }
    free(log_end());
    server_stop(&c.s, NULL, NULL);
}

static char seen_etag[160];

static esp_err_t record_etag(esp_http_client_event_t *evt)
{
    if (evt->event_id == HTTP_EVENT_ON_HEADER && strcasecmp(evt->header_key, "ETag") == 0) {
        snprintf(seen_etag, sizeof(seen_etag), "%s", evt->header_value);
    }
    return ESP_OK;
}

static esp_err_t add_if_none_match(esp_http_client_handle_t client)
{
    return esp_http_client_set_header(client, "If-None-Match", seen_etag);
}

static esp_err_t init_fails(esp_http_client_handle_t client)
{
    (void)client;
    return ESP_ERR_NOT_SUPPORTED;
}

/* http_client_init_cb: a header it adds reaches the server (If-None-Match → 304); the app's
 * own event handler still sees the client's events. */
static void test_http_client_init_cb(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    c.hc.event_handler = record_etag;
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    esp_https_ota_handle_t h;
    seen_etag[0] = '\0';
    log_begin();
    assert_int_equal(esp_https_ota_begin(&cfg, &h), ESP_OK);
    assert_int_equal(esp_https_ota_abort(h), ESP_OK);
    assert_true(seen_etag[0] == '"');

    cfg.http_client_init_cb = add_if_none_match;
    esp_err_t not_modified = esp_https_ota_begin(&cfg, &h);
    cfg.http_client_init_cb = init_fails;
    esp_err_t failed = esp_https_ota_begin(&cfg, &h);
    char *log = log_end();
    char *access;
    server_stop(&c.s, NULL, &access);
    assert_int_equal(not_modified, ESP_ERR_HTTP_NOT_MODIFIED);
    assert_null(h);
    assert_true(log_has(log, 'I',
                        "esp_https_ota: OTA image not modified since last request "
                        "(status code: 304)"));
    assert_false(log_has(log, 'E', "esp_https_ota: Failed to establish HTTP connection"));
    assert_non_null(strstr(access, "\"GET /app_v2.bin HTTP/1.1\" 304 -"));
    assert_int_equal(failed, ESP_ERR_NOT_SUPPORTED);
    assert_true(log_has(log, 'E', "esp_https_ota: http_client_init_cb returned 0x106"));
    free(log);
    free(access);
}

static void test_abort_after_begin(void **state)
{
    (void)state;
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_v2.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    esp_https_ota_handle_t h;
    log_begin();
    assert_int_equal(esp_https_ota_begin(&cfg, &h), ESP_OK);
    assert_int_equal(esp_https_ota_get_image_len_read(h), -1); /* state BEGIN */
    assert_int_equal(esp_https_ota_get_image_size(h), (int)img_v2.len);
    assert_int_equal(esp_https_ota_get_status_code(h), 200);
    assert_int_equal(esp_https_ota_abort(h), ESP_OK);
    int events = ev_count;
    /* Argument and state checks. */
    assert_int_equal(esp_https_ota_abort(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_https_ota_perform(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_https_ota_finish(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_https_ota_begin(NULL, &h), ESP_ERR_INVALID_ARG);
    assert_null(h);
    assert_int_equal(esp_https_ota_get_image_size(NULL), -1);
    assert_int_equal(esp_https_ota_get_status_code(NULL), -1);
    esp_https_ota_config_t resume = {.http_config = &c.hc, .ota_resumption = true};
    assert_int_equal(esp_https_ota(&resume), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_https_ota(NULL), ESP_ERR_INVALID_ARG);
    /* A complete update still works afterwards. */
    assert_int_equal(esp_https_ota(&cfg), ESP_OK);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(ev_ids[0], ESP_HTTPS_OTA_START);
    assert_int_equal(ev_ids[1], ESP_HTTPS_OTA_CONNECTED);
    assert_int_equal(ev_ids[2], ESP_HTTPS_OTA_ABORT);
    assert_int_equal(events, 3);
    assert_true(log_has(log, 'E',
                        "esp_https_ota: OTA resumption is not supported in "
                        "esp_https_ota API"));
    assert_true(slot_equals(OTA0_OFFSET, &img_v2));
    free(log);
}

/* A toy "pre-encrypted" container: a 512-byte header, then the image XORed with 0x5A. */
#define ENC_HEADER 512

typedef struct xor_ctx {
    size_t consumed; /* container bytes seen */
    int calls;
    int stall_call; /* this call returns ESP_OK without output (0 = never) */
} xor_ctx_t;

static esp_err_t xor_decrypt(decrypt_cb_arg_t *args, void *user_ctx)
{
    xor_ctx_t *x = user_ctx;
    x->calls++;
    size_t skip = 0;
    if (x->consumed < ENC_HEADER) {
        skip = ENC_HEADER - x->consumed;
        if (skip > args->data_in_len) {
            skip = args->data_in_len;
        }
    }
    x->consumed += args->data_in_len;
    args->data_out_len = 0;
    args->data_out = NULL;
    if (x->calls == x->stall_call) {
        return ESP_OK;
    }
    size_t n = args->data_in_len - skip;
    args->data_out = malloc(n > 0 ? n : 1);
    if (args->data_out == NULL) {
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; i < n; i++) {
        args->data_out[i] = (char)(args->data_in[skip + i] ^ 0x5A);
    }
    args->data_out_len = n;
    return ESP_OK;
}

static void test_decrypt_cb(void **state)
{
    (void)state;
    size_t len = ENC_HEADER + img_v2.len;
    uint8_t *enc = malloc(len);
    assert_non_null(enc);
    memset(enc, 0xEE, ENC_HEADER);
    for (size_t i = 0; i < img_v2.len; i++) {
        enc[ENC_HEADER + i] = img_v2.data[i] ^ 0x5A;
    }
    put_file("app_enc.bin", enc, len);
    free(enc);
    assert_int_equal(ota_sdkconfig_set(sdk, "ESP_HTTPS_OTA_DECRYPT_CB", "y"), OTA_OK);
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "app_enc.bin");
    xor_ctx_t x = {0};
    esp_https_ota_config_t cfg = {.http_config = &c.hc,
                                  .decrypt_cb = xor_decrypt,
                                  .decrypt_user_ctx = &x,
                                  .enc_img_header_size = ENC_HEADER};
    esp_https_ota_handle_t h;
    log_begin();
    /* Step API: no description (the app reads it inside its callback), image size w/o header. */
    assert_int_equal(esp_https_ota_begin(&cfg, &h), ESP_OK);
    assert_int_equal(esp_https_ota_get_image_size(h), (int)img_v2.len);
    esp_app_desc_t app;
    assert_int_equal(esp_https_ota_get_img_desc(h, &app), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_https_ota_abort(h), ESP_OK);
    /* One-shot: decrypted on the fly. */
    x = (xor_ctx_t){0};
    ev_count = 0;
    esp_err_t ok = esp_https_ota(&cfg);
    bool slot_ok = slot_equals(OTA0_OFFSET, &img_v2);
    uint32_t boot_ok = boot_address();
    int calls_ok = x.calls;
    int decrypt_events = 0;
    for (int i = 0; i < ev_count; i++) {
        decrypt_events += ev_ids[i] == ESP_HTTPS_OTA_DECRYPT_CB;
    }
    /* The v5.5 quirk: no output from the callback ends perform() with 2, not 0x9001. */
    x = (xor_ctx_t){.stall_call = 5};
    esp_err_t stalled = esp_https_ota(&cfg);
    /* Checks of the configuration. */
    esp_https_ota_config_t no_cb = {.http_config = &c.hc};
    esp_err_t missing = esp_https_ota_begin(&no_cb, &h);
    esp_https_ota_config_t resume = cfg;
    resume.ota_resumption = true;
    esp_err_t resumed = esp_https_ota_begin(&resume, &h);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(ok, ESP_OK);
    assert_int_equal(decrypt_events, calls_ok); /* one DECRYPT_CB event per callback call */
    assert_true(calls_ok > 1);
    assert_true(slot_ok);
    assert_int_equal(boot_ok, OTA0_OFFSET);
    assert_int_equal(stalled, 2);
    assert_int_equal(x.calls, 5);
    assert_int_equal(missing, ESP_ERR_INVALID_ARG);
    assert_int_equal(resumed, ESP_ERR_NOT_SUPPORTED);
    free(log);
}

/* Without a default event loop every post fails and says which event it was. */
static void test_event_post_failure(void **state)
{
    (void)state;
    esp_event_loop_delete_default();
    esp_https_ota_handle_t h;
    log_begin();
    esp_err_t err = esp_https_ota_begin(NULL, &h);
    esp_err_t abort_err = esp_https_ota_abort(NULL);
    char *log = log_end();
    esp_event_loop_create_default();
    assert_int_equal(err, ESP_ERR_INVALID_ARG);
    assert_int_equal(abort_err, ESP_ERR_INVALID_ARG);
    assert_true(log_has(log, 'E',
                        "esp_https_ota: Failed to post https_ota event: "
                        "ESP_HTTPS_OTA_START"));
    assert_true(log_has(log, 'E', "esp_https_ota: esp_https_ota_begin: Invalid argument"));
    assert_true(log_has(log, 'E',
                        "esp_https_ota: Failed to post https_ota event: "
                        "ESP_HTTPS_OTA_ABORT"));
    free(log);
}

static const char STORAGE_TABLE[] = "# Name, Type, SubType, Offset, Size, Flags\n"
                                    "nvs,      data, nvs,     0x9000,  0x4000,\n"
                                    "otadata,  data, ota,     0xd000,  0x2000,\n"
                                    "phy_init, data, phy,     0xf000,  0x1000,\n"
                                    "factory,  app,  factory, 0x10000, 1M,\n"
                                    "ota_0,    app,  ota_0,   ,        1M,\n"
                                    "ota_1,    app,  ota_1,   ,        1M,\n"
                                    "storage,  data, undefined, ,      0x1000,\n";

static void test_finalize_with_copy(void **state)
{
    (void)state;
    write_table(STORAGE_TABLE);
    dev_boot(FACTORY_OFFSET);
    const esp_partition_t *storage =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, "storage");
    assert_non_null(storage);
    conn_t c;
    conn_open(&c, cert_ip, key_ip, NULL, "storage.bin");
    esp_https_ota_config_t cfg = {.http_config = &c.hc};
    cfg.partition.final = storage;
    cfg.partition.finalize_with_copy = true;
    log_begin();
    esp_err_t err = esp_https_ota(&cfg);
    char *log = log_end();
    server_stop(&c.s, NULL, NULL);
    assert_int_equal(err, ESP_OK);
    char got[17] = {0};
    assert_int_equal(esp_partition_read(storage, 0, got, 16), ESP_OK);
    assert_string_equal(got, "7296406769363431");
    assert_int_equal(boot_address(), FACTORY_OFFSET); /* a data final never switches boot */
    for (int i = 0; i < ev_count; i++) {
        assert_int_not_equal(ev_ids[i], ESP_HTTPS_OTA_VERIFY_CHIP_ID);
        assert_int_not_equal(ev_ids[i], ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION);
    }
    assert_true(log_has(log, 'I',
                        "esp_https_ota: Writing to <ota_0> partition at offset "
                        "0x110000"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logic_status_table),
        cmocka_unit_test(test_logic_ranges),
        cmocka_unit_test_setup_teardown(test_full_update_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_updates_alternate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_chip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_one_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_server_without_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_file_changes_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_tail_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_server_without_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_range_not_satisfiable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_changed_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_changed_file_without_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_without_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_flash_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_client_init_cb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_after_begin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decrypt_cb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_post_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalize_with_copy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
