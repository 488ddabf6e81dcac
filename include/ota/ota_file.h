/*
 * Host files written whole. A regular file (or a new one) is written to a temporary file beside
 * it and renamed into place, so a reader sees the old file or the new one, never a part. A
 * symlink stays a symlink (a regular file at its end is replaced there the same way), and a
 * device or FIFO is opened and written through, as gen_esp32part.py and parttool.py do.
 */
#ifndef OTA_FILE_H
#define OTA_FILE_H

#include <stddef.h>

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes len bytes of data to path; a file it creates or replaces gets the permission bits
 * mode. OTA_OK, OTA_ERR_NO_MEM or OTA_ERR_IO (diag says which step failed and why: a write
 * error such as ENOSPC on /dev/full is one). A regular file is untouched on failure. */
int ota_file_write(const char *path, const void *data, size_t len, unsigned mode, ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_FILE_H */
