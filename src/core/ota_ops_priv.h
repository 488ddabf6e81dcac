/*
 * Internals shared by the native OTA operations (ota_ops_*.c); not installed.
 */
#ifndef OTA_OPS_PRIV_H
#define OTA_OPS_PRIV_H

#include "ota/ota_ops.h"

#define OTA_OPS_TAG "esp_ota_ops"

/* The number a log line shows for err (dev->log_err, or the native code). */
int ota_ops_log_code(const ota_ops_dev_t *dev, int err);

/*
 * read_otadata of esp_ota_ops.c: finds the otadata partition and decodes both entries (entry 1
 * at +0x1000). Returns the partition, or NULL after logging "not found otadata" (none) or "mmap
 * otadata filed. Err=0x%8x" (unreadable, or smaller than two entries' reach).
 */
const ota_part_t *ota_ops_otadata(const ota_ops_dev_t *dev, ota_otadata_entry_t e[2]);

/*
 * rewrite_ota_seq: sets e[sector]'s seq and crc, erases that sector of od and programs the
 * 32-byte entry. Returns OTA_OK or the erase/write error.
 */
int ota_ops_otadata_rewrite(const ota_ops_dev_t *dev, const ota_part_t *od,
                            ota_otadata_entry_t e[2], int sector, uint32_t seq);

/*
 * esp_image_verify over [p->offset, +p->size) with the device's chip, revisions and MMU page
 * size; esp_image lines go to the device log unless silent. bootloader: verify as a
 * second-stage bootloader. Returns ota_img_verify's result.
 */
int ota_ops_verify_image(const ota_ops_dev_t *dev, const ota_part_t *p, bool bootloader,
                         bool silent);

#endif /* OTA_OPS_PRIV_H */
