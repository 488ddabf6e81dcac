/*
 * Binary partition tables: the bootloader's verifier, the loader with and without the MD5 row,
 * the power-safe loader over a primary and a backup sector, and gen_esp32part's strict binary
 * parser. A table the generator accepts must come back unchanged through CSV text.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_memflash.h"
#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "ota/ota_ptable.h"

#define TABLE_AT 0x8000u
#define BACKUP_AT 0x9000u
#define FLASH_SIZE 0x10000u

/*
 * Labels are written into the CSV text as they are (as gen_esp32part.py does), so a label with a
 * comma, a quote, a line break or a comment sign does not come back: only plain labels count.
 */
static bool plain_labels(const ota_part_table_t *t)
{
    for (int i = 0; i < t->count; i++) {
        for (const char *p = t->parts[i].label; *p; p++) {
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') {
                return false;
            }
        }
    }
    return true;
}

/*
 * The generator reads CSV lines in order and refuses one that starts before the previous one
 * ends, while a binary table may list its entries in any order: only tables in ascending order
 * come back (gen_esp32part.py's own round trip has the same limit). Bootloader and partition-table
 * entries are placed by options in CSV text, whatever the binary said: such tables are skipped.
 */
static bool ascending(const ota_part_table_t *t)
{
    for (int i = 0; i < t->count; i++) {
        /* in CSV text their offset and size come from options and fixed sizes, not the line */
        if (t->parts[i].type == OTA_PART_TYPE_BOOTLOADER ||
            t->parts[i].type == OTA_PART_TYPE_PARTITION_TABLE) {
            return false;
        }
    }
    for (int i = 1; i < t->count; i++) {
        if (t->parts[i].offset < (uint64_t)t->parts[i - 1].offset + t->parts[i - 1].size) {
            return false;
        }
    }
    return true;
}

/* CSV text keeps only the flags it has words for (unknown bits are dropped with a warning, as
 * gen_esp32part.py does), so the comparison is on those. */
static void check_csv_round_trip(const ota_crypto_t *c, ota_part_table_t *t)
{
    char *text = NULL;
    size_t len = 0;
    if (!plain_labels(t) || !ascending(t)) {
        return;
    }
    if (ota_part_csv_format(t, NULL, &text, &len) != OTA_OK) {
        return;
    }
    ota_part_table_t back;
    int rc = ota_part_csv_parse(text, len, NULL, &back, NULL);
    FUZZ_CHECK(rc == OTA_OK);
    uint8_t a[OTA_PART_TABLE_MAX_LEN], b[OTA_PART_TABLE_MAX_LEN];
    for (int i = 0; i < t->count; i++) {
        t->parts[i].flags &= OTA_PART_FLAG_ENCRYPTED | OTA_PART_FLAG_READONLY;
    }
    FUZZ_CHECK(ota_part_table_encode(c, t, a, NULL) == OTA_OK);
    back.has_md5 = t->has_md5;
    FUZZ_CHECK(ota_part_table_encode(c, &back, b, NULL) == OTA_OK);
    FUZZ_CHECK(memcmp(a, b, sizeof(a)) == 0);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ota_crypto_t *c = ota_crypto_openssl();
    uint8_t *table = fuzz_padded(data, size, OTA_PART_TABLE_MAX_LEN, 0xFF);
    static ota_part_table_t t;
    ota_diag_t diag;
    ota_part_table_verify(c, table, 4u << 20, &t, &diag);
    ota_part_table_load(c, table, true, &t, &diag);
    if (ota_part_table_load(c, table, false, &t, &diag) == OTA_OK) {
        FUZZ_CHECK(t.count >= 0 && t.count <= OTA_PART_MAX_ENTRIES);
        for (int i = 0; i < t.count; i++) {
            char line[160];
            ota_part_format_log_line(&t.parts[i], i, line, sizeof(line));
            FUZZ_CHECK(memchr(t.parts[i].label, 0, sizeof(t.parts[i].label)) != NULL);
        }
        ota_part_ota_count_app(&t);
        ota_part_ota_count_boot(&t);
    }
    free(table);

    /* the power-safe loader: primary table from the input, the backup sector after it */
    uint8_t *flash = fuzz_padded(NULL, 0, FLASH_SIZE, 0xFF);
    size_t n = size < 0x2000 ? size : 0x2000;
    memcpy(flash + TABLE_AT, data, n);
    ota_flash_t f;
    ota_memflash_t m;
    ota_memflash_init(&f, &m, flash, FLASH_SIZE, true);
    ota_ptable_source_t src;
    uint32_t gen;
    ota_ptable_load(&f, c, TABLE_AT, BACKUP_AT, &t, &src, &gen, &diag);
    ota_ptable_load(&f, c, TABLE_AT, 0, &t, &src, &gen, &diag);
    free(flash);

    /* gen_esp32part's binary parser, then back through CSV */
    if (ota_part_bin_parse(data, size, NULL, &t, &diag) == OTA_OK) {
        check_csv_round_trip(c, &t);
    }
    return 0;
}
