/* bench_gemm_bf16.c: micro-benchmark of the bf16 GEMM (kernels/gemm_bf16.h) on packed operands, the path
 * the AVX512-BF16 unit (and AMX where c_in is not a multiple of 32) runs, at GEMM shapes of the generator's
 * 3x3 layers (M = c_out, K = 9 * c_in, N = a pixel tile; and the 9 x c_out by c_in shape of a tap-wise
 * upsampling GEMM), one thread (the callers split work between threads), against OpenBLAS sgemm on the same
 * float32 operands with one thread, and the B packing (GB/s of float32 read). Each unit is validated
 * against pcavs_gemm_bf16_ref on the first 64 columns (rel L2 <= 1e-5) before timing. Units the CPU lacks
 * are skipped with the reason. The layers as the model runs them (AMX without packing, the upsampling
 * phases): bench_modconv with PCAVS_PRECISION=bf16.
 * Usage: bench_gemm_bf16 */
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "bench_util.h"
#include "cpu_features.h"
#include "gemm_bf16.h"

typedef struct {
    const char *label;
    int m, k;
    long n;
} gcase;

static const gcase CASES[] = {
    {"conv 224x224 128->128 (im2col tile)", 128, 1152, 2048}, {"conv 112x112 256->256 (im2col tile)", 256, 2304, 2048},
    {"conv 56x56 512->512 (im2col tile)", 512, 4608, 1024},   {"up 56->112 512->256 (tap GEMM)", 2304, 512, 3136},
    {"up 112->224 256->128 (tap GEMM)", 1152, 256, 12544},
};

typedef struct {
    int which; /* 0 sgemm, 1 AMX, 2 AVX512-BF16, 3 pack B */
    int m, k;
    long n;
    const float *a, *b;
    const uint16_t *ap;
    uint16_t *bp;
    float *c;
} run_ctx;

static void run(void *p) {
    run_ctx *r = p;
    switch (r->which) {
    case 0:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r->m, (int)r->n, r->k, 1.0f, r->a, r->k, r->b, (int)r->n,
                    0.0f, r->c, (int)r->n);
        break;
    case 1:
        pcavs_gemm_bf16_amx(r->m, r->n, r->k, r->ap, r->bp, r->c, r->n);
        break;
    case 2:
        pcavs_gemm_bf16_avx512(r->m, r->n, r->k, r->ap, r->bp, r->c, r->n);
        break;
    default:
        pcavs_bf16_pack_b_cpu(r->k, r->n, r->b, r->n, r->bp);
    }
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv);
    pcavs_cpu_set_threads(1);
    pb_header(1);
    const pcavs_bf16_unit have = pcavs_bf16_unit_detect();
    printf("bf16 unit: %s (OpenBLAS core %s)\n\n", pcavs_bf16_unit_name(have), pcavs_cpu_blas_core_in_use());
    int failed = 0;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const gcase *g = &CASES[ci];
        float *a = pb_alloc_uniform((size_t)g->m * g->k, 1 + ci), *b = pb_alloc_uniform((size_t)g->k * g->n, 2 + ci);
        float *c = pb_alloc_uniform((size_t)g->m * g->n, 3);
        uint16_t *ap = malloc(pcavs_bf16_a_elems(g->m, g->k) * sizeof(uint16_t));
        uint16_t *bp = malloc(pcavs_bf16_b_elems(g->k, g->n) * sizeof(uint16_t));
        if (!ap || !bp) {
            fprintf(stderr, "bench_gemm_bf16: out of memory\n");
            return 1;
        }
        pcavs_bf16_pack_a(g->m, g->k, a, g->k, 1.0f, ap);
        pcavs_bf16_pack_b_cpu(g->k, g->n, b, g->n, bp);
        char shape[96];
        snprintf(shape, sizeof shape, "M %d x N %ld x K %d", g->m, g->n, g->k);
        const double flops = 2.0 * g->m * (double)g->n * g->k;
        run_ctx r = {0, g->m, g->k, g->n, a, b, ap, bp, c};
        pb_row("sgemm fp32 (OpenBLAS, 1 thread)", shape, pb_time_ms(run, &r, 0.5), flops, 0);
        for (int u = 1; u <= 2; u++) {
            const pcavs_bf16_unit need = u == 1 ? PCAVS_BF16_AMX : PCAVS_BF16_AVX512;
            char what[96];
            snprintf(what, sizeof what, "%s %s", g->label, pcavs_bf16_unit_name(need));
            if (have < need) {
                printf("SKIP %s: this CPU/OS offers only %s\n", what, pcavs_bf16_unit_name(have));
                continue;
            }
            float *want = pb_alloc_uniform((size_t)g->m * 64, 4), *got = pb_alloc_uniform((size_t)g->m * 64, 5);
            pcavs_gemm_bf16_ref(g->m, 64, g->k, ap, bp, want, 64);
            (u == 1 ? pcavs_gemm_bf16_amx : pcavs_gemm_bf16_avx512)(g->m, 64, g->k, ap, bp, got, 64);
            if (!pb_validate(what, got, want, (size_t)g->m * 64, 1e-5)) failed = 1;
            free(want);
            free(got);
            r.which = u;
            pb_row(what, shape, pb_time_ms(run, &r, 0.5), flops, 0);
        }
        r.which = 3;
        const double ms = pb_time_ms(run, &r, 0.3);
        printf("| pack B (f32 -> bf16 pairs) | K %d x N %ld | %.3f ms | %.1f GB/s read |\n", g->k, g->n, ms,
               4.0 * g->k * g->n / (ms * 1e6));
        free(a);
        free(b);
        free(c);
        free(ap);
        free(bp);
    }
    return failed;
}
