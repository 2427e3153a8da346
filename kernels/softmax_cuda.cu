/* softmax_cuda.cu: CUDA softmax along the middle axis of [outer, len, inner] (A_sync's
 * nn.Softmax(dim=2) over 3 time steps): one thread per (outer, inner) line, max-subtracted expf,
 * float sum, multiplied by 1/sum. Grid-stride on kc->cuda_stream; y may equal x. Suited to the
 * short axes PC-AVS uses (len 3); long axes would want a block reduction. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "softmax.h"
}

static __global__ void k_softmax_lines(long lines, int len, int inner, const float *x, float *y) {
    for (long t = blockIdx.x * (long)blockDim.x + threadIdx.x; t < lines; t += (long)gridDim.x * blockDim.x) {
        const long o = t / inner, i = t % inner;
        const size_t base = (size_t)o * len * inner + i;
        float m = x[base];
        for (int l = 1; l < len; l++) m = fmaxf(m, x[base + (size_t)l * inner]);
        float s = 0.0f;
        for (int l = 0; l < len; l++) {
            const float e = expf(x[base + (size_t)l * inner] - m);
            y[base + (size_t)l * inner] = e;
            s += e;
        }
        const float r = 1.0f / s;
        for (int l = 0; l < len; l++) y[base + (size_t)l * inner] *= r;
    }
}

extern "C" pcavs_status pcavs_softmax_cuda(const pcavs_kctx *kc, int outer, int len, int inner,
                                           const float *x, /* [outer, len, inner] device */
                                           float *y) {     /* [outer, len, inner] device */
    if (outer < 1 || len < 1 || inner < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_cuda: non-positive size outer=%d len=%d inner=%d", outer, len,
                          inner);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_cuda: NULL operand");
    const long lines = (long)outer * inner;
    long blocks = (lines + 255) / 256;
    if (blocks > 65535) blocks = 65535;
    PCAVS_LAUNCH(k_softmax_lines, (int)blocks, 256, 0, kc ? (cudaStream_t)kc->cuda_stream : 0)(lines, len, inner, x, y);
    return pcavs_cu_launched("softmax_cuda", "launch");
}
