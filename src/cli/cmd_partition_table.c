/*
 * otakit partition-table: CSV to binary and binary to CSV, as ESP-IDF's gen_esp32part.py.
 *
 * Exit status: 0 done; 2 the table is rejected (the generator's InputError cases, which it also
 * ends with status 2) or the command line is wrong; 1 a file cannot be read or written.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

#define CMD "partition-table"

static const char help_text[] =
    "usage: otakit partition-table [options] IN [OUT]\n"
    "\n"
    "Converts an ESP-IDF partition table between CSV and binary, byte for byte as\n"
    "gen_esp32part.py does. IN is a CSV file, or a binary table when it starts with the\n"
    "bytes AA 50; the output is the other form. IN '-' reads standard input. OUT omitted\n"
    "or '-' writes to standard output (binary output is refused on a terminal).\n"
    "\n"
    "Options:\n"
    "  -o, --offset OFFSET          partition table offset (default 0x8000)\n"
    "  --flash-size SIZE            check the table fits: 1MB 2MB 4MB 8MB 16MB 32MB 64MB 128MB\n"
    "  --disable-md5sum             no MD5 row in the binary output; when reading a binary,\n"
    "                               an MD5 row is then an error\n"
    "  --no-verify                  skip the table checks (alignment, overlaps, names...)\n"
    "  --primary-bootloader-offset OFFSET\n"
    "                               offset of the primary bootloader (for 'bootloader' rows)\n"
    "  --recovery-bootloader-offset OFFSET\n"
    "                               offset of the recovery bootloader\n"
    "  --secure [v1|v2]             app sizes suitable for secure boot (v1: 64 KiB multiples)\n"
    "  --extra-partition-subtypes TYPE,NAME,VALUE\n"
    "                               an extra subtype keyword (VALUE in hex); repeatable\n"
    "  --print-builtin NAME         print a built-in table's CSV (singleapp, two_ota,\n"
    "                               two_ota_large, two_ota_encr_nvs) and exit\n"
    "  -q, --quiet                  accepted for compatibility (status lines are never shown)\n"
    "  -v, --verify                 accepted for compatibility (checks are on by default)\n"
    "  -h, --help                   show this help\n"
    "\n"
    "Warnings (e.g. a name that is another type's keyword) go to standard error and do not\n"
    "fail. Exit status: 0 done, 2 table rejected or bad command line, 1 file error.\n";

static void print_warning(void *ctx, const char *msg)
{
    const char *in = ctx;
    fprintf(stderr, "otakit: " CMD ": %s: %s\n", in, msg);
}

/* An OFFSET option: Python int(x, 0) syntax, 0..0xFFFFFFFF. */
static bool parse_offset(const char *s, uint32_t *out)
{
    int64_t v;
    if (!ota_part_parse_pyint(s, &v) || v < 0 || v > (int64_t)UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_flash_size(const char *s, uint32_t *out)
{
    static const char *const sizes[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                        "16MB", "32MB", "64MB", "128MB"};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (strcmp(s, sizes[i]) == 0) {
            *out = (uint32_t)(atoi(s) * 0x100000u);
            return true;
        }
    }
    return false;
}

/* Reads IN ('-' = standard input) into a malloc'ed buffer. */
static int read_input(const char *path, uint8_t **data, size_t *len)
{
    if (strcmp(path, "-") != 0) {
        return cli_read_file(path, data, len);
    }
    size_t cap = 4096;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) {
            if (ferror(stdin)) {
                free(buf);
                return cli_error(CMD ": standard input: read error");
            }
            *data = buf;
            *len = n;
            return CLI_OK;
        }
    }
    free(buf);
    return cli_error(CMD ": standard input: out of memory");
}

/* Creates the directories above path, as the generator does for its output file. */
static int make_parent_dirs(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        return cli_error(CMD ": %s: out of memory", path);
    }
    for (char *p = copy + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = cli_error(CMD ": %s: cannot create directory: %s", copy, strerror(e));
            free(copy);
            return rc;
        }
        *p = '/';
    }
    free(copy);
    return CLI_OK;
}

static int write_output(const char *path, const void *data, size_t len)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            return cli_error(CMD ": standard output: write error: %s", strerror(errno));
        }
        return CLI_OK;
    }
    int rc = make_parent_dirs(path);
    return rc != CLI_OK ? rc : cli_write_file(path, data, len);
}

/* The command line: the options, the extra subtypes they name, IN and OUT. */
typedef struct {
    ota_part_csv_opts_t opts;
    ota_part_subtype_def_t *extras; /* argc entries */
    const char *pos[2];
    int npos;
    bool printed; /* --print-builtin printed a table: nothing more to do */
} args_t;

/* The generator's --flash-size and --secure take the next argument only when it is a value. */
static bool is_size_arg(const char *arg)
{
    return strstr(arg, "MB") != NULL && arg[0] != '-';
}

static bool is_secure_arg(const char *arg)
{
    return strcmp(arg, "v1") == 0 || strcmp(arg, "v2") == 0;
}

/* The value v of an OFFSET option name into *out. */
static int offset_opt(const char *name, const char *v, uint32_t *out)
{
    if (v == NULL || !parse_offset(v, out)) {
        return cli_usage_error(CMD, "%s needs a number, got '%s'", name, v ? v : "");
    }
    return CLI_OK;
}

static int secure_opt(ota_part_csv_opts_t *o, const char *v)
{
    v = v != NULL ? v : "v1";
    if (strcmp(v, "v1") == 0) {
        o->secure = OTA_PART_SECURE_V1;
    } else if (strcmp(v, "v2") == 0) {
        o->secure = OTA_PART_SECURE_V2;
    } else {
        return cli_usage_error(CMD, "--secure: invalid choice '%s' (choose from v1, v2)", v);
    }
    return CLI_OK;
}

static int extra_subtype_opt(args_t *a, const char *v)
{
    ota_diag_t d = {{0}};
    if (v == NULL) {
        return cli_usage_error(CMD, "--extra-partition-subtypes needs TYPE,NAME,VALUE");
    }
    if (ota_part_extra_subtype_parse((char *)v, &a->extras[a->opts.extra_subtype_count], &d) !=
        OTA_OK) {
        return cli_usage_error(CMD, "%s", d.msg);
    }
    a->opts.extra_subtype_count++;
    return CLI_OK;
}

static int print_builtin_opt(args_t *a, const char *v)
{
    const char *csv = v != NULL ? ota_part_builtin_csv(v) : NULL;
    if (csv == NULL) {
        return cli_usage_error(CMD,
                               "--print-builtin: unknown table '%s' (choose from singleapp, "
                               "two_ota, two_ota_large, two_ota_encr_nvs)",
                               v ? v : "");
    }
    fputs(csv, stdout);
    a->printed = true;
    return CLI_OK;
}

/* The options without a value. */
static int flag_opt(args_t *a, const char *arg)
{
    if (strcmp(arg, "--disable-md5sum") == 0) {
        a->opts.no_md5 = true;
    } else if (strcmp(arg, "--no-verify") == 0) {
        a->opts.no_verify = true;
    } else if (strcmp(arg, "--verify") != 0 && strcmp(arg, "-v") != 0 &&
               strcmp(arg, "--quiet") != 0 && strcmp(arg, "-q") != 0) { /* compatibility no-ops */
        return cli_usage_error(CMD, "unknown option '%s'", arg);
    }
    return CLI_OK;
}

/* The option at argv[*i] (a value option missing its value gets v NULL). */
static int parse_option(args_t *a, int argc, char **argv, int *i)
{
    ota_part_csv_opts_t *o = &a->opts;
    const char *v = NULL;
    if (cli_opt(NULL, argc, argv, i, "-o", &v) != 0 ||
        cli_opt(NULL, argc, argv, i, "--offset", &v) != 0) {
        int rc = offset_opt("--offset", v, &o->table_offset);
        return rc == CLI_OK && o->table_offset == 0
                   ? cli_usage_error(CMD, "--offset 0 leaves no room for the bootloader")
                   : rc;
    }
    if (cli_opt_optional(argc, argv, i, "--flash-size", is_size_arg, &v)) {
        /* a bare option means no check, as in the generator */
        return v == NULL || parse_flash_size(v, &o->flash_size)
                   ? CLI_OK
                   : cli_usage_error(CMD,
                                     "--flash-size: invalid choice '%s' (choose from 1MB, 2MB, "
                                     "4MB, 8MB, 16MB, 32MB, 64MB, 128MB)",
                                     v);
    }
    if (cli_opt(NULL, argc, argv, i, "--primary-bootloader-offset", &v) != 0) {
        o->has_primary_bootloader_offset = true;
        return offset_opt("--primary-bootloader-offset", v, &o->primary_bootloader_offset);
    }
    if (cli_opt(NULL, argc, argv, i, "--recovery-bootloader-offset", &v) != 0) {
        o->has_recovery_bootloader_offset = true;
        return offset_opt("--recovery-bootloader-offset", v, &o->recovery_bootloader_offset);
    }
    if (cli_opt_optional(argc, argv, i, "--secure", is_secure_arg, &v)) {
        return secure_opt(o, v);
    }
    if (cli_opt(NULL, argc, argv, i, "--extra-partition-subtypes", &v) != 0) {
        return extra_subtype_opt(a, v);
    }
    if (cli_opt(NULL, argc, argv, i, "--print-builtin", &v) != 0) {
        return print_builtin_opt(a, v);
    }
    return flag_opt(a, argv[*i]);
}

/* Parses the command line into a (a->extras allocated: the caller frees it). */
static int parse_args(args_t *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->extras = calloc((size_t)argc, sizeof(*a->extras));
    if (a->extras == NULL) {
        return cli_error(CMD ": out of memory");
    }
    a->opts.extra_subtypes = a->extras;
    int rc = CLI_OK;
    bool only_pos = false;
    for (int i = 1; i < argc && rc == CLI_OK && !a->printed; i++) {
        const char *arg = argv[i];
        if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (a->npos == 2) {
                rc = cli_usage_error(CMD, "unexpected argument '%s'", arg);
            } else {
                a->pos[a->npos++] = arg;
            }
        } else if (strcmp(arg, "--") == 0) {
            only_pos = true;
        } else {
            rc = parse_option(a, argc, argv, &i);
        }
    }
    if (rc != CLI_OK || a->printed) {
        return rc;
    }
    if (a->npos == 0) {
        return cli_usage_error(CMD, "missing input file");
    }
    ota_diag_t diag = {{0}};
    if (ota_part_csv_check_opts(&a->opts, &diag) != OTA_OK) {
        return cli_usage_error(CMD, "%s", diag.msg);
    }
    return CLI_OK;
}

/* Reads IN, converts it and writes OUT. */
static int convert(args_t *a)
{
    ota_part_csv_opts_t opts = a->opts;
    ota_diag_t diag = {{0}};
    const char *in = a->pos[0];
    const char *out = a->pos[1];
    const char *in_name = strcmp(in, "-") == 0 ? "standard input" : in;
    opts.warn = print_warning;
    opts.warn_ctx = (void *)in_name;

    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_input(in, &data, &len);
    if (rc != CLI_OK) {
        return rc;
    }
    ota_part_table_t *table = malloc(sizeof(*table));
    if (table == NULL) {
        free(data);
        return cli_error(CMD ": out of memory");
    }
    bool is_binary = false;
    int err = ota_part_parse_any(data, len, &opts, table, &is_binary, &diag);
    free(data);
    if (err == OTA_OK && is_binary) {
        char *text = NULL;
        size_t tlen = 0;
        err = ota_part_csv_format(table, &opts, &text, &tlen);
        if (err != OTA_OK) {
            rc = cli_error(CMD ": %s: %s", in_name, ota_strerror(err));
        } else {
            rc = write_output(out, text, tlen);
        }
        free(text);
    } else if (err == OTA_OK) {
        uint8_t bin[OTA_PART_TABLE_MAX_LEN];
        err = ota_part_table_encode(ota_crypto_openssl(), table, bin, &diag);
        if (err != OTA_OK) {
            fprintf(stderr, "otakit: " CMD ": %s: %s\n", in_name, diag.msg);
            rc = CLI_USAGE;
        } else if ((out == NULL || strcmp(out, "-") == 0) && isatty(STDOUT_FILENO)) {
            rc = cli_usage_error(CMD, "refusing to write a binary table to a terminal; give OUT");
        } else {
            rc = write_output(out, bin, sizeof(bin));
        }
    } else {
        fprintf(stderr, "otakit: " CMD ": %s: %s\n", in_name, ota_diag_why(&diag, err));
        rc = err == OTA_ERR_NO_MEM ? CLI_FAIL : CLI_USAGE;
    }
    free(table);
    return rc;
}

static int run(int argc, char **argv)
{
    if (cli_help(argc, argv, help_text)) {
        return CLI_OK;
    }
    args_t a;
    int rc = parse_args(&a, argc, argv);
    if (rc == CLI_OK && a.printed) {
        rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    if (rc != CLI_OK || a.printed) {
        free(a.extras);
        return rc;
    }
    rc = convert(&a);
    free(a.extras);
    return rc;
}

const cli_cmd_t cli_cmd_partition_table = {
    "partition-table", "Partition tables: CSV to binary and binary to CSV (gen_esp32part.py)", run};
