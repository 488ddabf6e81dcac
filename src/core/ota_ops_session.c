/*
 * OTA sessions: esp_ota_begin, esp_ota_resume, esp_ota_set_final_partition, esp_ota_write,
 * esp_ota_write_with_offset, esp_ota_end and esp_ota_abort of ESP-IDF v5.5 (spec 4.3 - 4.8).
 *
 * Writes go straight to flash, except with flash encryption (dev->flash_encrypted): then only
 * whole 16-byte blocks are written, the rest waits in the session until ota_ops_end flushes it.
 */
#include "ota_le.h"
#include "ota_ops_priv.h"

#include <string.h>

static void open_session(ota_session_t *s, const ota_part_t *p)
{
    memset(s, 0, sizeof(*s));
    s->open = true;
    s->staging = p;
    s->final = p;
}

/* The running app's otadata state is PENDING_VERIFY (esp_ota_begin's rollback check). */
static bool running_pending(const ota_ops_dev_t *dev)
{
    uint32_t state;
    return dev->running != NULL && ota_ops_get_state(dev, dev->running, &state) == OTA_OK &&
           state == OTA_OTADATA_STATE_PENDING_VERIFY;
}

int ota_ops_begin(const ota_ops_dev_t *dev, const ota_part_t *p, size_t image_size,
                  ota_session_t *s)
{
    if (dev == NULL || p == NULL || s == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *part = ota_ops_part_verify(dev, p);
    if (part == NULL) {
        return OTA_ERR_NOT_FOUND;
    }
    if (part->type == OTA_PART_TYPE_APP) {
        /* the staging partition cannot be factory or test (the final one may be factory) */
        if (!ota_ops_is_ota_slot(part)) {
            return OTA_ERR_INVALID_ARG;
        }
        if (dev->running != NULL && ota_ops_part_same(part, dev->running)) {
            return OTA_ERR_CONFLICT;
        }
        if (dev->rollback && running_pending(dev)) {
            ota_logf(dev->log, 'E', OTA_OPS_TAG,
                     "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY)");
            return OTA_ERR_PENDING_VERIFY;
        }
    }
    open_session(s, part);
    s->need_erase = image_size == OTA_OPS_SEQUENTIAL_WRITES;
    if (image_size != OTA_OPS_SEQUENTIAL_WRITES) {
        size_t erase_len = part->size;
        if (image_size != 0 && image_size != OTA_OPS_SIZE_UNKNOWN) {
            /* ALIGN_UP(image_size, 0x1000); a size that cannot be rounded up stays too large */
            size_t rest = image_size % OTA_OPS_ERASE_SIZE;
            erase_len = image_size;
            if (rest != 0 && image_size <= SIZE_MAX - (OTA_OPS_ERASE_SIZE - rest)) {
                erase_len = image_size + (OTA_OPS_ERASE_SIZE - rest);
            }
        }
        int err = ota_ops_part_erase(dev, part, 0, erase_len);
        if (err != OTA_OK) {
            s->open = false;
            return err;
        }
    }
    if (dev->rollback && ota_ops_is_ota_slot(part)) {
        (void)ota_ops_invalidate_inactive(dev);
    }
    return OTA_OK;
}

int ota_ops_resume(const ota_ops_dev_t *dev, const ota_part_t *p, size_t erase_size,
                   size_t image_offset, ota_session_t *s)
{
    if (dev == NULL || p == NULL || s == NULL || image_offset > p->size) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *part = ota_ops_part_verify(dev, p);
    if (part == NULL) {
        return OTA_ERR_NOT_FOUND;
    }
    if (part->type == OTA_PART_TYPE_APP && !ota_ops_is_ota_slot(part)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (dev->running != NULL && ota_ops_part_same(part, dev->running)) {
        return OTA_ERR_CONFLICT;
    }
    open_session(s, part);
    s->resumed = true;
    s->wrote_size = (uint32_t)image_offset;
    s->need_erase = erase_size == OTA_OPS_SEQUENTIAL_WRITES;
    return OTA_OK;
}

int ota_ops_set_final(const ota_ops_dev_t *dev, ota_session_t *s, const ota_part_t *final,
                      bool finalize_with_copy)
{
    if (dev == NULL || s == NULL || final == NULL || !s->open) {
        return OTA_ERR_INVALID_ARG;
    }
    if (!s->resumed && s->wrote_size != 0) {
        return OTA_ERR_STATE;
    }
    if (final == s->staging) {
        return OTA_OK;
    }
    const ota_part_t *part = ota_ops_part_verify(dev, final);
    if (part == NULL) {
        return OTA_ERR_NOT_FOUND;
    }
    if (part == s->staging) {
        return OTA_OK; /* a description of the staging partition itself */
    }
    ota_logf(dev->log, 'I', OTA_OPS_TAG, "Staging partition - <%s>. Final partition - <%s>.",
             s->staging->label, part->label);
    s->final = part;
    s->finalize_with_copy = finalize_with_copy;
    return OTA_OK;
}

/* n bytes of the image at off: from flash below wrote_size, from data (being written there) on. */
static int peek(const ota_ops_dev_t *dev, const ota_session_t *s, const uint8_t *data, uint32_t off,
                uint8_t *dst, uint32_t n)
{
    uint32_t w = s->wrote_size;
    uint32_t in_flash = off >= w ? 0 : w - off < n ? w - off : n;
    if (in_flash > 0) {
        int err = ota_ops_part_read(dev, s->staging, off, dst, in_flash);
        if (err != OTA_OK) {
            return err;
        }
    }
    memcpy(dst + in_flash, data + (off + in_flash - w), n - in_flash);
    return OTA_OK;
}

/*
 * Sequential erase of an app image: how far the image reaches, from its header (segment count,
 * hash flag) and its segment headers, in flash or in the bytes being written (data, size).
 * s->walk is 1 while segment headers remain to be read (the image goes on past s->span), 2 once
 * the last one is read (s->span is then the image's length) or when the bytes are no app image.
 */
static void track_span(const ota_ops_dev_t *dev, ota_session_t *s, const uint8_t *data,
                       size_t size)
{
    uint64_t avail = (uint64_t)s->wrote_size + size;
    uint8_t h[OTA_IMG_HEADER_LEN];
    if (s->walk == 0 && avail >= sizeof(h)) {
        s->walk = 2;
        if (s->final->type == OTA_PART_TYPE_APP && peek(dev, s, data, 0, h, sizeof(h)) == OTA_OK &&
            h[0] == OTA_IMG_MAGIC && h[1] <= OTA_IMG_MAX_SEGMENTS) {
            s->walk = 1;
            s->walk_left = h[1];
            s->walk_hash = h[23] == 1;
            s->walk_at = OTA_IMG_HEADER_LEN;
            s->span = s->walk_at;
        }
    }
    while (s->walk == 1 && s->walk_left > 0 &&
           (uint64_t)s->walk_at + OTA_IMG_SEG_HEADER_LEN <= avail) {
        uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
        uint32_t len = 1; /* invalid unless read */
        if (peek(dev, s, data, s->walk_at, sh, sizeof(sh)) == OTA_OK) {
            len = ota_get_le32(sh + 4);
        }
        uint64_t end = (uint64_t)s->walk_at + sizeof(sh) + len;
        if (len % 4 != 0 || len >= OTA_IMG_SEG_MAX_LEN || end > s->staging->size) {
            s->walk = 2; /* the verifier will refuse it: no more blocks */
            return;
        }
        s->walk_at = (uint32_t)end;
        s->span = s->walk_at;
        s->walk_left--;
    }
    if (s->walk == 1 && s->walk_left == 0) {
        s->walk = 2;
        s->span = ((s->walk_at + 1 + 15) & ~15u) + (s->walk_hash ? OTA_IMG_HASH_LEN : 0);
    }
}

/*
 * Sequential erase: the sectors [wrote, wrote+size) reaches that are not erased yet. A whole
 * 64 KiB block inside the partition is one block erase while the app image goes on (segment
 * headers remain) or lies before its end; past the end, sectors. The watchdog then waits on one
 * block erase at most.
 */
static int erase_ahead(const ota_ops_dev_t *dev, ota_session_t *s, size_t size)
{
    const uint64_t es = OTA_OPS_ERASE_SIZE;
    const uint64_t bs = OTA_FLASH_BLOCK_SIZE;
    uint64_t from = ((uint64_t)s->wrote_size + es - 1) / es * es;
    uint64_t need = (uint64_t)s->wrote_size + size;
    uint64_t end = (need + es - 1) / es * es;
    if (s->erased_to > from) {
        from = s->erased_to;
    }
    if (end > s->staging->size && from < end) {
        /* refused as a whole, before anything is erased */
        return ota_ops_part_erase(dev, s->staging, (size_t)from, (size_t)(end - from));
    }
    while (from < need) {
        uint64_t unit = es;
        bool in_image = s->walk == 1 || from + bs <= s->span;
        if ((s->staging->offset + from) % bs == 0 && in_image && from + bs <= s->staging->size) {
            unit = bs;
        }
        if (from > SIZE_MAX) {
            return OTA_ERR_SIZE;
        }
        int err = ota_ops_part_erase(dev, s->staging, (size_t)from, (size_t)unit);
        if (err != OTA_OK) {
            return err;
        }
        from += unit;
        s->erased_to = (uint32_t)from;
    }
    return OTA_OK;
}

/* First-byte check by the final partition's type. */
static int check_magic(const ota_ops_dev_t *dev, const ota_session_t *s, const uint8_t *data,
                       size_t size)
{
    uint8_t type = s->final->type;
    if (type == OTA_PART_TYPE_APP || type == OTA_PART_TYPE_BOOTLOADER) {
        if (data[0] != OTA_IMG_MAGIC) {
            ota_logf(dev->log, 'E', OTA_OPS_TAG,
                     "OTA image has invalid magic byte (expected 0xE9, saw 0x%02x)", data[0]);
            return OTA_ERR_VALIDATE;
        }
    } else if (type == OTA_PART_TYPE_PARTITION_TABLE) {
        uint16_t word = size >= 2 ? ota_get_le16(data) : data[0];
        bool ok = size >= 2 ? word == OTA_PART_MAGIC : data[0] == (OTA_PART_MAGIC & 0xFF);
        if (!ok) {
            ota_logf(dev->log, 'E', OTA_OPS_TAG,
                     "Partition table image has invalid magic word (expected 0x50AA, saw 0x%04x)",
                     word);
            return OTA_ERR_VALIDATE;
        }
    }
    return OTA_OK;
}

/* Flash encryption: completes and writes the buffered block, then the whole blocks of data;
 * the tail waits in s->partial. */
static int write_blocks(const ota_ops_dev_t *dev, ota_session_t *s, const uint8_t *data,
                        size_t size)
{
    if (s->partial_len != 0) {
        size_t n = sizeof(s->partial) - s->partial_len;
        n = n < size ? n : size;
        memcpy(s->partial + s->partial_len, data, n);
        s->partial_len = (uint8_t)(s->partial_len + n);
        data += n;
        size -= n;
        if (s->partial_len < sizeof(s->partial)) {
            return OTA_OK;
        }
        int err = ota_ops_part_write(dev, s->staging, s->wrote_size, s->partial, 16);
        if (err != OTA_OK) {
            return err;
        }
        s->wrote_size += 16;
        s->partial_len = 0;
        memset(s->partial, 0xFF, sizeof(s->partial));
    }
    size_t tail = size % 16;
    size -= tail;
    memcpy(s->partial, data + size, tail);
    s->partial_len = (uint8_t)tail;
    int err = size == 0 ? OTA_OK : ota_ops_part_write(dev, s->staging, s->wrote_size, data, size);
    if (err == OTA_OK) {
        s->wrote_size += (uint32_t)size;
    }
    return err;
}

int ota_ops_write(const ota_ops_dev_t *dev, ota_session_t *s, const void *data, size_t size)
{
    if (data == NULL) {
        ota_logf(dev != NULL ? dev->log : NULL, 'E', OTA_OPS_TAG, "write data is invalid");
        return OTA_ERR_INVALID_ARG;
    }
    if (size == 0) {
        ota_logf(dev != NULL ? dev->log : NULL, 'D', OTA_OPS_TAG, "write data size is 0");
        return OTA_OK;
    }
    if (dev == NULL || s == NULL || !s->open) {
        return OTA_ERR_INVALID_ARG;
    }
    if (s->need_erase) {
        track_span(dev, s, data, size);
        int err = erase_ahead(dev, s, size + s->partial_len);
        if (err != OTA_OK) {
            return err;
        }
    }
    if (s->wrote_size == 0 && s->partial_len == 0) {
        int err = check_magic(dev, s, data, size);
        if (err != OTA_OK) {
            return err;
        }
    }
    if (dev->flash_encrypted) {
        return write_blocks(dev, s, data, size);
    }
    int err = ota_ops_part_write(dev, s->staging, s->wrote_size, data, size);
    if (err == OTA_OK) {
        s->wrote_size += (uint32_t)size;
    }
    return err;
}

int ota_ops_write_at(const ota_ops_dev_t *dev, ota_session_t *s, const void *data, size_t size,
                     uint32_t offset)
{
    if (data == NULL) {
        ota_logf(dev != NULL ? dev->log : NULL, 'E', OTA_OPS_TAG, "write data is invalid");
        return OTA_ERR_INVALID_ARG;
    }
    if (dev == NULL || s == NULL || !s->open) {
        return OTA_ERR_INVALID_ARG;
    }
    if (s->need_erase) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG,
                 "must erase the partition before writing to it (session opened with "
                 "OTA_WITH_SEQUENTIAL_WRITES)");
        return OTA_ERR_STATE;
    }
    if (dev->flash_encrypted && size % 16 != 0) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG,
                 "Size should be 16byte aligned for flash encryption case");
        return OTA_ERR_INVALID_ARG;
    }
    int err = ota_ops_part_write(dev, s->staging, offset, data, size);
    if (err == OTA_OK) {
        s->wrote_size += (uint32_t)size;
    }
    return err;
}

/* ota_verify_partition of esp_ota_ops.c: verification chosen by the final partition's type. */
static int verify_staging(const ota_ops_dev_t *dev, const ota_session_t *s)
{
    uint8_t type = s->final->type;
    if (type == OTA_PART_TYPE_APP || type == OTA_PART_TYPE_BOOTLOADER) {
        int err = ota_ops_verify_image(dev, s->staging, type == OTA_PART_TYPE_BOOTLOADER, false);
        return err == OTA_OK ? OTA_OK : OTA_ERR_VALIDATE;
    }
    if (type == OTA_PART_TYPE_PARTITION_TABLE) {
        uint8_t buf[OTA_PART_TABLE_MAX_LEN];
        int err = ota_ops_part_read(dev, s->staging, 0, buf, sizeof(buf));
        if (err != OTA_OK) {
            return err;
        }
        ota_diag_t diag = {{0}};
        if (ota_part_table_verify(dev->crypto, buf, dev->flash->size, NULL, &diag) != OTA_OK) {
            if (diag.msg[0] != '\0') {
                ota_logf(dev->log, 'E', "flash_parts", "%s", diag.msg);
            }
            return OTA_ERR_VALIDATE;
        }
    }
    return OTA_OK;
}

int ota_ops_end(const ota_ops_dev_t *dev, ota_session_t *s)
{
    if (dev == NULL || s == NULL || !s->open) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = OTA_ERR_INVALID_ARG; /* esp_ota_end is only valid once something was written */
    if (s->wrote_size != 0 && s->partial_len != 0) {
        err = ota_ops_part_write(dev, s->staging, s->wrote_size, s->partial, 16) == OTA_OK
                  ? OTA_OK
                  : OTA_ERR_STATE;
        s->wrote_size += 16;
        s->partial_len = 0;
    }
    if (s->wrote_size != 0 && err != OTA_ERR_STATE) {
        err = verify_staging(dev, s);
        if (err != OTA_OK) {
            ota_logf(dev->log, 'E', OTA_OPS_TAG, "New image failed verification");
        } else if (s->finalize_with_copy) {
            ota_logf(dev->log, 'I', OTA_OPS_TAG, "Copy from <%s> staging partition to <%s>...",
                     s->staging->label, s->final->label);
            err = ota_ops_part_copy(dev, s->final, 0, s->staging, 0, s->final->size);
        }
    }
    s->open = false;
    return err;
}

int ota_ops_abort(ota_session_t *s)
{
    if (s == NULL || !s->open) {
        return OTA_ERR_INVALID_ARG;
    }
    s->open = false;
    return OTA_OK;
}
