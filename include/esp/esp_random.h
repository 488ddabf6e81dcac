/* ESP-IDF random numbers (esp_random.h): the host's kernel generator stands in for the RNG. */
#ifndef ESP_RANDOM_H
#define ESP_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns 32 random bits (from getrandom(2); never blocks once the host has booted). */
uint32_t esp_random(void);

/* Fills buf (len bytes, caller-owned) with random bytes. */
void esp_fill_random(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ESP_RANDOM_H */
