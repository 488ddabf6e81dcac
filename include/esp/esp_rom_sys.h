/* ESP-IDF ROM system calls (esp_rom_sys.h, v5.5) on the simulated board. */
#ifndef ESP_ROM_SYS_H
#define ESP_ROM_SYS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* printf to the console, as the ROM's. Returns the number of characters printed. */
int esp_rom_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Busy-waits us microseconds: advances the board's virtual clock. */
void esp_rom_delay_us(uint32_t us);

/* Flash offset of the bootloader the ROM started in this boot: the primary bootloader's offset
 * (the board's ROM step does not report a recovery fallback to the app). */
uint32_t esp_rom_get_bootloader_offset(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_ROM_SYS_H */
