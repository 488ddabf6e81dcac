/*
 * Emulated SPI NOR flash (host port).
 *
 * The device is a raw flash image: a file mmap'ed MAP_SHARED (the same bytes `esptool
 * read_flash` gives and `write_flash` takes) or an anonymous in-memory buffer. Sizes are 1, 2, 4,
 * 8, 16, 32, 64 or 128 MiB (ESP-IDF's flash sizes). It behaves as a W25Q-class NOR chip:
 *
 *   - read:    any range inside the device.
 *   - program: only clears bits (new = old AND data). A request is split at 256-byte page
 *              boundaries and every page program is one operation.
 *   - erase:   a 4 KiB sector or a 64 KiB block (aligned), or the whole chip; sets bytes to 0xFF.
 *   - strict:  optionally, programming is refused with OTA_ERR_NOT_ERASED when any byte of the
 *              requested range is non-erased. "Non-erased" means: its current value is not 0xFF,
 *              whatever the data to be written there (programming 0xFF over a programmed byte is
 *              refused too). The whole range is checked before anything changes.
 *
 * Counters, wear and power cuts
 *
 * Every mutable thing other than the flash bytes lives in one plain-old-data struct,
 * ota_nor_state_t (fixed size, no pointers): operation and byte counters, erase count per 4 KiB
 * sector (wear), the modeled busy time, the power-cut settings and the power-lost flag. The caller
 * may supply it (for example in shared memory, so that two processes that open the same flash
 * file - a bootloader and an app - count operations jointly and see the same cut); otherwise the
 * device keeps its own. The emulator does no locking: processes sharing a state must take turns.
 *
 * Cut points are the operations that change the flash: page programs, sector erases, block erases
 * and chip erases. Reads are not cut points. A cut armed at operation n (counted from the moment it
 * is armed) hits the n-th cut point:
 *   - OTA_NOR_CUT_BEFORE: that operation is not performed;
 *   - OTA_NOR_CUT_AFTER:  it is performed completely;
 *   - OTA_NOR_CUT_TORN:   a page program lands on a prefix of its bytes plus one byte that gets a
 *                         subset of the bits it should clear; an erase leaves every byte of its
 *                         range as one of: the old value, 0xFF, or a random value.
 * The torn outcome depends only on (seed, n) and on the data involved (splitmix64 seeded from
 * both), so a case (n, mode, seed) replays exactly. At the cut the device powers off: the
 * optional on_power_loss callback runs once (the flash bytes and the state are final by then, so
 * it may end the process); if it returns, the operation returns OTA_ERR_POWER_LOSS. From then on
 * every operation, reads included, fails with OTA_ERR_POWER_LOSS until ota_nor_power_on().
 *
 * Counting: program and erase counters, wear and busy time count operations that were performed,
 * torn ones included (a torn operation is charged in full); an operation cut BEFORE is not
 * counted there, but it does consume its cut-point number. Operations refused for bad arguments,
 * strict mode or lost power count nowhere.
 *
 * Timing is modeled, never waited: each performed operation adds its typical and worst-case
 * duration from the device's timing profile to the state's busy time.
 */
#ifndef OTA_NOR_H
#define OTA_NOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_chip.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_NOR_MIN_SIZE 0x100000u                                     /* 1 MiB */
#define OTA_NOR_MAX_SIZE 0x8000000u                                    /* 128 MiB */
#define OTA_NOR_MAX_SECTORS (OTA_NOR_MAX_SIZE / OTA_FLASH_SECTOR_SIZE) /* 32768 */

/* ------------------------------------------------------------------------------------------ */
/* Timing model                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* Datasheet timing of one chip family, in microseconds (typical and maximum). */
typedef struct ota_nor_profile {
    const char *name;
    uint32_t page_program_typ_us; /* one 256-byte page program */
    uint32_t page_program_max_us;
    uint32_t sector_erase_typ_us; /* one 4 KiB sector erase */
    uint32_t sector_erase_max_us;
    uint32_t block_erase_typ_us; /* one 64 KiB block erase */
    uint32_t block_erase_max_us;
    uint32_t chip_erase_typ_us; /* whole-chip erase */
    uint32_t chip_erase_max_us;
    uint32_t read_bytes_per_s; /* read throughput; 0 = reads are not modeled */
    uint32_t size;             /* the part's capacity in bytes */
} ota_nor_profile_t;

/* Operation counts fed to the timing model. */
typedef struct ota_nor_op_counts {
    uint64_t page_programs;
    uint64_t sector_erases;
    uint64_t block_erases;
    uint64_t chip_erases;
    uint64_t read_bytes;
} ota_nor_op_counts_t;

/* Modeled durations in microseconds. */
typedef struct ota_nor_time {
    uint64_t typ_us;  /* busy time of programs and erases, typical figures */
    uint64_t max_us;  /* the same with worst-case figures */
    uint64_t read_us; /* time to read read_bytes at the profile's throughput (0 if unmodeled) */
} ota_nor_time_t;

/*
 * The default profile: Winbond W25Q32JV (page program 0.4/3 ms, 4 KiB erase 45/400 ms, 64 KiB
 * erase 150/2000 ms, chip erase 10/50 s). Static; never NULL.
 */
const ota_nor_profile_t *ota_nor_profile_default(void);

/*
 * Profile by name (ASCII case-insensitive, e.g. "W25Q32JV"), or NULL if the table has none.
 * The returned struct is static.
 */
const ota_nor_profile_t *ota_nor_profile_find(const char *name);

/*
 * The flash a board with a flash of `size` bytes is modeled on: the W25Q..JV part of that size
 * (the smallest part at least that large, else the largest), reading at the data rate of the SPI
 * mode and frequency in `header` (the first 4 bytes of the image the bootloader sets the flash up
 * from: byte 2 the mode, byte 3's low nibble the chip's frequency code): 4 bits per clock in QIO
 * and QOUT, 2 in DIO and DOUT. Without an image (header NULL or no 0xE9 magic): DIO at 40 MHz.
 */
void ota_nor_profile_for_flash(uint32_t size, const ota_chip_t *chip, const uint8_t *header,
                               ota_nor_profile_t *out);

/* The index-th profile of the table (0-based), or NULL past the end. Static. */
const ota_nor_profile_t *ota_nor_profile_at(size_t index);

/*
 * Pure model: fills *out with the time the operations in *counts take on profile p. Every
 * argument must be non-NULL. read_us is read_bytes * 1e6 / read_bytes_per_s, rounded down.
 */
void ota_nor_time_model(const ota_nor_profile_t *p, const ota_nor_op_counts_t *counts,
                        ota_nor_time_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Shared state                                                                                */
/* ------------------------------------------------------------------------------------------ */

#define OTA_NOR_STATE_MAGIC 0x524F4E4Fu /* "ONOR" */
#define OTA_NOR_STATE_VERSION 4u

typedef enum {
    OTA_NOR_CUT_BEFORE = 0, /* the cut operation is not performed */
    OTA_NOR_CUT_AFTER = 1,  /* the cut operation is performed completely */
    OTA_NOR_CUT_TORN = 2,   /* the cut operation is performed partly (see above) */
} ota_nor_cut_mode_t;

/* What a bad sector (stuck, or worn out) does to programs and erases aimed at it. */
typedef enum {
    OTA_NOR_BAD_STUCK = 0, /* they report success and change nothing */
    OTA_NOR_BAD_ERROR = 1, /* they fail with OTA_ERR_IO and change nothing */
} ota_nor_bad_mode_t;

/*
 * Flash faults, as a NOR chip shows them when it is damaged or aging. All zero = a perfect chip.
 * Probabilities are in parts per million of operations; draws come from a generator seeded with
 * `seed`, so a run replays exactly. Faults apply to ota_nor_read/program/erase (not to
 * ota_nor_data, snapshot or restore). A fault that fires is counted in `injected`.
 *   - read_flip_ppm:    a read returns its data with one bit flipped (the flash is unchanged)
 *   - read_error_ppm:   a read fails with OTA_ERR_IO
 *   - program_drop_ppm: a page program leaves some of the bits it should clear set (it reports
 *                       success: the chip does not know)
 *   - bad_sector:       1 + index of a bad 4 KiB sector (0 = none), behaving as bad_mode says
 *   - wear_limit:       a sector survives this many erases (the state's wear[], which counts
 *                       every erase attempt); the next one finds it worn out, and from then on it
 *                       behaves as a bad sector (0 = no limit)
 */
typedef struct ota_nor_faults {
    uint32_t read_flip_ppm;
    uint32_t read_error_ppm;
    uint32_t program_drop_ppm;
    uint32_t bad_sector;
    uint32_t bad_mode; /* ota_nor_bad_mode_t */
    uint32_t wear_limit;
    uint64_t seed;
    uint64_t draws;    /* generator position: draws made so far */
    uint64_t injected; /* faults that fired */
} ota_nor_faults_t;

/*
 * All mutable emulator state except the flash bytes. Plain old data: it may be placed in shared
 * memory or saved to a file and read back by tools. A zero-filled struct is initialised on first
 * use. Fields may be read directly; change them only through the ota_nor_* functions.
 */
typedef struct ota_nor_state {
    uint32_t magic;   /* OTA_NOR_STATE_MAGIC once initialised (0 = not yet) */
    uint32_t version; /* OTA_NOR_STATE_VERSION */
    uint64_t ops;     /* cut points reached so far (the next one is ops + 1) */
    uint64_t read_ops;
    uint64_t read_bytes;
    uint64_t program_ops; /* page programs performed */
    uint64_t program_bytes;
    uint64_t erase_ops; /* sector_erases + block_erases + chip_erases */
    uint64_t erase_bytes;
    uint64_t sector_erases;
    uint64_t block_erases;
    uint64_t chip_erases;
    uint64_t busy_typ_us; /* modeled busy time of performed programs and erases */
    uint64_t busy_max_us;
    uint64_t cut_at; /* value of ops at which the armed cut hits; 0 = no cut armed */
    uint64_t cut_n;  /* n as armed: with cut_seed and cut_mode, the replayable case id */
    uint64_t cut_seed;
    uint32_t cut_mode;       /* ota_nor_cut_mode_t */
    uint32_t power_lost;     /* 1 from the cut until ota_nor_power_on() */
    uint64_t cuts;           /* power cuts that happened */
    uint64_t writes;         /* page programs, erases and restores begun: any change of the bytes
                                raises it (torn or faulty ones too); never reset */
    ota_nor_faults_t faults; /* the fault model (all zero: none) */
    uint32_t wear[OTA_NOR_MAX_SECTORS]; /* erase count per 4 KiB sector */
} ota_nor_state_t;

_Static_assert(sizeof(ota_nor_state_t) == 131272, "ota_nor_state_t layout changed");

/* Zero-fills *st and marks it initialised. */
void ota_nor_state_init(ota_nor_state_t *st);

/* True when *st carries the current magic and version. */
bool ota_nor_state_valid(const ota_nor_state_t *st);

/* Highest erase count of any sector. */
uint32_t ota_nor_state_wear_max(const ota_nor_state_t *st);

/* Sum of the erase counts of all sectors (a block erase adds 16, a chip erase one per sector). */
uint64_t ota_nor_state_wear_total(const ota_nor_state_t *st);

/* The state's counters as timing-model input (read_bytes included). */
void ota_nor_state_counts(const ota_nor_state_t *st, ota_nor_op_counts_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Device                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct ota_nor ota_nor_t;

/* Options; a NULL config or a zero-filled one means the defaults. */
typedef struct ota_nor_config {
    ota_nor_state_t *state; /* caller's state (must outlive the device), NULL = the device's own;
                               a zero-filled one is initialised, an initialised one is kept */
    const ota_nor_profile_t *profile; /* NULL = ota_nor_profile_default() */
    bool strict;                      /* refuse to program non-erased bytes (OTA_ERR_NOT_ERASED) */
    bool readonly;     /* map the file read-only; program/erase fail with OTA_ERR_READONLY */
    uint32_t pad_size; /* ota_nor_open, read-only only: a file shorter than this flash size (a
                          merged image as esptool merge_bin writes it) reads as if padded with
                          0xFF to it; 0 = the file's size must be a flash size */
    void (*on_power_loss)(void *arg); /* called once at a cut; may not return */
    void *on_power_loss_arg;
} ota_nor_config_t;

/* True for 1, 2, 4, 8, 16, 32, 64 and 128 MiB. */
bool ota_nor_size_valid(uint64_t size);

/*
 * Opens an existing flash image file; its size is the device size (or cfg->pad_size for a
 * shorter file opened read-only: the file's bytes, then 0xFF). A writable device maps the file
 * shared after allocating all its blocks (so a full filesystem fails here, never in the middle of
 * an erase); a read-only one reads a private copy. On success *out is a new device (free it with
 * ota_nor_close) and OTA_OK is returned. Failures (diag says why): OTA_ERR_INVALID_ARG (NULL path
 * or out, a supplied state that is neither zero-filled nor valid, or pad_size without readonly),
 * OTA_ERR_NOT_FOUND (no such file), OTA_ERR_SIZE (size is not a flash size), OTA_ERR_IO (open,
 * block allocation, read or mmap failed), OTA_ERR_NO_MEM.
 */
int ota_nor_open(const char *path, const ota_nor_config_t *cfg, ota_nor_t **out, ota_diag_t *diag);

/*
 * Creates (or replaces) the file at path as an erased image of size bytes (all 0xFF) and opens
 * it. Returns OTA_OK, OTA_ERR_INVALID_ARG (as above, or readonly set), OTA_ERR_SIZE (size not a
 * flash size), OTA_ERR_IO, OTA_ERR_NO_MEM.
 */
int ota_nor_create(const char *path, uint32_t size, const ota_nor_config_t *cfg, ota_nor_t **out,
                   ota_diag_t *diag);

/*
 * Creates an anonymous in-memory device of size bytes, erased (all 0xFF), with no file behind
 * it (fast tests and sweeps). The memory is MAP_SHARED, so a child made by fork() shares it.
 * Returns as ota_nor_create.
 */
int ota_nor_create_mem(uint32_t size, const ota_nor_config_t *cfg, ota_nor_t **out,
                       ota_diag_t *diag);

/* Unmaps and frees the device (NULL is ignored). A caller-supplied state is left as it is. */
void ota_nor_close(ota_nor_t *nor);

/*
 * The device as an ota_flash_t for the core: 4 KiB sectors, 64 KiB blocks, 256 B pages, erase
 * value 0xFF; its erase callback accepts exactly one sector or one block (else OTA_ERR_ALIGN).
 * The struct lives inside nor and is valid until ota_nor_close.
 */
const ota_flash_t *ota_nor_flash(ota_nor_t *nor);

/* Device size in bytes. */
uint32_t ota_nor_size(const ota_nor_t *nor);

/*
 * Direct view of the flash bytes (size bytes), for tools and tests: not counted, not subject to
 * power loss. Valid until ota_nor_close.
 */
const uint8_t *ota_nor_data(const ota_nor_t *nor);

/* The live state (the caller's, if one was supplied). Valid until ota_nor_close. */
ota_nor_state_t *ota_nor_state(ota_nor_t *nor);

/*
 * Reads len bytes at addr into dst. Counts one read operation.
 * Returns OTA_OK, OTA_ERR_POWER_LOSS, OTA_ERR_INVALID_ARG (NULL nor, or NULL dst with len > 0),
 * OTA_ERR_BOUNDS (range outside the device).
 */
int ota_nor_read(ota_nor_t *nor, uint32_t addr, void *dst, uint32_t len);

/*
 * Programs len bytes from src at addr (new = old AND data), one page program per 256-byte page
 * touched. Returns OTA_OK, OTA_ERR_POWER_LOSS (power already lost, or lost during this call: the
 * pages before the cut are programmed), OTA_ERR_READONLY, OTA_ERR_INVALID_ARG, OTA_ERR_BOUNDS,
 * OTA_ERR_NOT_ERASED (strict mode; nothing changed).
 */
int ota_nor_program(ota_nor_t *nor, uint32_t addr, const void *src, uint32_t len);

/*
 * Erases the 4 KiB sector at addr (sector-aligned). Returns OTA_OK, OTA_ERR_POWER_LOSS,
 * OTA_ERR_READONLY, OTA_ERR_INVALID_ARG, OTA_ERR_ALIGN, OTA_ERR_BOUNDS.
 */
int ota_nor_erase_sector(ota_nor_t *nor, uint32_t addr);

/* Erases the 64 KiB block at addr (block-aligned). Returns as ota_nor_erase_sector. */
int ota_nor_erase_block(ota_nor_t *nor, uint32_t addr);

/* Erases the whole device. Returns OTA_OK, OTA_ERR_POWER_LOSS, OTA_ERR_READONLY, or
 * OTA_ERR_INVALID_ARG. */
int ota_nor_erase_chip(ota_nor_t *nor);

/*
 * Arms a power cut at the n-th cut point from now (n >= 1) with the given mode and seed,
 * replacing any armed cut. Returns OTA_OK or OTA_ERR_INVALID_ARG (NULL nor, n == 0, bad mode).
 */
int ota_nor_cut_arm(ota_nor_t *nor, uint64_t n, ota_nor_cut_mode_t mode, uint64_t seed);

/* Disarms a pending cut (the power state is unchanged). */
void ota_nor_cut_disarm(ota_nor_t *nor);

/*
 * Sets the fault model (a copy of *f; NULL = no faults). The generator restarts from f->seed and
 * the injected count from 0. Returns OTA_OK or OTA_ERR_INVALID_ARG (NULL nor, probability above
 * one million, bad sector outside the device, unknown bad_mode).
 */
int ota_nor_set_faults(ota_nor_t *nor, const ota_nor_faults_t *f);

/*
 * Parses a fault specification, comma-separated KEY=VALUE items: read-flip=PPM, read-error=PPM,
 * program-drop=PPM, bad-sector=ADDR (the 4 KiB sector holding ADDR), bad-mode=stuck|error,
 * wear-limit=N, seed=S. Fills *f (zeroed first). Returns OTA_OK or OTA_ERR_INVALID_ARG with
 * diag naming the item.
 */
int ota_nor_faults_parse(const char *spec, ota_nor_faults_t *f, ota_diag_t *diag);

/* Powers the device on again after a cut: clears the power-lost flag, keeps the contents. */
void ota_nor_power_on(ota_nor_t *nor);

/* True while the power is lost. */
bool ota_nor_power_lost(const ota_nor_t *nor);

/*
 * Sets the counters, wear, busy time, cut-point count and number of cuts to zero (the fault model
 * and the write generation stay). An armed cut
 * keeps its distance (it still hits the same number of cut points from now); the power state is
 * unchanged. Use it with ota_nor_restore to rewind a sweep cheaply.
 */
void ota_nor_reset_counters(ota_nor_t *nor);

/*
 * Copies the flash contents into dst (cap >= device size). Not counted; works without power.
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, or OTA_ERR_NO_SPACE (cap too small).
 */
int ota_nor_snapshot(const ota_nor_t *nor, void *dst, size_t cap);

/*
 * Replaces the flash contents with src (len == device size). Not counted (only the write
 * generation, `writes`, rises); works without power and leaves the power state and counters alone.
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_SIZE (len differs from the device size),
 * OTA_ERR_READONLY.
 */
int ota_nor_restore(ota_nor_t *nor, const void *src, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* OTA_NOR_H */
