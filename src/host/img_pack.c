/*
 * otakit app and bootloader images: descriptors, the host descriptor and the baked-in sdkconfig,
 * laid out by ota_img_build; and the app version resolved as ESP-IDF's build does.
 */
#include "ota/ota_img_build.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ota_le.h"

extern char **environ;

/* ---- app version --------------------------------------------------------------------------- */

/* Copies the first line of s (at most n bytes), without leading and trailing white space. */
static void first_line_trimmed(const char *s, size_t n, char *out, size_t cap)
{
    size_t a = 0;
    size_t e = 0;
    while (e < n && s[e] != '\n' && s[e] != '\r' && s[e] != '\0') {
        e++;
    }
    while (a < e && (s[a] == ' ' || s[a] == '\t')) {
        a++;
    }
    while (e > a && (s[e - 1] == ' ' || s[e - 1] == '\t')) {
        e--;
    }
    size_t len = e - a < cap - 1 ? e - a : cap - 1;
    memmove(out, s + a, len);
    out[len] = '\0';
}

/* Runs `git describe --always --tags --dirty` in dir; true with its first line on success. */
static bool git_describe(const char *dir, char *out, size_t cap)
{
    int pfd[2];
    if (pipe(pfd) != 0) {
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addclose(&fa, pfd[1]);
    char *argv[] = {"git", "-C", (char *)dir, "describe", "--always", "--tags", "--dirty", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return false;
    }
    char buf[512];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        if (got == sizeof(buf) - 1) {
            char sink[256];
            while (read(pfd[0], sink, sizeof(sink)) > 0) {
            }
            break;
        }
    }
    close(pfd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return false;
    }
    first_line_trimmed(buf, got, out, cap);
    return out[0] != '\0';
}

int ota_img_app_version(const ota_sdkconfig_t *cfg, const char *explicit_ver,
                        const char *project_dir, char out[OTA_APP_VERSION_LEN], ota_diag_t *diag)
{
    char tmp[512];
    const char *v = "1";
    if (cfg != NULL && ota_sdkconfig_bool(cfg, "APP_PROJECT_VER_FROM_CONFIG", false)) {
        v = ota_sdkconfig_str(cfg, "APP_PROJECT_VER", "1");
    } else if (explicit_ver != NULL) {
        v = explicit_ver;
    } else if (project_dir != NULL) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/version.txt", project_dir);
        if (stat(path, &st) == 0) {
            FILE *fp = fopen(path, "rb");
            if (fp == NULL) {
                return ota_diag_set(diag, OTA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            }
            size_t n = fread(tmp, 1, sizeof(tmp) - 1, fp);
            int bad = ferror(fp);
            fclose(fp);
            if (bad) {
                return ota_diag_set(diag, OTA_ERR_IO, "%s: read error", path);
            }
            tmp[n] = '\0';
            first_line_trimmed(tmp, n, tmp, sizeof(tmp));
            v = tmp;
        } else if (git_describe(project_dir, tmp, sizeof(tmp))) {
            v = tmp;
        }
    }
    snprintf(out, OTA_APP_VERSION_LEN, "%.31s", v);
    return OTA_OK;
}

/* ---- pack ---------------------------------------------------------------------------------- */

void ota_img_pack_opts_init(ota_img_pack_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->secure_version = -1;
    o->min_rev_full = -1;
    o->max_rev_full = -1;
}

/* __DATE__ ("Mmm dd yyyy") and __TIME__ ("hh:mm:ss") of the build time. */
static void build_stamp(const ota_img_pack_opts_t *o, char date[17], char clock[17])
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t t;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    long long epoch = sde != NULL ? strtoll(sde, &end, 10) : 0;
    memset(&tm, 0, sizeof(tm));
    if (o->has_build_time) {
        t = (time_t)o->build_time;
        gmtime_r(&t, &tm);
    } else if (sde != NULL && *sde != '\0' && end != NULL && *end == '\0' && epoch >= 0) {
        t = (time_t)epoch;
        gmtime_r(&t, &tm);
    } else {
        t = time(NULL);
        localtime_r(&t, &tm);
    }
    int mon = tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0;
    char buf[64];
    snprintf(buf, sizeof(buf), "%s %2d %04d", months[mon], tm.tm_mday, tm.tm_year + 1900);
    snprintf(date, 17, "%.16s", buf);
    snprintf(buf, sizeof(buf), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(clock, 17, "%.16s", buf);
}

/* The value of the first `CONFIG_<prefix><suffix>=y` choice among suffixes, or NULL. */
static const char *choice(const ota_sdkconfig_t *cfg, const char *prefix,
                          const char *const *suffixes, const char *const *values, size_t n)
{
    char key[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%s", prefix, suffixes[i]);
        if (ota_sdkconfig_bool(cfg, key, false)) {
            return values[i];
        }
    }
    return NULL;
}

static const char *cfg_flash_mode(const ota_sdkconfig_t *cfg)
{
    static const char *const sfx[] = {"QIO", "QOUT", "DIO", "DOUT"};
    static const char *const val[] = {"qio", "qout", "dio", "dout"};
    const char *s = ota_sdkconfig_str(cfg, "ESPTOOLPY_FLASHMODE", NULL);
    return s != NULL ? s : choice(cfg, "ESPTOOLPY_FLASHMODE_", sfx, val, 4);
}

static const char *cfg_flash_freq(const ota_sdkconfig_t *cfg)
{
    static const char *const sfx[] = {"120M", "80M", "64M", "60M", "48M", "40M", "32M",
                                      "30M",  "26M", "24M", "20M", "16M", "15M", "12M"};
    static const char *const val[] = {"120m", "80m", "64m", "60m", "48m", "40m", "32m",
                                      "30m",  "26m", "24m", "20m", "16m", "15m", "12m"};
    const char *s = ota_sdkconfig_str(cfg, "ESPTOOLPY_FLASHFREQ", NULL);
    return s != NULL ? s : choice(cfg, "ESPTOOLPY_FLASHFREQ_", sfx, val, 14);
}

static const char *cfg_flash_size(const ota_sdkconfig_t *cfg)
{
    static const char *const sfx[] = {"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"};
    const char *s = ota_sdkconfig_str(cfg, "ESPTOOLPY_FLASHSIZE", NULL);
    return s != NULL ? s : choice(cfg, "ESPTOOLPY_FLASHSIZE_", sfx, sfx, 8);
}

typedef struct pack {
    const ota_img_pack_opts_t *o;
    ota_sdkconfig_t *cfg;
    const ota_chip_t *chip;
    ota_img_build_opts_t b;
    uint32_t page;
    ota_diag_t *diag;
} pack_t;

static int resolve_chip(pack_t *p)
{
    const char *target = ota_sdkconfig_str(p->cfg, "IDF_TARGET", NULL);
    const ota_chip_t *from_cfg = NULL;
    if (target != NULL) {
        from_cfg = ota_chip_by_name(target);
        if (from_cfg == NULL) {
            return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                                "sdkconfig: CONFIG_IDF_TARGET \"%s\" is not a known chip", target);
        }
    }
    if (p->o->chip != NULL && from_cfg != NULL && p->o->chip != from_cfg) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "chip %s conflicts with CONFIG_IDF_TARGET \"%s\" of the sdkconfig",
                            p->o->chip->name, target);
    }
    p->chip = p->o->chip ? p->o->chip : from_cfg ? from_cfg : ota_chip_by_id(OTA_CHIP_ID_ESP32);
    if (p->chip->legacy) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG, "chip %s cannot be packed",
                            p->chip->name);
    }
    return OTA_OK;
}

static int resolve_header(pack_t *p)
{
    const ota_img_pack_opts_t *o = p->o;
    const ota_chip_t *chip = p->chip;
    const char *mode = o->flash_mode ? o->flash_mode : cfg_flash_mode(p->cfg);
    const char *freq = o->flash_freq ? o->flash_freq : cfg_flash_freq(p->cfg);
    const char *size = o->flash_size ? o->flash_size : cfg_flash_size(p->cfg);
    mode = mode ? mode : "dio";
    freq = freq ? freq : chip->flash_freq_default;
    size = size ? size : "2MB";
    int m = ota_flash_mode_code(mode);
    int fr = ota_chip_flash_freq_code(chip, freq);
    int sz = ota_flash_size_code(size);
    if (m < 0) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "flash mode \"%s\" is not one of qio, qout, dio, dout", mode);
    }
    if (fr < 0) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "flash frequency \"%s\" is not valid "
                            "for %s",
                            freq, chip->name);
    }
    if (sz < 0) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "flash size \"%s\" is not one of 1MB..128MB", size);
    }
    long long min =
        o->min_rev_full >= 0 ? o->min_rev_full : ota_sdkconfig_int(p->cfg, "ESP_REV_MIN_FULL", 0);
    long long max = o->max_rev_full >= 0 ? o->max_rev_full
                                         : ota_sdkconfig_int(p->cfg, "ESP_REV_MAX_FULL", 0xFFFF);
    if (min < 0 || min > 0xFFFF || max < 0 || max > 0xFFFF) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "chip revisions must be 0..65535 (major * 100 + minor)");
    }
    memset(&p->b, 0, sizeof(p->b));
    p->b.chip = chip;
    p->b.flash_mode = (uint8_t)m;
    p->b.flash_freq = (uint8_t)fr;
    p->b.flash_size = (uint8_t)sz;
    p->b.min_rev_full = (uint16_t)min;
    p->b.max_rev_full = (uint16_t)max;
    p->b.min_rev = (uint8_t)(chip->legacy_min_rev_is_minor ? min % 100 : min / 100);
    p->b.no_hash = o->no_hash;
    p->b.secure_pad = o->secure_pad == 1;
    p->b.secure_pad_v2 = o->secure_pad == 2;

    p->page = OTA_MMU_PAGE_SIZE_DEFAULT;
    if (chip->mmu_configurable && !o->bootloader) {
        long long page = ota_sdkconfig_int(p->cfg, "MMU_PAGE_SIZE",
                                           ota_chip_default_mmu_page_size(chip, (uint8_t)sz));
        if (page <= 0 || page > 0x10000 || (chip->mmu_page_sizes & (uint32_t)page) == 0 ||
            (page & (page - 1)) != 0) {
            return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                                "sdkconfig: CONFIG_MMU_PAGE_SIZE %lld is not a valid %s page size",
                                page, chip->name);
        }
        p->page = (uint32_t)page;
        p->b.mmu_page_size = p->page;
    }
    return OTA_OK;
}

static uint8_t log2u(uint32_t v)
{
    uint8_t n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

/* Segment index of the segment loaded at addr in a built image, or -1. */
static int find_segment(const uint8_t *img, size_t len, uint32_t addr)
{
    size_t pos = OTA_IMG_HEADER_LEN;
    for (int i = 0; i < img[1] && pos + OTA_IMG_SEG_HEADER_LEN <= len; i++) {
        ota_img_seg_hdr_t s;
        ota_img_seg_decode(img + pos, &s);
        if (s.load_addr == addr) {
            return i;
        }
        pos += OTA_IMG_SEG_HEADER_LEN + s.data_len;
    }
    return -1;
}

/* Size of the embedded-files table of the pack options (0 when there are no files). */
static size_t files_table_len(const ota_img_pack_opts_t *o)
{
    if (o->n_embeds == 0) {
        return 0;
    }
    size_t n = 4;
    for (size_t i = 0; i < o->n_embeds; i++) {
        n += (8 + strlen(o->embeds[i].name) + o->embeds[i].len + 1 + 3) & ~(size_t)3;
    }
    return n;
}

static void put_files_table(const ota_img_pack_opts_t *o, uint8_t *t)
{
    ota_put_le32(t, (uint32_t)o->n_embeds);
    size_t pos = 4;
    for (size_t i = 0; i < o->n_embeds; i++) {
        const ota_img_embed_t *e = &o->embeds[i];
        size_t nlen = strlen(e->name);
        ota_put_le32(t + pos, (uint32_t)nlen);
        ota_put_le32(t + pos + 4, (uint32_t)e->len);
        memcpy(t + pos + 8, e->name, nlen);
        if (e->len > 0) {
            memcpy(t + pos + 8 + nlen, e->data, e->len);
        }
        pos = (pos + 8 + nlen + e->len + 1 + 3) & ~(size_t)3; /* NUL and padding are zero */
    }
}

/* Segment 0 data: a descriptor of dlen bytes, the host descriptor, the sdkconfig text, and the
 * embedded-files table at the next 4-byte boundary. */
static uint8_t *first_segment(pack_t *p, const uint8_t *desc, size_t dlen, uint32_t payload_seg,
                              size_t *len)
{
    size_t cfg_end = dlen + OTA_HOST_DESC_LEN + p->o->sdkconfig_len;
    size_t files = files_table_len(p->o);
    size_t n = files > 0 ? ((cfg_end + 3) & ~(size_t)3) + files : cfg_end;
    uint8_t *d = calloc(1, n);
    if (d == NULL) {
        return NULL;
    }
    ota_host_desc_t h = {OTA_HOST_DESC_VERSION,         payload_seg,
                         (uint32_t)p->o->payload_len,   (uint32_t)(dlen + OTA_HOST_DESC_LEN),
                         (uint32_t)p->o->sdkconfig_len, files > 0 ? OTA_HOST_FLAG_FILES : 0};
    memcpy(d, desc, dlen);
    ota_host_desc_encode(&h, d + dlen);
    if (p->o->sdkconfig_len > 0) {
        memcpy(d + dlen + OTA_HOST_DESC_LEN, p->o->sdkconfig, p->o->sdkconfig_len);
    }
    if (files > 0) {
        put_files_table(p->o, d + ((cfg_end + 3) & ~(size_t)3));
    }
    *len = n;
    return d;
}

static int pack_bootloader(const ota_crypto_t *c, pack_t *p, const char *date, const char *clock,
                           const char *idf_ver, uint8_t **out, size_t *out_len)
{
    const ota_img_pack_opts_t *o = p->o;
    if (o->payload_len > 0) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG, "a bootloader image carries no payload");
    }
    long long sv = o->secure_version >= 0
                       ? o->secure_version
                       : ota_sdkconfig_int(p->cfg, "BOOTLOADER_SECURE_VERSION", 0);
    long long ver = ota_sdkconfig_int(p->cfg, "BOOTLOADER_PROJECT_VER", 1);
    if (sv < 0 || sv > 255) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "bootloader secure version %lld is not 0..255", sv);
    }
    if (ver < 0 || ver > 0xFFFFFFFFll) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "sdkconfig: CONFIG_BOOTLOADER_PROJECT_VER %lld is out of range", ver);
    }
    ota_boot_desc_t bd;
    uint8_t raw[OTA_BOOT_DESC_LEN];
    memset(&bd, 0, sizeof(bd));
    bd.magic_byte = OTA_BOOT_DESC_MAGIC;
    bd.secure_version = (uint8_t)sv;
    bd.version = (uint32_t)ver;
    snprintf(bd.idf_ver, sizeof(bd.idf_ver), "%.32s", idf_ver);
    snprintf(bd.date_time, sizeof(bd.date_time), "%.11s %.8s", date, clock);
    ota_boot_desc_encode(&bd, raw);

    size_t n0 = 0;
    uint8_t *d0 = first_segment(p, raw, sizeof(raw), OTA_HOST_NO_PAYLOAD, &n0);
    if (d0 == NULL) {
        return OTA_ERR_NO_MEM;
    }
    /* The boot logic runs on the simulated board, so the image carries its description and
     * configuration, zero-filled to 8 KiB so that it has the shape of a real bootloader image
     * (ESP-IDF's are 20-30 KiB): esp_https_ota, for one, reads a 1 KiB header first. */
    if (n0 < 0x2000) {
        uint8_t *grown = realloc(d0, 0x2000);
        if (grown == NULL) {
            free(d0);
            return OTA_ERR_NO_MEM;
        }
        memset(grown + n0, 0, 0x2000 - n0);
        d0 = grown;
        n0 = 0x2000;
    }
    /* A tiny code segment: "j ." for the core's architecture, then zeros. */
    uint8_t code[16] = {0};
    if (p->chip->id == OTA_CHIP_ID_ESP32 || p->chip->id == OTA_CHIP_ID_ESP32S2 ||
        p->chip->id == OTA_CHIP_ID_ESP32S3) {
        code[0] = 0x06;
        code[1] = 0xFF;
        code[2] = 0xFF;
    } else {
        code[0] = 0x6F;
    }
    ota_img_build_seg_t segs[2] = {
        {p->chip->boot_dram_addr, d0, n0, OTA_IMG_BUILD_BOOTDESC},
        {p->chip->boot_iram_addr, code, sizeof(code), 0},
    };
    p->b.entry = p->chip->boot_iram_addr;
    int err = ota_img_build(c, &p->b, segs, 2, out, out_len, p->diag);
    free(d0);
    return err;
}

static int pack_app(const ota_crypto_t *c, pack_t *p, const char *date, const char *clock,
                    const char *idf_ver, uint8_t **out, size_t *out_len)
{
    const ota_img_pack_opts_t *o = p->o;
    const ota_chip_t *chip = p->chip;
    long long sv;
    if (ota_sdkconfig_bool(p->cfg, "BOOTLOADER_APP_ANTI_ROLLBACK", false)) {
        sv = ota_sdkconfig_int(p->cfg, "BOOTLOADER_APP_SECURE_VERSION", 0);
        if (sv < 0 || sv > chip->secure_version_bits) {
            return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                                "sdkconfig: CONFIG_BOOTLOADER_APP_SECURE_VERSION %lld is not "
                                "0..%d on %s",
                                sv, chip->secure_version_bits, chip->name);
        }
        if (o->secure_version >= 0 && o->secure_version != sv) {
            return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                                "secure version %lld conflicts with "
                                "CONFIG_BOOTLOADER_APP_SECURE_VERSION=%lld (anti-rollback is on)",
                                o->secure_version, sv);
        }
    } else {
        sv = o->secure_version >= 0 ? o->secure_version : 0;
        if (sv > 0xFFFFFFFFll) {
            return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG, "secure version %lld is out of range",
                                sv);
        }
    }
    long long efmin = ota_sdkconfig_int(p->cfg, "ESP_EFUSE_BLOCK_REV_MIN_FULL", 0);
    long long efmax = ota_sdkconfig_int(p->cfg, "ESP_EFUSE_BLOCK_REV_MAX_FULL", 0);
    if (efmin < 0 || efmin > 0xFFFF || efmax < 0 || efmax > 0xFFFF) {
        return ota_diag_set(p->diag, OTA_ERR_INVALID_ARG,
                            "sdkconfig: eFuse block revisions must be 0..65535");
    }
    ota_app_desc_t ad;
    uint8_t raw[OTA_APP_DESC_LEN];
    memset(&ad, 0, sizeof(ad));
    ad.magic_word = OTA_APP_DESC_MAGIC;
    ad.secure_version = (uint32_t)sv;
    int err = ota_img_app_version(p->cfg, o->project_ver, o->project_dir, ad.version, p->diag);
    if (err != OTA_OK) {
        return err;
    }
    snprintf(ad.project_name, sizeof(ad.project_name), "%.31s",
             o->project_name ? o->project_name : "app");
    snprintf(ad.time, sizeof(ad.time), "%s", clock);
    snprintf(ad.date, sizeof(ad.date), "%s", date);
    snprintf(ad.idf_ver, sizeof(ad.idf_ver), "%.31s", idf_ver);
    err = ota_hash(c, OTA_HASH_SHA256, o->payload, o->payload_len, ad.app_elf_sha256);
    if (err != OTA_OK) {
        return err;
    }
    ad.min_efuse_blk_rev_full = (uint16_t)efmin;
    ad.max_efuse_blk_rev_full = (uint16_t)efmax;
    ad.mmu_page_size = log2u(p->page);
    ota_app_desc_encode(&ad, raw);

    uint32_t page = p->page;
    uint32_t drom = chip->app_drom_base + 0x20;
    uint32_t irom = chip->app_irom_base + 0x20;
    size_t n0 = OTA_APP_DESC_LEN + OTA_HOST_DESC_LEN + o->sdkconfig_len + 3 + files_table_len(o);
    if (n0 >= OTA_IMG_SEG_MAX_LEN || o->payload_len >= OTA_IMG_SEG_MAX_LEN) {
        return ota_diag_set(p->diag, OTA_ERR_SIZE,
                            "%s too large for one image segment (16 MB limit)",
                            n0 >= OTA_IMG_SEG_MAX_LEN ? "sdkconfig" : "payload");
    }
    if (chip->app_shared_mmu) {
        uint64_t pages = (0x20 + (uint64_t)n0 + 3 + 0x24 + page - 1) / page;
        irom = chip->app_irom_base + (uint32_t)(pages * page) + 0x20;
    }
    bool has_payload = o->payload_len > 0;
    uint32_t index = OTA_HOST_NO_PAYLOAD;
    for (int pass = 0; pass < 2; pass++) {
        size_t len0 = 0;
        uint8_t *d0 = first_segment(p, raw, sizeof(raw), index, &len0);
        if (d0 == NULL) {
            return OTA_ERR_NO_MEM;
        }
        ota_img_build_seg_t segs[2] = {
            {drom, d0, len0, OTA_IMG_BUILD_APPDESC},
            {irom, o->payload, o->payload_len, 0},
        };
        p->b.entry = irom;
        err = ota_img_build(c, &p->b, segs, has_payload ? 2 : 1, out, out_len, p->diag);
        free(d0);
        if (err != OTA_OK || !has_payload || pass == 1) {
            break;
        }
        int at = find_segment(*out, *out_len, irom);
        free(*out);
        *out = NULL;
        if (at < 0) {
            return ota_diag_set(p->diag, OTA_ERR_STATE, "payload segment not found in the layout");
        }
        index = (uint32_t)at;
    }
    return err;
}

int ota_img_pack(const ota_crypto_t *c, const ota_img_pack_opts_t *opts, uint8_t **out,
                 size_t *out_len, ota_diag_t *diag)
{
    if (c == NULL || opts == NULL || out == NULL || out_len == NULL ||
        (opts->payload == NULL && opts->payload_len > 0) ||
        (opts->sdkconfig == NULL && opts->sdkconfig_len > 0) ||
        (opts->embeds == NULL && opts->n_embeds > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < opts->n_embeds; i++) {
        if (opts->embeds[i].name == NULL || opts->embeds[i].name[0] == '\0' ||
            (opts->embeds[i].data == NULL && opts->embeds[i].len > 0)) {
            return OTA_ERR_INVALID_ARG;
        }
    }
    *out = NULL;
    *out_len = 0;
    pack_t p = {opts, NULL, NULL, {0}, OTA_MMU_PAGE_SIZE_DEFAULT, diag};
    int err;
    if (opts->sdkconfig_len > 0) {
        ota_diag_t d = {{0}};
        err = ota_sdkconfig_parse(opts->sdkconfig, opts->sdkconfig_len, &p.cfg, &d);
        if (err != OTA_OK) {
            return ota_diag_set(diag, err, "sdkconfig: %s", d.msg);
        }
    } else {
        p.cfg = ota_sdkconfig_new();
        if (p.cfg == NULL) {
            return OTA_ERR_NO_MEM;
        }
    }
    err = resolve_chip(&p);
    if (err == OTA_OK) {
        err = resolve_header(&p);
    }
    if (err == OTA_OK) {
        char date[17];
        char clock[17];
        const char *idf_ver = opts->idf_ver ? opts->idf_ver : OTA_IDF_VER_DEFAULT;
        build_stamp(opts, date, clock);
        err = opts->bootloader ? pack_bootloader(c, &p, date, clock, idf_ver, out, out_len)
                               : pack_app(c, &p, date, clock, idf_ver, out, out_len);
    }
    ota_sdkconfig_free(p.cfg);
    return err;
}
