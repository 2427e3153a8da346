/* align_geom.c: the geometry of upstream scripts/align_68.py: skimage SimilarityTransform.estimate (Umeyama
 * 1991 with scale, skimage.transform._geometric._umeyama, closed form for 2-D), affine inversion/composition,
 * and cv2.warpAffine INTER_LINEAR + BORDER_CONSTANT on uint8, bit-exact with OpenCV's fixed-point path
 * (imgwarp.cpp WarpAffineInvoker + remapBilinear; docs/numerics.md §3.5). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs_align.h"
#include "status.h"

const double pcavs_align_targets[6] = {87, 59, 137, 59, 112, 120};

/* dst_f32: the destination points are a float32 array (upstream's get_affine): numpy then computes their
 * mean in float32 (the demeaned values stay exact), everything else in float64. */
static pcavs_status similarity(const double *src, const double *dst, int n, int dst_f32, double m[6]) {
    if (!src || !dst || !m || n < 2) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: similarity needs >= 2 points");
    double sm[2] = {0, 0}, dm[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        sm[0] += src[2 * i], sm[1] += src[2 * i + 1];
        dm[0] += dst[2 * i], dm[1] += dst[2 * i + 1];
    }
    sm[0] /= n, sm[1] /= n, dm[0] /= n, dm[1] /= n;
    if (dst_f32) {
        float fx = 0, fy = 0;
        for (int i = 0; i < n; i++) fx += (float)dst[2 * i], fy += (float)dst[2 * i + 1];
        dm[0] = fx / (float)n, dm[1] = fy / (float)n;
    }
    /* A = dst_demean^T src_demean / n ; var = sum of per-axis variances of src */
    double a11 = 0, a12 = 0, a21 = 0, a22 = 0, var = 0;
    for (int i = 0; i < n; i++) {
        double sx = src[2 * i] - sm[0], sy = src[2 * i + 1] - sm[1];
        double dx = dst[2 * i] - dm[0], dy = dst[2 * i + 1] - dm[1];
        a11 += dx * sx, a12 += dx * sy, a21 += dy * sx, a22 += dy * sy;
        var += sx * sx + sy * sy;
    }
    a11 /= n, a12 /= n, a21 /= n, a22 /= n, var /= n;
    if (!(var > 0)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: similarity from coincident source points");
    /* 2-D Umeyama without reflection: R = rotation by atan2(a21 - a12, a11 + a22); sum(S * d) equals
     * hypot(a11 + a22, a21 - a12) for either sign of det(A) (and for rank 1). */
    double p = a11 + a22, q = a21 - a12, r = hypot(p, q);
    double c = r > 0 ? p / r : 1, s = r > 0 ? q / r : 0;
    double scale = r / var;
    m[0] = scale * c, m[1] = -scale * s;
    m[3] = scale * s, m[4] = scale * c;
    m[2] = dm[0] - (m[0] * sm[0] + m[1] * sm[1]);
    m[5] = dm[1] - (m[3] * sm[0] + m[4] * sm[1]);
    return PCAVS_OK;
}

pcavs_status pcavs_similarity_estimate(const double *src, const double *dst, int n, double m[6]) {
    return similarity(src, dst, n, 0, m);
}

pcavs_status pcavs_similarity_estimate_upstream(const double three[6], double m[6]) {
    return similarity(three, pcavs_align_targets, 3, 1, m);
}

pcavs_status pcavs_affine_invert(const double m[6], double inv[6]) {
    double d = m[0] * m[4] - m[1] * m[3];
    if (d == 0 || !isfinite(d)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: singular affine transform");
    double id = 1.0 / d;
    double a = m[4] * id, b = -m[1] * id, c = -m[3] * id, e = m[0] * id;
    inv[0] = a, inv[1] = b, inv[3] = c, inv[4] = e;
    inv[2] = -a * m[2] - b * m[5];
    inv[5] = -c * m[2] - e * m[5];
    return PCAVS_OK;
}

void pcavs_affine_compose(const double a[6], const double b[6], double c[6]) {
    double r[6];
    r[0] = a[0] * b[0] + a[1] * b[3], r[1] = a[0] * b[1] + a[1] * b[4], r[2] = a[0] * b[2] + a[1] * b[5] + a[2];
    r[3] = a[3] * b[0] + a[4] * b[3], r[4] = a[3] * b[1] + a[4] * b[4], r[5] = a[3] * b[2] + a[4] * b[5] + a[5];
    memcpy(c, r, sizeof r);
}

/* saturate_cast<int>(double): cvRound (round half to even) with saturation. */
static int cv_round_sat(double v) {
    if (!(v > -2147483648.0)) return v != v ? 0 : (int)-2147483647 - 1;
    if (v >= 2147483647.0) return 2147483647;
    return (int)lrint(v);
}
static int sat_short(int v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }

pcavs_status pcavs_warp_affine_u8(const uint8_t *src, int sw, int sh, size_t src_stride, int channels,
                                  const double m_in[6], uint8_t *dst, int dw, int dh, uint8_t border) {
    if (!src || !dst || !m_in || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || channels < 1 || channels > 4 ||
        src_stride < (size_t)sw * channels)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: warp_affine: bad image arguments");
    /* invert M in double exactly as cv::warpAffine does */
    double M[6];
    memcpy(M, m_in, sizeof M);
    double D = M[0] * M[4] - M[1] * M[3];
    D = D != 0. ? 1. / D : 0.;
    double A11 = M[4] * D, A22 = M[0] * D;
    M[0] = A11;
    M[1] *= -D;
    M[3] *= -D;
    M[4] = A22;
    double b1 = -M[0] * M[2] - M[1] * M[5];
    double b2 = -M[3] * M[2] - M[4] * M[5];
    M[2] = b1;
    M[5] = b2;

    enum { AB_BITS = 10, AB_SCALE = 1 << AB_BITS, INTER_BITS = 5, TAB = 1 << INTER_BITS, ROUND_DELTA = 16 };
    int *adelta = malloc(sizeof(int) * 2 * (size_t)dw);
    if (!adelta) return pcavs_fail(PCAVS_ERR_OOM, "align: warp_affine: out of memory");
    int *bdelta = adelta + dw;
    for (int x = 0; x < dw; x++) {
        adelta[x] = cv_round_sat(M[0] * x * AB_SCALE);
        bdelta[x] = cv_round_sat(M[3] * x * AB_SCALE);
    }
    for (int y = 0; y < dh; y++) {
        int X0 = cv_round_sat((M[1] * y + M[2]) * AB_SCALE) + ROUND_DELTA;
        int Y0 = cv_round_sat((M[4] * y + M[5]) * AB_SCALE) + ROUND_DELTA;
        uint8_t *d = dst + (size_t)y * dw * channels;
        for (int x = 0; x < dw; x++, d += channels) {
            int X = (int)(((unsigned)X0 + (unsigned)adelta[x])) >> (AB_BITS - INTER_BITS);
            int Y = (int)(((unsigned)Y0 + (unsigned)bdelta[x])) >> (AB_BITS - INTER_BITS);
            int sx = sat_short(X >> INTER_BITS), sy = sat_short(Y >> INTER_BITS);
            int ax = X & (TAB - 1), ay = Y & (TAB - 1);
            int w00 = (TAB - ay) * (TAB - ax) * 32, w01 = (TAB - ay) * ax * 32;
            int w10 = ay * (TAB - ax) * 32, w11 = ay * ax * 32;
            if ((unsigned)sx < (unsigned)(sw - 1) && (unsigned)sy < (unsigned)(sh - 1)) {
                const uint8_t *s0 = src + (size_t)sy * src_stride + (size_t)sx * channels, *s1 = s0 + src_stride;
                for (int k = 0; k < channels; k++) {
                    int v = s0[k] * w00 + s0[k + channels] * w01 + s1[k] * w10 + s1[k + channels] * w11;
                    v = (v + (1 << 14)) >> 15;
                    d[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            } else if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
                for (int k = 0; k < channels; k++) d[k] = border;
            } else {
                int x0 = sx, x1 = sx + 1, y0 = sy, y1 = sy + 1;
                int okx0 = x0 >= 0 && x0 < sw, okx1 = x1 >= 0 && x1 < sw;
                int oky0 = y0 >= 0 && y0 < sh, oky1 = y1 >= 0 && y1 < sh;
                for (int k = 0; k < channels; k++) {
                    int v00 = okx0 && oky0 ? src[(size_t)y0 * src_stride + (size_t)x0 * channels + k] : border;
                    int v01 = okx1 && oky0 ? src[(size_t)y0 * src_stride + (size_t)x1 * channels + k] : border;
                    int v10 = okx0 && oky1 ? src[(size_t)y1 * src_stride + (size_t)x0 * channels + k] : border;
                    int v11 = okx1 && oky1 ? src[(size_t)y1 * src_stride + (size_t)x1 * channels + k] : border;
                    int v = v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11;
                    v = (v + (1 << 14)) >> 15;
                    d[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
    }
    free(adelta);
    return PCAVS_OK;
}

void pcavs_align_three_points(const double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double three[6]) {
    static const int lo[3] = {36, 42, 60}, hi[3] = {42, 48, 68};
    for (int k = 0; k < 3; k++) {
        double sx = 0, sy = 0;
        for (int i = lo[k]; i < hi[k]; i++) sx += pts[2 * i], sy += pts[2 * i + 1];
        three[2 * k] = sx / (hi[k] - lo[k]);
        three[2 * k + 1] = sy / (hi[k] - lo[k]);
    }
}

pcavs_status pcavs_align_transforms(const double *three, const uint8_t *valid, long n, double smooth_prev,
                                    double m_clip[6], double *transforms) {
    if (!three || n <= 0 || !m_clip) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: no frames to align");
    if (smooth_prev < 0) smooth_prev = 0.2;
    /* upstream: avg_points = sum of the three points / number of frames (here: of the valid frames) */
    double avg[6] = {0};
    long cnt = 0;
    for (long i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        for (int k = 0; k < 6; k++) avg[k] += three[6 * i + k];
        cnt++;
    }
    if (cnt == 0) return pcavs_fail(PCAVS_ERR_FORMAT, "align: no frame with a face");
    for (int k = 0; k < 6; k++) avg[k] /= (double)cnt;
    PCAVS_TRY(pcavs_similarity_estimate_upstream(avg, m_clip));
    if (!transforms) return PCAVS_OK;
    double pb[2] = {0, 0};
    for (long i = 0; i < n; i++) {
        const double *t = three + 6 * i;
        /* affine_align_3landmarks, then get_mouth_bias on the mouth point */
        double mx = m_clip[0] * t[4] + m_clip[1] * t[5] + m_clip[2];
        double my = m_clip[3] * t[4] + m_clip[4] * t[5] + m_clip[5];
        double b[2] = {112.0 - mx, 120.0 - my};
        if (i > 0) {
            double wc = smooth_prev == 0.2 ? 0.8 : 1.0 - smooth_prev; /* upstream's literal 0.8 */
            b[0] = pb[0] * smooth_prev + b[0] * wc;
            b[1] = pb[1] * smooth_prev + b[1] * wc;
        }
        pb[0] = b[0], pb[1] = b[1];
        double *m = transforms + 6 * i;
        memcpy(m, m_clip, 6 * sizeof(double));
        m[2] += b[0];
        m[5] += b[1];
    }
    return PCAVS_OK;
}
