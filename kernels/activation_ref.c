/* activation_ref.c: reference (naive, double where it matters) elementwise activations:
 * nn.ReLU, nn.Sigmoid (SE blocks of A_sync), nn.Tanh (generator output), and rosinality's
 * NoiseInjection + FusedLeakyReLU as used by PC-AVS's StyledConv (generator.py):
 *   v = (x + noise_weight*noise) + bias;  y = leaky_relu(v, 0.2) * (float)2**0.5.
 * The additions are rounded to float in upstream's order; only sigmoid/tanh use double. */
#include <math.h>

#include "activation.h"

#define SQRT2_F 1.41421356237309504880f /* the float nearest 2**0.5, as PyTorch's scalar multiply */

static pcavs_status check_unary(const char *op, size_t count, const float *x, const float *y) {
    if (count > 0 && (!x || !y)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    return PCAVS_OK;
}

pcavs_status pcavs_relu_ref(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                            float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("relu_ref", count, x, y));
    for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
    return PCAVS_OK;
}

pcavs_status pcavs_sigmoid_ref(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                               float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("sigmoid_ref", count, x, y));
    for (size_t i = 0; i < count; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
    return PCAVS_OK;
}

pcavs_status pcavs_tanh_ref(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                            float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("tanh_ref", count, x, y));
    for (size_t i = 0; i < count; i++) y[i] = (float)tanh((double)x[i]);
    return PCAVS_OK;
}

static pcavs_status check_nchw(const char *op, int n, int c, int hw, const float *x, const float *y) {
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: non-positive size n=%d c=%d hw=%d", op, n, c, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    return PCAVS_OK;
}

pcavs_status pcavs_fused_lrelu_ref(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                   const float *bias,                                          /* [c] or NULL */
                                   const float *noise,                                         /* [n, hw] or NULL */
                                   float noise_weight, float *y) {                             /* [n, c, hw] */
    PCAVS_TRY(check_nchw("fused_lrelu_ref", n, c, hw, x, y));
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                const size_t k = ((size_t)b * c + ch) * hw + p;
                float v = x[k];
                if (noise) {
                    const float wn = noise_weight * noise[(size_t)b * hw + p];
                    v = v + wn;
                }
                if (bias) v = v + bias[ch];
                const float l = v > 0.0f ? v : v * 0.2f;
                y[k] = l * SQRT2_F;
            }
    return PCAVS_OK;
}

pcavs_status pcavs_noise_inject_ref(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                    const float *noise,                                         /* [n, hw] */
                                    float noise_weight, float *y) {                             /* [n, c, hw] */
    PCAVS_TRY(check_nchw("noise_inject_ref", n, c, hw, x, y));
    if (!noise) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "noise_inject_ref: NULL noise");
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                const size_t k = ((size_t)b * c + ch) * hw + p;
                const float wn = noise_weight * noise[(size_t)b * hw + p];
                y[k] = x[k] + wn;
            }
    return PCAVS_OK;
}
