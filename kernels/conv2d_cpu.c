/* conv2d_cpu.c: production CPU 2-D convolution (PyTorch F.conv2d semantics, see conv2d.h).
 * Paths, chosen per call:
 *  - 1x1, stride 1, no padding: cblas_sgemm straight on the input (no copy), per image;
 *  - small reductions per output (groups > 1 with few input channels per group, 1-channel input,
 *    i.e. cin/groups * kh * kw < PCAVS_CONV_DIRECT_K): a direct kernel, OpenMP over output planes;
 *  - bf16 mode (d->weight_bf16 given, a bf16 unit present), 3x3, stride 1, pad 1, one group: conv3x3_bf16.h;
 *  - 3x3, stride 1, pad 1, one group, enough tiles and channels: Winograd F(4x4, 3x3) (winograd.h);
 *  - everything else: tiled im2col into kc->scratch (columns = output pixels of one or several
 *    images; a tile holds K x NT floats, NT bounded by the scratch size, never the whole image)
 *    + cblas_sgemm, with bias + ReLU fused into the pass that finalises each tile.
 * Threads: one OpenMP region per call (kc->n_threads; one thread below ~2 MFLOP) with
 * single-threaded sgemm inside it: either all threads fill one im2col tile and each multiplies
 * its slice of output channels ("shared", many output channels), or threads take independent
 * (image, group, column tile) tasks with private scratch slices ("private": grouped convs, few
 * channels, batches). OpenBLAS's own threads are set to 1 for the call and restored after
 * (Debian's pthread OpenBLAS plus OpenMP workers would oversubscribe the cores). */
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "conv2d.h"
#include "conv3x3_bf16.h"
#include "gemm_bf16.h"
#include "weight_forms.h"
#include "winograd.h"

#define PCAVS_CONV_DIRECT_K 64 /* below this many MACs per output, the direct kernel wins */
#define PCAVS_CONV_NT_MAX 2048 /* columns per GEMM tile: beyond this sgemm gains nothing */
#ifndef PCAVS_CONV_SERIAL_FLOPS
#define PCAVS_CONV_SERIAL_FLOPS 1e7 /* below this, one thread: fewer barriers to wait on */
#endif
#ifndef PCAVS_CONV_SHARED_M
#define PCAVS_CONV_SHARED_M                                                                                            \
    128 /* shared-tile mode needs this many output channels per thread (fewer: private mode is faster) */
#endif

/* Fills row k (k = (ci * kh + ky) * kw + kx over the cig channels of group g) of an im2col
 * tile: dst[jj] for output columns j0 .. j0+nt-1 of the flattened [n, oh*ow] pixel space.
 * One division at the start, then output rows are walked incrementally; the valid column range
 * [vlo, vhi) of a row depends only on kx, so short rows (A_sync's 20/10/5-wide maps, E's low
 * hourglass levels) cost a few compares each instead of divisions and a memcpy call. */
static void im2col_row(const pcavs_conv2d_desc *d, const float *x, int g, int k, long j0, int nt, int oh, int ow,
                       float *dst) { /* [nt] */
    const int cig = d->c_in / d->groups, kk = d->kh * d->kw;
    const long P = (long)oh * ow;
    const int ci = k / kk, ky = (k % kk) / d->kw, kx = k % d->kw;
    const int sw = d->stride_w, off = kx - d->pad_w;
    /* valid output columns: 0 <= ox * sw + off < w */
    int vlo = off < 0 ? (-off + sw - 1) / sw : 0;
    int vhi = d->w - 1 - off >= 0 ? (d->w - 1 - off) / sw + 1 : 0;
    if (vhi > ow) vhi = ow;
    if (vlo > vhi) vlo = vhi;
    const size_t plane = (size_t)d->h * d->w, bstride = (size_t)d->c_in * plane;
    long b = j0 / P;
    const long p0 = j0 % P;
    int oy = (int)(p0 / ow), ox0 = (int)(p0 % ow);
    const float *xc = x + ((size_t)b * d->c_in + (size_t)g * cig + ci) * plane; /* [h, w] */
    long j = j0;
    const long jend = j0 + nt;
    while (j < jend) {
        const int run = (int)(jend - j < (long)(ow - ox0) ? jend - j : (long)(ow - ox0));
        float *o = dst + (j - j0);
        const int iy = oy * d->stride_h - d->pad_h + ky;
        if (iy < 0 || iy >= d->h) {
            for (int t = 0; t < run; t++) o[t] = 0.0f;
        } else {
            const float *xr = xc + (size_t)iy * d->w; /* column ox reads xr[ox * sw + off] */
            int lo = vlo - ox0, hi = vhi - ox0;
            lo = lo < 0 ? 0 : lo > run ? run : lo;
            hi = hi < lo ? lo : hi > run ? run : hi;
            for (int t = 0; t < lo; t++) o[t] = 0.0f;
            if (sw == 1) {
                const int base = ox0 + off; /* >= -lo: every read below is inside the row */
                for (int t = lo; t < hi; t++) o[t] = xr[base + t];
            } else {
                for (int t = lo; t < hi; t++) o[t] = xr[(size_t)(ox0 + t) * sw + off];
            }
            for (int t = hi; t < run; t++) o[t] = 0.0f;
        }
        j += run;
        ox0 = 0;
        if (++oy == oh) {
            oy = 0;
            xc += bstride;
        }
    }
}

/* y rows [rows][len] with row stride ldy: y = act(y + bias[row]) (bias may be NULL). */
static void epilogue_rows(float *y, int rows, long len, long ldy, const float *bias, pcavs_act act) {
    if (!bias && act == PCAVS_ACT_NONE) return;
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * ldy;
        const float bv = bias ? bias[r] : 0.0f;
        if (act == PCAVS_ACT_RELU) {
            for (long t = 0; t < len; t++) {
                const float v = yr[t] + bv;
                yr[t] = v < 0.0f ? 0.0f : v;
            }
        } else {
            for (long t = 0; t < len; t++) yr[t] += bv;
        }
    }
}

/* Copies tile rows [rows][nimg*P] (GEMM output of whole images b0..) to y channels c0.., with bias and act. */
static void scatter_rows(const pcavs_conv2d_desc *d, const float *tile, int rows, int cur, long P, int b0, int c0,
                         const float *bias, float *y) {
    const int nimg = (int)(cur / P);
    for (int r = 0; r < rows; r++) {
        const float bv = bias ? bias[r] : 0.0f;
        for (int i = 0; i < nimg; i++) {
            const float *src = tile + (size_t)r * cur + (size_t)i * P;
            float *dst = y + ((size_t)(b0 + i) * d->c_out + (size_t)c0 + r) * P;
            if (d->act == PCAVS_ACT_RELU) {
                for (long t = 0; t < P; t++) {
                    const float v = src[t] + bv;
                    dst[t] = v < 0.0f ? 0.0f : v;
                }
            } else {
                for (long t = 0; t < P; t++) dst[t] = src[t] + bv;
            }
        }
    }
}

/* Direct kernel: one output plane per task, accumulated row by row in y. */
static void conv_direct(const pcavs_conv2d_desc *d, const float *x, const float *w, const float *bias, float *y, int oh,
                        int ow, int n_threads) {
    const int cig = d->c_in / d->groups, cog = d->c_out / d->groups, kk = d->kh * d->kw;
    const long planes = (long)d->n * d->c_out;
#pragma omp parallel for num_threads(n_threads) schedule(static) if (n_threads > 1 && planes > 1)
    for (long pl = 0; pl < planes; pl++) {
        const int b = (int)(pl / d->c_out), co = (int)(pl % d->c_out), g = co / cog;
        float *yo = y + (size_t)pl * oh * ow;
        const float *wo = w + (size_t)co * cig * kk;
        const float bv = bias ? bias[co] : 0.0f;
        const int sw = d->stride_w;
        /* valid ox range for each kx: 0 <= ox*sw - pad_w + kx < w */
        for (int oy = 0; oy < oh; oy++) {
            float *yr = yo + (size_t)oy * ow;
            for (int ox = 0; ox < ow; ox++) yr[ox] = bv;
            for (int ci = 0; ci < cig; ci++) {
                const float *xc = x + ((size_t)b * d->c_in + (size_t)g * cig + ci) * d->h * d->w;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int iy = oy * d->stride_h - d->pad_h + ky;
                    if (iy < 0 || iy >= d->h) continue;
                    const float *xr = xc + (size_t)iy * d->w;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const float wv = wo[(ci * d->kh + ky) * d->kw + kx];
                        const int off = kx - d->pad_w;
                        int lo = off < 0 ? (-off + sw - 1) / sw : 0;
                        int hi = (d->w - 1 - off) >= 0 ? (d->w - 1 - off) / sw + 1 : 0; /* exclusive */
                        if (hi > ow) hi = ow;
                        if (sw == 1) {
                            const float *xs = xr + off;
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xs[ox];
                        } else {
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox * sw + off];
                        }
                    }
                }
            }
            if (d->act == PCAVS_ACT_RELU)
                for (int ox = 0; ox < ow; ox++) yr[ox] = yr[ox] < 0.0f ? 0.0f : yr[ox];
        }
    }
}

/* 3x3, stride 1, pad 1, one group, enough tiles and channels: Winograd F(4x4, 3x3) (winograd.h), the
 * weight transformed per call into the scratch (4x its bytes: E's largest, 256 -> 256, becomes 9.4 MB)
 * and bias + ReLU fused into the output transform. Returns 0 (not taken) or 1 (done). */
#ifndef PCAVS_CONV_WINO_MIN_TILES
#define PCAVS_CONV_WINO_MIN_TILES 48 /* n * ceil(h/4) * ceil(w/4) */
#endif
#ifndef PCAVS_CONV_WINO_MIN_C
#define PCAVS_CONV_WINO_MIN_C 32 /* fewer input or output channels: GEMMs too thin for the transforms to pay */
#endif
static int conv_try_wino(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, const float *w,
                         const float *bias, float *y, int nth) {
    if (d->kh != 3 || d->kw != 3 || d->stride_h != 1 || d->stride_w != 1 || d->pad_h != 1 || d->pad_w != 1 ||
        d->groups != 1 || d->c_in < PCAVS_CONV_WINO_MIN_C || d->c_out < PCAVS_CONV_WINO_MIN_C)
        return 0;
    if ((size_t)d->n * ((d->h + 3) / 4) * ((d->w + 3) / 4) < PCAVS_CONV_WINO_MIN_TILES) return 0;
    const size_t u_bytes = ((size_t)PCAVS_WINO_POINTS * d->c_out * d->c_in * sizeof(float) + 63) / 64 * 64;
    pcavs_wino_conv a = {.n = d->n,
                         .c_in = d->c_in,
                         .h = d->h,
                         .w = d->w,
                         .c_out = d->c_out,
                         .x = x,
                         .bias = bias,
                         .relu = d->act == PCAVS_ACT_RELU,
                         .y = y};
    if (!kc->scratch || kc->scratch_bytes < u_bytes + pcavs_wino_min_scratch_bytes(&a, nth)) return 0;
    float *u = (float *)kc->scratch; /* [36, c_out, c_in] */
    pcavs_wino_weight(d->c_out, d->c_in, w, 1.0f, u, nth);
    a.u = u;
    pcavs_kctx sub = *kc;
    sub.n_threads = nth;
    sub.scratch = (char *)kc->scratch + u_bytes;
    sub.scratch_bytes = kc->scratch_bytes - u_bytes;
    return pcavs_wino_run(&sub, &a) == PCAVS_OK;
}

int pcavs_conv2d_cpu_prefers_bf16(int c_in, int c_out) {
    switch (pcavs_bf16_unit_detect()) {
    case PCAVS_BF16_AMX:
        return 1;
    case PCAVS_BF16_AVX512:
        return c_in < PCAVS_CONV_WINO_MIN_C || c_out < PCAVS_CONV_WINO_MIN_C;
    default:
        return 0;
    }
}

pcavs_status pcavs_conv2d_cpu(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, /* [n,c_in,h,w] */
                              const float *w,    /* [c_out, c_in/groups, kh, kw] */
                              const float *bias, /* [c_out] or NULL */
                              float *y) {        /* [n, c_out, oh, ow] */
    PCAVS_TRY(pcavs_conv2d_check(d));
    if (!kc || !x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d_cpu: NULL context or operand");
    const int oh = pcavs_conv2d_out_h(d), ow = pcavs_conv2d_out_w(d);
    const long P = (long)oh * ow;
    const int G = d->groups, cig = d->c_in / G, cog = d->c_out / G;
    const int K = cig * d->kh * d->kw;
    const double flops = 2.0 * d->n * d->c_out * (double)P * K;
    int nth = kc->n_threads > 0 ? kc->n_threads : 1;
    if (flops < PCAVS_CONV_SERIAL_FLOPS) nth = 1; /* a parallel region costs more than it saves */

    const uint16_t *w_bf16 = d->prepared ? ((const pcavs_cpu_weight_forms *)d->prepared)->bf16 : d->weight_bf16;
    if (w_bf16 && d->kh == 3 && d->kw == 3 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 1 && d->pad_w == 1 &&
        G == 1) { /* the bf16 mode; float32 below where it cannot run */
        pcavs_conv3x3_bf16 a = {.n = d->n,
                                .c_in = d->c_in,
                                .h = d->h,
                                .w = d->w,
                                .c_out = d->c_out,
                                .x = x,
                                .a = w_bf16,
                                .bias = bias,
                                .act = d->act,
                                .y = y};
        pcavs_kctx sub = *kc;
        sub.n_threads = nth;
        if (pcavs_bf16_unit_detect() != PCAVS_BF16_NONE && kc->scratch &&
            pcavs_conv3x3_bf16_scratch_bytes(&a, nth) <= kc->scratch_bytes &&
            pcavs_conv3x3_bf16_run(&sub, &a) == PCAVS_OK)
            return PCAVS_OK;
    }
    if (K < PCAVS_CONV_DIRECT_K) {
        conv_direct(d, x, w, bias, y, oh, ow, nth);
        return PCAVS_OK;
    }
    if (conv_try_wino(kc, d, x, w, bias, y, nth)) return PCAVS_OK;
    const int is_1x1 =
        d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0;
    /* Shared mode: all threads fill one im2col tile, then each multiplies its slice of the output
     * channels. Private mode: independent tasks (image, group, column tile), each thread with its
     * own slice of scratch. Shared needs enough output channels per thread. */
    const int shared = nth > 1 && cog >= PCAVS_CONV_SHARED_M * nth;
    const size_t avail_all = kc->scratch ? kc->scratch_bytes / sizeof(float) : 0;
    const size_t avail = shared ? avail_all : (avail_all / (size_t)nth) & ~(size_t)15; /* per tile buffer set */
    /* Per-image tiles (GEMM writes y directly) when an image has enough pixels for an efficient
     * GEMM, else tiles of whole images staged in scratch (small maps at batch > 1). */
    const long total = (long)d->n * P;
    int per_image = P >= 512 || d->n == 1;
    long nt = 0;
    if (!per_image) {
        long ipt = (long)(avail / ((size_t)(K + cog) * (size_t)P)); /* whole images per tile */
        if (ipt * P > PCAVS_CONV_NT_MAX) ipt = PCAVS_CONV_NT_MAX / P > 0 ? PCAVS_CONV_NT_MAX / P : 1;
        if (ipt > d->n) ipt = d->n;
        if (!shared && ipt > 1 && (long)G * ((d->n + ipt - 1) / ipt) < 2 * nth) /* leave work for every thread */
            ipt = (d->n * G + 2 * nth - 1) / (2 * nth) > 0 ? (d->n * G + 2 * nth - 1) / (2 * nth) : 1;
        nt = ipt * P;
        if (ipt < 1 || (size_t)nt * (size_t)(K + cog) > avail) per_image = 1; /* one image does not fit */
    }
    if (per_image) {
        nt = is_1x1 ? P : (long)(avail / (size_t)K);
        if (nt > P) nt = P;
        if (nt > PCAVS_CONV_NT_MAX) nt = PCAVS_CONV_NT_MAX;
        if (!shared && nth > 1) { /* enough tasks to balance the threads */
            const long want_tiles = (4L * nth + (long)d->n * G - 1) / ((long)d->n * G);
            const long cap = (P + want_tiles - 1) / want_tiles;
            if (cap < nt) nt = cap;
        }
        if (nt >= 64 && nt < P) nt = (nt + 15) & ~15L; /* whole SIMD panels */
        if (!is_1x1 && (size_t)nt * (size_t)K > avail) nt = (long)(avail / (size_t)K);
    }
    if (nt < 1 || (!is_1x1 && !kc->scratch))
        return pcavs_fail(PCAVS_ERR_OOM,
                          "conv2d_cpu: scratch of %zu bytes cannot hold one im2col column of %d floats per thread "
                          "(c_in=%d k=%dx%d, %d threads)",
                          kc->scratch_bytes, K, d->c_in, d->kh, d->kw, nth);
    const long tiles_per_image = per_image ? (P + nt - 1) / nt : 0;
    const long n_tiles = per_image ? (long)d->n * tiles_per_image : (total + nt - 1) / nt;
    const long n_tasks = (long)G * n_tiles;

    /* Single-threaded sgemm inside our OpenMP region (Debian's OpenBLAS is the pthread build: its
     * own threads would oversubscribe the cores); restored on exit. */
    const int blas_threads = pcavs_blas_single_threaded();

#pragma omp parallel num_threads(nth)
    {
        const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
        float *col = (float *)kc->scratch + (shared ? 0 : (size_t)tid * avail); /* [K, nt] */
        float *tile = col + (size_t)K * nt;                                     /* [cog, nt] */
        /* shared mode: this thread's output-channel slice */
        int m_per = (cog + nthr - 1) / nthr;
        m_per = (m_per + 15) & ~15;
        const int m0 = shared ? (tid * m_per < cog ? tid * m_per : cog) : 0;
        const int m1 = shared ? (m0 + m_per < cog ? m0 + m_per : cog) : cog;
        if (shared) {
            for (long task = 0; task < n_tasks; task++) {
                const int g = (int)(task / n_tiles);
                const long tl = task % n_tiles;
                long j0;
                int cur, b = 0;
                if (per_image) {
                    b = (int)(tl / tiles_per_image);
                    const long p0 = (tl % tiles_per_image) * nt;
                    j0 = (long)b * P + p0;
                    cur = (int)(P - p0 < nt ? P - p0 : nt);
                } else {
                    j0 = tl * nt;
                    cur = (int)(total - j0 < nt ? total - j0 : nt);
                }
                const float *bmat = col;
                int ldb = cur;
                if (is_1x1 && per_image) {
                    bmat = x + ((size_t)b * d->c_in + (size_t)g * cig) * P + (j0 - (long)b * P);
                    ldb = (int)P;
                } else {
#pragma omp for schedule(static)
                    for (int k = 0; k < K; k++) im2col_row(d, x, g, k, j0, cur, oh, ow, col + (size_t)k * cur);
                }
                if (m1 > m0) {
                    const float *wg = w + ((size_t)g * cog + m0) * K;
                    const float *bg = bias ? bias + (size_t)g * cog + m0 : NULL;
                    if (per_image) {
                        float *yt = y + ((size_t)b * d->c_out + (size_t)g * cog + m0) * P + (j0 - (long)b * P);
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1 - m0, cur, K, 1.0f, wg, K, bmat, ldb,
                                    0.0f, yt, (int)P);
                        epilogue_rows(yt, m1 - m0, cur, P, bg, d->act);
                    } else {
                        float *tt = tile + (size_t)m0 * cur;
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1 - m0, cur, K, 1.0f, wg, K, bmat, ldb,
                                    0.0f, tt, cur);
                        scatter_rows(d, tt, m1 - m0, cur, P, (int)(j0 / P), g * cog + m0, bg, y);
                    }
                }
#pragma omp barrier
            }
        } else {
#pragma omp for schedule(dynamic, 1)
            for (long task = 0; task < n_tasks; task++) {
                const int g = (int)(task / n_tiles);
                const long tl = task % n_tiles;
                const float *wg = w + (size_t)g * cog * K;
                const float *bg = bias ? bias + (size_t)g * cog : NULL;
                if (per_image) {
                    const int b = (int)(tl / tiles_per_image);
                    const long p0 = (tl % tiles_per_image) * nt;
                    const int cur = (int)(P - p0 < nt ? P - p0 : nt);
                    const float *bmat = col;
                    int ldb = cur;
                    if (is_1x1) {
                        bmat = x + ((size_t)b * d->c_in + (size_t)g * cig) * P + p0;
                        ldb = (int)P;
                    } else {
                        for (int k = 0; k < K; k++)
                            im2col_row(d, x, g, k, (long)b * P + p0, cur, oh, ow, col + (size_t)k * cur);
                    }
                    float *yt = y + ((size_t)b * d->c_out + (size_t)g * cog) * P + p0;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, cur, K, 1.0f, wg, K, bmat, ldb, 0.0f,
                                yt, (int)P);
                    epilogue_rows(yt, cog, cur, P, bg, d->act);
                } else {
                    const long j0 = tl * nt;
                    const int cur = (int)(total - j0 < nt ? total - j0 : nt); /* whole images */
                    for (int k = 0; k < K; k++) im2col_row(d, x, g, k, j0, cur, oh, ow, col + (size_t)k * cur);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, cur, K, 1.0f, wg, K, col, cur, 0.0f,
                                tile, cur);
                    scatter_rows(d, tile, cog, cur, P, (int)(j0 / P), g * cog, bg, y);
                }
            }
        }
    }
    pcavs_blas_threads_restore(blas_threads);
    return PCAVS_OK;
}
