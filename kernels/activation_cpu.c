/* activation_cpu.c: production CPU elementwise activations (see activation.h): ReLU, sigmoid,
 * tanh, and the StyledConv's NoiseInjection + FusedLeakyReLU, with the same float evaluation
 * order as upstream ((x + w*noise) + bias, leaky 0.2, * (float)2**0.5). OpenMP over blocks or
 * (image, channel) planes, skipped for small inputs; inner loops are plain and vectorisable;
 * sigmoid and tanh use the AVX2+FMA spans of activation_cpu_avx2.c where the CPU has them (libm otherwise).
 * y may equal x. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "activation.h"
#include "cpu_features.h"
#include "styled_act.h"

/* AVX2+FMA spans (activation_cpu_avx2.c), chosen at run time. */
#if PCAVS_X86
void pcavs_sigmoid_span_avx2(const float *x, float *y, size_t n);
void pcavs_tanh_span_avx2(const float *x, float *y, size_t n);
#else /* not built elsewhere; use_avx2() is 0 there, so these libm forms are never reached */
static void pcavs_sigmoid_span_avx2(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}
static void pcavs_tanh_span_avx2(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
#endif
static int use_avx2(void) {
    static int cached = -1; /* benign race: every thread computes the same value */
    if (cached < 0) {
        const pcavs_cpu_features f = pcavs_cpu_detect(); /* under $PCAVS_CPU_CAP; zero off x86 */
        cached = PCAVS_X86 && f.avx2 && f.fma;
    }
    return cached;
}

#define BLOCK 16384   /* elements per OpenMP work item of the flat ops */
#define PAR_MIN 65536 /* below this many elements one thread is faster */

static int nthreads(const pcavs_kctx *kc) { return kc && kc->n_threads > 0 ? kc->n_threads : 1; }

static pcavs_status check_unary(const char *op, size_t count, const float *x, const float *y) {
    if (count > 0 && (!x || !y)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    return PCAVS_OK;
}

/* Runs body(x+i0, y+i0, len) over BLOCK-sized pieces, in parallel for large counts. */
#define FLAT_LOOP(kc, count, x, y, BODY)                                                                               \
    do {                                                                                                               \
        const int nth_ = nthreads(kc);                                                                                 \
        const size_t cnt_ = (count);                                                                                   \
        const long nb_ = (long)((cnt_ + BLOCK - 1) / BLOCK);                                                           \
        _Pragma("omp parallel for num_threads(nth_) schedule(static) if (nth_ > 1 && cnt_ >= PAR_MIN)") for (long b_ = \
                                                                                                                 0;    \
                                                                                                             b_ < nb_; \
                                                                                                             b_++) {   \
            const size_t i0_ = (size_t)b_ * BLOCK;                                                                     \
            const size_t len_ = cnt_ - i0_ < BLOCK ? cnt_ - i0_ : BLOCK;                                               \
            const float *xs = (x) + i0_;                                                                               \
            float *ys = (y) + i0_;                                                                                     \
            BODY                                                                                                       \
        }                                                                                                              \
    } while (0)

pcavs_status pcavs_relu_cpu(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                            float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("relu_cpu", count, x, y));
    /* x > 0 ? x : 0 keeps NaN as 0 would differ from PyTorch; x < 0 ? 0 : x propagates NaN. */
    FLAT_LOOP(kc, count, x, y, {
        for (size_t i = 0; i < len_; i++) ys[i] = xs[i] < 0.0f ? 0.0f : xs[i];
    });
    return PCAVS_OK;
}

pcavs_status pcavs_sigmoid_cpu(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                               float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("sigmoid_cpu", count, x, y));
    const int simd = use_avx2();
    FLAT_LOOP(kc, count, x, y, {
        if (simd) {
            pcavs_sigmoid_span_avx2(xs, ys, len_);
        } else {
            for (size_t i = 0; i < len_; i++) ys[i] = 1.0f / (1.0f + expf(-xs[i]));
        }
    });
    return PCAVS_OK;
}

pcavs_status pcavs_tanh_cpu(const pcavs_kctx *kc, size_t count, const float *x, /* [count] */
                            float *y) {                                         /* [count] */
    PCAVS_TRY(check_unary("tanh_cpu", count, x, y));
    const int simd = use_avx2();
    FLAT_LOOP(kc, count, x, y, {
        if (simd) {
            pcavs_tanh_span_avx2(xs, ys, len_);
        } else {
            for (size_t i = 0; i < len_; i++) ys[i] = tanhf(xs[i]);
        }
    });
    return PCAVS_OK;
}

static pcavs_status check_nchw(const char *op, int n, int c, int hw, const float *x, const float *y) {
    if (n < 1 || c < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: non-positive size n=%d c=%d hw=%d", op, n, c, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL operand", op);
    return PCAVS_OK;
}

pcavs_status pcavs_fused_lrelu_cpu(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                   const float *bias,                                          /* [c] or NULL */
                                   const float *noise,                                         /* [n, hw] or NULL */
                                   float noise_weight, float *y) {                             /* [n, c, hw] */
    PCAVS_TRY(check_nchw("fused_lrelu_cpu", n, c, hw, x, y));
    const int nth = nthreads(kc);
    const long planes = (long)n * c;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && planes * hw >= PAR_MIN)
    for (long pl = 0; pl < planes; pl++) {
        const int b = (int)(pl / c), ch = (int)(pl % c);
        const float bs = bias ? bias[ch] : 0.0f;
        const float *xp = x + (size_t)pl * hw;
        float *yp = y + (size_t)pl * hw;
        if (noise) {
            const float *np = noise + (size_t)b * hw;
            if (bias) {
                for (int p = 0; p < hw; p++) {
                    const float v = (xp[p] + noise_weight * np[p]) + bs;
                    yp[p] = pcavs_lrelu_sqrt2(v);
                }
            } else {
                for (int p = 0; p < hw; p++) {
                    const float v = xp[p] + noise_weight * np[p];
                    yp[p] = pcavs_lrelu_sqrt2(v);
                }
            }
        } else {
            /* v + 0.0f == v for every v except -0.0 (-> +0.0), which the leaky ReLU maps to 0 anyway. */
            for (int p = 0; p < hw; p++) {
                const float v = xp[p] + bs;
                yp[p] = pcavs_lrelu_sqrt2(v);
            }
        }
    }
    return PCAVS_OK;
}

pcavs_status pcavs_noise_inject_cpu(const pcavs_kctx *kc, int n, int c, int hw, const float *x, /* [n, c, hw] */
                                    const float *noise,                                         /* [n, hw] */
                                    float noise_weight, float *y) {                             /* [n, c, hw] */
    PCAVS_TRY(check_nchw("noise_inject_cpu", n, c, hw, x, y));
    if (!noise) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "noise_inject_cpu: NULL noise");
    const int nth = nthreads(kc);
    const long planes = (long)n * c;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && planes * hw >= PAR_MIN)
    for (long pl = 0; pl < planes; pl++) {
        const float *np = noise + (size_t)(pl / c) * hw;
        const float *xp = x + (size_t)pl * hw;
        float *yp = y + (size_t)pl * hw;
        for (int p = 0; p < hw; p++) yp[p] = xp[p] + noise_weight * np[p];
    }
    return PCAVS_OK;
}
