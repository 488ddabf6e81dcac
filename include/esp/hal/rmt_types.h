/* RMT symbol and clock types (hal/rmt_types.h, ESP-IDF v5.5). */
#ifndef HAL_RMT_TYPES_H
#define HAL_RMT_TYPES_H

#include <stdint.h>

#include "soc/clk_tree_defs.h"

typedef soc_periph_rmt_clk_src_t rmt_clock_source_t;

/* One RMT symbol: two levels, each held for a duration in channel ticks; a duration of 0 ends
 * the transmission. */
typedef union {
    struct {
        uint16_t duration0 : 15;
        uint16_t level0 : 1;
        uint16_t duration1 : 15;
        uint16_t level1 : 1;
    };
    uint32_t val;
} rmt_symbol_word_t;

#endif /* HAL_RMT_TYPES_H */
