/*
 * Native OTA operations (ota_ops.h): sessions, sequential erase, first-byte checks,
 * verification by final type, staging with copy, boot selection (spec 2.8 worked example),
 * states and rollback, anti-rollback, partition I/O rules, the test-only sector switch, and the
 * whole update cycle together with the boot chain core. Runs on an in-memory emulated NOR flash
 * with real packed images.
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
#include "ota/ota_ops.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part_csv.h"
#include "ota/ota_posix.h"
#include "fixture.h"
#include "test_util.h"

#define FLASH_SIZE 0x400000u
#define MiB 0x100000u

typedef struct {
    ota_nor_t *nor;
    const ota_flash_t *flash;
    ota_part_table_t table;
    ota_part_t extra_store[4];
    const ota_part_t *extra[4];
    ota_ops_dev_t dev;
    ota_efuse_t efuse;
    test_fuses_t fuses; /* the emulated anti-rollback eFuse */
    char log[65536];
    size_t log_len;
} fixture_t;

static fixture_t fx;

/* ---- fixture --------------------------------------------------------------------------- */

static void log_sink(void *ctx, char level, const char *tag, const char *msg)
{
    fixture_t *f = ctx;
    test_log_append(f->log, sizeof(f->log), &f->log_len, level, tag, msg);
}

static ota_log_t sink = {log_sink, &fx};

static void log_clear(void)
{
    fx.log_len = 0;
    fx.log[0] = '\0';
}

/* The exact line "L tag: msg" was logged. */
static bool logged(char level, const char *tag, const char *msg)
{
    char line[512];
    snprintf(line, sizeof(line), "%c %s: %s\n", level, tag, msg);
    return strstr(fx.log, line) != NULL;
}

static uint64_t sector_erases(void)
{
    return ota_nor_state(fx.nor)->sector_erases;
}

static uint64_t erase_ops(void)
{
    return ota_nor_state(fx.nor)->erase_ops;
}

static const ota_part_t *part(const char *label)
{
    return ota_ops_find(&fx.dev, OTA_PART_TYPE_ANY, OTA_PART_SUBTYPE_ANY, label);
}

static void use_table(const ota_part_table_t *t)
{
    fx.table = *t;
    test_table_put(fx.flash, &fx.table);
    fx.dev.table = &fx.table;
    fx.dev.running = NULL;
}

static void put_table(const char *name)
{
    ota_part_table_t t;
    test_table_builtin(name, &t);
    use_table(&t);
}

static void put_csv(const char *csv)
{
    ota_part_table_t t;
    test_table_csv(csv, &t);
    use_table(&t);
}

/* A packed app image (malloc'ed) of project "app". */
static uint8_t *make_app(const char *version, long long secure_version, size_t *len)
{
    static const uint8_t payload[3000] = {1, 2, 3, 4};
    return test_app_image("app", version, secure_version, payload, sizeof(payload), len);
}

static void put_app(const char *label, const char *version, long long secure_version)
{
    size_t len;
    uint8_t *img = make_app(version, secure_version, &len);
    test_flash_put(fx.flash, part(label)->offset, img, len);
    free(img);
}

static void run_from(const char *label)
{
    fx.dev.running = label != NULL ? part(label) : NULL;
}

/* Adds an external partition (as esp_partition_register_external would). */
static const ota_part_t *add_extra(const char *label, int type, int subtype, uint32_t offset,
                                   uint32_t size)
{
    assert_int_equal(ota_ops_extra_check(&fx.dev, offset, size), OTA_OK);
    ota_part_t *p = &fx.extra_store[fx.dev.n_extra];
    memset(p, 0, sizeof(*p));
    p->type = (uint8_t)type;
    p->subtype = (uint8_t)subtype;
    p->offset = offset;
    p->size = size;
    snprintf(p->label, sizeof(p->label), "%s", label);
    fx.extra[fx.dev.n_extra++] = p;
    return p;
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    assert_int_equal(ota_nor_create_mem(FLASH_SIZE, NULL, &fx.nor, NULL), OTA_OK);
    fx.flash = ota_nor_flash(fx.nor);
    fx.efuse = test_fuses_ops(&fx.fuses, false);
    fx.dev = (ota_ops_dev_t){
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = &fx.efuse,
        .extra = fx.extra,
        .log = &sink,
    };
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ota_nor_close(fx.nor);
    return 0;
}

/* Standard board: two_ota with images in factory, ota_0 and ota_1, factory running. */
static void two_ota_board(void)
{
    put_table("two_ota");
    put_app("factory", "1", -1);
    put_app("ota_0", "2", -1);
    put_app("ota_1", "3", -1);
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    run_from("factory");
    log_clear();
}

static void read_otadata(ota_otadata_entry_t e[2])
{
    const ota_part_t *od = part("otadata");
    assert_int_equal(ota_otadata_read(fx.flash, od->offset, od->size, e, NULL), OTA_OK);
}

/* Asserts the 32 bytes of otadata sector i, as hex. */
static void assert_sector(int i, const char *hex)
{
    test_assert_hex32(ota_nor_data(fx.nor) + part("otadata")->offset + (uint32_t)i * 0x1000u, hex);
}

/* ---- sessions: begin ---------------------------------------------------------------------- */

static void test_begin_errors(void **state)
{
    (void)state;
    two_ota_board();
    ota_session_t s;
    assert_int_equal(ota_ops_begin(NULL, part("ota_0"), 0, &s), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_begin(&fx.dev, NULL, 0, &s), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), 0, NULL), OTA_ERR_INVALID_ARG);

    ota_part_t fake = *part("ota_0");
    fake.size -= 0x1000; /* not what the table says */
    assert_int_equal(ota_ops_begin(&fx.dev, &fake, 0, &s), OTA_ERR_NOT_FOUND);
    fake = *part("ota_0");
    fake.flags |= OTA_PART_FLAG_ENCRYPTED; /* flash encryption is off: nothing is encrypted */
    assert_int_equal(ota_ops_begin(&fx.dev, &fake, 0, &s), OTA_ERR_NOT_FOUND);
    fake = *part("ota_0");
    fake.label[0] = '\0'; /* an empty label matches any */
    uint64_t before = erase_ops();
    assert_int_equal(ota_ops_begin(&fx.dev, &fake, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_ptr_equal(s.staging, part("ota_0"));
    assert_int_equal(erase_ops(), before);

    /* factory cannot be a staging partition */
    assert_int_equal(ota_ops_begin(&fx.dev, part("factory"), 0, &s), OTA_ERR_INVALID_ARG);
    /* the running partition cannot be written */
    run_from("ota_1");
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), 0, &s), OTA_ERR_CONFLICT);

    /* an image larger than the partition: the erase says so, the session is closed */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), MiB + 1, &s), OTA_ERR_SIZE);
    assert_false(s.open);
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), SIZE_MAX - 3, &s), OTA_ERR_SIZE);
}

static void test_begin_erase_sizes(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;

    /* ALIGN_UP(5000, 4096) = two sectors; the rest of the image stays */
    uint64_t before = sector_erases();
    assert_int_equal(ota_ops_begin(&fx.dev, p, 5000, &s), OTA_OK);
    assert_true(s.open);
    assert_false(s.need_erase);
    assert_int_equal(sector_erases() - before, 2);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset, 0x2000), 1);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset + 0x2000, 0x1000), 0);

    /* OTA_SIZE_UNKNOWN and 0: the whole partition (16 block erases of 64 KiB) */
    put_app("ota_0", "2", -1);
    uint64_t blocks = ota_nor_state(fx.nor)->block_erases;
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SIZE_UNKNOWN, &s), OTA_OK);
    assert_int_equal(ota_nor_state(fx.nor)->block_erases - blocks, 16);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset, p->size), 1);
    put_app("ota_0", "2", -1);
    assert_int_equal(ota_ops_begin(&fx.dev, p, 0, &s), OTA_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset, p->size), 1);

    /* non-app staging partitions are accepted (v5.5) */
    assert_int_equal(ota_ops_begin(&fx.dev, part("nvs"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    const ota_part_t *bl = add_extra("PrimaryBTLDR", OTA_PART_TYPE_BOOTLOADER, 0, 0x1000, 0x7000);
    assert_int_equal(ota_ops_begin(&fx.dev, bl, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    const ota_part_t *pt =
        add_extra("PrimaryPrtTable", OTA_PART_TYPE_PARTITION_TABLE, 0, 0x8000, 0x1000);
    assert_int_equal(ota_ops_begin(&fx.dev, pt, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
}

static void test_begin_pending_verify(void **state)
{
    (void)state;
    two_ota_board();
    fx.dev.rollback = true;
    /* ota_0 selected with rollback (NEW), then booted once by the bootloader (PENDING_VERIFY) */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    ota_otadata_entry_t e[2];
    read_otadata(e);
    e[0].state = OTA_OTADATA_STATE_PENDING_VERIFY;
    assert_int_equal(ota_otadata_write_entry(fx.flash, part("otadata")->offset, 0x2000, 0, &e[0]),
                     OTA_OK);
    run_from("ota_0");
    log_clear();
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), 0, &s), OTA_ERR_PENDING_VERIFY);
    assert_true(logged('E', "esp_ota_ops",
                       "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY)"));
    /* without rollback the state is not looked at */
    fx.dev.rollback = false;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), 0, &s), OTA_OK);
    /* and a non-app target is not checked either */
    fx.dev.rollback = true;
    assert_int_equal(ota_ops_begin(&fx.dev, part("nvs"), 0, &s), OTA_OK);
}

static void test_begin_invalidates_inactive_slot(void **state)
{
    (void)state;
    two_ota_board();
    /* ota_0 (seq 1, sector 0) then ota_1 (seq 2, sector 1); ota_1 runs */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    run_from("ota_1");
    ota_session_t s;

    /* rollback off: otadata untouched */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");

    /* rollback on: sector 0 points to ota_0, which is about to be overwritten: erased */
    fx.dev.rollback = true;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_sector(0, BLANK);
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");

    /* an inactive entry that points to the running slot is kept */
    two_ota_board();
    fx.dev.rollback = false;
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK); /* seq 2, sector 0 */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK); /* seq 3, sector 1 */
    run_from("ota_1"); /* e.g. after a fallback: the inactive entry names the running slot */
    fx.dev.rollback = true;
    assert_int_equal(ota_ops_invalidate_inactive(&fx.dev), OTA_ERR_FAIL);
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_0"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_sector(0, "02000000" FF20 "ffffffff7437f655");
}

/* ---- sessions: write ---------------------------------------------------------------------- */

static void test_sequential_erase(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    uint8_t buf[9000];
    memset(buf, 0x5A, sizeof(buf));
    buf[0] = 0xE9;

    uint64_t e0 = sector_erases();
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_true(s.need_erase);
    assert_int_equal(sector_erases(), e0); /* nothing erased at begin */

    /* wrote 0 (aligned): erase [0, 0x1000) */
    assert_int_equal(ota_ops_write(&fx.dev, &s, buf, 100), OTA_OK);
    assert_int_equal(sector_erases() - e0, 1);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset + 0x1000, 0x1000), 0);
    /* 100 -> 4100: crosses into sector 1, only sector 1 is erased */
    assert_int_equal(ota_ops_write(&fx.dev, &s, buf + 100, 4000), OTA_OK);
    assert_int_equal(sector_erases() - e0, 2);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset + 0x1000 + 4, 0x1000 - 4), 1);
    /* 4100 -> 8192: stays in sector 1, no erase */
    assert_int_equal(ota_ops_write(&fx.dev, &s, buf + 4100, 8192 - 4100), OTA_OK);
    assert_int_equal(sector_erases() - e0, 2);
    /* 8192 (aligned) -> 8193: sector 2 */
    assert_int_equal(ota_ops_write(&fx.dev, &s, buf, 1), OTA_OK);
    assert_int_equal(sector_erases() - e0, 3);
    /* 8193 -> 8193 + 9000: sectors 3 and 4 (the current one was erased when entered) */
    assert_int_equal(ota_ops_write(&fx.dev, &s, buf, 9000), OTA_OK);
    assert_int_equal(sector_erases() - e0, 5);
    assert_int_equal(s.wrote_size, 8193 + 9000);
    assert_memory_equal(ota_nor_data(fx.nor) + p->offset + 8193, buf, 9000);

    /* an aligned 8 KiB write erases exactly its two sectors */
    ota_session_t s2;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s2), OTA_OK);
    uint64_t e1 = sector_erases();
    assert_int_equal(ota_ops_write(&fx.dev, &s2, buf, 8192), OTA_OK);
    assert_int_equal(sector_erases() - e1, 2);

    /* writing past the end: the erase refuses first, nothing changes */
    s2.wrote_size = p->size - 0x1000;
    uint64_t e2 = sector_erases();
    assert_int_equal(ota_ops_write(&fx.dev, &s2, buf, 0x1001), OTA_ERR_SIZE);
    assert_int_equal(sector_erases(), e2);
    assert_int_equal(s2.wrote_size, p->size - 0x1000);
    /* without sequential erase the write itself refuses */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), 0, &s2), OTA_OK);
    s2.wrote_size = p->size - 10;
    assert_int_equal(ota_ops_write(&fx.dev, &s2, buf, 11), OTA_ERR_SIZE);
}

/* Sequential erase of an app image: a whole 64 KiB block inside the image, as far as its headers
 * written so far tell, is one block erase; the rest are sector erases. */
static void test_sequential_block_erase(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    /* two segments (0xE0 and 0x30000 bytes), hash appended: the image is 0x30130 bytes and its
     * segment headers are all in the first write */
    static uint8_t img[0x30130];
    memset(img, 0x5A, sizeof(img));
    memset(img, 0, 0x108);
    img[0] = 0xE9;
    img[1] = 2;
    img[23] = 1;
    img[28] = 0xE0;
    img[0x100 + 6] = 0x03;
    for (int pass = 0; pass < 2; pass++) {
        ota_session_t s;
        assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
        uint64_t sectors = sector_erases();
        uint64_t blocks = ota_nor_state(fx.nor)->block_erases;
        uint64_t ops = erase_ops();
        /* pass 0: 1000-byte writes; pass 1: one write of everything */
        uint32_t step = pass == 0 ? 1000 : (uint32_t)sizeof(img);
        for (uint32_t off = 0; off < sizeof(img); off += step) {
            uint32_t n = sizeof(img) - off < step ? (uint32_t)sizeof(img) - off : step;
            assert_int_equal(ota_ops_write(&fx.dev, &s, img + off, n), OTA_OK);
        }
        /* blocks 0, 1 and 2; the last 0x130 bytes in one sector; one erase per unit */
        assert_int_equal(ota_nor_state(fx.nor)->block_erases - blocks, 3);
        assert_int_equal(sector_erases() - sectors, 1);
        assert_int_equal(erase_ops() - ops, 4);
        assert_memory_equal(ota_nor_data(fx.nor) + p->offset, img, sizeof(img));
        assert_int_equal(ota_ops_abort(&s), OTA_OK);
    }

    /* segment headers still to come: the image goes on, blocks; a block past the image's end
     * once the last header is read: sectors */
    memset(img, 0x5A, sizeof(img));
    memset(img, 0, 32);
    img[0] = 0xE9;
    img[1] = 2;
    img[29] = 0x04; /* segment 0: 0x10400 bytes, segment 1's header at 0x10420 */
    img[30] = 0x01;
    memset(img + 0x10420, 0, 8);
    img[0x10420 + 6] = 0x01; /* segment 1: 0x10000 bytes, the image ends at 0x20430 */
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    uint64_t sectors = sector_erases();
    uint64_t blocks = ota_nor_state(fx.nor)->block_erases;
    for (uint32_t off = 0; off < 0x20430; off += 0x400) {
        assert_int_equal(ota_ops_write(&fx.dev, &s, img + off, 0x400), OTA_OK);
    }
    /* blocks 0 and 1 (block 1 reached before segment 1's header was read); the end, a sector */
    assert_int_equal(ota_nor_state(fx.nor)->block_erases - blocks, 2);
    assert_int_equal(sector_erases() - sectors, 1);
    assert_int_equal(s.span, 0x20430);
}

static void test_write_first_byte(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    uint8_t bad[64] = {0x00, 0xE9};
    uint8_t good[64] = {0xE9};

    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    uint64_t e0 = sector_erases();
    assert_int_equal(ota_ops_write(&fx.dev, &s, bad, sizeof(bad)), OTA_ERR_VALIDATE);
    assert_true(
        logged('E', "esp_ota_ops", "OTA image has invalid magic byte (expected 0xE9, saw 0x00)"));
    /* the session stays open, nothing was written, but the first sector was already erased */
    assert_true(s.open);
    assert_int_equal(s.wrote_size, 0);
    assert_int_equal(sector_erases() - e0, 1);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset, 0x1000), 1);
    /* the check is on the very first byte only */
    assert_int_equal(ota_ops_write(&fx.dev, &s, good, sizeof(good)), OTA_OK);
    assert_int_equal(ota_ops_write(&fx.dev, &s, bad, sizeof(bad)), OTA_OK);
    assert_int_equal(s.wrote_size, 128);

    /* data, NULL and empty writes */
    log_clear();
    assert_int_equal(ota_ops_write(&fx.dev, &s, NULL, 10), OTA_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "write data is invalid"));
    assert_int_equal(ota_ops_write(&fx.dev, &s, good, 0), OTA_OK);
    assert_int_equal(s.wrote_size, 128);
    ota_session_t closed = {0};
    assert_int_equal(ota_ops_write(&fx.dev, &closed, good, 1), OTA_ERR_INVALID_ARG);

    /* partition table final: the LE word 0x50AA */
    const ota_part_t *pt =
        add_extra("PrimaryPrtTable", OTA_PART_TYPE_PARTITION_TABLE, 0, 0x8000, 0x1000);
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, pt, false), OTA_OK);
    uint8_t word[4] = {0x34, 0x12, 0, 0};
    assert_int_equal(ota_ops_write(&fx.dev, &s, word, sizeof(word)), OTA_ERR_VALIDATE);
    assert_true(logged('E', "esp_ota_ops",
                       "Partition table image has invalid magic word (expected 0x50AA, saw "
                       "0x1234)"));
    assert_int_equal(ota_ops_write(&fx.dev, &s, good, 4), OTA_ERR_VALIDATE); /* E9 00 */
    uint8_t pt_magic[2] = {0xAA, 0x50};
    assert_int_equal(ota_ops_write(&fx.dev, &s, pt_magic, 2), OTA_OK);

    /* bootloader final: 0xE9 */
    const ota_part_t *bl = add_extra("PrimaryBTLDR", OTA_PART_TYPE_BOOTLOADER, 0, 0x1000, 0x7000);
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, bl, false), OTA_OK);
    assert_int_equal(ota_ops_write(&fx.dev, &s, bad, 4), OTA_ERR_VALIDATE);

    /* data final: no check */
    assert_int_equal(ota_ops_begin(&fx.dev, part("nvs"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_write(&fx.dev, &s, bad, sizeof(bad)), OTA_OK);
}

static void test_write_at(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    uint8_t data[16] = {0x00, 1, 2, 3};

    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SIZE_UNKNOWN, &s), OTA_OK);
    /* out of order, no magic check on the first byte */
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, data, sizeof(data), 0x100), OTA_OK);
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, data, sizeof(data), 0), OTA_OK);
    assert_int_equal(s.wrote_size, 32);
    assert_memory_equal(ota_nor_data(fx.nor) + p->offset + 0x100, data, sizeof(data));
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, data, sizeof(data), p->size - 8), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, data, 1, p->size + 1), OTA_ERR_BOUNDS);
    log_clear();
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, NULL, 1, 0), OTA_ERR_INVALID_ARG);
    assert_true(logged('E', "esp_ota_ops", "write data is invalid"));

    /* ESP-IDF asserts here; the core refuses */
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_write_at(&fx.dev, &s, data, sizeof(data), 0), OTA_ERR_STATE);
    assert_int_equal(s.wrote_size, 0);
}

/* ---- sessions: end, set_final, resume ---------------------------------------------------- */

/* Streams img into a session in chunks of n bytes. */
static void stream(ota_session_t *s, const uint8_t *img, size_t len, size_t n)
{
    for (size_t off = 0; off < len; off += n) {
        size_t k = len - off < n ? len - off : n;
        assert_int_equal(ota_ops_write(&fx.dev, s, img + off, k), OTA_OK);
    }
}

/* ---- the remembered image check ------------------------------------------------------ */

static ota_ops_memo_t memo;

/* ota_0 gets a new image through a session with the memo on; esp_ota_end's check passes. */
static const ota_part_t *memo_update(void)
{
    two_ota_board();
    memset(&memo, 0, sizeof(memo));
    fx.dev.memo = &memo;
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    size_t len;
    static uint8_t payload[256 * 1024] = {7}; /* a check reads it in many chunks */
    uint8_t *img = test_app_image("app", "7", -1, payload, sizeof(payload), &len);
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    stream(&s, img, len, 4096);
    free(img);
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_true(memo.valid);
    return p;
}

/* Reads of the flash so far. */
static uint64_t read_ops(void)
{
    return ota_nor_state(fx.nor)->read_ops;
}

static void test_memo_reused(void **state)
{
    (void)state;
    const ota_part_t *p = memo_update();
    static char first[sizeof(fx.log)];
    memcpy(first, fx.log, sizeof(first));
    assert_non_null(strstr(first, "I esp_image: segment 0: paddr="));
    const ota_nor_state_t *st = ota_nor_state(fx.nor);
    uint64_t ops = read_ops(), bytes = st->read_bytes;
    log_clear();
    /* esp_ota_set_boot_partition: the same lines, the check's bytes counted as read, in a read
     * per line and one for the rest (and the otadata's reads) */
    assert_int_equal(ota_ops_set_boot(&fx.dev, p), OTA_OK);
    assert_string_equal(fx.log, first);
    assert_true(st->read_bytes - bytes >= memo.read_bytes);
    assert_true(read_ops() - ops < 10);
    /* without a memo the check reads the image */
    memo_update();
    fx.dev.memo = NULL;
    ops = read_ops();
    assert_int_equal(ota_ops_set_boot(&fx.dev, p), OTA_OK);
    assert_true(read_ops() - ops > 60);
}

/* A change of one byte of the image after esp_ota_end: the next check fails. */
static void memo_after_change(void (*change)(const ota_part_t *p))
{
    const ota_part_t *p = memo_update();
    change(p);
    ota_nor_power_on(fx.nor);
    assert_int_equal(ota_ops_set_boot(&fx.dev, p), OTA_ERR_VALIDATE);
    ota_nor_set_faults(fx.nor, NULL);
}

static void change_program(const ota_part_t *p)
{
    uint8_t zero = 0;
    assert_int_equal(ota_flash_program(fx.flash, p->offset, &zero, 1), OTA_OK);
}

static void change_erase(const ota_part_t *p)
{
    assert_int_equal(ota_flash_erase_range(fx.flash, p->offset, 0x1000), OTA_OK);
}

/* A power cut after a program of the image (its bytes changed, the call failed). */
static void change_cut(const ota_part_t *p)
{
    uint8_t zero[16] = {0};
    assert_int_equal(ota_nor_cut_arm(fx.nor, 1, OTA_NOR_CUT_AFTER, 1), OTA_OK);
    assert_int_equal(ota_flash_program(fx.flash, p->offset, zero, 16), OTA_ERR_POWER_LOSS);
}

/* A torn erase of the image's first sector. */
static void change_torn(const ota_part_t *p)
{
    assert_int_equal(ota_nor_cut_arm(fx.nor, 1, OTA_NOR_CUT_TORN, 3), OTA_OK);
    assert_int_equal(ota_flash_erase_range(fx.flash, p->offset, 0x1000), OTA_ERR_POWER_LOSS);
}

/* The flash as a board's image restored from a copy holding another image. */
static void change_restore(const ota_part_t *p)
{
    uint8_t *copy = malloc(FLASH_SIZE);
    assert_non_null(copy);
    memcpy(copy, ota_nor_data(fx.nor), FLASH_SIZE);
    copy[p->offset] ^= 0x01;
    assert_int_equal(ota_nor_restore(fx.nor, copy, FLASH_SIZE), OTA_OK);
    free(copy);
}

/* Reads that flip bits: the check reads them and fails (ESP-IDF's second check would). */
static void change_read_faults(const ota_part_t *p)
{
    (void)p;
    ota_nor_faults_t f = {.read_flip_ppm = 1000000, .seed = 5};
    assert_int_equal(ota_nor_set_faults(fx.nor, &f), OTA_OK);
}

static void test_memo_invalidated(void **state)
{
    (void)state;
    memo_after_change(change_program);
    memo_after_change(change_erase);
    memo_after_change(change_cut);
    memo_after_change(change_torn);
    memo_after_change(change_restore);
    memo_after_change(change_read_faults);
}

/* A write elsewhere (the otadata) also ends the reuse; the image still checks. */
static void test_memo_write_elsewhere(void **state)
{
    (void)state;
    const ota_part_t *p = memo_update();
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    uint64_t ops = read_ops();
    assert_int_equal(ota_ops_set_boot(&fx.dev, p), OTA_OK);
    assert_true(read_ops() - ops > 60);
}

static void test_end(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    size_t len;
    uint8_t *img = make_app("7", -1, &len);

    /* nothing written */
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_ERR_INVALID_ARG);
    assert_false(s.open);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_abort(&s), OTA_ERR_INVALID_ARG);

    /* a whole image verifies (segment lines logged with tag esp_image) */
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    stream(&s, img, len, 1024);
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_false(s.open);
    assert_non_null(strstr(fx.log, "I esp_image: segment 0: paddr="));

    /* a truncated one does not */
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    stream(&s, img, 64000, 1000);
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_ERR_VALIDATE);
    assert_true(logged('E', "esp_ota_ops", "New image failed verification"));
    assert_false(s.open);

    /* abort closes without touching flash */
    assert_int_equal(ota_ops_begin(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    uint64_t ops = ota_nor_state(fx.nor)->ops;
    assert_int_equal(ota_ops_abort(&s), OTA_OK);
    assert_false(s.open);
    assert_int_equal(ota_nor_state(fx.nor)->ops, ops);
    free(img);
}

static void test_stage_partition_table(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *pt =
        add_extra("PrimaryPrtTable", OTA_PART_TYPE_PARTITION_TABLE, 0, 0x8000, 0x1000);
    /* the new table: two_ota with one more data partition */
    ota_part_table_t t;
    assert_int_equal(ota_part_builtin_table("two_ota", NULL, &t, NULL), OTA_OK);
    ota_part_t *extra = &t.parts[t.count++];
    *extra = (ota_part_t){.type = 1, .subtype = 0x06, .offset = 0x310000, .size = 0x1000};
    snprintf(extra->label, sizeof(extra->label), "storage");
    uint8_t bin[OTA_PART_TABLE_MAX_LEN];
    assert_int_equal(ota_part_table_encode(ota_crypto_openssl(), &t, bin, NULL), OTA_OK);

    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    log_clear();
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, pt, true), OTA_OK);
    assert_true(logged('I', "esp_ota_ops",
                       "Staging partition - <ota_1>. Final partition - <PrimaryPrtTable>."));
    assert_ptr_equal(s.final, pt);
    stream(&s, bin, sizeof(bin), 1000);
    /* the bytes land in staging; the copy happens at end */
    assert_memory_equal(ota_nor_data(fx.nor) + part("ota_1")->offset, bin, sizeof(bin));
    assert_memory_not_equal(ota_nor_data(fx.nor) + 0x8000, bin, sizeof(bin));
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_true(
        logged('I', "esp_ota_ops", "Copy from <ota_1> staging partition to <PrimaryPrtTable>..."));
    assert_memory_equal(ota_nor_data(fx.nor) + 0x8000, bin, sizeof(bin));
    assert_int_equal(ota_flash_is_erased(fx.flash, 0x8000 + 0xC00, 0x400), 1);

    /* a corrupt table fails verification, by final type (not as an app image) */
    bin[0xC0 + 20] ^= 1; /* inside the MD5 digest */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, pt, true), OTA_OK);
    stream(&s, bin, sizeof(bin), 3072);
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_ERR_VALIDATE);
    assert_true(logged('E', "flash_parts", "Incorrect MD5 checksum"));
    assert_true(logged('E', "esp_ota_ops", "New image failed verification"));
    assert_false(
        logged('I', "esp_ota_ops", "Copy from <ota_1> staging partition to <PrimaryPrtTable>..."));
    bin[0xC0 + 20] ^= 1;
    assert_memory_equal(ota_nor_data(fx.nor) + 0x8000, bin, sizeof(bin)); /* not copied */

    /* without the copy flag the final partition is only used for checks */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, pt, false), OTA_OK);
    stream(&s, bin, sizeof(bin), 3072);
    log_clear();
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_false(
        logged('I', "esp_ota_ops", "Copy from <ota_1> staging partition to <PrimaryPrtTable>..."));
}

static void test_stage_bootloader(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *bl = add_extra("PrimaryBTLDR", OTA_PART_TYPE_BOOTLOADER, 0, 0x1000, 0x7000);
    size_t len;
    uint8_t *img = test_bootloader_image(&len);
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, bl, true), OTA_OK);
    stream(&s, img, len, 512);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_memory_equal(ota_nor_data(fx.nor) + 0x1000, img, len);
    /* the copy takes the final partition's size from staging, whatever follows the image */
    assert_memory_equal(ota_nor_data(fx.nor) + 0x1000, ota_nor_data(fx.nor) + part("ota_1")->offset,
                        0x7000);
    uint8_t raw[OTA_BOOT_DESC_LEN];
    assert_int_equal(ota_ops_boot_desc(&fx.dev, NULL, raw), OTA_OK);
    assert_int_equal(raw[0], 80);

    /* a bad checksum fails verification by the bootloader rules */
    img[len - 33] ^= 0xFF; /* the checksum byte (hash appended after it) */
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, bl, true), OTA_OK);
    stream(&s, img, len, 512);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_ERR_VALIDATE);
    img[len - 33] ^= 0xFF;
    assert_memory_equal(ota_nor_data(fx.nor) + 0x1000, img, len);
    free(img);
}

static void test_stage_data_with_copy(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *storage = add_extra("storage", OTA_PART_TYPE_DATA, 0x06, 0x310000, 0x1000);
    uint8_t data[500] = "7296406769363431";
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, storage, true), OTA_OK);
    /* no first-byte check for a data final */
    assert_int_equal(ota_ops_write(&fx.dev, &s, data, sizeof(data)), OTA_OK);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    uint8_t back[16];
    assert_int_equal(ota_ops_part_read(&fx.dev, storage, 0, back, sizeof(back)), OTA_OK);
    assert_memory_equal(back, "7296406769363431", 16);
}

static void test_set_final_rules(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *storage = add_extra("storage", OTA_PART_TYPE_DATA, 0x06, 0x310000, 0x1000);
    ota_session_t s;
    uint8_t img[4] = {0xE9};
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, NULL, true), OTA_ERR_INVALID_ARG);
    ota_part_t ghost = *storage;
    ghost.offset += 0x1000;
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, &ghost, true), OTA_ERR_NOT_FOUND);
    /* the staging partition itself: nothing changes, nothing logged */
    log_clear();
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, part("ota_1"), true), OTA_OK);
    assert_false(s.finalize_with_copy);
    assert_int_equal(fx.log_len, 0);
    /* the final partition may be factory */
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, part("factory"), false), OTA_OK);
    assert_ptr_equal(s.final, part("factory"));
    /* after bytes were written: too late */
    assert_int_equal(ota_ops_write(&fx.dev, &s, img, sizeof(img)), OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, storage, true), OTA_ERR_STATE);
    /* ...unless the session was resumed */
    assert_int_equal(ota_ops_resume(&fx.dev, part("ota_1"), OTA_OPS_SEQUENTIAL_WRITES, 4096, &s),
                     OTA_OK);
    assert_int_equal(ota_ops_set_final(&fx.dev, &s, storage, true), OTA_OK);
    ota_session_t closed = {0};
    assert_int_equal(ota_ops_set_final(&fx.dev, &closed, storage, true), OTA_ERR_INVALID_ARG);
}

static void test_resume(void **state)
{
    (void)state;
    two_ota_board();
    const ota_part_t *p = part("ota_0");
    ota_session_t s;
    assert_int_equal(ota_ops_resume(&fx.dev, p, 0, p->size + 1, &s), OTA_ERR_INVALID_ARG);
    ota_part_t ghost = *p;
    ghost.offset = 0x300000;
    assert_int_equal(ota_ops_resume(&fx.dev, &ghost, 0, 0, &s), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_ops_resume(&fx.dev, part("factory"), 0, 0, &s), OTA_ERR_INVALID_ARG);
    /* the running partition, whatever its type */
    run_from("ota_0");
    assert_int_equal(ota_ops_resume(&fx.dev, p, 0, 0, &s), OTA_ERR_CONFLICT);
    fx.dev.running = part("nvs");
    assert_int_equal(ota_ops_resume(&fx.dev, part("nvs"), 0, 0, &s), OTA_ERR_CONFLICT);
    run_from("factory");

    /* nothing is erased; the offset becomes wrote_size; sequential erase continues from there */
    uint64_t ops = ota_nor_state(fx.nor)->ops;
    assert_int_equal(ota_ops_resume(&fx.dev, p, OTA_OPS_SEQUENTIAL_WRITES, 0x3000, &s), OTA_OK);
    assert_int_equal(ota_nor_state(fx.nor)->ops, ops);
    assert_true(s.resumed);
    assert_true(s.need_erase);
    assert_int_equal(s.wrote_size, 0x3000);
    uint8_t data[16] = {0};
    uint64_t e0 = sector_erases();
    assert_int_equal(ota_ops_write(&fx.dev, &s, data, sizeof(data)), OTA_OK); /* no magic check */
    assert_int_equal(sector_erases() - e0, 1);
    assert_int_equal(ota_flash_is_erased(fx.flash, p->offset + 0x3010, 0xFF0), 1);
    assert_int_equal(ota_ops_resume(&fx.dev, p, OTA_OPS_SIZE_UNKNOWN, p->size, &s), OTA_OK);
    assert_false(s.need_erase);
}

/* ---- selection ------------------------------------------------------------------------------ */

static void test_worked_example(void **state)
{
    (void)state;
    two_ota_board();
    assert_sector(0, BLANK);
    assert_sector(1, BLANK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");
    assert_sector(1, BLANK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "03000000" FF20 "ffffffff11504aed");
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_0"));

    /* rollback variant: state words NEW (00000000) */
    two_ota_board();
    fx.dev.rollback = true;
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "01000000" FF20 "000000009a984347");
    assert_sector(1, BLANK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_sector(1, "02000000" FF20 "000000007437f655");
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "03000000" FF20 "0000000011504aed");
    assert_sector(1, "02000000" FF20 "000000007437f655");

    /* v5.5 quirk kept: choosing the active slot writes the same seq into the other sector */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(1, "03000000" FF20 "0000000011504aed");
}

static void test_test_flag_switches_sector(void **state)
{
    (void)state;
    two_ota_board();
    fx.dev.test_flags = OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR;
    /* no active entry: sector 0 as usual */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "01000000" FF20 "ffffffff9a984347");
    /* with an active entry (sector 0) the new one overwrites it: sector 1 stays blank */
    uint64_t e0 = sector_erases();
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_sector(0, "02000000" FF20 "ffffffff7437f655");
    assert_sector(1, BLANK);
    assert_int_equal(sector_erases() - e0, 1);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_1"));
    /* and without the flag the other sector is written */
    fx.dev.test_flags = 0;
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_sector(0, "02000000" FF20 "ffffffff7437f655");
    assert_sector(1, "03000000" FF20 "ffffffff11504aed");
}

static void test_set_boot_errors(void **state)
{
    (void)state;
    two_ota_board();
    assert_int_equal(ota_ops_set_boot(&fx.dev, NULL), OTA_ERR_INVALID_ARG);
    /* no image in the partition */
    assert_int_equal(ota_flash_erase_range(fx.flash, part("ota_1")->offset, 0x1000), OTA_OK);
    log_clear();
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_ERR_VALIDATE);
    assert_non_null(strstr(fx.log, "E esp_image: image at 0x210000 has invalid magic byte"));
    assert_sector(0, BLANK);
    assert_sector(1, BLANK);
    /* a valid app image in a data partition: verified first, then refused by type */
    const ota_part_t *d = add_extra("blob", OTA_PART_TYPE_DATA, 0x80, 0x310000, 0x20000);
    size_t len;
    uint8_t *img = make_app("9", -1, &len);
    test_flash_put(fx.flash, d->offset, img, len);
    free(img);
    assert_int_equal(ota_ops_set_boot(&fx.dev, d), OTA_ERR_INVALID_ARG);

    /* factory: the whole otadata partition is erased */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("factory")), OTA_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, part("otadata")->offset, 0x2000), 1);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("factory"));
}

static void test_set_boot_test_and_gap(void **state)
{
    (void)state;
    put_csv("otadata, data, ota, , 0x2000\n"
            "factory, app, factory, , 512K\n"
            "ota_0, app, ota_0, , 512K\n"
            "ota_1, app, ota_1, , 512K\n"
            "ota_3, app, ota_3, , 512K\n"
            "test, app, test, , 512K\n");
    put_app("test", "t", -1);
    put_app("ota_3", "3", -1);
    put_app("ota_1", "1", -1);
    run_from("factory");
    /* the test app is not an OTA slot (ESP-IDF would mask its subtype to slot 0) */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("test")), OTA_ERR_INVALID_ARG);
    assert_sector(0, BLANK);
    /* the app-side count stops at the gap: ota_3 is beyond it */
    assert_int_equal(ota_ops_app_count(&fx.dev), 2);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_3")), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_sector(0, "02000000" FF20 "ffffffff7437f655");
}

static void test_no_otadata(void **state)
{
    (void)state;
    put_table("singleapp");
    put_app("factory", "1", -1);
    run_from("factory");
    log_clear();
    assert_null(ota_ops_get_boot(&fx.dev));
    assert_true(logged('E', "esp_ota_ops", "not found otadata"));
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("factory")), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_ops_mark_invalid(&fx.dev), OTA_ERR_NOT_FOUND);
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_ERR_FAIL);
    assert_int_equal(ota_ops_invalidate_inactive(&fx.dev), OTA_ERR_FAIL);
    assert_false(ota_ops_rollback_possible(&fx.dev));
    assert_null(ota_ops_last_invalid(&fx.dev));
    assert_null(ota_ops_next_update(&fx.dev, NULL));
    assert_int_equal(ota_ops_app_count(&fx.dev), 0);
}

static void test_get_boot(void **state)
{
    (void)state;
    two_ota_board();
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("factory")); /* blank */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_1"));

    /* entries that are not select-invalid but fail the CRC: no active entry */
    ota_otadata_entry_t e;
    ota_otadata_make(5, OTA_OTADATA_STATE_VALID, &e);
    e.crc ^= 1;
    assert_int_equal(ota_otadata_write_entry(fx.flash, part("otadata")->offset, 0x2000, 0, &e),
                     OTA_OK);
    assert_int_equal(ota_otadata_write_entry(fx.flash, part("otadata")->offset, 0x2000, 1, &e),
                     OTA_OK);
    log_clear();
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("factory"));
    assert_true(logged('E', "esp_ota_ops", "ota data invalid, no current app. Assuming factory"));

    /* no factory: blank otadata boots ota_0 */
    put_table("two_ota_large");
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_0"));

    /* no app partition at all */
    put_csv("nvs, data, nvs, , 0x4000\notadata, data, ota, , 0x2000\n");
    log_clear();
    assert_null(ota_ops_get_boot(&fx.dev));
    assert_true(logged('E', "esp_ota_ops", "invalid partition table, no app partitions"));

    /* an otadata partition too small for entry 1 cannot be read */
    ota_part_table_t t = {.count = 1, .has_md5 = true};
    t.parts[0] = (ota_part_t){.type = 1, .subtype = 0, .offset = 0xD000, .size = 0x1000};
    snprintf(t.parts[0].label, sizeof(t.parts[0].label), "otadata");
    use_table(&t);
    log_clear();
    assert_null(ota_ops_get_boot(&fx.dev));
    assert_true(logged('E', "esp_ota_ops", "mmap otadata filed. Err=0xfffffff4"));
}

static void test_next_update(void **state)
{
    (void)state;
    two_ota_board();
    assert_ptr_equal(ota_ops_next_update(&fx.dev, NULL), part("ota_0"));
    run_from("ota_0");
    assert_ptr_equal(ota_ops_next_update(&fx.dev, NULL), part("ota_1"));
    run_from("ota_1");
    assert_ptr_equal(ota_ops_next_update(&fx.dev, NULL), part("ota_0"));
    ota_part_t copy = *part("ota_0");
    assert_ptr_equal(ota_ops_next_update(&fx.dev, &copy), part("ota_1"));
    assert_ptr_equal(ota_ops_next_update(&fx.dev, part("nvs")), part("ota_0"));
    /* one OTA slot that is running: itself */
    put_csv("otadata, data, ota, , 0x2000\nota_0, app, ota_0, , 1M\n");
    run_from("ota_0");
    assert_ptr_equal(ota_ops_next_update(&fx.dev, NULL), part("ota_0"));
}

static void test_get_state(void **state)
{
    (void)state;
    two_ota_board();
    uint32_t st = 0x55;
    assert_int_equal(ota_ops_get_state(&fx.dev, NULL, &st), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_0"), NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("factory"), &st), OTA_ERR_UNSUPPORTED);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_0"), &st), OTA_ERR_NOT_FOUND);
    fx.dev.rollback = true;
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_0"), &st), OTA_OK);
    assert_int_equal(st, OTA_OTADATA_STATE_NEW);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_1"), &st), OTA_ERR_NOT_FOUND);
    fx.dev.rollback = false;
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_1"), &st), OTA_OK);
    assert_int_equal(st, OTA_OTADATA_STATE_UNDEFINED);
    /* a caller-made description works (used as given) */
    ota_part_t copy = *part("ota_0");
    assert_int_equal(ota_ops_get_state(&fx.dev, &copy, &st), OTA_OK);
    assert_int_equal(st, OTA_OTADATA_STATE_NEW);
}

static void test_mark_valid_invalid(void **state)
{
    (void)state;
    two_ota_board();
    /* blank otadata: "factory" */
    log_clear();
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_ERR_FAIL);
    assert_true(logged('E', "esp_ota_ops", "Running firmware is factory"));
    assert_int_equal(ota_ops_mark_invalid(&fx.dev), OTA_ERR_FAIL);

    fx.dev.rollback = true;
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    run_from("ota_0");
    /* valid: same sector, same seq, state VALID */
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);
    assert_sector(0, "01000000" FF20 "020000009a984347");
    uint64_t ops = ota_nor_state(fx.nor)->ops;
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK); /* already VALID: no write */
    assert_int_equal(ota_nor_state(fx.nor)->ops, ops);

    /* invalid with the factory as rollback target */
    log_clear();
    assert_int_equal(ota_ops_mark_invalid(&fx.dev), OTA_OK);
    assert_true(logged('I', "esp_ota_ops", "Rollback to previously worked partition."));
    assert_sector(0, "01000000" FF20 "030000009a984347");

    /* the ACTIVE entry is marked, not the running partition's (e.g. after a fallback) */
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK); /* seq 2, sector 0 */
    run_from("ota_0");
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);
    assert_sector(0, "02000000" FF20 "020000007437f655");
    uint32_t st;
    assert_int_equal(ota_ops_get_state(&fx.dev, part("ota_1"), &st), OTA_OK);
    assert_int_equal(st, OTA_OTADATA_STATE_VALID);

    /* no factory and no other entry: nothing to roll back to */
    put_table("two_ota_large");
    put_app("ota_0", "2", -1);
    put_app("ota_1", "3", -1);
    assert_int_equal(ota_otadata_erase(fx.flash, part("otadata")->offset, 0x2000), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    run_from("ota_0");
    log_clear();
    assert_int_equal(ota_ops_mark_invalid(&fx.dev), OTA_ERR_ROLLBACK_FAILED);
    assert_true(logged('E', "esp_ota_ops",
                       "Rollback is not possible, do not have any suitable apps in slots"));
    assert_sector(0, "01000000" FF20 "000000009a984347"); /* unchanged */
    assert_false(ota_ops_rollback_possible(&fx.dev));

    /* with a valid previous slot it is possible */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    assert_true(ota_ops_rollback_possible(&fx.dev));
    /* ...unless that slot's image is broken */
    assert_int_equal(ota_flash_erase_range(fx.flash, part("ota_0")->offset, 0x1000), OTA_OK);
    assert_false(ota_ops_rollback_possible(&fx.dev));
}

static void test_last_invalid(void **state)
{
    (void)state;
    two_ota_board();
    const uint32_t od = part("otadata")->offset;
    assert_null(ota_ops_last_invalid(&fx.dev));
    ota_otadata_entry_t e0, e1;
    ota_otadata_make(3, OTA_OTADATA_STATE_INVALID, &e0); /* slot 0 */
    ota_otadata_make(2, OTA_OTADATA_STATE_ABORTED, &e1); /* slot 1, lower seq */
    assert_int_equal(ota_otadata_write_entry(fx.flash, od, 0x2000, 0, &e0), OTA_OK);
    assert_int_equal(ota_otadata_write_entry(fx.flash, od, 0x2000, 1, &e1), OTA_OK);
    assert_ptr_equal(ota_ops_last_invalid(&fx.dev), part("ota_1"));
    /* its image no longer verifies: NULL (silently) */
    assert_int_equal(ota_flash_erase_range(fx.flash, part("ota_1")->offset, 0x10000), OTA_OK);
    log_clear();
    assert_null(ota_ops_last_invalid(&fx.dev));
    assert_null(strstr(fx.log, "E esp_image"));
}

static void test_erase_last_boot(void **state)
{
    (void)state;
    two_ota_board();
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_ERR_FAIL); /* no active entry */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    run_from("ota_0");
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_ERR_FAIL); /* inactive is blank */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    /* running ota_0 while ota_1 is active: the inactive entry names the running slot */
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_ERR_FAIL);
    run_from("ota_1");
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_OK);
    assert_int_equal(ota_flash_is_erased(fx.flash, part("ota_0")->offset, MiB), 1);
    assert_sector(0, BLANK);
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");
    /* no running partition known */
    fx.dev.running = NULL;
    assert_int_equal(ota_ops_erase_last_boot(&fx.dev), OTA_ERR_FAIL);
}

/* ---- anti-rollback -------------------------------------------------------------------------- */

static void test_anti_rollback(void **state)
{
    (void)state;
    put_table("two_ota_large");
    put_app("ota_0", "1", 2);
    put_app("ota_1", "2", 1);
    run_from("ota_0");
    fx.dev.rollback = true;
    fx.dev.anti_rollback = true;
    fx.fuses.counter = 2;
    log_clear();
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_ERR_VERSION);
    assert_true(logged('E', "esp_ota_ops",
                       "This a new partition can not be booted due to a secure version is lower "
                       "than stored in efuse. Partition will be erased."));
    assert_int_equal(ota_flash_is_erased(fx.flash, part("ota_1")->offset, part("ota_1")->size), 1);
    assert_int_equal(ota_flash_is_erased(fx.flash, part("otadata")->offset, 0x2000), 1);
    /* an erased partition: its description cannot be read (after verification fails) */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_ERR_VALIDATE);

    put_app("ota_1", "3", 3);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    /* marking valid raises the counter to the RUNNING app's version (2 here: no change) */
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);
    assert_int_equal(fx.fuses.counter, 2);
    /* ota_0 (seq 3, sector 1) then ota_1 again (seq 4, sector 0), both NEW; ota_1 runs */
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_0")), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, part("ota_1")), OTA_OK);
    run_from("ota_1");
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);
    assert_int_equal(fx.fuses.counter, 3);
    /* rollback to ota_0 (version 2 < 3) is no longer possible */
    assert_false(ota_ops_rollback_possible(&fx.dev));

    /* the field is 32 bits wide on ESP32 */
    log_clear();
    assert_int_equal(ota_ops_raise_secure_version(&fx.dev, 33), OTA_ERR_INVALID_ARG);
    assert_true(logged('E', "efuse",
                       "Max secure version is 32. Given 33 version can not be "
                       "written."));
    assert_int_equal(ota_ops_raise_secure_version(&fx.dev, 1), OTA_OK);
    assert_int_equal(fx.fuses.counter, 3);
    uint32_t v;
    assert_int_equal(ota_ops_secure_version(&fx.dev, &v), OTA_OK);
    assert_int_equal(v, 3);
}

/* ---- partition I/O -------------------------------------------------------------------------- */

static void test_part_io_rules(void **state)
{
    (void)state;
    put_csv("nvs, data, nvs, , 0x4000\n"
            "otadata, data, ota, , 0x2000\n"
            "phy_init, data, phy, , 0x1000, readonly\n"
            "factory, app, factory, , 1M\n");
    const ota_part_t *nvs = part("nvs");
    uint8_t buf[64] = {1, 2, 3};
    assert_int_equal(ota_ops_part_read(&fx.dev, nvs, 0x4001, buf, 0), OTA_ERR_BOUNDS);
    assert_int_equal(ota_ops_part_read(&fx.dev, nvs, 0x4000, buf, 0), OTA_OK);
    assert_int_equal(ota_ops_part_read(&fx.dev, nvs, 0x3FF0, buf, 17), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_read(&fx.dev, nvs, 0, NULL, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_part_read(&fx.dev, nvs, 0, buf, SIZE_MAX), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_write(&fx.dev, nvs, 0x4001, buf, 1), OTA_ERR_BOUNDS);
    assert_int_equal(ota_ops_part_write(&fx.dev, nvs, 0x3FFF, buf, 2), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_write(&fx.dev, nvs, 0x10, buf, 3), OTA_OK);
    assert_memory_equal(ota_nor_data(fx.nor) + nvs->offset + 0x10, buf, 3);

    assert_int_equal(ota_ops_part_erase(&fx.dev, nvs, 0x5000, 0), OTA_ERR_BOUNDS);
    assert_int_equal(ota_ops_part_erase(&fx.dev, nvs, 0x1000, 0x4000), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_erase(&fx.dev, nvs, 0, 0x800), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_erase(&fx.dev, nvs, 0x800, 0x1000), OTA_ERR_ALIGN);
    assert_int_equal(ota_ops_part_erase(&fx.dev, nvs, 0x3000, 0x1000), OTA_OK);

    /* read-only: writes and erases refused first, reads allowed */
    const ota_part_t *phy = part("phy_init");
    assert_int_equal(ota_ops_part_write(&fx.dev, phy, 0x9999, buf, 1), OTA_ERR_READONLY);
    assert_int_equal(ota_ops_part_erase(&fx.dev, phy, 0, 0x1000), OTA_ERR_READONLY);
    assert_int_equal(ota_ops_part_read(&fx.dev, phy, 0, buf, 16), OTA_OK);

    /* a described partition beyond the chip: the flash refuses (ESP_ERR_INVALID_ARG) */
    ota_part_t far = {.type = 1, .subtype = 0x80, .offset = 0x3FF000, .size = 0x4000};
    assert_int_equal(ota_ops_part_read(&fx.dev, &far, 0x1000, buf, 4), OTA_ERR_BOUNDS);
    assert_int_equal(ota_ops_part_erase(&fx.dev, &far, 0x1000, 0x1000), OTA_ERR_BOUNDS);
    ota_part_t odd = {.type = 1, .subtype = 0x80, .offset = 0x100800, .size = 0x2000};
    assert_int_equal(ota_ops_part_erase(&fx.dev, &odd, 0, 0x1000), OTA_ERR_ALIGN);

    /* find and verify */
    assert_null(ota_ops_find(&fx.dev, OTA_PART_TYPE_ANY, OTA_PART_SUBTYPE_DATA_NVS, NULL));
    assert_ptr_equal(ota_ops_find(&fx.dev, OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_ANY, NULL), nvs);
    assert_ptr_equal(ota_ops_find(&fx.dev, OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_ANY, NULL),
                     part("factory"));
    ota_part_t want = *nvs;
    assert_ptr_equal(ota_ops_part_verify(&fx.dev, &want), nvs);
    snprintf(want.label, sizeof(want.label), "other");
    assert_null(ota_ops_part_verify(&fx.dev, &want));
    want.label[0] = '\0';
    assert_ptr_equal(ota_ops_part_verify(&fx.dev, &want), nvs);

    /* external partitions: bounds and overlaps */
    assert_int_equal(ota_ops_extra_check(&fx.dev, 0x3FF000, 0x2000), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_extra_check(&fx.dev, 0x10000 + MiB - 0x1000, 0x2000),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_extra_check(&fx.dev, 0x8000, 0x1000), OTA_OK);
    assert_int_equal(ota_ops_extra_check(&fx.dev, 0x200000, 0), OTA_ERR_INVALID_ARG);
}

static void test_part_sha256(void **state)
{
    (void)state;
    two_ota_board();
    size_t len;
    uint8_t *img = make_app("2", -1, &len);
    uint8_t sha[32];
    /* app: the appended digest, checked */
    assert_int_equal(ota_ops_part_sha256(&fx.dev, part("ota_0"), sha), OTA_OK);
    assert_memory_equal(sha, img + len - 32, 32);
    /* a caller-made description with only offset, size and type */
    ota_part_t bare = {.type = OTA_PART_TYPE_APP, .offset = 0x110000, .size = MiB};
    assert_int_equal(ota_ops_part_sha256(&fx.dev, &bare, sha), OTA_OK);
    assert_memory_equal(sha, img + len - 32, 32);
    /* one byte of the body changed: the stored digest no longer matches */
    size_t at = 100;
    while (img[at] == 0) {
        at++;
    }
    uint8_t b = (uint8_t)(img[at] & (img[at] - 1)); /* clears one bit, as NOR programming can */
    assert_int_equal(ota_flash_program(fx.flash, 0x110000 + (uint32_t)at, &b, 1), OTA_OK);
    assert_int_equal(ota_ops_part_sha256(&fx.dev, &bare, sha), OTA_ERR_CORRUPT);
    /* data partition: the whole partition */
    ota_part_t data = {.type = OTA_PART_TYPE_DATA, .offset = 0x110000, .size = 0x3000};
    uint8_t want[32];
    assert_int_equal(ota_hash(ota_crypto_openssl(), OTA_HASH_SHA256,
                              ota_nor_data(fx.nor) + 0x110000, 0x3000, want),
                     OTA_OK);
    assert_int_equal(ota_ops_part_sha256(&fx.dev, &data, sha), OTA_OK);
    assert_memory_equal(sha, want, 32);
    /* no image; size 0 */
    ota_part_t empty = {.type = OTA_PART_TYPE_APP, .offset = 0x310000, .size = 0x10000};
    assert_int_equal(ota_ops_part_sha256(&fx.dev, &empty, sha), OTA_ERR_CORRUPT);
    data.size = 0;
    assert_int_equal(ota_ops_part_sha256(&fx.dev, &data, sha), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_part_sha256(&fx.dev, part("ota_1"), NULL), OTA_ERR_INVALID_ARG);
    free(img);
}

static void test_part_copy(void **state)
{
    (void)state;
    two_ota_board();
    ota_part_t src = {.type = 1, .subtype = 0x80, .offset = 0x310000, .size = 0x2000};
    ota_part_t dst = {.type = 1, .subtype = 0x81, .offset = 0x320000, .size = 0x3000};
    uint8_t pattern[0x3000];
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (uint8_t)(i * 7 + 1);
    }
    test_flash_put(fx.flash, src.offset, pattern, 0x2000);
    uint8_t zeros[0x3000] = {0};
    test_flash_put(fx.flash, dst.offset, zeros, sizeof(zeros));

    assert_int_equal(ota_ops_part_copy(&fx.dev, NULL, 0, &src, 0, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &src, 0, &src, 0, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0x2001, 1), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0x3001, &src, 0, 1), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0x1000, 0x1001), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0x2800, &src, 0, 0x1000), OTA_ERR_SIZE);
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0, SIZE_MAX - 1), OTA_ERR_SIZE);
    /* the erase of an unaligned destination offset fails and is logged */
    log_clear();
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0x10, &src, 0, 16), OTA_ERR_ALIGN);
    assert_true(
        logged('E', "partition", "Erasing destination partition range failed (err=0xfffffffc)"));

    /* n bytes: ALIGN_UP(n, 4096) of dst erased, n copied */
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0x10, 100), OTA_OK);
    const uint8_t *d = ota_nor_data(fx.nor) + dst.offset;
    assert_memory_equal(d, pattern + 0x10, 100);
    assert_int_equal(ota_flash_is_erased(fx.flash, dst.offset + 100, 0x1000 - 100), 1);
    assert_int_equal(d[0x1000], 0);

    /* SIZE_MAX: the rest of src, and the whole destination erased */
    test_flash_put(fx.flash, dst.offset, zeros, sizeof(zeros));
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0, OTA_OPS_COPY_ALL), OTA_OK);
    assert_memory_equal(d, pattern, 0x2000);
    assert_int_equal(ota_flash_is_erased(fx.flash, dst.offset + 0x2000, 0x1000), 1);
    /* into a smaller destination: too large */
    assert_int_equal(ota_ops_part_copy(&fx.dev, &src, 0, &dst, 0, OTA_OPS_COPY_ALL), OTA_ERR_SIZE);
    /* the power fails after the erase, at the first page program */
    assert_int_equal(ota_nor_cut_arm(fx.nor, 2, OTA_NOR_CUT_BEFORE, 1), OTA_OK);
    log_clear();
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0, 16), OTA_ERR_POWER_LOSS);
    assert_true(
        logged('E', "partition", "Writing to destination partition failed (err=0xfffffffa)"));
    ota_nor_power_on(fx.nor);
    assert_int_equal(ota_flash_is_erased(fx.flash, dst.offset, 0x1000), 1);
    /* read-only destination */
    dst.flags = OTA_PART_FLAG_READONLY;
    assert_int_equal(ota_ops_part_copy(&fx.dev, &dst, 0, &src, 0, 16), OTA_ERR_READONLY);
}

static void test_descriptions(void **state)
{
    (void)state;
    two_ota_board();
    uint8_t raw[OTA_APP_DESC_LEN];
    assert_int_equal(ota_ops_app_desc(&fx.dev, part("ota_1"), raw), OTA_OK);
    assert_string_equal((const char *)raw + 16, "3");
    assert_int_equal(ota_ops_app_desc(&fx.dev, part("nvs"), raw), OTA_ERR_UNSUPPORTED);
    assert_int_equal(ota_ops_app_desc(&fx.dev, NULL, raw), OTA_ERR_INVALID_ARG);
    ota_part_t tiny = {.type = OTA_PART_TYPE_APP, .offset = 0x310000, .size = 0x100};
    assert_int_equal(ota_ops_app_desc(&fx.dev, &tiny, raw), OTA_ERR_SIZE);
    tiny.size = 0x10;
    assert_int_equal(ota_ops_app_desc(&fx.dev, &tiny, raw), OTA_ERR_BOUNDS);
    tiny.size = 0x10000;
    assert_int_equal(ota_ops_app_desc(&fx.dev, &tiny, raw), OTA_ERR_NOT_FOUND);
    uint8_t braw[OTA_BOOT_DESC_LEN];
    assert_int_equal(ota_ops_boot_desc(&fx.dev, NULL, braw), OTA_ERR_NOT_FOUND); /* nothing */
    size_t len;
    uint8_t *bl = test_bootloader_image(&len);
    test_flash_put(fx.flash, 0x1000, bl, len);
    free(bl);
    assert_int_equal(ota_ops_boot_desc(&fx.dev, NULL, braw), OTA_OK);
    assert_int_equal(braw[0], 80);
    ota_part_t region = {.type = OTA_PART_TYPE_BOOTLOADER, .offset = 0x1000, .size = 0x7000};
    assert_int_equal(ota_ops_boot_desc(&fx.dev, &region, braw), OTA_OK);
}

/* ---- the whole cycle with the boot chain --------------------------------------------------- */

static ota_boot_result_t boot_res;

/* Boots the board and makes the booted partition the running one. */
static int boot(bool rollback)
{
    ota_boot_env_t env = {
        .flash = fx.flash,
        .crypto = ota_crypto_openssl(),
        .chip = ota_chip_by_name("esp32"),
        .chip_rev = 300,
        .efuse = &fx.efuse,
        .power_on = true,
    };
    ota_boot_cfg_t cfg = {.table_offset = OTA_PART_TABLE_OFFSET_DEFAULT, .rollback = rollback};
    assert_int_equal(ota_boot_run(&env, &cfg, &boot_res), OTA_OK);
    assert_int_equal(boot_res.outcome, OTA_BOOT_OK);
    const ota_part_t *p;
    fx.dev.running = NULL;
    for (size_t i = 0; (p = ota_ops_part_at(&fx.dev, i)) != NULL; i++) {
        if (p->type == OTA_PART_TYPE_APP && p->offset == boot_res.part.offset) {
            fx.dev.running = p;
        }
    }
    return boot_res.booted;
}

/* What native_ota_example does: next slot, sequential writes, end, set boot. */
static const ota_part_t *do_update(const char *version)
{
    size_t len;
    uint8_t *img = make_app(version, -1, &len);
    const ota_part_t *next = ota_ops_next_update(&fx.dev, NULL);
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, next, OTA_OPS_SEQUENTIAL_WRITES, &s), OTA_OK);
    stream(&s, img, len, 1024);
    assert_int_equal(ota_ops_end(&fx.dev, &s), OTA_OK);
    assert_int_equal(ota_ops_set_boot(&fx.dev, next), OTA_OK);
    free(img);
    return next;
}

static uint32_t state_of(const char *label)
{
    uint32_t st = 0x55;
    assert_int_equal(ota_ops_get_state(&fx.dev, part(label), &st), OTA_OK);
    return st;
}

static void test_cycle_without_rollback(void **state)
{
    (void)state;
    put_table("two_ota");
    put_app("factory", "1", -1);
    assert_int_equal(boot(false), OTA_BOOT_FACTORY_INDEX);
    assert_ptr_equal(do_update("2"), part("ota_0"));
    assert_int_equal(boot(false), 0);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_UNDEFINED);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_0"));
    assert_ptr_equal(do_update("3"), part("ota_1"));
    assert_int_equal(boot(false), 1);
    assert_ptr_equal(do_update("4"), part("ota_0"));
    assert_int_equal(boot(false), 0);
    assert_sector(0, "03000000" FF20 "ffffffff11504aed");
    assert_sector(1, "02000000" FF20 "ffffffff7437f655");
    /* an unconfirmed app stays selected without rollback */
    assert_int_equal(boot(false), 0);
}

static void test_cycle_with_rollback(void **state)
{
    (void)state;
    put_table("two_ota");
    put_app("factory", "1", -1);
    fx.dev.rollback = true;
    assert_int_equal(boot(true), OTA_BOOT_FACTORY_INDEX);

    /* factory -> ota_0: NEW, then PENDING_VERIFY after one boot, VALID once confirmed */
    do_update("2");
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_NEW);
    assert_int_equal(boot(true), 0);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_PENDING_VERIFY);
    ota_session_t s;
    assert_int_equal(ota_ops_begin(&fx.dev, part("ota_1"), 0, &s), OTA_ERR_PENDING_VERIFY);
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_VALID);

    /* ota_0 -> ota_1, confirmed */
    assert_ptr_equal(do_update("3"), part("ota_1"));
    assert_int_equal(boot(true), 1);
    assert_int_equal(state_of("ota_1"), OTA_OTADATA_STATE_PENDING_VERIFY);
    assert_int_equal(ota_ops_mark_valid(&fx.dev), OTA_OK);

    /* ota_1 -> ota_0, never confirmed: the next boot aborts it and rolls back to ota_1 */
    assert_ptr_equal(do_update("4"), part("ota_0"));
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_NEW);
    assert_int_equal(boot(true), 0);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_PENDING_VERIFY);
    assert_int_equal(boot(true), 1);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_ABORTED);
    assert_int_equal(state_of("ota_1"), OTA_OTADATA_STATE_VALID);
    assert_ptr_equal(ota_ops_get_boot(&fx.dev), part("ota_1"));
    assert_ptr_equal(ota_ops_last_invalid(&fx.dev), part("ota_0"));

    /* ota_1 -> ota_0 again, this time the app rejects itself */
    do_update("5");
    assert_int_equal(boot(true), 0);
    assert_int_equal(ota_ops_mark_invalid(&fx.dev), OTA_OK);
    assert_int_equal(state_of("ota_0"), OTA_OTADATA_STATE_INVALID);
    assert_int_equal(boot(true), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_erase_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_pending_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_invalidates_inactive_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_block_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_first_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_at, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_invalidated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_write_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_partition_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_bootloader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_data_with_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_final_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worked_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_flag_switches_sector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_boot_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_boot_test_and_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_otadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_valid_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_last_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anti_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_io_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_sha256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_without_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_with_rollback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
