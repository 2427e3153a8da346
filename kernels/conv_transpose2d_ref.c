/* conv_transpose2d_ref.c: reference transposed convolution (PyTorch F.conv_transpose2d with
 * groups 1, no output padding, dilation 1), written as the defining scatter
 *   y[b][co][s*iy + ky - pad][s*ix + kx - pad] += x[b][ci][iy][ix] * w[ci][co][ky][kx]
 * but evaluated as a gather per output element with double accumulation (the truth for tests). */
#include "conv_transpose2d.h"

pcavs_status pcavs_conv_transpose2d_check(const pcavs_conv_transpose2d_desc *d);

/* Shared by every backend (declared here, not in the header: the header is the shared contract). */
pcavs_status pcavs_conv_transpose2d_check(const pcavs_conv_transpose2d_desc *d) {
    if (!d) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d: descriptor is NULL");
    if (d->n < 1 || d->c_in < 1 || d->h < 1 || d->w < 1 || d->c_out < 1 || d->kh < 1 || d->kw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG,
                          "conv_transpose2d: non-positive size (n=%d c_in=%d h=%d w=%d c_out=%d kh=%d kw=%d)", d->n,
                          d->c_in, d->h, d->w, d->c_out, d->kh, d->kw);
    if (d->stride < 1 || d->pad < 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d: stride %d must be >= 1 and pad %d >= 0", d->stride,
                          d->pad);
    if (pcavs_conv_transpose2d_out_h(d) < 1 || pcavs_conv_transpose2d_out_w(d) < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d: padding %d leaves an empty output", d->pad);
    return PCAVS_OK;
}

pcavs_status pcavs_conv_transpose2d_ref(const pcavs_kctx *kc, const pcavs_conv_transpose2d_desc *d,
                                        const float *x,    /* [n, c_in, h, w] */
                                        const float *w,    /* [c_in, c_out, kh, kw] */
                                        const float *bias, /* [c_out] or NULL */
                                        float *y) {        /* [n, c_out, oh, ow] */
    (void)kc;
    PCAVS_TRY(pcavs_conv_transpose2d_check(d));
    if (!x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv_transpose2d_ref: x, w or y is NULL");
    const int oh = pcavs_conv_transpose2d_out_h(d), ow = pcavs_conv_transpose2d_out_w(d), s = d->stride;
    for (int b = 0; b < d->n; b++)
        for (int co = 0; co < d->c_out; co++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int ty = oy + d->pad - ky; /* = s * iy */
                        if (ty < 0 || ty % s) continue;
                        const int iy = ty / s;
                        if (iy >= d->h) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int tx = ox + d->pad - kx;
                            if (tx < 0 || tx % s) continue;
                            const int ix = tx / s;
                            if (ix >= d->w) continue;
                            for (int ci = 0; ci < d->c_in; ci++)
                                acc += (double)x[(((size_t)b * d->c_in + ci) * d->h + iy) * d->w + ix] *
                                       w[(((size_t)ci * d->c_out + co) * d->kh + ky) * d->kw + kx];
                        }
                    }
                    y[(((size_t)b * d->c_out + co) * oh + oy) * ow + ox] = (float)acc;
                }
    return PCAVS_OK;
}
