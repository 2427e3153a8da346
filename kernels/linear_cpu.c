/* linear_cpu.c: production CPU fully connected layer (nn.Linear, see linear.h): y = x . w^T + b
 * with cblas_sgemv for one row and cblas_sgemm otherwise (bias preloaded into y, beta = 1), then
 * the fused ReLU. Where the weights are large enough, kc's OpenMP threads split the outputs, each
 * calling single-threaded OpenBLAS on its rows of w: OpenBLAS's own worker threads, once woken by a
 * threaded call, spin in sched_yield for ~2^28 cycles, and the generator's 17 per-frame modulation layers
 * would wake them often enough to keep one spinning, taking CPU from our OpenMP threads. */
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "linear.h"

#define LINEAR_SPLIT_MIN (64 * 1024) /* weights (out x in) below which one thread runs it all */

pcavs_status pcavs_linear_check(int rows, int in, int out, const float *x, const float *w, const float *y,
                                pcavs_act act); /* linear_ref.c */

pcavs_status pcavs_linear_cpu(const pcavs_kctx *kc, int rows, int in, int out, const float *x, /* [rows, in] */
                              const float *w,                                                  /* [out, in] */
                              const float *bias,                                               /* [out] or NULL */
                              pcavs_act act, float *y) {                                       /* [rows, out] */
    (void)kc;
    PCAVS_TRY(pcavs_linear_check(rows, in, out, x, w, y, act));
    for (int i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * out;
        if (bias)
            memcpy(yr, bias, (size_t)out * sizeof(float));
        else
            memset(yr, 0, (size_t)out * sizeof(float));
    }
    const int blas_threads = pcavs_blas_single_threaded(); /* single-threaded calls, in our threads or this one */
    const int nth = (size_t)out * in >= LINEAR_SPLIT_MIN && kc && kc->n_threads > 1 ? kc->n_threads : 1;
#pragma omp parallel num_threads(nth)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int o0 = (int)((long)out * t / nt) & ~15, o1 = t == nt - 1 ? out : (int)((long)out * (t + 1) / nt) & ~15;
        if (o1 > o0) {
            const float *wo = w + (size_t)o0 * in; /* [o1 - o0, in] */
            if (rows == 1)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, o1 - o0, in, 1.0f, wo, in, x, 1, 1.0f, y + o0, 1);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, o1 - o0, in, 1.0f, x, in, wo, in, 1.0f,
                            y + o0, out);
        }
    }
    pcavs_blas_threads_restore(blas_threads);
    if (act == PCAVS_ACT_RELU) {
        const size_t count = (size_t)rows * out;
        for (size_t t = 0; t < count; t++) y[t] = y[t] < 0.0f ? 0.0f : y[t];
    }
    return PCAVS_OK;
}
