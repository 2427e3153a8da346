/* conv_transpose2d.h: transposed 2-D convolution (F.conv_transpose2d, groups 1, no output
 * padding), as used by the generator's upsampling modulated conv (3x3, stride 2, pad 0):
 *   y[b][co][s*iy + ky - pad][s*ix + kx - pad] += x[b][ci][iy][ix] * w[ci][co][ky][kx]
 * (no kernel flip; weight layout [c_in, c_out, kh, kw] as PyTorch). */
#ifndef PCAVS_KERNELS_CONV_TRANSPOSE2D_H
#define PCAVS_KERNELS_CONV_TRANSPOSE2D_H

#include "kctx.h"

typedef struct pcavs_conv_transpose2d_desc {
    int n, c_in, h, w; /* input [n, c_in, h, w] */
    int c_out, kh, kw; /* weight [c_in, c_out, kh, kw] */
    int stride, pad;
} pcavs_conv_transpose2d_desc;

static inline int pcavs_conv_transpose2d_out_h(const pcavs_conv_transpose2d_desc *d) {
    return (d->h - 1) * d->stride - 2 * d->pad + d->kh;
}
static inline int pcavs_conv_transpose2d_out_w(const pcavs_conv_transpose2d_desc *d) {
    return (d->w - 1) * d->stride - 2 * d->pad + d->kw;
}

/* y [n, c_out, out_h, out_w]; bias [c_out] or NULL. */
pcavs_status pcavs_conv_transpose2d_ref(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d, const float *x,
                                        const float *w, const float *bias, float *y);
pcavs_status pcavs_conv_transpose2d_cpu(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d, const float *x,
                                        const float *w, const float *bias, float *y);
pcavs_status pcavs_conv_transpose2d_cuda(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d, const float *x,
                                         const float *w, const float *bias, float *y);

#endif
