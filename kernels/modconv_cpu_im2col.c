/* modconv_cpu_im2col.c: the modulated convolution's plain k x k (k > 1) path for larger maps: tiled im2col of the
 * style-scaled input and one sgemm per tile straight into y, demodulated on the hot tile. */
#include <math.h>
#include <string.h>

#include "kernel_util.h"

#include "modconv_cpu_internal.h"
#include "sgemm_nn.h"
#include "simd_clones.h"

/* ---- plain k x k (k > 1) path: tiled im2col of the style-scaled input + one sgemm per tile ----
 * Column tile = output pixels p0 .. p0+nt-1 of one sample; rows r = c*kk + i*k + j (the weight's own
 * [c_out, c_in*k*k] layout, so nothing is permuted); the GEMM writes y directly (ldc = h*w) and the
 * tile is demodulated while still in cache. Compared with the tap-GEMM + col2im form (modconv_cpu_taps.c), the
 * reduction is k*k times deeper (K = 9*c_in instead of c_in: 1152 instead of 128 at 224x224) and no
 * k*k-times-larger intermediate goes through memory. Threads take tiles (single-threaded pcavs_sgemm_nn each). */
#define MC_IM2COL_MIN_NT 256 /* narrower tiles: the tap-GEMM path (small maps at batch 1) */
#define MC_IM2COL_MAX_NT 2048
#ifndef MC_IM2COL_TILE_FLOATS
#define MC_IM2COL_TILE_FLOATS                                                                                          \
    (8 << 20) /* im2col tile cap (K * nt): 32 MB per thread. Wide tiles matter:                                        \
               * each single-threaded sgemm call re-packs the whole weight */
#endif

/* dst[r][0..nt) for rows r of channel c (k*k rows), pixels p0.. of sample plane xc [h, w] scaled by s. */
PCAVS_SIMD_CLONES static void mc_im2col_channel_body(const float *xc, float s, int h, int w, int k, long p0, int nt,
                                                     float *dst, int ldd) {
    const int pad = k / 2;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            float *o = dst + (size_t)(i * k + j) * ldd;
            const int dy = i - pad, dx = j - pad;
            long p = p0;
            const long pend = p0 + nt;
            while (p < pend) {
                const int yy = (int)(p / w), x0 = (int)(p % w);
                const int run = (int)(pend - p < (long)(w - x0) ? pend - p : (long)(w - x0));
                float *oo = o + (p - p0);
                const int iy = yy + dy;
                if (iy < 0 || iy >= h) {
                    memset(oo, 0, (size_t)run * sizeof(float));
                } else {
                    const float *xr = xc + (size_t)iy * w + dx; /* xr[x] = x[iy][x + dx] */
                    int lo = 0, hi = run;
                    while (lo < run && x0 + lo + dx < 0) oo[lo++] = 0.0f;
                    while (hi > lo && x0 + hi - 1 + dx >= w) oo[--hi] = 0.0f;
                    for (int t = lo; t < hi; t++) oo[t] = xr[x0 + t] * s;
                }
                p += run;
            }
        }
}
PCAVS_SIMD_DISPATCH(static, mc_im2col_channel,
                    (const float *xc, float s, int h, int w, int k, long p0, int nt, float *dst, int ldd),
                    (xc, s, h, w, k, p0, nt, dst, ldd))

/* Tile width for the im2col path, or 0 when it does not apply / does not fit the scratch. */
static long mc_im2col_nt(const pcavs_modconv_desc *d, int nt_threads, size_t avail_bytes) {
    if (d->upsample || d->k == 1) return 0;
    const long hw = (long)d->h * d->w, K = (long)d->c_in * d->k * d->k;
    long cap = MC_IM2COL_TILE_FLOATS / K;
    if (cap > MC_IM2COL_MAX_NT) cap = MC_IM2COL_MAX_NT;
    long tpi = (hw + cap - 1) / cap; /* tiles per image */
    /* enough tiles for every thread, and a multiple of the thread count (no straggler) */
    if ((long)d->n * tpi < 2L * nt_threads) tpi = (2L * nt_threads + d->n - 1) / d->n;
    while (((long)d->n * tpi) % nt_threads) tpi++;
    long nt = (hw + tpi - 1) / tpi;
    nt = (nt + 15) & ~15L;
    if (nt > hw) nt = hw;
    if (nt < MC_IM2COL_MIN_NT && nt < hw) return 0;
    if (nt < MC_IM2COL_MIN_NT && (long)d->n < 2L * nt_threads) return 0;
    /* per thread: the tile [K, nt] (64-byte aligned slices) */
    if ((size_t)nt_threads * PCAVS_ALIGN64((size_t)K * nt * sizeof(float)) > avail_bytes) return 0;
    return nt;
}

static void mc_run_im2col(const pcavs_modconv_desc *d, int nth, long ntile, const float *x, const float *weight,
                          const float *style, const float *demod, char *scratch, float *y) {
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k;
    const long hw = (long)h * w, K = (long)ci_n * kk;
    const long tpi = (hw + ntile - 1) / ntile, tasks = (long)n * tpi;
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));
    const size_t slice = PCAVS_ALIGN64((size_t)K * ntile * sizeof(float));
    const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nth)
    {
        float *col = (float *)(scratch + (size_t)omp_get_thread_num() * slice); /* [K, nt] */
#pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < tasks; task++) {
            const int b = (int)(task / tpi);
            const long p0 = (task % tpi) * ntile;
            const int cur = (int)(hw - p0 < ntile ? hw - p0 : ntile);
            for (int c = 0; c < ci_n; c++)
                mc_im2col_channel(x + ((size_t)b * ci_n + c) * hw, style[(size_t)b * ci_n + c] * scale, h, w, k, p0,
                                  cur, col + (size_t)c * kk * cur, cur);
            float *yt = y + (size_t)b * co_n * hw + p0; /* [c_out, cur] with row stride hw */
            pcavs_sgemm_nn(co_n, cur, (int)K, weight, (int)K, col, cur, yt, (int)hw);
            if (d->demodulate)
                for (int o = 0; o < co_n; o++) {
                    const float dm = demod[(size_t)b * co_n + o];
                    float *yr = yt + (size_t)o * hw;
                    for (int t = 0; t < cur; t++) yr[t] *= dm;
                }
        }
    }
    pcavs_blas_threads_restore(blas_threads);
}

int pcavs_mc_path_im2col(const pcavs_mc_call *cl, int *tail_done) {
    (void)tail_done;
    const long ntile = mc_im2col_nt(cl->d, cl->nt, cl->avail);
    if (ntile <= 0) return 0;
    mc_run_im2col(cl->d, cl->nt, ntile, cl->x, cl->weight, cl->style, cl->demod, cl->sp, cl->y);
    return 1;
}
