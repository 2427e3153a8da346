/* stream.c: the streaming session of pcavs.h: 16 kHz PCM pushed in chunks of any size (and optional pose
 * frames), each output frame generated as soon as its audio window is complete.
 *
 * The spectrogram rows of frame j (rows [4j, 4j+20), upstream frame k = j+2) are computed with the same
 * code as the offline path (pcavs_audio_melspectrogram) on a slice of the pushed samples: lws frame m
 * covers samples [160m - 1120, 160m + 160) with zeros outside the signal, and the slice starts at
 * off = 160 * max(0, 4j - 7) (a multiple of the hop, at or before the first sample row 4j reads) and
 * ends at min(pushed, 160 * (4j + 20)) (the last sample row 4j+19 reads, or the end of the clip once it
 * is finished). Every row is a function of its own 1280 samples only, so the rows are bit for bit the
 * offline ones. Samples and poses before the next frame's needs are dropped as the stream advances. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "pcavs_audio.h"
#include "pcavs_image.h"
#include "status.h"

#define IMG PCAVS_FRAME_SIDE
#define CHW ((size_t)3 * IMG * IMG)
#define WIN_N ((size_t)PCAVS_AUDIO_NMELS * PCAVS_AUDIO_WIN_T)
#define HOP PCAVS_AUDIO_HOP
#define SLICE_ROWS 40 /* at most 20 + 7 + 7 rows of a slice are computed */

struct pcavs_stream {
    uint32_t magic;
    pcavs_context *ctx;
    pcavs_stream_params p;
    pcavs_identity id;
    float *pcm; /* samples [pcm_base, pcm_base + pcm_len), already scaled by gain */
    size_t pcm_base, pcm_len, pcm_cap;
    size_t n_pushed; /* samples pushed in all */
    int finished;
    float *poses; /* poses [pose_base, pose_base + pose_len) x 512 */
    size_t pose_base, pose_len, pose_cap;
    size_t next;  /* next output frame j */
    float *mel;   /* [SLICE_ROWS, 80] */
    float *win;   /* [80, 20] */
    float *frame; /* [3, 224, 224] */
    float a[PCAVS_AUDIO_FEATURE_SIZE];
};

static pcavs_status check_stream(const pcavs_stream *s, const char *fn) {
    if (!s) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: stream is NULL", fn);
    if (s->magic == PCAVS_DEAD_MAGIC)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: stream was freed (use after free)", fn);
    if (s->magic != PCAVS_STREAM_MAGIC)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: not a pcavs_stream (bad magic 0x%08x)", fn, s->magic);
    return pcavs_api_check_ctx(s->ctx, fn);
}

void pcavs_stream_params_init(pcavs_stream_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->sample_rate = PCAVS_SAMPLE_RATE;
    p->gain = 1.0f;
    p->pose_source = PCAVS_STREAM_POSE_REFERENCE;
    p->noise.mode = PCAVS_NOISE_RANDOM;
    p->format = PCAVS_FRAME_RGB8;
}

pcavs_status pcavs_stream_create(pcavs_context *ctx, const pcavs_identity *id, const pcavs_stream_params *p,
                                 pcavs_stream **out) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_create: out is NULL");
    *out = NULL;
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_stream_create"));
    if (!id) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_create: identity is NULL");
    pcavs_stream_params def;
    if (!p) {
        pcavs_stream_params_init(&def);
        p = &def;
    }
    if (p->sample_rate != PCAVS_SAMPLE_RATE)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED,
                          "pcavs_stream_create: streams take %d Hz PCM (got %d Hz): resample before pushing",
                          PCAVS_SAMPLE_RATE, p->sample_rate);
    if (p->pose_source != PCAVS_STREAM_POSE_REFERENCE && p->pose_source != PCAVS_STREAM_POSE_PUSHED)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_create: unknown pose source %d", (int)p->pose_source);
    if (pcavs_frame_bytes(p->format, 1) == 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_create: unknown frame format %d", (int)p->format);
    if (p->noise.mode != PCAVS_NOISE_RANDOM && p->noise.mode != PCAVS_NOISE_FIXED && p->noise.mode != PCAVS_NOISE_NONE)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_create: unknown noise mode %d", (int)p->noise.mode);
    pcavs_stream *s = calloc(1, sizeof *s);
    if (!s) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_stream_create: out of memory");
    s->mel = malloc((SLICE_ROWS * PCAVS_AUDIO_NMELS + WIN_N + CHW) * sizeof(float));
    if (!s->mel) {
        free(s);
        return pcavs_fail(PCAVS_ERR_OOM, "pcavs_stream_create: out of memory");
    }
    s->win = s->mel + SLICE_ROWS * PCAVS_AUDIO_NMELS;
    s->frame = s->win + WIN_N;
    s->ctx = ctx;
    s->p = *p;
    s->id = *id;
    s->magic = PCAVS_STREAM_MAGIC;
    *out = s;
    return PCAVS_OK;
}

void pcavs_stream_free(pcavs_stream *s) {
    if (!s || s->magic != PCAVS_STREAM_MAGIC) return;
    free(s->pcm);
    free(s->poses);
    free(s->mel);
    s->pcm = s->poses = s->mel = NULL;
    s->magic = PCAVS_DEAD_MAGIC;
    pcavs_api_release_shell(s);
}

/* Drops samples and poses the frames from s->next on never read (when that frees half the buffer). */
static void compact(pcavs_stream *s) {
    size_t keep_from = 4 * s->next >= 7 ? HOP * (4 * s->next - 7) : 0;
    if (keep_from > s->pcm_base) {
        size_t drop = keep_from - s->pcm_base;
        if (drop > s->pcm_len) drop = s->pcm_len;
        if (drop >= 16384 && drop * 2 >= s->pcm_len) {
            memmove(s->pcm, s->pcm + drop, (s->pcm_len - drop) * sizeof(float));
            s->pcm_base += drop;
            s->pcm_len -= drop;
        }
    }
    if (s->next > s->pose_base) {
        size_t drop = s->next - s->pose_base;
        if (drop > s->pose_len) drop = s->pose_len;
        if (drop >= 64 && drop * 2 >= s->pose_len) {
            memmove(s->poses, s->poses + drop * PCAVS_POSE_FEATURE_SIZE,
                    (s->pose_len - drop) * PCAVS_POSE_FEATURE_SIZE * sizeof(float));
            s->pose_base += drop;
            s->pose_len -= drop;
        }
    }
}

pcavs_status pcavs_stream_push_pcm(pcavs_stream *s, const float *pcm, size_t n) {
    PCAVS_TRY(check_stream(s, "pcavs_stream_push_pcm"));
    if (s->finished) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_push_pcm: the stream was finished");
    if (n == 0) return PCAVS_OK;
    if (!pcm) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_push_pcm: pcm is NULL (n = %zu)", n);
    if (s->pcm_len + n > s->pcm_cap) {
        size_t cap = s->pcm_cap ? s->pcm_cap : 16384;
        while (cap < s->pcm_len + n) cap *= 2;
        float *np = realloc(s->pcm, cap * sizeof(float));
        if (!np) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_stream_push_pcm: out of memory for %zu samples", cap);
        s->pcm = np;
        s->pcm_cap = cap;
    }
    const float g = s->p.gain;
    float *dst = s->pcm + s->pcm_len;
    for (size_t i = 0; i < n; i++) {
        dst[i] = pcm[i];
        dst[i] *= g; /* the offline path's `y[i] *= gain` (PCAVS_GAIN_FIXED) */
    }
    s->pcm_len += n;
    s->n_pushed += n;
    return PCAVS_OK;
}

static pcavs_status push_pose_row(pcavs_stream *s, const float *pose) {
    if (s->pose_len == s->pose_cap) {
        size_t cap = s->pose_cap ? s->pose_cap * 2 : 64;
        float *np = realloc(s->poses, cap * PCAVS_POSE_FEATURE_SIZE * sizeof(float));
        if (!np) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_stream_push_pose: out of memory");
        s->poses = np;
        s->pose_cap = cap;
    }
    memcpy(s->poses + s->pose_len * PCAVS_POSE_FEATURE_SIZE, pose, PCAVS_POSE_FEATURE_SIZE * sizeof(float));
    s->pose_len++;
    return PCAVS_OK;
}

static pcavs_status check_pose_push(pcavs_stream *s, const char *fn) {
    PCAVS_TRY(check_stream(s, fn));
    if (s->p.pose_source != PCAVS_STREAM_POSE_PUSHED)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: the stream uses the reference pose (pose_source = REFERENCE)",
                          fn);
    return PCAVS_OK;
}

pcavs_status pcavs_stream_push_pose_feature(pcavs_stream *s, const float *pose) {
    PCAVS_TRY(check_pose_push(s, "pcavs_stream_push_pose_feature"));
    if (!pose) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_push_pose_feature: pose is NULL");
    return push_pose_row(s, pose);
}

pcavs_status pcavs_stream_push_pose(pcavs_stream *s, const uint8_t *rgb, int width, int height) {
    PCAVS_TRY(check_pose_push(s, "pcavs_stream_push_pose"));
    if (!rgb) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_push_pose: rgb is NULL");
    float h[PCAVS_POSE_FEATURE_SIZE];
    PCAVS_TRY(pcavs_pose_encode(s->ctx, 1, rgb, width, height, h));
    return push_pose_row(s, h);
}

pcavs_status pcavs_stream_finish(pcavs_stream *s) {
    PCAVS_TRY(check_stream(s, "pcavs_stream_finish"));
    s->finished = 1;
    return PCAVS_OK;
}

size_t pcavs_stream_frames_pulled(const pcavs_stream *s) {
    return check_stream(s, "pcavs_stream_frames_pulled") == PCAVS_OK ? s->next : 0;
}

pcavs_status pcavs_stream_pull_frame(pcavs_stream *s, void *out, size_t out_bytes, int *ready) {
    if (ready) *ready = 0;
    PCAVS_TRY(check_stream(s, "pcavs_stream_pull_frame"));
    if (!out || !ready)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_stream_pull_frame: NULL argument (out or ready)");
    size_t need = pcavs_frame_bytes(s->p.format, 1);
    if (out_bytes < need)
        return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_stream_pull_frame: output holds %zu bytes, a frame needs %zu",
                          out_bytes, need);
    const size_t j = s->next;
    if (s->finished) {
        size_t total = s->n_pushed ? pcavs_num_frames(pcavs_audio_num_mel_frames(s->n_pushed)) : 0;
        if (j >= total) {
            *ready = -1;
            return PCAVS_OK;
        }
    } else if (s->n_pushed < PCAVS_STREAM_READY_SAMPLES(j)) {
        return PCAVS_OK; /* more audio needed */
    }
    if (s->p.pose_source == PCAVS_STREAM_POSE_PUSHED && s->pose_base + s->pose_len <= j) {
        if (s->finished) *ready = -1; /* finished: no pose will come, the stream ends with the last posed frame */
        return PCAVS_OK;              /* else its pose is not there yet */
    }

    /* rows [4j, 4j+20) from the slice [off, end) of the signal */
    const size_t m0 = 4 * j;
    const size_t off = m0 >= 7 ? HOP * (m0 - 7) : 0;
    size_t end = HOP * (m0 + PCAVS_AUDIO_WIN_T);
    if (end > s->n_pushed) end = s->n_pushed;
    if (off < s->pcm_base || end <= off)
        return pcavs_fail(PCAVS_ERR_INTERNAL, "pcavs_stream_pull_frame: samples [%zu, %zu) of frame %zu are gone", off,
                          end, j);
    size_t len = end - off, rows = pcavs_audio_num_mel_frames(len);
    if (rows > SLICE_ROWS) return pcavs_fail(PCAVS_ERR_INTERNAL, "pcavs_stream_pull_frame: slice of %zu rows", rows);
    PCAVS_TRY(pcavs_audio_melspectrogram(s->pcm + (off - s->pcm_base), len, s->mel));
    /* slice row r is clip row r + off/160: the window is slice rows [m0 - off/160, +20), transposed to
     * [80, 20] as pcavs_audio_window does */
    const float *src = s->mel + (m0 - off / HOP) * PCAVS_AUDIO_NMELS;
    if (m0 - off / HOP + PCAVS_AUDIO_WIN_T > rows)
        return pcavs_fail(PCAVS_ERR_INTERNAL, "pcavs_stream_pull_frame: window past the slice");
    for (int t = 0; t < PCAVS_AUDIO_WIN_T; t++)
        for (int b = 0; b < PCAVS_AUDIO_NMELS; b++) s->win[b * PCAVS_AUDIO_WIN_T + t] = src[t * PCAVS_AUDIO_NMELS + b];
    pcavs_model *m = s->ctx->m;
    PCAVS_TRY(pcavs_encode_audio(m, 1, s->win, s->a));
    pcavs_noise_params np = s->p.noise;
    np.first_frame += (int64_t)j;
    const float *h = s->p.pose_source == PCAVS_STREAM_POSE_PUSHED
                         ? s->poses + (j - s->pose_base) * PCAVS_POSE_FEATURE_SIZE
                         : s->id.ref_pose;
    float *dst = s->p.format == PCAVS_FRAME_F32_CHW ? (float *)out : s->frame;
    PCAVS_TRY(pcavs_generate(m, 1, s->id.id_feature, s->id.id_map, 1, h, s->a, &np, dst));
    if (s->p.format == PCAVS_FRAME_RGB8) pcavs_image_from_tensor(dst, IMG, IMG, (uint8_t *)out);
    s->next++;
    *ready = 1;
    compact(s);
    return PCAVS_OK;
}
