/* Power-loss sweep harness (see sweep.h). */
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_internal.h"
#include "esp_ota_ops.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_boot_cfg.h"
#include "ota/ota_img.h"
#include "ota/ota_flashimg.h"
#include "ota/ota_img_build.h"
#include "ota/ota_ops.h"
#include "ota/ota_posix.h"

bool sweep_power_lost(sweep_t *s)
{
    return ota_nor_power_lost(s->nor);
}

static void restart_hook(void *ctx)
{
    longjmp(((sweep_t *)ctx)->restart, 1);
}

int sweep_run_app(sweep_t *s, void (*fn)(sweep_t *s))
{
    if (setjmp(s->restart) != 0) {
        return 1;
    }
    fn(s);
    return 0;
}

void sweep_write(sweep_t *s, uint32_t addr, const void *data, uint32_t len)
{
    uint32_t span = (len + 0xFFFu) & ~0xFFFu;
    if (ota_flash_erase_range(s->flash, addr, span) != OTA_OK ||
        ota_flash_program(s->flash, addr, data, len) != OTA_OK) {
        fprintf(stderr, "sweep: setup write at 0x%x failed\n", (unsigned)addr);
        exit(2);
    }
}

void sweep_pack_app(sweep_t *s, const char *project, const char *version, const char *sdkconfig,
                    uint32_t size, uint32_t seed, uint8_t **img, uint32_t *len)
{
    uint8_t *payload = malloc(size);
    uint32_t x = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        payload[i] = (uint8_t)x;
    }
    static const char rollback[] = "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y\n";
    const char *sdk = sdkconfig != NULL ? sdkconfig : rollback;
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.chip = s->chip;
    o.payload = payload;
    o.payload_len = size;
    o.project_name = project;
    o.project_ver = version;
    o.sdkconfig = sdk;
    o.sdkconfig_len = strlen(sdk);
    o.has_build_time = true;
    o.build_time = 1700000000;
    size_t n = 0;
    if (ota_img_pack(ota_crypto_openssl(), &o, img, &n, NULL) != OTA_OK) {
        fprintf(stderr, "sweep: cannot pack %s\n", project);
        exit(2);
    }
    *len = (uint32_t)n;
    free(payload);
}

void sweep_pack_bootloader(sweep_t *s, const char *idf_ver, const char *sdkconfig, uint8_t **img,
                           uint32_t *len)
{
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.bootloader = true;
    o.chip = s->chip;
    o.idf_ver = idf_ver;
    o.sdkconfig = sdkconfig;
    o.sdkconfig_len = sdkconfig ? strlen(sdkconfig) : 0;
    o.has_build_time = true;
    o.build_time = 1700000000;
    size_t n = 0;
    if (ota_img_pack(ota_crypto_openssl(), &o, img, &n, NULL) != OTA_OK) {
        fprintf(stderr, "sweep: cannot pack a bootloader\n");
        exit(2);
    }
    *len = (uint32_t)n;
}

void sweep_put_table(sweep_t *s, const char *csv)
{
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_diag_t diag = {{0}};
    if (ota_part_csv_compile(csv, strlen(csv), NULL, bin, &diag) != OTA_OK) {
        fprintf(stderr, "sweep: bad table: %s\n", diag.msg);
        exit(2);
    }
    sweep_write(s, OTA_PART_TABLE_OFFSET_DEFAULT, bin, sizeof(bin));
}

int sweep_ota_write(const void *staging, const void *final, bool finalize_with_copy,
                    const uint8_t *data, uint32_t len)
{
    const esp_partition_t *st = staging != NULL ? staging : esp_ota_get_next_update_partition(NULL);
    esp_ota_handle_t h = 0;
    esp_err_t err =
        st == NULL ? ESP_ERR_NOT_FOUND : esp_ota_begin(st, OTA_WITH_SEQUENTIAL_WRITES, &h);
    if (err != ESP_OK) {
        return err;
    }
    if (final != NULL && final != st) {
        err = esp_ota_set_final_partition(h, final, finalize_with_copy);
    }
    for (uint32_t off = 0; err == ESP_OK && off < len; off += 1024) {
        err = esp_ota_write(h, data + off, len - off < 1024 ? len - off : 1024);
    }
    if (err != ESP_OK) {
        esp_ota_abort(h);
        return err;
    }
    return esp_ota_end(h);
}

const char *sweep_bootloader_version(sweep_t *s, const sweep_boot_t *b)
{
    static char ver[33];
    ota_boot_desc_t d;
    uint8_t raw[OTA_BOOT_DESC_LEN];
    ver[0] = '\0';
    if (b->rom_ok) {
        memcpy(raw, ota_nor_data(s->nor) + b->rom_offset + 0x20, sizeof(raw));
        if (ota_boot_desc_decode(raw, &d)) {
            snprintf(ver, sizeof(ver), "%s", d.idf_ver);
        }
    }
    return ver;
}

/* The sdkconfig baked into the image at offset (an empty one when there is none). */
static ota_sdkconfig_t *image_config(sweep_t *s, uint32_t offset, uint32_t region)
{
    ota_sdkconfig_t *cfg = ota_flashimg_image_sdkconfig(s->flash, offset, region);
    return cfg != NULL ? cfg : ota_sdkconfig_new();
}

bool sweep_boot(sweep_t *s, sweep_boot_t *b)
{
    memset(b, 0, sizeof(*b));
    memset(&s->last, 0, sizeof(s->last));
    esp_dev_uninstall();
    ota_boot_env_t env = {
        .flash = s->flash,
        .crypto = ota_crypto_openssl(),
        .chip = s->chip,
        .chip_rev = ota_flashimg_default_chip_rev(s->chip),
        .efuse = &s->efuse.ops,
        .power_on = true,
    };
    if (ota_boot_rom_load(&env, OTA_PART_TABLE_OFFSET_DEFAULT, &b->rom_offset, NULL, NULL) !=
        OTA_OK) {
        return false;
    }
    b->rom_ok = true;
    ota_sdkconfig_free(s->boot_sdk);
    s->boot_sdk =
        image_config(s, b->rom_offset, OTA_PART_TABLE_OFFSET_DEFAULT - s->chip->bootloader_offset);
    ota_boot_cfg_t cfg;
    ota_boot_cfg_from_sdkconfig(s->boot_sdk, &cfg);
    ota_boot_run(&env, &cfg, &b->res);
    if (b->res.outcome != OTA_BOOT_OK) {
        return false;
    }
    s->last = *b;
    ota_sdkconfig_free(s->app_cfg);
    s->app_cfg = image_config(s, b->res.part.offset, b->res.part.size);
    esp_dev_config_t dev = {
        .flash = s->flash,
        .crypto = ota_crypto_openssl(),
        .chip = s->chip,
        .chip_rev = env.chip_rev,
        .efuse = &s->efuse.ops,
        .table_offset = b->res.table_used,
        .running_offset = b->res.part.offset,
        .sdkconfig = s->app_cfg,
        .restart = restart_hook,
        .restart_ctx = s,
        .ota_test_flags = s->otadata_flip ? OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR : 0,
    };
    return esp_dev_install(&dev) == ESP_OK;
}

bool sweep_image_verifies(sweep_t *s, uint32_t offset, uint32_t size, bool bootloader)
{
    ota_img_verify_opts_t o = {
        .chip = s->chip,
        .chip_rev = ota_flashimg_default_chip_rev(s->chip),
        .efuse_blk_rev = ota_flashimg_default_efuse_blk_rev(s->chip),
        .bootloader = bootloader,
        .hash = OTA_IMG_HASH_CHECK,
        .silent = true,
    };
    ota_img_meta_t meta;
    return ota_img_verify(s->flash, ota_crypto_openssl(), offset, size, &o, &meta, NULL) ==
               OTA_OK &&
           (bootloader || meta.hash_checked);
}

const char *sweep_running_version(sweep_t *s, const sweep_boot_t *b)
{
    (void)s;
    if (b->res.outcome != OTA_BOOT_OK || !b->res.meta.has_app_desc) {
        return "";
    }
    return b->res.meta.app_desc.version;
}

/* ---- the sweep ------------------------------------------------------------------------------ */

static const char *mode_name(int m)
{
    return m == OTA_NOR_CUT_BEFORE ? "before" : m == OTA_NOR_CUT_AFTER ? "after" : "torn";
}

typedef struct stats {
    unsigned cases;
    unsigned outcome[4]; /* old, new, bricked, other */
    unsigned failures;
    uint64_t brick_first;
    uint64_t brick_last;
} stats_t;

/* Puts the flash back to the initial state and forgets counters, faults and eFuses. */
void sweep_rewind(sweep_t *s, const uint8_t *snapshot)
{
    ota_nor_power_on(s->nor);
    ota_nor_cut_disarm(s->nor);
    ota_nor_set_faults(s->nor, NULL);
    ota_nor_restore(s->nor, snapshot, SWEEP_FLASH_SIZE);
    ota_nor_reset_counters(s->nor);
    unlink(s->efuse_path);
    if (s->sc->rewound != NULL) {
        s->sc->rewound(s);
    }
}

/* Plays the scenario: its own play, or boot, run its flow as the app, boot the result. */
void sweep_play(sweep_t *s)
{
    if (s->sc->play != NULL) {
        s->sc->play(s);
        return;
    }
    sweep_boot_t b;
    if (!sweep_boot(s, &b) || sweep_power_lost(s)) {
        return;
    }
    sweep_run_app(s, s->sc->flow);
    if (!sweep_power_lost(s)) {
        sweep_boot(s, &b);
    }
}

/* Runs one case; returns the outcome class (0 old, 1 new, -1 bricked, -2 other). */
static int run_case(sweep_t *s, const uint8_t *snapshot, uint64_t n, int mode, uint64_t seed,
                    char *why)
{
    sweep_rewind(s, snapshot);
    ota_nor_cut_arm(s->nor, n, (ota_nor_cut_mode_t)mode, seed);
    sweep_play(s);
    ota_nor_cut_disarm(s->nor);
    ota_nor_power_on(s->nor);
    return s->sc->settle(s, why);
}

static int parse_case(const char *id, const char *name, uint64_t *n, int *mode, uint64_t *seed)
{
    char sc[64];
    char m[16];
    unsigned long long nn = 0;
    unsigned long long sd = 0;
    if (sscanf(id, "%63[^:]:%llu:%15[^:]:%llu", sc, &nn, m, &sd) != 4 || strcmp(sc, name) != 0) {
        return -1;
    }
    *mode = strcmp(m, "before") == 0  ? OTA_NOR_CUT_BEFORE
            : strcmp(m, "after") == 0 ? OTA_NOR_CUT_AFTER
            : strcmp(m, "torn") == 0  ? OTA_NOR_CUT_TORN
                                      : -1;
    *n = nn;
    *seed = sd;
    return *mode < 0 ? -1 : 0;
}

/* Replays one single-cut case; returns the number of failures (0 or 1), or -1 for a bad id. */
static int single_case(sweep_t *s, const uint8_t *snapshot, const char *one)
{
    const sweep_scenario_t *sc = s->sc;
    char why[128] = "";
    uint64_t n = 0;
    uint64_t seed = 0;
    int mode = 0;
    if (parse_case(one, sc->name, &n, &mode, &seed) != 0) {
        fprintf(stderr,
                "%s: bad case id '%s' (expected %s:N:before|after|torn:SEED, %s:multi:Q or "
                "%s:fault:SPEC)\n",
                sc->name, one, sc->name, sc->name, sc->name);
        return -1;
    }
    int r = run_case(s, snapshot, n, mode, seed, why);
    printf("case %s: %s%s%s\n", one,
           r == 0    ? "old firmware"
           : r == 1  ? "new firmware"
           : r == -1 ? "bricked"
                     : "other",
           why[0] ? ": " : "", why);
    return (r == 0 || r == 1 || (r == -1 && sc->bricks_allowed) || (r == -2 && sc->others_allowed))
               ? 0
               : 1;
}

/* Every operation from 1 to total (by stride), each mode: prints the figures, returns failures. */
static unsigned single_cuts(sweep_t *s, const uint8_t *snapshot, uint64_t total, bool full,
                            unsigned stride)
{
    const sweep_scenario_t *sc = s->sc;
    char why[128];
    stats_t st;
    memset(&st, 0, sizeof(st));
    int modes[5] = {OTA_NOR_CUT_BEFORE, OTA_NOR_CUT_AFTER, OTA_NOR_CUT_TORN, OTA_NOR_CUT_TORN,
                    OTA_NOR_CUT_TORN};
    uint64_t seeds[5] = {0, 0, 1, 2, 3};
    int nmodes = full ? 5 : 3;
    for (uint64_t n = 1; n <= total; n += stride) {
        for (int k = 0; k < nmodes; k++) {
            why[0] = '\0';
            int r = run_case(s, snapshot, n, modes[k], seeds[k], why);
            st.cases++;
            int cls = r == 0 ? 0 : r == 1 ? 1 : r == -1 ? 2 : 3;
            st.outcome[cls]++;
            if (cls == 2) {
                st.brick_first = st.brick_first ? st.brick_first : n;
                st.brick_last = n;
            }
            if ((cls == 3 && !sc->others_allowed) || (cls == 2 && !sc->bricks_allowed)) {
                st.failures++;
                if (st.failures <= 10) {
                    printf("FAIL case %s:%llu:%s:%llu: %s\n", sc->name, (unsigned long long)n,
                           mode_name(modes[k]), (unsigned long long)seeds[k], why);
                }
            }
        }
    }
    printf("%s: %llu flash operations, %u cases (%s): verified app booted %u (old %u, new %u, "
           "other %u), bricked %u, failures %u\n",
           sc->name, (unsigned long long)total, st.cases,
           full ? "before, after, torn x3" : "before, after, torn",
           st.outcome[0] + st.outcome[1] + st.outcome[3], st.outcome[0], st.outcome[1],
           st.outcome[3], st.outcome[2], st.failures);
    if (st.outcome[2] > 0) {
        printf("%s: a cut bricks the device between flash operations %llu and %llu\n", sc->name,
               (unsigned long long)st.brick_first, (unsigned long long)st.brick_last);
    }
    return st.failures;
}

typedef struct sweep_args {
    bool full;
    bool expect_failure;
    bool faults;
    const char *one;
    unsigned stride;
    unsigned multi;
    unsigned max_cuts;
} sweep_args_t;

static int parse_args(sweep_t *s, sweep_args_t *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->stride = 1;
    a->max_cuts = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--full") == 0) {
            a->full = true;
        } else if (strcmp(argv[i], "--flip") == 0) {
            s->otadata_flip = 1;
        } else if (strcmp(argv[i], "--expect-failure") == 0) {
            a->expect_failure = true;
        } else if (strcmp(argv[i], "--faults") == 0) {
            a->faults = true;
        } else if (strcmp(argv[i], "--case") == 0 && v != NULL) {
            a->one = argv[++i];
        } else if (strcmp(argv[i], "--stride") == 0 && v != NULL) {
            a->stride = (unsigned)strtoul(argv[++i], NULL, 0);
            a->stride = a->stride ? a->stride : 1;
        } else if (strcmp(argv[i], "--multi") == 0 && v != NULL) {
            a->multi = (unsigned)strtoul(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--max-cuts") == 0 && v != NULL) {
            a->max_cuts = (unsigned)strtoul(argv[++i], NULL, 0);
            a->max_cuts = a->max_cuts ? a->max_cuts : 1;
        } else {
            fprintf(stderr,
                    "usage: %s [--full] [--case ID] [--flip] [--expect-failure] [--stride N] "
                    "[--multi N [--max-cuts K]] [--faults]\n",
                    argv[0]);
            return 2;
        }
    }
    return 0;
}

/* The run asked for: a replayed case, multi-cut sequences, faults or the single-cut sweep.
 * Returns the failures, or -1 for a bad case id. */
static long run_mode(sweep_t *s, const sweep_args_t *a, const uint8_t *snapshot, uint64_t total)
{
    bool multi_id = a->one != NULL && strstr(a->one, ":multi:") != NULL;
    bool fault_id = a->one != NULL && strstr(a->one, ":fault:") != NULL;
    if (a->multi > 0 || multi_id) {
        return sweep_multi(s, snapshot, total, a->multi, a->max_cuts, multi_id ? a->one : NULL);
    }
    if (a->faults || fault_id) {
        return sweep_faults(s, snapshot, a->full, fault_id ? a->one : NULL);
    }
    if (a->one != NULL) {
        return single_case(s, snapshot, a->one);
    }
    return single_cuts(s, snapshot, total, a->full, a->stride);
}

int sweep_main(const sweep_scenario_t *sc, int argc, char **argv)
{
    sweep_t s;
    memset(&s, 0, sizeof(s));
    s.sc = sc;
    sweep_args_t a;
    if (parse_args(&s, &a, argc, argv) != 0) {
        return 2;
    }
    esp_log_level_set("*", ESP_LOG_NONE); /* the app side logs thousands of boots */
    if (ota_nor_create_mem(SWEEP_FLASH_SIZE, NULL, &s.nor, NULL) != OTA_OK) {
        return 2;
    }
    s.flash = ota_nor_flash(s.nor);
    s.chip = ota_chip_by_name(sc->chip != NULL ? sc->chip : "esp32");
    snprintf(s.efuse_path, sizeof(s.efuse_path), "/tmp/otakit-sweep-%d.efuse", (int)getpid());
    ota_efuse_store_file(&s.efuse, s.efuse_path, s.chip->secure_version_bits);
    s.full = a.full;
    sc->setup(&s);
    uint8_t *snapshot = malloc(SWEEP_FLASH_SIZE);
    ota_nor_snapshot(s.nor, snapshot, SWEEP_FLASH_SIZE);

    /* A run without a cut counts the operations and must end on the new firmware. */
    char why[128] = "";
    sweep_rewind(&s, snapshot);
    sweep_play(&s);
    uint64_t total = ota_nor_state(s.nor)->ops;
    int status = 0;
    if (sc->settle(&s, why) != 1) {
        printf("%s: the update without a power cut does not end on the new firmware: %s\n",
               sc->name, why);
        status = 1;
    }
    long failures = run_mode(&s, &a, snapshot, total);
    if (failures < 0) {
        status = 2;
    } else if (a.expect_failure) {
        printf("%s: expected failures: %s\n", sc->name, failures > 0 ? "found" : "none");
        status = failures > 0 ? 0 : 1;
    } else if (failures > 0) {
        status = 1;
    }
    esp_dev_uninstall();
    ota_sdkconfig_free(s.boot_sdk);
    ota_sdkconfig_free(s.app_cfg);
    free(snapshot);
    if (sc->cleanup != NULL) {
        sc->cleanup(&s);
    }
    free(s.user);
    ota_nor_close(s.nor);
    unlink(s.efuse_path);
    return status;
}
