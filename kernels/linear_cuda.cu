/* linear_cuda.cu: CUDA fully connected layer (nn.Linear, see linear.h): y = x . w^T + b via
 * cuBLAS SGEMM (fp32) on stream kc->cuda_stream, bias preloaded into y (beta = 1), then ReLU.
 * Every CUDA / cuBLAS error becomes PCAVS_ERR_BACKEND with its message. */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "linear.h"
pcavs_status pcavs_linear_check(int rows, int in, int out, const float *x, const float *w, const float *y,
                                pcavs_act act); /* linear_ref.c */
}

static int blocks_for(long total) {
    long b = (total + 255) / 256;
    if (b > 65535) b = 65535;
    return b < 1 ? 1 : (int)b;
}

__global__ void k_bias_rows(int rows, int out, const float *__restrict__ bias, float *__restrict__ y) {
    const long total = (long)rows * out;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x)
        y[i] = bias ? bias[i % out] : 0.0f;
}

__global__ void k_relu(long count, float *y) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count; i += (long)gridDim.x * blockDim.x)
        if (y[i] < 0.0f) y[i] = 0.0f;
}

extern "C" pcavs_status pcavs_linear_cuda(const pcavs_kctx *kc, int rows, int in, int out,
                                          const float *x,            /* [rows, in] device */
                                          const float *w,            /* [out, in] device */
                                          const float *bias,         /* [out] device or NULL */
                                          pcavs_act act, float *y) { /* [rows, out] device */
    PCAVS_TRY(pcavs_linear_check(rows, in, out, x, w, y, act));
    if (!kc || !kc->cublas) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "linear_cuda: no cuBLAS handle in the context");
    cudaStream_t st = (cudaStream_t)kc->cuda_stream;
    cublasHandle_t h = (cublasHandle_t)kc->cublas;
    PCAVS_TRY(pcavs_cublas_check("linear_cuda", cublasSetStream(h, st), "cublasSetStream"));
    PCAVS_LAUNCH(k_bias_rows, blocks_for((long)rows * out), 256, 0, st)(rows, out, bias, y);
    PCAVS_TRY(pcavs_cu_launched("linear_cuda", "bias launch"));
    /* column-major view: y^T [out, rows] = (w viewed [in, out])^T . (x viewed [in, rows]) */
    const float one = 1.0f;
    const cublasStatus_t cs = cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, &one, w, in, x, in, &one, y, out);
    if (cs != CUBLAS_STATUS_SUCCESS)
        return pcavs_fail(PCAVS_ERR_BACKEND, "linear_cuda: cublasSgemm (%d x %d -> %d): %s", rows, in, out,
                          cublasGetStatusString(cs));
    if (act == PCAVS_ACT_RELU) {
        PCAVS_LAUNCH(k_relu, blocks_for((long)rows * out), 256, 0, st)((long)rows * out, y);
        PCAVS_TRY(pcavs_cu_launched("linear_cuda", "relu launch"));
    }
    return PCAVS_OK;
}
