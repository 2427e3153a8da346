/* softmax_ref.c: reference softmax along the middle axis of [outer, len, inner] (nn.Softmax(dim=2)
 * of A_sync's attentive pooling over 3 time steps): max-subtracted exponentials summed in double. */
#include <math.h>

#include "softmax.h"

pcavs_status pcavs_softmax_ref(const pcavs_kctx *kc, int outer, int len, int inner,
                               const float *x, /* [outer, len, inner] */
                               float *y) {     /* [outer, len, inner] */
    if (outer < 1 || len < 1 || inner < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_ref: non-positive size outer=%d len=%d inner=%d", outer, len,
                          inner);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_ref: NULL operand");
    for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++) {
            const size_t base = (size_t)o * len * inner + i;
            double m = -INFINITY, s = 0.0;
            for (int l = 0; l < len; l++) m = fmax(m, (double)x[base + (size_t)l * inner]);
            for (int l = 0; l < len; l++) s += exp((double)x[base + (size_t)l * inner] - m);
            for (int l = 0; l < len; l++)
                y[base + (size_t)l * inner] = (float)(exp((double)x[base + (size_t)l * inner] - m) / s);
        }
    return PCAVS_OK;
}
