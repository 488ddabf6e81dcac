/*
 * The text `esptool image-info` (v5.3.1) prints for an ESP32-family image, built from the
 * lenient parser's view of the file.
 */
#include "ota/ota_img_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_buf.h"
#include "ota/ota_memflash.h"

/* A title and its "=" underline. */
static void title(ota_buf_t *t, const char *chip, const char *what)
{
    char line[96];
    int n = snprintf(line, sizeof(line), "%s%s%s", chip ? chip : "", chip ? " " : "", what);
    ota_buf_printf(t, "%s\n", line);
    for (int i = 0; i < n; i++) {
        ota_buf_printf(t, "=");
    }
    ota_buf_printf(t, "\n");
}

/* 2^(e - 10) in decimal ("MMU page size: N KB"), exact for any e in 0..255. */
static void page_kb(uint8_t e, char *out, size_t cap)
{
    if (e < 10) {
        snprintf(out, cap, "0");
        return;
    }
    uint8_t digits[80] = {1};
    int nd = 1;
    for (int i = 0; i < e - 10; i++) {
        int carry = 0;
        for (int d = 0; d < nd; d++) {
            int v = digits[d] * 2 + carry;
            digits[d] = (uint8_t)(v % 10);
            carry = v / 10;
        }
        if (carry != 0 && nd < 80) {
            digits[nd++] = (uint8_t)carry;
        }
    }
    size_t k = 0;
    for (int d = nd - 1; d >= 0 && k + 1 < cap; d--) {
        out[k++] = (char)('0' + digits[d]);
    }
    out[k] = '\0';
}

static void upper(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < cap; i++) {
        out[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    }
    out[i] = '\0';
}

static void print_header(ota_buf_t *t, const ota_img_info_t *in, const char *chip)
{
    const ota_img_header_t *h = &in->header;
    ota_buf_printf(t, "\n");
    title(t, chip, "Image Header");
    ota_buf_printf(t, "Image version: 1\n");
    if (h->entry_addr != 0) {
        char hex[16];
        snprintf(hex, sizeof(hex), "0x%x", (unsigned)h->entry_addr);
        ota_buf_printf(t, "Entry point: %8s\n", hex);
    } else {
        ota_buf_printf(t, "Entry point not set\n");
    }
    ota_buf_printf(t, "Segments: %d\n", in->seg_count);
    const char *size = ota_flash_size_name(h->spi_size);
    if (size != NULL) {
        ota_buf_printf(t, "Flash size: %s\n", size);
    } else {
        ota_buf_printf(t, "Warning: Invalid flash size (0x%x)\n", (unsigned)h->spi_size << 4);
    }
    const char *freq = ota_chip_flash_freq_name(in->chip, h->spi_speed);
    if (freq != NULL) {
        ota_buf_printf(t, "Flash freq: %s\n", freq);
    } else {
        ota_buf_printf(t, "Warning: Invalid flash frequency (0x%x)\n", h->spi_speed);
    }
    const char *mode = ota_flash_mode_name(h->spi_mode);
    if (mode != NULL) {
        char up[8];
        upper(mode, up, sizeof(up));
        ota_buf_printf(t, "Flash mode: %s\n", up);
    } else {
        ota_buf_printf(t, "Warning: Invalid flash mode (%d)\n", h->spi_mode);
    }

    ota_buf_printf(t, "\n");
    title(t, chip, "Extended Image Header");
    if (h->wp_pin == OTA_IMG_WP_PIN_DISABLED) {
        ota_buf_printf(t, "WP pin: 0x%x (disabled)\n", h->wp_pin);
    } else {
        ota_buf_printf(t, "WP pin: 0x%x\n", h->wp_pin);
    }
    const uint8_t *d = h->spi_pin_drv;
    ota_buf_printf(
        t,
        "Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, d_drv: 0x%x, cs0_drv: 0x%x, "
        "hd_drv: 0x%x, wp_drv: 0x%x\n",
        d[0] & 0xF, d[0] >> 4, d[1] & 0xF, d[1] >> 4, d[2] & 0xF, d[2] >> 4);
    const ota_chip_t *named = ota_chip_by_id(h->chip_id);
    ota_buf_printf(t, "Chip ID: %d (%s)\n", h->chip_id, named ? named->name : "Unknown ID");
    ota_buf_printf(t, "Minimal chip revision: v%d.%d, (legacy min_rev = %d)\n",
                   h->min_chip_rev_full / 100, h->min_chip_rev_full % 100, h->min_chip_rev);
    ota_buf_printf(t, "Maximal chip revision: v%d.%d\n", h->max_chip_rev_full / 100,
                   h->max_chip_rev_full % 100);
    ota_buf_printf(t, "\n");
}

static void print_segments(ota_buf_t *t, const ota_img_info_t *in)
{
    char types[256];
    title(t, NULL, "Segments Information");
    ota_buf_printf(t, "%7s  %7s  %10s  %10s  %-10s\n", "Segment", "Length", "Load addr",
                   "File offs", "Memory types");
    ota_buf_printf(t, "-------  -------  ----------  ----------  ------------\n");
    for (int i = 0; i < in->seg_count; i++) {
        const ota_img_seg_t *s = &in->segs[i];
        ota_chip_mem_types(in->chip, s->load_addr, types, sizeof(types));
        ota_buf_printf(t, "%7d  0x%05x  0x%08x  0x%08x  %s\n", i, (unsigned)s->data_len,
                       (unsigned)s->load_addr, (unsigned)s->offset, types);
    }
    ota_buf_printf(t, "\n");
}

static void print_footer(ota_buf_t *t, const ota_img_info_t *in, const char *chip)
{
    title(t, chip, "Image Footer");
    if (in->checksum_valid) {
        ota_buf_printf(t, "Checksum: 0x%02x (valid)\n", in->checksum_stored);
    } else {
        ota_buf_printf(t, "Checksum: 0x%02x (invalid - calculated 0x%02x)\n", in->checksum_stored,
                       in->checksum_calc);
    }
    if (in->hash_appended) {
        ota_buf_printf(t, "Validation hash: ");
        for (int i = 0; i < 32; i++) {
            ota_buf_printf(t, "%02x", in->hash_calc[i]);
        }
        ota_buf_printf(t, " (%s)\n", in->hash_valid ? "valid" : "invalid");
    }
}

static void print_descriptors(ota_buf_t *t, const ota_img_info_t *in)
{
    if (in->has_app_desc) {
        const ota_app_desc_t *a = &in->app_desc;
        ota_buf_printf(t, "\n");
        title(t, NULL, "Application Information");
        ota_buf_printf(t, "Project name: %s\n", a->project_name);
        ota_buf_printf(t, "App version: %s\n", a->version);
        ota_buf_printf(t, "Compile time: %s %s\n", a->date, a->time);
        ota_buf_printf(t, "ELF file SHA256: ");
        for (int i = 0; i < 32; i++) {
            ota_buf_printf(t, "%02x", a->app_elf_sha256[i]);
        }
        ota_buf_printf(t, "\n");
        ota_buf_printf(t, "ESP-IDF: %s\n", a->idf_ver);
        ota_buf_printf(t, "Minimal eFuse block revision: %d.%d\n", a->min_efuse_blk_rev_full / 100,
                       a->min_efuse_blk_rev_full % 100);
        ota_buf_printf(t, "Maximal eFuse block revision: %d.%d\n", a->max_efuse_blk_rev_full / 100,
                       a->max_efuse_blk_rev_full % 100);
        if (a->mmu_page_size != 0) {
            char kb[100];
            page_kb(a->mmu_page_size, kb, sizeof(kb));
            ota_buf_printf(t, "MMU page size: %s KB\n", kb);
        }
        ota_buf_printf(t, "Secure version: %u\n", (unsigned)a->secure_version);
    } else if (in->has_boot_desc) {
        const ota_boot_desc_t *b = &in->boot_desc;
        ota_buf_printf(t, "\n");
        title(t, NULL, "Bootloader Information");
        ota_buf_printf(t, "Bootloader version: %u\n", (unsigned)b->version);
        ota_buf_printf(t, "ESP-IDF: %s\n", b->idf_ver);
        ota_buf_printf(t, "Compile time: %s\n", b->date_time);
    }
}

int ota_img_info_format(const ota_crypto_t *c, const uint8_t *data, size_t len, char **text,
                        ota_diag_t *diag)
{
    ota_flash_t f;
    ota_memflash_t m;
    ota_img_info_t in;
    if (c == NULL || text == NULL || (data == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    *text = NULL;
    if (len > UINT32_MAX) {
        return ota_diag_set(diag, OTA_ERR_SIZE, "image larger than 4 GiB");
    }
    static uint8_t empty;
    ota_memflash_init(&f, &m, len ? (uint8_t *)data : &empty, (uint32_t)len, true);
    int err = ota_img_parse(&f, c, 0, (uint32_t)len, &in, diag);
    if (err != OTA_OK) {
        return err;
    }
    if (in.chip == NULL) {
        return ota_diag_set(diag, OTA_ERR_CORRUPT, "Unknown image chip ID (%d).",
                            in.header.chip_id & 0xFF);
    }
    char chip[32];
    upper(in.chip->name, chip, sizeof(chip));
    ota_buf_t t = {0};
    ota_buf_printf(&t, "Image size: %zu bytes\n", len);
    ota_buf_printf(&t, "Detected image type: %s\n", chip);
    print_header(&t, &in, chip);
    print_segments(&t, &in);
    print_footer(&t, &in, chip);
    print_descriptors(&t, &in);
    if (t.oom) {
        ota_buf_free(&t);
        return OTA_ERR_NO_MEM;
    }
    *text = (char *)t.p;
    return OTA_OK;
}
