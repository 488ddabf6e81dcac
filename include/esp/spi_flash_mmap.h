/* ESP-IDF flash mapping constants (spi_flash_mmap.h, v5.5). Mapping itself is esp_partition_mmap
 * (a copy on the host). */
#ifndef SPI_FLASH_MMAP_H
#define SPI_FLASH_MMAP_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPI_FLASH_SEC_SIZE 4096
#define SPI_FLASH_MMU_PAGE_SIZE 0x10000

typedef enum {
    SPI_FLASH_MMAP_DATA,
    SPI_FLASH_MMAP_INST,
} spi_flash_mmap_memory_t;

typedef uint32_t spi_flash_mmap_handle_t;

#ifdef __cplusplus
}
#endif

#endif /* SPI_FLASH_MMAP_H */
