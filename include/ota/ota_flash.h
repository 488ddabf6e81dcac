/*
 * Flash access for the portable core.
 *
 * The core reaches flash only through an ota_flash_t: geometry as data plus three callbacks and a
 * context pointer. A port fills one in (the host port's emulated NOR flash does, see
 * ota_nor.h); the core never touches the device in any other way.
 *
 * Semantics expected from the callbacks (NOR flash):
 *   - read:    any address and length inside the device.
 *   - program: may only clear bits (new = old AND data); any address and length inside the
 *              device. The port splits it into page programs as the chip requires.
 *   - erase:   sets a whole erase unit to erase_value. addr is aligned to len and len is either
 *              sector_size or block_size (block_size only when it is non-zero).
 * Each callback returns OTA_OK or a negative ota_err_t (OTA_ERR_POWER_LOSS when the emulated
 * power is gone, OTA_ERR_IO for a device failure).
 */
#ifndef OTA_FLASH_H
#define OTA_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_FLASH_SECTOR_SIZE 0x1000u /* 4 KiB erase sector */
#define OTA_FLASH_BLOCK_SIZE 0x10000u /* 64 KiB erase block */
#define OTA_FLASH_PAGE_SIZE 0x100u    /* 256 B program page */

typedef struct ota_flash {
    void *ctx;            /* passed unchanged to every callback */
    uint32_t size;        /* device size in bytes */
    uint32_t sector_size; /* smallest erase unit (4096 on SPI NOR) */
    uint32_t block_size;  /* large erase unit (65536), or 0 if the device has none */
    uint32_t page_size;   /* program page size (256) */
    uint8_t erase_value;  /* value of an erased byte (0xFF) */
    int (*read)(void *ctx, uint32_t addr, void *dst, uint32_t len);
    int (*program)(void *ctx, uint32_t addr, const void *src, uint32_t len);
    int (*erase)(void *ctx, uint32_t addr, uint32_t len);
    /* Optional (NULL: the port has none, and no result of a read is reused). Sets *gen to the
     * device's write generation, which changes with every program, erase or other change of its
     * bytes, torn or failed ones included, by anyone; equal generations mean unchanged bytes.
     * Returns false when nothing read may be reused: reads may fail or return other bytes than
     * the flash holds (a fault model). */
    bool (*generation)(void *ctx, uint64_t *gen);
    /* Optional: counts len bytes as read without reading them (the modeled time of reads whose
     * result the caller reuses from earlier reads of unchanged bytes). */
    void (*skip_read)(void *ctx, uint64_t len);
} ota_flash_t;

/*
 * Reads len bytes at addr into dst (caller's buffer).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG (NULL flash or dst with len > 0), OTA_ERR_BOUNDS (range
 * outside the device), or the callback's error.
 */
int ota_flash_read(const ota_flash_t *f, uint32_t addr, void *dst, uint32_t len);

/*
 * Programs len bytes from src at addr (bits can only be cleared).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_BOUNDS, or the callback's error.
 */
int ota_flash_program(const ota_flash_t *f, uint32_t addr, const void *src, uint32_t len);

/*
 * Erases [addr, addr+len): both must be multiples of sector_size. Uses block erases for every
 * block-aligned whole block inside the range and sector erases elsewhere, in ascending address
 * order. len 0 does nothing.
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_ALIGN, OTA_ERR_BOUNDS, or the callback's error
 * (the range may then be partly erased).
 */
int ota_flash_erase_range(const ota_flash_t *f, uint32_t addr, uint32_t len);

/*
 * Returns 1 if [addr, addr+len) reads as erase_value everywhere, 0 if not, or a negative error
 * from the read.
 */
int ota_flash_is_erased(const ota_flash_t *f, uint32_t addr, uint32_t len);

/*
 * A flash seen through a layer that changes what is read and programmed (a cipher): flash is the
 * view to hand on, below the flash under it. A layer's own struct begins with its
 * ota_flash_view_t, so the view's ctx points at both.
 */
typedef struct ota_flash_view {
    ota_flash_t flash;
    const ota_flash_t *below;
} ota_flash_view_t;

/* Makes v->flash a view of below: below's geometry, the layer's read and program (called with
 * ctx = v); erase, the write generation and read counting go to below unchanged. */
void ota_flash_view_init(ota_flash_view_t *v, const ota_flash_t *below,
                         int (*read)(void *ctx, uint32_t addr, void *dst, uint32_t len),
                         int (*program)(void *ctx, uint32_t addr, const void *src, uint32_t len));

#ifdef __cplusplus
}
#endif

#endif /* OTA_FLASH_H */
