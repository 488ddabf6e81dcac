/*
 * ESP-IDF logging: `L (ms) tag: message` lines on the console, with per-tag levels and colours
 * when the console is a terminal. The timestamp is the board's virtual clock in milliseconds.
 */
#ifndef ESP_LOG_H
#define ESP_LOG_H

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit_sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_LOG_NONE = 0,
    ESP_LOG_ERROR = 1,
    ESP_LOG_WARN = 2,
    ESP_LOG_INFO = 3,
    ESP_LOG_DEBUG = 4,
    ESP_LOG_VERBOSE = 5,
} esp_log_level_t;

/* Sets the level of a tag; "*" sets the default for every tag without its own level. */
void esp_log_level_set(const char *tag, esp_log_level_t level);

/* The level in effect for tag. */
esp_log_level_t esp_log_level_get(const char *tag);

/* Milliseconds since reset on the virtual clock. */
uint32_t esp_log_timestamp(void);

/* Writes one formatted log line (prefix, colour, newline added) if tag's level allows it. */
void esp_log_line(esp_log_level_t level, const char *tag, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* va_list form of esp_log_line. */
void esp_log_linev(esp_log_level_t level, const char *tag, const char *format, va_list ap);

/* Raw write, as ESP-IDF's esp_log_write: no prefix or newline is added. */
void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Hex dump of a buffer at the given level, 16 bytes per line (ESP_LOG_BUFFER_HEX_LEVEL). */
void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level);

/* The buffer as text at the given level, 16 characters per line (ESP_LOG_BUFFER_CHAR_LEVEL). */
void esp_log_buffer_char_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                  esp_log_level_t level);

/* Forces colours on or off (-1 = automatic: on when stdout is a terminal or OTAKIT_LOG_COLORS=1).
 */
void esp_log_set_colors(int on);

#define ESP_LOGE(tag, ...) esp_log_line(ESP_LOG_ERROR, tag, __VA_ARGS__)
#define ESP_LOGW(tag, ...) esp_log_line(ESP_LOG_WARN, tag, __VA_ARGS__)
#define ESP_LOGI(tag, ...) esp_log_line(ESP_LOG_INFO, tag, __VA_ARGS__)
#define ESP_LOGD(tag, ...) esp_log_line(ESP_LOG_DEBUG, tag, __VA_ARGS__)
#define ESP_LOGV(tag, ...) esp_log_line(ESP_LOG_VERBOSE, tag, __VA_ARGS__)

#define ESP_EARLY_LOGE ESP_LOGE
#define ESP_EARLY_LOGW ESP_LOGW
#define ESP_EARLY_LOGI ESP_LOGI
#define ESP_EARLY_LOGD ESP_LOGD

#define ESP_LOG_BUFFER_HEX_LEVEL(tag, buffer, len, level)                                          \
    esp_log_buffer_hex_internal(tag, buffer, len, level)
#define ESP_LOG_BUFFER_HEX(tag, buffer, len)                                                       \
    ESP_LOG_BUFFER_HEX_LEVEL(tag, buffer, len, ESP_LOG_INFO)
#define ESP_LOG_BUFFER_CHAR_LEVEL(tag, buffer, len, level)                                         \
    esp_log_buffer_char_internal(tag, buffer, len, level)
#define ESP_LOG_BUFFER_CHAR(tag, buffer, len)                                                      \
    ESP_LOG_BUFFER_CHAR_LEVEL(tag, buffer, len, ESP_LOG_INFO)

#ifdef __cplusplus
}
#endif

#endif /* ESP_LOG_H */
