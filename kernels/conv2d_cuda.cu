/* conv2d_cuda.cu: CUDA 2-D convolution (PyTorch F.conv2d semantics, see conv2d.h), device
 * pointers, stream kc->cuda_stream, cuBLAS handle kc->cublas. Same plan as conv2d_cpu.c:
 *  - small reductions per output (cin/groups*kh*kw < 64: grouped 3x3, 1-channel input): a direct
 *    kernel, one thread per output element;
 *  - 1x1 stride 1 unpadded: cuBLAS SGEMM on the input itself;
 *  - otherwise im2col tiles in kc->scratch (bounded by scratch_bytes) + cuBLAS SGEMM; per-image
 *    tiles write y directly, small images are batched into one GEMM whose result is staged in
 *    scratch and scattered to y; bias and ReLU fused into the epilogue kernel.
 * fp32 GEMMs (the handle's default math mode: no TF32). Every CUDA / cuBLAS error becomes
 * PCAVS_ERR_BACKEND with its message. */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "conv2d.h"
}

#define DIRECT_K 64
#define NT_MAX 8192

struct geom {
    int n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, groups, oh, ow, relu;
};

__global__ void k_direct(geom g, const float *__restrict__ x, const float *__restrict__ wt,
                         const float *__restrict__ bias, float *__restrict__ y) {
    const long total = (long)g.n * g.c_out * g.oh * g.ow;
    const int cig = g.c_in / g.groups, cog = g.c_out / g.groups;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(i % g.ow), oy = (int)((i / g.ow) % g.oh);
        const int co = (int)((i / ((long)g.ow * g.oh)) % g.c_out), b = (int)(i / ((long)g.ow * g.oh * g.c_out));
        const int grp = co / cog;
        float acc = bias ? bias[co] : 0.0f;
        for (int ci = 0; ci < cig; ci++) {
            const float *xc = x + ((size_t)b * g.c_in + (size_t)grp * cig + ci) * g.h * g.w;
            const float *wc = wt + ((size_t)co * cig + ci) * g.kh * g.kw;
            for (int ky = 0; ky < g.kh; ky++) {
                const int iy = oy * g.sh - g.ph + ky;
                if (iy < 0 || iy >= g.h) continue;
                for (int kx = 0; kx < g.kw; kx++) {
                    const int ix = ox * g.sw - g.pw + kx;
                    if (ix < 0 || ix >= g.w) continue;
                    acc = fmaf(xc[(size_t)iy * g.w + ix], wc[ky * g.kw + kx], acc);
                }
            }
        }
        y[i] = (g.relu && acc < 0.0f) ? 0.0f : acc;
    }
}

/* col[k][jj] for k over the cig*kh*kw taps of group grp, jj over columns j0 .. j0+nt-1 of [n, oh*ow]. */
__global__ void k_im2col(geom g, int grp, long j0, int nt, const float *__restrict__ x, float *__restrict__ col) {
    const int cig = g.c_in / g.groups, kk = g.kh * g.kw;
    const long total = (long)cig * kk * nt, P = (long)g.oh * g.ow;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int jj = (int)(i % nt), k = (int)(i / nt);
        const long j = j0 + jj, b = j / P, p = j % P;
        const int oy = (int)(p / g.ow), ox = (int)(p % g.ow);
        const int ci = k / kk, ky = (k % kk) / g.kw, kx = k % g.kw;
        const int iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
        float v = 0.0f;
        if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
            v = x[(((size_t)b * g.c_in + (size_t)grp * cig + ci) * g.h + iy) * g.w + ix];
        col[i] = v;
    }
}

/* y[r][t] (row stride ld) = act(y + bias[r]) for r < rows, t < len. */
__global__ void k_epilogue(float *y, int rows, long len, long ld, const float *__restrict__ bias, int relu) {
    const long total = (long)rows * len;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int r = (int)(i / len);
        float *p = y + (size_t)r * ld + i % len;
        float v = *p + (bias ? bias[r] : 0.0f);
        *p = (relu && v < 0.0f) ? 0.0f : v;
    }
}

/* Scatter tile [cog, nimg*P] of images b0.. into y channels grp*cog.., with bias and act. */
__global__ void k_scatter(geom g, int grp, int b0, int nimg, const float *__restrict__ tile,
                          const float *__restrict__ bias, float *__restrict__ y) {
    const int cog = g.c_out / g.groups;
    const long P = (long)g.oh * g.ow, cur = nimg * P, total = (long)cog * cur;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int r = (int)(i / cur);
        const long jj = i % cur, b = b0 + jj / P, p = jj % P;
        float v = tile[i] + (bias ? bias[r] : 0.0f);
        if (g.relu && v < 0.0f) v = 0.0f;
        y[((size_t)b * g.c_out + (size_t)grp * cog + r) * P + p] = v;
    }
}

static int blocks_for(long total) {
    long b = (total + 255) / 256;
    if (b > 65535) b = 65535;
    return b < 1 ? 1 : (int)b;
}

/* Row-major C[M,N] (ldc) = A[M,K] (lda) . B[K,N] (ldb), via column-major cuBLAS on the transposes. */
static pcavs_status sgemm_rm(cublasHandle_t h, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                             float *C, int ldc) {
    const float one = 1.0f, zero = 0.0f;
    return pcavs_cublas_check("conv2d_cuda",
                              cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, ldb, A, lda, &zero, C, ldc),
                              "cublasSgemm");
}

extern "C" pcavs_status pcavs_conv2d_cuda(const pcavs_kctx *kc, const pcavs_conv2d_desc *d,
                                          const float *x,    /* [n, c_in, h, w] device */
                                          const float *w,    /* [c_out, c_in/groups, kh, kw] device */
                                          const float *bias, /* [c_out] device or NULL */
                                          float *y) {        /* [n, c_out, oh, ow] device */
    PCAVS_TRY(pcavs_conv2d_check(d));
    if (!kc || !x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d_cuda: NULL context or operand");
    cudaStream_t st = (cudaStream_t)kc->cuda_stream;
    geom g = {d->n,
              d->c_in,
              d->h,
              d->w,
              d->c_out,
              d->kh,
              d->kw,
              d->stride_h,
              d->stride_w,
              d->pad_h,
              d->pad_w,
              d->groups,
              pcavs_conv2d_out_h(d),
              pcavs_conv2d_out_w(d),
              d->act == PCAVS_ACT_RELU};
    const long P = (long)g.oh * g.ow;
    const int G = d->groups, cig = d->c_in / G, cog = d->c_out / G, K = cig * d->kh * d->kw;

    if (K < DIRECT_K) {
        const long total = (long)d->n * d->c_out * P;
        PCAVS_LAUNCH(k_direct, blocks_for(total), 256, 0, st)(g, x, w, bias, y);
        return pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "direct kernel launch");
    }
    if (!kc->cublas) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d_cuda: no cuBLAS handle in the kernel context");
    cublasHandle_t h = (cublasHandle_t)kc->cublas;
    PCAVS_TRY(pcavs_cublas_check("conv2d_cuda", cublasSetStream(h, st), "cublasSetStream"));

    if (d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0) {
        for (int b = 0; b < d->n; b++)
            for (int gi = 0; gi < G; gi++) {
                const float *xb = x + ((size_t)b * d->c_in + (size_t)gi * cig) * P;
                float *yb = y + ((size_t)b * d->c_out + (size_t)gi * cog) * P;
                PCAVS_TRY(sgemm_rm(h, cog, (int)P, cig, w + (size_t)gi * cog * cig, cig, xb, (int)P, yb, (int)P));
                if (bias || g.relu) {
                    PCAVS_LAUNCH(k_epilogue, blocks_for((long)cog * P), 256, 0, st)
                    (yb, cog, P, P, bias ? bias + gi * cog : NULL, g.relu);
                    PCAVS_TRY(pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "epilogue launch"));
                }
            }
        return PCAVS_OK;
    }

    const size_t avail = kc->scratch ? kc->scratch_bytes / sizeof(float) : 0;
    const long total = (long)d->n * P;
    int per_image = P >= 1024 || d->n == 1;
    long nt = 0;
    if (!per_image) {
        long ipt = (long)(avail / ((size_t)(K + cog) * (size_t)P));
        if (ipt * P > NT_MAX) ipt = NT_MAX / P > 0 ? NT_MAX / P : 1;
        if (ipt > d->n) ipt = d->n;
        nt = ipt * P;
        if (ipt < 1 || (size_t)nt * (size_t)(K + cog) > avail) per_image = 1;
    }
    if (per_image) {
        nt = (long)(avail / (size_t)K);
        if (nt > P) nt = P;
        if (nt > NT_MAX) nt = NT_MAX;
    }
    if (nt < 1)
        return pcavs_fail(PCAVS_ERR_OOM, "conv2d_cuda: scratch of %zu bytes cannot hold one im2col column of %d floats",
                          kc->scratch_bytes, K);
    float *col = (float *)kc->scratch;
    float *tile = col + (size_t)K * nt;
    for (int gi = 0; gi < G; gi++) {
        const float *wg = w + (size_t)gi * cog * K;
        const float *bg = bias ? bias + (size_t)gi * cog : NULL;
        if (per_image) {
            for (int b = 0; b < d->n; b++)
                for (long p0 = 0; p0 < P; p0 += nt) {
                    const int cur = (int)(P - p0 < nt ? P - p0 : nt);
                    PCAVS_LAUNCH(k_im2col, blocks_for((long)K * cur), 256, 0, st)(g, gi, (long)b * P + p0, cur, x, col);
                    PCAVS_TRY(pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "im2col launch"));
                    float *yt = y + ((size_t)b * d->c_out + (size_t)gi * cog) * P + p0;
                    PCAVS_TRY(sgemm_rm(h, cog, cur, K, wg, K, col, cur, yt, (int)P));
                    if (bg || g.relu) {
                        PCAVS_LAUNCH(k_epilogue, blocks_for((long)cog * cur), 256, 0, st)(yt, cog, cur, P, bg, g.relu);
                        PCAVS_TRY(pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "epilogue launch"));
                    }
                }
        } else {
            for (long j0 = 0; j0 < total; j0 += nt) {
                const int cur = (int)(total - j0 < nt ? total - j0 : nt);
                PCAVS_LAUNCH(k_im2col, blocks_for((long)K * cur), 256, 0, st)(g, gi, j0, cur, x, col);
                PCAVS_TRY(pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "im2col launch"));
                PCAVS_TRY(sgemm_rm(h, cog, cur, K, wg, K, col, cur, tile, cur));
                PCAVS_LAUNCH(k_scatter, blocks_for((long)cog * cur), 256, 0, st)
                (g, gi, (int)(j0 / P), (int)(cur / P), tile, bg, y);
                PCAVS_TRY(pcavs_cu_check("conv2d_cuda", cudaGetLastError(), "scatter launch"));
            }
        }
    }
    return PCAVS_OK;
}
