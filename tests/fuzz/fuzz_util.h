/* Small helpers shared by the fuzz targets (tests/fuzz/fuzz_*.c). */
#ifndef OTAKIT_FUZZ_UTIL_H
#define OTAKIT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point libFuzzer (or tests/fuzz/replay.c) calls once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep; a violation aborts, so the fuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Consumes bytes from the front of an input. */
typedef struct fuzz_in {
    const uint8_t *data;
    size_t size;
} fuzz_in_t;

/* The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_byte(fuzz_in_t *in)
{
    if (in->size == 0) {
        return 0;
    }
    in->size--;
    return *in->data++;
}

/* The next 32-bit little-endian value (missing bytes read as 0). */
static inline uint32_t fuzz_u32(fuzz_in_t *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)fuzz_byte(in) << (8 * i);
    }
    return v;
}

/* A malloc'ed buffer of n bytes: the input's first bytes, the rest filled with fill. */
static inline uint8_t *fuzz_padded(const uint8_t *data, size_t size, size_t n, uint8_t fill)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = i < size ? data[i] : fill;
    }
    return buf;
}

#endif /* OTAKIT_FUZZ_UTIL_H */
