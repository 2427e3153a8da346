/* winograd_cpu.c: Winograd F(4x4, 3x3) convolution on the CPU (see winograd.h
 * for the algebra). Work is done in chunks of output tiles (tile j = (sample,
 * tile row, tile column), row-major), each in three phases inside one OpenMP
 * region:
 *   1. input transform, threads over input channels: the 6 input rows of a tile
 * row are copied (times in_scale, zero-padded) into a row buffer, B^T is
 * applied down the columns for the whole row at once (contiguous, vectorised),
 * then along each tile's 6 columns: V [36, c_in, nt];
 *   2. 36 single-threaded sgemm calls, threads over the 36 points: M[p] = U[p]
 * V[p],  M [36, c_out, nt];
 *   3. output transform, threads over output channels, 8 tiles per step (the 8
 * lanes are contiguous in M): A^T M A, times out_scale, + bias, ReLU, written
 * into y. Chunks hold at most PCAVS_WINO_MAX_CHUNK bytes of V + M, so memory
 * stays bounded at any batch. */
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_thread_num(void) { return 0; }
#endif

#include "winograd.h"

#ifndef PCAVS_WINO_MAX_CHUNK
#define PCAVS_WINO_MAX_CHUNK (64u << 20) /* bytes of V + M per chunk */
#endif
#define WINO_ALIGN(b) ((((size_t)(b)) + 63) / 64 * 64)
#define WINO_LANES 8

/* ---- weights: u[p][o][c] = (G g G^T)[p] * scale, in double ---- */

static const double wino_g[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};

void pcavs_wino_weight(int c_out, int c_in, const float *w,    /* [c_out, c_in, 3, 3] */
                       float scale, float *u, int n_threads) { /* [36, c_out, c_in] */
    const size_t plane = (size_t)c_out * c_in;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (int o = 0; o < c_out; o++)
        for (int c = 0; c < c_in; c++) {
            const float *g = w + ((size_t)o * c_in + c) * 9; /* [3, 3] */
            double t[6][3];                                  /* G g */
            for (int k = 0; k < 6; k++)
                for (int j = 0; j < 3; j++)
                    t[k][j] = wino_g[k][0] * g[j] + wino_g[k][1] * g[3 + j] + wino_g[k][2] * g[6 + j];
            for (int k = 0; k < 6; k++)
                for (int l = 0; l < 6; l++) {
                    const double v = t[k][0] * wino_g[l][0] + t[k][1] * wino_g[l][1] + t[k][2] * wino_g[l][2];
                    u[(size_t)(k * 6 + l) * plane + (size_t)o * c_in + c] = (float)(v * scale);
                }
        }
}

/* ---- sizes ---- */

static size_t wino_tiles(const pcavs_wino_conv *a) { return (size_t)a->n * ((a->h + 3) / 4) * ((a->w + 3) / 4); }

/* bytes per tile of V + M, and the fixed per-thread part (row buffers) */
static size_t wino_per_tile(const pcavs_wino_conv *a) {
    return (size_t)PCAVS_WINO_POINTS * ((size_t)a->c_in + a->c_out) * sizeof(float);
}
static size_t wino_rowbuf_floats(const pcavs_wino_conv *a) { return (size_t)12 * (4 * ((a->w + 3) / 4) + 8); }
static size_t wino_fixed(const pcavs_wino_conv *a, int n_threads) {
    return (size_t)(n_threads < 1 ? 1 : n_threads) * WINO_ALIGN(wino_rowbuf_floats(a) * sizeof(float)) + 3 * 64 +
           WINO_LANES * sizeof(float) * 2;
}

size_t pcavs_wino_min_scratch_bytes(const pcavs_wino_conv *a, int n_threads) {
    size_t nt = wino_tiles(a) < WINO_LANES ? wino_tiles(a) : WINO_LANES;
    return wino_fixed(a, n_threads) + nt * wino_per_tile(a);
}

size_t pcavs_wino_scratch_bytes(const pcavs_wino_conv *a, int n_threads) {
    size_t nt = wino_tiles(a), cap = PCAVS_WINO_MAX_CHUNK / wino_per_tile(a);
    if (cap < WINO_LANES) cap = WINO_LANES;
    if (nt > cap) nt = cap;
    return wino_fixed(a, n_threads) + nt * wino_per_tile(a);
}

/* ---- phase 1: input transform of tiles [t0, t0 + nt) for channel c ---- */

static void wino_input_channel(const pcavs_wino_conv *a, int c, size_t t0, size_t nt, float *rowbuf, float *V) {
    const int h = a->h, w = a->w, tw = (w + 3) / 4, th = (h + 3) / 4;
    const int pw = 4 * tw + 2;                   /* padded row: px = ix + 1, px in [0, pw) */
    const size_t rstride = (size_t)4 * tw + 8;   /* floats per buffered row */
    float *rows = rowbuf;                        /* [6][rstride]: scaled, zero-padded input rows */
    float *col = rowbuf + 6 * rstride;           /* [6][rstride]: B^T applied down the columns */
    const size_t cstride = (size_t)a->c_in * nt; /* V: [36][c_in][nt] */
    const size_t r_first = t0 / tw, r_last = (t0 + nt - 1) / tw;
    for (size_t r = r_first; r <= r_last; r++) {
        const int b = (int)(r / th), ty = (int)(r % th);
        const int lo = r == r_first ? (int)(t0 - r * tw) : 0;
        const int hi = r == r_last ? (int)(t0 + nt - r * tw) : tw;
        const float s = a->in_scale ? a->in_scale[(size_t)b * a->c_in + c] : 1.0f;
        const float *xc = a->x + ((size_t)b * a->c_in + c) * h * w; /* [h, w] */
        const int p0 = 4 * lo, p1 = 4 * hi + 2;                     /* padded columns used */
        for (int i = 0; i < 6; i++) {
            float *dst = rows + i * rstride;
            const int iy = 4 * ty - 1 + i;
            if (iy < 0 || iy >= h) {
                memset(dst + p0, 0, (size_t)(p1 - p0) * sizeof(float));
                continue;
            }
            const float *src = xc + (size_t)iy * w;
            int px = p0;
            for (; px < p1 && px < 1; px++) dst[px] = 0.0f;
            const int end = p1 < w + 1 ? p1 : w + 1;
            for (; px < end; px++) dst[px] = src[px - 1] * s;
            for (; px < p1; px++) dst[px] = 0.0f;
        }
        (void)pw;
        /* B^T down the columns, all padded columns of the row at once */
        {
            const float *d0 = rows, *d1 = rows + rstride, *d2 = rows + 2 * rstride, *d3 = rows + 3 * rstride,
                        *d4 = rows + 4 * rstride, *d5 = rows + 5 * rstride;
            float *c0 = col, *c1 = col + rstride, *c2 = col + 2 * rstride, *c3 = col + 3 * rstride,
                  *c4 = col + 4 * rstride, *c5 = col + 5 * rstride;
            for (int px = p0; px < p1; px++) {
                const float x0 = d0[px], x1 = d1[px], x2 = d2[px], x3 = d3[px], x4 = d4[px], x5 = d5[px];
                c0[px] = 4.0f * x0 - 5.0f * x2 + x4;
                c1[px] = -4.0f * (x1 + x2) + x3 + x4;
                c2[px] = 4.0f * (x1 - x2) - x3 + x4;
                c3[px] = 2.0f * (x3 - x1) - x2 + x4;
                c4[px] = 2.0f * (x1 - x3) - x2 + x4;
                c5[px] = 4.0f * x1 - 5.0f * x3 + x5;
            }
        }
        /* B^T along each tile's 6 columns */
        float *vbase = V + (size_t)c * nt + (r * tw + lo - t0);
        for (int k = 0; k < 6; k++) {
            const float *e = col + k * rstride;
            float *v0 = vbase + (size_t)(k * 6) * cstride;
            for (int tx = lo; tx < hi; tx++) {
                const float *q = e + 4 * tx;
                const float x0 = q[0], x1 = q[1], x2 = q[2], x3 = q[3], x4 = q[4], x5 = q[5];
                float *v = v0 + (tx - lo);
                v[0] = 4.0f * x0 - 5.0f * x2 + x4;
                v[cstride] = -4.0f * (x1 + x2) + x3 + x4;
                v[2 * cstride] = 4.0f * (x1 - x2) - x3 + x4;
                v[3 * cstride] = 2.0f * (x3 - x1) - x2 + x4;
                v[4 * cstride] = 2.0f * (x1 - x3) - x2 + x4;
                v[5 * cstride] = 4.0f * x1 - 5.0f * x3 + x5;
            }
        }
    }
}

/* ---- phase 3: output transform of tiles [t0, t0 + nt) for output channel o
 * ---- */

static void wino_output_channel(const pcavs_wino_conv *a, int o, size_t t0, size_t nt, const float *M) {
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

/* ---- driver ---- */

pcavs_status pcavs_wino_run(const pcavs_kctx *kc, const pcavs_wino_conv *a) {
    if (!kc || !a || !a->x || !a->u || !a->y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_run: NULL pointer");
    if (a->n < 1 || a->c_in < 1 || a->c_out < 1 || a->h < 1 || a->w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_run: bad sizes n=%d c_in=%d c_out=%d %dx%d", a->n, a->c_in,
                          a->c_out, a->h, a->w);
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    const size_t need = pcavs_wino_min_scratch_bytes(a, nth);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "wino_run: [n=%d, %d->%d, %dx%d] needs at least %zu "
                          "bytes of scratch, %zu available",
                          a->n, a->c_in, a->c_out, a->h, a->w, need, kc->scratch_bytes);
    const size_t T = wino_tiles(a);
    size_t nt = (kc->scratch_bytes - wino_fixed(a, nth)) / wino_per_tile(a);
    const size_t cap = PCAVS_WINO_MAX_CHUNK / wino_per_tile(a);
    if (nt > cap) nt = cap < WINO_LANES ? WINO_LANES : cap;
    if (nt > T) nt = T;
    if (nt > WINO_LANES) nt -= nt % WINO_LANES;
    /* carve: rowbufs | V | M (M padded by a lane group: the output transform
     * reads whole groups) */
    char *sp = (char *)kc->scratch;
    float *rowbufs = (float *)sp;
    const size_t rb = WINO_ALIGN(wino_rowbuf_floats(a) * sizeof(float)) / sizeof(float);
    sp += (size_t)nth * rb * sizeof(float);
    float *V = (float *)sp; /* [36, c_in, nt] */
    sp += WINO_ALIGN((size_t)PCAVS_WINO_POINTS * a->c_in * nt * sizeof(float));
    float *M = (float *)sp; /* [36, c_out, nt] (+ WINO_LANES) */

    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
#pragma omp parallel num_threads(nth)
    {
        float *rowbuf = rowbufs + (size_t)omp_get_thread_num() * rb;
        for (size_t t0 = 0; t0 < T; t0 += nt) {
            const size_t n_here = T - t0 < nt ? T - t0 : nt;
#pragma omp for schedule(static)
            for (int c = 0; c < a->c_in; c++) wino_input_channel(a, c, t0, n_here, rowbuf, V);
#pragma omp for schedule(static)
            for (int p = 0; p < PCAVS_WINO_POINTS; p++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, a->c_out, (int)n_here, a->c_in, 1.0f,
                            a->u + (size_t)p * a->c_out * a->c_in, a->c_in, V + (size_t)p * a->c_in * n_here,
                            (int)n_here, 0.0f, M + (size_t)p * a->c_out * n_here, (int)n_here);
#pragma omp for schedule(static)
            for (int o = 0; o < a->c_out; o++) wino_output_channel(a, o, t0, n_here, M);
        }
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    return PCAVS_OK;
}
