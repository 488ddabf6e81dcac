/*
 * A flash device that advances the board's virtual clock by the modeled duration of each
 * operation (host port). It wraps another ota_flash_t (normally the emulated NOR flash) and reads
 * the busy time that device accumulates in its ota_nor_state_t, so an update on the simulated
 * board takes the time it would take on the chip: erases and page programs at the datasheet's
 * typical figures, reads at the bus rate.
 */
#ifndef OTA_TIMED_FLASH_H
#define OTA_TIMED_FLASH_H

#include "ota/ota_flash.h"
#include "ota/ota_nor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ota_timed_flash {
    ota_flash_t flash; /* hand this one to the core */
    const ota_flash_t *inner;
    const ota_nor_state_t *state;
    const ota_nor_profile_t *profile;
} ota_timed_flash_t;

/* Wraps inner; state is the device's counters, profile its timing (NULL = default profile). */
void ota_timed_flash_init(ota_timed_flash_t *t, const ota_flash_t *inner,
                          const ota_nor_state_t *state, const ota_nor_profile_t *profile);

#ifdef __cplusplus
}
#endif

#endif /* OTA_TIMED_FLASH_H */
