/* Small helpers shared by the unit tests. */
#ifndef OTAKIT_TEST_UTIL_H
#define OTAKIT_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Path of a file under the shared vectors directory ($OTAKIT_VECTORS, set by CTest), or NULL
 * when the directory or the file is absent (tests then skip). Returns a static buffer.
 */
static inline const char *test_vector_path(const char *rel)
{
    static char path[1024];
    const char *dir = getenv("OTAKIT_VECTORS");
    struct stat st;
    if (dir == NULL || *dir == '\0') {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    return stat(path, &st) == 0 ? path : NULL;
}

/* Exit status CTest reports as skipped (SKIP_RETURN_CODE in cmake/tests.cmake). */
#define TEST_SKIP_STATUS 77

/*
 * True when the shared vectors are there ($OTAKIT_VECTORS with its MANIFEST.md). A program of
 * vector tests returns TEST_SKIP_STATUS from main when they are not, so CTest reports it
 * skipped, never passed; vector tests therefore live in programs of their own.
 */
static inline int test_vectors_present(void)
{
    return test_vector_path("MANIFEST.md") != NULL;
}

/* Reads a whole file into a malloc'ed buffer; NULL on failure. */
static inline uint8_t *test_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf != NULL) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

/* Decodes a hex string (no separators) into out; returns the number of bytes. */
static inline size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* The next number of the splitmix64 sequence whose state is *state (reproducible test data). */
static inline uint64_t test_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* CRC-32 (reflected polynomial 0xEDB88320), bit by bit: a reference independent of the code. */
static inline uint32_t test_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
    }
    return c ^ 0xFFFFFFFFu;
}

/* Captures what fn writes to stdout into buf (cap bytes, NUL-terminated). */
static inline void test_capture_stdout(void (*fn)(void), char *buf, size_t cap)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), STDOUT_FILENO);
    fn();
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

/*
 * CTest may run one program as several entries so that -j overlaps its long tests:
 * OTAKIT_TEST_ONLY (a cmocka glob) keeps the tests it matches, OTAKIT_TEST_SKIP leaves them out.
 * Call before cmocka_run_group_tests; needs <cmocka.h> included first.
 */
static inline void test_filter_from_env(void)
{
    const char *only = getenv("OTAKIT_TEST_ONLY");
    const char *skip = getenv("OTAKIT_TEST_SKIP");
    if (only != NULL && only[0] != '\0') {
        cmocka_set_test_filter(only);
    }
    if (skip != NULL && skip[0] != '\0') {
        cmocka_set_skip_filter(skip);
    }
}

#endif /* OTAKIT_TEST_UTIL_H */
