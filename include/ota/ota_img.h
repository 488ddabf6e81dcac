/*
 * App and bootloader images (ESP-IDF ".bin", spec 3): record codecs, a lenient parser for tools,
 * the device verifier (esp_image_verify, spec 3.9) and otakit's host descriptor.
 *
 * Portable core: no allocation, flash only through ota_flash_t, digests only through
 * ota_crypto_t; the caller owns every buffer and struct.
 *
 * Image layout: 24-byte header, up to 16 segments (8-byte header + data), zero padding and one
 * checksum byte ending on a 16-byte boundary, an optional SHA-256 of everything before it, and
 * optionally a Secure Boot V2 signature sector on the next 4 KiB boundary.
 */
#ifndef OTA_IMG_H
#define OTA_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_sig.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_IMG_MAGIC 0xE9
#define OTA_IMG_HEADER_LEN 24u
#define OTA_IMG_SEG_HEADER_LEN 8u
#define OTA_IMG_MAX_SEGMENTS 16
#define OTA_IMG_SEG_MAX_LEN 0x1000000u /* a segment's data must be shorter than 16 MiB */
#define OTA_IMG_MAX_PARTITION 0x1000000u
#define OTA_IMG_WP_PIN_DISABLED 0xEE
#define OTA_IMG_CHECKSUM_SEED 0xEF
#define OTA_IMG_HASH_LEN 32u
#define OTA_IMG_REV_UNSET 0xFFFF /* max revision value meaning "not set" (0 also means so) */

#define OTA_APP_DESC_MAGIC 0xABCD5432u
#define OTA_APP_DESC_LEN 256u
#define OTA_APP_DESC_OFFSET 0x20u /* image offset of segment 0's data */
#define OTA_BOOT_DESC_MAGIC 0x50
#define OTA_BOOT_DESC_LEN 80u

#define OTA_SIG_SECTOR_LEN 4096u
#define OTA_SIG_BLOCK_LEN 1216u
#define OTA_SIG_BLOCK_MAGIC 0xE7
#define OTA_SIG_MAX_BLOCKS 3

/* ---- records ------------------------------------------------------------------------------- */

/* esp_image_header_t (24 bytes). */
typedef struct ota_img_header {
    uint8_t magic;         /* 0xE9 */
    uint8_t segment_count; /* <= 16 */
    uint8_t spi_mode;      /* 0 QIO, 1 QOUT, 2 DIO, 3 DOUT, 4 FAST_READ, 5 SLOW_READ */
    uint8_t spi_speed;     /* low nibble of byte 3 */
    uint8_t spi_size;      /* high nibble of byte 3 */
    uint32_t entry_addr;
    uint8_t wp_pin;         /* 0xEE = disabled */
    uint8_t spi_pin_drv[3]; /* two 4-bit drive strengths per byte */
    uint16_t chip_id;
    uint8_t min_chip_rev;       /* legacy */
    uint16_t min_chip_rev_full; /* major * 100 + minor */
    uint16_t max_chip_rev_full; /* 0 or 0xFFFF: not set */
    uint8_t reserved[4];
    uint8_t hash_appended; /* 1: SHA-256 follows the checksum */
} ota_img_header_t;

/* esp_image_segment_header_t (8 bytes). */
typedef struct ota_img_seg_hdr {
    uint32_t load_addr; /* 0 for padding segments */
    uint32_t data_len;
} ota_img_seg_hdr_t;

/*
 * esp_app_desc_t (256 bytes, ESP-IDF v5.5 layout). Text fields keep their stored bytes up to the
 * first NUL, plus a terminating NUL (a full 32-byte field fills [0..31]).
 */
typedef struct ota_app_desc {
    uint32_t magic_word; /* 0xABCD5432 */
    uint32_t secure_version;
    uint32_t reserv1[2];
    char version[33];
    char project_name[33];
    char time[17]; /* __TIME__ "hh:mm:ss" */
    char date[17]; /* __DATE__ "Mmm dd yyyy" */
    char idf_ver[33];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size; /* log2 of the MMU page size; 0 = legacy (64 KiB) */
    uint8_t reserv3[3];
    uint8_t reserv2[72];
} ota_app_desc_t;

/* esp_bootloader_desc_t (80 bytes). */
typedef struct ota_boot_desc {
    uint8_t magic_byte; /* 0x50 */
    uint8_t reserved[2];
    uint8_t secure_version;
    uint32_t version; /* CONFIG_BOOTLOADER_PROJECT_VER */
    char idf_ver[33];
    char date_time[25]; /* __DATE__ " " __TIME__ */
    uint8_t reserved2[16];
} ota_boot_desc_t;

_Static_assert(OTA_IMG_HEADER_LEN == 24, "esp_image_header_t is 24 bytes");
_Static_assert(OTA_IMG_SEG_HEADER_LEN == 8, "esp_image_segment_header_t is 8 bytes");
_Static_assert(OTA_APP_DESC_LEN == 256, "esp_app_desc_t is 256 bytes");
_Static_assert(OTA_BOOT_DESC_LEN == 80, "esp_bootloader_desc_t is 80 bytes");

/* Decodes the 24 header bytes (no validation). */
void ota_img_header_decode(const uint8_t raw[OTA_IMG_HEADER_LEN], ota_img_header_t *h);

/* Encodes a header into 24 bytes (spi_speed and spi_size are masked to 4 bits). */
void ota_img_header_encode(const ota_img_header_t *h, uint8_t raw[OTA_IMG_HEADER_LEN]);

/* Decodes / encodes an 8-byte segment header. */
void ota_img_seg_decode(const uint8_t raw[OTA_IMG_SEG_HEADER_LEN], ota_img_seg_hdr_t *s);
void ota_img_seg_encode(const ota_img_seg_hdr_t *s, uint8_t raw[OTA_IMG_SEG_HEADER_LEN]);

/* Decodes 256 bytes into *d; returns true if the magic word is 0xABCD5432. */
bool ota_app_desc_decode(const uint8_t raw[OTA_APP_DESC_LEN], ota_app_desc_t *d);

/* Encodes *d into 256 bytes; text fields are NUL-padded (and cut to their field size). */
void ota_app_desc_encode(const ota_app_desc_t *d, uint8_t raw[OTA_APP_DESC_LEN]);

/* Decodes 80 bytes into *d; returns true if the magic byte is 0x50. */
bool ota_boot_desc_decode(const uint8_t raw[OTA_BOOT_DESC_LEN], ota_boot_desc_t *d);

/* Encodes *d into 80 bytes; text fields are NUL-padded (and cut to their field size). */
void ota_boot_desc_encode(const ota_boot_desc_t *d, uint8_t raw[OTA_BOOT_DESC_LEN]);

/* XOR of len bytes into seed: the image checksum is ota_img_checksum(data..., 0xEF). */
uint8_t ota_img_checksum(const void *data, size_t len, uint8_t seed);

/* Offset of the checksum byte for an image whose segments end at prefix: roundup16(prefix+1)-1. */
uint32_t ota_img_checksum_offset(uint32_t prefix);

/*
 * Reads the app descriptor the way esp_ota_get_partition_description does: 256 bytes at
 * offset + 0x20. Returns OTA_OK, OTA_ERR_NOT_FOUND (magic absent; *d is still filled) or the
 * flash error.
 */
int ota_img_read_app_desc(const ota_flash_t *f, uint32_t offset, ota_app_desc_t *d);

/* ---- lenient parser (what `esptool image_info` reads) -------------------------------------- */

/* One segment as found in the file. */
typedef struct ota_img_seg {
    uint32_t load_addr;
    uint32_t data_len;
    uint32_t offset; /* offset of the segment header from the image start ("File offs") */
} ota_img_seg_t;

typedef struct ota_img_info {
    ota_img_header_t header;
    const ota_chip_t *chip; /* detected from header byte 12 as esptool does; NULL if unknown */
    int seg_count;
    ota_img_seg_t segs[OTA_IMG_MAX_SEGMENTS];

    uint32_t data_len; /* bytes up to and including the checksum byte */
    uint8_t checksum_stored;
    uint8_t checksum_calc;
    bool checksum_valid;

    bool hash_appended;
    bool hash_valid; /* stored digest present and equal to the computed one */
    uint8_t hash_calc[OTA_IMG_HASH_LEN];
    uint8_t hash_stored[OTA_IMG_HASH_LEN];
    uint32_t hash_stored_len; /* bytes of the stored digest present in the region (<= 32) */
    uint32_t image_len;       /* data_len + 32 if a hash is appended (spec 3.9 "L") */

    /* Secure Boot V2 signature sector at roundup(image_len, 4096), if one is there. */
    bool sig_present;
    uint32_t sig_offset;
    int sig_blocks;      /* valid blocks (magic, CRC) at the start of the sector */
    uint8_t sig_version; /* block version of the first block: 2 RSA-PSS, 3 ECDSA */
    uint32_t total_len;  /* image_len, or sig_offset + 4096 with a signature */

    /* Descriptors picked as esptool image_info does (by memory type of the segment). */
    int app_desc_seg;  /* first DROM segment, -1 if none */
    bool has_app_desc; /* that segment starts with a valid esp_app_desc_t */
    ota_app_desc_t app_desc;
    int boot_desc_seg; /* last DRAM segment of >= 80 bytes, -1 if none */
    bool has_boot_desc;
    ota_boot_desc_t boot_desc;
} ota_img_info_t;

/*
 * Parses the image at flash offset `offset`, whose bytes end at offset + avail (the file or
 * partition size), computing the checksum and (when appended) the SHA-256, and reporting their
 * validity instead of failing. Reads through f; c may be NULL (then no hash is computed and
 * hash_valid stays false).
 * Returns OTA_OK when the structure could be read (checksum or hash may still be invalid),
 * OTA_ERR_CORRUPT when it cannot be parsed at all (diag holds esptool's words: "Image is empty.",
 * "This is not a valid image (invalid magic number: 0x..).", "Invalid segment count N (max 16).
 * Usually this indicates a linker script problem.", "End of file reading segment 0x.., length N
 * (actual length M)", ...), OTA_ERR_INVALID_ARG for NULL f/out, OTA_ERR_NO_MEM if a digest could
 * not be started, or the flash's error.
 */
int ota_img_parse(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset, uint32_t avail,
                  ota_img_info_t *out, ota_diag_t *diag);

/* ---- device verifier (esp_image_verify, spec 3.9) ------------------------------------------ */

typedef enum {
    OTA_IMG_HASH_AUTO = 0, /* ESP-IDF's rule: apps yes, bootloaders only with Secure Boot V2 */
    OTA_IMG_HASH_CHECK,    /* always check an appended hash */
    OTA_IMG_HASH_SKIP,     /* never check it */
} ota_img_hash_mode_t;

/* Which check failed (meta->fail); the returned code says only "invalid" or "flash failed". */
typedef enum {
    OTA_IMG_FAIL_NONE = 0,
    OTA_IMG_FAIL_PARTITION_SIZE, /* partition larger than 16 MiB */
    OTA_IMG_FAIL_FLASH_READ,
    OTA_IMG_FAIL_MAGIC,
    OTA_IMG_FAIL_CHIP_ID,
    OTA_IMG_FAIL_CHIP_REV_MIN,
    OTA_IMG_FAIL_CHIP_REV_MAX,
    OTA_IMG_FAIL_SEGMENT_COUNT,
    OTA_IMG_FAIL_SEGMENT_LENGTH,
    OTA_IMG_FAIL_APP_DESC, /* configurable-MMU chip: segment 0 lacks the app descriptor */
    OTA_IMG_FAIL_MAPPING,  /* flash offset and load address disagree modulo the MMU page */
    OTA_IMG_FAIL_EFUSE_BLK_REV_MIN,
    OTA_IMG_FAIL_EFUSE_BLK_REV_MAX,
    OTA_IMG_FAIL_WRAP,
    OTA_IMG_FAIL_CHECKSUM,
    OTA_IMG_FAIL_LENGTH, /* image does not fit the partition */
    OTA_IMG_FAIL_HASH,
    OTA_IMG_FAIL_SIGNATURE, /* signature missing, untrusted or wrong (spec 8.1) */
} ota_img_fail_t;

/* Log sink for the verifier's lines: level 'E', 'W' or 'I', message without tag or newline. */
typedef void (*ota_img_log_fn)(void *ctx, char level, const char *msg);

typedef struct ota_img_verify_opts {
    const ota_chip_t *chip;        /* the running chip (required) */
    uint16_t chip_rev;             /* running chip revision, major * 100 + minor */
    uint16_t efuse_blk_rev;        /* eFuse block revision, major * 100 + minor */
    bool ignore_max_chip_rev;      /* eFuse that disables the maximum-revision check is burnt */
    bool ignore_max_efuse_blk_rev; /* likewise for the eFuse block revision */
    bool bootloader;               /* the image is a second-stage bootloader (not an app) */
    uint32_t mmu_page_size;        /* the running build's CONFIG_MMU_PAGE_SIZE; 0 = 64 KiB. Used
                                      unless an app on a configurable-MMU chip names its own size */
    ota_img_hash_mode_t hash;
    bool secure_boot_v2; /* signatures enabled: the length includes the 4 KiB signature sector */
    bool load;           /* bootloader load mode: RAM segments are logged as "load" */
    bool silent;         /* ESP_IMAGE_VERIFY_SILENT: only chip checks log errors */
    /* Signed apps (CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT): the scheme sets the length the
     * signature adds to an app (V2: the 4 KiB sector on the next 4 KiB boundary; V1: 68 bytes).
     * sig_check (CONFIG_SECURE_SIGNED_ON_UPDATE in an app): the SHA-256 runs over the image, its
     * simple hash and (V2) the padding to 4 KiB, and the signature is verified against
     * sig_trust's keys instead of the simple hash being compared (spec 8.1 steps 1-5). */
    ota_sig_scheme_t sig_scheme;
    bool sig_check;
    const ota_sig_trust_t *sig_trust; /* required with sig_check */
    ota_img_log_fn log;               /* optional */
    void *log_ctx;
} ota_img_verify_opts_t;

/* esp_image_metadata_t. */
typedef struct ota_img_meta {
    uint32_t start_addr;
    ota_img_header_t header;
    ota_img_seg_hdr_t segs[OTA_IMG_MAX_SEGMENTS];
    uint32_t seg_data[OTA_IMG_MAX_SEGMENTS]; /* flash address of each segment's data */
    uint32_t image_len; /* spec 3.9 L, plus the signature sector with secure_boot_v2 */
    bool hash_checked;
    uint8_t image_digest[OTA_IMG_HASH_LEN]; /* the computed SHA-256 when hash_checked */
    uint32_t mmu_page_size;                 /* page size used for the mapping check */
    bool has_app_desc;                      /* app: valid descriptor at offset 0x20 */
    ota_app_desc_t app_desc;
    ota_img_fail_t fail; /* set on failure (everything else is then zero) */
} ota_img_meta_t;

/*
 * Verifies the image at flash address offset in a partition of part_size bytes, step by step as
 * esp_image_verify (spec 3.9): partition size, magic, chip id and revision, segment count, each
 * segment (length, app descriptor on configurable-MMU chips, mapping alignment, eFuse block
 * revision), address wrap, checksum, length within the partition, appended SHA-256 or (with
 * opts->sig_check) the signature ("Verifying image signature...", then the lines of
 * ota_sig_verify_v2 / _v1 on opts->sig_trust->log, and on failure "Secure boot signature
 * verification failed" and whether the simple hash still matches). Log lines go
 * to opts->log ("segment %d: paddr=%08x vaddr=%08x size=%05xh (%6d) %s" unless silent; errors in
 * ESP-IDF's words). The first failure's text also goes to diag.
 * meta (may be NULL) is filled on success and zeroed, except meta->fail, on failure.
 * Returns OTA_OK; OTA_ERR_CORRUPT for an invalid image (ESP_ERR_IMAGE_INVALID); OTA_ERR_IO for a
 * flash read failure (ESP_ERR_IMAGE_FLASH_FAIL) or OTA_ERR_POWER_LOSS if the flash reported
 * that; OTA_ERR_INVALID_ARG for NULL f/opts/opts->chip, an mmu_page_size that is not a power of
 * two, a NULL c when a hash must be checked, or a partition over 16 MiB (ESP_ERR_INVALID_ARG);
 * OTA_ERR_NO_MEM if a digest could not be started.
 */
int ota_img_verify(const ota_flash_t *f, const ota_crypto_t *c, uint32_t offset, uint32_t part_size,
                   const ota_img_verify_opts_t *opts, ota_img_meta_t *meta, ota_diag_t *diag);

/*
 * esp_image_get_metadata: walks header and segment headers to fill meta (image_len included)
 * without checking chip, checksum or hash. Returns OTA_OK, OTA_ERR_CORRUPT (bad magic, segment
 * count or length), the flash error, or OTA_ERR_INVALID_ARG.
 */
int ota_img_get_metadata(const ota_flash_t *f, uint32_t offset, ota_img_meta_t *meta,
                         ota_diag_t *diag);

/* ---- otakit host descriptor ---------------------------------------------------------------- */

/*
 * 32 bytes right after the app descriptor (segment 0 data offset 256) or the bootloader
 * descriptor (offset 80) of images made by `otakit image pack`, telling the simulated board where
 * the host program and the baked-in sdkconfig are:
 *   0  8 "OTAKHOST"   8 u32 version (1)   12 u32 payload segment index (0xFFFFFFFF: none)
 *   16 u32 payload length   20 u32 sdkconfig offset from the start of segment 0's data
 *   24 u32 sdkconfig length   28 u32 flags (0)
 */
#define OTA_HOST_DESC_LEN 32u
#define OTA_HOST_DESC_MAGIC "OTAKHOST"
#define OTA_HOST_DESC_VERSION 1u
#define OTA_HOST_NO_PAYLOAD 0xFFFFFFFFu
/*
 * flags bit 0: an embedded-files table follows the sdkconfig text in segment 0, at the next
 * 4-byte boundary: u32 count, then per file u32 name length, u32 data length, the name bytes, the
 * data bytes and one NUL, the entry padded to 4 bytes (ESP-IDF's EMBED_TXTFILES, read back at run
 * time). All integers little-endian.
 */
#define OTA_HOST_FLAG_FILES 0x1u

typedef struct ota_host_desc {
    uint32_t version;
    uint32_t payload_seg;
    uint32_t payload_len;
    uint32_t sdkconfig_offset;
    uint32_t sdkconfig_len;
    uint32_t flags;
} ota_host_desc_t;

_Static_assert(OTA_HOST_DESC_LEN == 32, "host descriptor is 32 bytes");

/* Encodes *d with the magic into 32 bytes. */
void ota_host_desc_encode(const ota_host_desc_t *d, uint8_t raw[OTA_HOST_DESC_LEN]);

/*
 * Decodes 32 bytes. Returns OTA_OK, OTA_ERR_NOT_FOUND (no "OTAKHOST" magic) or OTA_ERR_VERSION
 * (a version this code does not know; *d is still filled).
 */
int ota_host_desc_decode(const uint8_t raw[OTA_HOST_DESC_LEN], ota_host_desc_t *d);

/* Where the parts of a packed image are, as offsets from the image start. */
typedef struct ota_img_host_info {
    ota_host_desc_t desc;
    bool bootloader; /* the descriptor follows a bootloader descriptor */
    bool has_payload;
    uint32_t payload_offset; /* valid when has_payload */
    uint32_t payload_len;
    uint32_t sdkconfig_offset;
    uint32_t sdkconfig_len;
    bool has_files;        /* an embedded-files table is present (OTA_HOST_FLAG_FILES) */
    uint32_t files_offset; /* the table, from the image start */
    uint32_t files_len;    /* bytes from the table to the end of segment 0 */
} ota_img_host_info_t;

/*
 * Locates the host descriptor of the image at flash offset (region of avail bytes) and checks it
 * against the segment table. Meant for images already verified.
 * Returns OTA_OK; OTA_ERR_NOT_FOUND when the image has no host descriptor (an image built by
 * ESP-IDF: not an error for the caller to report as corruption); OTA_ERR_CORRUPT when a
 * descriptor is present but points outside its segments (diag says how); OTA_ERR_VERSION for an
 * unknown descriptor version; OTA_ERR_INVALID_ARG; or the flash error.
 */
int ota_img_host_locate(const ota_flash_t *f, uint32_t offset, uint32_t avail,
                        ota_img_host_info_t *out, ota_diag_t *diag);

/*
 * Finds the embedded file `name` in an embedded-files table (len bytes, as located by
 * ota_img_host_locate and read by the caller). On success sets *data_off to the file's data
 * offset within the table (the data is followed by a NUL) and *data_len, and returns OTA_OK.
 * Returns OTA_ERR_NOT_FOUND if absent, OTA_ERR_CORRUPT for a malformed table, or
 * OTA_ERR_INVALID_ARG.
 */
int ota_img_files_find(const uint8_t *table, uint32_t len, const char *name, uint32_t *data_off,
                       uint32_t *data_len);

#ifdef __cplusplus
}
#endif

#endif /* OTA_IMG_H */
