/* winograd_transforms.h: the input and output transforms of Winograd F(4x4, 3x3) (winograd_cpu.c),
 * as plain loops that vectorise (omp simd), included once by winograd_cpu.c (after winograd_gather.h).
 *
 * Input transform of one channel, per group of tile rows (up to WINO_GROUP_TILES tiles): for each row the
 * 6 input rows its tiles read are copied (times in_scale, zero-padded) into column-phase arrays
 * R[i][q][t] = x[4ty-1+i][4t+q-1] (q = 0..3), the group's rows end to end, so every later loop runs over
 * the group's tiles with unit stride; B^T down the columns gives C[k][q][t]; B^T along each tile's 6
 * columns (C[k][0..3][t], C[k][0..1][t+1]; a row's last tile takes its columns 4, 5 from X) gives
 * V[k*6+l][c][tile].
 * Output transform of one output channel: 8 tiles per step (contiguous in M), A^T M A, then wino_store_tiles:
 * out_scale, noise, bias, the activation and the 4x4 store. */

/* B^T rows applied to (x0..x5) */
#define WINO_BT0(x0, x1, x2, x3, x4, x5) (4.0f * (x0)-5.0f * (x2) + (x4))
#define WINO_BT1(x0, x1, x2, x3, x4, x5) (-4.0f * ((x1) + (x2)) + (x3) + (x4))
#define WINO_BT2(x0, x1, x2, x3, x4, x5) (4.0f * ((x1) - (x2)) - (x3) + (x4))
#define WINO_BT3(x0, x1, x2, x3, x4, x5) (2.0f * ((x3) - (x1)) - (x2) + (x4))
#define WINO_BT4(x0, x1, x2, x3, x4, x5) (2.0f * ((x1) - (x3)) - (x2) + (x4))
#define WINO_BT5(x0, x1, x2, x3, x4, x5) (4.0f * (x1)-5.0f * (x3) + (x5))

/* One row pass output: the 6 values B^T (x0..x5) of tile column k into v[0..5][at] (stride cs). */
#define WINO_ROW_STORE(v, cs, at, x0, x1, x2, x3, x4, x5)                                                              \
    do {                                                                                                               \
        (v)[(at)] = WINO_BT0(x0, x1, x2, x3, x4, x5);                                                                  \
        (v)[(cs) + (at)] = WINO_BT1(x0, x1, x2, x3, x4, x5);                                                           \
        (v)[2 * (cs) + (at)] = WINO_BT2(x0, x1, x2, x3, x4, x5);                                                       \
        (v)[3 * (cs) + (at)] = WINO_BT3(x0, x1, x2, x3, x4, x5);                                                       \
        (v)[4 * (cs) + (at)] = WINO_BT4(x0, x1, x2, x3, x4, x5);                                                       \
        (v)[5 * (cs) + (at)] = WINO_BT5(x0, x1, x2, x3, x4, x5);                                                       \
    } while (0)

/* Input transform of channel c for chunk tiles [t0, t0 + nt). Tile rows are taken in groups of at most
 * WINO_GROUP_TILES tiles (one row at least), laid end to end in the phase arrays at their chunk-relative
 * index, so the loops run over the whole group even where a row has few tiles (FAN's 8x8 maps: 2 tiles a
 * row; a loop per row was mostly scalar remainder). Each row also gathers the columns right after its last
 * tile (that tile's columns 4, 5: phases 0, 1 of the next tile position), kept aside in X before the next
 * row overwrites them; the row pass reads the next index's phases and the last tile of each row is redone
 * with X. Every value is computed with the same operations as tile by tile. */
PCAVS_SIMD_CLONES static void wino_input_channel_body(const pcavs_wino_conv *a, int c, size_t t0, size_t nt,
                                                      float *rowbuf, float *V) {
    const int h = a->h, w = a->w, tw = (w + 3) / 4, th = (h + 3) / 4;
    const size_t gs = WINO_GROUP_STRIDE(tw);     /* floats per phase array: a group's tiles + padding */
    float *R = rowbuf;                           /* [6][4][gs] gathered rows */
    float *C = R + 24 * gs;                      /* [6][4][gs] B^T down the columns */
    float *XR = C + 24 * gs;                     /* [6][2][gs] each row's next columns, gathered */
    float *XC = XR + 12 * gs;                    /* [6][2][gs] ... and B^T down the columns */
    const size_t cstride = (size_t)a->c_in * nt; /* V: [36][c_in][nt] */
    const size_t r_first = t0 / tw, r_last = (t0 + nt - 1) / tw;
    int lo_of[WINO_GROUP_TILES], nt_of[WINO_GROUP_TILES]; /* per row of the group: first tile, tiles */
    for (size_t g0 = r_first; g0 <= r_last;) {
        /* the group: rows g0..g1-1, n_g tiles, at chunk-relative index base */
        int n_g, rows;
        const size_t g1 = wino_group_rows(g0, r_first, r_last, t0, nt, tw, lo_of, nt_of, &rows, &n_g);
        const size_t base = g0 * tw + (g0 == r_first ? t0 - r_first * tw : 0) - t0;
        /* gather: row j's tiles at R[i][q][off_j ..], its next columns into XR[i][q][j] */
        wino_gather_group(a->x, a->in_scale, a->c_in, c, h, w, th, g0, rows, lo_of, nt_of, 6, 2, gs, R, XR);
        /* B^T down the columns: C[k][q][t] from R[0..5][q][t] (the 4 phases as one run of 4 gs), and the
         * same for the next columns (2 phases as one run of 2 gs) */
        for (int pass = 0; pass < 2; pass++) {
            const size_t n4 = pass ? 2 * gs : 4 * gs;
            const float *in = pass ? XR : R;
            float *out = pass ? XC : C;
            const float *restrict d0 = in, *restrict d1 = in + n4, *restrict d2 = in + 2 * n4,
                                  *restrict d3 = in + 3 * n4, *restrict d4 = in + 4 * n4, *restrict d5 = in + 5 * n4;
            float *restrict c0 = out, *restrict c1 = out + n4, *restrict c2 = out + 2 * n4, *restrict c3 = out + 3 * n4,
                            *restrict c4 = out + 4 * n4, *restrict c5 = out + 5 * n4;
            const int len = (int)(pass ? (size_t)gs + rows : 3 * gs + (size_t)n_g + 1); /* up to what is read */
#pragma omp simd
            for (int j = 0; j < len; j++) {
                const float x0 = d0[j], x1 = d1[j], x2 = d2[j], x3 = d3[j], x4 = d4[j], x5 = d5[j];
                c0[j] = WINO_BT0(x0, x1, x2, x3, x4, x5);
                c1[j] = WINO_BT1(x0, x1, x2, x3, x4, x5);
                c2[j] = WINO_BT2(x0, x1, x2, x3, x4, x5);
                c3[j] = WINO_BT3(x0, x1, x2, x3, x4, x5);
                c4[j] = WINO_BT4(x0, x1, x2, x3, x4, x5);
                c5[j] = WINO_BT5(x0, x1, x2, x3, x4, x5);
            }
        }
        /* B^T along each tile's columns 4t..4t+5 = C[k][0..3][t], C[k][0..1][t+1]; the last tile of each row
         * takes its columns 4, 5 from XC instead */
        for (int k = 0; k < 6; k++) {
            const float *restrict e0 = C + (size_t)(k * 4) * gs, *restrict e1 = e0 + gs, *restrict e2 = e1 + gs,
                                  *restrict e3 = e2 + gs;
            float *restrict v = V + (size_t)(k * 6) * cstride + (size_t)c * nt + base;
#pragma omp simd
            for (int t = 0; t < n_g; t++) {
                const float x0 = e0[t], x1 = e1[t], x2 = e2[t], x3 = e3[t], x4 = e0[t + 1], x5 = e1[t + 1];
                WINO_ROW_STORE(v, cstride, t, x0, x1, x2, x3, x4, x5);
            }
            const float *f0 = XC + (size_t)(k * 2) * gs, *f1 = f0 + gs;
            for (int j = 0, end = 0; j < rows; j++) {
                end += nt_of[j];
                const int t = end - 1;
                WINO_ROW_STORE(v, cstride, t, e0[t], e1[t], e2[t], e3[t], f0[j], f1[j]);
            }
        }
        g0 = g1;
    }
}
PCAVS_SIMD_DISPATCH(static, wino_input_channel,
                    (const pcavs_wino_conv *a, int c, size_t t0, size_t nt, float *rowbuf, float *V),
                    (a, c, t0, nt, rowbuf, V))

/* the activation of a's output stores (styled_act.h) */
static inline int wino_store_act(const pcavs_wino_conv *a) {
    return a->lrelu ? PCAVS_STORE_ACT_LRELU : a->relu ? PCAVS_STORE_ACT_RELU : PCAVS_STORE_ACT_NONE;
}

/* Stores a step's lanes (tiles j0 .. j0+lanes-1, T x T outputs each, out [T][T][WINO_LANES]) into y times the
 * tile's out_scale, + noise (nr0: the noise at yr0's positions, or NULL), + bias, the activation; T is 4 or 6 (a
 * constant where inlined). The tile position is stepped along the lanes (one division per step). A run of lanes that
 * are whole tiles of one tile row has each output row as T x run consecutive floats, transposed by wino_lanes_to_row
 * (winograd_scatter.h) and stored as whole vectors (straight into y for a whole lane group); runs end at tile rows and
 * at partial tiles (the right and bottom edges), which are stored value by value. */
static inline __attribute__((always_inline)) void wino_store_run(const pcavs_wino_conv *a, float *yr0, const float *nr0,
                                                                 int q0, int run, int T, float sc, float bias,
                                                                 const float *out) {
    const int act = wino_store_act(a);
    for (int r = 0; r < T; r++) {
        float *yr = yr0 + (size_t)r * a->w;
        const float *nr = nr0 ? nr0 + (size_t)r * a->w : NULL; /* the noise at yr's positions */
        if (run == WINO_LANES) {                               /* the common case: straight into y */
            wino_lanes_to_row(out + r * T * WINO_LANES, T, 1, sc, bias, act, nr, a->noise_weight, yr);
        } else { /* tile by tile, constant-size copies (a variable memcpy's wide loads straddled the vector stores
                  * that filled row: store-forwarding stalls); the noise of lanes past the run reads as zeros */
            float row[6 * WINO_LANES] __attribute__((aligned(64)));
            float nrow[6 * WINO_LANES] __attribute__((aligned(64)));
            if (nr) {
                memset(nrow, 0, sizeof nrow);
                memcpy(nrow + T * q0, nr, (size_t)(T * run) * sizeof(float));
            }
            wino_lanes_to_row(out + r * T * WINO_LANES, T, 1, sc, bias, act, nr ? nrow : NULL, a->noise_weight, row);
            for (int q = 0; q < run; q++) memcpy(yr + T * q, row + T * (q0 + q), (size_t)T * sizeof(float));
        }
    }
}

static inline __attribute__((always_inline)) void wino_store_tiles(const pcavs_wino_conv *a, int o, size_t j0,
                                                                   int lanes, int T, const float *out) {
    const int h = a->h, w = a->w, tw = (w + T - 1) / T, th = (h + T - 1) / T;
    const float bias = a->bias ? a->bias[o] : 0.0f;
    int tx = (int)(j0 % tw), ty = (int)((j0 / tw) % th), b = (int)(j0 / ((size_t)tw * th));
    for (int q = 0; q < lanes;) {
        const float sc = a->out_scale ? a->out_scale[(size_t)b * a->c_out + o] : 1.0f;
        float *yo = a->y + ((size_t)b * a->c_out + o) * h * w;            /* [h, w] */
        const float *no = a->noise ? a->noise + (size_t)b * h * w : NULL; /* [h, w] */
        int run = 0;                                                      /* whole tiles of this tile row from lane q */
        if (T * ty + T <= h)
            while (q + run < lanes && tx + run < tw && T * (tx + run) + T <= w) run++;
        if (run > 0) {
            const size_t at = (size_t)(T * ty) * w + T * tx;
            wino_store_run(a, yo + at, no ? no + at : NULL, q, run, T, sc, bias, out);
            q += run, tx += run;
        } else { /* a partial tile */
            const int nr = h - T * ty < T ? h - T * ty : T, ncol = w - T * tx < T ? w - T * tx : T;
            for (int r = 0; r < nr; r++) {
                const size_t at = (size_t)(T * ty + r) * w + T * tx;
                for (int s = 0; s < ncol; s++) {
                    const float v = out[(r * T + s) * WINO_LANES + q];
                    yo[at + s] = pcavs_store_act(no ? v * sc + no[at + s] * a->noise_weight + bias : v * sc + bias,
                                                 wino_store_act(a));
                }
            }
            q++, tx++;
        }
        if (tx == tw) {
            tx = 0;
            if (++ty == th) ty = 0, b++;
        }
    }
}

/* Output transform of output channel o for chunk tiles [t0, t0 + nt) into y from its rows of M: mo [36][pstride]
 * (mo[p * pstride + j], tile j of point p; whole lane groups are read). */
PCAVS_SIMD_CLONES static void wino_output_channel_body(const pcavs_wino_conv *a, int o, size_t t0, size_t nt,
                                                       const float *mo, size_t pstride) {
    for (size_t jj = 0; jj < nt; jj += WINO_LANES) {
        float t[4][6][WINO_LANES]; /* A^T down the columns of M */
        for (int l = 0; l < 6; l++) {
            const float *m0 = mo + (size_t)l * pstride + jj, *m1 = m0 + 6 * pstride, *m2 = m0 + 12 * pstride,
                        *m3 = m0 + 18 * pstride, *m4 = m0 + 24 * pstride, *m5 = m0 + 30 * pstride;
            for (int q = 0; q < WINO_LANES; q++) {
                const float s12 = m1[q] + m2[q], d12 = m1[q] - m2[q];
                const float s34 = m3[q] + m4[q], d34 = m3[q] - m4[q];
                t[0][l][q] = m0[q] + s12 + s34;
                t[1][l][q] = d12 + 2.0f * d34;
                t[2][l][q] = s12 + 4.0f * s34;
                t[3][l][q] = d12 + 8.0f * d34 + m5[q];
            }
        }
        float out[4][4][WINO_LANES]; /* A^T along the rows */
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < WINO_LANES; q++) {
                const float s12 = t[r][1][q] + t[r][2][q], d12 = t[r][1][q] - t[r][2][q];
                const float s34 = t[r][3][q] + t[r][4][q], d34 = t[r][3][q] - t[r][4][q];
                out[r][0][q] = t[r][0][q] + s12 + s34;
                out[r][1][q] = d12 + 2.0f * d34;
                out[r][2][q] = s12 + 4.0f * s34;
                out[r][3][q] = d12 + 8.0f * d34 + t[r][5][q];
            }
        wino_store_tiles(a, o, t0 + jj, nt - jj < WINO_LANES ? (int)(nt - jj) : WINO_LANES, 4, &out[0][0][0]);
    }
}
PCAVS_SIMD_DISPATCH(static, wino_output_channel,
                    (const pcavs_wino_conv *a, int o, size_t t0, size_t nt, const float *mo, size_t pstride),
                    (a, o, t0, nt, mo, pstride))
