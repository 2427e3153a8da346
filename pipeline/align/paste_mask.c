/* paste_mask.c: mask geometry for paste-back from dlib's 68 landmarks (no upstream counterpart), in
 * aligned-crop pixels, and the landmarks' temporal smoothing.
 *   mouth: the jaw line (points 0-16, ear to ear) closed into a polygon and cut by a line parallel to the eyes
 *          half-way between the nose base (mean of 31-35) and the top of the upper lip (51): the lower face up to
 *          just under the nose; grown by 8 px by default (the generated jaw may open wider than the original's);
 *   face:  the convex hull of the 68 points and of the eyebrows (17-26) moved up, away from the chin, by half the
 *          eyebrow-to-nose-base distance (the forehead); grown by 4 px by default;
 *   full:  the generated square.
 * Every mask is clipped to the generated square less the blend margin, so that the blend never needs a face
 * pixel the generator did not make. Distances are exact Euclidean distances to the polygon's edges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "paste_mask.h"
#include "pcavs_align.h"
#include "status.h"

void paste_face_square(int fs, int upstream_crop, double sq[4], double f2a[6]) {
    /* face pixel g -> aligned pixel s g + 0.5 s - 0.5 + offset (resize with half-pixel centres), as
     * pcavs_align_face_to_frame */
    double s = (upstream_crop ? (double)(PCAVS_ALIGN_SIZE - 32) : (double)PCAVS_ALIGN_SIZE) / fs;
    double ox = upstream_crop ? 16.0 : 0.0;
    double a[6] = {s, 0, 0.5 * s - 0.5 + ox, 0, s, 0.5 * s - 0.5};
    if (f2a) memcpy(f2a, a, sizeof a);
    sq[0] = a[0] * -0.5 + a[2], sq[1] = a[4] * -0.5 + a[5];
    sq[2] = a[0] * (fs - 0.5) + a[2], sq[3] = a[4] * (fs - 0.5) + a[5];
}

static void mean_pts(const double *p, int lo, int hi, double m[2]) {
    m[0] = m[1] = 0;
    for (int i = lo; i <= hi; i++) m[0] += p[2 * i], m[1] += p[2 * i + 1];
    m[0] /= hi - lo + 1, m[1] /= hi - lo + 1;
}

/* Unit normal of the eye line pointing up (away from the chin, landmark 8). */
static int up_normal(const double *p, double n[2]) {
    double r[2], l[2];
    mean_pts(p, 36, 41, r), mean_pts(p, 42, 47, l);
    double ex = l[0] - r[0], ey = l[1] - r[1], len = hypot(ex, ey);
    if (!(len > 1e-9)) return 0;
    n[0] = ey / len, n[1] = -ex / len;
    double cx = 0.5 * (r[0] + l[0]), cy = 0.5 * (r[1] + l[1]);
    if ((p[16] - cx) * n[0] + (p[17] - cy) * n[1] > 0) n[0] = -n[0], n[1] = -n[1];
    return 1;
}

static double cross3(const double *o, const double *a, const double *b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}
static int cmp_xy(const void *a, const void *b) {
    const double *p = a, *q = b;
    if (p[0] != q[0]) return p[0] < q[0] ? -1 : 1;
    return (p[1] > q[1]) - (p[1] < q[1]);
}

/* Andrew's monotone chain; pts [n, 2] is sorted in place; hull receives <= n points. */
static int convex_hull(double *pts, int n, double *hull) {
    qsort(pts, (size_t)n, 2 * sizeof(double), cmp_xy);
    int k = 0;
    for (int i = 0; i < n; i++) {
        while (k >= 2 && cross3(hull + 2 * (k - 2), hull + 2 * (k - 1), pts + 2 * i) <= 0) k--;
        hull[2 * k] = pts[2 * i], hull[2 * k + 1] = pts[2 * i + 1], k++;
    }
    for (int i = n - 2, t = k + 1; i >= 0; i--) {
        while (k >= t && cross3(hull + 2 * (k - 2), hull + 2 * (k - 1), pts + 2 * i) <= 0) k--;
        hull[2 * k] = pts[2 * i], hull[2 * k + 1] = pts[2 * i + 1], k++;
    }
    return k - 1;
}

/* Sutherland-Hodgman: keeps the part of polygon in [n, 2] where (p - o) . nrm <= 0. */
static int clip_half_plane(const double *in, int n, const double o[2], const double nrm[2], double *out) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        const double *a = in + 2 * i, *b = in + 2 * ((i + 1) % n);
        double da = (a[0] - o[0]) * nrm[0] + (a[1] - o[1]) * nrm[1];
        double db = (b[0] - o[0]) * nrm[0] + (b[1] - o[1]) * nrm[1];
        if (da <= 0) out[2 * k] = a[0], out[2 * k + 1] = a[1], k++;
        if ((da < 0 && db > 0) || (da > 0 && db < 0)) {
            double t = da / (da - db);
            out[2 * k] = a[0] + t * (b[0] - a[0]), out[2 * k + 1] = a[1] + t * (b[1] - a[1]), k++;
        }
    }
    return k;
}

pcavs_status paste_shape_build(const pcavs_paste_params *p, const double *a, const double sq[4], paste_shape *s) {
    memset(s, 0, sizeof *s);
    memcpy(s->sq, sq, sizeof s->sq);
    s->margin = p->blend_margin;
    if (p->mask == PCAVS_PASTE_MASK_FULL) {
        s->full = 1;
        s->grow = 0;
        return PCAVS_OK;
    }
    if (!a)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: the %s mask needs the 68 landmarks",
                          p->mask == PCAVS_PASTE_MASK_MOUTH ? "mouth" : "face");
    for (int i = 0; i < 2 * PCAVS_ALIGN_N_LANDMARKS; i++)
        if (!isfinite(a[i])) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: landmark %d is not finite", i / 2);
    double up[2];
    if (!up_normal(a, up)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: landmarks with coincident eyes");
    double nb[2];
    mean_pts(a, 31, 35, nb);
    if (p->mask == PCAVS_PASTE_MASK_MOUTH) {
        s->grow = p->grow >= 0 ? p->grow : 8.0;
        double jaw[2 * 17], o[2];
        memcpy(jaw, a, sizeof jaw);
        /* half-way from the nose base to the upper lip's top, measured along the face's vertical */
        double lip = (nb[0] - a[2 * 51]) * up[0] + (nb[1] - a[2 * 51 + 1]) * up[1];
        if (lip < 0) lip = 0;
        o[0] = nb[0] - 0.5 * lip * up[0], o[1] = nb[1] - 0.5 * lip * up[1];
        s->n = clip_half_plane(jaw, 17, o, up, s->xy);
    } else {
        s->grow = p->grow >= 0 ? p->grow : 4.0;
        double pts[2 * (PCAVS_ALIGN_N_LANDMARKS + 10)], br[2];
        memcpy(pts, a, 2 * PCAVS_ALIGN_N_LANDMARKS * sizeof(double));
        mean_pts(a, 17, 26, br);
        double lift = 0.5 * hypot(nb[0] - br[0], nb[1] - br[1]);
        for (int i = 0; i < 10; i++) {
            pts[2 * (PCAVS_ALIGN_N_LANDMARKS + i)] = a[2 * (17 + i)] + lift * up[0];
            pts[2 * (PCAVS_ALIGN_N_LANDMARKS + i) + 1] = a[2 * (17 + i) + 1] + lift * up[1];
        }
        s->n = convex_hull(pts, PCAVS_ALIGN_N_LANDMARKS + 10, s->xy);
    }
    if (s->n < 3) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: degenerate landmarks (mask of %d points)", s->n);
    return PCAVS_OK;
}

static double poly_distance(const paste_shape *s, double x, double y) {
    double best = INFINITY;
    int inside = 0;
    for (int i = 0, j = s->n - 1; i < s->n; j = i++) {
        double ax = s->xy[2 * j], ay = s->xy[2 * j + 1], bx = s->xy[2 * i], by = s->xy[2 * i + 1];
        double ex = bx - ax, ey = by - ay, l2 = ex * ex + ey * ey;
        double t = l2 > 0 ? ((x - ax) * ex + (y - ay) * ey) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double dx = x - (ax + t * ex), dy = y - (ay + t * ey), d2 = dx * dx + dy * dy;
        if (d2 < best) best = d2;
        if ((ay > y) != (by > y) && x < ax + (y - ay) * ex / ey) inside = !inside;
    }
    best = sqrt(best);
    return inside ? best : -best;
}

double paste_shape_distance(const paste_shape *s, double x, double y) {
    double dsq = fmin(fmin(x - s->sq[0], s->sq[2] - x), fmin(y - s->sq[1], s->sq[3] - y)) - s->margin;
    if (s->full) return dsq;
    return fmin(poly_distance(s, x, y) + s->grow, dsq);
}

void paste_shape_bounds(const paste_shape *s, double box[4]) {
    double x0 = s->sq[0], y0 = s->sq[1], x1 = s->sq[2], y1 = s->sq[3];
    if (!s->full) {
        double px0 = INFINITY, py0 = INFINITY, px1 = -INFINITY, py1 = -INFINITY, r = s->grow + s->margin;
        for (int i = 0; i < s->n; i++) {
            px0 = fmin(px0, s->xy[2 * i]), px1 = fmax(px1, s->xy[2 * i]);
            py0 = fmin(py0, s->xy[2 * i + 1]), py1 = fmax(py1, s->xy[2 * i + 1]);
        }
        x0 = fmax(x0, px0 - r), y0 = fmax(y0, py0 - r), x1 = fmin(x1, px1 + r), y1 = fmin(y1, py1 + r);
    }
    box[0] = x0, box[1] = y0, box[2] = x1, box[3] = y1;
}

pcavs_status pcavs_paste_smooth_landmarks(const double *lm, long n, double sigma, double *out) {
    if (!lm || !out || n <= 0) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "paste: smooth_landmarks: no landmarks");
    const int k = 2 * PCAVS_ALIGN_N_LANDMARKS;
    if (!(sigma > 0)) {
        if (out != lm) memmove(out, lm, (size_t)n * k * sizeof(double));
        return PCAVS_OK;
    }
    int r = (int)ceil(3 * sigma);
    double *w = malloc((size_t)(2 * r + 1) * sizeof *w), *tmp = malloc((size_t)n * k * sizeof *tmp);
    if (!w || !tmp) {
        free(w), free(tmp);
        return pcavs_fail(PCAVS_ERR_OOM, "paste: smooth_landmarks: out of memory");
    }
    for (int t = -r; t <= r; t++) w[t + r] = exp(-0.5 * t * t / (sigma * sigma));
    for (long i = 0; i < n; i++) {
        double ws = 0;
        double *o = tmp + (size_t)i * k;
        memset(o, 0, (size_t)k * sizeof *o);
        for (int t = -r; t <= r; t++) {
            long j = i + t;
            if (j < 0 || j >= n) continue;
            const double *src = lm + (size_t)j * k;
            for (int c = 0; c < k; c++) o[c] += w[t + r] * src[c];
            ws += w[t + r];
        }
        for (int c = 0; c < k; c++) o[c] /= ws;
    }
    memcpy(out, tmp, (size_t)n * k * sizeof *tmp);
    free(w), free(tmp);
    return PCAVS_OK;
}
