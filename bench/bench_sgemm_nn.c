/* bench_sgemm_nn.c: micro-benchmark of the packing-free GEMM of the Winograd convolutions (kernels/sgemm_nn.h)
 * as they call it: one thread, the 36 products M[p] = U[p] V[p] of one chunk, each on its own operands (so B
 * comes from L2/L3 as after the input transform, not hot in L1), at the generator's Winograd shapes, against
 * OpenBLAS sgemm (beta = 0, the former call) on the same operands in the same run; the ratio is the speed-up.
 * Validated against cblas_sgemm first (rel L2 <= 1e-5; the column shows it). The layers as the model runs them:
 * bench_modconv. Usage: bench_sgemm_nn */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "arena.h"
#include "bench_util.h"
#include "cpu_features.h"
#include "sgemm_nn.h"

#define POINTS 36

typedef struct {
    const char *label;
    int m, n, k; /* c_out, tiles, c_in */
} scase;

static const scase CASES[] = {
    {"conv 14x14 512->512 (16 tiles)", 512, 16, 512},
    {"conv 28x28 512->512", 512, 49, 512},
    {"conv 56x56 512->512", 512, 196, 512},
    {"conv 112x112 256->256", 256, 784, 256},
    {"conv 224x224 128->128 (a 1820-tile chunk)", 128, 1820, 128},
    {"up 56->112 512->256 (EE, 841 tiles)", 256, 841, 512},
    {"up 112->224 256->128 (EE, 841 tiles)", 128, 841, 256},
};

typedef struct {
    const scase *c;
    const float *a, *b;
    float *y;
    int blas;
} run_ctx;

static void run(void *p) {
    const run_ctx *r = (const run_ctx *)p;
    const int m = r->c->m, n = r->c->n, k = r->c->k;
    for (int q = 0; q < POINTS; q++) {
        const float *a = r->a + (size_t)q * m * k, *b = r->b + (size_t)q * k * n;
        float *y = r->y + (size_t)q * m * n;
        if (r->blas)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, y, n);
        else
            pcavs_sgemm_nn(m, n, k, a, k, b, n, y, n);
    }
}

static double rel_l2(const float *got, const float *want, size_t n) {
    double e = 0, w = 0;
    for (size_t i = 0; i < n; i++)
        e += ((double)got[i] - want[i]) * ((double)got[i] - want[i]), w += (double)want[i] * want[i];
    return w > 0 ? sqrt(e / w) : sqrt(e);
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv);
    pcavs_cpu_set_threads(1);
    printf("pcavs_sgemm_nn form: %s (PyTorch is not involved: the baseline is OpenBLAS, one thread)\n",
           pcavs_sgemm_nn_form());
    pb_header(1);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const scase *c = &CASES[i];
        const size_t na = (size_t)POINTS * c->m * c->k, nb = (size_t)POINTS * c->k * c->n,
                     ny = (size_t)POINTS * c->m * c->n;
        float *a = pb_alloc_uniform(na, 1 + i), *b = pb_alloc_uniform(nb, 100 + i);
        float *y = pb_alloc_uniform(ny, 200 + i), *yb = pb_alloc_uniform(ny, 300 + i);
        run_ctx mine = {c, a, b, y, 0}, blas = {c, a, b, yb, 1};
        run(&mine), run(&blas);
        if (!pb_validate(c->label, y, yb, ny, 1e-5)) return 1;
        const double flops = 2.0 * POINTS * c->m * c->n * c->k;
        const double ms = pb_time_ms(run, &mine, 0.5), ms_blas = pb_time_ms(run, &blas, 0.5);
        char shape[96], op[160];
        snprintf(shape, sizeof shape, "36 x %dx%dx%d", c->m, c->n, c->k);
        snprintf(op, sizeof op, "%s: sgemm_nn (%.2fx OpenBLAS)", c->label, ms_blas / ms);
        pb_row(op, shape, ms, flops, rel_l2(y, yb, ny));
        snprintf(op, sizeof op, "%s: OpenBLAS sgemm", c->label);
        pb_row(op, shape, ms_blas, flops, 0.0);
        pcavs_aligned_free(a), pcavs_aligned_free(b), pcavs_aligned_free(y), pcavs_aligned_free(yb);
    }
    return 0;
}
