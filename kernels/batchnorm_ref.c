/* batchnorm_ref.c: reference inference BatchNorm as a per-channel affine map
 * (nn.BatchNorm1d/2d in eval mode after pcavs_bn_fold), optional ReLU, and the host folding
 * helpers pcavs_bn_fold / pcavs_bn_fold_into_conv (double arithmetic, stored as float). */
#include <math.h>

#include "batchnorm.h"

pcavs_status pcavs_batchnorm_ref(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                 const float *scale, const float *shift,                     /* [c], [c] */
                                 pcavs_act act, float *y) {                                  /* [n, c, hw] */
    (void)kc;
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm: non-positive size n=%d c=%d hw=%d", n, c, hw);
    if (!x || !scale || !shift || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm: NULL operand");
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const size_t base = ((size_t)b * c + ch) * hw;
            for (int p = 0; p < hw; p++) {
                float v = (float)((double)x[base + p] * scale[ch] + shift[ch]);
                if (act == PCAVS_ACT_RELU && v < 0.0f) v = 0.0f;
                y[base + p] = v;
            }
        }
    return PCAVS_OK;
}

void pcavs_bn_fold(int c, const float *gamma, const float *beta, const float *mean, const float *var, float eps,
                   float *scale, float *shift) {
    for (int i = 0; i < c; i++) {
        const double s = (double)gamma[i] / sqrt((double)var[i] + (double)eps);
        scale[i] = (float)s;
        shift[i] = (float)((double)beta[i] - (double)mean[i] * s);
    }
}

void pcavs_bn_fold_into_conv(int c_out, long per_out, float *w, /* [c_out, per_out], scaled in place */
                             const float *bias,                 /* [c_out] or NULL */
                             const float *scale, const float *shift, float *bias_out) { /* [c_out] */
    for (int o = 0; o < c_out; o++) {
        const double s = scale[o];
        float *wo = w + (size_t)o * (size_t)per_out;
        for (long k = 0; k < per_out; k++) wo[k] = (float)(wo[k] * s);
        bias_out[o] = (float)((bias ? (double)bias[o] * s : 0.0) + shift[o]);
    }
}
