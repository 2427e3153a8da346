/* test_arena.c: the engine's bump arena and aligned host allocation (core/arena.h):
 *   - measure mode counts the peak of a mark/release sequence; committing it then serves the same sequence
 *     exactly (every buffer 64-byte aligned, disjoint, released memory reused), one byte more overflows
 *     (NULL, overflowed set) and the NaN-poisoned arena hands out NaN-filled buffers;
 *   - pcavs_aligned_alloc: small blocks 64-byte aligned; blocks from 4 MiB 2 MiB-aligned (whole huge pages
 *     advised as transparent huge pages, where the system has MADV_HUGEPAGE), writable to their last byte.
 *     How many of those pages Linux made huge depends on its THP settings: printed, not asserted. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"
#include "test_util.h"

/* The sequence a forward pass would run: a, then b and c, c released, d in c's place. Returns d's offset from a. */
static ptrdiff_t run_sequence(pcavs_arena *ar, unsigned char **bufs) {
    bufs[0] = pcavs_arena_bytes(ar, 100);
    const size_t mark = pcavs_arena_mark(ar);
    bufs[1] = pcavs_arena_bytes(ar, 1000);
    bufs[2] = pcavs_arena_bytes(ar, 64);
    pcavs_arena_release(ar, mark + 1024); /* keep b (1000 bytes rounded to 1024), release c */
    bufs[3] = pcavs_arena_bytes(ar, 60);
    return bufs[3] && bufs[0] ? bufs[3] - bufs[0] : -1;
}

/* kB of AnonHugePages in the mapping that holds p (/proc/self/smaps), or -1 where unreadable */
static long huge_kb_at(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int inside = 0;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's header line */
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
    }
    fclose(f);
    return kb;
}

int main(void) {
    /* ---- plan, commit, replay ---- */
    pcavs_arena ar;
    unsigned char *m[4], *r[4];
    pcavs_arena_init_measure(&ar, 0);
    const ptrdiff_t d_planned = run_sequence(&ar, m);
    const size_t peak = ar.peak;
    pt_check(peak == 64 * 2 + 1024 + 64, "measured peak %zu bytes (want 128 + 1024 + 64 = 1216)", peak);
    pt_check_ok(pcavs_arena_commit(&ar, peak), "commit the measured peak");
    const ptrdiff_t d_real = run_sequence(&ar, r);
    int aligned = 1;
    for (int i = 0; i < 4; i++) aligned &= r[i] && (uintptr_t)r[i] % PCAVS_ALIGN == 0;
    pt_check(aligned, "all four buffers non-NULL and %d-byte aligned", PCAVS_ALIGN);
    pt_check(d_real == d_planned && r[3] == r[2], "the released buffer's memory reused: d at +%td (planned +%td)",
             d_real, d_planned);
    pt_check(r[1] >= r[0] + 100 && r[2] >= r[1] + 1000, "buffers disjoint (b at +%td, c at +%td)", r[1] - r[0],
             r[2] - r[0]);
    pt_check(ar.peak == peak && !ar.overflowed, "replay peak %zu == planned %zu, no overflow", ar.peak, peak);
    void *extra = pcavs_arena_bytes(&ar, 1);
    pt_check(extra == NULL && ar.overflowed, "one byte past the peak: NULL and overflowed (got %p, flag %d)", extra,
             ar.overflowed);
    pcavs_arena_free(&ar);

    pcavs_arena pa;
    pcavs_arena_init_measure(&pa, 1);
    pcavs_arena_floats(&pa, 37);
    pt_check_ok(pcavs_arena_commit(&pa, pa.peak), "commit a poisoned arena");
    const float *f = pcavs_arena_floats(&pa, 37);
    int nans = 0;
    for (int i = 0; f && i < 37; i++) nans += isnan(f[i]) != 0;
    pt_check(nans == 37, "poisoned buffer: %d of 37 floats NaN", nans);
    pcavs_arena_free(&pa);

    /* ---- aligned host allocation ---- */
    void *small = pcavs_aligned_alloc(100);
    pt_check(small && (uintptr_t)small % PCAVS_ALIGN == 0, "100 bytes: %p, 64-byte aligned", small);
    pcavs_aligned_free(small);
    const size_t big_bytes = ((size_t)6 << 20) + 12345; /* rounded up to 8 MiB */
    unsigned char *big = pcavs_aligned_alloc(big_bytes);
    pt_check(big != NULL, "%zu bytes allocated", big_bytes);
    if (big) {
#ifdef MADV_HUGEPAGE
        pt_check((uintptr_t)big % ((size_t)2 << 20) == 0, "%zu bytes: %p, 2 MiB-aligned (offset %zu)", big_bytes,
                 (void *)big, (size_t)((uintptr_t)big % ((size_t)2 << 20)));
#else
        pt_skip("no MADV_HUGEPAGE on this system: large blocks are 64-byte aligned only");
#endif
        memset(big, 0x5a, big_bytes);
        pt_check(big[0] == 0x5a && big[big_bytes - 1] == 0x5a, "written to its last byte");
        printf("info: AnonHugePages in that mapping: %ld kB (THP setting: ", huge_kb_at(big));
        FILE *t = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
        char mode[128] = "unknown";
        if (t) {
            if (!fgets(mode, sizeof mode, t)) strcpy(mode, "unknown");
            fclose(t);
        }
        mode[strcspn(mode, "\n")] = 0;
        printf("%s)\n", mode);
        pcavs_aligned_free(big);
    }
    return pt_finish();
}
