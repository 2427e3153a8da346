/* winograd_gather.h: the row gather shared by the Winograd input transforms (winograd_transforms.h for
 * F(4x4, 3x3), winograd_up_cpu.c for the upsampling phases): one input row, times a scale, into the 4
 * column-phase arrays of a run of tiles, so that the transforms that follow run over tiles with unit
 * stride:  Rq[t] = row[4 (lo + t) + q - 1] * s   (q = 0..3, t = 0..nT-1),
 * zero where the column falls outside [0, w), and everywhere when row is NULL (a row outside the plane);
 * wino_group_rows, which takes a chunk's tile rows in groups laid end to end in those arrays,
 * wino_gather_group, the gather of such a group of 4-column tiles, and wino_prefetch_rows, which prefetches the rows
 * a run of tiles reads.
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

/* The gather of a group of tile rows (rows g0..g0+rows-1, wino_group_rows) of 4-column tiles, input channel c of
 * x [n, c_in, h, w] (times in_scale [n, c_in] if given; th tile rows a sample): row j's tiles read the `nr` input
 * rows 4ty-1+i, gathered into R[i][q][off_j ..] (4 phase arrays of gs floats per input row, rows end to end), and
 * the first `nx` phases of the tile position after the row's last (which the next row overwrites) into
 * XR[i][e][j]. Shared by the F(4x4, 3x3) (nr 6, nx 2) and upsampling (nr 5, nx 1) input transforms. */
static inline __attribute__((always_inline)) void wino_gather_group(const float *x, const float *in_scale, int c_in,
                                                                    int c, int h, int w, int th, size_t g0, int rows,
                                                                    const int *lo_of, const int *nt_of, int nr, int nx,
                                                                    size_t gs, float *R, float *XR) {
    for (int j = 0, off = 0; j < rows; off += nt_of[j], j++) {
        const size_t r = g0 + j;
        const int b = (int)(r / th), ty = (int)(r % th);
        const float s = in_scale ? in_scale[(size_t)b * c_in + c] : 1.0f;
        const float *xc = x + ((size_t)b * c_in + c) * h * w; /* [h, w] */
        for (int i = 0; i < nr; i++) {
            const int iy = 4 * ty - 1 + i;
            float *R0 = R + (size_t)(i * 4) * gs + off;
            wino_gather_row(iy >= 0 && iy < h ? xc + (size_t)iy * w : NULL, w, lo_of[j], nt_of[j] + 1, s, R0, R0 + gs,
                            R0 + 2 * gs, R0 + 3 * gs);
            for (int e = 0; e < nx; e++) XR[(size_t)(i * nx + e) * gs + j] = R0[(size_t)e * gs + nt_of[j]];
        }
    }
}

/* Prefetches the rows of channel c of x [n, c_in, h, w] that tiles [t0, t0 + nt) read: tiles of T columns, tw x th of
 * them a sample, row-major, tile (ty, tx) reading the nr rows from T ty - 1 and the columns T tx - 1 .. T tx + T.
 * A channel's rows are streams too short for the hardware prefetchers, so the transforms prefetch the next channel's
 * while one is transformed. */
static inline void wino_prefetch_rows(const float *x, int c_in, int c, int h, int w, int T, int nr, int tw, int th,
                                      size_t t0, size_t nt) {
    const size_t r_first = t0 / tw, r_last = (t0 + nt - 1) / tw;
    for (size_t r = r_first; r <= r_last; r++) {
        const int b = (int)(r / th), ty = (int)(r % th);
        const int lo = r == r_first ? (int)(t0 - r * tw) : 0, hi = r == r_last ? (int)(t0 + nt - r * tw) : tw;
        int x0 = T * lo - 1, x1 = T * hi + 1; /* the columns read, clamped */
        if (x0 < 0) x0 = 0;
        if (x1 > w) x1 = w;
        if (x1 <= x0) continue;
        const float *xc = x + ((size_t)b * c_in + c) * h * w;
        for (int i = 0; i < nr; i++) {
            const int iy = T * ty - 1 + i;
            if (iy < 0 || iy >= h) continue;
            const char *row = (const char *)(xc + (size_t)iy * w + x0);
            for (int off = 0; off < (x1 - x0) * (int)sizeof(float); off += 64) __builtin_prefetch(row + off);
        }
    }
}

#endif
