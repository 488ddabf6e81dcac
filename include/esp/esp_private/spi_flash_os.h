/*
 * ESP-IDF's flash-operation guard (esp_private/spi_flash_os.h): the calls that stop the other
 * CPU and disable the cache around a flash operation. The board's flash has no cache; the guard
 * calls do nothing.
 */
#ifndef ESP_PRIVATE_SPI_FLASH_OS_H
#define ESP_PRIVATE_SPI_FLASH_OS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*spi_flash_guard_start_func_t)(void);
typedef void (*spi_flash_guard_end_func_t)(void);

typedef struct {
    spi_flash_guard_start_func_t start;
    spi_flash_guard_end_func_t end;
} spi_flash_guard_funcs_t;

/* The guard functions in use (never NULL). */
const spi_flash_guard_funcs_t *spi_flash_guard_get(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_PRIVATE_SPI_FLASH_OS_H */
