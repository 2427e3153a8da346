/* api.c: the public embedding API of pcavs.h over the internal model (pipeline/networks/pcavs_model.h)
 * and media (pipeline/media): context create/free, file helpers, the upstream spectrogram from PCM,
 * identity / pose / audio features and frames from features. The numbers are those of the render path
 * (pipeline/render/render.c, upstream inference.py + VOXTestDataset): identity averaged in double over
 * batches of max_batch images, pose frames through E + to_headpose, mel windows through A_sync * 1.2,
 * G in batches of max_batch with noise index first_frame + i per frame. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "pcavs_audio.h"
#include "pcavs_image.h"
#include "pcavs_video.h"
#include "status.h"

#define IMG PCAVS_FRAME_SIDE
#define CHW ((size_t)3 * IMG * IMG)
#define RGB_BYTES ((size_t)IMG * IMG * 3)
#define WIN_N ((size_t)PCAVS_AUDIO_NMELS * PCAVS_AUDIO_WIN_T)

#define STR2(x) #x
#define STR(x) STR2(x)

const char *pcavs_version(void) {
    return STR(PCAVS_VERSION_MAJOR) "." STR(PCAVS_VERSION_MINOR) "." STR(PCAVS_VERSION_PATCH);
}

void pcavs_free(void *p) { free(p); }

/* ---------------------------------------------------------------- handles */

pcavs_status pcavs_api_check_ctx(const pcavs_context *ctx, const char *fn) {
    if (!ctx) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: context is NULL", fn);
    if (ctx->magic == PCAVS_DEAD_MAGIC)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: context was freed (use after free)", fn);
    if (ctx->magic != PCAVS_CTX_MAGIC)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "%s: not a pcavs_context (bad magic 0x%08x)", fn, ctx->magic);
    return PCAVS_OK;
}

void pcavs_api_release_shell(void *shell) {
#ifdef PCAVS_DEBUG_HANDLES
    (void)shell; /* kept poisoned on purpose: a later call sees PCAVS_DEAD_MAGIC */
#else
    free(shell);
#endif
}

void pcavs_context_params_init(pcavs_context_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    pcavs_exec_params_init(&p->exec);
    p->max_batch = 4;
}

pcavs_status pcavs_context_create(const char *model_path, const pcavs_context_params *p, pcavs_context **out) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_context_create: out is NULL");
    *out = NULL;
    if (!model_path) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_context_create: model_path is NULL");
    pcavs_context_params def;
    if (!p) {
        pcavs_context_params_init(&def);
        p = &def;
    }
    if (p->max_batch < 1 || p->max_batch > 256)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_context_create: max_batch must be 1..256 (got %d)",
                          p->max_batch);
    pcavs_context *c = calloc(1, sizeof *c);
    if (!c) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_context_create: out of memory");
    pcavs_status st = pcavs_exec_create(&p->exec, &c->ex);
    if (st == PCAVS_OK) st = pcavs_model_load(c->ex, model_path, &c->m);
    if (st != PCAVS_OK) {
        pcavs_exec_free(c->ex);
        free(c);
        return st;
    }
    c->max_batch = p->max_batch;
    c->magic = PCAVS_CTX_MAGIC;
    *out = c;
    return PCAVS_OK;
}

void pcavs_context_free(pcavs_context *ctx) {
    if (!ctx || ctx->magic != PCAVS_CTX_MAGIC) return; /* NULL, or already freed (debug builds): nothing to do */
    pcavs_model_free(ctx->m);
    pcavs_exec_free(ctx->ex);
    ctx->m = NULL;
    ctx->ex = NULL;
    ctx->magic = PCAVS_DEAD_MAGIC;
    pcavs_api_release_shell(ctx);
}

const char *pcavs_context_backend_name(const pcavs_context *ctx) {
    if (!ctx || ctx->magic != PCAVS_CTX_MAGIC) return "invalid";
    return pcavs_exec_backend_name(ctx->ex);
}

const char *pcavs_context_precision_name(const pcavs_context *ctx) {
    if (!ctx || ctx->magic != PCAVS_CTX_MAGIC) return "invalid";
    return pcavs_exec_precision_name(ctx->ex);
}

/* ---------------------------------------------------------------- media helpers */

pcavs_status pcavs_image_read(const char *path, uint8_t **rgb, int *width, int *height) {
    if (!path || !rgb || !width || !height) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_read: NULL argument");
    *rgb = NULL;
    pcavs_image img = {0};
    PCAVS_TRY(pcavs_image_load(path, &img));
    *rgb = img.rgb; /* malloc'ed by the decoder: pcavs_free releases it */
    *width = img.width;
    *height = img.height;
    return PCAVS_OK;
}

pcavs_status pcavs_image_write(const char *path, const uint8_t *rgb, int width, int height) {
    if (!path || !rgb) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_image_write: NULL argument");
    if (width < 1 || height < 1) return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_image_write: bad size %dx%d", width, height);
    return pcavs_image_write_png(path, rgb, width, height);
}

pcavs_status pcavs_audio_read(const char *path, float **pcm, size_t *n, int *sample_rate) {
    if (!path || !pcm || !n || !sample_rate)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_read: NULL argument");
    *pcm = NULL;
    return pcavs_audio_load_native(path, pcm, n, sample_rate);
}

pcavs_status pcavs_video_read_frames(const char *path, size_t max_frames, uint8_t **rgb, size_t *n_frames, int *width,
                                     int *height) {
    if (!path || !rgb || !n_frames || !width || !height)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_video_read_frames: NULL argument");
    *rgb = NULL;
    *n_frames = 0;
    size_t cnt = 0;
    /* a %06d frames folder? */
    if (pcavs_frames_count(path, &cnt) == PCAVS_OK && cnt > 0) {
        if (max_frames && cnt > max_frames) cnt = max_frames;
        uint8_t *buf = NULL;
        int w = 0, h = 0;
        for (size_t i = 0; i < cnt; i++) {
            char p[4200];
            pcavs_image img = {0};
            pcavs_status st = pcavs_image_load(pcavs_frames_path(path, i, p, sizeof p), &img);
            if (st == PCAVS_OK && i == 0) {
                w = img.width, h = img.height;
                buf = malloc(cnt * (size_t)w * h * 3);
                if (!buf) st = pcavs_fail(PCAVS_ERR_OOM, "frames %s: out of memory for %zu frames", path, cnt);
            } else if (st == PCAVS_OK && (img.width != w || img.height != h)) {
                st = pcavs_fail(PCAVS_ERR_SHAPE, "frames %s: frame %zu is %dx%d, frame 0 %dx%d", path, i, img.width,
                                img.height, w, h);
            }
            if (st == PCAVS_OK) memcpy(buf + i * (size_t)w * h * 3, img.rgb, (size_t)w * h * 3);
            pcavs_image_free(&img);
            if (st != PCAVS_OK) {
                free(buf);
                return st;
            }
        }
        pcavs_clear_error();
        *rgb = buf, *n_frames = cnt, *width = w, *height = h;
        return PCAVS_OK;
    }
    pcavs_clear_error();
    pcavs_video_reader *r = NULL;
    pcavs_video_info vi;
    PCAVS_TRY(pcavs_video_open(path, &r, &vi));
    size_t fb = (size_t)vi.width * vi.height * 3, cap = 0, n = 0;
    uint8_t *buf = NULL;
    pcavs_status st = PCAVS_OK;
    while (!max_frames || n < max_frames) {
        const uint8_t *f;
        int got = 0;
        if ((st = pcavs_video_read(r, &f, &got)) != PCAVS_OK || !got) break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint8_t *nb = realloc(buf, cap * fb);
            if (!nb) {
                st = pcavs_fail(PCAVS_ERR_OOM, "video %s: out of memory at frame %zu", path, n);
                break;
            }
            buf = nb;
        }
        memcpy(buf + n * fb, f, fb);
        n++;
    }
    pcavs_video_close(r);
    if (st == PCAVS_OK && n == 0) st = pcavs_fail(PCAVS_ERR_FORMAT, "video %s: no frame decoded", path);
    if (st != PCAVS_OK) {
        free(buf);
        return st;
    }
    *rgb = buf, *n_frames = n, *width = vi.width, *height = vi.height;
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- audio */

void pcavs_audio_params_init(pcavs_audio_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->sample_rate = PCAVS_SAMPLE_RATE;
    p->gain_mode = PCAVS_GAIN_CLIP_RMS;
    p->gain = 1.0f;
}

/* pcavs_audio_rms_gain (upstream's whole-clip RMS gain) is defined in media/audio.c, beside the
 * normalisation that applies it. */

static size_t samples_16k(size_t n, int rate) {
    if (rate == PCAVS_SAMPLE_RATE) return n;
    return (size_t)ceil((double)n * ((double)PCAVS_SAMPLE_RATE / rate)); /* pcavs_audio_resample's length */
}

size_t pcavs_spectrogram_rows(size_t n, int sample_rate) {
    if (n == 0 || sample_rate <= 0) return 0;
    return pcavs_audio_num_mel_frames(samples_16k(n, sample_rate));
}

size_t pcavs_num_frames(size_t n_rows) { return pcavs_audio_num_output_frames(n_rows); }

pcavs_status pcavs_spectrogram(const float *pcm, size_t n, const pcavs_audio_params *p, float *mel, size_t cap_rows,
                               size_t *n_rows) {
    pcavs_audio_params def;
    if (!p) {
        pcavs_audio_params_init(&def);
        p = &def;
    }
    if (!pcm) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_spectrogram: pcm is NULL");
    if (n == 0) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_spectrogram: no samples");
    if (p->sample_rate <= 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_spectrogram: bad sample rate %d", p->sample_rate);
    if (p->gain_mode != PCAVS_GAIN_CLIP_RMS && p->gain_mode != PCAVS_GAIN_FIXED)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_spectrogram: unknown gain mode %d", (int)p->gain_mode);
    size_t rows = pcavs_spectrogram_rows(n, p->sample_rate);
    if (n_rows) *n_rows = rows;
    if (!mel) return PCAVS_OK; /* size query */
    if (cap_rows < rows)
        return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_spectrogram: output holds %zu rows, %zu needed", cap_rows, rows);
    float *y = NULL;
    size_t n16 = n;
    if (p->sample_rate != PCAVS_SAMPLE_RATE) {
        PCAVS_TRY(pcavs_audio_resample(pcm, n, p->sample_rate, PCAVS_SAMPLE_RATE, &y, &n16));
    } else {
        y = malloc(n * sizeof *y);
        if (!y) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_spectrogram: out of memory for %zu samples", n);
        memcpy(y, pcm, n * sizeof *y);
    }
    if (p->gain_mode == PCAVS_GAIN_CLIP_RMS) {
        pcavs_audio_rms_normalize(y, n16);
    } else {
        const float g = p->gain;
        for (size_t i = 0; i < n16; i++) y[i] *= g;
    }
    pcavs_status st = pcavs_audio_melspectrogram(y, n16, mel);
    free(y);
    return st;
}

/* ---------------------------------------------------------------- features */

pcavs_status pcavs_api_frame_tensor(const uint8_t *rgb, int width, int height, const char *what, float *out) {
    if (width != IMG || height != IMG)
        return pcavs_fail(PCAVS_ERR_SHAPE, "%s: frames must be %dx%d RGB crops (VoxCeleb2-style), got %dx%d", what, IMG,
                          IMG, width, height);
    uint8_t crop[RGB_BYTES];
    pcavs_image img = {width, height, (uint8_t *)rgb};
    PCAVS_TRY(pcavs_image_crop_resize(&img, what, crop));
    pcavs_image_to_tensor(crop, IMG, IMG, out);
    return PCAVS_OK;
}

pcavs_status pcavs_identity_encode(pcavs_context *ctx, int n, const uint8_t *rgb, int width, int height,
                                   pcavs_identity *out) {
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_identity_encode"));
    if (!rgb || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_identity_encode: NULL argument");
    if (n < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_identity_encode: need at least one image (n = %d)", n);
    if (width != IMG || height != IMG)
        return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_identity_encode: images must be %dx%d, got %dx%d", IMG, IMG, width,
                          height);
    const int B = ctx->max_batch;
    const size_t nf = PCAVS_ID_FEATURE_SIZE, nm = PCAVS_ID_MAP_SIZE, np = PCAVS_POSE_FEATURE_SIZE;
    double *acc = calloc(nf + nm + np, sizeof(double));
    float *images = malloc((size_t)B * (CHW + nf + nm + np) * sizeof(float));
    if (!acc || !images) {
        free(acc), free(images);
        return pcavs_fail(PCAVS_ERR_OOM, "pcavs_identity_encode: out of memory");
    }
    float *feat = images + (size_t)B * CHW, *maps = feat + (size_t)B * nf, *fan = maps + (size_t)B * nm;
    pcavs_status st = PCAVS_OK;
    /* as render.c encode_identity: V and E in batches of B, double sums, divided once */
    for (int i0 = 0; i0 < n && st == PCAVS_OK; i0 += B) {
        int b = n - i0 < B ? n - i0 : B;
        for (int i = 0; i < b && st == PCAVS_OK; i++)
            st = pcavs_api_frame_tensor(rgb + (size_t)(i0 + i) * RGB_BYTES, width, height, "identity image",
                                        images + (size_t)i * CHW);
        if (st == PCAVS_OK) st = pcavs_v_forward(ctx->m, b, images, feat, maps);
        if (st == PCAVS_OK) st = pcavs_e_forward(ctx->m, b, images, fan, NULL);
        for (int i = 0; st == PCAVS_OK && i < b; i++) {
            for (size_t j = 0; j < nf; j++) acc[j] += feat[(size_t)i * nf + j];
            for (size_t j = 0; j < nm; j++) acc[nf + j] += maps[(size_t)i * nm + j];
            for (size_t j = 0; j < np; j++) acc[nf + nm + j] += fan[(size_t)i * np + j];
        }
    }
    if (st == PCAVS_OK) {
        for (size_t j = 0; j < nf; j++) out->id_feature[j] = (float)(acc[j] / n);
        for (size_t j = 0; j < nm; j++) out->id_map[j] = (float)(acc[nf + j] / n);
        float mean[PCAVS_POSE_FEATURE_SIZE];
        for (size_t j = 0; j < np; j++) mean[j] = (float)(acc[nf + nm + j] / n);
        st = pcavs_headpose_from_feature(ctx->m, 1, mean, out->ref_pose);
    }
    free(acc), free(images);
    return st;
}

pcavs_status pcavs_pose_encode(pcavs_context *ctx, int n, const uint8_t *rgb, int width, int height, float *pose) {
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_pose_encode"));
    if (!rgb || !pose) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pose_encode: NULL argument");
    if (n < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pose_encode: need at least one frame (n = %d)", n);
    if (width != IMG || height != IMG)
        return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_pose_encode: frames must be %dx%d, got %dx%d", IMG, IMG, width,
                          height);
    const int B = ctx->max_batch;
    float *frames = malloc((size_t)B * CHW * sizeof(float));
    if (!frames) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_pose_encode: out of memory");
    pcavs_status st = PCAVS_OK;
    for (int i0 = 0; i0 < n && st == PCAVS_OK; i0 += B) {
        int b = n - i0 < B ? n - i0 : B;
        for (int i = 0; i < b && st == PCAVS_OK; i++)
            st = pcavs_api_frame_tensor(rgb + (size_t)(i0 + i) * RGB_BYTES, width, height, "pose frame",
                                        frames + (size_t)i * CHW);
        if (st == PCAVS_OK) st = pcavs_encode_pose(ctx->m, b, frames, pose + (size_t)i0 * PCAVS_POSE_FEATURE_SIZE);
    }
    free(frames);
    return st;
}

pcavs_status pcavs_audio_encode(pcavs_context *ctx, const float *mel, size_t n_rows, size_t first, size_t count,
                                float *audio) {
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_audio_encode"));
    if (!mel || !audio) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_audio_encode: NULL argument");
    size_t F = pcavs_num_frames(n_rows);
    if (count == 0 || first > F || count > F - first)
        return pcavs_fail(PCAVS_ERR_SHAPE,
                          "pcavs_audio_encode: frames [%zu, %zu) asked of a spectrogram of %zu rows (%zu frames)",
                          first, first + count, n_rows, F);
    const int B = ctx->max_batch;
    float *win = malloc((size_t)B * WIN_N * sizeof(float));
    if (!win) return pcavs_fail(PCAVS_ERR_OOM, "pcavs_audio_encode: out of memory");
    pcavs_status st = PCAVS_OK;
    for (size_t i0 = 0; i0 < count && st == PCAVS_OK; i0 += (size_t)B) {
        int b = count - i0 < (size_t)B ? (int)(count - i0) : B;
        for (int i = 0; i < b && st == PCAVS_OK; i++)
            st = pcavs_audio_window(mel, n_rows, first + i0 + (size_t)i + 2, win + (size_t)i * WIN_N);
        if (st == PCAVS_OK) st = pcavs_encode_audio(ctx->m, b, win, audio + i0 * PCAVS_AUDIO_FEATURE_SIZE);
    }
    free(win);
    return st;
}

/* ---------------------------------------------------------------- generation */

size_t pcavs_frame_bytes(pcavs_frame_format format, size_t n) {
    switch (format) {
    case PCAVS_FRAME_RGB8:
        return n * RGB_BYTES;
    case PCAVS_FRAME_F32_CHW:
        return n * CHW * sizeof(float);
    default:
        return 0;
    }
}

pcavs_status pcavs_generate_frames(pcavs_context *ctx, const pcavs_identity *id, int n, const float *pose,
                                   const float *audio, const pcavs_noise_params *noise, pcavs_frame_format format,
                                   void *out, size_t out_bytes) {
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_generate_frames"));
    if (!id || !audio || !out)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate_frames: NULL argument (id, audio or out)");
    if (n < 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate_frames: n must be >= 1 (got %d)", n);
    size_t need = pcavs_frame_bytes(format, (size_t)n);
    if (need == 0)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate_frames: unknown frame format %d", (int)format);
    if (out_bytes < need)
        return pcavs_fail(PCAVS_ERR_SHAPE, "pcavs_generate_frames: output holds %zu bytes, %d frames need %zu",
                          out_bytes, n, need);
    pcavs_noise_params np = {PCAVS_NOISE_RANDOM, 0, 0};
    if (noise) np = *noise;
    if (np.mode != PCAVS_NOISE_RANDOM && np.mode != PCAVS_NOISE_FIXED && np.mode != PCAVS_NOISE_NONE)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_generate_frames: unknown noise mode %d", (int)np.mode);
    const int B = ctx->max_batch;
    float *frames = NULL;
    if (format == PCAVS_FRAME_RGB8 && !(frames = malloc((size_t)B * CHW * sizeof(float))))
        return pcavs_fail(PCAVS_ERR_OOM, "pcavs_generate_frames: out of memory");
    pcavs_status st = PCAVS_OK;
    const int64_t base = np.first_frame;
    for (int i0 = 0; i0 < n && st == PCAVS_OK; i0 += B) {
        int b = n - i0 < B ? n - i0 : B;
        float *dst = format == PCAVS_FRAME_RGB8 ? frames : (float *)out + (size_t)i0 * CHW;
        np.first_frame = base + i0;
        st = pcavs_generate(ctx->m, b, id->id_feature, id->id_map, pose ? b : 1,
                            pose ? pose + (size_t)i0 * PCAVS_POSE_FEATURE_SIZE : id->ref_pose,
                            audio + (size_t)i0 * PCAVS_AUDIO_FEATURE_SIZE, &np, dst);
        if (st == PCAVS_OK && format == PCAVS_FRAME_RGB8)
            for (int i = 0; i < b; i++)
                pcavs_image_from_tensor(frames + (size_t)i * CHW, IMG, IMG,
                                        (uint8_t *)out + (size_t)(i0 + i) * RGB_BYTES);
    }
    free(frames);
    return st;
}
