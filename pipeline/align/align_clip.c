/* align_clip.c: clip-level alignment (upstream scripts/align_68.py align_folder): landmarks of every frame,
 * the three points averaged over the clip, one similarity transform onto (87,59) (137,59) (112,120), the
 * per-frame mouth bias smoothed 0.2 previous + 0.8 current, and the OpenCV-exact warp to 224x224 with a
 * black border. Upstream gives up on a frame without exactly one face; here several faces -> the largest
 * (counted and reported), no face -> points interpolated from the neighbouring frames (counted, reported),
 * no face anywhere -> an error. Also the paste-back of generated faces over a whole clip. Inputs: an image,
 * a folder of images (name order) or a video (ffmpeg); outputs: a %06d.png folder or a video. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcavs_align.h"
#include "pcavs_audio.h"
#include "pcavs_image.h"
#include "pcavs_video.h"
#include "status.h"

/* ---- frame sources: image, folder of images, video ---- */

typedef struct frame_src {
    const char *path;
    char **files; /* images (folder or single file), NULL for a video */
    long n_files, next;
    pcavs_video_reader *vr;
    pcavs_video_info vi;
    pcavs_image img;
} frame_src;

static int has_ext(const char *name, const char *const *exts) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (; *exts; exts++) {
        const char *a = dot + 1, *b = *exts;
        while (*a && *b && tolower((unsigned char)*a) == *b) a++, b++;
        if (!*a && !*b) return 1;
    }
    return 0;
}
static const char *const image_exts[] = {"jpg", "jpeg", "png", NULL};
static const char *const video_exts[] = {"mp4", "mov", "mkv", "avi", "webm", NULL};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void src_close(frame_src *s) {
    for (long i = 0; i < s->n_files; i++) free(s->files[i]);
    free(s->files);
    if (s->vr) pcavs_video_close(s->vr);
    pcavs_image_free(&s->img);
    memset(s, 0, sizeof *s);
}

static pcavs_status src_open(const char *path, frame_src *s) {
    memset(s, 0, sizeof *s);
    s->path = path;
    struct stat st;
    if (stat(path, &st) != 0) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return pcavs_fail(PCAVS_ERR_IO, "folder %s: cannot read: %s", path, strerror(errno));
        struct dirent *e;
        long cap = 0;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !has_ext(e->d_name, image_exts)) continue;
            if (s->n_files == cap) {
                cap = cap ? 2 * cap : 64;
                char **f = realloc(s->files, (size_t)cap * sizeof *f);
                if (!f) break;
                s->files = f;
            }
            size_t len = strlen(path) + strlen(e->d_name) + 2;
            char *p = malloc(len);
            if (!p) break;
            snprintf(p, len, "%s/%s", path, e->d_name);
            s->files[s->n_files++] = p;
        }
        closedir(d);
        if (s->n_files == 0) {
            src_close(s);
            return pcavs_fail(PCAVS_ERR_FORMAT, "folder %s: no .jpg/.png images", path);
        }
        qsort(s->files, (size_t)s->n_files, sizeof *s->files, cmp_str);
        s->vi.fps = 25;
        return PCAVS_OK;
    }
    if (has_ext(path, image_exts)) {
        s->files = malloc(sizeof *s->files);
        if (!s->files || !(s->files[0] = strdup(path))) {
            src_close(s);
            return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
        }
        s->n_files = 1;
        s->vi.fps = 25;
        return PCAVS_OK;
    }
    pcavs_status rc = pcavs_video_open(path, &s->vr, &s->vi);
    if (rc != PCAVS_OK) return rc;
    if (!(s->vi.fps > 0)) s->vi.fps = 25;
    return PCAVS_OK;
}

/* Next frame: *rgb valid until the next call; *got = 0 at the end. */
static pcavs_status src_next(frame_src *s, const uint8_t **rgb, int *w, int *h, int *got) {
    *got = 0;
    if (s->vr) {
        PCAVS_TRY(pcavs_video_read(s->vr, rgb, got));
        *w = s->vi.width, *h = s->vi.height;
        return PCAVS_OK;
    }
    if (s->next >= s->n_files) return PCAVS_OK;
    pcavs_image_free(&s->img);
    PCAVS_TRY(pcavs_image_load(s->files[s->next++], &s->img));
    *rgb = s->img.rgb, *w = s->img.width, *h = s->img.height, *got = 1;
    return PCAVS_OK;
}

/* ---- frame sinks: %06d.png folder or video ---- */

typedef struct frame_sink {
    const char *path;
    pcavs_video_writer *vw;
    int w, h; /* video size (even) */
    long n;
} frame_sink;

static int is_video_path(const char *p) { return has_ext(p, video_exts); }

static pcavs_status sink_open(const char *path, int w, int h, double fps, const char *audio, frame_sink *k) {
    memset(k, 0, sizeof *k);
    k->path = path;
    if (is_video_path(path)) {
        k->w = w & ~1, k->h = h & ~1;
        if (k->w <= 0 || k->h <= 0) return pcavs_fail(PCAVS_ERR_SHAPE, "file %s: frame too small for video", path);
        int ifps = (int)lround(fps > 0 ? fps : 25);
        return pcavs_video_writer_open(path, k->w, k->h, ifps < 1 ? 1 : ifps, audio, &k->vw);
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return pcavs_fail(PCAVS_ERR_IO, "folder %s: cannot create: %s", path, strerror(errno));
    return PCAVS_OK;
}

static pcavs_status sink_write(frame_sink *k, const uint8_t *rgb, int w, int h) {
    if (k->vw) {
        if (w == k->w && h == k->h) {
            PCAVS_TRY(pcavs_video_writer_write(k->vw, rgb));
        } else { /* odd size: drop the last column/row */
            uint8_t *tmp = malloc((size_t)k->w * k->h * 3);
            if (!tmp) return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
            for (int y = 0; y < k->h; y++)
                memcpy(tmp + (size_t)y * k->w * 3, rgb + (size_t)y * w * 3, (size_t)k->w * 3);
            pcavs_status rc = pcavs_video_writer_write(k->vw, tmp);
            free(tmp);
            PCAVS_TRY(rc);
        }
    } else {
        char p[4096];
        snprintf(p, sizeof p, "%s/%06ld.png", k->path, k->n);
        PCAVS_TRY(pcavs_image_write_png(p, rgb, w, h));
    }
    k->n++;
    return PCAVS_OK;
}

static pcavs_status sink_close(frame_sink *k, pcavs_status rc) {
    if (!k->vw) return rc;
    if (rc != PCAVS_OK) {
        pcavs_video_writer_abort(k->vw);
        k->vw = NULL;
        return rc;
    }
    rc = pcavs_video_writer_close(k->vw);
    k->vw = NULL;
    return rc;
}

/* ---- alignment ---- */

void pcavs_align_result_free(pcavs_align_result *r) {
    if (!r) return;
    free(r->transforms);
    free(r->three);
    free(r->detected);
    free(r->landmarks);
    memset(r, 0, sizeof *r);
}

static pcavs_status grow(pcavs_align_result *r, long *cap, long n) {
    if (n < *cap) return PCAVS_OK;
    long c = *cap ? 2 * *cap : 256;
    double *t = realloc(r->three, (size_t)c * 6 * sizeof(double));
    if (t) r->three = t;
    uint8_t *d = realloc(r->detected, (size_t)c);
    if (d) r->detected = d;
    double *l = realloc(r->landmarks, (size_t)c * 2 * PCAVS_ALIGN_N_LANDMARKS * sizeof(double));
    if (l) r->landmarks = l;
    if (!t || !d || !l) return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
    *cap = c;
    return PCAVS_OK;
}

/* Linear interpolation of per-frame points ([n, m]: the three points, the 68 landmarks) of frames without a
 * face between the nearest detected frames; held constant before the first and after the last detection. */
static void interpolate(double *three, const uint8_t *det, long n, int m) {
    long prev = -1;
    for (long i = 0; i < n; i++) {
        if (!det[i]) continue;
        long lo = prev < 0 ? 0 : prev + 1;
        for (long j = lo; j < i; j++) {
            double t = prev < 0 ? 1.0 : (double)(j - prev) / (double)(i - prev);
            for (int k = 0; k < m; k++)
                three[m * j + k] = prev < 0 ? three[m * i + k] : (1 - t) * three[m * prev + k] + t * three[m * i + k];
        }
        prev = i;
    }
    for (long j = prev + 1; j < n && prev >= 0; j++) memcpy(three + m * j, three + m * prev, m * sizeof(double));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A detection whose face box is under half or over twice the median box of the clip's detections is taken
 * for a false one (dlib's HOG detector, retried on a 2x upsampled frame, can find a small "face" inside a
 * profile view: the demo pose clip 517600078, frames 10-11, 52 px boxes among 105-150 px ones) and treated as
 * a frame without a face (interpolated). Needs >= 3 detections; the median keeps at least half of them. */
static void drop_implausible(pcavs_align_result *res, const double *side, long n, long *n_dropped, long *first) {
    double *s = malloc((size_t)res->n_detected * sizeof *s);
    if (!s) return; /* nothing dropped: the detections are kept as they are */
    long k = 0;
    for (long i = 0; i < n; i++)
        if (res->detected[i]) s[k++] = side[i];
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    double med = k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
    free(s);
    for (long i = 0; i < n; i++) {
        if (!res->detected[i] || (side[i] >= 0.5 * med && side[i] <= 2.0 * med)) continue;
        res->detected[i] = 0, res->n_detected--, ++*n_dropped;
        if (*first < 0) *first = i;
    }
}

pcavs_status pcavs_align_clip(const char *input, const char *output, const pcavs_align_params *p,
                              pcavs_align_result *res) {
    if (!input || !output || !res) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: NULL input, output or result");
    memset(res, 0, sizeof *res);
    pcavs_align_params dp = {0};
    dp.smooth_prev = -1;
    if (!p) p = &dp;
    int size = p->size > 0 ? p->size : PCAVS_ALIGN_SIZE;
    FILE *log = p->log;

    pcavs_landmarker *lm = NULL;
    PCAVS_TRY(pcavs_landmarker_open(p->model, &lm));
    frame_src s;
    pcavs_status rc = src_open(input, &s);
    if (rc != PCAVS_OK) {
        pcavs_landmarker_close(lm);
        return rc;
    }
    res->fps = s.vi.fps;
    res->has_audio = s.vr ? s.vi.has_audio : 0;

    /* pass 1: landmarks */
    long cap = 0, n = 0, first_lost, first_multi = -1, side_cap = 0;
    double *side = NULL; /* [n] side of each detected face box (sqrt of its area) */
    for (;;) {
        if (p->max_frames > 0 && n >= p->max_frames) break;
        const uint8_t *rgb;
        int w, h, got;
        if ((rc = src_next(&s, &rgb, &w, &h, &got)) != PCAVS_OK || !got) break;
        if (n == 0) res->src_width = w, res->src_height = h;
        if ((rc = grow(res, &cap, n)) != PCAVS_OK) break;
        if (n >= side_cap) {
            double *t = realloc(side, (size_t)cap * sizeof *side);
            if (!t) {
                rc = pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
                break;
            }
            side = t, side_cap = cap;
        }
        double pts[2 * PCAVS_ALIGN_N_LANDMARKS], box[4];
        int nf = 0;
        if ((rc = pcavs_landmarker_detect(lm, rgb, w, h, &nf, pts, box)) != PCAVS_OK) break;
        res->detected[n] = nf > 0;
        side[n] = nf > 0 ? sqrt(fmax(0, (box[2] - box[0]) * (box[3] - box[1]))) : 0;
        if (nf > 0) {
            pcavs_align_three_points(pts, res->three + 6 * n);
            memcpy(res->landmarks + (size_t)n * 2 * PCAVS_ALIGN_N_LANDMARKS, pts, sizeof pts);
            res->n_detected++;
        }
        if (nf > 1) {
            res->n_multi++;
            if (first_multi < 0) first_multi = n;
        }
        n++;
    }
    src_close(&s);
    pcavs_landmarker_close(lm);
    res->n_frames = n;
    long n_dropped = 0, first_dropped = -1;
    if (rc == PCAVS_OK && res->n_detected >= 3) drop_implausible(res, side, n, &n_dropped, &first_dropped);
    free(side);
    if (rc != PCAVS_OK) goto fail;
    if (n == 0) {
        rc = pcavs_fail(PCAVS_ERR_FORMAT, "file %s: no frames", input);
        goto fail;
    }
    if (res->n_detected == 0) {
        rc = pcavs_fail(PCAVS_ERR_FORMAT, "file %s: no face found in any of its %ld frame(s)", input, n);
        goto fail;
    }
    if (res->n_multi && log)
        fprintf(log,
                "pcavs-align: %s: several faces in %ld of %ld frames (first: frame %ld); the largest face was used\n",
                input, res->n_multi, n, first_multi);
    if (n_dropped && log)
        fprintf(log,
                "pcavs-align: %s: %ld implausible detection(s) dropped (face box under half or over twice the clip's "
                "median size; first: frame %ld)\n",
                input, n_dropped, first_dropped);
    res->n_interpolated = n - res->n_detected;
    first_lost = 0; /* the first frame without a (kept) face */
    while (first_lost < n && res->detected[first_lost]) first_lost++;
    if (res->n_interpolated && log)
        fprintf(log,
                "pcavs-align: %s: no face in %ld of %ld frames (first: frame %ld); their landmarks were "
                "interpolated from the neighbouring frames\n",
                input, res->n_interpolated, n, first_lost);
    interpolate(res->three, res->detected, n, 6);
    interpolate(res->landmarks, res->detected, n, 2 * PCAVS_ALIGN_N_LANDMARKS);

    res->transforms = malloc((size_t)n * 6 * sizeof(double));
    if (!res->transforms) {
        rc = pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
        goto fail;
    }
    if ((rc = pcavs_align_transforms(res->three, res->detected, n, p->smooth_prev, res->m_clip, res->transforms)) !=
        PCAVS_OK)
        goto fail;

    /* pass 2: warp */
    if ((rc = src_open(input, &s)) != PCAVS_OK) goto fail;
    frame_sink k;
    uint8_t *out = malloc((size_t)size * size * 3);
    rc = out ? sink_open(output, size, size, res->fps, res->has_audio ? input : NULL, &k)
             : pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
    if (rc != PCAVS_OK) {
        free(out);
        src_close(&s);
        goto fail;
    }
    for (long i = 0; i < n; i++) {
        const uint8_t *rgb;
        int w, h, got;
        if ((rc = src_next(&s, &rgb, &w, &h, &got)) != PCAVS_OK) break;
        if (!got) {
            rc = pcavs_fail(PCAVS_ERR_FORMAT, "file %s: frame %ld vanished between the two passes", input, i);
            break;
        }
        if ((rc = pcavs_warp_affine_u8(rgb, w, h, (size_t)w * 3, 3, res->transforms + 6 * i, out, size, size, 0)) !=
            PCAVS_OK)
            break;
        if ((rc = sink_write(&k, out, size, size)) != PCAVS_OK) break;
    }
    rc = sink_close(&k, rc);
    free(out);
    src_close(&s);
    if (rc != PCAVS_OK) goto fail;
    if (log)
        fprintf(log, "pcavs-align: %s -> %s: %ld frames aligned (%ld with a detected face)\n", input, output, n,
                res->n_detected);
    return PCAVS_OK;
fail:
    pcavs_align_result_free(res);
    return rc;
}

/* The original frames behind a paste-back. Sequential (pose_period 0): frame i, the last one held past the
 * end. Ping-pong (pose_period P > 0): the first P frames are decoded once into an unnamed temporary file
 * (raw RGB; tmpfile(), gone at close or exit), then frame pcavs_pose_loop_index(j + 2, P) is read back for
 * generated frame j: a video cannot be read backwards, and P full-resolution frames need not fit in memory. */
typedef struct orig_frames {
    frame_src src;
    const char *path;
    long n, period, next; /* frames aligned; P (0 = sequential); next sequential index */
    int w, h;
    FILE *cache;    /* ping-pong: the first P frames, raw */
    uint8_t *first; /* sequential: frame 0, read at open to learn the size */
} orig_frames;

static pcavs_status orig_read_next(orig_frames *of, uint8_t *dst) {
    const uint8_t *o;
    int ow, oh, got;
    PCAVS_TRY(src_next(&of->src, &o, &ow, &oh, &got));
    if (!got) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: fewer frames than when it was aligned", of->path);
    if (of->w == 0) of->w = ow, of->h = oh;
    if (ow != of->w || oh != of->h)
        return pcavs_fail(PCAVS_ERR_SHAPE, "file %s: frame %ld changes size", of->path, of->next);
    if (dst) memcpy(dst, o, (size_t)ow * oh * 3);
    of->next++;
    return PCAVS_OK;
}

/* Opens the source; in ping-pong mode fills the cache. On success of->w, of->h are known. */
static pcavs_status orig_open(orig_frames *of, const char *path, long n, long period, FILE *log) {
    memset(of, 0, sizeof *of);
    of->path = path, of->n = n, of->period = period;
    PCAVS_TRY(src_open(path, &of->src));
    if (period <= 0) {
        const uint8_t *o;
        int got;
        PCAVS_TRY(src_next(&of->src, &o, &of->w, &of->h, &got));
        if (!got) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: no frames", path);
        of->first = malloc((size_t)of->w * of->h * 3);
        if (!of->first) return pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
        memcpy(of->first, o, (size_t)of->w * of->h * 3);
        of->next = 1;
        return PCAVS_OK;
    }
    if (period > n)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: paste_clip: %ld pose frames drove the clip, %s aligned %ld",
                          period, path, n);
    of->cache = tmpfile();
    if (!of->cache)
        return pcavs_fail(PCAVS_ERR_IO, "align: paste_clip: cannot create a temporary file: %s", strerror(errno));
    for (long i = 0; i < period; i++) {
        const uint8_t *o;
        int ow, oh, got;
        PCAVS_TRY(src_next(&of->src, &o, &ow, &oh, &got));
        if (!got) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: fewer frames than when it was aligned", path);
        if (i == 0) of->w = ow, of->h = oh;
        if (ow != of->w || oh != of->h) return pcavs_fail(PCAVS_ERR_SHAPE, "file %s: frame %ld changes size", path, i);
        if (fwrite(o, 1, (size_t)ow * oh * 3, of->cache) != (size_t)ow * oh * 3)
            return pcavs_fail(PCAVS_ERR_IO, "align: paste_clip: temporary file: %s", strerror(errno));
    }
    if (log)
        fprintf(log, "pcavs-align: %ld original frames cached (%.0f MB of temporary disk) for the ping-pong replay\n",
                period, (double)period * of->w * of->h * 3 / 1e6);
    return PCAVS_OK;
}

/* Original frame for generated frame j into dst [h, w, 3]; *oi receives its index. */
static pcavs_status orig_get(orig_frames *of, long j, uint8_t *dst, long *oi) {
    if (of->period > 0) {
        *oi = (long)pcavs_pose_loop_index((size_t)j + 2, (size_t)of->period);
        const size_t bytes = (size_t)of->w * of->h * 3;
        if (fseeko(of->cache, (off_t)*oi * (off_t)bytes, SEEK_SET) != 0 || fread(dst, 1, bytes, of->cache) != bytes)
            return pcavs_fail(PCAVS_ERR_IO, "align: paste_clip: reading the temporary frame cache failed");
        return PCAVS_OK;
    }
    *oi = j < of->n ? j : of->n - 1;
    if (j == 0)
        memcpy(dst, of->first, (size_t)of->w * of->h * 3);
    else if (j < of->n)
        return orig_read_next(of, dst);
    return PCAVS_OK; /* past the end: dst still holds the last frame */
}

static void orig_close(orig_frames *of) {
    if (of->cache) fclose(of->cache);
    free(of->first);
    src_close(&of->src);
}

/* The paste-back loop. pp NULL: the feathered square (pcavs_align_paste with upstream_crop, feather); else
 * pcavs_paste_frame with pp and the landmarks smoothed over time (lm: [n_frames, 68, 2], NULL for FULL). */
static pcavs_status paste_clip(const char *original, const pcavs_align_result *res, const char *generated,
                               int upstream_crop, double feather, const pcavs_paste_params *pp, const double *lm,
                               long pose_period, const char *audio, const char *output, FILE *log) {
    orig_frames of;
    pcavs_status rc = orig_open(&of, original, res->n_frames, pose_period, log);
    if (rc != PCAVS_OK) {
        orig_close(&of);
        return rc;
    }
    frame_src sg;
    rc = src_open(generated, &sg);
    if (rc != PCAVS_OK) {
        orig_close(&of);
        return rc;
    }
    frame_sink k;
    int sink_open_ok = 0;
    uint8_t *frame = NULL; /* [2][fh, fw, 3]: the frame being pasted into, then the clean original */
    int fw = 0, fh = 0;
    long i = 0;
    for (;; i++) {
        const uint8_t *g;
        int gw, gh, got;
        if ((rc = src_next(&sg, &g, &gw, &gh, &got)) != PCAVS_OK || !got) break;
        if (gw != gh) {
            rc = pcavs_fail(PCAVS_ERR_SHAPE, "file %s: generated frame %ld is %dx%d, not square", generated, i, gw, gh);
            break;
        }
        if (!frame) {
            fw = of.w, fh = of.h;
            frame = malloc((size_t)fw * fh * 3 * 2);
            if (!frame) {
                rc = pcavs_fail(PCAVS_ERR_OOM, "align: out of memory");
                break;
            }
            /* the generated video's rate (pcavs-infer: 25 fps, its audio synced to it; one pose frame per
             * generated frame whatever the source's rate); a folder of generated frames: the source's */
            double fps = sg.vr ? sg.vi.fps : res->fps;
            if ((rc = sink_open(output, fw, fh, fps, audio, &k)) != PCAVS_OK) break;
            sink_open_ok = 1;
        }
        uint8_t *clean = frame + (size_t)fw * fh * 3;
        long oi;
        if ((rc = orig_get(&of, i, clean, &oi)) != PCAVS_OK) break;
        memcpy(frame, clean, (size_t)fw * fh * 3);
        if (pp) {
            const double *l = lm ? lm + (size_t)oi * 2 * PCAVS_ALIGN_N_LANDMARKS : NULL;
            if ((rc = pcavs_paste_frame(frame, fw, fh, g, gw, res->transforms + 6 * oi, l, pp)) != PCAVS_OK) break;
        } else {
            double f2f[6];
            if ((rc = pcavs_align_face_to_frame(res->transforms + 6 * oi, gw, upstream_crop, f2f)) != PCAVS_OK) break;
            if ((rc = pcavs_align_paste(frame, fw, fh, g, gw, f2f, feather)) != PCAVS_OK) break;
        }
        if ((rc = sink_write(&k, frame, fw, fh)) != PCAVS_OK) break;
    }
    if (rc == PCAVS_OK && i == 0) rc = pcavs_fail(PCAVS_ERR_FORMAT, "file %s: no generated frames", generated);
    if (sink_open_ok) rc = sink_close(&k, rc);
    free(frame);
    orig_close(&of);
    src_close(&sg);
    if (rc == PCAVS_OK && log) {
        fprintf(log, "pcavs-align: pasted %ld generated frames back into %s (%dx%d) -> %s\n", i, original, fw, fh,
                output);
        if (pose_period == 0 && i > res->n_frames)
            fprintf(log, "pcavs-align: %ld generated frames past the %ld original ones were pasted onto the last\n",
                    i - res->n_frames, res->n_frames);
    }
    return rc;
}

static pcavs_status check_clip_args(const char *original, const pcavs_align_result *res, const char *generated,
                                    long pose_period, const char *output) {
    if (!original || !res || !res->transforms || res->n_frames <= 0 || !generated || !output)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: paste_clip: missing original, transforms or generated frames");
    if (pose_period < 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: paste_clip: pose_period must be >= 0 (got %ld)", pose_period);
    return PCAVS_OK;
}

pcavs_status pcavs_align_paste_clip(const char *original, const pcavs_align_result *res, const char *generated,
                                    int upstream_crop, double feather, long pose_period, const char *audio,
                                    const char *output, FILE *log) {
    PCAVS_TRY(check_clip_args(original, res, generated, pose_period, output));
    return paste_clip(original, res, generated, upstream_crop, feather, NULL, NULL, pose_period, audio, output, log);
}

pcavs_status pcavs_align_paste_clip_masked(const char *original, const pcavs_align_result *res, const char *generated,
                                           const pcavs_paste_params *p, long pose_period, const char *audio,
                                           const char *output, FILE *log) {
    PCAVS_TRY(check_clip_args(original, res, generated, pose_period, output));
    pcavs_paste_params dp;
    if (!p) pcavs_paste_params_init(&dp), p = &dp;
    PCAVS_TRY(pcavs_paste_params_check(p));
    double *lm = NULL;
    if (p->mask != PCAVS_PASTE_MASK_FULL) {
        if (!res->landmarks)
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "align: paste_clip: the %s mask needs the result's landmarks",
                              p->mask == PCAVS_PASTE_MASK_MOUTH ? "mouth" : "face");
        lm = malloc((size_t)res->n_frames * 2 * PCAVS_ALIGN_N_LANDMARKS * sizeof *lm);
        if (!lm) return pcavs_fail(PCAVS_ERR_OOM, "align: paste_clip: out of memory");
        pcavs_status rc = pcavs_paste_smooth_landmarks(res->landmarks, res->n_frames, p->smooth_frames, lm);
        if (rc != PCAVS_OK) {
            free(lm);
            return rc;
        }
    }
    pcavs_status rc = paste_clip(original, res, generated, p->upstream_crop, 0, p, lm, pose_period, audio, output, log);
    free(lm);
    return rc;
}
