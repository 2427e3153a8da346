/* concat_cuda.cu: CUDA channel concatenation (torch.cat(dim=1), see concat.h): one strided
 * device-to-device cudaMemcpy2DAsync per input (rows = images, row = channels[i]*hw floats) on
 * kc->cuda_stream; errors -> PCAVS_ERR_BACKEND. */
#include <cuda_runtime.h>

extern "C" {
#include "concat.h"
}

extern "C" pcavs_status pcavs_concat_cuda(const pcavs_kctx *kc, int n, int count,
                                          const float *const *xs, /* count x [n, channels[i], hw] device */
                                          const int *channels, int hw, float *y) { /* [n, sum(channels), hw] device */
    if (n < 1 || count < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cuda: non-positive size n=%d count=%d hw=%d", n, count, hw);
    if (!xs || !channels || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cuda: NULL operand");
    long ctot = 0;
    for (int i = 0; i < count; i++) {
        if (channels[i] < 1 || !xs[i])
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cuda: input %d: channels=%d or NULL pointer", i,
                              channels[i]);
        ctot += channels[i];
    }
    cudaStream_t st = kc ? (cudaStream_t)kc->cuda_stream : 0;
    long c0 = 0;
    for (int i = 0; i < count; i++) {
        const size_t row = (size_t)channels[i] * hw * sizeof(float);
        cudaError_t e = cudaMemcpy2DAsync(y + (size_t)c0 * hw, (size_t)ctot * hw * sizeof(float), xs[i], row, row,
                                          (size_t)n, cudaMemcpyDeviceToDevice, st);
        if (e != cudaSuccess)
            return pcavs_fail(PCAVS_ERR_BACKEND, "concat_cuda: input %d copy: %s", i, cudaGetErrorString(e));
        c0 += channels[i];
    }
    return PCAVS_OK;
}
