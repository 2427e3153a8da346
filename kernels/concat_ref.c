/* concat_ref.c: reference channel concatenation (torch.cat(dim=1)): FAN ConvBlock's
 * cat((out1, out2, out3), 1) and the style vector cat(id_feature, pose_feature). */
#include "concat.h"

pcavs_status pcavs_concat_ref(const pcavs_kctx *kc, int n, int count,
                              const float *const *xs,                  /* count x [n, channels[i], hw] */
                              const int *channels, int hw, float *y) { /* [n, sum(channels), hw] */
    if (n < 1 || count < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_ref: non-positive size n=%d count=%d hw=%d", n, count, hw);
    if (!xs || !channels || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_ref: NULL operand");
    long ctot = 0;
    for (int i = 0; i < count; i++) {
        if (channels[i] < 1 || !xs[i])
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_ref: input %d: channels=%d or NULL pointer", i,
                              channels[i]);
        ctot += channels[i];
    }
    for (int b = 0; b < n; b++) {
        long c0 = 0;
        for (int i = 0; i < count; i++) {
            for (int ch = 0; ch < channels[i]; ch++)
                for (int p = 0; p < hw; p++)
                    y[((size_t)b * ctot + c0 + ch) * hw + p] = xs[i][((size_t)b * channels[i] + ch) * hw + p];
            c0 += channels[i];
        }
    }
    return PCAVS_OK;
}
