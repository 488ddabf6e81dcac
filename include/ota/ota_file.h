/*
 * Host files written whole: a temporary file beside the target, then a rename, so a reader sees
 * the old file or the new one, never a part.
 */
#ifndef OTA_FILE_H
#define OTA_FILE_H

#include <stddef.h>

#include "ota/ota_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes len bytes of data to path with the permission bits mode. OTA_OK, OTA_ERR_NO_MEM or
 * OTA_ERR_IO (diag says which step failed and why); path is untouched on failure. */
int ota_file_write(const char *path, const void *data, size_t len, unsigned mode, ota_diag_t *diag);

#ifdef __cplusplus
}
#endif

#endif /* OTA_FILE_H */
