/*
 * Host-side image tools: build an image from segments as esptool elf2image lays it out
 * (spec 3.10), pack otakit app and bootloader images, resolve the app version as ESP-IDF does,
 * and print what `esptool image_info` prints.
 *
 * Host code: results are malloc'ed and owned by the caller; files and processes may be used.
 */
#ifndef OTA_IMG_BUILD_H
#define OTA_IMG_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_img.h"
#include "ota/ota_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elf2image layout ---------------------------------------------------------------------- */

/* Segment flags. */
#define OTA_IMG_BUILD_APPDESC 0x1u  /* ".flash.appdesc": written first among flash segments */
#define OTA_IMG_BUILD_BOOTDESC 0x2u /* ".dram0.bootdesc": written first among RAM segments */

typedef struct ota_img_build_seg {
    uint32_t load_addr;
    const uint8_t *data; /* caller's; not modified */
    size_t len;          /* padded with zeros to a multiple of 4 when load_addr != 0 */
    uint32_t flags;      /* OTA_IMG_BUILD_* */
} ota_img_build_seg_t;

/* Zero-filled options mean: DIO, 40m-code 0, 1MB-code 0, entry 0, no revisions, hash appended. */
typedef struct ota_img_build_opts {
    const ota_chip_t *chip; /* required */
    uint8_t flash_mode;     /* header byte 2 */
    uint8_t flash_freq;     /* 4-bit frequency code */
    uint8_t flash_size;     /* 4-bit size code */
    uint32_t entry;
    uint8_t min_rev; /* legacy header byte 14 */
    uint16_t min_rev_full;
    uint16_t max_rev_full;
    bool no_hash;           /* do not append the SHA-256 */
    uint32_t mmu_page_size; /* 0 = 64 KiB; others only where the chip allows them */
    bool secure_pad_v2;     /* --secure-pad-v2: end on an MMU page boundary after the hash */
    bool secure_pad;        /* --secure-pad (Secure Boot V1): end 12 bytes before an MMU page
                               boundary once the 68-byte signature is appended */
    uint32_t pad_to_size;   /* 0 = none; else pad with 0xFF to a multiple of it */
} ota_img_build_opts_t;

/*
 * Lays out segs[0..n) exactly as esptool elf2image (ESP32-family image save) does: flash-mapped
 * segments (by the chip's esptool windows) sorted by address with the APPDESC one first, each
 * placed so that its data's file offset equals its address modulo the MMU page, the gap before
 * it filled by a piece split off the first RAM segment (gap > 8) or a zero padding segment at
 * address 0; on ESP32 a mapped segment ending less than 0x24 bytes past a page boundary is
 * extended with zeros; then the remaining RAM segments (address order, BOOTDESC first); the
 * optional secure-pad-v2 segment; checksum; segment count; SHA-256; 0xFF padding.
 * On success *out (malloc'ed, caller frees) and *out_len hold the image.
 * Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL/empty arguments, a page size the chip cannot use, two
 * flash segments in one MMU page: esptool's message in diag); OTA_ERR_SIZE (a segment length not
 * a multiple of 4 or >= 16 MiB, or more than 16 segments); OTA_ERR_NO_MEM.
 */
int ota_img_build(const ota_crypto_t *c, const ota_img_build_opts_t *opts,
                  const ota_img_build_seg_t *segs, size_t n, uint8_t **out, size_t *out_len,
                  ota_diag_t *diag);

/* ---- app version (ESP-IDF's PROJECT_VER rules) --------------------------------------------- */

#define OTA_APP_VERSION_LEN 32 /* esp_app_desc_t.version: 31 characters + NUL */

/*
 * Resolves the app version as ESP-IDF's build does: CONFIG_APP_PROJECT_VER when
 * CONFIG_APP_PROJECT_VER_FROM_CONFIG=y in cfg (may be NULL), else explicit (PROJECT_VER, may be
 * NULL), else the first line of <project_dir>/version.txt (trimmed), else
 * `git describe --always --tags --dirty` run in project_dir (when git runs and succeeds), else
 * "1". project_dir NULL skips the last two sources. The result is cut to 31 characters as
 * ESP-IDF's build does and written NUL-terminated to out.
 * Returns OTA_OK, or OTA_ERR_IO when version.txt exists but cannot be read (diag says why).
 */
int ota_img_app_version(const ota_sdkconfig_t *cfg, const char *explicit_ver,
                        const char *project_dir, char out[OTA_APP_VERSION_LEN], ota_diag_t *diag);

/* ---- otakit app and bootloader images ------------------------------------------------------ */

#define OTA_IDF_VER_DEFAULT "v5.5-otakit"

/* A file embedded into an app image (read back at run time by name). */
typedef struct ota_img_embed {
    const char *name;
    const uint8_t *data;
    size_t len;
} ota_img_embed_t;

typedef struct ota_img_pack_opts {
    bool bootloader;        /* bootloader image instead of an app */
    const ota_chip_t *chip; /* NULL: CONFIG_IDF_TARGET of the sdkconfig, else ESP32 */
    const uint8_t *payload; /* app only; NULL/0 = no payload segment */
    size_t payload_len;
    const char *sdkconfig; /* text baked into the image (may be NULL) */
    size_t sdkconfig_len;
    const char *project_name; /* app; NULL = "app" */
    const char *project_ver;  /* PROJECT_VER (NULL = none; see ota_img_app_version) */
    const char *project_dir;  /* for version.txt and git describe (NULL = none) */
    const char *idf_ver;      /* NULL = OTA_IDF_VER_DEFAULT */
    bool has_build_time;      /* use build_time; else SOURCE_DATE_EPOCH, else now */
    int64_t build_time;       /* seconds since the epoch (UTC) */
    long long secure_version; /* -1: from the sdkconfig or 0 */
    const char *flash_mode;   /* NULL: CONFIG_ESPTOOLPY_FLASHMODE*, else "dio" */
    const char *flash_freq;   /* NULL: CONFIG_ESPTOOLPY_FLASHFREQ*, else the chip's default */
    const char *flash_size;   /* NULL: CONFIG_ESPTOOLPY_FLASHSIZE*, else "2MB" */
    long min_rev_full;        /* -1: CONFIG_ESP_REV_MIN_FULL or 0 */
    long max_rev_full;        /* -1: CONFIG_ESP_REV_MAX_FULL or 0xFFFF (not set) */
    bool no_hash;
    int secure_pad; /* 0 none; 1 --secure-pad (V1 signing); 2 --secure-pad-v2 (V2 signing) */
    const ota_img_embed_t *embeds; /* app only: embedded files (EMBED_TXTFILES) */
    size_t n_embeds;
} ota_img_pack_opts_t;

/* Fills *o with the defaults (every "from the sdkconfig" value set to -1/NULL). */
void ota_img_pack_opts_init(ota_img_pack_opts_t *o);

/*
 * Packs an otakit image.
 * App: segment 0 maps at the chip's data window base + 0x20 and holds esp_app_desc_t, the 32-byte
 * host descriptor and the sdkconfig text; the payload (zero-padded to 4 bytes) maps in the code
 * window at base + 0x20 (after the data pages on chips whose code and data share MMU pages); the
 * entry point is that address. app_elf_sha256 = SHA-256 of the payload.
 * Bootloader: a RAM segment at the chip's bootloader data address holding esp_bootloader_desc_t,
 * the host descriptor (no payload) and the sdkconfig text, plus a small code segment (the entry).
 * Fields come from the options, then the sdkconfig (CONFIG_IDF_TARGET, CONFIG_APP_PROJECT_VER*,
 * CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK / _APP_SECURE_VERSION, CONFIG_BOOTLOADER_PROJECT_VER,
 * CONFIG_ESPTOOLPY_FLASH*, CONFIG_ESP_REV_M*_FULL, CONFIG_ESP_EFUSE_BLOCK_REV_M*_FULL,
 * CONFIG_MMU_PAGE_SIZE), then defaults. On success *out (malloc'ed) and *out_len hold the image.
 * Returns OTA_OK; OTA_ERR_INVALID_ARG (unknown/conflicting chip, bad flash mode/freq/size, a
 * secure version out of range or conflicting with the sdkconfig, a payload for a bootloader);
 * OTA_ERR_SYNTAX (bad sdkconfig text); OTA_ERR_SIZE (payload or sdkconfig too large for a
 * segment); OTA_ERR_IO (version.txt unreadable); OTA_ERR_NO_MEM. diag says what and why.
 */
int ota_img_pack(const ota_crypto_t *c, const ota_img_pack_opts_t *opts, uint8_t **out,
                 size_t *out_len, ota_diag_t *diag);

/* ---- image_info ---------------------------------------------------------------------------- */

/*
 * Formats what `esptool image-info` (v5.3.1) prints for the image at the start of data[0..len),
 * from the "Image size" line on: header, extended header, segments with memory types, footer
 * with checksum and hash validity, application or bootloader information. *text is malloc'ed
 * (caller frees). c computes the SHA-256.
 * Returns OTA_OK (also when the checksum or hash is invalid); OTA_ERR_CORRUPT when the image
 * cannot be parsed (esptool's reason in diag, e.g. "Unknown image chip ID (99)."); OTA_ERR_NO_MEM.
 */
int ota_img_info_format(const ota_crypto_t *c, const uint8_t *data, size_t len, char **text,
                        ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_IMG_BUILD_H */
