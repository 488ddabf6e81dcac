/* otakit board: run the simulated board on a flash image. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board.h"
#include "cli_flash.h"
#include "ota/ota_board_shm.h"
#include "ota/ota_nor.h"

static const char run_help[] =
    "usage: otakit board run FLASH|BUILD_DIR [options]\n"
    "\n"
    "Powers the simulated board on: the ROM step checks the second-stage bootloader, the\n"
    "bootloader selects an app (otadata, rollback, anti-rollback, GPIO options, fallback), and\n"
    "the app runs as a real program taken from its image in flash. esp_restart(), a crash or a\n"
    "power cut go back through the bootloader. Console output is ESP-IDF's, timestamped with the\n"
    "board's virtual clock; the console input is this command's standard input.\n"
    "A BUILD_DIR (from otakit build) is first written to BUILD_DIR/otakit/flash.bin, as\n"
    "`idf.py flash` writes a chip; a FLASH file keeps its contents from run to run.\n"
    "\n"
    "Options:\n"
    "  --chip NAME            simulated chip (default: the chip the bootloader image names)\n"
    "  --chip-rev N           chip revision as major*100+minor (default: the chip's shipped\n"
    "                         revision, v3.0 on ESP32, v0.2 on ESP32-S3, ...)\n"
    "  --gpio PIN=LEVEL[@MS]  input level of a pin from board time MS (default 0) on; repeatable\n"
    "  --until REGEX          stop (exit 0) once a console line matches the extended regex\n"
    "  --max-boots N          stop after N boots (exit 5)\n"
    "  --max-time MS          stop after MS of virtual time since power-on (exit 7)\n"
    "  --pace SPEED           let the virtual clock run at most SPEED times real time (1: as\n"
    "                         a chip, for tests written against hardware timing); default:\n"
    "                         unpaced, the clock jumps\n"
    "  --power-cut-at N[,N..] cut the power at the N-th flash program/erase operation, counted\n"
    "                         across bootloader and app, then power on again; each further N\n"
    "                         counts from the power-on after the cut before (up to 64 cuts)\n"
    "  --random-cuts C[:W]    instead, 1..C cuts (count drawn from --seed), each at an operation\n"
    "                         drawn in 1..W (default 200) after power-on\n"
    "  --cut-mode MODE        before | after | torn | random (default before)\n"
    "  --seed S               seed of torn cuts (cut k uses S+k) and of random draws (default 1)\n"
    "  --faults SPEC          flash faults, comma-separated: read-flip=PPM, read-error=PPM,\n"
    "                         program-drop=PPM (per million operations), bad-sector=ADDR,\n"
    "                         bad-mode=stuck|error, wear-limit=N (erases), seed=S\n"
    "  --size SIZE            flash size (default: FLASH's size; for a shorter merged image, as\n"
    "                         esptool merge_bin writes it, the size its bootloader header names)\n"
    "  --pad                  write FLASH back padded with 0xFF to that size and run on it\n"
    "                         (without it a shorter FLASH runs on a padded copy, left unchanged)\n"
    "  --serial socket:PORT   the serial port on 127.0.0.1:PORT (0: any free port, printed on\n"
    "                         stderr): the console (output and input), and the ROM's download\n"
    "                         protocol for esptool (socket:// or rfc2217://, whose DTR/RTS\n"
    "                         reset the board)\n"
    "  --serial pty           the serial port on a pseudo-terminal (its path printed on\n"
    "                         stderr); without modem lines, esptool's SYNC resets the board\n"
    "                         into download mode, and closing the port after a download\n"
    "                         session resets it into its app\n"
    "  --download             power on in ROM download mode, as with GPIO0 held low\n"
    "  --psram SIZE           the board's PSRAM chip: 2MB, 4MB or 8MB (an ESP32 maps 4MB of\n"
    "                         it), or 0 for none (default: 4MB for an app built with\n"
    "                         CONFIG_SPIRAM, as on a board with an ESP32-WROVER module)\n"
    "\n"
    "Exit status: 0 --until matched, 1 error, 2 usage, 3 bricked (no bootloader or no bootable\n"
    "app), 4 the app returned, 5 --max-boots reached, 6 booted an image that cannot run on the\n"
    "host (reported), 7 --max-time reached.\n";

static bool parse_u64(const char *s, uint64_t *out)
{
    uint32_t v;
    if (!cli_parse_u32(s, &v)) {
        return false;
    }
    *out = v;
    return true;
}

/* --power-cut-at LIST ('c'), --random-cuts C[:W] ('r'), --faults SPEC ('f'). */
static int parse_fault_opt(int which, const char *arg, board_opts_t *o)
{
    char item[32];
    uint64_t v = 0;
    if (which == 'f') {
        ota_nor_faults_t f;
        ota_diag_t diag = {{0}};
        if (ota_nor_faults_parse(arg, &f, &diag) != OTA_OK) {
            cli_usage_error("board run", "--faults: %s", diag.msg);
            return -1;
        }
        o->faults = arg;
        return 0;
    }
    if (which == 'r') {
        const char *colon = strchr(arg, ':');
        snprintf(item, sizeof(item), "%.*s", (int)(colon ? colon - arg : (long)strlen(arg)), arg);
        o->random_window = 200;
        if (!parse_u64(item, &v) || v == 0 || v > BOARD_MAX_CUTS ||
            (colon != NULL && (!parse_u64(colon + 1, &o->random_window) || !o->random_window))) {
            cli_usage_error("board run", "--random-cuts: '%s' is not COUNT[:WINDOW] (1..64)", arg);
            return -1;
        }
        o->random_cuts = (unsigned)v;
        return 0;
    }
    o->n_cuts = 0;
    for (const char *p = arg; *p != '\0' || o->n_cuts == 0;) {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof(item), "%.*s", (int)(n < sizeof(item) ? n : sizeof(item) - 1), p);
        if (n >= sizeof(item) || !parse_u64(item, &v) || v == 0 || o->n_cuts == BOARD_MAX_CUTS) {
            cli_usage_error("board run",
                            "--power-cut-at: '%s' is not a list of up to 64 operation numbers "
                            "(1 or more)",
                            arg);
            return -1;
        }
        o->cuts[o->n_cuts++] = v;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int parse_cut_mode(const char *v, board_opts_t *o)
{
    if (strcmp(v, "before") == 0) {
        o->cut_mode = OTA_NOR_CUT_BEFORE;
    } else if (strcmp(v, "after") == 0) {
        o->cut_mode = OTA_NOR_CUT_AFTER;
    } else if (strcmp(v, "torn") == 0) {
        o->cut_mode = OTA_NOR_CUT_TORN;
    } else if (strcmp(v, "random") == 0) {
        o->cut_mode = BOARD_CUT_MODE_RANDOM;
    } else {
        return cli_usage_error("board run",
                               "--cut-mode: '%s' is not before, after, torn or random", v);
    }
    return CLI_OK;
}

/* Applies the value v of option name (one of parse_run's value options) to o and *size; returns
 * CLI_OK or CLI_USAGE after a usage error. */
static int run_value_opt(const char *name, const char *v, board_opts_t *o, uint32_t *size)
{
    uint32_t n;
    char *end = NULL;
    if (strcmp(name, "--chip") == 0) {
        o->chip = v;
    } else if (strcmp(name, "--chip-rev") == 0) {
        if (!cli_parse_u32(v, &n) || n > 0xFFFF) {
            return cli_usage_error("board run", "--chip-rev: '%s' is not a revision", v);
        }
        o->chip_rev = (int)n;
    } else if (strcmp(name, "--gpio") == 0) {
        if (o->n_gpio == BOARD_MAX_GPIO_SPECS) {
            return cli_usage_error("board run", "too many --gpio options");
        }
        o->gpio[o->n_gpio++] = v;
    } else if (strcmp(name, "--until") == 0) {
        o->until = v;
    } else if (strcmp(name, "--max-boots") == 0) {
        if (!cli_parse_u32(v, &n) || n == 0) {
            return cli_usage_error("board run", "--max-boots: '%s' is not a count", v);
        }
        o->max_boots = n;
    } else if (strcmp(name, "--max-time") == 0) {
        if (!parse_u64(v, &o->max_time_ms) || o->max_time_ms == 0) {
            return cli_usage_error("board run", "--max-time: '%s' is not a duration in ms", v);
        }
    } else if (strcmp(name, "--power-cut-at") == 0) {
        return parse_fault_opt('c', v, o) == 0 ? CLI_OK : CLI_USAGE;
    } else if (strcmp(name, "--random-cuts") == 0) {
        return parse_fault_opt('r', v, o) == 0 ? CLI_OK : CLI_USAGE;
    } else if (strcmp(name, "--faults") == 0) {
        return parse_fault_opt('f', v, o) == 0 ? CLI_OK : CLI_USAGE;
    } else if (strcmp(name, "--cut-mode") == 0) {
        return parse_cut_mode(v, o);
    } else if (strcmp(name, "--pace") == 0) {
        o->pace = strtod(v, &end);
        if (end == v || *end != '\0' || !(o->pace > 0.0)) {
            return cli_usage_error("board run", "--pace: '%s' is not a speed above 0", v);
        }
    } else if (strcmp(name, "--seed") == 0) {
        if (!parse_u64(v, &o->seed)) {
            return cli_usage_error("board run", "--seed: '%s' is not a number", v);
        }
    } else if (strcmp(name, "--psram") == 0) {
        if (!cli_parse_u32(v, &n) ||
            (n != 0 && n != (2u << 20) && n != (4u << 20) && n != (8u << 20))) {
            return cli_usage_error("board run", "--psram: '%s' is not 0, 2MB, 4MB or 8MB", v);
        }
        o->psram_size = n;
    } else if (strcmp(name, "--size") == 0) {
        if (!cli_parse_u32(v, size) || !ota_nor_size_valid(*size)) {
            return cli_usage_error("board run", "--size: '%s' is not 1MB .. 128MB", v);
        }
    } else {
        o->serial = v; /* --serial */
    }
    return CLI_OK;
}

/* Parses board run's command line (argv[0] is "run") into o, *size, *pad and *path. Returns
 * CLI_OK, or CLI_USAGE after a usage error. */
static int parse_run(int argc, char **argv, board_opts_t *o, uint32_t *size, bool *pad,
                     const char **path)
{
    static const char *const value_opts[] = {
        "--chip",     "--chip-rev",     "--gpio",     "--until", "--max-boots",
        "--max-time", "--seed",         "--power-cut-at", "--cut-mode", "--size",
        "--pace",     "--serial",       "--random-cuts", "--faults",   "--psram", NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m = 0;
        for (const char *const *name = value_opts; *name != NULL && m == 0; name++) {
            m = cli_opt("board run", argc, argv, &i, *name, &v);
            if (m > 0 && run_value_opt(*name, v, o, size) != CLI_OK) {
                return CLI_USAGE;
            }
        }
        if (m < 0) {
            return CLI_USAGE;
        }
        if (m > 0) {
            continue;
        }
        if (strcmp(argv[i], "--pad") == 0) {
            *pad = true;
        } else if (strcmp(argv[i], "--download") == 0) {
            o->download = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("board run", "unknown option '%s'", argv[i]);
        } else if (*path == NULL) {
            *path = argv[i];
        } else {
            return cli_usage_error("board run", "expected one FLASH image argument");
        }
    }
    if (*path == NULL) {
        return cli_usage_error("board run", "expected one FLASH image argument");
    }
    return CLI_OK;
}

static int cmd_run(int argc, char **argv)
{
    if (cli_help(argc, argv, run_help)) {
        return CLI_OK;
    }
    board_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip_rev = -1;
    o.cut_mode = OTA_NOR_CUT_BEFORE;
    o.seed = 1;
    o.psram_size = OTA_BOARD_PSRAM_AUTO;
    uint32_t size = 0;
    bool pad = false;
    const char *path = NULL;
    if (parse_run(argc, argv, &o, &size, &pad, &path) != CLI_OK) {
        return CLI_USAGE;
    }
    if (o.download && o.serial == NULL) {
        return cli_usage_error("board run", "--download needs --serial");
    }
    /* A build directory: written to BUILD/otakit/flash.bin first, as `idf.py flash` writes a
     * chip before `idf.py monitor` (in a folder of its own: tools look for BUILD/ *.bin). */
    static char image[PATH_MAX + 32];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(image, sizeof(image), "%s/otakit", path);
        if (mkdir(image, 0777) != 0 && errno != EEXIST) {
            return cli_error("board run: %s: %s", image, strerror(errno));
        }
        snprintf(image, sizeof(image), "%s/otakit/flash.bin", path);
        int rc = cli_flash_create_from_build(path, image, true);
        if (rc != CLI_OK) {
            return rc;
        }
        path = image;
    }
    char work[PATH_MAX];
    if (cli_flash_work_file("board run", path, size, pad, work, sizeof(work)) != CLI_OK) {
        return CLI_FAIL;
    }
    o.flash_path = work;
    int rc = board_run(&o);
    cli_flash_work_done(path, work);
    return rc;
}

static const cli_sub_t subs[] = {
    {"run", "power on the simulated board and run the flash image", cmd_run},
};

static int run(int argc, char **argv)
{
    return cli_dispatch("board",
                        "usage: otakit board SUBCOMMAND [ARGS...]\n\n"
                        "The simulated board: boots real programs from an emulated flash image.\n",
                        subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

const cli_cmd_t cli_cmd_board = {"board", "Simulated board: run a flash image", run};
