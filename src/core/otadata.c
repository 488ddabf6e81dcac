/* otadata: entry codec, CRC, validity predicates, selection, new-slot choice, flash access. */
#include "ota/ota_otadata.h"

#include <string.h>

#include "ota_le.h"

_Static_assert(4 + OTA_OTADATA_LABEL_LEN + 4 + 4 == OTA_OTADATA_ENTRY_SIZE,
               "esp_ota_select_entry_t is 32 bytes");

enum {
    OFF_SEQ = 0,
    OFF_LABEL = 4,
    OFF_STATE = 24,
    OFF_CRC = 28,
};

/* ---------------------------------------------------------------------------------------- */
/* Encoding and CRC                                                                          */
/* ---------------------------------------------------------------------------------------- */

uint32_t ota_otadata_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

uint32_t ota_otadata_seq_crc(uint32_t seq)
{
    uint8_t b[4];
    ota_put_le32(b, seq);
    return ota_otadata_crc32(0xFFFFFFFFu, b, sizeof(b));
}

void ota_otadata_decode(const uint8_t raw[OTA_OTADATA_ENTRY_SIZE], ota_otadata_entry_t *out)
{
    out->seq = ota_get_le32(raw + OFF_SEQ);
    memcpy(out->seq_label, raw + OFF_LABEL, OTA_OTADATA_LABEL_LEN);
    out->state = ota_get_le32(raw + OFF_STATE);
    out->crc = ota_get_le32(raw + OFF_CRC);
}

void ota_otadata_encode(const ota_otadata_entry_t *e, uint8_t raw[OTA_OTADATA_ENTRY_SIZE])
{
    ota_put_le32(raw + OFF_SEQ, e->seq);
    memcpy(raw + OFF_LABEL, e->seq_label, OTA_OTADATA_LABEL_LEN);
    ota_put_le32(raw + OFF_STATE, e->state);
    ota_put_le32(raw + OFF_CRC, e->crc);
}

void ota_otadata_set_seq(ota_otadata_entry_t *e, uint32_t seq)
{
    e->seq = seq;
    e->crc = ota_otadata_seq_crc(seq);
}

void ota_otadata_make(uint32_t seq, uint32_t state, ota_otadata_entry_t *out)
{
    memset(out->seq_label, 0xFF, sizeof(out->seq_label));
    out->state = state;
    ota_otadata_set_seq(out, seq);
}

const char *ota_otadata_state_name(uint32_t state)
{
    switch (state) {
    case OTA_OTADATA_STATE_NEW:
        return "NEW";
    case OTA_OTADATA_STATE_PENDING_VERIFY:
        return "PENDING_VERIFY";
    case OTA_OTADATA_STATE_VALID:
        return "VALID";
    case OTA_OTADATA_STATE_INVALID:
        return "INVALID";
    case OTA_OTADATA_STATE_ABORTED:
        return "ABORTED";
    case OTA_OTADATA_STATE_UNDEFINED:
        return "UNDEFINED";
    default:
        return "UNKNOWN";
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Validity and selection                                                                    */
/* ---------------------------------------------------------------------------------------- */

bool ota_otadata_select_invalid(const ota_otadata_entry_t *e)
{
    return e->seq == OTA_OTADATA_SEQ_EMPTY || e->state == OTA_OTADATA_STATE_INVALID ||
           e->state == OTA_OTADATA_STATE_ABORTED;
}

bool ota_otadata_crc_ok(const ota_otadata_entry_t *e)
{
    return e->crc == ota_otadata_seq_crc(e->seq);
}

bool ota_otadata_select_valid(const ota_otadata_entry_t *e)
{
    return !ota_otadata_select_invalid(e) && ota_otadata_crc_ok(e);
}

bool ota_otadata_seq_crc_ok(const ota_otadata_entry_t *e)
{
    return e->seq != OTA_OTADATA_SEQ_EMPTY && ota_otadata_crc_ok(e);
}

bool ota_otadata_invalid_record(const ota_otadata_entry_t *e)
{
    return ota_otadata_seq_crc_ok(e) &&
           (e->state == OTA_OTADATA_STATE_INVALID || e->state == OTA_OTADATA_STATE_ABORTED);
}

int ota_otadata_select(const ota_otadata_entry_t e[2], const bool flags[2], bool max)
{
    if (flags[0] && flags[1]) {
        uint32_t a = e[0].seq;
        uint32_t b = e[1].seq;
        uint32_t m = max ? (a > b ? a : b) : (a < b ? a : b);
        return a == m ? 0 : 1;
    }
    if (flags[0]) {
        return 0;
    }
    if (flags[1]) {
        return 1;
    }
    return -1;
}

int ota_otadata_active(const ota_otadata_entry_t e[2])
{
    bool valid[2] = {ota_otadata_select_valid(&e[0]), ota_otadata_select_valid(&e[1])};
    return ota_otadata_select(e, valid, true);
}

int ota_otadata_slot_of_seq(uint32_t seq, uint32_t n)
{
    if (n == 0 || n > OTA_OTADATA_MAX_SLOTS) {
        return OTA_ERR_INVALID_ARG;
    }
    return (int)((uint32_t)(seq - 1u) % n);
}

/* ---------------------------------------------------------------------------------------- */
/* Choosing a new boot slot                                                                  */
/* ---------------------------------------------------------------------------------------- */

/*
 * Smallest base + i*n >= floor (i >= 0), base = (slot + 1) mod n, computed without wrap-around.
 * Returns it, or a value >= 0xFFFFFFFF when it does not fit below the empty marker.
 */
static uint64_t next_seq(uint32_t floor, uint32_t slot, uint32_t n)
{
    uint64_t base = (slot + 1u) % n;
    if (base >= floor) {
        return base;
    }
    uint64_t i = ((uint64_t)floor - base + n - 1) / n;
    return base + i * n;
}

int ota_otadata_next(const ota_otadata_entry_t cur[2], uint32_t slot, uint32_t n, bool rollback,
                     int *sector, ota_otadata_entry_t *out)
{
    if (cur == NULL || sector == NULL || out == NULL || n == 0 || n > OTA_OTADATA_MAX_SLOTS ||
        slot >= n) {
        return OTA_ERR_INVALID_ARG;
    }
    int a = ota_otadata_active(cur);
    int target = 0;
    uint64_t seq = (uint64_t)slot + 1u;
    if (a != -1) {
        target = 1 - a;
        seq = next_seq(cur[a].seq, slot, n);
        if (seq >= OTA_OTADATA_SEQ_EMPTY) {
            return OTA_ERR_NO_SPACE;
        }
    }
    *out = cur[target];
    out->state = rollback ? OTA_OTADATA_STATE_NEW : OTA_OTADATA_STATE_UNDEFINED;
    ota_otadata_set_seq(out, (uint32_t)seq);
    *sector = target;
    return OTA_OK;
}

/* otatool's validity test: seq below 0xFFFFFFFF and a matching crc. */
static bool tool_valid(const ota_otadata_entry_t *e)
{
    return e->seq < OTA_OTADATA_SEQ_EMPTY && ota_otadata_crc_ok(e);
}

int ota_otadata_tool_switch(uint8_t *image, size_t len, uint32_t slot, uint32_t n, int *sector,
                            ota_diag_t *diag)
{
    ota_otadata_entry_t e[2];
    if (image == NULL) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "no otadata image");
    }
    if (n == 0) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "No ota app partitions found");
    }
    if (slot >= n || n > OTA_OTADATA_MAX_SLOTS) {
        return ota_diag_set(diag, OTA_ERR_INVALID_ARG, "Partition to switch to not found");
    }
    if (ota_otadata_decode_image(image, len, e) != OTA_OK) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "otadata image is %zu bytes, smaller than two sectors (%u bytes)", len,
                            OTA_OTADATA_MIN_SIZE);
    }
    bool valid[2] = {tool_valid(&e[0]), tool_valid(&e[1])};
    int base = ota_otadata_select(e, valid, true);
    uint64_t seq = (uint64_t)slot + 1u;
    if (base != -1) {
        seq = next_seq(e[base].seq, slot, n);
        if (seq >= OTA_OTADATA_SEQ_EMPTY) {
            return ota_diag_set(diag, OTA_ERR_NO_SPACE,
                                "sequence number 0x%08x cannot be advanced to slot %u",
                                (unsigned)e[base].seq, (unsigned)slot);
        }
    }
    int target = base == 0 ? 1 : 0;
    uint8_t *entry = image + (size_t)target * OTA_OTADATA_SECTOR_SIZE;
    ota_put_le32(entry + OFF_SEQ, (uint32_t)seq);
    ota_put_le32(entry + OFF_CRC, ota_otadata_seq_crc((uint32_t)seq));
    if (sector != NULL) {
        *sector = target;
    }
    return OTA_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Images and flash                                                                          */
/* ---------------------------------------------------------------------------------------- */

void ota_otadata_blank(uint8_t *buf, size_t len)
{
    memset(buf, 0xFF, len);
}

int ota_otadata_decode_image(const uint8_t *image, size_t len, ota_otadata_entry_t out[2])
{
    if (image == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (len < OTA_OTADATA_MIN_SIZE) {
        return OTA_ERR_SIZE;
    }
    ota_otadata_decode(image, &out[0]);
    ota_otadata_decode(image + OTA_OTADATA_SECTOR_SIZE, &out[1]);
    return OTA_OK;
}

int ota_otadata_read(const ota_flash_t *f, uint32_t offset, uint32_t size,
                     ota_otadata_entry_t out[2], ota_diag_t *diag)
{
    uint8_t raw[2][OTA_OTADATA_ENTRY_SIZE];
    if (f == NULL || out == NULL) {
        return OTA_ERR_INVALID_ARG;
    }
    if (size < OTA_OTADATA_MIN_SIZE) {
        return ota_diag_set(diag, OTA_ERR_SIZE,
                            "ota_info partition size %u is too small (minimum %d bytes)",
                            (unsigned)size, (int)OTA_OTADATA_MIN_SIZE);
    }
    int err = ota_flash_read(f, offset, raw[0], OTA_OTADATA_ENTRY_SIZE);
    if (err == OTA_OK) {
        err = ota_flash_read(f, offset + OTA_OTADATA_SECTOR_SIZE, raw[1], OTA_OTADATA_ENTRY_SIZE);
    }
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "bootloader_mmap(0x%x, 0x%x) failed", (unsigned)offset,
                            (unsigned)size);
    }
    ota_otadata_decode(raw[0], &out[0]);
    ota_otadata_decode(raw[1], &out[1]);
    return OTA_OK;
}

int ota_otadata_write_entry(const ota_flash_t *f, uint32_t offset, uint32_t size, int sector,
                            const ota_otadata_entry_t *e)
{
    uint8_t raw[OTA_OTADATA_ENTRY_SIZE];
    if (f == NULL || e == NULL || (sector != 0 && sector != 1)) {
        return OTA_ERR_INVALID_ARG;
    }
    if (size < OTA_OTADATA_MIN_SIZE) {
        return OTA_ERR_SIZE;
    }
    uint32_t addr = offset + (uint32_t)sector * OTA_OTADATA_SECTOR_SIZE;
    int err = ota_flash_erase_range(f, addr, OTA_OTADATA_SECTOR_SIZE);
    if (err != OTA_OK) {
        return err;
    }
    ota_otadata_encode(e, raw);
    return ota_flash_program(f, addr, raw, sizeof(raw));
}

int ota_otadata_erase(const ota_flash_t *f, uint32_t offset, uint32_t size)
{
    return ota_flash_erase_range(f, offset, size);
}

int ota_otadata_set_boot(const ota_flash_t *f, uint32_t offset, uint32_t size, uint32_t slot,
                         uint32_t n, bool rollback, int *sector, ota_diag_t *diag)
{
    ota_otadata_entry_t cur[2];
    ota_otadata_entry_t next;
    int target;
    int err = ota_otadata_read(f, offset, size, cur, diag);
    if (err != OTA_OK) {
        return err;
    }
    err = ota_otadata_next(cur, slot, n, rollback, &target, &next);
    if (err == OTA_ERR_NO_SPACE) {
        return ota_diag_set(diag, err, "otadata sequence number cannot be advanced to slot %u",
                            (unsigned)slot);
    }
    if (err != OTA_OK) {
        return ota_diag_set(diag, err, "OTA slot %u is not one of the %u OTA app partitions",
                            (unsigned)slot, (unsigned)n);
    }
    err = ota_otadata_write_entry(f, offset, size, target, &next);
    if (err == OTA_OK && sector != NULL) {
        *sector = target;
    }
    return err;
}
