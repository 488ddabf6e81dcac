/*
 * ESP-IDF SPI flash calls (esp_flash.h) on the installed device's flash, the one chip of the
 * simulated board. Bounds and alignment are checked as ESP-IDF's esp_flash driver does (any
 * violation is ESP_ERR_INVALID_ARG). The driver's "dangerous write" protection of the
 * bootloader, partition table and running app regions is not modelled (docs/differences.md).
 */
#include "esp_flash.h"

#include "esp_dev_priv.h"

#include "esp_flash_internal.h"

static esp_flash_t g_main_chip;
static bool g_protect = true;

esp_flash_t *esp_flash_default_chip = &g_main_chip;

/* The flash behind chip, or NULL with *ret set. Lock held. */
static const ota_flash_t *chip_flash(const esp_flash_t *chip, esp_err_t *ret)
{
    if (!esp_dev_chip_ok(chip)) {
        *ret = ESP_ERR_INVALID_ARG;
        return NULL;
    }
    const esp_dev_state_t *st = esp_dev_state();
    if (!st->installed) {
        *ret = ESP_ERR_FLASH_NOT_INITIALISED;
        return NULL;
    }
    *ret = ESP_OK;
    return st->cfg.flash;
}

static bool in_chip(const ota_flash_t *f, uint32_t address, uint32_t length)
{
    return address <= f->size && length <= f->size - address;
}

esp_err_t esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size)
{
    if (out_size == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_t *f = chip_flash(chip, &ret);
    if (f != NULL) {
        *out_size = f->size;
    }
    esp_dev_unlock();
    return ret;
}

typedef enum { FLASH_IO_READ, FLASH_IO_WRITE, FLASH_IO_ERASE } flash_io_t;

/*
 * The access calls: under the device lock, checks chip, the range [address, address + length)
 * and the buffer (read into dst, write from src) or the sector alignment (erase), then runs the
 * access on the chip's flash.
 */
static esp_err_t flash_io(esp_flash_t *chip, flash_io_t op, uint32_t address, void *dst,
                          const void *src, uint32_t length)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_t *f = chip_flash(chip, &ret);
    if (f != NULL) {
        bool ok = in_chip(f, address, length);
        if (op == FLASH_IO_ERASE) {
            ok = ok && address % f->sector_size == 0 && length % f->sector_size == 0;
        } else {
            ok = ok && (op == FLASH_IO_READ ? dst != NULL : src != NULL);
        }
        if (!ok) {
            ret = ESP_ERR_INVALID_ARG;
        } else if (op == FLASH_IO_READ) {
            ret = esp_err_from_ota(ota_flash_read(f, address, dst, length));
        } else if (op == FLASH_IO_WRITE) {
            ret = esp_err_from_ota(ota_flash_program(f, address, src, length));
        } else {
            ret = esp_err_from_ota(ota_flash_erase_range(f, address, length));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_flash_read(esp_flash_t *chip, void *buffer, uint32_t address, uint32_t length)
{
    return flash_io(chip, FLASH_IO_READ, address, buffer, NULL, length);
}

esp_err_t esp_flash_write(esp_flash_t *chip, const void *buffer, uint32_t address, uint32_t length)
{
    return flash_io(chip, FLASH_IO_WRITE, address, NULL, buffer, length);
}

esp_err_t esp_flash_erase_region(esp_flash_t *chip, uint32_t start, uint32_t len)
{
    return flash_io(chip, FLASH_IO_ERASE, start, NULL, NULL, len);
}

/* The encrypting view, or NULL with *ret set (lock held). */
static const ota_flash_enc_t *chip_enc(const esp_flash_t *chip, esp_err_t *ret)
{
    if (chip_flash(chip, ret) == NULL) {
        return NULL;
    }
    const esp_dev_state_t *st = esp_dev_state();
    if (!st->enc_on) {
        *ret = ESP_ERR_NOT_SUPPORTED;
        return NULL;
    }
    return &st->enc;
}

esp_err_t esp_flash_write_encrypted(esp_flash_t *chip, uint32_t address, const void *buffer,
                                    uint32_t length)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_enc_t *e = chip_enc(chip == NULL ? esp_flash_default_chip : chip, &ret);
    if (e != NULL) {
        if (buffer == NULL || !in_chip(e->view.below, address, length) || address % 16 != 0) {
            ret = ESP_ERR_INVALID_ARG;
        } else if (length % 16 != 0) {
            ret = ESP_ERR_INVALID_SIZE;
        } else {
            ret = esp_err_from_ota(ota_flash_enc_write(e, address, buffer, length));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_flash_read_encrypted(esp_flash_t *chip, uint32_t address, void *out_buffer,
                                   uint32_t length)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_enc_t *e = chip_enc(chip == NULL ? esp_flash_default_chip : chip, &ret);
    if (e != NULL) {
        if (out_buffer == NULL || !in_chip(e->view.below, address, length)) {
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_flash_enc_read(e, address, out_buffer, length));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_flash_set_dangerous_write_protection(esp_flash_t *chip, const bool protect)
{
    if (!esp_dev_chip_ok(chip)) {
        return ESP_ERR_INVALID_ARG;
    }
    g_protect = protect;
    return ESP_OK;
}

bool esp_flash_get_dangerous_write_protection(esp_flash_t *chip)
{
    (void)chip;
    return g_protect;
}
