/* ESP-IDF system console output (esp_system_console.h, v5.5). */
#ifndef ESP_SYSTEM_CONSOLE_H
#define ESP_SYSTEM_CONSOLE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Writes one character to the console. */
void esp_system_console_put_char(char c);

#ifdef __cplusplus
}
#endif

#endif /* ESP_SYSTEM_CONSOLE_H */
