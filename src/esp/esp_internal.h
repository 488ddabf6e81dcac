/*
 * Internals shared by the ESP-IDF compatibility layer and the app runtime (not installed).
 *
 * The ESP-IDF API has no context argument, so the layer acts on one installed device: the
 * simulated board's flash, its partition table, the running app and its configuration. The app
 * runtime installs it at start-up; tests install one over an emulated flash.
 */
#ifndef ESP_INTERNAL_H
#define ESP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_log.h"
#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_efuse.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_log.h"
#include "ota/ota_sdkconfig.h"

typedef struct esp_dev_config {
    const ota_flash_t *flash;   /* the chip (required) */
    const ota_crypto_t *crypto; /* required */
    const ota_chip_t *chip;     /* required */
    uint16_t chip_rev;          /* major * 100 + minor */
    uint16_t efuse_blk_rev;     /* major * 100 + minor */
    const ota_efuse_t *efuse;   /* may be NULL (no anti-rollback possible then) */
    bool efuse_virtual;         /* virtual eFuses kept in flash: flash encryption is virtual */
    uint32_t table_offset;      /* CONFIG_PARTITION_TABLE_OFFSET (0 = 0x8000) */
    uint32_t running_offset;    /* flash address of the running app partition (0 = none) */
    uint32_t rom_bootloader_offset; /* where the ROM found the bootloader (0 = the primary) */
    uint32_t psram_size; /* bytes of the board's PSRAM chip (0 = none; esp_psram.h) */
    /* The app's configuration (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, _ANTI_ROLLBACK,
     * CONFIG_PARTITION_TABLE_MD5, CONFIG_ESP_HTTPS_OTA_*...). May be NULL = all defaults. Not
     * copied: it must outlive the installation. */
    const ota_sdkconfig_t *sdkconfig;
    /* esp_restart(): must not return. NULL = exit the process with status 0. */
    void (*restart)(void *ctx);
    void *restart_ctx;
    /* esp_deep_sleep_start(), called with restart_ctx once the clock counts the sleep: must not
     * return. timer: a wake-up timer was armed (else the chip sleeps until reset). NULL = exit
     * the process with status 0. */
    void (*deep_sleep)(void *ctx, bool timer);
    /* GPIO inputs of the board: the level of a pin now, and the pull the app configured
     * (1 up, 0 down, -1 none). NULL = every pin reads its pull (pull-up 1, else 0). */
    int (*gpio_level)(void *ctx, int pin);
    void (*gpio_pull)(void *ctx, int pin, int pull);
    /* The level an output pin drives (0 or 1; -1 releases it). The board keeps it across
     * restarts, so the bootloader reads it as that pin's input. NULL = outputs are not seen. */
    void (*gpio_drive)(void *ctx, int pin, int level);
    /* The factory MAC from the board's eFuses (6 bytes); returns 0, or -1 when it cannot be
     * read. NULL = OTA_EFUSE_DEFAULT_MAC. */
    int (*read_mac)(void *ctx, uint8_t mac[6]);
    void *board_ctx;
    int reset_reason; /* esp_reset_reason_t of this boot (0 = unknown) */
    /* The app's embedded signature_verification_key.bin (Secure Boot V1 signed apps), or NULL.
     * Not copied. */
    const uint8_t *sig_v1_key;
    size_t sig_v1_key_len;
    /* OTA_OPS_TEST_* switches of the native OTA core (ota_ops.h). Tests only: 0 otherwise. */
    uint32_t ota_test_flags;
} esp_dev_config_t;

/*
 * Installs the device: loads the partition table from flash with the application loader's rules
 * (MD5 required unless CONFIG_PARTITION_TABLE_MD5 is "n"), registers its partitions for the
 * esp_partition API and sets the running partition. Replaces a previous installation (and drops
 * its externally registered partitions and OTA handles).
 * Returns ESP_OK; ESP_ERR_INVALID_ARG (missing required field); or the table error
 * (ESP_ERR_NOT_FOUND "No MD5 found in partition table", ESP_ERR_INVALID_STATE for a mismatch or
 * a corrupt table) — the device is then installed with no partitions.
 */
esp_err_t esp_dev_install(const esp_dev_config_t *cfg);

/* Forgets the installed device (frees registered partitions and handles). */
void esp_dev_uninstall(void);

/* True once a device is installed. */
bool esp_dev_installed(void);

/* The installed device's flash (NULL when none is installed). */
const ota_flash_t *esp_internal_flash(void);

/* The crypto hooks of the installed device (never NULL once installed). */
const ota_crypto_t *esp_internal_crypto(void);

/* The installed configuration (never NULL once installed). */
const esp_dev_config_t *esp_internal_config(void);

/* A core log sink that prints through esp_log with the core's tags. */
const ota_log_t *esp_internal_log(void);

/*
 * Formats one log line as ESP-IDF prints it, "L (ms) tag: msg" with the virtual clock's
 * milliseconds, in colour when colors is set; no newline. Returns snprintf's length.
 */
int esp_log_format(char *buf, size_t cap, esp_log_level_t level, const char *tag, const char *msg,
                   bool colors);

/*
 * Blocks the calling task (the app runtime's main task after app_main) until every task made
 * with xTaskCreate has ended and no timer is armed; meanwhile the others run in virtual time.
 */
void esp_tasks_wait_all(void);

/*
 * Sets what happens when every task waits with no timeout while some task made with
 * xTaskCreate is alive (nothing can ever run again): fn, which must not return. NULL (the
 * default) prints an error and aborts.
 */
void esp_tasks_on_idle(void (*fn)(void));

/* Maps a native error code to the closest esp_err_t (see docs/DESIGN.md for the table). */
esp_err_t esp_err_from_ota(int err);
/*
 * Test hook: makes the nvs layer keep its store in [offset, offset+size) of f (caller-owned, must
 * outlive its use) instead of the installed device's data/nvs partition labelled "nvs". f NULL
 * restores the partition lookup. Takes effect at the next nvs_flash_init or nvs_flash_erase.
 */
void nvs_internal_use_region(const ota_flash_t *f, uint32_t offset, uint32_t size);

/* ---- PSRAM (esp_psram.c) ----------------------------------------------------------------- */

/* cpu_start's PSRAM step for an app built with CONFIG_SPIRAM_BOOT_INIT: esp_psram_init(), the
 * memory test; a board without the chip aborts (ESP-IDF's lines) unless
 * CONFIG_SPIRAM_IGNORE_NOTFOUND. Nothing without CONFIG_SPIRAM. */
void esp_psram_startup(void);

/* The start-up step that adds the PSRAM to the heap (CONFIG_SPIRAM_USE_CAPS_ALLOC / _MALLOC). */
void esp_psram_startup_heap(void);

/* The start-up line of CONFIG_SPIRAM_MALLOC_RESERVE_INTERNAL's internal pool. */
void esp_psram_startup_reserve(void);

/* Unmaps the PSRAM and forgets its state (esp_dev_uninstall). */
void esp_psram_drop(void);

/* The MALLOC_CAP_SPIRAM heap: whether p points into it; a block of n bytes or NULL; free (aborts
 * on a pointer it did not hand out); a block's usable size (0: not a block). */
bool esp_psram_heap_owns(const void *p);
void *esp_psram_heap_alloc(size_t n);
void esp_psram_heap_free(void *p);
size_t esp_psram_heap_block_size(const void *p);

typedef struct esp_psram_heap_sizes {
    size_t total, free, min_free, largest; /* all 0 while the PSRAM is not in the heap */
} esp_psram_heap_sizes_t;
void esp_psram_heap_sizes(esp_psram_heap_sizes_t *out);

#endif /* ESP_INTERNAL_H */
