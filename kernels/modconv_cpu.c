/* modconv_cpu.c: StyleGAN2 modulated convolution on the CPU in the batched form (same result as
 * rosinality ModulatedConv2d.forward up to float rounding): the public entry points (pcavs_modconv_cpu,
 * pcavs_modconv_demod_cpu), the scratch plan and sizes, and mc_conv choosing an execution path:
 *   xs[c][b,p] = x[b][c][p] * style[b,c] * scale, one shared-weight convolution for the batch, y *= demod[b,o].
 * The paths, in order of preference (modconv_cpu_internal.h):
 *   ToRGB (k = 1, c_out <= 16): a direct streaming loop over x with per-sample weights (modconv_cpu_1x1.c);
 *   bf16 mode (d->weight_bf16, 3x3, a bf16 unit): conv3x3_bf16.h / the four phases' bf16 GEMMs (modconv_cpu_bf16.c);
 *   Winograd: plain 3x3 with enough tiles, upsampling 3x3 from 14x14 (modconv_cpu_wino.c);
 *   plain k > 1 with enough pixels: tiled im2col + one sgemm per tile (modconv_cpu_im2col.c);
 *   k = 1: one sgemm per sample (modconv_cpu_1x1.c);
 *   k > 1 otherwise: tap GEMM + col2im gather, or scatter to the transposed-conv grid + blur (modconv_cpu_taps.c).
 * The GEMM costs c_out*c_in*k*k*h*w*2 FLOP per sample, the same as the transposed conv itself (a polyphase 6x6
 * rewrite of conv_transpose+blur would cost 4x that). Work is tiled over samples and output channels to fit
 * kc->scratch. The prepared weight forms: modconv_cpu_forms.c, modconv_cpu_bf16.c. */
#include <math.h>
#include <string.h>

#include "kernel_util.h"

#include "activation.h"
#include "modconv.h"
#include "modconv_cpu_internal.h"
#include "weight_forms.h"

/* d with the backend's prepared forms (d->prepared, weight_forms.h) in the fields they stand for: tmp, or d itself
 * where there are none. */
static const pcavs_modconv_desc *mc_unpack(const pcavs_modconv_desc *d, pcavs_modconv_desc *tmp) {
    if (!d || !d->prepared) return d;
    const pcavs_cpu_weight_forms *f = d->prepared;
    *tmp = *d;
    tmp->prepared = NULL;
    tmp->weight_wino = f->wino;
    tmp->weight_taps = f->taps;
    tmp->weight_sq = f->sq;
    tmp->weight_bf16 = f->bf16;
    return tmp;
}

pcavs_status pcavs_modconv_demod_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d,
                                     const float *weight, /* [c_out, c_in, k, k] */
                                     const float *style,  /* [n, c_in] */
                                     float *demod) {      /* [n, c_out] */
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!kc || !weight || !style || !demod) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_demod_cpu: NULL pointer");
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, kk = d->k * d->k;
    if (!d->demodulate) {
        for (size_t i = 0; i < (size_t)n * co_n; i++) demod[i] = 1.0f;
        return PCAVS_OK;
    }
    const size_t need = (size_t)n * ci_n * sizeof(float) * (d->weight_sq ? 2 : 1);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM, "modconv_demod_cpu: needs %zu bytes of scratch, %zu available", need,
                          kc->scratch_bytes);
    float *s2 = (float *)kc->scratch; /* [c_in, n]: (style*scale)^2, transposed */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));
    for (int b = 0; b < n; b++)
        for (int c = 0; c < ci_n; c++) {
            const float s = style[(size_t)b * ci_n + c] * scale;
            s2[(size_t)c * n + b] = s * s;
        }
    if (d->weight_sq) { /* prepared (the networks): per (b, o) one dot product over c, vectorised in double (the
                         * loop below is one serial double sum a row: slow at batch 1) */
        float *s2r = s2 + (size_t)ci_n * n; /* [n, c_in] */
        for (int b = 0; b < n; b++)
            for (int c = 0; c < ci_n; c++) s2r[(size_t)b * ci_n + c] = s2[(size_t)c * n + b];
#pragma omp parallel for num_threads(kc->n_threads) schedule(static)
        for (int o = 0; o < co_n; o++) {
            const float *q = d->weight_sq + (size_t)o * ci_n;
            for (int b = 0; b < n; b++) {
                const float *sb = s2r + (size_t)b * ci_n;
                double acc = 0.0;
#pragma omp simd reduction(+ : acc)
                for (int c = 0; c < ci_n; c++) acc += (double)sb[c] * q[c];
                demod[(size_t)b * co_n + o] = (float)(1.0 / sqrt(acc + 1e-8));
            }
        }
        return PCAVS_OK;
    }
#pragma omp parallel for num_threads(kc->n_threads) schedule(static)
    for (int o = 0; o < co_n; o++) {
        enum { NB = 32 };
        double acc[NB];
        for (int b0 = 0; b0 < n; b0 += NB) {
            const int nb = n - b0 < NB ? n - b0 : NB;
            for (int b = 0; b < nb; b++) acc[b] = 0.0;
            for (int c = 0; c < ci_n; c++) {
                float q = 0.0f; /* the sum of squared taps as prepare_sq forms it */
                const float *wc = weight + ((size_t)o * ci_n + c) * kk; /* [k, k] */
                for (int t = 0; t < kk; t++) q += wc[t] * wc[t];
                const float *sc = s2 + (size_t)c * n + b0;
                for (int b = 0; b < nb; b++) acc[b] += (double)sc[b] * q;
            }
            for (int b = 0; b < nb; b++) demod[(size_t)(b0 + b) * co_n + o] = (float)(1.0 / sqrt(acc[b] + 1e-8));
        }
    }
    return PCAVS_OK;
}
static mc_plan mc_plan_of(const pcavs_modconv_desc *d, int n_threads) {
    mc_plan p;
    const size_t hw = (size_t)d->h * d->w, kk = (size_t)d->k * d->k;
    p.fixed = PCAVS_ALIGN64((size_t)d->n * d->c_out * sizeof(float));
    if (d->k > 1) p.fixed += PCAVS_ALIGN64((size_t)d->c_out * kk * d->c_in * sizeof(float));
    if (d->upsample)
        p.fixed += (size_t)(n_threads < 1 ? 1 : n_threads) * PCAVS_ALIGN64(MC_TBUF_FLOATS(d->h, d->w) * sizeof(float));
    p.per_xs = (size_t)d->c_in * hw * sizeof(float);
    p.per_g = d->k > 1 ? kk * hw * sizeof(float) : 0;
    return p;
}

size_t pcavs_modconv_cpu_scratch_bytes(const pcavs_modconv_desc *d, int n_threads) {
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    if (pcavs_modconv_check(d) != PCAVS_OK) return 0;
    const mc_plan p = mc_plan_of(d, n_threads);
    size_t demod_tmp = (size_t)d->n * d->c_in * sizeof(float) * 2; /* s2, and its [n, c_in] copy (weight_sq) */
    size_t work = (size_t)d->n * (p.per_xs + p.per_g * d->c_out) + 128;
    return p.fixed + (work > demod_tmp ? work : demod_tmp);
}

size_t pcavs_modconv_cpu_min_scratch_bytes(const pcavs_modconv_desc *d, int n_threads) {
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    if (pcavs_modconv_check(d) != PCAVS_OK) return 0;
    const mc_plan p = mc_plan_of(d, n_threads);
    size_t demod_tmp = (size_t)d->n * d->c_in * sizeof(float) * 2; /* s2, and its [n, c_in] copy (weight_sq) */
    size_t work = p.per_xs + p.per_g + 128;
    return p.fixed + (work > demod_tmp ? work : demod_tmp);
}

int pcavs_modconv_cpu_takes_taps(const pcavs_modconv_desc *d) {
    return pcavs_modconv_check(d) == PCAVS_OK && d->k > 1 && !pcavs_modconv_cpu_takes_wino(d);
}
/* The convolution: demod, the fixed scratch carved, then the first path that applies (each path's own file says what
 * it does); *tail_done = 1 where the path applied d's StyledConv tail as it stored y. */
static pcavs_status mc_conv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                            const float *style, const float *blur, float *y, int *tail_done) {
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k;
    const int nt = kc->n_threads < 1 ? 1 : kc->n_threads;
    const mc_plan pl = mc_plan_of(d, nt);
    const size_t min_need = pcavs_modconv_cpu_min_scratch_bytes(d, nt);
    if (!kc->scratch || kc->scratch_bytes < min_need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "modconv_cpu: [n=%d, %d->%d, %dx%d, k=%d%s] needs at least %zu bytes of scratch "
                          "(%zu untiled), %zu available",
                          n, ci_n, co_n, h, w, k, d->upsample ? ", upsample" : "", min_need,
                          pcavs_modconv_cpu_scratch_bytes(d, nt), kc->scratch_bytes);
    /* carve the scratch */
    char *sp = (char *)kc->scratch;
    float *demod = (float *)sp; /* [n, c_out] */
    sp += PCAVS_ALIGN64((size_t)n * co_n * sizeof(float));
    float *wp = NULL; /* [c_out, kk, c_in] */
    if (k > 1) {
        wp = (float *)sp;
        sp += PCAVS_ALIGN64((size_t)co_n * kk * ci_n * sizeof(float));
    }
    float *tbuf = NULL; /* [threads, th*tw] */
    const size_t tstride = PCAVS_ALIGN64(MC_TBUF_FLOATS(h, w) * sizeof(float)) / sizeof(float);
    if (d->upsample) {
        tbuf = (float *)sp;
        sp += (size_t)nt * tstride * sizeof(float);
    }
    const size_t avail = kc->scratch_bytes - (size_t)(sp - (char *)kc->scratch) - 128;
    pcavs_kctx sub = *kc;
    sub.scratch = sp;
    sub.scratch_bytes = kc->scratch_bytes - (size_t)(sp - (char *)kc->scratch);
    PCAVS_TRY(pcavs_modconv_demod_cpu(&sub, d, weight, style, demod));
    static int (*const paths[])(const pcavs_mc_call *, int *) = {
        pcavs_mc_path_torgb,  pcavs_mc_path_bf16, pcavs_mc_path_wino,
        pcavs_mc_path_im2col, pcavs_mc_path_1x1,  pcavs_mc_path_taps,
    };
    const pcavs_mc_call call = {.kc = kc,
                                .d = d,
                                .x = x,
                                .weight = weight,
                                .style = style,
                                .blur = blur,
                                .demod = demod,
                                .wp = wp,
                                .tbuf = tbuf,
                                .tstride = tstride,
                                .sp = sp,
                                .avail = avail,
                                .nt = nt,
                                .pl = pl,
                                .y = y};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (paths[i](&call, tail_done)) return PCAVS_OK;
    return pcavs_fail(PCAVS_ERR_INTERNAL, "modconv_cpu: no path for [k=%d%s]", k, d->upsample ? ", upsample" : "");
}

pcavs_status pcavs_modconv_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, /* [n, c_in, h, w] */
                               const float *weight, /* [c_out, c_in, k, k] */
                               const float *style,  /* [n, c_in] */
                               const float *blur,   /* [4, 4], upsample only */
                               float *y) {          /* [n, c_out, out_h, out_w] */
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    PCAVS_TRY(pcavs_modconv_check_call(kc, d, x, weight, style, blur, y, "modconv_cpu"));
    int tail_done = 0;
    PCAVS_TRY(mc_conv(kc, d, x, weight, style, blur, y, &tail_done));
    if (!d->act_lrelu || tail_done) return PCAVS_OK;
    return pcavs_fused_lrelu_cpu(kc, d->n, d->c_out, pcavs_modconv_out_h(d) * pcavs_modconv_out_w(d), y, d->act_bias,
                                 d->act_noise, d->act_noise_weight, y);
}
