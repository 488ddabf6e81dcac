/*
 * ESP-IDF memory placement attributes (esp_attr.h). The host has one memory: the placement
 * attributes are empty. RTC_DATA_ATTR / RTC_NOINIT_ATTR variables do not survive a restart (each
 * boot is a new program). EXT_RAM_BSS_ATTR and EXT_RAM_NOINIT_ATTR, with
 * CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY / _NOINIT_SEG_, put variables in the sections
 * ext_ram_bss / ext_ram_noinit, whose size the PSRAM reserves before its heap (esp_psram.h); the
 * variables themselves stay in host memory, zero-initialized.
 */
#ifndef ESP_ATTR_H
#define ESP_ATTR_H

#include "otakit_sdkconfig.h"

#define IRAM_ATTR
#define DRAM_ATTR
#define IRAM_DATA_ATTR
#define IRAM_BSS_ATTR
#define DRAM_STR(str) (str)
#define RTC_DATA_ATTR
#define RTC_RODATA_ATTR
#define RTC_IRAM_ATTR
#define RTC_FAST_ATTR
#define RTC_SLOW_ATTR
#define RTC_NOINIT_ATTR
#define NOINIT_ATTR
#if CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY
#define EXT_RAM_BSS_ATTR __attribute__((section("ext_ram_bss")))
#else
#define EXT_RAM_BSS_ATTR
#endif
#if CONFIG_SPIRAM_ALLOW_NOINIT_SEG_EXTERNAL_MEMORY
#define EXT_RAM_NOINIT_ATTR __attribute__((section("ext_ram_noinit")))
#else
#define EXT_RAM_NOINIT_ATTR
#endif
#define WORD_ALIGNED_ATTR __attribute__((aligned(4)))
#define FORCE_INLINE_ATTR static inline __attribute__((always_inline))
#define NOINLINE_ATTR __attribute__((noinline))
#define COUNTER_ATTR
#define TCM_IRAM_ATTR
#define TCM_DRAM_ATTR

#endif /* ESP_ATTR_H */
