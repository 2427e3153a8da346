/* modconv_ref.c: reference StyleGAN2 modulated convolution (rosinality ModulatedConv2d.forward,
 * fused/grouped form) with plain loops: per sample b the weight w_b = (scale*W)*style[b] is built
 * in float as upstream, demodulated with rsqrt(sum w_b^2 + 1e-8) (double sum), then
 *   plain   : y_b = conv2d(x_b, w_b, pad k/2)                       (double accumulation)
 *   upsample: t_b = conv_transpose2d(x_b, w_b^T, stride 2, pad 0)  ((2h+1) x (2w+1), double)
 *             y_b = Blur(t_b) = upfirdn2d(t_b, blur, up 1, pad 1,1) (2h x 2w)
 * then StyledConv's tail where act_lrelu (fused_lrelu_ref, after the convolution, as upstream).
 * Scratch: c_in*k*k floats (one output channel's weight) + one double plane. Also holds
 * pcavs_modconv_check, pcavs_modconv_check_call and pcavs_modconv_demod_ref. The truth _cpu and _cuda are
 * tested against. */
#include <math.h>

#include "activation.h"
#include "modconv.h"

pcavs_status pcavs_modconv_check(const pcavs_modconv_desc *d) {
    if (!d) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv: descriptor is NULL");
    if (d->n < 1 || d->c_in < 1 || d->h < 1 || d->w < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv: input [n=%d, c_in=%d, h=%d, w=%d] has a non-positive size",
                          d->n, d->c_in, d->h, d->w);
    if (d->c_out < 1 || d->k < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv: weight c_out=%d k=%d has a non-positive size", d->c_out,
                          d->k);
    if (d->upsample != 0 && d->upsample != 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv: upsample=%d must be 0 or 1", d->upsample);
    if (d->upsample && d->k != 3)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "modconv: upsample needs k=3 (got %d; the blur pads assume it)", d->k);
    if (!d->upsample && d->k % 2 == 0)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "modconv: plain conv needs an odd k (got %d)", d->k);
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_check_call(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x,
                                      const float *weight, const float *style, const float *blur, const float *y,
                                      const char *form) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!kc || !x || !weight || !style || !y || (d->upsample && !blur))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: NULL pointer", form);
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_demod_ref(const pcavs_kctx *kc, const pcavs_modconv_desc *d,
                                     const float *weight, /* [c_out, c_in, k, k] */
                                     const float *style,  /* [n, c_in] */
                                     float *demod) {      /* [n, c_out] */
    (void)kc;
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !style || !demod) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_demod_ref: NULL pointer");
    const int kk = d->k * d->k;
    const float scale = (float)(1.0 / sqrt((double)d->c_in * kk));
    for (int b = 0; b < d->n; b++)
        for (int o = 0; o < d->c_out; o++) {
            if (!d->demodulate) {
                demod[(size_t)b * d->c_out + o] = 1.0f;
                continue;
            }
            double s = 0.0;
            for (int c = 0; c < d->c_in; c++)
                for (int t = 0; t < kk; t++) {
                    const float wv =
                        (scale * weight[((size_t)o * d->c_in + c) * kk + t]) * style[(size_t)b * d->c_in + c];
                    s += (double)wv * wv;
                }
            demod[(size_t)b * d->c_out + o] = (float)(1.0 / sqrt(s + 1e-8));
        }
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_ref(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, /* [n, c_in, h, w] */
                               const float *weight, /* [c_out, c_in, k, k] */
                               const float *style,  /* [n, c_in] */
                               const float *blur,   /* [4, 4], upsample only */
                               float *y) {          /* [n, c_out, out_h, out_w] */
    PCAVS_TRY(pcavs_modconv_check_call(kc, d, x, weight, style, blur, y, "modconv_ref"));
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k;
    const int th = d->upsample ? 2 * h + 1 : h, tw = d->upsample ? 2 * w + 1 : w; /* accumulation plane */
    const int oh = pcavs_modconv_out_h(d), ow = pcavs_modconv_out_w(d);
    const size_t wbytes = ((size_t)ci_n * kk * sizeof(float) + 63) / 64 * 64;
    const size_t need = wbytes + (size_t)th * tw * sizeof(double);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM, "modconv_ref: needs %zu bytes of scratch, %zu available", need,
                          kc->scratch_bytes);
    float *wb = (float *)kc->scratch;                           /* [c_in, k, k] weight of (b, o) */
    double *acc = (double *)((char *)kc->scratch + wbytes);     /* [th, tw] */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk)); /* upstream: python float * float32 tensor */
    const int pad = k / 2;
    for (int b = 0; b < n; b++)
        for (int o = 0; o < co_n; o++) {
            /* w_b[o] = (scale * W[o]) * style[b], then demodulation, all rounded to float as upstream */
            double s = 0.0;
            for (int c = 0; c < ci_n; c++)
                for (int t = 0; t < kk; t++) {
                    const float wv = (scale * weight[((size_t)o * ci_n + c) * kk + t]) * style[(size_t)b * ci_n + c];
                    wb[(size_t)c * kk + t] = wv;
                    s += (double)wv * wv;
                }
            if (d->demodulate) {
                const float dm = (float)(1.0 / sqrt(s + 1e-8));
                for (size_t t = 0; t < (size_t)ci_n * kk; t++) wb[t] *= dm;
            }
            for (size_t t = 0; t < (size_t)th * tw; t++) acc[t] = 0.0;
            for (int c = 0; c < ci_n; c++) {
                const float *xc = x + ((size_t)b * ci_n + c) * h * w; /* [h, w] */
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        const double wv = wb[(size_t)c * kk + i * k + j];
                        if (d->upsample) { /* conv_transpose: t[2y+i][2x+j] += x[y][x] * w[i][j] (no flip) */
                            for (int yy = 0; yy < h; yy++)
                                for (int xx = 0; xx < w; xx++)
                                    acc[(size_t)(2 * yy + i) * tw + 2 * xx + j] += xc[(size_t)yy * w + xx] * wv;
                        } else { /* conv2d: y[y][x] += x[y+i-pad][x+j-pad] * w[i][j] */
                            for (int yy = 0; yy < h; yy++) {
                                const int iy = yy + i - pad;
                                if (iy < 0 || iy >= h) continue;
                                for (int xx = 0; xx < w; xx++) {
                                    const int ix = xx + j - pad;
                                    if (ix < 0 || ix >= w) continue;
                                    acc[(size_t)yy * tw + xx] += xc[(size_t)iy * w + ix] * wv;
                                }
                            }
                        }
                    }
            }
            float *yo = y + ((size_t)b * co_n + o) * oh * ow; /* [oh, ow] */
            if (!d->upsample) {
                for (size_t t = 0; t < (size_t)oh * ow; t++) yo[t] = (float)acc[t];
                continue;
            }
            /* Blur: upfirdn2d(t, blur, up 1, pad 1,1) on the float-rounded transposed-conv output */
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double v = 0.0;
                    for (int ky = 0; ky < 4; ky++) {
                        const int ty = oy + ky - 1;
                        if (ty < 0 || ty >= th) continue;
                        for (int kx = 0; kx < 4; kx++) {
                            const int tx = ox + kx - 1;
                            if (tx < 0 || tx >= tw) continue;
                            v += (double)(float)acc[(size_t)ty * tw + tx] * blur[(3 - ky) * 4 + (3 - kx)];
                        }
                    }
                    yo[(size_t)oy * ow + ox] = (float)v;
                }
        }
    if (d->act_lrelu) /* StyledConv's tail (modconv.h), as upstream: after the convolution */
        return pcavs_fused_lrelu_ref(kc, n, co_n, oh * ow, y, d->act_bias, d->act_noise, d->act_noise_weight, y);
    return PCAVS_OK;
}
