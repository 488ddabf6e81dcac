/* Emulated NOR flash: NOR semantics, counters, wear, power cuts, faults, files, snapshots, timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_nor.h"
#include "test_util.h"

#define MIB 0x100000u
#define SEC OTA_FLASH_SECTOR_SIZE
#define BLK OTA_FLASH_BLOCK_SIZE
#define PAGE OTA_FLASH_PAGE_SIZE

static int loss_calls;

static void count_loss(void *arg)
{
    int *n = arg;
    (*n)++;
}

static ota_nor_t *mem_dev(bool strict)
{
    ota_nor_config_t cfg = {0};
    cfg.strict = strict;
    cfg.on_power_loss = count_loss;
    cfg.on_power_loss_arg = &loss_calls;
    ota_nor_t *nor = NULL;
    assert_int_equal(ota_nor_create_mem(MIB, &cfg, &nor, NULL), OTA_OK);
    assert_non_null(nor);
    loss_calls = 0;
    return nor;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

/* A temporary directory under /tmp for file tests, removed by tmp_cleanup. */
static char tmp_dir[64];
static char tmp_path[128];

static const char *tmp_file(const char *name)
{
    if (tmp_dir[0] == '\0') {
        strcpy(tmp_dir, "/tmp/otakit-nor-XXXXXX");
        assert_non_null(mkdtemp(tmp_dir));
    }
    snprintf(tmp_path, sizeof(tmp_path), "%s/%s", tmp_dir, name);
    return tmp_path;
}

static int tmp_cleanup(void **state)
{
    (void)state;
    if (tmp_dir[0] != '\0') {
        const char *names[] = {"a.bin", "b.bin", "odd.bin", "shared.bin", "fork.bin"};
        char p[128];
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            snprintf(p, sizeof(p), "%s/%s", tmp_dir, names[i]);
            unlink(p);
        }
        rmdir(tmp_dir);
        tmp_dir[0] = '\0';
    }
    return 0;
}

static void test_program_ands_and_erase_sets(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    const ota_flash_t *f = ota_nor_flash(nor);
    assert_int_equal(f->size, MIB);
    assert_int_equal(f->sector_size, 0x1000);
    assert_int_equal(f->block_size, 0x10000);
    assert_int_equal(f->page_size, 0x100);
    assert_int_equal(f->erase_value, 0xFF);
    assert_true(all_bytes(ota_nor_data(nor), MIB, 0xFF));

    uint8_t a = 0xF0, b = 0x3C, c = 0xFF, r = 0;
    assert_int_equal(ota_nor_program(nor, 0x1234, &a, 1), OTA_OK);
    assert_int_equal(ota_flash_program(f, 0x1234, &b, 1), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x1234, &c, 1), OTA_OK); /* 0xFF changes nothing */
    assert_int_equal(ota_flash_read(f, 0x1234, &r, 1), OTA_OK);
    assert_int_equal(r, 0xF0 & 0x3C);
    assert_int_equal(ota_nor_data(nor)[0x1233], 0xFF);
    assert_int_equal(ota_nor_data(nor)[0x1235], 0xFF);

    assert_int_equal(ota_nor_erase_sector(nor, 0x1000), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 0x1234, &r, 1), OTA_OK);
    assert_int_equal(r, 0xFF);
    ota_nor_close(nor);
}

static void test_strict_mode_refuses_non_erased(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(true);
    uint8_t data[16], back[16];
    memset(data, 0xA5, sizeof(data));
    assert_int_equal(ota_nor_program(nor, 0x100, data, 8), OTA_OK);
    uint64_t ops = ota_nor_state(nor)->program_ops;

    /* Overlaps 8 programmed bytes: refused, and nothing (not even the erased tail) changes. */
    uint8_t zeros[16] = {0};
    assert_int_equal(ota_nor_program(nor, 0x100, zeros, 16), OTA_ERR_NOT_ERASED);
    assert_int_equal(ota_nor_read(nor, 0x100, back, 16), OTA_OK);
    assert_memory_equal(back, data, 8);
    assert_true(all_bytes(back + 8, 8, 0xFF));
    assert_int_equal(ota_nor_state(nor)->program_ops, ops);

    /* A byte that is not 0xFF is non-erased even when the data is 0xFF. */
    uint8_t ff = 0xFF;
    assert_int_equal(ota_nor_program(nor, 0x107, &ff, 1), OTA_ERR_NOT_ERASED);
    /* The erased neighbour is fine; after an erase the whole range is again. */
    assert_int_equal(ota_nor_program(nor, 0x108, zeros, 8), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x100, zeros, 16), OTA_OK);
    ota_nor_close(nor);

    /* Not strict: the same double write is accepted and ANDs. */
    nor = mem_dev(false);
    assert_int_equal(ota_nor_program(nor, 0x100, data, 8), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x100, zeros, 16), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor) + 0x100, 16, 0x00));
    ota_nor_close(nor);
}

static void test_erase_units_alignment_bounds(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    const ota_flash_t *f = ota_nor_flash(nor);
    static uint8_t zeros[2 * BLK];
    const uint8_t *d = ota_nor_data(nor);

    /* Sector erase touches exactly one sector. */
    assert_int_equal(ota_nor_program(nor, 0, zeros, 3 * SEC), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, SEC), OTA_OK);
    assert_true(all_bytes(d, SEC, 0x00));
    assert_true(all_bytes(d + SEC, SEC, 0xFF));
    assert_true(all_bytes(d + 2 * SEC, SEC, 0x00));

    /* Block erase touches exactly one 64 KiB block. */
    assert_int_equal(ota_nor_program(nor, 0, zeros, sizeof(zeros)), OTA_OK);
    assert_int_equal(ota_nor_erase_block(nor, BLK), OTA_OK);
    assert_true(all_bytes(d, BLK, 0x00));
    assert_true(all_bytes(d + BLK, BLK, 0xFF));

    /* Through the ota_flash_t: one sector or one block per call, nothing else. */
    assert_int_equal(f->erase(f->ctx, 0, BLK), OTA_OK);
    assert_true(all_bytes(d, BLK, 0xFF));
    assert_int_equal(f->erase(f->ctx, 0, 2 * SEC), OTA_ERR_ALIGN);
    assert_int_equal(f->erase(f->ctx, 0, MIB), OTA_ERR_ALIGN);

    /* Chip erase. */
    assert_int_equal(ota_nor_program(nor, MIB - 4, zeros, 4), OTA_OK);
    assert_int_equal(ota_nor_erase_chip(nor), OTA_OK);
    assert_true(all_bytes(d, MIB, 0xFF));

    /* Alignment and bounds. */
    assert_int_equal(ota_nor_erase_sector(nor, 0x800), OTA_ERR_ALIGN);
    assert_int_equal(ota_nor_erase_sector(nor, 1), OTA_ERR_ALIGN);
    assert_int_equal(ota_nor_erase_block(nor, SEC), OTA_ERR_ALIGN);
    assert_int_equal(ota_nor_erase_sector(nor, MIB), OTA_ERR_BOUNDS);
    assert_int_equal(ota_nor_erase_block(nor, MIB), OTA_ERR_BOUNDS);
    assert_int_equal(ota_nor_erase_sector(nor, MIB - SEC), OTA_OK);
    assert_int_equal(ota_nor_erase_block(nor, MIB - BLK), OTA_OK);
    uint8_t b[2];
    assert_int_equal(ota_nor_read(nor, MIB - 1, b, 2), OTA_ERR_BOUNDS);
    assert_int_equal(ota_nor_read(nor, 0xFFFFFFFFu, b, 2), OTA_ERR_BOUNDS);
    assert_int_equal(ota_nor_program(nor, MIB - 1, zeros, 2), OTA_ERR_BOUNDS);
    assert_int_equal(ota_nor_program(nor, MIB, zeros, 0), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 0, NULL, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_nor_program(nor, 0, NULL, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_nor_read(NULL, 0, b, 1), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_nor_erase_chip(NULL), OTA_ERR_INVALID_ARG);
    ota_nor_close(nor);
}

/* Pages touched by [addr, addr+len), computed from page numbers. */
static uint64_t pages_touched(uint32_t addr, uint32_t len)
{
    return len == 0 ? 0 : (uint64_t)((addr + len - 1) / PAGE - addr / PAGE + 1);
}

static void test_page_split_and_op_counts(void **state)
{
    (void)state;
    static const struct {
        uint32_t addr, len;
    } cases[] = {{0, 1}, {0, 256}, {1, 256}, {0x1F0, 1000}, {0xFF, 2}, {0x3000, 4096}, {0x5, 0}};
    static uint8_t zeros[4096];
    ota_nor_t *nor = mem_dev(false);
    const ota_nor_state_t *st = ota_nor_state(nor);
    uint64_t want_ops = 0, want_bytes = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = st->program_ops;
        assert_int_equal(ota_nor_program(nor, cases[i].addr, zeros, cases[i].len), OTA_OK);
        assert_int_equal(st->program_ops - before, pages_touched(cases[i].addr, cases[i].len));
        want_ops += pages_touched(cases[i].addr, cases[i].len);
        want_bytes += cases[i].len;
    }
    /* Hand-checked: 1 + 1 + 2 + 5 + 2 + 16 + 0 page programs. */
    assert_int_equal(want_ops, 27);
    assert_int_equal(st->program_ops, want_ops);
    assert_int_equal(st->program_bytes, want_bytes);
    assert_int_equal(st->ops, want_ops); /* every page program is a cut point */

    uint8_t buf[300];
    assert_int_equal(ota_nor_read(nor, 0, buf, 300), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 10, buf, 1), OTA_OK);
    assert_int_equal(st->read_ops, 2);
    assert_int_equal(st->read_bytes, 301);
    assert_int_equal(st->ops, want_ops); /* reads are not cut points */

    /* ota_flash_erase_range: 0xF000..0x21000 is a sector, a block and a sector. */
    assert_int_equal(ota_flash_erase_range(ota_nor_flash(nor), 0xF000, 0x12000), OTA_OK);
    assert_int_equal(st->sector_erases, 2);
    assert_int_equal(st->block_erases, 1);
    assert_int_equal(st->erase_ops, 3);
    assert_int_equal(st->erase_bytes, 0x12000);
    assert_int_equal(st->ops, want_ops + 3);
    ota_nor_close(nor);
}

static void test_wear_counters(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    const ota_nor_state_t *st = ota_nor_state(nor);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    }
    assert_int_equal(ota_nor_erase_block(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_erase_chip(nor), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, MIB - SEC), OTA_OK);

    assert_int_equal(st->wear[0], 3 + 1 + 1);
    assert_int_equal(st->wear[1], 2);
    assert_int_equal(st->wear[15], 2);
    assert_int_equal(st->wear[16], 1);
    assert_int_equal(st->wear[255], 2);
    assert_int_equal(st->wear[256], 0); /* beyond a 1 MiB device */
    assert_int_equal(ota_nor_state_wear_max(st), 5);
    /* 3 sector erases + 16 sectors of the block + 256 of the chip + 1. */
    assert_int_equal(ota_nor_state_wear_total(st), 3 + 16 + 256 + 1);
    assert_int_equal(st->erase_ops, 6);
    assert_int_equal(st->sector_erases, 4);
    assert_int_equal(st->block_erases, 1);
    assert_int_equal(st->chip_erases, 1);
    assert_int_equal(st->erase_bytes, 4 * SEC + BLK + MIB);
    ota_nor_close(nor);
}

static void test_cut_program_before_and_after(void **state)
{
    (void)state;
    static uint8_t zeros[3 * PAGE];
    for (int mode = OTA_NOR_CUT_BEFORE; mode <= OTA_NOR_CUT_AFTER; mode++) {
        ota_nor_t *nor = mem_dev(false);
        const ota_nor_state_t *st = ota_nor_state(nor);
        const uint8_t *d = ota_nor_data(nor);
        assert_int_equal(ota_nor_cut_arm(nor, 2, (ota_nor_cut_mode_t)mode, 7), OTA_OK);
        assert_int_equal(ota_nor_program(nor, 0, zeros, sizeof(zeros)), OTA_ERR_POWER_LOSS);
        assert_int_equal(loss_calls, 1);
        assert_true(ota_nor_power_lost(nor));
        assert_true(all_bytes(d, PAGE, 0x00));
        if (mode == OTA_NOR_CUT_BEFORE) {
            assert_true(all_bytes(d + PAGE, PAGE, 0xFF));
            assert_int_equal(st->program_ops, 1);
        } else {
            assert_true(all_bytes(d + PAGE, PAGE, 0x00));
            assert_int_equal(st->program_ops, 2);
        }
        assert_true(all_bytes(d + 2 * PAGE, PAGE, 0xFF)); /* never reached */
        assert_int_equal(st->ops, 2);
        assert_int_equal(st->cuts, 1);
        assert_int_equal(st->cut_at, 0); /* a cut happens once */
        ota_nor_close(nor);
    }
}

static void test_cut_erase_before_and_after(void **state)
{
    (void)state;
    static uint8_t zeros[3 * SEC];
    for (int mode = OTA_NOR_CUT_BEFORE; mode <= OTA_NOR_CUT_AFTER; mode++) {
        ota_nor_t *nor = mem_dev(false);
        const ota_nor_state_t *st = ota_nor_state(nor);
        const uint8_t *d = ota_nor_data(nor);
        assert_int_equal(ota_nor_program(nor, 0, zeros, sizeof(zeros)), OTA_OK);
        assert_int_equal(ota_nor_cut_arm(nor, 1, (ota_nor_cut_mode_t)mode, 7), OTA_OK);
        assert_int_equal(ota_nor_erase_sector(nor, SEC), OTA_ERR_POWER_LOSS);
        assert_int_equal(loss_calls, 1);
        assert_true(all_bytes(d + SEC, SEC, mode == OTA_NOR_CUT_BEFORE ? 0x00 : 0xFF));
        assert_int_equal(st->wear[1], mode == OTA_NOR_CUT_BEFORE ? 0 : 1);
        assert_int_equal(st->erase_ops, mode == OTA_NOR_CUT_BEFORE ? 0 : 1);
        assert_true(all_bytes(d, SEC, 0x00));
        assert_true(all_bytes(d + 2 * SEC, SEC, 0x00));
        ota_nor_close(nor);
    }
}

/* Torn program of one page over old contents; returns the page as it ends. */
static void torn_program(uint64_t seed, const uint8_t *old, const uint8_t *data, uint8_t *out)
{
    ota_nor_t *nor = mem_dev(false);
    assert_int_equal(ota_nor_program(nor, 0x400, old, PAGE), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_TORN, seed), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x400, data, PAGE), OTA_ERR_POWER_LOSS);
    assert_int_equal(loss_calls, 1);
    assert_int_equal(ota_nor_state(nor)->program_ops, 2);
    memcpy(out, ota_nor_data(nor) + 0x400, PAGE);
    assert_true(all_bytes(ota_nor_data(nor) + 0x300, PAGE, 0xFF));
    assert_true(all_bytes(ota_nor_data(nor) + 0x500, PAGE, 0xFF));
    ota_nor_close(nor);
}

static void test_cut_program_torn(void **state)
{
    (void)state;
    uint8_t old[PAGE], data[PAGE], got[PAGE], again[PAGE];
    for (unsigned i = 0; i < PAGE; i++) {
        old[i] = (uint8_t)(0xFF ^ (i & 0x11));
        data[i] = (uint8_t)(i * 37 + 11);
    }
    int distinct = 0;
    uint8_t first[PAGE];
    for (uint64_t seed = 1; seed <= 16; seed++) {
        torn_program(seed, old, data, got);
        /* Shape: a fully programmed prefix, one partial byte, then the old bytes. */
        size_t k = 0;
        while (k < PAGE && got[k] == (old[k] & data[k])) {
            k++;
        }
        size_t j = PAGE;
        while (j > 0 && got[j - 1] == old[j - 1]) {
            j--;
        }
        /* Bytes where old == old & data are ambiguous; the torn byte is the only one allowed
         * between the programmed prefix and the untouched suffix. */
        assert_true(j <= k + 1);
        if (k < PAGE) {
            uint8_t v = got[k];
            assert_int_equal(v & (uint8_t)~old[k], 0);             /* no bit set */
            assert_int_equal((old[k] & data[k]) & (uint8_t)~v, 0); /* only bits data clears */
        }
        torn_program(seed, old, data, again);
        assert_memory_equal(got, again, PAGE); /* reproducible */
        if (seed == 1) {
            memcpy(first, got, PAGE);
        } else if (memcmp(first, got, PAGE) != 0) {
            distinct++;
        }
    }
    assert_true(distinct > 0); /* seeds matter */
}

/* Torn erase of sector 1 (all 0x00 before); returns the sector as it ends. */
static void torn_erase(uint64_t seed, uint64_t n, uint8_t *out)
{
    static uint8_t zeros[3 * SEC];
    ota_nor_t *nor = mem_dev(false);
    assert_int_equal(ota_nor_program(nor, 0, zeros, sizeof(zeros)), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(nor, n, OTA_NOR_CUT_TORN, seed), OTA_OK);
    for (uint64_t i = 1; i < n; i++) {
        assert_int_equal(ota_nor_erase_sector(nor, 4 * SEC), OTA_OK);
    }
    assert_int_equal(ota_nor_erase_sector(nor, SEC), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_state(nor)->wear[1], 1);
    memcpy(out, ota_nor_data(nor) + SEC, SEC);
    assert_true(all_bytes(ota_nor_data(nor), SEC, 0x00));
    assert_true(all_bytes(ota_nor_data(nor) + 2 * SEC, SEC, 0x00));
    ota_nor_close(nor);
}

static void test_cut_erase_torn(void **state)
{
    (void)state;
    static uint8_t a[SEC], b[SEC], c[SEC], e[SEC];
    torn_erase(42, 1, a);
    size_t old = 0, erased = 0, other = 0;
    for (size_t i = 0; i < SEC; i++) {
        if (a[i] == 0x00) {
            old++;
        } else if (a[i] == 0xFF) {
            erased++;
        } else {
            other++;
        }
    }
    assert_true(old > SEC / 8);
    assert_true(erased > SEC / 8);
    assert_true(other > SEC / 8);
    torn_erase(42, 1, b);
    assert_memory_equal(a, b, SEC);
    torn_erase(43, 1, c);
    assert_memory_not_equal(a, c, SEC);
    torn_erase(42, 3, e); /* same seed, another cut point */
    assert_memory_not_equal(a, e, SEC);

    /* A torn block erase covers all 16 sectors and counts wear on each. */
    ota_nor_t *nor = mem_dev(false);
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_TORN, 5), OTA_OK);
    assert_int_equal(ota_nor_erase_block(nor, BLK), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_state(nor)->wear[16], 1);
    assert_int_equal(ota_nor_state(nor)->wear[31], 1);
    assert_int_equal(ota_nor_state(nor)->wear[32], 0);
    ota_nor_close(nor);
}

static void test_everything_fails_until_power_on(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    const ota_flash_t *f = ota_nor_flash(nor);
    const ota_nor_state_t *st = ota_nor_state(nor);
    uint8_t buf[8] = {0x12, 0x34};
    assert_int_equal(ota_nor_program(nor, 0, buf, 2), OTA_OK);

    /* Reads are not cut points: the armed cut waits for the next change. */
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_AFTER, 0), OTA_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ota_nor_read(nor, 0, buf, 8), OTA_OK);
    }
    assert_false(ota_nor_power_lost(nor));
    assert_int_equal(ota_nor_erase_sector(nor, 0x10000), OTA_ERR_POWER_LOSS);

    ota_nor_state_t before = *st;
    assert_int_equal(ota_nor_read(nor, 0, buf, 8), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_flash_read(f, 0, buf, 8), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_program(nor, 0x100, buf, 1), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_flash_program(f, 0x100, buf, 1), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_erase_block(nor, 0), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_flash_erase_range(f, 0, SEC), OTA_ERR_POWER_LOSS);
    assert_int_equal(ota_nor_erase_chip(nor), OTA_ERR_POWER_LOSS);
    assert_memory_equal(&before, st, sizeof(before)); /* nothing counted */
    assert_int_equal(loss_calls, 1);                  /* the callback ran once */
    assert_int_equal(ota_nor_data(nor)[0], 0x12);

    ota_nor_power_on(nor);
    assert_false(ota_nor_power_lost(nor));
    assert_int_equal(ota_nor_read(nor, 0, buf, 2), OTA_OK);
    assert_int_equal(buf[0], 0x12);
    assert_int_equal(buf[1], 0x34);
    assert_int_equal(ota_nor_erase_chip(nor), OTA_OK); /* no cut left armed */
    assert_int_equal(loss_calls, 1);

    /* Disarm and argument checks. */
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_BEFORE, 0), OTA_OK);
    ota_nor_cut_disarm(nor);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(nor, 0, OTA_NOR_CUT_BEFORE, 0), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_nor_cut_arm(nor, 1, (ota_nor_cut_mode_t)3, 0), OTA_ERR_INVALID_ARG);
    ota_nor_close(nor);
}

static void test_file_create_open_reopen(void **state)
{
    (void)state;
    const char *path = tmp_file("a.bin");
    ota_nor_t *nor = NULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_nor_create(path, 2 * MIB, NULL, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_size(nor), 2 * MIB);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 2 * MIB);
    uint8_t pat[300];
    for (size_t i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i ^ 0x5A);
    }
    assert_int_equal(ota_nor_program(nor, 0x1FFF00, pat, sizeof(pat) - 44), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x80, pat, sizeof(pat)), OTA_OK);
    ota_nor_close(nor);

    /* The file holds the raw bytes. */
    size_t len = 0;
    uint8_t *raw = test_read_file(path, &len);
    assert_non_null(raw);
    assert_int_equal(len, 2 * MIB);
    assert_memory_equal(raw + 0x80, pat, sizeof(pat));
    assert_memory_equal(raw + 0x1FFF00, pat, 256);
    assert_true(all_bytes(raw, 0x80, 0xFF));
    assert_true(all_bytes(raw + 0x80 + sizeof(pat), 0x1FFF00 - 0x80 - sizeof(pat), 0xFF));
    free(raw);

    /* Reopen: size from the file, contents kept, counters fresh. */
    assert_int_equal(ota_nor_open(path, NULL, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_size(nor), 2 * MIB);
    uint8_t back[300];
    assert_int_equal(ota_nor_read(nor, 0x80, back, sizeof(back)), OTA_OK);
    assert_memory_equal(back, pat, sizeof(back));
    assert_int_equal(ota_nor_state(nor)->read_ops, 1);
    ota_nor_close(nor);

    /* Read-only open. */
    ota_nor_config_t ro = {0};
    ro.readonly = true;
    assert_int_equal(ota_nor_open(path, &ro, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0, pat, 1), OTA_ERR_READONLY);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_ERR_READONLY);
    assert_int_equal(ota_nor_restore(nor, back, 0), OTA_ERR_READONLY);
    assert_int_equal(ota_nor_read(nor, 0x80, back, 4), OTA_OK);
    assert_memory_equal(back, pat, 4);
    ota_nor_close(nor);

    /* create replaces an existing file with an erased one. */
    assert_int_equal(ota_nor_create(path, MIB, NULL, &nor, &diag), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor), MIB, 0xFF));
    ota_nor_close(nor);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, MIB);
}

static void test_invalid_sizes_rejected(void **state)
{
    (void)state;
    static const uint32_t good[] = {1 * MIB,  2 * MIB,  4 * MIB,  8 * MIB,
                                    16 * MIB, 32 * MIB, 64 * MIB, 128 * MIB};
    static const uint64_t bad[] = {0,       1,        4096,     MIB - 1,   MIB + 1,
                                   3 * MIB, 12 * MIB, 48 * MIB, 256 * MIB, 512 * MIB};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(ota_nor_size_valid(good[i]));
    }
    ota_nor_t *nor = NULL;
    ota_diag_t diag;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(ota_nor_size_valid(bad[i]));
        if (bad[i] <= UINT32_MAX) {
            diag.msg[0] = '\0';
            assert_int_equal(ota_nor_create_mem((uint32_t)bad[i], NULL, &nor, &diag), OTA_ERR_SIZE);
            assert_null(nor);
            assert_non_null(strstr(diag.msg, "is not 1, 2, 4, 8, 16, 32, 64 or 128 MiB"));
        }
    }
    assert_int_equal(ota_nor_create(tmp_file("b.bin"), 3 * MIB, NULL, &nor, &diag), OTA_ERR_SIZE);
    struct stat sb;
    assert_int_not_equal(stat(tmp_file("b.bin"), &sb), 0); /* nothing written */

    /* An existing file of another size. */
    const char *odd = tmp_file("odd.bin");
    FILE *fp = fopen(odd, "wb");
    assert_non_null(fp);
    static uint8_t junk[5000];
    assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
    fclose(fp);
    diag.msg[0] = '\0';
    assert_int_equal(ota_nor_open(odd, NULL, &nor, &diag), OTA_ERR_SIZE);
    assert_null(nor);
    assert_string_equal(diag.msg, "flash image size 5000 bytes is not 1, 2, 4, 8, 16, 32, 64 or "
                                  "128 MiB (1048576 .. 134217728 bytes, a power of two)");

    assert_int_equal(ota_nor_open(tmp_file("missing.bin"), NULL, &nor, &diag), OTA_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.msg, "No such file"));

    /* A supplied state that is neither fresh nor initialised is refused. */
    static ota_nor_state_t junk_state;
    memset(&junk_state, 0x55, sizeof(junk_state));
    ota_nor_config_t cfg = {0};
    cfg.state = &junk_state;
    assert_int_equal(ota_nor_create_mem(MIB, &cfg, &nor, &diag), OTA_ERR_INVALID_ARG);
    cfg.state = NULL;
    cfg.readonly = true;
    assert_int_equal(ota_nor_create_mem(MIB, &cfg, &nor, &diag), OTA_ERR_INVALID_ARG);
}

/* A read-only file shorter than pad_size reads as the file, then 0xFF; writable it is refused. */
static void test_padded_open(void **state)
{
    (void)state;
    const char *path = tmp_file("short.bin");
    static uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13 + 1);
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, sizeof(data), fp), sizeof(data));
    fclose(fp);
    ota_nor_config_t cfg = {.readonly = true, .pad_size = 2 * MIB};
    ota_nor_t *nor = NULL;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_nor_open(path, &cfg, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_size(nor), 2 * MIB);
    assert_memory_equal(ota_nor_data(nor), data, sizeof(data));
    uint8_t buf[64];
    assert_int_equal(ota_flash_read(ota_nor_flash(nor), 2 * MIB - sizeof(buf), buf, sizeof(buf)),
                     OTA_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0xFF);
    }
    assert_int_equal(ota_flash_program(ota_nor_flash(nor), 0x10000, buf, 4), OTA_ERR_READONLY);
    ota_nor_close(nor);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, sizeof(data)); /* the file is untouched */

    cfg.readonly = false;
    assert_int_equal(ota_nor_open(path, &cfg, &nor, &diag), OTA_ERR_INVALID_ARG);
    assert_null(nor);
    cfg.readonly = true;
    cfg.pad_size = 3 * MIB;
    assert_int_equal(ota_nor_open(path, &cfg, &nor, &diag), OTA_ERR_SIZE);
    /* a flash-size file is padded to a larger pad_size, and opened as it is when not shorter */
    cfg.pad_size = 4 * MIB;
    assert_int_equal(ota_nor_create(path, MIB, NULL, &nor, &diag), OTA_OK);
    ota_nor_close(nor);
    assert_int_equal(ota_nor_open(path, &cfg, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_size(nor), 4 * MIB);
    ota_nor_close(nor);
    cfg.pad_size = MIB;
    assert_int_equal(ota_nor_open(path, &cfg, &nor, &diag), OTA_OK);
    assert_int_equal(ota_nor_size(nor), MIB);
    ota_nor_close(nor);
}

static void test_snapshot_restore_and_reset(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    ota_nor_state_t *st = ota_nor_state(nor);
    uint8_t *snap = malloc(MIB);
    assert_non_null(snap);
    uint8_t pat[64];
    memset(pat, 0x3C, sizeof(pat));
    assert_int_equal(ota_nor_program(nor, 0x2000, pat, sizeof(pat)), OTA_OK);
    assert_int_equal(ota_nor_snapshot(nor, snap, MIB - 1), OTA_ERR_NO_SPACE);
    assert_int_equal(ota_nor_snapshot(nor, snap, MIB), OTA_OK);

    /* A sweep over the cut points of a scenario of four page programs and one erase. */
    static uint8_t zeros[4 * PAGE];
    uint64_t total = 0;
    for (uint64_t n = 1;; n++) {
        assert_int_equal(ota_nor_restore(nor, snap, MIB), OTA_OK);
        ota_nor_reset_counters(nor);
        ota_nor_power_on(nor);
        assert_int_equal(ota_nor_cut_arm(nor, n, OTA_NOR_CUT_BEFORE, 0), OTA_OK);
        int err = ota_nor_program(nor, 0x10000, zeros, sizeof(zeros));
        if (err == OTA_OK) {
            err = ota_nor_erase_sector(nor, 0x2000);
        }
        if (err == OTA_OK) {
            total = n - 1;
            break;
        }
        assert_int_equal(err, OTA_ERR_POWER_LOSS);
        assert_int_equal(st->ops, n);
        /* Exactly the cut points before n happened. */
        uint64_t pages_done = n - 1 < 4 ? n - 1 : 4;
        assert_int_equal(st->program_ops, pages_done);
        assert_true(all_bytes(ota_nor_data(nor) + 0x10000, pages_done * PAGE, 0x00));
        assert_true(all_bytes(ota_nor_data(nor) + 0x10000 + pages_done * PAGE,
                              (4 - pages_done) * PAGE, 0xFF));
        assert_memory_equal(ota_nor_data(nor) + 0x2000, pat, sizeof(pat));
        assert_true(n <= 5);
    }
    assert_int_equal(total, 5);
    ota_nor_cut_disarm(nor);

    /* Restore rewinds the bytes; reset zeroes counters and wear but keeps an armed cut's
     * distance. */
    assert_int_equal(ota_nor_restore(nor, snap, MIB), OTA_OK);
    assert_memory_equal(ota_nor_data(nor), snap, MIB);
    assert_int_equal(ota_nor_restore(nor, snap, MIB / 2), OTA_ERR_SIZE);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(nor, 2, OTA_NOR_CUT_BEFORE, 0), OTA_OK);
    ota_nor_reset_counters(nor);
    assert_int_equal(st->ops, 0);
    assert_int_equal(st->erase_ops, 0);
    assert_int_equal(st->wear[0], 0);
    assert_int_equal(st->busy_typ_us, 0);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_ERR_POWER_LOSS);
    free(snap);
    ota_nor_close(nor);
}

static void test_timing_model(void **state)
{
    (void)state;
    const ota_nor_profile_t *p = ota_nor_profile_default();
    assert_string_equal(p->name, "W25Q32JV");
    assert_ptr_equal(ota_nor_profile_find("w25q32jv"), p);
    assert_null(ota_nor_profile_find("no-such-chip"));
    assert_null(ota_nor_profile_find(NULL));
    size_t count = 0;
    while (ota_nor_profile_at(count) != NULL) {
        const ota_nor_profile_t *q = ota_nor_profile_at(count);
        assert_ptr_equal(ota_nor_profile_find(q->name), q); /* names are unique */
        count++;
    }
    assert_true(count >= 1);

    /* W25Q32JV datasheet: page 0.4/3 ms, 4 KiB 45/400 ms, 64 KiB 150/2000 ms, chip 10/50 s. */
    assert_int_equal(p->page_program_typ_us, 400);
    assert_int_equal(p->page_program_max_us, 3000);
    assert_int_equal(p->sector_erase_typ_us, 45000);
    assert_int_equal(p->sector_erase_max_us, 400000);
    assert_int_equal(p->block_erase_typ_us, 150000);
    assert_int_equal(p->block_erase_max_us, 2000000);
    assert_int_equal(p->chip_erase_typ_us, 10000000);
    assert_int_equal(p->chip_erase_max_us, 50000000);

    /* The part follows the flash size; reads follow the image header's mode and frequency. */
    ota_nor_profile_t b;
    const ota_chip_t *esp32 = ota_chip_by_name("esp32");
    const uint8_t dio40[4] = {0xE9, 3, 2, 0x20}; /* DIO, 40 MHz (code 0x0), 4 MiB */
    const uint8_t qio80[4] = {0xE9, 3, 0, 0x2F}; /* QIO, 80 MHz (code 0xF) */
    ota_nor_profile_for_flash(4u << 20, esp32, dio40, &b);
    assert_string_equal(b.name, "W25Q32JV");
    assert_int_equal(b.read_bytes_per_s, 10000000); /* 40 MHz x 2 bits */
    ota_nor_profile_for_flash(16u << 20, esp32, qio80, &b);
    assert_string_equal(b.name, "W25Q128JV");
    assert_int_equal(b.chip_erase_typ_us, 40000000);
    assert_int_equal(b.read_bytes_per_s, 40000000); /* 80 MHz x 4 bits */
    ota_nor_profile_for_flash(8u << 20, esp32, NULL, &b); /* no image: DIO 40 MHz */
    assert_string_equal(b.name, "W25Q64JV");
    assert_int_equal(b.read_bytes_per_s, 10000000);
    ota_nor_profile_for_flash(1u << 20, esp32, dio40, &b);
    assert_string_equal(b.name, "W25Q16JV");
    ota_nor_profile_for_flash(128u << 20, esp32, dio40, &b);
    assert_string_equal(b.name, "W25Q256JV");

    /* Known sequence: 3 page programs (600 bytes from 0x80), 2 sector erases, 1 block erase,
     * 1 chip erase, 40000 bytes read. */
    ota_nor_t *nor = mem_dev(false);
    const ota_nor_state_t *st = ota_nor_state(nor);
    static uint8_t buf[40000];
    assert_int_equal(ota_nor_program(nor, 0x80, buf, 600), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, SEC), OTA_OK);
    assert_int_equal(ota_nor_erase_block(nor, BLK), OTA_OK);
    assert_int_equal(ota_nor_erase_chip(nor), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 0, buf, sizeof(buf)), OTA_OK);
    /* typ: 3*0.4 ms + 2*45 ms + 150 ms + 10 s = 10.2412 s; max: 3*3 + 2*400 + 2000 ms + 50 s */
    assert_int_equal(st->busy_typ_us, 10241200);
    assert_int_equal(st->busy_max_us, 52809000);

    ota_nor_op_counts_t c;
    ota_nor_time_t t;
    ota_nor_state_counts(st, &c);
    assert_int_equal(c.page_programs, 3);
    ota_nor_time_model(p, &c, &t);
    assert_int_equal(t.typ_us, 10241200);
    assert_int_equal(t.max_us, 52809000);
    assert_int_equal(t.read_us, 1000); /* 40000 bytes at 40 MB/s */

    /* The pure model on its own: a 1 MiB image written sector by sector. */
    ota_nor_op_counts_t img = {MIB / PAGE, MIB / SEC, 0, 0, 0};
    ota_nor_time_model(p, &img, &t);
    assert_int_equal(t.typ_us, 4096ull * 400 + 256ull * 45000);
    assert_int_equal(t.max_us, 4096ull * 3000 + 256ull * 400000);
    assert_int_equal(t.read_us, 0);
    ota_nor_close(nor);
}

static void test_shared_state_two_devices(void **state)
{
    (void)state;
    const char *path = tmp_file("shared.bin");
    static ota_nor_state_t shared; /* zero-filled: initialised on first use */
    memset(&shared, 0, sizeof(shared));
    ota_nor_config_t cfg = {0};
    cfg.state = &shared;
    ota_nor_t *a = NULL, *b = NULL;
    assert_int_equal(ota_nor_create(path, 4 * MIB, &cfg, &a, NULL), OTA_OK);
    assert_true(ota_nor_state_valid(&shared));
    assert_int_equal(ota_nor_open(path, &cfg, &b, NULL), OTA_OK);
    assert_ptr_equal(ota_nor_state(a), &shared);
    assert_ptr_equal(ota_nor_state(b), &shared);

    uint8_t x[2] = {0x11, 0x22}, y[2];
    assert_int_equal(ota_nor_program(a, 0x100, x, 2), OTA_OK);
    assert_int_equal(ota_nor_read(b, 0x100, y, 2), OTA_OK); /* same bytes through the file */
    assert_memory_equal(x, y, 2);
    assert_int_equal(ota_nor_erase_sector(b, 0x3000), OTA_OK);
    assert_int_equal(shared.ops, 2);
    assert_int_equal(shared.program_ops, 1);
    assert_int_equal(shared.erase_ops, 1);
    assert_int_equal(shared.read_ops, 1);

    /* A cut armed through one device hits whichever performs the operation. */
    assert_int_equal(ota_nor_cut_arm(a, 2, OTA_NOR_CUT_BEFORE, 0), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(a, 0x4000), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(b, 0x5000), OTA_ERR_POWER_LOSS);
    assert_true(ota_nor_power_lost(a));
    assert_int_equal(ota_nor_read(a, 0, y, 1), OTA_ERR_POWER_LOSS);
    ota_nor_power_on(b);
    assert_int_equal(ota_nor_read(a, 0x100, y, 2), OTA_OK);
    assert_int_equal(shared.ops, 4);
    ota_nor_close(a);
    ota_nor_close(b);

    /* Reopening with the same (initialised) state keeps counting. */
    assert_int_equal(ota_nor_open(path, &cfg, &a, NULL), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(a, 0), OTA_OK);
    assert_int_equal(shared.ops, 5);
    assert_int_equal(shared.wear[0], 1);
    ota_nor_close(a);
}

static void exit_on_loss(void *arg)
{
    (void)arg;
    _exit(42);
}

static void test_cut_ends_a_child_process(void **state)
{
    (void)state;
    const char *path = tmp_file("fork.bin");
    ota_nor_state_t *shared =
        mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(shared != MAP_FAILED);
    ota_nor_config_t cfg = {0};
    cfg.state = shared;
    ota_nor_t *parent = NULL;
    assert_int_equal(ota_nor_create(path, MIB, &cfg, &parent, NULL), OTA_OK);
    assert_int_equal(ota_nor_cut_arm(parent, 3, OTA_NOR_CUT_AFTER, 0), OTA_OK);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ota_nor_config_t ccfg = cfg;
        ccfg.on_power_loss = exit_on_loss;
        ota_nor_t *child = NULL;
        if (ota_nor_open(path, &ccfg, &child, NULL) != OTA_OK) {
            _exit(1);
        }
        uint8_t z[PAGE * 4];
        memset(z, 0, sizeof(z));
        ota_nor_program(child, 0, z, sizeof(z)); /* the third page ends the process */
        _exit(2);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
    assert_true(ota_nor_power_lost(parent));
    assert_int_equal(shared->program_ops, 3);
    const uint8_t *d = ota_nor_data(parent);
    assert_true(all_bytes(d, 3 * PAGE, 0x00)); /* the child's writes reached the file */
    assert_true(all_bytes(d + 3 * PAGE, PAGE, 0xFF));
    ota_nor_close(parent);
    munmap(shared, sizeof(*shared));
}

/* ---- fault model ---------------------------------------------------------------------------- */

static void test_fault_read_flip_and_error(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    uint8_t buf[64];
    uint8_t want[64];
    memset(want, 0xFF, sizeof(want));
    ota_nor_faults_t f = {.read_flip_ppm = 1000000u, .seed = 7};
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_OK);
    /* every read flips exactly one bit of what it returns; the flash is unchanged */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ota_nor_read(nor, 0x1000, buf, sizeof(buf)), OTA_OK);
        int diff = 0;
        for (size_t k = 0; k < sizeof(buf); k++) {
            diff += __builtin_popcount((unsigned)(buf[k] ^ want[k]));
        }
        assert_int_equal(diff, 1);
    }
    assert_true(all_bytes(ota_nor_data(nor) + 0x1000, sizeof(buf), 0xFF));
    assert_int_equal(ota_nor_state(nor)->faults.injected, 20);
    /* read errors: every read fails; none at rate 0 */
    ota_nor_faults_t e = {.read_error_ppm = 1000000u};
    assert_int_equal(ota_nor_set_faults(nor, &e), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 0, buf, 4), OTA_ERR_IO);
    assert_int_equal(ota_nor_set_faults(nor, NULL), OTA_OK);
    assert_int_equal(ota_nor_read(nor, 0x1000, buf, sizeof(buf)), OTA_OK);
    assert_memory_equal(buf, want, sizeof(buf));
    /* a rate in between fires sometimes, and the same seed replays the same draws */
    ota_nor_faults_t half = {.read_error_ppm = 500000u, .seed = 3};
    int fails[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        assert_int_equal(ota_nor_set_faults(nor, &half), OTA_OK);
        for (int i = 0; i < 200; i++) {
            fails[run] += ota_nor_read(nor, 0, buf, 4) == OTA_ERR_IO;
        }
    }
    assert_true(fails[0] > 50 && fails[0] < 150);
    assert_int_equal(fails[0], fails[1]);
    ota_nor_close(nor);
}

static void test_fault_program_drop(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    uint8_t zeros[PAGE];
    memset(zeros, 0, sizeof(zeros));
    ota_nor_faults_t f = {.program_drop_ppm = 1000000u, .seed = 1};
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_OK);
    /* the program reports success, yet some bits of one byte stay set */
    assert_int_equal(ota_nor_program(nor, 0x2000, zeros, PAGE), OTA_OK);
    const uint8_t *d = ota_nor_data(nor) + 0x2000;
    int set_bytes = 0;
    for (uint32_t i = 0; i < PAGE; i++) {
        set_bytes += d[i] != 0;
    }
    assert_int_equal(set_bytes, 1);
    /* programming it again clears them (the bits were only left set, not stuck) */
    assert_int_equal(ota_nor_set_faults(nor, NULL), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0x2000, zeros, PAGE), OTA_OK);
    assert_true(all_bytes(d, PAGE, 0));
    ota_nor_close(nor);
}

static void test_fault_bad_sector(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    uint8_t data[16];
    memset(data, 0x5A, sizeof(data));
    assert_int_equal(ota_nor_program(nor, 3 * SEC, data, sizeof(data)), OTA_OK);
    /* stuck: program and erase report success and change nothing in that sector only */
    ota_nor_faults_t f = {.bad_sector = 3 + 1, .bad_mode = OTA_NOR_BAD_STUCK};
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, 3 * SEC), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor) + 3 * SEC, sizeof(data), 0x5A));
    uint8_t zero[16] = {0};
    assert_int_equal(ota_nor_program(nor, 3 * SEC + 0x100, zero, sizeof(zero)), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor) + 3 * SEC + 0x100, sizeof(zero), 0xFF));
    assert_int_equal(ota_nor_program(nor, 4 * SEC, zero, sizeof(zero)), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor) + 4 * SEC, sizeof(zero), 0));
    /* a block erase over it erases the good sectors around it */
    assert_int_equal(ota_nor_erase_block(nor, 0), OTA_OK);
    assert_true(all_bytes(ota_nor_data(nor) + 4 * SEC, sizeof(zero), 0xFF));
    assert_true(all_bytes(ota_nor_data(nor) + 3 * SEC, sizeof(data), 0x5A));
    /* error mode: both fail and nothing changes */
    f.bad_mode = OTA_NOR_BAD_ERROR;
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_OK);
    assert_int_equal(ota_nor_erase_sector(nor, 3 * SEC), OTA_ERR_IO);
    assert_int_equal(ota_nor_program(nor, 3 * SEC + 0x200, zero, sizeof(zero)), OTA_ERR_IO);
    assert_true(all_bytes(ota_nor_data(nor) + 3 * SEC + 0x200, sizeof(zero), 0xFF));
    assert_int_equal(ota_nor_erase_block(nor, 0), OTA_ERR_IO);
    assert_true(all_bytes(ota_nor_data(nor) + 3 * SEC, sizeof(data), 0x5A));
    /* a sector outside the device is refused */
    f.bad_sector = MIB / SEC + 1;
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_ERR_INVALID_ARG);
    ota_nor_close(nor);
}

static void test_fault_wear_out(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    uint8_t zero[8] = {0};
    ota_nor_faults_t f = {.wear_limit = 2, .bad_mode = OTA_NOR_BAD_ERROR};
    assert_int_equal(ota_nor_set_faults(nor, &f), OTA_OK);
    /* the sector survives two erases; the third finds it worn out, and so do programs */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ota_nor_erase_sector(nor, 5 * SEC), OTA_OK);
        assert_int_equal(ota_nor_program(nor, 5 * SEC, zero, sizeof(zero)), OTA_OK);
    }
    assert_int_equal(ota_nor_erase_sector(nor, 5 * SEC), OTA_ERR_IO);
    assert_true(all_bytes(ota_nor_data(nor) + 5 * SEC, sizeof(zero), 0));
    assert_int_equal(ota_nor_program(nor, 5 * SEC + 64, zero, sizeof(zero)), OTA_ERR_IO);
    assert_int_equal(ota_nor_erase_sector(nor, 6 * SEC), OTA_OK); /* its neighbour is fine */
    ota_nor_close(nor);
}

static void test_fault_parse(void **state)
{
    (void)state;
    ota_nor_faults_t f;
    ota_diag_t diag = {{0}};
    assert_int_equal(ota_nor_faults_parse("read-flip=10,read-error=20,program-drop=30,"
                                          "bad-sector=0x3100,bad-mode=error,wear-limit=9,seed=5",
                                          &f, &diag),
                     OTA_OK);
    assert_int_equal(f.read_flip_ppm, 10);
    assert_int_equal(f.read_error_ppm, 20);
    assert_int_equal(f.program_drop_ppm, 30);
    assert_int_equal(f.bad_sector, 3 + 1);
    assert_int_equal(f.bad_mode, OTA_NOR_BAD_ERROR);
    assert_int_equal(f.wear_limit, 9);
    assert_int_equal(f.seed, 5);
    static const char *const bad[] = {"read-flip=1000001", "bad-mode=flaky", "wear=3", "read-error",
                                      "program-drop=-1",   "seed=x",         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        diag.msg[0] = '\0';
        int rc = ota_nor_faults_parse(bad[i], &f, &diag);
        if (bad[i][0] == '\0') {
            assert_int_equal(rc, OTA_OK); /* empty: no faults */
            continue;
        }
        assert_int_equal(rc, OTA_ERR_INVALID_ARG);
        assert_true(diag.msg[0] != '\0');
    }
}

/* The write generation: every change of the bytes raises it, power cuts and faults included;
 * reads do not; resetting the counters keeps it. The flash's generation callback refuses reuse
 * while read faults are modeled. */
static void test_write_generation(void **state)
{
    (void)state;
    ota_nor_t *nor = mem_dev(false);
    const ota_flash_t *f = ota_nor_flash(nor);
    const ota_nor_state_t *st = ota_nor_state(nor);
    uint64_t g0 = 0, g = 0;
    uint8_t b[300] = {0};
    assert_true(f->generation(f->ctx, &g0));
    assert_int_equal(ota_nor_read(nor, 0, b, sizeof(b)), OTA_OK);
    assert_true(f->generation(f->ctx, &g) && g == g0);
    assert_int_equal(ota_nor_program(nor, 0, b, 1), OTA_OK);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    assert_int_equal(ota_nor_erase_sector(nor, 0), OTA_OK);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_BEFORE, 1), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0, b, 1), OTA_ERR_POWER_LOSS);
    ota_nor_power_on(nor);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    assert_int_equal(ota_nor_cut_arm(nor, 1, OTA_NOR_CUT_TORN, 2), OTA_OK);
    assert_int_equal(ota_nor_erase_block(nor, 0), OTA_ERR_POWER_LOSS);
    ota_nor_power_on(nor);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    ota_nor_faults_t bad = {.bad_sector = 1, .bad_mode = OTA_NOR_BAD_ERROR};
    assert_int_equal(ota_nor_set_faults(nor, &bad), OTA_OK);
    assert_int_equal(ota_nor_program(nor, 0, b, 1), OTA_ERR_IO);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    uint8_t *copy = calloc(1, MIB);
    assert_non_null(copy);
    assert_int_equal(ota_nor_restore(nor, copy, MIB), OTA_OK);
    free(copy);
    assert_true(f->generation(f->ctx, &g) && g > g0);
    g0 = g;
    ota_nor_reset_counters(nor);
    assert_int_equal(st->program_ops, 0);
    assert_true(f->generation(f->ctx, &g) && g == g0);
    ota_nor_faults_t flips = {.read_flip_ppm = 1};
    assert_int_equal(ota_nor_set_faults(nor, &flips), OTA_OK);
    assert_false(f->generation(f->ctx, &g));
    ota_nor_faults_t errors = {.read_error_ppm = 1};
    assert_int_equal(ota_nor_set_faults(nor, &errors), OTA_OK);
    assert_false(f->generation(f->ctx, &g));
    /* skip_read counts the bytes as read */
    uint64_t bytes = st->read_bytes;
    f->skip_read(f->ctx, 12345);
    assert_int_equal(st->read_bytes - bytes, 12345);
    ota_nor_close(nor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_ands_and_erase_sets),
        cmocka_unit_test(test_strict_mode_refuses_non_erased),
        cmocka_unit_test(test_erase_units_alignment_bounds),
        cmocka_unit_test(test_page_split_and_op_counts),
        cmocka_unit_test(test_wear_counters),
        cmocka_unit_test(test_cut_program_before_and_after),
        cmocka_unit_test(test_cut_erase_before_and_after),
        cmocka_unit_test(test_cut_program_torn),
        cmocka_unit_test(test_cut_erase_torn),
        cmocka_unit_test(test_everything_fails_until_power_on),
        cmocka_unit_test(test_file_create_open_reopen),
        cmocka_unit_test(test_invalid_sizes_rejected),
        cmocka_unit_test(test_padded_open),
        cmocka_unit_test(test_snapshot_restore_and_reset),
        cmocka_unit_test(test_timing_model),
        cmocka_unit_test(test_shared_state_two_devices),
        cmocka_unit_test(test_cut_ends_a_child_process),
        cmocka_unit_test(test_fault_read_flip_and_error),
        cmocka_unit_test(test_fault_program_drop),
        cmocka_unit_test(test_fault_bad_sector),
        cmocka_unit_test(test_fault_wear_out),
        cmocka_unit_test(test_fault_parse),
        cmocka_unit_test(test_write_generation),
    };
    return cmocka_run_group_tests(tests, NULL, tmp_cleanup);
}
