/* align_paste.c: paste-back of generated faces into the original frames (no upstream counterpart: upstream
 * stops at the aligned crops). The face -> frame map is the inverse of the alignment transform M_i composed
 * with the upstream crop/resize of data/voxtest_dataset.py load_img (rows 0..191, cols 16..207 resized to
 * 224, cv2.resize half-pixel centres); each covered frame pixel is sampled bilinearly from the face and
 * blended with a feathered (smoothstep) rectangular mask. */
#include <math.h>
#include <stdlib.h>

#include "pcavs_align.h"
#include "status.h"

pcavs_status pcavs_align_face_to_frame(const double m_i[6], int face_size, int upstream_crop, double out[6]) {
    if (!m_i || !out || face_size <= 0) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: face_to_frame: bad arguments");
    /* face pixel g -> aligned pixel a = (g + 0.5) * s - 0.5 + offset (resize with half-pixel centres) */
    double s = (upstream_crop ? (double)(PCAVS_ALIGN_SIZE - 32) : (double)PCAVS_ALIGN_SIZE) / face_size;
    double ox = upstream_crop ? 16.0 : 0.0;
    double a[6] = {s, 0, 0.5 * s - 0.5 + ox, 0, s, 0.5 * s - 0.5};
    double inv[6];
    PCAVS_TRY(pcavs_affine_invert(m_i, inv));
    pcavs_affine_compose(inv, a, out);
    return PCAVS_OK;
}

pcavs_status pcavs_align_paste(uint8_t *frame, int fw, int fh, const uint8_t *face, int fs,
                               const double face_to_frame[6], double feather) {
    if (!frame || !face || fw <= 0 || fh <= 0 || fs <= 1 || !face_to_frame)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: paste: bad arguments");
    double inv[6];
    PCAVS_TRY(pcavs_affine_invert(face_to_frame, inv));
    if (!(feather >= 0)) feather = 0;
    /* bounding box of the face square in the frame */
    double lo = -0.5, hi = fs - 0.5;
    double cx[4] = {lo, hi, lo, hi}, cy[4] = {lo, lo, hi, hi};
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (int k = 0; k < 4; k++) {
        double X = face_to_frame[0] * cx[k] + face_to_frame[1] * cy[k] + face_to_frame[2];
        double Y = face_to_frame[3] * cx[k] + face_to_frame[4] * cy[k] + face_to_frame[5];
        x0 = fmin(x0, X), x1 = fmax(x1, X), y0 = fmin(y0, Y), y1 = fmax(y1, Y);
    }
    int ix0 = (int)fmax(0, floor(x0)), ix1 = (int)fmin(fw - 1, ceil(x1));
    int iy0 = (int)fmax(0, floor(y0)), iy1 = (int)fmin(fh - 1, ceil(y1));
    for (int y = iy0; y <= iy1; y++) {
        for (int x = ix0; x <= ix1; x++) {
            double u = inv[0] * x + inv[1] * y + inv[2], v = inv[3] * x + inv[4] * y + inv[5];
            if (u < lo || u > hi || v < lo || v > hi) continue;
            double d = fmin(fmin(u - lo, hi - u), fmin(v - lo, hi - v));
            double a = 1.0;
            if (d < feather) {
                double t = d / feather;
                a = t * t * (3 - 2 * t);
            }
            if (a <= 0) continue;
            /* bilinear sample, edge-clamped */
            double uc = fmin(fmax(u, 0), fs - 1), vc = fmin(fmax(v, 0), fs - 1);
            int u0 = (int)floor(uc), v0 = (int)floor(vc);
            int u1 = u0 + 1 < fs ? u0 + 1 : u0, v1 = v0 + 1 < fs ? v0 + 1 : v0;
            double fu = uc - u0, fv = vc - v0;
            const uint8_t *p00 = face + ((size_t)v0 * fs + u0) * 3, *p01 = face + ((size_t)v0 * fs + u1) * 3;
            const uint8_t *p10 = face + ((size_t)v1 * fs + u0) * 3, *p11 = face + ((size_t)v1 * fs + u1) * 3;
            uint8_t *o = frame + ((size_t)y * fw + x) * 3;
            for (int c = 0; c < 3; c++) {
                double f = (1 - fv) * ((1 - fu) * p00[c] + fu * p01[c]) + fv * ((1 - fu) * p10[c] + fu * p11[c]);
                double r = o[c] * (1 - a) + f * a;
                long q = lround(r);
                o[c] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
    }
    return PCAVS_OK;
}
