/*
 * Native OTA operations: the app side of ESP-IDF's app_update and esp_partition components
 * (spec sections 1.9, 2.8 and 4, ESP-IDF v5.5) over a caller-owned device description.
 *
 * Portable core: no globals, no allocation, no OS. Everything the operations need - flash,
 * crypto, chip, eFuse hooks, the partition list, the running partition, the configuration and
 * the log sink - is in an ota_ops_dev_t the caller fills in and keeps alive; an update in
 * progress is an ota_session_t the caller allocates. The ESP-IDF API (esp_ota_ops.h,
 * esp_partition.h) is a thin layer over these calls.
 *
 * Partitions. The device's partitions are the loaded table's entries in table order followed by
 * the externally registered ones (dev->extra). Calls that ESP-IDF documents as taking "a
 * partition" accept either one of those pointers or a caller-made ota_part_t describing one:
 *   - calls that ESP-IDF runs through esp_partition_verify (begin, resume, set_final,
 *     next_update) look the description up (ota_ops_part_verify) and work on the registered
 *     entry, failing with OTA_ERR_NOT_FOUND when there is none;
 *   - calls that ESP-IDF runs on the caller's struct as given (partition I/O, sha256, set_boot,
 *     get_state, descriptions) use its fields directly, registered or not.
 * With flash encryption (flash_encrypted; flash is then the encrypting view of ota_flash_enc.h)
 * esp_ota_write buffers partial 16-byte blocks; a description with the encrypted flag set
 * matches no registered partition (the ESP layer sets it when the caller's encryption differs).
 *
 * Log lines go to dev->log with ESP-IDF's tags ("esp_ota_ops", "esp_image", "partition",
 * "flash_parts", "efuse") and words. Numbers in "err=0x%x" texts are passed through
 * dev->log_err so that the ESP layer prints esp_err_t values.
 *
 * Errors: every call returns OTA_OK or a negative ota_err_t; the mapping to esp_err_t is one
 * table (docs/DESIGN.md). The codes used here:
 *   OTA_ERR_INVALID_ARG  ESP_ERR_INVALID_ARG        OTA_ERR_BOUNDS      ESP_ERR_INVALID_ARG
 *   OTA_ERR_ALIGN        ESP_ERR_INVALID_ARG        OTA_ERR_SIZE        ESP_ERR_INVALID_SIZE
 *   OTA_ERR_READONLY     ESP_ERR_NOT_ALLOWED        OTA_ERR_NOT_FOUND   ESP_ERR_NOT_FOUND
 *   OTA_ERR_STATE        ESP_ERR_INVALID_STATE      OTA_ERR_UNSUPPORTED ESP_ERR_NOT_SUPPORTED
 *   OTA_ERR_CORRUPT      ESP_ERR_IMAGE_INVALID      OTA_ERR_VALIDATE    ESP_ERR_OTA_VALIDATE_FAILED
 *   OTA_ERR_CONFLICT     ESP_ERR_OTA_PARTITION_CONFLICT
 *   OTA_ERR_PENDING_VERIFY ESP_ERR_OTA_ROLLBACK_INVALID_STATE
 *   OTA_ERR_ROLLBACK_FAILED ESP_ERR_OTA_ROLLBACK_FAILED
 *   OTA_ERR_VERSION      ESP_ERR_OTA_SMALL_SEC_VER  OTA_ERR_FAIL        ESP_FAIL
 *   OTA_ERR_NO_SPACE     ESP_ERR_INVALID_SIZE (otadata sequence exhausted)
 *   flash errors (OTA_ERR_IO, OTA_ERR_POWER_LOSS, OTA_ERR_NOT_ERASED) ESP_ERR_FLASH_OP_FAIL
 */
#ifndef OTA_OPS_H
#define OTA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_chip.h"
#include "ota/ota_crypto.h"
#include "ota/ota_efuse.h"
#include "ota/ota_err.h"
#include "ota/ota_flash.h"
#include "ota/ota_img.h"
#include "ota/ota_log.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Image sizes for ota_ops_begin (OTA_SIZE_UNKNOWN / OTA_WITH_SEQUENTIAL_WRITES). */
#define OTA_OPS_SIZE_UNKNOWN 0xFFFFFFFFu      /* erase the whole partition now */
#define OTA_OPS_SEQUENTIAL_WRITES 0xFFFFFFFEu /* erase sector by sector while writing */
#define OTA_OPS_COPY_ALL SIZE_MAX             /* ota_ops_part_copy: rest of src, all of dst */
#define OTA_OPS_ERASE_SIZE 0x1000u            /* every partition's erase_size */

/*
 * Test-only switches (ota_ops_dev_t.test_flags). Never set them outside tests.
 *
 * OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR: ota_ops_set_boot writes the new otadata entry into the
 * sector that holds the ACTIVE entry instead of the other one (when there is an active entry).
 * This is the wrong write order: a power cut between the erase and the program of that sector
 * leaves no valid entry. It exists so that a power-loss sweep can show that the real order
 * matters.
 */
#define OTA_OPS_TEST_SET_BOOT_ACTIVE_SECTOR 0x1u

/*
 * The last successful image check, kept so that a check of the same partition with the same
 * options while the flash bytes are unchanged (the flash's write generation is the same) reuses
 * its result: esp_ota_set_boot_partition right after esp_ota_end checks the image esp_ota_end
 * has just checked. A reused check logs the lines the first one logged, each after counting the
 * reads made before it as read (ota_flash_t.skip_read): the log, with its modeled times, is that
 * of a second check.
 * Nothing is reused on a flash without a generation or while it models read faults. Zero-fill
 * it to start or to forget.
 */
#define OTA_OPS_MEMO_LINES 24 /* log lines a remembered check may have logged */
#define OTA_OPS_MEMO_LINE_LEN 112
typedef struct ota_ops_memo {
    bool valid;
    bool bootloader, silent;
    uint64_t generation;
    uint32_t offset, size;
    uint64_t read_bytes; /* what the check read */
    int n_lines;
    uint64_t read_before[OTA_OPS_MEMO_LINES]; /* what it had read when it logged each line */
    char level[OTA_OPS_MEMO_LINES];
    char line[OTA_OPS_MEMO_LINES][OTA_OPS_MEMO_LINE_LEN];
} ota_ops_memo_t;

typedef struct ota_ops_dev {
    const ota_flash_t *flash;   /* the chip (required) */
    const ota_crypto_t *crypto; /* required for image verification and digests */
    const ota_chip_t *chip;     /* the running chip (required for image verification) */
    uint16_t chip_rev;          /* major * 100 + minor */
    uint16_t efuse_blk_rev;     /* major * 100 + minor */
    uint32_t mmu_page_size;     /* CONFIG_MMU_PAGE_SIZE for the verifier; 0 = the chip's default
                                   for the flash size */
    const ota_efuse_t *efuse;   /* anti-rollback counter; NULL: it reads 0 and raising it does
                                   nothing */
    uint32_t table_offset;      /* CONFIG_PARTITION_TABLE_OFFSET (0 = 0x8000): ends the primary
                                   bootloader region */
    bool flash_encrypted;       /* flash encryption is on: flash is the encrypting view and
                                   sessions write whole 16-byte blocks */

    const ota_part_table_t *table;  /* loaded partition table (may be NULL = no entries) */
    const ota_part_t *const *extra; /* externally registered partitions, after the table */
    size_t n_extra;
    const ota_part_t *running; /* the running app partition, one of the above, or NULL */

    bool rollback;                /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    bool anti_rollback;           /* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    uint32_t secure_version_bits; /* CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD; 0 = chip */
    /* Signed apps (spec 8.1): the scheme when CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT is set
     * (NONE otherwise); sig_on_update (CONFIG_SECURE_SIGNED_ON_UPDATE) verifies signatures of the
     * images this device checks, trusting the running app's signature blocks (V2) or the
     * embedded signature_verification_key.bin (V1, sig_v1_key; NULL if the app has none). */
    ota_sig_scheme_t sig_scheme;
    bool sig_on_update;
    /* CONFIG_SECURE_BOOT_V2_ENABLED: the trusted digest is BLK2 of efuse ("Take trusted digest
     * key(s) from eFuse block(s)"), and bootloader images carry a signature sector. */
    bool secure_boot_v2;
    const uint8_t *sig_v1_key;
    size_t sig_v1_key_len;

    const ota_log_t *log;    /* may be NULL */
    int (*log_err)(int err); /* number printed for err in log lines; NULL = the native code */
    uint32_t test_flags;     /* OTA_OPS_TEST_* (tests only; 0 in products) */
    ota_ops_memo_t *memo;    /* the last image check, reused while the flash is unchanged;
                                NULL = every check reads the image */
} ota_ops_dev_t;

/*
 * One update in progress (the record behind an esp_ota_handle_t). Caller-allocated; filled by
 * ota_ops_begin / ota_ops_resume, closed (open = false) by ota_ops_end / ota_ops_abort and by a
 * failing begin. Fields may be read; change them only through these calls.
 */
typedef struct ota_session {
    bool open;
    const ota_part_t *staging; /* where the bytes are written */
    const ota_part_t *final;   /* its type decides checks and verification (staging by default) */
    bool finalize_with_copy;   /* ota_ops_end copies staging to final */
    bool need_erase;           /* sequential erase (OTA_OPS_SEQUENTIAL_WRITES) */
    bool resumed;              /* opened by ota_ops_resume */
    uint32_t wrote_size;       /* bytes written (or the resume offset) */
    /* Sequential erase: staging bytes below erased_to are erased; the app image reaches at
     * least span bytes, as its headers written so far say (walk: 0 header unread, 1 reading
     * segment headers, the next at walk_at with walk_left to go, 2 done: span is the image's
     * length, or no app image; walk_hash: a SHA-256 follows the checksum) */
    uint32_t erased_to;
    uint32_t span;
    uint32_t walk_at;
    uint8_t walk_left;
    uint8_t walk;
    bool walk_hash;
    /* Flash encryption: bytes not yet written, waiting for a whole 16-byte block (0x00-filled
     * until the first block is flushed, 0xFF-filled after, as ESP-IDF's handle) */
    uint8_t partial[16];
    uint8_t partial_len;
} ota_session_t;

/*
 * Fills the signature fields of verifier options *o for dev (scheme, check, trust) with *t as the
 * trust record (owned by the caller, alive while *o is used). Does nothing if any is NULL.
 */
void ota_ops_sig_opts(const ota_ops_dev_t *dev, ota_sig_trust_t *t, ota_img_verify_opts_t *o);

/* ---- partition list ------------------------------------------------------------------------ */

/* The i-th partition of the device (table entries, then the extra ones), or NULL past the end. */
const ota_part_t *ota_ops_part_at(const ota_ops_dev_t *dev, size_t i);

/*
 * First partition matching type, subtype (OTA_PART_TYPE_ANY / OTA_PART_SUBTYPE_ANY are
 * wildcards) and label (NULL = any, else exact), as esp_partition_find_first. A subtype without
 * a type (type ANY, subtype not ANY) matches nothing. Returns NULL if none (or dev is NULL).
 */
const ota_part_t *ota_ops_find(const ota_ops_dev_t *dev, int type, int subtype, const char *label);

/*
 * esp_partition_verify: the device partition identical to the description p (type, subtype,
 * offset, size, and label when p's label is non-empty), first in list order; p flagged
 * OTA_PART_FLAG_ENCRYPTED (the ESP layer's mark for an encryption that differs from the
 * device's) matches none.
 * Returns that entry or NULL (also for NULL arguments).
 */
const ota_part_t *ota_ops_part_verify(const ota_ops_dev_t *dev, const ota_part_t *p);

/* True when a and b are the same partition: the same pointer, or equal type, subtype, offset,
 * size and label. */
bool ota_ops_part_same(const ota_part_t *a, const ota_part_t *b);

/* True for an app partition with an OTA subtype (ota_0 .. ota_15). */
bool ota_ops_is_ota_slot(const ota_part_t *p);

/*
 * The checks of esp_partition_register_external for a new partition [offset, offset+size) on
 * the device's chip: returns OTA_OK; OTA_ERR_SIZE when it ends past the chip; OTA_ERR_INVALID_ARG
 * for a NULL dev, size 0, or an overlap with any partition of the device.
 */
int ota_ops_extra_check(const ota_ops_dev_t *dev, uint64_t offset, uint64_t size);

/* ---- partition I/O (esp_partition_read/write/erase_range/get_sha256/copy, spec 1.9) -------- */

/*
 * Reads n bytes at partition offset off into dst (caller's). p is used as given (it need not be
 * registered). Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL dev, p or dst); OTA_ERR_BOUNDS (off >
 * p->size; ESP_ERR_INVALID_ARG); OTA_ERR_SIZE (n > p->size - off); the flash's error
 * (OTA_ERR_BOUNDS when the partition lies beyond the chip).
 */
int ota_ops_part_read(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, void *dst,
                      size_t n);

/*
 * Writes (programs) n bytes from src at partition offset off. Returns as ota_ops_part_read, plus
 * OTA_ERR_READONLY first when p carries the read-only flag.
 */
int ota_ops_part_write(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, const void *src,
                       size_t n);

/*
 * Erases [off, off+n) of the partition, in ESP-IDF's order of checks: OTA_ERR_READONLY;
 * OTA_ERR_BOUNDS (off > size); OTA_ERR_SIZE (n > size - off, or n not a sector multiple);
 * OTA_ERR_ALIGN (off not a sector multiple). Then the flash erase (OTA_ERR_BOUNDS beyond the
 * chip, OTA_ERR_ALIGN for a partition address off the sector grid, or the flash's error).
 * Also OTA_ERR_INVALID_ARG for NULL dev or p.
 */
int ota_ops_part_erase(const ota_ops_dev_t *dev, const ota_part_t *p, size_t off, size_t n);

/*
 * esp_partition_get_sha256 for p as given (registered or not; only offset, size and type are
 * used). App and bootloader types: the image's metadata is read (no verification); with an
 * appended hash the stored digest is returned after checking it equals the SHA-256 of the first
 * image_len - 32 bytes, without one the SHA-256 of the image_len bytes. Other types: the SHA-256
 * of the whole partition. Writes 32 bytes to out.
 * Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL argument or size 0); OTA_ERR_CORRUPT (no image, the
 * image does not fit the partition, or the appended hash does not match); OTA_ERR_NO_MEM (digest
 * could not start); the flash's error for a data partition beyond the chip.
 */
int ota_ops_part_sha256(const ota_ops_dev_t *dev, const ota_part_t *p, uint8_t out[32]);

/*
 * esp_partition_copy: copies n bytes from src at src_off to dst at dst_off. n = OTA_OPS_COPY_ALL
 * means "the rest of src, and erase all of dst from dst_off"; otherwise ALIGN_UP(n, 0x1000)
 * bytes of dst are erased at dst_off first. Copies in 4 KiB chunks through a stack buffer.
 * Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL dev/dst/src, or dst and src the same partition);
 * OTA_ERR_SIZE (an offset beyond its partition, or a range that overflows or passes the end);
 * the erase's error (logged "Erasing destination partition range failed (err=0x%x)"), the
 * read's, or the write's (logged "Writing to destination partition failed (err=0x%x)").
 */
int ota_ops_part_copy(const ota_ops_dev_t *dev, const ota_part_t *dst, size_t dst_off,
                      const ota_part_t *src, size_t src_off, size_t n);

/* ---- sessions (esp_ota_begin ... esp_ota_end, spec 4.3 - 4.8) ------------------------------ */

/*
 * esp_ota_begin: opens *s on the registered partition described by p. In order:
 * OTA_ERR_INVALID_ARG (NULL dev, p or s); OTA_ERR_NOT_FOUND (not registered); for an app
 * partition: OTA_ERR_INVALID_ARG unless it is an OTA slot, OTA_ERR_CONFLICT when it is the
 * running partition, and with rollback OTA_ERR_PENDING_VERIFY when the running app's otadata
 * state is PENDING_VERIFY (log "Running app has not confirmed state
 * (ESP_OTA_IMG_PENDING_VERIFY)"). Non-app partitions (data, bootloader, partition table) are
 * accepted. Then, unless image_size is OTA_OPS_SEQUENTIAL_WRITES, erases the whole partition
 * (image_size 0 or OTA_OPS_SIZE_UNKNOWN) or ALIGN_UP(image_size, 0x1000) bytes; an erase failure
 * closes *s again (s->staging stays set: the session had been opened, as ESP-IDF's handle had
 * been allocated) and returns the erase's error (OTA_ERR_SIZE when the size exceeds the
 * partition). A failure before that leaves *s untouched.
 * Finally, with rollback and an OTA slot target, invalidates the inactive otadata sector
 * (ota_ops_invalidate_inactive; its result is ignored). Returns OTA_OK with *s open.
 */
int ota_ops_begin(const ota_ops_dev_t *dev, const ota_part_t *p, size_t image_size,
                  ota_session_t *s);

/*
 * esp_ota_resume: like begin without any erase: OTA_ERR_INVALID_ARG (NULL argument, or
 * image_offset > p->size), OTA_ERR_NOT_FOUND, OTA_ERR_INVALID_ARG (app partition that is not an
 * OTA slot), OTA_ERR_CONFLICT (the running partition, any type). On success *s is open with
 * wrote_size = image_offset, need_erase = (erase_size == OTA_OPS_SEQUENTIAL_WRITES), resumed.
 */
int ota_ops_resume(const ota_ops_dev_t *dev, const ota_part_t *p, size_t erase_size,
                   size_t image_offset, ota_session_t *s);

/*
 * esp_ota_set_final_partition: OTA_ERR_INVALID_ARG (NULL argument or closed session);
 * OTA_ERR_STATE when bytes were written to a session that was not resumed; OTA_ERR_NOT_FOUND
 * when final is not registered. When final is another partition than the staging one, logs
 * "Staging partition - <%s>. Final partition - <%s>." and records final and the copy flag.
 * Returns OTA_OK.
 */
int ota_ops_set_final(const ota_ops_dev_t *dev, ota_session_t *s, const ota_part_t *final,
                      bool finalize_with_copy);

/*
 * esp_ota_write: appends size bytes. data NULL: log "write data is invalid",
 * OTA_ERR_INVALID_ARG; size 0: OTA_OK, nothing done; closed session: OTA_ERR_INVALID_ARG.
 * With sequential erase, first erases the sectors the bytes reach that are not erased yet
 * (from wrote_size when it is sector-aligned, else from the next sector) and returns an erase
 * error; a 64 KiB block (one erase) replaces its 16 sectors when the whole block lies inside
 * the partition and the app image goes on past it: segment headers remain to be read, or the
 * last one has been read and the image ends after the block. The first byte of the image (wrote_size 0) is checked by the final partition's type:
 * app or bootloader must start with 0xE9 ("OTA image has invalid magic byte (expected 0xE9, saw
 * 0x%02x)"), a partition table with the LE word 0x50AA ("Partition table image has invalid
 * magic word (expected 0x50AA, saw 0x%04x)"; a 1-byte first write is checked on its one byte);
 * failure returns OTA_ERR_VALIDATE, writes nothing and leaves the session open. Then programs
 * the bytes at wrote_size (errors as ota_ops_part_write: OTA_ERR_SIZE past the end) and
 * advances wrote_size. With dev->flash_encrypted only whole 16-byte blocks are programmed: the
 * buffered bytes are completed first, the tail waits in s->partial (spec 4.6 step 5), and
 * wrote_size counts programmed bytes only.
 */
int ota_ops_write(const ota_ops_dev_t *dev, ota_session_t *s, const void *data, size_t size);

/*
 * esp_ota_write_with_offset: programs size bytes at staging offset `offset` (no magic check)
 * and adds size to wrote_size. With dev->flash_encrypted a size that is not a multiple of 16 is
 * OTA_ERR_INVALID_ARG ("Size should be 16byte aligned for flash encryption case"). data NULL: log "write data is invalid", OTA_ERR_INVALID_ARG;
 * closed session: OTA_ERR_INVALID_ARG. A session using sequential erase is refused with
 * OTA_ERR_STATE and a log line (ESP-IDF asserts and aborts there). Write errors as
 * ota_ops_part_write.
 */
int ota_ops_write_at(const ota_ops_dev_t *dev, ota_session_t *s, const void *data, size_t size,
                     uint32_t offset);

/*
 * esp_ota_end: closes *s whatever happens. OTA_ERR_INVALID_ARG (NULL argument, closed session,
 * or nothing written). Bytes buffered for flash encryption are written as one padded 16-byte
 * block (OTA_ERR_STATE when that fails). Verification by the final partition's type over the staging partition:
 * app or bootloader: ota_img_verify (logging as esp_image_verify, a bootloader final verified as
 * a bootloader); partition table: the bootloader's table check over its first 0xC00 bytes (the
 * failure text logged with tag "flash_parts"); data and other types: none. A failure logs "New
 * image failed verification" and returns OTA_ERR_VALIDATE (or the read error of the table
 * bytes). Then, with finalize_with_copy, logs "Copy from <%s> staging partition to <%s>..." and
 * copies final->size bytes (ota_ops_part_copy; its error is returned). Returns OTA_OK.
 */
int ota_ops_end(const ota_ops_dev_t *dev, ota_session_t *s);

/* esp_ota_abort: closes *s; no flash change. Returns OTA_OK, or OTA_ERR_INVALID_ARG for a NULL
 * or closed session. */
int ota_ops_abort(ota_session_t *s);

/* ---- boot selection and queries (spec 2.8, 4.9 - 4.11) ------------------------------------- */

/*
 * esp_ota_set_boot_partition for p as given. In order: OTA_ERR_INVALID_ARG (NULL); the image in
 * [p->offset, +p->size) is verified (esp_image logging) else OTA_ERR_VALIDATE; OTA_ERR_INVALID_ARG
 * unless p is an app. Factory: erases the whole otadata partition (OTA_ERR_NOT_FOUND without
 * one) so the bootloader boots factory. Otherwise, with anti-rollback: the app description must
 * be readable (its error) and its secure_version at least the eFuse counter, else logs "This a
 * new partition can not be booted due to a secure version is lower than stored in efuse.
 * Partition will be erased.", erases p and returns OTA_ERR_VERSION. Then the otadata update of
 * spec 2.8 (ota_otadata_next: the other sector gets the new seq with state NEW with rollback,
 * UNDEFINED without): OTA_ERR_INVALID_ARG unless p is an OTA slot below the app-side OTA count,
 * OTA_ERR_NOT_FOUND without otadata, OTA_ERR_NO_SPACE when the sequence cannot advance, or a
 * flash error.
 */
int ota_ops_set_boot(const ota_ops_dev_t *dev, const ota_part_t *p);

/*
 * esp_ota_get_boot_partition: NULL without an otadata partition (log "not found otadata"); the
 * default partition (factory, else the first OTA slot, else test, else NULL with "invalid
 * partition table, no app partitions") when both entries are select-invalid or there is no OTA
 * slot; else the slot of the active entry (may be NULL if that slot does not exist), or, when no
 * entry is valid, the default after "ota data invalid, no current app. Assuming factory".
 */
const ota_part_t *ota_ops_get_boot(const ota_ops_dev_t *dev);

/*
 * esp_ota_get_next_update_partition: the first OTA slot (in subtype order) after start_from
 * (NULL = the running partition; otherwise looked up with ota_ops_part_verify), or the first
 * OTA slot when start_from is the last slot, not a slot, or unknown. NULL when there is no OTA
 * slot. With one slot that is running, returns it.
 */
const ota_part_t *ota_ops_next_update(const ota_ops_dev_t *dev, const ota_part_t *start_from);

/* esp_ota_get_app_partition_count: ota_0, ota_1, ... counted until the first missing one. */
int ota_ops_app_count(const ota_ops_dev_t *dev);

/*
 * esp_ota_get_state_partition for p as given: OTA_ERR_INVALID_ARG (NULL argument);
 * OTA_ERR_UNSUPPORTED (not an OTA slot); OTA_ERR_NOT_FOUND (no otadata, no OTA slot, or no entry
 * with a good CRC whose seq maps to p's slot). Entry 0 is looked at first. On success *state is
 * the entry's state word (OTA_OTADATA_STATE_*).
 */
int ota_ops_get_state(const ota_ops_dev_t *dev, const ota_part_t *p, uint32_t *state);

/*
 * esp_ota_get_last_invalid_partition: the slot of the INVALID/ABORTED entry with the lower seq,
 * if its image verifies (silently); NULL otherwise.
 */
const ota_part_t *ota_ops_last_invalid(const ota_ops_dev_t *dev);

/* esp_ota_check_rollback_is_possible (spec 4.10). */
bool ota_ops_rollback_possible(const ota_ops_dev_t *dev);

/*
 * esp_ota_mark_app_valid_cancel_rollback: sets the ACTIVE otadata entry (not necessarily the
 * running partition's) to VALID by rewriting its own sector with the same seq; nothing is
 * written when it is VALID already. With anti-rollback the eFuse counter is then raised to the
 * running app's secure_version (that call's error is returned). Returns OTA_OK;
 * OTA_ERR_NOT_FOUND (no otadata); OTA_ERR_FAIL (no active entry or no OTA slot: "Running
 * firmware is factory"); a flash error.
 */
int ota_ops_mark_valid(const ota_ops_dev_t *dev);

/*
 * esp_ota_mark_app_invalid_rollback: sets the ACTIVE entry to INVALID (same sector, same seq) and
 * logs "Rollback to previously worked partition.", if ota_ops_rollback_possible; else logs
 * "Rollback is not possible, do not have any suitable apps in slots" and returns
 * OTA_ERR_ROLLBACK_FAILED with nothing written. Other errors as ota_ops_mark_valid.
 */
int ota_ops_mark_invalid(const ota_ops_dev_t *dev);

/*
 * esp_ota_erase_last_boot_app_partition: with otadata, an active entry, an OTA slot, an inactive
 * entry with a good seq and CRC whose slot exists and is not the running partition: erases that
 * app partition, then the inactive otadata sector. Any unmet condition: OTA_ERR_FAIL. Flash
 * errors are returned.
 */
int ota_ops_erase_last_boot(const ota_ops_dev_t *dev);

/* esp_ota_invalidate_inactive_ota_data_slot: the same without erasing the app partition. */
int ota_ops_invalidate_inactive(const ota_ops_dev_t *dev);

/*
 * esp_ota_get_partition_description for p as given: reads the 256 raw bytes of esp_app_desc_t at
 * partition offset 0x20 into raw. Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL argument);
 * OTA_ERR_UNSUPPORTED (not an app); the read's error (ota_ops_part_read rules);
 * OTA_ERR_NOT_FOUND (no 0xABCD5432 magic; raw is still filled).
 */
int ota_ops_app_desc(const ota_ops_dev_t *dev, const ota_part_t *p, uint8_t raw[OTA_APP_DESC_LEN]);

/*
 * esp_ota_get_bootloader_description: reads the 80 raw bytes of esp_bootloader_desc_t at offset
 * 0x20 of p (NULL = the primary bootloader region: the chip's bootloader offset up to the table
 * offset). Returns OTA_OK; OTA_ERR_INVALID_ARG (NULL dev or raw, or no chip for the primary
 * region); the read's error; OTA_ERR_NOT_FOUND (magic byte not 80).
 */
int ota_ops_boot_desc(const ota_ops_dev_t *dev, const ota_part_t *p,
                      uint8_t raw[OTA_BOOT_DESC_LEN]);

/* ---- anti-rollback eFuse (esp_efuse_read/check/update_secure_version) ---------------------- */

/* The anti-rollback counter into *out (0 without eFuse hooks). Returns OTA_OK, or the hook's
 * error, or OTA_ERR_INVALID_ARG for NULL arguments. */
int ota_ops_secure_version(const ota_ops_dev_t *dev, uint32_t *out);

/*
 * Raises the counter to version (never lowers it). A version above the field width logs "Max
 * secure version is %u. Given %u version can not be written." (tag "efuse") and returns
 * OTA_ERR_INVALID_ARG. Returns OTA_OK (also without eFuse hooks: nothing to burn), or the hook's
 * error.
 */
int ota_ops_raise_secure_version(const ota_ops_dev_t *dev, uint32_t version);

#ifdef __cplusplus
}
#endif

#endif /* OTA_OPS_H */
