/* activation.h: elementwise ReLU, sigmoid and tanh (y may equal x), and StyleGAN2's fused
 * leaky ReLU with optional noise injection (rosinality NoiseInjection + FusedLeakyReLU):
 *   v = x + noise_weight * noise[b][p] (if noise) + bias[c] (if bias);
 *   y = (v >= 0 ? v : 0.2 * v) * sqrt(2). */
#ifndef PCAVS_KERNELS_ACTIVATION_H
#define PCAVS_KERNELS_ACTIVATION_H

#include "kctx.h"

#define PCAVS_DECLARE_UNARY(op)                                                                                        \
    pcavs_status pcavs_##op##_ref(const pcavs_kctx *kc, size_t count, const float *x, float *y);                       \
    pcavs_status pcavs_##op##_cpu(const pcavs_kctx *kc, size_t count, const float *x, float *y);                       \
    pcavs_status pcavs_##op##_cuda(const pcavs_kctx *kc, size_t count, const float *x, float *y);

PCAVS_DECLARE_UNARY(relu)
PCAVS_DECLARE_UNARY(sigmoid)
PCAVS_DECLARE_UNARY(tanh)

/* x, y [n, c, hw] (y may equal x); bias [c] or NULL; noise [n, hw] or NULL. */
#define PCAVS_DECLARE_FUSED_LRELU(suffix)                                                                              \
    pcavs_status pcavs_fused_lrelu_##suffix(const pcavs_kctx *kc, int n, int c, int hw, const float *x,                \
                                            const float *bias, const float *noise, float noise_weight, float *y);
PCAVS_DECLARE_FUSED_LRELU(ref)
PCAVS_DECLARE_FUSED_LRELU(cpu)
PCAVS_DECLARE_FUSED_LRELU(cuda)

/* Noise injection alone: y = x + noise_weight * noise[b][p]; noise [n, hw]; y may equal x. */
#define PCAVS_DECLARE_NOISE(suffix)                                                                                    \
    pcavs_status pcavs_noise_inject_##suffix(const pcavs_kctx *kc, int n, int c, int hw, const float *x,               \
                                             const float *noise, float noise_weight, float *y);
PCAVS_DECLARE_NOISE(ref)
PCAVS_DECLARE_NOISE(cpu)
PCAVS_DECLARE_NOISE(cuda)

#endif
