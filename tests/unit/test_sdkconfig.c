/* sdkconfig parsing, lookup and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_sdkconfig.h"

static void test_parse_and_lookup(void **state)
{
    (void)state;
    static const char text[] =
        "#\n"
        "# Automatically generated file. DO NOT EDIT.\n"
        "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y\n"
        "# CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK is not set\n"
        "CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL=\"https://127.0.0.1:8070/a \\\"b\\\"\"\n"
        "CONFIG_EXAMPLE_GPIO_DIAGNOSTIC=4\n"
        "CONFIG_PARTITION_TABLE_OFFSET=0x8000\n"
        "  CONFIG_EXAMPLE_GPIO_DIAGNOSTIC = 5  \n";
    ota_sdkconfig_t *cfg = NULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_sdkconfig_parse(text, strlen(text), &cfg, &diag), OTA_OK);
    assert_true(ota_sdkconfig_bool(cfg, "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE", false));
    assert_true(ota_sdkconfig_bool(cfg, "BOOTLOADER_APP_ROLLBACK_ENABLE", false));
    assert_false(ota_sdkconfig_bool(cfg, "BOOTLOADER_APP_ANTI_ROLLBACK", true));
    assert_true(ota_sdkconfig_bool(cfg, "ABSENT", true));
    assert_null(ota_sdkconfig_get(cfg, "BOOTLOADER_APP_ANTI_ROLLBACK"));
    assert_string_equal(ota_sdkconfig_str(cfg, "EXAMPLE_FIRMWARE_UPGRADE_URL", ""),
                        "https://127.0.0.1:8070/a \"b\"");
    assert_int_equal(ota_sdkconfig_int(cfg, "EXAMPLE_GPIO_DIAGNOSTIC", 0), 5);
    assert_int_equal(ota_sdkconfig_int(cfg, "PARTITION_TABLE_OFFSET", 0), 0x8000);
    assert_int_equal(ota_sdkconfig_int(cfg, "EXAMPLE_FIRMWARE_UPGRADE_URL", -1), -1);

    char *out = ota_sdkconfig_format(cfg);
    assert_non_null(out);
    assert_non_null(strstr(out, "# CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK is not set\n"));
    assert_non_null(strstr(out, "CONFIG_EXAMPLE_GPIO_DIAGNOSTIC=5\n"));
    ota_sdkconfig_t *again = NULL;
    assert_int_equal(ota_sdkconfig_parse(out, strlen(out), &again, NULL), OTA_OK);
    assert_string_equal(ota_sdkconfig_str(again, "EXAMPLE_FIRMWARE_UPGRADE_URL", ""),
                        "https://127.0.0.1:8070/a \"b\"");
    free(out);
    ota_sdkconfig_free(again);
    ota_sdkconfig_free(cfg);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    ota_sdkconfig_t *cfg = NULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_sdkconfig_parse("CONFIG_A=y\nnonsense\n", 20, &cfg, &diag),
                     OTA_ERR_SYNTAX);
    assert_string_equal(diag.msg, "line 2: expected NAME=value");
    assert_int_equal(ota_sdkconfig_parse("CONFIG_A=\"open\n", 15, &cfg, &diag), OTA_ERR_SYNTAX);
    assert_string_equal(diag.msg, "line 1: unterminated string");
}

/* A NUL byte anywhere is refused: the formatter and every C string would cut the text there. */
static void test_nul_is_refused(void **state)
{
    (void)state;
    static const char value[] = "CONFIG_A=y\nCONFIG_B=\"x\0y\"\n";
    static const char comment[] = "# comment \0 here\nCONFIG_A=y\n";
    static const char key[] = "CONFIG_A\0B=y\n";
    ota_sdkconfig_t *cfg = NULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_sdkconfig_parse(value, sizeof(value) - 1, &cfg, &diag), OTA_ERR_SYNTAX);
    assert_string_equal(diag.msg, "line 2: NUL byte");
    assert_null(cfg);
    assert_int_equal(ota_sdkconfig_parse(comment, sizeof(comment) - 1, &cfg, &diag),
                     OTA_ERR_SYNTAX);
    assert_string_equal(diag.msg, "line 1: NUL byte");
    assert_int_equal(ota_sdkconfig_parse(key, sizeof(key) - 1, &cfg, &diag), OTA_ERR_SYNTAX);
    assert_string_equal(diag.msg, "line 1: NUL byte");
    assert_null(cfg);
}

static void test_set(void **state)
{
    (void)state;
    ota_sdkconfig_t *cfg = ota_sdkconfig_new();
    assert_int_equal(ota_sdkconfig_set(cfg, "CONFIG_X", "y"), OTA_OK);
    assert_int_equal(ota_sdkconfig_set(cfg, "X", "n"), OTA_OK);
    assert_false(ota_sdkconfig_bool(cfg, "X", true));
    assert_int_equal(ota_sdkconfig_set(cfg, "S", "\"v\""), OTA_OK);
    assert_string_equal(ota_sdkconfig_str(cfg, "CONFIG_S", NULL), "v");
    ota_sdkconfig_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_lookup),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_nul_is_refused),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
