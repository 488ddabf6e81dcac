/* ESP-IDF eFuse calls used by OTA (anti-rollback secure version, chip and block revisions). */
#ifndef ESP_EFUSE_H
#define ESP_EFUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Secure version counter: number of bits set in the eFuse field. */
uint32_t esp_efuse_read_secure_version(void);
/* True if secure_version >= the eFuse counter. */
bool esp_efuse_check_secure_version(uint32_t secure_version);
/* Raises the counter to secure_version (burns bits; never lowers it). */
esp_err_t esp_efuse_update_secure_version(uint32_t secure_version);

/* Flash offset of the recovery bootloader burnt in eFuse, 0 when none (chips with a recovery
 * bootloader: the ROM falls back to it when the primary bootloader is bad). */
uint32_t esp_efuse_get_recovery_bootloader_offset(void);

/* Burns the recovery bootloader offset (a multiple of 4 KiB). ESP_OK when it is already that
 * value; ESP_ERR_INVALID_STATE when another offset is burnt; ESP_ERR_INVALID_ARG otherwise bad;
 * ESP_ERR_NOT_SUPPORTED without eFuses. */
esp_err_t esp_efuse_set_recovery_bootloader_offset(const uint32_t recovery_offset);

#ifdef __cplusplus
}
#endif

#endif /* ESP_EFUSE_H */
