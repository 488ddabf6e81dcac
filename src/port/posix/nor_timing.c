/*
 * Timing profiles of NOR flash chips and the pure timing model of the emulated flash.
 * Figures are the datasheets' typical and maximum values; add a chip by adding a row.
 */
#include "ota/ota_nor.h"

#include <strings.h>

#define MS(x) ((uint32_t)(x)*1000u)
#define S(x) ((uint32_t)(x)*1000000u)

/*
 * Read throughput: 40 MB/s is the bus rate of ESP-IDF's QIO mode at 80 MHz (4 bits per clock),
 * the fastest mode the ESP32 family drives these chips in; it is not a datasheet figure.
 */
#define QIO_80MHZ_BYTES_PER_S 40000000u

static const ota_nor_profile_t profiles[] = {
    /* Winbond W25Q32JV, 32 Mbit: tPP 0.4/3 ms, tSE 45/400 ms, tBE2 150/2000 ms, tCE 10/50 s */
    {"W25Q32JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(10), S(50),
     QIO_80MHZ_BYTES_PER_S},
    /* Winbond W25Q64JV, 64 Mbit: same page and erase figures, tCE 20/100 s */
    {"W25Q64JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(20), S(100),
     QIO_80MHZ_BYTES_PER_S},
    /* Winbond W25Q128JV, 128 Mbit: same page and erase figures, tCE 40/200 s */
    {"W25Q128JV", 400, MS(3), MS(45), MS(400), MS(150), MS(2000), S(40), S(200),
     QIO_80MHZ_BYTES_PER_S},
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
