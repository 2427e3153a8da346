/* upfirdn2d.h: StyleGAN2's upsample -> FIR filter -> downsample (rosinality upfirdn2d_native):
 * insert up-1 zeros after every sample, zero-pad (pad_x0, pad_x1, pad_y0, pad_y1; >= 0 here),
 * correlate with the kernel flipped in both axes, keep every down-th sample.
 *   out_h = (h*up + pad_y0 + pad_y1 - kh) / down + 1   (likewise out_w)
 * Uses: the Blur after the upsampling modconv (up 1, pad 1,1, kernel outer([1,3,3,1])/64*4)
 * and the ToRGB skip Upsample (up 2, pad 2,1, same kernel). */
#ifndef PCAVS_KERNELS_UPFIRDN2D_H
#define PCAVS_KERNELS_UPFIRDN2D_H

#include "kctx.h"

typedef struct pcavs_upfirdn2d_desc {
    int planes, h, w; /* input [planes, h, w] (planes = n*c) */
    int up, down;
    int pad_x0, pad_x1, pad_y0, pad_y1;
    int kh, kw; /* kernel [kh, kw] */
} pcavs_upfirdn2d_desc;

static inline int pcavs_upfirdn2d_out_h(const pcavs_upfirdn2d_desc *d) {
    return (d->h * d->up + d->pad_y0 + d->pad_y1 - d->kh) / d->down + 1;
}
static inline int pcavs_upfirdn2d_out_w(const pcavs_upfirdn2d_desc *d) {
    return (d->w * d->up + d->pad_x0 + d->pad_x1 - d->kw) / d->down + 1;
}

/* Checks the descriptor (sizes >= 1, pads >= 0, kernel fits); fails with a message naming the field. */
pcavs_status pcavs_upfirdn2d_check(const pcavs_upfirdn2d_desc *d);

/* _cpu needs (ow * (1 + 2*kw)) ints of scratch for its column tap table (upfirdn2d_cpu.c). */
pcavs_status pcavs_upfirdn2d_ref(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d, const float *x,
                                 const float *kernel, float *y);
pcavs_status pcavs_upfirdn2d_cpu(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d, const float *x,
                                 const float *kernel, float *y);
pcavs_status pcavs_upfirdn2d_cuda(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d, const float *x,
                                  const float *kernel, float *y);

#endif
