/* test_render_cancel.c: the cancellation of pcavs_context_render (pcavs_render_params.cancel): a flag set
 * before the call stops it before any frame, a flag set from the progress callback after the first batch
 * stops it before the second; both return PCAVS_ERR_CANCELLED and leave no output file. With the flag
 * left at 0 the same call renders every frame (pcavs-server's job tests cover that path too).
 * usage: test_render_cancel MODEL.safetensors SOURCE_DIR WORK_DIR */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pcavs.h"
#include "test_util.h"

typedef struct watch {
    volatile int *flag;
    long set_after; /* set the flag once this many frames are done */
    long last_done, calls;
} watch;

static void on_progress(void *user, long done, long total) {
    (void)total;
    watch *w = user;
    w->last_done = done;
    w->calls++;
    if (done >= w->set_after) __atomic_store_n((int *)w->flag, 1, __ATOMIC_RELEASE);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_render_cancel MODEL SOURCE_DIR WORK_DIR\n");
        return 2;
    }
    char face[2048], audio[2048], out[2048];
    snprintf(face, sizeof face, "%s/examples/Input/517600055/000000.jpg", argv[2]);
    snprintf(audio, sizeof audio, "%s/cancel_audio.wav", argv[3]);
    snprintf(out, sizeof out, "%s/cancel_out.mp4", argv[3]);
    /* 1.0 s of a 220 Hz tone: 21 frames, 11 batches of 2 */
    float pcm[16000];
    for (int i = 0; i < 16000; i++) pcm[i] = 0.1f * (float)(i % 73) / 73.0f;
    FILE *f = fopen(audio, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", audio);
        return 1;
    }
    /* a minimal float32 WAV (libsndfile reads it) */
    unsigned int n = 16000, data_bytes = n * 4, riff = 36 + data_bytes, fmt_len = 16, rate = 16000, brate = 64000;
    unsigned short fmt = 3, ch = 1, align = 4, bits = 32;
    fwrite("RIFF", 1, 4, f), fwrite(&riff, 4, 1, f), fwrite("WAVEfmt ", 1, 8, f), fwrite(&fmt_len, 4, 1, f);
    fwrite(&fmt, 2, 1, f), fwrite(&ch, 2, 1, f), fwrite(&rate, 4, 1, f), fwrite(&brate, 4, 1, f);
    fwrite(&align, 2, 1, f), fwrite(&bits, 2, 1, f), fwrite("data", 1, 4, f), fwrite(&data_bytes, 4, 1, f);
    fwrite(pcm, 4, n, f);
    fclose(f);

    pt_check(strcmp(pcavs_status_name(PCAVS_ERR_CANCELLED), "cancelled") == 0, "status name of PCAVS_ERR_CANCELLED: %s",
             pcavs_status_name(PCAVS_ERR_CANCELLED));
    pcavs_context_params cp;
    pcavs_context_params_init(&cp);
    cp.max_batch = 2;
    pcavs_context *ctx = NULL;
    if (!pt_check_ok(pcavs_context_create(argv[1], &cp, &ctx), "context_create")) return pt_finish();
    pcavs_render_params rp;
    pcavs_render_params_init(&rp);
    pt_check(rp.cancel == NULL, "pcavs_render_params_init leaves cancel NULL");
    rp.face = face, rp.audio = audio, rp.output = out, rp.batch = 2, rp.noise = PCAVS_NOISE_FIXED;
    volatile int flag = 1;
    rp.cancel = &flag;
    watch w = {&flag, 0, -1, 0};
    pcavs_status st = pcavs_context_render(ctx, &rp, on_progress, &w, NULL);
    pt_check(st == PCAVS_ERR_CANCELLED, "flag set before the call: status %s (want cancelled): %s",
             pcavs_status_name(st), pcavs_last_error());
    pt_check(w.calls == 0, "flag set before the call: no progress reported (%ld calls)", w.calls);
    pt_check(access(out, F_OK) != 0, "flag set before the call: no output file");

    flag = 0;
    w = (watch){&flag, 1, -1, 0};
    st = pcavs_context_render(ctx, &rp, on_progress, &w, NULL);
    pt_check(st == PCAVS_ERR_CANCELLED, "flag set after the first batch: status %s (want cancelled)",
             pcavs_status_name(st));
    pt_check(w.last_done == 2, "flag set after the first batch: stopped after %ld frames (want 2 = one batch of 21)",
             w.last_done);
    pt_check(access(out, F_OK) != 0, "flag set after the first batch: no output file");
    pcavs_context_free(ctx);
    return pt_finish();
}
