/* otakit board: run the simulated board on a flash image. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board.h"
#include "cli_flash.h"
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
    "                         stderr): the console, and the ROM's download protocol for\n"
    "                         esptool (socket:// or rfc2217://, whose DTR/RTS reset the board)\n"
    "  --download             power on in ROM download mode, as with GPIO0 held low\n"
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

static int cmd_run(int argc, char **argv)
{
    if (cli_help(argc, argv, run_help)) {
        return CLI_OK;
    }
    enum {
        O_CHIP = 1,
        O_REV,
        O_GPIO,
        O_UNTIL,
        O_BOOTS,
        O_TIME,
        O_CUT,
        O_MODE,
        O_SEED,
        O_SIZE,
        O_PACE,
        O_SERIAL,
        O_DOWNLOAD,
        O_RANDOM_CUTS,
        O_FAULTS
    };
    static const struct option opts[] = {
        {"chip", required_argument, NULL, O_CHIP},
        {"chip-rev", required_argument, NULL, O_REV},
        {"gpio", required_argument, NULL, O_GPIO},
        {"until", required_argument, NULL, O_UNTIL},
        {"max-boots", required_argument, NULL, O_BOOTS},
        {"max-time", required_argument, NULL, O_TIME},
        {"power-cut-at", required_argument, NULL, O_CUT},
        {"cut-mode", required_argument, NULL, O_MODE},
        {"seed", required_argument, NULL, O_SEED},
        {"size", required_argument, NULL, O_SIZE},
        {"pace", required_argument, NULL, O_PACE},
        {"pad", no_argument, NULL, 'p'},
        {"serial", required_argument, NULL, O_SERIAL},
        {"download", no_argument, NULL, O_DOWNLOAD},
        {"random-cuts", required_argument, NULL, O_RANDOM_CUTS},
        {"faults", required_argument, NULL, O_FAULTS},
        {NULL, 0, NULL, 0},
    };
    board_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip_rev = -1;
    o.cut_mode = OTA_NOR_CUT_BEFORE;
    o.seed = 1;
    uint32_t v;
    uint32_t size = 0;
    bool pad = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CHIP:
            o.chip = optarg;
            break;
        case O_REV:
            if (!cli_parse_u32(optarg, &v) || v > 0xFFFF) {
                return cli_usage_error("board run", "--chip-rev: '%s' is not a revision", optarg);
            }
            o.chip_rev = (int)v;
            break;
        case O_GPIO:
            if (o.n_gpio == BOARD_MAX_GPIO_SPECS) {
                return cli_usage_error("board run", "too many --gpio options");
            }
            o.gpio[o.n_gpio++] = optarg;
            break;
        case O_UNTIL:
            o.until = optarg;
            break;
        case O_BOOTS:
            if (!cli_parse_u32(optarg, &v) || v == 0) {
                return cli_usage_error("board run", "--max-boots: '%s' is not a count", optarg);
            }
            o.max_boots = v;
            break;
        case O_TIME:
            if (!parse_u64(optarg, &o.max_time_ms) || o.max_time_ms == 0) {
                return cli_usage_error("board run", "--max-time: '%s' is not a duration in ms",
                                       optarg);
            }
            break;
        case O_CUT:
        case O_RANDOM_CUTS:
        case O_FAULTS:
            if (parse_fault_opt(c == O_CUT ? 'c' : c == O_FAULTS ? 'f' : 'r', optarg, &o) != 0) {
                return CLI_USAGE;
            }
            break;
        case O_MODE:
            if (strcmp(optarg, "before") == 0) {
                o.cut_mode = OTA_NOR_CUT_BEFORE;
            } else if (strcmp(optarg, "after") == 0) {
                o.cut_mode = OTA_NOR_CUT_AFTER;
            } else if (strcmp(optarg, "torn") == 0) {
                o.cut_mode = OTA_NOR_CUT_TORN;
            } else if (strcmp(optarg, "random") == 0) {
                o.cut_mode = BOARD_CUT_MODE_RANDOM;
            } else {
                return cli_usage_error(
                    "board run", "--cut-mode: '%s' is not before, after, torn or random", optarg);
            }
            break;
        case O_PACE: {
            char *end = NULL;
            o.pace = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(o.pace > 0.0)) {
                return cli_usage_error("board run", "--pace: '%s' is not a speed above 0", optarg);
            }
            break;
        }
        case O_SEED:
            if (!parse_u64(optarg, &o.seed)) {
                return cli_usage_error("board run", "--seed: '%s' is not a number", optarg);
            }
            break;
        case O_SIZE:
            if (!cli_parse_u32(optarg, &size) || !ota_nor_size_valid(size)) {
                return cli_usage_error("board run", "--size: '%s' is not 1MB .. 128MB", optarg);
            }
            break;
        case 'p':
            pad = true;
            break;
        case O_SERIAL:
            o.serial = optarg;
            break;
        case O_DOWNLOAD:
            o.download = true;
            break;
        default:
            return cli_usage_error("board run", "unknown option");
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error("board run", "expected one FLASH image argument");
    }
    if (o.download && o.serial == NULL) {
        return cli_usage_error("board run", "--download needs --serial");
    }
    const char *path = argv[optind];
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
