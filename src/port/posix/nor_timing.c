/*
 * Timing profiles of NOR flash chips and the pure timing model of the emulated flash.
 * Figures are the datasheets' typical and maximum values; add a chip by adding a row.
 */
#include "ota/ota_nor.h"

#include <stdlib.h>
#include <strings.h>

#define MS(x) ((uint32_t)(x)*1000u)
#define S(x) ((uint32_t)(x)*1000000u)

/*
 * Read throughput of the default profile: 40 MB/s is the bus rate of QIO at 80 MHz (4 bits per
 * clock), the fastest mode the ESP32 family drives these chips in; it is not a datasheet figure.
 * ota_nor_profile_for_flash replaces it with the rate of the mode and frequency an image names.
 */
#define QIO_80MHZ_BYTES_PER_S 40000000u

/*
 * Winbond's W25Q..JV family, one part per size (SPI NOR datasheets, "AC Electrical
 * Characteristics": tPP page program, tSE 4 KiB sector erase, tBE2 64 KiB block erase, tCE chip
 * erase, typical/maximum). Page and erase figures are the same across the family; the chip
 * erase grows with the size.
 */
static const ota_nor_profile_t profiles[] = {
    /* W25Q32JV, 32 Mbit (4 MiB): tPP 0.4/3 ms, tSE 45/400 ms, tBE2 150/2000 ms, tCE 10/50 s */
    {"W25Q32JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(10), S(50),
     QIO_80MHZ_BYTES_PER_S, 4u << 20},
    /* W25Q16JV, 16 Mbit (2 MiB): tCE 5/25 s; also stands for 1 MiB flashes */
    {"W25Q16JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(5), S(25),
     QIO_80MHZ_BYTES_PER_S, 2u << 20},
    /* W25Q64JV, 64 Mbit (8 MiB): tCE 20/100 s */
    {"W25Q64JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(20), S(100),
     QIO_80MHZ_BYTES_PER_S, 8u << 20},
    /* W25Q128JV, 128 Mbit (16 MiB): tCE 40/200 s */
    {"W25Q128JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(40), S(200),
     QIO_80MHZ_BYTES_PER_S, 16u << 20},
    /* W25Q256JV, 256 Mbit (32 MiB): tCE 80/400 s; also stands for 64 and 128 MiB flashes */
    {"W25Q256JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(80), S(400),
     QIO_80MHZ_BYTES_PER_S, 32u << 20},
};

const ota_nor_profile_t *ota_nor_profile_default(void)
{
    return &profiles[0];
}

const ota_nor_profile_t *ota_nor_profile_at(size_t index)
{
    return index < sizeof(profiles) / sizeof(profiles[0]) ? &profiles[index] : NULL;
}

const ota_nor_profile_t *ota_nor_profile_find(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (strcasecmp(profiles[i].name, name) == 0) {
            return &profiles[i];
        }
    }
    return NULL;
}

void ota_nor_time_model(const ota_nor_profile_t *p, const ota_nor_op_counts_t *c,
                        ota_nor_time_t *out)
{
    out->typ_us = c->page_programs * p->page_program_typ_us +
                  c->sector_erases * p->sector_erase_typ_us +
                  c->block_erases * p->block_erase_typ_us + c->chip_erases * p->chip_erase_typ_us;
    out->max_us = c->page_programs * p->page_program_max_us +
                  c->sector_erases * p->sector_erase_max_us +
                  c->block_erases * p->block_erase_max_us + c->chip_erases * p->chip_erase_max_us;
    out->read_us = p->read_bytes_per_s == 0 ? 0 : c->read_bytes * 1000000u / p->read_bytes_per_s;
}

/* The part for a flash size: the smallest part at least that large, else the largest. */
static const ota_nor_profile_t *part_for_size(uint32_t size)
{
    const ota_nor_profile_t *best = NULL;
    const ota_nor_profile_t *largest = &profiles[0];
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        const ota_nor_profile_t *p = &profiles[i];
        if (p->size >= size && (best == NULL || p->size < best->size)) {
            best = p;
        }
        if (p->size > largest->size) {
            largest = p;
        }
    }
    return best != NULL ? best : largest;
}

void ota_nor_profile_for_flash(uint32_t size, const ota_chip_t *chip, const uint8_t *header,
                               ota_nor_profile_t *out)
{
    *out = *part_for_size(size);
    /* ESP-IDF's defaults when there is no image: DIO at 40 MHz */
    uint32_t mhz = 40;
    uint32_t bits = 2;
    if (header != NULL && header[0] == 0xE9) {
        const char *f = chip != NULL ? ota_chip_flash_freq_name(chip, header[3] & 0x0F) : NULL;
        if (f != NULL) {
            mhz = (uint32_t)strtoul(f, NULL, 10);
        }
        /* header byte 2: 0 QIO, 1 QOUT (4 data lines), 2 DIO, 3 DOUT (2 data lines) */
        bits = header[2] <= 1 ? 4 : 2;
    }
    out->read_bytes_per_s = mhz * 1000000u / 8u * bits;
}
