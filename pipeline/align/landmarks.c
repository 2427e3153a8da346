/* landmarks.c: face detection + 68 landmarks per frame (upstream scripts/align_68.py uses face_alignment's
 * get_landmarks; here dlib's HOG detector + shape predictor through landmarks_bridge.h). The frame is padded
 * with a black border before detection (dlib's HOG detector misses a face that fills a 224x224 VoxCeleb2
 * crop, and finds it once padded); large frames are detected on a downscaled copy and the landmarks are
 * predicted on a padded full-resolution crop around the face, as sub-pixel points averaged over 18 predictions
 * (shifted boxes and the mirror image; landmarks_dlib.cpp) unless refinement is switched off. Without
 * libdlib-dev at configure time every entry point reports that landmark detection is unavailable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs_align.h"
#include "pcavs_image.h"
#include "status.h"
#ifdef PCAVS_HAVE_DLIB
#include "landmarks_bridge.h"
#endif

#define DEFAULT_MODEL "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
#define DETECT_MAX_SIDE 640 /* detection runs on at most this size (padded frame) */
#define MAX_RECTS 16

struct pcavs_landmarker {
    void *h;
    int refine;   /* 1: mean of 18 predictions (default); 0: one prediction */
    uint8_t *buf; /* scratch for padded/downscaled copies */
    size_t cap;
};

int pcavs_landmarks_available(void) {
#ifdef PCAVS_HAVE_DLIB
    return 1;
#else
    return 0;
#endif
}

const char *pcavs_landmarks_default_model(void) {
    const char *e = getenv("PCAVS_DLIB_MODEL");
    return e && *e ? e : DEFAULT_MODEL;
}

#ifndef PCAVS_HAVE_DLIB
pcavs_status pcavs_landmarker_open(const char *model, pcavs_landmarker **out) {
    if (out) *out = NULL;
    return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "align: landmark detection is unavailable: this build has no dlib "
                                             "(install libdlib-dev and libdlib-data, then reconfigure)");
}
void pcavs_landmarker_close(pcavs_landmarker *lm) { free(lm); }
void pcavs_landmarker_set_refine(pcavs_landmarker *lm, int refine) { (void)lm, (void)refine; }
pcavs_status pcavs_landmarker_detect(pcavs_landmarker *lm, const uint8_t *rgb, int w, int h, int *n_faces,
                                     double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double box[4]) {
    return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "align: landmark detection is unavailable: this build has no dlib");
}
#else
pcavs_status pcavs_landmarker_open(const char *model, pcavs_landmarker **out) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: landmarker_open: NULL output");
    *out = NULL;
    if (!model) model = pcavs_landmarks_default_model();
    FILE *f = fopen(model, "rb");
    if (!f)
        return pcavs_fail(PCAVS_ERR_IO,
                          "file %s: cannot open the dlib 68-point shape predictor (Debian package libdlib-data)",
                          model);
    fclose(f);
    pcavs_landmarker *lm = calloc(1, sizeof *lm);
    if (!lm) return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
    char err[512] = "";
    if (pcavs_dlib_open(model, &lm->h, err, sizeof err) != 0) {
        free(lm);
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: cannot load the shape predictor: %s", model, err);
    }
    lm->refine = 1;
    *out = lm;
    return PCAVS_OK;
}

void pcavs_landmarker_close(pcavs_landmarker *lm) {
    if (!lm) return;
    if (lm->h) pcavs_dlib_close(lm->h);
    free(lm->buf);
    free(lm);
}

void pcavs_landmarker_set_refine(pcavs_landmarker *lm, int refine) {
    if (lm) lm->refine = refine != 0;
}

static pcavs_status scratch(pcavs_landmarker *lm, size_t n) {
    if (n <= lm->cap) return PCAVS_OK;
    uint8_t *b = realloc(lm->buf, n);
    if (!b) return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory (%zu bytes)", n);
    lm->buf = b, lm->cap = n;
    return PCAVS_OK;
}

/* Copies the window [x0, x0+ww) x [y0, y0+wh) of the frame into dst ([wh, ww, 3]), black outside the frame. */
static void copy_window(const uint8_t *rgb, int w, int h, int x0, int y0, int ww, int wh, uint8_t *dst) {
    memset(dst, 0, (size_t)ww * wh * 3);
    for (int y = 0; y < wh; y++) {
        int sy = y0 + y;
        if (sy < 0 || sy >= h) continue;
        int xa = x0 < 0 ? -x0 : 0, xb = x0 + ww > w ? w - x0 : ww;
        if (xb > xa)
            memcpy(dst + ((size_t)y * ww + xa) * 3, rgb + ((size_t)sy * w + x0 + xa) * 3, (size_t)(xb - xa) * 3);
    }
}

pcavs_status pcavs_landmarker_detect(pcavs_landmarker *lm, const uint8_t *rgb, int w, int h, int *n_faces,
                                     double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double box[4]) {
    if (!lm || !rgb || w <= 0 || h <= 0 || !n_faces || !pts)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: landmarker_detect: bad arguments");
    *n_faces = 0;
    char err[512] = "";
    /* 1. detection on the frame padded by a quarter of its larger side, downscaled to DETECT_MAX_SIDE */
    int side = w > h ? w : h, pad = side / 4;
    int pw = w + 2 * pad, ph = h + 2 * pad;
    double s = 1.0;
    int big = pw > ph ? pw : ph;
    if (big > DETECT_MAX_SIDE) s = (double)DETECT_MAX_SIDE / big;
    int dw = s < 1 ? (int)lround(pw * s) : pw, dh = s < 1 ? (int)lround(ph * s) : ph;
    size_t npad = (size_t)pw * ph * 3, ndet = s < 1 ? (size_t)dw * dh * 3 : 0;
    PCAVS_TRY(scratch(lm, npad + ndet));
    copy_window(rgb, w, h, -pad, -pad, pw, ph, lm->buf);
    const uint8_t *det = lm->buf;
    if (s < 1) {
        PCAVS_TRY(pcavs_image_resize_linear_u8(lm->buf, pw, ph, (size_t)pw * 3, lm->buf + npad, dw, dh, 3));
        det = lm->buf + npad;
    }
    double rects[4 * MAX_RECTS];
    int n = 0;
    if (pcavs_dlib_detect(lm->h, det, dw, dh, 0, rects, MAX_RECTS, &n, err, sizeof err) != 0)
        return pcavs_fail(PCAVS_ERR_INTERNAL, "align: %s", err);
    if (n == 0 && dw * dh <= 400 * 400) { /* small frame: retry on a 2x upsampled copy (small faces) */
        if (pcavs_dlib_detect(lm->h, det, dw, dh, 1, rects, MAX_RECTS, &n, err, sizeof err) != 0)
            return pcavs_fail(PCAVS_ERR_INTERNAL, "align: %s", err);
    }
    *n_faces = n;
    if (n == 0) return PCAVS_OK;
    int best = 0;
    double best_area = -1;
    for (int i = 0; i < n && i < MAX_RECTS; i++) {
        double a = (rects[4 * i + 2] - rects[4 * i]) * (rects[4 * i + 3] - rects[4 * i + 1]);
        if (a > best_area) best_area = a, best = i;
    }
    /* back to frame coordinates */
    double r[4];
    for (int k = 0; k < 4; k++) r[k] = rects[4 * best + k] / s - pad;
    if (box) memcpy(box, r, sizeof r);
    /* 2. landmarks on a full-resolution window around the face (black outside the frame) */
    double rw = r[2] - r[0], rh = r[3] - r[1];
    int x0 = (int)floor(r[0] - rw), y0 = (int)floor(r[1] - rh);
    int ww = (int)ceil(3 * rw) + 2, wh = (int)ceil(3 * rh) + 2;
    PCAVS_TRY(scratch(lm, (size_t)ww * wh * 3));
    copy_window(rgb, w, h, x0, y0, ww, wh, lm->buf);
    double wr[4] = {r[0] - x0, r[1] - y0, r[2] - x0, r[3] - y0};
    if (pcavs_dlib_shape(lm->h, lm->buf, ww, wh, wr, lm->refine, pts, err, sizeof err) != 0)
        return pcavs_fail(PCAVS_ERR_INTERNAL, "align: %s", err);
    for (int i = 0; i < PCAVS_ALIGN_N_LANDMARKS; i++) pts[2 * i] += x0, pts[2 * i + 1] += y0;
    return PCAVS_OK;
}
#endif
