/*
 * A flash device over a caller-owned RAM buffer: NOR semantics (program ANDs, erase sets
 * erase_value), no counters, no faults. Used to run the core on files loaded in memory (image
 * info, table checks) and in unit tests. The emulated NOR flash of the host port (ota_nor.h) is
 * the full model.
 */
#ifndef OTA_MEMFLASH_H
#define OTA_MEMFLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ota_memflash {
    uint8_t *buf;
    uint32_t size;
    bool readonly; /* program and erase fail with OTA_ERR_READONLY */
} ota_memflash_t;

/*
 * Fills *f to access buf[0..size) through m (both caller-owned, must outlive f). Geometry is SPI
 * NOR's (4 KiB sectors, 64 KiB blocks, 256 B pages, erased 0xFF); size need not be a multiple of
 * the sector size (a partial last sector can be read and programmed, not erased).
 */
void ota_memflash_init(ota_flash_t *f, ota_memflash_t *m, uint8_t *buf, uint32_t size,
                       bool readonly);

#ifdef __cplusplus
}
#endif

#endif /* OTA_MEMFLASH_H */
