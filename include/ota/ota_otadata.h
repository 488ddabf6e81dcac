/*
 * otadata: the OTA selection data of ESP-IDF (data/ota partition, spec section 2).
 *
 * The partition is two 4 KiB sectors; each holds one 32-byte entry (esp_ota_select_entry_t) at its
 * start, the rest is unused (0xFF):
 *
 *   off  size  field
 *     0     4  seq        sequence counter, little-endian; 0xFFFFFFFF = empty
 *     4    20  seq_label  unused by ESP-IDF, kept as read (normally 0xFF x 20)
 *    24     4  state      image state (OTA_OTADATA_STATE_*)
 *    28     4  crc        CRC-32 of bytes 0..3 only (ota_otadata_seq_crc)
 *
 * Entry 0 is at partition offset 0, entry 1 at +0x1000. The active entry is the one with the
 * highest seq among the select-valid ones (ties go to entry 0); it selects OTA slot
 * (seq - 1) mod n, n being the number of OTA app partitions.
 *
 * The selection pieces are plain functions over two decoded entries so that the bootloader and
 * the app share them. Portable core: no allocation, flash only through ota_flash_t, caller owns
 * every buffer.
 */
#ifndef OTA_OTADATA_H
#define OTA_OTADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_err.h"
#include "ota/ota_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_OTADATA_ENTRY_SIZE 32u
#define OTA_OTADATA_LABEL_LEN 20u
#define OTA_OTADATA_SECTOR_SIZE 0x1000u /* entry 1 is at this offset */
#define OTA_OTADATA_MIN_SIZE 0x2000u    /* smallest partition the bootloader accepts */
#define OTA_OTADATA_SEQ_EMPTY 0xFFFFFFFFu
#define OTA_OTADATA_MAX_SLOTS 16u /* ota_0 .. ota_15 */

/* Image states (esp_ota_img_states_t, same values). */
#define OTA_OTADATA_STATE_NEW 0x0u              /* selected; the bootloader boots it once */
#define OTA_OTADATA_STATE_PENDING_VERIFY 0x1u   /* booted once; the app must confirm it */
#define OTA_OTADATA_STATE_VALID 0x2u            /* confirmed */
#define OTA_OTADATA_STATE_INVALID 0x3u          /* marked bad; never selected */
#define OTA_OTADATA_STATE_ABORTED 0x4u          /* not confirmed in time; never selected */
#define OTA_OTADATA_STATE_UNDEFINED 0xFFFFFFFFu /* erased; selectable */

/* One decoded entry. seq_label is kept as raw bytes (it need not be text). */
typedef struct ota_otadata_entry {
    uint32_t seq;
    uint8_t seq_label[OTA_OTADATA_LABEL_LEN];
    uint32_t state;
    uint32_t crc;
} ota_otadata_entry_t;

/* ---------------------------------------------------------------------------------------- */
/* Encoding and CRC                                                                          */
/* ---------------------------------------------------------------------------------------- */

/*
 * CRC-32 as the chip ROM's little-endian routine (esp_rom_crc32_le): reflected polynomial
 * 0xEDB88320; the seed is inverted on entry and the result on exit, so calls chain like zlib's
 * crc32(crc, data, len). With seed 0xFFFFFFFF it equals Python's binascii.crc32(data, 0xFFFFFFFF).
 */
uint32_t ota_otadata_crc32(uint32_t crc, const void *data, size_t len);

/* The entry CRC: ota_otadata_crc32(0xFFFFFFFF, the 4 little-endian bytes of seq, 4). */
uint32_t ota_otadata_seq_crc(uint32_t seq);

/* Decodes 32 bytes into *out. */
void ota_otadata_decode(const uint8_t raw[OTA_OTADATA_ENTRY_SIZE], ota_otadata_entry_t *out);

/* Encodes *e into 32 bytes, fields as they are (the crc is not recomputed). */
void ota_otadata_encode(const ota_otadata_entry_t *e, uint8_t raw[OTA_OTADATA_ENTRY_SIZE]);

/* Sets e->seq and recomputes e->crc; label and state are unchanged. */
void ota_otadata_set_seq(ota_otadata_entry_t *e, uint32_t seq);

/* Fills *out with a fresh entry: the given seq and state, label 0xFF x 20, matching crc. */
void ota_otadata_make(uint32_t seq, uint32_t state, ota_otadata_entry_t *out);

/*
 * Name of a state: "NEW", "PENDING_VERIFY", "VALID", "INVALID", "ABORTED", "UNDEFINED", or
 * "UNKNOWN" for any other value. Static string; never NULL.
 */
const char *ota_otadata_state_name(uint32_t state);

/* ---------------------------------------------------------------------------------------- */
/* Validity and selection (spec 2.3 - 2.5)                                                   */
/* ---------------------------------------------------------------------------------------- */

/* seq == 0xFFFFFFFF, or state INVALID, or state ABORTED. */
bool ota_otadata_select_invalid(const ota_otadata_entry_t *e);

/* Not select_invalid, and crc == CRC(seq). The test for the active entry. */
bool ota_otadata_select_valid(const ota_otadata_entry_t *e);

/* crc == CRC(seq); no other test. */
bool ota_otadata_crc_ok(const ota_otadata_entry_t *e);

/* seq != 0xFFFFFFFF and crc == CRC(seq). */
bool ota_otadata_seq_crc_ok(const ota_otadata_entry_t *e);

/* seq != 0xFFFFFFFF, crc ok, and state INVALID or ABORTED (a rolled-back record). */
bool ota_otadata_invalid_record(const ota_otadata_entry_t *e);

/*
 * Chooses between the two entries given their flags: both set -> the one whose seq is the
 * maximum (max true) or minimum (max false) of the two, entry 0 on a tie; one set -> that one;
 * none -> -1. Returns -1, 0 or 1.
 */
int ota_otadata_select(const ota_otadata_entry_t e[2], const bool flags[2], bool max);

/* The active entry: ota_otadata_select with the select_valid flags, max. Returns -1, 0 or 1. */
int ota_otadata_active(const ota_otadata_entry_t e[2]);

/*
 * OTA slot selected by seq with n OTA partitions: (seq - 1) mod n in unsigned 32-bit arithmetic
 * (seq 0 gives 0xFFFFFFFF mod n). Returns the slot (0 .. n-1) or OTA_ERR_INVALID_ARG when n is
 * 0 or above OTA_OTADATA_MAX_SLOTS.
 */
int ota_otadata_slot_of_seq(uint32_t seq, uint32_t n);

/* ---------------------------------------------------------------------------------------- */
/* Choosing a new boot slot                                                                  */
/* ---------------------------------------------------------------------------------------- */

/*
 * The app's new selection (esp_ota_set_boot_partition -> esp_rewrite_ota_data, ESP-IDF v5.5,
 * spec 2.8), pure. Input: the two entries as read, the target slot and n (the app-side count of
 * OTA partitions). With an active entry a: the new seq is the smallest base + i*n >= seq_a
 * (base = (slot + 1) mod n, i >= 0) and it goes to the other sector 1 - a; without one: seq
 * slot + 1 in sector 0. The written entry is that sector's entry as read, with the new seq and
 * crc and state NEW (rollback enabled) or UNDEFINED (disabled); its label bytes are kept.
 * Kept as in v5.5: choosing the slot that is already active gives the other sector the same seq,
 * and the tie then goes to sector 0; an active seq 0 with the last slot as target yields seq 0
 * again, which selects slot 0xFFFFFFFF mod n (slot n - 1 only when n is a power of two).
 * On success sets *sector and *out and returns OTA_OK. Returns OTA_ERR_INVALID_ARG (NULL
 * argument, n not 1..16, slot >= n) or OTA_ERR_NO_SPACE when the new seq would reach
 * 0xFFFFFFFF (the empty marker; ESP-IDF would wrap around there, otakit refuses).
 */
int ota_otadata_next(const ota_otadata_entry_t cur[2], uint32_t slot, uint32_t n, bool rollback,
                     int *sector, ota_otadata_entry_t *out);

/*
 * otatool.py switch_ota_partition (spec 2.10), pure, on an otadata partition image (len >=
 * 0x2000; entry 1 at 0x1000). Validity here is seq < 0xFFFFFFFF and crc match, with no state
 * test; the higher valid seq is the base (ties to entry 0); the new seq follows the same formula
 * as ota_otadata_next (slot + 1 when no entry is valid). Only bytes 0..3 (seq) and 28..31 (crc)
 * of the other entry are rewritten - entry 1 when the base is entry 0, else entry 0 (so entry 0
 * when neither is valid); its label and state bytes stay as they were. Nothing else changes.
 * On success sets *sector (if non-NULL) to the entry written and returns OTA_OK. Failures leave
 * the image untouched: OTA_ERR_INVALID_ARG (NULL image; n == 0: "No ota app partitions found";
 * slot >= n or n > 16: "Partition to switch to not found"), OTA_ERR_SIZE (len < 0x2000),
 * OTA_ERR_NO_SPACE (new seq would reach 0xFFFFFFFF).
 */
int ota_otadata_tool_switch(uint8_t *image, size_t len, uint32_t slot, uint32_t n, int *sector,
                            ota_diag_t *diag);

/* ---------------------------------------------------------------------------------------- */
/* Images and flash                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* The initial (blank) otadata: len bytes of 0xFF into buf, as ota_data_initial.bin. */
void ota_otadata_blank(uint8_t *buf, size_t len);

/*
 * Decodes both entries of an otadata partition image (entry 1 at 0x1000). Returns OTA_OK,
 * OTA_ERR_INVALID_ARG (NULL argument) or OTA_ERR_SIZE (len < 0x2000).
 */
int ota_otadata_decode_image(const uint8_t *image, size_t len, ota_otadata_entry_t out[2]);

/*
 * Reads both entries of the otadata partition at [offset, offset+size) from flash. Returns
 * OTA_OK; OTA_ERR_INVALID_ARG (NULL f or out); OTA_ERR_SIZE when size < 0x2000 (diag: "ota_info
 * partition size %d is too small (minimum %d bytes)"); or the flash error (diag:
 * "bootloader_mmap(0x%x, 0x%x) failed").
 */
int ota_otadata_read(const ota_flash_t *f, uint32_t offset, uint32_t size,
                     ota_otadata_entry_t out[2], ota_diag_t *diag);

/*
 * Writes entry *e into sector `sector` (0 or 1) the ESP-IDF way: erase that 4 KiB sector, then
 * program the 32 encoded bytes at its start (e is written as it is; see ota_otadata_set_seq).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG (NULL argument, sector not 0 or 1), OTA_ERR_SIZE (size <
 * 0x2000), or the flash error (the sector may then be erased or partly written).
 */
int ota_otadata_write_entry(const ota_flash_t *f, uint32_t offset, uint32_t size, int sector,
                            const ota_otadata_entry_t *e);

/*
 * Erases the whole otadata partition (back to the blank state: boot factory, or ota_0).
 * Returns OTA_OK, OTA_ERR_INVALID_ARG, OTA_ERR_ALIGN (offset or size not sector multiples),
 * OTA_ERR_BOUNDS, or the flash error.
 */
int ota_otadata_erase(const ota_flash_t *f, uint32_t offset, uint32_t size);

/*
 * ota_otadata_next performed on flash (esp_ota_set_boot_partition for an OTA slot): reads both
 * entries, computes the new one and writes it (erase + program). Sets *sector (if non-NULL) to
 * the sector written. Returns OTA_OK or the error of ota_otadata_read, ota_otadata_next or
 * ota_otadata_write_entry.
 */
int ota_otadata_set_boot(const ota_flash_t *f, uint32_t offset, uint32_t size, uint32_t slot,
                         uint32_t n, bool rollback, int *sector, ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_OTADATA_H */
