/* A first-fit heap over one memory region (see heap_pool.h). */
#include "heap_pool.h"

#include <string.h>

#define HDR 16u
#define ALIGN 16u

/* Block header: the block's total size (header included) and whether it is handed out. */
typedef struct {
    size_t size;
    size_t used;
} blk_t;

_Static_assert(sizeof(blk_t) <= HDR, "block header fits its 16 bytes");

static blk_t *blk_at(const heap_pool_t *p, size_t off)
{
    return (blk_t *)(void *)(p->base + off);
}

bool heap_pool_init(heap_pool_t *p, void *base, size_t size)
{
    uintptr_t a = ((uintptr_t)base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    size_t skip = (size_t)(a - (uintptr_t)base);
    memset(p, 0, sizeof(*p));
    if (size < skip + 2 * HDR) {
        return false;
    }
    p->base = (uint8_t *)a;
    p->size = (size - skip) & ~(size_t)(ALIGN - 1);
    blk_t *b = blk_at(p, 0);
    b->size = p->size;
    b->used = 0;
    p->free = p->size - HDR;
    p->min_free = p->free;
    return true;
}

/* Merges the free blocks that follow the free block at off into it. */
static void merge_next(heap_pool_t *p, size_t off)
{
    blk_t *b = blk_at(p, off);
    while (off + b->size < p->size) {
        blk_t *n = blk_at(p, off + b->size);
        if (n->used) {
            break;
        }
        b->size += n->size;
        p->free += HDR; /* the merged block's header becomes payload */
    }
}

void *heap_pool_alloc(heap_pool_t *p, size_t n)
{
    if (n == 0 || n > p->size) {
        return NULL;
    }
    size_t need = ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1)) + HDR;
    for (size_t off = 0; off < p->size; off += blk_at(p, off)->size) {
        blk_t *b = blk_at(p, off);
        if (b->used) {
            continue;
        }
        merge_next(p, off);
        if (b->size < need) {
            continue;
        }
        if (b->size - need >= HDR + ALIGN) {
            blk_t *rest = blk_at(p, off + need);
            rest->size = b->size - need;
            rest->used = 0;
            b->size = need;
            p->free -= need;
        } else {
            p->free -= b->size - HDR;
        }
        b->used = 1;
        if (p->free < p->min_free) {
            p->min_free = p->free;
        }
        return (uint8_t *)b + HDR;
    }
    return NULL;
}

/* The offset of ptr's allocated block, or SIZE_MAX; *prev: the block before it (SIZE_MAX for the
 * first). */
static size_t find_used(const heap_pool_t *p, const void *ptr, size_t *prev)
{
    if (!heap_pool_contains(p, ptr)) {
        return SIZE_MAX;
    }
    *prev = SIZE_MAX;
    for (size_t off = 0; off < p->size; *prev = off, off += blk_at(p, off)->size) {
        if (p->base + off + HDR == (const uint8_t *)ptr) {
            return blk_at(p, off)->used ? off : SIZE_MAX;
        }
        if (p->base + off + HDR > (const uint8_t *)ptr) {
            break;
        }
    }
    return SIZE_MAX;
}

bool heap_pool_free(heap_pool_t *p, void *ptr)
{
    if (ptr == NULL) {
        return true;
    }
    size_t prev;
    size_t off = find_used(p, ptr, &prev);
    if (off == SIZE_MAX) {
        return false;
    }
    blk_t *b = blk_at(p, off);
    b->used = 0;
    p->free += b->size - HDR;
    /* no two free blocks stay side by side: the free bytes are then what one block could hold */
    merge_next(p, off);
    if (prev != SIZE_MAX && !blk_at(p, prev)->used) {
        merge_next(p, prev);
    }
    return true;
}

size_t heap_pool_block_size(const heap_pool_t *p, const void *ptr)
{
    size_t prev;
    size_t off = find_used(p, ptr, &prev);
    return off == SIZE_MAX ? 0 : blk_at(p, off)->size - HDR;
}

bool heap_pool_contains(const heap_pool_t *p, const void *ptr)
{
    const uint8_t *c = ptr;
    return p->base != NULL && c >= p->base && c < p->base + p->size;
}

size_t heap_pool_largest_free(heap_pool_t *p)
{
    size_t best = 0;
    for (size_t off = 0; p->base != NULL && off < p->size; off += blk_at(p, off)->size) {
        blk_t *b = blk_at(p, off);
        if (!b->used) {
            merge_next(p, off);
            if (b->size - HDR > best) {
                best = b->size - HDR;
            }
        }
    }
    return best;
}
