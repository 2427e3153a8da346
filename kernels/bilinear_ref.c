/* bilinear_ref.c: reference bilinear resize, align_corners=False, output size given
 * (F.upsample(low3, size=up1.shape[2:], mode='bilinear') in the FAN hourglass): PyTorch's
 * upsample_bilinear2d source index and weights (docs/numerics.md §4.1), evaluated in float exactly
 * as the formula there: out = l0*(m0*a + m1*b) + l1*(m0*c + m1*d). */
#include "bilinear.h"

pcavs_status pcavs_bilinear_ref(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                const float *x, /* [planes, h, w] */
                                float *y) {     /* [planes, oh, ow] */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_ref: non-positive size planes=%d %dx%d -> %dx%d", planes, h,
                          w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_ref: NULL operand");
    const float rh = (float)h / (float)oh, rw = (float)w / (float)ow;
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * h * w;
        for (int oy = 0; oy < oh; oy++) {
            float sy = rh * ((float)oy + 0.5f) - 0.5f;
            if (sy < 0.0f) sy = 0.0f;
            const int y0 = (int)sy, yp = y0 < h - 1 ? 1 : 0;
            const float l1 = sy - (float)y0, l0 = 1.0f - l1;
            for (int ox = 0; ox < ow; ox++) {
                float sx = rw * ((float)ox + 0.5f) - 0.5f;
                if (sx < 0.0f) sx = 0.0f;
                const int x0 = (int)sx, xq = x0 < w - 1 ? 1 : 0;
                const float m1 = sx - (float)x0, m0 = 1.0f - m1;
                const float *r0 = xp + (size_t)y0 * w, *r1 = xp + (size_t)(y0 + yp) * w;
                const float top = m0 * r0[x0] + m1 * r0[x0 + xq];
                const float bot = m0 * r1[x0] + m1 * r1[x0 + xq];
                y[((size_t)pl * oh + oy) * ow + ox] = l0 * top + l1 * bot;
            }
        }
    }
    return PCAVS_OK;
}
