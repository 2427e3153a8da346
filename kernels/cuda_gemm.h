/* cuda_gemm.h: cuBLAS GEMMs in the context's precision (kctx.h's precision), for the CUDA kernels that honour it
 * (modconv_cuda.cu): float32 as plain cublasSgemm / cublasSgemmStridedBatched; the fast modes through
 * cublasGemmEx / cublasGemmStridedBatchedEx on the same float32 operands with compute type
 * CUBLAS_COMPUTE_32F_FAST_TF32 (tf32) or CUBLAS_COMPUTE_32F_FAST_16BF (bf16): tensor cores multiply the operands
 * rounded to TF32 (10-bit mantissa) or bf16 (7-bit) and sum in float32. cuBLAS's column-major convention,
 * C = op(A) op(B), alpha 1, beta 0. */
#ifndef PCAVS_KERNELS_CUDA_GEMM_H
#define PCAVS_KERNELS_CUDA_GEMM_H

#include <cublas_v2.h>

extern "C" {
#include "kctx.h"
}

static inline cublasComputeType_t pcavs_cuda_compute_type(const pcavs_kctx *kc) {
    return kc->precision == PCAVS_PRECISION_TF32   ? CUBLAS_COMPUTE_32F_FAST_TF32
           : kc->precision == PCAVS_PRECISION_BF16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                                   : CUBLAS_COMPUTE_32F;
}

static inline cublasStatus_t pcavs_cuda_gemm(const pcavs_kctx *kc, cublasHandle_t h, cublasOperation_t ta,
                                             cublasOperation_t tb, int m, int n, int k, const float *A, int lda,
                                             const float *B, int ldb, float *C, int ldc) {
    const float one = 1.0f, zero = 0.0f;
    if (kc->precision == PCAVS_PRECISION_FP32)
        return cublasSgemm(h, ta, tb, m, n, k, &one, A, lda, B, ldb, &zero, C, ldc);
    return cublasGemmEx(h, ta, tb, m, n, k, &one, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, &zero, C, CUDA_R_32F, ldc,
                        pcavs_cuda_compute_type(kc), CUBLAS_GEMM_DEFAULT);
}

static inline cublasStatus_t pcavs_cuda_gemm_strided(const pcavs_kctx *kc, cublasHandle_t h, cublasOperation_t ta,
                                                     cublasOperation_t tb, int m, int n, int k, const float *A, int lda,
                                                     long long sa, const float *B, int ldb, long long sb, float *C,
                                                     int ldc, long long sc, int batch) {
    const float one = 1.0f, zero = 0.0f;
    if (kc->precision == PCAVS_PRECISION_FP32)
        return cublasSgemmStridedBatched(h, ta, tb, m, n, k, &one, A, lda, sa, B, ldb, sb, &zero, C, ldc, sc, batch);
    return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, &one, A, CUDA_R_32F, lda, sa, B, CUDA_R_32F, ldb, sb, &zero,
                                      C, CUDA_R_32F, ldc, sc, batch, pcavs_cuda_compute_type(kc), CUBLAS_GEMM_DEFAULT);
}

#endif
