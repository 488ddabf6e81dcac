/*
 * Real images from the shared vectors: every app, bootloader and merged row of MANIFEST.md is
 * parsed, printed and verified, and compared field by field with what the reference tool printed
 * for it (info/NN.txt). Expected values are read from those files, never written here.
 * Skips when the vectors are absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "test_util.h"

#define MAX_ROWS 64

typedef struct row {
    int n;
    char kind[16];
    char path[512];
} row_t;

static row_t rows[MAX_ROWS];
static int nrows;
static int sbv2_rows[2];

/* ---- reading MANIFEST.md ------------------------------------------------------------------- */

static int load_manifest(void)
{
    const char *p = test_vector_path("MANIFEST.md");
    size_t len = 0;
    char *text = p ? (char *)test_read_file(p, &len) : NULL;
    if (text == NULL) {
        return -1;
    }
    nrows = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        row_t r;
        char *tick;
        if (sscanf(line, "| %d | %15s |", &r.n, r.kind) == 2 && (tick = strchr(line, '`'))) {
            char *end = strchr(tick + 1, '`');
            if (end == NULL || (size_t)(end - tick - 1) >= sizeof(r.path)) {
                continue;
            }
            memcpy(r.path, tick + 1, (size_t)(end - tick - 1));
            r.path[end - tick - 1] = '\0';
            if ((strcmp(r.kind, "app") == 0 || strcmp(r.kind, "bootloader") == 0 ||
                 strcmp(r.kind, "merged") == 0) &&
                nrows < MAX_ROWS) {
                rows[nrows++] = r;
            }
        }
        sscanf(line, "- Rows %d and %d carry Secure Boot V2", &sbv2_rows[0], &sbv2_rows[1]);
    }
    free(text);
    return nrows;
}

/* ---- reading info/NN.txt ------------------------------------------------------------------- */

typedef struct eseg {
    unsigned len, load, offs;
    char types[128];
} eseg_t;

typedef struct expect {
    bool v5;         /* from the esptool v5.3.1 section (else v4, which v5 could not parse) */
    char text[8192]; /* the section's printed text from "Image size" on (v5 only) */
    char chip[40];
    int nseg;
    eseg_t segs[16];
    unsigned checksum, calc;
    bool checksum_valid;
    bool has_hash;
    char hash[65];
    bool hash_valid;
    bool app;
    char project[64], version[64], compile[64], elf_sha[65], idf[64];
    unsigned efmin_a, efmin_b, efmax_a, efmax_b, secure;
    int mmu_kb; /* -1 when not printed */
    bool boot;
    unsigned boot_version;
    char boot_idf[64], boot_time[64];
} expect_t;

static const char *after(const char *line, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(line, prefix, n) == 0 ? line + n : NULL;
}

/* Copies src into dst (cap bytes), cutting it to fit; always NUL-terminated. */
static void copy_to(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Parses the section of tool output that starts at `start` (a "$ esptool..." line). */
static void parse_section(const char *start, expect_t *e)
{
    const char *p = strchr(start, '\n');
    bool in_app = false;
    bool in_boot = false;
    e->mmu_kb = -1;
    while (p != NULL && *++p != '\0' && strncmp(p, "$ ", 2) != 0) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)n, p);
        const char *v;
        eseg_t s;
        int idx;
        if (e->v5 && strncmp(line, "Warning: DEPRECATED", 19) != 0 &&
            strncmp(line, "esptool v", 9) != 0 && strlen(e->text) + n + 2 < sizeof(e->text)) {
            strcat(e->text, line);
            strcat(e->text, "\n");
        }
        if ((v = after(line, "Detected image type: "))) {
            copy_to(e->chip, sizeof(e->chip), v);
        } else if (sscanf(line, "%d  0x%x  0x%x  0x%x", &idx, &s.len, &s.load, &s.offs) == 4 &&
                   idx == e->nseg && idx < 16) {
            const char *t = strstr(line, "0x");
            for (int k = 0; k < 2 && t; k++) {
                t = strstr(t + 2, "0x");
            }
            copy_to(s.types, sizeof(s.types), t && strlen(t) >= 12 ? t + 12 : "");
            e->segs[e->nseg++] = s;
        } else if ((v = after(line, "Checksum: "))) {
            sscanf(v, "0x%x", &e->checksum);
            e->checksum_valid = strstr(v, "(valid)") != NULL;
            const char *c = strstr(v, "calculated 0x");
            if (c) {
                sscanf(c, "calculated 0x%x", &e->calc);
            }
        } else if ((v = after(line, "Validation hash: "))) {
            e->has_hash = true;
            snprintf(e->hash, sizeof(e->hash), "%.64s", v);
            e->hash_valid = strstr(v, "(valid)") != NULL;
        } else if (strcasecmp(line, "Application Information") == 0) {
            e->app = in_app = true;
        } else if (strcasecmp(line, "Bootloader Information") == 0) {
            e->boot = in_boot = true;
        } else if (in_app && (v = after(line, "Project name: "))) {
            copy_to(e->project, sizeof(e->project), v);
        } else if (in_app && (v = after(line, "App version: "))) {
            copy_to(e->version, sizeof(e->version), v);
        } else if ((in_app || in_boot) && (v = after(line, "Compile time: "))) {
            copy_to(in_app ? e->compile : e->boot_time, sizeof(e->compile), v);
        } else if (in_app && (v = after(line, "ELF file SHA256: "))) {
            copy_to(e->elf_sha, sizeof(e->elf_sha), v);
        } else if ((in_app || in_boot) && (v = after(line, "ESP-IDF: "))) {
            copy_to(in_app ? e->idf : e->boot_idf, sizeof(e->idf), v);
        } else if (in_app && (v = after(line, "Minimal eFuse block revision: "))) {
            sscanf(v, "%u.%u", &e->efmin_a, &e->efmin_b);
        } else if (in_app && (v = after(line, "Maximal eFuse block revision: "))) {
            sscanf(v, "%u.%u", &e->efmax_a, &e->efmax_b);
        } else if (in_app && (v = after(line, "MMU page size: "))) {
            sscanf(v, "%d KB", &e->mmu_kb);
        } else if (in_app && (v = after(line, "Secure version: "))) {
            sscanf(v, "%u", &e->secure);
        } else if (in_boot && (v = after(line, "Bootloader version: "))) {
            sscanf(v, "%u", &e->boot_version);
        }
        p = nl;
    }
}

static bool load_expect(int n, expect_t *e)
{
    char rel[32];
    snprintf(rel, sizeof(rel), "info/%02d.txt", n);
    const char *p = test_vector_path(rel);
    size_t len = 0;
    char *text = p ? (char *)test_read_file(p, &len) : NULL;
    if (text == NULL) {
        return false;
    }
    memset(e, 0, sizeof(*e));
    const char *v5 = strstr(text, "$ esptool v5.3.1 image-info");
    const char *v4 = strstr(text, "$ esptool.py v4.12.0 image_info");
    const char *eol = v5 ? strchr(v5, '\n') : NULL;
    bool v5_ok =
        v5 != NULL && eol != NULL && strstr(v5, "(rc=0)") != NULL && strstr(v5, "(rc=0)") < eol;
    e->v5 = v5_ok;
    assert_true(v5_ok || v4 != NULL);
    parse_section(v5_ok ? v5 : v4, e);
    free(text);
    return true;
}

/* ---- checks -------------------------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", b[i]);
    }
}

static void upper(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        out[i] = (char)toupper((unsigned char)s[i]);
    }
    out[i] = '\0';
}

static void check_parse(const row_t *r, const expect_t *e, const ota_img_info_t *in)
{
    char buf[128];
    print_message("row %d: %s\n", r->n, r->path);
    assert_non_null(in->chip);
    upper(in->chip->name, buf, sizeof(buf));
    assert_string_equal(buf, e->chip);
    assert_int_equal(in->seg_count, e->nseg);
    for (int i = 0; i < e->nseg; i++) {
        assert_int_equal(in->segs[i].data_len, e->segs[i].len);
        assert_int_equal(in->segs[i].load_addr, e->segs[i].load);
        assert_int_equal(in->segs[i].offset, e->segs[i].offs);
        ota_chip_mem_types(in->chip, in->segs[i].load_addr, buf, sizeof(buf));
        assert_string_equal(buf, e->segs[i].types);
    }
    assert_int_equal(in->checksum_stored, e->checksum);
    assert_int_equal(in->checksum_valid, e->checksum_valid);
    if (!e->checksum_valid) {
        assert_int_equal(in->checksum_calc, e->calc);
    }
    assert_int_equal(in->hash_appended, e->has_hash);
    if (e->has_hash) {
        hex(in->hash_calc, 32, buf);
        assert_string_equal(buf, e->hash);
        assert_int_equal(in->hash_valid, e->hash_valid);
    }
    assert_int_equal(in->has_app_desc, e->app);
    if (e->app) {
        const ota_app_desc_t *a = &in->app_desc;
        assert_string_equal(a->project_name, e->project);
        assert_string_equal(a->version, e->version);
        snprintf(buf, sizeof(buf), "%s %s", a->date, a->time);
        assert_string_equal(buf, e->compile);
        hex(a->app_elf_sha256, 32, buf);
        assert_string_equal(buf, e->elf_sha);
        assert_string_equal(a->idf_ver, e->idf);
        assert_int_equal(a->min_efuse_blk_rev_full, e->efmin_a * 100 + e->efmin_b);
        assert_int_equal(a->max_efuse_blk_rev_full, e->efmax_a * 100 + e->efmax_b);
        assert_int_equal(a->secure_version, e->secure);
        if (e->mmu_kb < 0) {
            assert_int_equal(a->mmu_page_size, 0);
        } else {
            assert_int_equal((1u << a->mmu_page_size) / 1024, (unsigned)e->mmu_kb);
        }
    }
    assert_int_equal(in->has_boot_desc, e->boot);
    if (e->boot) {
        assert_int_equal(in->boot_desc.version, e->boot_version);
        assert_string_equal(in->boot_desc.idf_ver, e->boot_idf);
        assert_string_equal(in->boot_desc.date_time, e->boot_time);
    }
    /* the image length the verifier will find: segments, checksum block, hash */
    const eseg_t *last = &e->segs[e->nseg - 1];
    uint32_t end = last->offs + 8 + last->len;
    assert_int_equal(in->data_len, (end + 1 + 15) / 16 * 16);
    assert_int_equal(in->image_len, in->data_len + (e->has_hash ? 32 : 0));
}

static void check_verify(const row_t *r, const expect_t *e, const ota_img_info_t *in,
                         ota_flash_t *f, uint32_t size)
{
    bool boot = strcmp(r->kind, "app") != 0;
    ota_img_verify_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = in->chip;
    o.bootloader = boot;
    o.chip_rev = in->header.min_chip_rev_full;
    o.mmu_page_size = ota_chip_default_mmu_page_size(in->chip, in->header.spi_size);
    o.efuse_blk_rev = in->has_app_desc ? in->app_desc.min_efuse_blk_rev_full : 0;
    ota_img_meta_t m;
    ota_diag_t d = {{0}};
    int err = ota_img_verify(f, ota_crypto_openssl(), 0, size, &o, &m, &d);
    bool ok = e->checksum_valid && (!e->has_hash || e->hash_valid || boot);
    if (ok) {
        assert_int_equal(err, OTA_OK);
        assert_int_equal(m.image_len, in->image_len);
        assert_int_equal(m.has_app_desc, !boot && in->has_app_desc);
    } else {
        char msg[100];
        assert_int_equal(err, OTA_ERR_CORRUPT);
        if (!e->checksum_valid) {
            snprintf(msg, sizeof(msg), "Checksum failed. Calculated 0x%x read 0x%x", e->calc,
                     e->checksum);
            assert_string_equal(d.msg, msg);
        }
    }
    bool sbv2 = r->n == sbv2_rows[0] || r->n == sbv2_rows[1];
    assert_int_equal(in->sig_present, sbv2);
    if (sbv2) {
        assert_true(in->sig_blocks >= 1);
        assert_int_equal(in->sig_offset % 4096, 0);
        assert_int_equal(in->total_len, size);
        o.secure_boot_v2 = true;
        assert_int_equal(ota_img_verify(f, ota_crypto_openssl(), 0, size, &o, &m, &d), OTA_OK);
        assert_int_equal(m.image_len, size);
        assert_true(m.hash_checked);
        assert_int_equal(ota_img_verify(f, ota_crypto_openssl(), 0, size - 1, &o, &m, &d),
                         OTA_ERR_CORRUPT);
    }
}

/*
 * Rebuilds an image from its own segments with ota_img_build and compares the bytes: the pieces
 * esptool split off a RAM segment to fill a gap are joined back first, padding segments dropped.
 * Returns false (not checked) for images with trailing padding or a WP pin other than 0xEE.
 */
static bool check_relayout(const uint8_t *data, const ota_img_info_t *in)
{
    const ota_chip_t *c = in->chip;
    int n = in->seg_count;
    if (in->header.wp_pin != OTA_IMG_WP_PIN_DISABLED || n == 0 || in->segs[n - 1].load_addr == 0 ||
        in->header.hash_appended != 1) {
        return false;
    }
    ota_img_build_seg_t segs[16];
    uint32_t lens[16];
    bool gone[16] = {false};
    for (int i = 0; i < n; i++) {
        lens[i] = in->segs[i].data_len;
    }
    /* a RAM segment right before a flash segment may be a piece of a later one */
    for (int i = 0; i + 1 < n; i++) {
        uint32_t a = in->segs[i].load_addr;
        if (a == 0 || ota_chip_tool_is_flash_addr(c, a) ||
            !ota_chip_tool_is_flash_addr(c, in->segs[i + 1].load_addr)) {
            continue;
        }
        for (int j = i + 2; j < n; j++) {
            if (!gone[j] && in->segs[j].load_addr == a + lens[i]) {
                gone[j] = true;
                break;
            }
        }
    }
    int k = 0;
    bool first_flash = true;
    bool first_ram = true;
    uint8_t *joined[16] = {NULL};
    for (int i = 0; i < n; i++) {
        if (gone[i] || in->segs[i].load_addr == 0) {
            continue;
        }
        const ota_img_seg_t *s = &in->segs[i];
        bool flash = ota_chip_tool_is_flash_addr(c, s->load_addr);
        size_t len = s->data_len;
        const uint8_t *d = data + s->offset + 8;
        /* join the pieces split off this segment */
        for (int j = i + 1; j < n; j++) {
            if (gone[j] && in->segs[j].load_addr == s->load_addr + len) {
                uint8_t *b = malloc(len + in->segs[j].data_len);
                memcpy(b, d, len);
                memcpy(b + len, data + in->segs[j].offset + 8, in->segs[j].data_len);
                len += in->segs[j].data_len;
                free(joined[k]);
                joined[k] = b;
                d = b;
            }
        }
        segs[k].load_addr = s->load_addr;
        segs[k].data = d;
        segs[k].len = len;
        segs[k].flags = 0;
        if (flash && first_flash) {
            segs[k].flags = OTA_IMG_BUILD_APPDESC;
            first_flash = false;
        } else if (!flash && first_ram) {
            segs[k].flags = OTA_IMG_BUILD_BOOTDESC;
            first_ram = false;
        }
        k++;
    }
    ota_img_build_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip = c;
    o.flash_mode = in->header.spi_mode;
    o.flash_freq = in->header.spi_speed;
    o.flash_size = in->header.spi_size;
    o.entry = in->header.entry_addr;
    o.min_rev = in->header.min_chip_rev;
    o.min_rev_full = in->header.min_chip_rev_full;
    o.max_rev_full = in->header.max_chip_rev_full;
    o.mmu_page_size = ota_chip_default_mmu_page_size(c, in->header.spi_size);
    uint8_t *img = NULL;
    size_t len = 0;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_img_build(ota_crypto_openssl(), &o, segs, (size_t)k, &img, &len, &diag),
                     OTA_OK);
    assert_int_equal(len, in->image_len);
    assert_memory_equal(img, data, len);
    free(img);
    for (int i = 0; i < 16; i++) {
        free(joined[i]);
    }
    return true;
}

static void test_vectors(void **state)
{
    (void)state;
    assert_true(load_manifest() > 0);
    int relayouts = 0;
    for (int i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        expect_t *e = calloc(1, sizeof(*e));
        assert_non_null(e);
        if (!load_expect(r->n, e)) {
            free(e);
            continue;
        }
        const char *path = test_vector_path(r->path);
        assert_non_null(path);
        size_t len = 0;
        uint8_t *data = test_read_file(path, &len);
        assert_non_null(data);
        ota_flash_t f;
        ota_memflash_t m;
        ota_memflash_init(&f, &m, data, (uint32_t)len, true);
        ota_img_info_t in;
        ota_diag_t d = {{0}};
        assert_int_equal(ota_img_parse(&f, ota_crypto_openssl(), 0, (uint32_t)len, &in, &d),
                         OTA_OK);
        check_parse(r, e, &in);
        if (e->v5) {
            char *text = NULL;
            assert_int_equal(ota_img_info_format(ota_crypto_openssl(), data, len, &text, &d),
                             OTA_OK);
            assert_string_equal(text, e->text);
            free(text);
        }
        if (!in.chip->legacy) {
            check_verify(r, e, &in, &f, (uint32_t)len);
            if (e->checksum_valid && check_relayout(data, &in)) {
                relayouts++;
            }
        }
        free(data);
        free(e);
    }
    print_message("%d images rebuilt byte for byte\n", relayouts);
    assert_true(relayouts >= 10);
}

/* The app descriptor as esp_ota_get_partition_description reads it. */
static void test_read_app_desc(void **state)
{
    (void)state;
    assert_true(load_manifest() > 0);
    for (int i = 0; i < nrows; i++) {
        expect_t *e = calloc(1, sizeof(*e));
        if (strcmp(rows[i].kind, "app") != 0 || !load_expect(rows[i].n, e)) {
            free(e);
            continue;
        }
        size_t len = 0;
        uint8_t *data = test_read_file(test_vector_path(rows[i].path), &len);
        assert_non_null(data);
        ota_flash_t f;
        ota_memflash_t m;
        ota_memflash_init(&f, &m, data, (uint32_t)len, true);
        ota_app_desc_t a;
        ota_img_info_t in;
        assert_int_equal(ota_img_parse(&f, NULL, 0, (uint32_t)len, &in, NULL), OTA_OK);
        int err = ota_img_read_app_desc(&f, 0, &a);
        /* the reference tool finds no descriptor on a chip it has no memory map for */
        if (!in.chip->legacy) {
            assert_int_equal(err, e->app ? OTA_OK : OTA_ERR_NOT_FOUND);
        }
        if (e->app) {
            assert_string_equal(a.project_name, e->project);
        }
        ota_img_host_info_t h;
        assert_int_equal(ota_img_host_locate(&f, 0, (uint32_t)len, &h, NULL), OTA_ERR_NOT_FOUND);
        free(data);
        free(e);
    }
}

int main(void)
{
    if (!test_vectors_present()) {
        fprintf(stderr, "the shared vectors are absent: skipped\n");
        return TEST_SKIP_STATUS;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_read_app_desc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
