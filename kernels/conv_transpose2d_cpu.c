/* conv_transpose2d_cpu.c: production CPU transposed convolution (F.conv_transpose2d, groups 1,
 * see conv_transpose2d.h), the generator's upsampling modulated conv (3x3, stride 2, pad 0).
 * GEMM + col2im: for a tile of input pixels (columns j of the flattened [n, h*w] space, one or
 * several images), pack x into xt [c_in, nt], compute cols [c_out*kh*kw, nt] = w^T . xt with
 * cblas_sgemm (w [c_in, c_out*kh*kw] read transposed), then scatter-add every column into y,
 * which was first filled with the bias. Tiles are bounded by kc->scratch. One OpenMP region per
 * call; each thread owns a range of output channels (its rows of cols, its output planes: no
 * races) and calls a single-threaded sgemm (same threading plan as conv2d_cpu.c). */
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "conv_transpose2d.h"

pcavs_status pcavs_conv_transpose2d_check(const pcavs_conv_transpose2d_desc *d); /* conv_transpose2d_ref.c */

#define PCAVS_CT_NT_MAX 2048

pcavs_status pcavs_conv_transpose2d_cpu(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d,
                                        const float *x,    /* [n, c_in, h, w] */
                                        const float *w,    /* [c_in, c_out, kh, kw] */
                                        const float *bias, /* [c_out] or NULL */
                                        float *y) {        /* [n, c_out, oh, ow] */
    PCAVS_TRY(pcavs_conv_transpose2d_check(d));
    if (!kc || !x || !w || !y)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d_cpu: NULL context or operand");
    const int nth = kc->n_threads > 0 ? kc->n_threads : 1;
    const int oh = pcavs_conv_transpose2d_out_h(d), ow = pcavs_conv_transpose2d_out_w(d);
    const int kk = d->kh * d->kw, M = d->c_out * kk, s = d->stride;
    const long P = (long)d->h * d->w, OP = (long)oh * ow, total = (long)d->n * P;

    const size_t avail = kc->scratch ? kc->scratch_bytes / sizeof(float) : 0;
    long nt = (long)(avail / (size_t)(d->c_in + M));
    if (nt > total) nt = total;
    if (nt > PCAVS_CT_NT_MAX) nt = PCAVS_CT_NT_MAX;
    if (nt < 1)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "conv_transpose2d_cpu: scratch of %zu bytes cannot hold one column of %d floats (c_in=%d, "
                          "c_out=%d, k=%dx%d)",
                          kc->scratch_bytes, d->c_in + M, d->c_in, d->c_out, d->kh, d->kw);
    float *xt = (float *)kc->scratch;        /* [c_in, nt] */
    float *cols = xt + (size_t)d->c_in * nt; /* [c_out*kh*kw, nt] */

    const long planes = (long)d->n * d->c_out;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && planes * OP > 32768)
    for (long pl = 0; pl < planes; pl++) {
        float *yo = y + (size_t)pl * OP;
        const float bv = bias ? bias[pl % d->c_out] : 0.0f;
        for (long t = 0; t < OP; t++) yo[t] = bv;
    }

    /* One OpenMP region; single-threaded sgemm inside it (OpenBLAS threads set to 1 for the call,
     * restored after). Each thread owns a range of output channels: it computes their rows of
     * cols and scatters them, so only the packing needs a barrier. */
    int nthr_use = nth;
    if (2.0 * d->n * P * (double)M * d->c_in < 2e6) nthr_use = 1;
    const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nthr_use)
    {
        const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
        const int co_per = (d->c_out + nthr - 1) / nthr;
        const int co0 = tid * co_per < d->c_out ? tid * co_per : d->c_out;
        const int co1 = co0 + co_per < d->c_out ? co0 + co_per : d->c_out;
        for (long j0 = 0; j0 < total; j0 += nt) {
            const int cur = (int)(total - j0 < nt ? total - j0 : nt);
            /* pack: xt[ci][jj] = x[b][ci][p] for j = j0 + jj = b*P + p */
#pragma omp for schedule(static)
            for (int ci = 0; ci < d->c_in; ci++) {
                long j = j0;
                while (j < j0 + cur) {
                    const long b = j / P, p = j % P;
                    const long run = (j0 + cur - j) < (P - p) ? (j0 + cur - j) : (P - p);
                    memcpy(xt + (size_t)ci * cur + (j - j0), x + ((size_t)b * d->c_in + ci) * P + p,
                           (size_t)run * sizeof(float));
                    j += run;
                }
            }
            if (co1 > co0) {
                /* cols rows [co0*kk, co1*kk) = w[:, co0*kk : co1*kk]^T . xt */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (co1 - co0) * kk, cur, d->c_in, 1.0f,
                            w + (size_t)co0 * kk, M, xt, cur, 0.0f, cols + (size_t)co0 * kk * cur, cur);
                for (int co = co0; co < co1; co++)
                    for (int ky = 0; ky < d->kh; ky++)
                        for (int kx = 0; kx < d->kw; kx++) {
                            const float *cr = cols + ((size_t)co * kk + (size_t)ky * d->kw + kx) * cur;
                            long j = j0;
                            while (j < j0 + cur) {
                                const long b = j / P, p = j % P;
                                const int iy = (int)(p / d->w), ix0 = (int)(p % d->w);
                                const int run = (int)((j0 + cur - j) < (d->w - ix0) ? (j0 + cur - j) : (d->w - ix0));
                                const int oy = iy * s + ky - d->pad;
                                if (oy >= 0 && oy < oh) {
                                    float *yr = y + (((size_t)b * d->c_out + co) * oh + oy) * ow;
                                    const float *src = cr + (j - j0);
                                    for (int t = 0; t < run; t++) {
                                        const int ox = (ix0 + t) * s + kx - d->pad;
                                        if (ox >= 0 && ox < ow) yr[ox] += src[t];
                                    }
                                }
                                j += run;
                            }
                        }
            }
#pragma omp barrier /* xt is rewritten by the next tile's packing */
        }
    }
    pcavs_blas_threads_restore(blas_threads);
    return PCAVS_OK;
}
