/* batchnorm_cuda.cu: CUDA inference BatchNorm as a per-channel affine map y = x*scale + shift
 * (+ ReLU), see batchnorm.h; y may equal x. Stream kc->cuda_stream; a launch error becomes
 * PCAVS_ERR_BACKEND with its message. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "batchnorm.h"
}

__global__ void k_bn(long total, int c, int hw, const float *x, const float *__restrict__ scale,
                     const float *__restrict__ shift, int relu, float *y) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ch = (int)((i / hw) % c);
        const float v = fmaf(x[i], scale[ch], shift[ch]);
        y[i] = (relu && v < 0.0f) ? 0.0f : v;
    }
}

extern "C" pcavs_status pcavs_batchnorm_cuda(const pcavs_kctx *kc, int n, int c, int hw,
                                             const float *x,                         /* [n, c, hw] device */
                                             const float *scale, const float *shift, /* [c] device */
                                             pcavs_act act, float *y) {              /* [n, c, hw] device */
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm_cuda: non-positive size n=%d c=%d hw=%d", n, c, hw);
    if (!x || !scale || !shift || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "batchnorm_cuda: NULL operand");
    const long total = (long)n * c * hw;
    long blocks = (total + 255) / 256;
    if (blocks > 65535) blocks = 65535;
    PCAVS_LAUNCH(k_bn, (int)blocks, 256, 0, kc ? (cudaStream_t)kc->cuda_stream : 0)
    (total, c, hw, x, scale, shift, act == PCAVS_ACT_RELU, y);
    return pcavs_cu_launched("batchnorm_cuda", "launch");
}
