/*
 * Log sink of the portable core.
 *
 * ESP-IDF's bootloader and OTA code log as they go ("I (123) boot: Loaded app ..."). The core
 * never prints: it hands each line (level letter, tag, message without newline) to the caller's
 * sink, which formats and prints it. A NULL sink or callback drops the lines.
 */
#ifndef OTA_LOG_H
#define OTA_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ota_log {
    /* level: 'E', 'W', 'I', 'D' or 'V' */
    void (*fn)(void *ctx, char level, const char *tag, const char *msg);
    void *ctx;
} ota_log_t;

/* Formats a message (at most 255 characters are kept) and passes it to the sink. */
void ota_logf(const ota_log_t *log, char level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* OTA_LOG_H */
