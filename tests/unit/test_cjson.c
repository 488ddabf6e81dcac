/*
 * cJSON for apps: "cJSON.h" resolves through the ESP layer's include path (Debian's libcjson),
 * as ESP-IDF's json component provides it; an OTA manifest is parsed and one is built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cJSON.h"

static void test_parse_manifest(void **state)
{
    (void)state;
    const char *text = "{\"version\":\"1.2.0\",\"url\":\"https://127.0.0.1:8070/app.bin\","
                       "\"size\":125952,\"force\":false,\"chips\":[\"esp32\",\"esp32c3\"]}";
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    assert_true(cJSON_IsString(version));
    assert_string_equal(version->valuestring, "1.2.0");
    const cJSON *size = cJSON_GetObjectItem(root, "size");
    assert_true(cJSON_IsNumber(size));
    assert_int_equal(size->valueint, 125952);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(root, "force")));
    const cJSON *chips = cJSON_GetObjectItem(root, "chips");
    assert_int_equal(cJSON_GetArraySize(chips), 2);
    assert_string_equal(cJSON_GetArrayItem(chips, 1)->valuestring, "esp32c3");
    assert_null(cJSON_GetObjectItem(root, "missing"));
    cJSON_Delete(root);
}

static void test_parse_error(void **state)
{
    (void)state;
    const char *text = "{\"version\": \"1.2.0\", }";
    assert_null(cJSON_Parse(text));
    const char *at = cJSON_GetErrorPtr();
    assert_non_null(at);
    /* the error is reported past the trailing comma, not at the start */
    assert_true(at > strchr(text, ',') && at <= text + strlen(text));
}

static void test_build_status(void **state)
{
    (void)state;
    cJSON *root = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(root, "state", "pending_verify"));
    assert_non_null(cJSON_AddNumberToObject(root, "written", 4096));
    assert_non_null(cJSON_AddTrueToObject(root, "rollback"));
    char *out = cJSON_PrintUnformatted(root);
    assert_string_equal(out, "{\"state\":\"pending_verify\",\"written\":4096,\"rollback\":true}");
    cJSON_free(out);
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_manifest),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_build_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
