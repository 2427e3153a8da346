/* gemm_bf16_cuda.cu: the bf16 GEMM has no CUDA form: bf16 is a CPU mode (gemm_bf16.h); the CUDA backend
 * runs every network in float32. This entry says so instead of computing something else. */
extern "C" {
#include "gemm_bf16.h"

pcavs_status pcavs_gemm_bf16_cuda(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc) {
    (void)m, (void)n, (void)k, (void)a, (void)b, (void)c, (void)ldc;
    return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "gemm_bf16_cuda: the bf16 mode is CPU-only (the CUDA backend runs float32)");
}
}
