/* conv2d.h: 2-D convolution (PyTorch nn.Conv2d / F.conv2d, dilation 1), any kernel size,
 * stride, zero padding and groups, optional bias, optional fused ReLU.
 * Used by V (7x7/2 stem, 1x1, 32-group 3x3), E (7x7/2, 3x3, 1x1, 3x3/2 68->1), A_sync
 * (3x3 from 1 channel, 3x3/2, 1x1) and the generator's shared-weight modulated convs. */
#ifndef PCAVS_KERNELS_CONV2D_H
#define PCAVS_KERNELS_CONV2D_H

#include <stdint.h>

#include "kctx.h"

typedef struct pcavs_conv2d_desc {
    int n, c_in, h, w; /* input  [n, c_in, h, w] */
    int c_out, kh, kw; /* weight [c_out, c_in/groups, kh, kw] */
    int stride_h, stride_w;
    int pad_h, pad_w; /* zero padding on both sides */
    int groups;       /* c_in and c_out divisible by groups */
    pcavs_act act;    /* applied after the bias */
    /* optional, _cpu only: the bf16 mode. For a 3x3, stride 1, pad 1, one-group conv, the weight
     * [c_out, c_in*9] packed by pcavs_bf16_pack_a (gemm_bf16.h); non-NULL makes _cpu run it through
     * conv3x3_bf16.h where the CPU has a bf16 unit (else, or for other shapes, it is ignored). */
    const uint16_t *weight_bf16;
    /* optional: the backend's own forms of this conv's weight, from its prepare_conv2d slot at model load
     * (engine/backend.h), opaque to the caller; NULL: none. For _cpu a pcavs_cpu_weight_forms (weight_forms.h)
     * whose bf16 form stands for weight_bf16; _ref and _cuda ignore it. */
    const void *prepared;
} pcavs_conv2d_desc;

static inline int pcavs_conv2d_out_h(const pcavs_conv2d_desc *d) {
    return (d->h + 2 * d->pad_h - d->kh) / d->stride_h + 1;
}
static inline int pcavs_conv2d_out_w(const pcavs_conv2d_desc *d) {
    return (d->w + 2 * d->pad_w - d->kw) / d->stride_w + 1;
}
/* Checks the descriptor (positive sizes, divisibility); fails with a message naming the field. */
pcavs_status pcavs_conv2d_check(const pcavs_conv2d_desc *d);

/* Whether, in the bf16 mode, a 3x3 stride-1 pad-1 one-group conv c_in -> c_out is faster in its bf16 form
 * than in float32 on this CPU, i.e. whether the loader gives it one: with AMX-BF16 always; with AVX512-BF16
 * alone only where _cpu's float32 Winograd never applies (fewer than 32 input or output channels), since its
 * 4x fewer multiplications beat bf16's 2x rate (docs/bench/tuning.md); never without a unit. */
int pcavs_conv2d_cpu_prefers_bf16(int c_in, int c_out);

/* y [n, c_out, out_h, out_w] = conv(x, w) + bias (bias [c_out] or NULL), then act. */
pcavs_status pcavs_conv2d_ref(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, const float *w,
                              const float *bias, float *y);
pcavs_status pcavs_conv2d_cpu(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, const float *w,
                              const float *bias, float *y);
pcavs_status pcavs_conv2d_cuda(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, const float *w,
                               const float *bias, float *y);

#endif
