/* Pulse counter action and mode values (hal/pcnt_types.h, ESP-IDF v5.5). */
#ifndef HAL_PCNT_TYPES_H
#define HAL_PCNT_TYPES_H

/* What a channel does to the counter on an edge of its edge signal. */
typedef enum {
    PCNT_CHANNEL_EDGE_ACTION_HOLD,     /* the counter keeps its value */
    PCNT_CHANNEL_EDGE_ACTION_INCREASE, /* the counter counts up */
    PCNT_CHANNEL_EDGE_ACTION_DECREASE, /* the counter counts down */
} pcnt_channel_edge_action_t;

/* What a level of the channel's level signal does to the edge action. */
typedef enum {
    PCNT_CHANNEL_LEVEL_ACTION_KEEP,    /* the edge action stays */
    PCNT_CHANNEL_LEVEL_ACTION_INVERSE, /* up becomes down and down up */
    PCNT_CHANNEL_LEVEL_ACTION_HOLD,    /* edges do not count */
} pcnt_channel_level_action_t;

/* How the counter crossed zero. */
typedef enum {
    PCNT_UNIT_ZERO_CROSS_POS_ZERO,
    PCNT_UNIT_ZERO_CROSS_NEG_ZERO,
    PCNT_UNIT_ZERO_CROSS_NEG_POS,
    PCNT_UNIT_ZERO_CROSS_POS_NEG,
    PCNT_UNIT_ZERO_CROSS_INVALID,
} pcnt_unit_zero_cross_mode_t;

#endif /* HAL_PCNT_TYPES_H */
