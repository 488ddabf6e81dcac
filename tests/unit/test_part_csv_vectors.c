/*
 * Partition tables of the shared vectors: the generator's binary parser, CSV text as the
 * reference printed it, the round trip to the same bytes, and the device's verifiers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "test_util.h"

#define MB 0x100000u

static ota_diag_t diag;
static ota_part_table_t table;
static int warn_count;

static void count_warning(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
    warn_count++;
}

static ota_part_csv_opts_t opts(void)
{
    ota_part_csv_opts_t o;
    memset(&o, 0, sizeof(o));
    o.warn = count_warning;
    warn_count = 0;
    return o;
}

/* The CSV lines the reference printed for row nn (from info/nn.txt), or NULL. */
static char *info_csv(const char *nn)
{
    char rel[32];
    snprintf(rel, sizeof(rel), "info/%s.txt", nn);
    const char *path = test_vector_path(rel);
    size_t len = 0;
    char *text = path ? (char *)test_read_file(path, &len) : NULL;
    if (text == NULL) {
        return NULL;
    }
    char *start = strstr(text, "# ESP-IDF Partition Table\n");
    char *end = start ? strstr(start, "Parsing binary partition input...") : NULL;
    char *out = NULL;
    if (end != NULL) {
        out = strndup(start, (size_t)(end - start));
    }
    free(text);
    return out;
}

static void test_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *nn;
        const char *path;
        int count;
        bool md5;
    } v[] = {
        {"11", "espressif__esptool/c233552aaf/0x8000_partitions.bin", 5, true},
        {"30", "espressif__esp-serial-flasher/a3717b8268/example/spiffs_image/partition-table.bin",
         3, true},
        {"33",
         "espressif__esp-idf/fc72712b10/components/partition_table/test_gen_esp32part_host/"
         "partitions.bin",
         3, true},
        {"58", "charlie-x__ESP32_Alexa/1cb6b9da78/partitions.bin", 3, false},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const char *path = test_vector_path(v[i].path);
        assert_non_null(path);
        size_t len = 0;
        uint8_t *bin = test_read_file(path, &len);
        assert_non_null(bin);
        assert_int_equal(len, OTA_PART_TABLE_MAX_LEN);
        ota_part_csv_opts_t o = opts();
        assert_int_equal(ota_part_bin_parse(bin, len, &o, &table, &diag), OTA_OK);
        assert_int_equal(table.count, v[i].count);
        assert_int_equal(table.has_md5, v[i].md5);
        assert_int_equal(warn_count, 0);
        char *text = NULL;
        size_t tlen;
        assert_int_equal(ota_part_csv_format(&table, &o, &text, &tlen), OTA_OK);
        char *want = info_csv(v[i].nn);
        assert_non_null(want);
        assert_string_equal(text, want);
        /* Back to binary: the same bytes, MD5 row only where the original had one. */
        o.no_md5 = !v[i].md5;
        uint8_t again[OTA_PART_TABLE_MAX_LEN];
        assert_int_equal(ota_part_csv_compile(text, tlen, &o, again, &diag), OTA_OK);
        assert_memory_equal(again, bin, len);
        /* The on-device verifiers accept them as well. */
        ota_part_table_t dev;
        assert_int_equal(ota_part_table_verify(ota_crypto_openssl(), bin, 4 * MB, &dev, &diag),
                         OTA_OK);
        assert_int_equal(dev.count, v[i].count);
        assert_int_equal(ota_part_table_load(ota_crypto_openssl(), bin, true, &dev, &diag),
                         v[i].md5 ? OTA_OK : OTA_ERR_NOT_FOUND);
        free(want);
        free(text);
        free(bin);
    }
    /* Row 8: an old table without an end marker, rejected as the reference does. */
    const char *path = test_vector_path("espressif__esptool/c859e47d46/test/images/"
                                        "partitions_singleapp.bin");
    assert_non_null(path);
    size_t len = 0;
    uint8_t *bin = test_read_file(path, &len);
    assert_int_equal(len, 96);
    assert_true(ota_part_is_binary(bin, len));
    ota_part_csv_opts_t o = opts();
    assert_int_equal(ota_part_bin_parse(bin, len, &o, &table, &diag), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Partition table is missing an end-of-table marker");
    o.no_verify = true;
    assert_int_equal(ota_part_bin_parse(bin, len, &o, &table, &diag), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Partition table is missing an end-of-table marker");
    free(bin);
}

int main(void)
{
    if (!test_vectors_present()) {
        fprintf(stderr, "the shared vectors are absent: skipped\n");
        return TEST_SKIP_STATUS;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
