/*
 * NVS partitions from CSV, as ESP-IDF's nvs_partition_gen.py `generate` makes them (format
 * version 2, no encryption), written with the ESP-IDF-format store (ota_idfnvs.h).
 *
 * The CSV: lines starting with '#' are skipped; the first other line names the columns (key,
 * type, encoding, value); values may be double-quoted. Types: "namespace" (later rows go into
 * it), "data" (the value is in the cell) and "file" (the value is the path of a file whose bytes
 * are the value, relative to the current directory as the generator takes it). Encodings: u8,
 * i8, u16, i16, u32, i32, u64, i64 (decimal), string, hex2bin, base64, binary (file rows).
 *
 * Host tool library: allocates and reads files.
 */
#ifndef OTA_NVS_CSV_H
#define OTA_NVS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "ota/ota_err.h"
#include "ota/ota_idfnvs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Generates a partition of size bytes (a multiple of 4 KiB, 2 to 256 pages) from the CSV text
 * csv[0..len). On success *out is the malloc'ed partition (size bytes; free it) and OTA_OK is
 * returned. Failures, with diag naming the CSV line: OTA_ERR_SYNTAX (no header, an unknown type
 * or encoding, a value that does not parse or does not fit its type, a key or namespace longer
 * than 15 characters, data before any namespace); OTA_ERR_IO (a file row's file cannot be read);
 * OTA_ERR_NO_SPACE (the values do not fit size); OTA_ERR_INVALID_ARG; OTA_ERR_NO_MEM.
 */
int ota_nvs_csv_generate(const char *csv, size_t len, uint32_t size, uint8_t **out,
                         ota_diag_t *diag);

/*
 * Applies the CSV's rows to the mounted store s, in order, as an app's nvs_set_* calls would
 * (a key already there is updated: new item, old one erased, pages collected when needed).
 * Returns OTA_OK or the failures of ota_nvs_csv_generate (the rows before the failing one stay
 * applied).
 */
int ota_nvs_csv_apply(ota_idfnvs_t *s, const char *csv, size_t len, ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_NVS_CSV_H */
