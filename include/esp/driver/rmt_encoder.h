/* RMT encoders (driver/rmt_encoder.h, ESP-IDF v5.5): the copy encoder, which sends the caller's
 * rmt_symbol_word_t array as it is. */
#ifndef DRIVER_RMT_ENCODER_H
#define DRIVER_RMT_ENCODER_H

#include "driver/rmt_types.h"
#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No fields (an empty struct, as ESP-IDF declares it). */
__extension__ typedef struct {
} rmt_copy_encoder_config_t;

esp_err_t rmt_new_copy_encoder(const rmt_copy_encoder_config_t *config,
                               rmt_encoder_handle_t *ret_encoder);
esp_err_t rmt_del_encoder(rmt_encoder_handle_t encoder);
esp_err_t rmt_encoder_reset(rmt_encoder_handle_t encoder);

#ifdef __cplusplus
}
#endif

#endif /* DRIVER_RMT_ENCODER_H */
