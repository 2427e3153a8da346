/* winograd6_transforms.h: the input and output transforms of Winograd F(6x6, 3x3) (winograd_cpu.c, for a
 * pcavs_wino_conv with tile = 6), as plain loops that vectorise (omp simd), included once by winograd_cpu.c
 * after winograd_transforms.h. Points 0, +-1, +-2, +-1/2, inf (Lavin & Gray's F(6, 3)): each 6x6 output tile
 * reads an 8x8 input tile; 64 multiplications per (output, input) channel pair for 36 outputs.
 *   B^T (8x8) = [1 0 -21/4 0 21/4 0 -1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0;
 *                0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0;
 *                0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
 *   A^T (6x8) = [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 -1 8 -8 1/8 -1/8 0;
 *                0 1 1 16 16 1/16 1/16 0; 0 1 -1 32 -32 1/32 -1/32 1]
 * The input transform has F(4x4)'s structure (winograd_transforms.h): tile rows in groups end to end, column
 * phases R[i][q][t] = x[6ty-1+i][6t+q-1] (i = 0..7, q = 0..5), each row's next two columns kept aside and its
 * last tile redone with them. The stride-6 gather runs 16 tiles at a time as 5 two-source shuffles per phase
 * (GCC vector extensions: vpermt2ps with AVX-512). Output transform: 8 tiles per step, A^T M A, then
 * wino_store_tiles (winograd_transforms.h): out_scale, noise, bias, the activation and the 6x6 stores. */

/* B^T applied to (x0..x7) into v0..v7 (the pairs share their two halves) */
#define WINO6_BT(x0, x1, x2, x3, x4, x5, x6, x7, v0, v1, v2, v3, v4, v5, v6, v7)                                       \
    do {                                                                                                               \
        (v0) = (x0) - (x6) + 5.25f * ((x4) - (x2));                                                                    \
        (v7) = (x7) - (x1) + 5.25f * ((x3) - (x5));                                                                    \
        const float a12 = (x2) + (x6)-4.25f * (x4), b12 = (x1) + (x5)-4.25f * (x3);                                    \
        (v1) = a12 + b12, (v2) = a12 - b12;                                                                            \
        const float a34 = (x6) + 0.25f * (x2)-1.25f * (x4), b34 = 0.5f * (x1)-2.5f * (x3) + 2.0f * (x5);               \
        (v3) = a34 + b34, (v4) = a34 - b34;                                                                            \
        const float a56 = (x6) + 4.0f * (x2)-5.0f * (x4), b56 = 2.0f * (x1)-2.5f * (x3) + 0.5f * (x5);                 \
        (v5) = a56 + b56, (v6) = a56 - b56;                                                                            \
    } while (0)

/* A^T applied to (m0..m7) into o[0..5] */
#define WINO6_AT(m0, m1, m2, m3, m4, m5, m6, m7, o)                                                                    \
    do {                                                                                                               \
        const float s12 = (m1) + (m2), d12 = (m1) - (m2), s34 = (m3) + (m4), d34 = (m3) - (m4);                        \
        const float s56 = (m5) + (m6), d56 = (m5) - (m6);                                                              \
        (o)[0] = (m0) + s12 + s34 + s56;                                                                               \
        (o)[1] = d12 + 2.0f * d34 + 0.5f * d56;                                                                        \
        (o)[2] = s12 + 4.0f * s34 + 0.25f * s56;                                                                       \
        (o)[3] = d12 + 8.0f * d34 + 0.125f * d56;                                                                      \
        (o)[4] = s12 + 16.0f * s34 + 0.0625f * s56;                                                                    \
        (o)[5] = d12 + 32.0f * d34 + 0.03125f * d56 + (m7);                                                            \
    } while (0)

typedef float wino6_fv __attribute__((vector_size(64))); /* GCC vector extensions (16 lanes) */
typedef int wino6_iv __attribute__((vector_size(64)));

/* One input row times s into the 6 column-phase arrays of a run of tiles: R[q * ps + t] = row[6 (lo + t) + q - 1]
 * * s (q = 0..5, t = 0..nT-1), zero outside [0, w) and everywhere when row is NULL. */
static inline void wino6_gather_row(const float *row, int w, int lo, int nT, float s, float *restrict R, size_t ps) {
    if (!row) {
        for (int q = 0; q < 6; q++) memset(R + q * ps, 0, (size_t)nT * sizeof(float));
        return;
    }
    int in0 = lo == 0 ? 1 : 0, in1 = (w - 6 * lo + 1) / 6; /* tiles whose 6 columns all lie inside */
    if (in1 > nT) in1 = nT;
    if (in1 < in0) in1 = in0;
    const float *src = row + 6 * lo - 1; /* src[6 t + q] = row[6(lo+t)+q-1] */
    int t = in0;
#if defined(__GNUC__) && !defined(__clang__) /* __builtin_shuffle; other compilers take the scalar loop below */
    /* phase q of tile t' of a 16-tile block is element e = 6 t' + q of its 96 floats (6 vectors): gather each
     * vector pair's share, then merge the three by lane */
    static const wino6_iv m01[6] = {
        {0, 6, 12, 18, 24, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 7, 13, 19, 25, 31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {2, 8, 14, 20, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {3, 9, 15, 21, 27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {4, 10, 16, 22, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {5, 11, 17, 23, 29, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    static const wino6_iv m23[6] = {
        {0, 0, 0, 0, 0, 0, 4, 10, 16, 22, 28, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 5, 11, 17, 23, 29, 0, 0, 0, 0, 0},
        {0, 0, 0, 0, 0, 0, 6, 12, 18, 24, 30, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 7, 13, 19, 25, 31, 0, 0, 0, 0, 0},
        {0, 0, 0, 0, 0, 2, 8, 14, 20, 26, 0, 0, 0, 0, 0, 0},  {0, 0, 0, 0, 0, 3, 9, 15, 21, 27, 0, 0, 0, 0, 0, 0}};
    static const wino6_iv m45[6] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 8, 14, 20, 26},  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 9, 15, 21, 27},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 10, 16, 22, 28}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 11, 17, 23, 29},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 12, 18, 24, 30}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7, 13, 19, 25, 31}};
    static const wino6_iv s1[6] = {{0, 1, 2, 3, 4, 5, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
                                   {0, 1, 2, 3, 4, 5, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
                                   {0, 1, 2, 3, 4, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
                                   {0, 1, 2, 3, 4, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
                                   {0, 1, 2, 3, 4, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
                                   {0, 1, 2, 3, 4, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}};
    static const wino6_iv s2[6] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 27, 28, 29, 30, 31}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 27, 28, 29, 30, 31},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 27, 28, 29, 30, 31}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 27, 28, 29, 30, 31},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 26, 27, 28, 29, 30, 31}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 26, 27, 28, 29, 30, 31}};
    for (; t + 16 <= in1; t += 16) {
        wino6_fv z[6];
        memcpy(z, src + 6 * t, sizeof z);
        for (int q = 0; q < 6; q++) {
            const wino6_fv p01 = __builtin_shuffle(z[0], z[1], m01[q]), p23 = __builtin_shuffle(z[2], z[3], m23[q]),
                           p45 = __builtin_shuffle(z[4], z[5], m45[q]);
            const wino6_fv r = __builtin_shuffle(__builtin_shuffle(p01, p23, s1[q]), p45, s2[q]) * s;
            memcpy(R + q * ps + t, &r, sizeof r);
        }
    }
#endif
    for (; t < in1; t++)
        for (int q = 0; q < 6; q++) R[q * ps + t] = src[6 * t + q] * s;
    for (int u = 0; u < nT; u++) { /* the edges, bounds-checked */
        if (u >= in0 && u < in1) {
            u = in1 - 1;
            continue;
        }
        for (int q = 0; q < 6; q++) {
            const int ix = 6 * (lo + u) + q - 1;
            R[q * ps + u] = ix >= 0 && ix < w ? row[ix] * s : 0.0f;
        }
    }
}

/* Input transform of channel c for chunk tiles [t0, t0 + nt) into V [64][c_in][nt]: rows in groups of at most
 * WINO_GROUP_TILES tiles laid end to end (as wino_input_channel). */
PCAVS_SIMD_CLONES static void wino6_input_channel_body(const pcavs_wino_conv *a, int c, size_t t0, size_t nt,
                                                       float *rowbuf, float *V) {
    const int h = a->h, w = a->w, tw = (w + 5) / 6, th = (h + 5) / 6;
    const size_t gs = WINO_GROUP_STRIDE(tw);     /* floats per phase array */
    float *R = rowbuf;                           /* [8][6][gs] gathered rows */
    float *C = R + 48 * gs;                      /* [8][6][gs] B^T down the columns */
    float *XR = C + 48 * gs;                     /* [8][2][gs] each row's next columns, gathered */
    float *XC = XR + 16 * gs;                    /* [8][2][gs] ... and B^T down the columns */
    const size_t cstride = (size_t)a->c_in * nt; /* V: [64][c_in][nt] */
    const size_t r_first = t0 / tw, r_last = (t0 + nt - 1) / tw;
    int lo_of[WINO_GROUP_TILES], nt_of[WINO_GROUP_TILES];
    for (size_t g0 = r_first; g0 <= r_last;) {
        int n_g, rows;
        const size_t g1 = wino_group_rows(g0, r_first, r_last, t0, nt, tw, lo_of, nt_of, &rows, &n_g);
        const size_t base = g0 * tw + (g0 == r_first ? t0 - r_first * tw : 0) - t0;
        for (int j = 0, off = 0; j < rows; off += nt_of[j], j++) {
            const size_t r = g0 + j;
            const int b = (int)(r / th), ty = (int)(r % th);
            const float s = a->in_scale ? a->in_scale[(size_t)b * a->c_in + c] : 1.0f;
            const float *xc = a->x + ((size_t)b * a->c_in + c) * h * w; /* [h, w] */
            for (int i = 0; i < 8; i++) {
                const int iy = 6 * ty - 1 + i;
                float *R0 = R + (size_t)(i * 6) * gs + off;
                wino6_gather_row(iy >= 0 && iy < h ? xc + (size_t)iy * w : NULL, w, lo_of[j], nt_of[j] + 1, s, R0, gs);
                XR[(size_t)(i * 2) * gs + j] = R0[nt_of[j]];
                XR[(size_t)(i * 2 + 1) * gs + j] = R0[gs + nt_of[j]];
            }
        }
        for (int pass = 0; pass < 2; pass++) { /* B^T down the columns: the phases of a row as one run */
            const size_t n8 = pass ? 2 * gs : 6 * gs;
            const float *in = pass ? XR : R;
            float *out = pass ? XC : C;
            const float *restrict d0 = in, *restrict d1 = in + n8, *restrict d2 = in + 2 * n8,
                                  *restrict d3 = in + 3 * n8, *restrict d4 = in + 4 * n8, *restrict d5 = in + 5 * n8,
                                  *restrict d6 = in + 6 * n8, *restrict d7 = in + 7 * n8;
            float *restrict c0 = out, *restrict c1 = out + n8, *restrict c2 = out + 2 * n8, *restrict c3 = out + 3 * n8,
                            *restrict c4 = out + 4 * n8, *restrict c5 = out + 5 * n8, *restrict c6 = out + 6 * n8,
                            *restrict c7 = out + 7 * n8;
            const int len = (int)(pass ? (size_t)gs + rows : 5 * gs + (size_t)n_g + 1);
#pragma omp simd
            for (int j = 0; j < len; j++)
                WINO6_BT(d0[j], d1[j], d2[j], d3[j], d4[j], d5[j], d6[j], d7[j], c0[j], c1[j], c2[j], c3[j], c4[j],
                         c5[j], c6[j], c7[j]);
        }
        for (int k = 0; k < 8; k++) { /* B^T along each tile's columns; a row's last tile takes 6, 7 from XC */
            const float *restrict e0 = C + (size_t)(k * 6) * gs, *restrict e1 = e0 + gs, *restrict e2 = e1 + gs,
                                  *restrict e3 = e2 + gs, *restrict e4 = e3 + gs, *restrict e5 = e4 + gs;
            float *v = V + (size_t)(k * 8) * cstride + (size_t)c * nt + base;
            float *restrict v0 = v, *restrict v1 = v + cstride, *restrict v2 = v + 2 * cstride,
                            *restrict v3 = v + 3 * cstride, *restrict v4 = v + 4 * cstride,
                            *restrict v5 = v + 5 * cstride, *restrict v6 = v + 6 * cstride,
                            *restrict v7 = v + 7 * cstride;
#pragma omp simd
            for (int t = 0; t < n_g; t++)
                WINO6_BT(e0[t], e1[t], e2[t], e3[t], e4[t], e5[t], e0[t + 1], e1[t + 1], v0[t], v1[t], v2[t], v3[t],
                         v4[t], v5[t], v6[t], v7[t]);
            const float *f0 = XC + (size_t)(k * 2) * gs, *f1 = f0 + gs;
            for (int j = 0, end = 0; j < rows; j++) {
                end += nt_of[j];
                const int t = end - 1;
                WINO6_BT(e0[t], e1[t], e2[t], e3[t], e4[t], e5[t], f0[j], f1[j], v0[t], v1[t], v2[t], v3[t], v4[t],
                         v5[t], v6[t], v7[t]);
            }
        }
        g0 = g1;
    }
}
PCAVS_SIMD_DISPATCH(static, wino6_input_channel,
                    (const pcavs_wino_conv *a, int c, size_t t0, size_t nt, float *rowbuf, float *V),
                    (a, c, t0, nt, rowbuf, V))

/* Output transform of output channel o for chunk tiles [t0, t0 + nt) into y from its rows of M: mo [64][pstride]
 * (mo[p * pstride + j], tile j of point p; whole lane groups are read). */
PCAVS_SIMD_CLONES static void wino6_output_channel_body(const pcavs_wino_conv *a, int o, size_t t0, size_t nt,
                                                        const float *mo, size_t pstride) {
    for (size_t jj = 0; jj < nt; jj += WINO_LANES) {
        float t[6][8][WINO_LANES]; /* A^T down the columns of M */
        for (int l = 0; l < 8; l++) {
            const float *m0 = mo + (size_t)l * pstride + jj, *m1 = m0 + 8 * pstride, *m2 = m0 + 16 * pstride,
                        *m3 = m0 + 24 * pstride, *m4 = m0 + 32 * pstride, *m5 = m0 + 40 * pstride,
                        *m6 = m0 + 48 * pstride, *m7 = m0 + 56 * pstride;
            for (int q = 0; q < WINO_LANES; q++) {
                float r[6];
                WINO6_AT(m0[q], m1[q], m2[q], m3[q], m4[q], m5[q], m6[q], m7[q], r);
                for (int i = 0; i < 6; i++) t[i][l][q] = r[i];
            }
        }
        float out[6][6][WINO_LANES]; /* A^T along the rows */
        for (int i = 0; i < 6; i++)
            for (int q = 0; q < WINO_LANES; q++) {
                float r[6];
                WINO6_AT(t[i][0][q], t[i][1][q], t[i][2][q], t[i][3][q], t[i][4][q], t[i][5][q], t[i][6][q], t[i][7][q],
                         r);
                for (int s = 0; s < 6; s++) out[i][s][q] = r[s];
            }
        wino_store_tiles(a, o, t0 + jj, nt - jj < WINO_LANES ? (int)(nt - jj) : WINO_LANES, 6, &out[0][0][0]);
    }
}
PCAVS_SIMD_DISPATCH(static, wino6_output_channel,
                    (const pcavs_wino_conv *a, int o, size_t t0, size_t nt, const float *mo, size_t pstride),
                    (a, o, t0, nt, mo, pstride))
