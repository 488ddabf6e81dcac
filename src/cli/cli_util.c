/* Shared helpers of the otakit subcommands. */
#include "cli.h"
#include "ota/ota_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("otakit: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "otakit %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'otakit %s --help')\n", cmd);
    return CLI_USAGE;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
    }
    return false;
}

bool cli_help(int argc, char **argv, const char *help)
{
    if (!cli_wants_help(argc, argv)) {
        return false;
    }
    fputs(help, stdout);
    return true;
}

/* How argument a spells option name: 0 not at all, 1 bare ("--name"), 2 with its value attached
 * ("--name=value", long options only; the value starts at a + strlen(name) + 1). */
static int opt_match(const char *a, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) {
        return 0;
    }
    if (a[n] == '\0') {
        return 1;
    }
    return a[n] == '=' && name[1] == '-' ? 2 : 0;
}

int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val)
{
    int m = opt_match(argv[*i], name);
    if (m == 2) {
        *val = argv[*i] + strlen(name) + 1;
        return 1;
    }
    if (m == 0) {
        return 0;
    }
    if (*i + 1 >= argc) {
        if (cmd != NULL) {
            cli_usage_error(cmd, "option %s needs a value", name);
        }
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_opt_optional(int argc, char **argv, int *i, const char *name,
                     bool (*takes)(const char *arg), const char **val)
{
    int m = opt_match(argv[*i], name);
    if (m == 0) {
        return 0;
    }
    *val = NULL;
    if (m == 2) {
        *val = argv[*i] + strlen(name) + 1;
    } else if (*i + 1 < argc && takes(argv[*i + 1])) {
        *val = argv[++*i];
    }
    return 1;
}

int cli_dispatch(const char *group, const char *help, const cli_sub_t *subs, size_t n, int argc,
                 char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fputs(help, out);
        fprintf(out, "\nSubcommands:\n");
        for (size_t i = 0; i < n; i++) {
            fprintf(out, "  %-18s %s\n", subs[i].name, subs[i].summary);
        }
        fprintf(out, "\nRun 'otakit %s SUBCOMMAND --help' for its options.\n", group);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    return cli_usage_error(group, "unknown subcommand '%s'", argv[1]);
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return cli_error("%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return cli_error("%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (buf == NULL) {
        fclose(fp);
        return cli_error("%s: out of memory (%zu bytes)", path, size);
    }
    size_t got = size ? fread(buf, 1, size, fp) : 0;
    int failed = ferror(fp);
    fclose(fp);
    if (failed || got != size) {
        free(buf);
        return cli_error("%s: read error", path);
    }
    buf[size] = 0;
    *data = buf;
    *len = size;
    return CLI_OK;
}

int cli_write_file(const char *path, const void *data, size_t len)
{
    ota_diag_t diag = {{0}};
    int err = ota_file_write(path, data, len, 0644, &diag);
    return err == OTA_OK ? CLI_OK : cli_error("%s", ota_diag_why(&diag, err));
}

bool cli_parse_u32(const char *s, uint32_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+') {
        return false;
    }
    int base = 10;
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
        base = 8;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    }
    if (*p == '\0') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(p, &end, base);
    if (errno != 0 || end == p) {
        return false;
    }
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1024 * 1024;
        end++;
    }
    if (mul != 1 && (*end == 'B' || *end == 'b')) {
        end++;
    }
    if (*end != '\0' || v > UINT32_MAX / mul) {
        return false;
    }
    *out = (uint32_t)(v * mul);
    return true;
}

const ota_chip_t *cli_parse_chip(const char *cmd, const char *name)
{
    const ota_chip_t *chip = ota_chip_by_name(name);
    if (chip == NULL) {
        cli_usage_error(cmd,
                        "unknown chip '%s' (esp32, esp32s2, esp32s3, esp32c2, esp32c3, "
                        "esp32c5, esp32c6, esp32c61, esp32h2, esp32h21, esp32h4, esp32p4)",
                        name);
    }
    return chip;
}
