/* arena.c: bump allocation with measure mode, 64-byte alignment and NaN poisoning; the aligned host allocation
 * (huge pages for large blocks). */
#include "arena.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "status.h"

static size_t round_up(size_t n) { return (n + PCAVS_ALIGN - 1) & ~(size_t)(PCAVS_ALIGN - 1); }

/* Allocations of PCAVS_HUGE_MIN bytes or more (the activation arenas; the prepared Winograd weights, 4-44 MB a
 * layer) are PCAVS_HUGE_PAGE-aligned, rounded up to whole such pages and advised MADV_HUGEPAGE, so that Linux backs
 * them with transparent huge pages where it gives them only on request (THP "madvise", as on the machines of this
 * project). The generator's GEMMs read 8 rows of U at a time 512 floats apart and its transforms 8-row windows of
 * 13-26 MB maps: more 4 KB pages than a TLB holds (docs/bench/tuning.md has the gain and the memory cost).
 * Only advice: where THP is off or the kernel declines, ordinary pages. At most one page more per such allocation
 * (its rounding), under 50 % of it. */
#define PCAVS_HUGE_PAGE ((size_t)2 << 20)
#define PCAVS_HUGE_MIN ((size_t)4 << 20)

void *pcavs_aligned_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = PCAVS_ALIGN;
#ifdef MADV_HUGEPAGE
    if (bytes >= PCAVS_HUGE_MIN && bytes <= SIZE_MAX - PCAVS_HUGE_PAGE) {
        const size_t whole = (bytes + PCAVS_HUGE_PAGE - 1) / PCAVS_HUGE_PAGE * PCAVS_HUGE_PAGE;
        if (posix_memalign(&p, PCAVS_HUGE_PAGE, whole) != 0) return NULL;
        (void)madvise(p, whole, MADV_HUGEPAGE); /* a hint: failure leaves ordinary pages */
        return p;
    }
#endif
    if (posix_memalign(&p, PCAVS_ALIGN, round_up(bytes)) != 0) return NULL;
    return p;
}

void pcavs_aligned_free(void *p) { free(p); }

void pcavs_arena_init_measure(pcavs_arena *a, int nan_poison) {
    memset(a, 0, sizeof *a);
    a->measuring = 1;
    a->nan_poison = nan_poison;
}

pcavs_status pcavs_arena_commit(pcavs_arena *a, size_t cap) {
    pcavs_arena_free(a);
    a->base = pcavs_aligned_alloc(cap);
    if (!a->base) return pcavs_fail(PCAVS_ERR_OOM, "arena: cannot allocate %zu bytes", cap);
    a->cap = round_up(cap);
    a->used = a->peak = 0;
    a->measuring = 0;
    a->overflowed = 0;
    return PCAVS_OK;
}

void pcavs_arena_init_fixed(pcavs_arena *a, void *mem, size_t cap, int nan_poison) {
    memset(a, 0, sizeof *a);
    a->base = mem;
    a->cap = cap;
    a->nan_poison = nan_poison;
}

void pcavs_arena_free(pcavs_arena *a) {
    int poison = a->nan_poison;
    if (a->base && !a->measuring) pcavs_aligned_free(a->base);
    memset(a, 0, sizeof *a);
    a->nan_poison = poison;
}

void *pcavs_arena_bytes(pcavs_arena *a, size_t bytes) {
    size_t need = round_up(bytes ? bytes : 1);
    size_t start = a->used;
    if (a->measuring) {
        a->used += need;
        if (a->used > a->peak) a->peak = a->used;
        /* A distinct, aligned, never-dereferenced address: the offset itself. */
        return (void *)(uintptr_t)(PCAVS_ALIGN + start);
    }
    if (need > a->cap - a->used || a->used > a->cap) {
        a->overflowed = 1;
        return NULL;
    }
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
    void *p = a->base + start;
    if (a->nan_poison) {
        float nan = NAN;
        float *f = p;
        for (size_t i = 0; i < need / sizeof(float); i++) f[i] = nan;
    }
    return p;
}

float *pcavs_arena_floats(pcavs_arena *a, size_t count) { return pcavs_arena_bytes(a, count * sizeof(float)); }
