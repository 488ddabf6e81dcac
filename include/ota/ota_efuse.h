/*
 * eFuse services the core needs (anti-rollback counter, recovery bootloader offset).
 *
 * eFuse bits can only be burnt (0 -> 1), never cleared. The host port keeps them in the flash
 * image's efuse partition or in a sidecar file (see ota_efuse_file.h); a real port reads the chip.
 */
#ifndef OTA_EFUSE_H
#define OTA_EFUSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
} ota_efuse_t;

#ifdef __cplusplus
}
#endif

#endif /* OTA_EFUSE_H */
