/*
 * ESP layer platform calls on an emulated board: example_connect's log lines, esp_random,
 * MACs from the eFuse store, GPIO outputs reaching the board, bootloader_support digests and
 * image checks, bootloader_mmap, and the board's driven-pin levels.
 */
#include "fixture.h"
#include "test_util.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bootloader_common.h"
#include "driver/gpio.h"
#include "esp_flash_partitions.h"
#include "esp_image_format.h"
#include "esp_internal.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "esp_system.h"
#include "protocol_examples_common.h"
#include "../bootloader_flash/include/bootloader_flash_priv.h"
#include "ota/ota_board_shm.h"
#include "ota/ota_clock.h"
#include "ota/ota_efuse_store.h"
#include "ota/ota_nor.h"
#include "ota/ota_sdkconfig.h"

#define FACTORY 0x10000u

static ota_nor_t *nor;
static ota_sdkconfig_t *sdk;
static uint8_t *app;
static size_t app_len;
static int drive[GPIO_NUM_MAX];
static uint8_t mac_fuses[6];

static void on_drive(void *ctx, int pin, int level)
{
    (void)ctx;
    drive[pin] = level;
}

static int on_read_mac(void *ctx, uint8_t mac[6])
{
    (void)ctx;
    memcpy(mac, mac_fuses, 6);
    return 0;
}

static void install(bool hooks)
{
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_id(OTA_CHIP_ID_ESP32),
        .chip_rev = 300,
        .running_offset = FACTORY,
        .sdkconfig = sdk,
        .gpio_drive = hooks ? on_drive : NULL,
        .read_mac = hooks ? on_read_mac : NULL,
    };
    assert_int_equal(esp_dev_install(&cfg), ESP_OK);
}

static int setup(void **state)
{
    (void)state;
    esp_log_set_colors(0);
    if (ota_nor_create_mem(4u << 20, NULL, &nor, NULL) != OTA_OK) {
        return -1;
    }
    sdk = ota_sdkconfig_new();
    ota_part_table_t t;
    test_table_builtin("two_ota", &t);
    test_table_put(ota_nor_flash(nor), &t);
    uint8_t payload[5000];
    for (size_t i = 0; i < sizeof(payload); i++) {
        payload[i] = (uint8_t)(i * 13u);
    }
    app = test_app_image("platform", "1.0", -1, payload, sizeof(payload), &app_len);
    test_flash_put(ota_nor_flash(nor), FACTORY, app, app_len);
    for (int i = 0; i < GPIO_NUM_MAX; i++) {
        drive[i] = -2;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esp_dev_uninstall();
    ota_sdkconfig_free(sdk);
    ota_nor_close(nor);
    free(app);
    return 0;
}

static void connect_once(void)
{
    assert_int_equal(example_connect(), ESP_OK);
    assert_int_equal(example_disconnect(), ESP_OK);
}

/* A chip takes its link-up and DHCP time before the address line (1.5 s Wi-Fi, 1 s Ethernet). */
static void test_example_connect_wifi(void **state)
{
    (void)state;
    char out[1024];
    install(false);
    ota_clock_set_us(0);
    test_capture_stdout(connect_once, out, sizeof(out));
    assert_string_equal(out,
                        "I (0) example_connect: Start example_connect.\n"
                        "I (0) example_connect: Connecting to myssid...\n"
                        "I (0) example_connect: Waiting for IP(s)\n"
                        "I (1500) example_connect: Got IPv4 event: Interface \"example_netif_sta\" "
                        "address: 127.0.0.1\n"
                        "I (1500) example_common: Connected to example_netif_sta\n"
                        "I (1500) example_common: - IPv4 address: 127.0.0.1,\n");
}

static void test_example_connect_ethernet(void **state)
{
    (void)state;
    char out[1024];
    assert_int_equal(ota_sdkconfig_set(sdk, "CONFIG_EXAMPLE_CONNECT_ETHERNET", "y"), OTA_OK);
    install(false);
    ota_clock_set_us(0);
    test_capture_stdout(connect_once, out, sizeof(out));
    ota_sdkconfig_set(sdk, "CONFIG_EXAMPLE_CONNECT_ETHERNET", "n");
    assert_string_equal(
        out, "I (0) ethernet_connect: Waiting for IP(s).\n"
             "I (2000) ethernet_connect: Got IPv4 event: Interface \"example_netif_eth\" "
             "address: 127.0.0.1\n"
             "I (2000) example_common: Connected to example_netif_eth\n"
             "I (2000) example_common: - IPv4 address: 127.0.0.1,\n");
}

static void test_random(void **state)
{
    (void)state;
    uint32_t a = esp_random();
    uint32_t b = esp_random();
    uint32_t c = esp_random();
    assert_false(a == b && b == c);
    uint8_t buf[4096];
    memset(buf, 0, sizeof(buf));
    esp_fill_random(buf, sizeof(buf));
    int ones = 0;
    for (size_t i = 0; i < sizeof(buf); i++) {
        ones += __builtin_popcount(buf[i]);
    }
    /* 32768 bits: a fair source lands within a few hundred of half */
    assert_in_range(ones, 15384, 17384);
    esp_fill_random(buf, 0); /* nothing to do */
}

static void test_mac_default_and_derived(void **state)
{
    (void)state;
    esp_dev_uninstall();
    uint8_t m[8];
    assert_int_equal(esp_efuse_mac_get_default(m), ESP_OK);
    const uint8_t def[6] = OTA_EFUSE_DEFAULT_MAC;
    assert_memory_equal(m, def, 6);

    const uint8_t burnt[6] = {0x30, 0xae, 0xa4, 0x10, 0x20, 0xfe};
    memcpy(mac_fuses, burnt, 6);
    install(true);
    assert_int_equal(esp_read_mac(m, ESP_MAC_EFUSE_FACTORY), ESP_OK);
    assert_memory_equal(m, burnt, 6);
    assert_int_equal(esp_read_mac(m, ESP_MAC_WIFI_STA), ESP_OK);
    assert_memory_equal(m, burnt, 6);
    assert_int_equal(esp_read_mac(m, ESP_MAC_WIFI_SOFTAP), ESP_OK);
    assert_int_equal(m[5], 0xff);
    assert_int_equal(esp_read_mac(m, ESP_MAC_ETH), ESP_OK);
    assert_int_equal(m[5], 0x01); /* the last octet wraps */
    assert_memory_equal(m, burnt, 5);
    assert_int_equal(esp_read_mac(m, ESP_MAC_IEEE802154), ESP_OK);
    const uint8_t eui[8] = {0x30, 0xae, 0xa4, 0xff, 0xfe, 0x10, 0x20, 0xfe};
    assert_memory_equal(m, eui, 8);
    assert_int_equal(esp_mac_addr_len_get(ESP_MAC_IEEE802154), 8);
    assert_int_equal(esp_read_mac(m, ESP_MAC_EFUSE_CUSTOM), ESP_ERR_NOT_SUPPORTED);
    assert_int_equal(esp_read_mac(NULL, ESP_MAC_BT), ESP_ERR_INVALID_ARG);
    assert_int_equal(esp_read_mac(m, (esp_mac_type_t)99), ESP_ERR_INVALID_ARG);
    const uint8_t multicast[6] = {0x01, 0, 0, 0, 0, 1};
    assert_int_equal(esp_base_mac_addr_set(multicast), ESP_ERR_INVALID_ARG);
}

static void test_mac_from_efuse_store(void **state)
{
    (void)state;
    char path[] = "/tmp/otakit-mac-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path); /* a missing sidecar reads as unburnt */
    ota_efuse_store_t s;
    assert_int_equal(ota_efuse_store_file(&s, path, 16), OTA_OK);
    uint8_t m[6];
    const uint8_t def[6] = OTA_EFUSE_DEFAULT_MAC;
    assert_int_equal(ota_efuse_store_read_mac(&s, m), OTA_OK);
    assert_memory_equal(m, def, 6);
    /* a burnt MAC_FACTORY (bytes 8..13, stored inverted) */
    uint8_t block[OTA_EFUSE_BLOCK_LEN];
    memset(block, 0xff, sizeof(block));
    const uint8_t mac[6] = {0x24, 0x6f, 0x28, 0xaa, 0xbb, 0xcc};
    for (int i = 0; i < 6; i++) {
        block[8 + i] = (uint8_t)~mac[i];
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(block, 1, sizeof(block), fp);
    fclose(fp);
    assert_int_equal(ota_efuse_store_read_mac(&s, m), OTA_OK);
    assert_memory_equal(m, mac, 6);
    unlink(path);
}

static void test_gpio_output_drives_board(void **state)
{
    (void)state;
    install(true);
    gpio_config_t io = {.pin_bit_mask = 1ULL << 18, .mode = GPIO_MODE_OUTPUT};
    assert_int_equal(gpio_config(&io), ESP_OK);
    assert_int_equal(drive[18], 0); /* output enabled: drives its level (0 until set) */
    assert_int_equal(gpio_set_level(18, 1), ESP_OK);
    assert_int_equal(drive[18], 1);
    assert_int_equal(gpio_hold_en(18), ESP_OK);
    assert_int_equal(gpio_set_direction(18, GPIO_MODE_INPUT), ESP_OK);
    assert_int_equal(drive[18], -1); /* released */
    assert_int_equal(gpio_set_level(5, 1), ESP_OK);
    assert_int_equal(drive[5], -1); /* level stored, not driven: the pin is an input */
    assert_int_equal(gpio_set_direction(5, GPIO_MODE_INPUT_OUTPUT), ESP_OK);
    assert_int_equal(drive[5], 1);
    assert_int_equal(gpio_reset_pin(5), ESP_OK);
    assert_int_equal(drive[5], -1);
    assert_int_equal(gpio_set_level(GPIO_NUM_MAX, 1), ESP_ERR_INVALID_ARG);
}

static void test_board_driven_level(void **state)
{
    (void)state;
    ota_board_shm_t *shm = NULL;
    int fd = ota_board_shm_create(&shm);
    assert_true(fd >= 0);
    assert_int_equal(ota_board_gpio_parse(shm, "4=1@100"), 0);
    assert_int_equal(ota_board_gpio_level(shm, 4, 0, 1), 1); /* pull-up */
    assert_int_equal(ota_board_gpio_next_change(shm, 4, 0, 200, 0), 100);
    shm->gpio_drive[4] = 0; /* an app drives it low */
    assert_int_equal(ota_board_gpio_level(shm, 4, 0, 1), 0);
    assert_int_equal(ota_board_gpio_level(shm, 4, 500, 1), 0);
    assert_int_equal(ota_board_gpio_next_change(shm, 4, 0, 200, 0), UINT64_MAX);
    munmap(shm, sizeof(*shm));
    close(fd);
}

static void test_sha256_of_partition(void **state)
{
    (void)state;
    install(false);
    uint8_t a[32];
    uint8_t b[32];
    const esp_partition_t *factory = esp_ota_get_running_partition();
    assert_non_null(factory);
    assert_int_equal(bootloader_common_get_sha256_of_partition(FACTORY, factory->size,
                                                               ESP_PARTITION_TYPE_APP, a),
                     ESP_OK);
    assert_int_equal(esp_partition_get_sha256(factory, b), ESP_OK);
    assert_memory_equal(a, b, 32);
    /* the app's digest is its image's: the appended SHA-256 at the image's end */
    assert_memory_equal(a, app + app_len - 32, 32);
    /* a data region hashes as bytes */
    const esp_partition_t *nvs =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_NVS, NULL);
    assert_int_equal(bootloader_common_get_sha256_of_partition(nvs->address, nvs->size, 1, a),
                     ESP_OK);
    assert_int_equal(esp_partition_get_sha256(nvs, b), ESP_OK);
    assert_memory_equal(a, b, 32);
    /* a corrupt image (as ESP-IDF's test writes into it) is ESP_ERR_IMAGE_INVALID */
    uint32_t zero = 0;
    assert_int_equal(bootloader_flash_write(FACTORY + 0x50, &zero, sizeof(zero), false), ESP_OK);
    assert_int_equal(bootloader_common_get_sha256_of_partition(FACTORY, factory->size, 0, a),
                     ESP_ERR_IMAGE_INVALID);
    test_flash_put(ota_nor_flash(nor), FACTORY, app, app_len);
    assert_int_equal(bootloader_common_get_sha256_of_partition(0, 0, 0, NULL), ESP_ERR_INVALID_ARG);
}

static void test_image_verify_and_description(void **state)
{
    (void)state;
    install(false);
    esp_partition_pos_t pos = {FACTORY, 0x100000};
    esp_image_metadata_t md;
    assert_int_equal(esp_image_verify(ESP_IMAGE_VERIFY_SILENT, &pos, &md), ESP_OK);
    assert_int_equal(md.image.magic, ESP_IMAGE_HEADER_MAGIC);
    assert_int_equal(md.image_len, app_len);
    assert_int_equal(md.image.chip_id, ESP_CHIP_ID_ESP32);
    esp_app_desc_t d;
    assert_int_equal(bootloader_common_get_partition_description(&pos, &d), ESP_OK);
    assert_string_equal(d.project_name, "platform");
    assert_string_equal(d.version, "1.0");
    esp_partition_pos_t empty = {0x110000, 0x100000}; /* ota_0, erased */
    assert_int_equal(bootloader_common_get_partition_description(&empty, &d), ESP_ERR_NOT_FOUND);
    assert_int_equal(esp_image_verify(ESP_IMAGE_VERIFY_SILENT, &empty, &md), ESP_ERR_IMAGE_INVALID);
    assert_int_equal(ESP_PARTITION_TABLE_OFFSET, 0x8000);
    assert_int_equal(ESP_BOOTLOADER_OFFSET, 0x1000);
}

static void test_bootloader_mmap_and_otadata(void **state)
{
    (void)state;
    install(false);
    const uint8_t *m = bootloader_mmap(FACTORY, (uint32_t)app_len);
    assert_non_null(m);
    assert_memory_equal(m, app, app_len);
    bootloader_munmap(m);
    assert_null(bootloader_mmap(0x3ff000, 0x2000)); /* past the chip */
    /* an otadata entry as ESP-IDF's CRC check sees it */
    esp_ota_select_entry_t e;
    memset(&e, 0xff, sizeof(e));
    assert_false(bootloader_common_ota_select_valid(&e));
    e.ota_seq = 1;
    e.crc = bootloader_common_ota_select_crc(&e);
    assert_int_equal(e.crc, 0x4743989au); /* binascii.crc32(le32(1), 0xFFFFFFFF) */
    assert_true(bootloader_common_ota_select_valid(&e));
    e.ota_state = ESP_OTA_IMG_ABORTED;
    assert_true(bootloader_common_ota_select_invalid(&e));
    /* esp_partition_mmap hands out the partition's bytes */
    const esp_partition_t *factory = esp_ota_get_running_partition();
    const void *p = NULL;
    esp_partition_mmap_handle_t h;
    assert_int_equal(esp_partition_mmap(factory, 0, app_len, ESP_PARTITION_MMAP_DATA, &p, &h),
                     ESP_OK);
    assert_memory_equal(p, app, app_len);
    esp_partition_munmap(h);
}

static char order[8];
static jmp_buf restarted;

static void first_handler(void)
{
    strcat(order, "1");
}

static void second_handler(void)
{
    strcat(order, "2");
}

static void restart_hook(void *ctx)
{
    (void)ctx;
    longjmp(restarted, 1);
}

static void test_shutdown_handlers(void **state)
{
    (void)state;
    esp_dev_config_t cfg = {
        .flash = ota_nor_flash(nor),
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_id(OTA_CHIP_ID_ESP32),
        .running_offset = FACTORY,
        .restart = restart_hook,
    };
    assert_int_equal(esp_dev_install(&cfg), ESP_OK);
    assert_int_equal(esp_register_shutdown_handler(first_handler), ESP_OK);
    assert_int_equal(esp_register_shutdown_handler(second_handler), ESP_OK);
    assert_int_equal(esp_register_shutdown_handler(first_handler), ESP_ERR_INVALID_STATE);
    order[0] = '\0';
    if (setjmp(restarted) == 0) {
        esp_restart();
    }
    assert_string_equal(order, "21"); /* last registered first */
    assert_int_equal(esp_unregister_shutdown_handler(first_handler), ESP_ERR_INVALID_STATE);
    esp_dev_uninstall();
}

/* The NVS *_partition calls on a partition registered at run time (ESP-IDF's app_update test
 * "OTA update of NVS partition"): one partition is initialised at a time, each holds its own
 * values, and the default one is untouched by work on the other. */
static void test_nvs_other_partition(void **state)
{
    (void)state;
    install(false);
    const esp_partition_t *nvs2 = NULL;
    assert_int_equal(esp_partition_register_external(NULL, 0x380000, 0x6000, "nvs2",
                                                     ESP_PARTITION_TYPE_DATA,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS, &nvs2),
                     ESP_OK);
    nvs_handle_t h;
    uint32_t v = 0;
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u32(h, "k", 1), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_flash_init_partition("nvs2"), ESP_ERR_NVS_INVALID_STATE);
    assert_int_equal(nvs_open_from_partition("nvs2", "ns", NVS_READWRITE, &h),
                     ESP_ERR_NVS_PART_NOT_FOUND);
    assert_int_equal(nvs_flash_erase_partition("nvs2"), ESP_OK); /* not initialised: erased */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);

    assert_int_equal(nvs_flash_init_partition("nvs3"), ESP_ERR_NOT_FOUND);
    assert_int_equal(nvs_flash_init_partition("nvs2"), ESP_OK);
    assert_int_equal(nvs_open_from_partition("nvs2", "ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "k", &v), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_set_u32(h, "k", 2), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit(), ESP_ERR_NVS_NOT_INITIALIZED); /* "nvs" is not */
    assert_int_equal(nvs_flash_deinit_partition("nvs2"), ESP_OK);

    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("ns", NVS_READONLY, &h), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "k", &v), ESP_OK);
    assert_int_equal(v, 1);
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_flash_init_partition("nvs2"), ESP_OK);
    assert_int_equal(nvs_open_from_partition("nvs2", "ns", NVS_READONLY, &h), ESP_OK);
    assert_int_equal(nvs_get_u32(h, "k", &v), ESP_OK);
    assert_int_equal(v, 2);
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit_partition("nvs2"), ESP_OK);
    assert_int_equal(esp_partition_deregister_external(nvs2), ESP_OK);
    esp_dev_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_connect_wifi),
        cmocka_unit_test(test_example_connect_ethernet),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_mac_default_and_derived),
        cmocka_unit_test(test_mac_from_efuse_store),
        cmocka_unit_test(test_gpio_output_drives_board),
        cmocka_unit_test(test_board_driven_level),
        cmocka_unit_test(test_sha256_of_partition),
        cmocka_unit_test(test_image_verify_and_description),
        cmocka_unit_test(test_bootloader_mmap_and_otadata),
        cmocka_unit_test(test_shutdown_handlers),
        cmocka_unit_test(test_nvs_other_partition),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
