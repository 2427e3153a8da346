/* arena.h: 64-byte-aligned bump arenas for activations, planned before a forward pass.
 *
 * Planning: create the arena in measure mode (no memory), run the same allocation sequence
 * the forward pass will run, then pcavs_arena_commit() allocates exactly the peak once.
 * Buffers are released in stack order with mark/release, so a buffer's memory is reused after
 * its last reader. In debug mode every buffer handed out is filled with NaN, so a kernel that
 * leaves part of its output unwritten fails the tests. No allocation happens per frame. */
#ifndef PCAVS_ENGINE_ARENA_H
#define PCAVS_ENGINE_ARENA_H

#include <stddef.h>

#include "pcavs.h"

#define PCAVS_ALIGN 64

typedef struct pcavs_arena {
    unsigned char *base; /* NULL in measure mode */
    size_t cap;          /* bytes available (0 in measure mode) */
    size_t used;         /* bytes handed out now */
    size_t peak;         /* high-water mark */
    int measuring;       /* 1: only count sizes */
    int nan_poison;      /* 1: fill fresh buffers with NaN */
    int overflowed;      /* set when an allocation did not fit (alloc returned NULL) */
} pcavs_arena;

/* Measure mode: allocations return a non-dereferenceable dummy pointer and only count. */
void pcavs_arena_init_measure(pcavs_arena *a, int nan_poison);
/* Allocates `cap` bytes (64-byte aligned) and leaves measure mode. */
pcavs_status pcavs_arena_commit(pcavs_arena *a, size_t cap);
/* Wraps caller-owned memory (must be 64-byte aligned). */
void pcavs_arena_init_fixed(pcavs_arena *a, void *mem, size_t cap, int nan_poison);
void pcavs_arena_free(pcavs_arena *a);

/* Returns 64-byte-aligned memory for `count` floats, or NULL (and sets overflowed) if full. */
float *pcavs_arena_floats(pcavs_arena *a, size_t count);
void *pcavs_arena_bytes(pcavs_arena *a, size_t bytes);

static inline size_t pcavs_arena_mark(const pcavs_arena *a) { return a->used; }
static inline void pcavs_arena_release(pcavs_arena *a, size_t mark) { a->used = mark; }

/* Aligned host allocation helpers: 64 bytes; from 4 MiB up, 2 MiB-aligned whole 2 MiB pages advised as
 * transparent huge pages where the system has MADV_HUGEPAGE (arena.c). Free with pcavs_aligned_free. */
void *pcavs_aligned_alloc(size_t bytes);
void pcavs_aligned_free(void *p);

#endif
