/*
 * eFuse services the core needs (anti-rollback counter, recovery bootloader offset, flash
 * encryption, Secure Boot V2).
 *
 * eFuse bits can only be burnt (0 -> 1), never cleared. The host port keeps them in the flash
 * image's efuse partition or in a sidecar file (see ota_efuse_file.h); a real port reads the chip.
 */
#ifndef OTA_EFUSE_H
#define OTA_EFUSE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ESP32's flash-encryption eFuses. */
typedef struct ota_efuse_flash_crypt {
    uint8_t cnt;     /* FLASH_CRYPT_CNT (7 bits): encryption is on while an odd number is set */
    uint8_t config;  /* FLASH_CRYPT_CONFIG (4 bits): which quarters of the key are tweaked */
    uint8_t key[32]; /* BLOCK1, as espsecure's key file holds it */
} ota_efuse_flash_crypt_t;

/* True when FLASH_CRYPT_CNT has an odd number of bits set (esp_flash_encryption_enabled). */
static inline bool ota_efuse_flash_crypt_on(const ota_efuse_flash_crypt_t *fc)
{
    return (__builtin_popcount(fc->cnt & 0x7Fu) & 1) != 0;
}

/* The ESP32's Secure Boot V2 fields. */
#define OTA_EFUSE_ABS_DONE_1 0x01u        /* Secure Boot V2 enabled */
#define OTA_EFUSE_UART_DOWNLOAD_DIS 0x02u /* ROM download mode disabled */
typedef struct ota_efuse_secure_boot {
    bool enabled;           /* ABS_DONE_1 */
    bool download_disabled; /* UART_DOWNLOAD_DIS */
    bool digest_burnt;      /* BLK2 holds a digest (not all zero) */
    uint8_t digest[32];     /* BLK2: SHA-256 of the trusted public key */
} ota_efuse_secure_boot_t;

typedef struct ota_efuse {
    void *ctx;
    /* Number of bits set in the secure-version field (the anti-rollback counter). */
    int (*read_secure_version)(void *ctx, uint32_t *out);
    /* Sets the lowest `version` bits of the field (never clears any). */
    int (*write_secure_version)(void *ctx, uint32_t version);
    /* Flash offset of the recovery bootloader, or 0 when the field is not burnt. */
    int (*read_recovery_offset)(void *ctx, uint32_t *out);
    /* Burns the recovery bootloader offset (a sector multiple). */
    int (*write_recovery_offset)(void *ctx, uint32_t offset);
    /* The flash-encryption fields; NULL when the eFuses have none (encryption is then off). */
    int (*read_flash_crypt)(void *ctx, ota_efuse_flash_crypt_t *out);
    /* The Secure Boot V2 fields; NULL when the eFuses have none (secure boot is then off). */
    int (*read_secure_boot)(void *ctx, ota_efuse_secure_boot_t *out);
    /* Burns digest into an empty BLK2 (NULL: none; another digest already there: OTA_ERR_STATE),
     * then the OTA_EFUSE_* bits of flags. */
    int (*burn_secure_boot)(void *ctx, const uint8_t *digest, uint8_t flags);
} ota_efuse_t;

#ifdef __cplusplus
}
#endif

#endif /* OTA_EFUSE_H */
