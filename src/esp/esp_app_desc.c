/*
 * The running app's description (esp_app_desc.h) and the deprecated esp_ota_* aliases. On a
 * device the descriptor is a constant linked into the app; here it is read once from the
 * running partition's image (offset 0x20) and kept until the next installation. Without a
 * running partition or a readable descriptor the returned struct is all zero.
 */
#include "esp_app_desc.h"
#include "esp_ota_ops.h"

#include <string.h>

#include "esp_dev_priv.h"
#include "ota/ota_sdkconfig.h"

const esp_app_desc_t *esp_app_get_description(void)
{
    esp_dev_lock();
    esp_dev_state_t *st = esp_dev_state();
    if (!st->app_desc_loaded) {
        uint8_t raw[OTA_APP_DESC_LEN];
        memset(&st->app_desc, 0, sizeof(st->app_desc));
        const ota_ops_dev_t *dev = esp_dev_ops();
        if (dev->running != NULL && ota_ops_app_desc(dev, dev->running, raw) == OTA_OK) {
            esp_dev_app_desc_from_raw(raw, &st->app_desc);
        }
        st->app_desc_loaded = st->installed;
    }
    const esp_app_desc_t *d = &st->app_desc;
    esp_dev_unlock();
    return d;
}

int esp_app_get_elf_sha256(char *dst, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (dst == NULL || size < 2) {
        return 0;
    }
    const esp_app_desc_t *d = esp_app_get_description();
    esp_dev_lock();
    long long len =
        ota_sdkconfig_int(esp_dev_state()->cfg.sdkconfig, "APP_RETRIEVE_LEN_ELF_SHA", 9);
    esp_dev_unlock();
    size_t bytes = len > 0 ? (size_t)len / 2 : 0; /* CONFIG_APP_RETRIEVE_LEN_ELF_SHA / 2 */
    if (bytes > sizeof(d->app_elf_sha256)) {
        bytes = sizeof(d->app_elf_sha256);
    }
    size_t n = (size - 1) / 2;
    if (n > bytes) {
        n = bytes;
    }
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = hex[d->app_elf_sha256[i] >> 4];
        dst[2 * i + 1] = hex[d->app_elf_sha256[i] & 0x0F];
    }
    dst[2 * n] = '\0';
    return (int)(2 * n + 1);
}

const esp_app_desc_t *esp_ota_get_app_description(void)
{
    return esp_app_get_description();
}

int esp_ota_get_app_elf_sha256(char *dst, size_t size)
{
    return esp_app_get_elf_sha256(dst, size);
}
