/*
 * Emulated eFuses of the simulated board (host port), behind the core's ota_efuse_t.
 *
 * Like ESP-IDF's "virtual eFuses kept in flash", the eFuse block lives in the flash image's
 * efuse data partition (type data, subtype efuse) when the table has one; otherwise in a sidecar
 * file next to the flash image, "<flash image>.efuse". Either way the layout is:
 *
 *   offset  size  field (each 32-bit little-endian word stored inverted: erased 0xFF = unburnt)
 *        0     4  SECURE_VERSION: anti-rollback counter, one bit per version (popcount)
 *        4     4  RECOVERY_BOOTLOADER_FLASH_SECTOR: recovery bootloader offset / 4096
 *        8     6  MAC_FACTORY: the factory MAC, bytes in order, each stored inverted
 *       14     1  FLASH_CRYPT_CNT (7 bits), stored inverted
 *       15     1  FLASH_CRYPT_CONFIG (4 bits), stored inverted
 *       16     1  security flags, stored inverted: bit 0 ABS_DONE_1 (Secure Boot V2 on),
 *                 bit 1 UART_DOWNLOAD_DIS (ROM download mode disabled)
 *       17    15  reserved (0xFF)
 *       32    32  BLOCK1: the flash encryption key, bytes as espsecure's key file holds them,
 *                 each stored inverted
 *       64    32  BLOCK2: the Secure Boot V2 public key digest (SHA-256), stored inverted
 *
 * Burning a bit is programming a flash bit from 1 to 0, so bits can be set but never cleared, as
 * with real eFuses, and a burn in the efuse partition is a flash operation like any other (it
 * counts for power cuts). The sidecar file is plain file I/O: it is not part of the flash.
 */
#ifndef OTA_EFUSE_STORE_H
#define OTA_EFUSE_STORE_H

#include <stdint.h>

#include "ota/ota_efuse.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_EFUSE_BLOCK_LEN 96u
#define OTA_EFUSE_SIDECAR_LEN 4096u

typedef struct ota_efuse_store {
    ota_efuse_t ops;          /* the hooks to hand to the core; ctx points at this store */
    const ota_flash_t *flash; /* partition mode */
    uint32_t offset;
    char path[4096];     /* sidecar mode (empty in partition mode) */
    uint32_t field_bits; /* width of SECURE_VERSION on this chip (1..32) */
} ota_efuse_store_t;

/*
 * eFuses in the efuse partition at offset of flash f. field_bits is the chip's secure-version
 * width. Fills *s (caller-owned, must outlive its use). Returns OTA_OK or OTA_ERR_INVALID_ARG.
 */
int ota_efuse_store_flash(ota_efuse_store_t *s, const ota_flash_t *f, uint32_t offset,
                          uint32_t field_bits);

/*
 * eFuses in the sidecar file at path (created, all 0xFF, on the first burn; a missing file reads
 * as all unburnt). Returns OTA_OK or OTA_ERR_INVALID_ARG (NULL or too long path, bad width).
 */
int ota_efuse_store_file(ota_efuse_store_t *s, const char *path, uint32_t field_bits);

/* The factory MAC a board reports while MAC_FACTORY is unburnt: Espressif's OUI 24:0a:c4 and a
 * fixed device part, so every run of a board sees the same address. */
#define OTA_EFUSE_DEFAULT_MAC                                                                      \
    {                                                                                              \
        0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01                                                         \
    }

/* Copies the factory MAC (the MAC_FACTORY field, or OTA_EFUSE_DEFAULT_MAC while it is unburnt)
 * into mac. Returns OTA_OK or an I/O error. */
int ota_efuse_store_read_mac(const ota_efuse_store_t *s, uint8_t mac[6]);

/*
 * Burns flash encryption on as a prepared chip has it (espefuse burn_key flash_encryption, then
 * FLASH_CRYPT_CONFIG and one bit of FLASH_CRYPT_CNT): development mode. Fails with OTA_ERR_STATE
 * when a different key is already burnt; burning the same key again only sets what is missing.
 * Returns OTA_OK, OTA_ERR_STATE or an I/O error.
 */
int ota_efuse_store_enable_flash_crypt(ota_efuse_store_t *s, const uint8_t key[32],
                                       uint8_t config);

/* Reads the raw block (inverted words as stored). Returns OTA_OK or an I/O error. */
int ota_efuse_store_read_block(const ota_efuse_store_t *s, uint8_t block[OTA_EFUSE_BLOCK_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* OTA_EFUSE_STORE_H */
