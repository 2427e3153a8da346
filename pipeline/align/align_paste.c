/* align_paste.c: paste-back of generated faces into the original frames (no upstream counterpart: upstream
 * stops at the aligned crops). The face -> frame map is the inverse of the alignment transform M_i composed
 * with the upstream crop/resize of data/voxtest_dataset.py load_img (rows 0..191, cols 16..207 resized to
 * 224, cv2.resize half-pixel centres); each covered frame pixel is sampled bilinearly from the face and
 * blended with a feathered (smoothstep) rectangular mask (pcavs_align_paste), or, through pcavs_paste_frame,
 * inside a mask built from the landmarks (paste_mask.c), sampled bicubically, with a feathered or multiband
 * blend (blend.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blend.h"
#include "paste_mask.h"
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

/* ---- masked paste-back ---- */

void pcavs_paste_params_init(pcavs_paste_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->mask = PCAVS_PASTE_MASK_MOUTH;
    p->blend = PCAVS_BLEND_MULTIBAND;
    p->blend_margin = 8;
    p->grow = -1;
    p->smooth_frames = 1.5;
    p->upstream_crop = 1;
    p->back_project = 1;
}

pcavs_status pcavs_paste_mask_parse(const char *name, pcavs_paste_mask *out) {
    static const char *const names[] = {"mouth", "face", "full"};
    for (int i = 0; name && out && i < 3; i++)
        if (!strcmp(name, names[i])) {
            *out = (pcavs_paste_mask)i;
            return PCAVS_OK;
        }
    return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: mask must be mouth, face or full, got '%s'", name ? name : "");
}

pcavs_status pcavs_paste_blend_parse(const char *name, pcavs_paste_blend *out) {
    static const char *const names[] = {"multiband", "feather"};
    for (int i = 0; name && out && i < 2; i++)
        if (!strcmp(name, names[i])) {
            *out = (pcavs_paste_blend)i;
            return PCAVS_OK;
        }
    return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: blend must be multiband or feather, got '%s'", name ? name : "");
}

pcavs_status pcavs_paste_params_check(const pcavs_paste_params *p) {
    if ((unsigned)p->mask > PCAVS_PASTE_MASK_FULL)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.mask %d is not a pcavs_paste_mask", (int)p->mask);
    if ((unsigned)p->blend > PCAVS_BLEND_FEATHER)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.blend %d is not a pcavs_paste_blend", (int)p->blend);
    if (!(p->blend_margin > 0 && p->blend_margin <= 12))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.blend_margin must be in (0, 12] crop pixels, got %g",
                          p->blend_margin);
    if (!(p->grow <= 64)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.grow %g is over 64", p->grow);
    if (!(p->smooth_frames >= 0 && p->smooth_frames <= 100))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.smooth_frames must be in [0, 100], got %g",
                          p->smooth_frames);
    if (p->back_project < 0 || p->back_project > 4)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: params.back_project must be in [0, 4] passes, got %d",
                          p->back_project);
    return PCAVS_OK;
}

/* The mask of one frame in aligned pixels. */
static pcavs_status frame_shape(int fs, const double m_i[6], const double *landmarks, const pcavs_paste_params *p,
                                paste_shape *shape, double f2a[6]) {
    PCAVS_TRY(pcavs_paste_params_check(p));
    double sq[4], a[2 * PCAVS_ALIGN_N_LANDMARKS];
    paste_face_square(fs, p->upstream_crop, sq, f2a);
    if (landmarks)
        for (int k = 0; k < PCAVS_ALIGN_N_LANDMARKS; k++) {
            double x = landmarks[2 * k], y = landmarks[2 * k + 1];
            a[2 * k] = m_i[0] * x + m_i[1] * y + m_i[2];
            a[2 * k + 1] = m_i[3] * x + m_i[4] * y + m_i[5];
        }
    return paste_shape_build(p, landmarks ? a : NULL, sq, shape);
}

pcavs_status pcavs_paste_mask_distance(int fw, int fh, int fs, const double m_i[6], const double *landmarks,
                                       const pcavs_paste_params *p, float *dist) {
    if (!m_i || !dist || fw <= 0 || fh <= 0 || fs <= 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: mask_distance: bad arguments");
    pcavs_paste_params dp;
    if (!p) pcavs_paste_params_init(&dp), p = &dp;
    paste_shape sh;
    double f2a[6];
    PCAVS_TRY(frame_shape(fs, m_i, landmarks, p, &sh, f2a));
    for (int y = 0; y < fh; y++)
        for (int x = 0; x < fw; x++)
            dist[(size_t)y * fw + x] =
                (float)paste_shape_distance(&sh, m_i[0] * x + m_i[1] * y + m_i[2], m_i[3] * x + m_i[4] * y + m_i[5]);
    return PCAVS_OK;
}

/* Keys' cubic convolution kernel with a = -0.75 (OpenCV's INTER_CUBIC): a little sharper than Catmull-Rom
 * (a = -0.5), which gives back part of the blur of the bilinear warp that made the aligned crop (round trip on
 * the demo clips: +0.3 to +0.9 dB) */
static double keys(double x) {
    const double a = -0.75;
    x = fabs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
}
/* weights of the 4 taps around t in [0, 1) */
static void cubic_weights(double t, double w[4]) {
    w[0] = keys(1 + t), w[1] = keys(t), w[2] = keys(1 - t), w[3] = keys(2 - t);
}

/* Bicubic sample of an RGB float image [fs, fs, 3] at (u, v), edge-clamped: sharper than bilinear, so that a face
 * resampled twice (aligned, then pasted back) keeps its detail. */
static void sample_cubic(const float *img, int fs, double u, double v, float out[3]) {
    double uc = fmin(fmax(u, 0), fs - 1), vc = fmin(fmax(v, 0), fs - 1);
    int u0 = (int)floor(uc), v0 = (int)floor(vc);
    double wu[4], wv[4], acc[3] = {0, 0, 0};
    cubic_weights(uc - u0, wu), cubic_weights(vc - v0, wv);
    for (int j = 0; j < 4; j++) {
        int y = v0 - 1 + j;
        y = y < 0 ? 0 : y >= fs ? fs - 1 : y;
        const float *row = img + (size_t)y * fs * 3;
        for (int i = 0; i < 4; i++) {
            int x = u0 - 1 + i;
            x = x < 0 ? 0 : x >= fs ? fs - 1 : x;
            double w = wv[j] * wu[i];
            for (int c = 0; c < 3; c++) acc[c] += w * row[3 * x + c];
        }
    }
    for (int c = 0; c < 3; c++) out[c] = (float)acc[c];
}

/* Bilinear sample of an RGB float region [rh, rw, 3] at (x, y); 0 when the 2x2 footprint leaves the region. */
static int sample_linear(const float *img, int rw, int rh, double x, double y, double out[3]) {
    int x0 = (int)floor(x), y0 = (int)floor(y);
    if (x0 < 0 || y0 < 0 || x0 + 1 >= rw || y0 + 1 >= rh) return 0;
    double fx = x - x0, fy = y - y0;
    const float *a = img + ((size_t)y0 * rw + x0) * 3, *b = a + (size_t)rw * 3;
    for (int c = 0; c < 3; c++)
        out[c] = (1 - fy) * ((1 - fx) * a[c] + fx * a[3 + c]) + fy * ((1 - fx) * b[c] + fx * b[3 + c]);
    return 1;
}

/* One back-projection pass (Irani & Peleg): the pasted region fc [rh, rw, 3], seen again through the alignment
 * (each face pixel's frame position, bilinear, as the crop's warp samples), is compared with the face, and the
 * difference is pasted back on top. The bilinear warp that made the aligned crop blurred the frame; a plain paste
 * cannot undo that, this pass gives back most of it, so that re-aligning the pasted frame gives the face again.
 * res [fs, fs, 3] is scratch; (u, v) of each region pixel come from uv [rh * rw, 2]. */
static void back_project(float *fc, int rx0, int ry0, int rw, int rh, const float *face, int fs, const double f2fr[6],
                         const float *uv, float *res) {
    for (int gy = 0; gy < fs; gy++)
        for (int gx = 0; gx < fs; gx++) {
            double X = f2fr[0] * gx + f2fr[1] * gy + f2fr[2] - rx0, Y = f2fr[3] * gx + f2fr[4] * gy + f2fr[5] - ry0;
            double seen[3];
            float *r = res + ((size_t)gy * fs + gx) * 3;
            const float *g = face + ((size_t)gy * fs + gx) * 3;
            if (sample_linear(fc, rw, rh, X, Y, seen))
                for (int c = 0; c < 3; c++) r[c] = (float)(g[c] - seen[c]);
            else
                r[0] = r[1] = r[2] = 0;
        }
    for (size_t i = 0; i < (size_t)rw * rh; i++) {
        float d[3];
        sample_cubic(res, fs, uv[2 * i], uv[2 * i + 1], d);
        for (int c = 0; c < 3; c++) fc[3 * i + c] += d[c];
    }
}

pcavs_status pcavs_paste_frame(uint8_t *frame, int fw, int fh, const uint8_t *face, int fs, const double m_i[6],
                               const double *landmarks, const pcavs_paste_params *p) {
    if (!frame || !face || !m_i || fw <= 0 || fh <= 0 || fs <= 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: frame: bad arguments");
    pcavs_paste_params dp;
    if (!p) pcavs_paste_params_init(&dp), p = &dp;
    paste_shape sh;
    double f2a[6], a2f[6], inv[6];
    PCAVS_TRY(frame_shape(fs, m_i, landmarks, p, &sh, f2a));
    PCAVS_TRY(pcavs_affine_invert(f2a, a2f));                             /* aligned -> face pixels */
    PCAVS_TRY(pcavs_affine_invert(m_i, inv));                             /* aligned -> frame pixels */
    const double s = 1.0 / sqrt(fabs(m_i[0] * m_i[4] - m_i[1] * m_i[3])); /* frame px per aligned px */
    /* the region: where the distance is >= -margin, in frame pixels, with the blend's context around it */
    double box[4];
    paste_shape_bounds(&sh, box);
    double cx[4] = {box[0], box[2], box[0], box[2]}, cy[4] = {box[1], box[1], box[3], box[3]};
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < 4; k++) {
        double X = inv[0] * cx[k] + inv[1] * cy[k] + inv[2], Y = inv[3] * cx[k] + inv[4] * cy[k] + inv[5];
        x0 = fmin(x0, X), x1 = fmax(x1, X), y0 = fmin(y0, Y), y1 = fmax(y1, Y);
    }
    double pad = 2 + (p->blend == PCAVS_BLEND_MULTIBAND ? pcavs_blend_context_px(s) : 0);
    int rx0 = (int)fmax(0, floor(x0 - pad)), rx1 = (int)fmin(fw - 1, ceil(x1 + pad));
    int ry0 = (int)fmax(0, floor(y0 - pad)), ry1 = (int)fmin(fh - 1, ceil(y1 + pad));
    if (rx0 > rx1 || ry0 > ry1) return PCAVS_OK; /* the face lies outside the frame */
    const int rw = rx1 - rx0 + 1, rh = ry1 - ry0 + 1;
    const size_t n_face = (size_t)fs * fs * 3, n_reg = (size_t)rw * rh;
    float *fc = malloc(n_reg * 3 * sizeof(float)), *dist = malloc(n_reg * sizeof(float)); /* [rh, rw, 3], [rh, rw] */
    float *uv = malloc(n_reg * 2 * sizeof(float)), *face_f = malloc(2 * n_face * sizeof(float)); /* + residual */
    uint8_t *valid = malloc(n_reg);
    if (!fc || !dist || !uv || !face_f || !valid) {
        free(fc), free(dist), free(uv), free(face_f), free(valid);
        return pcavs_fail(PCAVS_ERR_OOM, "paste: out of memory (%dx%d region)", rw, rh);
    }
    for (size_t i = 0; i < n_face; i++) face_f[i] = face[i];
    const double lo = -0.5, hi = fs - 0.5;
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            size_t i = (size_t)y * rw + x;
            double X = rx0 + x, Y = ry0 + y;
            double ax = m_i[0] * X + m_i[1] * Y + m_i[2], ay = m_i[3] * X + m_i[4] * Y + m_i[5];
            dist[i] = (float)paste_shape_distance(&sh, ax, ay);
            double u = a2f[0] * ax + a2f[1] * ay + a2f[2], v = a2f[3] * ax + a2f[4] * ay + a2f[5];
            valid[i] = u >= lo && u <= hi && v >= lo && v <= hi;
            uv[2 * i] = (float)u, uv[2 * i + 1] = (float)v;
            sample_cubic(face_f, fs, u, v, fc + 3 * i);
        }
    double f2fr[6]; /* face -> frame pixels */
    pcavs_affine_compose(inv, f2a, f2fr);
    for (int k = 0; k < p->back_project; k++) back_project(fc, rx0, ry0, rw, rh, face_f, fs, f2fr, uv, face_f + n_face);
    pcavs_status rc = pcavs_blend_region(frame + ((size_t)ry0 * fw + rx0) * 3, (size_t)fw * 3, rw, rh, fc, valid, dist,
                                         p->blend_margin, s, p->blend);
    free(fc), free(dist), free(uv), free(face_f), free(valid);
    return rc;
}
