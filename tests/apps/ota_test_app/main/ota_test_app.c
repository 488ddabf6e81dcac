/*
 * ota_test_app: a small app for boot-chain and power-loss tests. One program, several images:
 * what it does is chosen by the sdkconfig baked into each image.
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
 *                            "nvs"      nvs_flash_init, then in namespace CONFIG_TEST_APP_NVS_NS
 *                                       print the keys of CONFIG_TEST_APP_NVS_GET ("type:key"
 *                                       words, types u8 i8 u16 i16 u32 i32 u64 i64 str blob) as
 *                                       "nvs NS:KEY = VALUE" (blobs in hex), then
 *                                       CONFIG_TEST_APP_NVS_ROUNDS rounds of updates (u32
 *                                       "count" = round, str "text" = "round N", 3000-byte blob
 *                                       "data" of byte N), commit, and erase the key
 *                                       CONFIG_TEST_APP_NVS_ERASE
 *   CONFIG_TEST_APP_CHUNK    write size for "install" (default 4096)
 *
 * Every boot prints one line the tests look for:
 *   "ota_test_app: running <project> <version> from <label> state <STATE>"
 * and each action prints what it did.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "ota/ota_app.h"

static const char *TAG = "ota_test_app";

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
    const char *label = ota_app_cfg_str("TEST_APP_SOURCE", "update");
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
    size_t chunk = (size_t)ota_app_cfg_int("TEST_APP_CHUNK", 4096);
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
    const char *ns = ota_app_cfg_str("TEST_APP_NVS_NS", "storage");
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
    snprintf(list, sizeof(list), "%s", ota_app_cfg_str("TEST_APP_NVS_GET", ""));
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(w, ':');
        if (colon != NULL) {
            *colon = '\0';
            nvs_print(h, ns, w, colon + 1);
        }
    }
    static uint8_t data[3000];
    long long rounds = ota_app_cfg_int("TEST_APP_NVS_ROUNDS", 0);
    for (long long r = 1; r <= rounds && err == ESP_OK; r++) {
        char text[32];
        snprintf(text, sizeof(text), "round %lld", r);
        memset(data, (int)r, sizeof(data));
        err = nvs_set_u32(h, "count", (uint32_t)r);
        err = err == ESP_OK ? nvs_set_str(h, "text", text) : err;
        err = err == ESP_OK ? nvs_set_blob(h, "data", data, sizeof(data)) : err;
        err = err == ESP_OK ? nvs_commit(h) : err;
    }
    const char *gone = ota_app_cfg_str("TEST_APP_NVS_ERASE", "");
    if (err == ESP_OK && gone[0] != '\0') {
        err = nvs_erase_key(h, gone);
        err = err == ESP_OK ? nvs_commit(h) : err;
    }
    nvs_close(h);
    ESP_LOGI(TAG, "nvs: %lld rounds written: %s", rounds, esp_err_to_name(err));
}

void app_main(void)
{
    const esp_app_desc_t *d = esp_app_get_description();
    const esp_partition_t *running = esp_ota_get_running_partition();
    ESP_LOGI(TAG, "running %s %s from %s state %s", d->project_name, d->version, running->label,
             state_name(running));

    char actions[128];
    snprintf(actions, sizeof(actions), "%s", ota_app_cfg_str("TEST_APP_ACTION", "idle"));
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
        } else if (strcmp(a, "nvs") == 0) {
            nvs_action();
        } else if (strcmp(a, "crash") == 0) {
            ESP_LOGW(TAG, "crashing before confirming");
            abort();
        }
    }
    ESP_LOGI(TAG, "idle");
}
