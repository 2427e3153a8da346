/* pool_cpu.c: production CPU pooling (see pool.h): max pooling with implicit -inf padding and
 * floor mode (fast path for FAN's 2x2/2; clipped windows otherwise, e.g. ResNeXt's 3x3/2 pad 1),
 * global average pooling (double partial sums, 8 lanes) and adaptive average pooling with
 * PyTorch's bins (identity copy when the size does not change: PC-AVS's 7x7 -> 7x7).
 * OpenMP over planes, skipped for small inputs. */
#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pool.h"

#define PAR_MIN 32768 /* elements read below which one thread is faster */

#define ROWMAX_W 1024 /* widest row of the separable max-pool path (stack buffer) */

/* max as PyTorch's max_pool2d: a NaN wins. Branch-free with SSE2 (maxss(v, m) returns m when
 * either is NaN, so a NaN v is blended in afterwards): random data mispredicts a scalar compare
 * half the time. */
static inline float max_nan(float m, float v) {
#ifdef __SSE2__
    const __m128 mm = _mm_set_ss(m), vv = _mm_set_ss(v);
    const __m128 r = _mm_max_ss(vv, mm), vnan = _mm_cmpunord_ss(vv, vv);
    return _mm_cvtss_f32(_mm_or_ps(_mm_and_ps(vnan, vv), _mm_andnot_ps(vnan, r)));
#else
    return (v > m || v != v) ? v : m;
#endif
}

/* col[i] = max_nan(col[i], xr[i]) for i < w, branch-free (random data mispredicts the scalar
 * compare half the time). SSE2 (x86-64 baseline): maxps(v, m) returns m when either is NaN, so
 * NaN lanes of v are blended in afterwards. */
static void rowmax_nan(float *col, const float *xr, int w) {
    int i = 0;
#ifdef __SSE2__
    for (; i + 4 <= w; i += 4) {
        const __m128 m = _mm_loadu_ps(col + i), v = _mm_loadu_ps(xr + i);
        const __m128 r = _mm_max_ps(v, m), vnan = _mm_cmpunord_ps(v, v);
        _mm_storeu_ps(col + i, _mm_or_ps(_mm_and_ps(vnan, v), _mm_andnot_ps(vnan, r)));
    }
#endif
    for (; i < w; i++) col[i] = max_nan(col[i], xr[i]);
}

static int nthreads(const pcavs_kctx *kc) { return kc && kc->n_threads > 0 ? kc->n_threads : 1; }

pcavs_status pcavs_maxpool2d_cpu(const pcavs_kctx *kc, const pcavs_maxpool2d_desc *d, const float *x, /* [n, c, h, w] */
                                 float *y) { /* [n, c, oh, ow] */
    if (!d || !x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_cpu: NULL operand");
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 || 2 * d->pad > d->k)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "maxpool2d_cpu: bad size n=%d c=%d h=%d w=%d k=%d stride=%d pad=%d",
                          d->n, d->c, d->h, d->w, d->k, d->stride, d->pad);
    const int h = d->h, w = d->w, k = d->k, s = d->stride, pad = d->pad;
    const int oh = pcavs_maxpool2d_out_h(d), ow = pcavs_maxpool2d_out_w(d);
    if (oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_SHAPE, "maxpool2d_cpu: input %dx%d smaller than the window %d (pad %d)", h, w, k,
                          pad);
    const long planes = (long)d->n * d->c;
    const int nth = nthreads(kc);
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && planes * h * w >= PAR_MIN)
    for (long pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        if (k == 2 && s == 2 && pad == 0) {
            for (int oy = 0; oy < oh; oy++) {
                const float *r0 = xp + (size_t)(2 * oy) * w, *r1 = r0 + w;
                float *yr = yp + (size_t)oy * ow;
                for (int ox = 0; ox < ow; ox++) {
                    const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], e = r1[2 * ox + 1];
                    /* the compare form rather than max_nan: GCC if-converts it */
                    const float m0 = (b > a || b != b) ? b : a, m1 = (e > c || e != e) ? e : c;
                    yr[ox] = (m1 > m0 || m1 != m1) ? m1 : m0;
                }
            }
            continue;
        }
        if (w <= ROWMAX_W) {
            /* separable: the column-wise max of the window's rows into a row buffer, then the
             * max over each window's columns (max is exact, so the order does not matter) */
            float col[ROWMAX_W];
            for (int oy = 0; oy < oh; oy++) {
                int y0 = oy * s - pad, y1 = y0 + k;
                y0 = y0 < 0 ? 0 : y0;
                y1 = y1 > h ? h : y1;
                memcpy(col, xp + (size_t)y0 * w, (size_t)w * sizeof(float));
                for (int iy = y0 + 1; iy < y1; iy++) rowmax_nan(col, xp + (size_t)iy * w, w);
                float *yr = yp + (size_t)oy * ow;
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ox * s - pad, x1 = x0 + k;
                    x0 = x0 < 0 ? 0 : x0;
                    x1 = x1 > w ? w : x1;
                    float m = col[x0];
                    for (int ix = x0 + 1; ix < x1; ix++) m = max_nan(m, col[ix]);
                    yr[ox] = m;
                }
            }
            continue;
        }
        for (int oy = 0; oy < oh; oy++) {
            int y0 = oy * s - pad, y1 = y0 + k;
            y0 = y0 < 0 ? 0 : y0;
            y1 = y1 > h ? h : y1;
            float *yr = yp + (size_t)oy * ow;
            for (int ox = 0; ox < ow; ox++) {
                int x0 = ox * s - pad, x1 = x0 + k;
                x0 = x0 < 0 ? 0 : x0;
                x1 = x1 > w ? w : x1;
                float m = -INFINITY;
                for (int iy = y0; iy < y1; iy++) {
                    const float *xr = xp + (size_t)iy * w;
                    for (int ix = x0; ix < x1; ix++) m = max_nan(m, xr[ix]);
                }
                yr[ox] = m;
            }
        }
    }
    return PCAVS_OK;
}

/* Sum of xs[0..len) with 8 double lanes (vectorisable without reassociation flags). */
static double sum_lanes(const float *xs, int len) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int p = 0;
    for (; p + 8 <= len; p += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)xs[p + j];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; p < len; p++) s += (double)xs[p];
    return s;
}

pcavs_status pcavs_global_avgpool_cpu(const pcavs_kctx *kc, int planes, int hw, const float *x, /* [planes, hw] */
                                      float *y) {                                               /* [planes] */
    if (planes < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_cpu: non-positive size planes=%d hw=%d", planes, hw);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "global_avgpool_cpu: NULL operand");
    const int nth = nthreads(kc);
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && (long)planes * hw >= PAR_MIN)
    for (int pl = 0; pl < planes; pl++) y[pl] = (float)(sum_lanes(x + (size_t)pl * hw, hw) / hw);
    return PCAVS_OK;
}

pcavs_status pcavs_adaptive_avgpool_cpu(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                        const float *x, /* [planes, h, w] */
                                        float *y) {     /* [planes, oh, ow] */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_cpu: non-positive size planes=%d %dx%d -> %dx%d",
                          planes, h, w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "adaptive_avgpool_cpu: NULL operand");
    if (oh == h && ow == w) { /* every bin holds one element: sum / 1 */
        if (x != y) memcpy(y, x, (size_t)planes * h * w * sizeof(float));
        return PCAVS_OK;
    }
    if (oh == 1 && ow == 1) return pcavs_global_avgpool_cpu(kc, planes, h * w, x, y);
    const int nth = nthreads(kc);
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && (long)planes * h * w >= PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * h * w;
        for (int oy = 0; oy < oh; oy++) {
            const int y0 = (int)(((long)oy * h) / oh), y1 = (int)(((long)(oy + 1) * h + oh - 1) / oh);
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = (int)(((long)ox * w) / ow), x1 = (int)(((long)(ox + 1) * w + ow - 1) / ow);
                double s = 0.0;
                for (int iy = y0; iy < y1; iy++) s += sum_lanes(xp + (size_t)iy * w + x0, x1 - x0);
                y[((size_t)pl * oh + oy) * ow + ox] = (float)(s / ((double)(y1 - y0) * (x1 - x0)));
            }
        }
    }
    return PCAVS_OK;
}
