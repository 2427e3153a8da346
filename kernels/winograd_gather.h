/* winograd_gather.h: the row gather shared by the Winograd input transforms (winograd_transforms.h for
 * F(4x4, 3x3), winograd_up_cpu.c for the upsampling phases): one input row, times a scale, into the 4
 * column-phase arrays of a run of tiles, so that the transforms that follow run over tiles with unit
 * stride:  Rq[t] = row[4 (lo + t) + q - 1] * s   (q = 0..3, t = 0..nT-1),
 * zero where the column falls outside [0, w), and everywhere when row is NULL (a row outside the plane);
 * and wino_group_rows, which takes a chunk's tile rows in groups laid end to end in those arrays.
 * Internal to kernels/. */
#ifndef PCAVS_KERNELS_WINOGRAD_GATHER_H
#define PCAVS_KERNELS_WINOGRAD_GATHER_H

static inline void wino_gather_row(const float *row, int w, int lo, int nT, float s, /* row: [w] or NULL */
                                   float *restrict R0, float *restrict R1, float *restrict R2, float *restrict R3) {
    if (!row) {
        for (int tt = 0; tt < nT; tt++) R0[tt] = R1[tt] = R2[tt] = R3[tt] = 0.0f;
        return;
    }
    /* interior tiles tt: every column 4(lo+tt)+q-1, q = 0..3, inside [0, w) */
    int in0 = lo == 0 ? 1 : 0, in1 = (w - 4 * lo + 1) / 4; /* tt in [in0, in1) */
    if (in1 > nT) in1 = nT;
    if (in1 < in0) in1 = in0;
    const float *restrict src = row + 4 * lo - 1; /* src[4 tt + q] = row[4(lo+tt)+q-1] */
#pragma omp simd
    for (int tt = in0; tt < in1; tt++) {
        R0[tt] = src[4 * tt] * s;
        R1[tt] = src[4 * tt + 1] * s;
        R2[tt] = src[4 * tt + 2] * s;
        R3[tt] = src[4 * tt + 3] * s;
    }
    for (int tt = 0; tt < nT; tt++) { /* the edges, bounds-checked */
        if (tt >= in0 && tt < in1) {
            tt = in1 - 1;
            continue;
        }
        float *Rq[4] = {R0, R1, R2, R3};
        for (int q = 0; q < 4; q++) {
            const int ix = 4 * (lo + tt) + q - 1;
            Rq[q][tt] = ix >= 0 && ix < w ? row[ix] * s : 0.0f;
        }
    }
}

/* The group of tile rows from row g0 (rows r_first..r_last hold chunk tiles [t0, t0 + nt), tw a row): as many
 * rows as fit WINO_GROUP_TILES tiles (one at least); per row its first tile and tile count. Returns the row
 * after the group. */
static inline size_t wino_group_rows(size_t g0, size_t r_first, size_t r_last, size_t t0, size_t nt, int tw, int *lo_of,
                                     int *nt_of, int *rows_out, int *n_g_out) {
    size_t g1 = g0;
    int n_g = 0, rows = 0;
    while (g1 <= r_last && rows < WINO_GROUP_TILES) {
        const int lo = g1 == r_first ? (int)(t0 - g1 * tw) : 0;
        const int hi = g1 == r_last ? (int)(t0 + nt - g1 * tw) : tw;
        if (rows > 0 && n_g + (hi - lo) > WINO_GROUP_TILES) break;
        lo_of[rows] = lo, nt_of[rows] = hi - lo;
        n_g += hi - lo, rows++, g1++;
    }
    *rows_out = rows, *n_g_out = n_g;
    return g1;
}

#endif
