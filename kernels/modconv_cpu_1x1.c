/* modconv_cpu_1x1.c: the 1x1 modulated convolution's paths: ToRGB (few outputs) streams x once with per-sample
 * weights, no copy, no GEMM; wider 1x1 layers run one sgemm per sample over the style-scaled input. */
#include <math.h>
#include <string.h>

#include "kernel_util.h"
#include <cblas.h>

#include "modconv_cpu_internal.h"

#define MC_SMALL_COUT 16 /* k = 1 with at most this many outputs (ToRGB: 3) takes the direct path */
#define MC_PCHUNK 1024   /* pixels per work item of the direct path (smaller items: too many short strided streams) */

int pcavs_mc_path_torgb(const pcavs_mc_call *cl, int *tail_done) {
    const pcavs_modconv_desc *d = cl->d;
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, nt = cl->nt;
    const size_t hw = (size_t)d->h * d->w;
    const float *x = cl->x, *weight = cl->weight, *style = cl->style, *demod = cl->demod;
    float *y = cl->y;
    (void)tail_done;
    if (!(d->k == 1 && co_n <= MC_SMALL_COUT)) return 0; /* ToRGB: stream x once, no copy, no GEMM */
    {
        const long chunks = (long)((hw + MC_PCHUNK - 1) / MC_PCHUNK);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (long r = 0; r < (long)n * chunks; r++) {
            const int b = (int)(r / chunks);
            const size_t p0 = (size_t)(r % chunks) * MC_PCHUNK, np = hw - p0 < MC_PCHUNK ? hw - p0 : MC_PCHUNK;
            float acc[MC_SMALL_COUT][MC_PCHUNK];
            for (int o = 0; o < co_n; o++) memset(acc[o], 0, np * sizeof(float));
            const float sc = (float)(1.0 / sqrt((double)ci_n));
            for (int c = 0; c < ci_n; c++) {
                const float s = style[(size_t)b * ci_n + c] * sc;
                const float *xr = x + ((size_t)b * ci_n + c) * hw + p0;
                if (c + 2 < ci_n) /* the chunk of the channel after next: 128 short streams defeat the prefetchers */
                    for (size_t p = 0; p < np; p += 16) __builtin_prefetch(xr + 2 * hw + p);
                for (int o = 0; o < co_n; o++) {
                    const float wv = weight[(size_t)o * ci_n + c] * s;
                    float *a = acc[o];
                    for (size_t p = 0; p < np; p++) a[p] += wv * xr[p];
                }
            }
            for (int o = 0; o < co_n; o++) {
                const float dm = demod[(size_t)b * co_n + o];
                float *yo = y + ((size_t)b * co_n + o) * hw + p0;
                for (size_t p = 0; p < np; p++) yo[p] = acc[o][p] * dm;
            }
        }
    }
    return 1;
}

int pcavs_mc_path_1x1(const pcavs_mc_call *cl, int *tail_done) {
    const pcavs_modconv_desc *d = cl->d;
    if (d->k != 1) return 0;
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, nt = cl->nt;
    const size_t hw = (size_t)d->h * d->w, avail = cl->avail;
    const float *x = cl->x, *weight = cl->weight, *style = cl->style, *demod = cl->demod;
    const mc_plan pl = cl->pl;
    float *y = cl->y;
    *tail_done = d->upsample;
    /* tile: nb samples */
    int nb = n;
    while (nb > 1 && (size_t)nb * pl.per_xs > avail) nb = (nb + 1) / 2;
    float *xs = (float *)cl->sp; /* [nb, c_in, hw] */
    const float scale = (float)(1.0 / sqrt((double)ci_n));
    for (int b0 = 0; b0 < n; b0 += nb) {
        const int cb = n - b0 < nb ? n - b0 : nb;
        /* xs = x * style * scale */
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
        for (int b = 0; b < cb; b++)
            for (int c = 0; c < ci_n; c++) {
                const float s = style[(size_t)(b0 + b) * ci_n + c] * scale;
                const float *src = x + ((size_t)(b0 + b) * ci_n + c) * hw;
                float *dst = xs + ((size_t)b * ci_n + c) * hw;
                for (size_t p = 0; p < hw; p++) dst[p] = src[p] * s;
            }
        /* columns split over our threads, single-threaded sgemm each (no OpenBLAS pthreads) */
        const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nt)
        {
            const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
            const size_t p0 = hw * tid / nthr / 16 * 16, p1 = tid == nthr - 1 ? hw : hw * (tid + 1) / nthr / 16 * 16;
            if (p1 > p0)
                for (int b = 0; b < cb; b++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co_n, (int)(p1 - p0), ci_n, 1.0f, weight,
                                ci_n, xs + (size_t)b * ci_n * hw + p0, (int)hw, 0.0f,
                                y + (size_t)(b0 + b) * co_n * hw + p0, (int)hw);
        }
        pcavs_blas_threads_restore(blas_threads);
        if (d->demodulate) {
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
            for (int b = 0; b < cb; b++)
                for (int o = 0; o < co_n; o++) {
                    const float dm = demod[(size_t)(b0 + b) * co_n + o];
                    float *yo = y + ((size_t)(b0 + b) * co_n + o) * hw;
                    for (size_t p = 0; p < hw; p++) yo[p] *= dm;
                }
        }
    }
    return 1;
}
