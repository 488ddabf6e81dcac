/* otadata: CRC, codec, predicates, selection, the app's new-slot choice, otatool's switch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_nor.h"
#include "ota/ota_otadata.h"
#include "test_util.h"

#define OTADATA_OFF 0xD000u /* two_ota table */
#define OTADATA_LEN 0x2000u

/* ---------------------------------------------------------------------------------------- */
/* An independent reference: table-driven CRC and a closed-form next sequence number          */
/* ---------------------------------------------------------------------------------------- */

static uint32_t ref_table[256];

static void ref_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        ref_table[i] = c;
    }
}

/* binascii.crc32(struct.pack('<I', seq), 0xFFFFFFFF): register starts at ~0xFFFFFFFF = 0. */
static uint32_t ref_crc(uint32_t seq)
{
    uint32_t c = 0;
    for (int k = 0; k < 4; k++) {
        c = ref_table[(c ^ (seq >> (8 * k))) & 0xFF] ^ (c >> 8);
    }
    return ~c;
}

/* Smallest s >= floor with s = slot + 1 (mod n). */
static uint32_t ref_next(uint32_t floor, uint32_t slot, uint32_t n)
{
    uint32_t want = (slot + 1) % n;
    return floor + (want + n - floor % n) % n;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) {
        p[k] = (uint8_t)(v >> (8 * k));
    }
}

static int setup(void **state)
{
    (void)state;
    ref_init();
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

static void test_crc_matches_spec_table(void **state)
{
    (void)state;
    static const struct {
        uint32_t seq, crc;
    } rows[] = {
        {0, 0xFFFFFFFFu}, {1, 0x4743989Au}, {2, 0x55F63774u},           {3, 0xED4A5011u},
        {4, 0x709D68A8u}, {5, 0xC8210FCDu}, {0xFFFFFFFFu, 0x2144DF1Cu},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(ota_otadata_seq_crc(rows[i].seq), rows[i].crc);
        assert_int_equal(ref_crc(rows[i].seq), rows[i].crc);
    }
    /* The plain zlib CRC-32 (seed 0) differs: the spec's contrast column. */
    uint8_t b[4];
    wr32(b, 0);
    assert_int_equal(ota_otadata_crc32(0, b, 4), 0x2144DF1Cu);
    wr32(b, 1);
    assert_int_equal(ota_otadata_crc32(0, b, 4), 0x99F8B879u);
    wr32(b, 2);
    assert_int_equal(ota_otadata_crc32(0, b, 4), 0x8B4D1797u);
    /* The standard CRC-32 check value, and chaining like zlib's crc32(). */
    assert_int_equal(ota_otadata_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(ota_otadata_crc32(ota_otadata_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(ota_otadata_crc32(0x12345678u, "", 0), 0x12345678u);
    /* Against the reference over many values. */
    uint32_t x = 0x9E3779B9u;
    for (int i = 0; i < 5000; i++) {
        x = x * 1664525u + 1013904223u;
        assert_int_equal(ota_otadata_seq_crc(x), ref_crc(x));
    }
}

static void test_entry_codec(void **state)
{
    (void)state;
    uint8_t raw[32], back[32];
    wr32(raw, 1);
    for (int i = 0; i < 20; i++) {
        raw[4 + i] = (uint8_t)(0xA0 + i);
    }
    wr32(raw + 24, 2);
    wr32(raw + 28, 0x4743989Au);
    ota_otadata_entry_t e;
    ota_otadata_decode(raw, &e);
    assert_int_equal(e.seq, 1);
    assert_memory_equal(e.seq_label, raw + 4, 20);
    assert_int_equal(e.state, OTA_OTADATA_STATE_VALID);
    assert_int_equal(e.crc, 0x4743989Au);
    ota_otadata_encode(&e, back);
    assert_memory_equal(raw, back, 32);

    /* A fresh entry: seq, label 0xFF x 20, state, crc - the spec's step 1 bytes. */
    uint8_t want[32];
    test_unhex("01000000"
               "ffffffffffffffffffffffffffffffffffffffff"
               "ffffffff"
               "9a984347",
               want, 32);
    ota_otadata_make(1, OTA_OTADATA_STATE_UNDEFINED, &e);
    ota_otadata_encode(&e, back);
    assert_memory_equal(back, want, 32);

    ota_otadata_set_seq(&e, 3);
    assert_int_equal(e.crc, 0xED4A5011u);
    assert_int_equal(e.state, OTA_OTADATA_STATE_UNDEFINED);
}

static void test_state_values_and_names(void **state)
{
    (void)state;
    assert_int_equal(OTA_OTADATA_STATE_NEW, 0);
    assert_int_equal(OTA_OTADATA_STATE_PENDING_VERIFY, 1);
    assert_int_equal(OTA_OTADATA_STATE_VALID, 2);
    assert_int_equal(OTA_OTADATA_STATE_INVALID, 3);
    assert_int_equal(OTA_OTADATA_STATE_ABORTED, 4);
    assert_int_equal(OTA_OTADATA_STATE_UNDEFINED, 0xFFFFFFFFu);
    assert_string_equal(ota_otadata_state_name(0), "NEW");
    assert_string_equal(ota_otadata_state_name(1), "PENDING_VERIFY");
    assert_string_equal(ota_otadata_state_name(2), "VALID");
    assert_string_equal(ota_otadata_state_name(3), "INVALID");
    assert_string_equal(ota_otadata_state_name(4), "ABORTED");
    assert_string_equal(ota_otadata_state_name(0xFFFFFFFFu), "UNDEFINED");
    assert_string_equal(ota_otadata_state_name(5), "UNKNOWN");
}

static ota_otadata_entry_t entry(uint32_t seq, uint32_t st, bool good_crc)
{
    ota_otadata_entry_t e;
    memset(e.seq_label, 0xFF, sizeof(e.seq_label));
    e.seq = seq;
    e.state = st;
    e.crc = good_crc ? ref_crc(seq) : ref_crc(seq) ^ 0x1u;
    return e;
}

static void test_predicates(void **state)
{
    (void)state;
    static const struct {
        uint32_t seq, state;
        int crc; /* 1 good, 0 bad, -1 erased 0xFFFFFFFF */
        bool sel_invalid, sel_valid, crc_ok, seq_crc_ok, invalid_record;
    } rows[] = {
        {0xFFFFFFFFu, 0xFFFFFFFFu, -1, true, false, false, false, false}, /* erased */
        {1, 0xFFFFFFFFu, 1, false, true, true, true, false},
        {1, OTA_OTADATA_STATE_NEW, 1, false, true, true, true, false},
        {1, OTA_OTADATA_STATE_PENDING_VERIFY, 1, false, true, true, true, false},
        {1, OTA_OTADATA_STATE_VALID, 1, false, true, true, true, false},
        {1, OTA_OTADATA_STATE_VALID, 0, false, false, false, false, false},
        {1, OTA_OTADATA_STATE_INVALID, 1, true, false, true, true, true},
        {1, OTA_OTADATA_STATE_ABORTED, 1, true, false, true, true, true},
        {1, OTA_OTADATA_STATE_ABORTED, 0, true, false, false, false, false},
        {0, 0xFFFFFFFFu, -1, false, true, true, true, false}, /* seq 0, crc erased: valid */
        {0xFFFFFFFFu, OTA_OTADATA_STATE_VALID, 1, true, false, true, false, false},
        {0xFFFFFFFFu, OTA_OTADATA_STATE_INVALID, 1, true, false, true, false, false},
        {7, 5, 1, false, true, true, true, false}, /* an unknown state is selectable */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ota_otadata_entry_t e = entry(rows[i].seq, rows[i].state, rows[i].crc == 1);
        if (rows[i].crc == -1) {
            e.crc = 0xFFFFFFFFu;
        }
        assert_int_equal(ota_otadata_select_invalid(&e), rows[i].sel_invalid);
        assert_int_equal(ota_otadata_select_valid(&e), rows[i].sel_valid);
        assert_int_equal(ota_otadata_crc_ok(&e), rows[i].crc_ok);
        assert_int_equal(ota_otadata_seq_crc_ok(&e), rows[i].seq_crc_ok);
        assert_int_equal(ota_otadata_invalid_record(&e), rows[i].invalid_record);
    }
}

static void test_select_and_active(void **state)
{
    (void)state;
    ota_otadata_entry_t e[2] = {entry(5, 2, true), entry(9, 2, true)};
    bool both[2] = {true, true}, first[2] = {true, false}, second[2] = {false, true};
    bool none[2] = {false, false};
    assert_int_equal(ota_otadata_select(e, both, true), 1);
    assert_int_equal(ota_otadata_select(e, both, false), 0);
    assert_int_equal(ota_otadata_select(e, first, true), 0);
    assert_int_equal(ota_otadata_select(e, second, false), 1);
    assert_int_equal(ota_otadata_select(e, none, true), -1);
    e[1].seq = 5; /* tie: sector 0, for max and min */
    assert_int_equal(ota_otadata_select(e, both, true), 0);
    assert_int_equal(ota_otadata_select(e, both, false), 0);
    e[0].seq = 0xFFFFFFFEu; /* unsigned comparison */
    e[1].seq = 1;
    assert_int_equal(ota_otadata_select(e, both, true), 0);
    assert_int_equal(ota_otadata_select(e, both, false), 1);

    /* active: select_valid flags, max. */
    ota_otadata_entry_t a[2] = {entry(3, OTA_OTADATA_STATE_VALID, true),
                                entry(4, OTA_OTADATA_STATE_ABORTED, true)};
    assert_int_equal(ota_otadata_active(a), 0); /* the newer one is aborted */
    a[1].state = OTA_OTADATA_STATE_PENDING_VERIFY;
    assert_int_equal(ota_otadata_active(a), 1);
    a[1].crc ^= 1;
    assert_int_equal(ota_otadata_active(a), 0);
    a[0].seq = 0xFFFFFFFFu;
    assert_int_equal(ota_otadata_active(a), -1);
}

static void test_slot_of_seq(void **state)
{
    (void)state;
    assert_int_equal(ota_otadata_slot_of_seq(1, 2), 0);
    assert_int_equal(ota_otadata_slot_of_seq(2, 2), 1);
    assert_int_equal(ota_otadata_slot_of_seq(3, 2), 0);
    assert_int_equal(ota_otadata_slot_of_seq(17, 16), 0);
    assert_int_equal(ota_otadata_slot_of_seq(16, 16), 15);
    /* seq 0 wraps to 0xFFFFFFFF = 4294967295 = 3 * 1431655765 = 7 * 613566756 + 3 */
    assert_int_equal(ota_otadata_slot_of_seq(0, 1), 0);
    assert_int_equal(ota_otadata_slot_of_seq(0, 2), 1);
    assert_int_equal(ota_otadata_slot_of_seq(0, 3), 0);
    assert_int_equal(ota_otadata_slot_of_seq(0, 7), 3);
    assert_int_equal(ota_otadata_slot_of_seq(1, 0), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_otadata_slot_of_seq(1, 17), OTA_ERR_INVALID_ARG);
}

/* ---------------------------------------------------------------------------------------- */
/* The app's set_boot on flash: the spec's worked example                                    */
/* ---------------------------------------------------------------------------------------- */

static ota_nor_t *flash_dev(void)
{
    ota_nor_config_t cfg = {0};
    cfg.strict = true; /* every entry write must erase first */
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(0x400000, &cfg, &nor, NULL), OTA_OK);
    return nor;
}

static void expect_entry(ota_nor_t *nor, int sector, const char *hex)
{
    uint8_t want[32];
    const uint8_t *d = ota_nor_data(nor) + OTADATA_OFF + (uint32_t)sector * 0x1000u;
    if (hex == NULL) {
        memset(want, 0xFF, sizeof(want));
    } else {
        assert_int_equal(test_unhex(hex, want, 32), 32);
    }
    assert_memory_equal(d, want, 32);
    for (uint32_t i = 32; i < 0x1000; i++) {
        assert_int_equal(d[i], 0xFF);
    }
}

#define LABEL_FF "ffffffffffffffffffffffffffffffffffffffff"

static void run_worked_example(bool rollback)
{
    const char *st = rollback ? "00000000" : "ffffffff";
    char e1[65], e2[65], e3[65];
    snprintf(e1, sizeof(e1), "01000000" LABEL_FF "%s9a984347", st);
    snprintf(e2, sizeof(e2), "02000000" LABEL_FF "%s7437f655", st);
    snprintf(e3, sizeof(e3), "03000000" LABEL_FF "%s11504aed", st);

    ota_nor_t *nor = flash_dev();
    const ota_flash_t *f = ota_nor_flash(nor);
    const ota_nor_state_t *ns = ota_nor_state(nor);
    int sector = -1;

    /* Step 1: blank, set_boot(ota_0): sector 0, seq 1. One erase and one page program. */
    assert_int_equal(
        ota_otadata_set_boot(f, OTADATA_OFF, OTADATA_LEN, 0, 2, rollback, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 0);
    expect_entry(nor, 0, e1);
    expect_entry(nor, 1, NULL);
    assert_int_equal(ns->sector_erases, 1);
    assert_int_equal(ns->program_ops, 1);
    assert_int_equal(ns->wear[OTADATA_OFF / 0x1000], 1);

    /* Step 2: set_boot(ota_1): active sector 0 (seq 1) -> seq 2 in sector 1. */
    assert_int_equal(
        ota_otadata_set_boot(f, OTADATA_OFF, OTADATA_LEN, 1, 2, rollback, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 1);
    expect_entry(nor, 0, e1);
    expect_entry(nor, 1, e2);

    /* Step 3: set_boot(ota_0): active sector 1 (seq 2) -> seq 3 in sector 0. */
    assert_int_equal(
        ota_otadata_set_boot(f, OTADATA_OFF, OTADATA_LEN, 0, 2, rollback, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 0);
    expect_entry(nor, 0, e3);
    expect_entry(nor, 1, e2);
    assert_int_equal(ns->sector_erases, 3);
    assert_int_equal(ns->program_ops, 3);

    ota_otadata_entry_t cur[2];
    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, OTADATA_LEN, cur, NULL), OTA_OK);
    assert_int_equal(ota_otadata_active(cur), 0);
    assert_int_equal(ota_otadata_slot_of_seq(cur[0].seq, 2), 0);
    ota_nor_close(nor);
}

static void test_set_boot_worked_example(void **state)
{
    (void)state;
    run_worked_example(false);
}

static void test_set_boot_worked_example_rollback(void **state)
{
    (void)state;
    run_worked_example(true);
}

static void test_set_boot_same_slot_ties_to_sector_0(void **state)
{
    (void)state;
    ota_nor_t *nor = flash_dev();
    const ota_flash_t *f = ota_nor_flash(nor);
    int sector = -1;
    assert_int_equal(ota_otadata_set_boot(f, OTADATA_OFF, OTADATA_LEN, 0, 2, false, &sector, NULL),
                     OTA_OK);
    /* Choosing the active slot again: sector 1 gets the same seq (1) and state NEW... */
    assert_int_equal(ota_otadata_set_boot(f, OTADATA_OFF, OTADATA_LEN, 0, 2, true, &sector, NULL),
                     OTA_OK);
    assert_int_equal(sector, 1);
    expect_entry(nor, 1,
                 "01000000" LABEL_FF "00000000"
                 "9a984347");
    /* ...which the tie rule ignores: sector 0 (state UNDEFINED) stays active. */
    ota_otadata_entry_t cur[2];
    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, OTADATA_LEN, cur, NULL), OTA_OK);
    assert_int_equal(ota_otadata_active(cur), 0);
    assert_int_equal(cur[0].state, OTA_OTADATA_STATE_UNDEFINED);
    ota_nor_close(nor);
}

static void test_next_pure(void **state)
{
    (void)state;
    ota_otadata_entry_t cur[2], out;
    int sector = -1;

    /* The target sector's label bytes are kept as read; state and seq/crc are replaced. */
    cur[0] = entry(6, OTA_OTADATA_STATE_VALID, true);
    cur[1] = entry(0x1234, OTA_OTADATA_STATE_INVALID, false);
    for (int i = 0; i < 20; i++) {
        cur[1].seq_label[i] = (uint8_t)('a' + i);
    }
    assert_int_equal(ota_otadata_next(cur, 2, 4, true, &sector, &out), OTA_OK);
    assert_int_equal(sector, 1);
    assert_int_equal(out.seq, 7); /* base 3, 3 + 4 >= 6 */
    assert_int_equal(out.crc, ref_crc(7));
    assert_int_equal(out.state, OTA_OTADATA_STATE_NEW);
    assert_memory_equal(out.seq_label, cur[1].seq_label, 20);

    /* Nothing valid: sector 0 with seq slot + 1, its label kept too. */
    cur[0].state = OTA_OTADATA_STATE_ABORTED;
    memset(cur[0].seq_label, 0x11, 20);
    assert_int_equal(ota_otadata_next(cur, 3, 4, false, &sector, &out), OTA_OK);
    assert_int_equal(sector, 0);
    assert_int_equal(out.seq, 4);
    assert_int_equal(out.state, OTA_OTADATA_STATE_UNDEFINED);
    assert_memory_equal(out.seq_label, cur[0].seq_label, 20);

    /* seq 0 (valid with an erased crc) as the active one. */
    cur[0] = entry(0, OTA_OTADATA_STATE_UNDEFINED, true);
    cur[1] = entry(0xFFFFFFFFu, OTA_OTADATA_STATE_UNDEFINED, false);
    assert_int_equal(ota_otadata_next(cur, 0, 1, false, &sector, &out), OTA_OK);
    assert_int_equal(sector, 1);
    assert_int_equal(out.seq, 0);

    /* An active seq 0 and the last slot: the new seq is 0 again, which selects
     * 0xFFFFFFFF mod n - slot 0 for n = 3, not slot 2 (ESP-IDF's arithmetic, kept). */
    cur[0] = entry(0, OTA_OTADATA_STATE_VALID, true);
    assert_int_equal(ota_otadata_next(cur, 2, 3, false, &sector, &out), OTA_OK);
    assert_int_equal(out.seq, 0);
    assert_int_equal(ota_otadata_slot_of_seq(out.seq, 3), 0);
    assert_int_equal(ota_otadata_next(cur, 1, 3, false, &sector, &out), OTA_OK);
    assert_int_equal(out.seq, 2);

    /* Argument errors and the top of the sequence space. */
    assert_int_equal(ota_otadata_next(cur, 2, 2, false, &sector, &out), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_otadata_next(cur, 0, 0, false, &sector, &out), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_otadata_next(cur, 0, 17, false, &sector, &out), OTA_ERR_INVALID_ARG);
    cur[0] = entry(0xFFFFFFFEu, OTA_OTADATA_STATE_VALID, true);
    assert_int_equal(ota_otadata_next(cur, 0, 2, false, &sector, &out), OTA_ERR_NO_SPACE);
    assert_int_equal(ota_otadata_next(cur, 1, 2, false, &sector, &out), OTA_OK);
    assert_int_equal(out.seq, 0xFFFFFFFEu);
    /* 0xFFFFFFFE = 2 (mod 3): slot 1 keeps it; slot 2 would need 0xFFFFFFFF, slot 0 2^32. */
    cur[0].seq = 0xFFFFFFFEu;
    assert_int_equal(ota_otadata_next(cur, 1, 3, false, &sector, &out), OTA_OK);
    assert_int_equal(out.seq, 0xFFFFFFFEu);
    assert_int_equal(ota_otadata_next(cur, 2, 3, false, &sector, &out), OTA_ERR_NO_SPACE);
    assert_int_equal(ota_otadata_next(cur, 0, 3, false, &sector, &out), OTA_ERR_NO_SPACE);
    cur[0].seq = 0xFFFFFFF0u;
    cur[0].crc = ref_crc(cur[0].seq);
    assert_int_equal(ota_otadata_next(cur, 4, 16, false, &sector, &out), OTA_OK);
    assert_int_equal(out.seq, ref_next(0xFFFFFFF0u, 4, 16));
    assert_int_equal(out.seq, 0xFFFFFFF5u);
}

static void test_read_write_erase_on_flash(void **state)
{
    (void)state;
    ota_nor_t *nor = flash_dev();
    const ota_flash_t *f = ota_nor_flash(nor);
    ota_otadata_entry_t cur[2];
    ota_diag_t diag = {{0}};

    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, 0x1000, cur, &diag), OTA_ERR_SIZE);
    assert_string_equal(diag.msg, "ota_info partition size 4096 is too small (minimum 8192 bytes)");
    assert_int_equal(ota_otadata_read(f, 0x3FF000, 0x2000, cur, &diag), OTA_ERR_BOUNDS);
    assert_string_equal(diag.msg, "bootloader_mmap(0x3ff000, 0x2000) failed");

    /* Blank: both entries erased, nothing active. */
    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, OTADATA_LEN, cur, NULL), OTA_OK);
    assert_int_equal(cur[0].seq, 0xFFFFFFFFu);
    assert_int_equal(cur[1].crc, 0xFFFFFFFFu);
    assert_int_equal(ota_otadata_active(cur), -1);

    ota_otadata_entry_t e;
    ota_otadata_make(9, OTA_OTADATA_STATE_PENDING_VERIFY, &e);
    assert_int_equal(ota_otadata_write_entry(f, OTADATA_OFF, OTADATA_LEN, 1, &e), OTA_OK);
    e.state = OTA_OTADATA_STATE_ABORTED; /* rewrite in place: erase, then program */
    assert_int_equal(ota_otadata_write_entry(f, OTADATA_OFF, OTADATA_LEN, 1, &e), OTA_OK);
    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, OTADATA_LEN, cur, NULL), OTA_OK);
    assert_int_equal(cur[1].seq, 9);
    assert_int_equal(cur[1].state, OTA_OTADATA_STATE_ABORTED);
    assert_true(ota_otadata_invalid_record(&cur[1]));
    assert_int_equal(ota_otadata_write_entry(f, OTADATA_OFF, OTADATA_LEN, 2, &e),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_otadata_write_entry(f, OTADATA_OFF, 0x1000, 0, &e), OTA_ERR_SIZE);

    /* A power cut during the program step leaves the sector erased. */
    assert_int_equal(ota_nor_cut_arm(nor, 2, OTA_NOR_CUT_BEFORE, 0), OTA_OK);
    assert_int_equal(ota_otadata_write_entry(f, OTADATA_OFF, OTADATA_LEN, 0, &e),
                     OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_otadata_read(f, OTADATA_OFF, OTADATA_LEN, cur, &diag), OTA_ERR_POWER_LOSS);
    ota_nor_power_on(nor);
    expect_entry(nor, 0, NULL);

    /* Erase the whole partition. */
    uint64_t erases = ota_nor_state(nor)->sector_erases;
    assert_int_equal(ota_otadata_erase(f, OTADATA_OFF, OTADATA_LEN), OTA_OK);
    assert_int_equal(ota_nor_state(nor)->sector_erases, erases + 2);
    expect_entry(nor, 1, NULL);
    assert_int_equal(ota_otadata_erase(f, OTADATA_OFF + 1, OTADATA_LEN), OTA_ERR_ALIGN);

    uint8_t blank[OTADATA_LEN];
    ota_otadata_blank(blank, sizeof(blank));
    assert_memory_equal(blank, ota_nor_data(nor) + OTADATA_OFF, OTADATA_LEN);
    ota_nor_close(nor);
}

/* ---------------------------------------------------------------------------------------- */
/* otatool switch                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void test_tool_switch_hand_checked(void **state)
{
    (void)state;
    static uint8_t img[OTADATA_LEN], before[OTADATA_LEN];
    uint8_t want[32];
    int sector = -1;
    ota_otadata_blank(img, sizeof(img));

    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 0, 2, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 0);
    test_unhex("01000000" LABEL_FF "ffffffff9a984347", want, 32);
    assert_memory_equal(img, want, 32);

    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 1, 2, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 1);
    test_unhex("02000000" LABEL_FF "ffffffff7437f655", want, 32);
    assert_memory_equal(img + 0x1000, want, 32);

    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 0, 2, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 0);
    test_unhex("03000000" LABEL_FF "ffffffff11504aed", want, 32);
    assert_memory_equal(img, want, 32);

    /* Only seq and crc are written; label and state bytes of that entry stay as they were. */
    ota_otadata_blank(img, sizeof(img));
    test_unhex("05000000" LABEL_FF "02000000cd0f21c8", img, 32); /* seq 5 VALID */
    memset(img + 0x1004, 'A', 20);
    wr32(img + 0x1018, OTA_OTADATA_STATE_ABORTED);
    wr32(img + 0x101C, 0xDEADBEEF);
    memcpy(before, img, sizeof(img));
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 0, 2, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 1);
    test_unhex("05000000"
               "4141414141414141414141414141414141414141"
               "04000000cd0f21c8",
               want, 32);
    assert_memory_equal(img + 0x1000, want, 32);
    assert_memory_equal(img, before, 0x1000);
    assert_memory_equal(img + 0x1020, before + 0x1020, sizeof(img) - 0x1020);

    /* No state test: an INVALID entry is still otatool's base (the app would ignore it). */
    ota_otadata_blank(img, sizeof(img));
    test_unhex("03000000" LABEL_FF "0300000011504aed", img, 32);
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 1, 2, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 1);
    assert_int_equal(rd32(img + 0x1000), 4);
    ota_otadata_entry_t cur[2], out;
    ota_otadata_blank(img, sizeof(img));
    test_unhex("03000000" LABEL_FF "0300000011504aed", img, 32);
    assert_int_equal(ota_otadata_decode_image(img, sizeof(img), cur), OTA_OK);
    assert_int_equal(ota_otadata_next(cur, 1, 2, false, &sector, &out), OTA_OK);
    assert_int_equal(sector, 0);
    assert_int_equal(out.seq, 2);

    /* Both invalid: entry 0 is written even if entry 1 holds something. */
    ota_otadata_blank(img, sizeof(img));
    wr32(img + 0x1000, 8);
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 2, 3, &sector, NULL), OTA_OK);
    assert_int_equal(sector, 0);
    assert_int_equal(rd32(img), 3);
    assert_int_equal(rd32(img + 28), 0xED4A5011u);
    assert_int_equal(rd32(img + 0x1000), 8);

    /* Failures leave the image alone. */
    ota_diag_t diag = {{0}};
    memcpy(before, img, sizeof(img));
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 0, 0, &sector, &diag),
                     OTA_ERR_INVALID_ARG);
    assert_string_equal(diag.msg, "No ota app partitions found");
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 3, 3, &sector, &diag),
                     OTA_ERR_INVALID_ARG);
    assert_string_equal(diag.msg, "Partition to switch to not found");
    assert_int_equal(ota_otadata_tool_switch(img, 0x1FFF, 0, 2, &sector, &diag), OTA_ERR_SIZE);
    wr32(img, 0xFFFFFFFEu);
    wr32(img + 28, ref_crc(0xFFFFFFFEu));
    memcpy(before, img, sizeof(img));
    assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), 0, 2, &sector, &diag),
                     OTA_ERR_NO_SPACE);
    assert_memory_equal(img, before, sizeof(img));
}

/* Reference model of otatool over one image: returns the sector written and updates img. */
static int ref_switch(uint8_t *img, uint32_t slot, uint32_t n)
{
    uint32_t seq[2], crc[2];
    bool ok[2];
    for (int i = 0; i < 2; i++) {
        seq[i] = rd32(img + i * 0x1000);
        crc[i] = rd32(img + i * 0x1000 + 28);
        ok[i] = seq[i] != 0xFFFFFFFFu && crc[i] == ref_crc(seq[i]);
    }
    int base = -1;
    if (ok[0] && ok[1]) {
        base = seq[1] > seq[0] ? 1 : 0;
    } else if (ok[0] || ok[1]) {
        base = ok[0] ? 0 : 1;
    }
    uint32_t next = base < 0 ? slot + 1 : ref_next(seq[base], slot, n);
    int target = base == 0 ? 1 : 0;
    wr32(img + target * 0x1000, next);
    wr32(img + target * 0x1000 + 28, ref_crc(next));
    return target;
}

static void test_tool_switch_sequences(void **state)
{
    (void)state;
    static uint8_t img[OTADATA_LEN], model[OTADATA_LEN];
    uint32_t lcg = 12345;
    for (uint32_t n = 2; n <= 16; n++) {
        ota_otadata_blank(img, sizeof(img));
        ota_otadata_blank(model, sizeof(model));
        uint32_t last_seq = 0;
        for (int step = 0; step < 60; step++) {
            lcg = lcg * 1103515245u + 12345u;
            uint32_t slot = (lcg >> 16) % n;
            if (step % 17 == 16) {
                /* Now and then corrupt the newer entry's crc, as a torn write would. */
                int newer = rd32(img) >= rd32(img + 0x1000) ? 0 : 1;
                img[newer * 0x1000 + 28] ^= 0x40;
                model[newer * 0x1000 + 28] ^= 0x40;
            }
            int sector = -1;
            assert_int_equal(ota_otadata_tool_switch(img, sizeof(img), slot, n, &sector, NULL),
                             OTA_OK);
            int want_sector = ref_switch(model, slot, n);
            assert_int_equal(sector, want_sector);
            assert_memory_equal(img, model, sizeof(img));

            /* The result selects the slot, for otatool's rule and for the app's. */
            ota_otadata_entry_t cur[2];
            assert_int_equal(ota_otadata_decode_image(img, sizeof(img), cur), OTA_OK);
            int a = ota_otadata_active(cur);
            assert_true(a >= 0);
            assert_int_equal(ota_otadata_slot_of_seq(cur[a].seq, n), (int)slot);
            assert_true(cur[a].seq >= last_seq || step % 17 == 16);
            last_seq = cur[a].seq;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Garbage in: decoders, predicates and selection under the sanitizers                       */
/* ---------------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random entry, biased towards the interesting values. */
static void random_entry(uint8_t raw[32])
{
    static const uint32_t seqs[] = {0, 1, 2, 3, 0x7FFFFFFFu, 0xFFFFFFF0u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    for (int i = 0; i < 32; i++) {
        raw[i] = (uint8_t)rnd();
    }
    uint64_t r = rnd();
    uint32_t seq = (r & 3) == 0 ? seqs[(r >> 2) % 8] : (uint32_t)(r >> 8) % 64;
    if ((r >> 40) % 5 == 0) {
        seq = (uint32_t)rnd();
    }
    wr32(raw, seq);
    if ((r >> 20) % 4 != 0) {
        wr32(raw + 28, ref_crc(seq));
    }
    if ((r >> 24) % 3 != 0) {
        wr32(raw + 24, (r >> 30) % 2 ? (uint32_t)((r >> 32) % 6) : 0xFFFFFFFFu);
    }
}

/*
 * The slot a freshly chosen seq selects: the target slot, except for seq 0 (reached only from an
 * active seq 0 when the target is slot n - 1), which wraps to 0xFFFFFFFF mod n - the same value
 * only when n is a power of two. ESP-IDF behaves this way too.
 */
static int expect_slot(uint32_t seq, uint32_t slot, uint32_t n)
{
    if (seq == 0) {
        assert_int_equal(slot, n - 1);
        return (int)(0xFFFFFFFFu % n);
    }
    return (int)slot;
}

static void test_random_garbage(void **state)
{
    (void)state;
    static uint8_t img[OTADATA_LEN], before[OTADATA_LEN];
    rng_state = 0x0123456789ABCDEFull;
    for (size_t i = 0; i < sizeof(img); i++) {
        img[i] = (uint8_t)rnd();
    }
    for (int iter = 0; iter < 100000; iter++) {
        uint8_t raw[2][32], back[32];
        ota_otadata_entry_t e[2];
        random_entry(raw[0]);
        random_entry(raw[1]);
        for (int k = 0; k < 2; k++) {
            ota_otadata_decode(raw[k], &e[k]);
            ota_otadata_encode(&e[k], back);
            assert_memory_equal(back, raw[k], 32);
            bool sv = ota_otadata_select_valid(&e[k]);
            bool si = ota_otadata_select_invalid(&e[k]);
            bool co = ota_otadata_crc_ok(&e[k]);
            bool sc = ota_otadata_seq_crc_ok(&e[k]);
            bool ir = ota_otadata_invalid_record(&e[k]);
            assert_int_equal(co, e[k].crc == ref_crc(e[k].seq));
            assert_int_equal(sv, !si && co);
            assert_int_equal(sc, co && e[k].seq != 0xFFFFFFFFu);
            assert_true(!ir || (sc && si));
            assert_non_null(ota_otadata_state_name(e[k].state));
        }
        int a = ota_otadata_active(e);
        assert_true(a >= -1 && a <= 1);
        if (a >= 0) {
            assert_true(ota_otadata_select_valid(&e[a]));
            const ota_otadata_entry_t *o = &e[1 - a];
            if (ota_otadata_select_valid(o)) {
                assert_true(e[a].seq > o->seq || (e[a].seq == o->seq && a == 0));
            }
        } else {
            assert_false(ota_otadata_select_valid(&e[0]) || ota_otadata_select_valid(&e[1]));
        }
        bool fl[2] = {(rnd() & 1) != 0, (rnd() & 1) != 0};
        int m = ota_otadata_select(e, fl, (rnd() & 1) != 0);
        assert_true(m >= -1 && m <= 1);
        assert_true(m == -1 ? (!fl[0] && !fl[1]) : fl[m]);

        uint32_t n = (uint32_t)(rnd() % 18);
        uint32_t slot = (uint32_t)(rnd() % 18);
        int s = ota_otadata_slot_of_seq(e[0].seq, n);
        assert_true(n == 0 || n > 16 ? s == OTA_ERR_INVALID_ARG : (s >= 0 && s < (int)n));

        /* The app's choice. */
        ota_otadata_entry_t out;
        int sector = -1;
        int err = ota_otadata_next(e, slot, n, (rnd() & 1) != 0, &sector, &out);
        if (n == 0 || n > 16 || slot >= n) {
            assert_int_equal(err, OTA_ERR_INVALID_ARG);
        } else if (err == OTA_OK) {
            assert_int_equal(sector, a == -1 ? 0 : 1 - a);
            assert_true(ota_otadata_select_valid(&out));
            assert_int_equal(ota_otadata_slot_of_seq(out.seq, n), expect_slot(out.seq, slot, n));
            assert_memory_equal(out.seq_label, e[sector].seq_label, 20);
            if (a >= 0) {
                assert_true(out.seq >= e[a].seq && out.seq - e[a].seq < n);
            } else {
                assert_int_equal(out.seq, slot + 1);
            }
            /* Applied, it selects the slot. */
            ota_otadata_entry_t after[2] = {e[0], e[1]};
            after[sector] = out;
            int na = ota_otadata_active(after);
            assert_true(na >= 0);
            assert_int_equal(ota_otadata_slot_of_seq(after[na].seq, n),
                             expect_slot(after[na].seq, slot, n));
        } else {
            assert_int_equal(err, OTA_ERR_NO_SPACE);
            assert_true(a >= 0 && e[a].seq > 0xFFFFFFFFu - n);
        }

        /* otatool's switch on an image holding these entries. */
        memcpy(img, raw[0], 32);
        memcpy(img + 0x1000, raw[1], 32);
        memcpy(before, img, sizeof(img));
        err = ota_otadata_tool_switch(img, sizeof(img), slot, n, &sector, NULL);
        if (err == OTA_OK) {
            assert_true(sector == 0 || sector == 1);
            uint8_t *t = img + sector * 0x1000;
            assert_memory_equal(t + 4, before + sector * 0x1000 + 4, 24);
            assert_int_equal(rd32(t + 28), ref_crc(rd32(t)));
            assert_memory_equal(img + (1 - sector) * 0x1000, before + (1 - sector) * 0x1000, 32);
            assert_memory_equal(img + 32, before + 32, 0x1000 - 32);
            assert_memory_equal(img + 0x1020, before + 0x1020, sizeof(img) - 0x1020);
            assert_int_equal(ota_otadata_slot_of_seq(rd32(t), n), expect_slot(rd32(t), slot, n));
        } else {
            assert_memory_equal(img, before, sizeof(img));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_matches_spec_table),
        cmocka_unit_test(test_entry_codec),
        cmocka_unit_test(test_state_values_and_names),
        cmocka_unit_test(test_predicates),
        cmocka_unit_test(test_select_and_active),
        cmocka_unit_test(test_slot_of_seq),
        cmocka_unit_test(test_set_boot_worked_example),
        cmocka_unit_test(test_set_boot_worked_example_rollback),
        cmocka_unit_test(test_set_boot_same_slot_ties_to_sector_0),
        cmocka_unit_test(test_next_pure),
        cmocka_unit_test(test_read_write_erase_on_flash),
        cmocka_unit_test(test_tool_switch_hand_checked),
        cmocka_unit_test(test_tool_switch_sequences),
        cmocka_unit_test(test_random_garbage),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
