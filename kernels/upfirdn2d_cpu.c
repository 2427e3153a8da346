/* upfirdn2d_cpu.c: upfirdn2d on the CPU (rosinality upfirdn2d_native semantics, see upfirdn2d.h).
 * Polyphase: only the taps that land on a real (non-inserted, non-padding) input sample are
 * visited. Rows are handled by a per-row tap list, columns by a table built once per call in
 * scratch; the common up 1 / down 1 case (the Blur) uses contiguous, vectorisable row updates.
 * OpenMP over (plane, output row). */
#include "upfirdn2d.h"

#include <string.h>

pcavs_status pcavs_upfirdn2d_cpu(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d,
                                 const float *x,      /* [planes, h, w] */
                                 const float *kernel, /* [kh, kw] */
                                 float *y) {          /* [planes, out_h, out_w] */
    PCAVS_TRY(pcavs_upfirdn2d_check(d));
    if (!kc || !x || !kernel || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d_cpu: NULL pointer");
    const int oh = pcavs_upfirdn2d_out_h(d), ow = pcavs_upfirdn2d_out_w(d);
    const int h = d->h, w = d->w, up = d->up, down = d->down, kh = d->kh, kw = d->kw;
    const int uh = h * up, uw = w * up;
    const int fast = (up == 1 && down == 1);
    /* column table: per output column, count then (ix, kernel column) pairs */
    const int stride = 1 + 2 * kw;
    const size_t need = fast ? 0 : (size_t)ow * stride * sizeof(int);
    if (need > kc->scratch_bytes || (need && !kc->scratch))
        return pcavs_fail(PCAVS_ERR_OOM, "upfirdn2d_cpu: needs %zu bytes of scratch, %zu available", need,
                          kc->scratch_bytes);
    int *ctab = (int *)kc->scratch; /* [ow, 1 + 2*kw] */
    if (!fast)
        for (int ox = 0; ox < ow; ox++) {
            int *t = ctab + (size_t)ox * stride, cnt = 0;
            for (int kx = 0; kx < kw; kx++) {
                const int ux = ox * down + kx - d->pad_x0;
                if (ux < 0 || ux >= uw || ux % up) continue;
                t[1 + 2 * cnt] = ux / up;
                t[2 + 2 * cnt] = kw - 1 - kx; /* flipped kernel */
                cnt++;
            }
            t[0] = cnt;
        }
    const long rows = (long)d->planes * oh;
#pragma omp parallel for num_threads(kc->n_threads) schedule(static)
    for (long r = 0; r < rows; r++) {
        const int p = (int)(r / oh), oy = (int)(r % oh);
        const float *xp = x + (size_t)p * h * w; /* [h, w] */
        float *yr = y + (size_t)r * ow;          /* [ow] */
        memset(yr, 0, (size_t)ow * sizeof(float));
        for (int ky = 0; ky < kh; ky++) {
            const int uy = oy * down + ky - d->pad_y0;
            if (uy < 0 || uy >= uh || uy % up) continue;
            const float *xr = xp + (size_t)(uy / up) * w;
            const float *kr = kernel + (size_t)(kh - 1 - ky) * kw; /* flipped row */
            if (fast) {
                for (int kx = 0; kx < kw; kx++) {
                    const float kv = kr[kw - 1 - kx];
                    const int off = kx - d->pad_x0; /* ix = ox + off */
                    int lo = -off > 0 ? -off : 0, hi = w - off < ow ? w - off : ow;
                    const float *xs = xr + off;
                    for (int ox = lo; ox < hi; ox++) yr[ox] += kv * xs[ox];
                }
            } else {
                for (int ox = 0; ox < ow; ox++) {
                    const int *t = ctab + (size_t)ox * stride;
                    float acc = 0.0f;
                    for (int j = 0; j < t[0]; j++) acc += kr[t[2 + 2 * j]] * xr[t[1 + 2 * j]];
                    yr[ox] += acc;
                }
            }
        }
    }
    return PCAVS_OK;
}
