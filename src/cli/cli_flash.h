/*
 * Pieces shared by `otakit flash` and `otakit otadata`: option values, the flash image opened
 * as an emulated NOR device with its partition table, and the otadata listing.
 */
#ifndef OTAKIT_CLI_FLASH_H
#define OTAKIT_CLI_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota_nor.h"
#include "ota/ota_otadata.h"
#include "ota/ota_part.h"

/*
 * Matches argv[*i] against any of the names (NULL-terminated list; "--name VALUE",
 * "--name=VALUE", or for a one-letter "-n VALUE"). Returns 1 with *val set and *i advanced past
 * the value, 0 if argv[*i] is none of them, -1 after a usage error (value missing).
 */
int cli_flash_opt(const char *cmd, int argc, char **argv, int *i, const char *const *names,
                  const char **val);

/* True if argv[*i] is one of the names (a flag). */
bool cli_flash_flag(const char *arg, const char *const *names);

/*
 * Parses a table offset (as gen_esp32part.py's --offset: Python int syntax, a multiple of 0x1000,
 * not 0). Prints a usage error and returns false if it is not one.
 */
bool cli_flash_parse_offset(const char *cmd, const char *s, uint32_t *out);

/*
 * Matches argv[*i] against the partition table offset option (--offset, also parttool.py's
 * --partition-table-offset) and parses its value into *out as cli_flash_parse_offset does.
 * Returns 1 when it matched with a valid value, 0 if argv[*i] is another argument, -1 after a
 * usage error (value missing or not an offset).
 */
int cli_flash_offset_opt(const char *cmd, int argc, char **argv, int *i, uint32_t *out);

/*
 * The flash size of the image file at path (ota_flashimg_file_flash_size: override, else the
 * file's size when it is a flash size, else the size its bootloader header names for a shorter
 * merged image) into *size, and the file's length into *file_len (may be NULL). On failure prints
 * "otakit: <cmd>: <path>: <why>" and returns CLI_FAIL; else CLI_OK.
 */
int cli_flash_file_size(const char *cmd, const char *path, uint32_t override, uint32_t *size,
                        uint64_t *file_len);

/*
 * Opens the flash image at path as an emulated NOR device, read-only unless writable. A
 * read-only image shorter than its flash size (cli_flash_file_size with override) reads as if
 * padded with 0xFF. On failure prints the error line and returns CLI_FAIL; else CLI_OK with *out.
 */
int cli_flash_open_nor(const char *cmd, const char *path, bool writable, uint32_t override,
                       ota_nor_t **out);

/*
 * The flash image file a writable run (board run) uses for path, into work (cap bytes): path
 * itself when the file is its flash size (cli_flash_file_size with override). A shorter file
 * (a merged image as esptool merge_bin writes it, or --size larger than the file): with in_place,
 * path is rewritten padded with 0xFF to the flash size and used; otherwise the run gets a padded
 * copy in $TMPDIR (with a copy of "<path>.efuse" when there is one), path is left as it is, and a
 * note on stderr says so. On failure prints the error line and returns CLI_FAIL; else CLI_OK.
 * Pass the same path and work to cli_flash_work_done after the run.
 */
int cli_flash_work_file(const char *cmd, const char *path, uint32_t override, bool in_place,
                        char *work, size_t cap);

/* Removes the padded copy (and its eFuse file) that cli_flash_work_file made, if any. */
void cli_flash_work_done(const char *path, const char *work);

/* An open flash image and its partition table. */
typedef struct cli_flash {
    ota_nor_t *nor;
    const ota_flash_t *flash;
    uint32_t table_offset;
    ota_part_table_t table;
} cli_flash_t;

/*
 * Opens the flash image at path (read-only unless writable, with cli_flash_open_nor: an unpadded
 * merged image reads as padded when read-only) and reads its partition table at
 * table_offset (0 = the offset its bootloader was built for, else 0x8000) with the bootloader's
 * verifier. On failure prints "otakit: <cmd>: <path>: <why>" and returns CLI_FAIL (nothing is
 * open then); else CLI_OK. Close with cli_flash_close.
 */
int cli_flash_open(const char *cmd, const char *path, bool writable, uint32_t table_offset,
                   cli_flash_t *out);

void cli_flash_close(cli_flash_t *fl);

/*
 * Prints the two otadata entries as an otadata reader does (vectors/info/12.txt), each line
 * prefixed with indent: "copy N: ota_seq=... ota_state=... crc=... computed=... crc_ok=... ->
 * VALID|invalid".
 */
void cli_flash_print_entries(const char *indent, const ota_otadata_entry_t e[2]);

/*
 * Prints the otadata summary: the active copy, both OTA partition counts and the slot the
 * bootloader would take from otadata ("bootloader would select: ota_N" and the partition), or
 * what it does without a valid entry.
 */
void cli_flash_print_selection(const ota_part_table_t *t, const ota_otadata_entry_t e[2]);

/*
 * Writes the flash image OUT from an ESP-IDF build directory (its flasher_args.json: flash size,
 * bootloader, partition table and its offset, app), as `idf.py flash` writes a chip; prints the
 * layout unless quiet. Returns CLI_OK, or CLI_FAIL after one error line.
 */
int cli_flash_create_from_build(const char *dir, const char *out, bool quiet);

/* `otakit flash write` and `otakit flash enable-encryption` (cmd_flash_enc.c). */
int cli_flash_write_cmd(int argc, char **argv);
int cli_flash_enable_enc_cmd(int argc, char **argv);

#endif /* OTAKIT_CLI_FLASH_H */
