/* linear_ref.c: reference fully connected layer (PyTorch nn.Linear / F.linear, and Conv1d k=1
 * per time step): y[i][o] = sum_k x[i][k] * w[o][k] + bias[o], then act; double accumulation. */
#include "linear.h"

pcavs_status pcavs_linear_check(int rows, int in, int out, const float *x, const float *w, const float *y,
                                pcavs_act act);

/* Shared by every backend. */
pcavs_status pcavs_linear_check(int rows, int in, int out, const float *x, const float *w, const float *y,
                                pcavs_act act) {
    if (rows < 1 || in < 1 || out < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "linear: non-positive size rows=%d in=%d out=%d", rows, in, out);
    if (!x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "linear: x, w or y is NULL");
    if (act != PCAVS_ACT_NONE && act != PCAVS_ACT_RELU)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "linear: unknown activation %d", (int)act);
    return PCAVS_OK;
}

pcavs_status pcavs_linear_ref(const pcavs_kctx *kc, int rows, int in, int out, const float *x, /* [rows, in] */
                              const float *w,                                                  /* [out, in] */
                              const float *bias,                                               /* [out] or NULL */
                              pcavs_act act, float *y) {                                       /* [rows, out] */
    (void)kc;
    PCAVS_TRY(pcavs_linear_check(rows, in, out, x, w, y, act));
    for (int i = 0; i < rows; i++)
        for (int o = 0; o < out; o++) {
            double acc = bias ? bias[o] : 0.0;
            for (int k = 0; k < in; k++) acc += (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
            float v = (float)acc;
            if (act == PCAVS_ACT_RELU && v < 0.0f) v = 0.0f;
            y[(size_t)i * out + o] = v;
        }
    return PCAVS_OK;
}
