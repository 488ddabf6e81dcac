/* ESP-IDF application description (esp_app_desc_t, v5.5 layout) and accessors. */
#ifndef ESP_APP_DESC_H
#define ESP_APP_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_APP_DESC_MAGIC_WORD 0xABCD5432

typedef struct {
    uint32_t magic_word;
    uint32_t secure_version;
    uint32_t reserv1[2];
    char version[32];
    char project_name[32];
    char time[16];
    char date[16];
    char idf_ver[32];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size;
    uint8_t reserv3[3];
    uint32_t reserv2[18];
} esp_app_desc_t;

_Static_assert(sizeof(esp_app_desc_t) == 256, "esp_app_desc_t must be 256 bytes");

/* The running app's description (read from its image in flash at start-up). */
const esp_app_desc_t *esp_app_get_description(void);

/* Lower-case hex of the app's ELF SHA-256, at most CONFIG_APP_RETRIEVE_LEN_ELF_SHA (9)
 * characters plus NUL; returns the number of bytes written including the NUL. */
int esp_app_get_elf_sha256(char *dst, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* ESP_APP_DESC_H */
