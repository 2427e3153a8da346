/* pool_ref.c: reference pooling: F.max_pool2d / nn.MaxPool2d (floor mode, implicit -inf padding:
 * FAN's 2x2/2 incl. 7 -> 3, torchvision's 3x3/2 pad 1 112 -> 56), global average pooling
 * (torch.mean over H, W; SE blocks and ResNeXt avgpool) and F.adaptive_avg_pool2d with PyTorch's
 * bins [floor(i*in/out), ceil((i+1)*in/out)). Sums in double. */
#include <math.h>

#include "pool.h"

pcavs_status pcavs_maxpool2d_ref(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d, const float *x, /* [n, c, h, w] */
                                 float *y) { /* [n, c, oh, ow] */
    if (!d || !x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_ref: NULL operand");
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 || 2 * d->pad > d->k)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_ref: bad size n=%d c=%d h=%d w=%d k=%d stride=%d pad=%d",
                          d->n, d->c, d->h, d->w, d->k, d->stride, d->pad);
    const int oh = pcavs_maxpool2d_out_h(d), ow = pcavs_maxpool2d_out_w(d);
    if (oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_SHAPE, "maxpool2d_ref: input %dx%d smaller than the window %d (pad %d)", d->h, d->w,
                          d->k, d->pad);
    const long planes = (long)d->n * d->c;
    for (long pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * d->h * d->w;
        float *yp = y + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float m = -INFINITY;
                int nan = 0;
                for (int ky = 0; ky < d->k; ky++) {
                    const int iy = oy * d->stride - d->pad + ky;
                    if (iy < 0 || iy >= d->h) continue;
                    for (int kx = 0; kx < d->k; kx++) {
                        const int ix = ox * d->stride - d->pad + kx;
                        if (ix < 0 || ix >= d->w) continue;
                        const float v = xp[(size_t)iy * d->w + ix];
                        if (v != v) nan = 1;
                        if (v > m) m = v;
                    }
                }
                yp[(size_t)oy * ow + ox] = nan ? NAN : m;
            }
    }
    return PCAVS_OK;
}

pcavs_status pcavs_global_avgpool_ref(const pcavs_kctx *kc, int planes, int hw, const float *x, /* [planes, hw] */
                                      float *y) {                                               /* [planes] */
    if (planes < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_ref: non-positive size planes=%d hw=%d", planes, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_ref: NULL operand");
    for (int pl = 0; pl < planes; pl++) {
        double s = 0.0;
        for (int p = 0; p < hw; p++) s += x[(size_t)pl * hw + p];
        y[pl] = (float)(s / hw);
    }
    return PCAVS_OK;
}

pcavs_status pcavs_adaptive_avgpool_ref(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                        const float *x, /* [planes, h, w] */
                                        float *y) {     /* [planes, oh, ow] */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_ref: non-positive size planes=%d %dx%d -> %dx%d",
                          planes, h, w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_ref: NULL operand");
    for (int pl = 0; pl < planes; pl++)
        for (int oy = 0; oy < oh; oy++) {
            const int y0 = (int)(((long)oy * h) / oh), y1 = (int)(((long)(oy + 1) * h + oh - 1) / oh);
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = (int)(((long)ox * w) / ow), x1 = (int)(((long)(ox + 1) * w + ow - 1) / ow);
                double s = 0.0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) s += x[((size_t)pl * h + iy) * w + ix];
                y[((size_t)pl * oh + oy) * ow + ox] = (float)(s / ((double)(y1 - y0) * (x1 - x0)));
            }
        }
    return PCAVS_OK;
}
