/* Power-safe partition-table updates: commit record, boot-time fallback, every cut point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota_nor.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_ptable.h"

#define TABLE 0x8000u
#define BACKUP 0x16000u

static uint8_t old_bin[OTA_PART_TABLE_MAX_LEN];
static uint8_t new_bin[OTA_PART_TABLE_MAX_LEN];

static void tables(void)
{
    static const char old_csv[] = "nvs, data, nvs, , 0x6000,\n"
                                  "otadata, data, ota, 0x11000, 0x2000,\n"
                                  "ptbak, partition_table, ota, 0x16000, 0x1000,\n"
                                  "ota_0, app, ota_0, 0x20000, 0x100000,\n"
                                  "ota_1, app, ota_1, , 0x100000,\n";
    static const char new_csv[] = "nvs, data, nvs, , 0x6000,\n"
                                  "otadata, data, ota, 0x11000, 0x2000,\n"
                                  "ptbak, partition_table, ota, 0x16000, 0x1000,\n"
                                  "ota_0, app, ota_0, 0x20000, 0x100000,\n"
                                  "ota_1, app, ota_1, , 0x100000,\n"
                                  "storage, data, fat, , 0x100000,\n";
    assert_int_equal(ota_part_csv_compile(old_csv, strlen(old_csv), NULL, old_bin, NULL), OTA_OK);
    assert_int_equal(ota_part_csv_compile(new_csv, strlen(new_csv), NULL, new_bin, NULL), OTA_OK);
}

static void test_record_codec(void **state)
{
    (void)state;
    ota_ptable_record_t r = {OTA_PTABLE_RECORD_VERSION, 7, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
    ota_ptable_record_t back;
    uint8_t raw[OTA_PTABLE_RECORD_LEN];
    ota_ptable_record_encode(&r, raw);
    assert_memory_equal(raw, "OTKPTBAK", 8);
    assert_int_equal(ota_ptable_record_decode(raw, &back), OTA_OK);
    assert_int_equal(back.generation, 7);
    assert_memory_equal(back.md5_prefix, r.md5_prefix, 12);
    raw[13] ^= 1;
    assert_int_equal(ota_ptable_record_decode(raw, &back), OTA_ERR_CORRUPT);
    memset(raw, 0xFF, sizeof(raw));
    assert_int_equal(ota_ptable_record_decode(raw, &back), OTA_ERR_NOT_FOUND);
}

static void test_update_and_fallback(void **state)
{
    (void)state;
    tables();
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(0x400000, NULL, &nor, NULL), OTA_OK);
    const ota_flash_t *f = ota_nor_flash(nor);
    const ota_crypto_t *c = ota_crypto_openssl();
    assert_int_equal(ota_flash_program(f, TABLE, old_bin, sizeof(old_bin)), OTA_OK);

    ota_part_table_t t;
    ota_ptable_source_t src;
    uint32_t gen = 99;
    assert_int_equal(ota_ptable_load(f, c, TABLE, BACKUP, &t, &src, &gen, NULL), OTA_OK);
    assert_int_equal(src, OTA_PTABLE_PRIMARY);
    assert_int_equal(t.count, 5);

    assert_int_equal(ota_ptable_update_safe(f, c, TABLE, BACKUP, new_bin, NULL), OTA_OK);
    assert_memory_equal(ota_nor_data(nor) + TABLE, new_bin, sizeof(new_bin));
    assert_memory_equal(ota_nor_data(nor) + BACKUP, new_bin, sizeof(new_bin));
    /* the primary is destroyed: the backup is used */
    assert_int_equal(ota_flash_erase_range(f, TABLE, 0x1000), OTA_OK);
    assert_int_equal(ota_ptable_load(f, c, TABLE, BACKUP, &t, &src, &gen, NULL), OTA_OK);
    assert_int_equal(src, OTA_PTABLE_BACKUP);
    assert_int_equal(gen, 1);
    assert_int_equal(t.count, 6);
    /* without a backup offset: ESP-IDF's single table */
    assert_int_not_equal(ota_ptable_load(f, c, TABLE, 0, &t, &src, NULL, NULL), OTA_OK);
    /* a second update raises the generation */
    assert_int_equal(ota_ptable_update_safe(f, c, TABLE, BACKUP, old_bin, NULL), OTA_OK);
    assert_int_equal(ota_flash_erase_range(f, TABLE, 0x1000), OTA_OK);
    assert_int_equal(ota_ptable_load(f, c, TABLE, BACKUP, &t, &src, &gen, NULL), OTA_OK);
    assert_int_equal(gen, 2);
    assert_int_equal(t.count, 5);
    /* a table without an MD5 row is not accepted for a safe update */
    uint8_t no_md5[OTA_PART_TABLE_MAX_LEN];
    memcpy(no_md5, old_bin, sizeof(no_md5));
    memset(no_md5 + 5 * 32, 0xFF, 32);
    assert_int_equal(ota_ptable_update_safe(f, c, TABLE, BACKUP, no_md5, NULL), OTA_ERR_CORRUPT);
    ota_nor_close(nor);
}

/* A cut at every flash operation of the update, before, after and torn: the table loaded next
 * is always complete, and is the old one or the new one. */
static void test_every_cut_point(void **state)
{
    (void)state;
    tables();
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(0x400000, NULL, &nor, NULL), OTA_OK);
    const ota_flash_t *f = ota_nor_flash(nor);
    const ota_crypto_t *c = ota_crypto_openssl();
    assert_int_equal(ota_flash_program(f, TABLE, old_bin, sizeof(old_bin)), OTA_OK);
    uint8_t *start = malloc(0x400000);
    ota_nor_snapshot(nor, start, 0x400000);
    ota_nor_reset_counters(nor);
    assert_int_equal(ota_ptable_update_safe(f, c, TABLE, BACKUP, new_bin, NULL), OTA_OK);
    uint64_t total = ota_nor_state(nor)->ops;
    assert_true(total >= 4);
    unsigned cases = 0;
    unsigned saw_old = 0;
    unsigned saw_new = 0;
    for (uint64_t n = 1; n <= total; n++) {
        for (int mode = OTA_NOR_CUT_BEFORE; mode <= OTA_NOR_CUT_TORN; mode++) {
            for (uint64_t seed = 1; seed <= (mode == OTA_NOR_CUT_TORN ? 4u : 1u); seed++) {
                ota_nor_power_on(nor);
                ota_nor_restore(nor, start, 0x400000);
                ota_nor_cut_arm(nor, n, (ota_nor_cut_mode_t)mode, seed);
                (void)ota_ptable_update_safe(f, c, TABLE, BACKUP, new_bin, NULL);
                ota_nor_cut_disarm(nor);
                ota_nor_power_on(nor);
                ota_part_table_t t;
                ota_ptable_source_t src;
                int err = ota_ptable_load(f, c, TABLE, BACKUP, &t, &src, NULL, NULL);
                if (err != OTA_OK) {
                    fail_msg("cut %llu mode %d seed %llu: no usable table", (unsigned long long)n,
                             mode, (unsigned long long)seed);
                }
                assert_true(t.count == 5 || t.count == 6);
                saw_old += t.count == 5;
                saw_new += t.count == 6;
                cases++;
            }
        }
    }
    printf("safe partition-table update: %llu flash operations, %u cut cases, old %u, new %u, "
           "no table 0\n",
           (unsigned long long)total, cases, saw_old, saw_new);
    assert_true(saw_old > 0 && saw_new > 0);
    free(start);
    ota_nor_close(nor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_codec),
        cmocka_unit_test(test_update_and_fallback),
        cmocka_unit_test(test_every_cut_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
