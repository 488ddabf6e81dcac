/*
 * Image layout as esptool elf2image writes an ESP32-family image (spec 3.10): flash-mapped
 * segments on MMU-page-aligned file offsets, gaps filled from RAM segments or padding segments,
 * the ESP32 0x24-byte rule, secure padding, checksum and appended SHA-256.
 */
#include "ota/ota_img_build.h"
#include "ota/ota_buf.h"

#include <stdlib.h>
#include <string.h>

/* A segment being laid out: data[off..len) is what is left of it. */
typedef struct wseg {
    uint32_t addr;
    uint8_t *data; /* owned */
    size_t off;
    size_t len;
    uint32_t flags;
} wseg_t;

static size_t wlen(const wseg_t *s)
{
    return s->len - s->off;
}

static int by_addr(const void *a, const void *b)
{
    const wseg_t *x = a;
    const wseg_t *y = b;
    if (x->addr != y->addr) {
        return x->addr < y->addr ? -1 : 1;
    }
    /* keep input order for equal addresses (qsort is not stable): flags hold the index */
    return x->flags >> 8 < y->flags >> 8 ? -1 : 1;
}

/* Moves the first segment carrying flag to the front of list[0..n). */
static void move_first(wseg_t *list, size_t n, uint32_t flag)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i].flags & flag) {
            wseg_t s = list[i];
            memmove(list + 1, list, i * sizeof(*list));
            list[0] = s;
            return;
        }
    }
}

typedef struct layout {
    const ota_img_build_opts_t *o;
    ota_buf_t out;
    uint8_t sum;
    int count;
    uint32_t align;
    ota_diag_t *diag;
    int err;
} layout_t;

/* esptool save_segment: header + data, length checks, checksum. */
static void save_segment(layout_t *l, uint32_t addr, const uint8_t *data, size_t len)
{
    uint8_t sh[OTA_IMG_SEG_HEADER_LEN];
    if (l->err != OTA_OK) {
        return;
    }
    if (len % 4 != 0) {
        l->err = ota_diag_set(l->diag, OTA_ERR_SIZE,
                              "Invalid segment length 0x%zx. It has to be multiple of 4.", len);
        return;
    }
    if (len >= OTA_IMG_SEG_MAX_LEN) {
        l->err =
            ota_diag_set(l->diag, OTA_ERR_SIZE,
                         "Invalid segment length 0x%zx. The 16 MB limit has been exceeded.", len);
        return;
    }
    ota_img_seg_hdr_t h = {addr, (uint32_t)len};
    ota_img_seg_encode(&h, sh);
    ota_buf_put(&l->out, sh, sizeof(sh));
    if (data != NULL) {
        ota_buf_put(&l->out, data, len);
        l->sum = ota_img_checksum(data, len, l->sum);
    } else {
        ota_buf_fill(&l->out, 0, len);
    }
    l->count++;
}

/* get_alignment_data_needed: data bytes of a padding segment placed before segment s. */
static long long alignment_needed(const layout_t *l, uint32_t addr)
{
    long long align = l->align;
    long long align_past = (long long)(addr % l->align) - OTA_IMG_SEG_HEADER_LEN;
    long long pad = (align - (long long)(l->out.len % l->align)) + align_past;
    if (pad == 0 || pad == align) {
        return 0;
    }
    pad -= OTA_IMG_SEG_HEADER_LEN;
    if (pad < 0) {
        pad += align;
    }
    return pad;
}

/* save_flash_segment: the ESP32 0x24-byte rule, then save. */
static void save_flash_segment(layout_t *l, wseg_t *s)
{
    size_t len = wlen(s);
    if (l->o->chip->id == OTA_CHIP_ID_ESP32) {
        size_t end = l->out.len + len + OTA_IMG_SEG_HEADER_LEN;
        size_t rem = end % l->align;
        if (rem < 0x24) {
            size_t extra = 0x24 - rem;
            uint8_t *p = realloc(s->data, s->len + extra);
            if (p == NULL) {
                l->err = OTA_ERR_NO_MEM;
                return;
            }
            memset(p + s->len, 0, extra);
            s->data = p;
            s->len += extra;
            len += extra;
        }
    }
    save_segment(l, s->addr, s->data + s->off, len);
}

static void write_header(layout_t *l)
{
    const ota_img_build_opts_t *o = l->o;
    ota_img_header_t h;
    uint8_t raw[OTA_IMG_HEADER_LEN];
    memset(&h, 0, sizeof(h));
    h.magic = OTA_IMG_MAGIC;
    h.spi_mode = o->flash_mode;
    h.spi_speed = o->flash_freq;
    h.spi_size = o->flash_size;
    h.entry_addr = o->entry;
    h.wp_pin = OTA_IMG_WP_PIN_DISABLED;
    h.chip_id = o->chip->id;
    h.min_chip_rev = o->min_rev;
    h.min_chip_rev_full = o->min_rev_full;
    h.max_chip_rev_full = o->max_rev_full;
    h.hash_appended = o->no_hash ? 0 : 1;
    ota_img_header_encode(&h, raw);
    ota_buf_put(&l->out, raw, sizeof(raw));
}

static void free_list(wseg_t *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++) {
        free(list[i].data);
    }
    free(list);
}

/* Copies the input segments, padded to 4 bytes where esptool pads them. */
static int copy_segments(const ota_img_build_seg_t *segs, size_t n, wseg_t *list)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = segs[i].len;
        size_t padded = segs[i].load_addr != 0 ? (len + 3) / 4 * 4 : len;
        list[i].data = calloc(1, padded ? padded : 1);
        if (list[i].data == NULL) {
            return OTA_ERR_NO_MEM;
        }
        if (len > 0) {
            memcpy(list[i].data, segs[i].data, len);
        }
        list[i].addr = segs[i].load_addr;
        list[i].off = 0;
        list[i].len = padded;
        list[i].flags = (segs[i].flags & 0xFFu) | ((uint32_t)i << 8);
    }
    return OTA_OK;
}

static void layout_segments(layout_t *l, wseg_t *flash, size_t nf, wseg_t *ram, size_t nr)
{
    size_t fi = 0;
    size_t ri = 0;
    while (fi < nf && l->err == OTA_OK) {
        wseg_t *s = &flash[fi];
        long long pad = alignment_needed(l, s->addr);
        if (pad > 0) {
            if (ri < nr && pad > OTA_IMG_SEG_HEADER_LEN) {
                wseg_t *r = &ram[ri];
                size_t take = wlen(r) < (size_t)pad ? wlen(r) : (size_t)pad;
                save_segment(l, r->addr, r->data + r->off, take);
                r->off += take;
                r->addr += (uint32_t)take;
                if (wlen(r) == 0) {
                    ri++;
                }
            } else {
                save_segment(l, 0, NULL, (size_t)pad);
            }
        } else {
            save_flash_segment(l, s);
            fi++;
        }
    }
    for (; ri < nr && l->err == OTA_OK; ri++) {
        save_segment(l, ram[ri].addr, ram[ri].data + ram[ri].off, wlen(&ram[ri]));
    }
}

int ota_img_build(const ota_crypto_t *c, const ota_img_build_opts_t *opts,
                  const ota_img_build_seg_t *segs, size_t n, uint8_t **out, size_t *out_len,
                  ota_diag_t *diag)
{
    if (opts == NULL || opts->chip == NULL || out == NULL || out_len == NULL ||
        (segs == NULL && n > 0) || (c == NULL && !opts->no_hash)) {
        return OTA_ERR_INVALID_ARG;
    }
    *out = NULL;
    *out_len = 0;
    uint32_t align = opts->mmu_page_size ? opts->mmu_page_size : OTA_MMU_PAGE_SIZE_DEFAULT;
    if ((align & (align - 1)) != 0 || (opts->chip->mmu_page_sizes & align) == 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "%u bytes is not a valid %s page size",
                            (unsigned)align, opts->chip->name);
    }
    for (size_t i = 0; i < n; i++) {
        if (segs[i].data == NULL && segs[i].len > 0) {
            return OTA_ERR_INVALID_ARG;
        }
    }

    wseg_t *flash = calloc(n ? n : 1, sizeof(*flash));
    wseg_t *ram = calloc(n ? n : 1, sizeof(*ram));
    wseg_t *all = calloc(n ? n : 1, sizeof(*all));
    layout_t l = {opts, {NULL, 0, 0, false}, OTA_IMG_CHECKSUM_SEED, 0, align, diag, OTA_OK};
    size_t nf = 0;
    size_t nr = 0;
    if (flash == NULL || ram == NULL || all == NULL) {
        l.err = OTA_ERR_NO_MEM;
    } else {
        l.err = copy_segments(segs, n, all);
    }
    if (l.err == OTA_OK) {
        qsort(all, n, sizeof(*all), by_addr);
        for (size_t i = 0; i < n; i++) {
            if (ota_chip_tool_is_flash_addr(opts->chip, all[i].addr)) {
                flash[nf++] = all[i];
            } else {
                ram[nr++] = all[i];
            }
            all[i].data = NULL; /* ownership moved */
        }
        move_first(flash, nf, OTA_IMG_BUILD_APPDESC);
        move_first(ram, nr, OTA_IMG_BUILD_BOOTDESC);
        for (size_t i = 1; i < nf; i++) {
            if (flash[i].addr / align == flash[i - 1].addr / align) {
                l.err = ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                     "Segment loaded at 0x%08x lands in same %u KB flash mapping "
                                     "as segment loaded at 0x%08x. Can't generate binary. Suggest "
                                     "changing linker script or ELF to merge sections.",
                                     (unsigned)flash[i].addr, (unsigned)(align / 1024),
                                     (unsigned)flash[i - 1].addr);
                break;
            }
        }
    }
    if (l.err == OTA_OK) {
        write_header(&l);
        layout_segments(&l, flash, nf, ram, nr);
    }
    if (l.err == OTA_OK && (opts->secure_pad_v2 || opts->secure_pad) && opts->no_hash) {
        l.err = ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                             "secure_pad only applies if a SHA-256 digest is also appended to "
                             "the image");
    }
    if (l.err == OTA_OK && (opts->secure_pad_v2 || opts->secure_pad)) {
        /* after the checksum: the SHA-256, and for V1 the version, signature and 12 bytes */
        long long after = opts->secure_pad_v2 ? 32 : 32 + 4 + 64 + 12;
        long long past = (long long)((l.out.len + OTA_IMG_SEG_HEADER_LEN) % align);
        long long pad = ((long long)align - past - 16 - after) % (long long)align;
        if (pad < 0) {
            pad += align;
        }
        save_segment(&l, 0, NULL, (size_t)pad);
    }
    if (l.err == OTA_OK && l.count > OTA_IMG_MAX_SEGMENTS) {
        l.err = ota_diag_set(diag, OTA_ERR_SIZE,
                             "Invalid segment count %d (max 16). Usually this indicates a linker "
                             "script problem.",
                             l.count);
    }
    if (l.err == OTA_OK) {
        ota_buf_fill(&l.out, 0, 15 - l.out.len % 16);
        ota_buf_put(&l.out, &l.sum, 1);
        if (!l.out.oom) {
            l.out.p[1] = (uint8_t)l.count;
        }
        if (!opts->no_hash && !l.out.oom) {
            uint8_t digest[OTA_IMG_HASH_LEN];
            size_t image_len = l.out.len;
            int e = ota_hash(c, OTA_HASH_SHA256, l.out.p, image_len, digest);
            if (e != OTA_OK) {
                l.err = e;
            }
            ota_buf_put(&l.out, digest, sizeof(digest));
        }
        if (opts->pad_to_size != 0 && l.out.len % opts->pad_to_size != 0) {
            ota_buf_fill(&l.out, 0xFF, opts->pad_to_size - l.out.len % opts->pad_to_size);
        }
        if (l.out.oom) {
            l.err = OTA_ERR_NO_MEM;
        }
    }
    free_list(flash, nf);
    free_list(ram, nr);
    free_list(all, n);
    if (l.err != OTA_OK) {
        free(l.out.p);
        return l.err;
    }
    *out = l.out.p;
    *out_len = l.out.len;
    return OTA_OK;
}
