/* test_media_io.c: video input/output (pipeline/media/video.c) through ffmpeg: encode frames + audio to
 * MP4, ffprobe its frame count and audio stream, decode it back (lossy H.264: bounded error), decode the
 * example MP4, frames folders, and the failure paths: missing file, truncated video, aborted/failed
 * writes never replacing a good output, ffmpeg not installed. SKIPs the ffmpeg parts without ffmpeg. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcavs_video.h"
#include "test_util.h"

enum { W = 224, H = 224, NF = 10 };

static char g_dir[4096];

static const char *examples_path(const char *rel) {
    static char buf[4096];
    const char *src = getenv("PCAVS_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/examples/%s", src ? src : ".", rel);
    return buf;
}

static const char *out_path(const char *name) {
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* A smooth moving pattern (compresses well, so the decoded error is small). */
static void make_frame(uint8_t *rgb, int t) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + ((size_t)y * W + x) * 3;
            p[0] = (uint8_t)(x + 4 * t);
            p[1] = (uint8_t)(y + 2 * t);
            p[2] = (uint8_t)((x + y) / 2);
        }
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Leftover temporary outputs BASE.tmp-XXXXXX in g_dir. */
static int count_tmp_files(const char *base) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.tmp-", base);
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
    if (d) closedir(d);
    return n;
}

static void copy_prefix(const char *src, const char *dst, double frac) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    if (!a || !b) {
        if (a) fclose(a);
        if (b) fclose(b);
        return;
    }
    long n = file_size(src), keep = (long)(n * frac);
    char buf[4096];
    while (keep > 0) {
        size_t r = fread(buf, 1, keep < (long)sizeof buf ? (size_t)keep : sizeof buf, a);
        if (r == 0) break;
        fwrite(buf, 1, r, b);
        keep -= (long)r;
    }
    fclose(a);
    fclose(b);
}

static void check_roundtrip(void) {
    const char *mp4 = out_path("test_media_io.mp4");
    const char *audio = examples_path("Audio_Source/681600002.mp3");
    remove(mp4);
    uint8_t *frames = malloc((size_t)NF * W * H * 3);
    for (int t = 0; t < NF; t++) make_frame(frames + (size_t)t * W * H * 3, t);
    pcavs_video_writer *w = NULL;
    if (!pt_check_ok(pcavs_video_writer_open(mp4, W, H, 25, audio, &w), "open writer")) return;
    for (int t = 0; t < NF; t++) pcavs_video_writer_write(w, frames + (size_t)t * W * H * 3);
    pt_check_ok(pcavs_video_writer_close(w), "encode 10 frames + audio to MP4");
    pcavs_video_info vi;
    if (pt_check_ok(pcavs_video_probe(mp4, &vi), "ffprobe the result")) {
        pt_check(vi.n_frames == NF, "frame count %ld == %d", vi.n_frames, NF);
        pt_check(vi.width == W && vi.height == H, "size %dx%d", vi.width, vi.height);
        pt_check(vi.fps > 24.99 && vi.fps < 25.01, "fps %.3f == 25", vi.fps);
        pt_check(vi.has_audio == 1, "audio stream muxed in (has_audio %d)", vi.has_audio);
    }
    pcavs_video_reader *r = NULL;
    if (pt_check_ok(pcavs_video_open(mp4, &r, NULL), "open reader")) {
        const uint8_t *rgb;
        int got = 0, t = 0;
        float *a = pt_alloc((size_t)NF * W * H * 3), *b = pt_alloc((size_t)NF * W * H * 3);
        pcavs_status st;
        while ((st = pcavs_video_read(r, &rgb, &got)) == PCAVS_OK && got) {
            if (t < NF)
                for (size_t i = 0; i < (size_t)W * H * 3; i++) {
                    a[(size_t)t * W * H * 3 + i] = rgb[i];
                    b[(size_t)t * W * H * 3 + i] = frames[(size_t)t * W * H * 3 + i];
                }
            t++;
        }
        pt_check_ok(st, "decode to the end");
        pt_check(t == NF, "decoded %d frames == %d", t, NF);
        /* H.264 crf 18 + yuv420p chroma subsampling of a smooth pattern: a few levels of error. */
        if (t == NF) pt_check_rel_l2("decoded frames vs encoded (lossy H.264)", a, b, (size_t)NF * W * H * 3, 0.03);
        pt_free(a), pt_free(b);
        pcavs_video_close(r);
    }
    /* A failed or abandoned write never replaces the good output. */
    long good = file_size(mp4);
    if (pt_check_ok(pcavs_video_writer_open(mp4, W, H, 25, NULL, &w), "open a second writer on the same path")) {
        pcavs_video_writer_write(w, frames);
        pcavs_video_writer_abort(w);
    }
    pt_check(file_size(mp4) == good, "aborted write left the good file intact (%ld bytes)", file_size(mp4));
    if (pt_check_ok(pcavs_video_writer_open(mp4, W, H, 25, NULL, &w), "open a writer that gets no frame")) {
        int st = pcavs_video_writer_close(w);
        pt_check(st != PCAVS_OK, "closing with no frame fails: \"%s\"", pcavs_last_error());
    }
    pt_check(file_size(mp4) == good, "failed write left the good file intact (%ld bytes)", file_size(mp4));
    int st = pcavs_video_writer_open(mp4, W, H, 25, "/nonexistent/audio.wav", &w);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/audio.wav"),
             "missing audio for the muxer: \"%s\"", pcavs_last_error());
    pt_check(count_tmp_files("test_media_io.mp4") == 0, "no temporary file left behind (%d)",
             count_tmp_files("test_media_io.mp4"));
    /* Truncated video: half of the file. */
    const char *half = out_path("test_media_io_half.mp4");
    copy_prefix(mp4, half, 0.5);
    int failed = 0;
    st = pcavs_video_open(half, &r, NULL);
    if (st == PCAVS_OK) {
        const uint8_t *rgb;
        int got = 1;
        while ((st = pcavs_video_read(r, &rgb, &got)) == PCAVS_OK && got) {
        }
        failed = st != PCAVS_OK;
        pcavs_video_close(r);
    } else {
        failed = 1;
    }
    pt_check(failed && strstr(pcavs_last_error(), half), "truncated video gives an error: \"%s\"", pcavs_last_error());
    remove(half);
    remove(mp4);
    free(frames);
}

static void check_example_video(void) {
    const char *path = examples_path("Pose_Source/00473.mp4");
    pcavs_video_reader *r = NULL;
    pcavs_video_info vi;
    if (!pt_check_ok(pcavs_video_open(path, &r, &vi), "open example 00473.mp4")) return;
    const uint8_t *rgb;
    int got = 0;
    long n = 0;
    pcavs_status st;
    while ((st = pcavs_video_read(r, &rgb, &got)) == PCAVS_OK && got) n++;
    pt_check_ok(st, "decode example video");
    pt_check(n == vi.n_frames && vi.width == 224 && vi.height == 224,
             "example video: %ld frames decoded == %ld announced, %dx%d", n, vi.n_frames, vi.width, vi.height);
    pcavs_video_close(r);
    /* Closing a reader early (frames left) must not hang. */
    if (pcavs_video_open(path, &r, NULL) == PCAVS_OK) {
        pcavs_video_read(r, &rgb, &got);
        pcavs_video_close(r);
        pt_check(got == 1, "reader closed after one frame");
    }
}

int main(void) {
    const char *bin = getenv("PCAVS_BINARY_DIR");
    snprintf(g_dir, sizeof g_dir, "%s", bin ? bin : "/tmp");
    size_t n = 0;
    pt_check_ok(pcavs_frames_count(examples_path("Pose_Source/517600078"), &n), "count frames folder");
    pt_check(n == 40, "examples pose folder has %zu frames (40)", n);
    char buf[4096];
    pt_check(strstr(pcavs_frames_path("/x", 17, buf, sizeof buf), "/x/000017.jpg") != NULL, "frame path %s", buf);
    int st = pcavs_frames_count("/nonexistent/frames", &n);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/frames"), "missing folder: \"%s\"",
             pcavs_last_error());
    pcavs_video_info vi;
    st = pcavs_video_probe("/nonexistent/video.mp4", &vi);
    pt_check(st == PCAVS_ERR_IO && strstr(pcavs_last_error(), "/nonexistent/video.mp4"), "missing video: \"%s\"",
             pcavs_last_error());
    /* ffmpeg not installed: an empty PATH. */
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-bin", 1);
    st = pcavs_video_probe(examples_path("Pose_Source/00473.mp4"), &vi);
    pt_check(st == PCAVS_ERR_UNSUPPORTED && strstr(pcavs_last_error(), "not installed"), "no ffprobe on PATH: \"%s\"",
             pcavs_last_error());
    if (old) setenv("PATH", old, 1), free(old);
    if (!pcavs_video_ffmpeg_available()) {
        pt_skip("video encode/decode: ffmpeg/ffprobe not installed (apt-get install ffmpeg)");
        return pt_finish();
    }
    check_roundtrip();
    check_example_video();
    return pt_finish();
}
