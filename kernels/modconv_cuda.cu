/* modconv_cuda.cu: StyleGAN2 modulated convolution (rosinality ModulatedConv2d) on CUDA in the
 * batched form of modconv_cpu.c, device pointers, stream kc->cuda_stream, cuBLAS kc->cublas:
 *   k_demod : demod[b,o] = rsqrtf(sum_c (scale*style[b,c])^2 * sum_t W[o,c,t]^2 + 1e-8)
 *             (rsqrtf as torch.rsqrt on the GPU, NUMERICS.md 6d);
 *   k_style : xs[c][b,p] = x[b][c][p] * style[b,c] * scale;
 *   cuBLAS  : G[(o,t)][b,p] = Wp[(o,t)][c] * xs[c][b,p], Wp = W permuted to [c_out, k*k, c_in];
 *   k_gather: plain conv = demod * sum of the k*k shifted taps of G (col2im);
 *   k_upblur: upsample = demod * Blur(conv_transpose scatter of G), evaluated per output pixel;
 *   k = 1   : strided-batched GEMM straight into y, then k_scale by demod;
 *   act_lrelu: StyledConv's tail by fused_lrelu_cuda (activation_cuda.cu) after the convolution.
 * Device scratch: demod [n*c_out] | Wp | xs | G, tiled over samples / output channels exactly as
 * the CPU plan; GEMMs in the context's precision (cuda_gemm.h: float32, or TF32 / bf16 tensor cores in the fast
 * modes). CUDA / cuBLAS errors become PCAVS_ERR_BACKEND. */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include <math.h>

extern "C" {
#include "activation.h"
#include "modconv.h"
}
#include "cuda_gemm.h"

#define MC_ALIGN(b) ((((size_t)(b)) + 255) / 256 * 256)

static int blocks_for(long n) {
    long b = (n + 255) / 256;
    return (int)(b < 1 ? 1 : (b > 65535L * 8 ? 65535L * 8 : b));
}

__global__ void k_demod(int n, int c_in, int c_out, int kk, float scale, int demodulate, const float *__restrict__ wt,
                        const float *__restrict__ style, float *__restrict__ demod) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)n * c_out; i += (long)gridDim.x * blockDim.x) {
        const int o = (int)(i % c_out), b = (int)(i / c_out);
        if (!demodulate) {
            demod[i] = 1.0f;
            continue;
        }
        float acc = 0.0f;
        for (int c = 0; c < c_in; c++) {
            const float *wc = wt + ((size_t)o * c_in + c) * kk;
            float q = 0.0f;
            for (int t = 0; t < kk; t++) q = fmaf(wc[t], wc[t], q);
            const float s = style[(size_t)b * c_in + c] * scale;
            acc = fmaf(s * s, q, acc);
        }
        demod[i] = rsqrtf(acc + 1e-8f);
    }
}

__global__ void k_permute(int c_in, int c_out, int kk, const float *__restrict__ wt, float *__restrict__ wp) {
    const long total = (long)c_out * c_in * kk;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int c = (int)(i % c_in), t = (int)((i / c_in) % kk), o = (int)(i / ((long)c_in * kk));
        wp[i] = wt[((size_t)o * c_in + c) * kk + t]; /* wp[o][t][c] */
    }
}

/* batched_cols: 1 -> xs [c_in][cb*hw]; 0 -> xs [cb][c_in][hw] */
__global__ void k_style(int cb, int b0, int c_in, long hw, float scale, int batched_cols, const float *__restrict__ x,
                        const float *__restrict__ style, float *__restrict__ xs) {
    const long total = (long)cb * c_in * hw;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const long p = i % hw;
        const int c = (int)((i / hw) % c_in), b = (int)(i / (hw * c_in));
        const float v = x[((size_t)(b0 + b) * c_in + c) * hw + p] * (style[(size_t)(b0 + b) * c_in + c] * scale);
        if (batched_cols)
            xs[(size_t)c * cb * hw + (size_t)b * hw + p] = v;
        else
            xs[i] = v;
    }
}

__global__ void k_scale(long hw, int c_out, long total, const float *__restrict__ demod, float *__restrict__ y) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x)
        y[i] *= demod[i / hw];
}

/* plain conv: y[b][o][yy][xx] = demod * sum_t G[(o,t)][b, (yy+i-pad, xx+j-pad)] */
__global__ void k_gather(int cb, int b0, int o0, int cob, int c_out, int h, int w, int k, const float *__restrict__ g,
                         const float *__restrict__ demod, float *__restrict__ y) {
    const long hw = (long)h * w, ncol = (long)cb * hw, total = (long)cb * cob * hw;
    const int kk = k * k, pad = k / 2;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int xx = (int)(i % w), yy = (int)((i / w) % h), oo = (int)((i / hw) % cob), b = (int)(i / (hw * cob));
        const float *go = g + (size_t)oo * kk * ncol + (size_t)b * hw;
        float acc = 0.0f;
        for (int a = 0; a < k; a++) {
            const int iy = yy + a - pad;
            if (iy < 0 || iy >= h) continue;
            for (int c = 0; c < k; c++) {
                const int ix = xx + c - pad;
                if (ix < 0 || ix >= w) continue;
                acc += go[(size_t)(a * k + c) * ncol + (size_t)iy * w + ix];
            }
        }
        const size_t bo = (size_t)(b0 + b) * c_out + o0 + oo;
        y[bo * hw + (size_t)yy * w + xx] = acc * demod[bo];
    }
}

/* T[ty][tx] of the stride-2 transposed conv (2h+1 x 2w+1) from the 9 taps of G */
__device__ __forceinline__ float t_at(const float *go, long ncol, int h, int w, int ty, int tx) {
    float v = 0.0f;
    for (int i = ty & 1; i < 3; i += 2) {
        const int yy = (ty - i) >> 1;
        if (yy < 0 || yy >= h) continue;
        for (int j = tx & 1; j < 3; j += 2) {
            const int xx = (tx - j) >> 1;
            if (xx < 0 || xx >= w) continue;
            v += go[(size_t)(i * 3 + j) * ncol + (size_t)yy * w + xx];
        }
    }
    return v;
}

__global__ void k_upblur(int cb, int b0, int o0, int cob, int c_out, int h, int w, const float *__restrict__ g,
                         const float *__restrict__ blur, const float *__restrict__ demod, float *__restrict__ y) {
    const int oh = 2 * h, ow = 2 * w, th = 2 * h + 1, tw = 2 * w + 1;
    const long ohw = (long)oh * ow, ncol = (long)cb * h * w, total = (long)cb * cob * ohw;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(i % ow), oy = (int)((i / ow) % oh), oo = (int)((i / ohw) % cob),
                  b = (int)(i / (ohw * cob));
        const float *go = g + (size_t)oo * 9 * ncol + (size_t)b * h * w;
        float acc = 0.0f;
        for (int ky = 0; ky < 4; ky++) {
            const int ty = oy + ky - 1;
            if (ty < 0 || ty >= th) continue;
            for (int kx = 0; kx < 4; kx++) {
                const int tx = ox + kx - 1;
                if (tx < 0 || tx >= tw) continue;
                acc = fmaf(t_at(go, ncol, h, w, ty, tx), blur[(3 - ky) * 4 + (3 - kx)], acc);
            }
        }
        const size_t bo = (size_t)(b0 + b) * c_out + o0 + oo;
        y[bo * ohw + (size_t)oy * ow + ox] = acc * demod[bo];
    }
}

extern "C" pcavs_status pcavs_modconv_demod_cuda(const pcavs_kctx *kc, const pcavs_modconv_desc *d,
                                                 const float *weight, /* [c_out, c_in, k, k] */
                                                 const float *style,  /* [n, c_in] */
                                                 float *demod) {      /* [n, c_out] */
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!kc || !weight || !style || !demod)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_demod_cuda: NULL pointer");
    cudaStream_t s = (cudaStream_t)kc->cuda_stream;
    const float scale = (float)(1.0 / sqrt((double)d->c_in * d->k * d->k));
    PCAVS_LAUNCH(k_demod, blocks_for((long)d->n * d->c_out), 256, 0, s)
    (d->n, d->c_in, d->c_out, d->k * d->k, scale, d->demodulate, weight, style, demod);
    return pcavs_cu_check("modconv_cuda", cudaGetLastError(), "k_demod launch");
}

extern "C" pcavs_status pcavs_modconv_cuda(const pcavs_kctx *kc, const pcavs_modconv_desc *d,
                                           const float *x,      /* [n, c_in, h, w] */
                                           const float *weight, /* [c_out, c_in, k, k] */
                                           const float *style,  /* [n, c_in] */
                                           const float *blur,   /* [4, 4], upsample only */
                                           float *y) {          /* [n, c_out, out_h, out_w] */
    PCAVS_TRY(pcavs_modconv_check_call(kc, d, x, weight, style, blur, y, "modconv_cuda"));
    if (!kc->cublas) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_cuda: no cuBLAS handle in the kernel context");
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k;
    const long hw = (long)h * w;
    cudaStream_t s = (cudaStream_t)kc->cuda_stream;
    cublasHandle_t hb = (cublasHandle_t)kc->cublas;
    PCAVS_TRY(pcavs_cublas_check("modconv_cuda", cublasSetStream(hb, s), "cublasSetStream"));

    const size_t fixed =
        MC_ALIGN((size_t)n * co_n * sizeof(float)) + (k > 1 ? MC_ALIGN((size_t)co_n * kk * ci_n * sizeof(float)) : 0);
    const size_t per_xs = (size_t)ci_n * hw * sizeof(float), per_g = k > 1 ? (size_t)kk * hw * sizeof(float) : 0;
    const size_t min_need = fixed + MC_ALIGN(per_xs) + per_g + 256;
    if (!kc->scratch || kc->scratch_bytes < min_need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "modconv_cuda: [n=%d, %d->%d, %dx%d, k=%d] needs at least %zu bytes of "
                          "device scratch, %zu available",
                          n, ci_n, co_n, h, w, k, min_need, kc->scratch_bytes);
    char *sp = (char *)kc->scratch;
    float *demod = (float *)sp; /* [n, c_out] */
    sp += MC_ALIGN((size_t)n * co_n * sizeof(float));
    float *wp = NULL; /* [c_out, kk, c_in] */
    if (k > 1) {
        wp = (float *)sp;
        sp += MC_ALIGN((size_t)co_n * kk * ci_n * sizeof(float));
    }
    const size_t avail = kc->scratch_bytes - fixed - 256;
    int nb = n, ob = co_n;
    while (nb > 1 && (size_t)nb * (per_xs + per_g * ob) > avail) nb = (nb + 1) / 2;
    if ((size_t)nb * (per_xs + per_g * ob) > avail && per_g) {
        ob = (int)((avail - per_xs) / per_g);
        if (ob > co_n) ob = co_n;
        if (ob < 1) ob = 1;
    }
    float *xs = (float *)sp;                                  /* [c_in, nb*hw] or [nb, c_in, hw] */
    float *g = (float *)(sp + MC_ALIGN((size_t)nb * per_xs)); /* [ob*kk, nb*hw] */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));

    PCAVS_TRY(pcavs_modconv_demod_cuda(kc, d, weight, style, demod));
    if (k > 1) {
        PCAVS_LAUNCH(k_permute, blocks_for((long)co_n * ci_n * kk), 256, 0, s)(ci_n, co_n, kk, weight, wp);
        PCAVS_TRY(pcavs_cu_check("modconv_cuda", cudaGetLastError(), "k_permute launch"));
    }
    for (int b0 = 0; b0 < n; b0 += nb) {
        const int cb = n - b0 < nb ? n - b0 : nb;
        const long ncol = (long)cb * hw;
        PCAVS_LAUNCH(k_style, blocks_for((long)cb * ci_n * hw), 256, 0, s)
        (cb, b0, ci_n, hw, scale, k > 1, x, style, xs);
        PCAVS_TRY(pcavs_cu_check("modconv_cuda", cudaGetLastError(), "k_style launch"));
        if (k == 1) { /* y_b [c_out, hw] = W [c_out, c_in] x xs_b [c_in, hw]  (column-major: y^T = xs^T W^T) */
            float *yb = y + (size_t)b0 * co_n * hw;
            PCAVS_TRY(pcavs_cublas_check("modconv_cuda",
                                         pcavs_cuda_gemm_strided(kc, hb, CUBLAS_OP_N, CUBLAS_OP_N, (int)hw, co_n, ci_n,
                                                                 xs, (int)hw, (long long)ci_n * hw, weight, ci_n, 0, yb,
                                                                 (int)hw, (long long)co_n * hw, cb),
                                         "strided-batched GEMM (1x1)"));
            if (d->demodulate) {
                PCAVS_LAUNCH(k_scale, blocks_for((long)cb * co_n * hw), 256, 0, s)
                (hw, co_n, (long)cb * co_n * hw, demod + (size_t)b0 * co_n, yb);
                PCAVS_TRY(pcavs_cu_check("modconv_cuda", cudaGetLastError(), "k_scale launch"));
            }
            continue;
        }
        for (int o0 = 0; o0 < co_n; o0 += ob) {
            const int cob = co_n - o0 < ob ? co_n - o0 : ob;
            /* G [cob*kk, ncol] = Wp [cob*kk, c_in] x xs [c_in, ncol] (row-major; column-major G^T = xs^T Wp^T) */
            PCAVS_TRY(
                pcavs_cublas_check("modconv_cuda",
                                   pcavs_cuda_gemm(kc, hb, CUBLAS_OP_N, CUBLAS_OP_N, (int)ncol, cob * kk, ci_n, xs,
                                                   (int)ncol, wp + (size_t)o0 * kk * ci_n, ci_n, g, (int)ncol),
                                   "GEMM"));
            if (d->upsample) PCAVS_LAUNCH(k_upblur, blocks_for((long)cb * cob * 4 * hw), 256, 0, s)
            (cb, b0, o0, cob, co_n, h, w, g, blur, demod, y);
            else PCAVS_LAUNCH(k_gather, blocks_for((long)cb * cob * hw), 256, 0, s)(cb, b0, o0, cob, co_n, h, w, k, g,
                                                                                    demod, y);
            PCAVS_TRY(pcavs_cu_check("modconv_cuda", cudaGetLastError(), "k_gather/k_upblur launch"));
        }
    }
    if (d->act_lrelu) /* StyledConv's tail (modconv.h), after the convolution */
        return pcavs_fused_lrelu_cuda(kc, n, co_n, pcavs_modconv_out_h(d) * pcavs_modconv_out_w(d), y, d->act_bias,
                                      d->act_noise, d->act_noise_weight, y);
    return PCAVS_OK;
}
