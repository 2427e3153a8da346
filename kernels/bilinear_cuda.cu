/* bilinear_cuda.cu: CUDA bilinear resize, align_corners=False (see bilinear.h): one thread per
 * output with the expression of PyTorch's upsample_bilinear2d_out_frame (NUMERICS.md 6a), left to
 * nvcc's default FMA contraction like the reference build. Grid-stride on kc->cuda_stream. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "bilinear.h"
}

static __global__ void k_bilinear(long total, int h, int w, int oh, int ow, float rh, float rw, const float *x,
                                  float *y) {
    for (long t = blockIdx.x * (long)blockDim.x + threadIdx.x; t < total; t += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        const long pl = t / ((long)oh * ow);
        float h1r = rh * ((float)oy + 0.5f) - 0.5f;
        h1r = h1r < 0.0f ? 0.0f : h1r;
        const int h1 = (int)h1r, h1p = h1 < h - 1 ? 1 : 0;
        const float l1 = h1r - (float)h1, l0 = 1.0f - l1;
        float w1r = rw * ((float)ox + 0.5f) - 0.5f;
        w1r = w1r < 0.0f ? 0.0f : w1r;
        const int w1 = (int)w1r, w1p = w1 < w - 1 ? 1 : 0;
        const float m1 = w1r - (float)w1, m0 = 1.0f - m1;
        const float *r0 = x + ((size_t)pl * h + h1) * w, *r1 = r0 + (size_t)h1p * w;
        y[t] = l0 * (m0 * r0[w1] + m1 * r0[w1 + w1p]) + l1 * (m0 * r1[w1] + m1 * r1[w1 + w1p]);
    }
}

extern "C" pcavs_status pcavs_bilinear_cuda(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                            const float *x, /* [planes, h, w] device */
                                            float *y) {     /* [planes, oh, ow] device */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_cuda: non-positive size planes=%d %dx%d -> %dx%d", planes, h,
                          w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_cuda: NULL operand");
    const long total = (long)planes * oh * ow;
    long blocks = (total + 255) / 256;
    if (blocks > 65535) blocks = 65535;
    PCAVS_LAUNCH(k_bilinear, (int)blocks, 256, 0, kc ? (cudaStream_t)kc->cuda_stream : 0)
    (total, h, w, oh, ow, (float)h / (float)oh, (float)w / (float)ow, x, y);
    return pcavs_cu_launched("bilinear_cuda", "launch");
}
