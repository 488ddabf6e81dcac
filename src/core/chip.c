/*
 * The chip table. Memory maps and flash codes follow esptool's targets (what `image_info`
 * prints); verifier windows follow ESP-IDF's SOC_IROM_* / SOC_DROM_* definitions (spec 3.4).
 */
#include "ota/ota_chip.h"

#include <string.h>

#define BIT(n) (1u << (n))
#define PAGES_8K_TO_64K (BIT(13) | BIT(14) | BIT(15) | BIT(16))
#define PAGES_16K_TO_64K (BIT(14) | BIT(15) | BIT(16))

/* Flash frequency tables (esptool FLASH_FREQUENCY, in its order). */
#define FREQS_ESP32 {{"80m", 0xF}, {"40m", 0x0}, {"26m", 0x1}, {"20m", 0x2}}, 4
#define FREQS_C2 {{"60m", 0xF}, {"30m", 0x0}, {"20m", 0x1}, {"15m", 0x2}}, 4
#define FREQS_C5 {{"80m", 0xF}, {"40m", 0x0}, {"20m", 0x2}}, 3
#define FREQS_C6 {{"80m", 0x0}, {"40m", 0x0}, {"20m", 0x2}}, 3
#define FREQS_H2 {{"48m", 0xF}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}}, 4
#define FREQS_H4 {{"48m", 0x0}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}}, 4

/*
 * Memory map of the RISC-V chips with unified internal RAM: flash data window [drom_lo, drom_hi),
 * flash code window [irom_lo, irom_hi).
 */
#define MAP_RISCV(drom_lo, drom_hi, irom_lo, irom_hi, ram_hi, rom_split, rom_hi)                   \
    {                                                                                              \
        {0x00000000, 0x00010000, "PADDING"}, {drom_lo, drom_hi, "DROM"},                           \
            {0x40800000, ram_hi, "DRAM"}, {0x40800000, ram_hi, "BYTE_ACCESSIBLE"},                 \
            {rom_split, rom_hi, "DROM_MASK"}, {0x40000000, rom_split, "IROM_MASK"},                \
            {irom_lo, irom_hi, "IROM"}, {0x40800000, ram_hi, "IRAM"},                              \
            {0x50000000, 0x50004000, "RTC_IRAM"}, {0x50000000, 0x50004000, "RTC_DRAM"},            \
            {0x600FE000, 0x60100000, "MEM_INTERNAL2"},                                             \
    }

/* The same with one unified flash window for code and data. */
#define MAP_UNIFIED(flash_lo, flash_hi, ram_hi, rom_split, rom_hi)                                 \
    MAP_RISCV(flash_lo, flash_hi, flash_lo, flash_hi, ram_hi, rom_split, rom_hi)

/*
 * Revisions (ota_chip_t.rev .. idf_efuse_blk_rev_max), major * 100 + minor.
 *
 * ESP-IDF v5.5 ranges: components/esp_hw_support/port/<target>/Kconfig.hw_support, the defaults
 * of <CHIP>_REV_MIN (choice), <CHIP>_REV_MAX_FULL, ESP_EFUSE_BLOCK_REV_MIN_FULL and
 * ESP_EFUSE_BLOCK_REV_MAX_FULL; an image built with them carries min/max in its header (bytes
 * 15..18) and the eFuse block range in esp_app_desc_t. Real default-built hello_world images
 * agree (ESP32 0..v3.99, ESP32-S2 0..v1.99, ESP32-S3 0..v0.99, ESP32-C3 v0.3..v1.99, ESP32-C2
 * v1.0.., ESP32-C6 and ESP32-H2 0..v0.99).
 *
 * Default revisions: silicon that ships, as ESP-IDF v5.5 bootloaders print it ("chip revision:
 * vX.Y", "efuse block revision: vX.Y") on production parts and modules, and as the chip revision
 * pages (api-reference/system/chip_revision) and compatibility advisories list them:
 *
 *   chip      default   eFuse blk  v5.5 image range            note
 *   ESP32     v3.0      -          v0.0..v3.99, blk 0..v0.99   ECO3 (WROOM-32E); no block check
 *   ESP32-S2  v1.0      v0.2       v0.0..v1.99, blk v0.2..0.99 ECO1
 *   ESP32-S3  v0.2      v1.3       v0.0..v0.99, blk 0..v1.99   ECO2, the production silicon
 *   ESP32-C3  v0.4      v1.3       v0.3..v1.99, blk 0..v1.99   ECO4 (v1.1 needs a newer minimum)
 *   ESP32-C2  v1.0      v0.0       v1.0..v2.99, blk 0..v0.99   ECO1
 *   ESP32-C6  v0.1      v0.3       v0.0..v0.99, blk 0..v0.99   ECO1
 *   ESP32-C61 v1.0      v0.1       v1.0..v1.99, blk 0..v0.99   mass production silicon
 *   ESP32-C5  v1.0      v0.3       v1.0..v1.99, blk 0..v0.99   ECO2, the only supported one
 *   ESP32-H2  v0.1      v0.0       v0.0..v0.99, blk 0..v0.99   ECO1
 *   ESP32-H21 v0.0      v0.0       v0.0..v0.99, blk 0..v0.99   preview target in v5.5
 *   ESP32-H4  v0.0      v0.0       v0.0..v0.99, blk 0..v0.99   preview target in v5.5
 *   ESP32-P4  v3.1      v0.3       v3.1..v3.99, blk 0..v0.99   v5.5 builds for >= v3.1 unless
 *                                                              ESP32P4_SELECTS_REV_LESS_V3
 */
#define REVS(r, blk, rmin, rmax, bmin, bmax)                                                       \
    .rev = (r), .efuse_blk_rev = (blk), .idf_rev_min = (rmin), .idf_rev_max = (rmax),              \
    .idf_efuse_blk_rev_min = (bmin), .idf_efuse_blk_rev_max = (bmax)

/* ESP32-H2 and ESP32-H21: everything but name, target, id and revisions. */
#define CHIP_H2_FAMILY                                                                             \
    .tool_irom = {0x42000000, 0x42800000}, .tool_drom = {0x42800000, 0x43000000},                  \
    .irom = {0x42000000, 0x43000000}, .drom = {0x42000000, 0x43000000},                            \
    .mem_map = MAP_UNIFIED(0x42000000, 0x43000000, 0x40880000, 0x4004AC00, 0x40050000),            \
    .mem_map_len = 11, .flash_freqs = FREQS_H2, .flash_freq_default = "48m",                       \
    .mmu_page_sizes = PAGES_8K_TO_64K, .mmu_configurable = true, .secure_version_bits = 16,        \
    .checks_efuse_blk_rev = true, .app_drom_base = 0x42000000, .app_irom_base = 0x42000000,        \
    .app_shared_mmu = true, .boot_dram_addr = 0x4083BD10, .boot_iram_addr = 0x4083DD10

static const ota_chip_t chips[] = {
    {
        .name = "ESP32",
        .target = "esp32",
        .id = OTA_CHIP_ID_ESP32,
        REVS(300, 0, 0, 399, 0, 99),
        .bootloader_offset = 0x1000,
        .tool_irom = {0x400D0000, 0x40400000},
        .tool_drom = {0x3F400000, 0x3F800000},
        .irom = {0x400D0000, 0x40400000},
        .drom = {0x3F400000, 0x3F800000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x3F400000, 0x3F800000, "DROM"},
                {0x3F800000, 0x3FC00000, "EXTRAM_DATA"},
                {0x3FF80000, 0x3FF82000, "RTC_DRAM"},
                {0x3FF90000, 0x40000000, "BYTE_ACCESSIBLE"},
                {0x3FFAE000, 0x40000000, "DRAM"},
                {0x3FFE0000, 0x3FFFFFFC, "DIRAM_DRAM"},
                {0x40000000, 0x40070000, "IROM"},
                {0x40070000, 0x40078000, "CACHE_PRO"},
                {0x40078000, 0x40080000, "CACHE_APP"},
                {0x40080000, 0x400A0000, "IRAM"},
                {0x400A0000, 0x400BFFFC, "DIRAM_IRAM"},
                {0x400C0000, 0x400C2000, "RTC_IRAM"},
                {0x400D0000, 0x40400000, "IROM"},
                {0x50000000, 0x50002000, "RTC_DATA"},
            },
        .mem_map_len = 15,
        .flash_freqs = FREQS_ESP32,
        .flash_freq_default = "40m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 32,
        .app_drom_base = 0x3F400000,
        .app_irom_base = 0x400D0000,
        .boot_dram_addr = 0x3FFF0030,
        .boot_iram_addr = 0x40080400,
    },
    {
        .name = "ESP32-S2",
        .target = "esp32s2",
        .id = OTA_CHIP_ID_ESP32S2,
        REVS(100, 2, 0, 199, 2, 99),
        .bootloader_offset = 0x1000,
        .tool_irom = {0x40080000, 0x40B80000},
        .tool_drom = {0x3F000000, 0x3F3F0000},
        .irom = {0x40080000, 0x40800000},
        .drom = {0x3F000000, 0x3FF80000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x3F000000, 0x3FF80000, "DROM"},
                {0x3F500000, 0x3FF80000, "EXTRAM_DATA"},
                {0x3FF9E000, 0x3FFA0000, "RTC_DRAM"},
                {0x3FF9E000, 0x40000000, "BYTE_ACCESSIBLE"},
                {0x3FF9E000, 0x40072000, "MEM_INTERNAL"},
                {0x3FFB0000, 0x40000000, "DRAM"},
                {0x40000000, 0x4001A100, "IROM_MASK"},
                {0x40020000, 0x40070000, "IRAM"},
                {0x40070000, 0x40072000, "RTC_IRAM"},
                {0x40080000, 0x40800000, "IROM"},
                {0x50000000, 0x50002000, "RTC_DATA"},
            },
        .mem_map_len = 12,
        .flash_freqs = FREQS_ESP32,
        .flash_freq_default = "80m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 16,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x3F000000,
        .app_irom_base = 0x40080000,
        .boot_dram_addr = 0x3FFE6100,
        .boot_iram_addr = 0x4004C000,
    },
    {
        .name = "ESP32-S3",
        .target = "esp32s3",
        .id = OTA_CHIP_ID_ESP32S3,
        REVS(2, 103, 0, 99, 0, 199),
        .tool_irom = {0x42000000, 0x44000000},
        .tool_drom = {0x3C000000, 0x3E000000},
        .irom = {0x42000000, 0x44000000},
        .drom = {0x3C000000, 0x3E000000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x3C000000, 0x3D000000, "DROM"},
                {0x3D000000, 0x3E000000, "EXTRAM_DATA"},
                {0x600FE000, 0x60100000, "RTC_DRAM"},
                {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
                {0x3FC88000, 0x403E2000, "MEM_INTERNAL"},
                {0x3FC88000, 0x3FD00000, "DRAM"},
                {0x40000000, 0x4001A100, "IROM_MASK"},
                {0x40370000, 0x403E0000, "IRAM"},
                {0x600FE000, 0x60100000, "RTC_IRAM"},
                {0x42000000, 0x42800000, "IROM"},
                {0x50000000, 0x50002000, "RTC_DATA"},
            },
        .mem_map_len = 12,
        .flash_freqs = FREQS_ESP32,
        .flash_freq_default = "80m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 16,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x3C000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x3FCE3810,
        .boot_iram_addr = 0x403C9700,
    },
    {
        .name = "ESP32-C3",
        .target = "esp32c3",
        .id = OTA_CHIP_ID_ESP32C3,
        REVS(4, 103, 3, 199, 0, 199),
        .tool_irom = {0x42000000, 0x42800000},
        .tool_drom = {0x3C000000, 0x3C800000},
        .irom = {0x42000000, 0x42800000},
        .drom = {0x3C000000, 0x3C800000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x3C000000, 0x3C800000, "DROM"},
                {0x3FC80000, 0x3FCE0000, "DRAM"},
                {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
                {0x3FF00000, 0x3FF20000, "DROM_MASK"},
                {0x40000000, 0x40060000, "IROM_MASK"},
                {0x42000000, 0x42800000, "IROM"},
                {0x4037C000, 0x403E0000, "IRAM"},
                {0x50000000, 0x50002000, "RTC_IRAM"},
                {0x50000000, 0x50002000, "RTC_DRAM"},
                {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
            },
        .mem_map_len = 11,
        .flash_freqs = FREQS_ESP32,
        .flash_freq_default = "80m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 16,
        .legacy_min_rev_is_minor = true,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x3C000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x3FCD5820,
        .boot_iram_addr = 0x403CC710,
    },
    {
        .name = "ESP32-C2",
        .target = "esp32c2",
        .id = OTA_CHIP_ID_ESP32C2,
        REVS(100, 0, 100, 299, 0, 99),
        .tool_irom = {0x42000000, 0x42400000},
        .tool_drom = {0x3C000000, 0x3C400000},
        .irom = {0x42000000, 0x42400000},
        .drom = {0x3C000000, 0x3C400000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x3C000000, 0x3C400000, "DROM"},
                {0x3FCA0000, 0x3FCE0000, "DRAM"},
                {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
                {0x3FF00000, 0x3FF50000, "DROM_MASK"},
                {0x40000000, 0x40090000, "IROM_MASK"},
                {0x42000000, 0x42400000, "IROM"},
                {0x4037C000, 0x403C0000, "IRAM"},
            },
        .mem_map_len = 8,
        .flash_freqs = FREQS_C2,
        .flash_freq_default = "60m",
        .mmu_page_sizes = PAGES_16K_TO_64K,
        .mmu_configurable = true,
        .secure_version_bits = 4,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x3C000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x3FCD5820,
        .boot_iram_addr = 0x403AE000,
    },
    {
        .name = "ESP32-C6",
        .target = "esp32c6",
        .id = OTA_CHIP_ID_ESP32C6,
        REVS(1, 3, 0, 99, 0, 99),
        .tool_irom = {0x42000000, 0x42800000},
        .tool_drom = {0x42800000, 0x43000000},
        .irom = {0x42000000, 0x43000000},
        .drom = {0x42000000, 0x43000000},
        .mem_map = MAP_UNIFIED(0x42000000, 0x43000000, 0x40880000, 0x4004AC00, 0x40050000),
        .mem_map_len = 11,
        .flash_freqs = FREQS_C6,
        .flash_freq_default = "80m",
        .mmu_page_sizes = PAGES_8K_TO_64K,
        .mmu_configurable = true,
        .secure_version_bits = 16,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x42000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x4086C610,
        .boot_iram_addr = 0x4086E610,
    },
    {
        .name = "ESP32-C61",
        .target = "esp32c61",
        .id = OTA_CHIP_ID_ESP32C61,
        REVS(100, 1, 100, 199, 0, 99),
        .tool_irom = {0x42000000, 0x44000000},
        .tool_drom = {0x42000000, 0x44000000},
        .irom = {0x42000000, 0x44000000},
        .drom = {0x42000000, 0x44000000},
        .mem_map = MAP_UNIFIED(0x42000000, 0x44000000, 0x40860000, 0x4004AC00, 0x40050000),
        .mem_map_len = 11,
        .flash_freqs = FREQS_C6,
        .flash_freq_default = "80m",
        .mmu_page_sizes = PAGES_8K_TO_64K,
        .mmu_configurable = true,
        .secure_version_bits = 16,
        .recovery_bootloader = true,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x42000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x4084E5A0,
        .boot_iram_addr = 0x408505A0,
    },
    {
        .name = "ESP32-C5",
        .target = "esp32c5",
        .id = OTA_CHIP_ID_ESP32C5,
        REVS(100, 3, 100, 199, 0, 99),
        .bootloader_offset = 0x2000,
        .tool_irom = {0x42000000, 0x44000000},
        .tool_drom = {0x42000000, 0x44000000},
        .irom = {0x42000000, 0x44000000},
        .drom = {0x42000000, 0x44000000},
        .mem_map = MAP_UNIFIED(0x42000000, 0x44000000, 0x40860000, 0x4003A000, 0x40040000),
        .mem_map_len = 11,
        .flash_freqs = FREQS_C5,
        .flash_freq_default = "80m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 9,
        .recovery_bootloader = true,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x42000000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x4084E5A0,
        .boot_iram_addr = 0x408505A0,
    },
    {
        .name = "ESP32-H2",
        .target = "esp32h2",
        .id = OTA_CHIP_ID_ESP32H2,
        REVS(1, 0, 0, 99, 0, 99),
        CHIP_H2_FAMILY,
    },
    {
        .name = "ESP32-H21",
        .target = "esp32h21",
        .id = OTA_CHIP_ID_ESP32H21,
        REVS(0, 0, 0, 99, 0, 99),
        CHIP_H2_FAMILY,
    },
    {
        .name = "ESP32-H4",
        .target = "esp32h4",
        .id = OTA_CHIP_ID_ESP32H4,
        REVS(0, 0, 0, 99, 0, 99),
        .bootloader_offset = 0x2000,
        .tool_irom = {0x42000000, 0x42800000},
        .tool_drom = {0x42800000, 0x43000000},
        .irom = {0x42000000, 0x43000000},
        .drom = {0x42000000, 0x43000000},
        .mem_map = MAP_RISCV(0x42800000, 0x43000000, 0x42000000, 0x42800000, 0x40880000, 0x4004AC00,
                             0x40050000),
        .mem_map_len = 11,
        .flash_freqs = FREQS_H4,
        .flash_freq_default = "48m",
        .mmu_page_sizes = PAGES_8K_TO_64K,
        .mmu_configurable = true,
        .secure_version_bits = 16,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x42800000,
        .app_irom_base = 0x42000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x4086C610,
        .boot_iram_addr = 0x4086E610,
    },
    {
        .name = "ESP32-P4",
        .target = "esp32p4",
        .id = OTA_CHIP_ID_ESP32P4,
        REVS(301, 3, 301, 399, 0, 99),
        .bootloader_offset = 0x2000,
        .tool_irom = {0x40000000, 0x4C000000},
        .tool_drom = {0x40000000, 0x4C000000},
        .irom = {0x40000000, 0x4C000000},
        .drom = {0x40000000, 0x4C000000},
        .mem_map =
            {
                {0x00000000, 0x00010000, "PADDING"},
                {0x40000000, 0x4C000000, "DROM"},
                {0x4FF00000, 0x4FFA0000, "DRAM"},
                {0x4FF00000, 0x4FFA0000, "BYTE_ACCESSIBLE"},
                {0x4FC00000, 0x4FC20000, "DROM_MASK"},
                {0x4FC00000, 0x4FC20000, "IROM_MASK"},
                {0x40000000, 0x4C000000, "IROM"},
                {0x4FF00000, 0x4FFA0000, "IRAM"},
                {0x50108000, 0x50110000, "RTC_IRAM"},
                {0x50108000, 0x50110000, "RTC_DRAM"},
                {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
            },
        .mem_map_len = 11,
        .flash_freqs = FREQS_ESP32,
        .flash_freq_default = "80m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 16,
        .checks_efuse_blk_rev = true,
        .app_drom_base = 0x40000000,
        .app_irom_base = 0x40000000,
        .app_shared_mmu = true,
        .boot_dram_addr = 0x4FF3ABD0,
        .boot_iram_addr = 0x4FF2CBD0,
    },
    {
        /* Pre-release id 14 as esptool v4 prints it; it has no memory map there. */
        .name = "ESP32-H2(beta2)",
        .target = "esp32h2beta2",
        .id = OTA_CHIP_ID_ESP32H2_BETA2,
        .legacy = true,
        .tool_irom = {0x42000000, 0x42800000},
        .tool_drom = {0x3C000000, 0x3C800000},
        .irom = {0x42000000, 0x42800000},
        .drom = {0x3C000000, 0x3C800000},
        .mem_map_len = 0,
        .flash_freqs = FREQS_H2,
        .flash_freq_default = "48m",
        .mmu_page_sizes = BIT(16),
        .secure_version_bits = 16,
    },
};

#define NCHIPS (sizeof(chips) / sizeof(chips[0]))

size_t ota_chip_count(void)
{
    return NCHIPS;
}

const ota_chip_t *ota_chip_at(size_t i)
{
    return i < NCHIPS ? &chips[i] : NULL;
}

/* Lower-case ASCII letters and digits of s, other characters dropped, into out (cap bytes). */
static void normalize(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < cap; s++) {
        char ch = *s;
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
        }
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            out[n++] = ch;
        } else if (ch != '-' && ch != '_' && ch != ' ' && ch != '(' && ch != ')') {
            out[n++] = '?'; /* never matches a chip */
        }
    }
    out[n] = '\0';
}

const ota_chip_t *ota_chip_by_name(const char *name)
{
    char want[32];
    char have[32];
    if (name == NULL || strlen(name) >= sizeof(want)) {
        return NULL;
    }
    normalize(name, want, sizeof(want));
    for (size_t i = 0; i < NCHIPS; i++) {
        if (chips[i].legacy) {
            continue;
        }
        normalize(chips[i].name, have, sizeof(have));
        if (strcmp(want, have) == 0) {
            return &chips[i];
        }
    }
    return NULL;
}

const ota_chip_t *ota_chip_by_id(uint16_t id)
{
    for (size_t i = 0; i < NCHIPS; i++) {
        if (chips[i].id == id) {
            return &chips[i];
        }
    }
    return NULL;
}

static bool in_range(ota_addr_range_t r, uint32_t addr)
{
    return addr >= r.start && addr < r.end;
}

size_t ota_chip_mem_types(const ota_chip_t *chip, uint32_t addr, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap > 0) {
        buf[0] = '\0';
    }
    if (chip == NULL) {
        return 0;
    }
    for (size_t i = 0; i < chip->mem_map_len; i++) {
        const ota_mem_region_t *r = &chip->mem_map[i];
        if (addr < r->start || addr >= r->end) {
            continue;
        }
        const char *parts[2] = {len > 0 ? ", " : "", r->name};
        for (int p = 0; p < 2; p++) {
            for (const char *s = parts[p]; *s != '\0'; s++) {
                if (len + 1 < cap) {
                    buf[len] = *s;
                    buf[len + 1] = '\0';
                }
                len++;
            }
        }
    }
    return len;
}

bool ota_chip_mem_is(const ota_chip_t *chip, uint32_t addr, const char *type)
{
    if (chip == NULL || type == NULL) {
        return false;
    }
    for (size_t i = 0; i < chip->mem_map_len; i++) {
        const ota_mem_region_t *r = &chip->mem_map[i];
        if (addr >= r->start && addr < r->end && strcmp(r->name, type) == 0) {
            return true;
        }
    }
    return false;
}

bool ota_chip_tool_is_flash_addr(const ota_chip_t *chip, uint32_t addr)
{
    return chip != NULL && (in_range(chip->tool_irom, addr) || in_range(chip->tool_drom, addr));
}

bool ota_chip_is_mapped(const ota_chip_t *chip, uint32_t addr)
{
    return chip != NULL && (in_range(chip->irom, addr) || in_range(chip->drom, addr));
}

uint32_t ota_chip_default_mmu_page_size(const ota_chip_t *chip, uint8_t flash_size_code)
{
    if (chip != NULL && chip->mmu_configurable && flash_size_code <= 1) {
        return flash_size_code == 0 ? 0x4000u : 0x8000u;
    }
    return OTA_MMU_PAGE_SIZE_DEFAULT;
}

const char *ota_chip_flash_freq_name(const ota_chip_t *chip, uint8_t code)
{
    if (chip == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < chip->flash_freqs_len; i++) {
        if (chip->flash_freqs[i].value == code) {
            return chip->flash_freqs[i].name;
        }
    }
    return NULL;
}

static bool eq_nocase(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) {
            return false;
        }
    }
    return *a == *b;
}

int ota_chip_flash_freq_code(const ota_chip_t *chip, const char *name)
{
    if (chip == NULL || name == NULL) {
        return -1;
    }
    for (size_t i = 0; i < chip->flash_freqs_len; i++) {
        if (eq_nocase(chip->flash_freqs[i].name, name)) {
            return chip->flash_freqs[i].value;
        }
    }
    return -1;
}

static const char *const flash_sizes[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                          "16MB", "32MB", "64MB", "128MB"};
static const char *const flash_modes[] = {"qio", "qout", "dio", "dout"};

const char *ota_flash_size_name(uint8_t code)
{
    return code < 8 ? flash_sizes[code] : NULL;
}

int ota_flash_size_code(const char *name)
{
    for (int i = 0; name != NULL && i < 8; i++) {
        if (eq_nocase(flash_sizes[i], name)) {
            return i;
        }
    }
    return -1;
}

const char *ota_flash_mode_name(uint8_t mode)
{
    return mode < 4 ? flash_modes[mode] : NULL;
}

int ota_flash_mode_code(const char *name)
{
    for (int i = 0; name != NULL && i < 4; i++) {
        if (eq_nocase(flash_modes[i], name)) {
            return i;
        }
    }
    return -1;
}
