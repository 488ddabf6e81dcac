/* Host files written whole: regular files through a temporary file and a rename, anything else
 * (devices, FIFOs) written through as it is. */
#include "ota/ota_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes all len bytes to fd; 0 or the errno of the failure. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno != EINTR) {
            return errno;
        }
        if (w > 0) {
            p += w;
            len -= (size_t)w;
        }
    }
    return 0;
}

/* Replaces the regular file (or new file) target through a temporary file beside it and a
 * rename; messages name shown (the path the caller gave). */
static int write_replace(const char *target, const char *shown, const void *data, size_t len,
                         unsigned mode, ota_diag_t *diag)
{
    size_t cap = strlen(target) + sizeof(".tmpXXXXXX");
    char *tmp = malloc(cap);
    if (tmp == NULL) {
        return ota_diag_set(diag, OTA_ERR_NO_MEM, "%s: out of memory", shown);
    }
    snprintf(tmp, cap, "%s.tmpXXXXXX", target);
    int fd = mkstemp(tmp); /* created with mode 0600 */
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return ota_diag_set(diag, OTA_ERR_IO, "%s: cannot create: %s", shown, strerror(e));
    }
    const char *step = "write error";
    int e = write_all(fd, data, len);
    if (e == 0) {
        step = "cannot write";
        if (fchmod(fd, (mode_t)mode) != 0) {
            e = errno;
        }
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e == 0 && rename(tmp, target) != 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(tmp);
    }
    free(tmp);
    return e == 0 ? OTA_OK : ota_diag_set(diag, OTA_ERR_IO, "%s: %s: %s", shown, step, strerror(e));
}

/* Opens path as it is (following symlinks, creating a missing target) and writes through it. */
static int write_through(const char *path, const void *data, size_t len, unsigned mode,
                         ota_diag_t *diag)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        int e = errno;
        return ota_diag_set(diag, OTA_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    int e = write_all(fd, data, len);
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    return e == 0 ? OTA_OK
                  : ota_diag_set(diag, OTA_ERR_IO, "%s: write error: %s", path, strerror(e));
}

int ota_file_write(const char *path, const void *data, size_t len, unsigned mode, ota_diag_t *diag)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) {
        return write_replace(path, path, data, len, mode, diag);
    }
    if (S_ISLNK(st.st_mode)) {
        /* A symlink stays: a regular file at its end is replaced there, anything else (a
         * device, a FIFO, a missing target) is written through the link. */
        char *real = realpath(path, NULL);
        if (real != NULL && stat(real, &st) == 0 && S_ISREG(st.st_mode)) {
            int err = write_replace(real, path, data, len, mode, diag);
            free(real);
            return err;
        }
        free(real);
    }
    return write_through(path, data, len, mode, diag);
}
