/*
 * State shared by the files of the ESP-IDF layer that sit on the native OTA core
 * (esp_dev.c, esp_partition.c, esp_ota_ops.c, esp_flash.c, esp_app_desc.c, esp_efuse.c).
 * Not installed.
 *
 * The layer keeps one installed device: a copy of its configuration and partition table, one
 * esp_partition_t record per table entry and per externally registered partition, and the
 * ota_ops_dev_t handed to the core. Everything is guarded by one recursive mutex; a function of
 * the layer takes it for its whole call (esp_dev_lock / esp_dev_unlock), so one OTA task and the
 * main task may call the API concurrently.
 */
#ifndef ESP_DEV_PRIV_H
#define ESP_DEV_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_bootloader_desc.h"
#include "esp_internal.h"
#include "ota/ota_flash_enc.h"
#include "esp_partition.h"
#include "ota/ota_ops.h"

/* One partition as the esp_partition API hands it out. */
typedef struct esp_prec {
    esp_partition_t info; /* first member: the pointer given to callers */
    ota_part_t part;      /* the native view the core works on */
    bool user;            /* registered with esp_partition_register_external */
    struct esp_prec *next;
} esp_prec_t;

typedef struct esp_dev_state {
    bool installed;
    esp_dev_config_t cfg;
    ota_part_table_t table;
    esp_prec_t *recs;            /* table.count records, table order */
    esp_prec_t *ext;             /* external records, registration order */
    const ota_part_t **ext_ptrs; /* the core's view of ext */
    size_t n_ext;
    ota_ops_dev_t dev;   /* zero-filled while nothing is installed */
    ota_ops_memo_t memo; /* dev.memo: the last image check */
    const esp_partition_t *running;
    bool app_desc_loaded;
    esp_app_desc_t app_desc;
    bool enc_on;         /* flash encryption is enabled in the eFuses */
    ota_flash_enc_t enc; /* then: the cache's view of the flash (dev.flash points at it) */
} esp_dev_state_t;

void esp_dev_lock(void);
void esp_dev_unlock(void);

/* The layer's state; use it only between esp_dev_lock and esp_dev_unlock. */
esp_dev_state_t *esp_dev_state(void);

/* The device for the core (zero-filled when nothing is installed); under the lock. */
const ota_ops_dev_t *esp_dev_ops(void);

/* The record of the i-th partition (table, then external), or NULL past the end. */
esp_prec_t *esp_dev_rec_at(size_t i);

/* The esp_partition_t of a partition of the device (a pointer the core returned), or NULL. */
const esp_partition_t *esp_dev_info_of(const ota_part_t *p);

/* The record owning info (a pointer handed out by the layer), or NULL. */
esp_prec_t *esp_dev_rec_of_info(const esp_partition_t *info);

/* Rebuilds the core's list of external partitions after a change. Returns false on OOM. */
bool esp_dev_refresh_extra(void);

/* True for NULL and the main chip, the only chip of the simulated board. */
bool esp_dev_chip_ok(const esp_flash_t *chip);

/*
 * The native description of a caller's esp_partition_t, used as given (for I/O) or looked up
 * (verify). A description that cannot name a partition of the board - another chip, a type or
 * subtype above 0xFF, a label without a NUL in its 17 bytes - or whose `encrypted` differs from
 * what the device's flash encryption makes of its address gets the encrypted flag, so that a
 * lookup finds nothing.
 */
void esp_dev_part_from(const esp_partition_t *in, ota_part_t *out);

/* esp_app_desc_t / esp_bootloader_desc_t from their raw little-endian bytes. */
void esp_dev_app_desc_from_raw(const uint8_t raw[256], esp_app_desc_t *d);
void esp_dev_boot_desc_from_raw(const uint8_t raw[80], esp_bootloader_desc_t *d);

/* Frees every OTA handle (esp_ota_ops.c); under the lock. */
void esp_ota_drop_handles(void);

/* True when an open OTA handle writes to or finalizes into p (esp_ota_ops.c); under the lock. */
bool esp_ota_handle_uses(const ota_part_t *p);

#endif /* ESP_DEV_PRIV_H */
