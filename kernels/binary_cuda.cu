/* binary_cuda.cu: CUDA broadcasting add / mul with optional fused ReLU (see binary.h): the
 * broadcast shape is computed on the host (pcavs_broadcast_shape), operands' element strides (0
 * along broadcast dims) go to the kernel by value; one thread per output element, a flat fast
 * path when both operands have the output shape. Grid-stride on kc->cuda_stream; y may equal a. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "binary.h"
}

struct bin_geom {
    int o[4];
    long sa[4], sb[4];
};

static __global__ void k_binary(long total, bin_geom g, int flat, int is_mul, int relu, const float *a, const float *b,
                                float *y) {
    for (long t = blockIdx.x * (long)blockDim.x + threadIdx.x; t < total; t += (long)gridDim.x * blockDim.x) {
        long ia = t, ib = t;
        if (!flat) {
            long rem = t;
            ia = 0, ib = 0;
            for (int d = 3; d >= 0; d--) {
                const long idx = rem % g.o[d];
                rem /= g.o[d];
                ia += idx * g.sa[d];
                ib += idx * g.sb[d];
            }
        }
        float v = is_mul ? __fmul_rn(a[ia], b[ib]) : __fadd_rn(a[ia], b[ib]);
        if (relu && v < 0.0f) v = 0.0f;
        y[t] = v;
    }
}

static pcavs_status binary_cuda(const pcavs_kctx *kc, const char *op, int is_mul, const int a_shape[4], const float *a,
                                const int b_shape[4], const float *b, pcavs_act act, float *y) {
    bin_geom g;
    PCAVS_TRY(pcavs_broadcast_shape(a_shape, b_shape, g.o));
    if (!a || !b || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    long ea = 1, eb = 1;
    int flat = 1;
    for (int d = 3; d >= 0; d--) {
        g.sa[d] = a_shape[d] == 1 ? 0 : ea;
        g.sb[d] = b_shape[d] == 1 ? 0 : eb;
        ea *= a_shape[d];
        eb *= b_shape[d];
        if (a_shape[d] != g.o[d] || b_shape[d] != g.o[d]) flat = 0;
    }
    const long total = (long)g.o[0] * g.o[1] * g.o[2] * g.o[3];
    long blocks = (total + 255) / 256;
    if (blocks > 65535) blocks = 65535;
    PCAVS_LAUNCH(k_binary, (int)blocks, 256, 0, kc ? (cudaStream_t)kc->cuda_stream : 0)
    (total, g, flat, is_mul, act == PCAVS_ACT_RELU, a, b, y);
    return pcavs_cu_launched(op, "launch");
}

extern "C" pcavs_status pcavs_add_cuda(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape device */
                                       const int b_shape[4], const float *b,                       /* b_shape device */
                                       pcavs_act act, float *y) { /* broadcast shape device */
    return binary_cuda(kc, "add_cuda", 0, a_shape, a, b_shape, b, act, y);
}

extern "C" pcavs_status pcavs_mul_cuda(const pcavs_kctx *kc, const int a_shape[4], const float *a, /* a_shape device */
                                       const int b_shape[4], const float *b,                       /* b_shape device */
                                       pcavs_act act, float *y) { /* broadcast shape device */
    return binary_cuda(kc, "mul_cuda", 1, a_shape, a, b_shape, b, act, y);
}
