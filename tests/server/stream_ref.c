/* stream_ref.c: reference frames of the C streaming API for tests/server/test_server.py: the frames
 * pcavs_stream_* gives for a face image and raw float32 PCM (pushed in chunks of 1000 samples, then
 * pcavs_stream_finish), written as raw RGB [n, 224, 224, 3] to OUT. Public API only.
 * usage: stream_ref MODEL FACE.jpg PCM.f32 OUT.rgb NOISE(0 random|1 fixed|2 none) SEED */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs.h"

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: stream_ref MODEL FACE PCM.f32 OUT.rgb NOISE SEED\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) return fprintf(stderr, "stream_ref: cannot read %s\n", argv[3]), 1;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t n = (size_t)bytes / 4;
    float *pcm = malloc(n * 4 + 4);
    if (!pcm || fread(pcm, 4, n, f) != n) return fprintf(stderr, "stream_ref: short read\n"), 1;
    fclose(f);
    pcavs_context_params cp;
    pcavs_context_params_init(&cp);
    cp.max_batch = 1;
    pcavs_context *ctx = NULL;
    uint8_t *rgb = NULL;
    int w, h;
    pcavs_identity *id = malloc(sizeof *id);
    pcavs_stream *s = NULL;
    pcavs_stream_params sp;
    pcavs_stream_params_init(&sp);
    sp.noise.mode = (pcavs_noise_mode)atoi(argv[5]);
    sp.noise.seed = strtoull(argv[6], NULL, 10);
    if (pcavs_context_create(argv[1], &cp, &ctx) != PCAVS_OK || pcavs_image_read(argv[2], &rgb, &w, &h) != PCAVS_OK ||
        pcavs_identity_encode(ctx, 1, rgb, w, h, id) != PCAVS_OK || pcavs_stream_create(ctx, id, &sp, &s) != PCAVS_OK)
        return fprintf(stderr, "stream_ref: %s\n", pcavs_last_error()), 1;
    FILE *o = fopen(argv[4], "wb");
    uint8_t frame[224 * 224 * 3];
    int ready;
    for (size_t off = 0; off < n; off += 1000) {
        size_t k = n - off < 1000 ? n - off : 1000;
        if (pcavs_stream_push_pcm(s, pcm + off, k) != PCAVS_OK)
            return fprintf(stderr, "stream_ref: %s\n", pcavs_last_error()), 1;
        while (pcavs_stream_pull_frame(s, frame, sizeof frame, &ready) == PCAVS_OK && ready == 1)
            fwrite(frame, 1, sizeof frame, o);
    }
    if (pcavs_stream_finish(s) != PCAVS_OK) return fprintf(stderr, "stream_ref: %s\n", pcavs_last_error()), 1;
    while (pcavs_stream_pull_frame(s, frame, sizeof frame, &ready) == PCAVS_OK && ready == 1)
        fwrite(frame, 1, sizeof frame, o);
    fclose(o);
    printf("stream_ref: %zu frames\n", pcavs_stream_frames_pulled(s));
    pcavs_stream_free(s);
    pcavs_context_free(ctx);
    pcavs_free(rgb);
    free(id);
    free(pcm);
    return 0;
}
