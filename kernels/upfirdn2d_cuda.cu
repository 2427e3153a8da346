/* upfirdn2d_cuda.cu: upfirdn2d on CUDA (rosinality upfirdn2d_native semantics, see upfirdn2d.h):
 * one thread per output element, visiting only the taps that land on a real input sample
 * (polyphase), kernel read flipped. Device pointers, stream kc->cuda_stream; no scratch.
 * CUDA errors become PCAVS_ERR_BACKEND. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "cuda_launch.h"

extern "C" {
#include "upfirdn2d.h"
}

struct ufd_geom {
    int planes, h, w, up, down, px0, py0, kh, kw, oh, ow;
};

__global__ void k_upfirdn2d(ufd_geom g, const float *__restrict__ x, const float *__restrict__ kernel,
                            float *__restrict__ y) {
    const long total = (long)g.planes * g.oh * g.ow;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int ox = (int)(i % g.ow), oy = (int)((i / g.ow) % g.oh), p = (int)(i / ((long)g.ow * g.oh));
        const float *xp = x + (size_t)p * g.h * g.w;
        /* first tap ky with (oy*down + ky - py0) >= 0 and divisible by up */
        const int by = oy * g.down - g.py0, bx = ox * g.down - g.px0;
        int ky0 = by < 0 ? -by : 0, kx0 = bx < 0 ? -bx : 0;
        while (ky0 < g.kh && (by + ky0) % g.up) ky0++;
        while (kx0 < g.kw && (bx + kx0) % g.up) kx0++;
        float acc = 0.0f;
        for (int ky = ky0; ky < g.kh; ky += g.up) {
            const int iy = (by + ky) / g.up;
            if (iy >= g.h) break;
            const float *kr = kernel + (size_t)(g.kh - 1 - ky) * g.kw;
            for (int kx = kx0; kx < g.kw; kx += g.up) {
                const int ix = (bx + kx) / g.up;
                if (ix >= g.w) break;
                acc = fmaf(xp[(size_t)iy * g.w + ix], kr[g.kw - 1 - kx], acc);
            }
        }
        y[i] = acc;
    }
}

extern "C" pcavs_status pcavs_upfirdn2d_cuda(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d,
                                             const float *x,      /* [planes, h, w] */
                                             const float *kernel, /* [kh, kw] */
                                             float *y) {          /* [planes, out_h, out_w] */
    PCAVS_TRY(pcavs_upfirdn2d_check(d));
    if (!kc || !x || !kernel || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d_cuda: NULL pointer");
    ufd_geom g = {d->planes,
                  d->h,
                  d->w,
                  d->up,
                  d->down,
                  d->pad_x0,
                  d->pad_y0,
                  d->kh,
                  d->kw,
                  pcavs_upfirdn2d_out_h(d),
                  pcavs_upfirdn2d_out_w(d)};
    const long total = (long)g.planes * g.oh * g.ow;
    long blocks = (total + 255) / 256;
    if (blocks > 65535L * 8) blocks = 65535L * 8;
    PCAVS_LAUNCH(k_upfirdn2d, (int)blocks, 256, 0, (cudaStream_t)kc->cuda_stream)(g, x, kernel, y);
    return pcavs_cu_launched("upfirdn2d_cuda", "launch");
}
