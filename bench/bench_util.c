/* bench_util.c: timing, peak measurement and table rows for the micro-benchmarks. */
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cblas.h>

#include "arena.h"
#include "cpu_features.h"

double pb_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pb_time_ms(pb_fn fn, void *ctx, double min_s) {
    enum { MAXRUNS = 1000 };
    static double t[MAXRUNS];
    fn(ctx);
    int n = 0;
    double start = pb_now_s();
    while (n < MAXRUNS && (n < 3 || pb_now_s() - start < min_s)) {
        double t0 = pb_now_s();
        fn(ctx);
        t[n++] = (pb_now_s() - t0) * 1e3;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

int pb_threads(void) {
    const char *e = getenv("PCAVS_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

typedef struct {
    int n;
    float *a, *b, *c;
} sgemm_ctx;

static void run_sgemm(void *p) {
    sgemm_ctx *s = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->n, s->n, 1.0f, s->a, s->n, s->b, s->n, 0.0f, s->c,
                s->n);
}

double pb_sgemm_peak_gflops(int threads) {
    static double cached = 0;
    if (cached > 0) return cached;
    pcavs_cpu_set_threads(threads);
    sgemm_ctx s = {2048, NULL, NULL, NULL};
    size_t nn = (size_t)s.n * (size_t)s.n;
    s.a = pb_alloc_uniform(nn, 1);
    s.b = pb_alloc_uniform(nn, 2);
    s.c = pb_alloc_uniform(nn, 3);
    double ms = pb_time_ms(run_sgemm, &s, 1.0);
    cached = 2.0 * s.n * (double)s.n * s.n / (ms * 1e-3) / 1e9;
    pcavs_aligned_free(s.a);
    pcavs_aligned_free(s.b);
    pcavs_aligned_free(s.c);
    return cached;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma_loop_avx512(long iters) {
    /* distinct starting values: with equal ones gcc merges the 12 chains into one (seen: a single
     * vfmadd per iteration, which made the "peak" 12 x one FMA's latency and varied with the clock) */
    __m512 a0 = _mm512_set1_ps(1.00f), a1 = _mm512_set1_ps(1.01f), a2 = _mm512_set1_ps(1.02f);
    __m512 a3 = _mm512_set1_ps(1.03f), a4 = _mm512_set1_ps(1.04f), a5 = _mm512_set1_ps(1.05f);
    __m512 a6 = _mm512_set1_ps(1.06f), a7 = _mm512_set1_ps(1.07f), a8 = _mm512_set1_ps(1.08f);
    __m512 a9 = _mm512_set1_ps(1.09f), a10 = _mm512_set1_ps(1.10f), a11 = _mm512_set1_ps(1.11f);
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, m, c);
        a1 = _mm512_fmadd_ps(a1, m, c);
        a2 = _mm512_fmadd_ps(a2, m, c);
        a3 = _mm512_fmadd_ps(a3, m, c);
        a4 = _mm512_fmadd_ps(a4, m, c);
        a5 = _mm512_fmadd_ps(a5, m, c);
        a6 = _mm512_fmadd_ps(a6, m, c);
        a7 = _mm512_fmadd_ps(a7, m, c);
        a8 = _mm512_fmadd_ps(a8, m, c);
        a9 = _mm512_fmadd_ps(a9, m, c);
        a10 = _mm512_fmadd_ps(a10, m, c);
        a11 = _mm512_fmadd_ps(a11, m, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return (double)_mm512_reduce_add_ps(s) + 12.0 * 16 * 2; /* flops per iteration, kept live */
}
__attribute__((target("avx2,fma"))) static double fma_loop_avx2(long iters) {
    __m256 a0 = _mm256_set1_ps(1.00f), a1 = _mm256_set1_ps(1.01f), a2 = _mm256_set1_ps(1.02f); /* distinct: see above */
    __m256 a3 = _mm256_set1_ps(1.03f), a4 = _mm256_set1_ps(1.04f), a5 = _mm256_set1_ps(1.05f);
    __m256 a6 = _mm256_set1_ps(1.06f), a7 = _mm256_set1_ps(1.07f), a8 = _mm256_set1_ps(1.08f);
    __m256 a9 = _mm256_set1_ps(1.09f), a10 = _mm256_set1_ps(1.10f), a11 = _mm256_set1_ps(1.11f);
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, m, c);
        a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c);
        a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c);
        a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c);
        a11 = _mm256_fmadd_ps(a11, m, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float o[8];
    _mm256_storeu_ps(o, s);
    return (double)(o[0] + o[7]);
}
#endif

double pb_fma_peak_gflops(int threads) {
    static double cached = 0;
    if (cached > 0) return cached;
#if defined(__x86_64__)
    pcavs_cpu_features f = pcavs_cpu_detect();
    int wide = f.avx512f;
    if (!f.avx2 && !wide) return 0;
    /* best of 5: a peak is a maximum, single runs vary widely on a shared machine, and OpenBLAS's threads
     * may still be spinning after the sgemm peak measured just before */
    const long iters = 20000000;
    double sink = 0, best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = pb_now_s();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        { sink += wide ? fma_loop_avx512(iters) : fma_loop_avx2(iters); }
        double dt = pb_now_s() - t0;
        double gf = (double)threads * iters * 12.0 * (wide ? 16 : 8) * 2.0 / dt / 1e9;
        if (gf > best) best = gf;
    }
    if (sink == 12345.678) printf(" ");
    cached = best;
#endif
    return cached;
}

void pb_header(int threads) {
    double sg = pb_sgemm_peak_gflops(threads), fm = pb_fma_peak_gflops(threads);
    printf("machine: %d threads, OpenBLAS core %s, measured sgemm peak %.1f GFLOP/s, FMA peak %.1f GFLOP/s\n\n",
           threads, pcavs_cpu_blas_core_in_use(), sg, fm);
    printf("| op | shape | ms | GFLOP/s | %% sgemm peak | %% FMA peak | rel err vs ref |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
}

void pb_row(const char *op, const char *shape, double ms, double flops, double rel_err) {
    double gf = flops / (ms * 1e-3) / 1e9;
    double sg = pb_sgemm_peak_gflops(1), fm = pb_fma_peak_gflops(1);
    printf("| %s | %s | %.3f | %.1f | %.1f | %.1f | %.1e |\n", op, shape, ms, gf, sg > 0 ? 100 * gf / sg : 0,
           fm > 0 ? 100 * gf / fm : 0, rel_err);
    fflush(stdout);
}

int pb_validate(const char *what, const float *got, const float *want, size_t n, double bound) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    double r = den > 0 ? sqrt(num / den) : sqrt(num);
    if (!(r <= bound)) {
        fprintf(stderr, "bench: %s does not match its reference: rel_l2 %.3e > %.1e\n", what, r, bound);
        return 0;
    }
    return 1;
}

pcavs_kctx pb_host_kctx(size_t scratch_mb, int n_threads) {
    pcavs_kctx kc;
    memset(&kc, 0, sizeof kc);
    kc.n_threads = n_threads;
    kc.scratch_bytes = scratch_mb << 20;
    kc.scratch = pcavs_aligned_alloc(kc.scratch_bytes);
    if (!kc.scratch) {
        fprintf(stderr, "bench: cannot allocate scratch\n");
        exit(2);
    }
    return kc;
}

float *pb_alloc_uniform(size_t n, uint64_t seed) {
    float *p = pcavs_aligned_alloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (float)((double)(s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
    }
    return p;
}
