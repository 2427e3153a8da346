/* bench_util.h: timing and reporting for the micro-benchmarks. Each benchmark validates the
 * production kernel against its _ref on the same inputs first, then times it, and prints
 * ms, GFLOP/s (or GB/s) and the fraction of this machine's sgemm and FMA peaks measured in
 * the same run. Rows are Markdown table rows so notes and the README can quote them. */
#ifndef PCAVS_BENCH_UTIL_H
#define PCAVS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kctx.h"

typedef void (*pb_fn)(void *ctx);

double pb_now_s(void);
/* Runs fn once to warm up, then repeatedly for at least min_s seconds (and >= 3 times);
 * returns the median time in milliseconds. */
double pb_time_ms(pb_fn fn, void *ctx, double min_s);

/* Measured peaks of this machine with `threads` threads: OpenBLAS sgemm on 2048^3 and a
 * register-resident FMA loop (AVX-512 where available, else AVX2). Cached after the first call. */
double pb_sgemm_peak_gflops(int threads);
double pb_fma_peak_gflops(int threads);

/* Prints the table header and the peaks; then one row per case. */
void pb_header(int threads);
void pb_row(const char *op, const char *shape, double ms, double flops, double rel_err);

/* Validates: rel L2 of got vs want must be <= bound, else prints and returns 0. */
int pb_validate(const char *what, const float *got, const float *want, size_t n, double bound);

pcavs_kctx pb_host_kctx(size_t scratch_mb, int n_threads);
float *pb_alloc_uniform(size_t n, uint64_t seed);
/* Threads from $PCAVS_THREADS or all cores. */
int pb_threads(void);

#endif
