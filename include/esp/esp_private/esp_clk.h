/* ESP-IDF clock frequencies (esp_private/esp_clk.h): the simulated board runs at 160 MHz. */
#ifndef ESP_PRIVATE_ESP_CLK_H
#define ESP_PRIVATE_ESP_CLK_H

#ifdef __cplusplus
extern "C" {
#endif

/* CPU frequency in Hz (160000000, the start-up banner's figure). */
int esp_clk_cpu_freq(void);

#ifdef __cplusplus
}
#endif

#endif /* ESP_PRIVATE_ESP_CLK_H */
