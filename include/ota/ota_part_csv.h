/*
 * Partition tables on the host, as ESP-IDF's gen_esp32part.py handles them: CSV text to a table
 * (with automatic placement and the generator's checks), the generator's own strict binary
 * parser, a table back to CSV text, and the built-in tables (singleapp, two_ota,
 * two_ota_large).
 *
 * Host code: it may allocate. Errors are ota_err_t values; the optional diag receives one line in
 * the generator's words (for CSV problems "Error at line N: ..." or "Partition NAME invalid: ...").
 *
 * Error codes used by the functions below:
 *   OTA_ERR_SYNTAX       CSV text that cannot be read (bad field, unknown keyword or flag, empty
 *                        type or size, unknown variable, undecodable text)
 *   OTA_ERR_CORRUPT      binary input the generator rejects (no end marker, length not a
 *                        multiple of 32, MD5 mismatch, bad magic, label not UTF-8)
 *   OTA_ERR_ALIGN        an offset or app size not aligned as required
 *   OTA_ERR_BOUNDS       partitions overlapping, below the table, or values beyond 32 bits
 *   OTA_ERR_SIZE         a data/ota or data/tee_ota partition not 0x2000 bytes; a small
 *                        read/write NVS partition
 *   OTA_ERR_INVALID_ARG  duplicate names, several otadata partitions, readonly where not
 *                        allowed, a missing bootloader offset option, bad options
 *   OTA_ERR_NO_SPACE     the table does not fit the flash size or the 0xC00-byte table area
 *   OTA_ERR_NO_MEM       an allocation failed
 *   OTA_ERR_NOT_FOUND    an unknown built-in table name (ota_part_builtin_table)
 */
#ifndef OTA_PART_CSV_H
#define OTA_PART_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota_err.h"
#include "ota/ota_part.h"

#ifdef __cplusplus
extern "C" {
#endif

/* App partition size alignment mode (gen_esp32part.py --secure). */
typedef enum {
    OTA_PART_SECURE_NONE = 0, /* app sizes: multiple of 0x1000 */
    OTA_PART_SECURE_V1 = 1,   /* app sizes: multiple of 0x10000 */
    OTA_PART_SECURE_V2 = 2,   /* app sizes: multiple of 0x1000 */
} ota_part_secure_t;

/* An extra subtype keyword (--extra-partition-subtypes "type,name,value"). */
typedef struct ota_part_subtype_def {
    uint8_t type;     /* app, data, bootloader or partition_table */
    const char *name; /* keyword; the caller keeps the string alive */
    uint8_t value;
} ota_part_subtype_def_t;

/* Receives each warning line (gen_esp32part.py's "WARNING: ..." text, no newline). */
typedef void (*ota_part_warn_fn)(void *ctx, const char *msg);

/*
 * Options, as gen_esp32part.py's command line. A zero-filled struct means the generator's
 * defaults: table at 0x8000, MD5 row on, verification on, no flash size check, no bootloader
 * offsets, no secure boot, no extra subtypes, warnings dropped.
 */
typedef struct ota_part_csv_opts {
    uint32_t table_offset;                        /* --offset; 0 = OTA_PART_TABLE_OFFSET_DEFAULT */
    uint32_t flash_size;                          /* --flash-size in bytes; 0 = no check */
    bool no_md5;                                  /* --disable-md5sum */
    bool no_verify;                               /* --no-verify */
    bool has_primary_bootloader_offset;           /* --primary-bootloader-offset given */
    uint32_t primary_bootloader_offset;           /* its value */
    bool has_recovery_bootloader_offset;          /* --recovery-bootloader-offset given */
    uint32_t recovery_bootloader_offset;          /* its value */
    ota_part_secure_t secure;                     /* --secure */
    const ota_part_subtype_def_t *extra_subtypes; /* --extra-partition-subtypes, in order */
    size_t extra_subtype_count;
    ota_part_warn_fn warn; /* NULL: warnings are dropped */
    void *warn_ctx;
} ota_part_csv_opts_t;

/*
 * Checks the options themselves: the primary bootloader below the table, extra subtypes with a
 * known type and no value already used by that type. opts may be NULL (defaults).
 * Returns OTA_OK or OTA_ERR_INVALID_ARG with diag set. The parse functions call it first.
 */
int ota_part_csv_check_opts(const ota_part_csv_opts_t *opts, ota_diag_t *diag);

/*
 * Parses one --extra-partition-subtypes argument "type,name,value" (value in hex, as
 * gen_esp32part.py reads it) in place: spec is modified and out->name points into it.
 * Returns OTA_OK or OTA_ERR_INVALID_ARG ("Error parsing custom subtypes: ...").
 */
int ota_part_extra_subtype_parse(char *spec, ota_part_subtype_def_t *out, ota_diag_t *diag);

/*
 * Parses a number as Python's int(s, 0) does: optional surrounding whitespace and sign, decimal
 * (no leading zeros), 0x/0o/0b prefixes, single underscores between digits. No K/M suffix.
 * Returns true and sets *out on success; false if s is not such a number or does not fit 63 bits.
 */
bool ota_part_parse_pyint(const char *s, int64_t *out);

/*
 * CSV text (len bytes, need not be NUL-terminated; a UTF-8/16/32 BOM selects the decoding) to a
 * table, exactly as gen_esp32part.py: variables expanded, offsets placed, negative sizes turned
 * into end addresses, forced bootloader / partition_table fields, then (unless opts->no_verify)
 * the generator's checks, then the --flash-size check, then the 0xC00 capacity check of the
 * binary. out->has_md5 is set to !opts->no_md5, ready for ota_part_table_encode.
 * Warnings go to opts->warn. out is caller-owned; on failure out->count is 0.
 * Returns OTA_OK or an error listed at the top of this file, with diag set.
 */
int ota_part_csv_parse(const char *text, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, ota_diag_t *diag);

/*
 * gen_esp32part.py's binary parser: 32-byte rows up to the first all-0xFF row (required); with
 * MD5 on (!opts->no_md5) a row starting EB EB must carry the MD5 of the rows before it and is
 * skipped; every other row must have magic AA 50 and a UTF-8 label; unknown flag bits give a
 * warning (and are kept in flags). Then the checks (unless opts->no_verify) and the --flash-size
 * check as for CSV. out->has_md5 tells whether an MD5 row was present.
 * Returns OTA_OK or an error listed at the top of this file (OTA_ERR_NO_SPACE also for more than
 * OTA_PART_MAX_ENTRIES rows), with diag set; on failure out->count is 0.
 */
int ota_part_bin_parse(const uint8_t *data, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, ota_diag_t *diag);

/* True when data is a binary table for the generator: its first two bytes are AA 50. */
bool ota_part_is_binary(const uint8_t *data, size_t len);

/*
 * Either parser, chosen by ota_part_is_binary(). *is_binary (if non-NULL) tells which was used.
 * Returns what that parser returns.
 */
int ota_part_parse_any(const uint8_t *data, size_t len, const ota_part_csv_opts_t *opts,
                       ota_part_table_t *out, bool *is_binary, ota_diag_t *diag);

/*
 * A table as the generator's CSV output: "# ESP-IDF Partition Table", "# Name, Type, SubType,
 * Offset, Size, Flags", then "name,type,subtype,0xOFFSET,SIZE,flags" per entry (keywords where
 * known, else decimal; SIZE as NM, NK or 0x%x), each line ending in '\n'. opts (may be NULL)
 * supplies extra subtype keywords. *text is malloc'ed and NUL-terminated (caller frees); *len
 * (if non-NULL) gets its length. Returns OTA_OK, OTA_ERR_INVALID_ARG or OTA_ERR_NO_MEM.
 */
int ota_part_csv_format(const ota_part_table_t *table, const ota_part_csv_opts_t *opts, char **text,
                        size_t *len);

/*
 * CSV text to the generator's binary: ota_part_csv_parse then ota_part_table_encode (MD5 via
 * the host's crypto). out must hold OTA_PART_TABLE_MAX_LEN bytes. Returns as those two.
 */
int ota_part_csv_compile(const char *text, size_t len, const ota_part_csv_opts_t *opts,
                         uint8_t *out, ota_diag_t *diag);

/*
 * The CSV text of a built-in table ("singleapp", "two_ota", "two_ota_large"), as ESP-IDF ships
 * it (all offsets empty). Static string, or NULL for an unknown name.
 */
const char *ota_part_builtin_csv(const char *name);

/* Name of built-in table number i (0, 1, ...), or NULL past the last one. */
const char *ota_part_builtin_name(size_t i);

/*
 * Parses built-in table name with opts (as ota_part_csv_parse).
 * Returns OTA_ERR_NOT_FOUND for an unknown name, else what ota_part_csv_parse returns.
 */
int ota_part_builtin_table(const char *name, const ota_part_csv_opts_t *opts, ota_part_table_t *out,
                           ota_diag_t *diag);

/*
 * A table named on a command line: a built-in table name, or the path of a CSV or binary file
 * (a path containing '/' or an existing file wins over a built-in name).
 * Returns OTA_ERR_IO (diag: "path: cannot read: reason") if the file cannot be read, else what
 * ota_part_builtin_table / ota_part_parse_any return.
 */
int ota_part_table_from_arg(const char *arg, const ota_part_csv_opts_t *opts, ota_part_table_t *out,
                            ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_PART_CSV_H */
