/* pool.h: max pooling (F.max_pool2d, ceil_mode False, implicit -inf padding: 2x2/2 where odd
 * sizes drop the last row/column, 7 -> 3; torchvision's 3x3/2 pad 1, 112 -> 56), global
 * average pooling (mean over H, W) and adaptive average pooling (PyTorch's bin edges:
 * start = floor(i*H/OH), end = ceil((i+1)*H/OH)). */
#ifndef PCAVS_KERNELS_POOL_H
#define PCAVS_KERNELS_POOL_H

#include "kctx.h"

typedef struct pcavs_maxpool2d_desc {
    int n, c, h, w;
    int k, stride, pad;
} pcavs_maxpool2d_desc;

static inline int pcavs_maxpool2d_out_h(const pcavs_maxpool2d_desc *d) {
    return (d->h + 2 * d->pad - d->k) / d->stride + 1;
}
static inline int pcavs_maxpool2d_out_w(const pcavs_maxpool2d_desc *d) {
    return (d->w + 2 * d->pad - d->k) / d->stride + 1;
}

pcavs_status pcavs_maxpool2d_ref(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d, const float *x, float *y);
pcavs_status pcavs_maxpool2d_cpu(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d, const float *x, float *y);
pcavs_status pcavs_maxpool2d_cuda(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d, const float *x, float *y);

/* x [planes, hw] -> y [planes] (planes = n*c). */
pcavs_status pcavs_global_avgpool_ref(const pcavs_kctx *kc, int planes, int hw, const float *x, float *y);
pcavs_status pcavs_global_avgpool_cpu(const pcavs_kctx *kc, int planes, int hw, const float *x, float *y);
pcavs_status pcavs_global_avgpool_cuda(const pcavs_kctx *kc, int planes, int hw, const float *x, float *y);

/* x [planes, h, w] -> y [planes, oh, ow]. */
pcavs_status pcavs_adaptive_avgpool_ref(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                        float *y);
pcavs_status pcavs_adaptive_avgpool_cpu(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                        float *y);
pcavs_status pcavs_adaptive_avgpool_cuda(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                         float *y);

#endif
