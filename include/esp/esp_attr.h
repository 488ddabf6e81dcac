/*
 * ESP-IDF memory placement attributes (esp_attr.h). The host has one memory: the placement
 * attributes are empty. RTC_DATA_ATTR / RTC_NOINIT_ATTR variables do not survive a restart (each
 * boot is a new program).
 */
#ifndef ESP_ATTR_H
#define ESP_ATTR_H

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
#define EXT_RAM_BSS_ATTR
#define EXT_RAM_NOINIT_ATTR
#define WORD_ALIGNED_ATTR __attribute__((aligned(4)))
#define FORCE_INLINE_ATTR static inline __attribute__((always_inline))
#define NOINLINE_ATTR __attribute__((noinline))
#define COUNTER_ATTR
#define TCM_IRAM_ATTR
#define TCM_DRAM_ATTR

#endif /* ESP_ATTR_H */
