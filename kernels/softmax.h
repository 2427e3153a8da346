/* softmax.h: numerically stable softmax along one axis of a tensor viewed as
 * [outer, len, inner] (axis of length `len`, stride `inner`): A_sync's attentive pooling
 * softmax over 3 time steps. y may equal x. */
#ifndef PCAVS_KERNELS_SOFTMAX_H
#define PCAVS_KERNELS_SOFTMAX_H

#include "kctx.h"

pcavs_status pcavs_softmax_ref(const pcavs_kctx *kc, int outer, int len, int inner, const float *x, float *y);
pcavs_status pcavs_softmax_cpu(const pcavs_kctx *kc, int outer, int len, int inner, const float *x, float *y);
pcavs_status pcavs_softmax_cuda(const pcavs_kctx *kc, int outer, int len, int inner, const float *x, float *y);

#endif
