/* sgemm_nn_cpu.c: pcavs_sgemm_nn (sgemm_nn.h): the SIMD form this CPU has, else OpenBLAS.
 * $PCAVS_SGEMM_NN=blas picks OpenBLAS on any CPU (for tests and benchmarks), as does $PCAVS_CPU_CAP below avx512. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cpu_features.h"
#include "sgemm_nn.h"

typedef void (*sgemm_nn_fn)(int, int, int, const float *, int, const float *, int, float *, int);

static void sgemm_nn_blas(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

static sgemm_nn_fn sgemm_nn_choose(void) {
    const pcavs_cpu_features f = pcavs_cpu_detect();
    const char *want = getenv("PCAVS_SGEMM_NN");
#if PCAVS_X86
    if (f.avx512f && !(want && !strcmp(want, "blas"))) return pcavs_sgemm_nn_avx512;
#else
    (void)f, (void)want;
#endif
    return sgemm_nn_blas;
}

/* The form, chosen once (two threads racing here choose the same function). */
static sgemm_nn_fn sgemm_nn_chosen(void) {
    static _Atomic(sgemm_nn_fn) chosen;
    sgemm_nn_fn fn = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!fn) {
        fn = sgemm_nn_choose();
        atomic_store_explicit(&chosen, fn, memory_order_relaxed);
    }
    return fn;
}

const char *pcavs_sgemm_nn_form(void) { return sgemm_nn_chosen() == sgemm_nn_blas ? "blas" : "avx512"; }

void pcavs_sgemm_nn(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    const sgemm_nn_fn fn = sgemm_nn_chosen();
    if (m < 1 || n < 1) return;
    if (k < 1) {
        for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    fn(m, n, k, a, lda, b, ldb, c, ldc);
}
