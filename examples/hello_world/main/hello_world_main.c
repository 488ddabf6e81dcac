/*
 * hello_world: greets, describes the chip and the flash, counts down ten seconds and restarts.
 * Output as ESP-IDF's get-started example prints it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "esp_chip_info.h"
#include "esp_flash.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"

void app_main(void);

static void describe_chip(void)
{
    esp_chip_info_t info;
    esp_chip_info(&info);
    printf("This is %s chip with %d CPU core(s), %s%s%s%s, ",
           CONFIG_IDF_TARGET, info.cores,
           (info.features & CHIP_FEATURE_WIFI_BGN) ? "WiFi/" : "",
           (info.features & CHIP_FEATURE_BT) ? "BT" : "",
           (info.features & CHIP_FEATURE_BLE) ? "BLE" : "",
           (info.features & CHIP_FEATURE_IEEE802154) ? ", 802.15.4 (Zigbee/Thread)" : "");
    printf("silicon revision v%d.%d, ", info.revision / 100, info.revision % 100);
}

void app_main(void)
{
    printf("Hello world!\n");
    describe_chip();

    uint32_t flash_size = 0;
    if (esp_flash_get_size(NULL, &flash_size) != ESP_OK) {
        printf("Get flash size failed");
        return;
    }
    esp_chip_info_t info;
    esp_chip_info(&info);
    printf("%" PRIu32 "MB %s flash\n", flash_size / (uint32_t)(1024 * 1024),
           (info.features & CHIP_FEATURE_EMB_FLASH) ? "embedded" : "external");
    printf("Minimum free heap size: %" PRIu32 " bytes\n", esp_get_minimum_free_heap_size());

    for (int i = 10; i >= 0; i--) {
        printf("Restarting in %d seconds...\n", i);
        vTaskDelay(1000 / portTICK_PERIOD_MS);
    }
    printf("Restarting now.\n");
    fflush(stdout);
    esp_restart();
}
