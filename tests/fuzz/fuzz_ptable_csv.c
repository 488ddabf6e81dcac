/*
 * Partition-table CSV text (gen_esp32part.py's input): the parser under the default options and
 * under --offset/--flash-size/--disable-md5sum/--secure/bootloader offsets taken from the first
 * input bytes. A table that parses must encode, parse back from its binary form and format as
 * CSV again to the same table.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ota/ota_part.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"

static void opts_from(fuzz_in_t *in, ota_part_csv_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    uint8_t flags = fuzz_byte(in);
    if (flags & 1) {
        o->table_offset = (uint32_t)fuzz_byte(in) << 12;
    }
    if (flags & 2) {
        o->flash_size = (uint32_t)fuzz_byte(in) << 16;
    }
    o->no_md5 = (flags & 4) != 0;
    o->secure = (ota_part_secure_t)((flags >> 3) % 3);
    if (flags & 0x20) {
        o->has_primary_bootloader_offset = true;
        o->primary_bootloader_offset = (uint32_t)fuzz_byte(in) << 12;
    }
    if (flags & 0x40) {
        o->has_recovery_bootloader_offset = true;
        o->recovery_bootloader_offset = (uint32_t)fuzz_byte(in) << 12;
    }
    o->no_verify = (flags & 0x80) != 0;
}

/*
 * Names longer than 16 bytes are told apart in the text but cut to 16 in the binary, as
 * gen_esp32part.py does, so two of them may come back as one name: such tables are skipped.
 */
static bool labels_collide(const ota_part_table_t *t)
{
    for (int i = 0; i < t->count; i++) {
        for (int j = i + 1; j < t->count; j++) {
            if (strcmp(t->parts[i].label, t->parts[j].label) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Labels go into the CSV text as they are, so one that the 16-byte cut leaves with a comma, a
 * quote, a line break or white space at its end does not come back: only plain labels count. */
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

static void check_round_trip(const ota_crypto_t *c, const ota_part_csv_opts_t *o,
                             const ota_part_table_t *t)
{
    if (labels_collide(t) || !plain_labels(t)) {
        return;
    }
    static uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    static ota_part_table_t back;
    if (ota_part_table_encode(c, t, bin, NULL) != OTA_OK) {
        return;
    }
    /* the generator reads back what it wrote */
    ota_part_csv_opts_t ro = *o;
    ro.flash_size = 0;
    FUZZ_CHECK(ota_part_bin_parse(bin, sizeof(bin), &ro, &back, NULL) == OTA_OK);
    FUZZ_CHECK(back.count == t->count);
    char *text = NULL;
    size_t len = 0;
    FUZZ_CHECK(ota_part_csv_format(&back, &ro, &text, &len) == OTA_OK);
    static ota_part_table_t again;
    FUZZ_CHECK(ota_part_csv_parse(text, len, &ro, &again, NULL) == OTA_OK);
    FUZZ_CHECK(again.count == t->count);
    for (int i = 0; i < t->count; i++) {
        FUZZ_CHECK(again.parts[i].offset == t->parts[i].offset);
        FUZZ_CHECK(again.parts[i].size == t->parts[i].size);
        FUZZ_CHECK(again.parts[i].type == t->parts[i].type);
        FUZZ_CHECK(again.parts[i].subtype == t->parts[i].subtype);
        FUZZ_CHECK(strcmp(again.parts[i].label, t->parts[i].label) == 0);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ota_crypto_t *c = ota_crypto_openssl();
    fuzz_in_t in = {data, size};
    ota_part_csv_opts_t o;
    opts_from(&in, &o);
    /* the text as its own allocation, so a read past its end is caught */
    char *text = malloc(in.size ? in.size : 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, in.data, in.size);
    static ota_part_table_t t;
    ota_diag_t diag;
    if (ota_part_csv_parse(text, in.size, NULL, &t, &diag) == OTA_OK) {
        check_round_trip(c, &(ota_part_csv_opts_t){0}, &t);
    }
    if (ota_part_csv_parse(text, in.size, &o, &t, &diag) == OTA_OK && !o.no_verify) {
        check_round_trip(c, &o, &t);
    }
    free(text);
    return 0;
}
