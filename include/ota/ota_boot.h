/*
 * Boot chain: the ROM step and the second-stage bootloader's partition selection, rollback,
 * anti-rollback, GPIO options and fallback order (spec section 5, ESP-IDF v5.5).
 *
 * Everything here is a deterministic function of the flash contents, the configuration and the
 * inputs; the only side effects are the flash writes the real bootloader makes (otadata state
 * changes, set_actual_ota_seq, factory-reset erases) and eFuse burns (anti-rollback), all through
 * the hooks in ota_boot_env_t. Log lines go to the env's sink with ESP-IDF's tags and words.
 */
#ifndef OTA_BOOT_H
#define OTA_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_efuse.h"
#include "ota/ota_flash.h"
#include "ota/ota_img.h"
#include "ota/ota_log.h"
#include "ota/ota_part.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Boot indices (bootloader_config.h). */
#define OTA_BOOT_FACTORY_INDEX (-1)
#define OTA_BOOT_TEST_APP_INDEX (-2)
#define OTA_BOOT_INVALID_INDEX (-99)

/* Result of a long-hold GPIO check (esp_comm_gpio_hold_t). */
typedef enum {
    OTA_GPIO_NOT_HOLD = 0,   /* not at the active level at start */
    OTA_GPIO_SHORT_HOLD = 1, /* released before the hold time */
    OTA_GPIO_LONG_HOLD = 2,  /* held for the whole hold time */
} ota_gpio_hold_t;

/* The bootloader's build configuration (its sdkconfig). Zero-filled = ESP-IDF's defaults except
 * table_offset (set it) and the hold time (0 means 5 s). */
typedef struct ota_boot_cfg {
    uint32_t table_offset; /* CONFIG_PARTITION_TABLE_OFFSET */
    /* CONFIG_OTAKIT_PARTITION_TABLE_BACKUP_OFFSET: the backup sector of otakit's power-safe
     * table updates (ota_ptable.h); 0 = ESP-IDF's behaviour (one table, MD5 row optional). */
    uint32_t table_backup_offset;
    bool rollback;                  /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    bool anti_rollback;             /* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    uint32_t secure_version_bits;   /* CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD; 0 = chip */
    bool factory_reset;             /* CONFIG_BOOTLOADER_FACTORY_RESET */
    int factory_reset_pin;          /* CONFIG_BOOTLOADER_NUM_PIN_FACTORY_RESET (4) */
    bool factory_reset_high;        /* CONFIG_BOOTLOADER_FACTORY_RESET_PIN_HIGH */
    const char *data_factory_reset; /* CONFIG_BOOTLOADER_DATA_FACTORY_RESET ("nvs") */
    bool ota_data_erase;            /* CONFIG_BOOTLOADER_OTA_DATA_ERASE */
    bool app_test;                  /* CONFIG_BOOTLOADER_APP_TEST */
    int test_pin;                   /* CONFIG_BOOTLOADER_NUM_PIN_APP_TEST (18) */
    bool test_high;                 /* CONFIG_BOOTLOADER_APP_TEST_PIN_HIGH */
    uint32_t hold_time_s;           /* CONFIG_BOOTLOADER_HOLD_TIME_GPIO (5) */
    bool skip_validate_always;      /* CONFIG_BOOTLOADER_SKIP_VALIDATE_ALWAYS */
    bool skip_validate_on_power_on; /* CONFIG_BOOTLOADER_SKIP_VALIDATE_ON_POWER_ON */
    /* CONFIG_SECURE_BOOT_V2_ENABLED: the signing scheme (RSA or ECDSA V2); NONE = off. Once the
     * eFuses have secure boot on, every app is verified against the key digest in eFuse. */
    ota_sig_scheme_t secure_boot_v2;
} ota_boot_cfg_t;

/* The hardware around the bootloader. */
typedef struct ota_boot_env {
    const ota_flash_t *flash;
    const ota_crypto_t *crypto;
    const ota_chip_t *chip;
    uint16_t chip_rev;        /* major * 100 + minor */
    uint16_t efuse_blk_rev;   /* major * 100 + minor */
    const ota_efuse_t *efuse; /* required with anti-rollback or a recovery bootloader */
    const ota_log_t *log;     /* may be NULL */
    /* Long-hold check of a pin at the active level for hold_s seconds (may advance the board's
     * clock). NULL: every pin reads its inactive level. */
    ota_gpio_hold_t (*gpio_hold)(void *ctx, int pin, bool active_high, uint32_t hold_s);
    void *gpio_ctx;
    bool power_on;        /* this boot follows a power-on reset (not a software reset) */
    bool deep_sleep_wake; /* this boot is a wake from deep sleep (skips the GPIO checks) */
} ota_boot_env_t;

typedef enum {
    OTA_BOOT_OK = 0,       /* an app was selected, verified and "loaded" */
    OTA_BOOT_TABLE_ERROR,  /* "load partition table error!": the chip resets */
    OTA_BOOT_SELECT_ERROR, /* INVALID_INDEX from selection (otadata unreadable, test pin...) */
    OTA_BOOT_NO_BOOTABLE,  /* "No bootable app partitions in the partition table" */
    OTA_BOOT_FLASH_ERROR,  /* a flash operation failed (e.g. the power was cut) */
} ota_boot_outcome_t;

typedef struct ota_boot_result {
    ota_boot_outcome_t outcome;
    int err;                /* the flash error with OTA_BOOT_FLASH_ERROR */
    int selected;           /* index chosen by selection (before fallback) */
    int booted;             /* index that booted (OTA_BOOT_OK) */
    ota_part_t part;        /* the partition that booted */
    ota_img_meta_t meta;    /* its image metadata */
    bool factory_reset;     /* the factory-reset condition was detected and handled */
    bool test_app;          /* the test-app condition was detected */
    ota_part_table_t table; /* the verified partition table */
    uint32_t table_used;    /* offset of the table used (the backup's after a fallback) */
} ota_boot_result_t;

/*
 * Runs the second-stage bootloader from "load partition table" to "load the app" (spec 5.1
 * steps 2-5): verifies and logs the partition table, selects the boot index (5.2, or 5.3 with
 * anti-rollback), handles the factory-reset and test-app pins (5.4), then tries partitions in
 * the fallback order (5.5) until one verifies. Writes otadata and burns eFuses exactly where
 * ESP-IDF does. Fills *res (caller-owned) and returns OTA_OK, or OTA_ERR_INVALID_ARG for NULL
 * arguments; the boot's own failure is res->outcome.
 */
int ota_boot_run(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg, ota_boot_result_t *res);

/*
 * The boot-index selection alone (bootloader_utility_get_selected_boot_partition, spec 5.2 and
 * 5.3) for a verified table: may write otadata (PENDING_VERIFY -> ABORTED, NEW ->
 * PENDING_VERIFY) and burn the anti-rollback eFuse. Returns the index (OTA_BOOT_FACTORY_INDEX,
 * 0..15) or OTA_BOOT_INVALID_INDEX; a flash failure gives OTA_BOOT_INVALID_INDEX and *flash_err.
 * *initial (may be NULL) tells whether otadata was found in its initial state (then the index
 * that boots gets its seq written by set_actual_ota_seq).
 */
int ota_boot_select(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                    const ota_part_table_t *table, bool *initial, int *flash_err);

/*
 * The ROM step: checks the second-stage bootloader image at the chip's bootloader offset (magic,
 * chip, segments, checksum; the hash when appended) in a region that ends at table_offset. On
 * chips with a recovery bootloader, falls back to the image at the recovery offset burnt in
 * eFuse when the primary one is bad. Sets *used to the offset of the image that loads and fills
 * meta (may be NULL). Returns OTA_OK, OTA_ERR_CORRUPT (no loadable bootloader: the chip stays in
 * the ROM), the flash error, or OTA_ERR_INVALID_ARG.
 */
/*
 * Secure Boot V2's first boot on the ESP32 (esp_secure_boot_v2_permanently_enable): when the
 * eFuses do not have it on yet, the bootloader at bl_offset (region bytes available) must carry
 * a signature block that verifies with its own key; that key's digest is burnt into BLK2 and
 * ABS_DONE_1 is set, with ESP-IDF's "secure_boot_v2" lines. Returns OTA_OK (enabled, now or
 * before), OTA_ERR_CORRUPT (no valid signature block: ESP-IDF then aborts the boot),
 * OTA_ERR_UNSUPPORTED (env->efuse has no secure boot fields) or an eFuse / flash error.
 */
int ota_boot_secure_boot_v2(const ota_boot_env_t *env, const ota_boot_cfg_t *cfg,
                            uint32_t bl_offset, uint32_t region);

int ota_boot_rom_load(const ota_boot_env_t *env, uint32_t table_offset, uint32_t *used,
                      ota_img_meta_t *meta, ota_diag_t *diag);

/* Label of a boot index for messages: "factory", "test", "ota_N" (static storage). */
const char *ota_boot_index_name(int index);

#ifdef __cplusplus
}
#endif

#endif /* OTA_BOOT_H */
