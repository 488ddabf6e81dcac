/*
 * Power-loss sweep of an app update with the native OTA API and rollback on:
 *   old app (ota_0, VALID) writes the new image into ota_1 with esp_ota_begin / esp_ota_write /
 *   esp_ota_end, selects it with esp_ota_set_boot_partition and restarts; the bootloader boots
 *   the new app (NEW -> PENDING_VERIFY); the new app marks itself valid.
 * A cut at any flash operation, clean or torn, must leave a board that boots a verified app and
 * ends up running either the old app or the new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_ota_ops.h"
#include "esp_system.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "sweep.h"

#define OLD_VERSION "1.0"
#define NEW_VERSION "2.0"

typedef struct {
    uint8_t *image; /* the new app image */
    uint32_t len;
    bool accepted_bad; /* esp_ota_end accepted a partition that does not hold the image */
} app_data_t;

static void setup(sweep_t *s)
{
    app_data_t *d = calloc(1, sizeof(*d));
    s->user = d;
    ota_part_table_t table;
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_part_builtin_table("two_ota", NULL, &table, NULL);
    ota_part_table_encode(ota_crypto_openssl(), &table, bin, NULL);
    sweep_write(s, OTA_PART_TABLE_OFFSET_DEFAULT, bin, sizeof(bin));

    uint8_t *img;
    uint32_t len;
    sweep_pack_bootloader(s, NULL, "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y\n", &img, &len);
    sweep_write(s, s->chip->bootloader_offset, img, len);
    free(img);
    sweep_pack_app(s, "factory_app", "0.1", NULL, 2048, 1, &img, &len);
    sweep_write(s, 0x10000, img, len);
    free(img);
    sweep_pack_app(s, "app", OLD_VERSION, NULL, 8192, 2, &img, &len);
    sweep_write(s, 0x110000, img, len);
    free(img);
    /* the old app runs from ota_0 and was confirmed */
    ota_otadata_entry_t e;
    ota_otadata_make(1, OTA_OTADATA_STATE_VALID, &e);
    if (ota_otadata_write_entry(s->flash, 0xD000, 0x2000, 0, &e) != OTA_OK) {
        exit(2);
    }
    sweep_pack_app(s, "app", NEW_VERSION, NULL, s->full ? 256 * 1024 : 24 * 1024, 3, &d->image,
                   &d->len);
}

/* The old app: installs the new image and restarts. */
static void old_app(sweep_t *s)
{
    app_data_t *d = s->user;
    const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
    esp_ota_handle_t h = 0;
    if (next == NULL || esp_ota_begin(next, OTA_WITH_SEQUENTIAL_WRITES, &h) != ESP_OK) {
        return;
    }
    for (uint32_t off = 0; off < d->len; off += 4096) {
        uint32_t n = d->len - off < 4096 ? d->len - off : 4096;
        if (esp_ota_write(h, d->image + off, n) != ESP_OK) {
            esp_ota_abort(h);
            return;
        }
    }
    if (esp_ota_end(h) != ESP_OK) {
        return;
    }
    /* The image is hashed: a partition that differs from it must not have been accepted. */
    d->accepted_bad |= memcmp(ota_nor_data(s->nor) + next->address, d->image, d->len) != 0;
    if (esp_ota_set_boot_partition(next) != ESP_OK) {
        return;
    }
    esp_restart();
}

/* The new app: confirms itself. */
static void new_app(sweep_t *s)
{
    (void)s;
    esp_ota_mark_app_valid_cancel_rollback();
}

/* Runs the app that booted: the new one confirms itself, the old one does nothing more. */
static void run_booted(sweep_t *s, const sweep_boot_t *b)
{
    if (strcmp(sweep_running_version(s, b), NEW_VERSION) == 0) {
        sweep_run_app(s, new_app);
    }
}

static void play(sweep_t *s)
{
    sweep_boot_t b;
    if (!sweep_boot(s, &b) || sweep_power_lost(s)) {
        return;
    }
    sweep_run_app(s, old_app);
    if (sweep_power_lost(s) || !sweep_boot(s, &b) || sweep_power_lost(s)) {
        return;
    }
    run_booted(s, &b);
}

/* Classifies one boot: 0 old app in ota_0, 1 new app in ota_1, -1 bricked, -2 other. */
static int classify(sweep_t *s, bool booted, const sweep_boot_t *b, char *why)
{
    if (!booted) {
        snprintf(why, 64, "no verified app boots (ROM %s, bootloader outcome %d)",
                 b->rom_ok ? "ok" : "failed", (int)b->res.outcome);
        return -1;
    }
    const char *v = sweep_running_version(s, b);
    if (strcmp(v, OLD_VERSION) == 0 && b->res.part.offset == 0x110000) {
        return 0;
    }
    /* the new app, in ota_1 or (when a fault made the factory app install it) in ota_0 */
    if (strcmp(v, NEW_VERSION) == 0 &&
        (b->res.part.offset == 0x210000 || b->res.part.offset == 0x110000)) {
        return 1;
    }
    snprintf(why, 64, "booted version '%s' at 0x%x", v, (unsigned)b->res.part.offset);
    return -2;
}

/* After power-on: boot, run what booted, boot again; both boots must give old or new. */
static int settle(sweep_t *s, char *why)
{
    app_data_t *d = s->user;
    if (d->accepted_bad) {
        d->accepted_bad = false;
        snprintf(why, 64, "esp_ota_end accepted a bad write");
        return -2;
    }
    sweep_boot_t b;
    bool ok = sweep_boot(s, &b);
    int first = classify(s, ok, &b, why);
    if (first < 0) {
        return first;
    }
    run_booted(s, &b);
    ok = sweep_boot(s, &b);
    int second = classify(s, ok, &b, why);
    if (second < 0) {
        return second;
    }
    if (second == 1) {
        esp_ota_img_states_t st;
        const esp_partition_t *run = esp_ota_get_running_partition();
        if (esp_ota_get_state_partition(run, &st) != ESP_OK || st != ESP_OTA_IMG_VALID) {
            snprintf(why, 64, "the new app runs but is not confirmed");
            return -2;
        }
    }
    return second;
}

static void cleanup(sweep_t *s)
{
    app_data_t *d = s->user;
    free(d->image);
}

static const sweep_scenario_t scenario = {
    .name = "app",
    .setup = setup,
    .play = play,
    .settle = settle,
    .cleanup = cleanup,
    .bricks_allowed = false,
};

int main(int argc, char **argv)
{
    int rc = sweep_main(&scenario, argc, argv);
    return rc;
}
