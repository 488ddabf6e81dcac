/*
 * NVS encryption (ESP-IDF's nvs_flash with CONFIG_NVS_ENCRYPTION), for the portable core.
 *
 * An encrypted NVS partition keeps its page headers and entry state bitmaps in plaintext; every
 * 32-byte entry is AES-256-XTS ciphertext (the 64-byte key of the nvs_keys partition: data key,
 * then tweak key), its tweak the entry's address relative to the partition as a little-endian
 * 16-byte number. ota_nvs_enc_t is an ota_flash_t view over the chip for one such partition:
 * entry reads decrypt, entry programs encrypt (whole entries only), the rest passes through. A
 * 32-byte unit that is erased on the chip (all 0xFF) reads as erased, as ESP-IDF checks it raw.
 *
 * The nvs_keys partition: the two 32-byte keys, then the CRC-32 of those 64 bytes (ESP-IDF's
 * crc32_le with seed 0xFFFFFFFF), written through flash encryption.
 */
#ifndef OTA_NVS_ENC_H
#define OTA_NVS_ENC_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_crypto.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_NVS_ENC_KEY_LEN 64     /* data key, then tweak key */
#define OTA_NVS_ENC_KEYS_REC 68u   /* the record in the nvs_keys partition: keys and CRC-32 */
#define OTA_NVS_ENC_UNIT 32u       /* one entry */
#define OTA_NVS_ENC_PLAIN_HEAD 64u /* page header and state bitmap of every 4 KiB page */

typedef struct ota_nvs_enc {
    ota_flash_view_t view;      /* first: view.flash over view.below, the chip */
    const ota_crypto_t *crypto; /* needs aes256_xts */
    uint8_t key[OTA_NVS_ENC_KEY_LEN];
    uint32_t base; /* the partition's offset and size */
    uint32_t size;
} ota_nvs_enc_t;

/* Sets up *e for the partition [base, base+size) of raw. Returns OTA_OK, OTA_ERR_INVALID_ARG
 * (NULL argument) or OTA_ERR_UNSUPPORTED (no aes256_xts hook). */
int ota_nvs_enc_init(ota_nvs_enc_t *e, const ota_flash_t *raw, const ota_crypto_t *c,
                     const uint8_t key[OTA_NVS_ENC_KEY_LEN], uint32_t base, uint32_t size);

/*
 * Decrypts, in place, the entries of an encrypted NVS partition image buf[0..len) (erased units
 * stay erased), as nvs_partition_gen.py's decrypt does. Returns OTA_OK, OTA_ERR_UNSUPPORTED (no
 * aes256_xts hook) or OTA_ERR_FAIL (the cipher failed).
 */
int ota_nvs_enc_decrypt_image(const ota_crypto_t *c, const uint8_t key[OTA_NVS_ENC_KEY_LEN],
                              uint8_t *buf, uint32_t len);

/* Encodes the nvs_keys record (keys, then their CRC-32 LE) into rec. */
void ota_nvs_enc_keys_encode(const uint8_t key[OTA_NVS_ENC_KEY_LEN],
                             uint8_t rec[OTA_NVS_ENC_KEYS_REC]);

/* True when rec holds keys whose CRC-32 checks out. */
bool ota_nvs_enc_keys_ok(const uint8_t rec[OTA_NVS_ENC_KEYS_REC]);

#ifdef __cplusplus
}
#endif

#endif /* OTA_NVS_ENC_H */
