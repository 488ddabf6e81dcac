/*
 * Emulated SPI NOR flash over an mmap'ed raw image: AND programming split into page programs,
 * sector/block/chip erase, strict mode, counters and wear, and power cuts (before, after, torn).
 * See include/ota/ota_nor.h for the model.
 */
#include "ota/ota_nor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOR_ERASED 0xFFu

struct ota_nor {
    uint8_t *mem; /* size bytes: the file MAP_SHARED, or a read-only copy of it */
    uint32_t size;
    bool readonly;
    bool strict;
    const ota_nor_profile_t *profile;
    ota_nor_state_t *st; /* &own or the caller's */
    void (*on_power_loss)(void *arg);
    void *on_power_loss_arg;
    ota_flash_t flash;
    ota_nor_state_t own;
};

/* ---------------------------------------------------------------------------------------- */
/* State                                                                                     */
/* ---------------------------------------------------------------------------------------- */

void ota_nor_state_init(ota_nor_state_t *st)
{
    memset(st, 0, sizeof(*st));
    st->magic = OTA_NOR_STATE_MAGIC;
    st->version = OTA_NOR_STATE_VERSION;
}

bool ota_nor_state_valid(const ota_nor_state_t *st)
{
    return st != NULL && st->magic == OTA_NOR_STATE_MAGIC && st->version == OTA_NOR_STATE_VERSION;
}

uint32_t ota_nor_state_wear_max(const ota_nor_state_t *st)
{
    uint32_t max = 0;
    for (uint32_t i = 0; i < OTA_NOR_MAX_SECTORS; i++) {
        if (st->wear[i] > max) {
            max = st->wear[i];
        }
    }
    return max;
}

uint64_t ota_nor_state_wear_total(const ota_nor_state_t *st)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < OTA_NOR_MAX_SECTORS; i++) {
        total += st->wear[i];
    }
    return total;
}

void ota_nor_state_counts(const ota_nor_state_t *st, ota_nor_op_counts_t *out)
{
    out->page_programs = st->program_ops;
    out->sector_erases = st->sector_erases;
    out->block_erases = st->block_erases;
    out->chip_erases = st->chip_erases;
    out->read_bytes = st->read_bytes;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Reproducible randomness for torn operations                                               */
/* ---------------------------------------------------------------------------------------- */

/* splitmix64: one 64-bit output per call, state advanced by the golden-ratio increment. */
static uint64_t prng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Generator state for case (seed, n): both are mixed in so nearby cases differ. */
static uint64_t prng_seed(uint64_t seed, uint64_t n)
{
    uint64_t s = seed;
    uint64_t a = prng_next(&s);
    s = n ^ 0xD1B54A32D192ED03ull;
    return a ^ prng_next(&s);
}

/* ---------------------------------------------------------------------------------------- */
/* Cut points                                                                                */
/* ---------------------------------------------------------------------------------------- */

enum { CUT_NONE = -1 };

/* Consumes one cut point; returns the cut mode when the armed cut hits it, else CUT_NONE. */
static int cut_point(ota_nor_t *nor)
{
    ota_nor_state_t *st = nor->st;
    st->ops++;
    if (st->cut_at != 0 && st->ops == st->cut_at) {
        return (int)st->cut_mode;
    }
    return CUT_NONE;
}

/* Turns the power off (state first, then the callback) and returns OTA_ERR_POWER_LOSS. */
static int power_cut(ota_nor_t *nor)
{
    ota_nor_state_t *st = nor->st;
    st->power_lost = 1;
    st->cut_at = 0;
    st->cuts++;
    if (nor->on_power_loss != NULL) {
        nor->on_power_loss(nor->on_power_loss_arg);
    }
    return OTA_ERR_POWER_LOSS;
}

static uint64_t cut_rng(const ota_nor_t *nor)
{
    return prng_seed(nor->st->cut_seed, nor->st->cut_n);
}

/* ---------------------------------------------------------------------------------------- */
/* Faults                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* The next draw of the fault generator (reproducible from the fault seed). */
static uint64_t fault_rng(ota_nor_t *nor)
{
    ota_nor_faults_t *f = &nor->st->faults;
    return prng_seed(f->seed ^ 0x6A09E667F3BCC909ull, ++f->draws);
}

/* True, with probability ppm per million, when a fault of that kind fires now. */
static bool fault_fires(ota_nor_t *nor, uint32_t ppm)
{
    if (ppm == 0) {
        return false;
    }
    uint64_t s = fault_rng(nor);
    if (prng_next(&s) % 1000000u >= ppm) {
        return false;
    }
    nor->st->faults.injected++;
    return true;
}

/* True when sector sec is bad: the stuck sector, or worn out. */
static bool sector_bad(const ota_nor_t *nor, uint32_t sec)
{
    const ota_nor_faults_t *f = &nor->st->faults;
    return f->bad_sector == sec + 1 || (f->wear_limit != 0 && nor->st->wear[sec] > f->wear_limit);
}

/* A page program lands with some of the bits it should clear left set, in the first byte (from a
 * random start) that has bits to clear; the rest of the page is programmed as asked. */
static void program_drop(ota_nor_t *nor, uint8_t *dst, const uint8_t *src, uint32_t len)
{
    uint64_t s = fault_rng(nor);
    uint32_t start = (uint32_t)(prng_next(&s) % len);
    uint32_t hit = len;
    for (uint32_t k = 0; k < len && hit == len; k++) {
        uint32_t i = (start + k) % len;
        hit = (dst[i] & (uint8_t)~src[i]) != 0 ? i : len;
    }
    for (uint32_t i = 0; i < len; i++) {
        uint8_t clear = (uint8_t)(dst[i] & (uint8_t)~src[i]);
        uint8_t keep = 0;
        if (i == hit) {
            keep = (uint8_t)(clear & (uint8_t)prng_next(&s));
            keep = keep != 0 ? keep : (uint8_t)(clear & -clear); /* at least its lowest bit */
        }
        dst[i] &= (uint8_t)(src[i] | keep);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Operations                                                                                */
/* ---------------------------------------------------------------------------------------- */

static bool range_ok(const ota_nor_t *nor, uint32_t addr, uint32_t len)
{
    return addr <= nor->size && len <= nor->size - addr;
}

static void count_program(ota_nor_t *nor, uint32_t len)
{
    ota_nor_state_t *st = nor->st;
    st->program_ops++;
    st->program_bytes += len;
    st->busy_typ_us += nor->profile->page_program_typ_us;
    st->busy_max_us += nor->profile->page_program_max_us;
}

/* dst &= src, 8 bytes at a time (the two never overlap: src is the caller's buffer). */
static void and_bytes(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t a, b;
        memcpy(&a, dst + i, 8);
        memcpy(&b, src + i, 8);
        a &= b;
        memcpy(dst + i, &a, 8);
    }
    for (; i < len; i++) {
        dst[i] &= src[i];
    }
}

/* Programs one chunk inside a single page, honouring the cut point it consumes. */
static int program_page(ota_nor_t *nor, uint32_t addr, const uint8_t *src, uint32_t len)
{
    uint8_t *dst = nor->mem + addr;
    nor->st->writes++;
    int cut = cut_point(nor);
    if (cut == OTA_NOR_CUT_BEFORE) {
        return power_cut(nor);
    }
    if (sector_bad(nor, addr / OTA_FLASH_SECTOR_SIZE)) {
        nor->st->faults.injected++;
        count_program(nor, len);
        if (cut != CUT_NONE) {
            return power_cut(nor);
        }
        return nor->st->faults.bad_mode == OTA_NOR_BAD_ERROR ? OTA_ERR_IO : OTA_OK;
    }
    if (cut == OTA_NOR_CUT_TORN) {
        uint64_t s = cut_rng(nor);
        uint32_t done = (uint32_t)(prng_next(&s) % len);
        for (uint32_t i = 0; i < done; i++) {
            dst[i] &= src[i];
        }
        /* The next byte gets a random subset of the bits it should lose. */
        uint8_t clear = (uint8_t)(dst[done] & (uint8_t)~src[done]);
        dst[done] &= (uint8_t) ~(clear & (uint8_t)prng_next(&s));
        count_program(nor, len);
        return power_cut(nor);
    }
    if (fault_fires(nor, nor->st->faults.program_drop_ppm)) {
        program_drop(nor, dst, src, len);
    } else {
        and_bytes(dst, src, len);
    }
    count_program(nor, len);
    return cut == OTA_NOR_CUT_AFTER ? power_cut(nor) : OTA_OK;
}

int ota_nor_read(ota_nor_t *nor, uint32_t addr, void *dst, uint32_t len)
{
    if (nor == NULL || (dst == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (nor->st->power_lost) {
        return OTA_ERR_POWER_LOSS;
    }
    if (!range_ok(nor, addr, len)) {
        return OTA_ERR_BOUNDS;
    }
    nor->st->read_ops++;
    nor->st->read_bytes += len;
    if (len == 0) {
        return OTA_OK;
    }
    if (fault_fires(nor, nor->st->faults.read_error_ppm)) {
        return OTA_ERR_IO;
    }
    memcpy(dst, nor->mem + addr, len);
    if (fault_fires(nor, nor->st->faults.read_flip_ppm)) {
        uint64_t s = fault_rng(nor);
        uint64_t bit = prng_next(&s) % ((uint64_t)len * 8u);
        ((uint8_t *)dst)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    return OTA_OK;
}

/* Common checks of program and erase: power, write access. */
static int write_gate(const ota_nor_t *nor)
{
    if (nor->st->power_lost) {
        return OTA_ERR_POWER_LOSS;
    }
    return nor->readonly ? OTA_ERR_READONLY : OTA_OK;
}

int ota_nor_program(ota_nor_t *nor, uint32_t addr, const void *src, uint32_t len)
{
    if (nor == NULL || (src == NULL && len > 0)) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = write_gate(nor);
    if (err != OTA_OK) {
        return err;
    }
    if (!range_ok(nor, addr, len)) {
        return OTA_ERR_BOUNDS;
    }
    if (nor->strict) {
        for (uint32_t i = 0; i < len; i++) {
            if (nor->mem[addr + i] != NOR_ERASED) {
                return OTA_ERR_NOT_ERASED;
            }
        }
    }
    const uint8_t *s = src;
    while (len > 0) {
        uint32_t room = OTA_FLASH_PAGE_SIZE - addr % OTA_FLASH_PAGE_SIZE;
        uint32_t n = len < room ? len : room;
        err = program_page(nor, addr, s, n);
        if (err != OTA_OK) {
            return err;
        }
        addr += n;
        s += n;
        len -= n;
    }
    return OTA_OK;
}

enum erase_kind { ERASE_SECTOR, ERASE_BLOCK, ERASE_CHIP };

/* Bad sectors in [addr, addr+len), each counted as an injected fault. */
static uint32_t erase_bad_sectors(ota_nor_t *nor, uint32_t addr, uint32_t len)
{
    uint32_t bad = 0;
    for (uint32_t sec = addr / OTA_FLASH_SECTOR_SIZE; sec < (addr + len) / OTA_FLASH_SECTOR_SIZE;
         sec++) {
        bad += sector_bad(nor, sec) ? 1u : 0u;
    }
    nor->st->faults.injected += bad;
    return bad;
}

/* A stuck erase: the good sectors of the range are erased, the bad ones keep their bytes. */
static void erase_around_bad(ota_nor_t *nor, uint32_t addr, uint32_t len)
{
    for (uint32_t a = addr; a < addr + len; a += OTA_FLASH_SECTOR_SIZE) {
        if (!sector_bad(nor, a / OTA_FLASH_SECTOR_SIZE)) {
            memset(nor->mem + a, NOR_ERASED, OTA_FLASH_SECTOR_SIZE);
        }
    }
}

/* Erases [addr, addr+len) as one operation of the given kind, honouring its cut point. */
/*
 * Sets len bytes (whole 4 KiB sectors) to the erased value, skipping the sectors that already
 * hold it: erasing erased flash then writes to no page of the mapping (no page fault for a
 * write, nothing to write back). The sectors are compared a word at a time.
 */
static void erase_bytes(uint8_t *dst, uint32_t len)
{
    for (uint32_t at = 0; at < len; at += OTA_FLASH_SECTOR_SIZE) {
        uint8_t *sec = dst + at;
        uint32_t i = 0;
        for (; i < OTA_FLASH_SECTOR_SIZE; i += 8) {
            uint64_t w;
            memcpy(&w, sec + i, sizeof(w));
            if (w != UINT64_MAX) {
                break;
            }
        }
        if (i < OTA_FLASH_SECTOR_SIZE) {
            memset(sec, NOR_ERASED, OTA_FLASH_SECTOR_SIZE);
        }
    }
}

static int erase_unit(ota_nor_t *nor, uint32_t addr, uint32_t len, enum erase_kind kind)
{
    ota_nor_state_t *st = nor->st;
    const ota_nor_profile_t *p = nor->profile;
    st->writes++;
    int cut = cut_point(nor);
    if (cut == OTA_NOR_CUT_BEFORE) {
        return power_cut(nor);
    }
    uint8_t *dst = nor->mem + addr;
    for (uint32_t sec = addr / OTA_FLASH_SECTOR_SIZE; sec < (addr + len) / OTA_FLASH_SECTOR_SIZE;
         sec++) {
        st->wear[sec]++;
    }
    uint32_t bad = erase_bad_sectors(nor, addr, len);
    if (bad != 0 && nor->st->faults.bad_mode == OTA_NOR_BAD_ERROR) {
        return cut == CUT_NONE ? OTA_ERR_IO : power_cut(nor);
    }
    if (bad != 0) {
        erase_around_bad(nor, addr, len);
    } else if (cut == OTA_NOR_CUT_TORN) {
        /* Each byte ends up old, erased or random. */
        uint64_t s = cut_rng(nor);
        for (uint32_t i = 0; i < len; i++) {
            uint64_t r = prng_next(&s);
            switch (r % 3) {
            case 0:
                break;
            case 1:
                dst[i] = NOR_ERASED;
                break;
            default:
                dst[i] = (uint8_t)(r >> 8);
                break;
            }
        }
    } else {
        erase_bytes(dst, len);
    }
    st->erase_ops++;
    st->erase_bytes += len;
    switch (kind) {
    case ERASE_SECTOR:
        st->sector_erases++;
        st->busy_typ_us += p->sector_erase_typ_us;
        st->busy_max_us += p->sector_erase_max_us;
        break;
    case ERASE_BLOCK:
        st->block_erases++;
        st->busy_typ_us += p->block_erase_typ_us;
        st->busy_max_us += p->block_erase_max_us;
        break;
    case ERASE_CHIP:
        st->chip_erases++;
        st->busy_typ_us += p->chip_erase_typ_us;
        st->busy_max_us += p->chip_erase_max_us;
        break;
    }
    return cut == CUT_NONE ? OTA_OK : power_cut(nor);
}

/* A sector or block erase command: the unit of `size` bytes at an aligned addr. */
static int erase_aligned(ota_nor_t *nor, uint32_t addr, uint32_t size, enum erase_kind kind)
{
    if (nor == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = write_gate(nor);
    if (err != OTA_OK) {
        return err;
    }
    if (addr % size != 0) {
        return OTA_ERR_ALIGN;
    }
    if (!range_ok(nor, addr, size)) {
        return OTA_ERR_BOUNDS;
    }
    return erase_unit(nor, addr, size, kind);
}

int ota_nor_erase_sector(ota_nor_t *nor, uint32_t addr)
{
    return erase_aligned(nor, addr, OTA_FLASH_SECTOR_SIZE, ERASE_SECTOR);
}

int ota_nor_erase_block(ota_nor_t *nor, uint32_t addr)
{
    return erase_aligned(nor, addr, OTA_FLASH_BLOCK_SIZE, ERASE_BLOCK);
}

int ota_nor_erase_chip(ota_nor_t *nor)
{
    if (nor == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    int err = write_gate(nor);
    if (err != OTA_OK) {
        return err;
    }
    return erase_unit(nor, 0, nor->size, ERASE_CHIP);
}

/* ---------------------------------------------------------------------------------------- */
/* ota_flash_t adapter                                                                       */
/* ---------------------------------------------------------------------------------------- */

static int flash_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
    return ota_nor_read(ctx, addr, dst, len);
}

static int flash_program(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
    return ota_nor_program(ctx, addr, src, len);
}

static int flash_erase(void *ctx, uint32_t addr, uint32_t len)
{
    if (len == OTA_FLASH_SECTOR_SIZE) {
        return ota_nor_erase_sector(ctx, addr);
    }
    if (len == OTA_FLASH_BLOCK_SIZE) {
        return ota_nor_erase_block(ctx, addr);
    }
    return OTA_ERR_ALIGN;
}

/* Reads are reusable while no read fault is modeled: a read then returns the bytes held. */
static bool flash_generation(void *ctx, uint64_t *gen)
{
    const ota_nor_state_t *st = ((const ota_nor_t *)ctx)->st;
    *gen = st->writes;
    return st->faults.read_flip_ppm == 0 && st->faults.read_error_ppm == 0;
}

static void flash_skip_read(void *ctx, uint64_t len)
{
    ota_nor_t *nor = ctx;
    nor->st->read_ops++;
    nor->st->read_bytes += len;
}

const ota_flash_t *ota_nor_flash(ota_nor_t *nor)
{
    return &nor->flash;
}

uint32_t ota_nor_size(const ota_nor_t *nor)
{
    return nor->size;
}

const uint8_t *ota_nor_data(const ota_nor_t *nor)
{
    return nor->mem;
}

ota_nor_state_t *ota_nor_state(ota_nor_t *nor)
{
    return nor->st;
}

/* ---------------------------------------------------------------------------------------- */
/* Power                                                                                     */
/* ---------------------------------------------------------------------------------------- */

int ota_nor_cut_arm(ota_nor_t *nor, uint64_t n, ota_nor_cut_mode_t mode, uint64_t seed)
{
    if (nor == NULL || n == 0 || n > UINT64_MAX - nor->st->ops ||
        (mode != OTA_NOR_CUT_BEFORE && mode != OTA_NOR_CUT_AFTER && mode != OTA_NOR_CUT_TORN)) {
        return OTA_ERR_INVALID_ARG;
    }
    ota_nor_state_t *st = nor->st;
    st->cut_at = st->ops + n;
    st->cut_n = n;
    st->cut_seed = seed;
    st->cut_mode = (uint32_t)mode;
    return OTA_OK;
}

void ota_nor_cut_disarm(ota_nor_t *nor)
{
    nor->st->cut_at = 0;
}

int ota_nor_set_faults(ota_nor_t *nor, const ota_nor_faults_t *f)
{
    ota_nor_faults_t none = {0};
    f = f != NULL ? f : &none;
    if (nor == NULL || f->read_flip_ppm > 1000000u || f->read_error_ppm > 1000000u ||
        f->program_drop_ppm > 1000000u || f->bad_sector > nor->size / OTA_FLASH_SECTOR_SIZE ||
        f->bad_mode > OTA_NOR_BAD_ERROR) {
        return OTA_ERR_INVALID_ARG;
    }
    nor->st->faults = *f;
    nor->st->faults.draws = 0;
    nor->st->faults.injected = 0;
    return OTA_OK;
}

void ota_nor_power_on(ota_nor_t *nor)
{
    nor->st->power_lost = 0;
}

bool ota_nor_power_lost(const ota_nor_t *nor)
{
    return nor->st->power_lost != 0;
}

void ota_nor_reset_counters(ota_nor_t *nor)
{
    ota_nor_state_t *st = nor->st;
    uint64_t cut_left = st->cut_at != 0 ? st->cut_at - st->ops : 0;
    uint64_t cut_n = st->cut_n;
    uint64_t cut_seed = st->cut_seed;
    uint32_t cut_mode = st->cut_mode;
    uint32_t power_lost = st->power_lost;
    uint64_t writes = st->writes;
    ota_nor_faults_t faults = st->faults;
    ota_nor_state_init(st);
    st->writes = writes;
    st->faults = faults;
    st->cut_at = cut_left;
    st->cut_n = cut_n;
    st->cut_seed = cut_seed;
    st->cut_mode = cut_mode;
    st->power_lost = power_lost;
}

/* ---------------------------------------------------------------------------------------- */
/* Snapshot                                                                                  */
/* ---------------------------------------------------------------------------------------- */

int ota_nor_snapshot(const ota_nor_t *nor, void *dst, size_t cap)
{
    if (nor == NULL || dst == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (cap < nor->size) {
        return OTA_ERR_NO_SPACE;
    }
    memcpy(dst, nor->mem, nor->size);
    return OTA_OK;
}

int ota_nor_restore(ota_nor_t *nor, const void *src, size_t len)
{
    if (nor == NULL || src == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (nor->readonly) {
        return OTA_ERR_READONLY;
    }
    if (len != nor->size) {
        return OTA_ERR_SIZE;
    }
    nor->st->writes++;
    memcpy(nor->mem, src, len);
    return OTA_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                 */
/* ---------------------------------------------------------------------------------------- */

bool ota_nor_size_valid(uint64_t size)
{
    return size >= OTA_NOR_MIN_SIZE && size <= OTA_NOR_MAX_SIZE && (size & (size - 1)) == 0;
}

/* Reads len bytes of fd from offset 0 into dst; 0 or the errno of the failure (EIO when the
 * file ends early). */
static int read_whole(int fd, uint8_t *dst, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, dst + done, len - done, (off_t)done);
        if (n < 0 && errno != EINTR) {
            return errno;
        }
        if (n == 0) {
            return EIO;
        }
        done += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

static int size_error(uint64_t size, ota_diag_t *diag)
{
    return ota_diag_set(diag, OTA_ERR_SIZE,
                        "flash image size %llu bytes is not 1, 2, 4, 8, 16, 32, 64 or 128 MiB "
                        "(1048576 .. 134217728 bytes, a power of two)",
                        (unsigned long long)size);
}

/* Allocates a device and applies the configuration; the caller maps its memory. */
static int nor_new(uint32_t size, const ota_nor_config_t *cfg, ota_nor_t **out, ota_diag_t *diag)
{
    static const ota_nor_config_t defaults = {0};
    if (cfg == NULL) {
        cfg = &defaults;
    }
    if (cfg->state != NULL && !ota_nor_state_valid(cfg->state) &&
        !all_zero(cfg->state, sizeof(*cfg->state))) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                            "emulator state is not initialised (bad magic or version)");
    }
    ota_nor_t *nor = calloc(1, sizeof(*nor));
    if (nor == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory");
    }
    nor->size = size;
    nor->readonly = cfg->readonly;
    nor->strict = cfg->strict;
    nor->profile = cfg->profile != NULL ? cfg->profile : ota_nor_profile_default();
    nor->on_power_loss = cfg->on_power_loss;
    nor->on_power_loss_arg = cfg->on_power_loss_arg;
    if (cfg->state != NULL) {
        nor->st = cfg->state;
        if (!ota_nor_state_valid(nor->st)) {
            ota_nor_state_init(nor->st);
        }
    } else {
        nor->st = &nor->own;
        ota_nor_state_init(nor->st);
    }
    nor->flash.ctx = nor;
    nor->flash.size = size;
    nor->flash.sector_size = OTA_FLASH_SECTOR_SIZE;
    nor->flash.block_size = OTA_FLASH_BLOCK_SIZE;
    nor->flash.page_size = OTA_FLASH_PAGE_SIZE;
    nor->flash.erase_value = NOR_ERASED;
    nor->flash.read = flash_read;
    nor->flash.program = flash_program;
    nor->flash.erase = flash_erase;
    nor->flash.generation = flash_generation;
    nor->flash.skip_read = flash_skip_read;
    *out = nor;
    return OTA_OK;
}

/*
 * mmaps fd (or anonymous memory when fd < 0) for nor and closes fd (the mapping keeps the file).
 * A writable file gets all its blocks first: a page of a sparse file written through the map on
 * a full filesystem would otherwise be SIGBUS in the middle of an erase or program, not an
 * error before the first byte changes. A read-only file is read into anonymous memory instead
 * of being mapped (on tmpfs even reading a hole through a map needs a page). Returns OTA_OK or
 * OTA_ERR_IO.
 */
static int nor_map(ota_nor_t *nor, int fd, ota_diag_t *diag)
{
    int e = 0;
    if (fd >= 0 && !nor->readonly) {
        e = posix_fallocate(fd, 0, (off_t)nor->size);
        if (e != 0) {
            close(fd);
            return ota_diag_set(diag, OTA_ERR_IO, "cannot allocate the flash image: %s",
                                strerror(e));
        }
    }
    bool copy = fd >= 0 && nor->readonly;
    int flags = copy     ? MAP_PRIVATE | MAP_ANONYMOUS
                : fd < 0 ? MAP_SHARED | MAP_ANONYMOUS
                         : MAP_SHARED;
    void *mem = mmap(NULL, nor->size, PROT_READ | PROT_WRITE, flags, copy ? -1 : fd, 0);
    e = mem == MAP_FAILED ? errno : 0;
    if (e == 0 && copy) {
        e = read_whole(fd, mem, nor->size);
        if (e == 0 && mprotect(mem, nor->size, PROT_READ) != 0) {
            e = errno;
        }
        if (e != 0) {
            munmap(mem, nor->size);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (e != 0) {
        return ota_diag_set(diag, OTA_ERR_IO, "cannot %s the flash image: %s",
                            copy ? "read" : "map", strerror(e));
    }
    nor->mem = mem;
    return OTA_OK;
}

/*
 * Maps len bytes of fd into private anonymous memory of nor->size bytes, the rest 0xFF, read
 * only, and closes fd. Returns OTA_OK, OTA_ERR_IO or OTA_ERR_NO_MEM.
 */
static int nor_map_padded(ota_nor_t *nor, int fd, uint64_t len, ota_diag_t *diag)
{
    uint8_t *mem =
        mmap(NULL, nor->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        close(fd);
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "out of memory for a %u-byte flash", nor->size);
    }
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, mem + done, (size_t)(len - done), (off_t)done);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            munmap(mem, nor->size);
            return ota_diag_set(diag, OTA_ERR_IO, "cannot read the flash image: %s", strerror(e));
        }
        done += (uint64_t)n;
    }
    close(fd);
    memset(mem + len, NOR_ERASED, nor->size - len);
    mprotect(mem, nor->size, PROT_READ);
    nor->mem = mem;
    return OTA_OK;
}

int ota_nor_open(const char *path, const ota_nor_config_t *cfg, ota_nor_t **out, ota_diag_t *diag)
{
    if (path == NULL || out == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no flash image path");
    }
    *out = NULL;
    bool ro = cfg != NULL && cfg->readonly;
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ota_diag_set(diag, e == ENOENT ? OTA_ERR_NOT_FOUND : OTA_ERR_IO, "cannot open: %s",
                            strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ota_diag_set(diag, OTA_ERR_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ota_diag_set(diag, OTA_ERR_IO, "not a regular file");
    }
    uint64_t len = (uint64_t)sb.st_size;
    uint32_t pad = cfg != NULL ? cfg->pad_size : 0;
    bool padded = pad != 0 && len < pad;
    if (padded && (!ro || !ota_nor_size_valid(pad))) {
        close(fd);
        return ro ? size_error(pad, diag)
                  : ota_diag_set(diag, OTA_ERR_INVALID_ARG, "a padded flash image is read only");
    }
    if (!padded && !ota_nor_size_valid(len)) {
        close(fd);
        return size_error(len, diag);
    }
    ota_nor_t *nor;
    int err = nor_new(padded ? pad : (uint32_t)len, cfg, &nor, diag);
    if (err != OTA_OK) {
        close(fd);
        return err;
    }
    err = padded ? nor_map_padded(nor, fd, len, diag) : nor_map(nor, fd, diag);
    if (err != OTA_OK) {
        free(nor);
        return err;
    }
    *out = nor;
    return OTA_OK;
}

/*
 * The start of ota_nor_create and ota_nor_create_mem: refuses a read-only config (what names the
 * device in the message), clears *out, checks the size and allocates the device into *nor.
 */
static int create_start(uint32_t size, const ota_nor_config_t *cfg, const char *what,
                        ota_nor_t **out, ota_nor_t **nor, ota_diag_t *diag)
{
    if (cfg != NULL && cfg->readonly) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "cannot create a read-only %s", what);
    }
    *out = NULL;
    if (!ota_nor_size_valid(size)) {
        return size_error(size, diag);
    }
    return nor_new(size, cfg, nor, diag);
}

int ota_nor_create(const char *path, uint32_t size, const ota_nor_config_t *cfg, ota_nor_t **out,
                   ota_diag_t *diag)
{
    if (path == NULL || out == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no flash image path");
    }
    ota_nor_t *nor;
    int err = create_start(size, cfg, "flash image", out, &nor, diag);
    if (err != OTA_OK) {
        return err;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        free(nor);
        return ota_diag_set(diag, OTA_ERR_IO, "cannot create: %s", strerror(e));
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        free(nor);
        return ota_diag_set(diag, OTA_ERR_IO, "cannot size the file: %s", strerror(e));
    }
    err = nor_map(nor, fd, diag);
    if (err != OTA_OK) {
        free(nor);
        return err;
    }
    memset(nor->mem, NOR_ERASED, size);
    *out = nor;
    return OTA_OK;
}

int ota_nor_create_mem(uint32_t size, const ota_nor_config_t *cfg, ota_nor_t **out,
                       ota_diag_t *diag)
{
    if (out == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no device to return");
    }
    ota_nor_t *nor;
    int err = create_start(size, cfg, "flash device", out, &nor, diag);
    if (err != OTA_OK) {
        return err;
    }
    err = nor_map(nor, -1, diag);
    if (err != OTA_OK) {
        free(nor);
        return err;
    }
    memset(nor->mem, NOR_ERASED, size);
    *out = nor;
    return OTA_OK;
}

void ota_nor_close(ota_nor_t *nor)
{
    if (nor == NULL) {
        return;
    }
    munmap(nor->mem, nor->size);
    free(nor);
}

/* ---------------------------------------------------------------------------------------- */
/* Fault specification                                                                       */
/* ---------------------------------------------------------------------------------------- */

static bool parse_num(const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (end == v || *end != '\0' || errno != 0 || x > max || v[0] == '-') {
        return false;
    }
    *out = x;
    return true;
}

/* One KEY=VALUE item of a fault specification. */
static bool fault_item(const char *key, const char *val, ota_nor_faults_t *f)
{
    uint64_t x = 0;
    if (strcmp(key, "bad-mode") == 0) {
        f->bad_mode = strcmp(val, "stuck") == 0 ? OTA_NOR_BAD_STUCK : OTA_NOR_BAD_ERROR;
        return strcmp(val, "stuck") == 0 || strcmp(val, "error") == 0;
    }
    if (strcmp(key, "seed") == 0) {
        return parse_num(val, UINT64_MAX, &f->seed);
    }
    bool ppm = strcmp(key, "read-flip") == 0 || strcmp(key, "read-error") == 0 ||
               strcmp(key, "program-drop") == 0;
    if (!parse_num(val, ppm ? 1000000u : UINT32_MAX, &x)) {
        return false;
    }
    if (strcmp(key, "read-flip") == 0) {
        f->read_flip_ppm = (uint32_t)x;
    } else if (strcmp(key, "read-error") == 0) {
        f->read_error_ppm = (uint32_t)x;
    } else if (strcmp(key, "program-drop") == 0) {
        f->program_drop_ppm = (uint32_t)x;
    } else if (strcmp(key, "bad-sector") == 0 && x < OTA_NOR_MAX_SIZE) {
        f->bad_sector = (uint32_t)(x / OTA_FLASH_SECTOR_SIZE) + 1;
    } else if (strcmp(key, "wear-limit") == 0) {
        f->wear_limit = (uint32_t)x;
    } else {
        return false;
    }
    return true;
}

int ota_nor_faults_parse(const char *spec, ota_nor_faults_t *f, ota_diag_t *diag)
{
    memset(f, 0, sizeof(*f));
    if (spec == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no fault specification");
    }
    char item[96];
    for (const char *p = spec; *p != '\0';) {
        size_t n = strcspn(p, ",");
        int len = snprintf(item, sizeof(item), "%.*s", (int)n, p);
        char *eq = strchr(item, '=');
        if (len < 0 || (size_t)len >= sizeof(item) || eq == NULL) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "'%.*s' is not KEY=VALUE", (int)n, p);
        }
        *eq = '\0';
        if (!fault_item(item, eq + 1, f)) {
            return ota_diag_set(diag, OTA_ERR_INVALID_ARG,
                                "'%s=%s': expected read-flip|read-error|program-drop=PPM "
                                "(0..1000000), bad-sector=ADDR, bad-mode=stuck|error, "
                                "wear-limit=N or seed=S",
                                item, eq + 1);
        }
        p += n + (p[n] == ',');
    }
    return OTA_OK;
}
