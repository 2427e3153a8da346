/* batchnorm.h: inference BatchNorm (running statistics) as a per-channel affine map, with
 * optional fused ReLU, plus host-side folding helpers used at model load:
 *   scale[c] = gamma[c] / sqrt(var[c] + eps), shift[c] = beta[c] - mean[c] * scale[c]
 *   y = x * scale[c] + shift[c]
 * Folding into the preceding conv: w'[o,...] = w[o,...] * scale[o], b'[o] = b[o]*scale[o] + shift[o]. */
#ifndef PCAVS_KERNELS_BATCHNORM_H
#define PCAVS_KERNELS_BATCHNORM_H

#include "kctx.h"

/* x, y [n, c, hw] (y may equal x); scale, shift [c]. */
pcavs_status pcavs_batchnorm_ref(const pcavs_kctx *kc, int n, int c, int hw, const float *x, const float *scale,
                                 const float *shift, pcavs_act act, float *y);
pcavs_status pcavs_batchnorm_cpu(const pcavs_kctx *kc, int n, int c, int hw, const float *x, const float *scale,
                                 const float *shift, pcavs_act act, float *y);
pcavs_status pcavs_batchnorm_cuda(const pcavs_kctx *kc, int n, int c, int hw, const float *x, const float *scale,
                                  const float *shift, pcavs_act act, float *y);

/* Host helpers (computed in double, stored as float). */
void pcavs_bn_fold(int c, const float *gamma, const float *beta, const float *mean, const float *var, float eps,
                   float *scale, float *shift);
/* w [c_out, per_out] scaled in place; bias [c_out] (may be NULL on input: then `bias_out` gets shift). */
void pcavs_bn_fold_into_conv(int c_out, long per_out, float *w, const float *bias, const float *scale,
                             const float *shift, float *bias_out);

#endif
