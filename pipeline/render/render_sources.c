/* render_sources.c: the inputs of one clip for render.c: the identity source (an image, a folder of
 * images in name order or a video, each frame cropped the upstream way) and the pose source (a %06d.jpg
 * folder or a video) whose per-frame pose embeddings are computed once, in batches, as the ping-pong
 * order first needs them. */
#define _GNU_SOURCE
#include "render_sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcavs_image.h"
#include "status.h"

#define IMG PCAVS_IMG
#define RGB_BYTES ((size_t)IMG * IMG * 3) /* one 224x224 RGB frame */
#define CHW ((size_t)3 * IMG * IMG)       /* one [3, 224, 224] tensor */

int render_is_dir(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int render_is_file(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

pcavs_status render_check_input(const char *path, const char *what) {
    struct stat st;
    if (stat(path, &st) != 0) return pcavs_fail(PCAVS_ERR_IO, "%s %s: cannot open: %s", what, path, strerror(errno));
    if (!S_ISDIR(st.st_mode) && access(path, R_OK) != 0)
        return pcavs_fail(PCAVS_ERR_IO, "%s %s: not readable: %s", what, path, strerror(errno));
    return PCAVS_OK;
}

/* Loads one image file and applies upstream's crop + resize (refusing non-224x224 frames). */
pcavs_status render_load_crop(const char *path, const char *what, uint8_t *rgb /* [224, 224, 3] */) {
    pcavs_image img = {0};
    pcavs_status st = pcavs_image_load(path, &img);
    if (st == PCAVS_OK) st = pcavs_image_crop_resize(&img, path, rgb);
    pcavs_image_free(&img);
    return st == PCAVS_OK ? st : pcavs_fail_context(st, what);
}

void render_face_close(face_src *f) {
    pcavs_frame_source_close(&f->src);
    memset(f, 0, sizeof *f);
}

pcavs_status render_face_open(face_src *f, const char *path, int limit) {
    memset(f, 0, sizeof *f);
    f->path = path;
    f->limit = limit;
    return pcavs_frame_source_open(&f->src, path, "face");
}

/* The next identity image (cropped), *got = 0 at the end. */
pcavs_status render_face_next(face_src *f, uint8_t *rgb, int *got) {
    *got = 0;
    if (f->limit > 0 && f->n_read >= f->limit) return PCAVS_OK;
    const int video = f->src.kind == PCAVS_FRAMES_VIDEO;
    const uint8_t *frame = NULL;
    int w = 0, h = 0, g = 0;
    pcavs_status st = pcavs_frame_source_next(&f->src, &frame, &w, &h, &g);
    if (st == PCAVS_OK && !g) {
        if (video && f->n_read == 0) return pcavs_fail(PCAVS_ERR_FORMAT, "face video %s: no frame decoded", f->path);
        return PCAVS_OK;
    }
    if (st == PCAVS_OK) {
        pcavs_image img = {w, h, (uint8_t *)frame}; /* refused unless 224x224 */
        st = pcavs_image_crop_resize(&img, f->src.name, rgb);
    }
    if (st != PCAVS_OK) /* a video's frames are named "<video> frame <i>"; image files get the "face" context */
        return video ? st : pcavs_fail_context(st, "face");
    f->n_read++;
    *got = 1;
    return PCAVS_OK;
}

void render_pose_close(pose_src *s) {
    free(s->h);
    free(s->have);
    free(s->rgb);
    pcavs_video_close(s->vr);
    memset(s, 0, sizeof *s);
}

pcavs_status render_pose_open(pose_src *s, const char *path, long want, int keep_rgb) {
    memset(s, 0, sizeof *s);
    if (!path) return PCAVS_OK;
    s->path = path;
    PCAVS_TRY(render_check_input(path, "pose source"));
    size_t avail = 0;
    if (render_is_dir(path)) {
        s->kind = 1;
        PCAVS_TRY(pcavs_frames_count(path, &avail));
        if (avail == 0) return pcavs_fail(PCAVS_ERR_IO, "pose folder %s: no frame 000000.jpg/.png in it", path);
    } else {
        s->kind = 2;
        PCAVS_TRY(pcavs_video_open(path, &s->vr, &s->vi));
        if (s->vi.n_frames <= 0) return pcavs_fail(PCAVS_ERR_FORMAT, "pose video %s: frame count unknown", path);
        avail = (size_t)s->vi.n_frames;
        s->keep_rgb = keep_rgb;
    }
    if (want > 0 && (size_t)want > avail)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pose source %s: has %zu frames, %ld were asked for", path, avail,
                          want);
    s->P = want > 0 ? (size_t)want : avail;
    s->h = malloc(s->P * PCAVS_POSE_DIM * sizeof(float));
    s->have = calloc(s->P, 1);
    if (s->keep_rgb) s->rgb = malloc(s->P * RGB_BYTES);
    if (!s->h || !s->have || (s->keep_rgb && !s->rgb))
        return pcavs_fail(PCAVS_ERR_OOM, "pose source %s: out of memory for %zu frames", path, s->P);
    return PCAVS_OK;
}

/* Runs E on the n tensors in `frames` and stores h for pose indices idx[0..n). */
static pcavs_status pose_flush(pose_src *s, pcavs_model *m, int n, const float *frames, const size_t *idx, float *h) {
    if (n == 0) return PCAVS_OK;
    PCAVS_TRY(pcavs_encode_pose(m, n, frames, h));
    for (int i = 0; i < n; i++) {
        memcpy(s->h + idx[i] * PCAVS_POSE_DIM, h + (size_t)i * PCAVS_POSE_DIM, PCAVS_POSE_DIM * sizeof(float));
        s->have[idx[i]] = 1;
    }
    return PCAVS_OK;
}

/* Makes sure h is known for the pose indices need[0..b); work buffers hold batch frames. */
pcavs_status render_pose_ensure(pose_src *s, pcavs_model *m, int batch, const size_t *need, int b, float *frames,
                                size_t *idx, float *hbuf, uint8_t *rgb) {
    int n = 0;
    if (s->kind == 1) {
        for (int i = 0; i < b; i++) {
            size_t k = need[i];
            if (s->have[k]) continue;
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= idx[j] == k;
            if (dup) continue;
            char buf[4096];
            pcavs_frames_path(s->path, k, buf, sizeof buf);
            PCAVS_TRY(render_load_crop(buf, "pose frame", rgb));
            pcavs_image_to_tensor(rgb, IMG, IMG, frames + (size_t)n * CHW);
            idx[n++] = k;
            if (n == batch) {
                PCAVS_TRY(pose_flush(s, m, n, frames, idx, hbuf));
                n = 0;
            }
        }
        return pose_flush(s, m, n, frames, idx, hbuf);
    }
    /* video: decode front to back up to the largest index not yet known */
    size_t top = 0;
    int any = 0;
    for (int i = 0; i < b; i++)
        if (!s->have[need[i]]) {
            any = 1;
            if (need[i] > top) top = need[i];
        }
    if (!any) return PCAVS_OK;
    while (s->next_decode <= top) {
        const uint8_t *frame;
        int got = 0;
        PCAVS_TRY(pcavs_video_read(s->vr, &frame, &got));
        if (!got)
            return pcavs_fail(PCAVS_ERR_FORMAT, "pose video %s: ended after %zu frames, %zu announced", s->path,
                              s->next_decode, s->P);
        char what[4200];
        snprintf(what, sizeof what, "pose video %s frame %zu", s->path, s->next_decode);
        pcavs_image img = {s->vi.width, s->vi.height, (uint8_t *)frame}; /* refused unless 224x224 */
        PCAVS_TRY(pcavs_image_crop_resize(&img, what, rgb));
        if (s->keep_rgb) memcpy(s->rgb + s->next_decode * RGB_BYTES, rgb, RGB_BYTES);
        pcavs_image_to_tensor(rgb, IMG, IMG, frames + (size_t)n * CHW);
        idx[n++] = s->next_decode++;
        if (n == batch) {
            PCAVS_TRY(pose_flush(s, m, n, frames, idx, hbuf));
            n = 0;
        }
    }
    PCAVS_TRY(pose_flush(s, m, n, frames, idx, hbuf));
    if (s->next_decode == s->P) { /* everything is cached: let ffmpeg go */
        pcavs_video_close(s->vr);
        s->vr = NULL;
    }
    return PCAVS_OK;
}

/* The cropped pose frame k for the side-by-side panel. */
pcavs_status render_pose_rgb(pose_src *s, size_t k, uint8_t *rgb) {
    if (s->kind == 2) {
        memcpy(rgb, s->rgb + k * RGB_BYTES, RGB_BYTES);
        return PCAVS_OK;
    }
    char buf[4096];
    pcavs_frames_path(s->path, k, buf, sizeof buf);
    return render_load_crop(buf, "pose frame", rgb);
}
