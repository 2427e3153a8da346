/* modconv_cpu_taps.c: the modulated convolution's general k > 1 path: one GEMM of the taps-outermost weight with the
 * style-scaled input G[(o,t)][b,p], then per (b, o) plane the col2im gather (plain) or the scatter to the transposed
 * conv's grid and the blur (upsample). The path for small maps and what the faster paths decline. */
#include <math.h>
#include <string.h>

#include "kernel_util.h"

#include "modconv_cpu_internal.h"
#include "sgemm_nn.h"
#include "styled_act.h"
#include "winograd_up.h"

void pcavs_mc_up_blur_out(const pcavs_modconv_desc *d, float *t, const float *blur, int b, int o, float dm, float *tmp,
                          float *y) {
    const size_t plane = (size_t)4 * d->h * d->w;
    pcavs_up_blur_plane(t, d->h, d->w, blur, dm, d->act_lrelu && d->act_noise ? d->act_noise + (size_t)b * plane : NULL,
                        d->act_noise_weight, d->act_lrelu && d->act_bias ? d->act_bias[o] : 0.0f,
                        d->act_lrelu ? PCAVS_STORE_ACT_LRELU : PCAVS_STORE_ACT_NONE, tmp,
                        y + ((size_t)b * d->c_out + o) * plane);
}

int pcavs_mc_path_taps(const pcavs_mc_call *cl, int *tail_done) {
    const pcavs_modconv_desc *d = cl->d;
    if (d->k == 1) return 0;
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k, pad = k / 2;
    const int nt = cl->nt;
    const size_t hw = (size_t)h * w, avail = cl->avail, tstride = cl->tstride;
    const int th = 2 * h + 1, oh = pcavs_modconv_out_h(d), ow = pcavs_modconv_out_w(d);
    const float *x = cl->x, *weight = cl->weight, *style = cl->style, *blur = cl->blur, *demod = cl->demod;
    const mc_plan pl = cl->pl;
    char *sp = cl->sp;
    float *wp = cl->wp, *tbuf = cl->tbuf, *y = cl->y;
    *tail_done = d->upsample; /* below, every upsampling output plane goes through pcavs_mc_up_blur_out */
    /* tile: nb samples x ob output channels */
    int nb = n, ob = co_n;
    while (nb > 1 && (size_t)nb * (pl.per_xs + pl.per_g * ob) > avail) nb = (nb + 1) / 2;
    if ((size_t)nb * (pl.per_xs + pl.per_g * ob) > avail && pl.per_g) {
        ob = (int)((avail - pl.per_xs) / pl.per_g);
        if (ob > co_n) ob = co_n;
        if (ob < 1) ob = 1;
    }
    float *xs = (float *)sp;                                          /* [c_in, nb*hw] */
    float *g = (float *)(sp + PCAVS_ALIGN64((size_t)nb * pl.per_xs)); /* [ob*kk, nb*hw] */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));

    const float *wt = d->weight_taps; /* [c_out, kk, c_in]: prepared at load, or permuted here once per call */
    if (!wt) {
        pcavs_mc_permute_taps(d, weight, wp, nt);
        wt = wp;
    }
    for (int b0 = 0; b0 < n; b0 += nb) {
        const int cb = n - b0 < nb ? n - b0 : nb;
        const size_t ncol = (size_t)cb * hw;
        /* xs = x * style * scale */
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
        for (int b = 0; b < cb; b++)
            for (int c = 0; c < ci_n; c++) {
                const float s = style[(size_t)(b0 + b) * ci_n + c] * scale;
                const float *src = x + ((size_t)(b0 + b) * ci_n + c) * hw;
                float *dst = xs + (size_t)c * ncol + (size_t)b * hw;
                for (size_t p = 0; p < hw; p++) dst[p] = src[p] * s;
            }
        for (int o0 = 0; o0 < co_n; o0 += ob) {
            const int cob = co_n - o0 < ob ? co_n - o0 : ob;
            /* rows (o, t) split over our own threads, single-threaded sgemm each: OpenBLAS's pthreads
             * never wake (on 2 cores their spin-yield competed with the OpenMP gather that follows) */
            const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nt)
            {
                const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
                const int rows = cob * kk;
                int per = (rows + nthr - 1) / nthr;
                per = (per + 15) & ~15;
                const int r0 = tid * per < rows ? tid * per : rows, r1 = r0 + per < rows ? r0 + per : rows;
                if (r1 > r0)
                    pcavs_sgemm_nn(r1 - r0, (int)ncol, ci_n, wt + ((size_t)o0 * kk + r0) * ci_n, ci_n, xs, (int)ncol,
                                   g + (size_t)r0 * ncol, (int)ncol);
            }
            pcavs_blas_threads_restore(blas_threads);
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
            for (int b = 0; b < cb; b++)
                for (int oo = 0; oo < cob; oo++) {
                    const int o = o0 + oo;
                    const float dm = demod[(size_t)(b0 + b) * co_n + o];
                    const float *go = g + (size_t)oo * kk * ncol + (size_t)b * hw; /* tap t at go + t*ncol: [h, w] */
                    float *yo = y + ((size_t)(b0 + b) * co_n + o) * oh * ow;       /* [oh, ow] */
                    if (!d->upsample) {
                        memset(yo, 0, hw * sizeof(float));
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                const float *gt = go + (size_t)(i * k + j) * ncol;
                                const int dy = i - pad, dx = j - pad;
                                const int y_lo = dy < 0 ? -dy : 0, y_hi = dy > 0 ? h - dy : h;
                                const int x_lo = dx < 0 ? -dx : 0, x_hi = dx > 0 ? w - dx : w;
                                for (int yy = y_lo; yy < y_hi; yy++) {
                                    float *yr = yo + (size_t)yy * w;
                                    const float *gr = gt + (size_t)(yy + dy) * w + dx;
                                    for (int xx = x_lo; xx < x_hi; xx++) yr[xx] += gr[xx];
                                }
                            }
                        for (size_t p = 0; p < hw; p++) yo[p] *= dm;
                        continue;
                    }
                    float *tp = tbuf + (size_t)omp_get_thread_num() * tstride; /* [th, tw] */
                    /* The (2h+1) x (2w+1) transposed-conv grid T as column phases, so that every pass is
                     * contiguous (vectorisable): Te[r][X] = T[r][2X] (X = 0..w), To[r][X] = T[r][2X+1]
                     * (X = 0..w-1), each row with a zero guard column on the left (X = -1) and zeros
                     * beyond its end. Row r of phase q at tp + (2r + q) * ts + 1. */
                    const size_t ts = (size_t)w + 3;
                    memset(tp, 0, (size_t)th * 2 * ts * sizeof(float));
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) { /* conv_transpose: T[2y+i][2x+j] += G_t[y][x] */
                            const float *gt = go + (size_t)(i * 3 + j) * ncol;
                            const int q = j & 1, sh = j >> 1;
                            for (int yy = 0; yy < h; yy++) {
                                float *tr = tp + (size_t)(2 * (2 * yy + i) + q) * ts + 1 + sh;
                                const float *gr = gt + (size_t)yy * w;
                                for (int xx = 0; xx < w; xx++) tr[xx] += gr[xx];
                            }
                        }
                    pcavs_mc_up_blur_out(d, tp, blur, b0 + b, o, dm, tp + (size_t)th * 2 * ts, y);
                }
        }
    }
    return 1;
}
