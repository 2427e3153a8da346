/* conv_transpose2d_cuda.cu: CUDA transposed convolution (F.conv_transpose2d, groups 1, see
 * conv_transpose2d.h), device pointers, stream kc->cuda_stream, cuBLAS handle kc->cublas.
 * Same plan as conv_transpose2d_cpu.c: for a tile of input pixels (columns of the flattened
 * [n, h*w] space, bounded by kc->scratch) pack x into xt [c_in, nt], cols [c_out*kh*kw, nt] =
 * w^T . xt with cuBLAS SGEMM (fp32), then a col2im *gather* kernel (one thread per output
 * element, no atomics) adds the tile's contributions to y, which was first set to the bias.
 * Every CUDA / cuBLAS error becomes PCAVS_ERR_BACKEND with its message. */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "conv_transpose2d.h"
pcavs_status pcavs_conv_transpose2d_check(const pcavs_conv_transpose2d_desc *d); /* conv_transpose2d_ref.c */
}

#define NT_MAX 8192

struct ctgeom {
    int n, c_in, h, w, c_out, kh, kw, s, pad, oh, ow;
};

static int blocks_for(long total) {
    long b = (total + 255) / 256;
    if (b > 65535) b = 65535;
    return b < 1 ? 1 : (int)b;
}

__global__ void k_fill_bias(ctgeom g, const float *__restrict__ bias, float *__restrict__ y) {
    const long OP = (long)g.oh * g.ow, total = (long)g.n * g.c_out * OP;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x)
        y[i] = bias ? bias[(i / OP) % g.c_out] : 0.0f;
}

__global__ void k_pack(ctgeom g, long j0, int nt, const float *__restrict__ x, float *__restrict__ xt) {
    const long P = (long)g.h * g.w, total = (long)g.c_in * nt;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ci = (int)(i / nt);
        const long j = j0 + i % nt;
        xt[i] = x[((size_t)(j / P) * g.c_in + ci) * P + j % P];
    }
}

/* y[b][co][oy][ox] += sum over (ky, kx) with oy = iy*s + ky - pad, ox = ix*s + kx - pad and column
 * j = b*P + iy*w + ix inside [j0, j0+nt) of cols[(co*kh + ky)*kw + kx][j - j0]. Threads cover the
 * output planes of the images the tile touches. */
__global__ void k_col2im(ctgeom g, long j0, int nt, int b0, int nimg, const float *__restrict__ cols,
                         float *__restrict__ y) {
    const long P = (long)g.h * g.w, OP = (long)g.oh * g.ow, total = (long)nimg * g.c_out * OP;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(i % g.ow), oy = (int)((i / g.ow) % g.oh);
        const int co = (int)((i / OP) % g.c_out), b = b0 + (int)(i / (OP * g.c_out));
        float acc = 0.0f;
        for (int ky = 0; ky < g.kh; ky++) {
            const int ty = oy + g.pad - ky;
            if (ty < 0 || ty % g.s) continue;
            const int iy = ty / g.s;
            if (iy >= g.h) continue;
            for (int kx = 0; kx < g.kw; kx++) {
                const int tx = ox + g.pad - kx;
                if (tx < 0 || tx % g.s) continue;
                const int ix = tx / g.s;
                if (ix >= g.w) continue;
                const long j = (long)b * P + (long)iy * g.w + ix;
                if (j < j0 || j >= j0 + nt) continue;
                acc += cols[((size_t)co * g.kh * g.kw + (size_t)ky * g.kw + kx) * nt + (j - j0)];
            }
        }
        y[((size_t)b * g.c_out + co) * OP + (size_t)oy * g.ow + ox] += acc;
    }
}

extern "C" pcavs_status pcavs_conv_transpose2d_cuda(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d,
                                                    const float *x,    /* [n, c_in, h, w] device */
                                                    const float *w,    /* [c_in, c_out, kh, kw] device */
                                                    const float *bias, /* [c_out] device or NULL */
                                                    float *y) {        /* [n, c_out, oh, ow] device */
    PCAVS_TRY(pcavs_conv_transpose2d_check(d));
    if (!kc || !x || !w || !y || !kc->cublas)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d_cuda: NULL context, cuBLAS handle or operand");
    cudaStream_t st = (cudaStream_t)kc->cuda_stream;
    cublasHandle_t h = (cublasHandle_t)kc->cublas;
    ctgeom g = {d->n,
                d->c_in,
                d->h,
                d->w,
                d->c_out,
                d->kh,
                d->kw,
                d->stride,
                d->pad,
                pcavs_conv_transpose2d_out_h(d),
                pcavs_conv_transpose2d_out_w(d)};
    const int M = d->c_out * d->kh * d->kw;
    const long P = (long)d->h * d->w, total = (long)d->n * P;
    const size_t avail = kc->scratch ? kc->scratch_bytes / sizeof(float) : 0;
    long nt = (long)(avail / (size_t)(d->c_in + M));
    if (nt > total) nt = total;
    if (nt > NT_MAX) nt = NT_MAX;
    if (nt < 1)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "conv_transpose2d_cuda: scratch of %zu bytes cannot hold one column of %d floats",
                          kc->scratch_bytes, d->c_in + M);
    float *xt = (float *)kc->scratch, *cols = xt + (size_t)d->c_in * nt;
    cublasStatus_t cs = cublasSetStream(h, st);
    if (cs != CUBLAS_STATUS_SUCCESS)
        return pcavs_fail(PCAVS_ERR_BACKEND, "conv_transpose2d_cuda: cublasSetStream: %s", cublasGetStatusString(cs));

    PCAVS_LAUNCH(k_fill_bias, blocks_for((long)d->n * d->c_out * g.oh * g.ow), 256, 0, st)(g, bias, y);
    PCAVS_TRY(pcavs_cu_check("conv_transpose2d_cuda", cudaGetLastError(), "bias fill launch"));
    const float one = 1.0f, zero = 0.0f;
    for (long j0 = 0; j0 < total; j0 += nt) {
        const int cur = (int)(total - j0 < nt ? total - j0 : nt);
        PCAVS_LAUNCH(k_pack, blocks_for((long)d->c_in * cur), 256, 0, st)(g, j0, cur, x, xt);
        PCAVS_TRY(pcavs_cu_check("conv_transpose2d_cuda", cudaGetLastError(), "pack launch"));
        /* row-major cols[M, cur] = w^T[M, c_in] . xt[c_in, cur]; column-major: cols^T = xt^T . w */
        cs = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, cur, M, d->c_in, &one, xt, cur, w, M, &zero, cols, cur);
        if (cs != CUBLAS_STATUS_SUCCESS)
            return pcavs_fail(PCAVS_ERR_BACKEND, "conv_transpose2d_cuda: cublasSgemm: %s", cublasGetStatusString(cs));
        const int b0 = (int)(j0 / P), b1 = (int)((j0 + cur - 1) / P);
        PCAVS_LAUNCH(k_col2im, blocks_for((long)(b1 - b0 + 1) * d->c_out * g.oh * g.ow), 256, 0, st)
        (g, j0, cur, b0, b1 - b0 + 1, cols, y);
        PCAVS_TRY(pcavs_cu_check("conv_transpose2d_cuda", cudaGetLastError(), "col2im launch"));
    }
    return PCAVS_OK;
}
