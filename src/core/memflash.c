/* RAM-backed flash device with NOR semantics. */
#include "ota/ota_memflash.h"
#include "ota/ota_err.h"

#include <string.h>

static int mem_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    ota_memflash_t *m = ctx;
    memcpy(dst, m->buf + addr, len);
    return OTA_OK;
}

static int mem_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    ota_memflash_t *m = ctx;
    const uint8_t *s = src;
    if (m->readonly) {
        return OTA_ERR_READONLY;
    }
    for (uint32_t i = 0; i < len; i++) {
        m->buf[addr + i] &= s[i];
    }
    return OTA_OK;
}

static int mem_erase(void *ctx, uint32_t addr, uint32_t len)
{
    ota_memflash_t *m = ctx;
    if (m->readonly) {
        return OTA_ERR_READONLY;
    }
    memset(m->buf + addr, 0xFF, len);
    return OTA_OK;
}

void ota_memflash_init(ota_flash_t *f, ota_memflash_t *m, uint8_t *buf, uint32_t size,
                       bool readonly)
{
    m->buf = buf;
    m->size = size;
    m->readonly = readonly;
    f->ctx = m;
    f->size = size;
    f->sector_size = OTA_FLASH_SECTOR_SIZE;
    f->block_size = OTA_FLASH_BLOCK_SIZE;
    f->page_size = OTA_FLASH_PAGE_SIZE;
    f->erase_value = 0xFF;
    f->read = mem_read;
    f->program = mem_program;
    f->erase = mem_erase;
}
