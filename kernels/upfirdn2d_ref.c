/* upfirdn2d_ref.c: reference upfirdn2d (rosinality upfirdn2d_native: insert up-1 zeros after every
 * sample, zero-pad, correlate with the kernel flipped in both axes, keep every down-th sample)
 * with plain loops and double accumulation: the truth _cpu and _cuda are tested against. Also
 * holds pcavs_upfirdn2d_check, shared by every backend. */
#include "upfirdn2d.h"

pcavs_status pcavs_upfirdn2d_check(const pcavs_upfirdn2d_desc *d) {
    if (!d) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: descriptor is NULL");
    if (d->planes < 1 || d->h < 1 || d->w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: input [planes=%d, h=%d, w=%d] has a non-positive size",
                          d->planes, d->h, d->w);
    if (d->up < 1 || d->down < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: up=%d and down=%d must be >= 1", d->up, d->down);
    if (d->pad_x0 < 0 || d->pad_x1 < 0 || d->pad_y0 < 0 || d->pad_y1 < 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: pads (x %d,%d y %d,%d) must be >= 0", d->pad_x0, d->pad_x1,
                          d->pad_y0, d->pad_y1);
    if (d->kh < 1 || d->kw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: kernel %dx%d has a non-positive size", d->kh, d->kw);
    if (d->h * d->up + d->pad_y0 + d->pad_y1 < d->kh || d->w * d->up + d->pad_x0 + d->pad_x1 < d->kw)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d: kernel %dx%d larger than the padded upsampled input %dx%d",
                          d->kh, d->kw, d->h * d->up + d->pad_y0 + d->pad_y1, d->w * d->up + d->pad_x0 + d->pad_x1);
    return PCAVS_OK;
}

pcavs_status pcavs_upfirdn2d_ref(const pcavs_kctx *kc, const pcavs_upfirdn2d_desc *d,
                                 const float *x,      /* [planes, h, w] */
                                 const float *kernel, /* [kh, kw] */
                                 float *y) {          /* [planes, out_h, out_w] */
    (void)kc;
    PCAVS_TRY(pcavs_upfirdn2d_check(d));
    if (!x || !kernel || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "upfirdn2d_ref: NULL tensor pointer");
    const int oh = pcavs_upfirdn2d_out_h(d), ow = pcavs_upfirdn2d_out_w(d);
    const int uh = d->h * d->up, uw = d->w * d->up; /* zero-inserted grid */
    for (int p = 0; p < d->planes; p++) {
        const float *xp = x + (size_t)p * d->h * d->w;
        float *yp = y + (size_t)p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double acc = 0.0;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int uy = oy * d->down + ky - d->pad_y0; /* row in the zero-inserted grid */
                    if (uy < 0 || uy >= uh || uy % d->up) continue;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const int ux = ox * d->down + kx - d->pad_x0;
                        if (ux < 0 || ux >= uw || ux % d->up) continue;
                        acc += (double)xp[(size_t)(uy / d->up) * d->w + ux / d->up] *
                               kernel[(d->kh - 1 - ky) * d->kw + (d->kw - 1 - kx)]; /* flipped kernel */
                    }
                }
                yp[(size_t)oy * ow + ox] = (float)acc;
            }
    }
    return PCAVS_OK;
}
