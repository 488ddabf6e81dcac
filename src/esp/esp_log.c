/* ESP-IDF log output on the host: one line per call, virtual-clock timestamps, per-tag levels. */
#include "esp_log.h"
#include "esp_internal.h"
#include "ota/ota_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TAGS 64
#define TAG_LEN 32

typedef struct {
    char tag[TAG_LEN];
    esp_log_level_t level;
} tag_level_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tag_level_t tags[MAX_TAGS];
static int ntags;
static esp_log_level_t default_level = ESP_LOG_INFO;
static int colors_mode = -1;

static const char letters[] = "NEWIDV";
static const char *const color_of[] = {"", "\033[0;31m", "\033[0;33m", "\033[0;32m", "", ""};

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    pthread_mutex_lock(&lock);
    if (strcmp(tag, "*") == 0) {
        default_level = level;
        ntags = 0;
    } else {
        int i = 0;
        while (i < ntags && strncmp(tags[i].tag, tag, TAG_LEN) != 0) {
            i++;
        }
        if (i < MAX_TAGS) {
            snprintf(tags[i].tag, TAG_LEN, "%s", tag);
            tags[i].level = level;
            if (i == ntags) {
                ntags++;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

esp_log_level_t esp_log_level_get(const char *tag)
{
    esp_log_level_t level = default_level;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ntags; i++) {
        if (strncmp(tags[i].tag, tag, TAG_LEN) == 0) {
            level = tags[i].level;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return level;
}

uint32_t esp_log_timestamp(void)
{
    return ota_clock_now_ms();
}

void esp_log_set_colors(int on)
{
    colors_mode = on;
}

static int use_colors(void)
{
    if (colors_mode < 0) {
        const char *env = getenv("OTAKIT_LOG_COLORS");
        colors_mode = env != NULL ? strcmp(env, "1") == 0 : isatty(STDOUT_FILENO);
    }
    return colors_mode;
}

int esp_log_format(char *buf, size_t cap, esp_log_level_t level, const char *tag, const char *msg,
                   bool colors)
{
    if (level <= ESP_LOG_NONE || level > ESP_LOG_VERBOSE) {
        level = ESP_LOG_VERBOSE;
    }
    bool c = colors && color_of[level][0] != '\0';
    return snprintf(buf, cap, "%s%c (%u) %s: %s%s", c ? color_of[level] : "", letters[level],
                    (unsigned)esp_log_timestamp(), tag, msg, c ? "\033[0m" : "");
}

void esp_log_linev(esp_log_level_t level, const char *tag, const char *format, va_list ap)
{
    if (level <= ESP_LOG_NONE || level > ESP_LOG_VERBOSE || level > esp_log_level_get(tag)) {
        return;
    }
    char msg[1024];
    char line[1200];
    vsnprintf(msg, sizeof(msg), format, ap);
    esp_log_format(line, sizeof(line), level, tag, msg, use_colors());
    pthread_mutex_lock(&lock);
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&lock);
}

void esp_log_line(esp_log_level_t level, const char *tag, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    esp_log_linev(level, tag, format, ap);
    va_end(ap);
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    if (level > esp_log_level_get(tag)) {
        return;
    }
    va_list ap;
    va_start(ap, format);
    pthread_mutex_lock(&lock);
    vfprintf(stdout, format, ap);
    fflush(stdout);
    pthread_mutex_unlock(&lock);
    va_end(ap);
}

void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level)
{
    const uint8_t *p = buffer;
    for (uint16_t off = 0; off < buff_len; off += 16) {
        char line[16 * 3 + 1];
        size_t o = 0;
        for (uint16_t i = off; i < buff_len && i < off + 16; i++) {
            o += (size_t)snprintf(line + o, sizeof(line) - o, "%02x ", p[i]);
        }
        if (o > 0) {
            line[o - 1] = '\0';
        }
        esp_log_line(level, tag, "%s", line);
    }
}

void esp_log_buffer_char_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                  esp_log_level_t level)
{
    const char *p = buffer;
    for (uint16_t off = 0; off < buff_len; off += 16) {
        int n = buff_len - off < 16 ? buff_len - off : 16;
        esp_log_line(level, tag, "%.*s", n, p + off);
    }
}
