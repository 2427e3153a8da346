/* test_sgemm_nn.c: the packing-free GEMM of the Winograd convolutions (kernels/sgemm_nn.h) against a float64
 * GEMM of the same float32 operands, relative L2 <= 1e-5 (the single-op bound; a float32 sum of k products
 * is off by ~sqrt(k) x 6e-8 rms: measured ~1e-7..3e-7), on shapes with every kind of tail (m not a multiple
 * of 8, n of 16 and 48 with up to 8 columns past the last vector taken as dot products or more as a masked
 * vector, k of 256 where partial sums are added, k = 1) and the generator's Winograd shapes,
 * all as sub-matrices of larger arrays (lda, ldb, ldc past the width). Every element of C outside m x n is
 * NaN-poisoned first and must stay so (masked stores), and k = 0 gives zeros. The AVX-512 form is checked
 * directly where the CPU has it (else skipped with the reason), then the dispatcher, whatever it chose. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_features.h"
#include "sgemm_nn.h"
#include "test_util.h"

#if !PCAVS_X86 /* the AVX-512 form is built for x86 only (and run only where pcavs_cpu_detect() finds it) */
#define pcavs_sgemm_nn_avx512 NULL
#endif

typedef void (*sgemm_fn)(int, int, int, const float *, int, const float *, int, float *, int);

typedef struct {
    int m, n, k;
} shape;

static const shape SHAPES[] = {
    {8, 48, 1},     {1, 1, 1},
    {13, 50, 7},    {3, 5, 300},
    {16, 97, 513},  {7, 33, 64},
    {9, 17, 256},   {24, 95, 257},
    {40, 47, 31},   {128, 196, 512},                              /* generator 56x56 */
    {64, 784, 256}, /* 112x112, half the rows */ {128, 300, 128}, /* 224x224, a chunk */
    {16, 5, 300},   {8, 8, 40},    /* only the dot-product columns (n <= 8), over K blocks */
    {24, 49, 512},  {8, 225, 512}, /* 28x28: 48 + 1 tiles; an upsampling phase at 56x56: 224 + 1 */
};

/* C = A B in float64, the reference */
static void gemm_f64(int m, int n, int k, const float *a, int lda, const float *b, int ldb, double *c) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)a[(size_t)i * lda + p] * b[(size_t)p * ldb + j];
            c[(size_t)i * n + j] = s;
        }
}

static void run_shape(const char *form, sgemm_fn fn, const shape *t) {
    const int lda = t->k + 3, ldb = t->n + 5, ldc = t->n + 7, rows = t->m + 2; /* C has 2 rows past m */
    float *a = pt_alloc((size_t)t->m * lda), *b = pt_alloc((size_t)(t->k > 0 ? t->k : 1) * ldb);
    float *c = pt_alloc((size_t)rows * ldc), *got = pt_alloc((size_t)t->m * t->n),
          *want = pt_alloc((size_t)t->m * t->n);
    double *c64 = malloc((size_t)t->m * t->n * sizeof(double));
    if (!c64) {
        fprintf(stderr, "test_sgemm_nn: out of memory\n");
        exit(1);
    }
    pt_fill_normal(a, (size_t)t->m * lda, 1, 1.0f);
    pt_fill_normal(b, (size_t)(t->k > 0 ? t->k : 1) * ldb, 2, 1.0f);
    for (size_t i = 0; i < (size_t)rows * ldc; i++) c[i] = NAN;
    fn(t->m, t->n, t->k, a, lda, b, ldb, c, ldc);
    gemm_f64(t->m, t->n, t->k, a, lda, b, ldb, c64);
    size_t poisoned = 0; /* elements outside m x n that are no longer NaN */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < ldc; j++) {
            const float v = c[(size_t)i * ldc + j];
            if (i < t->m && j < t->n) {
                got[(size_t)i * t->n + j] = v;
                want[(size_t)i * t->n + j] = (float)c64[(size_t)i * t->n + j];
            } else if (!isnan(v)) {
                poisoned++;
            }
        }
    char what[128];
    snprintf(what, sizeof what, "%s %dx%dx%d (lda %d, ldb %d, ldc %d)", form, t->m, t->n, t->k, lda, ldb, ldc);
    pt_check_rel_l2(what, got, want, (size_t)t->m * t->n, 1e-5);
    pt_check(poisoned == 0, "%s: %zu elements of C outside m x n written (want 0)", what, poisoned);
    pt_free(a), pt_free(b), pt_free(c), pt_free(got), pt_free(want), free(c64);
}

static void run_form(const char *form, sgemm_fn fn) {
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) run_shape(form, fn, &SHAPES[i]);
}

int main(void) {
    const pcavs_cpu_features f = pcavs_cpu_detect();
    if (f.avx512f)
        run_form("avx512", pcavs_sgemm_nn_avx512);
    else
        pt_skip("sgemm_nn avx512 form: this CPU has no AVX-512F");
    char label[64];
    snprintf(label, sizeof label, "dispatch (%s)", pcavs_sgemm_nn_form());
    run_form(label, pcavs_sgemm_nn);
    const char *env = getenv("PCAVS_SGEMM_NN");
    const int blas_asked = env && !strcmp(env, "blas");
    pt_check(!strcmp(pcavs_sgemm_nn_form(), f.avx512f && !blas_asked ? "avx512" : "blas"),
             "dispatcher chose %s on a CPU %s AVX-512F (PCAVS_SGEMM_NN %s)", pcavs_sgemm_nn_form(),
             f.avx512f ? "with" : "without", env ? env : "unset");
    /* k = 0: C = 0 */
    float a = 1, b = 1, c[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    pcavs_sgemm_nn(2, 3, 0, &a, 1, &b, 3, c, 3);
    int zeros = 0;
    for (int i = 0; i < 6; i++) zeros += c[i] == 0.0f;
    pt_check(zeros == 6, "k = 0 gives C = 0 (%d of 6 zeros)", zeros);
    return pt_finish();
}
