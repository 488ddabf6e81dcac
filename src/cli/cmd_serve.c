/* otakit serve: the firmware server (HTTPS by default), like the OTA guide's Python server. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ota/ota_server.h"
#include "ota/ota_x509.h"

#define DEFAULT_PORT 8070
#define DEFAULT_BIND "0.0.0.0"
#define CERT_NAME "ca_cert.pem"
#define KEY_NAME "ca_key.pem"

static const char help_text[] =
    "usage: otakit serve DIR [OPTIONS]\n"
    "\n"
    "Serves the files in DIR over HTTPS (or HTTP with --http), like the ESP-IDF OTA guide's\n"
    "Python server: GET and HEAD, single byte ranges, ETag/If-Range, keep-alive, no listings,\n"
    "nothing outside DIR. One access-log line per request on stderr, in Python's format.\n"
    "Stops cleanly on SIGINT or SIGTERM.\n"
    "\n"
    "Options:\n"
    "  --port N             TCP port (default 8070; 0 picks a free one, printed at start)\n"
    "  --bind ADDR          numeric address to listen on (default 0.0.0.0)\n"
    "  --cert FILE          server certificate (PEM), with --key\n"
    "  --key FILE           its private key (PEM)\n"
    "  --self-signed HOST   use ca_cert.pem/ca_key.pem for HOST in the cert directory, making\n"
    "                       them (RSA-2048, 365 days, CN and subjectAltName HOST) unless a\n"
    "                       matching pair is already there\n"
    "  --cert-dir DIR       where --self-signed keeps the pair (default .)\n"
    "  --http               plain HTTP instead of HTTPS\n"
    "  --no-range           ignore Range headers, always 200 with the whole file (like\n"
    "                       Python's SimpleHTTPRequestHandler)\n"
    "  --redirect PATH=URL  answer requests for PATH with 302 to URL (repeatable)\n"
    "  --drop-after N[:K]   close the connection after N body bytes, for the first K bodies\n"
    "                       longer than N (default K = 1)\n"
    "  --chunked            send bodies with chunked transfer encoding\n"
    "  --stats-file FILE    write counters (\"key value\" lines) to FILE when stopping\n"
    "  --quiet              no access log\n"
    "  -h, --help           this help\n"
    "\n"
    "The first line on stderr says where it listens, e.g.\n"
    "  Serving HTTPS on 127.0.0.1 port 8070 (https://127.0.0.1:8070/) ...\n"
    "Check it with: curl -v --cacert ca_cert.pem https://HOST:PORT/FILE\n";

typedef struct serve_opts {
    const char *dir;
    const char *bind;
    uint32_t port;
    const char *cert;
    const char *key;
    const char *self_signed;
    const char *cert_dir;
    const char *stats_file;
    bool http;
    bool no_range;
    bool chunked;
    bool quiet;
    uint32_t drop_bytes;
    uint32_t drop_count;
    ota_server_redirect_t *redirects;
    size_t redirect_count;
} serve_opts_t;

static int parse_drop(const char *s, serve_opts_t *o)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf)) {
        return -1;
    }
    strcpy(buf, s);
    char *colon = strchr(buf, ':');
    o->drop_count = 1;
    if (colon != NULL) {
        *colon = '\0';
        if (!cli_parse_u32(colon + 1, &o->drop_count) || o->drop_count == 0) {
            return -1;
        }
    }
    return cli_parse_u32(buf, &o->drop_bytes) ? 0 : -1;
}

/* Handles one --redirect /PATH=URL. */
static int add_redirect(serve_opts_t *o, const char *v)
{
    const char *eq = strchr(v, '=');
    if (v[0] != '/' || eq == NULL || eq[1] == '\0') {
        return cli_usage_error("serve", "--redirect: '%s' is not /PATH=URL", v);
    }
    ota_server_redirect_t *r = &o->redirects[o->redirect_count];
    r->path = strndup(v, (size_t)(eq - v));
    r->url = eq + 1;
    if (r->path == NULL) {
        return cli_error("serve: out of memory");
    }
    o->redirect_count++;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, serve_opts_t *o)
{
    const char *port = NULL;
    const char *drop = NULL;
    const char *redirect = NULL;
    const struct {
        const char *name;
        const char **value;
    } with_value[] = {
        {"--port", &port},
        {"--bind", &o->bind},
        {"--cert", &o->cert},
        {"--key", &o->key},
        {"--self-signed", &o->self_signed},
        {"--cert-dir", &o->cert_dir},
        {"--redirect", &redirect},
        {"--drop-after", &drop},
        {"--stats-file", &o->stats_file},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int matched = 0;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]) && matched == 0; k++) {
            matched = cli_opt(NULL, argc, argv, &i, with_value[k].name, with_value[k].value);
        }
        if (matched < 0) {
            return cli_usage_error("serve", "%s needs a value", arg);
        }
        if (matched > 0) {
            if (redirect != NULL) {
                int rc = add_redirect(o, redirect);
                if (rc != CLI_OK) {
                    return rc;
                }
                redirect = NULL;
            }
        } else if (strcmp(arg, "--http") == 0) {
            o->http = true;
        } else if (strcmp(arg, "--no-range") == 0) {
            o->no_range = true;
        } else if (strcmp(arg, "--chunked") == 0) {
            o->chunked = true;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            o->quiet = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("serve", "unknown option '%s'", arg);
        } else if (o->dir != NULL) {
            return cli_usage_error("serve", "unexpected argument '%s'", arg);
        } else {
            o->dir = arg;
        }
    }
    if (port != NULL && (!cli_parse_u32(port, &o->port) || o->port > 65535)) {
        return cli_usage_error("serve", "--port: '%s' is not a port number", port);
    }
    if (drop != NULL && parse_drop(drop, o) != 0) {
        return cli_usage_error("serve", "--drop-after: '%s' is not N[:K]", drop);
    }
    if (o->dir == NULL) {
        return cli_usage_error("serve", "missing DIR");
    }
    bool has_pair = o->cert != NULL || o->key != NULL;
    if (o->http && (has_pair || o->self_signed != NULL)) {
        return cli_usage_error("serve",
                               "--http cannot be combined with --cert/--key/--self-signed");
    }
    if (has_pair && o->self_signed != NULL) {
        return cli_usage_error("serve", "use either --cert/--key or --self-signed");
    }
    if (has_pair && (o->cert == NULL || o->key == NULL)) {
        return cli_usage_error("serve", "--cert and --key go together");
    }
    if (!o->http && !has_pair && o->self_signed == NULL) {
        return cli_usage_error("serve", "HTTPS needs --cert FILE --key FILE or --self-signed HOST "
                                        "(or use --http)");
    }
    if (o->cert_dir != NULL && o->self_signed == NULL) {
        return cli_usage_error("serve", "--cert-dir only applies to --self-signed");
    }
    return CLI_OK;
}

static int check_dir(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return cli_error("serve: %s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return cli_error("serve: %s: %s is not a directory", path, what);
    }
    return CLI_OK;
}

/* True when `inner` is `outer` or lies below it (both resolved). */
static bool is_inside(const char *inner, const char *outer)
{
    char *a = realpath(inner, NULL);
    char *b = realpath(outer, NULL);
    bool inside = false;
    if (a != NULL && b != NULL) {
        size_t n = strlen(b);
        inside = strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || n == 1);
    }
    free(a);
    free(b);
    return inside;
}

/* Finds or makes ca_cert.pem/ca_key.pem for HOST in the cert directory. */
static int prepare_self_signed(serve_opts_t *o, char *cert, char *key, size_t cap)
{
    const char *dir = o->cert_dir != NULL ? o->cert_dir : ".";
    int rc = check_dir("certificate directory", dir);
    if (rc != CLI_OK) {
        return rc;
    }
    if ((size_t)snprintf(cert, cap, "%s/%s", dir, CERT_NAME) >= cap ||
        (size_t)snprintf(key, cap, "%s/%s", dir, KEY_NAME) >= cap) {
        return cli_error("serve: %s: path too long", dir);
    }
    if (is_inside(dir, o->dir)) {
        fprintf(stderr,
                "otakit: warning: certificate directory %s is inside %s: the private key %s "
                "will be served to anyone who asks\n",
                dir, o->dir, KEY_NAME);
    }
    ota_diag_t diag = {""};
    struct stat st;
    if (stat(cert, &st) == 0 && stat(key, &st) == 0) {
        int m = ota_x509_matches(o->self_signed, cert, key, &diag);
        if (m == 1) {
            fprintf(stderr, "otakit: reusing %s and %s (certificate for %s)\n", cert, key,
                    o->self_signed);
            return CLI_OK;
        }
        if (m == OTA_ERR_INVALID_ARG) {
            return cli_error("serve: --self-signed: %s", diag.msg);
        }
        fprintf(stderr, "otakit: replacing %s and %s (%s)\n", cert, key, diag.msg);
    }
    int err = ota_x509_self_signed(o->self_signed, cert, key, 0, &diag);
    if (err != OTA_OK) {
        return cli_error("serve: --self-signed %s: %s", o->self_signed, diag.msg);
    }
    fprintf(stderr, "otakit: wrote self-signed certificate for %s: %s, key %s\n", o->self_signed,
            cert, key);
    return CLI_OK;
}

static int write_stats(const char *path, const ota_server_stats_t *s)
{
    char text[512];
    int n = snprintf(text, sizeof(text),
                     "requests %llu\nstatus_2xx %llu\nstatus_3xx %llu\nstatus_4xx %llu\n"
                     "status_5xx %llu\nbody_bytes %llu\nconnections %llu\ndrops %llu\n",
                     (unsigned long long)s->requests, (unsigned long long)s->status_2xx,
                     (unsigned long long)s->status_3xx, (unsigned long long)s->status_4xx,
                     (unsigned long long)s->status_5xx, (unsigned long long)s->body_bytes,
                     (unsigned long long)s->connections, (unsigned long long)s->drops);
    return cli_write_file(path, text, (size_t)n);
}

static int serve(serve_opts_t *o)
{
    int rc = check_dir("served", o->dir);
    if (rc != CLI_OK) {
        return rc;
    }
    char cert[PATH_MAX];
    char key[PATH_MAX];
    if (o->self_signed != NULL) {
        rc = prepare_self_signed(o, cert, key, sizeof(cert));
        if (rc != CLI_OK) {
            return rc;
        }
        o->cert = cert;
        o->key = key;
    }

    /* The server's threads inherit this mask, so the signals reach sigwait() below. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    ota_server_config_t cfg = {
        .root = o->dir,
        .bind_addr = o->bind != NULL ? o->bind : DEFAULT_BIND,
        .port = (uint16_t)o->port,
        .cert_path = o->http ? NULL : o->cert,
        .key_path = o->http ? NULL : o->key,
        .access_log = o->quiet ? NULL : stderr,
        .no_range = o->no_range,
        .redirects = o->redirects,
        .redirect_count = o->redirect_count,
        .drop_after_bytes = o->drop_bytes,
        .drop_after_count = o->drop_count,
        .chunked = o->chunked,
    };
    ota_server_t *srv = NULL;
    ota_diag_t diag = {""};
    int err = ota_server_start(&cfg, &srv, &diag);
    if (err != OTA_OK) {
        return cli_error("serve: %s", ota_diag_why(&diag, err));
    }
    const char *scheme = ota_server_is_tls(srv) ? "https" : "http";
    bool v6 = strchr(cfg.bind_addr, ':') != NULL;
    fprintf(stderr, "Serving %s on %s port %u (%s://%s%s%s:%u/) ...\n",
            ota_server_is_tls(srv) ? "HTTPS" : "HTTP", cfg.bind_addr, ota_server_port(srv), scheme,
            v6 ? "[" : "", cfg.bind_addr, v6 ? "]" : "", ota_server_port(srv));
    fflush(stderr);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    ota_server_stats_t stats;
    ota_server_stop(srv, &stats);
    if (o->stats_file != NULL && write_stats(o->stats_file, &stats) != CLI_OK) {
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int run(int argc, char **argv)
{
    if (cli_help(argc, argv, help_text)) {
        return CLI_OK;
    }
    serve_opts_t o;
    memset(&o, 0, sizeof(o));
    o.port = DEFAULT_PORT;
    o.redirects = calloc((size_t)argc, sizeof(*o.redirects));
    if (o.redirects == NULL) {
        return cli_error("serve: out of memory");
    }
    int rc = parse_args(argc, argv, &o);
    if (rc == CLI_OK) {
        rc = serve(&o);
    }
    for (size_t i = 0; i < o.redirect_count; i++) {
        free((char *)o.redirects[i].path);
    }
    free(o.redirects);
    return rc;
}

const cli_cmd_t cli_cmd_serve = {"serve", "Serve firmware files over HTTPS (or HTTP)", run};
