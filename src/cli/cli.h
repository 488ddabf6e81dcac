/*
 * The otakit command: shared pieces of the subcommands.
 *
 * Each command group (image, partition-table, flash, otadata, serve, board) lives in its own
 * cmd_<group>.c and exports one cli_cmd_t. Errors are one line on stderr, "otakit: what: where:
 * why", and a non-zero exit: CLI_FAIL for bad input or a failed operation, CLI_USAGE for a wrong
 * command line.
 */
#ifndef OTAKIT_CLI_H
#define OTAKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_chip.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

typedef struct cli_cmd {
    const char *name;    /* "image" */
    const char *summary; /* one line for `otakit --help` */
    /* argv[0] is the group name; returns an exit status */
    int (*run)(int argc, char **argv);
} cli_cmd_t;

extern const cli_cmd_t cli_cmd_image;
extern const cli_cmd_t cli_cmd_partition_table;
extern const cli_cmd_t cli_cmd_flash;
extern const cli_cmd_t cli_cmd_otadata;
extern const cli_cmd_t cli_cmd_board;
extern const cli_cmd_t cli_cmd_serve;
extern const cli_cmd_t cli_cmd_build;
extern const cli_cmd_t cli_cmd_nvs;

/* A subcommand of a group ("info" of "image"). */
typedef struct cli_sub {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_sub_t;

/*
 * Runs the subcommand named by argv[1] among subs[0..n), or prints the group's help for
 * `--help`/`-h`/no argument (exit 0 for --help, CLI_USAGE otherwise).
 */
int cli_dispatch(const char *group, const char *help, const cli_sub_t *subs, size_t n, int argc,
                 char **argv);

/* Prints "otakit: <message>" and a newline on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "otakit <cmd>: <message> (try 'otakit <cmd> --help')" on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if argv[1..argc) contains --help or -h. */
bool cli_wants_help(int argc, char **argv);

/*
 * The --help of a subcommand: if argv asks for help (cli_wants_help), prints help on stdout and
 * returns true (the subcommand then exits with CLI_OK); else prints nothing and returns false.
 */
bool cli_help(int argc, char **argv, const char *help);

/*
 * Matches argv[*i] against the option name: "NAME VALUE", or "NAME=VALUE" for a long name
 * ("--x"). Returns 1 with *val set and *i advanced past the value, 0 if argv[*i] is not that
 * option, -1 if the value is missing (after a usage error for cmd, or silently if cmd is NULL).
 */
int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);

/*
 * Matches argv[*i] against an option whose value may be left out: "NAME=VALUE" (long names), or
 * "NAME" followed by an argument that takes() accepts as its value, or "NAME" alone (*val NULL).
 * Returns 1 with *val set (and *i advanced past a taken argument), 0 if argv[*i] is not that
 * option.
 */
int cli_opt_optional(int argc, char **argv, int *i, const char *name,
                     bool (*takes)(const char *arg), const char **val);

/*
 * Reads a whole file into a malloc'ed buffer (*data, caller frees; a NUL is appended past *len).
 * On failure prints one error line naming the file and returns CLI_FAIL; else CLI_OK.
 */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/*
 * Writes data to path through a temporary file and rename (the old file stays intact on
 * failure). Prints one error line and returns CLI_FAIL on failure; else CLI_OK.
 */
int cli_write_file(const char *path, const void *data, size_t len);

/*
 * Parses an unsigned 32-bit number: decimal, 0x hex, 0o octal or 0b binary, with an optional
 * K/k (x1024) or M/m (x1048576) suffix, also "KB"/"MB". Returns true on success.
 */
bool cli_parse_u32(const char *s, uint32_t *out);

/*
 * The chip a --chip value names (ota_chip_by_name), or NULL after a usage error for cmd that
 * lists the chips.
 */
const ota_chip_t *cli_parse_chip(const char *cmd, const char *name);

#endif /* OTAKIT_CLI_H */
