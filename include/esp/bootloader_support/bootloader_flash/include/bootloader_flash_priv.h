/*
 * ESP-IDF's bootloader flash access (bootloader_flash_priv.h, v5.5), which test apps reach as
 * "../bootloader_flash/include/bootloader_flash_priv.h". Addresses are absolute flash offsets of
 * the installed device; a mapping is a copy (no MMU on the host).
 */
#ifndef BOOTLOADER_FLASH_PRIV_H
#define BOOTLOADER_FLASH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp_err.h"
#include "esp_rom_spiflash.h"
#include "spi_flash_mmap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLASH_SECTOR_SIZE 0x1000
#define FLASH_BLOCK_SIZE 0x10000
#define MMAP_ALIGNED_MASK 0x0000FFFF

/* Number of free mapping pages (the host has no limit: always 64). */
uint32_t bootloader_mmap_get_free_pages(void);

/* A copy of [src_addr, src_addr + size), or NULL when it cannot be read or allocated. Release it
 * with bootloader_munmap. */
const void *bootloader_mmap(uint32_t src_addr, uint32_t size);

/* Releases a mapping from bootloader_mmap (NULL is ignored). */
void bootloader_munmap(const void *mapping);

/* Reads size bytes at src_addr into dest (decrypted with allow_decrypt when flash encryption is
 * on; written encrypted with write_encrypted, below). ESP_OK,
 * ESP_ERR_INVALID_ARG for a range beyond the chip, ESP_FAIL when the flash fails. */
esp_err_t bootloader_flash_read(size_t src_addr, void *dest, size_t size, bool allow_decrypt);

/* Programs size bytes at dest_addr (NOR semantics: bits only go from 1 to 0). Return values as
 * bootloader_flash_read. */
esp_err_t bootloader_flash_write(size_t dest_addr, void *src, size_t size, bool write_encrypted);

/* Erases 4 KiB sector number sector. */
esp_err_t bootloader_flash_erase_sector(size_t sector);

/* Erases [start_addr, start_addr + size), both multiples of 4 KiB. */
esp_err_t bootloader_flash_erase_range(uint32_t start_addr, uint32_t size);

#ifdef __cplusplus
}
#endif

#endif /* BOOTLOADER_FLASH_PRIV_H */
