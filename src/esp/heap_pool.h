/*
 * A heap over one caller-owned memory region (the PSRAM pool of esp_heap_caps): first-fit blocks,
 * each with a 16-byte header, free neighbours merged. Free bytes are the payloads of the free
 * blocks, as ESP-IDF's heap counts them, so an allocation of N bytes lowers them by at least N.
 * Free neighbours are merged at once, so the free bytes are what the free blocks can hold. Not
 * thread-safe: the caller serialises calls. Owns nothing; the region stays the caller's.
 */
#ifndef OTAKIT_HEAP_POOL_H
#define OTAKIT_HEAP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct heap_pool {
    uint8_t *base; /* 16-byte aligned */
    size_t size;   /* a multiple of 16 */
    size_t free;   /* payload bytes in free blocks */
    size_t min_free;
} heap_pool_t;

/* Makes [base, base + size) one free block (base is aligned up and size down to 16 bytes).
 * Returns false when the region cannot hold a block. */
bool heap_pool_init(heap_pool_t *p, void *base, size_t size);

/* A block of at least n bytes, 16-byte aligned, or NULL (n == 0, or no free block is large
 * enough). */
void *heap_pool_alloc(heap_pool_t *p, size_t n);

/* Returns ptr's block to the pool; NULL is ignored. Returns false (and changes nothing) when ptr
 * is not a block this pool handed out. */
bool heap_pool_free(heap_pool_t *p, void *ptr);

/* The usable size of ptr's block, or 0 when ptr is not an allocated block of the pool. */
size_t heap_pool_block_size(const heap_pool_t *p, const void *ptr);

/* Whether ptr points into the pool's region. */
bool heap_pool_contains(const heap_pool_t *p, const void *ptr);

/* The largest block heap_pool_alloc could return now. */
size_t heap_pool_largest_free(heap_pool_t *p);

#endif /* OTAKIT_HEAP_POOL_H */
