/*
 * Header coverage: ESP-IDF's own sources that ordinary OTA apps and the app_update test app are
 * made of (the OTA examples, hello_world, the app_update test app, the unit-test-app's test_utils
 * and the portable files of the unity component) must compile against include/esp. Each file is
 * compiled with `cc -fsyntax-only` (no script: this program runs the compiler) twice, with a
 * minimal generated sdkconfig.h and with one that turns the OTA features on. Missing headers and
 * implicit declarations are errors. The sources come from ../shared/conformance/esp-idf beside
 * the source tree; without it the test is skipped (exit 77).
 *
 * A file that needs a header from outside this layer's part of include/esp (FreeRTOS beyond
 * FreeRTOS.h/task.h, esp_sleep.h) is skipped, with the reason printed, until that header exists.
 * Not checked, because they are not portable: unity_utils_cache.c (flash cache control),
 * unity_utils_freertos.c (esp_ipc, FreeRTOS hooks), advanced_https_ota's ble_helper (Bluetooth
 * stacks). test_utils' ref_clock_impl_rmt_pcnt.c compiles for the ESP32 only (an #error
 * elsewhere), so the ESP32-C5 pass cannot take it; `otakit build` compiles it for the ESP32
 * (e2e_idf_test_app).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct source {
    const char *path;  /* under conformance/esp-idf */
    const char *needs; /* "header[:text]" that must exist in include/esp (and contain text) */
} source_t;

static const source_t k_sources[] = {
    {"examples/system/ota/native_ota_example/main/native_ota_example.c", NULL},
    {"examples/system/ota/simple_ota_example/main/simple_ota_example.c", NULL},
    {"examples/system/ota/advanced_https_ota/main/advanced_https_ota_example.c",
     "freertos/event_groups.h"},
    {"examples/system/ota/partitions_ota/main/app_main.c", NULL},
    {"examples/system/ota/partitions_ota/main/partition_utils.c", NULL},
    {"examples/get-started/hello_world/main/hello_world_main.c", NULL},
    {"components/app_update/test_apps/test_app_update/main/app_main.c", NULL},
    {"components/app_update/test_apps/test_app_update/main/test_bootloader_update.c", NULL},
    {"components/app_update/test_apps/test_app_update/main/test_ota_ops.c", "freertos/semphr.h"},
    {"components/app_update/test_apps/test_app_update/main/test_ota_partitions.c", NULL},
    {"components/app_update/test_apps/test_app_update/main/test_switch_ota.c", NULL},
    {"components/app_update/test_apps/test_app_update/main/utils_update.c", "esp_sleep.h"},
    {"tools/unit-test-app/components/test_utils/test_utils.c",
     "freertos/FreeRTOS.h:esp_heap_caps.h"}, /* heap_caps_* come in through FreeRTOS.h */
    {"tools/unit-test-app/components/test_utils/memory_checks.c", NULL},
    {"tools/unit-test-app/components/test_utils/test_runner.c", NULL},
    {"tools/unit-test-app/components/test_utils/ref_clock_impl_timergroup.c", NULL},
    {"components/unity/unity_port_esp32.c", NULL},
    {"components/unity/unity_port_linux.c", NULL},
    {"components/unity/unity_runner.c", NULL},
    {"components/unity/unity_compat.c", NULL},
    {"components/unity/unity_utils_memory.c", NULL},
    {"components/unity/port/esp/unity_utils_memory_esp.c", NULL},
};

/* The values every file needs (the examples' Kconfig strings and numbers). */
static const char k_base_config[] =
    "#define CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL \"https://127.0.0.1:8070/hello_world.bin\"\n"
    "#define CONFIG_EXAMPLE_FIRMWARE_UPG_URL \"https://127.0.0.1:8070/hello_world.bin\"\n"
    "#define CONFIG_EXAMPLE_OTA_RECV_TIMEOUT 5000\n"
    "#define CONFIG_EXAMPLE_OTA_BUF_SIZE 1024\n"
    "#define CONFIG_EXAMPLE_GPIO_DIAGNOSTIC 4\n"
    "#define CONFIG_LWIP_MAX_SOCKETS 10\n"
    "#define CONFIG_ESP_CONSOLE_ROM_SERIAL_PORT_NUM 0\n"
    "#define CONFIG_UNITY_ENABLE_IDF_TEST_RUNNER 1\n"
    "#define CONFIG_UNITY_FREERTOS_PRIORITY 5\n"
    "#define CONFIG_UNITY_FREERTOS_CPU 0\n"
    "#define CONFIG_UNITY_FREERTOS_STACK_SIZE 12288\n"
    "#define CONFIG_UNITY_WARN_LEAK_LEVEL_GENERAL 255\n"
    "#define CONFIG_UNITY_CRITICAL_LEAK_LEVEL_GENERAL 1024\n"
    "#define CONFIG_UNITY_CRITICAL_LEAK_LEVEL_LWIP 4095\n"
    "#define CONFIG_PARTITION_TABLE_OFFSET 0x8000\n"
    "#define CONFIG_BOOTLOADER_OFFSET_IN_FLASH 0x1000\n";

/* The minimal configuration is for an ESP32; the full one for an ESP32-C5, which has a recovery
 * bootloader. */
static const char k_base_target[] = "#define CONFIG_IDF_TARGET \"esp32\"\n"
                                    "#define CONFIG_IDF_TARGET_ESP32 1\n";
static const char k_full_target[] = "#define CONFIG_IDF_TARGET \"esp32c5\"\n"
                                    "#define CONFIG_IDF_TARGET_ESP32C5 1\n";

/* The OTA features on: rollback, anti-rollback, resumption, partial download, factory-reset and
 * test pins, recovery bootloader, certificate bundle, Unity's float and 64-bit support. */
static const char k_full_config[] = "#define CONFIG_EXAMPLE_CONNECT_WIFI 1\n"
                                    "#define CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE 1\n"
                                    "#define CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK 1\n"
                                    "#define CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION 1\n"
                                    "#define CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD 1\n"
                                    "#define CONFIG_EXAMPLE_HTTP_REQUEST_SIZE 16384\n"
                                    "#define CONFIG_EXAMPLE_OTA_BUF_SIZE 1024\n"
                                    "#define CONFIG_EXAMPLE_USE_CERT_BUNDLE 1\n"
                                    "#define CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK 1\n"
                                    "#define CONFIG_EXAMPLE_SKIP_VERSION_CHECK 1\n"
                                    "#define CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN 1\n"
                                    "#define CONFIG_BOOTLOADER_FACTORY_RESET 1\n"
                                    "#define CONFIG_BOOTLOADER_NUM_PIN_FACTORY_RESET 4\n"
                                    "#define CONFIG_BOOTLOADER_APP_TEST 1\n"
                                    "#define CONFIG_BOOTLOADER_NUM_PIN_APP_TEST 18\n"
                                    "#define CONFIG_BOOTLOADER_RECOVERY_ENABLE 1\n"
                                    "#define CONFIG_BOOTLOADER_RECOVERY_OFFSET 0x3F0000\n"
                                    "#define CONFIG_UNITY_ENABLE_FLOAT 1\n"
                                    "#define CONFIG_UNITY_ENABLE_DOUBLE 1\n"
                                    "#define CONFIG_UNITY_ENABLE_64BIT 1\n";

static char idf[1024];     /* conformance/esp-idf */
static char esp_inc[1024]; /* include/esp */
static char tmp_dir[256];  /* generated sdkconfig.h files: base/ and full/ */
static const char *compiler;

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void write_text(const char *path, const char *a, const char *b, const char *c)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "#pragma once\n%s%s%s", a, b, c);
    fclose(fp);
}

/* NULL when the file's outside needs are met, else the reason to skip it. */
static const char *unmet(const source_t *src)
{
    static char why[256];
    if (src->needs == NULL) {
        return NULL;
    }
    char header[128];
    snprintf(header, sizeof(header), "%s", src->needs);
    char *text = strchr(header, ':');
    if (text != NULL) {
        *text++ = '\0';
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", esp_inc, header);
    FILE *fp = fopen(path, "r");
    bool met = fp != NULL;
    if (fp != NULL && text != NULL) {
        char buf[65536];
        size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
        buf[n] = '\0';
        met = strstr(buf, text) != NULL;
    }
    if (fp != NULL) {
        fclose(fp);
    }
    if (met) {
        return NULL;
    }
    snprintf(why, sizeof(why), "%s %s", header, text != NULL ? "does not include " : "is absent");
    if (text != NULL) {
        strncat(why, text, sizeof(why) - strlen(why) - 1);
    }
    return why;
}

/* Runs the compiler on file with the sdkconfig.h of config_dir; returns its exit status and
 * leaves its messages in log. */
static int syntax_check(const char *file, const char *config_dir, const char *log)
{
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s", file);
    *strrchr(dir, '/') = '\0';
    char inc[8][1300];
    snprintf(inc[0], sizeof(inc[0]), "-I%s", config_dir);
    snprintf(inc[1], sizeof(inc[1]), "-I%s", dir);
    snprintf(inc[2], sizeof(inc[2]), "-I%s", esp_inc);
    snprintf(inc[3], sizeof(inc[3]), "-I%s/bootloader_support/include", esp_inc);
    snprintf(inc[4], sizeof(inc[4]), "-I%s/components/unity/include", idf);
    snprintf(inc[5], sizeof(inc[5]), "-I%s/components/unity/unity/src", idf);
    snprintf(inc[6], sizeof(inc[6]), "-I%s/tools/unit-test-app/components/test_utils/include", idf);
    snprintf(inc[7], sizeof(inc[7]), "-I%s/examples/system/ota/partitions_ota/main", idf);
    char *argv[] = {(char *)compiler,
                    "-std=gnu17",
                    "-fsyntax-only",
                    "-DUNITY_INCLUDE_CONFIG_H",
                    "-Werror=implicit-function-declaration",
                    "-Werror=implicit-int",
                    "-Werror=incompatible-pointer-types",
                    "-Werror=int-conversion",
                    inc[0],
                    inc[1],
                    inc[2],
                    inc[3],
                    inc[4],
                    inc[5],
                    inc[6],
                    inc[7],
                    (char *)file,
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid;
    int err = posix_spawnp(&pid, compiler, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(err, 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Prints the first lines of the compiler's messages. */
static void show_log(const char *log)
{
    FILE *fp = fopen(log, "r");
    char line[512];
    for (int i = 0; fp != NULL && i < 20 && fgets(line, sizeof(line), fp) != NULL; i++) {
        fputs(line, stderr);
    }
    if (fp != NULL) {
        fclose(fp);
    }
}

static void test_sources_compile(void **state)
{
    (void)state;
    int failed = 0;
    int checked = 0;
    const char *configs[] = {"base", "full"};
    for (size_t i = 0; i < sizeof(k_sources) / sizeof(k_sources[0]); i++) {
        const source_t *src = &k_sources[i];
        const char *why = unmet(src);
        if (why != NULL) {
            printf("skipped %s: %s\n", src->path, why);
            continue;
        }
        for (size_t c = 0; c < 2; c++) {
            char file[1300], dir[300], log[320];
            snprintf(file, sizeof(file), "%s/%s", idf, src->path);
            snprintf(dir, sizeof(dir), "%s/%s", tmp_dir, configs[c]);
            snprintf(log, sizeof(log), "%s/cc.log", tmp_dir);
            checked++;
            if (syntax_check(file, dir, log) != 0) {
                fprintf(stderr, "FAILED (%s sdkconfig): %s\n", configs[c], src->path);
                show_log(log);
                failed++;
            }
        }
    }
    printf("%d compilations, %d failed\n", checked, failed);
    assert_true(checked >= 30);
    assert_int_equal(failed, 0);
}

/* The check can fail: an undeclared ESP-IDF call and a missing header are both reported. */
static void test_check_has_teeth(void **state)
{
    (void)state;
    char file[320], dir[300], log[320];
    snprintf(file, sizeof(file), "%s/bad.c", tmp_dir);
    snprintf(dir, sizeof(dir), "%s/base", tmp_dir);
    snprintf(log, sizeof(log), "%s/bad.log", tmp_dir);
    write_text(file, "#include \"esp_ota_ops.h\"\n", "void f(void) { esp_ota_no_such_call(); }\n",
               "");
    assert_int_not_equal(syntax_check(file, dir, log), 0);
    write_text(file, "#include \"esp_no_such_header.h\"\n", "", "");
    assert_int_not_equal(syntax_check(file, dir, log), 0);
    write_text(file, "#include \"esp_ota_ops.h\"\n",
               "int f(void) { return esp_ota_get_app_partition_count(); }\n", "");
    assert_int_equal(syntax_check(file, dir, log), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/otakit-headers-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp_dir) == NULL) {
        return -1;
    }
    char path[400];
    snprintf(path, sizeof(path), "%s/base", tmp_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/base/sdkconfig.h", tmp_dir);
    write_text(path, k_base_target, k_base_config, "");
    snprintf(path, sizeof(path), "%s/full", tmp_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/full/sdkconfig.h", tmp_dir);
    write_text(path, k_full_target, k_base_config, k_full_config);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {
        "base/sdkconfig.h", "full/sdkconfig.h", "base", "full", "cc.log", "bad.c", "bad.log"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[400];
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
        remove(path);
    }
    rmdir(tmp_dir);
    return 0;
}

int main(void)
{
    const char *src = getenv("OTAKIT_SOURCE_DIR");
    if (src == NULL) {
        fprintf(stderr, "OTAKIT_SOURCE_DIR is not set: skipped\n");
        return 77;
    }
    snprintf(idf, sizeof(idf), "%s/../shared/conformance/esp-idf", src);
    snprintf(esp_inc, sizeof(esp_inc), "%s/include/esp", src);
    if (!is_dir(idf)) {
        fprintf(stderr, "%s is absent: skipped\n", idf);
        return 77;
    }
    compiler = getenv("OTAKIT_CC") != NULL ? getenv("OTAKIT_CC") : "cc";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_has_teeth),
        cmocka_unit_test(test_sources_compile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
