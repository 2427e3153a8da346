/* conv2d_cpu.c: production CPU 2-D convolution (PyTorch F.conv2d semantics, see conv2d.h).
 * Paths, chosen per call:
 *  - 1x1, stride 1, no padding: cblas_sgemm straight on the input (no copy), per image;
 *  - small reductions per output (groups > 1 with few input channels per group, 1-channel input,
 *    i.e. cin/groups * kh * kw < PCAVS_CONV_DIRECT_K): a direct kernel, OpenMP over output planes;
 *  - everything else: tiled im2col into kc->scratch (columns = output pixels of one or several
 *    images; a tile holds K x NT floats, NT bounded by the scratch size, never the whole image)
 *    + cblas_sgemm, with bias + ReLU fused into the pass that finalises each tile.
 * Threads: OpenMP (kc->n_threads) for the im2col / direct / epilogue loops and OpenBLAS's own
 * threads for the sgemm, which is called from serial code (Debian's pthread OpenBLAS serialises
 * sgemm calls issued from inside parallel regions). */
#include <string.h>

#include <cblas.h>

#include "conv2d.h"

#define PCAVS_CONV_DIRECT_K 64 /* below this many MACs per output, the direct kernel wins */
#define PCAVS_CONV_NT_MAX 2048 /* columns per GEMM tile: beyond this sgemm gains nothing */

/* Fills col[k][jj] (k = ((ci * kh + ky) * kw + kx) over the cig channels of group g, jj in
 * [0, nt)) for output columns j0 .. j0+nt-1 of the flattened [n, oh*ow] pixel space. */
static void im2col_tile(const pcavs_conv2d_desc *d, const float *x, int g, long j0, int nt, int oh, int ow,
                        float *col, int n_threads) { /* col [cig*kh*kw, nt] */
    const int cig = d->c_in / d->groups, kk = d->kh * d->kw;
    const int K = cig * kk;
    const long P = (long)oh * ow;
#pragma omp parallel for num_threads(n_threads) schedule(static) if (n_threads > 1 && (long)K * nt > 32768)
    for (int k = 0; k < K; k++) {
        const int ci = k / kk, ky = (k % kk) / d->kw, kx = k % d->kw;
        float *dst = col + (size_t)k * nt;
        long j = j0;
        const long jend = j0 + nt;
        while (j < jend) {
            const long b = j / P, p = j % P;
            const int oy = (int)(p / ow), ox0 = (int)(p % ow);
            const int run = (int)((jend - j) < (long)(ow - ox0) ? (jend - j) : (ow - ox0));
            const int iy = oy * d->stride_h - d->pad_h + ky;
            float *o = dst + (j - j0);
            if (iy < 0 || iy >= d->h) {
                memset(o, 0, (size_t)run * sizeof(float));
            } else {
                const float *xr = x + (((size_t)b * d->c_in + (size_t)g * cig + ci) * d->h + iy) * d->w;
                const int sw = d->stride_w, off = kx - d->pad_w;
                if (sw == 1) {
                    for (int t = 0; t < run; t++) {
                        const int ix = ox0 + t + off;
                        o[t] = (ix >= 0 && ix < d->w) ? xr[ix] : 0.0f;
                    }
                } else {
                    for (int t = 0; t < run; t++) {
                        const int ix = (ox0 + t) * sw + off;
                        o[t] = (ix >= 0 && ix < d->w) ? xr[ix] : 0.0f;
                    }
                }
            }
            j += run;
        }
    }
}

/* y rows [rows][len] with row stride ldy: y = act(y + bias[row]). */
static void epilogue_inplace(float *y, int rows, long len, long ldy, const float *bias, pcavs_act act,
                             int n_threads) {
    if (!bias && act == PCAVS_ACT_NONE) return;
#pragma omp parallel for num_threads(n_threads) schedule(static) if (n_threads > 1 && rows * len > 32768)
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

/* Direct kernel: one output plane per task, accumulated row by row in y. */
static void conv_direct(const pcavs_conv2d_desc *d, const float *x, const float *w, const float *bias, float *y,
                        int oh, int ow, int n_threads) {
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

pcavs_status pcavs_conv2d_cpu(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, /* [n,c_in,h,w] */
                              const float *w,    /* [c_out, c_in/groups, kh, kw] */
                              const float *bias, /* [c_out] or NULL */
                              float *y) {        /* [n, c_out, oh, ow] */
    PCAVS_TRY(pcavs_conv2d_check(d));
    if (!kc || !x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d_cpu: NULL context or operand");
    const int nt_threads = kc->n_threads > 0 ? kc->n_threads : 1;
    const int oh = pcavs_conv2d_out_h(d), ow = pcavs_conv2d_out_w(d);
    const long P = (long)oh * ow;
    const int G = d->groups, cig = d->c_in / G, cog = d->c_out / G;
    const int K = cig * d->kh * d->kw;

    if (K < PCAVS_CONV_DIRECT_K) {
        conv_direct(d, x, w, bias, y, oh, ow, nt_threads);
        return PCAVS_OK;
    }
    if (d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0) {
        for (int b = 0; b < d->n; b++)
            for (int g = 0; g < G; g++) {
                const float *xb = x + ((size_t)b * d->c_in + (size_t)g * cig) * P;
                float *yb = y + ((size_t)b * d->c_out + (size_t)g * cog) * P;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, (int)P, cig, 1.0f, w + (size_t)g * cog * cig,
                            cig, xb, (int)P, 0.0f, yb, (int)P);
                epilogue_inplace(yb, cog, P, P, bias ? bias + (size_t)g * cog : NULL, d->act, nt_threads);
            }
        return PCAVS_OK;
    }

    /* im2col tiles. Per-image mode (tiles inside one image, GEMM writes y directly) when an image
     * has enough pixels for an efficient GEMM; otherwise tiles of whole images with the GEMM
     * result staged in scratch and scattered to y by the epilogue. */
    const size_t avail = kc->scratch_bytes / sizeof(float);
    const long total = (long)d->n * P;
    int per_image = P >= 512 || d->n == 1;
    long nt = 0;
    if (!per_image) {
        long ipt = (long)(avail / ((size_t)(K + cog) * (size_t)P)); /* whole images per tile */
        if (ipt * P > PCAVS_CONV_NT_MAX) ipt = PCAVS_CONV_NT_MAX / P > 0 ? PCAVS_CONV_NT_MAX / P : 1;
        if (ipt > d->n) ipt = d->n;
        nt = ipt * P;
        if (ipt < 1 || (size_t)nt * (size_t)(K + cog) > avail) per_image = 1; /* one image does not fit */
    }
    if (per_image) {
        nt = (long)(avail / (size_t)K);
        if (nt > P) nt = P;
        if (nt > PCAVS_CONV_NT_MAX) nt = PCAVS_CONV_NT_MAX;
        if (nt >= 64 && nt < P) nt &= ~15L; /* whole SIMD panels */
    }
    if (nt < 1 || !kc->scratch)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "conv2d_cpu: scratch of %zu bytes cannot hold one im2col column of %d floats (c_in=%d k=%dx%d)",
                          kc->scratch_bytes, K, d->c_in, d->kh, d->kw);
    float *col = (float *)kc->scratch;            /* [K, nt] */
    float *tile = col + (size_t)K * (size_t)nt; /* [cog, nt] (multi-image mode) */

    for (int g = 0; g < G; g++) {
        const float *wg = w + (size_t)g * cog * K; /* [cog, K] */
        const float *bg = bias ? bias + (size_t)g * cog : NULL;
        if (per_image) {
            for (int b = 0; b < d->n; b++)
                for (long p0 = 0; p0 < P; p0 += nt) {
                    const int cur = (int)(P - p0 < nt ? P - p0 : nt);
                    im2col_tile(d, x, g, (long)b * P + p0, cur, oh, ow, col, nt_threads);
                    float *yt = y + ((size_t)b * d->c_out + (size_t)g * cog) * P + p0;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, cur, K, 1.0f, wg, K, col, cur, 0.0f, yt,
                                (int)P);
                    epilogue_inplace(yt, cog, cur, P, bg, d->act, nt_threads);
                }
        } else {
            for (long j0 = 0; j0 < total; j0 += nt) {
                const int cur = (int)(total - j0 < nt ? total - j0 : nt); /* whole images */
                im2col_tile(d, x, g, j0, cur, oh, ow, col, nt_threads);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, cur, K, 1.0f, wg, K, col, cur, 0.0f, tile,
                            cur);
                const int nimg = (int)(cur / P), b0 = (int)(j0 / P);
#pragma omp parallel for num_threads(nt_threads) schedule(static) if (nt_threads > 1 && (long)cog * cur > 32768)
                for (int r = 0; r < cog; r++) {
                    const float bv = bg ? bg[r] : 0.0f;
                    for (int i = 0; i < nimg; i++) {
                        const float *src = tile + (size_t)r * cur + (size_t)i * P;
                        float *dst = y + ((size_t)(b0 + i) * d->c_out + (size_t)g * cog + r) * P;
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
        }
    }
    return PCAVS_OK;
}
