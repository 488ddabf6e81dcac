/* Range-checked flash access and multi-unit erase on top of a port's ota_flash_t. */
#include "ota/ota_flash.h"
#include "ota/ota_err.h"

#include <stddef.h>

static int range_ok(const ota_flash_t *f, uint32_t addr, uint32_t len)
{
    return addr <= f->size && len <= f->size - addr;
}

int ota_flash_read(const ota_flash_t *f, uint32_t addr, void *dst, uint32_t len)
{
    if (f == NULL || (dst == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (!range_ok(f, addr, len)) {
        return OTA_ERR_BOUNDS;
    }
    return len == 0 ? OTA_OK : f->read(f->ctx, addr, dst, len);
}

int ota_flash_program(const ota_flash_t *f, uint32_t addr, const void *src, uint32_t len)
{
    if (f == NULL || (src == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (!range_ok(f, addr, len)) {
        return OTA_ERR_BOUNDS;
    }
    return len == 0 ? OTA_OK : f->program(f->ctx, addr, src, len);
}

int ota_flash_erase_range(const ota_flash_t *f, uint32_t addr, uint32_t len)
{
    if (f == NULL || f->sector_size == 0) {
        return OTA_ERR_INVALID_ARG;
    }
    if (addr % f->sector_size != 0 || len % f->sector_size != 0) {
        return OTA_ERR_ALIGN;
    }
    if (!range_ok(f, addr, len)) {
        return OTA_ERR_BOUNDS;
    }
    uint32_t end = addr + len;
    while (addr < end) {
        uint32_t unit = f->sector_size;
        if (f->block_size != 0 && addr % f->block_size == 0 && end - addr >= f->block_size) {
            unit = f->block_size;
        }
        int err = f->erase(f->ctx, addr, unit);
        if (err != OTA_OK) {
            return err;
        }
        addr += unit;
    }
    return OTA_OK;
}

int ota_flash_is_erased(const ota_flash_t *f, uint32_t addr, uint32_t len)
{
    uint8_t buf[256];
    if (f == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    while (len > 0) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        int err = ota_flash_read(f, addr, buf, n);
        if (err != OTA_OK) {
            return err;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (buf[i] != f->erase_value) {
                return 0;
            }
        }
        addr += n;
        len -= n;
    }
    return 1;
}

static int view_erase(void *ctx, uint32_t addr, uint32_t len)
{
    const ota_flash_view_t *v = ctx;
    return v->below->erase(v->below->ctx, addr, len);
}

/* A view's bytes change only when the flash below changes: its generation and read count serve. */
static bool view_generation(void *ctx, uint64_t *gen)
{
    const ota_flash_view_t *v = ctx;
    return v->below->generation(v->below->ctx, gen);
}

static void view_skip_read(void *ctx, uint64_t len)
{
    const ota_flash_view_t *v = ctx;
    v->below->skip_read(v->below->ctx, len);
}

void ota_flash_view_init(ota_flash_view_t *v, const ota_flash_t *below,
                         int (*read)(void *ctx, uint32_t addr, void *dst, uint32_t len),
                         int (*program)(void *ctx, uint32_t addr, const void *src, uint32_t len))
{
    v->flash = *below;
    v->flash.ctx = v;
    v->flash.read = read;
    v->flash.program = program;
    v->flash.erase = view_erase;
    v->flash.generation = below->generation != NULL ? view_generation : NULL;
    v->flash.skip_read = below->skip_read != NULL ? view_skip_read : NULL;
    v->below = below;
}
