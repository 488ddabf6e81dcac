/*
 * The ESP32 family as data: chip ids, bootloader offsets, flash-mapped address windows, the
 * memory map esptool prints as "Memory types", flash header encodings, MMU page sizes,
 * anti-rollback eFuse width and recovery-bootloader support.
 *
 * Portable core: a static, read-only table; nothing is allocated. Chips differ only by the data
 * in their ota_chip_t, never by code paths.
 */
#ifndef OTA_CHIP_H
#define OTA_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* esp_chip_id_t values (spec 3.3) */
#define OTA_CHIP_ID_ESP32 0x0000
#define OTA_CHIP_ID_ESP32S2 0x0002
#define OTA_CHIP_ID_ESP32C3 0x0005
#define OTA_CHIP_ID_ESP32S3 0x0009
#define OTA_CHIP_ID_ESP32C2 0x000C
#define OTA_CHIP_ID_ESP32C6 0x000D
#define OTA_CHIP_ID_ESP32H2_BETA2 0x000E /* pre-release id esptool v4 still knew */
#define OTA_CHIP_ID_ESP32H2 0x0010
#define OTA_CHIP_ID_ESP32P4 0x0012
#define OTA_CHIP_ID_ESP32C61 0x0014
#define OTA_CHIP_ID_ESP32C5 0x0017
#define OTA_CHIP_ID_ESP32H21 0x0019
#define OTA_CHIP_ID_ESP32H4 0x001C
#define OTA_CHIP_ID_INVALID 0xFFFF

/* A half-open address range [start, end). */
typedef struct ota_addr_range {
    uint32_t start;
    uint32_t end;
} ota_addr_range_t;

/* One row of esptool's MEMORY_MAP: addresses in [start, end) are of memory type name. */
typedef struct ota_mem_region {
    uint32_t start;
    uint32_t end;
    const char *name;
} ota_mem_region_t;

/* A named header code: flash frequency name ("80m") and its 4-bit value. */
typedef struct ota_chip_code {
    const char *name;
    uint8_t value;
} ota_chip_code_t;

#define OTA_CHIP_MAX_MEM_REGIONS 16
#define OTA_CHIP_MAX_FREQS 4
#define OTA_MMU_PAGE_SIZE_DEFAULT 0x10000u

typedef struct ota_chip {
    const char *name;   /* as esptool prints it: "ESP32-C3" */
    const char *target; /* CONFIG_IDF_TARGET value: "esp32c3" */
    uint16_t id;        /* esp_chip_id_t in the image header */
    bool legacy;        /* only known to old tools (image info); not found by name, not packed */
    uint32_t bootloader_offset; /* BOOTLOADER_OFFSET_IN_FLASH (spec 1.1) */

    /* Flash-mapped windows as esptool elf2image classifies segments (is_flash_addr). */
    ota_addr_range_t tool_irom;
    ota_addr_range_t tool_drom;
    /* Flash-mapped windows of ESP-IDF's image verifier (SOC_IROM_* / SOC_DROM_*). */
    ota_addr_range_t irom;
    ota_addr_range_t drom;

    /* esptool's MEMORY_MAP, in esptool's order (the order "Memory types" lists them). */
    ota_mem_region_t mem_map[OTA_CHIP_MAX_MEM_REGIONS];
    uint8_t mem_map_len;

    /* Flash frequency codes of the header's low nibble of byte 3, in esptool's order. */
    ota_chip_code_t flash_freqs[OTA_CHIP_MAX_FREQS];
    uint8_t flash_freqs_len;
    const char *flash_freq_default; /* ESP-IDF's default for the target */

    /* MMU: page sizes allowed (bit n set = 2^n bytes); only 64 KiB on fixed-page chips. */
    uint32_t mmu_page_sizes;
    bool mmu_configurable; /* the verifier takes the page size from the app descriptor */

    uint8_t secure_version_bits;  /* width of the app anti-rollback eFuse field (spec 5.3) */
    bool recovery_bootloader;     /* ROM falls back to a recovery bootloader (SOC_RECOVERY_...) */
    bool legacy_min_rev_is_minor; /* header byte 14 holds the minor revision (ESP32-C3) */
    bool checks_efuse_blk_rev;    /* verifier checks the app's eFuse block revision range; the
                                     bootloader prints "efuse block revision" */

    /*
     * Revisions, major * 100 + minor. rev / efuse_blk_rev: what the simulated board's chip
     * reports unless told otherwise, a revision that shipped silicon of the chip has.
     * idf_rev_min / idf_rev_max and idf_efuse_blk_rev_min / idf_efuse_blk_rev_max: ESP-IDF v5.5's
     * defaults for CONFIG_<CHIP>_REV_MIN_FULL / _REV_MAX_FULL and
     * CONFIG_ESP_EFUSE_BLOCK_REV_MIN_FULL / _MAX_FULL, what a build with default settings writes
     * into its images. The default revisions always lie within these ranges.
     */
    uint16_t rev;
    uint16_t efuse_blk_rev;
    uint16_t idf_rev_min;
    uint16_t idf_rev_max;
    uint16_t idf_efuse_blk_rev_min;
    uint16_t idf_efuse_blk_rev_max;

    /* Where otakit's packer places things (taken from real images of the chip). */
    uint32_t app_drom_base;  /* flash-mapped data window base for the app descriptor */
    uint32_t app_irom_base;  /* flash-mapped code window base for the payload */
    bool app_shared_mmu;     /* code and data share MMU pages: code goes after the data pages */
    uint32_t boot_dram_addr; /* bootloader descriptor segment load address */
    uint32_t boot_iram_addr; /* bootloader code segment load address (the entry point) */
} ota_chip_t;

/* Number of chips in the table (legacy entries included). */
size_t ota_chip_count(void);

/* The i-th chip of the table, or NULL if i >= ota_chip_count(). */
const ota_chip_t *ota_chip_at(size_t i);

/*
 * Finds a chip by name, case-insensitively, ignoring '-', '_' and spaces: "esp32c3", "ESP32-C3"
 * and "esp32-c3" all name the ESP32-C3. Legacy entries are not found. Returns NULL if unknown.
 */
const ota_chip_t *ota_chip_by_name(const char *name);

/* Finds a chip by its 16-bit image chip id (legacy entries included). NULL if unknown. */
const ota_chip_t *ota_chip_by_id(uint16_t id);

/*
 * Writes the memory types that contain addr, joined by ", " in table order (esptool's
 * "Memory types" column), into buf (cap bytes, always NUL-terminated when cap > 0).
 * Returns the length of the full text (which may exceed cap - 1 if truncated).
 */
size_t ota_chip_mem_types(const ota_chip_t *chip, uint32_t addr, char *buf, size_t cap);

/* True if addr lies in a memory region of the given type name ("DROM", "DRAM", ...). */
bool ota_chip_mem_is(const ota_chip_t *chip, uint32_t addr, const char *type);

/* esptool's is_flash_addr: addr is in the chip's tool IROM or DROM window. */
bool ota_chip_tool_is_flash_addr(const ota_chip_t *chip, uint32_t addr);

/* ESP-IDF's should_map: addr is in the verifier's IROM or DROM window. */
bool ota_chip_is_mapped(const ota_chip_t *chip, uint32_t addr);

/*
 * ESP-IDF's default CONFIG_MMU_PAGE_SIZE for a build of the chip with the given flash size code
 * (header high nibble of byte 3): on configurable-MMU chips 16 KiB with 1 MB and 32 KiB with
 * 2 MB flash, 64 KiB otherwise.
 */
uint32_t ota_chip_default_mmu_page_size(const ota_chip_t *chip, uint8_t flash_size_code);

/* Flash frequency name ("80m") of a 4-bit code, first match in table order; NULL if none. */
const char *ota_chip_flash_freq_name(const ota_chip_t *chip, uint8_t code);

/* 4-bit code of a flash frequency name ("40m"), or -1 if the chip has no such frequency. */
int ota_chip_flash_freq_code(const ota_chip_t *chip, const char *name);

/* Flash size name ("4MB") of the header's high nibble of byte 3 (0..15); NULL if none. */
const char *ota_flash_size_name(uint8_t code);

/* 4-bit code of a flash size name ("1MB".."128MB"), or -1. */
int ota_flash_size_code(const char *name);

/* Flash mode name ("qio", "qout", "dio", "dout") of a header byte 2 value; NULL if none. */
const char *ota_flash_mode_name(uint8_t mode);

/* Header byte 2 value of a flash mode name (case-insensitive), or -1. */
int ota_flash_mode_code(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* OTA_CHIP_H */
