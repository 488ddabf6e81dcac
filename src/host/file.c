/* Host files written whole through a temporary file and a rename. */
#include "ota/ota_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ota_file_write(const char *path, const void *data, size_t len, unsigned mode, ota_diag_t *diag)
{
    size_t cap = strlen(path) + sizeof(".tmpXXXXXX");
    char *tmp = malloc(cap);
    if (tmp == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "%s: out of memory", path);
    }
    snprintf(tmp, cap, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp); /* created with mode 0600 */
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return ota_diag_set(diag, OTA_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    const char *p = data;
    size_t left = len;
    int e = 0;
    const char *step = "write error";
    while (left > 0 && e == 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno != EINTR) {
            e = errno;
        } else if (w > 0) {
            p += w;
            left -= (size_t)w;
        }
    }
    if (e == 0) {
        step = "cannot write";
        if (fchmod(fd, (mode_t)mode) != 0) {
            e = errno;
        }
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e == 0 && rename(tmp, path) != 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(tmp);
        free(tmp);
        return ota_diag_set(diag, OTA_ERR_IO, "%s: %s: %s", path, step, strerror(e));
    }
    free(tmp);
    return OTA_OK;
}
