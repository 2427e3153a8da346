/* cuda_check.h: CUDA runtime and cuBLAS results as a pcavs_status for kernels/<op>_cuda.cu: PCAVS_OK, or
 * PCAVS_ERR_BACKEND with "<op>: <what>: <the library's message>" (the runtime's sticky error cleared). */
#ifndef PCAVS_KERNELS_CUDA_CHECK_H
#define PCAVS_KERNELS_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "status.h"
}

static inline pcavs_status pcavs_cu_check(const char *op, cudaError_t e, const char *what) {
    if (e == cudaSuccess) return PCAVS_OK;
    cudaGetLastError();
    return pcavs_fail(PCAVS_ERR_BACKEND, "%s: %s: %s", op, what, cudaGetErrorString(e));
}

static inline pcavs_status pcavs_cublas_check(const char *op, cublasStatus_t s, const char *what) {
    if (s == CUBLAS_STATUS_SUCCESS) return PCAVS_OK;
    return pcavs_fail(PCAVS_ERR_BACKEND, "%s: %s: %s", op, what, cublasGetStatusString(s));
}

/* After a PCAVS_LAUNCH: the launch's error, "<op>: <what>: ..." */
static inline pcavs_status pcavs_cu_launched(const char *op, const char *what) {
    return pcavs_cu_check(op, cudaGetLastError(), what);
}

#endif
