/* blend.c: paste-back blends (no upstream counterpart): a feathered alpha ramp, and a Laplacian-pyramid
 * blend in the manner of Burt & Adelson 1983 ("A multiresolution spline"), written on the difference
 * D = face - original so that everything outside the blend region stays the original's bytes:
 *   G_0 = D, G_{l+1} = reduce(G_l) (5-tap binomial, decimated by 2; a normalised convolution, so pixels the
 *   face does not cover and the region's border do not pull the levels towards 0);
 *   B_l = expand^l(G_l) at full resolution, band_l = B_l - B_{l+1}, band_L = B_L (sum of the bands = D);
 *   out = orig + sum_l a_l band_l = orig + a_0 B_0 + sum_{l>=1} (a_l - a_{l-1}) B_l.
 * Burt & Adelson weight each band at its own resolution with a blurred mask and then expand, which spreads the
 * coarse bands far outside the mask; weighting the full-resolution bands with ramps a_l of the distance to the
 * mask (all 0 at d <= -margin) keeps the blend inside the margin exactly, and the wider ramps of the coarse
 * bands still carry a colour or lighting difference over a wide band inside the mask, without an edge. Where the
 * face is larger in the frame than in the crop, the bands coarser than one crop pixel are summed at a lower level
 * and expanded once (see pcavs_blend_region). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blend.h"
#include "status.h"

#define BLEND_MAX_LEVELS 6
#define BLEND_COARSE_UNITS 16.0 /* spacing of the coarsest level, mask units */
#define BLEND_MAX_RAMP 32.0     /* the widest ramp inside the mask, mask units */

static double smoothstep01(double t) {
    if (t <= 0) return 0;
    if (t >= 1) return 1;
    return t * t * (3 - 2 * t);
}

static int n_levels(double s, int w, int h) {
    int L = (int)lround(log2(BLEND_COARSE_UNITS * s));
    if (L < 1) L = 1;
    if (L > BLEND_MAX_LEVELS) L = BLEND_MAX_LEVELS;
    while (L > 1 && ((w >> L) < 2 || (h >> L) < 2)) L--;
    return L;
}

int pcavs_blend_context_px(double s) {
    int L = (int)lround(log2(BLEND_COARSE_UNITS * (s > 0 ? s : 1)));
    if (L < 1) L = 1;
    if (L > BLEND_MAX_LEVELS) L = BLEND_MAX_LEVELS;
    return (2 << L) + 4;
}

/* ramp of band l: 0 at d = -margin, 1 at d = w_l */
static double ramp_width(int l, int L, double s) {
    double w = 2.0 * (double)(1 << l) / s;
    if (l == L) w = BLEND_MAX_RAMP;
    return w < 1 ? 1 : w > BLEND_MAX_RAMP ? BLEND_MAX_RAMP : w;
}

/* reduce: out[k] = sum_t b_t in[2k + t], t in -2..2, b = (1 4 6 4 1)/16, zero outside; nch channels */
static void reduce_rows(const float *in, int w, int h, int nch, float *out, int ow) {
    static const float b[5] = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};
    for (int y = 0; y < h; y++)
        for (int k = 0; k < ow; k++)
            for (int c = 0; c < nch; c++) {
                float acc = 0;
                for (int t = -2; t <= 2; t++) {
                    int x = 2 * k + t;
                    if (x >= 0 && x < w) acc += b[t + 2] * in[((size_t)y * w + x) * nch + c];
                }
                out[((size_t)y * ow + k) * nch + c] = acc;
            }
}
static void reduce_cols(const float *in, int w, int h, int nch, float *out, int oh) {
    static const float b[5] = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};
    for (int k = 0; k < oh; k++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < nch; c++) {
                float acc = 0;
                for (int t = -2; t <= 2; t++) {
                    int y = 2 * k + t;
                    if (y >= 0 && y < h) acc += b[t + 2] * in[((size_t)y * w + x) * nch + c];
                }
                out[((size_t)k * w + x) * nch + c] = acc;
            }
}

/* expand (unnormalised): out[x] = sum_k K(x - 2k) in[k] with K(0) = 6, K(+-1) = 4, K(+-2) = 1 (over 8), zero
 * outside: out[2k] = (in[k-1] + 6 in[k] + in[k+1]) / 8, out[2k+1] = (in[k] + in[k+1]) / 2. Along a row
 * (stride nch between samples) or a column (stride w * nch); n source samples, on output samples. */
static void expand_line(const float *in, size_t istep, int n, float *out, size_t ostep, int on, int nch) {
    for (int x = 0; x < on; x++) {
        int k = x >> 1;
        const float *c = in + (size_t)k * istep;
        float *o = out + (size_t)x * ostep;
        int has_prev = k > 0, has_next = k + 1 < n, has_k = k < n;
        for (int ch = 0; ch < nch; ch++) {
            float v;
            if (x & 1)
                v = 0.5f * ((has_k ? c[ch] : 0.f) + (has_next ? c[istep + ch] : 0.f));
            else
                v = 0.125f * ((has_prev ? c[ch - (long)istep] : 0.f) + 6.f * (has_k ? c[ch] : 0.f) +
                              (has_next ? c[istep + ch] : 0.f));
            o[ch] = v;
        }
    }
}
static void expand_rows(const float *in, int w, int h, int nch, float *out, int ow) {
    for (int y = 0; y < h; y++)
        expand_line(in + (size_t)y * w * nch, (size_t)nch, w, out + (size_t)y * ow * nch, (size_t)nch, ow, nch);
}
static void expand_cols(const float *in, int w, int h, int nch, float *out, int oh) {
    /* row by row of the output, so that memory is walked in order */
    for (int y = 0; y < oh; y++) {
        int k = y >> 1;
        int has_prev = k > 0, has_next = k + 1 < h, has_k = k < h;
        const float *c = in + (size_t)k * w * nch, *pv = c - (size_t)w * nch, *nx = c + (size_t)w * nch;
        float *o = out + (size_t)y * w * nch;
        for (size_t i = 0; i < (size_t)w * nch; i++) {
            if (y & 1)
                o[i] = 0.5f * ((has_k ? c[i] : 0.f) + (has_next ? nx[i] : 0.f));
            else
                o[i] = 0.125f * ((has_prev ? pv[i] : 0.f) + 6.f * (has_k ? c[i] : 0.f) + (has_next ? nx[i] : 0.f));
        }
    }
}

/* Normalised expand of a level (num [h, w, 3] = G * c, c [h, w]) to (ow, oh): G' = expand(num) / expand(c),
 * written as num' = G' c' with c' = 1 where expand(c) > 0. tmp: scratch of 4 * ow * h floats. */
static void nexpand(const float *num, const float *c, int w, int h, float *onum, float *oc, int ow, int oh,
                    float *tmp) {
    float *tn = tmp, *tc = tmp + (size_t)3 * ow * h;
    expand_rows(num, w, h, 3, tn, ow);
    expand_rows(c, w, h, 1, tc, ow);
    expand_cols(tn, ow, h, 3, onum, oh);
    expand_cols(tc, ow, h, 1, oc, oh);
    for (size_t i = 0; i < (size_t)ow * oh; i++) {
        float d = oc[i];
        if (d > 1e-6f) {
            for (int k = 0; k < 3; k++) onum[3 * i + k] /= d;
            oc[i] = 1;
        } else {
            for (int k = 0; k < 3; k++) onum[3 * i + k] = 0;
            oc[i] = 0;
        }
    }
}

static uint8_t to_u8(float v) {
    long q = lrintf(v);
    return (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
}

static pcavs_status blend_feather(uint8_t *dst, size_t stride, int w, int h, const float *face, const float *dist,
                                  double margin) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (!(dist[i] >= -margin)) continue;
            double a = smoothstep01((dist[i] + margin) / (2 * margin));
            if (a <= 0) continue;
            uint8_t *o = dst + (size_t)y * stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++) o[c] = to_u8((float)(o[c] + a * (face[3 * i + c] - o[c])));
        }
    return PCAVS_OK;
}

pcavs_status pcavs_blend_region(uint8_t *dst, size_t stride, int w, int h, const float *face, const uint8_t *valid,
                                const float *dist, double margin, double s, pcavs_paste_blend mode) {
    if (!dst || !face || !valid || !dist || w <= 0 || h <= 0 || stride < (size_t)w * 3 || !(margin > 0) || !(s > 0))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "blend: bad region arguments");
    if (mode == PCAVS_BLEND_FEATHER) return blend_feather(dst, stride, w, h, face, dist, margin);
    if (mode != PCAVS_BLEND_MULTIBAND) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "blend: unknown blend %d", (int)mode);

    const int L = n_levels(s, w, h);
    int lw[BLEND_MAX_LEVELS + 1], lh[BLEND_MAX_LEVELS + 1];
    size_t off[BLEND_MAX_LEVELS + 2];
    lw[0] = w, lh[0] = h, off[0] = 0;
    for (int l = 1; l <= L; l++) lw[l] = (lw[l - 1] + 1) / 2, lh[l] = (lh[l - 1] + 1) / 2;
    for (int l = 0; l <= L; l++) off[l + 1] = off[l] + (size_t)lw[l] * lh[l];
    const size_t np = (size_t)w * h;
    /* G (num/den per level, [h_l, w_l, 3] and [h_l, w_l]), two full-size work planes, the output sum, scratch */
    float *gn = malloc(off[L + 1] * 3 * sizeof(float)), *gd = malloc(off[L + 1] * sizeof(float));
    float *an = malloc(np * 3 * sizeof(float)), *ac = malloc(np * sizeof(float));
    float *bn = malloc(np * 3 * sizeof(float)), *bc = malloc(np * sizeof(float));
    float *sum = malloc(np * 3 * sizeof(float)), *tmp = malloc(np * 4 * sizeof(float));
    pcavs_status rc = PCAVS_OK;
    if (!gn || !gd || !an || !ac || !bn || !bc || !sum || !tmp) {
        rc = pcavs_fail(PCAVS_ERR_OOM, "blend: out of memory (%dx%d region)", w, h);
        goto done;
    }
    /* level 0: D where the face covers the pixel (weight 1), 0 elsewhere (weight 0) */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            const uint8_t *o = dst + (size_t)y * stride + (size_t)x * 3;
            float v = valid[i] ? 1.f : 0.f;
            gd[i] = v;
            for (int c = 0; c < 3; c++) gn[3 * i + c] = v * (face[3 * i + c] - o[c]);
        }
    for (int l = 1; l <= L; l++) { /* unnormalised reduce of num and den together */
        reduce_rows(gn + 3 * off[l - 1], lw[l - 1], lh[l - 1], 3, tmp, lw[l]);
        reduce_cols(tmp, lw[l], lh[l - 1], 3, gn + 3 * off[l], lh[l]);
        reduce_rows(gd + off[l - 1], lw[l - 1], lh[l - 1], 1, tmp, lw[l]);
        reduce_cols(tmp, lw[l], lh[l - 1], 1, gd + off[l], lh[l]);
    }
    for (int l = 0; l <= L; l++) /* normalise: G_l (kept as num) and validity c_l (in gd) */
        for (size_t i = off[l]; i < off[l + 1]; i++) {
            float d = gd[i];
            if (d > 1e-3f) {
                for (int k = 0; k < 3; k++) gn[3 * i + k] /= d;
                gd[i] = 1;
            } else {
                for (int k = 0; k < 3; k++) gn[3 * i + k] = 0;
                gd[i] = 0;
            }
        }
    /* The bands finer than one mask unit all take a_0 (their ramps are the narrowest, 1 unit), so the sum of the
     * coarser bands is formed at level K (a pixel of about one unit) and expanded once:
     *   out - orig = a_0 (D - B_K) + expand^K(T),  T = a_K G_K + sum_{l > K} (a_l - a_{l-1}) expand^{l-K}(G_l)
     * with T's ramps evaluated at level K's pixel centres and started R = 2^(K+1) - 2 frame pixels (the reach of
     * expand^K) further in, so that expand^K(T) stays inside the margin too. K = 0: everything at full resolution. */
    int K = 0;
    while (K + 1 < L && (double)(2 << K) <= s) K++;
    const size_t nk = (size_t)lw[K] * lh[K];
    const double a_start = -margin + (K ? (double)((2 << K) - 2) / s : 0); /* where T's ramps start */
    float *dk = malloc(nk * sizeof(float)), *tn = malloc(nk * 3 * sizeof(float));
    if (!dk || !tn) {
        free(dk), free(tn);
        rc = pcavs_fail(PCAVS_ERR_OOM, "blend: out of memory (%dx%d region)", w, h);
        goto done;
    }
    for (int y = 0; y < lh[K]; y++)
        for (int x = 0; x < lw[K]; x++) dk[(size_t)y * lw[K] + x] = dist[((size_t)y << K) * w + ((size_t)x << K)];
#define RAMP(d, wl) ((d) > a_start ? smoothstep01(((d)-a_start) / fmax((wl)-a_start, 1e-3)) : 0.0)
    for (size_t i = 0; i < nk; i++) { /* T = a_K G_K */
        double a = RAMP(dk[i], ramp_width(K, L, s));
        for (int c = 0; c < 3; c++) tn[3 * i + c] = (float)(a * gn[3 * (off[K] + i) + c]);
    }
    for (int l = K + 1; l <= L; l++) { /* + (a_l - a_{l-1}) expand^{l-K}(G_l) */
        float *cn = an, *cc = ac, *nn = bn, *nc = bc;
        memcpy(cn, gn + 3 * off[l], (size_t)lw[l] * lh[l] * 3 * sizeof(float));
        memcpy(cc, gd + off[l], (size_t)lw[l] * lh[l] * sizeof(float));
        for (int m = l; m > K; m--) {
            nexpand(cn, cc, lw[m], lh[m], nn, nc, lw[m - 1], lh[m - 1], tmp);
            float *t = cn;
            cn = nn, nn = t;
            t = cc, cc = nc, nc = t;
        }
        double wl = ramp_width(l, L, s), wp = ramp_width(l - 1, L, s);
        for (size_t i = 0; i < nk; i++) {
            double da = RAMP(dk[i], wl) - RAMP(dk[i], wp);
            if (da == 0) continue;
            for (int c = 0; c < 3; c++) tn[3 * i + c] += (float)(da * cn[3 * i + c]);
        }
    }
#undef RAMP
    /* full resolution: sum = a_0 (D - expand^K(G_K)) + expand^K(T) (K = 0: a_0 (D - G_0) + T = T) */
    for (size_t i = 0; i < np; i++)
        for (int c = 0; c < 3; c++) sum[3 * i + c] = 0;
    for (int pass = 0; pass < (K ? 2 : 1); pass++) {
        /* pass 0: T; pass 1: G_K (subtracted under a_0) */
        float *cn = an, *cc = ac, *nn = bn, *nc = bc;
        memcpy(cn, pass ? gn + 3 * off[K] : tn, nk * 3 * sizeof(float));
        memcpy(cc, gd + off[K], nk * sizeof(float));
        for (int m = K; m >= 1; m--) {
            nexpand(cn, cc, lw[m], lh[m], nn, nc, lw[m - 1], lh[m - 1], tmp);
            float *t = cn;
            cn = nn, nn = t;
            t = cc, cc = nc, nc = t;
        }
        for (size_t i = 0; i < np; i++) {
            if (!(dist[i] >= -margin)) continue;
            if (pass == 0) {
                for (int c = 0; c < 3; c++) sum[3 * i + c] += cn[3 * i + c];
            } else {
                double a0 = smoothstep01((dist[i] + margin) / (margin + ramp_width(0, L, s)));
                for (int c = 0; c < 3; c++) sum[3 * i + c] += (float)(a0 * (gn[3 * i + c] - cn[3 * i + c]));
            }
        }
    }
    free(dk), free(tn);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (!(dist[i] >= -margin)) continue;
            uint8_t *o = dst + (size_t)y * stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++) o[c] = to_u8(o[c] + sum[3 * i + c]);
        }
done:
    free(gn), free(gd), free(an), free(ac), free(bn), free(bc), free(sum), free(tmp);
    return rc;
}
