/* ESP-IDF native OTA API (app_update, esp_ota_ops.h, v5.5) over the native OTA core. */
#ifndef ESP_OTA_OPS_H
#define ESP_OTA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_bootloader_desc.h"
#include "esp_err.h"
#include "esp_flash_partitions.h"
#include "esp_partition.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_SIZE_UNKNOWN 0xffffffff
#define OTA_WITH_SEQUENTIAL_WRITES 0xfffffffe

typedef uint32_t esp_ota_handle_t;

/* Deprecated aliases kept by ESP-IDF v5.x. */
const esp_app_desc_t *esp_ota_get_app_description(void);
int esp_ota_get_app_elf_sha256(char *dst, size_t size);

esp_err_t esp_ota_begin(const esp_partition_t *partition, size_t image_size,
                        esp_ota_handle_t *out_handle);
esp_err_t esp_ota_resume(const esp_partition_t *partition, const size_t erase_size,
                         const size_t image_offset, esp_ota_handle_t *out_handle);
esp_err_t esp_ota_set_final_partition(esp_ota_handle_t handle, const esp_partition_t *final,
                                      bool finalize_with_copy);
esp_err_t esp_ota_write(esp_ota_handle_t handle, const void *data, size_t size);
esp_err_t esp_ota_write_with_offset(esp_ota_handle_t handle, const void *data, size_t size,
                                    uint32_t offset);
esp_err_t esp_ota_end(esp_ota_handle_t handle);
esp_err_t esp_ota_abort(esp_ota_handle_t handle);

esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition);
const esp_partition_t *esp_ota_get_boot_partition(void);
const esp_partition_t *esp_ota_get_running_partition(void);
const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from);

esp_err_t esp_ota_get_partition_description(const esp_partition_t *partition,
                                            esp_app_desc_t *app_desc);
esp_err_t esp_ota_get_bootloader_description(const esp_partition_t *bootloader_partition,
                                             esp_bootloader_desc_t *desc);
uint8_t esp_ota_get_app_partition_count(void);

esp_err_t esp_ota_mark_app_valid_cancel_rollback(void);
esp_err_t esp_ota_mark_app_invalid_rollback(void);
esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void);
const esp_partition_t *esp_ota_get_last_invalid_partition(void);
esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition,
                                      esp_ota_img_states_t *ota_state);
esp_err_t esp_ota_erase_last_boot_app_partition(void);
esp_err_t esp_ota_invalidate_inactive_ota_data_slot(void);
bool esp_ota_check_rollback_is_possible(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_OTA_OPS_H */
