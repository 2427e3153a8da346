/* winograd_transforms.h: the input and output transforms of Winograd F(4x4, 3x3) (winograd_cpu.c),
 * as plain loops that vectorise (omp simd), included once by winograd_cpu.c (after winograd_gather.h).
 *
 * Input transform of one channel, per tile row: the 6 input rows the row's tiles read are copied
 * (times in_scale, zero-padded) into column-phase arrays R[i][q][t] = x[4ty-1+i][4t+q-1] (q = 0..3),
 * so every later loop runs over tiles with unit stride; B^T down the columns gives C[k][q][t]; B^T
 * along each tile's 6 columns (C[k][0..3][t], C[k][0..1][t+1]) gives V[k*6+l][c][tile].
 * Output transform of one output channel: 8 tiles per step (contiguous in M), A^T M A, then out_scale,
 * bias, ReLU and the 4x4 store. */

/* B^T rows applied to (x0..x5) */
#define WINO_BT0(x0, x1, x2, x3, x4, x5) (4.0f * (x0)-5.0f * (x2) + (x4))
#define WINO_BT1(x0, x1, x2, x3, x4, x5) (-4.0f * ((x1) + (x2)) + (x3) + (x4))
#define WINO_BT2(x0, x1, x2, x3, x4, x5) (4.0f * ((x1) - (x2)) - (x3) + (x4))
#define WINO_BT3(x0, x1, x2, x3, x4, x5) (2.0f * ((x3) - (x1)) - (x2) + (x4))
#define WINO_BT4(x0, x1, x2, x3, x4, x5) (2.0f * ((x1) - (x3)) - (x2) + (x4))
#define WINO_BT5(x0, x1, x2, x3, x4, x5) (4.0f * (x1)-5.0f * (x3) + (x5))

PCAVS_SIMD_CLONES static void wino_input_channel(const pcavs_wino_conv *a, int c, size_t t0, size_t nt, float *rowbuf, float *V) {
    const int h = a->h, w = a->w, tw = (w + 3) / 4, th = (h + 3) / 4;
    const size_t ps = WINO_PHASE_STRIDE(tw);     /* floats per phase array */
    float *R = rowbuf;                           /* [6][4][ps] */
    float *C = rowbuf + 24 * ps;                 /* [6][4][ps] */
    const size_t cstride = (size_t)a->c_in * nt; /* V: [36][c_in][nt] */
    const size_t r_first = t0 / tw, r_last = (t0 + nt - 1) / tw;
    for (size_t r = r_first; r <= r_last; r++) {
        const int b = (int)(r / th), ty = (int)(r % th);
        const int lo = r == r_first ? (int)(t0 - r * tw) : 0;
        const int hi = r == r_last ? (int)(t0 + nt - r * tw) : tw;
        const int nT = hi - lo + 1; /* tiles of the row + the next one's first columns */
        const float s = a->in_scale ? a->in_scale[(size_t)b * a->c_in + c] : 1.0f;
        const float *xc = a->x + ((size_t)b * a->c_in + c) * h * w; /* [h, w] */
        for (int i = 0; i < 6; i++) {
            const int iy = 4 * ty - 1 + i;
            float *R0 = R + (size_t)(i * 4) * ps;
            wino_gather_row(iy >= 0 && iy < h ? xc + (size_t)iy * w : NULL, w, lo, nT, s, R0, R0 + ps, R0 + 2 * ps,
                            R0 + 3 * ps);
        }
        /* B^T down the columns: C[k][q][t] from R[0..5][q][t], the 4 phases as one run of 4*ps */
        {
            const size_t n4 = 4 * ps;
            const float *restrict d0 = R, *restrict d1 = R + n4, *restrict d2 = R + 2 * n4, *restrict d3 = R + 3 * n4,
                                  *restrict d4 = R + 4 * n4, *restrict d5 = R + 5 * n4;
            float *restrict c0 = C, *restrict c1 = C + n4, *restrict c2 = C + 2 * n4, *restrict c3 = C + 3 * n4,
                            *restrict c4 = C + 4 * n4, *restrict c5 = C + 5 * n4;
            const int n4i = (int)(4 * ps); /* the 4 phase arrays back to back, padding included */
#pragma omp simd
            for (int j = 0; j < n4i; j++) {
                const float x0 = d0[j], x1 = d1[j], x2 = d2[j], x3 = d3[j], x4 = d4[j], x5 = d5[j];
                c0[j] = WINO_BT0(x0, x1, x2, x3, x4, x5);
                c1[j] = WINO_BT1(x0, x1, x2, x3, x4, x5);
                c2[j] = WINO_BT2(x0, x1, x2, x3, x4, x5);
                c3[j] = WINO_BT3(x0, x1, x2, x3, x4, x5);
                c4[j] = WINO_BT4(x0, x1, x2, x3, x4, x5);
                c5[j] = WINO_BT5(x0, x1, x2, x3, x4, x5);
            }
        }
        /* B^T along each tile's columns 4t..4t+5 = C[k][0..3][t], C[k][0..1][t+1] */
        const int ntile = hi - lo;
        for (int k = 0; k < 6; k++) {
            const float *restrict e0 = C + (size_t)(k * 4) * ps, *restrict e1 = e0 + ps, *restrict e2 = e1 + ps,
                                  *restrict e3 = e2 + ps;
            float *restrict v0 = V + (size_t)(k * 6) * cstride + (size_t)c * nt + (r * tw + lo - t0);
            float *restrict v1 = v0 + cstride, *restrict v2 = v1 + cstride, *restrict v3 = v2 + cstride,
                            *restrict v4 = v3 + cstride, *restrict v5 = v4 + cstride;
#pragma omp simd
            for (int tt = 0; tt < ntile; tt++) {
                const float x0 = e0[tt], x1 = e1[tt], x2 = e2[tt], x3 = e3[tt], x4 = e0[tt + 1], x5 = e1[tt + 1];
                v0[tt] = WINO_BT0(x0, x1, x2, x3, x4, x5);
                v1[tt] = WINO_BT1(x0, x1, x2, x3, x4, x5);
                v2[tt] = WINO_BT2(x0, x1, x2, x3, x4, x5);
                v3[tt] = WINO_BT3(x0, x1, x2, x3, x4, x5);
                v4[tt] = WINO_BT4(x0, x1, x2, x3, x4, x5);
                v5[tt] = WINO_BT5(x0, x1, x2, x3, x4, x5);
            }
        }
    }
}

PCAVS_SIMD_CLONES static void wino_output_channel(const pcavs_wino_conv *a, int o, size_t t0, size_t nt, const float *M) {
    const int h = a->h, w = a->w, tw = (w + 3) / 4, th = (h + 3) / 4;
    const size_t pstride = (size_t)a->c_out * nt; /* M: [36][c_out][nt] */
    const float *mo = M + (size_t)o * nt;
    const float bias = a->bias ? a->bias[o] : 0.0f;
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
        const int lanes = nt - jj < WINO_LANES ? (int)(nt - jj) : WINO_LANES;
        for (int q = 0; q < lanes; q++) {
            const size_t j = t0 + jj + q;
            const int tx = (int)(j % tw), ty = (int)((j / tw) % th), b = (int)(j / ((size_t)tw * th));
            const float sc = a->out_scale ? a->out_scale[(size_t)b * a->c_out + o] : 1.0f;
            float *yo = a->y + ((size_t)b * a->c_out + o) * h * w; /* [h, w] */
            const int nr = h - 4 * ty < 4 ? h - 4 * ty : 4, ncol = w - 4 * tx < 4 ? w - 4 * tx : 4;
            for (int r = 0; r < nr; r++) {
                float *yr = yo + (size_t)(4 * ty + r) * w + 4 * tx;
                for (int s = 0; s < ncol; s++) {
                    float v = out[r][s][q] * sc + bias;
                    if (a->relu && v < 0.0f) v = 0.0f;
                    yr[s] = v;
                }
            }
        }
    }
}
