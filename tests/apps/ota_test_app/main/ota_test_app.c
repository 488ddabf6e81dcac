/*
 * ota_test_app: a small app for boot-chain and power-loss tests, an ordinary ESP-IDF project: what
 * it does is chosen at build time (main/Kconfig.projbuild), so each test builds the variants it
 * needs.
 *
 *   CONFIG_TEST_APP_ACTION   comma-separated list of actions, run in order:
 *                            "install"  copy the image held in the data partition labelled by
 *                                       CONFIG_TEST_APP_SOURCE ("update") into the next OTA slot
 *                                       with esp_ota_begin/write/end, select it, restart; skipped
 *                                       when that version is the last one rolled back (as
 *                                       native_ota_example does)
 *                            "confirm"  mark the running app valid (cancel rollback), then idle
 *                            "invalid"  esp_ota_mark_app_invalid_rollback_and_reboot()
 *                            "crash"    abort() before confirming
 *                            "idle"     do nothing
 *                            "sleep"    deep sleep for CONFIG_TEST_APP_SLEEP_US (default 3 s);
 *                                       after the wake-up, print the reset reason and wake-up
 *                                       cause instead
 *                            "rtos"     a worker task fed through a queue, an esp_timer and a
 *                                       software timer, each line with its virtual time; the
 *                                       worker then waits forever (nothing left to run)
 *                            "mac"      print the station MAC (esp_read_mac)
 *                            "echo"     read console lines, print each back as "echo: LINE"
 *                                       until the line "quit"
 *                            "hold_pin" drive CONFIG_TEST_APP_PIN low (gpio_config,
 *                                       gpio_set_level, gpio_hold_en), then restart: the
 *                                       bootloader reads the pin held low
 *                            "release_pin" release CONFIG_TEST_APP_PIN (gpio_hold_dis,
 *                                       gpio_reset_pin)
 *                            "https"    esp_https_ota() of the URL typed on the console, with
 *                                       no certificate, bundle or CA store (no verification
 *                                       option): restarts into the new app, or logs the error
 *                            "nvs"      nvs_flash_init, then in namespace CONFIG_TEST_APP_NVS_NS
 *                                       print the keys of CONFIG_TEST_APP_NVS_GET ("type:key"
 *                                       words, types u8 i8 u16 i16 u32 i32 u64 i64 str blob) as
 *                                       "nvs NS:KEY = VALUE" (blobs in hex), then
 *                                       CONFIG_TEST_APP_NVS_ROUNDS rounds of updates (u32
 *                                       "count" = round, str "text" = "round N", 3000-byte blob
 *                                       "data" of byte N), commit, and erase the key
 *                                       CONFIG_TEST_APP_NVS_ERASE
 *                            "psram"    (a 16 KB EXT_RAM_BSS_ATTR array is in the program)
 *                                       print esp_psram_is_initialized/get_size and the
 *                                       MALLOC_CAP_SPIRAM free size; allocate 1 MB from PSRAM,
 *                                       print the free size, whether the block is external RAM,
 *                                       free() it; then allocate 64 KB blocks until NULL and
 *                                       print how many, free them and print the free size
 *   CONFIG_TEST_APP_CHUNK    write size for "install" (default 4096)
 *   CONFIG_TEST_APP_PIN      the pin of "hold_pin" and "release_pin" (default 4)
 *
 * Every boot prints one line the tests look for:
 *   "ota_test_app: running <project> <version> from <label> state <STATE>"
 * and each action prints what it did.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp_app_desc.h"
#include "esp_attr.h"
#include "esp_heap_caps.h"
#include "esp_https_ota.h"
#include "esp_memory_utils.h"
#include "esp_psram.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_sleep.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "freertos/timers.h"
#include "sdkconfig.h"

static const char *TAG = "ota_test_app";

/* A URL typed on the console, downloaded with esp_https_ota() and no verification option. */
static void https_update(void)
{
    char url[256];
    if (fgets(url, sizeof(url), stdin) == NULL) {
        ESP_LOGE(TAG, "https: no URL on the console");
        return;
    }
    url[strcspn(url, "\r\n")] = '\0';
    esp_http_client_config_t http = {.url = url, .keep_alive_enable = true};
    esp_https_ota_config_t cfg = {.http_config = &http};
    esp_err_t err = esp_https_ota(&cfg);
    ESP_LOGI(TAG, "https: %s", esp_err_to_name(err));
    if (err == ESP_OK) {
        esp_restart();
    }
}

void app_main(void);

static const char *state_name(const esp_partition_t *p)
{
    esp_ota_img_states_t st;
    if (esp_ota_get_state_partition(p, &st) != ESP_OK) {
        return "none";
    }
    switch (st) {
    case ESP_OTA_IMG_NEW:
        return "NEW";
    case ESP_OTA_IMG_PENDING_VERIFY:
        return "PENDING_VERIFY";
    case ESP_OTA_IMG_VALID:
        return "VALID";
    case ESP_OTA_IMG_INVALID:
        return "INVALID";
    case ESP_OTA_IMG_ABORTED:
        return "ABORTED";
    case ESP_OTA_IMG_UNDEFINED:
        return "UNDEFINED";
    default:
        return "?";
    }
}

/* Length of the image at the start of the source partition (0 if none): header walk. */
static size_t image_length(const esp_partition_t *src)
{
    uint8_t hdr[24];
    if (esp_partition_read(src, 0, hdr, sizeof(hdr)) != ESP_OK || hdr[0] != 0xE9) {
        return 0;
    }
    size_t pos = 24;
    for (int i = 0; i < hdr[1]; i++) {
        uint8_t seg[8];
        if (esp_partition_read(src, pos, seg, sizeof(seg)) != ESP_OK) {
            return 0;
        }
        uint32_t len = (uint32_t)seg[4] | (uint32_t)seg[5] << 8 | (uint32_t)seg[6] << 16 |
                       (uint32_t)seg[7] << 24;
        pos += 8 + len;
        if (pos > src->size) {
            return 0;
        }
    }
    pos = (pos + 16) & ~(size_t)15; /* padding and checksum byte */
    return pos + (hdr[23] == 1 ? 32 : 0);
}

static void install(void)
{
    const char *label = CONFIG_TEST_APP_SOURCE;
    const esp_partition_t *src =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, label);
    const esp_partition_t *dst = esp_ota_get_next_update_partition(NULL);
    if (src == NULL || dst == NULL) {
        ESP_LOGE(TAG, "install: no source partition '%s' or no OTA slot", label);
        return;
    }
    size_t len = image_length(src);
    if (len == 0) {
        ESP_LOGE(TAG, "install: no image in partition '%s'", label);
        return;
    }
    esp_app_desc_t new_desc;
    esp_app_desc_t invalid_desc;
    const esp_partition_t *invalid = esp_ota_get_last_invalid_partition();
    if (esp_partition_read(src, 0x20, &new_desc, sizeof(new_desc)) == ESP_OK && invalid != NULL &&
        esp_ota_get_partition_description(invalid, &invalid_desc) == ESP_OK &&
        strncmp(invalid_desc.version, new_desc.version, sizeof(new_desc.version)) == 0) {
        ESP_LOGW(TAG, "install: version %s was rolled back; not installing it again",
                 new_desc.version);
        return;
    }
    size_t chunk = (size_t)CONFIG_TEST_APP_CHUNK;
    uint8_t *buf = malloc(chunk);
    esp_ota_handle_t h = 0;
    esp_err_t err = esp_ota_begin(dst, OTA_WITH_SEQUENTIAL_WRITES, &h);
    for (size_t off = 0; err == ESP_OK && off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        err = esp_partition_read(src, off, buf, n);
        if (err == ESP_OK) {
            err = esp_ota_write(h, buf, n);
        }
    }
    free(buf);
    if (err == ESP_OK) {
        err = esp_ota_end(h);
    } else {
        esp_ota_abort(h);
    }
    if (err == ESP_OK) {
        err = esp_ota_set_boot_partition(dst);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "install failed: %s", esp_err_to_name(err));
        return;
    }
    ESP_LOGI(TAG, "installed %u bytes into %s; restarting", (unsigned)len, dst->label);
    esp_restart();
}

static void sleep_or_wake(void)
{
    if (esp_reset_reason() == ESP_RST_DEEPSLEEP) {
        ESP_LOGI(TAG, "woke from deep sleep: reset reason %d, wake-up cause %d",
                 (int)esp_reset_reason(), (int)esp_sleep_get_wakeup_cause());
        return;
    }
    long long us = CONFIG_TEST_APP_SLEEP_US;
    ESP_LOGI(TAG, "sleeping for %lld us", us);
    esp_deep_sleep((uint64_t)us);
}

static QueueHandle_t work;
static SemaphoreHandle_t ticks_done;

static void worker(void *arg)
{
    (void)arg;
    int n;
    while (xQueueReceive(work, &n, pdMS_TO_TICKS(1000)) == pdPASS) {
        ESP_LOGI(TAG, "worker got %d at %lld ms", n, (long long)(esp_timer_get_time() / 1000));
    }
    ESP_LOGI(TAG, "worker: queue empty for 1000 ms at %lld ms",
             (long long)(esp_timer_get_time() / 1000));
    xQueueReceive(work, &n, portMAX_DELAY); /* nothing will come */
    vTaskDelete(NULL);
}

static void on_esp_timer(void *arg)
{
    static int fired;
    ESP_LOGI(TAG, "esp_timer %d at %lld us", ++fired, (long long)esp_timer_get_time());
    if (fired == 3) {
        esp_timer_stop(*(esp_timer_handle_t *)arg);
        xSemaphoreGive(ticks_done);
    }
}

static void on_soft_timer(TimerHandle_t t)
{
    ESP_LOGI(TAG, "software timer %s at tick %u", pcTimerGetName(t), (unsigned)xTaskGetTickCount());
}

static void rtos_demo(void)
{
    work = xQueueCreate(2, sizeof(int));
    ticks_done = xSemaphoreCreateBinary();
    xTaskCreate(worker, "worker", 4096, NULL, 5, NULL);
    for (int i = 1; i <= 3; i++) {
        vTaskDelay(pdMS_TO_TICKS(200));
        xQueueSend(work, &i, portMAX_DELAY);
    }
    static esp_timer_handle_t timer;
    esp_timer_create_args_t args = {.callback = on_esp_timer, .arg = &timer, .name = "t"};
    esp_timer_create(&args, &timer);
    esp_timer_start_periodic(timer, 250000);
    xTimerStart(xTimerCreate("once", pdMS_TO_TICKS(500), pdFALSE, NULL, on_soft_timer), 0);
    xSemaphoreTake(ticks_done, portMAX_DELAY);
    ESP_LOGI(TAG, "timers done at %lld ms", (long long)(esp_timer_get_time() / 1000));
}

static void print_mac(void)
{
    uint8_t mac[6];
    esp_err_t err = esp_read_mac(mac, ESP_MAC_WIFI_STA);
    ESP_LOGI(TAG, "mac " MACSTR " (%s)", MAC2STR(mac), esp_err_to_name(err));
}

static void hold_pin(void)
{
    int pin = CONFIG_TEST_APP_PIN;
    gpio_config_t io = {.pin_bit_mask = 1ULL << pin, .mode = GPIO_MODE_OUTPUT};
    esp_err_t err = gpio_config(&io);
    if (err == ESP_OK) {
        err = gpio_set_level(pin, 0);
    }
    if (err == ESP_OK) {
        err = gpio_hold_en(pin);
    }
    ESP_LOGI(TAG, "holding GPIO%d low (%s); restarting", pin, esp_err_to_name(err));
    esp_restart();
}

static void release_pin(void)
{
    int pin = CONFIG_TEST_APP_PIN;
    esp_err_t err = gpio_hold_dis(pin);
    if (err == ESP_OK) {
        err = gpio_reset_pin(pin);
    }
    ESP_LOGI(TAG, "released GPIO%d (%s), it reads %d", pin, esp_err_to_name(err),
             gpio_get_level(pin));
}

/* Prints one key of type t ("u8" .. "i64", "str", "blob") as "nvs NS:KEY = VALUE". */
static void nvs_print(nvs_handle_t h, const char *ns, const char *t, const char *key)
{
    uint8_t buf[4096];
    size_t len = sizeof(buf);
    long long v = 0;
    unsigned long long u = 0;
    esp_err_t err = ESP_ERR_INVALID_ARG;
    if (strcmp(t, "u8") == 0) {
        uint8_t x = 0;
        err = nvs_get_u8(h, key, &x);
        u = x;
    } else if (strcmp(t, "i8") == 0) {
        int8_t x = 0;
        err = nvs_get_i8(h, key, &x);
        v = x;
    } else if (strcmp(t, "u16") == 0) {
        uint16_t x = 0;
        err = nvs_get_u16(h, key, &x);
        u = x;
    } else if (strcmp(t, "i16") == 0) {
        int16_t x = 0;
        err = nvs_get_i16(h, key, &x);
        v = x;
    } else if (strcmp(t, "u32") == 0) {
        uint32_t x = 0;
        err = nvs_get_u32(h, key, &x);
        u = x;
    } else if (strcmp(t, "i32") == 0) {
        int32_t x = 0;
        err = nvs_get_i32(h, key, &x);
        v = x;
    } else if (strcmp(t, "u64") == 0) {
        uint64_t x = 0;
        err = nvs_get_u64(h, key, &x);
        u = x;
    } else if (strcmp(t, "i64") == 0) {
        int64_t x = 0;
        err = nvs_get_i64(h, key, &x);
        v = x;
    } else if (strcmp(t, "str") == 0) {
        err = nvs_get_str(h, key, (char *)buf, &len);
    } else if (strcmp(t, "blob") == 0) {
        err = nvs_get_blob(h, key, buf, &len);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "nvs %s:%s: %s", ns, key, esp_err_to_name(err));
    } else if (strcmp(t, "str") == 0) {
        printf("nvs %s:%s = \"%s\"\n", ns, key, (const char *)buf);
    } else if (strcmp(t, "blob") == 0) {
        printf("nvs %s:%s = ", ns, key);
        for (size_t i = 0; i < len; i++) {
            printf("%02x", buf[i]);
        }
        printf("\n");
    } else if (t[0] == 'u') {
        printf("nvs %s:%s = %llu\n", ns, key, u);
    } else {
        printf("nvs %s:%s = %lld\n", ns, key, v);
    }
}

static void nvs_action(void)
{
    const char *ns = CONFIG_TEST_APP_NVS_NS;
    nvs_handle_t h = 0;
    esp_err_t err = nvs_flash_init();
    if (err == ESP_OK) {
        err = nvs_open(ns, NVS_READWRITE, &h);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "nvs: %s", esp_err_to_name(err));
        return;
    }
    char list[256];
    snprintf(list, sizeof(list), "%s", CONFIG_TEST_APP_NVS_GET);
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(w, ':');
        if (colon != NULL) {
            *colon = '\0';
            nvs_print(h, ns, w, colon + 1);
        }
    }
    static uint8_t data[3000];
    long long rounds = CONFIG_TEST_APP_NVS_ROUNDS;
    for (long long r = 1; r <= rounds && err == ESP_OK; r++) {
        char text[32];
        snprintf(text, sizeof(text), "round %lld", r);
        memset(data, (int)r, sizeof(data));
        err = nvs_set_u32(h, "count", (uint32_t)r);
        err = err == ESP_OK ? nvs_set_str(h, "text", text) : err;
        err = err == ESP_OK ? nvs_set_blob(h, "data", data, sizeof(data)) : err;
        err = err == ESP_OK ? nvs_commit(h) : err;
    }
    const char *gone = CONFIG_TEST_APP_NVS_ERASE;
    if (err == ESP_OK && gone[0] != '\0') {
        err = nvs_erase_key(h, gone);
        err = err == ESP_OK ? nvs_commit(h) : err;
    }
    nvs_close(h);
    ESP_LOGI(TAG, "nvs: %lld rounds written: %s", rounds, esp_err_to_name(err));
}

/* The "echo" action: console input read as ESP-IDF apps read it (stdin), printed back. */
static void echo_console(void)
{
    char line[128];
    ESP_LOGI(TAG, "echo: type lines, 'quit' ends");
    while (fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "quit") == 0) {
            break;
        }
        printf("echo: %s\n", line);
        fflush(stdout);
    }
    ESP_LOGI(TAG, "echo: done");
}

/* In PSRAM with CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY (the PSRAM heap is smaller by it). */
static EXT_RAM_BSS_ATTR uint8_t ext_buf[16 * 1024];

static void psram_action(void)
{
    ext_buf[sizeof(ext_buf) - 1] = 1;
    ESP_LOGI(TAG, "psram: initialized %d, size %u, free %u", esp_psram_is_initialized(),
             (unsigned)esp_psram_get_size(), (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    uint8_t *big = heap_caps_malloc(1024 * 1024, MALLOC_CAP_SPIRAM);
    if (big == NULL) {
        ESP_LOGI(TAG, "psram: 1 MB allocation failed");
        return;
    }
    memset(big, 0x5a, 1024 * 1024);
    ESP_LOGI(TAG, "psram: 1 MB allocated, free %u, external %d, internal %d",
             (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM), esp_ptr_external_ram(big),
             esp_ptr_internal(big));
    free(big);
    ESP_LOGI(TAG, "psram: freed, free %u", (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    static void *blocks[256];
    int n = 0;
    while (n < 256 && (blocks[n] = heap_caps_malloc(64 * 1024, MALLOC_CAP_SPIRAM)) != NULL) {
        n++;
    }
    ESP_LOGI(TAG, "psram: %d blocks of 64 KB, then NULL, free %u", n,
             (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    while (n > 0) {
        heap_caps_free(blocks[--n]);
    }
    ESP_LOGI(TAG, "psram: all freed, free %u", (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
}

void app_main(void)
{
    const esp_app_desc_t *d = esp_app_get_description();
    const esp_partition_t *running = esp_ota_get_running_partition();
    ESP_LOGI(TAG, "running %s %s from %s state %s", d->project_name, d->version, running->label,
             state_name(running));

    char actions[128];
    snprintf(actions, sizeof(actions), "%s", CONFIG_TEST_APP_ACTION);
    for (char *save = NULL, *a = strtok_r(actions, ", ", &save); a != NULL;
         a = strtok_r(NULL, ", ", &save)) {
        if (strcmp(a, "install") == 0) {
            install();
        } else if (strcmp(a, "confirm") == 0) {
            esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
            ESP_LOGI(TAG, "confirmed: %s, state %s", esp_err_to_name(err), state_name(running));
        } else if (strcmp(a, "invalid") == 0) {
            esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
            ESP_LOGE(TAG, "rollback refused: %s", esp_err_to_name(err));
        } else if (strcmp(a, "sleep") == 0) {
            sleep_or_wake();
        } else if (strcmp(a, "rtos") == 0) {
            rtos_demo();
        } else if (strcmp(a, "mac") == 0) {
            print_mac();
        } else if (strcmp(a, "echo") == 0) {
            echo_console();
        } else if (strcmp(a, "hold_pin") == 0) {
            hold_pin();
        } else if (strcmp(a, "release_pin") == 0) {
            release_pin();
        } else if (strcmp(a, "nvs") == 0) {
            nvs_action();
        } else if (strcmp(a, "psram") == 0) {
            psram_action();
        } else if (strcmp(a, "https") == 0) {
            https_update();
        } else if (strcmp(a, "crash") == 0) {
            ESP_LOGW(TAG, "crashing before confirming");
            abort();
        }
    }
    ESP_LOGI(TAG, "idle");
}
