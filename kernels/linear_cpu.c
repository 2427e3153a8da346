/* linear_cpu.c: production CPU fully connected layer (nn.Linear, see linear.h): y = x . w^T + b
 * with cblas_sgemv for one row and cblas_sgemm otherwise (bias preloaded into y, beta = 1), then
 * the fused ReLU. OpenBLAS threads itself; the kernel is called from serial code. */
#include <string.h>

#include <cblas.h>

#include "linear.h"

pcavs_status pcavs_linear_check(int rows, int in, int out, const float *x, const float *w, const float *y,
                                pcavs_act act); /* linear_ref.c */

pcavs_status pcavs_linear_cpu(const pcavs_kctx *kc, int rows, int in, int out, const float *x, /* [rows, in] */
                              const float *w,                  /* [out, in] */
                              const float *bias,               /* [out] or NULL */
                              pcavs_act act, float *y) {       /* [rows, out] */
    (void)kc;
    PCAVS_TRY(pcavs_linear_check(rows, in, out, x, w, y, act));
    for (int i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * out;
        if (bias)
            memcpy(yr, bias, (size_t)out * sizeof(float));
        else
            memset(yr, 0, (size_t)out * sizeof(float));
    }
    if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w, in, x, 1, 1.0f, y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, 1.0f, y, out);
    if (act == PCAVS_ACT_RELU) {
        const size_t count = (size_t)rows * out;
        for (size_t t = 0; t < count; t++) y[t] = y[t] < 0.0f ? 0.0f : y[t];
    }
    return PCAVS_OK;
}
