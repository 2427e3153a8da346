/* test_align.c: face alignment (pipeline/align) against upstream scripts/align_68.py's libraries and on the
 * demo clips:
 *  - similarity transform vs skimage SimilarityTransform.estimate, upstream's clip loop (mean points, mouth
 *    bias 0.2/0.8) and cv2.warpAffine (bit-exact on uint8) from tests/reference/align_reference.py;
 *  - with dlib: the demo clips aligned (the inner-mouth centre at (112,120) exactly with the bias alone, and
 *    within 1 px with upstream's 0.2/0.8 smoothing except where that smoothing's lag of a fast motion alone
 *    exceeds 1 px; eye centres within 6 px of (87,59)/(137,59) on the clips whose head stays near its mean pose;
 *    measured with the per-frame transforms and by detecting again on the aligned frames; the profile pose
 *    clip reported, not asserted), the landmarks' sub-pixel precision, error cases (no face, several faces,
 *    lost frames, missing input), an end-to-end run from a non-cropped video (a demo clip padded into 480x360
 *    and drifting) through alignment, an identity "generator" (the upstream crop of the aligned frame) and
 *    paste-back at the source resolution, and paste-back after pcavs-infer's ping-pong pose replay. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcavs_align.h"
#include "pcavs_image.h"
#include "pcavs_video.h"
#include "status.h"
#include "test_util.h"

static char *g_tmp; /* the work folder (pt_tmp_dir_make) */

static uint8_t *read_raw(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = malloc(n ? n : 1);
    size_t got = b ? fread(b, 1, n, f) : 0;
    fclose(f);
    if (got != n) {
        free(b);
        return NULL;
    }
    return b;
}

/* ---- 1. against skimage / cv2 fixtures ---- */

static void check_similarity(const char *dir) {
    FILE *f = fopen(pt_path(dir, "similarity.txt"), "r");
    if (!pt_check(f != NULL, "fixture align/similarity.txt present")) return;
    int n, f32, cases = 0;
    double worst = 0;
    while (fscanf(f, "%d %d", &n, &f32) == 2) {
        double *src = malloc(sizeof(double) * 4 * n), *dst = src + 2 * n, want[6], got[6];
        for (int i = 0; i < 4 * n; i++)
            if (fscanf(f, "%lf", &src[i]) != 1) break;
        for (int i = 0; i < 6; i++)
            if (fscanf(f, "%lf", &want[i]) != 1) break;
        pcavs_status st =
            f32 && n == 3 ? pcavs_similarity_estimate_upstream(src, got) : pcavs_similarity_estimate(src, dst, n, got);
        if (st == PCAVS_OK) {
            for (int i = 0; i < 6; i++) {
                double e = fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i]));
                if (e > worst) worst = e;
            }
        } else {
            worst = INFINITY;
        }
        free(src);
        cases++;
    }
    fclose(f);
    pt_check(cases == 40 && worst <= 1e-12,
             "similarity vs skimage SimilarityTransform.estimate (%d cases: 24 upstream get_affine with float32 "
             "targets, mirrored included; 16 of 2..68 float64 points): "
             "max rel err %.3g <= 1e-12",
             cases, worst);
}

static double *g_clip_mi; /* upstream M_i of the synthetic clip (for the warp cases) */

static void check_clip_loop(const char *dir) {
    FILE *f = fopen(pt_path(dir, "clip.txt"), "r");
    if (!pt_check(f != NULL, "fixture align/clip.txt present")) return;
    long n = 0;
    double mclip_want[6], mclip[6];
    int ok = fscanf(f, "%ld", &n) == 1 && n > 0 && n < 1000;
    for (int i = 0; ok && i < 6; i++) ok = fscanf(f, "%lf", &mclip_want[i]) == 1;
    double *three = calloc((size_t)n * 6, sizeof(double)), *want = calloc((size_t)n * 6, sizeof(double));
    double *got = calloc((size_t)n * 6, sizeof(double));
    for (long i = 0; ok && i < n; i++) {
        for (int k = 0; ok && k < 6; k++) ok = fscanf(f, "%lf", &three[6 * i + k]) == 1;
        for (int k = 0; ok && k < 6; k++) ok = fscanf(f, "%lf", &want[6 * i + k]) == 1;
    }
    fclose(f);
    if (pt_check(ok, "clip.txt parsed (%ld frames)", n) &&
        pt_check_ok(pcavs_align_transforms(three, NULL, n, -1, mclip, got), "align_transforms")) {
        double e = 0;
        for (int k = 0; k < 6; k++) e = fmax(e, fabs(mclip[k] - mclip_want[k]));
        for (long i = 0; i < 6 * n; i++) e = fmax(e, fabs(got[i] - want[i]));
        pt_check(e <= 1e-10,
                 "clip transform + smoothed mouth bias vs upstream loop (%ld frames): max abs %.3g <= 1e-10", n, e);
    }
    free(three), free(want);
    g_clip_mi = got;
}

static void check_warps(const char *dir) {
    FILE *f = fopen(pt_path(dir, "warp.txt"), "r");
    if (!pt_check(f != NULL, "fixture align/warp.txt present")) return;
    char name[64];
    int sw, sh, dw, dh, cases = 0;
    double m[6];
    while (fscanf(f, "%63s %d %d %d %d %lf %lf %lf %lf %lf %lf", name, &sw, &sh, &dw, &dh, &m[0], &m[1], &m[2], &m[3],
                  &m[4], &m[5]) == 11) {
        char p[1100];
        snprintf(p, sizeof p, "%s.src.u8", name);
        uint8_t *src = read_raw(pt_path(dir, p), (size_t)sw * sh * 3);
        snprintf(p, sizeof p, "%s.dst.u8", name);
        uint8_t *want = read_raw(pt_path(dir, p), (size_t)dw * dh * 3);
        uint8_t *got = malloc((size_t)dw * dh * 3);
        memset(got, 0xa5, (size_t)dw * dh * 3);
        if (pt_check(src && want, "warp fixture %s readable", name) &&
            pt_check_ok(pcavs_warp_affine_u8(src, sw, sh, (size_t)sw * 3, 3, m, got, dw, dh, 0), name)) {
            size_t bad = 0, n = (size_t)dw * dh * 3;
            int maxd = 0;
            for (size_t i = 0; i < n; i++)
                if (got[i] != want[i]) bad++, maxd = abs(got[i] - want[i]) > maxd ? abs(got[i] - want[i]) : maxd;
            pt_check(bad == 0, "warpAffine %s (%dx%d -> %dx%d) vs cv2.warpAffine: %zu of %zu bytes differ (max %d)",
                     name, sw, sh, dw, dh, bad, n, maxd);
        }
        /* the clip cases once more with our own M_i (our similarity + smoothing, not skimage's) */
        if (!strncmp(name, "clip", 4) && g_clip_mi && src && want) {
            int i = atoi(name + 4);
            pcavs_warp_affine_u8(src, sw, sh, (size_t)sw * 3, 3, g_clip_mi + 6 * i, got, dw, dh, 0);
            pt_check(!memcmp(got, want, (size_t)dw * dh * 3), "%s warped with our own M_%d equals cv2 with upstream's",
                     name, i);
        }
        free(src), free(want), free(got);
        cases++;
    }
    fclose(f);
    pt_check(cases >= 10, "%d warp cases run", cases);
}

/* ---- 2. with dlib ---- */

static double dist(double x0, double y0, double x1, double y1) { return hypot(x0 - x1, y0 - y1); }

/* Demo clip, with the points the alignment detected (r.three) and with points detected again on the written
 * aligned frames. The mouth, as the issue states it: "the detected inner mouth centre lands within 1 px of
 * (112,120) (the per-frame bias puts it there)". The bias alone (smooth_prev 0) puts it there exactly. With
 * upstream's smoothing (b_i = 0.2 b_{i-1} + 0.8 raw_i, align_68.py) frame i lands e_i = 0.2 (e_{i-1} + raw_{i-1} -
 * raw_i) away: 0.2 times the mouth's motion since the previous frame, plus 0.2 of the previous lag. So no
 * landmark detector can keep a frame within 1 px once the mouth moves more than 5 - |e_{i-1}| px in one
 * frame; such frames are checked to lag by exactly that recurrence (and counted), every other frame within
 * 1 px. Eye centres within 6 px of (87,59)/(137,59) where check_eyes (upstream corrects only the mouth's
 * translation per frame: a head that turns moves the eyes, see the 00015 clip). */
enum { CLIP_EYES = 1, CLIP_LOST_OK = 2 };

static void check_demo_clip(pcavs_landmarker *lm, const char *input, long expect_frames, int flags) {
    pcavs_align_params p = {0};
    p.smooth_prev = -1;
    pcavs_align_result r;
    char out[2048];
    const char *base = strrchr(input, '/') + 1;
    snprintf(out, sizeof out, "%s", pt_tmp(base));
    char *dot = strrchr(out, '.');
    if (dot && dot > strrchr(out, '/')) *dot = 0; /* a video: its aligned frames into a folder */
    if (!pt_check_ok(pcavs_align_clip(input, out, &p, &r), input)) return;
    const long n = r.n_frames;
    if (flags & CLIP_LOST_OK)
        pt_check(n == expect_frames && r.n_detected + r.n_interpolated == n && r.n_detected >= 12,
                 "%s: %ld frames, face detected in %ld (>= 12: dlib's HOG detector misses the profile views, and "
                 "false small boxes are dropped), %ld interpolated and reported",
                 base, n, r.n_detected, r.n_interpolated);
    else
        pt_check(n == expect_frames && r.n_detected == n && r.n_multi == 0,
                 "%s: %ld frames, face detected in %ld (a 224x224 crop needs the padded detection), %ld with several",
                 base, n, r.n_detected, r.n_multi);
    double *raw = malloc(sizeof(double) * 2 * (size_t)n), *t0 = malloc(sizeof(double) * 6 * (size_t)n);
    double *land = malloc(sizeof(double) * 2 * (size_t)n); /* e_i: where the mouth lands, minus (112,120) */
    if (!raw || !t0 || !land ||
        !pt_check_ok(pcavs_align_transforms(r.three, r.detected, n, 0.0, r.m_clip, t0), "bias not smoothed")) {
        free(raw), free(t0), free(land), pcavs_align_result_free(&r);
        return;
    }
    const double *mc = r.m_clip;
    double raw_err = 0, lag_err = 0, mouth_max = 0, mouth_mean = 0, eye_max = 0;
    long n_meas = 0, n_over = 0, n_unexplained = 0;
    char over[400] = "";
    for (long i = 0; i < n; i++) {
        const double *m = r.transforms + 6 * i, *m0 = t0 + 6 * i, *t = r.three + 6 * i;
        double q[6];
        for (int k = 0; k < 3; k++) {
            q[2 * k] = m[0] * t[2 * k] + m[1] * t[2 * k + 1] + m[2];
            q[2 * k + 1] = m[3] * t[2 * k] + m[4] * t[2 * k + 1] + m[5];
        }
        /* raw bias (upstream get_mouth_bias): (112,120) minus the mouth under the clip transform */
        raw[2 * i] = 112 - (mc[0] * t[4] + mc[1] * t[5] + mc[2]);
        raw[2 * i + 1] = 120 - (mc[3] * t[4] + mc[4] * t[5] + mc[5]);
        double *e = land + 2 * i, want[2] = {0, 0};
        e[0] = q[4] - 112, e[1] = q[5] - 120;
        if (i > 0)
            for (int c = 0; c < 2; c++) want[c] = 0.2 * (e[c - 2] + raw[2 * i - 2 + c] - raw[2 * i + c]);
        lag_err = fmax(lag_err, hypot(e[0] - want[0], e[1] - want[1]));
        if (!r.detected[i]) continue; /* interpolated points: no detected mouth to measure */
        raw_err =
            fmax(raw_err, dist(m0[0] * t[4] + m0[1] * t[5] + m0[2], m0[3] * t[4] + m0[4] * t[5] + m0[5], 112, 120));
        double d = hypot(e[0], e[1]);
        mouth_mean += d, n_meas++;
        mouth_max = fmax(mouth_max, d);
        eye_max = fmax(eye_max, fmax(dist(q[0], q[1], 87, 59), dist(q[2], q[3], 137, 59)));
        if (d <= 1.0) continue;
        /* beyond 1 px: only as the lag of a fast motion (the previous frame within 1 px, and 0.2 x (its lag +
         * the motion) reaching this far) */
        n_over++;
        double motion = i > 0 ? hypot(raw[2 * i] - raw[2 * i - 2], raw[2 * i + 1] - raw[2 * i - 1]) : 0;
        double prev = i > 0 ? hypot(e[-2], e[-1]) : INFINITY;
        if (!(prev <= 1.0 && d <= 0.2 * (prev + motion) + 1e-9)) n_unexplained++;
        size_t len = strlen(over);
        if (len < sizeof over - 100)
            snprintf(over + len, sizeof over - len, "%sframe %ld: %.4f px after a %.2f px motion (0.2 x %.2f)",
                     len ? "; " : "", i, d, motion, prev + motion);
    }
    mouth_mean /= n_meas ? n_meas : 1;
    pt_check(raw_err <= 1e-9, "%s: bias not smoothed: every inner-mouth centre at (112,120) within %.2g px (<= 1e-9)",
             base, raw_err);
    pt_check(lag_err <= 1e-9,
             "%s: bias smoothed 0.2/0.8: every frame lands 0.2 x (previous lag + mouth motion) from (112,120): "
             "recurrence error %.2g px (<= 1e-9)",
             base, lag_err);
    if (flags & CLIP_LOST_OK)
        printf("INFO %s: inner-mouth centre after M_i (frames with a detected face): mean %.3f px from (112,120), max "
               "%.3f px; %ld of %ld frames beyond 1 px (%s), %ld of them not as the lag of one fast motion\n",
               base, mouth_mean, mouth_max, n_over, n_meas, n_over ? over : "none", n_unexplained);
    else
        pt_check(mouth_mean <= 0.5 && n_unexplained == 0,
                 "%s: inner-mouth centre after M_i: mean %.3f px from (112,120) (<= 0.5), max %.3f px; %ld of %ld "
                 "frames beyond 1 px (each only as the lag of a motion > 5 - previous lag: %s), %ld otherwise (0)",
                 base, mouth_mean, mouth_max, n_over, n_meas, n_over ? over : "none", n_unexplained);
    if (flags & CLIP_EYES)
        pt_check(eye_max <= 6.0, "%s: eye centres after M_i within %.3f px of (87,59)/(137,59) (<= 6)", base, eye_max);
    else
        printf("INFO %s: eye centres after M_i up to %.3f px from (87,59)/(137,59) (the issue's 6 px not asserted "
               "here: upstream moves each frame only by the mouth's translation, so a head that turns away from the "
               "clip's mean pose moves the eyes)\n",
               base, eye_max);

    /* detected again on the written aligned frames: the mouth where e_i says, up to the detector's noise */
    double re_max = 0, re_mean = 0, re_dev = 0, re_rms = 0, re_eye = 0;
    long re_n = 0;
    for (long i = 0; i < n; i++) {
        if (!r.detected[i]) continue;
        char fp[2100];
        snprintf(fp, sizeof fp, "%s/%06ld.png", out, i);
        pcavs_image img;
        if (pcavs_image_load(fp, &img) != PCAVS_OK) continue;
        double pts[136], th[6];
        int nf = 0;
        if (pcavs_landmarker_detect(lm, img.rgb, img.width, img.height, &nf, pts, NULL) == PCAVS_OK && nf >= 1) {
            pcavs_align_three_points(pts, th);
            double dm = dist(th[4], th[5], 112, 120);
            re_max = fmax(re_max, dm), re_mean += dm, re_n++;
            double dev = dist(th[4], th[5], 112 + land[2 * i], 120 + land[2 * i + 1]);
            re_dev = fmax(re_dev, dev), re_rms += dev * dev;
            re_eye = fmax(re_eye, fmax(dist(th[0], th[1], 87, 59), dist(th[2], th[3], 137, 59)));
        }
        pcavs_image_free(&img);
    }
    re_mean /= re_n ? re_n : 1;
    re_rms = sqrt(re_rms / (re_n ? re_n : 1));
    if (flags & CLIP_LOST_OK) {
        printf("INFO %s: detected again in %ld of %ld aligned frames: inner-mouth centre mean %.3f px from (112,120), "
               "max %.3f px; from where M_i put it rms %.3f px, max %.3f px; eyes max %.3f px\n",
               base, re_n, n_meas, re_mean, re_max, re_rms, re_dev, re_eye);
    } else {
        pt_check(re_n == n_meas, "%s: a face detected again in %ld of the %ld aligned frames with a detected face",
                 base, re_n, n_meas);
        pt_check(re_mean <= 0.5 && re_rms <= 0.5 && re_dev <= 2.0,
                 "%s: detected again on the aligned frames: inner-mouth centre mean %.3f px from (112,120) (<= 0.5), "
                 "max %.3f px; from where M_i put it rms %.3f px (<= 0.5), max %.3f px (<= 2: dlib's landmarks are not "
                 "exactly equivariant under the warp, worst on a turned head); eyes max %.3f px",
                 base, re_mean, re_max, re_rms, re_dev, re_eye);
    }
    free(raw), free(t0), free(land);
    pcavs_align_result_free(&r);
    fflush(stdout); /* the INFO lines before any program's stderr */
}

/* Landmark precision: demo frames translated by t (1, 0.5) for t = 0.25 .. 2 px (OpenCV-exact bilinear warp);
 * the inner-mouth centre detected on each should move by exactly that. rms error over 5 frames x 8 shifts,
 * with the default refinement (18 sub-pixel predictions averaged) and with one prediction rounded to whole
 * pixels as dlib's full_object_detection gives it. */
static double shift_rms(pcavs_landmarker *lm, int rounded, long *cases) {
    double se = 0;
    *cases = 0;
    for (int f = 0; f < 40; f += 8) {
        char src[64];
        snprintf(src, sizeof src, "Mouth_Source/681600002/%06d.jpg", f);
        pcavs_image im;
        if (pcavs_image_load(pt_example(src), &im) != PCAVS_OK) return INFINITY;
        uint8_t *sh = malloc((size_t)im.width * im.height * 3);
        double m0[2] = {0, 0};
        for (int s = 0; s <= 8 && sh; s++) {
            double t = 0.25 * s, m[6] = {1, 0, t, 0, 1, 0.5 * t}, pts[136], th[6];
            int nf = 0;
            pcavs_warp_affine_u8(im.rgb, im.width, im.height, (size_t)im.width * 3, 3, m, sh, im.width, im.height, 0);
            if (pcavs_landmarker_detect(lm, sh, im.width, im.height, &nf, pts, NULL) != PCAVS_OK || nf < 1) {
                se = INFINITY;
                break;
            }
            if (rounded)
                for (int k = 0; k < 136; k++) pts[k] = floor(pts[k] + 0.5);
            pcavs_align_three_points(pts, th);
            if (s == 0) {
                m0[0] = th[4], m0[1] = th[5];
                continue;
            }
            double ex = th[4] - m0[0] - t, ey = th[5] - m0[1] - 0.5 * t;
            se += ex * ex + ey * ey, ++*cases;
        }
        free(sh);
        pcavs_image_free(&im);
    }
    return *cases ? sqrt(se / (double)*cases) : INFINITY;
}

static void check_landmark_precision(pcavs_landmarker *lm) {
    long n1 = 0, n0 = 0;
    double refined = shift_rms(lm, 0, &n1);
    pcavs_landmarker_set_refine(lm, 0);
    double single = shift_rms(lm, 1, &n0);
    pcavs_landmarker_set_refine(lm, 1);
    pt_check(n1 == 40 && n0 == 40 && refined <= 0.25 && refined < 0.6 * single,
             "landmark precision: inner-mouth centre under sub-pixel shifts (%ld cases): rms error %.3f px refined "
             "(<= 0.25, and < 0.6 x the %.3f px of one dlib prediction rounded to whole pixels)",
             n1, refined, single);
}

static pcavs_status write_canvas(const char *path, uint8_t *c, int w, int h) {
    return pcavs_image_write_png(path, c, w, h);
}

static void paste_img(uint8_t *canvas, int cw, int ch, const uint8_t *img, int w, int h, int x0, int y0) {
    for (int y = 0; y < h; y++)
        if (y0 + y >= 0 && y0 + y < ch)
            for (int x = 0; x < w; x++)
                if (x0 + x >= 0 && x0 + x < cw)
                    memcpy(canvas + ((size_t)(y0 + y) * cw + x0 + x) * 3, img + ((size_t)y * w + x) * 3, 3);
}

/* The first 6 frames of the Mouth_Source clip as pt_tmp(dir)/%06d.png, each passed through edit first. */
static void write_mouth_clip(const char *dir, void (*edit)(pcavs_image *im, int i)) {
    mkdir(pt_tmp(dir), 0777);
    for (int i = 0; i < 6; i++) {
        char src[64], dst[64];
        snprintf(src, sizeof src, "Mouth_Source/681600002/%06d.jpg", i);
        snprintf(dst, sizeof dst, "%s/%06d.png", dir, i);
        pcavs_image im;
        if (pcavs_image_load(pt_example(src), &im) != PCAVS_OK) continue;
        edit(&im, i);
        pcavs_image_write_png(pt_tmp(dst), im.rgb, im.width, im.height);
        pcavs_image_free(&im);
    }
}
static void blank_frames_2_3(pcavs_image *im, int i) { /* the face lost: black frames */
    if (i == 2 || i == 3) memset(im->rgb, 0, (size_t)im->width * im->height * 3);
}
static void shrink_frame_4(pcavs_image *im, int i) { /* the face shrunk to 96 px in a gray frame */
    if (i != 4) return;
    uint8_t small96[96 * 96 * 3];
    pcavs_image_resize_linear_u8(im->rgb, 224, 224, 224 * 3, small96, 96, 96, 3);
    memset(im->rgb, 128, (size_t)im->width * im->height * 3);
    paste_img(im->rgb, 224, 224, small96, 96, 96, 64, 64);
}

/* pcavs_align_clip with p->log captured: what it reported goes into msg (NUL-terminated, may be empty). */
static pcavs_status align_logged(const char *in, const char *out, pcavs_align_params *p, pcavs_align_result *r,
                                 char *msg, size_t cap) {
    FILE *log = tmpfile();
    p->log = log;
    pcavs_status st = pcavs_align_clip(in, out, p, r);
    p->log = NULL;
    msg[0] = 0;
    if (log) {
        rewind(log);
        size_t k = fread(msg, 1, cap - 1, log);
        msg[k] = 0;
        fclose(log);
    }
    return st;
}

static void check_errors(void) {
    pcavs_align_params p = {0};
    p.smooth_prev = -1;
    pcavs_align_result r;
    /* missing input */
    pcavs_status st = pcavs_align_clip("/nonexistent/clip.mp4", pt_tmp("x"), &p, &r);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/clip.mp4"), "missing input: \"%s\"",
             pcavs_last_error());
    /* no face: a gray gradient image */
    int w = 320, h = 240;
    uint8_t *c = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) c[i] = (uint8_t)(60 + (i / 3 % w) / 4);
    write_canvas(pt_tmp("noface.png"), c, w, h);
    st = pcavs_align_clip(pt_tmp("noface.png"), pt_tmp("noface_out"), &p, &r);
    pt_check(st == PCAVS_ERR_FORMAT && strstr(pcavs_last_error(), "no face") &&
                 strstr(pcavs_last_error(), "noface.png"),
             "no face: \"%s\"", pcavs_last_error());
    free(c);
    /* several faces: the id image (224) and a mouth frame scaled to 160, side by side */
    pcavs_image a, b;
    if (pcavs_image_load(pt_example("Input/517600055/000000.jpg"), &a) != PCAVS_OK ||
        pcavs_image_load(pt_example("Mouth_Source/681600002/000000.jpg"), &b) != PCAVS_OK) {
        pt_check(0, "demo images load");
        return;
    }
    w = 560, h = 300;
    c = malloc((size_t)w * h * 3);
    memset(c, 128, (size_t)w * h * 3);
    uint8_t small[160 * 160 * 3];
    pcavs_image_resize_linear_u8(b.rgb, 224, 224, 224 * 3, small, 160, 160, 3);
    paste_img(c, w, h, small, 160, 160, 30, 70);
    paste_img(c, w, h, a.rgb, 224, 224, 300, 40);
    write_canvas(pt_tmp("twofaces.png"), c, w, h);
    char msg[1024] = "";
    st = align_logged(pt_tmp("twofaces.png"), pt_tmp("twofaces_out"), &p, &r, msg, sizeof msg);
    if (pt_check_ok(st, "two faces")) {
        /* the largest face is the id image at x 300..524: its mouth centre lies there */
        pt_check(r.n_multi == 1 && r.three[4] > 300 && r.three[4] < 524 && strstr(msg, "several faces"),
                 "several faces: the largest taken (mouth x %.1f in 300..524), reported: \"%.*s\"", r.three[4],
                 (int)strcspn(msg, "\n"), msg);
        pcavs_align_result_free(&r);
    }
    free(c);
    /* lost frames: 6 mouth frames, 2 and 3 replaced by black */
    write_mouth_clip("lost", blank_frames_2_3);
    if (pt_check_ok(pcavs_align_clip(pt_tmp("lost"), pt_tmp("lost_out"), &p, &r), "lost frames clip")) {
        double e = 0;
        for (int k = 0; k < 6; k++) {
            e = fmax(e, fabs(r.three[12 + k] - (2 * r.three[6 + k] + r.three[24 + k]) / 3));
            e = fmax(e, fabs(r.three[18 + k] - (r.three[6 + k] + 2 * r.three[24 + k]) / 3));
        }
        size_t nout = 0;
        pcavs_frames_count(pt_tmp("lost_out"), &nout);
        pt_check(r.n_frames == 6 && r.n_interpolated == 2 && !r.detected[2] && !r.detected[3] && e < 1e-9 && nout == 6,
                 "lost face in frames 2, 3 of 6: %ld interpolated (linear, err %.2g), %zu frames written",
                 r.n_interpolated, e, nout);
        pcavs_align_result_free(&r);
    }
    /* an implausible detection: in 6 mouth frames, frame 4 holds the face shrunk to 96 px in a gray frame (a
     * box far under half the clip's median): dropped, interpolated, reported */
    write_mouth_clip("tiny", shrink_frame_4);
    st = align_logged(pt_tmp("tiny"), pt_tmp("tiny_out"), &p, &r, msg, sizeof msg);
    if (pt_check_ok(st, "clip with a shrunk face")) {
        const char *say = strstr(msg, "implausible");
        pt_check(r.n_frames == 6 && r.n_detected == 5 && !r.detected[4] && r.n_interpolated == 1 && say,
                 "a face box under half the clip's median: frame 4 detected %d, %ld interpolated, reported: \"%.*s\"",
                 r.n_frames == 6 ? r.detected[4] : -1, r.n_interpolated, say ? (int)strcspn(say, "\n") : 4,
                 say ? say : "none");
        pcavs_align_result_free(&r);
    }
    pcavs_image_free(&a), pcavs_image_free(&b);
}

/* pcavs-infer replays a pose clip of P frames forward and backward (upstream calc_loop_idx): with
 * pose_period P, generated frame j must be pasted onto source frame loop(j + 2, P) with that frame's transform.
 * 22 generated faces, each a flat gray with its own level (so that a face pasted twice or skipped shows), pasted
 * (lossless PNG output) onto the first P = 6 frames of the drifting video. Each output frame is matched to the
 * source frame it differs least from outside the face (the face drifts 8 px a frame, so frames are told apart),
 * and compared byte for byte with that source frame pasted by hand with the expected transform. Then the same
 * faces as a 25 fps video pasted onto a 30 fps source: the output keeps the generated frames' 25 fps. */
static long expect_loop(long k, long P) { /* upstream util.calc_loop_idx, written out independently */
    long lap = k / P, r = k % P;
    return lap % 2 == 0 ? r : P - 1 - r;
}

static void check_paste_ping_pong(const pcavs_align_result *r, int W, int H) {
    const long P = 6, NG = 22;
    mkdir(pt_tmp("pp_gen"), 0777);
    uint8_t *face = malloc(224 * 224 * 3);
    pcavs_video_writer *gw = NULL;
    if (!face || pcavs_video_writer_open(pt_tmp("pp_gen.mp4"), 224, 224, 25, NULL, &gw) != PCAVS_OK) {
        pt_check(0, "ping-pong test setup");
        free(face);
        return;
    }
    for (long j = 0; j < NG; j++) {
        char fp[64];
        snprintf(fp, sizeof fp, "pp_gen/%06ld.png", j);
        memset(face, (int)(40 + 8 * j), 224 * 224 * 3);
        pcavs_image_write_png(pt_tmp(fp), face, 224, 224);
        pcavs_video_writer_write(gw, face);
    }
    pcavs_video_writer_close(gw);
    if (!pt_check_ok(
            pcavs_align_paste_clip(pt_tmp("wide.mp4"), r, pt_tmp("pp_gen"), 1, 12, P, NULL, pt_tmp("pp_out"), NULL),
            "paste-back with pose_period 6 (22 generated frames)")) {
        free(face);
        return;
    }
    const size_t fb = (size_t)W * H * 3;
    uint8_t *src = malloc((size_t)P * fb), *want = malloc(fb);
    pcavs_video_reader *rd = NULL;
    long got_n = 0;
    if (src && want && pcavs_video_open(pt_tmp("wide.mp4"), &rd, NULL) == PCAVS_OK) {
        for (; got_n < P; got_n++) {
            const uint8_t *f;
            int got = 0;
            if (pcavs_video_read(rd, &f, &got) != PCAVS_OK || !got) break;
            memcpy(src + (size_t)got_n * fb, f, fb);
        }
        pcavs_video_close(rd);
    }
    long right = 0, exact = 0, n_out = 0;
    char first_wrong[160] = "none";
    for (long j = 0; j < NG && got_n == P; j++) {
        char fp[64];
        snprintf(fp, sizeof fp, "pp_out/%06ld.png", j);
        pcavs_image im;
        if (pcavs_image_load(pt_tmp(fp), &im) != PCAVS_OK) break;
        n_out++;
        long best = -1, k = expect_loop(j + 2, P);
        double best_d = 1e300;
        for (long i = 0; i < P; i++) {
            double d = 0;
            const uint8_t *a = src + (size_t)i * fb;
            for (size_t q = 0; q < fb; q++) d += abs((int)a[q] - (int)im.rgb[q]);
            if (d < best_d) best_d = d, best = i;
        }
        /* the expected frame: source k with face j pasted by M_k */
        double f2f[6];
        memcpy(want, src + (size_t)k * fb, fb);
        memset(face, (int)(40 + 8 * j), 224 * 224 * 3);
        int same = pcavs_align_face_to_frame(r->transforms + 6 * k, 224, 1, f2f) == PCAVS_OK &&
                   pcavs_align_paste(want, W, H, face, 224, f2f, 12) == PCAVS_OK && !memcmp(want, im.rgb, fb);
        right += best == k, exact += same;
        if ((best != k || !same) && !strcmp(first_wrong, "none"))
            snprintf(first_wrong, sizeof first_wrong, "frame %ld nearest to source %ld, expected %ld, bytes %s", j,
                     best, k, same ? "equal" : "differ");
        pcavs_image_free(&im);
    }
    free(src), free(want), free(face);
    pt_check(n_out == NG && right == NG && exact == NG,
             "ping-pong paste-back: %ld of %ld output frames on source frame calc_loop_idx(j + 2, 6), %ld byte-exact "
             "with face j pasted there by hand with that frame's transform (first wrong: %s)",
             right, n_out, exact, first_wrong);
    /* a period longer than the aligned clip is refused with a message */
    pcavs_status st = pcavs_align_paste_clip(pt_tmp("wide.mp4"), r, pt_tmp("pp_gen"), 1, 12, r->n_frames + 1, NULL,
                                             pt_tmp("pp_bad"), NULL);
    pt_check(st == PCAVS_ERR_INVALID_ARG && strstr(pcavs_last_error(), "pose frames"),
             "pose_period above the aligned frame count: error \"%s\"", pcavs_last_error());
    /* the output runs at the generated video's rate (25 fps, the rate its audio was synced to), not the source's */
    pcavs_align_result r30 = *r;
    r30.fps = 30;
    pcavs_video_info vi;
    if (pt_check_ok(pcavs_align_paste_clip(pt_tmp("wide.mp4"), &r30, pt_tmp("pp_gen.mp4"), 1, 12, P, NULL,
                                           pt_tmp("pp_out.mp4"), NULL),
                    "paste-back of a 25 fps generated video onto a 30 fps source") &&
        pt_check_ok(pcavs_video_probe(pt_tmp("pp_out.mp4"), &vi), "probe"))
        pt_check(fabs(vi.fps - 25) < 1e-6 && vi.n_frames == NG,
                 "pasted video of a 30 fps source: %.3f fps (25: the generated video's), %ld frames (%ld)", vi.fps,
                 vi.n_frames, NG);
}

/* Non-cropped video -> align -> identity generator (upstream crop of the aligned frame) -> paste-back. */
static void check_end_to_end(void) {
    if (!pcavs_video_ffmpeg_available()) {
        pt_skip("end-to-end video test: ffmpeg/ffprobe not installed");
        return;
    }
    const int W = 480, H = 360, N = 16;
    pcavs_video_writer *vw = NULL;
    if (!pt_check_ok(pcavs_video_writer_open(pt_tmp("wide.mp4"), W, H, 25, NULL, &vw), "write the padded video"))
        return;
    uint8_t *c = malloc((size_t)W * H * 3);
    for (int i = 0; i < N; i++) {
        char src[64];
        snprintf(src, sizeof src, "Mouth_Source/681600002/%06d.jpg", i);
        pcavs_image im;
        if (pcavs_image_load(pt_example(src), &im) != PCAVS_OK) break;
        for (int k = 0; k < W * H; k++) c[3 * k] = 90, c[3 * k + 1] = 110, c[3 * k + 2] = (uint8_t)(70 + k % W / 8);
        paste_img(c, W, H, im.rgb, 224, 224, 60 + 8 * i, 50 + 3 * i); /* drifting by 8,3 px a frame */
        pcavs_video_writer_write(vw, c);
        pcavs_image_free(&im);
    }
    free(c);
    if (!pt_check_ok(pcavs_video_writer_close(vw), "padded video")) return;

    pcavs_align_params p = {0};
    p.smooth_prev = -1;
    pcavs_align_result r;
    if (!pt_check_ok(pcavs_align_clip(pt_tmp("wide.mp4"), pt_tmp("wide_aligned"), &p, &r), "align the padded video"))
        return;
    pt_check(r.n_frames == N && r.n_detected == N && r.src_width == W && r.src_height == H,
             "padded video: %ld frames of %dx%d, %ld with a face", r.n_frames, r.src_width, r.src_height, r.n_detected);
    /* the drift is followed: translation of M_i moves with the face (x: -8 px/frame times the scale) */
    double sc = hypot(r.m_clip[0], r.m_clip[3]);
    double drift = (r.transforms[6 * (N - 1) + 2] - r.transforms[2]) / ((N - 1) * sc);
    pt_check(fabs(drift + 8) < 1.0, "alignment follows the face drifting 8 px/frame: %.2f px/frame", -drift);
    /* identity generator: the upstream crop + resize of each aligned frame */
    mkdir(pt_tmp("wide_gen"), 0777);
    for (long i = 0; i < r.n_frames; i++) {
        char fp[64];
        snprintf(fp, sizeof fp, "wide_aligned/%06ld.png", i);
        pcavs_image im;
        uint8_t face[224 * 224 * 3];
        if (pcavs_image_load(pt_tmp(fp), &im) != PCAVS_OK) break;
        pcavs_image_crop_resize(&im, fp, face);
        snprintf(fp, sizeof fp, "wide_gen/%06ld.png", i);
        pcavs_image_write_png(pt_tmp(fp), face, 224, 224);
        pcavs_image_free(&im);
    }
    if (pt_check_ok(pcavs_align_paste_clip(pt_tmp("wide.mp4"), &r, pt_tmp("wide_gen"), 1, 12, 0, NULL,
                                           pt_tmp("pasted.mp4"), NULL),
                    "paste-back")) {
        pcavs_video_info vi;
        if (pt_check_ok(pcavs_video_probe(pt_tmp("pasted.mp4"), &vi), "probe pasted video"))
            pt_check(vi.width == W && vi.height == H && vi.n_frames == N,
                     "pasted video %dx%d, %ld frames (source %dx%d, %d)", vi.width, vi.height, vi.n_frames, W, H, N);
        /* compare the pasted frames with the source video: inside the face (after the double resampling) close,
         * outside the pasted area identical up to the H.264 round trip */
        pcavs_video_reader *ra = NULL, *rb = NULL;
        if (pcavs_video_open(pt_tmp("wide.mp4"), &ra, NULL) == PCAVS_OK &&
            pcavs_video_open(pt_tmp("pasted.mp4"), &rb, NULL) == PCAVS_OK) {
            double in_sum = 0, out_sum = 0;
            long in_n = 0, out_n = 0;
            for (int i = 0; i < N; i++) {
                const uint8_t *fa, *fb;
                int ga = 0, gb = 0;
                if (pcavs_video_read(ra, &fa, &ga) != PCAVS_OK || pcavs_video_read(rb, &fb, &gb) != PCAVS_OK || !ga ||
                    !gb)
                    break;
                double f2f[6], inv[6];
                pcavs_align_face_to_frame(r.transforms + 6 * i, 224, 1, f2f);
                pcavs_affine_invert(f2f, inv);
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        double u = inv[0] * x + inv[1] * y + inv[2], v = inv[3] * x + inv[4] * y + inv[5];
                        double d = 0;
                        for (int k = 0; k < 3; k++)
                            d += abs(fa[((size_t)y * W + x) * 3 + k] - fb[((size_t)y * W + x) * 3 + k]);
                        if (u > 40 && u < 184 && v > 40 && v < 184)
                            in_sum += d / 3, in_n++;
                        else if (u < -10 || u > 234 || v < -10 || v > 234)
                            out_sum += d / 3, out_n++;
                    }
            }
            in_sum /= in_n ? in_n : 1, out_sum /= out_n ? out_n : 1;
            pt_check(in_n > 0 && in_sum < 4.0,
                     "pasted face interior vs source: mean abs %.2f (< 4: resampled twice + H.264)", in_sum);
            pt_check(out_n > 0 && out_sum < 1.5, "outside the pasted face vs source: mean abs %.2f (< 1.5: H.264 only)",
                     out_sum);
        }
        if (ra) pcavs_video_close(ra);
        if (rb) pcavs_video_close(rb);
    }
    check_paste_ping_pong(&r, W, H);
    pcavs_align_result_free(&r);
}

/* The same padded video through the programs: pcavs-align, pcavs-infer on a synthesized model (pose = the
 * aligned frames), pcavs-align --paste-back. Checks the geometry (the generated faces are random). */
static void check_cli_end_to_end(void) {
    const char *bin = getenv("PCAVS_BINARY_DIR");
    char align[1024], infer[1024], conv[1024], cmd[8192];
    snprintf(align, sizeof align, "%s/pipeline/pcavs-align", bin ? bin : ".");
    snprintf(infer, sizeof infer, "%s/pipeline/pcavs-infer", bin ? bin : ".");
    snprintf(conv, sizeof conv, "%s/weights_tools/pcavs-convert", bin ? bin : ".");
    if (access(align, X_OK) || access(infer, X_OK) || access(conv, X_OK)) {
        pt_skip("programs end to end: pcavs-align, pcavs-infer or pcavs-convert not built in $PCAVS_BINARY_DIR");
        return;
    }
    const int N = 8;
    snprintf(cmd, sizeof cmd,
             "'%s' --synthesize -o '%s' --seed 3 >/dev/null && '%s' '%s' -o '%s' -q --max-frames %d && "
             "'%s' --model '%s' --face '%s/000000.png' --audio '%s' --pose '%s' --max-frames %d -o '%s' 2>/dev/null && "
             "'%s' '%s' -o '%s' -q --max-frames %d --paste-back '%s' --paste-out '%s' --audio '%s'",
             conv, pt_tmp("model.safetensors"), align, pt_tmp("wide.mp4"), pt_tmp("cli_aligned"), N, infer,
             pt_tmp("model.safetensors"), pt_tmp("cli_aligned"), pt_example("Audio_Source/681600002.mp3"),
             pt_tmp("cli_aligned"), N, pt_tmp("cli_gen.mp4"), align, pt_tmp("wide.mp4"), pt_tmp("cli_aligned2"), N,
             pt_tmp("cli_gen.mp4"), pt_tmp("cli_pasted.mp4"), pt_example("Audio_Source/681600002.mp3"));
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "command: %s\n", cmd);
    if (!pt_check(rc == 0, "pcavs-align -> pcavs-infer (synthesized model) -> pcavs-align --paste-back: exit %d", rc))
        return;
    pcavs_video_info vi;
    if (pt_check_ok(pcavs_video_probe(pt_tmp("cli_pasted.mp4"), &vi), "probe the pasted video"))
        pt_check(vi.width == 480 && vi.height == 360 && vi.n_frames == N && vi.has_audio,
                 "pasted video %dx%d, %ld frames, audio %d (source 480x360, %d generated frames)", vi.width, vi.height,
                 vi.n_frames, vi.has_audio, N);
    /* away from the face the frames are the source's (H.264 twice) */
    pcavs_video_reader *ra = NULL, *rb = NULL;
    double sum = 0;
    long n = 0;
    if (pcavs_video_open(pt_tmp("wide.mp4"), &ra, NULL) == PCAVS_OK &&
        pcavs_video_open(pt_tmp("cli_pasted.mp4"), &rb, NULL) == PCAVS_OK) {
        for (int i = 0; i < N; i++) {
            const uint8_t *fa, *fb;
            int ga = 0, gb = 0;
            if (pcavs_video_read(ra, &fa, &ga) != PCAVS_OK || pcavs_video_read(rb, &fb, &gb) != PCAVS_OK || !ga || !gb)
                break;
            for (int y = 0; y < 360; y++)
                for (int x = 0; x < 40; x++) /* the left band: the face starts at x >= 60 */
                    for (int k = 0; k < 3; k++) sum += abs(fa[(y * 480 + x) * 3 + k] - fb[(y * 480 + x) * 3 + k]), n++;
        }
    }
    if (ra) pcavs_video_close(ra);
    if (rb) pcavs_video_close(rb);
    pt_check(n > 0 && sum / n < 3.0, "pasted video outside the face vs source: mean abs %.2f (< 3: H.264 re-encoded)",
             n ? sum / n : -1.0);
}

static void check_paste_known(void) {
    /* paste with a known transform: a face of constant color 200 scaled 2x into a black frame */
    uint8_t face[32 * 32 * 3], frame[100 * 80 * 3];
    memset(face, 200, sizeof face);
    memset(frame, 0, sizeof frame);
    double f2f[6] = {2, 0, 10, 0, 2, 5}; /* face (u,v) -> frame (2u+10, 2v+5) */
    pcavs_align_paste(frame, 100, 80, face, 32, f2f, 4);
    int centre = frame[(37 * 100 + 42) * 3], corner = frame[(0 * 100 + 0) * 3], outside = frame[(75 * 100 + 90) * 3];
    int edge = frame[(5 * 100 + 42) * 3]; /* v = 0: inside the feather ramp */
    pt_check(centre == 200 && corner == 0 && outside == 0 && edge > 0 && edge < 200,
             "paste with a known transform: centre %d (200), outside %d/%d (0), feathered edge %d (0 < e < 200)",
             centre, corner, outside, edge);
    double m[6] = {1.1, 0.2, -30, -0.2, 1.1, 12}, inv[6], id[6];
    pcavs_affine_invert(m, inv);
    pcavs_affine_compose(m, inv, id);
    pt_check(fabs(id[0] - 1) + fabs(id[1]) + fabs(id[2]) + fabs(id[3]) + fabs(id[4] - 1) + fabs(id[5]) < 1e-12,
             "affine inverse composes to identity");
}

int main(void) {
    g_tmp = pt_tmp_dir_make("test_align");

    const char *fx = pt_fixtures_dir();
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/align", fx ? fx : "");
    struct stat st;
    if (fx && stat(pt_path(dir, "warp.txt"), &st) == 0) {
        check_similarity(dir);
        check_clip_loop(dir);
        check_warps(dir);
    } else {
        pt_skip("skimage/cv2 comparisons: no $PCAVS_FIXTURES/align (tests/reference/align_reference.py needs the "
                "venv of setup_align_venv.sh)");
    }
    free(g_clip_mi);
    check_paste_known();

    pcavs_landmarker *lm = NULL;
    if (!pcavs_landmarks_available()) {
        pcavs_status s = pcavs_landmarker_open(NULL, &lm);
        pt_check(s == PCAVS_ERR_UNSUPPORTED && strstr(pcavs_last_error(), "unavailable"),
                 "no dlib in this build: \"%s\"", pcavs_last_error());
        pt_skip("landmark tests: this build has no dlib (libdlib-dev)");
    } else if (stat(pcavs_landmarks_default_model(), &st) != 0) {
        pt_skip("landmark tests: %s missing (Debian libdlib-data)", pcavs_landmarks_default_model());
    } else if (pt_check_ok(pcavs_landmarker_open(NULL, &lm), "load the dlib shape predictor")) {
        check_demo_clip(lm, pt_example("Mouth_Source/681600002"), 40, CLIP_EYES);
        check_demo_clip(lm, pt_example("Input/517600055"), 1, CLIP_EYES);
        check_demo_clip(lm, pt_example("Pose_Source/00473.mp4"), 158, CLIP_EYES);
        check_demo_clip(lm, pt_example("Audio_Source/00015.mp4"), 174, 0);
        check_demo_clip(lm, pt_example("Pose_Source/517600078"), 40, CLIP_LOST_OK);
        check_landmark_precision(lm);
        check_errors();
        check_end_to_end();
        check_cli_end_to_end();
        pcavs_landmarker_close(lm);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (strncmp(g_tmp, "/tmp", 5) != 0 && !getenv("PCAVS_KEEP_TMP") && system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return pt_finish();
}
