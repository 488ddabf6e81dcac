/*
 * Flash encryption of the ESP32 (the hardware's AES-256 scheme), for the portable core.
 *
 * With flash encryption enabled, the flash chip holds ciphertext where ESP-IDF marks a region
 * encrypted: the bootloader, the partition table, every app partition, data/ota, data/nvs_keys,
 * data/tee_ota, and every partition flagged "encrypted". Reads through the cache (the ROM, the
 * bootloader, mmap, esp_partition_read of such a partition) decrypt; esp_flash_read and
 * esp_partition_read_raw do not; encrypted writes encrypt 16-byte blocks.
 *
 * The cipher (as espsecure's encrypt_flash_data / decrypt_flash_data without --aes-xts): every
 * 32-byte block at flash offset A uses the 256-bit key with some of its bits flipped by bits 5..23
 * of A (FLASH_CRYPT_CONFIG chooses which quarters of the key are tweaked); each 16-byte block is
 * byte-reversed, put through AES-256 (encrypting flash is the AES decrypt operation, reading it
 * the encrypt operation) and byte-reversed again. The key is given as espsecure's key file holds
 * it (32 bytes).
 *
 * ota_flash_enc_t is an ota_flash_t view over the raw chip: inside the encrypted regions reads
 * decrypt and programs encrypt (and must be 16-byte aligned), elsewhere they pass through; erases
 * always pass through. No allocation; the caller owns the struct.
 */
#ifndef OTA_FLASH_ENC_H
#define OTA_FLASH_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_crypto.h"
#include "ota/ota_efuse.h"
#include "ota/ota_flash.h"
#include "ota/ota_part.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_FLASH_ENC_KEY_LEN 32
#define OTA_FLASH_ENC_BLOCK 16u           /* encrypted writes are multiples of this */
#define OTA_FLASH_ENC_CONFIG_DEFAULT 0xFu /* FLASH_CRYPT_CONFIG burnt by ESP-IDF: all tweaked */
#define OTA_FLASH_ENC_MAX_RANGES (OTA_PART_MAX_ENTRIES + 2)

typedef struct ota_flash_enc_range {
    uint32_t start;
    uint32_t end; /* exclusive */
} ota_flash_enc_range_t;

typedef struct ota_flash_enc {
    ota_flash_view_t view;      /* first: view.flash over view.below, the chip */
    const ota_crypto_t *crypto; /* needs aes256_ecb */
    uint8_t key[OTA_FLASH_ENC_KEY_LEN];
    uint8_t config;  /* FLASH_CRYPT_CONFIG (4 bits) */
    bool is_virtual; /* virtual eFuses: regions as above, contents plaintext */
    size_t n_ranges;
    ota_flash_enc_range_t ranges[OTA_FLASH_ENC_MAX_RANGES];
} ota_flash_enc_t;

/*
 * Encrypts (decrypt = false) or decrypts len bytes of data in place, as they lie (or will lie) at
 * flash address addr. addr and len must be multiples of 16.
 * Returns OTA_OK, OTA_ERR_ALIGN, OTA_ERR_INVALID_ARG (NULL argument) or OTA_ERR_UNSUPPORTED (the
 * crypto hooks have no aes256_ecb).
 */
int ota_flash_enc_crypt(const ota_crypto_t *c, const uint8_t key[OTA_FLASH_ENC_KEY_LEN],
                        uint8_t config, bool decrypt, uint32_t addr, uint8_t *data, size_t len);

/*
 * Sets up *e as a view over raw with the given key and FLASH_CRYPT_CONFIG and the bootloader
 * region [bootloader_offset, table_offset) and the table sector at table_offset encrypted; then
 * reads the partition table through the view (when it loads) and adds its encrypted partitions.
 * Returns OTA_OK or OTA_ERR_INVALID_ARG (NULL argument). A table that does not load leaves only
 * the bootloader and table regions.
 */
int ota_flash_enc_init(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                       const uint8_t key[OTA_FLASH_ENC_KEY_LEN], uint8_t config,
                       uint32_t bootloader_offset, uint32_t table_offset);

/*
 * The same view for virtual eFuses kept in flash (CONFIG_EFUSE_VIRTUAL_KEEP_IN_FLASH): the chip's
 * own eFuses have flash encryption off, so, as ESP-IDF's bootloader_flash writes plaintext when
 * encryption is only virtual, nothing is ciphered: the regions and the 16-byte alignment of
 * encrypted writes stay, the contents are the plaintext. Returns as ota_flash_enc_init.
 */
int ota_flash_enc_init_virtual(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                               uint32_t bootloader_offset, uint32_t table_offset);

/*
 * Sets up *e as the chip's cache sees the flash under the eFuses fuses: with flash encryption on
 * (FLASH_CRYPT_CNT odd), ota_flash_enc_init with their key, or ota_flash_enc_init_virtual when
 * the eFuses are virtual (kept in flash). Returns false when flash encryption is off or cannot be
 * set up (no AES hook); *e is then not to be used.
 */
bool ota_flash_enc_from_efuse(ota_flash_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                              const ota_efuse_t *fuses, bool efuse_virtual,
                              uint32_t bootloader_offset, uint32_t table_offset);

/* Marks [start, start+len) encrypted. Returns OTA_OK or OTA_ERR_NO_SPACE. */
int ota_flash_enc_add_range(ota_flash_enc_t *e, uint32_t start, uint32_t len);

/* True when p is encrypted once flash encryption is on (ESP-IDF's rule, spec 1.2). */
bool ota_flash_enc_part_encrypted(const ota_part_t *p);

/* True when the byte at addr lies in an encrypted region of e. */
bool ota_flash_enc_covers(const ota_flash_enc_t *e, uint32_t addr);

/*
 * esp_flash_read_encrypted / esp_flash_write_encrypted: decrypting read and encrypting write at
 * any address, whatever the regions say. The write needs addr and len multiples of 16
 * (OTA_ERR_ALIGN). Both return OTA_OK, OTA_ERR_BOUNDS or the chip's error.
 */
int ota_flash_enc_read(const ota_flash_enc_t *e, uint32_t addr, void *dst, uint32_t len);
int ota_flash_enc_write(const ota_flash_enc_t *e, uint32_t addr, const void *src, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* OTA_FLASH_ENC_H */
