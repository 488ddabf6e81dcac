/* ESP-IDF high-resolution time: microseconds since boot on the board's virtual clock. */
#ifndef ESP_TIMER_H
#define ESP_TIMER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int64_t esp_timer_get_time(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_TIMER_H */
