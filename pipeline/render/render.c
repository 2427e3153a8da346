/* render.c: one clip from files to MP4 (upstream inference.py `inference_single_audio` over
 * data/voxtest_dataset.py `VOXTestDataset`): identity averaged over its images, spectrogram windows,
 * ping-pong pose embeddings computed once per pose frame (util.calc_loop_idx), batches through
 * A_sync / E / G, frames streamed into ffmpeg: the clip loop. Its inputs are render_sources.c, the
 * side-by-side rows render_compose.c, the metadata CSV render_csv.c. See pcavs_render.h for the timing and
 * memory notes. */
#define _GNU_SOURCE
#include "pcavs_render.h"
#include "render_compose.h"
#include "render_sources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pcavs_audio.h"
#include "pcavs_image.h"
#include "pcavs_video.h"
#include "status.h"

#define IMG PCAVS_IMG
#define RGB_BYTES ((size_t)IMG * IMG * 3) /* one 224x224 RGB frame */
#define CHW ((size_t)3 * IMG * IMG)       /* one [3, 224, 224] tensor */
#define MAP_N ((size_t)512 * 7 * 7)       /* id_map */
#define WIN_N ((size_t)PCAVS_AUDIO_NMELS * PCAVS_AUDIO_WIN_T)

void pcavs_render_params_init(pcavs_render_params *p) {
    memset(p, 0, sizeof *p);
    p->output_pose = PCAVS_OUTPUT_DRIVING;
    p->batch = 4;
    p->noise = PCAVS_NOISE_RANDOM;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- the clip */

typedef struct clip {
    face_src face;
    pose_src pose;
    float *mel; /* [M, 80] */
    size_t M;
    pcavs_video_writer *w_main, *w_ref, *w_sbs;
    float *buf; /* one allocation for every work buffer */
} clip;

static void clip_abort(clip *c) {
    pcavs_video_writer_abort(c->w_main);
    pcavs_video_writer_abort(c->w_ref);
    pcavs_video_writer_abort(c->w_sbs);
    c->w_main = c->w_ref = c->w_sbs = NULL;
    render_face_close(&c->face);
    render_pose_close(&c->pose);
    free(c->mel);
    free(c->buf);
}

/* Averages V (and, when ref_pose is not NULL, E) over every identity image, B at a time: the same
 * numbers as pcavs_encode_identity on all images at once (double sums, divided once). */
static pcavs_status encode_identity(clip *c, pcavs_model *m, int batch, float *id_feature, float *id_map,
                                    float *ref_pose, uint8_t *first_rgb, int *n_faces, float *images, uint8_t *rgb) {
    double *acc = calloc(PCAVS_ID_DIM + MAP_N + PCAVS_POSE_DIM, sizeof(double));
    float *feat = malloc((size_t)batch * (PCAVS_ID_DIM + MAP_N + PCAVS_POSE_DIM) * sizeof(float));
    if (!acc || !feat) {
        free(acc), free(feat);
        return pcavs_fail(PCAVS_ERR_OOM, "face %s: out of memory", c->face.path);
    }
    float *maps = feat + (size_t)batch * PCAVS_ID_DIM, *fan = maps + (size_t)batch * MAP_N;
    pcavs_status st = PCAVS_OK;
    int total = 0;
    for (int done = 0; !done && st == PCAVS_OK;) {
        int n = 0;
        while (n < batch) {
            int got = 0;
            st = render_face_next(&c->face, rgb, &got);
            if (st != PCAVS_OK || !got) {
                done = 1;
                break;
            }
            if (total + n == 0) memcpy(first_rgb, rgb, RGB_BYTES);
            pcavs_image_to_tensor(rgb, IMG, IMG, images + (size_t)n * CHW);
            n++;
        }
        if (st != PCAVS_OK || n == 0) break;
        st = pcavs_v_forward(m, n, images, feat, maps);
        if (st == PCAVS_OK && ref_pose) st = pcavs_e_forward(m, n, images, fan, NULL);
        for (int i = 0; st == PCAVS_OK && i < n; i++) {
            for (size_t j = 0; j < PCAVS_ID_DIM; j++) acc[j] += feat[(size_t)i * PCAVS_ID_DIM + j];
            for (size_t j = 0; j < MAP_N; j++) acc[PCAVS_ID_DIM + j] += maps[(size_t)i * MAP_N + j];
            if (ref_pose)
                for (size_t j = 0; j < PCAVS_POSE_DIM; j++)
                    acc[PCAVS_ID_DIM + MAP_N + j] += fan[(size_t)i * PCAVS_POSE_DIM + j];
        }
        total += n;
    }
    if (st == PCAVS_OK && total == 0) st = pcavs_fail(PCAVS_ERR_FORMAT, "face %s: no identity image", c->face.path);
    if (st == PCAVS_OK) {
        for (size_t j = 0; j < PCAVS_ID_DIM; j++) id_feature[j] = (float)(acc[j] / total);
        for (size_t j = 0; j < MAP_N; j++) id_map[j] = (float)(acc[PCAVS_ID_DIM + j] / total);
        if (ref_pose) {
            float mean[PCAVS_POSE_DIM];
            for (size_t j = 0; j < PCAVS_POSE_DIM; j++) mean[j] = (float)(acc[PCAVS_ID_DIM + MAP_N + j] / total);
            st = pcavs_headpose_from_feature(m, 1, mean, ref_pose);
        }
    }
    *n_faces = total;
    free(acc), free(feat);
    return st;
}

static pcavs_status write_png(const char *dir, const char *prefix, long j, const uint8_t *rgb) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s%06ld.png", dir, prefix, j);
    return pcavs_image_write_png(path, rgb, IMG, IMG);
}

/* PCAVS_ERR_CANCELLED once the caller's cancel flag is set (read atomically: another thread writes it). */
static pcavs_status check_cancel(const pcavs_render_params *p) {
    if (p->cancel && __atomic_load_n((const int *)p->cancel, __ATOMIC_ACQUIRE))
        return pcavs_fail(PCAVS_ERR_CANCELLED, "render: cancelled");
    return PCAVS_OK;
}

pcavs_status pcavs_render_clip(pcavs_model *m, const pcavs_render_params *p, pcavs_progress_fn progress, void *user,
                               pcavs_render_result *res) {
    double t0 = now_s();
    if (!m || !p) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_render_clip: NULL argument");
    if (!p->face) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "render: no face (identity) input given");
    if (!p->audio && !p->mel) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "render: no audio or spectrogram given");
    if (!p->output && !p->side_by_side && !p->frames_dir && !p->output_ref)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "render: no output given");
    if (p->batch < 1 || p->batch > 256)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "render: batch must be 1..256, got %d", p->batch);
    if (p->output_pose == PCAVS_OUTPUT_BOTH && !p->output_ref && !p->frames_dir)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "render: both poses asked for but no output for the reference one");
    int want_video = p->output || p->output_ref || p->side_by_side;
    if (want_video && !pcavs_video_ffmpeg_available())
        return pcavs_fail(
            PCAVS_ERR_UNSUPPORTED,
            "ffmpeg/ffprobe are not installed (needed to write %s): install them (apt-get install ffmpeg)",
            p->output       ? p->output
            : p->output_ref ? p->output_ref
                            : p->side_by_side);
    if (res) memset(res, 0, sizeof *res);

    clip c;
    memset(&c, 0, sizeof c);
    const int B = p->batch;
    pcavs_status st;

    /* ---- spectrogram: frames k = 2 .. M/4-3 ---- */
    if (p->audio && (st = render_check_input(p->audio, "audio")) != PCAVS_OK) return st;
    if (p->mel) {
        st = render_check_input(p->mel, "spectrogram");
        if (st == PCAVS_OK) st = pcavs_audio_load_npy(p->mel, &c.mel, &c.M);
    } else {
        st = pcavs_audio_spectrogram_file(p->audio, &c.mel, &c.M);
    }
    if (st != PCAVS_OK) return st;
    long total = (long)pcavs_audio_num_output_frames(c.M);
    /* 5 video frames (20 spectrogram rows, one audio window) plus the 7 rows lws adds: below that the
     * clip is shorter than one window (at most one frame, made of padding) */
    if (c.M < (size_t)PCAVS_AUDIO_WIN_T + 7 || total < 1) {
        free(c.mel);
        return pcavs_fail(PCAVS_ERR_INVALID_ARG,
                          "%s %s: too short: %.2f s (%zu spectrogram rows); the audio must last at least 5 video "
                          "frames (0.2 s, one audio window)",
                          p->mel ? "spectrogram" : "audio", p->mel ? p->mel : p->audio,
                          c.M > 7 ? (c.M - 7) / 100.0 : 0.0, c.M);
    }
    if (p->max_frames > 0 && p->max_frames < total) total = p->max_frames;

    /* what to compute: the driving-pose pass only with a pose source; the reference pose only if asked
     * for (or as the stand-in pose when there is no pose source) */
    const int gen_drv = p->pose && p->output_pose != PCAVS_OUTPUT_REFERENCE;
    const int gen_ref = !gen_drv || p->output_pose == PCAVS_OUTPUT_BOTH;
    int panels =
        2 + (gen_drv && gen_ref && p->output_pose == PCAVS_OUTPUT_BOTH) + (gen_drv ? 1 : 0) + (p->mouth ? 1 : 0);

    /* ---- inputs opened and checked before any output is created ---- */
    if ((st = render_face_open(&c.face, p->face, p->max_faces)) != PCAVS_OK) goto fail;
    if ((st = render_pose_open(&c.pose, gen_drv ? p->pose : NULL, p->pose_frames, p->side_by_side != NULL)) != PCAVS_OK)
        goto fail;
    if (p->pose && !gen_drv && (st = render_check_input(p->pose, "pose source")) != PCAVS_OK) goto fail;
    if (p->mouth && !render_is_dir(p->mouth)) {
        st = pcavs_fail(PCAVS_ERR_IO, "mouth frames %s: not a directory", p->mouth);
        goto fail;
    }

    /* ---- work buffers ---- */
    size_t n_float = (size_t)B * CHW * 2 /* frames, frames_ref */ + (size_t)B * CHW /* input tensors */ +
                     (size_t)B * WIN_N + (size_t)B * PCAVS_POSE_DIM * 3 + PCAVS_ID_DIM + MAP_N + PCAVS_POSE_DIM;
    size_t n_bytes = n_float * sizeof(float) + RGB_BYTES * (3 + (size_t)panels) + (size_t)B * sizeof(size_t) * 2;
    c.buf = malloc(n_bytes);
    if (!c.buf) {
        st = pcavs_fail(PCAVS_ERR_OOM, "render: cannot allocate %.1f MB of work buffers", n_bytes / 1e6);
        goto fail;
    }
    float *frames = c.buf, *frames_ref = frames + (size_t)B * CHW, *inputs = frames_ref + (size_t)B * CHW;
    float *mel_win = inputs + (size_t)B * CHW, *a = mel_win + (size_t)B * WIN_N;
    float *hb = a + (size_t)B * PCAVS_POSE_DIM, *hwork = hb + (size_t)B * PCAVS_POSE_DIM;
    float *id_feature = hwork + (size_t)B * PCAVS_POSE_DIM, *id_map = id_feature + PCAVS_ID_DIM;
    float *ref_pose = id_map + MAP_N;
    uint8_t *rgb = (uint8_t *)(ref_pose + PCAVS_POSE_DIM), *rgb2 = rgb + RGB_BYTES, *id_rgb = rgb2 + RGB_BYTES;
    uint8_t *row = id_rgb + RGB_BYTES;
    size_t *need = (size_t *)(row + RGB_BYTES * (size_t)panels), *idx = need + B;

    /* ---- outputs (temporary files; renamed at the end) ---- */
    double skip = p->upstream_timing ? 0.0 : PCAVS_RENDER_SYNC_SKIP_S;
    const char *mux = p->audio; /* with only a spectrogram there is no audio to mux */
    if (p->frames_dir && mkdir(p->frames_dir, 0755) != 0 && errno != EEXIST) {
        st = pcavs_fail(PCAVS_ERR_IO, "frames folder %s: cannot create: %s", p->frames_dir, strerror(errno));
        goto fail;
    }
    if (p->frames_dir && (!render_is_dir(p->frames_dir) || access(p->frames_dir, W_OK) != 0)) {
        st = pcavs_fail(PCAVS_ERR_IO, "frames folder %s: not a writable directory", p->frames_dir);
        goto fail;
    }
    if (p->output &&
        (st = pcavs_video_writer_open_skip(p->output, IMG, IMG, PCAVS_RENDER_FPS, mux, skip, &c.w_main)) != PCAVS_OK)
        goto fail;
    if (p->output_ref && p->output_pose == PCAVS_OUTPUT_BOTH &&
        (st = pcavs_video_writer_open_skip(p->output_ref, IMG, IMG, PCAVS_RENDER_FPS, mux, skip, &c.w_ref)) != PCAVS_OK)
        goto fail;
    if (p->side_by_side && (st = pcavs_video_writer_open_skip(p->side_by_side, IMG * panels, IMG, PCAVS_RENDER_FPS, mux,
                                                              skip, &c.w_sbs)) != PCAVS_OK)
        goto fail;

    /* ---- identity ---- */
    int n_faces = 0;
    if ((st = check_cancel(p)) != PCAVS_OK) goto fail;
    if ((st = encode_identity(&c, m, B, id_feature, id_map, gen_ref ? ref_pose : NULL, id_rgb, &n_faces, inputs,
                              rgb)) != PCAVS_OK)
        goto fail;
    double t_load = now_s() - t0;
    if (progress) progress(user, 0, total);

    /* ---- frames ---- */
    pcavs_noise_params noise = {.mode = p->noise, .seed = p->seed};
    for (long j0 = 0; j0 < total; j0 += B) {
        int b = (int)(total - j0 < B ? total - j0 : B);
        if ((st = check_cancel(p)) != PCAVS_OK) goto fail;
        for (int i = 0; i < b; i++) {
            size_t k = (size_t)(j0 + i + 2);
            if ((st = pcavs_audio_window(c.mel, c.M, k, mel_win + (size_t)i * WIN_N)) != PCAVS_OK) goto fail;
        }
        if ((st = pcavs_encode_audio(m, b, mel_win, a)) != PCAVS_OK) goto fail;
        noise.first_frame = j0;
        if (gen_drv) {
            for (int i = 0; i < b; i++) need[i] = pcavs_pose_loop_index((size_t)(j0 + i + 2), c.pose.P);
            if ((st = render_pose_ensure(&c.pose, m, B, need, b, inputs, idx, hwork, rgb)) != PCAVS_OK) goto fail;
            for (int i = 0; i < b; i++)
                memcpy(hb + (size_t)i * PCAVS_POSE_DIM, c.pose.h + need[i] * PCAVS_POSE_DIM,
                       PCAVS_POSE_DIM * sizeof(float));
            if ((st = pcavs_generate(m, b, id_feature, id_map, b, hb, a, &noise, frames)) != PCAVS_OK) goto fail;
        }
        if (gen_ref && (st = pcavs_generate(m, b, id_feature, id_map, 1, ref_pose, a, &noise,
                                            gen_drv ? frames_ref : frames)) != PCAVS_OK)
            goto fail;
        if (!gen_drv) memcpy(frames_ref, frames, (size_t)b * CHW * sizeof(float)); /* no pose: both the same */
        for (int i = 0; i < b; i++) {
            long j = j0 + i;
            size_t k = (size_t)(j + 2);
            pcavs_image_from_tensor(frames + (size_t)i * CHW, IMG, IMG, rgb);
            pcavs_image_from_tensor(frames_ref + (size_t)i * CHW, IMG, IMG, rgb2);
            if (c.w_main && (st = pcavs_video_writer_write(c.w_main, rgb)) != PCAVS_OK) goto fail;
            if (c.w_ref && (st = pcavs_video_writer_write(c.w_ref, rgb2)) != PCAVS_OK) goto fail;
            if (p->frames_dir) {
                if ((st = write_png(p->frames_dir, "", j, rgb)) != PCAVS_OK) goto fail;
                if (p->output_pose == PCAVS_OUTPUT_BOTH && (st = write_png(p->frames_dir, "ref_", j, rgb2)) != PCAVS_OK)
                    goto fail;
            }
            if (c.w_sbs) {
                if ((st = render_compose_row(
                         row, panels, id_rgb, rgb, gen_drv && p->output_pose == PCAVS_OUTPUT_BOTH ? rgb2 : NULL,
                         gen_drv ? &c.pose : NULL, gen_drv ? need[i] : 0, p->mouth, k, rgb)) != PCAVS_OK)
                    goto fail;
                if ((st = pcavs_video_writer_write(c.w_sbs, row)) != PCAVS_OK) goto fail;
            }
        }
        if (progress) progress(user, j0 + b, total);
    }

    /* ---- finish: every output renamed only now ---- */
    pcavs_video_writer *ws[3] = {c.w_main, c.w_ref, c.w_sbs};
    c.w_main = c.w_ref = c.w_sbs = NULL;
    st = PCAVS_OK;
    for (int i = 0; i < 3; i++) {
        if (!ws[i]) continue;
        if (st == PCAVS_OK)
            st = pcavs_video_writer_close(ws[i]);
        else
            pcavs_video_writer_abort(ws[i]);
    }
    if (res) {
        res->n_frames = total;
        res->video_seconds = (double)total / PCAVS_RENDER_FPS;
        res->load_seconds = t_load;
        res->total_seconds = now_s() - t0;
        res->pose_frames_used = (long)c.pose.P;
        res->n_faces = n_faces;
    }
    clip_abort(&c);
    return st;

fail:
    clip_abort(&c);
    return st;
}
