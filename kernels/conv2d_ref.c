/* conv2d_ref.c: reference 2-D convolution (PyTorch F.conv2d, dilation 1: zero padding, stride,
 * groups, optional bias, fused ReLU) with plain loops and double accumulation: the truth the
 * _cpu and _cuda kernels are tested against. Also holds pcavs_conv2d_check, shared by every
 * backend. */
#include "conv2d.h"

pcavs_status pcavs_conv2d_check(const pcavs_conv2d_desc *d) {
    if (!d) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: descriptor is NULL");
    if (d->n < 1 || d->c_in < 1 || d->h < 1 || d->w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: input [n=%d, c_in=%d, h=%d, w=%d] has a non-positive size",
                          d->n, d->c_in, d->h, d->w);
    if (d->c_out < 1 || d->kh < 1 || d->kw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: weight c_out=%d kh=%d kw=%d has a non-positive size",
                          d->c_out, d->kh, d->kw);
    if (d->stride_h < 1 || d->stride_w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: stride %dx%d must be positive", d->stride_h, d->stride_w);
    if (d->pad_h < 0 || d->pad_w < 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: padding %dx%d must be >= 0", d->pad_h, d->pad_w);
    if (d->groups < 1 || d->c_in % d->groups || d->c_out % d->groups)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: groups=%d must divide c_in=%d and c_out=%d", d->groups,
                          d->c_in, d->c_out);
    if (d->h + 2 * d->pad_h < d->kh || d->w + 2 * d->pad_w < d->kw)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: kernel %dx%d larger than padded input %dx%d", d->kh, d->kw,
                          d->h + 2 * d->pad_h, d->w + 2 * d->pad_w);
    if (d->act != PCAVS_ACT_NONE && d->act != PCAVS_ACT_RELU)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d: unknown activation %d", (int)d->act);
    return PCAVS_OK;
}

pcavs_status pcavs_conv2d_ref(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *x, /* [n,c_in,h,w] */
                              const float *w,    /* [c_out, c_in/groups, kh, kw] */
                              const float *bias, /* [c_out] or NULL */
                              float *y) {        /* [n, c_out, oh, ow] */
    (void)kc;
    PCAVS_TRY(pcavs_conv2d_check(d));
    if (!x || !w || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "conv2d_ref: x, w or y is NULL");
    const int oh = pcavs_conv2d_out_h(d), ow = pcavs_conv2d_out_w(d);
    const int cig = d->c_in / d->groups, cog = d->c_out / d->groups;
    for (int b = 0; b < d->n; b++)
        for (int co = 0; co < d->c_out; co++) {
            const int g = co / cog;
            const float *wo = w + (size_t)co * cig * d->kh * d->kw;
            float *yo = y + ((size_t)b * d->c_out + co) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int ci = 0; ci < cig; ci++) {
                        const float *xc = x + ((size_t)b * d->c_in + (size_t)g * cig + ci) * d->h * d->w;
                        const float *wc = wo + (size_t)ci * d->kh * d->kw;
                        for (int ky = 0; ky < d->kh; ky++) {
                            const int iy = oy * d->stride_h - d->pad_h + ky;
                            if (iy < 0 || iy >= d->h) continue;
                            for (int kx = 0; kx < d->kw; kx++) {
                                const int ix = ox * d->stride_w - d->pad_w + kx;
                                if (ix < 0 || ix >= d->w) continue;
                                acc += (double)xc[(size_t)iy * d->w + ix] * wc[ky * d->kw + kx];
                            }
                        }
                    }
                    float v = (float)acc;
                    if (d->act == PCAVS_ACT_RELU && v < 0.0f) v = 0.0f; /* NaN propagates, as torch.relu */
                    yo[(size_t)oy * ow + ox] = v;
                }
        }
    return PCAVS_OK;
}
