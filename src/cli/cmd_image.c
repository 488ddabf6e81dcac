/* otakit image: app and bootloader images (info, pack, verify). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_img_sign.h"
#include "ota/ota_posix.h"
#include "ota/ota_sdkconfig.h"

/* ---- info ---------------------------------------------------------------------------------- */

static const char info_help[] =
    "usage: otakit image info FILE\n"
    "\n"
    "Prints what 'esptool image-info' prints for an app or bootloader image: header, extended\n"
    "header, segments with their memory types, checksum and SHA-256 validity, and the\n"
    "application or bootloader description. Exits 0 even when the checksum or hash is invalid;\n"
    "exits 1 when the file cannot be parsed as an image at all.\n";

static int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    if (cli_help(argc, argv, info_help)) {
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("image info", "unknown option '%s'", argv[i]);
        }
        if (path != NULL) {
            return cli_usage_error("image info", "one FILE expected");
        }
        path = argv[i];
    }
    if (path == NULL) {
        return cli_usage_error("image info", "FILE missing");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (cli_read_file(path, &data, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    char *text = NULL;
    ota_diag_t diag = {{0}};
    int err = ota_img_info_format(ota_crypto_openssl(), data, len, &text, &diag);
    free(data);
    if (err != OTA_OK) {
        return cli_error("image info: %s: %s", path, ota_diag_why(&diag, err));
    }
    fputs(text, stdout);
    free(text);
    return CLI_OK;
}

/* ---- pack ---------------------------------------------------------------------------------- */

static const char pack_help[] =
    "usage: otakit image pack -o OUT (--app | --bootloader) [OPTIONS]\n"
    "\n"
    "Builds an ESP-IDF app or bootloader image laid out as esptool elf2image does. An app's\n"
    "first segment holds esp_app_desc_t, otakit's host descriptor and the sdkconfig text; the\n"
    "payload (a host program the simulated board runs) is the flash-mapped code segment. A\n"
    "bootloader image holds esp_bootloader_desc_t, the host descriptor and its sdkconfig.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT       image file to write\n"
    "  --app | --bootloader   kind of image\n"
    "  --payload FILE         program carried by an app\n"
    "  --sdkconfig FILE       configuration baked into the image (CONFIG_* keys are honoured)\n"
    "  --chip NAME            target chip (default: CONFIG_IDF_TARGET, else esp32)\n"
    "  --project NAME         project name (default: the payload's file name)\n"
    "  --project-ver VER      PROJECT_VER; the version follows ESP-IDF's order:\n"
    "                         CONFIG_APP_PROJECT_VER (with CONFIG_APP_PROJECT_VER_FROM_CONFIG),\n"
    "                         --project-ver, DIR/version.txt, git describe in DIR, \"1\"\n"
    "  --project-dir DIR      project directory for version.txt and git describe\n"
    "  --secure-version N     anti-rollback version (from the sdkconfig when anti-rollback is on)\n"
    "  --idf-ver S            ESP-IDF version string (default " OTA_IDF_VER_DEFAULT ")\n"
    "  --flash-mode M         qio, qout, dio, dout (default: sdkconfig, else dio)\n"
    "  --flash-freq F         e.g. 40m, 80m (default: sdkconfig, else the chip's default)\n"
    "  --flash-size S         1MB..128MB (default: sdkconfig, else 2MB)\n"
    "  --min-rev-full N       minimum chip revision, major*100+minor\n"
    "  --max-rev-full N       maximum chip revision (default: sdkconfig, else 65535 = unset)\n"
    "  --build-time EPOCH     build time stamp (default: SOURCE_DATE_EPOCH, else now)\n"
    "  --no-hash              do not append the SHA-256\n"
    "  --secure-pad           pad so that the image ends 12 bytes before a 64 KiB boundary\n"
    "                         once signed for Secure Boot V1 (otakit image sign --version 1)\n"
    "  --secure-pad-v2        pad so that the image ends on a 64 KiB boundary (the Secure Boot\n"
    "                         V2 signature sector follows it)\n"
    "  --set KEY=VALUE        set an sdkconfig key on top of --sdkconfig (repeatable), e.g.\n"
    "                         --set CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y, --set KEY=n\n"
    "                         (a value that is not y, n or a number is stored as a string)\n"
    "  --embed NAME=FILE      a file in the image's file table (repeatable); the runtime adds\n"
    "                         x509_crt_bundle.pem to the certificate bundle (otakit build\n"
    "                         embeds CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH so)\n";

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

#define PACK_MAX_LIST 16

typedef struct pack_args {
    const char *out;
    const char *payload;
    const char *sdkconfig;
    int kind; /* 0 unset, 1 app, 2 bootloader */
    const char *sets[PACK_MAX_LIST];
    int n_sets;
    const char *embeds[PACK_MAX_LIST];
    int n_embeds;
} pack_args_t;

static const char pack_cmd[] = "image pack";

/* pack's options with a value, in the order cli_opt tries them */
typedef enum {
    PACK_OUTPUT,
    PACK_PAYLOAD,
    PACK_SDKCONFIG,
    PACK_PROJECT,
    PACK_PROJECT_VER,
    PACK_PROJECT_DIR,
    PACK_CHIP,
    PACK_SECURE_VERSION,
    PACK_IDF_VER,
    PACK_FLASH_MODE,
    PACK_FLASH_FREQ,
    PACK_FLASH_SIZE,
    PACK_MIN_REV_FULL,
    PACK_MAX_REV_FULL,
    PACK_BUILD_TIME,
    PACK_SET,
    PACK_EMBED,
    PACK_N_OPTS,
    PACK_NONE = -1, /* not one of them */
    PACK_BAD = -2,  /* one of them, without its value (reported) */
} pack_opt_t;

static const char *const pack_opt_names[PACK_N_OPTS] = {
    "--output",      "--payload",    "--sdkconfig",      "--project",      "--project-ver",
    "--project-dir", "--chip",       "--secure-version", "--idf-ver",      "--flash-mode",
    "--flash-freq",  "--flash-size", "--min-rev-full",   "--max-rev-full", "--build-time",
    "--set",         "--embed"};

/* pack's options without a value (--app, --bootloader, --no-hash, --secure-pad[-v2]) and -o OUT at
 * argv[*i]. Returns CLI_OK when argv[*i] was one, CLI_USAGE (reported) when it was misused,
 * PACK_NONE otherwise. */
static int pack_flag(int argc, char **argv, int *i, pack_args_t *a, ota_img_pack_opts_t *o)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--app") == 0 || strcmp(arg, "--bootloader") == 0) {
        int kind = arg[2] == 'a' ? 1 : 2;
        if (a->kind != 0 && a->kind != kind) {
            return cli_usage_error(pack_cmd, "--app and --bootloader exclude each other");
        }
        a->kind = kind;
        return CLI_OK;
    }
    if (strcmp(arg, "--no-hash") == 0) {
        o->no_hash = true;
        return CLI_OK;
    }
    if (strcmp(arg, "--secure-pad") == 0 || strcmp(arg, "--secure-pad-v2") == 0) {
        o->secure_pad = arg[12] == '\0' ? 1 : 2;
        return CLI_OK;
    }
    if (strcmp(arg, "-o") == 0) {
        if (*i + 1 >= argc) {
            return cli_usage_error(pack_cmd, "option -o needs a value");
        }
        a->out = argv[++*i];
        return CLI_OK;
    }
    return PACK_NONE;
}

/* Which of pack's options with a value argv[*i] is (*v gets the value), PACK_NONE or PACK_BAD. */
static pack_opt_t pack_opt(int argc, char **argv, int *i, const char **v)
{
    for (int k = 0; k < PACK_N_OPTS; k++) {
        int r = cli_opt(pack_cmd, argc, argv, i, pack_opt_names[k], v);
        if (r < 0) {
            return PACK_BAD;
        }
        if (r > 0) {
            return (pack_opt_t)k;
        }
    }
    return PACK_NONE;
}

/* The number options: --secure-version, --min-rev-full, --max-rev-full, --build-time. Returns
 * CLI_OK or CLI_USAGE (reported). */
static int pack_number(ota_img_pack_opts_t *o, pack_opt_t which, const char *v)
{
    uint32_t n = 0;
    switch (which) {
    case PACK_SECURE_VERSION:
        if (!cli_parse_u32(v, &n)) {
            return cli_usage_error(pack_cmd, "--secure-version: '%s' is not a number", v);
        }
        o->secure_version = n;
        break;
    case PACK_MIN_REV_FULL:
    case PACK_MAX_REV_FULL:
        if (!cli_parse_u32(v, &n) || n > 0xFFFF) {
            return cli_usage_error(pack_cmd, "%s: '%s' is not a revision 0..65535",
                                   pack_opt_names[which], v);
        }
        if (which == PACK_MIN_REV_FULL) {
            o->min_rev_full = (long)n;
        } else {
            o->max_rev_full = (long)n;
        }
        break;
    default: /* PACK_BUILD_TIME */
        if (!cli_parse_u32(v, &n)) {
            return cli_usage_error(pack_cmd, "--build-time: '%s' is not a number of seconds", v);
        }
        o->has_build_time = true;
        o->build_time = n;
        break;
    }
    return CLI_OK;
}

/* The repeatable options: --set KEY=VALUE, --embed NAME=FILE. Returns CLI_OK or CLI_USAGE
 * (reported). */
static int pack_list(pack_args_t *a, pack_opt_t which, const char *v)
{
    const char **list = which == PACK_SET ? a->sets : a->embeds;
    int *count = which == PACK_SET ? &a->n_sets : &a->n_embeds;
    const char *eq = strchr(v, '=');
    if (eq == NULL || eq == v || eq[1] == '\0') {
        return cli_usage_error(pack_cmd, "%s: expected %s, got '%s'", pack_opt_names[which],
                               which == PACK_SET ? "KEY=VALUE" : "NAME=FILE", v);
    }
    if (*count == PACK_MAX_LIST) {
        return cli_usage_error(pack_cmd, "too many %s options", pack_opt_names[which]);
    }
    list[(*count)++] = v;
    return CLI_OK;
}

/* Stores the value v of option which. Returns CLI_OK or CLI_USAGE (reported). */
static int pack_value(pack_args_t *a, ota_img_pack_opts_t *o, pack_opt_t which, const char *v)
{
    switch (which) {
    case PACK_OUTPUT:
        a->out = v;
        break;
    case PACK_PAYLOAD:
        a->payload = v;
        break;
    case PACK_SDKCONFIG:
        a->sdkconfig = v;
        break;
    case PACK_PROJECT:
        o->project_name = v;
        break;
    case PACK_PROJECT_VER:
        o->project_ver = v;
        break;
    case PACK_PROJECT_DIR:
        o->project_dir = v;
        break;
    case PACK_CHIP:
        o->chip = cli_parse_chip(pack_cmd, v);
        return o->chip != NULL ? CLI_OK : CLI_USAGE;
    case PACK_IDF_VER:
        o->idf_ver = v;
        break;
    case PACK_FLASH_MODE:
        o->flash_mode = v;
        break;
    case PACK_FLASH_FREQ:
        o->flash_freq = v;
        break;
    case PACK_FLASH_SIZE:
        o->flash_size = v;
        break;
    case PACK_SET:
    case PACK_EMBED:
        return pack_list(a, which, v);
    default:
        return pack_number(o, which, v);
    }
    return CLI_OK;
}

/* The options that are required, or exclude each other. Returns CLI_OK or CLI_USAGE (reported). */
static int pack_check(const pack_args_t *a)
{
    if (a->out == NULL) {
        return cli_usage_error(pack_cmd, "-o OUT missing");
    }
    if (a->kind == 0) {
        return cli_usage_error(pack_cmd, "--app or --bootloader missing");
    }
    if (a->kind == 2 && a->payload != NULL) {
        return cli_usage_error(pack_cmd, "--payload is for apps only");
    }
    if (a->kind == 2 && a->n_embeds > 0) {
        return cli_usage_error(pack_cmd, "--embed is for apps only");
    }
    return CLI_OK;
}

/* Parses pack's options into *a and *o. Returns CLI_OK or CLI_USAGE (already reported). */
static int parse_pack(int argc, char **argv, pack_args_t *a, ota_img_pack_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r = pack_flag(argc, argv, &i, a, o);
        if (r != PACK_NONE) {
            if (r != CLI_OK) {
                return r;
            }
            continue;
        }
        const char *v = NULL;
        pack_opt_t which = pack_opt(argc, argv, &i, &v);
        if (which == PACK_BAD) {
            return CLI_USAGE;
        }
        if (which == PACK_NONE) {
            return cli_usage_error(pack_cmd, "unknown argument '%s'", arg);
        }
        r = pack_value(a, o, which, v);
        if (r != CLI_OK) {
            return r;
        }
    }
    return pack_check(a);
}

/* Raw sdkconfig value for --set: y, n and numbers as they are, anything else quoted. */
static char *set_value(const char *v)
{
    char *end = NULL;
    if (strcmp(v, "y") == 0 || strcmp(v, "n") == 0 || (v[0] == '"' && v[strlen(v) - 1] == '"')) {
        return strdup(v);
    }
    errno = 0;
    (void)strtoll(v, &end, 0);
    if (errno == 0 && end != v && *end == '\0') {
        return strdup(v);
    }
    size_t n = strlen(v);
    char *q = malloc(2 * n + 3);
    if (q == NULL) {
        return NULL;
    }
    size_t o = 0;
    q[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\') {
            q[o++] = '\\';
        }
        q[o++] = v[i];
    }
    q[o++] = '"';
    q[o] = '\0';
    return q;
}

/* The sdkconfig text to bake in: the file (if any) with the --set keys applied. Returns CLI_OK
 * and a malloc'ed *text (NULL when there is no configuration at all), or CLI_FAIL (reported). */
static int pack_sdkconfig(const pack_args_t *a, char **text, size_t *len)
{
    uint8_t *file = NULL;
    size_t file_len = 0;
    *text = NULL;
    *len = 0;
    if (a->sdkconfig != NULL && cli_read_file(a->sdkconfig, &file, &file_len) != CLI_OK) {
        return CLI_FAIL;
    }
    if (a->n_sets == 0) {
        *text = (char *)file;
        *len = file_len;
        return CLI_OK;
    }
    ota_sdkconfig_t *cfg = NULL;
    ota_diag_t diag = {{0}};
    if (ota_sdkconfig_parse(file ? (const char *)file : "", file_len, &cfg, &diag) != OTA_OK) {
        free(file);
        return cli_error("image pack: %s: %s", a->sdkconfig, diag.msg);
    }
    free(file);
    for (int i = 0; i < a->n_sets; i++) {
        const char *eq = strchr(a->sets[i], '=');
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - a->sets[i]), a->sets[i]);
        char *raw = set_value(eq + 1);
        if (raw == NULL || ota_sdkconfig_set(cfg, key, raw) != OTA_OK) {
            free(raw);
            ota_sdkconfig_free(cfg);
            return cli_error("image pack: out of memory");
        }
        free(raw);
    }
    *text = ota_sdkconfig_format(cfg);
    ota_sdkconfig_free(cfg);
    if (*text == NULL) {
        return cli_error("image pack: out of memory");
    }
    *len = strlen(*text);
    return CLI_OK;
}

static int cmd_pack(int argc, char **argv)
{
    if (cli_help(argc, argv, pack_help)) {
        return CLI_OK;
    }
    pack_args_t a;
    memset(&a, 0, sizeof(a));
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    int rc = parse_pack(argc, argv, &a, &o);
    if (rc != CLI_OK) {
        return rc;
    }
    o.bootloader = a.kind == 2;
    uint8_t *payload = NULL;
    char *sdk = NULL;
    size_t sdk_len = 0;
    ota_img_embed_t embeds[PACK_MAX_LIST];
    uint8_t *embed_data[PACK_MAX_LIST] = {NULL};
    char embed_names[PACK_MAX_LIST][128];
    if (a.payload != NULL && cli_read_file(a.payload, &payload, &o.payload_len) != CLI_OK) {
        return CLI_FAIL;
    }
    if (pack_sdkconfig(&a, &sdk, &sdk_len) != CLI_OK) {
        free(payload);
        return CLI_FAIL;
    }
    for (int i = 0; i < a.n_embeds; i++) {
        const char *eq = strchr(a.embeds[i], '=');
        snprintf(embed_names[i], sizeof(embed_names[i]), "%.*s", (int)(eq - a.embeds[i]),
                 a.embeds[i]);
        if (cli_read_file(eq + 1, &embed_data[i], &embeds[i].len) != CLI_OK) {
            for (int k = 0; k < i; k++) {
                free(embed_data[k]);
            }
            free(payload);
            free(sdk);
            return CLI_FAIL;
        }
        embeds[i].name = embed_names[i];
        embeds[i].data = embed_data[i];
    }
    o.embeds = embeds;
    o.n_embeds = (size_t)a.n_embeds;
    o.payload = payload;
    o.sdkconfig = (const char *)sdk;
    o.sdkconfig_len = sdk_len;
    if (o.project_name == NULL && a.payload != NULL) {
        o.project_name = base_name(a.payload);
    }
    uint8_t *img = NULL;
    size_t img_len = 0;
    ota_diag_t diag = {{0}};
    int err = ota_img_pack(ota_crypto_openssl(), &o, &img, &img_len, &diag);
    free(payload);
    free(sdk);
    for (int i = 0; i < a.n_embeds; i++) {
        free(embed_data[i]);
    }
    if (err != OTA_OK) {
        const char *where = a.out;
        const char *why = ota_diag_why(&diag, err);
        if (a.sdkconfig != NULL && strncmp(why, "sdkconfig: ", 11) == 0) {
            where = a.sdkconfig;
            why += 11;
        }
        return cli_error("image pack: %s: %s", where, why);
    }
    rc = cli_write_file(a.out, img, img_len);
    free(img);
    return rc;
}

/* ---- sign, public-key ---------------------------------------------------------------------- */

static const char sign_help[] =
    "usage: otakit image sign --keyfile KEY [--version 1|2] -o OUT IN\n"
    "\n"
    "Signs an app image as 'espsecure sign_data' does. Version 2 (Secure Boot V2, default): IN\n"
    "padded with 0xFF to a 4 KiB boundary, then a 4 KiB sector with one signature block (RSA-PSS\n"
    "for an RSA-3072 key, ECDSA for a P-256 key). Version 1 (Secure Boot V1, ESP32): IN, a\n"
    "4-byte version 0 and the ECDSA P-256 signature of IN's SHA-256.\n"
    "\n"
    "Options:\n"
    "  --keyfile KEY          PEM private key\n"
    "  --version N            1 or 2 (default 2)\n"
    "  -o, --output OUT       signed image to write\n";

typedef struct sign_args {
    const char *in, *out, *key;
    int version;
} sign_args_t;

/* -o/--output, --keyfile, --version and one IN, shared by sign and public-key (no IN). */
static int parse_sign(const char *cmd, int argc, char **argv, sign_args_t *a, bool want_in)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_opt(cmd, argc, argv, &i, "-o", &v)) != 0 ||
            (r = cli_opt(cmd, argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->out = v;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--keyfile", &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->key = v;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--version", &v)) != 0) {
            if (r < 0 || (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)) {
                return r < 0 ? CLI_USAGE : cli_usage_error(cmd, "--version: '%s' (1 or 2)", v);
            }
            a->version = v[0] - '0';
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (!want_in || a->in != NULL) {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        } else {
            a->in = argv[i];
        }
    }
    if (a->key == NULL || a->out == NULL || (want_in && a->in == NULL)) {
        return cli_usage_error(cmd, "%s missing",
                               a->key == NULL   ? "--keyfile"
                               : a->out == NULL ? "-o OUT"
                                                : "IN");
    }
    return CLI_OK;
}

static int cmd_sign(int argc, char **argv)
{
    if (cli_help(argc, argv, sign_help)) {
        return CLI_OK;
    }
    sign_args_t a = {.version = 2};
    int rc = parse_sign("image sign", argc, argv, &a, true);
    if (rc != CLI_OK) {
        return rc;
    }
    uint8_t *in = NULL;
    size_t len = 0;
    if (cli_read_file(a.in, &in, &len) != CLI_OK) {
        return CLI_FAIL;
    }
    uint8_t *img = NULL;
    size_t img_len = 0;
    ota_diag_t diag = {{0}};
    int err = ota_img_sign(in, len, a.key, a.version, &img, &img_len, &diag);
    free(in);
    if (err != OTA_OK) {
        return cli_error("image sign: %s: %s", a.in, ota_diag_why(&diag, err));
    }
    rc = cli_write_file(a.out, img, img_len);
    free(img);
    return rc;
}

static const char pubkey_help[] =
    "usage: otakit image public-key --keyfile KEY -o OUT\n"
    "\n"
    "Writes the Secure Boot V1 verification key of an ECDSA P-256 key (private or public PEM) as\n"
    "'espsecure extract_public_key --version 1' does: X and Y, 32 bytes each, big-endian (the\n"
    "signature_verification_key.bin ESP-IDF embeds in a V1-signed app).\n";

static int cmd_public_key(int argc, char **argv)
{
    if (cli_help(argc, argv, pubkey_help)) {
        return CLI_OK;
    }
    sign_args_t a = {.version = 1};
    int rc = parse_sign("image public-key", argc, argv, &a, false);
    if (rc != CLI_OK) {
        return rc;
    }
    uint8_t key[OTA_SIG_V1_KEY_LEN];
    ota_diag_t diag = {{0}};
    int err = ota_img_sign_public_key_v1(a.key, key, &diag);
    if (err != OTA_OK || a.version != 1) {
        return cli_error("image public-key: %s", a.version != 1
                                                     ? "only --version 1 keys are written"
                                                     : ota_diag_why(&diag, err));
    }
    return cli_write_file(a.out, key, sizeof(key));
}

/* ---- verify -------------------------------------------------------------------------------- */

static const char verify_help[] =
    "usage: otakit image verify FILE [OPTIONS]\n"
    "\n"
    "Runs the device's image verifier (esp_image_verify) on FILE as if it were written to an\n"
    "erased partition, printing the verifier's log lines and the result. Exits 1 when the image\n"
    "is invalid.\n"
    "\n"
    "Options:\n"
    "  --chip NAME             running chip (default: the image's chip)\n"
    "  --bootloader            verify as a second-stage bootloader (its hash is not checked\n"
    "                          unless --secure-boot-v2)\n"
    "  --partition-size N      partition size (default: the file's size)\n"
    "  --chip-rev N            running chip revision, major*100+minor (default: the image's\n"
    "                          minimum)\n"
    "  --efuse-blk-rev N       eFuse block revision (default: the app's minimum)\n"
    "  --mmu-page-size N       the running build's MMU page size (default: ESP-IDF's default\n"
    "                          for the chip and the image's flash size)\n"
    "  --secure-boot-v2        signatures enabled: count the 4 KiB signature sector\n"
    "  --signed-apps SCHEME    verify the signature as an app built with\n"
    "                          CONFIG_SECURE_SIGNED_ON_UPDATE does: rsa, ecdsa (Secure Boot V2\n"
    "                          blocks) or ecdsa-v1 (Secure Boot V1, needs --keyfile)\n"
    "  --keyfile KEY           the trusted key (PEM, private or public); without it a V2\n"
    "                          signature is checked against the key its own block carries\n"
    "\n"
    "A valid image's Secure Boot V2 signature blocks (scheme, key digest, whether the signature\n"
    "matches the image) are listed after the result.\n";

static void print_log(void *ctx, char level, const char *msg)
{
    (void)ctx;
    printf("%c (0) esp_image: %s\n", level, msg);
}

static void print_tagged(void *ctx, char level, const char *tag, const char *msg)
{
    (void)ctx;
    printf("%c (0) %s: %s\n", level, tag, msg);
}

typedef struct verify_args {
    const char *path;
    const ota_chip_t *chip;
    bool bootloader;
    bool sbv2;
    ota_sig_scheme_t scheme; /* --signed-apps */
    const char *keyfile;
    bool has_part, has_rev, has_blk, has_mmu;
    uint32_t part_size, chip_rev, blk_rev, mmu;
} verify_args_t;

static ota_sig_scheme_t parse_scheme(const char *v)
{
    return strcmp(v, "rsa") == 0        ? OTA_SIG_SCHEME_V2_RSA
           : strcmp(v, "ecdsa") == 0    ? OTA_SIG_SCHEME_V2_ECDSA
           : strcmp(v, "ecdsa-v1") == 0 ? OTA_SIG_SCHEME_V1_ECDSA
                                        : OTA_SIG_SCHEME_NONE;
}

static int parse_verify(int argc, char **argv, verify_args_t *a)
{
    static const char cmd[] = "image verify";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--bootloader") == 0) {
            a->bootloader = true;
        } else if (strcmp(argv[i], "--secure-boot-v2") == 0) {
            a->sbv2 = true;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--chip", &v)) != 0) {
            if (r < 0 || (a->chip = cli_parse_chip(cmd, v)) == NULL) {
                return CLI_USAGE;
            }
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--signed-apps", &v)) != 0) {
            if (r < 0 || (a->scheme = parse_scheme(v)) == OTA_SIG_SCHEME_NONE) {
                return r < 0
                           ? CLI_USAGE
                           : cli_usage_error(cmd, "--signed-apps: '%s' (rsa, ecdsa, ecdsa-v1)", v);
            }
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--keyfile", &v)) != 0) {
            if (r < 0) {
                return CLI_USAGE;
            }
            a->keyfile = v;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--partition-size", &v)) != 0) {
            if (r < 0 || !cli_parse_u32(v, &a->part_size)) {
                return r < 0 ? CLI_USAGE : cli_usage_error(cmd, "bad --partition-size '%s'", v);
            }
            a->has_part = true;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--chip-rev", &v)) != 0) {
            if (r < 0 || !cli_parse_u32(v, &a->chip_rev) || a->chip_rev > 0xFFFF) {
                return r < 0 ? CLI_USAGE : cli_usage_error(cmd, "bad --chip-rev '%s'", v);
            }
            a->has_rev = true;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--efuse-blk-rev", &v)) != 0) {
            if (r < 0 || !cli_parse_u32(v, &a->blk_rev) || a->blk_rev > 0xFFFF) {
                return r < 0 ? CLI_USAGE : cli_usage_error(cmd, "bad --efuse-blk-rev '%s'", v);
            }
            a->has_blk = true;
        } else if ((r = cli_opt(cmd, argc, argv, &i, "--mmu-page-size", &v)) != 0) {
            if (r < 0 || !cli_parse_u32(v, &a->mmu) || a->mmu < 0x2000 || a->mmu > 0x10000 ||
                (a->mmu & (a->mmu - 1)) != 0) {
                return r < 0 ? CLI_USAGE
                             : cli_usage_error(cmd, "bad --mmu-page-size '%s' (8K..64K)", v);
            }
            a->has_mmu = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (a->path != NULL) {
            return cli_usage_error(cmd, "one FILE expected");
        } else {
            a->path = argv[i];
        }
    }
    if (a->path == NULL) {
        return cli_usage_error(cmd, "FILE missing");
    }
    if (a->scheme == OTA_SIG_SCHEME_V1_ECDSA && a->keyfile == NULL) {
        return cli_usage_error(cmd, "--signed-apps ecdsa-v1 needs --keyfile");
    }
    if (a->keyfile != NULL && a->scheme == OTA_SIG_SCHEME_NONE) {
        return cli_usage_error(cmd, "--keyfile needs --signed-apps");
    }
    return CLI_OK;
}

/* The Secure Boot V2 blocks of a valid image: scheme, key digest, signature check. */
static void print_signatures(const ota_flash_t *f, size_t len)
{
    const ota_crypto_t *c = ota_crypto_openssl();
    ota_img_info_t in;
    ota_diag_t d = {{0}};
    uint8_t digest[32];
    if (ota_img_parse(f, c, 0, (uint32_t)len, &in, &d) != OTA_OK || !in.sig_present) {
        return;
    }
    printf("Secure Boot V2 signature sector at 0x%x: %d valid block(s)\n", (unsigned)in.sig_offset,
           in.sig_blocks);
    void *sha = c->hash_start(c->ctx, OTA_HASH_SHA256);
    for (uint32_t at = 0; sha != NULL && at < in.sig_offset; at += OTA_SIG_SECTOR_LEN) {
        uint8_t buf[OTA_SIG_SECTOR_LEN];
        ota_flash_read(f, at, buf, sizeof(buf));
        c->hash_update(sha, buf, sizeof(buf));
    }
    if (sha == NULL) {
        return;
    }
    c->hash_finish(sha, digest);
    for (int b = 0; b < in.sig_blocks; b++) {
        uint8_t blk[OTA_SIG_BLOCK_LEN];
        uint8_t kd[32];
        char hex[65];
        ota_flash_read(f, in.sig_offset + (uint32_t)b * OTA_SIG_BLOCK_LEN, blk, sizeof(blk));
        ota_sig_key_digest(c, blk, kd);
        for (int i = 0; i < 32; i++) {
            snprintf(hex + 2 * i, 3, "%02x", kd[i]);
        }
        int err = ota_sig_block_check(c, blk, digest);
        printf("  block %d: %s, key digest %s, signature %s\n", b,
               blk[1] == OTA_SIG_V2_RSA     ? "RSA-PSS"
               : blk[1] == OTA_SIG_V2_ECDSA ? "ECDSA"
                                            : "unknown scheme",
               hex, err == OTA_OK ? "valid" : "invalid");
    }
}

static void print_result(const ota_flash_t *f, size_t len, const verify_args_t *a,
                         const ota_img_meta_t *m)
{
    printf("Image valid: %s for %s, %u bytes\n", a->bootloader ? "bootloader" : "app",
           a->chip->name, (unsigned)m->image_len);
    if (m->has_app_desc) {
        printf("Project: %s, version %s, secure version %u\n", m->app_desc.project_name,
               m->app_desc.version, (unsigned)m->app_desc.secure_version);
    }
    ota_img_host_info_t h;
    ota_diag_t d = {{0}};
    int err = ota_img_host_locate(f, 0, (uint32_t)len, &h, &d);
    if (err == OTA_OK) {
        if (h.has_payload) {
            printf("otakit payload: segment %u, %u bytes at offset 0x%x\n",
                   (unsigned)h.desc.payload_seg, (unsigned)h.payload_len,
                   (unsigned)h.payload_offset);
        } else {
            printf("otakit payload: none\n");
        }
        printf("otakit sdkconfig: %u bytes at offset 0x%x\n", (unsigned)h.sdkconfig_len,
               (unsigned)h.sdkconfig_offset);
    } else if (err == OTA_ERR_NOT_FOUND) {
        printf("otakit host descriptor: none (not packed by otakit)\n");
    } else {
        printf("otakit host descriptor: invalid: %s\n", d.msg);
    }
    print_signatures(f, len);
}

/*
 * The file as a read-only flash for the verifier: bytes past its end read as erased (0xFF), so
 * the file stands in an erased partition. Reads go through a window of FILE_WINDOW bytes, so the
 * memory used does not grow with the file and the file is read once.
 */
#define FILE_WINDOW (256u * 1024u)

typedef struct file_flash {
    int fd;
    uint64_t len;         /* file length */
    uint32_t win_addr;    /* flash address of win[0] */
    uint32_t win_len;     /* valid bytes in win (0: empty) */
    uint8_t win[FILE_WINDOW];
} file_flash_t;

static int file_fill(file_flash_t *ff, uint32_t addr)
{
    uint32_t got = 0;
    while (addr + (uint64_t)got < ff->len && got < FILE_WINDOW) {
        ssize_t n = pread(ff->fd, ff->win + got, FILE_WINDOW - got, (off_t)addr + got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return OTA_ERR_IO;
        }
        got += (uint32_t)n;
    }
    memset(ff->win + got, 0xFF, FILE_WINDOW - got);
    ff->win_addr = addr;
    ff->win_len = FILE_WINDOW;
    return OTA_OK;
}

static int file_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    file_flash_t *ff = ctx;
    uint8_t *d = dst;
    while (len > 0) {
        if (addr < ff->win_addr || addr - ff->win_addr >= ff->win_len) {
            int err = file_fill(ff, addr);
            if (err != OTA_OK) {
                return err;
            }
        }
        uint32_t at = addr - ff->win_addr;
        uint32_t n = ff->win_len - at < len ? ff->win_len - at : len;
        memcpy(d, ff->win + at, n);
        d += n;
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

static int file_readonly(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    (void)ctx, (void)addr, (void)src, (void)len;
    return OTA_ERR_READONLY;
}

static int file_no_erase(void *ctx, uint32_t addr, uint32_t len)
{
    (void)ctx, (void)addr, (void)len;
    return OTA_ERR_READONLY;
}

/* Opens path as a flash of size bytes (at least the file's length). */
static int file_flash_open(const char *path, ota_flash_t *f, file_flash_t **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return cli_error("%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cli_error("%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > 64u * 1024 * 1024) {
        close(fd);
        return cli_error("image verify: %s: larger than 64 MiB", path);
    }
    file_flash_t *ff = malloc(sizeof(*ff));
    if (ff == NULL) {
        close(fd);
        return cli_error("image verify: %s: out of memory", path);
    }
    *ff = (file_flash_t){.fd = fd, .len = (uint64_t)st.st_size};
    memset(f, 0, sizeof(*f));
    f->ctx = ff;
    f->size = (uint32_t)st.st_size;
    f->sector_size = OTA_FLASH_SECTOR_SIZE;
    f->block_size = OTA_FLASH_BLOCK_SIZE;
    f->page_size = OTA_FLASH_PAGE_SIZE;
    f->erase_value = 0xFF;
    f->read = file_read;
    f->program = file_readonly;
    f->erase = file_no_erase;
    *out = ff;
    return CLI_OK;
}

static void file_flash_close(file_flash_t *ff)
{
    close(ff->fd);
    free(ff);
}

/* The options the image itself sets when the command line does not. */
static int verify_defaults(const ota_flash_t *f, verify_args_t *a, ota_img_verify_opts_t *o)
{
    uint8_t h[OTA_IMG_HEADER_LEN];
    memset(h, 0xFF, sizeof(h));
    ota_flash_read(f, 0, h, f->size < sizeof(h) ? f->size : (uint32_t)sizeof(h));
    if (a->chip == NULL) {
        uint16_t id = f->size >= 14 ? (uint16_t)(h[12] | h[13] << 8) : OTA_CHIP_ID_INVALID;
        a->chip = ota_chip_by_id(id);
        if (a->chip == NULL || a->chip->legacy) {
            return cli_error("image verify: %s: image chip ID %u is not a known chip (use --chip)",
                             a->path, (unsigned)id);
        }
    }
    memset(o, 0, sizeof(*o));
    o->chip = a->chip;
    o->bootloader = a->bootloader;
    o->secure_boot_v2 = a->sbv2;
    o->log = print_log;
    o->mmu_page_size = a->has_mmu ? a->mmu : ota_chip_default_mmu_page_size(a->chip, h[3] >> 4);
    o->chip_rev = (uint16_t)(a->has_rev ? a->chip_rev : (uint32_t)(h[15] | h[16] << 8));
    if (a->has_blk) {
        o->efuse_blk_rev = (uint16_t)a->blk_rev;
    } else if (!a->bootloader) {
        ota_app_desc_t d;
        if (ota_img_read_app_desc(f, 0, &d) == OTA_OK) {
            o->efuse_blk_rev = d.min_efuse_blk_rev_full;
        }
    }
    return CLI_OK;
}

/* The trusted key of --signed-apps: --keyfile, else (V2) the image's own block 0. key holds
 * the V1 key or the V2 digest (32 of its 64 bytes). */
static int sig_trust(const ota_flash_t *f, const verify_args_t *a, ota_sig_trust_t *t,
                     uint8_t key[OTA_SIG_V1_KEY_LEN])
{
    ota_diag_t d = {{0}};
    int err;
    if (a->scheme == OTA_SIG_SCHEME_V1_ECDSA) {
        err = ota_img_sign_public_key_v1(a->keyfile, key, &d);
        t->v1_key = key;
        t->v1_key_len = OTA_SIG_V1_KEY_LEN;
    } else if (a->keyfile != NULL) {
        err = ota_img_sign_key_digest(a->keyfile, key, &d);
    } else {
        /* the image's own key, found as the device finds a running app's */
        uint8_t dig[3][32];
        int n = 0;
        err = ota_sig_image_key_digests(f, ota_crypto_openssl(), 0, a->scheme, NULL, dig, &n);
        if (err == OTA_OK) {
            memcpy(key, dig[0], 32);
        } else {
            err = ota_diag_set(&d, err, "no valid %s signature block",
                               ota_sig_scheme_name(ota_sig_block_version(a->scheme)));
        }
    }
    if (a->scheme != OTA_SIG_SCHEME_V1_ECDSA) {
        t->trusted_digest = key;
    }
    return err == OTA_OK ? CLI_OK
                         : cli_error("image verify: %s: %s", a->path, ota_diag_why(&d, err));
}

static int cmd_verify(int argc, char **argv)
{
    if (cli_help(argc, argv, verify_help)) {
        return CLI_OK;
    }
    verify_args_t a;
    memset(&a, 0, sizeof(a));
    int rc = parse_verify(argc, argv, &a);
    if (rc != CLI_OK) {
        return rc;
    }
    ota_flash_t f;
    file_flash_t *ff = NULL;
    if (file_flash_open(a.path, &f, &ff) != CLI_OK) {
        return CLI_FAIL;
    }
    uint32_t len = f.size;
    uint32_t part = a.has_part ? a.part_size : len;
    /* The file in an erased flash, with room for segment lengths that run past it. */
    uint32_t room = part < OTA_IMG_MAX_PARTITION ? part : OTA_IMG_MAX_PARTITION;
    f.size = (room > len ? room : len) + OTA_IMG_SEG_MAX_LEN * 2u;

    ota_img_verify_opts_t o;
    if (verify_defaults(&f, &a, &o) != CLI_OK) {
        file_flash_close(ff);
        return CLI_FAIL;
    }
    static const ota_log_t tagged = {print_tagged, NULL};
    ota_sig_trust_t trust = {.scheme = a.scheme, .log = &tagged};
    uint8_t key[OTA_SIG_V1_KEY_LEN];
    if (a.scheme != OTA_SIG_SCHEME_NONE && sig_trust(&f, &a, &trust, key) != CLI_OK) {
        file_flash_close(ff);
        return CLI_FAIL;
    }
    o.sig_scheme = a.scheme;
    o.sig_check = a.scheme != OTA_SIG_SCHEME_NONE;
    o.sig_trust = &trust;
    ota_img_meta_t m;
    ota_diag_t diag = {{0}};
    int err = ota_img_verify(&f, ota_crypto_openssl(), 0, part, &o, &m, &diag);
    if (err == OTA_OK) {
        print_result(&f, len, &a, &m);
        rc = CLI_OK;
    } else {
        fflush(stdout);
        rc = cli_error("image verify: %s: %s", a.path, ota_diag_why(&diag, err));
    }
    file_flash_close(ff);
    return rc;
}

/* ---- group --------------------------------------------------------------------------------- */

static const cli_sub_t subs[] = {
    {"info", "print an image's header, segments, checksum, hash and description", cmd_info},
    {"pack", "build an otakit app or bootloader image", cmd_pack},
    {"verify", "run the device's image verifier on a file", cmd_verify},
    {"sign", "sign an app image (espsecure sign_data)", cmd_sign},
    {"public-key", "write a Secure Boot V1 verification key", cmd_public_key},
};

static const char group_help[] = "usage: otakit image SUBCOMMAND [ARGS...]\n"
                                 "\n"
                                 "App and bootloader images (esptool image_info / elf2image).\n";

static int run(int argc, char **argv)
{
    return cli_dispatch("image", group_help, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

const cli_cmd_t cli_cmd_image = {"image", "App and bootloader images: info, pack, verify, sign",
                                 run};
