/* modconv_cpu_wino.c: the modulated convolution's Winograd paths: plain 3x3 (F(4x4, 3x3) or F(6x6, 3x3),
 * winograd.h) and upsampling 3x3 (F(4x4, 2x2) on the transposed conv's four phases, then the blur, winograd_up.h),
 * with in_scale = style * scale and out_scale = demod, the weight prepared at load or transformed per call. */
#include <math.h>

#include "kernel_util.h"

#include "modconv_cpu_internal.h"
#include "styled_act.h"
#include "winograd.h"
#include "winograd_up.h"

/* ---- plain 3x3 with enough tiles: Winograd F(4x4, 3x3) (kernels/winograd.h) ---- */
#ifndef MC_WINO_MIN_TILES
/* n * ceil(h/4) * ceil(w/4) below this: direct. 14x14 at batch 1 (16 tiles) gains from Winograd, 7x7 (4) loses
 * (docs/bench/tuning.md); the bar is this low because pcavs_sgemm_nn packs no weight. */
#define MC_WINO_MIN_TILES 16
#endif
static int mc_wino_applies(const pcavs_modconv_desc *d) {
    const size_t tiles = (size_t)d->n * ((d->h + 3) / 4) * ((d->w + 3) / 4);
    return d->k == 3 && !d->upsample && tiles >= MC_WINO_MIN_TILES;
}
/* ---- upsampling 3x3 with enough tiles: Winograd F(4x4, 2x2) on the transposed conv's phases, then the
 * blur (kernels/winograd_up.h) ---- */
/* It pays for the generator's upsampling layers from 14x14 (14->28 ties at batch 1 and wins at batch 8, with its
 * weight prepared at load); at 7->14 the tiles are too few. The history: docs/bench/tuning.md. */
#ifndef MC_WINO_UP_MIN_SIDE
#define MC_WINO_UP_MIN_SIDE 14 /* input side */
#endif
#ifndef MC_WINO_UP_MIN_CHANNELS
#define MC_WINO_UP_MIN_CHANNELS (256 * 128) /* c_in * c_out */
#endif
static int mc_wino_up_applies(const pcavs_modconv_desc *d) {
    return d->k == 3 && d->upsample && d->h >= MC_WINO_UP_MIN_SIDE && d->w >= MC_WINO_UP_MIN_SIDE &&
           (long)d->c_in * d->c_out >= MC_WINO_UP_MIN_CHANNELS;
}
/* Both Winograd paths: plain 3x3 (F(4x4, 3x3), winograd.h) or upsampling (F(4x4, 2x2) on the phases,
 * winograd_up.h), with in_scale = style * scale and out_scale = demod; the weight taken prepared
 * (d->weight_wino) or transformed per call into the scratch. Returns 0 (not taken: the path does not apply
 * or the scratch is too small) or 1 (done). */
static int mc_try_wino(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                       const float *style, const float *blur, const float *demod, char *sp, size_t avail, float *y) {
    const int up = d->upsample;
    if (!(up ? mc_wino_up_applies(d) : mc_wino_applies(d))) return 0;
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    pcavs_wino_conv a = {.n = d->n,
                         .c_in = d->c_in,
                         .h = d->h,
                         .w = d->w,
                         .c_out = d->c_out,
                         .tile = pcavs_mc_wino_tile(d),
                         .x = x,
                         .out_scale = d->demodulate ? demod : NULL,
                         .noise = d->act_lrelu ? d->act_noise : NULL,
                         .noise_weight = d->act_noise_weight,
                         .bias = d->act_lrelu ? d->act_bias : NULL,
                         .lrelu = d->act_lrelu,
                         .y = y};
    pcavs_wino_up_conv au = {.n = d->n,
                             .c_in = d->c_in,
                             .h = d->h,
                             .w = d->w,
                             .c_out = d->c_out,
                             .x = x,
                             .out_scale = a.out_scale,
                             .blur = blur,
                             .tail = {.noise = a.noise,
                                      .noise_weight = a.noise_weight,
                                      .bias = a.bias,
                                      .act = d->act_lrelu ? PCAVS_STORE_ACT_LRELU : PCAVS_STORE_ACT_NONE},
                             .y = y};
    const int rgb = !up && d->rgb_weight && d->rgb_style && d->rgb_out && d->rgb_done;
    const size_t r_bytes = rgb ? PCAVS_ALIGN64((size_t)d->n * PCAVS_WINO_RGB * d->c_out * sizeof(float)) : 0;
    const size_t s_bytes = PCAVS_ALIGN64((size_t)d->n * d->c_in * sizeof(float)) + r_bytes;
    const size_t u_bytes = d->weight_wino ? 0 : PCAVS_ALIGN64(pcavs_modconv_wino_floats(d) * sizeof(float));
    const size_t run_min = up ? pcavs_wino_up_min_scratch_bytes(&au, nth) : pcavs_wino_min_scratch_bytes(&a, nth);
    if (avail < s_bytes + u_bytes + run_min) return 0;
    float *s_in = (float *)sp; /* [n, c_in] */
    const float scale = (float)(1.0 / sqrt((double)d->c_in * 9));
    for (size_t i = 0; i < (size_t)d->n * d->c_in; i++) s_in[i] = style[i] * scale;
    if (rgb) { /* the ToRGB's modulated weight [n, 3, c_out], rounded as the ToRGB path does it (modconv_cpu_1x1.c) */
        float *rw = (float *)(sp + s_bytes - r_bytes);
        const float rs = (float)(1.0 / sqrt((double)d->c_out));
        for (int b = 0; b < d->n; b++)
            for (int k = 0; k < PCAVS_WINO_RGB; k++)
                for (int c = 0; c < d->c_out; c++)
                    rw[((size_t)b * PCAVS_WINO_RGB + k) * d->c_out + c] =
                        d->rgb_weight[(size_t)k * d->c_out + c] * (d->rgb_style[(size_t)b * d->c_out + c] * rs);
        a.rgb_w = rw, a.rgb = d->rgb_out, a.rgb_done = d->rgb_done;
    }
    const float *u = d->weight_wino;
    if (!u) {
        float *uw = (float *)(sp + s_bytes); /* [pcavs_modconv_wino_floats(d)]: 36 or 64 matrices [c_out, c_in] */
        if (pcavs_modconv_prepare_wino(d, weight, uw, nth) != PCAVS_OK) return 0;
        u = uw;
    }
    pcavs_kctx sub = *kc;
    sub.scratch = sp + s_bytes + u_bytes;
    sub.scratch_bytes = avail - s_bytes - u_bytes;
    if (up) {
        au.in_scale = s_in, au.u = u;
        return pcavs_wino_up_run(&sub, &au) == PCAVS_OK;
    }
    a.in_scale = s_in, a.u = u;
    return pcavs_wino_run(&sub, &a) == PCAVS_OK;
}

int pcavs_modconv_cpu_takes_wino(const pcavs_modconv_desc *d) {
    return pcavs_modconv_check(d) == PCAVS_OK && (mc_wino_applies(d) || mc_wino_up_applies(d));
}

int pcavs_mc_path_wino(const pcavs_mc_call *cl, int *tail_done) {
    if (!mc_try_wino(cl->kc, cl->d, cl->x, cl->weight, cl->style, cl->blur, cl->demod, cl->sp, cl->avail, cl->y))
        return 0;
    *tail_done = 1;
    return 1;
}
