/*
 * ESP-IDF's bootloader_support calls an app may use (esp_image_format.h, bootloader_common.h,
 * bootloader_flash_priv.h) and the offsets ESP-IDF names with macros, on the installed device.
 */
#include <stdlib.h>
#include <string.h>

#include "bootloader_common.h"
#include "../bootloader_flash/include/bootloader_flash_priv.h"
#include "esp_dev_priv.h"
#include "esp_flash.h"
#include "esp_flash_encrypt.h"
#include "esp_image_format.h"
#include "esp_partition.h"
#include "esp_rom_sys.h"
#include "ota/ota_img.h"
#include "ota/ota_otadata.h"

#define DEFAULT_BOOTLOADER_OFFSET 0x1000u
#define DEFAULT_TABLE_OFFSET 0x8000u

uint32_t otakit_bootloader_offset(void)
{
    esp_dev_lock();
    const esp_dev_state_t *st = esp_dev_state();
    uint32_t off = st->installed ? st->cfg.chip->bootloader_offset : DEFAULT_BOOTLOADER_OFFSET;
    esp_dev_unlock();
    return off;
}

/* esp_rom_get_bootloader_offset: the ROM's choice of this boot, the primary offset by default. */
uint32_t esp_rom_get_bootloader_offset(void)
{
    esp_dev_lock();
    const esp_dev_state_t *st = esp_dev_state();
    uint32_t off = st->installed ? st->cfg.rom_bootloader_offset : 0;
    esp_dev_unlock();
    return off != 0 ? off : otakit_bootloader_offset();
}

uint32_t otakit_partition_table_offset(void)
{
    esp_dev_lock();
    const esp_dev_state_t *st = esp_dev_state();
    uint32_t off = st->installed ? st->cfg.table_offset : DEFAULT_TABLE_OFFSET;
    esp_dev_unlock();
    return off;
}

/* ---- esp_image_format.h ------------------------------------------------------------------ */

static void meta_out(const ota_img_meta_t *m, esp_image_metadata_t *out)
{
    memset(out, 0, sizeof(*out));
    out->start_addr = m->start_addr;
    const ota_img_header_t *h = &m->header;
    out->image = (esp_image_header_t){
        .magic = h->magic,
        .segment_count = h->segment_count,
        .spi_mode = h->spi_mode,
        .spi_speed = h->spi_speed & 0xF,
        .spi_size = h->spi_size & 0xF,
        .entry_addr = h->entry_addr,
        .wp_pin = h->wp_pin,
        .chip_id = (esp_chip_id_t)h->chip_id,
        .min_chip_rev = h->min_chip_rev,
        .min_chip_rev_full = h->min_chip_rev_full,
        .max_chip_rev_full = h->max_chip_rev_full,
        .hash_appended = h->hash_appended,
    };
    memcpy(out->image.spi_pin_drv, h->spi_pin_drv, sizeof(h->spi_pin_drv));
    for (int i = 0; i < ESP_IMAGE_MAX_SEGMENTS && i < h->segment_count; i++) {
        out->segments[i].load_addr = m->segs[i].load_addr;
        out->segments[i].data_len = m->segs[i].data_len;
        out->segment_data[i] = m->seg_data[i];
    }
    out->image_len = m->image_len;
    memcpy(out->image_digest, m->image_digest, sizeof(out->image_digest));
}

static esp_err_t image_err(int err)
{
    return err == OTA_OK                ? ESP_OK
           : err == OTA_ERR_INVALID_ARG ? ESP_ERR_INVALID_ARG
           : err == OTA_ERR_CORRUPT     ? ESP_ERR_IMAGE_INVALID
                                        : ESP_ERR_IMAGE_FLASH_FAIL;
}

/* Verifies the image at [offset, offset + size) as an app or a bootloader. Lock held. */
static int verify_at(uint32_t offset, uint32_t size, bool bootloader, bool silent,
                     ota_img_meta_t *meta)
{
    const ota_ops_dev_t *dev = esp_dev_ops();
    if (dev->flash == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_img_verify_opts_t opts = {
        .chip = dev->chip,
        .chip_rev = dev->chip_rev,
        .efuse_blk_rev = dev->efuse_blk_rev,
        .bootloader = bootloader,
        .mmu_page_size = dev->mmu_page_size,
        .hash = OTA_IMG_HASH_AUTO,
        .silent = silent,
    };
    ota_sig_trust_t trust;
    ota_ops_sig_opts(dev, &trust, &opts);
    return ota_img_verify(dev->flash, dev->crypto, offset, size, &opts, meta, NULL);
}

esp_err_t esp_image_verify(esp_image_load_mode_t mode, const esp_partition_pos_t *part,
                           esp_image_metadata_t *data)
{
    if (part == NULL || data == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_img_meta_t meta;
    esp_dev_lock();
    int err = verify_at(part->offset, part->size, false, mode == ESP_IMAGE_VERIFY_SILENT, &meta);
    esp_dev_unlock();
    if (err == OTA_OK) {
        meta_out(&meta, data);
    } else {
        memset(data, 0, sizeof(*data));
    }
    return image_err(err);
}

esp_err_t esp_image_get_metadata(const esp_partition_pos_t *part, esp_image_metadata_t *metadata)
{
    if (part == NULL || metadata == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    ota_img_meta_t meta;
    esp_dev_lock();
    const ota_flash_t *f = esp_dev_ops()->flash;
    int err = f != NULL ? ota_img_get_metadata(f, part->offset, &meta, NULL) : OTA_ERR_INVALID_ARG;
    esp_dev_unlock();
    if (err == OTA_OK) {
        meta_out(&meta, metadata);
    }
    return image_err(err);
}

esp_err_t esp_image_verify_bootloader(uint32_t *length)
{
    uint32_t off = otakit_bootloader_offset();
    ota_img_meta_t meta;
    esp_dev_lock();
    int err = verify_at(off, otakit_partition_table_offset() - off, true, false, &meta);
    esp_dev_unlock();
    if (length != NULL) {
        *length = err == OTA_OK ? meta.image_len : 0;
    }
    return image_err(err);
}

int esp_image_get_flash_size(esp_image_flash_size_t app_flash_size)
{
    if (app_flash_size >= ESP_IMAGE_FLASH_SIZE_MAX) {
        return 0;
    }
    return (1024 * 1024) << app_flash_size;
}

/* ---- bootloader_common.h ----------------------------------------------------------------- */

uint32_t bootloader_common_ota_select_crc(const esp_ota_select_entry_t *s)
{
    return ota_otadata_seq_crc(s->ota_seq);
}

bool bootloader_common_ota_select_valid(const esp_ota_select_entry_t *s)
{
    return s->ota_seq != UINT32_MAX && s->crc == bootloader_common_ota_select_crc(s);
}

bool bootloader_common_ota_select_invalid(const esp_ota_select_entry_t *s)
{
    return bootloader_common_ota_select_valid(s) &&
           (s->ota_state == ESP_OTA_IMG_INVALID || s->ota_state == ESP_OTA_IMG_ABORTED);
}

esp_err_t bootloader_common_get_sha256_of_partition(uint32_t address, uint32_t size, int type,
                                                    uint8_t *out_sha_256)
{
    if (out_sha_256 == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_partition_t p = {
        .flash_chip = esp_flash_default_chip,
        .type = (esp_partition_type_t)type,
        .address = address,
        .size = size,
    };
    return esp_partition_get_sha256(&p, out_sha_256);
}

esp_err_t bootloader_common_get_partition_description(const esp_partition_pos_t *partition,
                                                      esp_app_desc_t *app_desc)
{
    if (partition == NULL || app_desc == NULL || partition->size == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    uint8_t raw[OTA_APP_DESC_LEN];
    if (bootloader_flash_read(partition->offset + OTA_APP_DESC_OFFSET, raw, sizeof(raw), true) !=
        ESP_OK) {
        return ESP_FAIL;
    }
    esp_dev_app_desc_from_raw(raw, app_desc);
    return app_desc->magic_word == ESP_APP_DESC_MAGIC_WORD ? ESP_OK : ESP_ERR_NOT_FOUND;
}

/* ---- bootloader_flash_priv.h ------------------------------------------------------------- */

static esp_err_t flash_err(esp_err_t err)
{
    return err == ESP_OK || err == ESP_ERR_INVALID_ARG ? err : ESP_FAIL;
}

uint32_t bootloader_mmap_get_free_pages(void)
{
    return 64;
}

const void *bootloader_mmap(uint32_t src_addr, uint32_t size)
{
    void *copy = malloc(size > 0 ? size : 1);
    if (copy != NULL && esp_flash_read(NULL, copy, src_addr, size) != ESP_OK) {
        free(copy);
        copy = NULL;
    }
    return copy;
}

void bootloader_munmap(const void *mapping)
{
    free((void *)mapping);
}

esp_err_t bootloader_flash_read(size_t src_addr, void *dest, size_t size, bool allow_decrypt)
{
    if (src_addr > UINT32_MAX || size > UINT32_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    if (allow_decrypt && esp_flash_encryption_enabled()) {
        return flash_err(esp_flash_read_encrypted(NULL, (uint32_t)src_addr, dest, (uint32_t)size));
    }
    return flash_err(esp_flash_read(NULL, dest, (uint32_t)src_addr, (uint32_t)size));
}

esp_err_t bootloader_flash_write(size_t dest_addr, void *src, size_t size, bool write_encrypted)
{
    if (dest_addr > UINT32_MAX || size > UINT32_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    if (write_encrypted && esp_flash_encryption_enabled()) {
        return flash_err(
            esp_flash_write_encrypted(NULL, (uint32_t)dest_addr, src, (uint32_t)size));
    }
    return flash_err(esp_flash_write(NULL, src, (uint32_t)dest_addr, (uint32_t)size));
}

esp_err_t bootloader_flash_erase_sector(size_t sector)
{
    return bootloader_flash_erase_range((uint32_t)(sector * FLASH_SECTOR_SIZE), FLASH_SECTOR_SIZE);
}

esp_err_t bootloader_flash_erase_range(uint32_t start_addr, uint32_t size)
{
    return flash_err(esp_flash_erase_region(NULL, start_addr, size));
}
