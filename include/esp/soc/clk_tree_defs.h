/*
 * Clock sources that ESP-IDF v5.5's peripheral drivers take (soc/clk_tree_defs.h): the values
 * name a source; the board gives each its nominal frequency (APB 80 MHz, XTAL 40 MHz, REF_TICK
 * 1 MHz on the ESP32). Only the peripherals otakit models.
 */
#ifndef SOC_CLK_TREE_DEFS_H
#define SOC_CLK_TREE_DEFS_H

#include "otakit_sdkconfig.h"

typedef enum {
    SOC_MOD_CLK_APB = 1,
    SOC_MOD_CLK_REF_TICK,
    SOC_MOD_CLK_XTAL,
    SOC_MOD_CLK_RC_FAST,
    SOC_MOD_CLK_PLL_F80M,
} soc_module_clk_t;

#define OTAKIT_CLK_APB_HZ 80000000u
#define OTAKIT_CLK_XTAL_HZ 40000000u
#define OTAKIT_CLK_REF_TICK_HZ 1000000u
#define OTAKIT_CLK_RC_FAST_HZ 17500000u

/* RMT */
typedef enum {
    RMT_CLK_SRC_APB = SOC_MOD_CLK_APB,
    RMT_CLK_SRC_REF_TICK = SOC_MOD_CLK_REF_TICK,
    RMT_CLK_SRC_XTAL = SOC_MOD_CLK_XTAL,
    RMT_CLK_SRC_RC_FAST = SOC_MOD_CLK_RC_FAST,
#if defined(CONFIG_IDF_TARGET_ESP32) || defined(CONFIG_IDF_TARGET_ESP32S2)
    RMT_CLK_SRC_DEFAULT = SOC_MOD_CLK_APB,
#else
    RMT_CLK_SRC_DEFAULT = SOC_MOD_CLK_XTAL,
#endif
} soc_periph_rmt_clk_src_t;

/* General purpose timer */
typedef enum {
    GPTIMER_CLK_SRC_APB = SOC_MOD_CLK_APB,
    GPTIMER_CLK_SRC_XTAL = SOC_MOD_CLK_XTAL,
    GPTIMER_CLK_SRC_PLL_F80M = SOC_MOD_CLK_PLL_F80M,
    GPTIMER_CLK_SRC_RC_FAST = SOC_MOD_CLK_RC_FAST,
#if defined(CONFIG_IDF_TARGET_ESP32) || defined(CONFIG_IDF_TARGET_ESP32S2) ||                      \
    defined(CONFIG_IDF_TARGET_ESP32S3) || defined(CONFIG_IDF_TARGET_ESP32C3)
    GPTIMER_CLK_SRC_DEFAULT = SOC_MOD_CLK_APB,
#else
    GPTIMER_CLK_SRC_DEFAULT = SOC_MOD_CLK_PLL_F80M,
#endif
} soc_periph_gptimer_clk_src_t;

#endif /* SOC_CLK_TREE_DEFS_H */
