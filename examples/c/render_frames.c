/* render_frames.c: renders talking-face frames with the installed libpcavs (public API only):
 * identity from one face image, mouth from a WAV (or any audio ffmpeg reads), head pose from a
 * frames folder or video (ping-pong over its frames, as upstream), frames written as PNGs, then the
 * same audio streamed in 100 ms chunks to show the streaming session (and that it matches).
 *
 *   cc render_frames.c $(pkg-config --cflags --libs pcavs) -o render_frames
 *   ./render_frames MODEL FACE.jpg AUDIO POSE_DIR_OR_VIDEO OUT_DIR [MAX_FRAMES]
 */
#include <pcavs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_BYTES ((size_t)PCAVS_FRAME_SIDE * PCAVS_FRAME_SIDE * 3)

static int fail(const char *what, pcavs_status st) {
    fprintf(stderr, "render_frames: %s: %s (%s)\n", what, pcavs_last_error(), pcavs_status_name(st));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s MODEL FACE AUDIO POSE OUT_DIR [MAX_FRAMES]\n", argv[0]);
        return 2;
    }
    size_t max_frames = argc > 6 ? (size_t)atol(argv[6]) : 0;
    printf("pcavs %s\n", pcavs_version());
    pcavs_status st;
    pcavs_context_params cp;
    pcavs_context_params_init(&cp);
    cp.max_batch = 1; /* the stream's batching: streamed frames then equal these bit for bit */
    pcavs_context *ctx = NULL;
    if ((st = pcavs_context_create(argv[1], &cp, &ctx)) != PCAVS_OK) return fail("load model", st);

    /* identity */
    uint8_t *face = NULL;
    int w = 0, h = 0;
    if ((st = pcavs_image_read(argv[2], &face, &w, &h)) != PCAVS_OK) return fail("read face", st);
    pcavs_identity *id = malloc(sizeof *id);
    if ((st = pcavs_identity_encode(ctx, 1, face, w, h, id)) != PCAVS_OK) return fail("identity", st);

    /* audio -> spectrogram (upstream: whole-clip RMS) -> mouth features */
    float *pcm = NULL;
    size_t n = 0, rows = 0;
    int rate = 0;
    if ((st = pcavs_audio_read(argv[3], &pcm, &n, &rate)) != PCAVS_OK) return fail("read audio", st);
    pcavs_audio_params ap;
    pcavs_audio_params_init(&ap);
    ap.sample_rate = rate;
    rows = pcavs_spectrogram_rows(n, rate);
    float *mel = malloc(rows * PCAVS_MEL_BANDS * sizeof(float));
    if ((st = pcavs_spectrogram(pcm, n, &ap, mel, rows, &rows)) != PCAVS_OK) return fail("spectrogram", st);
    size_t F = pcavs_num_frames(rows);
    if (max_frames && F > max_frames) F = max_frames;
    if (F == 0) {
        fprintf(stderr, "render_frames: the audio is too short for one frame\n");
        return 1;
    }
    float *audio = malloc(F * PCAVS_AUDIO_FEATURE_SIZE * sizeof(float));
    if ((st = pcavs_audio_encode(ctx, mel, rows, 0, F, audio)) != PCAVS_OK) return fail("audio features", st);

    /* pose: frame j uses pose frame pingpong(j + 2) */
    uint8_t *pose_rgb = NULL;
    size_t P = 0;
    if ((st = pcavs_video_read_frames(argv[4], 0, &pose_rgb, &P, &w, &h)) != PCAVS_OK) return fail("read pose", st);
    uint8_t *sel = malloc(F * FRAME_BYTES);
    for (size_t j = 0; j < F; j++) {
        size_t k = j + 2, lap = k / P, r = k % P, i = lap % 2 == 0 ? r : P - 1 - r;
        memcpy(sel + j * FRAME_BYTES, pose_rgb + i * FRAME_BYTES, FRAME_BYTES);
    }
    float *pose = malloc(F * PCAVS_POSE_FEATURE_SIZE * sizeof(float));
    if ((st = pcavs_pose_encode(ctx, (int)F, sel, w, h, pose)) != PCAVS_OK) return fail("pose features", st);

    /* offline frames */
    pcavs_noise_params noise = {PCAVS_NOISE_FIXED, 0, 0};
    uint8_t *frames = malloc(F * FRAME_BYTES);
    if ((st = pcavs_generate_frames(ctx, id, (int)F, pose, audio, &noise, PCAVS_FRAME_RGB8, frames, F * FRAME_BYTES)) !=
        PCAVS_OK)
        return fail("generate", st);
    for (size_t j = 0; j < F; j++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%06zu.png", argv[5], j);
        if ((st = pcavs_image_write(path, frames + j * FRAME_BYTES, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE)) != PCAVS_OK)
            return fail("write frame", st);
    }
    printf("wrote %zu frames to %s\n", F, argv[5]);

    /* the same through a stream (16 kHz only; fixed gain = this clip's RMS gain so it matches) */
    if (rate == PCAVS_SAMPLE_RATE) {
        pcavs_stream_params sp;
        pcavs_stream_params_init(&sp);
        sp.gain = pcavs_audio_rms_gain(pcm, n);
        sp.pose_source = PCAVS_STREAM_POSE_PUSHED;
        sp.noise = noise;
        pcavs_stream *s = NULL;
        if ((st = pcavs_stream_create(ctx, id, &sp, &s)) != PCAVS_OK) return fail("stream", st);
        uint8_t *out = malloc(FRAME_BYTES);
        size_t got = 0, same = 0;
        for (size_t j = 0; j < F; j++) pcavs_stream_push_pose(s, sel + j * FRAME_BYTES, w, h);
        for (size_t pos = 0; pos < n && got < F;) {
            size_t c = n - pos < 1600 ? n - pos : 1600; /* 100 ms chunks */
            pcavs_stream_push_pcm(s, pcm + pos, c);
            pos += c;
            if (pos == n) pcavs_stream_finish(s);
            int ready = 0;
            while (got < F && (st = pcavs_stream_pull_frame(s, out, FRAME_BYTES, &ready)) == PCAVS_OK && ready == 1)
                same += memcmp(out, frames + got++ * FRAME_BYTES, FRAME_BYTES) == 0;
            if (st != PCAVS_OK) return fail("pull", st);
        }
        printf("streamed %zu frames, %zu identical to the offline ones\n", got, same);
        free(out);
        pcavs_stream_free(s);
        if (same != F) return 1;
    }
    pcavs_free(face), pcavs_free(pcm), pcavs_free(pose_rgb);
    free(id), free(mel), free(audio), free(sel), free(pose), free(frames);
    pcavs_context_free(ctx);
    return 0;
}
