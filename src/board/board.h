/*
 * The simulated board: powers on, runs the ROM step and the second-stage bootloader on the flash
 * image, starts the selected app as a real program taken from the flash, and reboots it through
 * the bootloader when it restarts, crashes or loses power.
 */
#ifndef OTAKIT_BOARD_H
#define OTAKIT_BOARD_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses of `otakit board run`. */
#define BOARD_EXIT_UNTIL 0     /* the console printed the --until pattern */
#define BOARD_EXIT_ERROR 1     /* bad input or a host failure */
#define BOARD_EXIT_USAGE 2     /* bad command line */
#define BOARD_EXIT_BRICKED 3   /* no bootloader or no bootable app: the chip resets forever */
#define BOARD_EXIT_RETURNED 4  /* the app's tasks all ended */
#define BOARD_EXIT_MAX_BOOTS 5 /* --max-boots reached */
#define BOARD_EXIT_FOREIGN 6   /* booted an image that cannot run on the host (reported) */
#define BOARD_EXIT_TIME 7      /* --max-time of virtual time reached */

#define BOARD_MAX_GPIO_SPECS 64
#define BOARD_MAX_CUTS 64
#define BOARD_CUT_MODE_RANDOM (-1) /* each cut's mode drawn from the seed */

typedef struct board_opts {
    const char *flash_path;
    const char *chip; /* NULL: the chip named by the bootloader image */
    int chip_rev;     /* major * 100 + minor; -1 = the chip table's shipped revision */
    const char *gpio[BOARD_MAX_GPIO_SPECS]; /* "PIN=LEVEL[@MS]" */
    int n_gpio;
    unsigned max_boots; /* 0 = no limit */
    const char *until;  /* extended regular expression, or NULL */
    /* Power cuts: the first at the cuts[0]-th flash program/erase operation after power-on, each
     * next one at the cuts[k]-th operation after the power-on that followed the previous cut (so
     * a cut may land in the recovery from the one before). */
    uint64_t cuts[BOARD_MAX_CUTS];
    int n_cuts;
    unsigned random_cuts;   /* instead: 1..random_cuts cuts (count drawn from seed), ... */
    uint64_t random_window; /* ... each at an operation drawn in 1..random_window */
    int cut_mode;           /* ota_nor_cut_mode_t, or BOARD_CUT_MODE_RANDOM */
    uint64_t seed;
    const char *faults;   /* flash fault specification (ota_nor_faults_parse), or NULL */
    uint64_t max_time_ms; /* virtual time limit since power-on, 0 = none */
    double pace;          /* virtual seconds per real second, 0 = unpaced (ota_clock_set_pace) */
    const char *serial;   /* "socket:PORT": the serial port (console, download protocol) */
    bool download;        /* power on in ROM download mode (GPIO0 held low) */
    uint32_t psram_size;  /* bytes of PSRAM (0: none), or OTA_BOARD_PSRAM_AUTO */
} board_opts_t;

/* Runs the board until one of the BOARD_EXIT_* conditions; returns that status. */
int board_run(const board_opts_t *opts);

#endif /* OTAKIT_BOARD_H */
