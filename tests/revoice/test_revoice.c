/* test_revoice.c: re-voicing paste-back (pipeline/align: paste_mask.c, blend.c, align_paste.c), issue 28.
 * Constructed inputs (the random-weight generator's output is not a face):
 *  A. without dlib, on the demo identity image padded into a larger frame with its landmarks written below:
 *     confinement (outside the grown mask and its blend margin the frame keeps its bytes; with mouth the eye
 *     regions, landmarks 36-47 grown by 5 px, too), the round trip (the frame's own aligned crop pasted back,
 *     >= 40 dB PSNR inside each mask), the seam (the aligned crop brightened by 30: multiband's mean absolute
 *     gradient across the mask boundary within 1.5x of the original frame's there; full + feather shows the
 *     step), parameter errors; all once at the image's scale and once scaled 3x (the blend's coarse bands at half
 *     resolution);
 *  B. with dlib: the round trip on demo clips and on a clip padded into a larger frame (ffmpeg pad) through
 *     pcavs_align_clip + pcavs_align_paste_clip_masked, every mask; the mask boundary of a still head moving
 *     <= 1 px rms between frames; a frame without a face gets the interpolated landmarks; pcavs-align
 *     --paste-mask equal to the C API; pcavs-infer --align
 * --paste-back end to end on a synthesized model with each mask (eyes byte-identical in every frame with mouth).
 * PCAVS_REVOICE_PNG=FILE also writes original | mouth | face | full of one pasted frame there (docs/revoice.png). */
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcavs_align.h"
#include "pcavs_image.h"
#include "status.h"
#include "test_util.h"

extern char **environ;

/* dlib's 68 landmarks (refined) of examples/Input/517600055/000000.jpg, in its pixels (x, y) */
static const double demo_lm[136] = {
    60.56,  70.72,  58.03,  82.91,  58.10,  95.64,  62.86,  108.27, 67.59,  120.41, 71.76,  132.53, 76.81,  144.39,
    83.19,  154.53, 94.66,  158.07, 110.14, 156.33, 127.39, 151.44, 144.03, 143.67, 157.98, 132.97, 166.55, 118.18,
    170.57, 101.51, 172.91, 83.63,  173.26, 66.26,  57.28,  51.03,  59.70,  45.99,  64.96,  44.70,  71.04,  45.39,
    77.26,  48.11,  96.66,  45.84,  108.18, 40.60,  120.49, 38.15,  133.39, 40.37,  143.21, 47.35,  86.33,  62.25,
    83.83,  71.77,  80.83,  81.30,  77.69,  91.00,  76.64,  100.43, 80.26,  102.41, 84.79,  103.67, 90.42,  102.16,
    96.59,  100.47, 63.93,  67.59,  66.42,  61.92,  72.86,  61.91,  79.56,  66.90,  73.19,  68.81,  66.99,  69.59,
    108.18, 64.25,  113.09, 57.10,  121.55, 56.80,  129.83, 60.81,  122.60, 64.11,  114.58, 64.87,  76.78,  122.89,
    77.43,  117.76, 81.63,  114.15, 86.05,  115.14, 90.73,  113.58, 101.96, 116.40, 115.01, 120.04, 104.38, 129.83,
    94.49,  133.66, 88.73,  134.46, 83.80,  133.81, 79.58,  129.88, 79.43,  122.94, 82.97,  121.68, 87.00,  121.57,
    91.95,  121.11, 110.47, 121.08, 92.51,  123.91, 87.50,  124.27, 83.22,  123.83};

static const char *const mask_names[3] = {"mouth", "face", "full"};
static const char *const blend_names[2] = {"multiband", "feather"};
static char *g_tmp; /* the work folder (pt_tmp_dir_make) */

/* Runs argv (no shell); returns the exit status (-1 when it could not start). Output to /dev/null unless quiet 0. */
static int run(char *const argv[], int quiet) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    }
    pid_t pid;
    int st = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (st != 0) return -1;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int have_program(const char *name) {
    char *argv[] = {(char *)name, "-version", NULL};
    return run(argv, 1) == 0;
}

/* ---- geometry helpers of the test's own (independent of paste_mask.c) ---- */

/* distance of (x, y) to the convex hull of the points lo..hi (0 inside) */
static double dist_to_hull(const double *lm, int lo, int hi, double x, double y) {
    /* the eye's six points are ordered around the eye: a convex enough polygon */
    int n = hi - lo + 1, inside = 0;
    double best = INFINITY;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double ax = lm[2 * (lo + j)], ay = lm[2 * (lo + j) + 1], bx = lm[2 * (lo + i)], by = lm[2 * (lo + i) + 1];
        double ex = bx - ax, ey = by - ay, l2 = ex * ex + ey * ey;
        double t = l2 > 0 ? ((x - ax) * ex + (y - ay) * ey) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double dx = x - ax - t * ex, dy = y - ay - t * ey;
        best = fmin(best, sqrt(dx * dx + dy * dy));
        if ((ay > y) != (by > y) && x < ax + (y - ay) * ex / ey) inside = !inside;
    }
    return inside ? 0 : best;
}

/* pixels of the eye regions: landmarks 36-41 and 42-47 grown by 5 px */
static int in_eyes(const double *lm, int x, int y) {
    return dist_to_hull(lm, 36, 41, x, y) <= 5 || dist_to_hull(lm, 42, 47, x, y) <= 5;
}

static double psnr_in(const uint8_t *a, const uint8_t *b, const float *dist, int w, int h, long *npx) {
    double se = 0;
    long n = 0;
    for (long i = 0; i < (long)w * h; i++) {
        if (!(dist[i] >= 0)) continue;
        for (int c = 0; c < 3; c++) {
            double d = (double)a[3 * i + c] - b[3 * i + c];
            se += d * d;
        }
        n++;
    }
    if (npx) *npx = n;
    if (n == 0) return 0;
    double mse = se / (3.0 * n);
    return mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : 99;
}

/* bytes that differ where dist < -margin; pixels that differ in the eye regions (lm may be NULL) */
static void outside_changes(const uint8_t *a, const uint8_t *b, const float *dist, int w, int h, double margin,
                            const double *lm, long *n_out, long *n_eyes, long *n_eye_px) {
    *n_out = 0, *n_eyes = 0, *n_eye_px = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            long i = (long)y * w + x;
            int diff = memcmp(a + 3 * i, b + 3 * i, 3) != 0;
            if (!(dist[i] >= -margin) && diff) ++*n_out;
            if (lm && in_eyes(lm, x, y)) {
                ++*n_eye_px;
                if (diff) ++*n_eyes;
            }
        }
}

static double lum_at(const uint8_t *img, int w, int h, double x, double y) {
    x = fmin(fmax(x, 0), w - 1.001), y = fmin(fmax(y, 0), h - 1.001);
    int x0 = (int)x, y0 = (int)y;
    double fx = x - x0, fy = y - y0, v = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            const uint8_t *p = img + ((size_t)(y0 + j) * w + x0 + i) * 3;
            v += (j ? fy : 1 - fy) * (i ? fx : 1 - fx) * (p[0] + p[1] + p[2]) / 3.0;
        }
    return v;
}

/* Mean absolute gradient across the mask boundary: at the pixels where the distance changes sign to a
 * 4-neighbour, the luminance difference across the boundary, (I(x + r n) - I(x - r n)) / 2r with n the boundary's
 * normal (the distance's gradient) and r = SEAM_R frame pixels: the scale of a visible seam, not of the texture. */
#define SEAM_R 3.0
/* ref non-NULL: the gradient of the difference img - ref (the seam's own step) */
static double boundary_gradient(const uint8_t *img, const uint8_t *ref, const float *dist, int w, int h, long *npx) {
    double sum = 0;
    long n = 0;
    for (int y = 2; y < h - 2; y++)
        for (int x = 2; x < w - 2; x++) {
            long i = (long)y * w + x;
            float d = dist[i];
            if (!((d >= 0) != (dist[i + 1] >= 0) || (d >= 0) != (dist[i + w] >= 0))) continue;
            double nx = dist[i + 1] - dist[i - 1], ny = dist[i + w] - dist[i - w], nl = hypot(nx, ny);
            if (!(nl > 0)) continue;
            nx /= nl, ny /= nl;
            double a = lum_at(img, w, h, x + SEAM_R * nx, y + SEAM_R * ny);
            double b = lum_at(img, w, h, x - SEAM_R * nx, y - SEAM_R * ny);
            if (ref)
                a -= lum_at(ref, w, h, x + SEAM_R * nx, y + SEAM_R * ny),
                    b -= lum_at(ref, w, h, x - SEAM_R * nx, y - SEAM_R * ny);
            sum += fabs(a - b) / (2 * SEAM_R);
            n++;
        }
    if (npx) *npx = n;
    return n ? sum / n : 0;
}

static void params(pcavs_paste_params *p, int mask, int blend, int upstream_crop) {
    pcavs_paste_params_init(p);
    p->mask = (pcavs_paste_mask)mask, p->blend = (pcavs_paste_blend)blend, p->upstream_crop = upstream_crop;
}

/* ---- A. constructed frame: the demo image padded into 320x280, no dlib ---- */

/* S: the demo image scaled S times (bilinear) in a frame S times larger: S = 1 blends at full resolution, S = 3
 * forms the coarse bands at half resolution (blend.c's level K = 1). */
static void check_constructed(int S) {
    const int CW = 320 * S, CH = 280 * S, OX = 53 * S, OY = 31 * S;
    printf("-- constructed frame %dx%d: the demo image scaled %dx --\n", CW, CH, S);
    pcavs_image im;
    if (!pt_check_ok(pcavs_image_load(pt_example("Input/517600055/000000.jpg"), &im), "load the demo image")) return;
    uint8_t *canvas = malloc((size_t)CW * CH * 3), *out = malloc((size_t)CW * CH * 3);
    uint8_t *crop = malloc(224 * 224 * 3), *face = malloc(224 * 224 * 3);
    float *dist = malloc((size_t)CW * CH * sizeof(float));
    for (int y = 0; y < CH; y++) /* a smooth colour ramp around the image */
        for (int x = 0; x < CW; x++) {
            uint8_t *p = canvas + ((size_t)y * CW + x) * 3;
            p[0] = (uint8_t)(40 + x / (3 * S)), p[1] = (uint8_t)(90 + y / (4 * S)),
            p[2] = (uint8_t)(120 + (x + y) / (8 * S));
        }
    for (int y = 0; y < im.height; y++)
        memcpy(canvas + ((size_t)(y + OY) * CW + OX) * 3, im.rgb + (size_t)y * im.width * 3, (size_t)im.width * 3);
    if (S > 1) /* bilinear upscale, pixel centres: source (X + 0.5) / S - 0.5 */
        for (int Y = 0; Y < im.height * S; Y++)
            for (int X = 0; X < im.width * S; X++) {
                double sx = fmax(0, (X + 0.5) / S - 0.5), sy = fmax(0, (Y + 0.5) / S - 0.5);
                int x0 = (int)sx, y0 = (int)sy, x1 = x0 + 1 < im.width ? x0 + 1 : x0,
                    y1 = y0 + 1 < im.height ? y0 + 1 : y0;
                double fx = sx - x0, fy = sy - y0;
                uint8_t *o = canvas + ((size_t)(Y + OY) * CW + X + OX) * 3;
                for (int c = 0; c < 3; c++) {
                    const uint8_t *r0 = im.rgb + (size_t)y0 * im.width * 3, *r1 = im.rgb + (size_t)y1 * im.width * 3;
                    double v = (1 - fy) * ((1 - fx) * r0[3 * x0 + c] + fx * r0[3 * x1 + c]) +
                               fy * ((1 - fx) * r1[3 * x0 + c] + fx * r1[3 * x1 + c]);
                    o[c] = (uint8_t)lround(v);
                }
            }
    double lm[136], three[6], m[6];
    for (int k = 0; k < 68; k++)
        lm[2 * k] = S * (demo_lm[2 * k] + 0.5) - 0.5 + OX, lm[2 * k + 1] = S * (demo_lm[2 * k + 1] + 0.5) - 0.5 + OY;
    pcavs_align_three_points(lm, three);
    pcavs_similarity_estimate_upstream(three, m);
    pcavs_warp_affine_u8(canvas, CW, CH, (size_t)CW * 3, 3, m, crop, 224, 224, 0);

    /* confinement: a face unlike the frame (inverted colours) */
    for (int i = 0; i < 224 * 224 * 3; i++) face[i] = (uint8_t)(255 - crop[i]);
    for (int mk = 0; mk < 3; mk++)
        for (int bl = 0; bl < 2; bl++) {
            pcavs_paste_params p;
            params(&p, mk, bl, 0);
            memcpy(out, canvas, (size_t)CW * CH * 3);
            if (!pt_check_ok(pcavs_paste_frame(out, CW, CH, face, 224, m, lm, &p), "paste_frame") ||
                !pt_check_ok(pcavs_paste_mask_distance(CW, CH, 224, m, lm, &p, dist), "mask_distance"))
                continue;
            long n_out, n_eyes, n_eye_px, n_in = 0, n_changed = 0;
            outside_changes(out, canvas, dist, CW, CH, p.blend_margin, lm, &n_out, &n_eyes, &n_eye_px);
            for (long i = 0; i < (long)CW * CH; i++)
                if (dist[i] >= 0) n_in++, n_changed += memcmp(out + 3 * i, canvas + 3 * i, 3) != 0;
            pt_check(n_out == 0 && n_changed >= n_in * 9 / 10 && n_in > 2000 * S * S,
                     "%s + %s, inverted face: %ld bytes changed outside the mask + %g px margin (bound 0); %ld of %ld "
                     "pixels inside changed (>= 90%%)",
                     mask_names[mk], blend_names[bl], n_out, p.blend_margin, n_changed, n_in);
            if (mk == 0)
                pt_check(n_eyes == 0 && n_eye_px > 300 * S,
                         "mouth + %s: %ld of %ld eye-region pixels changed (bound 0)", blend_names[bl], n_eyes,
                         n_eye_px);
            if (mk == 1)
                pt_check(n_eyes > n_eye_px / 2, "face + %s: %ld of %ld eye-region pixels changed (the eyes are pasted)",
                         blend_names[bl], n_eyes, n_eye_px);
        }

    /* round trip: the frame's own aligned crop */
    for (int run = 0; run < 4; run++) { /* mouth, face, full; then mouth without back-projection (reported) */
        const int mk = run % 3, plain = run == 3;
        pcavs_paste_params p;
        params(&p, mk, PCAVS_BLEND_MULTIBAND, 0);
        p.back_project = plain ? 0 : p.back_project;
        memcpy(out, canvas, (size_t)CW * CH * 3);
        long n;
        if (pt_check_ok(pcavs_paste_frame(out, CW, CH, crop, 224, m, lm, &p), "paste own crop") &&
            pt_check_ok(pcavs_paste_mask_distance(CW, CH, 224, m, lm, &p, dist), "mask_distance")) {
            double ps = psnr_in(out, canvas, dist, CW, CH, &n);
            if (S > 1) /* the 224x224 crop holds 1/S of the frame's resolution here: reported, not a bound */
                printf("info: round trip, constructed frame at scale %d, %s: PSNR inside the mask %.2f dB (%ld px)\n",
                       S, mask_names[mk], ps, n);
            else
                pt_check(ps >= 40, "round trip, constructed frame, %s: PSNR inside the mask %.2f dB (>= 40; %ld px)",
                         mask_names[mk], ps, n);
        }
    }

    /* seam: the crop brightened by 30 */
    for (int i = 0; i < 224 * 224 * 3; i++) face[i] = (uint8_t)(crop[i] + 30 > 255 ? 255 : crop[i] + 30);
    static const int seam_cases[4][2] = {{0, 0}, {1, 0}, {0, 1}, {2, 1}};
    double step_mb = 0;
    for (int t = 0; t < 4; t++) {
        int mk = seam_cases[t][0], bl = seam_cases[t][1];
        pcavs_paste_params p;
        params(&p, mk, bl, 0);
        memcpy(out, canvas, (size_t)CW * CH * 3);
        if (!pt_check_ok(pcavs_paste_frame(out, CW, CH, face, 224, m, lm, &p), "paste brightened") ||
            !pt_check_ok(pcavs_paste_mask_distance(CW, CH, 224, m, lm, &p, dist), "mask_distance"))
            continue;
        long n;
        double g_out = boundary_gradient(out, NULL, dist, CW, CH, &n);
        double g_org = boundary_gradient(canvas, NULL, dist, CW, CH, NULL);
        double step = boundary_gradient(out, canvas, dist, CW, CH, NULL), r = g_out / g_org;
        if (t == 0) step_mb = step;
        if (bl == 0)
            pt_check(r <= 1.5 && n > 100 * S,
                     "seam, crop +30, %s + multiband: mean |gradient| across the mask boundary (over +-%g px) %.2f vs "
                     "the original's %.2f: ratio %.2f (<= 1.5; %ld px); the paste's own step %.2f levels/px",
                     mask_names[mk], SEAM_R, g_out, g_org, r, n, step);
        else if (mk == 2)
            /* the square's edge lies on hair and background, whose own gradients hide part of a step in the ratio:
             * the step itself (gradient of output - original) shows it */
            pt_check(step >= 2.0 / S && step >= 3 * step_mb,
                     "seam, crop +30, full + feather: mean |gradient| across the mask boundary %.2f vs the original's "
                     "%.2f: ratio %.2f (%ld px); the paste's own step %.2f levels/px (>= 2/scale and >= 3x mouth + "
                     "multiband's %.2f: the step shows)",
                     g_out, g_org, r, n, step, step_mb);
        else
            printf("info: seam, crop +30, %s + feather: %.2f vs %.2f, ratio %.2f (%ld px), step %.2f levels/px\n",
                   mask_names[mk], g_out, g_org, r, n, step);
    }

    /* errors */
    pcavs_paste_params p;
    params(&p, 0, 0, 0);
    p.blend_margin = 13;
    pt_check(pcavs_paste_frame(out, CW, CH, face, 224, m, lm, &p) == PCAVS_ERR_INVALID_ARG &&
                 strstr(pcavs_last_error(), "blend_margin"),
             "blend margin 13 refused: \"%s\"", pcavs_last_error());
    params(&p, 0, 0, 0);
    p.back_project = 5;
    pt_check(pcavs_paste_frame(out, CW, CH, face, 224, m, lm, &p) == PCAVS_ERR_INVALID_ARG &&
                 strstr(pcavs_last_error(), "back_project"),
             "back-projection of 5 passes refused: \"%s\"", pcavs_last_error());
    params(&p, 0, 0, 0);
    pt_check(pcavs_paste_frame(out, CW, CH, face, 224, m, NULL, &p) == PCAVS_ERR_INVALID_ARG &&
                 strstr(pcavs_last_error(), "landmarks"),
             "mouth without landmarks refused: \"%s\"", pcavs_last_error());
    pcavs_paste_mask pm;
    pt_check(pcavs_paste_mask_parse("lips", &pm) == PCAVS_ERR_INVALID_ARG, "mask 'lips' refused: \"%s\"",
             pcavs_last_error());
    free(canvas), free(out), free(crop), free(face), free(dist);
    pcavs_image_free(&im);
}

/* ---- B. with dlib ---- */

/* frame i of a %06d.png folder */
static uint8_t *read_png(const char *dir, long i, int *w, int *h) {
    char p[2200];
    snprintf(p, sizeof p, "%s/%06ld.png", dir, i);
    uint8_t *rgb = NULL;
    if (pcavs_image_read(p, &rgb, w, h) != PCAVS_OK) return NULL;
    return rgb;
}

/* Aligns max_frames of src into a PNG folder and pastes the aligned frames back with each mask. */
static void check_round_trip(const char *label, const char *src, int max_frames) {
    pcavs_align_params ap = {.smooth_prev = -1, .max_frames = max_frames};
    pcavs_align_result r;
    char al[64];
    snprintf(al, sizeof al, "rt_%s_aligned", label);
    if (!pt_check_ok(pcavs_align_clip(src, pt_tmp(al), &ap, &r), "align for the round trip")) return;
    uint8_t *orig = NULL;
    size_t n = 0;
    int w = 0, h = 0;
    if (!pt_check_ok(pcavs_video_read_frames(src, (size_t)r.n_frames, &orig, &n, &w, &h), "read the original") ||
        !pt_check(n == (size_t)r.n_frames, "%s: %zu original frames (%ld)", label, n, r.n_frames)) {
        pcavs_align_result_free(&r);
        pcavs_free(orig);
        return;
    }
    double *sm = malloc((size_t)n * 136 * sizeof(double));
    float *dist = malloc((size_t)w * h * sizeof(float));
    const double *m0 = r.transforms; /* aligned px per frame px (the clip transform's scale) */
    double scale = sqrt(fabs(m0[0] * m0[4] - m0[1] * m0[3]));
    for (int run = 0; run < 4; run++) { /* mouth, face, full; then mouth without back-projection (reported) */
        const int mk = run % 3, plain = run == 3;
        pcavs_paste_params p;
        params(&p, mk, PCAVS_BLEND_MULTIBAND, 0);
        p.back_project = plain ? 0 : p.back_project;
        pcavs_paste_smooth_landmarks(r.landmarks, r.n_frames, p.smooth_frames, sm);
        char od[64];
        snprintf(od, sizeof od, "rt_%s_%s%s", label, mask_names[mk], plain ? "_plain" : "");
        if (!pt_check_ok(pcavs_align_paste_clip_masked(src, &r, pt_tmp(al), &p, 0, NULL, pt_tmp(od), NULL),
                         "paste_clip_masked"))
            continue;
        double worst = 99, sum = 0;
        long n_out_all = 0, npx = 0;
        for (long i = 0; i < (long)n; i++) {
            int ow, oh;
            uint8_t *o = read_png(pt_tmp(od), i, &ow, &oh);
            if (!o || ow != w || oh != h) {
                worst = -1;
                pcavs_free(o);
                break;
            }
            pcavs_paste_mask_distance(w, h, 224, r.transforms + 6 * i, sm + 136 * i, &p, dist);
            const uint8_t *src_f = orig + (size_t)i * w * h * 3;
            long k, n_eyes, n_eye_px, n_out;
            double ps = psnr_in(o, src_f, dist, w, h, &k);
            outside_changes(o, src_f, dist, w, h, p.blend_margin, NULL, &n_out, &n_eyes, &n_eye_px);
            worst = fmin(worst, ps), sum += ps, npx += k, n_out_all += n_out;
            pcavs_free(o);
        }
        if (plain)
            printf("info: round trip %s, %s without back-projection (a plain bicubic paste): PSNR inside the mask min "
                   "%.2f dB, mean %.2f\n",
                   label, mask_names[mk], worst, sum / (double)n);
        else
            pt_check(worst >= 40 && n_out_all == 0,
                     "round trip %s (%dx%d, %zu frames, crop scale %.2f), %s: PSNR inside the mask min %.2f dB, mean "
                     "%.2f (>= 40; %ld px); %ld bytes changed outside the mask + margin (0)",
                     label, w, h, n, scale, mask_names[mk], worst, sum / (double)n, npx / (long)n, n_out_all);
    }
    free(sm), free(dist);
    pcavs_free(orig);
    pcavs_align_result_free(&r);
}

/* pcavs-align --paste-back --paste-mask mouth --no-crop on the padded clip's aligned frames: the same frames as
 * pcavs_align_paste_clip_masked gave in check_round_trip("padded"); a bad mask name exits 2. */
static void check_align_cli(void) {
    const char *bin = getenv("PCAVS_BINARY_DIR");
    char exe[1100], in[2048], al[2048], gen[2048], out[2048], ref[2048];
    snprintf(exe, sizeof exe, "%s/pipeline/pcavs-align", bin ? bin : ".");
    struct stat st;
    if (stat(exe, &st) != 0) {
        pt_skip("pcavs-align --paste-mask: pcavs-align not built in $PCAVS_BINARY_DIR");
        return;
    }
    snprintf(in, sizeof in, "%s", pt_tmp("wide.mp4"));
    snprintf(al, sizeof al, "%s", pt_tmp("cli_align_aligned"));
    snprintf(gen, sizeof gen, "%s", pt_tmp("rt_padded_aligned"));
    snprintf(out, sizeof out, "%s", pt_tmp("cli_align_mouth"));
    snprintf(ref, sizeof ref, "%s", pt_tmp("rt_padded_mouth"));
    char *argv[] = {exe, in,          "-o",           al,      "--max-frames",
                    "4", "-q",        "--paste-back", gen,     "--paste-out",
                    out, "--no-crop", "--paste-mask", "mouth", NULL};
    int rc = run(argv, 0);
    long same = 0, n = 0;
    for (long i = 0; rc == 0; i++) {
        int w1, h1, w2, h2;
        uint8_t *a = read_png(out, i, &w1, &h1), *b = read_png(ref, i, &w2, &h2);
        if (!a || !b) {
            pcavs_free(a), pcavs_free(b);
            break;
        }
        n++;
        same += w1 == w2 && h1 == h2 && !memcmp(a, b, (size_t)w1 * h1 * 3);
        pcavs_free(a), pcavs_free(b);
    }
    pt_check(rc == 0 && n == 4 && same == n,
             "pcavs-align --paste-back --paste-mask mouth: exit %d, %ld of %ld frames byte-identical to "
             "pcavs_align_paste_clip_masked's (4)",
             rc, same, n);
    char *bad[] = {exe, in, "-o", al, "--paste-back", gen, "--paste-out", out, "--paste-mask", "lips", NULL};
    rc = run(bad, 1);
    pt_check(rc == 2, "pcavs-align --paste-mask lips: exit %d (2)", rc);
}

/* A still head: the demo image padded into 288x272, 10 frames with independent noise (the landmarks jitter). */
static void check_temporal(void) {
    enum { W = 288, H = 272, N = 10 };
    pcavs_image im;
    if (!pt_check_ok(pcavs_image_load(pt_example("Input/517600055/000000.jpg"), &im), "load the demo image")) return;
    mkdir(pt_tmp("still"), 0777);
    uint8_t *f = malloc((size_t)W * H * 3);
    uint64_t s = 12345;
    for (int t = 0; t < N; t++) {
        memset(f, 100, (size_t)W * H * 3);
        for (int y = 0; y < im.height; y++)
            memcpy(f + ((size_t)(y + 20) * W + 30) * 3, im.rgb + (size_t)y * im.width * 3, (size_t)im.width * 3);
        for (size_t i = 0; i < (size_t)W * H * 3; i++) { /* +-3 levels of uniform noise */
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            int v = f[i] + (int)((s >> 33) % 7) - 3;
            f[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        char p[64];
        snprintf(p, sizeof p, "still/%06d.png", t);
        pcavs_image_write_png(pt_tmp(p), f, W, H);
    }
    free(f);
    pcavs_image_free(&im);
    pcavs_align_params ap = {.smooth_prev = -1};
    pcavs_align_result r;
    if (!pt_check_ok(pcavs_align_clip(pt_tmp("still"), pt_tmp("still_aligned"), &ap, &r), "align the still clip"))
        return;
    double *sm = malloc((size_t)N * 136 * sizeof(double));
    float *d0 = malloc((size_t)W * H * sizeof(float)), *d1 = malloc((size_t)W * H * sizeof(float));
    for (int mk = 0; mk < 2; mk++)
        for (int smooth = 1; smooth >= 0; smooth--) {
            pcavs_paste_params p;
            params(&p, mk, PCAVS_BLEND_MULTIBAND, 1);
            pcavs_paste_smooth_landmarks(r.landmarks, r.n_frames, smooth ? p.smooth_frames : 0, sm);
            double se = 0;
            long cnt = 0;
            for (long t = 0; t + 1 < r.n_frames; t++) {
                const double *m0 = r.transforms + 6 * t;
                double sc = 1.0 / sqrt(fabs(m0[0] * m0[4] - m0[1] * m0[3])); /* frame px per aligned px */
                pcavs_paste_mask_distance(W, H, 224, m0, sm + 136 * t, &p, d0);
                pcavs_paste_mask_distance(W, H, 224, r.transforms + 6 * (t + 1), sm + 136 * (t + 1), &p, d1);
                for (int y = 0; y < H - 1; y++)
                    for (int x = 0; x < W - 1; x++) {
                        long i = (long)y * W + x;
                        if ((d0[i] >= 0) == (d0[i + 1] >= 0) && (d0[i] >= 0) == (d0[i + W] >= 0)) continue;
                        /* frame t's boundary pixel: how far frame t+1's boundary is, in frame pixels (the
                         * signed distance moves by exactly the boundary's displacement) */
                        double dd = (d1[i] - d0[i]) * sc;
                        se += dd * dd, cnt++;
                    }
            }
            double rms = cnt ? sqrt(se / cnt) : INFINITY;
            if (smooth)
                pt_check(rms <= 1.0 && cnt > 100,
                         "still head (%ld frames, +-3 levels of noise), %s mask: boundary moves %.3f px rms between "
                         "frames (<= 1; %ld boundary samples)",
                         r.n_frames, mask_names[mk], rms, cnt);
            else
                printf("info: the same without temporal smoothing: %.3f px rms\n", rms);
        }
    free(sm), free(d0), free(d1);
    pcavs_align_result_free(&r);

    /* a frame without a face between two with one: its landmarks are the interpolated ones */
    mkdir(pt_tmp("lost"), 0777);
    uint8_t *g = malloc((size_t)W * H * 3);
    memset(g, 100, (size_t)W * H * 3);
    int ok = 1;
    for (int t = 0; t < 3; t++) {
        char sp[64], dp[64];
        snprintf(sp, sizeof sp, "still/%06d.png", 2 * t);
        snprintf(dp, sizeof dp, "lost/%06d.png", t);
        int fw, fh;
        uint8_t *f1 = t == 1 ? NULL : read_png(pt_tmp("still"), 2 * t, &fw, &fh);
        ok &= pcavs_image_write_png(pt_tmp(dp), t == 1 ? g : f1, W, H) == PCAVS_OK;
        pcavs_free(f1);
    }
    free(g);
    if (ok && pt_check_ok(pcavs_align_clip(pt_tmp("lost"), pt_tmp("lost_aligned"), &ap, &r),
                          "align a clip with a lost face")) {
        double e = 0;
        for (int k = 0; k < 136; k++)
            e = fmax(e, fabs(r.landmarks[136 + k] - 0.5 * (r.landmarks[k] + r.landmarks[272 + k])));
        pt_check(r.n_frames == 3 && !r.detected[1] && r.detected[0] && r.detected[2] && e < 1e-9,
                 "frame 1 of 3 without a face: detected %d %d %d, its landmarks the mean of its neighbours' (max "
                 "abs %.2g, < 1e-9)",
                 r.detected[0], r.detected[1], r.detected[2], e);
        pcavs_align_result_free(&r);
    }
}

static long loop_index(long k, long P) {
    long lap = k / P, r = k % P;
    return lap % 2 == 0 ? r : P - 1 - r;
}

/* pcavs-infer on the CLI check's model and speech with one option OPT VAL (and --align --paste-back when
 * paste_back); returns its exit status. */
static int usage_exit(const char *infer, const char *video, const char *opt, const char *val, int paste_back) {
    char *argv[16]; /* pt_tmp() rotates 16 buffers: its four paths below stay valid */
    int n = 0;
    argv[n++] = (char *)infer;
    argv[n++] = "--model";
    argv[n++] = (char *)pt_tmp("model.safetensors");
    argv[n++] = "-f";
    argv[n++] = (char *)video;
    argv[n++] = "-a";
    argv[n++] = (char *)pt_tmp("speech.wav");
    argv[n++] = "-o";
    argv[n++] = (char *)pt_tmp("bad.mp4");
    if (paste_back) {
        argv[n++] = "--align";
        argv[n++] = "--paste-back";
        argv[n++] = (char *)pt_tmp("bad_out");
    }
    argv[n++] = (char *)opt;
    argv[n++] = (char *)val;
    argv[n] = NULL;
    return run(argv, 1);
}

/* pcavs-infer --align -f VIDEO -a SPEECH -o gen.mp4 --paste-back DIR [--paste-mask M] on a synthesized model. */
static void check_cli(const char *video_in, const char *video_label) {
    char video[2048]; /* pt_tmp()'s buffers rotate */
    snprintf(video, sizeof video, "%s", video_in);
    const char *bin = getenv("PCAVS_BINARY_DIR");
    char infer[1100], convert[1100];
    snprintf(infer, sizeof infer, "%s/pipeline/pcavs-infer", bin ? bin : ".");
    snprintf(convert, sizeof convert, "%s/weights_tools/pcavs-convert", bin ? bin : ".");
    struct stat st;
    if (stat(infer, &st) != 0 || stat(convert, &st) != 0) {
        pt_skip("pcavs-infer end to end: pcavs-infer or pcavs-convert not built in $PCAVS_BINARY_DIR");
        return;
    }
    char *conv[] = {convert, "--synthesize", "-o", (char *)pt_tmp("model.safetensors"), "--seed", "5", NULL};
    if (!pt_check(run(conv, 1) == 0, "pcavs-convert --synthesize")) return;
    /* 0.30 s of speech-like tone: 5 frames, 3 rendered (--max-frames) */
    char *mk_wav[] = {"ffmpeg",
                      "-v",
                      "error",
                      "-y",
                      "-f",
                      "lavfi",
                      "-i",
                      "aevalsrc=0.3*sin(2*PI*220*t)*sin(2*PI*3*t):s=16000:d=0.30",
                      "-c:a",
                      "pcm_s16le",
                      (char *)pt_tmp("speech.wav"),
                      NULL};
    if (!pt_check(run(mk_wav, 1) == 0, "ffmpeg: speech WAV")) return;

    /* usage errors: exit 2 before the model is loaded */
    int e1 = usage_exit(infer, video, "--paste-mask", "lips", 1);
    int e2 = usage_exit(infer, video, "--blend", "feather", 0);
    int e3 = usage_exit(infer, video, "--back-project", "7", 1);
    pt_check(e1 == 2 && e2 == 2 && e3 == 2,
             "pcavs-infer --paste-mask lips: exit %d (2); --blend without --paste-back: exit %d (2); --back-project 7: "
             "exit %d (2)",
             e1, e2, e3);

    pcavs_align_params ap = {.smooth_prev = -1};
    pcavs_align_result r;
    if (!pt_check_ok(pcavs_align_clip(video, pt_tmp("cli_aligned"), &ap, &r), "align the clip (for the checks)"))
        return;
    uint8_t *orig = NULL;
    size_t n = 0;
    int w = 0, h = 0;
    pcavs_video_read_frames(video, 0, &orig, &n, &w, &h);
    double *sm = malloc((size_t)r.n_frames * 136 * sizeof(double));
    float *dist = malloc((size_t)w * h * sizeof(float));
    uint8_t *shown[4] = {NULL, NULL, NULL, NULL};
    const long show_j = 2;
    for (int mk = -1; mk < 3; mk++) { /* -1: no --paste-mask (re-voicing a video: mouth, so no run of "mouth") */
        if (mk == 0) continue;
        char od[64];
        snprintf(od, sizeof od, "cli_%s", mk < 0 ? "default" : mask_names[mk]);
        char *argv[32];
        int a = 0;
        argv[a++] = infer, argv[a++] = "--model", argv[a++] = (char *)pt_tmp("model.safetensors");
        argv[a++] = "--align", argv[a++] = "-f", argv[a++] = video, argv[a++] = "-a";
        argv[a++] = (char *)pt_tmp("speech.wav"), argv[a++] = "-o", argv[a++] = (char *)pt_tmp("cli_gen.mp4");
        argv[a++] = "--paste-back", argv[a++] = (char *)pt_tmp(od), argv[a++] = "-q", argv[a++] = "--noise";
        argv[a++] = "fixed", argv[a++] = "--max-frames", argv[a++] = "3";
        if (mk >= 0) argv[a++] = "--paste-mask", argv[a++] = (char *)mask_names[mk];
        argv[a] = NULL;
        int rc = run(argv, 0);
        if (!pt_check(rc == 0, "pcavs-infer --align -f %s -a SPEECH --paste-back DIR --paste-mask %s: exit %d",
                      video_label, mk < 0 ? "(default)" : mask_names[mk], rc))
            continue;
        pcavs_paste_params p;
        params(&p, mk < 0 ? 0 : mk, PCAVS_BLEND_MULTIBAND, 1);
        pcavs_paste_smooth_landmarks(r.landmarks, r.n_frames, p.smooth_frames, sm);
        long frames = 0, n_out_all = 0, eyes_all = 0, eye_px = 0, changed_in = 0, in_px = 0;
        for (long j = 0;; j++) {
            int ow, oh;
            uint8_t *o = read_png(pt_tmp(od), j, &ow, &oh);
            if (!o) break;
            frames++;
            long oi = loop_index(j + 2, r.n_frames);
            const uint8_t *src = orig + (size_t)oi * w * h * 3;
            if (ow != w || oh != h) {
                n_out_all++;
                pcavs_free(o);
                continue;
            }
            pcavs_paste_mask_distance(w, h, 224, r.transforms + 6 * oi, sm + 136 * oi, &p, dist);
            long n_out, n_eyes, n_eye_px;
            outside_changes(o, src, dist, w, h, p.blend_margin, r.landmarks + 136 * oi, &n_out, &n_eyes, &n_eye_px);
            n_out_all += n_out, eyes_all += n_eyes, eye_px += n_eye_px;
            for (long i = 0; i < (long)w * h; i++)
                if (dist[i] >= 0) in_px++, changed_in += memcmp(o + 3 * i, src + 3 * i, 3) != 0;
            if (j == show_j) {
                int k = mk < 0 ? 1 : 1 + mk;
                shown[k] = malloc((size_t)w * h * 3);
                memcpy(shown[k], o, (size_t)w * h * 3);
                if (!shown[0]) shown[0] = malloc((size_t)w * h * 3), memcpy(shown[0], src, (size_t)w * h * 3);
            }
            pcavs_free(o);
        }
        pt_check(frames == 3 && n_out_all == 0 && changed_in > in_px / 2,
                 "%s: %ld pasted frames (3), %ld bytes changed outside the mask + margin (0), %ld of %ld pixels inside "
                 "changed (> half: the generated face is there)",
                 mk < 0 ? "default mask" : mask_names[mk], frames, n_out_all, changed_in, in_px);
        if (mk <= 0)
            pt_check(eyes_all == 0 && eye_px > 100 * frames,
                     "%s: %ld of %ld eye-region pixels (landmarks 36-47 + 5 px) differ from the original, every frame "
                     "(0)",
                     mk < 0 ? "default mask (mouth)" : "mouth", eyes_all, eye_px);
    }
    const char *png = getenv("PCAVS_REVOICE_PNG");
    if (png && *png && shown[0] && shown[1] && shown[2] && shown[3]) {
        /* row 1: the re-voiced frame with each mask (random weights: the generated face is not a face); row 2: the
         * frame's own aligned crop with a colour and lighting change (R +40, G +20, B -10) pasted back with mouth +
         * multiband, face + multiband, full + feather: what the blend does with such a difference */
        long oi = loop_index(show_j + 2, r.n_frames);
        int gap = 8, W = 4 * w + 3 * gap, H = 2 * h + gap, fw, fh;
        uint8_t *sbs = malloc((size_t)W * H * 3), *row2[4] = {NULL, NULL, NULL, NULL};
        uint8_t *crop = read_png(pt_tmp("cli_aligned"), oi, &fw, &fh);
        memset(sbs, 255, (size_t)W * H * 3);
        static const int cases[3][2] = {{0, 0}, {1, 0}, {2, 1}};
        for (int k = 0; k < 4 && crop && fw == 224 && fh == 224; k++) {
            row2[k] = malloc((size_t)w * h * 3);
            memcpy(row2[k], shown[0], (size_t)w * h * 3);
            if (k == 0) continue;
            uint8_t tint[224 * 224 * 3];
            static const int add[3] = {40, 20, -10};
            for (int i = 0; i < 224 * 224 * 3; i++) {
                int v = crop[i] + add[i % 3];
                tint[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            pcavs_paste_params p;
            params(&p, cases[k - 1][0], cases[k - 1][1], 0);
            pcavs_paste_smooth_landmarks(r.landmarks, r.n_frames, p.smooth_frames, sm);
            pcavs_paste_frame(row2[k], w, h, tint, 224, r.transforms + 6 * oi, sm + 136 * oi, &p);
        }
        for (int k = 0; k < 4; k++)
            for (int y = 0; y < h; y++) {
                memcpy(sbs + ((size_t)y * W + (size_t)k * (w + gap)) * 3, shown[k] + (size_t)y * w * 3, (size_t)w * 3);
                if (row2[k])
                    memcpy(sbs + ((size_t)(y + h + gap) * W + (size_t)k * (w + gap)) * 3, row2[k] + (size_t)y * w * 3,
                           (size_t)w * 3);
            }
        pt_check_ok(pcavs_image_write_png(png, sbs, W, H), "write PCAVS_REVOICE_PNG");
        printf(
            "info: wrote %s (original | mouth | face | full, generated frame %ld; below: its aligned crop recoloured, "
            "mouth + multiband | face + multiband | full + feather)\n",
            png, show_j);
        for (int k = 0; k < 4; k++) free(row2[k]);
        pcavs_free(crop);
        free(sbs);
    }
    for (int k = 0; k < 4; k++) free(shown[k]);
    free(sm), free(dist);
    pcavs_free(orig);
    pcavs_align_result_free(&r);
}

/* PCAVS_REVOICE_PARTS (debugging): letters of the parts to run, c(onstructed) r(ound trip) t(emporal) i(nfer) */
static int part(char c) {
    const char *e = getenv("PCAVS_REVOICE_PARTS");
    return !e || !*e || strchr(e, c) != NULL;
}

int main(void) {
    g_tmp = pt_tmp_dir_make("test_revoice");

    if (part('c')) {
        check_constructed(1);
        if (!pt_quick())
            check_constructed(3);
        else
            pt_skip("quick run (PCAVS_TEST_QUICK): the constructed frame at scale 3 left out");
    }

    struct stat st;
    if (!pcavs_landmarks_available()) {
        pt_skip("dlib tests (round trip on clips, temporal, pcavs-infer end to end): this build has no dlib");
    } else if (stat(pcavs_landmarks_default_model(), &st) != 0) {
        pt_skip("dlib tests: %s missing (Debian libdlib-data)", pcavs_landmarks_default_model());
    } else if (!have_program("ffmpeg")) {
        pt_skip("dlib tests: ffmpeg not installed");
    } else {
        /* a demo clip padded into a larger frame, 6 frames */
        char *pad[] = {"ffmpeg",
                       "-v",
                       "error",
                       "-y",
                       "-i",
                       (char *)pt_example("Audio_Source/00015.mp4"),
                       "-frames:v",
                       "6",
                       "-vf",
                       "pad=400:320:100:50:gray",
                       "-c:v",
                       "libx264",
                       "-pix_fmt",
                       "yuv420p",
                       "-c:a",
                       "aac",
                       (char *)pt_tmp("wide.mp4"),
                       NULL};
        if (pt_check(run(pad, 1) == 0, "ffmpeg pad a demo clip into 400x320")) {
            if (part('r')) {
                check_round_trip("Mouth_Source", pt_example("Mouth_Source/681600002"), 4);
                check_round_trip("00473.mp4", pt_example("Pose_Source/00473.mp4"), 4);
                check_round_trip("padded", pt_tmp("wide.mp4"), 4);
                check_align_cli();
            }
            if (part('t')) check_temporal();
            if (part('i')) check_cli(pt_tmp("wide.mp4"), "wide.mp4 (a demo clip padded into 400x320)");
        }
    }
    if (!getenv("PCAVS_KEEP_TMP") && strncmp(g_tmp, "/tmp", 5) != 0) {
        char *rm[] = {"rm", "-rf", g_tmp, NULL};
        run(rm, 1);
    }
    return pt_finish();
}
