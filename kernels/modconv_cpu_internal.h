/* modconv_cpu_internal.h: what the CPU modulated convolution's files share (modconv_cpu*.c): the scratch
 * plan, the arguments every execution path takes, the paths themselves (in mc_conv's order of preference) and
 * the helpers two paths use. Private to kernels/modconv_cpu*.c. */
#ifndef PCAVS_KERNELS_MODCONV_CPU_INTERNAL_H
#define PCAVS_KERNELS_MODCONV_CPU_INTERNAL_H

#include <stddef.h>

#include "kctx.h"
#include "modconv.h"

/* upsample, per thread: the transposed-conv grid as even/odd column phases [2h+1][2][w+3] + 2 rows of w */
#define MC_TBUF_FLOATS(h, w) ((size_t)(2 * (h) + 1) * 2 * ((w) + 3) + 2 * (size_t)((w) + 16))

/* Scratch plan: demod [n*c_out] | Wp [c_out*kk*c_in] (k > 1) | T [threads * th*tw] (upsample) |
 * xs [c_in * nb*hw] | G [ob*kk * nb*hw] (k > 1). The demod computation reuses the xs area. */
typedef struct mc_plan {
    size_t fixed, per_xs, per_g; /* bytes: fixed part; xs per sample; G per (sample, output channel) */
} mc_plan;

/* One call of the convolution as every path sees it: the inputs, demod computed, the fixed scratch carved. */
typedef struct pcavs_mc_call {
    const pcavs_kctx *kc;
    const pcavs_modconv_desc *d; /* with the prepared forms unpacked (weight_wino, _taps, _sq, _bf16) */
    const float *x;              /* [n, c_in, h, w] */
    const float *weight;         /* [c_out, c_in, k, k] */
    const float *style;          /* [n, c_in] */
    const float *blur;           /* [4, 4], upsample only */
    const float *demod;          /* [n, c_out] (computed) */
    float *wp;                   /* [c_out, k*k, c_in] scratch for the permuted weight (k > 1), else NULL */
    float *tbuf;                 /* [threads, tstride] transposed-conv grids (upsample), else NULL */
    size_t tstride;              /* floats per thread in tbuf */
    char *sp;                    /* the rest of the scratch, avail bytes (128 kept back) */
    size_t avail;
    int nt; /* threads, >= 1 */
    mc_plan pl;
    float *y; /* [n, c_out, out_h, out_w] */
} pcavs_mc_call;

/* The execution paths (mc_conv tries them in this order). Each returns 1 when it computed y (setting *tail_done
 * to 1 where it applied d's StyledConv tail as it stored y), 0 when it does not apply or the scratch is short. */
int pcavs_mc_path_torgb(const pcavs_mc_call *c, int *tail_done);  /* k = 1, few outputs (modconv_cpu_1x1.c) */
int pcavs_mc_path_bf16(const pcavs_mc_call *c, int *tail_done);   /* bf16 mode, 3x3 (modconv_cpu_bf16.c) */
int pcavs_mc_path_wino(const pcavs_mc_call *c, int *tail_done);   /* Winograd, 3x3 (modconv_cpu_wino.c) */
int pcavs_mc_path_im2col(const pcavs_mc_call *c, int *tail_done); /* plain k > 1, tiled (modconv_cpu_im2col.c) */
int pcavs_mc_path_1x1(const pcavs_mc_call *c, int *tail_done);    /* k = 1, GEMM (modconv_cpu_1x1.c) */
int pcavs_mc_path_taps(const pcavs_mc_call *c, int *tail_done);   /* k > 1, tap GEMM (modconv_cpu_taps.c) */

/* Output plane (b, o) of an upsampling layer: y = dm * Blur(T) from the T plane t (winograd_up.h's layout), with d's
 * StyledConv tail where act_lrelu; tmp: the blur's row buffer. (modconv_cpu_taps.c) */
void pcavs_mc_up_blur_out(const pcavs_modconv_desc *d, float *t, const float *blur, int b, int o, float dm, float *tmp,
                          float *y);
/* wp [c_out, kk, c_in] = the weight [c_out, c_in, kk] with taps outermost per output channel (modconv_cpu_forms.c) */
void pcavs_mc_permute_taps(const pcavs_modconv_desc *d, const float *weight, float *wp, int n_threads);
/* The plain 3x3 layer's Winograd tile, 4 or 6 (modconv_cpu_forms.c) */
int pcavs_mc_wino_tile(const pcavs_modconv_desc *d);

#endif
