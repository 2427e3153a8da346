/* batchnorm_cpu.c: production CPU inference BatchNorm (per-channel affine map y = x*scale+shift,
 * optional ReLU; see batchnorm.h), OpenMP over (image, channel) planes; y may equal x. */
#include "batchnorm.h"

pcavs_status pcavs_batchnorm_cpu(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                 const float *scale, const float *shift,                     /* [c], [c] */
                                 pcavs_act act, float *y) {                                  /* [n, c, hw] */
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm_cpu: non-positive size n=%d c=%d hw=%d", n, c, hw);
    if (!x || !scale || !shift || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm_cpu: NULL operand");
    const int nth = kc && kc->n_threads > 0 ? kc->n_threads : 1;
    const long planes = (long)n * c;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && planes * hw > 65536)
    for (long pl = 0; pl < planes; pl++) {
        const float sc = scale[pl % c], sh = shift[pl % c];
        const float *xp = x + (size_t)pl * hw;
        float *yp = y + (size_t)pl * hw;
        if (act == PCAVS_ACT_RELU) {
            for (int p = 0; p < hw; p++) {
                const float v = xp[p] * sc + sh;
                yp[p] = v < 0.0f ? 0.0f : v;
            }
        } else {
            for (int p = 0; p < hw; p++) yp[p] = xp[p] * sc + sh;
        }
    }
    return PCAVS_OK;
}
