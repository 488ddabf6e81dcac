/*
 * Power-loss sweep harness: runs an update scenario on an in-memory emulated NOR flash, cutting
 * the power at every flash operation (before, after, torn), powering on again and checking what
 * the board boots. The boot chain (ROM step and second-stage bootloader) and the app code run in
 * this process: the app side uses the ESP-IDF API (esp_ota_*, esp_partition_*, esp_https_ota...)
 * over the installed device; esp_restart() returns to the harness.
 *
 * A case is identified as "<scenario>:<operation>:<mode>:<seed>" and replays exactly.
 */
#ifndef OTAKIT_SWEEP_H
#define OTAKIT_SWEEP_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_boot.h"
#include "ota/ota_efuse_store.h"
#include "ota/ota_nor.h"
#include "ota/ota_sdkconfig.h"

#define SWEEP_FLASH_SIZE 0x400000u

/* What one boot of the board gave. */
typedef struct sweep_boot {
    bool rom_ok;           /* the ROM found a loadable second-stage bootloader */
    uint32_t rom_offset;   /* where (primary or recovery) */
    ota_boot_result_t res; /* the second-stage bootloader's result */
} sweep_boot_t;

typedef struct sweep sweep_t;

/* A scenario: builds the initial flash, then plays the update. */
typedef struct sweep_scenario {
    const char *name;
    /* Writes the initial flash contents (no power cut is armed yet). */
    void (*setup)(sweep_t *s);
    /* Plays the update from power-on to its end. Returns when done or when the power is lost
     * (check sweep_power_lost after every step). NULL: boot, run `flow` as the app, boot. */
    void (*play)(sweep_t *s);
    /* With play NULL: the app code of the update (ends with esp_restart() on success). */
    void (*flow)(sweep_t *s);
    /* After a cut and power-on: runs the board until it settles and classifies the result:
     * 0 = old firmware, 1 = new firmware, -1 = bricked (no verified app / no bootloader),
     * -2 = something else booted (neither old nor new). why (64 bytes) explains a failure. */
    int (*settle)(sweep_t *s, char *why);
    /* Frees what setup put in s->user (may be NULL: plain free of s->user). */
    void (*cleanup)(sweep_t *s);
    /* Called when the flash is put back to the initial snapshot (may be NULL): a scenario that
     * models the state its flow starts from forgets the state an earlier case left. */
    void (*rewound)(sweep_t *s);
    /* Bricking is a known property of this update path (measured, not a failure). */
    bool bricks_allowed;
    /* An outcome that is neither old nor new is a known property (a data partition caught
     * half-copied): measured, not a failure. */
    bool others_allowed;
    /* The simulated chip (NULL = ESP32). */
    const char *chip;
} sweep_scenario_t;

struct sweep {
    const sweep_scenario_t *sc;
    ota_nor_t *nor;
    const ota_flash_t *flash;
    const ota_chip_t *chip;
    ota_sdkconfig_t *boot_sdk; /* the booted bootloader's configuration */
    ota_sdkconfig_t *app_cfg;  /* the booted app's configuration (from its image) */
    ota_efuse_store_t efuse;   /* eFuses in a sidecar file */
    char efuse_path[256];
    uint32_t otadata_flip; /* test-only: write otadata into the active sector */
    jmp_buf restart;       /* esp_restart() comes back here */
    void *user;            /* scenario data */
    bool full;             /* a full sweep: scenarios may use bigger images */
    sweep_boot_t last;     /* the last boot that started an app (zero when the last did not) */
};

/* Boots the board once (ROM step, bootloader) and, when an app booted, installs the ESP-IDF
 * device for it. Returns false if nothing booted (the result says why). */
bool sweep_boot(sweep_t *s, sweep_boot_t *b);

/* True once the emulated power is gone. */
bool sweep_power_lost(sweep_t *s);

/* Runs fn(s) as app code: returns 1 if it called esp_restart(), 0 if it returned. */
int sweep_run_app(sweep_t *s, void (*fn)(sweep_t *s));

/* Writes bytes at addr (erasing the sectors first), for setup. */
void sweep_write(sweep_t *s, uint32_t addr, const void *data, uint32_t len);

/* Packs an app image for the sweep's chip (payload of `size` pseudo-random bytes from `seed`)
 * with the given project, version and sdkconfig text (NULL = rollback enabled); caller frees
 * *img. */
void sweep_pack_app(sweep_t *s, const char *project, const char *version, const char *sdkconfig,
                    uint32_t size, uint32_t seed, uint8_t **img, uint32_t *len);

/* Packs a bootloader image for the sweep's chip with the given ESP-IDF version string and
 * sdkconfig text (may be NULL). */
void sweep_pack_bootloader(sweep_t *s, const char *idf_ver, const char *sdkconfig, uint8_t **img,
                           uint32_t *len);

/* Writes a partition-table binary built from CSV text at the table offset (0x8000). */
void sweep_put_table(sweep_t *s, const char *csv);

/*
 * What esp_https_ota does to flash for one downloaded image, without the network:
 * esp_ota_begin(staging, OTA_WITH_SEQUENTIAL_WRITES), esp_ota_set_final_partition(final, copy),
 * esp_ota_write in 1 KiB pieces, esp_ota_end (verification by the final partition's type, then
 * the copy). staging NULL = the next OTA slot. Returns ESP_OK or the first error.
 */
int sweep_ota_write(const void *staging, const void *final, bool finalize_with_copy,
                    const uint8_t *data, uint32_t len);

/* Description of the second-stage bootloader the ROM loaded ("" if none). */
const char *sweep_bootloader_version(sweep_t *s, const sweep_boot_t *b);

/* True when the image at offset (in a region of size bytes) verifies in full, its appended
 * SHA-256 included, as the ROM checks a bootloader and the bootloader an app. */
bool sweep_image_verifies(sweep_t *s, uint32_t offset, uint32_t size, bool bootloader);

/* The booted app's project version ("" when none booted or no description). */
const char *sweep_running_version(sweep_t *s, const sweep_boot_t *b);

/* Puts the flash back to the snapshot; forgets counters, cuts, faults and eFuses. */
void sweep_rewind(sweep_t *s, const uint8_t *snapshot);

/* Plays the scenario's update once from power-on (stops where the power is lost). */
void sweep_play(sweep_t *s);

/*
 * Multi-cut sequences (sweep_stress.c): sequence q cuts the power 1..max_cuts times (count,
 * operations and modes drawn from q); after each cut the board is powered on and recovers (it
 * settles and, when it is back on the old firmware, retries the update), and the next cut may
 * land there. Runs `count` sequences from first_seed, or the one named by a case id
 * "<scenario>:multi:Q". Prints the figures; returns the number of failures.
 */
unsigned sweep_multi(sweep_t *s, const uint8_t *snapshot, uint64_t total, unsigned count,
                     unsigned max_cuts, const char *one);

/*
 * Flash faults (sweep_stress.c): the update runs on a faulty chip (ota_nor_faults_t): bit errors
 * and errors on read, programs that leave bits set (rates x seeds), each sector the update
 * writes stuck or failing, wear-out limits. It must end on the new firmware or fail cleanly on
 * the old, booting a verified app. A case id is "<scenario>:fault:SPEC". Returns the failures.
 */
unsigned sweep_faults(sweep_t *s, const uint8_t *snapshot, bool full, const char *one);

/*
 * Runs the sweep of one scenario and prints its figures. Options: --full (all modes, three torn
 * seeds), --case ID (replay one case), --flip (test-only otadata order flip), --expect-failure
 * (succeed only if some case fails: shows the check has teeth), --stride N (every N-th
 * operation), --multi N (N multi-cut sequences instead; --max-cuts K, default 5), --faults (the
 * flash-fault cases instead). Returns the process exit status.
 */
int sweep_main(const sweep_scenario_t *sc, int argc, char **argv);

#endif /* OTAKIT_SWEEP_H */
