/* sgemm_nn.h: single-threaded C = A B for row-major float32 matrices, without packing either operand:
 * the GEMMs inside the Winograd convolutions (winograd_cpu.c, winograd_up_cpu.c), whose B (the transformed
 * input V) was just written and is read here straight from where it lies, and whose C is stored once
 * (OpenBLAS packs B into its own buffer and clears C before accumulating with beta = 0: a sizeable share of
 * those layers' time). The AVX-512 micro-kernel holds 8 rows x 48 columns of C in 24 registers and broadcasts
 * A; other CPUs get cblas_sgemm (an AVX2 form of ours did not beat OpenBLAS's AVX2 kernels). Each C element is
 * the sum over k in order, one FMA per term. Internal to kernels/ (tests/test_sgemm_nn.c, bench/bench_sgemm_nn.c). */
#ifndef PCAVS_KERNELS_SGEMM_NN_H
#define PCAVS_KERNELS_SGEMM_NN_H

/* c [m, n] (row stride ldc) = a [m, k] (lda) * b [k, n] (ldb); c overwritten, must not alias a or b. */
void pcavs_sgemm_nn(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc);

/* The form pcavs_sgemm_nn runs on this CPU: "avx512" or "blas" ($PCAVS_SGEMM_NN=blas chooses OpenBLAS, for
 * tests and benchmarks). */
const char *pcavs_sgemm_nn_form(void);

/* The AVX-512 form (sgemm_nn_cpu_avx512.c), called only where the CPU has AVX-512F. */
void pcavs_sgemm_nn_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc);

#endif
