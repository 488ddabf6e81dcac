/*
 * Partition tables on the host (gen_esp32part.py's behaviour): CSV syntax (spec 1.7), the
 * generator's checks (1.6), its binary parser, CSV output (1.8) and the built-in tables (the
 * real tables of the shared vectors are in test_part_csv_vectors.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "test_util.h"

#define MB 0x100000u

static ota_diag_t diag;
static ota_part_table_t table;
static char warnings[4096];
static int warn_count;

static void collect_warning(void *ctx, const char *msg)
{
    (void)ctx;
    size_t n = strlen(warnings);
    snprintf(warnings + n, sizeof(warnings) - n, "%s\n", msg);
    warn_count++;
}

static ota_part_csv_opts_t opts(void)
{
    ota_part_csv_opts_t o;
    memset(&o, 0, sizeof(o));
    o.warn = collect_warning;
    warnings[0] = 0;
    warn_count = 0;
    return o;
}

static int parse_with(const char *csv, const ota_part_csv_opts_t *o)
{
    memset(&diag, 0, sizeof(diag));
    return ota_part_csv_parse(csv, strlen(csv), o, &table, &diag);
}

static int parse(const char *csv)
{
    ota_part_csv_opts_t o = opts();
    return parse_with(csv, &o);
}

static void expect_error_with(const char *csv, const ota_part_csv_opts_t *o, int err,
                              const char *msg)
{
    int got = parse_with(csv, o);
    if (got != err || strcmp(diag.msg, msg) != 0) {
        print_error("input: %s\ngot %d '%s'\nwant %d '%s'\n", csv, got, diag.msg, err, msg);
        fail();
    }
    assert_int_equal(table.count, 0);
}

static void expect_error(const char *csv, int err, const char *msg)
{
    ota_part_csv_opts_t o = opts();
    expect_error_with(csv, &o, err, msg);
}

static void expect_part(int i, uint8_t type, uint8_t subtype, uint32_t offset, uint32_t size,
                        const char *label, uint32_t flags)
{
    assert_true(i < table.count);
    const ota_part_t *p = &table.parts[i];
    assert_int_equal(p->type, type);
    assert_int_equal(p->subtype, subtype);
    assert_int_equal(p->offset, offset);
    assert_int_equal(p->size, size);
    assert_string_equal(p->label, label);
    assert_int_equal(p->flags, flags);
}

static void assert_digest(ota_hash_alg_t alg, const uint8_t *data, size_t len, const char *hex)
{
    uint8_t got[32];
    uint8_t want[32];
    size_t n = test_unhex(hex, want, sizeof(want));
    assert_int_equal(ota_hash(ota_crypto_openssl(), alg, data, len, got), OTA_OK);
    assert_memory_equal(got, want, n);
}

/* ---- built-in tables ---- */

static void test_builtins(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *md5;
        const char *sha256;
        uint32_t md5_row;
        const char *md5_digest;
    } v[] = {
        {"singleapp", "5d61d196adc3dba01928f264eb169be7",
         "7f00b6c042a89b15b0cac534f82ed988caf29278ff5700b0c511eb1b5bb7c820", 0x60,
         "f4ad4f4538564b5d7435b62c75b69524"},
        {"two_ota", "9f94bf1e89f37d80f4310d5af19a6e59",
         "d1c0e9d02fa9d26cd2e1984e7b5dd20157204f501ddc83ce82229e5f3175ee8b", 0xC0,
         "bf25822c0fa6d8641bd930251e06b4c4"},
        {"two_ota_large", NULL, NULL, 0xA0, "37f38b32a34f7412f158930062441178"},
        /* MD5 row as gen_esp32part.py writes it for ESP-IDF's partitions_singleapp_large.csv */
        {"singleapp_large", NULL, NULL, 0x60, "0423598fe5287e6762f955efc9f5f382"},
        /* and for its partitions_two_ota_encr_nvs.csv (the nvs_key row flagged encrypted) */
        {"two_ota_encr_nvs", NULL, NULL, 0xE0, "76d509eedec6b9850fadba48faf3a90c"},
    };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ota_part_builtin_name(i), v[i].name);
        const char *csv = ota_part_builtin_csv(v[i].name);
        assert_non_null(csv);
        uint8_t bin[OTA_PART_TABLE_MAX_LEN];
        assert_int_equal(ota_part_csv_compile(csv, strlen(csv), NULL, bin, &diag), OTA_OK);
        if (v[i].md5 != NULL) {
            assert_digest(OTA_HASH_MD5, bin, sizeof(bin), v[i].md5);
            assert_digest(OTA_HASH_SHA256, bin, sizeof(bin), v[i].sha256);
        }
        uint8_t d[16];
        test_unhex(v[i].md5_digest, d, 16);
        assert_int_equal(bin[v[i].md5_row], 0xEB);
        assert_memory_equal(bin + v[i].md5_row + 16, d, 16);
    }
    assert_null(ota_part_builtin_name(5));
    assert_null(ota_part_builtin_csv("two_ota_huge"));
    assert_null(ota_part_builtin_csv(NULL));

    ota_part_csv_opts_t o = opts();
    assert_int_equal(ota_part_builtin_table("two_ota_large", &o, &table, &diag), OTA_OK);
    assert_int_equal(table.count, 5);
    expect_part(0, 1, 0x02, 0x9000, 0x6000, "nvs", 0);
    expect_part(1, 1, 0x00, 0xF000, 0x2000, "otadata", 0);
    expect_part(2, 1, 0x01, 0x11000, 0x1000, "phy_init", 0);
    expect_part(3, 0, 0x10, 0x20000, 0x1A9000, "ota_0", 0);
    expect_part(4, 0, 0x11, 0x1D0000, 0x1A9000, "ota_1", 0);
    assert_true(table.has_md5);
    assert_int_equal(ota_part_builtin_table("nope", &o, &table, &diag), OTA_ERR_NOT_FOUND);
    /* Placement follows the table offset. */
    o.table_offset = 0x10000;
    assert_int_equal(ota_part_builtin_table("two_ota", &o, &table, &diag), OTA_OK);
    expect_part(0, 1, 0x02, 0x11000, 0x4000, "nvs", 0);
    expect_part(1, 1, 0x00, 0x15000, 0x2000, "otadata", 0);
    expect_part(2, 1, 0x01, 0x17000, 0x1000, "phy_init", 0);
    expect_part(3, 0, 0x00, 0x20000, MB, "factory", 0);
    assert_int_equal(warn_count, 0);
}

/* ---- CSV syntax ---- */

static void test_variables(void **state)
{
    (void)state;
    setenv("OTAKIT_T_SIZE", "0x5000", 1);
    setenv("OTAKIT_T_NAME", "store", 1);
    setenv("OTAKIT_T_INDIRECT", "$OTAKIT_T_NAME", 1);
    unsetenv("OTAKIT_T_UNSET");
    assert_int_equal(parse("nvs, data, nvs, , $OTAKIT_T_SIZE,\n"
                           "${OTAKIT_T_NAME}, data, spiffs, , ${OTAKIT_T_SIZE}\n"
                           "a$OTAKIT_T_NAME$OTAKIT_T_NAME, data, fat, , 4K\n"),
                     OTA_OK);
    expect_part(0, 1, 0x02, 0x9000, 0x5000, "nvs", 0);
    expect_part(1, 1, 0x82, 0xE000, 0x5000, "store", 0);
    expect_part(2, 1, 0x81, 0x13000, 0x1000, "astorestore", 0);
    /* An unset variable at the start of a line is reported by name. */
    expect_error("# header\n$OTAKIT_T_UNSET, data, nvs, , 0x4000\n", OTA_ERR_SYNTAX,
                 "unknown variable 'OTAKIT_T_UNSET'");
    /* Elsewhere it stays in the field and fails there. */
    expect_error("nvs, data, nvs, $OTAKIT_T_UNSET, 0x4000\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Invalid field value $OTAKIT_T_UNSET");
    /* A value is not expanded again; the check looks at the expanded line. */
    expect_error("${OTAKIT_T_INDIRECT}, data, nvs, , 0x4000\n", OTA_ERR_SYNTAX,
                 "unknown variable 'OTAKIT_T_NAME'");
    /* A lone '$' or an unclosed brace is kept as text. */
    assert_int_equal(parse("a$, data, nvs, , 0x4000\nb${x, data, fat, , 4K\n"), OTA_OK);
    assert_string_equal(table.parts[0].label, "a$");
    assert_string_equal(table.parts[1].label, "b${x");
}

static void test_comments_lines_fields(void **state)
{
    (void)state;
    assert_int_equal(parse("# Name, Type, SubType, Offset, Size, Flags\n"
                           "\n"
                           "   # indented comment\n"
                           "  nvs#1 ,\tdata , nvs , , 0x4000 , \n"
                           "my data, data, spiffs, , 4K, , extra, fields\n"
                           "f, app, factory, , 1M"),
                     OTA_OK);
    assert_int_equal(table.count, 3);
    expect_part(0, 1, 0x02, 0x9000, 0x4000, "nvs#1", 0);
    expect_part(1, 1, 0x82, 0xD000, 0x1000, "my data", 0);
    expect_part(2, 0, 0x00, 0x10000, MB, "f", 0);
    /* Line numbers count every kind of line break. */
    expect_error("# a\r\n# b\rnvs, data, nvs, ,\n", OTA_ERR_SYNTAX,
                 "Error at line 3: Size field can't be empty");
    expect_error("nvs, data\n", OTA_ERR_SYNTAX, "Error at line 1: Size field can't be empty");
    expect_error("\n\nnvs\n", OTA_ERR_SYNTAX, "Error at line 3: Field 'type' can't be left empty.");
    expect_error("nvs, , nvs, , 4K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Field 'type' can't be left empty.");
    /* An empty input is an empty table. */
    assert_int_equal(parse(""), OTA_OK);
    assert_int_equal(table.count, 0);
    assert_int_equal(parse("# only comments\n\n"), OTA_OK);
    assert_int_equal(table.count, 0);
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t value;
    } ok[] = {
        {"4096", 4096},    {"0x1000", 4096},  {"0X1000", 4096},
        {"0o10000", 4096}, {"0O10000", 4096}, {"0b1000000000000", 4096},
        {"4K", 4096},      {"4k", 4096},      {"1M", MB},
        {"2m", 2 * MB},    {"0x1_000", 4096}, {"0x_1000", 4096},
        {"4_096", 4096},   {"+4K", 4096},     {"1KK", MB},
        {"0x400k", MB},    {"0", 0},          {"00", 0},
        {"1 K", 1024},     {"0b1K", 1024},
    };
    char csv[128];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(csv, sizeof(csv), "x, data, spiffs, 0x10000, %s\n", ok[i].text);
        if (parse(csv) != OTA_OK) {
            print_error("%s: %s\n", ok[i].text, diag.msg);
            fail();
        }
        assert_int_equal(table.parts[0].size, ok[i].value);
    }
    static const char *const bad[] = {"010",  "1__0", "0x",  "_1",  "1_",  "4KB",
                                      "0x1g", "1.5M", "--1", "0b2", "0o8", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(csv, sizeof(csv), "x, data, spiffs, 0x10000, %s\n", bad[i]);
        char want[128];
        size_t n = strlen(bad[i]);
        while (n > 0 && strchr("kKmM", bad[i][n - 1]) != NULL) {
            n--;
        }
        snprintf(want, sizeof(want), "Error at line 1: Invalid field value %.*s", (int)n, bad[i]);
        expect_error(csv, OTA_ERR_SYNTAX, want);
    }
    expect_error("x, data, spiffs, 0x10000, K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Invalid field value ");
    expect_error("x, data, spiffs, 0x10000, 99999999999999999999\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Invalid field value 99999999999999999999");
    expect_error("x, data, spiffs, 0x10000, 1MMMMMMMM\n", OTA_ERR_BOUNDS,
                 "Error at line 1: Value 1MMMMMMMM is out of range");
    /* Values beyond the 32-bit fields are refused when the binary is made. */
    expect_error("x, data, spiffs, 0x10000, 4096M\n", OTA_ERR_BOUNDS,
                 "Partition x invalid: size 0x100000000 does not fit its binary field");
    expect_error("x, 256, 0, 0x10000, 4K\n", OTA_ERR_BOUNDS,
                 "Partition x invalid: type 0x100 does not fit its binary field");

    int64_t v;
    assert_true(ota_part_parse_pyint(" 0x8000 ", &v));
    assert_int_equal(v, 0x8000);
    assert_true(ota_part_parse_pyint("-12", &v));
    assert_int_equal(v, -12);
    assert_false(ota_part_parse_pyint("8K", &v));
    assert_false(ota_part_parse_pyint("", &v));
    assert_false(ota_part_parse_pyint("012", &v));
    assert_false(ota_part_parse_pyint(NULL, &v));
}

static void test_negative_sizes(void **state)
{
    (void)state;
    assert_int_equal(parse("x, data, spiffs, 0x10000, -0x200000\n"
                           "y, data, fat, , -3M\n"),
                     OTA_OK);
    expect_part(0, 1, 0x82, 0x10000, 0x1F0000, "x", 0);
    expect_part(1, 1, 0x81, 0x200000, 0x100000, "y", 0);
}

static void test_auto_placement(void **state)
{
    (void)state;
    assert_int_equal(parse("a, app, factory, , 0x11000\n"
                           "b, data, nvs, , 0x4000\n"
                           "c, app, ota_0, , 64K\n"
                           "d, data, fat, 0x80000, 4K\n"
                           "e, data, spiffs, , 4K\n"),
                     OTA_OK);
    expect_part(0, 0, 0x00, 0x10000, 0x11000, "a", 0);
    expect_part(1, 1, 0x02, 0x21000, 0x4000, "b", 0);
    expect_part(2, 0, 0x10, 0x30000, 0x10000, "c", 0);
    expect_part(3, 1, 0x81, 0x80000, 0x1000, "d", 0);
    expect_part(4, 1, 0x82, 0x81000, 0x1000, "e", 0);
    expect_error("nvs, data, nvs, 0x8000, 0x4000\n", OTA_ERR_BOUNDS,
                 "CSV Error at line 1: Partitions overlap. Partition sets offset 0x8000. But "
                 "partition table occupies the whole sector 0x8000. Use a free offset 0x9000 or "
                 "higher.");
    expect_error("nvs, data, nvs, , 0x4000\n# c\nphy, data, phy, 0xC000, 0x1000\n", OTA_ERR_BOUNDS,
                 "CSV Error at line 3: Partitions overlap. Partition sets offset 0xc000. Previous "
                 "partition ends 0xd000");
    ota_part_csv_opts_t o = opts();
    o.table_offset = 0xE000;
    expect_error_with("nvs, data, nvs, 0xE000, 0x4000\n", &o, OTA_ERR_BOUNDS,
                      "CSV Error at line 1: Partitions overlap. Partition sets offset 0xe000. But "
                      "partition table occupies the whole sector 0xe000. Use a free offset 0xf000 "
                      "or higher.");
    assert_int_equal(parse_with("nvs, data, nvs, , 0x4000\n", &o), OTA_OK);
    expect_part(0, 1, 0x02, 0xF000, 0x4000, "nvs", 0);
}

static void test_keywords(void **state)
{
    (void)state;
    ota_part_csv_opts_t o = opts();
    o.has_primary_bootloader_offset = true;
    o.primary_bootloader_offset = 0x1000;
    assert_int_equal(parse_with("n, DATA, NVS, , 16K\n"
                                "o, Data, Ota, , 8K\n"
                                "u, data, , , 4K\n"
                                "c, 0x40, 5, , 4K\n"
                                "f, App, Factory, , 1M\n"
                                "t, 0, 0x20, , 1M\n"
                                "k, data, nvs_keys, , 4K, encrypted\n"
                                "l, data, littlefs, , 4K\n"
                                "h, data, esphttpd, , 4K\n"
                                "e, data, efuse, , 8K\n"
                                "co, data, coredump, , 64K\n"
                                "te, data, tee_ota, , 8K\n"
                                "t0, app, tee_0, , 64K\n"
                                "o15, app, ota_15, , 64K\n"
                                "bo, bootloader, ota, , N/A\n"
                                "pto, partition_table, ota, , N/A\n"
                                "u2, data, undefined, , 4K\n",
                                &o),
                     OTA_OK);
    static const uint8_t want[][2] = {
        {1, 0x02}, {1, 0x00}, {1, 0x06}, {0x40, 5}, {0, 0x00}, {0, 0x20},
        {1, 0x04}, {1, 0x83}, {1, 0x80}, {1, 0x05}, {1, 0x03}, {1, 0x90},
        {0, 0x30}, {0, 0x1F}, {2, 0x01}, {3, 0x01}, {1, 0x06},
    };
    assert_int_equal(table.count, 17);
    for (int i = 0; i < 17; i++) {
        assert_int_equal(table.parts[i].type, want[i][0]);
        assert_int_equal(table.parts[i].subtype, want[i][1]);
    }
    expect_error("x, data, bogus, , 4K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Value 'bogus' is not valid. Known keywords: ota, phy, nvs, "
                 "coredump, nvs_keys, efuse, undefined, esphttpd, fat, spiffs, littlefs, tee_ota");
    expect_error("x, bootloader, factory, , 4K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Value 'factory' is not valid. Known keywords: primary, ota, "
                 "recovery");
    expect_error("x, apps, factory, , 4K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Value 'apps' is not valid. Known keywords: bootloader, "
                 "partition_table, app, data");
    expect_error("x, 0x40, nvs, , 4K\n", OTA_ERR_SYNTAX,
                 "Error at line 1: Invalid field value nvs");
    expect_error("x, app, , , 1M\n", OTA_ERR_SYNTAX,
                 "Error at line 1: App partition cannot have an empty subtype");
}

static void test_flags(void **state)
{
    (void)state;
    assert_int_equal(parse("a, data, fat, , 4K, encrypted\n"
                           "b, data, fat, , 4K, readonly\n"
                           "c, data, fat, , 4K, encrypted:readonly\n"
                           "d, data, fat, , 4K, readonly:encrypted\n"
                           "e, data, fat, , 4K, encrypted::readonly\n"
                           "f, data, fat, , 4K,\n"),
                     OTA_OK);
    static const uint32_t want[] = {1, 2, 3, 3, 3, 0};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(table.parts[i].flags, want[i]);
    }
    expect_error("a, data, fat, , 4K, secret\n", OTA_ERR_SYNTAX,
                 "Error at line 1: CSV flag column contains unknown flag 'secret'");
    expect_error("a, data, fat, , 4K, encrypted: readonly\n", OTA_ERR_SYNTAX,
                 "Error at line 1: CSV flag column contains unknown flag ' readonly'");
    expect_error("a, data, fat, , 4K, Readonly\n", OTA_ERR_SYNTAX,
                 "Error at line 1: CSV flag column contains unknown flag 'Readonly'");
}

static void test_forced_fields(void **state)
{
    (void)state;
    static const char csv[] = "bootloader, bootloader, primary, N/A, N/A\n"
                              "partition_table, partition_table, primary, N/A, N/A\n"
                              "nvs, data, nvs, , 24K\n"
                              "factory, app, factory, , 1M\n";
    expect_error(csv, OTA_ERR_INVALID_ARG,
                 "Error at line 1: Primary bootloader offset is not defined. "
                 "Please use --primary-bootloader-offset");
    ota_part_csv_opts_t o = opts();
    o.has_primary_bootloader_offset = true;
    o.primary_bootloader_offset = 0x1000;
    assert_int_equal(parse_with(csv, &o), OTA_OK);
    expect_part(0, 2, 0, 0x1000, 0x7000, "bootloader", 0);
    expect_part(1, 3, 0, 0x8000, 0x1000, "partition_table", 0);
    expect_part(2, 1, 2, 0x9000, 0x6000, "nvs", 0);
    expect_part(3, 0, 0, 0x10000, MB, "factory", 0);
    assert_int_equal(warn_count, 0);
    /* A chip whose bootloader is at 0, with the table moved. */
    o.primary_bootloader_offset = 0;
    o.table_offset = 0xC000;
    assert_int_equal(parse_with(csv, &o), OTA_OK);
    expect_part(0, 2, 0, 0x0, 0xC000, "bootloader", 0);
    expect_part(1, 3, 0, 0xC000, 0x1000, "partition_table", 0);
    expect_part(2, 1, 2, 0xD000, 0x6000, "nvs", 0);
    /* The recovery bootloader takes its offset from its option, its size from the primary's. */
    o = opts();
    o.has_recovery_bootloader_offset = true;
    o.recovery_bootloader_offset = 0x3F0000;
    expect_error_with("rec, bootloader, recovery, , \n", &o, OTA_ERR_INVALID_ARG,
                      "Error at line 1: Primary bootloader offset is not defined. "
                      "Please use --primary-bootloader-offset");
    o.has_primary_bootloader_offset = true;
    o.primary_bootloader_offset = 0x2000;
    assert_int_equal(parse_with("rec, bootloader, recovery, , \n"
                                "blo, bootloader, ota, , \n"
                                "pto, partition_table, ota, , \n",
                                &o),
                     OTA_OK);
    expect_part(0, 2, 2, 0x3F0000, 0x6000, "rec", 0);
    expect_part(1, 2, 1, 0x3F6000, 0x6000, "blo", 0);
    expect_part(2, 3, 1, 0x3FC000, 0x1000, "pto", 0);
    o.has_recovery_bootloader_offset = false;
    expect_error_with("rec, bootloader, recovery, , \n", &o, OTA_ERR_INVALID_ARG,
                      "Error at line 1: Recovery bootloader offset is not defined. "
                      "Please use --recovery-bootloader-offset");
    /* The primary bootloader must lie below the table. */
    o.primary_bootloader_offset = 0x8000;
    expect_error_with("nvs, data, nvs, , 24K\n", &o, OTA_ERR_INVALID_ARG,
                      "Unsupported configuration. Primary bootloader must be below partition "
                      "table. Check --primary-bootloader-offset=0x8000 and --offset=0x8000");
    assert_int_equal(ota_part_csv_check_opts(&o, &diag), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_part_csv_check_opts(NULL, &diag), OTA_OK);
}

/* ---- the generator's checks ---- */

static void test_alignment_rules(void **state)
{
    (void)state;
    expect_error("x, data, nvs, 0x9800, 0x4000\n", OTA_ERR_ALIGN,
                 "Partition x invalid: Offset 0x9800 is not aligned to 0x1000");
    expect_error("f, app, factory, 0x11000, 1M\n", OTA_ERR_ALIGN,
                 "Partition f invalid: Offset 0x11000 is not aligned to 0x10000");
    expect_error("c, 0x40, 0, 0x9004, 4K\n", OTA_ERR_ALIGN,
                 "Partition c invalid: Offset 0x9004 is not aligned to 0x1000");
    expect_error("f, app, factory, , 0x10800\n", OTA_ERR_ALIGN,
                 "Partition f invalid: Size 0x10800 is not aligned to 0x1000");
    /* Only app sizes are aligned. */
    assert_int_equal(parse("x, data, fat, , 0x123\n"), OTA_OK);
    assert_int_equal(table.parts[0].size, 0x123);
    ota_part_csv_opts_t o = opts();
    o.secure = OTA_PART_SECURE_V1;
    expect_error_with("f, app, factory, , 0x18000\n", &o, OTA_ERR_ALIGN,
                      "Partition f invalid: Size 0x18000 is not aligned to 0x10000");
    o.secure = OTA_PART_SECURE_V2;
    assert_int_equal(parse_with("f, app, factory, , 0x18000\n", &o), OTA_OK);
    o.no_verify = true;
    o.secure = OTA_PART_SECURE_NONE;
    assert_int_equal(parse_with("x, data, nvs, 0x9800, 0x4000\n", &o), OTA_OK);
    assert_int_equal(table.parts[0].offset, 0x9800);
}

static void test_table_rules(void **state)
{
    (void)state;
    expect_error("x, data, nvs, , 16K\ny, data, fat, , 4K\nx, data, spiffs, , 4K\n",
                 OTA_ERR_INVALID_ARG, "Partition names must be unique");
    expect_error("o, data, ota, , 8K\np, data, ota, , 8K\n", OTA_ERR_INVALID_ARG,
                 "Found multiple otadata partitions. Only one partition can be defined with "
                 "type=\"data\"(1) and subtype=\"ota\"(0).");
    expect_error("o, data, ota, , 16K\n", OTA_ERR_SIZE,
                 "otadata partition must have size = 0x2000");
    expect_error("o, data, tee_ota, , 8K\np, data, tee_ota, , 8K\n", OTA_ERR_INVALID_ARG,
                 "Found multiple TEE otadata partitions. Only one partition can be defined with "
                 "type=\"data\"(1) and subtype=\"tee_ota\"(0x90).");
    expect_error("o, data, tee_ota, , 4K\n", OTA_ERR_SIZE,
                 "TEE otadata partition must have size = 0x2000");
    expect_error("nvs, data, nvs, , 0x2000\n", OTA_ERR_SIZE,
                 "Partition nvs invalid: 'nvs' partition of type 1 and subtype 2 of this size "
                 "(0x2000) must be flagged as 'readonly' (the size of read/write NVS has to be at "
                 "least 0x3000)");
    assert_int_equal(parse("nvs, data, nvs, , 0x2000, readonly\n"), OTA_OK);
    assert_int_equal(parse("nvs, data, nvs, , 0x3000\n"), OTA_OK);
    expect_error("o, data, ota, , 8K, readonly\n", OTA_ERR_INVALID_ARG,
                 "Partition o invalid: 'o' partition of type 1 and subtype 0 is always read-write "
                 "and cannot be read-only");
    expect_error("cd, data, coredump, , 64K, encrypted:readonly\n", OTA_ERR_INVALID_ARG,
                 "Partition cd invalid: 'cd' partition of type 1 and subtype 3 is always "
                 "read-write and cannot be read-only");
    /* A negative size can move the cursor below the table; the check catches it. */
    expect_error("a, data, fat, 0x10000, -0x8000\nb, data, phy, , 0x1000\n", OTA_ERR_BOUNDS,
                 "Partition offset 0x8000 is below 0x9000");
    /* Everything passes with verification off. */
    ota_part_csv_opts_t o = opts();
    o.no_verify = true;
    assert_int_equal(parse_with("o, data, ota, , 16K, readonly\np, data, ota, , 8K\n", &o), OTA_OK);
    assert_int_equal(table.count, 2);
}

static void test_warnings(void **state)
{
    (void)state;
    ota_part_csv_opts_t o = opts();
    assert_int_equal(parse_with("app, data, fat, , 4K\n"
                                "ota_0, data, spiffs, , 4K\n"
                                "nvs, data, nvs, , 16K\n"
                                "ota, data, ota, , 8K\n"
                                "factory, app, factory, , 1M\n"
                                "data, app, ota_0, , 1M\n",
                                &o),
                     OTA_OK);
    assert_string_equal(warnings,
                        "WARNING: Partition has name 'app' which is a partition type, but does not "
                        "match this partition's type (0x1). Mistake in partition table?\n"
                        "WARNING: Partition has name 'ota_0' which is a partition subtype, but "
                        "this partition has non-matching type 0x1 and subtype 0x82. Mistake in "
                        "partition table?\n"
                        "WARNING: Partition has name 'data' which is a partition type, but does "
                        "not match this partition's type (0x0). Mistake in partition table?\n");
    assert_int_equal(table.count, 6);
    o = opts();
    o.no_verify = true;
    assert_int_equal(parse_with("app, data, fat, , 4K\n", &o), OTA_OK);
    assert_int_equal(warn_count, 0);
    /* Without a callback the warning is dropped. */
    static const char one[] = "app, data, fat, , 4K\n";
    assert_int_equal(ota_part_csv_parse(one, strlen(one), NULL, &table, &diag), OTA_OK);
}

static void test_flash_size(void **state)
{
    (void)state;
    const char *csv = ota_part_builtin_csv("two_ota");
    ota_part_csv_opts_t o = opts();
    o.flash_size = 4 * MB;
    assert_int_equal(parse_with(csv, &o), OTA_OK);
    o.flash_size = 2 * MB;
    expect_error_with(
        csv, &o, OTA_ERR_NO_SPACE,
        "Partitions tables occupies 3.1MB of flash (3211264 bytes) which does not fit "
        "in configured flash size 2MB. Change the flash size in menuconfig under the "
        "'Serial Flasher Config' menu.");
    /* Checked with verification off too; exactly full is fine. */
    o.no_verify = true;
    assert_int_equal(parse_with("x, data, fat, 0x100000, 0x100000\n", &o), OTA_OK);
    expect_error_with(
        "x, data, fat, 0x100000, 0x100001\n", &o, OTA_ERR_NO_SPACE,
        "Partitions tables occupies 2.0MB of flash (2097153 bytes) which does not fit "
        "in configured flash size 2MB. Change the flash size in menuconfig under the "
        "'Serial Flasher Config' menu.");
}

static void many_rows(char *buf, size_t cap, int n)
{
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        k += (size_t)snprintf(buf + k, cap - k, "p%d, data, fat, , 4K\n", i);
    }
}

static void test_capacity(void **state)
{
    (void)state;
    static char csv[8192];
    many_rows(csv, sizeof(csv), 94);
    assert_int_equal(parse(csv), OTA_OK);
    assert_int_equal(table.count, 94);
    many_rows(csv, sizeof(csv), 95);
    expect_error(csv, OTA_ERR_NO_SPACE, "Binary partition table length (3072) longer than max");
    ota_part_csv_opts_t o = opts();
    o.no_md5 = true;
    assert_int_equal(parse_with(csv, &o), OTA_OK);
    assert_int_equal(table.count, 95);
    assert_false(table.has_md5);
    many_rows(csv, sizeof(csv), 200);
    expect_error_with(csv, &o, OTA_ERR_NO_SPACE,
                      "Binary partition table length (6400) longer than max");
}

static void test_extra_subtypes(void **state)
{
    (void)state;
    char spec1[] = "data, custom_fs ,0x40";
    char spec2[] = "app,blob,41";
    char spec3[] = "data,custom,42";
    ota_part_subtype_def_t x[3];
    assert_int_equal(ota_part_extra_subtype_parse(spec1, &x[0], &diag), OTA_OK);
    assert_int_equal(x[0].type, 1);
    assert_string_equal(x[0].name, "custom_fs");
    assert_int_equal(x[0].value, 0x40);
    assert_int_equal(ota_part_extra_subtype_parse(spec2, &x[1], &diag), OTA_OK);
    assert_int_equal(x[1].type, 0);
    assert_int_equal(x[1].value, 0x41);
    assert_int_equal(ota_part_extra_subtype_parse(spec3, &x[2], &diag), OTA_OK);
    ota_part_csv_opts_t o = opts();
    o.extra_subtypes = x;
    o.extra_subtype_count = 3;
    assert_int_equal(parse_with("fs, data, custom_fs, , 4K\nb, app, BLOB, , 64K\n", &o), OTA_OK);
    expect_part(0, 1, 0x40, 0x9000, 0x1000, "fs", 0);
    expect_part(1, 0, 0x41, 0x10000, 0x10000, "b", 0);
    char *text = NULL;
    assert_int_equal(ota_part_csv_format(&table, &o, &text, NULL), OTA_OK);
    assert_string_equal(text, "# ESP-IDF Partition Table\n"
                              "# Name, Type, SubType, Offset, Size, Flags\n"
                              "fs,data,custom_fs,0x9000,4K,\n"
                              "b,app,blob,0x10000,64K,\n");
    free(text);
    /* As in the generator, a keyword ending in k or m loses that letter as a size suffix. */
    expect_error_with("c, data, custom, , 4K\n", &o, OTA_ERR_SYNTAX,
                      "Error at line 1: Value 'custo' is not valid. Known keywords: ota, phy, "
                      "nvs, coredump, nvs_keys, efuse, undefined, esphttpd, fat, spiffs, littlefs, "
                      "tee_ota, custom_fs, custom");
    char dup[] = "data,mine,82";
    assert_int_equal(ota_part_extra_subtype_parse(dup, &x[0], &diag), OTA_OK);
    o.extra_subtype_count = 1;
    assert_int_equal(ota_part_csv_check_opts(&o, &diag), OTA_ERR_INVALID_ARG);
    assert_string_equal(diag.msg, "Found duplicate value in partition subtype");
    char bad1[] = "disk,x,40";
    assert_int_equal(ota_part_extra_subtype_parse(bad1, &x[0], &diag), OTA_ERR_INVALID_ARG);
    assert_string_equal(diag.msg, "Error parsing custom subtypes: Invalid partition type");
    char bad2[] = "data,x";
    assert_int_equal(ota_part_extra_subtype_parse(bad2, &x[0], &diag), OTA_ERR_INVALID_ARG);
    char bad3[] = "data,x,zz";
    assert_int_equal(ota_part_extra_subtype_parse(bad3, &x[0], &diag), OTA_ERR_INVALID_ARG);
    char bad4[] = "data,x,100";
    assert_int_equal(ota_part_extra_subtype_parse(bad4, &x[0], &diag), OTA_ERR_INVALID_ARG);
}

static void test_text_encodings(void **state)
{
    (void)state;
    const char *csv = ota_part_builtin_csv("singleapp");
    uint8_t want[OTA_PART_TABLE_MAX_LEN];
    uint8_t got[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_csv_compile(csv, strlen(csv), NULL, want, &diag), OTA_OK);
    /* UTF-8 with a BOM. */
    size_t n = strlen(csv);
    char *b = malloc(4 * n + 4);
    memcpy(b, "\xEF\xBB\xBF", 3);
    memcpy(b + 3, csv, n);
    assert_int_equal(ota_part_csv_compile(b, n + 3, NULL, got, &diag), OTA_OK);
    assert_memory_equal(got, want, sizeof(want));
    /* UTF-16 LE and BE with their BOMs. */
    for (int big = 0; big < 2; big++) {
        b[0] = big ? (char)0xFE : (char)0xFF;
        b[1] = big ? (char)0xFF : (char)0xFE;
        for (size_t i = 0; i < n; i++) {
            b[2 + 2 * i + (big ? 1 : 0)] = csv[i];
            b[2 + 2 * i + (big ? 0 : 1)] = 0;
        }
        assert_int_equal(ota_part_csv_compile(b, 2 + 2 * n, NULL, got, &diag), OTA_OK);
        assert_memory_equal(got, want, sizeof(want));
    }
    /* UTF-32 BE. */
    memcpy(b, "\x00\x00\xFE\xFF", 4);
    for (size_t i = 0; i < n; i++) {
        memcpy(b + 4 + 4 * i, "\0\0\0", 3);
        b[4 + 4 * i + 3] = csv[i];
    }
    assert_int_equal(ota_part_csv_compile(b, 4 + 4 * n, NULL, got, &diag), OTA_OK);
    assert_memory_equal(got, want, sizeof(want));
    free(b);
    /* A UTF-8 name is kept byte for byte; invalid UTF-8 is refused. */
    assert_int_equal(parse("phy_\xD0\xB8\xD0\xBD, data, phy, , 4K\n"), OTA_OK);
    assert_string_equal(table.parts[0].label, "phy_\xD0\xB8\xD0\xBD");
    expect_error("nvs\xFF, data, nvs, , 16K\n", OTA_ERR_SYNTAX,
                 "'utf-8' codec can't decode byte 0xff in position 3");
    /* Names longer than 16 bytes are cut to the label field. */
    assert_int_equal(parse("a_very_long_partition_name, data, fat, , 4K\n"), OTA_OK);
    assert_string_equal(table.parts[0].label, "a_very_long_part");
}

/* ---- the generator's binary parser ---- */

static void compile_builtin(const char *name, uint8_t *bin)
{
    const char *csv = ota_part_builtin_csv(name);
    assert_int_equal(ota_part_csv_compile(csv, strlen(csv), NULL, bin, &diag), OTA_OK);
}

static int bin_parse(const uint8_t *bin, size_t len, const ota_part_csv_opts_t *o)
{
    memset(&diag, 0, sizeof(diag));
    return ota_part_bin_parse(bin, len, o, &table, &diag);
}

static void test_binary_parser(void **state)
{
    (void)state;
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_part_csv_opts_t o = opts();
    compile_builtin("two_ota", bin);
    assert_true(ota_part_is_binary(bin, sizeof(bin)));
    assert_false(ota_part_is_binary(bin, 1));
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_OK);
    assert_int_equal(table.count, 6);
    assert_true(table.has_md5);
    expect_part(5, 0, 0x11, 0x210000, MB, "ota_1", 0);
    /* Any length works if the end marker comes before the end. */
    assert_int_equal(bin_parse(bin, 0x100, &o), OTA_OK);
    assert_int_equal(bin_parse(bin, 0x100 + 5, &o), OTA_OK);
    assert_int_equal(bin_parse(bin, 0xE0, &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Partition table is missing an end-of-table marker");
    /* No end marker. */
    assert_int_equal(bin_parse(bin, 0xC0, &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Partition table is missing an end-of-table marker");
    assert_int_equal(table.count, 0);
    assert_int_equal(bin_parse(bin, 0xD0, &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Partition table length must be a multiple of 32 bytes");
    /* An end marker must be all 0xFF. */
    uint8_t copy[OTA_PART_TABLE_MAX_LEN];
    memcpy(copy, bin, sizeof(copy));
    copy[0xE0 + 31] = 0xFE;
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Invalid magic bytes (b'\\xff\\xff') for partition definition");
    /* MD5 mismatch. */
    memcpy(copy, bin, sizeof(copy));
    copy[0xD0] = 0x00;
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "MD5 checksums don't match! (computed: "
                                  "0xbf25822c0fa6d8641bd930251e06b4c4, parsed: "
                                  "0xb'0025822c0fa6d8641bd930251e06b4c4')");
    /* With MD5 off, the MD5 row is just a bad entry. */
    o.no_md5 = true;
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Invalid magic bytes (b'\\xeb\\xeb') for partition definition");
    o.no_md5 = false;
    /* Python's repr of the magic bytes. */
    memcpy(copy, bin, sizeof(copy));
    copy[0x20] = 'A';
    copy[0x21] = 'B';
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Invalid magic bytes (b'AB') for partition definition");
    copy[0x20] = '\'';
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Invalid magic bytes (b\"'B\") for partition definition");
    copy[0x20] = '\\';
    copy[0x21] = '\n';
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    assert_string_equal(diag.msg, "Invalid magic bytes (b'\\\\\\n') for partition definition");
    /* A label that is not UTF-8. */
    memcpy(copy, bin, sizeof(copy));
    copy[0x20 + 12] = 0xC3;
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_ERR_CORRUPT);
    /* Unknown flags: a warning, and the bits are kept. */
    memcpy(copy, bin, 0xC0);
    copy[0x5C] = 0x13;
    memset(copy + 0xC0, 0xFF, sizeof(copy) - 0xC0);
    assert_int_equal(bin_parse(copy, sizeof(copy), &o), OTA_OK);
    assert_string_equal(warnings, "WARNING: Partition definition had unknown flag(s) 0x00000010. "
                                  "Newer binary format?\n");
    assert_int_equal(table.parts[2].flags, 0x13);
    assert_false(table.has_md5);
}

static void test_binary_checks(void **state)
{
    (void)state;
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    ota_part_csv_opts_t o = opts();
    o.no_md5 = true;
    /* Overlap and below-the-table are found in binaries (CSV placement prevents them). */
    ota_part_table_t t;
    memset(&t, 0, sizeof(t));
    t.count = 2;
    t.parts[0] = (ota_part_t){.type = 1, .subtype = 0x81, .offset = 0xA000, .size = 0x1000};
    strcpy(t.parts[0].label, "b");
    t.parts[1] = (ota_part_t){.type = 1, .subtype = 0x81, .offset = 0x9000, .size = 0x2000};
    strcpy(t.parts[1].label, "a");
    assert_int_equal(ota_part_table_encode(NULL, &t, bin, NULL), OTA_OK);
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_ERR_BOUNDS);
    assert_string_equal(diag.msg, "Partition at 0xa000 overlaps 0x9000-0xafff");
    t.parts[1].offset = 0x8000;
    t.parts[1].size = 0x1000;
    assert_int_equal(ota_part_table_encode(NULL, &t, bin, NULL), OTA_OK);
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_ERR_BOUNDS);
    assert_string_equal(diag.msg, "Partition offset 0x8000 is below 0x9000");
    o.table_offset = 0x7000;
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_OK);
    o.table_offset = 0;
    o.no_verify = true;
    assert_int_equal(bin_parse(bin, sizeof(bin), &o), OTA_OK);
    assert_int_equal(table.count, 2);
    /* More rows than a table holds. */
    static uint8_t big[101 * 32];
    memset(big, 0xFF, sizeof(big));
    for (int i = 0; i < 100; i++) {
        ota_part_t p = {
            .type = 1, .subtype = 0x81, .offset = 0x10000u + 0x1000u * (uint32_t)i, .size = 0x1000};
        snprintf(p.label, sizeof(p.label), "p%d", i);
        ota_part_encode(&p, big + 32 * i);
    }
    assert_int_equal(bin_parse(big, sizeof(big), &o), OTA_ERR_NO_SPACE);
    assert_string_equal(diag.msg, "Partition table has more than 96 entries");
}

/* ---- CSV output ---- */

static void test_csv_format(void **state)
{
    (void)state;
    ota_part_table_t t;
    memset(&t, 0, sizeof(t));
    static const struct {
        uint8_t type;
        uint8_t sub;
        uint32_t off;
        uint32_t size;
        const char *label;
        uint32_t flags;
    } rows[] = {
        {1, 0x02, 0x9000, 0x4000, "nvs", 0},
        {1, 0x00, 0xD000, 0x2000, "otadata", 0},
        {0, 0x10, 0x10000, 0x300000, "app0", 0},
        {1, 0x82, 0x310000, 0xE0000, "spiffs", 1},
        {1, 0x81, 0x3F0000, 0x1801, "odd", 2},
        {0x40, 0x05, 0x3F2000, 0, "custom", 3},
        {2, 0x02, 0x3F3000, 0x400, "sixteen_chars_xy", 0x10},
        {3, 0x01, 0x3F4000, 0x1000, "pt", 0},
        {1, 0x77, 0x3F5000, 0x4400, "unk", 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ota_part_t *p = &t.parts[i];
        p->type = rows[i].type;
        p->subtype = rows[i].sub;
        p->offset = rows[i].off;
        p->size = rows[i].size;
        memcpy(p->label, rows[i].label, strnlen(rows[i].label, OTA_PART_LABEL_LEN));
        p->flags = rows[i].flags;
    }
    t.count = 9;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(ota_part_csv_format(&t, NULL, &text, &len), OTA_OK);
    static const char want[] = "# ESP-IDF Partition Table\n"
                               "# Name, Type, SubType, Offset, Size, Flags\n"
                               "nvs,data,nvs,0x9000,16K,\n"
                               "otadata,data,ota,0xd000,8K,\n"
                               "app0,app,ota_0,0x10000,3M,\n"
                               "spiffs,data,spiffs,0x310000,896K,encrypted\n"
                               "odd,data,fat,0x3f0000,0x1801,readonly\n"
                               "custom,64,5,0x3f2000,0M,encrypted:readonly\n"
                               "sixteen_chars_xy,bootloader,recovery,0x3f3000,1K,\n"
                               "pt,partition_table,ota,0x3f4000,4K,\n"
                               "unk,data,119,0x3f5000,17K,\n";
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    free(text);
    t.count = 0;
    assert_int_equal(ota_part_csv_format(&t, NULL, &text, NULL), OTA_OK);
    assert_string_equal(text,
                        "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    free(text);
    assert_int_equal(ota_part_csv_format(NULL, NULL, &text, NULL), OTA_ERR_INVALID_ARG);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; ota_part_builtin_name(i) != NULL; i++) {
        uint8_t bin[OTA_PART_TABLE_MAX_LEN];
        uint8_t again[OTA_PART_TABLE_MAX_LEN];
        compile_builtin(ota_part_builtin_name(i), bin);
        assert_int_equal(ota_part_bin_parse(bin, sizeof(bin), NULL, &table, &diag), OTA_OK);
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(ota_part_csv_format(&table, NULL, &text, &len), OTA_OK);
        assert_int_equal(ota_part_csv_compile(text, len, NULL, again, &diag), OTA_OK);
        assert_memory_equal(bin, again, sizeof(bin));
        free(text);
    }
}

static void test_from_arg(void **state)
{
    (void)state;
    assert_int_equal(ota_part_table_from_arg("two_ota", NULL, &table, &diag), OTA_OK);
    assert_int_equal(table.count, 6);
    char dir[] = "/tmp/otakit-part-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/t.bin", dir);
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    compile_builtin("singleapp", bin);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bin, 1, sizeof(bin), fp), sizeof(bin));
    fclose(fp);
    assert_int_equal(ota_part_table_from_arg(path, NULL, &table, &diag), OTA_OK);
    assert_int_equal(table.count, 3);
    snprintf(path, sizeof(path), "%s/t.csv", dir);
    fp = fopen(path, "wb");
    fputs("x, data, fat, , 4K\n", fp);
    fclose(fp);
    assert_int_equal(ota_part_table_from_arg(path, NULL, &table, &diag), OTA_OK);
    assert_int_equal(table.count, 1);
    unlink(path);
    assert_int_equal(ota_part_table_from_arg(path, NULL, &table, &diag), OTA_ERR_IO);
    snprintf(path, sizeof(path), "%s/t.bin", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_comments_lines_fields),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_negative_sizes),
        cmocka_unit_test(test_auto_placement),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_forced_fields),
        cmocka_unit_test(test_alignment_rules),
        cmocka_unit_test(test_table_rules),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_flash_size),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_extra_subtypes),
        cmocka_unit_test(test_text_encodings),
        cmocka_unit_test(test_binary_parser),
        cmocka_unit_test(test_binary_checks),
        cmocka_unit_test(test_csv_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_from_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
