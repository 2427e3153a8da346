/* backend_cuda.c: the CUDA backend (issue 6): device detection, device memory slots
 * (cudaMalloc / cudaFree / cudaMemcpyAsync on the context's stream), the per-context stream
 * and cuBLAS handle (kctx_init / kctx_free), and the table of kernels/<op>_cuda.cu operators.
 * Plain C against the CUDA runtime API (cuda_runtime_api.h) and cuBLAS (cublas_v2.h); only
 * the kernels are .cu files. No upstream counterpart (PyTorch's CUDA device + caching allocator).
 *
 * Errors: every CUDA or cuBLAS failure becomes a pcavs_status with a one-line message naming
 * the call and the CUDA error (cudaErrorMemoryAllocation -> PCAVS_ERR_OOM, everything else
 * -> PCAVS_ERR_BACKEND); no device or no usable driver -> PCAVS_ERR_UNSUPPORTED from
 * pcavs_backend_cuda(), never a crash.
 *
 * Precision: fp32 by default. The cuBLAS handle is put in CUBLAS_DEFAULT_MATH, which never uses
 * TF32 tensor cores for fp32 GEMMs (so results match the CPU backends within the op tests'
 * 1e-5 bounds). The fast modes (pcavs_exec_params.precision tf32 or bf16, settled by precision_mode
 * and left in kc->precision) run the generator's modulated convolutions' GEMMs (modconv_cuda, ~3/4
 * of a frame's work) on tensor cores through cublasGemmEx with the compute type
 * CUBLAS_COMPUTE_32F_FAST_TF32 or _FAST_16BF (kernels/cuda_gemm.h); every other op (the encoders'
 * convolutions, the linear layers) stays float32: the encoders in bf16 cost the frames ~20 dB of
 * PSNR (measured with the emulation's rounding: 35 dB against 53 dB). On a GPU without those
 * tensor cores (before compute capability 8.0) cuBLAS runs them in float32.
 *
 * Weight forms: none; the kernels read the plain weights (prepare_* keep them as they are).
 * Batches run whole (per_sample_large_maps 0): a GPU has no cache a sample's maps would fit.
 *
 * Stream: one stream per context, created with default flags (it synchronises with the legacy
 * default stream, so a stray launch on stream 0 stays ordered rather than racing). */
#include <stddef.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend.h"

static pcavs_status cuda_fail(cudaError_t e, const char *what) {
    cudaGetLastError(); /* clear a non-sticky error so later calls start clean */
    return pcavs_fail(e == cudaErrorMemoryAllocation ? PCAVS_ERR_OOM : PCAVS_ERR_BACKEND, "CUDA: %s: %s (%s)", what,
                      cudaGetErrorString(e), cudaGetErrorName(e));
}

static pcavs_status cublas_fail(cublasStatus_t s, const char *what) {
    return pcavs_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? PCAVS_ERR_OOM : PCAVS_ERR_BACKEND, "cuBLAS: %s: %s (%d)", what,
                      cublasGetStatusString(s), (int)s);
}

#define CUDA_TRY(call, what)                                                                                           \
    do {                                                                                                               \
        cudaError_t pcavs_cuda_e_ = (call);                                                                            \
        if (pcavs_cuda_e_ != cudaSuccess) return cuda_fail(pcavs_cuda_e_, what);                                       \
    } while (0)

/* ---- memory ---- */

static pcavs_status cuda_alloc(size_t bytes, void **out) {
    *out = NULL;
    /* cudaMalloc aligns to >= 256 bytes (the 64-byte scratch promise holds). Size 0 still gets
     * a real allocation so that a non-NULL pointer always means "owned". */
    cudaError_t e = cudaMalloc(out, bytes ? bytes : 256);
    if (e != cudaSuccess) {
        *out = NULL;
        cudaGetLastError();
        return pcavs_fail(e == cudaErrorMemoryAllocation ? PCAVS_ERR_OOM : PCAVS_ERR_BACKEND,
                          "CUDA: cannot allocate %zu bytes of device memory: %s", bytes, cudaGetErrorString(e));
    }
    return PCAVS_OK;
}

static void cuda_free(void *p) {
    if (p) cudaFree(p); /* implicitly waits for work using p; an error here has nowhere to go */
}

/* Host -> device, ordered on the context's stream. With pageable `src` the runtime stages the
 * data before returning, so `src` may be reused at once; pinned `src` must stay untouched until
 * the next sync. */
static pcavs_status cuda_to_device(const pcavs_kctx *kc, void *dst, const void *src, size_t bytes) {
    if (!bytes) return PCAVS_OK;
    if (!dst || !src) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "to_device: NULL pointer");
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, (cudaStream_t)kc->cuda_stream),
             "cudaMemcpyAsync host->device");
    return PCAVS_OK;
}

/* Device -> host: ordered after every kernel queued on the stream, and complete on return
 * (the stream is synchronised), so the caller can read `dst` immediately. A kernel error
 * raised earlier on the stream surfaces here. */
static pcavs_status cuda_to_host(const pcavs_kctx *kc, void *dst, const void *src, size_t bytes) {
    if (!bytes) return PCAVS_OK;
    if (!dst || !src) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "to_host: NULL pointer");
    cudaStream_t s = (cudaStream_t)kc->cuda_stream;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync device->host");
    CUDA_TRY(cudaStreamSynchronize(s), "cudaStreamSynchronize after device->host copy");
    return PCAVS_OK;
}

static pcavs_status cuda_sync(const pcavs_kctx *kc) {
    CUDA_TRY(cudaStreamSynchronize((cudaStream_t)kc->cuda_stream), "cudaStreamSynchronize");
    CUDA_TRY(cudaGetLastError(), "a kernel on the stream");
    return PCAVS_OK;
}

/* ---- per-context stream and cuBLAS handle ---- */

static void cuda_kctx_free(pcavs_kctx *kc) {
    if (kc->cublas) cublasDestroy((cublasHandle_t)kc->cublas);
    if (kc->cuda_stream) {
        cudaStreamSynchronize((cudaStream_t)kc->cuda_stream);
        cudaStreamDestroy((cudaStream_t)kc->cuda_stream);
    }
    kc->cublas = NULL;
    kc->cuda_stream = NULL;
}

static pcavs_status cuda_kctx_init(pcavs_kctx *kc) {
    kc->cuda_stream = NULL;
    kc->cublas = NULL;
    /* Device 0 of those visible (CUDA_VISIBLE_DEVICES selects another). */
    CUDA_TRY(cudaSetDevice(0), "cudaSetDevice(0)");
    cudaStream_t stream = NULL;
    CUDA_TRY(cudaStreamCreate(&stream), "cudaStreamCreate");
    kc->cuda_stream = stream;
    cublasHandle_t h = NULL;
    cublasStatus_t s = cublasCreate(&h);
    if (s != CUBLAS_STATUS_SUCCESS) {
        cuda_kctx_free(kc);
        return cublas_fail(s, "cublasCreate");
    }
    kc->cublas = h;
    s = cublasSetStream(h, stream);
    /* fp32 GEMMs in true fp32 (no TF32); the fast modes ask for tensor cores per GEMM (kc->precision). */
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
    /* Device pointers for alpha/beta are not used: kernels pass host scalars. */
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST);
    if (s != CUBLAS_STATUS_SUCCESS) {
        cuda_kctx_free(kc);
        return cublas_fail(s, "configuring the cuBLAS handle");
    }
    return PCAVS_OK;
}

/* ---- precision and weight forms ---- */

static const char *cuda_precision_mode(pcavs_precision p, const char **why) {
    *why = NULL;
    switch (p) {
    case PCAVS_PRECISION_FP32:
        return "fp32";
    case PCAVS_PRECISION_TF32:
        return "tf32 (tensor cores)";
    case PCAVS_PRECISION_BF16:
        return "bf16 (tensor cores)";
    default:
        *why = "unknown precision";
        return NULL;
    }
}

static pcavs_status cuda_prepare_conv2d(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *w,
                                        pcavs_precision p, void **out, size_t *bytes) {
    (void)kc, (void)d, (void)w, (void)p;
    *out = NULL; /* the plain weight, as it is */
    *bytes = 0;
    return PCAVS_OK;
}

static pcavs_status cuda_prepare_modconv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *w,
                                         pcavs_precision p, void **out, size_t *bytes) {
    (void)kc, (void)d, (void)w, (void)p;
    *out = NULL;
    *bytes = 0;
    return PCAVS_OK;
}

static void cuda_free_prepared(void *prepared) { (void)prepared; }

/* ---- the table ---- */

static const pcavs_backend cuda_table = {
    .name = "cuda",
    .on_device = 1,
    .per_sample_large_maps = 0,
    .kctx_init = cuda_kctx_init,
    .kctx_free = cuda_kctx_free,
    .precision_mode = cuda_precision_mode,
    .prepare_conv2d = cuda_prepare_conv2d,
    .prepare_modconv = cuda_prepare_modconv,
    .free_prepared = cuda_free_prepared,
    .mem_alloc = cuda_alloc,
    .mem_free = cuda_free,
    .to_device = cuda_to_device,
    .to_host = cuda_to_host,
    .sync = cuda_sync,
    .conv2d = pcavs_conv2d_cuda,
    .conv_transpose2d = pcavs_conv_transpose2d_cuda,
    .linear = pcavs_linear_cuda,
    .batchnorm = pcavs_batchnorm_cuda,
    .relu = pcavs_relu_cuda,
    .sigmoid = pcavs_sigmoid_cuda,
    .tanh_ = pcavs_tanh_cuda,
    .fused_lrelu = pcavs_fused_lrelu_cuda,
    .noise_inject = pcavs_noise_inject_cuda,
    .softmax = pcavs_softmax_cuda,
    .maxpool2d = pcavs_maxpool2d_cuda,
    .global_avgpool = pcavs_global_avgpool_cuda,
    .adaptive_avgpool = pcavs_adaptive_avgpool_cuda,
    .bilinear = pcavs_bilinear_cuda,
    .add = pcavs_add_cuda,
    .mul = pcavs_mul_cuda,
    .concat = pcavs_concat_cuda,
    .upfirdn2d = pcavs_upfirdn2d_cuda,
    .modconv = pcavs_modconv_cuda,
    .modconv_demod = pcavs_modconv_demod_cuda,
};

/* Probes once per call (cheap after the first): no driver, a driver older than the runtime,
 * or zero devices -> NULL with PCAVS_ERR_UNSUPPORTED and the runtime's reason. */
const pcavs_backend *pcavs_backend_cuda(void) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        pcavs_fail(PCAVS_ERR_UNSUPPORTED,
                   "no usable CUDA device: %s (%s; needs an NVIDIA GPU and a driver for CUDA %d.%d)",
                   cudaGetErrorString(e), cudaGetErrorName(e), CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10);
        return NULL;
    }
    if (count < 1) {
        pcavs_fail(PCAVS_ERR_UNSUPPORTED, "no CUDA device found (cudaGetDeviceCount = 0)");
        return NULL;
    }
    return &cuda_table;
}
