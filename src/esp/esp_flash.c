/*
 * ESP-IDF SPI flash calls (esp_flash.h) on the installed device's flash, the one chip of the
 * simulated board. Bounds and alignment are checked as ESP-IDF's esp_flash driver does (any
 * violation is ESP_ERR_INVALID_ARG). The driver's "dangerous write" protection of the
 * bootloader, partition table and running app regions is not modelled (docs/differences.md).
 */
#include "esp_flash.h"

#include "esp_dev_priv.h"

struct esp_flash_t {
    uint32_t reserved;
};

static esp_flash_t g_main_chip;

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

esp_err_t esp_flash_read(esp_flash_t *chip, void *buffer, uint32_t address, uint32_t length)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_t *f = chip_flash(chip, &ret);
    if (f != NULL) {
        if (buffer == NULL || !in_chip(f, address, length)) {
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_flash_read(f, address, buffer, length));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_flash_write(esp_flash_t *chip, const void *buffer, uint32_t address, uint32_t length)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_t *f = chip_flash(chip, &ret);
    if (f != NULL) {
        if (buffer == NULL || !in_chip(f, address, length)) {
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_flash_program(f, address, buffer, length));
        }
    }
    esp_dev_unlock();
    return ret;
}

esp_err_t esp_flash_erase_region(esp_flash_t *chip, uint32_t start, uint32_t len)
{
    esp_err_t ret;
    esp_dev_lock();
    const ota_flash_t *f = chip_flash(chip, &ret);
    if (f != NULL) {
        if (!in_chip(f, start, len) || start % f->sector_size != 0 || len % f->sector_size != 0) {
            ret = ESP_ERR_INVALID_ARG;
        } else {
            ret = esp_err_from_ota(ota_flash_erase_range(f, start, len));
        }
    }
    esp_dev_unlock();
    return ret;
}
