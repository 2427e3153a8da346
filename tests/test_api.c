/* test_api.c: the public embedding API of pcavs.h (pipeline/api) on a synthesized model:
 *   - streaming == offline bit for bit: the same PCM pushed in chunks of random sizes (and one pose
 *     frame per output frame) gives the frames of pcavs_spectrogram (fixed gain) -> pcavs_audio_encode ->
 *     pcavs_pose_encode -> pcavs_generate_frames (max_batch 1, same noise); each frame becomes ready
 *     exactly when PCAVS_STREAM_READY_SAMPLES(j) samples were pushed; the count after finish is
 *     pcavs_num_frames(pcavs_spectrogram_rows(n));
 *   - the whole-clip RMS gain: PCAVS_GAIN_CLIP_RMS == PCAVS_GAIN_FIXED with pcavs_audio_rms_gain;
 *   - misuse: NULL handles and pointers, wrong image sizes, short output buffers, frames past the
 *     spectrogram, pushes after finish, a pose pushed to a reference-pose stream, an unsupported rate,
 *     and (PCAVS_DEBUG_HANDLES builds) use after free / double free: all return errors, never crash.
 * Kept small: 3 frames generated twice (the CPU generator costs ~1-2 s a frame). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h" /* pcavs_synthesize */
#include "pcavs.h"
#include "test_util.h"

#define FRAME_BYTES ((size_t)224 * 224 * 3)

static int expect(pcavs_status got, pcavs_status want, const char *what) {
    return pt_check(got == want, "%s -> %s (want %s): %s", what, pcavs_status_name(got), pcavs_status_name(want),
                    got == PCAVS_OK ? "" : pcavs_last_error());
}

/* A check recorded only when it fails (loop bodies). */
static int quiet_ok(pcavs_status st, const char *what) { return st == PCAVS_OK ? 1 : pt_check_ok(st, what); }

static uint64_t rng = 88172645463325252ull;
static size_t rnd(size_t n) { /* xorshift64 in [0, n) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (size_t)(rng % n);
}

static uint8_t *load_frame(const char *dir, const char *name) {
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (pcavs_image_read(p, &rgb, &w, &h) != PCAVS_OK || w != 224 || h != 224) {
        printf("FAIL cannot read %s: %s\n", p, pcavs_last_error());
        exit(1);
    }
    return rgb;
}

int main(void) {
    const char *src = getenv("PCAVS_SOURCE_DIR");
    if (!src) src = ".";
    char model[256];
    snprintf(model, sizeof model, "/tmp/pcavs-test-api-%d.safetensors", (int)getpid());
    if (!pt_check_ok(pcavs_synthesize(model, 5, 0), "synthesize a model")) return pt_finish();

    /* ---- context misuse ---- */
    pcavs_context *ctx = NULL;
    pcavs_context_params cp;
    pcavs_context_params_init(&cp);
    expect(pcavs_context_create(NULL, &cp, &ctx), PCAVS_ERR_INVALID_ARG, "context_create(NULL path)");
    expect(pcavs_context_create(model, &cp, NULL), PCAVS_ERR_INVALID_ARG, "context_create(NULL out)");
    expect(pcavs_context_create("/nonexistent/model.safetensors", &cp, &ctx), PCAVS_ERR_IO, "context_create(missing)");
    pt_check(ctx == NULL, "a failed create leaves *out NULL");
    cp.max_batch = 0;
    expect(pcavs_context_create(model, &cp, &ctx), PCAVS_ERR_INVALID_ARG, "context_create(max_batch 0)");
    cp.max_batch = 1; /* one frame per network call: the stream's batching, so frames are bit-equal */
    cp.exec.n_threads = 0;
    if (!pt_check_ok(pcavs_context_create(model, &cp, &ctx), "context_create")) return pt_finish();
    pt_check(strcmp(pcavs_context_backend_name(ctx), "cpu") == 0, "backend %s", pcavs_context_backend_name(ctx));
    pt_check(strcmp(pcavs_context_backend_name(NULL), "invalid") == 0, "backend name of NULL");

    /* ---- identity, poses ---- */
    char idd[4096], posed[4096];
    snprintf(idd, sizeof idd, "%s/examples/Input/517600055", src);
    snprintf(posed, sizeof posed, "%s/examples/Pose_Source/517600078", src);
    uint8_t *face = load_frame(idd, "000000.jpg");
    uint8_t *poses_rgb = malloc(3 * FRAME_BYTES);
    for (int i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "%06d.jpg", i);
        uint8_t *f = load_frame(posed, n);
        memcpy(poses_rgb + i * FRAME_BYTES, f, FRAME_BYTES);
        pcavs_free(f);
    }
    pcavs_identity *id = malloc(sizeof *id);
    expect(pcavs_identity_encode(NULL, 1, face, 224, 224, id), PCAVS_ERR_INVALID_ARG, "identity_encode(NULL ctx)");
    expect(pcavs_identity_encode(ctx, 1, NULL, 224, 224, id), PCAVS_ERR_INVALID_ARG, "identity_encode(NULL rgb)");
    expect(pcavs_identity_encode(ctx, 0, face, 224, 224, id), PCAVS_ERR_INVALID_ARG, "identity_encode(n 0)");
    expect(pcavs_identity_encode(ctx, 1, face, 200, 224, id), PCAVS_ERR_SHAPE, "identity_encode(200x224)");
    if (!pt_check_ok(pcavs_identity_encode(ctx, 1, face, 224, 224, id), "identity_encode")) return pt_finish();
    float pose[3 * PCAVS_POSE_FEATURE_SIZE];
    expect(pcavs_pose_encode(ctx, 3, poses_rgb, 224, 112, pose), PCAVS_ERR_SHAPE, "pose_encode(224x112)");
    pt_check_ok(pcavs_pose_encode(ctx, 3, poses_rgb, 224, 224, pose), "pose_encode");

    /* ---- audio: 3700 samples (not a multiple of the hop) -> 31 rows -> 3 frames ---- */
    const size_t n = 3700;
    float *pcm = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        pcm[i] = 0.3f * sinf(0.05f * i) * sinf(0.0021f * i) + 0.01f * (float)((i * 7919) % 101) / 101.0f;
    size_t rows = pcavs_spectrogram_rows(n, 16000), F = pcavs_num_frames(rows);
    pt_check(rows == 31 && F == 3, "rows %zu frames %zu (want 31, 3)", rows, F);
    pt_check(pcavs_spectrogram_rows(n, 8000) == (2 * n + 159) / 160 + 7, "rows at 8 kHz (resampled to 2n)");
    float *mel = malloc(rows * PCAVS_MEL_BANDS * sizeof(float)), *mel2 = malloc(rows * PCAVS_MEL_BANDS * sizeof(float));
    pcavs_audio_params ap;
    pcavs_audio_params_init(&ap);
    size_t got_rows = 0;
    expect(pcavs_spectrogram(pcm, n, &ap, mel, rows - 1, &got_rows), PCAVS_ERR_SHAPE, "spectrogram(short output)");
    expect(pcavs_spectrogram(NULL, n, &ap, mel, rows, &got_rows), PCAVS_ERR_INVALID_ARG, "spectrogram(NULL pcm)");
    pt_check_ok(pcavs_spectrogram(pcm, n, &ap, mel, rows, &got_rows), "spectrogram (whole-clip RMS)");
    ap.gain_mode = PCAVS_GAIN_FIXED;
    ap.gain = pcavs_audio_rms_gain(pcm, n);
    pt_check_ok(pcavs_spectrogram(pcm, n, &ap, mel2, rows, &got_rows), "spectrogram (fixed rms gain)");
    pt_check(memcmp(mel, mel2, rows * PCAVS_MEL_BANDS * sizeof(float)) == 0,
             "CLIP_RMS == FIXED(pcavs_audio_rms_gain) bit for bit (gain %.6f)", ap.gain);
    const float gain = 1.7f; /* the stream's fixed gain */
    ap.gain = gain;
    pt_check_ok(pcavs_spectrogram(pcm, n, &ap, mel, rows, &got_rows), "spectrogram (gain 1.7)");
    float audio[3 * PCAVS_AUDIO_FEATURE_SIZE];
    expect(pcavs_audio_encode(ctx, mel, rows, 1, 3, audio), PCAVS_ERR_SHAPE, "audio_encode(frames past the end)");
    pt_check_ok(pcavs_audio_encode(ctx, mel, rows, 0, 3, audio), "audio_encode");

    /* ---- offline frames ---- */
    pcavs_noise_params noise = {PCAVS_NOISE_RANDOM, 7, 10};
    uint8_t *off = malloc(3 * FRAME_BYTES), *str = malloc(3 * FRAME_BYTES);
    memset(str, 0, 3 * FRAME_BYTES);
    expect(pcavs_generate_frames(ctx, id, 3, pose, audio, &noise, PCAVS_FRAME_RGB8, off, 3 * FRAME_BYTES - 1),
           PCAVS_ERR_SHAPE, "generate_frames(short output)");
    expect(pcavs_generate_frames(ctx, NULL, 3, pose, audio, &noise, PCAVS_FRAME_RGB8, off, 3 * FRAME_BYTES),
           PCAVS_ERR_INVALID_ARG, "generate_frames(NULL identity)");
    expect(pcavs_generate_frames(ctx, id, 3, pose, audio, &noise, (pcavs_frame_format)9, off, 3 * FRAME_BYTES),
           PCAVS_ERR_INVALID_ARG, "generate_frames(bad format)");
    pt_check_ok(pcavs_generate_frames(ctx, id, 3, pose, audio, &noise, PCAVS_FRAME_RGB8, off, 3 * FRAME_BYTES),
                "generate_frames (offline path)");

    /* ---- stream: random chunks, one pose per frame ---- */
    pcavs_stream_params sp;
    pcavs_stream_params_init(&sp);
    pcavs_stream *s = NULL;
    sp.sample_rate = 44100;
    expect(pcavs_stream_create(ctx, id, &sp, &s), PCAVS_ERR_UNSUPPORTED, "stream_create(44.1 kHz)");
    pcavs_stream_params_init(&sp);
    expect(pcavs_stream_create(NULL, id, &sp, &s), PCAVS_ERR_INVALID_ARG, "stream_create(NULL ctx)");
    expect(pcavs_stream_create(ctx, NULL, &sp, &s), PCAVS_ERR_INVALID_ARG, "stream_create(NULL identity)");
    pt_check_ok(pcavs_stream_create(ctx, id, &sp, &s), "stream_create (reference pose)");
    expect(pcavs_stream_push_pose(s, poses_rgb, 224, 224), PCAVS_ERR_INVALID_ARG, "push_pose to a reference stream");
    pcavs_stream_free(s);

    sp.gain = gain;
    sp.pose_source = PCAVS_STREAM_POSE_PUSHED;
    sp.noise = noise;
    if (!pt_check_ok(pcavs_stream_create(ctx, id, &sp, &s), "stream_create (pushed poses)")) return pt_finish();
    int ready = 0;
    uint8_t small[16];
    expect(pcavs_stream_pull_frame(s, small, sizeof small, &ready), PCAVS_ERR_SHAPE, "pull_frame(short output)");
    expect(pcavs_stream_pull_frame(s, str, FRAME_BYTES, NULL), PCAVS_ERR_INVALID_ARG, "pull_frame(NULL ready)");
    expect(pcavs_stream_push_pcm(s, NULL, 5), PCAVS_ERR_INVALID_ARG, "push_pcm(NULL, 5)");
    expect(pcavs_stream_push_pose(s, poses_rgb, 100, 100), PCAVS_ERR_SHAPE, "push_pose(100x100)");
    size_t pushed = 0, pulled = 0, poses_pushed = 0;
    int timing_ok = 1;
    while (pushed < n) {
        size_t c = 1 + rnd(900);
        if (c > n - pushed) c = n - pushed;
        quiet_ok(pcavs_stream_push_pcm(s, pcm + pushed, c), "push_pcm");
        pushed += c;
        if (poses_pushed < 3 && rnd(2)) /* poses arrive at their own pace */
            quiet_ok(pcavs_stream_push_pose(s, poses_rgb + poses_pushed++ * FRAME_BYTES, 224, 224), "push_pose");
        for (;;) {
            pcavs_status st = pcavs_stream_pull_frame(s, str + pulled * FRAME_BYTES, FRAME_BYTES, &ready);
            if (!quiet_ok(st, "pull_frame") || ready != 1) break;
            pulled++;
        }
        /* exactly the frames whose audio and pose are complete */
        size_t want = 0;
        while (want < poses_pushed && pushed >= PCAVS_STREAM_READY_SAMPLES(want)) want++;
        if (pulled != want) {
            timing_ok = 0;
            printf("  after %zu samples, %zu poses: %zu frames pulled, %zu expected\n", pushed, poses_pushed, pulled,
                   want);
        }
    }
    pt_check(timing_ok, "frame j is ready once 640*(j+5) samples (and its pose) were pushed");
    while (poses_pushed < 3)
        quiet_ok(pcavs_stream_push_pose(s, poses_rgb + poses_pushed++ * FRAME_BYTES, 224, 224), "push_pose");
    pt_check_ok(pcavs_stream_finish(s), "stream_finish");
    expect(pcavs_stream_push_pcm(s, pcm, 1), PCAVS_ERR_INVALID_ARG, "push_pcm after finish");
    for (;;) {
        pcavs_status st =
            pcavs_stream_pull_frame(s, str + (pulled < 3 ? pulled : 2) * FRAME_BYTES, FRAME_BYTES, &ready);
        if (!quiet_ok(st, "pull_frame after finish") || ready != 1) break;
        pulled++;
    }
    pt_check(ready == -1 && pulled == F && pcavs_stream_frames_pulled(s) == F, "stream ends after %zu frames (got %zu)",
             F, pulled);
    size_t diff = 0;
    for (size_t i = 0; i < 3 * FRAME_BYTES; i++) diff += off[i] != str[i];
    pt_check(diff == 0, "streamed frames == offline frames bit for bit (%zu of %zu bytes differ)", diff,
             3 * FRAME_BYTES);
    pcavs_stream_free(s);

    /* ---- use after free / double free (debug handles keep freed shells poisoned) ---- */
#ifdef PCAVS_DEBUG_HANDLES
    expect(pcavs_stream_push_pcm(s, pcm, 10), PCAVS_ERR_INVALID_ARG, "push_pcm after stream_free");
    pcavs_stream_free(s); /* double free: ignored */
    pcavs_context_free(ctx);
    expect(pcavs_identity_encode(ctx, 1, face, 224, 224, id), PCAVS_ERR_INVALID_ARG, "identity_encode after free");
    pcavs_context_free(ctx);
#else
    pt_skip("use after free: needs a PCAVS_DEBUG_HANDLES build (Debug or -DPCAVS_DEBUG_HANDLES=ON)");
    pcavs_context_free(ctx);
#endif
    pcavs_free(face);
    free(poses_rgb), free(id), free(pcm), free(mel), free(mel2), free(off), free(str);
    unlink(model);
    return pt_finish();
}
