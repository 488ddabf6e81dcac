/* General purpose timer types (hal/timer_types.h, ESP-IDF v5.5). */
#ifndef HAL_TIMER_TYPES_H
#define HAL_TIMER_TYPES_H

#include "soc/clk_tree_defs.h"

typedef soc_periph_gptimer_clk_src_t gptimer_clock_source_t;

typedef enum {
    GPTIMER_COUNT_DOWN,
    GPTIMER_COUNT_UP,
} gptimer_count_direction_t;

#endif /* HAL_TIMER_TYPES_H */
