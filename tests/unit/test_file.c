/* The whole-file writer: regular files are replaced atomically, anything else is written
 * through, and a failed write is an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ota/ota_file.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/otakit-file-XXXXXX", tmp != NULL ? tmp : "/tmp");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Reads up to cap bytes of path into buf; returns the count. */
static size_t read_back(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

/* A symlink stays a symlink: its target receives the bytes. */
static void test_symlink_is_written_through(void **state)
{
    (void)state;
    char target[320];
    char link[320];
    path_in_dir(target, sizeof(target), "target.bin");
    path_in_dir(link, sizeof(link), "link.bin");
    ota_diag_t diag = {""};
    assert_int_equal(ota_file_write(target, "old", 3, 0644, &diag), OTA_OK);
    assert_int_equal(symlink("target.bin", link), 0);
    assert_int_equal(ota_file_write(link, "new bytes", 9, 0644, &diag), OTA_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char got[16];
    assert_int_equal(read_back(target, got, sizeof(got)), 9);
    assert_memory_equal(got, "new bytes", 9);
    /* A dangling symlink creates its target, as open() would. */
    char dangling[320];
    char created[320];
    path_in_dir(dangling, sizeof(dangling), "dangling.bin");
    path_in_dir(created, sizeof(created), "created.bin");
    assert_int_equal(symlink("created.bin", dangling), 0);
    assert_int_equal(ota_file_write(dangling, "c", 1, 0644, &diag), OTA_OK);
    assert_int_equal(lstat(dangling, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(read_back(created, got, sizeof(got)), 1);
}

/* A FIFO stays a FIFO: the reader at its other end receives the bytes. */
static void test_fifo_is_written_through(void **state)
{
    (void)state;
    char fifo[320];
    path_in_dir(fifo, sizeof(fifo), "pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDWR | O_NONBLOCK); /* a reader, so the writer's open does not block */
    assert_true(rd >= 0);
    ota_diag_t diag = {""};
    assert_int_equal(ota_file_write(fifo, "through", 7, 0644, &diag), OTA_OK);
    char got[16];
    assert_int_equal(read(rd, got, sizeof(got)), 7);
    assert_memory_equal(got, "through", 7);
    close(rd);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

/* Character devices (made here, so a failure cannot replace the system's): the null device
 * stays a device, and the full device's ENOSPC is an error. */
static void test_devices(void **state)
{
    (void)state;
    char null_dev[320];
    char full_dev[320];
    path_in_dir(null_dev, sizeof(null_dev), "null");
    path_in_dir(full_dev, sizeof(full_dev), "full");
    if (mknod(null_dev, S_IFCHR | 0666, makedev(1, 3)) != 0 ||
        mknod(full_dev, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        skip(); /* no right to make device nodes here */
    }
    ota_diag_t diag = {""};
    assert_int_equal(ota_file_write(null_dev, "gone", 4, 0644, &diag), OTA_OK);
    struct stat st;
    assert_int_equal(lstat(null_dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(ota_file_write(full_dev, "no room", 7, 0644, &diag), OTA_ERR_IO);
    assert_non_null(strstr(diag.msg, full_dev));
    assert_non_null(strstr(diag.msg, strerror(ENOSPC)));
    assert_int_equal(lstat(full_dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* A directory at the path is an error and stays a directory. */
static void test_directory_is_refused(void **state)
{
    (void)state;
    char sub[320];
    path_in_dir(sub, sizeof(sub), "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    ota_diag_t diag = {""};
    assert_int_equal(ota_file_write(sub, "x", 1, 0644, &diag), OTA_ERR_IO);
    assert_non_null(strstr(diag.msg, sub));
    struct stat st;
    assert_int_equal(lstat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symlink_is_written_through),
        cmocka_unit_test(test_fifo_is_written_through),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_directory_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
