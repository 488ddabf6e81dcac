/*
 * App and bootloader images: codecs, the lenient parser used by tools, the device verifier
 * (esp_image_verify as in ESP-IDF v5.5, spec 3.9) and the host descriptor.
 */
#include "ota/ota_img.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ota/ota_sig.h"
#include "ota_le.h"

#define CHUNK 4096u

/* The field widths of each record add up to its size. */
_Static_assert(1 + 1 + 1 + 1 + 4 + 1 + 3 + 2 + 1 + 2 + 2 + 4 + 1 == OTA_IMG_HEADER_LEN,
               "esp_image_header_t fields");
_Static_assert(4 + 4 == OTA_IMG_SEG_HEADER_LEN, "esp_image_segment_header_t fields");
_Static_assert(4 + 4 + 8 + 32 + 32 + 16 + 16 + 32 + 32 + 2 + 2 + 1 + 3 + 72 == OTA_APP_DESC_LEN,
               "esp_app_desc_t fields");
_Static_assert(1 + 2 + 1 + 4 + 32 + 24 + 16 == OTA_BOOT_DESC_LEN, "esp_bootloader_desc_t fields");
_Static_assert(8 + 6 * 4 == OTA_HOST_DESC_LEN, "host descriptor fields");
_Static_assert(1 + 1 + 2 + 32 + 384 + 4 + 384 + 4 + 384 + 4 + 16 == OTA_SIG_BLOCK_LEN,
               "Secure Boot V2 RSA signature block fields");
#define TWO_POW_32 0x100000000ull

/* ---- small helpers ------------------------------------------------------------------------- */

/* Copies a NUL-padded text field of n bytes into dst (n + 1 bytes), stopping at the first NUL. */
static void get_text(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i] != 0; i++) {
        dst[i] = (char)src[i];
    }
    memset(dst + i, 0, n + 1 - i);
}

/* Writes s into a NUL-padded field of n bytes (cut to n bytes). */
static void put_text(uint8_t *dst, const char *s, size_t n)
{
    memset(dst, 0, n);
    for (size_t i = 0; i < n && s[i] != '\0'; i++) {
        dst[i] = (uint8_t)s[i];
    }
}

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) / a * a;
}

/* ---- codecs -------------------------------------------------------------------------------- */

void ota_img_header_decode(const uint8_t raw[OTA_IMG_HEADER_LEN], ota_img_header_t *h)
{
    h->magic = raw[0];
    h->segment_count = raw[1];
    h->spi_mode = raw[2];
    h->spi_speed = raw[3] & 0x0F;
    h->spi_size = raw[3] >> 4;
    h->entry_addr = ota_get_le32(raw + 4);
    h->wp_pin = raw[8];
    memcpy(h->spi_pin_drv, raw + 9, 3);
    h->chip_id = ota_get_le16(raw + 12);
    h->min_chip_rev = raw[14];
    h->min_chip_rev_full = ota_get_le16(raw + 15);
    h->max_chip_rev_full = ota_get_le16(raw + 17);
    memcpy(h->reserved, raw + 19, 4);
    h->hash_appended = raw[23];
}

void ota_img_header_encode(const ota_img_header_t *h, uint8_t raw[OTA_IMG_HEADER_LEN])
{
    raw[0] = h->magic;
    raw[1] = h->segment_count;
    raw[2] = h->spi_mode;
    raw[3] = (uint8_t)((h->spi_speed & 0x0F) | ((h->spi_size & 0x0F) << 4));
    ota_put_le32(raw + 4, h->entry_addr);
    raw[8] = h->wp_pin;
    memcpy(raw + 9, h->spi_pin_drv, 3);
    ota_put_le16(raw + 12, h->chip_id);
    raw[14] = h->min_chip_rev;
    ota_put_le16(raw + 15, h->min_chip_rev_full);
    ota_put_le16(raw + 17, h->max_chip_rev_full);
    memcpy(raw + 19, h->reserved, 4);
    raw[23] = h->hash_appended;
}

void ota_img_seg_decode(const uint8_t raw[OTA_IMG_SEG_HEADER_LEN], ota_img_seg_hdr_t *s)
{
    s->load_addr = ota_get_le32(raw);
    s->data_len = ota_get_le32(raw + 4);
}

void ota_img_seg_encode(const ota_img_seg_hdr_t *s, uint8_t raw[OTA_IMG_SEG_HEADER_LEN])
{
    ota_put_le32(raw, s->load_addr);
    ota_put_le32(raw + 4, s->data_len);
}

bool ota_app_desc_decode(const uint8_t raw[OTA_APP_DESC_LEN], ota_app_desc_t *d)
{
    d->magic_word = ota_get_le32(raw);
    d->secure_version = ota_get_le32(raw + 4);
    d->reserv1[0] = ota_get_le32(raw + 8);
    d->reserv1[1] = ota_get_le32(raw + 12);
    get_text(d->version, raw + 16, 32);
    get_text(d->project_name, raw + 48, 32);
    get_text(d->time, raw + 80, 16);
    get_text(d->date, raw + 96, 16);
    get_text(d->idf_ver, raw + 112, 32);
    memcpy(d->app_elf_sha256, raw + 144, 32);
    d->min_efuse_blk_rev_full = ota_get_le16(raw + 176);
    d->max_efuse_blk_rev_full = ota_get_le16(raw + 178);
    d->mmu_page_size = raw[180];
    memcpy(d->reserv3, raw + 181, 3);
    memcpy(d->reserv2, raw + 184, 72);
    return d->magic_word == OTA_APP_DESC_MAGIC;
}

void ota_app_desc_encode(const ota_app_desc_t *d, uint8_t raw[OTA_APP_DESC_LEN])
{
    ota_put_le32(raw, d->magic_word);
    ota_put_le32(raw + 4, d->secure_version);
    ota_put_le32(raw + 8, d->reserv1[0]);
    ota_put_le32(raw + 12, d->reserv1[1]);
    put_text(raw + 16, d->version, 32);
    put_text(raw + 48, d->project_name, 32);
    put_text(raw + 80, d->time, 16);
    put_text(raw + 96, d->date, 16);
    put_text(raw + 112, d->idf_ver, 32);
    memcpy(raw + 144, d->app_elf_sha256, 32);
    ota_put_le16(raw + 176, d->min_efuse_blk_rev_full);
    ota_put_le16(raw + 178, d->max_efuse_blk_rev_full);
    raw[180] = d->mmu_page_size;
    memcpy(raw + 181, d->reserv3, 3);
    memcpy(raw + 184, d->reserv2, 72);
}

bool ota_boot_desc_decode(const uint8_t raw[OTA_BOOT_DESC_LEN], ota_boot_desc_t *d)
{
    d->magic_byte = raw[0];
    d->reserved[0] = raw[1];
    d->reserved[1] = raw[2];
    d->secure_version = raw[3];
    d->version = ota_get_le32(raw + 4);
    get_text(d->idf_ver, raw + 8, 32);
    get_text(d->date_time, raw + 40, 24);
    memcpy(d->reserved2, raw + 64, 16);
    return d->magic_byte == OTA_BOOT_DESC_MAGIC;
}

void ota_boot_desc_encode(const ota_boot_desc_t *d, uint8_t raw[OTA_BOOT_DESC_LEN])
{
    raw[0] = d->magic_byte;
    raw[1] = d->reserved[0];
    raw[2] = d->reserved[1];
    raw[3] = d->secure_version;
    ota_put_le32(raw + 4, d->version);
    put_text(raw + 8, d->idf_ver, 32);
    put_text(raw + 40, d->date_time, 24);
    memcpy(raw + 64, d->reserved2, 16);
}

/* XOR of the bytes, 8 at a time: the XOR of the words folded down to one byte is the same. */
uint8_t ota_img_checksum(const void *data, size_t len, uint8_t seed)
{
    const uint8_t *p = data;
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        acc ^= w;
    }
    acc ^= acc >> 32;
    acc ^= acc >> 16;
    acc ^= acc >> 8;
    seed ^= (uint8_t)acc;
    for (; i < len; i++) {
        seed ^= p[i];
    }
    return seed;
}

uint32_t ota_img_checksum_offset(uint32_t prefix)
{
    return round_up(prefix + 1, 16) - 1;
}

int ota_img_read_app_desc(const ota_flash_t *f, uint32_t offset, ota_app_desc_t *d)
{
    uint8_t raw[OTA_APP_DESC_LEN];
    if (f == NULL || d == NULL || offset > UINT32_MAX - OTA_APP_DESC_OFFSET) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = ota_flash_read(f, offset + OTA_APP_DESC_OFFSET, raw, sizeof(raw));
    if (err != OTA_OK) {
        return err;
    }
    return ota_app_desc_decode(raw, d) ? OTA_OK : OTA_ERR_NOT_FOUND;
}

/* ---- streaming reads ----------------------------------------------------------------------- */

/* Reads [addr, addr+len) in chunks, XORing bytes into *x (if non-NULL) and hashing (if sha). */
static int read_feed(const ota_flash_t *f, const ota_crypto_t *c, void *sha, uint32_t addr,
                     uint32_t len, uint8_t *x)
{
    uint8_t buf[CHUNK];
    while (len > 0) {
        uint32_t n = len < CHUNK ? len : CHUNK;
        int err = ota_flash_read(f, addr, buf, n);
        if (err != OTA_OK) {
            return err;
        }
        if (x != NULL) {
            *x = ota_img_checksum(buf, n, *x);
        }
        if (sha != NULL) {
            c->hash_update(sha, buf, n);
        }
        addr += n;
        len -= n;
    }
    return OTA_OK;
}

/* ---- lenient parser ------------------------------------------------------------------------ */

static void parse_signature(const ota_flash_t *f, uint32_t offset, uint32_t avail,
                            ota_img_info_t *out)
{
    uint8_t blk[OTA_SIG_BLOCK_LEN];
    uint64_t at = round_up(out->image_len, OTA_SIG_SECTOR_LEN);
    out->total_len = out->image_len;
    for (int b = 0; b < OTA_SIG_MAX_BLOCKS; b++) {
        uint64_t pos = at + (uint64_t)b * OTA_SIG_BLOCK_LEN;
        if (pos + OTA_SIG_BLOCK_LEN > avail ||
            ota_flash_read(f, offset + (uint32_t)pos, blk, OTA_SIG_BLOCK_LEN) != OTA_OK) {
            break;
        }
        if (!ota_sig_block_valid(blk)) {
            break;
        }
        if (b == 0) {
            out->sig_present = true;
            out->sig_offset = (uint32_t)at;
            out->sig_version = blk[1];
            out->total_len = (uint32_t)at + OTA_SIG_SECTOR_LEN;
        }
        out->sig_blocks++;
    }
}

static void pick_descriptors(const ota_flash_t *f, uint32_t offset, ota_img_info_t *out)
{
    const ota_chip_t *chip = out->chip;
    int app = -1;
    int boot = -1;
    int n = out->seg_count;
    for (int i = 0; i < n; i++) {
        const ota_img_seg_t *s = &out->segs[i];
        if (ota_chip_mem_is(chip, s->load_addr, "DROM") && app < 0) {
            app = i;
        } else if (ota_chip_mem_is(chip, s->load_addr, "DRAM") && s->data_len >= 80) {
            boot = i;
        }
    }
    out->app_desc_seg = app;
    out->boot_desc_seg = boot;
    if (app >= 0 && out->segs[app].data_len > 0) {
        uint8_t raw[OTA_APP_DESC_LEN];
        if (out->segs[app].data_len >= OTA_APP_DESC_LEN &&
            ota_flash_read(f, offset + out->segs[app].offset + 8, raw, sizeof(raw)) == OTA_OK) {
            out->has_app_desc = ota_app_desc_decode(raw, &out->app_desc);
        }
    } else if (boot >= 0) {
        uint8_t raw[OTA_BOOT_DESC_LEN];
        if (ota_flash_read(f, offset + out->segs[boot].offset + 8, raw, sizeof(raw)) == OTA_OK) {
            out->has_boot_desc = ota_boot_desc_decode(raw, &out->boot_desc);
        }
    }
    if (!out->has_app_desc) {
        memset(&out->app_desc, 0, sizeof(out->app_desc));
    }
    if (!out->has_boot_desc) {
        memset(&out->boot_desc, 0, sizeof(out->boot_desc));
    }
}

int ota_img_parse(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset, uint32_t avail,
                  ota_img_info_t *out, ota_diag_t *diag)
{
    uint8_t raw[OTA_IMG_HEADER_LEN];
    if (f == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    out->app_desc_seg = -1;
    out->boot_desc_seg = -1;
    if (avail == 0) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "Image is empty.");
    }
    int err = ota_flash_read(f, offset, raw, avail < OTA_IMG_HEADER_LEN ? avail : 24);
    if (err != OTA_OK) {
        return err;
    }
    if (raw[0] != OTA_IMG_MAGIC) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "This is not a valid image (invalid magic number: 0x%x).", raw[0]);
    }
    if (avail < OTA_IMG_HEADER_LEN) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "End of file reading the image header (actual length %u)",
                            (unsigned)avail);
    }
    if (raw[23] > 1) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "Invalid value for append_digest field (0x%02x). Should be 0 or 1.",
                            raw[23]);
    }
    ota_img_header_decode(raw, &out->header);
    out->chip = ota_chip_by_id(raw[12]);
    out->hash_appended = out->header.hash_appended == 1;

    void *sha = NULL;
    if (out->hash_appended && c != NULL) {
        sha = c->hash_start(c->ctx, OTA_HASH_SHA256);
        if (sha == NULL) {
            return OTA_ERR_NO_MEM;
        }
        c->hash_update(sha, raw, OTA_IMG_HEADER_LEN);
    }

    uint8_t sum = OTA_IMG_CHECKSUM_SEED;
    uint64_t pos = OTA_IMG_HEADER_LEN;
    int count = out->header.segment_count;
    for (int i = 0; i < count && err == OTA_OK; i++) {
        uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
        ota_img_seg_hdr_t s;
        if (pos + OTA_IMG_SEG_HEADER_LEN > avail) {
            err = ota_diag_set(diag, OTA_ERR_CORRUPT,
                               "End of file reading segment %d header at offset 0x%x", i,
                               (unsigned)pos);
            break;
        }
        err = ota_flash_read(f, offset + (uint32_t)pos, sh, sizeof(sh));
        if (err != OTA_OK) {
            break;
        }
        ota_img_seg_decode(sh, &s);
        if (i < OTA_IMG_MAX_SEGMENTS) {
            out->segs[i].load_addr = s.load_addr;
            out->segs[i].data_len = s.data_len;
            out->segs[i].offset = (uint32_t)pos;
            out->seg_count = i + 1;
        }
        if (sha != NULL) {
            c->hash_update(sha, sh, sizeof(sh));
        }
        pos += OTA_IMG_SEG_HEADER_LEN;
        if (pos + s.data_len > avail) {
            err =
                ota_diag_set(diag, OTA_ERR_CORRUPT,
                             "End of file reading segment 0x%x, length %u (actual length %u)",
                             (unsigned)s.load_addr, (unsigned)s.data_len, (unsigned)(avail - pos));
            break;
        }
        err = read_feed(f, c, sha, offset + (uint32_t)pos, s.data_len, &sum);
        pos += s.data_len;
    }
    if (err == OTA_OK) {
        uint64_t at = ((pos + 1 + 15) & ~(uint64_t)15) - 1;
        if (at >= avail) {
            err = ota_diag_set(diag, OTA_ERR_CORRUPT, "End of file reading the checksum");
        } else {
            err = read_feed(f, c, sha, offset + (uint32_t)pos, (uint32_t)(at - pos), NULL);
            if (err == OTA_OK) {
                err = ota_flash_read(f, offset + (uint32_t)at, &out->checksum_stored, 1);
            }
            if (err == OTA_OK && sha != NULL) {
                c->hash_update(sha, &out->checksum_stored, 1);
            }
            out->data_len = (uint32_t)at + 1;
        }
    }
    if (err == OTA_OK && count > OTA_IMG_MAX_SEGMENTS) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT,
                           "Invalid segment count %d (max 16). Usually this indicates a linker "
                           "script problem.",
                           count);
    }
    if (sha != NULL) {
        c->hash_finish(sha, err == OTA_OK ? out->hash_calc : NULL);
    }
    if (err != OTA_OK) {
        return err;
    }

    out->checksum_calc = sum;
    out->checksum_valid = sum == out->checksum_stored;
    out->image_len = out->data_len;
    if (out->hash_appended) {
        uint32_t left = avail - out->data_len;
        out->hash_stored_len = left < OTA_IMG_HASH_LEN ? left : OTA_IMG_HASH_LEN;
        err = ota_flash_read(f, offset + out->data_len, out->hash_stored, out->hash_stored_len);
        if (err != OTA_OK) {
            return err;
        }
        out->hash_valid = c != NULL && out->hash_stored_len == OTA_IMG_HASH_LEN &&
                          memcmp(out->hash_stored, out->hash_calc, OTA_IMG_HASH_LEN) == 0;
        out->image_len += OTA_IMG_HASH_LEN;
    }
    parse_signature(f, offset, avail, out);
    if (out->chip != NULL) {
        pick_descriptors(f, offset, out);
    }
    return OTA_OK;
}

/* ---- device verifier ----------------------------------------------------------------------- */

typedef struct vctx {
    const ota_img_verify_opts_t *o;
    ota_diag_t *diag;
    ota_img_fail_t fail;
} vctx_t;

static void vlog(const vctx_t *v, char level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vlog(const vctx_t *v, char level, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    if (v->o->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    v->o->log(v->o->log_ctx, level, msg);
}

/*
 * Records a failure: the first one goes to diag and meta->fail; the message is logged as an error
 * unless the verifier is silent (always when `always`, like ESP-IDF's chip checks).
 */
static void vfail(vctx_t *v, ota_img_fail_t why, bool always, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void vfail(vctx_t *v, ota_img_fail_t why, bool always, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (v->fail == OTA_IMG_FAIL_NONE) {
        v->fail = why;
        if (v->diag != NULL) {
            snprintf(v->diag->msg, sizeof(v->diag->msg), "%s", msg);
        }
    }
    if (v->o->log != NULL && (always || !v->o->silent)) {
        v->o->log(v->o->log_ctx, 'E', msg);
    }
}

/* A flash read failed: ESP_ERR_IMAGE_FLASH_FAIL (power loss is passed through). */
static int vflash(vctx_t *v, int err, uint32_t addr)
{
    vfail(v, OTA_IMG_FAIL_FLASH_READ, false, "flash read failed at 0x%x (%s)", (unsigned)addr,
          ota_strerror(err));
    return err == OTA_ERR_POWER_LOSS ? OTA_ERR_POWER_LOSS : OTA_ERR_IO;
}

static void check_chip(vctx_t *v, const ota_img_header_t *h)
{
    const ota_img_verify_opts_t *o = v->o;
    unsigned rev = o->chip_rev;
    if (h->chip_id != o->chip->id) {
        vfail(v, OTA_IMG_FAIL_CHIP_ID, true, "mismatch chip ID, expected %d, found %d", o->chip->id,
              h->chip_id);
        return;
    }
    if (h->min_chip_rev_full > rev) {
        vfail(v, OTA_IMG_FAIL_CHIP_REV_MIN, true,
              "chip revision check failed. Required >= v%d.%d, found v%u.%u.",
              h->min_chip_rev_full / 100, h->min_chip_rev_full % 100, rev / 100, rev % 100);
    }
    uint16_t max = h->max_chip_rev_full;
    if (!o->bootloader && max != 0 && max != OTA_IMG_REV_UNSET && rev > max &&
        !o->ignore_max_chip_rev) {
        vfail(v, OTA_IMG_FAIL_CHIP_REV_MAX, true,
              "chip revision check failed. Required <= v%d.%d, found v%u.%u.", max / 100, max % 100,
              rev / 100, rev % 100);
    }
}

static void check_efuse_blk(vctx_t *v, const ota_app_desc_t *d)
{
    unsigned rev = v->o->efuse_blk_rev;
    uint16_t min = d->min_efuse_blk_rev_full;
    uint16_t max = d->max_efuse_blk_rev_full;
    if (min > rev) {
        vfail(v, OTA_IMG_FAIL_EFUSE_BLK_REV_MIN, true,
              "Image requires efuse blk rev >= v%d.%d, but chip is v%u.%u", min / 100, min % 100,
              rev / 100, rev % 100);
    }
    if (max != 0 && max != OTA_IMG_REV_UNSET && rev > max && !v->o->ignore_max_efuse_blk_rev) {
        vfail(v, OTA_IMG_FAIL_EFUSE_BLK_REV_MAX, true,
              "Image requires efuse blk rev <= v%d.%d, but chip is v%u.%u", max / 100, max % 100,
              rev / 100, rev % 100);
    }
}

/* The segment loop (spec 3.9 step 3). Returns OTA_OK, OTA_ERR_CORRUPT or a flash error. */
static int verify_segments(vctx_t *v, const ota_flash_t *f, const ota_crypto_t *c, void *sha,
                           uint32_t offset, ota_img_meta_t *m, uint8_t *sum, uint64_t *end)
{
    const ota_img_verify_opts_t *o = v->o;
    uint64_t next = (uint64_t)offset + OTA_IMG_HEADER_LEN;
    m->mmu_page_size = o->mmu_page_size ? o->mmu_page_size : OTA_MMU_PAGE_SIZE_DEFAULT;
    for (int i = 0; i < m->header.segment_count; i++) {
        uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
        ota_img_seg_hdr_t *s = &m->segs[i];
        if (next + OTA_IMG_SEG_HEADER_LEN > TWO_POW_32) {
            vfail(v, OTA_IMG_FAIL_WRAP, false, "image offset has wrapped");
            return OTA_ERR_CORRUPT;
        }
        int err = ota_flash_read(f, (uint32_t)next, sh, sizeof(sh));
        if (err != OTA_OK) {
            return vflash(v, err, (uint32_t)next);
        }
        if (sha != NULL) {
            c->hash_update(sha, sh, sizeof(sh));
        }
        ota_img_seg_decode(sh, s);
        uint64_t data = next + OTA_IMG_SEG_HEADER_LEN;
        if (s->data_len % 4 != 0 || s->data_len >= OTA_IMG_SEG_MAX_LEN) {
            vfail(v, OTA_IMG_FAIL_SEGMENT_LENGTH, false, "invalid segment length 0x%x",
                  (unsigned)s->data_len);
            return OTA_ERR_CORRUPT;
        }
        if (data + s->data_len > TWO_POW_32) {
            vfail(v, OTA_IMG_FAIL_WRAP, false, "image offset has wrapped");
            return OTA_ERR_CORRUPT;
        }
        if (i == 0 && o->chip->mmu_configurable && !o->bootloader) {
            uint8_t raw[OTA_APP_DESC_LEN];
            ota_app_desc_t d;
            err = ota_flash_read(f, (uint32_t)data, raw, sizeof(raw));
            if (err != OTA_OK) {
                return vflash(v, err, (uint32_t)data);
            }
            if (!ota_app_desc_decode(raw, &d) || d.mmu_page_size >= 32) {
                vfail(v, OTA_IMG_FAIL_APP_DESC, true, "Failed to fetch app description header!");
                return OTA_ERR_CORRUPT;
            }
            if (d.mmu_page_size != 0) {
                m->mmu_page_size = 1u << d.mmu_page_size;
            }
        }
        bool mapped = ota_chip_is_mapped(o->chip, s->load_addr);
        if (mapped && (uint32_t)data % m->mmu_page_size != s->load_addr % m->mmu_page_size) {
            vfail(v, OTA_IMG_FAIL_MAPPING, false,
                  "Segment %d load address 0x%08x, doesn't match data 0x%08x", i,
                  (unsigned)s->load_addr, (unsigned)data);
            return OTA_ERR_CORRUPT;
        }
        if (!o->silent) {
            bool load = o->load && !mapped && s->load_addr >= 0x10000000u;
            vlog(v, 'I', "segment %d: paddr=%08x vaddr=%08x size=%05xh (%6d) %s", i, (unsigned)data,
                 (unsigned)s->load_addr, (unsigned)s->data_len, (int)s->data_len,
                 load     ? "load"
                 : mapped ? "map"
                          : "");
        }
        err = read_feed(f, c, sha, (uint32_t)data, s->data_len, sum);
        if (err != OTA_OK) {
            return vflash(v, err, (uint32_t)data);
        }
        m->seg_data[i] = (uint32_t)data;
        if (i == 0 && !o->bootloader && o->chip->checks_efuse_blk_rev &&
            s->data_len >= OTA_APP_DESC_LEN) {
            uint8_t raw[OTA_APP_DESC_LEN];
            ota_app_desc_t d;
            err = ota_flash_read(f, (uint32_t)data, raw, sizeof(raw));
            if (err != OTA_OK) {
                return vflash(v, err, (uint32_t)data);
            }
            if (ota_app_desc_decode(raw, &d)) {
                check_efuse_blk(v, &d);
                if (v->fail != OTA_IMG_FAIL_NONE) {
                    return OTA_ERR_CORRUPT;
                }
            }
        }
        next = data + s->data_len;
    }
    *end = next;
    return OTA_OK;
}

/* The signature replaces the simple hash check (an app with CONFIG_SECURE_SIGNED_ON_UPDATE; a
 * bootloader only with Secure Boot V2, whose bootloaders are signed). */
static bool signed_check(const ota_img_verify_opts_t *o)
{
    return o->sig_check && o->sig_scheme != OTA_SIG_SCHEME_NONE &&
           (!o->bootloader || o->secure_boot_v2);
}

/* After a bad signature: does the simple hash still match? ("image corrupted on flash") */
static int recheck_simple_hash(vctx_t *v, const ota_flash_t *f, const ota_crypto_t *c,
                               uint32_t offset, uint32_t hash_end, const uint8_t stored[32])
{
    uint8_t calc[OTA_IMG_HASH_LEN];
    vlog(v, 'I', "Calculating simple hash to check for corruption...");
    void *sha = c->hash_start(c->ctx, OTA_HASH_SHA256);
    if (sha == NULL) {
        return OTA_ERR_NO_MEM;
    }
    int err = read_feed(f, c, sha, offset, hash_end - OTA_IMG_HASH_LEN, NULL);
    c->hash_finish(sha, calc);
    if (err != OTA_OK) {
        return vflash(v, err, offset);
    }
    vlog(v, 'W',
         memcmp(calc, stored, sizeof(calc)) != 0 ? "image corrupted on flash"
                                                 : "image valid, signature bad");
    return OTA_ERR_CORRUPT;
}

/* Spec 8.1: the signed digest, then the V2 sector or the V1 block checked against the trust. */
static int verify_signature(vctx_t *v, const ota_flash_t *f, const ota_crypto_t *c, void **sha,
                            uint32_t offset, ota_img_meta_t *m, uint32_t hash_end)
{
    const ota_img_verify_opts_t *o = v->o;
    ota_sig_trust_t none = {.scheme = o->sig_scheme};
    const ota_sig_trust_t *t = o->sig_trust != NULL ? o->sig_trust : &none;
    bool v1 = o->sig_scheme == OTA_SIG_SCHEME_V1_ECDSA;
    uint8_t stored[OTA_IMG_HASH_LEN] = {0};
    uint8_t digest[OTA_IMG_HASH_LEN];
    uint8_t blk[OTA_SIG_BLOCK_LEN];
    uint32_t end = hash_end;
    int err = OTA_OK;
    vlog(v, 'I', "Verifying image signature...");
    if (m->header.hash_appended) {
        err = ota_flash_read(f, offset + end - OTA_IMG_HASH_LEN, stored, sizeof(stored));
        c->hash_update(*sha, stored, sizeof(stored));
    }
    if (err == OTA_OK && !v1) {
        end = round_up(hash_end, OTA_SIG_SECTOR_LEN);
        err = read_feed(f, c, *sha, offset + hash_end, end - hash_end, NULL);
    }
    c->hash_finish(*sha, digest);
    *sha = NULL;
    if (err == OTA_OK) {
        err = ota_flash_read(f, offset + end, blk, v1 ? OTA_SIG_V1_LEN : OTA_SIG_BLOCK_LEN);
    }
    if (err != OTA_OK) {
        return vflash(v, err, offset + end);
    }
    memcpy(m->image_digest, stored, sizeof(stored));
    err = v1 ? ota_sig_verify_v1(c, t, blk, digest) : ota_sig_verify_v2(c, t, blk, digest);
    if (err == OTA_ERR_NO_MEM) {
        return err;
    }
    if (err != OTA_OK) {
        vfail(v, OTA_IMG_FAIL_SIGNATURE, true, "Secure boot signature verification failed");
        err = recheck_simple_hash(v, f, c, offset, hash_end, stored);
        return err == OTA_ERR_NO_MEM ? err : OTA_ERR_CORRUPT;
    }
    m->image_len = v1 ? hash_end + OTA_SIG_V1_LEN : end + OTA_SIG_SECTOR_LEN;
    return OTA_OK;
}

/* Checksum, length and hash (spec 3.9 steps 5-7). */
static int verify_tail(vctx_t *v, const ota_flash_t *f, const ota_crypto_t *c, void **sha,
                       uint32_t offset, uint32_t part_size, ota_img_meta_t *m, uint8_t sum)
{
    const ota_img_verify_opts_t *o = v->o;
    uint32_t unpadded = m->image_len;
    uint64_t padded = ((uint64_t)unpadded + 1 + 15) & ~(uint64_t)15;
    uint8_t buf[16];
    uint32_t n = (uint32_t)(padded - unpadded);
    int err = ota_flash_read(f, offset + unpadded, buf, n);
    if (err != OTA_OK) {
        return vflash(v, err, offset + unpadded);
    }
    if (buf[n - 1] != sum) {
        vfail(v, OTA_IMG_FAIL_CHECKSUM, false, "Checksum failed. Calculated 0x%x read 0x%x", sum,
              buf[n - 1]);
        return OTA_ERR_CORRUPT;
    }
    if (*sha != NULL) {
        c->hash_update(*sha, buf, n);
    }
    uint64_t len = padded;
    if (m->header.hash_appended) {
        len += OTA_IMG_HASH_LEN;
    }
    uint64_t hash_end = len;
    /* a bootloader carries a signature sector only with Secure Boot V2 */
    bool v2 = o->secure_boot_v2 || (!o->bootloader && (o->sig_scheme == OTA_SIG_SCHEME_V2_RSA ||
                                                       o->sig_scheme == OTA_SIG_SCHEME_V2_ECDSA));
    if (v2) {
        len = (len + OTA_SIG_SECTOR_LEN - 1) / OTA_SIG_SECTOR_LEN * OTA_SIG_SECTOR_LEN +
              OTA_SIG_SECTOR_LEN;
    } else if (o->sig_scheme == OTA_SIG_SCHEME_V1_ECDSA && !o->bootloader) {
        len += OTA_SIG_V1_LEN;
    }
    if (len > part_size) {
        vfail(v, OTA_IMG_FAIL_LENGTH, false, "Image length %u doesn't fit in partition length %u",
              (unsigned)len, (unsigned)part_size);
        return OTA_ERR_CORRUPT;
    }
    m->image_len = (uint32_t)len;
    if (*sha != NULL && signed_check(o)) {
        return verify_signature(v, f, c, sha, offset, m, (uint32_t)hash_end);
    }
    if (*sha != NULL) {
        uint8_t stored[OTA_IMG_HASH_LEN];
        c->hash_finish(*sha, m->image_digest);
        *sha = NULL;
        err = ota_flash_read(f, offset + (uint32_t)hash_end - OTA_IMG_HASH_LEN, stored,
                             sizeof(stored));
        if (err != OTA_OK) {
            return vflash(v, err, offset + (uint32_t)hash_end - OTA_IMG_HASH_LEN);
        }
        if (memcmp(stored, m->image_digest, OTA_IMG_HASH_LEN) != 0) {
            vfail(v, OTA_IMG_FAIL_HASH, false, "Image hash failed - image is corrupt");
            return OTA_ERR_CORRUPT;
        }
        m->hash_checked = true;
    }
    return OTA_OK;
}

int ota_img_verify(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset, uint32_t part_size,
                   const ota_img_verify_opts_t *opts, ota_img_meta_t *meta, ota_diag_t *diag)
{
    ota_img_meta_t local;
    ota_img_meta_t *m = meta != NULL ? meta : &local;
    vctx_t v = {opts, diag, OTA_IMG_FAIL_NONE};
    uint8_t raw[OTA_IMG_HEADER_LEN];
    void *sha = NULL;
    int err;

    memset(m, 0, sizeof(*m));
    if (diag != NULL) {
        diag->msg[0] = '\0';
    }
    if (f == NULL || opts == NULL || opts->chip == NULL ||
        (opts->mmu_page_size & (opts->mmu_page_size - 1)) != 0) {
        return OTA_ERR_INVALID_ARG;
    }
    m->start_addr = offset;
    if (part_size > OTA_IMG_MAX_PARTITION) {
        vfail(&v, OTA_IMG_FAIL_PARTITION_SIZE, false,
              "partition size 0x%x invalid, larger than 16MB", (unsigned)part_size);
        err = OTA_ERR_INVALID_ARG;
        goto out;
    }
    err = ota_flash_read(f, offset, raw, sizeof(raw));
    if (err != OTA_OK) {
        err = vflash(&v, err, offset);
        goto out;
    }
    ota_img_header_decode(raw, &m->header);

    bool check_hash =
        opts->hash == OTA_IMG_HASH_CHECK ||
        (opts->hash == OTA_IMG_HASH_AUTO && (!opts->bootloader || opts->secure_boot_v2));
    if ((check_hash && m->header.hash_appended) || signed_check(opts)) {
        if (c == NULL) {
            err = OTA_ERR_INVALID_ARG;
            goto out;
        }
        sha = c->hash_start(c->ctx, OTA_HASH_SHA256);
        if (sha == NULL) {
            err = OTA_ERR_NO_MEM;
            goto out;
        }
        c->hash_update(sha, raw, sizeof(raw));
    }

    if (m->header.magic != OTA_IMG_MAGIC) {
        vfail(&v, OTA_IMG_FAIL_MAGIC, false,
              "image at 0x%x has invalid magic byte (nothing flashed here?)", (unsigned)offset);
        err = OTA_ERR_CORRUPT;
        goto out;
    }
    check_chip(&v, &m->header);
    if (m->header.segment_count > OTA_IMG_MAX_SEGMENTS) {
        vfail(&v, OTA_IMG_FAIL_SEGMENT_COUNT, false,
              "image at 0x%x segment count %d exceeds max %d", (unsigned)offset,
              m->header.segment_count, OTA_IMG_MAX_SEGMENTS);
    }
    if (v.fail != OTA_IMG_FAIL_NONE) {
        err = OTA_ERR_CORRUPT;
        goto out;
    }

    uint8_t sum = OTA_IMG_CHECKSUM_SEED;
    uint64_t end = 0;
    err = verify_segments(&v, f, c, sha, offset, m, &sum, &end);
    if (err != OTA_OK) {
        goto out;
    }
    if (end < offset || end >= TWO_POW_32) {
        vfail(&v, OTA_IMG_FAIL_WRAP, false, "image offset has wrapped");
        err = OTA_ERR_CORRUPT;
        goto out;
    }
    m->image_len = (uint32_t)(end - offset);
    err = verify_tail(&v, f, c, &sha, offset, part_size, m, sum);
    if (err != OTA_OK) {
        goto out;
    }
    if (!opts->bootloader) {
        int e = ota_img_read_app_desc(f, offset, &m->app_desc);
        m->has_app_desc = e == OTA_OK;
        if (!m->has_app_desc) {
            memset(&m->app_desc, 0, sizeof(m->app_desc));
        }
    }

out:
    if (sha != NULL) {
        c->hash_finish(sha, NULL);
    }
    if (err != OTA_OK) {
        ota_img_fail_t why = v.fail;
        memset(m, 0, sizeof(*m));
        m->fail = why;
    }
    return err;
}

int ota_img_get_metadata(const ota_flash_t *f, uint32_t offset, ota_img_meta_t *meta,
                         ota_diag_t *diag)
{
    uint8_t raw[OTA_IMG_HEADER_LEN];
    if (f == NULL || meta == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(meta, 0, sizeof(*meta));
    meta->start_addr = offset;
    int err = ota_flash_read(f, offset, raw, sizeof(raw));
    if (err != OTA_OK) {
        return err;
    }
    ota_img_header_decode(raw, &meta->header);
    if (meta->header.magic != OTA_IMG_MAGIC) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT,
                           "image at 0x%x has invalid magic byte (nothing flashed here?)",
                           (unsigned)offset);
    } else if (meta->header.segment_count > OTA_IMG_MAX_SEGMENTS) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT, "image at 0x%x segment count %d exceeds max %d",
                           (unsigned)offset, meta->header.segment_count, OTA_IMG_MAX_SEGMENTS);
    }
    uint64_t next = (uint64_t)offset + OTA_IMG_HEADER_LEN;
    for (int i = 0; err == OTA_OK && i < meta->header.segment_count; i++) {
        uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
        if (next + OTA_IMG_SEG_HEADER_LEN > TWO_POW_32) {
            err = ota_diag_set(diag, OTA_ERR_CORRUPT, "image offset has wrapped");
            break;
        }
        err = ota_flash_read(f, (uint32_t)next, sh, sizeof(sh));
        if (err != OTA_OK) {
            break;
        }
        ota_img_seg_decode(sh, &meta->segs[i]);
        uint32_t len = meta->segs[i].data_len;
        if (len % 4 != 0 || len >= OTA_IMG_SEG_MAX_LEN) {
            err = ota_diag_set(diag, OTA_ERR_CORRUPT, "invalid segment length 0x%x", (unsigned)len);
            break;
        }
        next += OTA_IMG_SEG_HEADER_LEN;
        meta->seg_data[i] = (uint32_t)next;
        next += len;
    }
    if (err == OTA_OK && next + 16 + OTA_IMG_HASH_LEN > TWO_POW_32) {
        err = ota_diag_set(diag, OTA_ERR_CORRUPT, "image offset has wrapped");
    }
    if (err != OTA_OK) {
        memset(meta, 0, sizeof(*meta));
        return err;
    }
    uint32_t len = round_up((uint32_t)(next - offset) + 1, 16);
    if (meta->header.hash_appended) {
        len += OTA_IMG_HASH_LEN;
    }
    meta->image_len = len;
    meta->mmu_page_size = OTA_MMU_PAGE_SIZE_DEFAULT;
    return OTA_OK;
}

/* ---- host descriptor ----------------------------------------------------------------------- */

void ota_host_desc_encode(const ota_host_desc_t *d, uint8_t raw[OTA_HOST_DESC_LEN])
{
    memcpy(raw, OTA_HOST_DESC_MAGIC, 8);
    ota_put_le32(raw + 8, d->version);
    ota_put_le32(raw + 12, d->payload_seg);
    ota_put_le32(raw + 16, d->payload_len);
    ota_put_le32(raw + 20, d->sdkconfig_offset);
    ota_put_le32(raw + 24, d->sdkconfig_len);
    ota_put_le32(raw + 28, d->flags);
}

int ota_host_desc_decode(const uint8_t raw[OTA_HOST_DESC_LEN], ota_host_desc_t *d)
{
    if (memcmp(raw, OTA_HOST_DESC_MAGIC, 8) != 0) {
        return OTA_ERR_NOT_FOUND;
    }
    d->version = ota_get_le32(raw + 8);
    d->payload_seg = ota_get_le32(raw + 12);
    d->payload_len = ota_get_le32(raw + 16);
    d->sdkconfig_offset = ota_get_le32(raw + 20);
    d->sdkconfig_len = ota_get_le32(raw + 24);
    d->flags = ota_get_le32(raw + 28);
    return d->version == OTA_HOST_DESC_VERSION ? OTA_OK : OTA_ERR_VERSION;
}

/* Reads len bytes at image offset pos, failing with NOT_FOUND past the end of the region. */
static int read_in(const ota_flash_t *f, uint32_t offset, uint32_t avail, uint64_t pos, void *dst,
                   uint32_t len)
{
    if (pos + len > avail) {
        return OTA_ERR_NOT_FOUND;
    }
    return ota_flash_read(f, offset + (uint32_t)pos, dst, len);
}

int ota_img_host_locate(const ota_flash_t *f, uint32_t offset, uint32_t avail,
                        ota_img_host_info_t *out, ota_diag_t *diag)
{
    uint8_t raw[OTA_IMG_HEADER_LEN];
    uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
    uint8_t desc[OTA_HOST_DESC_LEN];
    ota_img_header_t h;
    ota_img_seg_hdr_t seg0;
    if (f == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    int err = read_in(f, offset, avail, 0, raw, sizeof(raw));
    if (err == OTA_OK) {
        err = read_in(f, offset, avail, OTA_IMG_HEADER_LEN, sh, sizeof(sh));
    }
    if (err != OTA_OK) {
        return err == OTA_ERR_NOT_FOUND ? ota_diag_set(diag, OTA_ERR_CORRUPT, "image is truncated")
                                        : err;
    }
    ota_img_header_decode(raw, &h);
    if (h.magic != OTA_IMG_MAGIC || h.segment_count == 0 ||
        h.segment_count > OTA_IMG_MAX_SEGMENTS) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "not a valid image header");
    }
    ota_img_seg_decode(sh, &seg0);

    /* Which descriptor starts segment 0 decides where the host descriptor is. */
    uint8_t first[4];
    uint32_t after;
    err = read_in(f, offset, avail, OTA_APP_DESC_OFFSET, first, sizeof(first));
    if (err != OTA_OK) {
        return err == OTA_ERR_NOT_FOUND ? ota_diag_set(diag, err, "no host descriptor") : err;
    }
    if (ota_get_le32(first) == OTA_APP_DESC_MAGIC) {
        after = OTA_APP_DESC_LEN;
    } else if (first[0] == OTA_BOOT_DESC_MAGIC) {
        after = OTA_BOOT_DESC_LEN;
        out->bootloader = true;
    } else {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "no app or bootloader descriptor");
    }
    if (seg0.data_len < after + OTA_HOST_DESC_LEN) {
        return ota_diag_set(diag, OTA_ERR_NOT_FOUND, "no host descriptor");
    }
    err = read_in(f, offset, avail, OTA_APP_DESC_OFFSET + after, desc, sizeof(desc));
    if (err == OTA_OK) {
        err = ota_host_desc_decode(desc, &out->desc);
    }
    if (err == OTA_ERR_NOT_FOUND) {
        return ota_diag_set(diag, err, "no host descriptor");
    }
    if (err == OTA_ERR_VERSION) {
        return ota_diag_set(diag, err, "host descriptor version %u not supported",
                            (unsigned)out->desc.version);
    }
    if (err != OTA_OK) {
        return err;
    }
    const ota_host_desc_t *d = &out->desc;
    if ((uint64_t)d->sdkconfig_offset + d->sdkconfig_len > seg0.data_len) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "host descriptor: sdkconfig (offset %u, %u bytes) outside segment 0 "
                            "(%u bytes)",
                            (unsigned)d->sdkconfig_offset, (unsigned)d->sdkconfig_len,
                            (unsigned)seg0.data_len);
    }
    if ((uint64_t)OTA_APP_DESC_OFFSET + d->sdkconfig_offset + d->sdkconfig_len > avail) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "host descriptor: sdkconfig past the image end");
    }
    out->sdkconfig_offset = OTA_APP_DESC_OFFSET + d->sdkconfig_offset;
    out->sdkconfig_len = d->sdkconfig_len;
    if (d->flags & OTA_HOST_FLAG_FILES) {
        uint64_t at = ((uint64_t)d->sdkconfig_offset + d->sdkconfig_len + 3u) & ~(uint64_t)3u;
        if (at + 4u > seg0.data_len || OTA_APP_DESC_OFFSET + (uint64_t)seg0.data_len > avail) {
            return ota_diag_set(diag, OTA_ERR_CORRUPT,
                                "host descriptor: embedded files outside segment 0");
        }
        out->has_files = true;
        out->files_offset = OTA_APP_DESC_OFFSET + (uint32_t)at;
        out->files_len = seg0.data_len - (uint32_t)at;
    }
    if (d->payload_seg == OTA_HOST_NO_PAYLOAD) {
        return OTA_OK;
    }
    if (d->payload_seg >= h.segment_count) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT,
                            "host descriptor: payload segment %u but the image has %d segments",
                            (unsigned)d->payload_seg, h.segment_count);
    }
    uint64_t pos = OTA_IMG_HEADER_LEN;
    ota_img_seg_hdr_t s = {0, 0};
    for (uint32_t i = 0; i <= d->payload_seg; i++) {
        err = read_in(f, offset, avail, pos, sh, sizeof(sh));
        if (err != OTA_OK) {
            return err == OTA_ERR_NOT_FOUND
                       ? ota_diag_set(diag, OTA_ERR_CORRUPT, "host descriptor: image is truncated")
                       : err;
        }
        ota_img_seg_decode(sh, &s);
        pos += OTA_IMG_SEG_HEADER_LEN;
        if (i < d->payload_seg) {
            pos += s.data_len;
        }
    }
    if (d->payload_len > s.data_len || pos + d->payload_len > avail) {
        return ota_diag_set(
            diag, OTA_ERR_CORRUPT,
            "host descriptor: payload of %u bytes does not fit segment %u (%u bytes)",
            (unsigned)d->payload_len, (unsigned)d->payload_seg, (unsigned)s.data_len);
    }
    out->has_payload = true;
    out->payload_offset = (uint32_t)pos;
    out->payload_len = d->payload_len;
    return OTA_OK;
}

int ota_img_files_find(const uint8_t *table, uint32_t len, const char *name, uint32_t *data_off,
                       uint32_t *data_len)
{
    if (table == NULL || name == NULL || data_off == NULL || data_len == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (len < 4) {
        return OTA_ERR_CORRUPT;
    }
    uint32_t count = ota_get_le32(table);
    uint64_t pos = 4;
    size_t want = strlen(name);
    for (uint32_t i = 0; i < count; i++) {
        if (pos + 8 > len) {
            return OTA_ERR_CORRUPT;
        }
        uint32_t nlen = ota_get_le32(table + pos);
        uint32_t dlen = ota_get_le32(table + pos + 4);
        uint64_t data = pos + 8 + nlen;
        uint64_t end = data + dlen + 1;
        if (end > len || table[data + dlen] != 0) {
            return OTA_ERR_CORRUPT;
        }
        if (nlen == want && memcmp(table + pos + 8, name, want) == 0) {
            *data_off = (uint32_t)data;
            *data_len = dlen;
            return OTA_OK;
        }
        pos = (end + 3u) & ~(uint64_t)3u;
    }
    return OTA_ERR_NOT_FOUND;
}
