/* ESP-IDF ROM console output and input (esp_rom_uart.h, v5.5) over the board's console. */
#ifndef ESP_ROM_UART_H
#define ESP_ROM_UART_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes one character to the console. Returns 0. */
int esp_rom_output_tx_one_char(uint8_t c);

/* Writes one character (a '\n' becomes "\r\n", as the ROM's putc does). */
void esp_rom_output_putc(char c);

/* Waits until the console has sent what it holds (flushes stdout). */
void esp_rom_output_tx_wait_idle(uint8_t uart_no);

/* Reads one character of console input if one is waiting. Returns 0 and sets *c, or 1 when
 * nothing is waiting (never blocks). */
int esp_rom_output_rx_one_char(uint8_t *c);

#ifdef __cplusplus
}
#endif

#endif /* ESP_ROM_UART_H */
