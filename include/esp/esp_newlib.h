/* ESP-IDF newlib glue (esp_newlib.h): the host's C library needs none of it. */
#ifndef ESP_NEWLIB_H
#define ESP_NEWLIB_H

#ifdef __cplusplus
extern "C" {
#endif

/* Frees the calling task's C library state (nothing to free on the host). */
void esp_reent_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_NEWLIB_H */
