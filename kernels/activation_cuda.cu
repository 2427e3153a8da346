/* activation_cuda.cu: CUDA elementwise activations (see activation.h): ReLU, sigmoid (as PyTorch's
 * CUDA kernel: 1 / (1 + expf(-x)) in float), tanh (tanhf), NoiseInjection + FusedLeakyReLU
 * ((x + w*noise) + bias, leaky 0.2, * (float)2**0.5) and noise injection alone. Grid-stride
 * kernels on kc->cuda_stream; y may equal x; launch errors -> PCAVS_ERR_BACKEND. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "activation.h"
}

#define ACT_SQRT2_F 1.41421356237309504880f

static int act_blocks(size_t total) {
    size_t b = (total + 255) / 256;
    return (int)(b > 65535 ? 65535 : (b < 1 ? 1 : b));
}

static cudaStream_t act_stream(const pcavs_kctx *kc) { return kc ? (cudaStream_t)kc->cuda_stream : 0; }

static pcavs_status act_launched(const char *op) { return pcavs_cu_launched(op, "launch"); }

/* kind: 0 relu, 1 sigmoid, 2 tanh */
static __global__ void k_act_unary(size_t count, int kind, const float *x, float *y) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        float r;
        if (kind == 0)
            r = v < 0.0f ? 0.0f : v;
        else if (kind == 1)
            r = 1.0f / (1.0f + expf(-v));
        else
            r = tanhf(v);
        y[i] = r;
    }
}

static pcavs_status act_unary(const pcavs_kctx *kc, const char *op, int kind, size_t count, const float *x, float *y) {
    if (count == 0) return PCAVS_OK;
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    PCAVS_LAUNCH(k_act_unary, act_blocks(count), 256, 0, act_stream(kc))(count, kind, x, y);
    return act_launched(op);
}

extern "C" pcavs_status pcavs_relu_cuda(const pcavs_kctx *kc, size_t count, const float *x, /* [count] device */
                                        float *y) {                                         /* [count] device */
    return act_unary(kc, "relu_cuda", 0, count, x, y);
}

extern "C" pcavs_status pcavs_sigmoid_cuda(const pcavs_kctx *kc, size_t count, const float *x, /* [count] device */
                                           float *y) {                                         /* [count] device */
    return act_unary(kc, "sigmoid_cuda", 1, count, x, y);
}

extern "C" pcavs_status pcavs_tanh_cuda(const pcavs_kctx *kc, size_t count, const float *x, /* [count] device */
                                        float *y) {                                         /* [count] device */
    return act_unary(kc, "tanh_cuda", 2, count, x, y);
}

/* lrelu: 1 = leaky ReLU * sqrt2 with bias (fused_lrelu), 0 = noise injection alone */
static __global__ void k_act_noise_lrelu(size_t total, int c, int hw, const float *x, const float *__restrict__ bias,
                                         const float *__restrict__ noise, float noise_weight, int lrelu, float *y) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t p = i % (size_t)hw, plane = i / (size_t)hw;
        float v = x[i];
        if (noise) {
            const float wn = __fmul_rn(noise_weight, noise[(plane / (size_t)c) * hw + p]); /* no FMA: as upstream */
            v = __fadd_rn(v, wn);
        }
        if (lrelu) {
            if (bias) v = v + bias[plane % (size_t)c];
            v = (v > 0.0f ? v : v * 0.2f) * ACT_SQRT2_F;
        }
        y[i] = v;
    }
}

static pcavs_status check_nchw(const char *op, int n, int c, int hw, const float *x, const float *y) {
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: non-positive size n=%d c=%d hw=%d", op, n, c, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    return PCAVS_OK;
}

extern "C" pcavs_status pcavs_fused_lrelu_cuda(const pcavs_kctx *kc, int n, int c, int hw,
                                               const float *x,                 /* [n, c, hw] device */
                                               const float *bias,              /* [c] device or NULL */
                                               const float *noise,             /* [n, hw] device or NULL */
                                               float noise_weight, float *y) { /* [n, c, hw] device */
    PCAVS_TRY(check_nchw("fused_lrelu_cuda", n, c, hw, x, y));
    const size_t total = (size_t)n * c * hw;
    PCAVS_LAUNCH(k_act_noise_lrelu, act_blocks(total), 256, 0, act_stream(kc))
    (total, c, hw, x, bias, noise, noise_weight, 1, y);
    return act_launched("fused_lrelu_cuda");
}

extern "C" pcavs_status pcavs_noise_inject_cuda(const pcavs_kctx *kc, int n, int c, int hw,
                                                const float *x,                 /* [n, c, hw] device */
                                                const float *noise,             /* [n, hw] device */
                                                float noise_weight, float *y) { /* [n, c, hw] device */
    PCAVS_TRY(check_nchw("noise_inject_cuda", n, c, hw, x, y));
    if (!noise) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "noise_inject_cuda: NULL noise");
    const size_t total = (size_t)n * c * hw;
    PCAVS_LAUNCH(k_act_noise_lrelu, act_blocks(total), 256, 0, act_stream(kc))
    (total, c, hw, x, NULL, noise, noise_weight, 0, y);
    return act_launched("noise_inject_cuda");
}
