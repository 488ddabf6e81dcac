/*
 * Boot chain core: partition selection, rollback states, anti-rollback, GPIO options, fallback
 * order, set_actual_ota_seq and the ROM step, on an emulated flash with real packed images.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_boot.h"
#include "ota/ota_img_build.h"
#include "ota/ota_nor.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "fixture.h"

#define FLASH_SIZE 0x400000u

typedef struct {
    ota_nor_t *nor;
    const ota_flash_t *flash;
    ota_part_table_t table;
    char log[16384];
    size_t log_len;
    test_fuses_t fuses; /* emulated anti-rollback counter and recovery offset */
    int hold_pin;       /* pin held low for the whole hold time, -1 none */
} fixture_t;

static fixture_t fx;

static void log_sink(void *ctx, char level, const char *tag, const char *msg)
{
    fixture_t *f = ctx;
    if (level == 'D') {
        return; /* the bootloader's default log level is info */
    }
    test_log_append(f->log, sizeof(f->log), &f->log_len, level, tag, msg);
}

static ota_gpio_hold_t hold(void *ctx, int pin, bool active_high, uint32_t hold_s)
{
    (void)hold_s;
    fixture_t *f = ctx;
    return (!active_high && pin == f->hold_pin) ? OTA_GPIO_LONG_HOLD : OTA_GPIO_NOT_HOLD;
}

static ota_efuse_t efuse_ops;
static ota_log_t sink = {log_sink, &fx};

static ota_boot_env_t env_for(const ota_chip_t *chip)
{
    ota_boot_env_t env = {
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = chip,
        .chip_rev = 300,
        .efuse = &efuse_ops,
        .log = &sink,
        .gpio_hold = hold,
        .gpio_ctx = &fx,
        .power_on = true,
    };
    return env;
}

static void put_table(const char *name)
{
    test_table_builtin(name, &fx.table);
    test_table_put(fx.flash, &fx.table);
}

static void put_app(const char *label, const char *version, long long secure_version)
{
    const ota_part_t *p = ota_part_find_by_label(&fx.table, label);
    assert_non_null(p);
    static const uint8_t payload[3000] = {1, 2, 3};
    size_t len = 0;
    uint8_t *img = test_app_image(label, version, secure_version, payload, sizeof(payload), &len);
    test_flash_put(fx.flash, p->offset, img, len);
    free(img);
}

static const ota_part_t *part(const char *label)
{
    return ota_part_find_by_label(&fx.table, label);
}

static void set_otadata(uint32_t slot, bool rollback)
{
    const ota_part_t *od = part("otadata");
    uint32_t n = (uint32_t)ota_part_ota_count_app(&fx.table);
    assert_int_equal(
        ota_otadata_set_boot(fx.flash, od->offset, od->size, slot, n, rollback, NULL, NULL),
        OTA_OK);
}

static void read_otadata(ota_otadata_entry_t e[2])
{
    const ota_part_t *od = part("otadata");
    assert_int_equal(ota_otadata_read(fx.flash, od->offset, od->size, e, NULL), OTA_OK);
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    fx.hold_pin = -1;
    assert_int_equal(ota_nor_create_mem(FLASH_SIZE, NULL, &fx.nor, NULL), OTA_OK);
    fx.flash = ota_nor_flash(fx.nor);
    efuse_ops = test_fuses_ops(&fx.fuses, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ota_nor_close(fx.nor);
    return 0;
}

static bool logged(const char *text)
{
    return strstr(fx.log, text) != NULL;
}

static ota_boot_result_t res;

static void boot(const ota_boot_cfg_t *cfg)
{
    ota_boot_env_t env = env_for(ota_chip_by_name("esp32"));
    fx.log_len = 0;
    fx.log[0] = '\0';
    assert_int_equal(ota_boot_run(&env, cfg, &res), OTA_OK);
}

static void two_ota_flash(void)
{
    put_table("two_ota");
    put_app("factory", "1", -1);
    put_app("ota_0", "2", -1);
    put_app("ota_1", "3", -1);
}

static void test_blank_otadata_boots_factory(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    two_ota_flash();
    boot(&cfg);
    assert_int_equal(res.outcome, OTA_BOOT_OK);
    assert_int_equal(res.booted, OTA_BOOT_FACTORY_INDEX);
    assert_int_equal(res.part.offset, 0x10000);
    assert_true(logged("I boot: Partition Table:\n"));
    assert_true(logged("I boot: ## Label            Usage          Type ST Offset   Length\n"));
    assert_true(logged("I boot:  0 nvs              WiFi data        01 02 00009000 00004000\n"));
    assert_true(logged("I boot:  1 otadata          OTA data         01 00 0000d000 00002000\n"));
    assert_true(logged("I boot:  3 factory          factory app      00 00 00010000 00100000\n"));
    assert_true(logged("I boot: End of partition table\nI boot: Defaulting to factory image\n"));
    assert_true(logged("I esp_image: segment 0: paddr=00010020 vaddr=3f400020"));
    assert_true(logged("I boot: Loaded app from partition at offset 0x10000\n"));
}

static void test_otadata_selects_slot(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    two_ota_flash();
    set_otadata(1, false);
    boot(&cfg);
    assert_int_equal(res.booted, 1);
    assert_int_equal(res.part.offset, 0x210000);
    set_otadata(0, false);
    boot(&cfg);
    assert_int_equal(res.booted, 0);
    assert_string_equal(res.meta.app_desc.version, "2");
}

static void test_rollback_new_pending_aborted(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = true};
    ota_otadata_entry_t e[2];
    two_ota_flash();
    set_otadata(0, true); /* NEW in sector 0 */
    read_otadata(e);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_NEW);

    boot(&cfg); /* first boot: NEW -> PENDING_VERIFY, boots ota_0 */
    assert_int_equal(res.booted, 0);
    read_otadata(e);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_PENDING_VERIFY);

    boot(&cfg); /* not confirmed: PENDING_VERIFY -> ABORTED, both invalid -> factory */
    read_otadata(e);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_ABORTED);
    assert_int_equal(res.booted, OTA_BOOT_FACTORY_INDEX);
    assert_true(logged("Defaulting to factory image"));
}

static void test_rollback_to_previous_slot(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = true};
    ota_otadata_entry_t e[2];
    two_ota_flash();
    set_otadata(0, true);
    boot(&cfg);
    /* the app confirms: VALID */
    read_otadata(e);
    e[0].state = OTA_OTADATA_STATE_VALID;
    const ota_part_t *od = part("otadata");
    assert_int_equal(ota_otadata_write_entry(fx.flash, od->offset, od->size, 0, &e[0]), OTA_OK);
    set_otadata(1, true); /* update to ota_1: NEW in sector 1 */
    boot(&cfg);
    assert_int_equal(res.booted, 1);
    boot(&cfg); /* ota_1 never confirmed: back to ota_0 */
    assert_int_equal(res.booted, 0);
    read_otadata(e);
    assert_int_equal(e[1].state, OTA_OTADATA_STATE_ABORTED);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_VALID);
}

static void test_rollback_disabled_leaves_new(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = false};
    ota_otadata_entry_t e[2];
    two_ota_flash();
    set_otadata(0, true); /* the app was built with rollback: NEW */
    boot(&cfg);
    boot(&cfg);
    assert_int_equal(res.booted, 0);
    read_otadata(e);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_NEW);
}

static void test_bad_image_falls_back_without_touching_otadata(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    two_ota_flash();
    set_otadata(1, false);
    uint8_t zero = 0;
    assert_int_equal(ota_flash_program(fx.flash, part("ota_1")->offset + 0x20, &zero, 1), OTA_OK);
    ota_otadata_entry_t before[2];
    ota_otadata_entry_t after[2];
    read_otadata(before);
    boot(&cfg);
    /* down from slot 1: ota_0 is the next one tried */
    assert_int_equal(res.booted, 0);
    assert_true(logged("E boot: OTA app partition slot 1 is not bootable\n"));
    read_otadata(after);
    assert_memory_equal(before, after, sizeof(before));
}

static void test_no_factory_sets_actual_seq(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    ota_otadata_entry_t e[2];
    put_table("two_ota_large");
    put_app("ota_0", "1", -1);
    put_app("ota_1", "2", -1);
    boot(&cfg);
    assert_int_equal(res.booted, 0);
    assert_true(logged("I boot: No factory image, trying OTA 0\n"));
    assert_true(logged("I boot: Loaded app from partition at offset 0x20000\n"
                       "I boot: Set actual ota_seq=1 in otadata[0]\n") ||
                logged("I boot: Set actual ota_seq=1 in otadata[0]\n"));
    read_otadata(e);
    assert_int_equal(e[0].seq, 1);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_VALID);
    assert_true(ota_otadata_crc_ok(&e[0]));
    assert_int_equal(e[1].seq, 0xFFFFFFFF);
}

static void test_no_factory_ota0_broken_tries_next(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    ota_otadata_entry_t e[2];
    put_table("two_ota_large");
    put_app("ota_1", "2", -1); /* ota_0 is erased */
    boot(&cfg);
    assert_int_equal(res.booted, 1);
    read_otadata(e);
    assert_int_equal(e[0].seq, 2); /* set_actual_ota_seq for slot 1 */
}

static void test_anti_rollback(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = true, .anti_rollback = true};
    ota_otadata_entry_t e[2];
    put_table("two_ota_large");
    put_app("ota_0", "1", 1);
    put_app("ota_1", "2", 3);
    fx.fuses.counter = 2;
    boot(&cfg); /* initial otadata: ota_0 (sv 1 < 2) skipped, ota_1 boots, seq set */
    assert_int_equal(res.booted, 1);
    assert_true(logged("I boot: Enabled a check secure version of app for anti rollback\n"
                       "I boot: Secure version (from eFuse) = 2\n"));
    assert_true(logged("I boot: otadata[0..1] in initial state\n"));
    read_otadata(e);
    assert_int_equal(e[0].seq, 2);
    assert_int_equal(fx.fuses.counter, 3); /* raised by set_actual_ota_seq */

    /* select ota_0 (lower secure_version): it is skipped, ota_1 keeps running */
    set_otadata(0, true);
    boot(&cfg);
    assert_int_equal(res.booted, 1);
}

static void test_factory_reset_pin(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000,
                          .factory_reset = true,
                          .factory_reset_pin = 4,
                          .data_factory_reset = "nvs",
                          .ota_data_erase = true};
    ota_otadata_entry_t e[2];
    two_ota_flash();
    set_otadata(1, false);
    uint8_t data[16] = {0};
    assert_int_equal(ota_flash_program(fx.flash, part("nvs")->offset, data, sizeof(data)), OTA_OK);
    fx.hold_pin = 4;
    boot(&cfg);
    assert_true(res.factory_reset);
    assert_int_equal(res.booted, OTA_BOOT_FACTORY_INDEX);
    assert_true(logged("I boot: Detect a condition of the factory reset\n"
                       "I boot: Data partitions to erase: nvs\n"
                       "I boot_comm: ## Label            Usage Offset   Length   Cleaned\n"
                       "I boot_comm:  0 nvs              data  00009000 00004000 [yes]\n"
                       "I boot_comm:  1 otadata          data  0000d000 00002000 [yes]\n"
                       "I boot_comm:  2 phy_init         data  0000f000 00001000 [no]\n"));
    assert_int_equal(ota_flash_is_erased(fx.flash, part("nvs")->offset, part("nvs")->size), 1);
    read_otadata(e);
    assert_int_equal(e[0].seq, 0xFFFFFFFF);
    assert_int_equal(e[1].seq, 0xFFFFFFFF);
}

static void test_test_app_pin(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .app_test = true, .test_pin = 18};
    two_ota_flash();
    fx.hold_pin = 18;
    boot(&cfg);
    assert_int_equal(res.outcome, OTA_BOOT_SELECT_ERROR);
    assert_true(logged("E boot: Test firmware is not found in partition table\n"));
}

static void test_bad_table(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    two_ota_flash();
    uint8_t zero = 0;
    assert_int_equal(ota_flash_program(fx.flash, 0x8000 + 0x20, &zero, 1), OTA_OK);
    boot(&cfg);
    assert_int_equal(res.outcome, OTA_BOOT_TABLE_ERROR);
    assert_true(logged("E flash_parts: partition 1 invalid magic number 0x5000\n"
                       "E boot: Failed to verify partition table\n"
                       "E boot: load partition table error!\n"));
}

static void test_no_bootable_app(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000};
    put_table("two_ota");
    boot(&cfg);
    assert_int_equal(res.outcome, OTA_BOOT_NO_BOOTABLE);
    assert_true(logged("E boot: Factory app partition is not bootable\n"));
    assert_true(logged("E boot: OTA app partition slot 0 is not bootable\n"));
    assert_true(logged("E boot: OTA app partition slot 1 is not bootable\n"
                       "E boot: No bootable app partitions in the partition table\n"));
}

static void test_power_loss_in_bootloader(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = true};
    two_ota_flash();
    set_otadata(0, true);
    assert_int_equal(ota_nor_cut_arm(fx.nor, 1, OTA_NOR_CUT_BEFORE, 1), OTA_OK);
    boot(&cfg); /* the NEW -> PENDING_VERIFY write loses power */
    assert_int_equal(res.outcome, OTA_BOOT_FLASH_ERROR);
    assert_int_equal(res.err, OTA_ERR_POWER_LOSS);
    ota_nor_power_on(fx.nor);
    boot(&cfg);
    assert_int_equal(res.outcome, OTA_BOOT_OK);
    assert_int_equal(res.booted, 0);
}

/* A failed otadata write (worn-out sector) is logged and the boot goes on with its selection. */
static void test_otadata_write_error_boots_on(void **state)
{
    (void)state;
    ota_boot_cfg_t cfg = {.table_offset = 0x8000, .rollback = true};
    two_ota_flash();
    set_otadata(0, true);
    ota_nor_faults_t f = {.bad_sector = part("otadata")->offset / 0x1000u + 1,
                          .bad_mode = OTA_NOR_BAD_ERROR};
    assert_int_equal(ota_nor_set_faults(fx.nor, &f), OTA_OK);
    boot(&cfg); /* the NEW -> PENDING_VERIFY write fails */
    assert_int_equal(res.outcome, OTA_BOOT_OK);
    assert_int_equal(res.booted, 0);
    assert_true(logged("Error in write_otadata operation. err = 0xffffffff"));
    ota_otadata_entry_t e[2];
    read_otadata(e);
    assert_int_equal(e[0].state, OTA_OTADATA_STATE_NEW);
    ota_nor_set_faults(fx.nor, NULL);
}

static void test_rom_step(void **state)
{
    (void)state;
    const ota_chip_t *c5 = ota_chip_by_name("esp32c5");
    const ota_chip_t *esp32 = ota_chip_by_name("esp32");
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.bootloader = true;
    o.chip = esp32;
    uint8_t *img = NULL;
    size_t len = 0;
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
    test_flash_put(fx.flash, esp32->bootloader_offset, img, len);
    free(img);
    ota_boot_env_t env = env_for(esp32);
    uint32_t used = 0;
    assert_int_equal(ota_boot_rom_load(&env, 0x8000, &used, NULL, NULL), OTA_OK);
    assert_int_equal(used, 0x1000);
    uint8_t zero = 0;
    assert_int_equal(ota_flash_program(fx.flash, 0x1000 + 0x30, &zero, 1), OTA_OK);
    assert_int_equal(ota_boot_rom_load(&env, 0x8000, &used, NULL, NULL), OTA_ERR_CORRUPT);

    /* a chip with a recovery bootloader falls back to the copy named in eFuse */
    if (c5 != NULL && c5->recovery_bootloader) {
        o.chip = c5;
        assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
        test_flash_put(fx.flash, 0x3F0000, img, len);
        free(img);
        env = env_for(c5);
        fx.fuses.recovery = 0x3F0000;
        assert_int_equal(ota_boot_rom_load(&env, 0x8000, &used, NULL, NULL), OTA_OK);
        assert_int_equal(used, 0x3F0000);
        /* so does a primary whose first segment runs past the bootloader region (a torn
         * write can leave such a length): reading it fails, the recovery copy loads */
        assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, &len, NULL), OTA_OK);
        size_t seg = 24; /* the last segment's header, as a torn page program left it */
        for (int i = 1; i < img[1]; i++) {
            seg += 8 + (size_t)(img[seg + 4] | img[seg + 5] << 8 | img[seg + 6] << 16);
        }
        memcpy(img + seg, "\xff\x2d\x85\xff\x10\x00\xff\x00", 8); /* 0xff0010 bytes */
        test_flash_put(fx.flash, c5->bootloader_offset, img, len);
        free(img);
        used = 0;
        assert_int_equal(ota_boot_rom_load(&env, 0x8000, &used, NULL, NULL), OTA_OK);
        assert_int_equal(used, 0x3F0000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blank_otadata_boots_factory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otadata_selects_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_new_pending_aborted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_to_previous_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_disabled_leaves_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_image_falls_back_without_touching_otadata, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_factory_sets_actual_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_factory_ota0_broken_tries_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anti_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_factory_reset_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_app_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_bootable_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_in_bootloader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otadata_write_error_boots_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rom_step, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
