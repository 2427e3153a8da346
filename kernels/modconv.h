/* modconv.h: StyleGAN2's modulated convolution (rosinality ModulatedConv2d) as one op.
 *   scale = 1/sqrt(c_in*k*k)
 *   w_b[o,c,i,j] = weight[o,c,i,j] * scale * style[b,c]
 *   demodulate: w_b[o,...] *= 1/sqrt(sum_{c,i,j} w_b[o,c,i,j]^2 + 1e-8)
 *   plain (upsample 0): y_b = conv2d(x_b, w_b, pad k/2)
 *   upsample 1: y_b = Blur(conv_transpose2d(x_b, w_b^T, stride 2, pad 0)), Blur = upfirdn2d
 *               with `blur` [4,4] (outer([1,3,3,1])/64*4 upstream), up 1, pad (1,1): 2h x 2w.
 * `style` is the modulation output style[b,c] = s_b . mod_w[c] / sqrt(2560) + mod_b[c]
 * (compute it with the linear op). Two formulations with one signature:
 *   _ref  : per-sample weights, exactly upstream's grouped ("fused") form: the truth;
 *   _cpu / _cuda : the batched form: y = demod[b,o] * conv(x_b * style[b,c], weight*scale),
 *           one shared-weight convolution for the whole batch.
 * pcavs_modconv_demod computes demod[b,o] (1 where demodulate is 0). */
#ifndef PCAVS_KERNELS_MODCONV_H
#define PCAVS_KERNELS_MODCONV_H

#include <stdint.h>

#include "kctx.h"

typedef struct pcavs_modconv_desc {
    int n, c_in, h, w; /* input [n, c_in, h, w] */
    int c_out, k;      /* weight [c_out, c_in, k, k] (upstream's 1 x out x in x k x k, squeezed) */
    int demodulate;    /* 1 for StyledConv, 0 for ToRGB */
    int upsample;      /* 1: transposed conv stride 2 + blur, output 2h x 2w */
    /* optional, _cpu only: the weight already through pcavs_modconv_prepare_wino ([36, c_out, c_in]);
     * NULL: _cpu transforms it per call when it takes the Winograd path. _ref and _cuda ignore it. */
    const float *weight_wino;
    /* optional, _cpu only: [c_out, c_in] = sum over the k x k taps of weight^2 (pcavs_modconv_prepare_sq),
     * so that demodulation need not reread the weight. NULL: computed from the weight per call. */
    const float *weight_sq;
    /* optional, _cpu only: the bf16 mode. The weight packed for the bf16 GEMM (pcavs_modconv_prepare_bf16,
     * kernels/gemm_bf16.h); non-NULL makes _cpu run this layer's GEMM in bf16 (k = 3 only, and only where
     * the CPU has a bf16 unit; elsewhere it is ignored and the layer runs in float32). */
    const uint16_t *weight_bf16;
    /* optional, _cpu only: the weight permuted to [c_out, k*k, c_in] (pcavs_modconv_prepare_taps) for the tap-GEMM
     * path (the small maps that take no Winograd path: the generator's 7x7 conv1 and 7->14); NULL: permuted per
     * call into the scratch there. */
    const float *weight_taps;
    /* optional: the backend's own forms of this layer's weight, from its prepare_modconv slot at model load
     * (engine/backend.h), opaque to the caller; NULL: none. For _cpu a pcavs_cpu_weight_forms (weight_forms.h) whose
     * forms stand for the four fields above; _ref and _cuda ignore it. */
    const void *prepared;
    /* optional, every form: StyleGAN2's StyledConv tail on the output (upstream NoiseInjection + FusedLeakyReLU,
     * activation.h's fused_lrelu): with act_lrelu 1, y = leaky_relu(conv + act_noise_weight * act_noise[b][p]
     * (if act_noise) + act_bias[o] (if act_bias), 0.2) * sqrt(2). _cpu applies it as it stores the output where
     * it takes a Winograd path (no pass of its own over y), after the convolution elsewhere. */
    int act_lrelu;
    const float *act_bias;  /* [c_out] or NULL */
    const float *act_noise; /* [n, out_h, out_w] or NULL */
    float act_noise_weight;
    /* optional, _cpu only: the ToRGB that reads this layer's output (StyleGAN2's to_rgb: 1x1, 3 outputs, no
     * demodulation; this op's own form with k = 1, c_in = c_out here) summed as the output is stored, where _cpu can
     * (its plain Winograd tile-block form): rgb_out = that ToRGB without its bias; *rgb_done is then set to 1, and
     * left as it is elsewhere (the caller runs the ToRGB as a call of its own). */
    const float *rgb_weight; /* [3, c_out], or NULL: none */
    const float *rgb_style;  /* [n, c_out] */
    float *rgb_out;          /* [n, 3, out_h, out_w] */
    int *rgb_done;
} pcavs_modconv_desc;

static inline int pcavs_modconv_out_h(const pcavs_modconv_desc *d) { return d->upsample ? 2 * d->h : d->h; }
static inline int pcavs_modconv_out_w(const pcavs_modconv_desc *d) { return d->upsample ? 2 * d->w : d->w; }

/* Checks the descriptor (sizes >= 1; upsample needs k 3, plain conv an odd k); fails naming the field. */
pcavs_status pcavs_modconv_check(const pcavs_modconv_desc *d);
/* pcavs_modconv_check, then the call's pointers (blur where upsampling), for every form of the op; `form` names
 * the caller in the message ("modconv_cpu: NULL pointer"). */
pcavs_status pcavs_modconv_check_call(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x,
                                      const float *weight, const float *style, const float *blur, const float *y,
                                      const char *form);
/* Scratch bytes with which pcavs_modconv_cpu runs untiled (one GEMM for the whole batch) with
 * n_threads threads; with less it tiles over samples and output channels, down to
 * pcavs_modconv_cpu_min_scratch_bytes (below that it fails with PCAVS_ERR_OOM). */
size_t pcavs_modconv_cpu_scratch_bytes(const pcavs_modconv_desc *d, int n_threads);
size_t pcavs_modconv_cpu_min_scratch_bytes(const pcavs_modconv_desc *d, int n_threads);

/* The CPU Winograd form of a 3x3 weight, prepared once (model load) and passed as d->weight_wino:
 * pcavs_modconv_wino_floats(d) floats (0 where there is none: k != 3), filled by
 * pcavs_modconv_prepare_wino (weight [c_out, c_in, 3, 3] -> [36, c_out, c_in]: F(4x4, 3x3) for a plain
 * layer, F(4x4, 2x2) on the transposed conv's phases for an upsampling one (kernels/winograd_up.h); the
 * 1/sqrt(c_in*9) modulation scale stays on the input side). pcavs_modconv_cpu_takes_wino: whether _cpu
 * takes a Winograd path for this descriptor (given the scratch), i.e. whether preparing pays. */
int pcavs_modconv_cpu_takes_wino(const pcavs_modconv_desc *d);
size_t pcavs_modconv_wino_floats(const pcavs_modconv_desc *d);
pcavs_status pcavs_modconv_prepare_wino(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads);

/* The bf16 form of a 3x3 weight (the bf16 mode), prepared once at model load: pcavs_modconv_bf16_elems(d)
 * uint16 (0 where there is none: k != 3), filled by pcavs_modconv_prepare_bf16: a plain layer's weight
 * [c_out, c_in*9] as the GEMM's A (the im2col form), an upsampling layer's as [(c_out, tap), c_in] (the
 * tap-GEMM form). The 1/sqrt(c_in*9) scale stays on the input side, as in float32. */
size_t pcavs_modconv_bf16_elems(const pcavs_modconv_desc *d);
/* Whether, in the bf16 mode, layer d (its batch-1 shape) is faster in its bf16 form than in float32 on this
 * CPU, i.e. whether the loader gives it one: with AMX-BF16 every 3x3 layer; with AVX512-BF16 alone (at most
 * 2x the FP32 FMA rate, against the 4x fewer multiplications of float32's Winograd forms) the upsampling layers
 * from 14x14 (docs/bench/tuning.md); none without a unit. */
int pcavs_modconv_cpu_prefers_bf16(const pcavs_modconv_desc *d);
pcavs_status pcavs_modconv_prepare_bf16(const pcavs_modconv_desc *d, const float *weight, uint16_t *out);

/* The tap-GEMM form (d->weight_taps): pcavs_modconv_taps_floats(d) floats (0 where there is none: k = 1), filled
 * by pcavs_modconv_prepare_taps (weight [c_out, c_in, k, k] -> [c_out, k*k, c_in]). pcavs_modconv_cpu_takes_taps:
 * whether _cpu may take that path for d (k > 1 and no Winograd path; batches whose maps are large enough take
 * the im2col path instead, which reads the weight as it is), i.e. whether preparing pays. */
int pcavs_modconv_cpu_takes_taps(const pcavs_modconv_desc *d);
size_t pcavs_modconv_taps_floats(const pcavs_modconv_desc *d);
pcavs_status pcavs_modconv_prepare_taps(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads);

/* out [c_out, c_in] = sum_ij weight[o, c, i, j]^2 (d->weight_sq). */
pcavs_status pcavs_modconv_prepare_sq(const pcavs_modconv_desc *d, const float *weight, float *out);

/* x [n, c_in, h, w], weight [c_out, c_in, k, k], style [n, c_in], blur [4, 4] (used only when
 * upsample), y [n, c_out, out_h, out_w]. */
pcavs_status pcavs_modconv_ref(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                               const float *style, const float *blur, float *y);
pcavs_status pcavs_modconv_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                               const float *style, const float *blur, float *y);
pcavs_status pcavs_modconv_cuda(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                                const float *style, const float *blur, float *y);

/* demod [n, c_out] = rsqrt(scale^2 * sum_c style[b,c]^2 * sum_ij weight[o,c,i,j]^2 + 1e-8). */
pcavs_status pcavs_modconv_demod_ref(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *weight,
                                     const float *style, float *demod);
pcavs_status pcavs_modconv_demod_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *weight,
                                     const float *style, float *demod);
pcavs_status pcavs_modconv_demod_cuda(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *weight,
                                      const float *style, float *demod);

#endif
