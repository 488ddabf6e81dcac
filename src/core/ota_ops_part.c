/*
 * The device's partition list and partition I/O with esp_partition's argument rules (spec 1.9),
 * descriptions, the anti-rollback eFuse helpers and the pieces the other ota_ops files share.
 */
#include "ota_le.h"
#include "ota_ops_priv.h"

#include <string.h>

#define SHA_CHUNK 1024u
#define COPY_CHUNK 4096u

/* ---- shared helpers ------------------------------------------------------------------------ */

int ota_ops_log_code(const ota_ops_dev_t *dev, int err)
{
    return (dev != NULL && dev->log_err != NULL) ? dev->log_err(err) : err;
}

/* One image check in progress: its log lines and reads, noted for the memo. */
typedef struct check {
    const ota_ops_dev_t *dev;
    ota_ops_memo_t note; /* valid stays false while the check does not fit a memo */
    bool fits;
    ota_flash_t flash; /* dev->flash, its reads counted */
} check_t;

static void img_log(void *ctx, char level, const char *msg)
{
    check_t *c = ctx;
    ota_logf(c->dev->log, level, "esp_image", "%s", msg);
    ota_ops_memo_t *n = &c->note;
    if (n->n_lines == OTA_OPS_MEMO_LINES || strlen(msg) >= OTA_OPS_MEMO_LINE_LEN) {
        c->fits = false;
        return;
    }
    n->read_before[n->n_lines] = n->read_bytes;
    n->level[n->n_lines] = level;
    strcpy(n->line[n->n_lines++], msg);
}

static int counted_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    check_t *c = ctx;
    c->note.read_bytes += len;
    return c->dev->flash->read(c->dev->flash->ctx, addr, dst, len);
}

/* The memo of dev matches the check of p with these options on unchanged flash: its lines are
 * logged again and its reads counted. */
static bool memo_reused(const ota_ops_dev_t *dev, const ota_ops_memo_t *key)
{
    const ota_ops_memo_t *m = dev->memo;
    if (m == NULL || !m->valid || !key->valid || m->generation != key->generation ||
        m->offset != key->offset || m->size != key->size || m->bootloader != key->bootloader ||
        m->silent != key->silent) {
        return false;
    }
    uint64_t done = 0;
    for (int i = 0; i <= m->n_lines; i++) {
        uint64_t upto = i < m->n_lines ? m->read_before[i] : m->read_bytes;
        if (dev->flash->skip_read != NULL && upto > done) {
            dev->flash->skip_read(dev->flash->ctx, upto - done);
        }
        done = upto;
        if (i < m->n_lines) {
            ota_logf(dev->log, m->level[i], "esp_image", "%s", m->line[i]);
        }
    }
    return true;
}

/* key->valid: the flash has a generation (now in key->generation) and reads may be reused. */
static void memo_key(const ota_ops_dev_t *dev, const ota_part_t *p, bool bootloader, bool silent,
                     ota_ops_memo_t *key)
{
    const ota_flash_t *f = dev->flash;
    memset(key, 0, sizeof(*key));
    /* A signature check logs under its own tags, which a memo does not hold: it always runs. */
    bool sig = dev->sig_on_update && dev->sig_scheme != OTA_SIG_SCHEME_NONE;
    key->valid = !sig && dev->memo != NULL && f->generation != NULL &&
                 f->generation(f->ctx, &key->generation);
    key->offset = p->offset;
    key->size = p->size;
    key->bootloader = bootloader;
    key->silent = silent;
}

/* After a successful check: remembered when the flash did not change while it ran. */
static void memo_store(const ota_ops_dev_t *dev, const check_t *c)
{
    uint64_t now = 0;
    const ota_flash_t *f = dev->flash;
    if (c->note.valid && c->fits && f->generation(f->ctx, &now) && now == c->note.generation) {
        *dev->memo = c->note;
    }
}

/* Header code of a flash size (0 = 1 MB ... 4 = 16 MB), for the default MMU page size. */
static uint8_t flash_size_code(uint32_t size)
{
    uint8_t code = 0;
    while (code < 7 && (0x100000u << code) < size) {
        code++;
    }
    return code;
}

int ota_ops_verify_image(const ota_ops_dev_t *dev, const ota_part_t *p, bool bootloader,
                         bool silent)
{
    if (dev == NULL || dev->flash == NULL || dev->chip == NULL || p == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    check_t c = {.dev = dev, .fits = true, .flash = *dev->flash};
    memo_key(dev, p, bootloader, silent, &c.note);
    if (memo_reused(dev, &c.note)) {
        return OTA_OK;
    }
    c.flash.ctx = &c;
    c.flash.read = counted_read; /* the check only reads */
    c.flash.generation = NULL;
    c.flash.skip_read = NULL;
    uint32_t page = dev->mmu_page_size;
    if (page == 0) {
        page = ota_chip_default_mmu_page_size(dev->chip, flash_size_code(dev->flash->size));
    }
    ota_img_verify_opts_t opts = {
        .chip = dev->chip,
        .chip_rev = dev->chip_rev,
        .efuse_blk_rev = dev->efuse_blk_rev,
        .bootloader = bootloader,
        .mmu_page_size = page,
        .hash = OTA_IMG_HASH_AUTO,
        .silent = silent,
        .log = img_log,
        .log_ctx = &c,
    };
    ota_sig_trust_t trust;
    ota_ops_sig_opts(dev, &trust, &opts);
    ota_img_meta_t meta;
    int err = ota_img_verify(&c.flash, dev->crypto, p->offset, p->size, &opts, &meta, NULL);
    if (err == OTA_OK) {
        memo_store(dev, &c);
    }
    return err;
}

void ota_ops_sig_opts(const ota_ops_dev_t *dev, ota_sig_trust_t *t, ota_img_verify_opts_t *o)
{
    if (dev == NULL || t == NULL || o == NULL) {
        return;
    }
    *t = (ota_sig_trust_t){
        .scheme = dev->sig_scheme,
        .log = dev->log,
        .flash = dev->flash,
        .v1_key = dev->sig_v1_key,
        .v1_key_len = dev->sig_v1_key_len,
    };
    if (dev->running != NULL) {
        t->running_offset = dev->running->offset;
        t->running_size = dev->running->size;
    }
    o->sig_scheme = dev->sig_scheme;
    o->sig_check = dev->sig_on_update && dev->sig_scheme != OTA_SIG_SCHEME_NONE;
    o->sig_trust = t;
    if (dev->secure_boot_v2) {
        ota_efuse_secure_boot_t sb = {0};
        if (dev->efuse != NULL && dev->efuse->read_secure_boot != NULL) {
            dev->efuse->read_secure_boot(dev->efuse->ctx, &sb);
        }
        memcpy(t->efuse_digest, sb.digest, sizeof(t->efuse_digest));
        t->trusted_digest = t->efuse_digest;
        t->from_efuse = true;
        o->secure_boot_v2 = true;
    }
}

const ota_part_t *ota_ops_otadata(const ota_ops_dev_t *dev, ota_otadata_entry_t e[2])
{
    const ota_part_t *od = ota_ops_find(dev, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_OTA, NULL);
    if (od == NULL) {
        ota_logf(dev != NULL ? dev->log : NULL, 'E', OTA_OPS_TAG, "not found otadata");
        return NULL;
    }
    uint8_t raw[2][OTA_OTADATA_ENTRY_SIZE];
    int err = ota_ops_part_read(dev, od, 0, raw[0], OTA_OTADATA_ENTRY_SIZE);
    if (err == OTA_OK) {
        err = ota_ops_part_read(dev, od, OTA_OPS_ERASE_SIZE, raw[1], OTA_OTADATA_ENTRY_SIZE);
    }
    if (err != OTA_OK) {
        ota_logf(dev->log, 'E', OTA_OPS_TAG, "mmap otadata filed. Err=0x%8x",
                 (unsigned)ota_ops_log_code(dev, err));
        return NULL;
    }
    ota_otadata_decode(raw[0], &e[0]);
    ota_otadata_decode(raw[1], &e[1]);
    return od;
}

int ota_ops_otadata_rewrite(const ota_ops_dev_t *dev, const ota_part_t *od,
                            ota_otadata_entry_t e[2], int sector, uint32_t seq)
{
    if (sector < 0 || sector > 1) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_otadata_set_seq(&e[sector], seq);
    size_t off = (size_t)sector * OTA_OPS_ERASE_SIZE;
    int err = ota_ops_part_erase(dev, od, off, OTA_OPS_ERASE_SIZE);
    if (err != OTA_OK) {
        return err;
    }
    uint8_t raw[OTA_OTADATA_ENTRY_SIZE];
    ota_otadata_encode(&e[sector], raw);
    return ota_ops_part_write(dev, od, off, raw, sizeof(raw));
}

/* ---- partition list ------------------------------------------------------------------------ */

const ota_part_t *ota_ops_part_at(const ota_ops_dev_t *dev, size_t i)
{
    if (dev == NULL) {
        return NULL;
    }
    size_t n_table = dev->table != NULL && dev->table->count > 0 ? (size_t)dev->table->count : 0;
    if (i < n_table) {
        return &dev->table->parts[i];
    }
    i -= n_table;
    if (dev->extra != NULL && i < dev->n_extra) {
        return dev->extra[i];
    }
    return NULL;
}

static bool matches(const ota_part_t *p, int type, int subtype, const char *label)
{
    return (type == OTA_PART_TYPE_ANY || p->type == type) &&
           (subtype == OTA_PART_SUBTYPE_ANY || p->subtype == subtype) &&
           (label == NULL || strcmp(p->label, label) == 0);
}

const ota_part_t *ota_ops_find(const ota_ops_dev_t *dev, int type, int subtype, const char *label)
{
    if (type == OTA_PART_TYPE_ANY && subtype != OTA_PART_SUBTYPE_ANY) {
        return NULL;
    }
    const ota_part_t *p;
    for (size_t i = 0; (p = ota_ops_part_at(dev, i)) != NULL; i++) {
        if (matches(p, type, subtype, label)) {
            return p;
        }
    }
    return NULL;
}

const ota_part_t *ota_ops_part_verify(const ota_ops_dev_t *dev, const ota_part_t *want)
{
    if (dev == NULL || want == NULL || (want->flags & OTA_PART_FLAG_ENCRYPTED) != 0) {
        return NULL; /* the caller's encryption differs from the device's (the ESP layer says) */
    }
    if (want->type == OTA_PART_TYPE_ANY && want->subtype != OTA_PART_SUBTYPE_ANY) {
        return NULL;
    }
    const char *label = want->label[0] != '\0' ? want->label : NULL;
    const ota_part_t *p;
    for (size_t i = 0; (p = ota_ops_part_at(dev, i)) != NULL; i++) {
        if (matches(p, want->type, want->subtype, label) && p->offset == want->offset &&
            p->size == want->size) {
            return p;
        }
    }
    return NULL;
}

bool ota_ops_part_same(const ota_part_t *a, const ota_part_t *b)
{
    if (a == b) {
        return true;
    }
    return a != NULL && b != NULL && a->type == b->type && a->subtype == b->subtype &&
           a->offset == b->offset && a->size == b->size && strcmp(a->label, b->label) == 0;
}

bool ota_ops_is_ota_slot(const ota_part_t *p)
{
    return p != NULL && p->type == OTA_PART_TYPE_APP &&
           p->subtype >= OTA_PART_SUBTYPE_APP_OTA_MIN && p->subtype < OTA_PART_SUBTYPE_APP_OTA_MAX;
}

int ota_ops_extra_check(const ota_ops_dev_t *dev, uint64_t offset, uint64_t size)
{
    if (dev == NULL || dev->flash == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (offset + size > dev->flash->size || offset > dev->flash->size) {
        return OTA_ERR_SIZE;
    }
    if (size == 0) {
        return OTA_ERR_INVALID_ARG;
    }
    const ota_part_t *p;
    for (size_t i = 0; (p = ota_ops_part_at(dev, i)) != NULL; i++) {
        uint64_t start = p->offset;
        uint64_t end = start + p->size;
        if (offset < end && start < offset + size) {
            return OTA_ERR_INVALID_ARG;
        }
    }
    return OTA_OK;
}

/* ---- partition I/O ------------------------------------------------------------------------- */

/* esp_partition's bounds rule: offset past the end is an argument error, a length past the end
 * a size error. */
static int range_check(const ota_part_t *p, size_t off, size_t n)
{
    if (off > p->size) {
        return OTA_ERR_BOUNDS;
    }
    if (n > p->size - off) {
        return OTA_ERR_SIZE;
    }
    return OTA_OK;
}

/* Flash address of partition offset off, or OTA_ERR_BOUNDS when it passes 4 GiB. */
static int flash_addr(const ota_part_t *p, size_t off, uint32_t *addr)
{
    uint64_t a = (uint64_t)p->offset + off;
    if (a > UINT32_MAX) {
        return OTA_ERR_BOUNDS;
    }
    *addr = (uint32_t)a;
    return OTA_OK;
}

/*
 * The checks every partition I/O call starts with, in esp_partition's order: the arguments, the
 * readonly flag (when the call modifies the partition), the range, then the call's own check
 * (own, an error code or OTA_OK); OTA_OK with the flash address of off in *addr.
 */
static int io_begin(const ota_ops_dev_t *dev, const ota_part_t *p, bool modifies, size_t off,
                    size_t n, int own, uint32_t *addr)
{
    if (dev == NULL || dev->flash == NULL || p == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (modifies && (p->flags & OTA_PART_FLAG_READONLY)) {
        return OTA_ERR_READONLY;
    }
    int err = range_check(p, off, n);
    if (err != OTA_OK) {
        return err;
    }
    if (own != OTA_OK) {
        return own;
    }
    return flash_addr(p, off, addr);
}

int ota_ops_part_read(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, void *dst,
                      size_t n)
{
    uint32_t addr;
    int err = io_begin(dev, p, false, off, n, dst == NULL ? OTA_ERR_INVALID_ARG : OTA_OK, &addr);
    return err != OTA_OK ? err : ota_flash_read(dev->flash, addr, dst, (uint32_t)n);
}

int ota_ops_part_write(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, const void *src,
                       size_t n)
{
    uint32_t addr;
    int err = io_begin(dev, p, true, off, n, src == NULL ? OTA_ERR_INVALID_ARG : OTA_OK, &addr);
    return err != OTA_OK ? err : ota_flash_program(dev->flash, addr, src, (uint32_t)n);
}

int ota_ops_part_erase(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, size_t n)
{
    int own = OTA_OK;
    if (n % OTA_OPS_ERASE_SIZE != 0) {
        own = OTA_ERR_SIZE;
    } else if (off % OTA_OPS_ERASE_SIZE != 0) {
        own = OTA_ERR_ALIGN;
    }
    uint32_t addr;
    int err = io_begin(dev, p, true, off, n, own, &addr);
    return err != OTA_OK ? err : ota_flash_erase_range(dev->flash, addr, (uint32_t)n);
}

/* SHA-256 of flash [addr, addr+len) into out. */
static int hash_flash(const ota_ops_dev_t *dev, uint32_t addr, uint32_t len, uint8_t *out)
{
    void *st = dev->crypto->hash_start(dev->crypto->ctx, OTA_HASH_SHA256);
    if (st == NULL) {
        return OTA_ERR_NO_MEM;
    }
    uint8_t buf[SHA_CHUNK];
    while (len > 0) {
        uint32_t n = len < SHA_CHUNK ? len : SHA_CHUNK;
        int err = ota_flash_read(dev->flash, addr, buf, n);
        if (err != OTA_OK) {
            dev->crypto->hash_finish(st, NULL);
            return err;
        }
        dev->crypto->hash_update(st, buf, n);
        addr += n;
        len -= n;
    }
    dev->crypto->hash_finish(st, out);
    return OTA_OK;
}

int ota_ops_part_sha256(const ota_ops_dev_t *dev, const ota_part_t *p, uint8_t out[32])
{
    if (dev == NULL || dev->flash == NULL || dev->crypto == NULL || p == NULL || out == NULL ||
        p->size == 0) {
        return OTA_ERR_INVALID_ARG;
    }
    uint32_t len = p->size;
    if (p->type == OTA_PART_TYPE_APP || p->type == OTA_PART_TYPE_BOOTLOADER) {
        ota_img_meta_t meta;
        if (ota_img_get_metadata(dev->flash, p->offset, &meta, NULL) != OTA_OK ||
            meta.image_len > p->size) {
            return OTA_ERR_CORRUPT;
        }
        len = meta.image_len;
        if (meta.header.hash_appended) {
            uint8_t stored[OTA_SHA256_LEN];
            uint8_t calc[OTA_SHA256_LEN];
            uint32_t body = len - OTA_IMG_HASH_LEN;
            if (ota_flash_read(dev->flash, p->offset + body, stored, sizeof(stored)) != OTA_OK) {
                return OTA_ERR_CORRUPT;
            }
            int err = hash_flash(dev, p->offset, body, calc);
            if (err == OTA_ERR_NO_MEM) {
                return err;
            }
            if (err != OTA_OK || memcmp(stored, calc, sizeof(calc)) != 0) {
                return OTA_ERR_CORRUPT;
            }
            memcpy(out, stored, sizeof(stored));
            return OTA_OK;
        }
    }
    if ((uint64_t)p->offset + len > UINT32_MAX) {
        return OTA_ERR_BOUNDS;
    }
    if ((uint64_t)p->offset + len > dev->flash->size) {
        return OTA_ERR_BOUNDS;
    }
    return hash_flash(dev, p->offset, len, out);
}

int ota_ops_part_copy(const ota_ops_dev_t *dev, const ota_part_t *dst, size_t dst_off,
                      const ota_part_t *src, size_t src_off, size_t n)
{
    if (dev == NULL || dst == NULL || src == NULL || ota_ops_part_same(dst, src)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (src_off > src->size || dst_off > dst->size) {
        return OTA_ERR_SIZE;
    }
    uint64_t count = n;
    uint64_t erase_len = n;
    if (n == OTA_OPS_COPY_ALL) {
        count = src->size - src_off;
        erase_len = dst->size - dst_off;
    }
    if ((uint64_t)src_off + count > src->size || (uint64_t)dst_off + count > dst->size) {
        return OTA_ERR_SIZE;
    }
    erase_len = (erase_len + OTA_OPS_ERASE_SIZE - 1) & ~(uint64_t)(OTA_OPS_ERASE_SIZE - 1);
    int err = erase_len > SIZE_MAX ? OTA_ERR_SIZE
                                   : ota_ops_part_erase(dev, dst, dst_off, (size_t)erase_len);
    if (err != OTA_OK) {
        ota_logf(dev->log, 'E', "partition",
                 "Erasing destination partition range failed (err=0x%x)",
                 (unsigned)ota_ops_log_code(dev, err));
        return err;
    }
    uint8_t buf[COPY_CHUNK];
    size_t done = 0;
    while (done < count) {
        size_t chunk = count - done < COPY_CHUNK ? (size_t)(count - done) : COPY_CHUNK;
        err = ota_ops_part_read(dev, src, src_off + done, buf, chunk);
        if (err != OTA_OK) {
            ota_logf(dev->log, 'E', "partition", "Reading source partition failed (err=0x%x)",
                     (unsigned)ota_ops_log_code(dev, err));
            return err;
        }
        err = ota_ops_part_write(dev, dst, dst_off + done, buf, chunk);
        if (err != OTA_OK) {
            ota_logf(dev->log, 'E', "partition",
                     "Writing to destination partition failed (err=0x%x)",
                     (unsigned)ota_ops_log_code(dev, err));
            return err;
        }
        done += chunk;
    }
    return OTA_OK;
}

/* ---- descriptions -------------------------------------------------------------------------- */

int ota_ops_app_desc(const ota_ops_dev_t *dev, const ota_part_t *p, uint8_t raw[OTA_APP_DESC_LEN])
{
    if (dev == NULL || p == NULL || raw == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (p->type != OTA_PART_TYPE_APP) {
        return OTA_ERR_UNSUPPORTED;
    }
    int err = ota_ops_part_read(dev, p, OTA_APP_DESC_OFFSET, raw, OTA_APP_DESC_LEN);
    if (err != OTA_OK) {
        return err;
    }
    return ota_get_le32(raw) == OTA_APP_DESC_MAGIC ? OTA_OK : OTA_ERR_NOT_FOUND;
}

int ota_ops_boot_desc(const ota_ops_dev_t *dev, const ota_part_t *p, uint8_t raw[OTA_BOOT_DESC_LEN])
{
    if (dev == NULL || raw == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_part_t primary;
    if (p == NULL) {
        if (dev->chip == NULL) {
            return OTA_ERR_INVALID_ARG;
        }
        uint32_t table = dev->table_offset ? dev->table_offset : OTA_PART_TABLE_OFFSET_DEFAULT;
        memset(&primary, 0, sizeof(primary));
        primary.type = OTA_PART_TYPE_BOOTLOADER;
        primary.subtype = OTA_PART_SUBTYPE_BOOTLOADER_PRIMARY;
        primary.offset = dev->chip->bootloader_offset;
        primary.size = table > primary.offset ? table - primary.offset : 0;
        p = &primary;
    }
    int err = ota_ops_part_read(dev, p, OTA_APP_DESC_OFFSET, raw, OTA_BOOT_DESC_LEN);
    if (err != OTA_OK) {
        return err;
    }
    return raw[0] == OTA_BOOT_DESC_MAGIC ? OTA_OK : OTA_ERR_NOT_FOUND;
}

/* ---- anti-rollback eFuse ------------------------------------------------------------------- */

int ota_ops_secure_version(const ota_ops_dev_t *dev, uint32_t *out)
{
    if (dev == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    *out = 0;
    if (dev->efuse == NULL || dev->efuse->read_secure_version == NULL) {
        return OTA_OK;
    }
    return dev->efuse->read_secure_version(dev->efuse->ctx, out);
}

int ota_ops_raise_secure_version(const ota_ops_dev_t *dev, uint32_t version)
{
    if (dev == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    uint32_t bits = dev->secure_version_bits;
    if (bits == 0) {
        bits = dev->chip != NULL ? dev->chip->secure_version_bits : 32;
    }
    if (version > bits) {
        ota_logf(dev->log, 'E', "efuse",
                 "Max secure version is %u. Given %u version can not be written.", (unsigned)bits,
                 (unsigned)version);
        return OTA_ERR_INVALID_ARG;
    }
    if (dev->efuse == NULL || dev->efuse->write_secure_version == NULL) {
        return OTA_OK;
    }
    uint32_t counter = 0;
    int err = ota_ops_secure_version(dev, &counter);
    if (err != OTA_OK) {
        return err;
    }
    return version > counter ? dev->efuse->write_secure_version(dev->efuse->ctx, version) : OTA_OK;
}
