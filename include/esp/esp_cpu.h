/* ESP-IDF CPU utilities (esp_cpu.h, v5.5) on the simulated board's virtual clock. */
#ifndef ESP_CPU_H
#define ESP_CPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t esp_cpu_cycle_count_t;

/* Cycles of the 160 MHz CPU since reset, from the virtual clock (wraps at 2^32). */
esp_cpu_cycle_count_t esp_cpu_get_cycle_count(void);

/* The id of the core running the caller (always 0). */
int esp_cpu_get_core_id(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_CPU_H */
