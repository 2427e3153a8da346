/* pool_cuda.cu: CUDA pooling (see pool.h): max pooling (one thread per output, clipped window =
 * implicit -inf padding, NaN propagates as in PyTorch), global average pooling (one block per
 * plane, shared-memory tree sum) and adaptive average pooling with PyTorch's bins (one thread per
 * output). Grid-stride kernels on kc->cuda_stream; launch errors -> PCAVS_ERR_BACKEND. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include <math.h>

extern "C" {
#include "pool.h"
}

static int pool_blocks(long total) {
    long b = (total + 255) / 256;
    return (int)(b > 65535 ? 65535 : (b < 1 ? 1 : b));
}

static cudaStream_t pool_stream(const pcavs_kctx *kc) { return kc ? (cudaStream_t)kc->cuda_stream : 0; }

static pcavs_status pool_launched(const char *op) { return pcavs_cu_launched(op, "launch"); }

static __global__ void k_maxpool(long total, int h, int w, int oh, int ow, int k, int s, int pad, const float *x,
                                 float *y) {
    for (long t = blockIdx.x * (long)blockDim.x + threadIdx.x; t < total; t += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        const long pl = t / ((long)oh * ow);
        const float *xp = x + (size_t)pl * h * w;
        int y0 = oy * s - pad, y1 = y0 + k, x0 = ox * s - pad, x1 = x0 + k;
        y0 = max(y0, 0), y1 = min(y1, h), x0 = max(x0, 0), x1 = min(x1, w);
        float m = -INFINITY;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
                const float v = xp[(size_t)iy * w + ix];
                if (v > m || isnan(v)) m = v;
            }
        y[t] = m;
    }
}

extern "C" pcavs_status pcavs_maxpool2d_cuda(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d,
                                             const float *x, /* [n, c, h, w] device */
                                             float *y) {     /* [n, c, oh, ow] device */
    if (!d || !x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_cuda: NULL operand");
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 || 2 * d->pad > d->k)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_cuda: bad size n=%d c=%d h=%d w=%d k=%d stride=%d pad=%d",
                          d->n, d->c, d->h, d->w, d->k, d->stride, d->pad);
    const int oh = pcavs_maxpool2d_out_h(d), ow = pcavs_maxpool2d_out_w(d);
    if (oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_SHAPE, "maxpool2d_cuda: input %dx%d smaller than the window %d (pad %d)", d->h,
                          d->w, d->k, d->pad);
    const long total = (long)d->n * d->c * oh * ow;
    PCAVS_LAUNCH(k_maxpool, pool_blocks(total), 256, 0, pool_stream(kc))
    (total, d->h, d->w, oh, ow, d->k, d->stride, d->pad, x, y);
    return pool_launched("maxpool2d_cuda");
}

#define GAP_THREADS 256
static __global__ void k_global_avg(int planes, int hw, const float *x, float *y) {
    __shared__ float part[GAP_THREADS];
    for (int pl = blockIdx.x; pl < planes; pl += gridDim.x) {
        const float *xp = x + (size_t)pl * hw;
        float s = 0.0f;
        for (int p = threadIdx.x; p < hw; p += blockDim.x) s += xp[p];
        part[threadIdx.x] = s;
        __syncthreads();
        for (int half = blockDim.x / 2; half > 0; half /= 2) {
            if ((int)threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
            __syncthreads();
        }
        if (threadIdx.x == 0) y[pl] = part[0] / (float)hw;
        __syncthreads();
    }
}

extern "C" pcavs_status pcavs_global_avgpool_cuda(const pcavs_kctx *kc, int planes, int hw,
                                                  const float *x, /* [planes, hw] device */
                                                  float *y) {     /* [planes] device */
    if (planes < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_cuda: non-positive size planes=%d hw=%d", planes, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_cuda: NULL operand");
    const int blocks = planes > 65535 ? 65535 : planes;
    PCAVS_LAUNCH(k_global_avg, blocks, GAP_THREADS, 0, pool_stream(kc))(planes, hw, x, y);
    return pool_launched("global_avgpool_cuda");
}

static __global__ void k_adaptive_avg(long total, int h, int w, int oh, int ow, const float *x, float *y) {
    for (long t = blockIdx.x * (long)blockDim.x + threadIdx.x; t < total; t += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        const long pl = t / ((long)oh * ow);
        const int y0 = (int)(((long)oy * h) / oh), y1 = (int)(((long)(oy + 1) * h + oh - 1) / oh);
        const int x0 = (int)(((long)ox * w) / ow), x1 = (int)(((long)(ox + 1) * w + ow - 1) / ow);
        const float *xp = x + (size_t)pl * h * w;
        float s = 0.0f;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) s += xp[(size_t)iy * w + ix];
        y[t] = s / (float)((y1 - y0) * (x1 - x0));
    }
}

extern "C" pcavs_status pcavs_adaptive_avgpool_cuda(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                                    const float *x, /* [planes, h, w] device */
                                                    float *y) {     /* [planes, oh, ow] device */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_cuda: non-positive size planes=%d %dx%d -> %dx%d",
                          planes, h, w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_cuda: NULL operand");
    if (oh == 1 && ow == 1) return pcavs_global_avgpool_cuda(kc, planes, h * w, x, y);
    const long total = (long)planes * oh * ow;
    PCAVS_LAUNCH(k_adaptive_avg, pool_blocks(total), 256, 0, pool_stream(kc))(total, h, w, oh, ow, x, y);
    return pool_launched("adaptive_avgpool_cuda");
}
