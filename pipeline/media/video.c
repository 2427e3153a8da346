/* video.c: streaming video decode (ffmpeg -> raw RGB24 over a pipe), ffprobe metadata, frames folders
 * (%06d.jpg as upstream's filename_tmpl), and an H.264/MP4 encoder fed through a socket, written to a
 * temporary file and renamed on success. */
#define _GNU_SOURCE
#include "pcavs_video.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media_util.h"
#include "status.h"

int pcavs_video_ffmpeg_available(void) {
    return pcavs_media_have_program("ffmpeg") && pcavs_media_have_program("ffprobe");
}

static pcavs_status check_readable(const char *path, const char *what) {
    struct stat st;
    if (stat(path, &st) != 0) return pcavs_fail(PCAVS_ERR_IO, "%s %s: cannot open: %s", what, path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return pcavs_fail(PCAVS_ERR_IO, "%s %s: not a regular file", what, path);
    if (st.st_size == 0) return pcavs_fail(PCAVS_ERR_FORMAT, "%s %s: empty file", what, path);
    return PCAVS_OK;
}

pcavs_status pcavs_video_probe(const char *path, pcavs_video_info *info) {
    if (!path || !info) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_video_probe: NULL argument");
    memset(info, 0, sizeof *info);
    info->n_frames = -1;
    PCAVS_TRY(check_readable(path, "video"));
    static const char *const count_packets[] = {"-count_packets", NULL};
    char buf[8192], err[300];
    int code = 0;
    PCAVS_TRY(pcavs_media_ffprobe(path, "stream=codec_type,width,height,r_frame_rate,nb_frames,nb_read_packets",
                                  count_packets, buf, sizeof buf, &code, err, sizeof err));
    if (code != 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: not a readable video (ffprobe: %s)", path,
                          err[0] ? err : "failed");
    int cur = 0, seen_video = 0; /* cur: 1 inside the first video stream's fields */
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "codec_type=", 11)) {
            int is_video = !strcmp(line + 11, "video");
            if (!strcmp(line + 11, "audio")) info->has_audio = 1;
            cur = is_video && !seen_video;
            if (is_video) seen_video = 1;
        } else if (cur) {
            if (!strncmp(line, "width=", 6))
                info->width = atoi(line + 6);
            else if (!strncmp(line, "height=", 7))
                info->height = atoi(line + 7);
            else if (!strncmp(line, "nb_frames=", 10) && atol(line + 10) > 0)
                info->n_frames = atol(line + 10);
            else if (!strncmp(line, "nb_read_packets=", 16) && info->n_frames <= 0 && atol(line + 16) > 0)
                info->n_frames = atol(line + 16); /* containers without a frame count in their header */
            else if (!strncmp(line, "r_frame_rate=", 13)) {
                double a = 0, b = 1;
                if (sscanf(line + 13, "%lf/%lf", &a, &b) >= 1 && b > 0) info->fps = a / b;
            }
        }
    }
    if (!seen_video || info->width <= 0 || info->height <= 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: no video stream found", path);
    return PCAVS_OK;
}

struct pcavs_video_reader {
    pcavs_proc proc;
    pcavs_video_info info;
    uint8_t *frame; /* [h, w, 3] */
    size_t frame_bytes;
    long n_read;
    int done;
    char *path;
};

pcavs_status pcavs_video_open(const char *path, pcavs_video_reader **out, pcavs_video_info *info) {
    if (!out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_video_open: NULL argument");
    *out = NULL;
    pcavs_video_info vi;
    PCAVS_TRY(pcavs_video_probe(path, &vi));
    pcavs_video_reader *r = calloc(1, sizeof *r);
    if (!r) return pcavs_fail(PCAVS_ERR_OOM, "video %s: out of memory", path);
    r->info = vi;
    r->frame_bytes = (size_t)vi.width * vi.height * 3;
    r->frame = malloc(r->frame_bytes);
    r->path = strdup(path);
    if (!r->frame || !r->path) {
        free(r->frame), free(r->path), free(r);
        return pcavs_fail(PCAVS_ERR_OOM, "video %s: out of memory", path);
    }
    /* every decoded frame, in order, no frame-rate conversion (-vsync 0), as RGB24 */
    const char *argv[] = {"ffmpeg", "-nostdin", "-v", "error",    "-i",       path,    "-map", "0:v:0",
                          "-vsync", "0",        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",    NULL};
    pcavs_status st = pcavs_proc_spawn(argv, 0, 1, &r->proc);
    if (st != PCAVS_OK) {
        free(r->frame), free(r->path), free(r);
        return st;
    }
    if (info) *info = vi;
    *out = r;
    return PCAVS_OK;
}

pcavs_status pcavs_video_read(pcavs_video_reader *r, const uint8_t **rgb, int *got) {
    if (!r || !rgb || !got) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_video_read: NULL argument");
    *got = 0;
    *rgb = NULL;
    if (r->done) return PCAVS_OK;
    size_t n = 0;
    PCAVS_TRY(pcavs_proc_read(&r->proc, r->frame, r->frame_bytes, &n));
    if (n == r->frame_bytes) {
        r->n_read++;
        *rgb = r->frame;
        *got = 1;
        return PCAVS_OK;
    }
    r->done = 1;
    char err[300];
    int code = pcavs_proc_finish(&r->proc, err, sizeof err);
    if (code != 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: decoding failed after %ld frames (ffmpeg exit %d: %s)", r->path,
                          r->n_read, code, err);
    if (n != 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: truncated: stream ended inside frame %ld", r->path, r->n_read);
    if (r->info.n_frames > 0 && r->n_read < r->info.n_frames)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: truncated or corrupt: decoded %ld of %ld frames%s%s", r->path,
                          r->n_read, r->info.n_frames, err[0] ? " (ffmpeg: " : "", err[0] ? err : "");
    if (err[0] && r->n_read == 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "video %s: no frame decoded (ffmpeg: %s)", r->path, err);
    return PCAVS_OK;
}

long pcavs_video_frames_read(const pcavs_video_reader *r) { return r ? r->n_read : 0; }

void pcavs_video_close(pcavs_video_reader *r) {
    if (!r) return;
    if (!r->done) pcavs_proc_kill(&r->proc);
    free(r->frame);
    free(r->path);
    free(r);
}

/* ---------------------------------------------------------------- frames folders */

const char *pcavs_frames_path(const char *dir, size_t idx, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%06zu.jpg", dir, idx);
    if (access(buf, F_OK) == 0) return buf;
    snprintf(buf, cap, "%s/%06zu.png", dir, idx);
    if (access(buf, F_OK) == 0) return buf;
    snprintf(buf, cap, "%s/%06zu.jpg", dir, idx);
    return buf;
}

pcavs_status pcavs_frames_count(const char *dir, size_t *n) {
    struct stat st;
    if (!dir || !n) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_frames_count: NULL argument");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return pcavs_fail(PCAVS_ERR_IO, "frames folder %s: not a directory", dir);
    char buf[4096];
    size_t k = 0;
    for (;; k++) {
        pcavs_frames_path(dir, k, buf, sizeof buf);
        if (access(buf, R_OK) != 0) break;
    }
    *n = k;
    return PCAVS_OK;
}

/* ---------------------------------------------------------------- encoder */

struct pcavs_video_writer {
    pcavs_proc proc;
    char *tmp, *path;
    int width, height;
    long n_written;
};

static void writer_free(pcavs_video_writer *w) {
    free(w->tmp);
    free(w->path);
    free(w);
}

pcavs_status pcavs_video_writer_open(const char *out_path, int width, int height, int fps, const char *audio_path,
                                     pcavs_video_writer **out) {
    return pcavs_video_writer_open_skip(out_path, width, height, fps, audio_path, 0.0, out);
}

pcavs_status pcavs_video_writer_open_skip(const char *out_path, int width, int height, int fps, const char *audio_path,
                                          double audio_skip_s, pcavs_video_writer **out) {
    if (!out_path || !out || width <= 0 || height <= 0 || fps <= 0 || !(audio_skip_s >= 0 && audio_skip_s < 1e6))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "video writer: bad arguments");
    *out = NULL;
    if (width % 2 || height % 2)
        return pcavs_fail(PCAVS_ERR_SHAPE, "video %s: H.264 yuv420p needs even sizes, got %dx%d", out_path, width,
                          height);
    if (audio_path) PCAVS_TRY(check_readable(audio_path, "audio"));
    pcavs_video_writer *w = calloc(1, sizeof *w);
    if (!w) return pcavs_fail(PCAVS_ERR_OOM, "video %s: out of memory", out_path);
    w->width = width, w->height = height;
    w->path = strdup(out_path);
    FILE *f = NULL;
    pcavs_status st = w->path ? pcavs_media_temp_beside(out_path, &w->tmp, &f) : PCAVS_ERR_OOM;
    if (st != PCAVS_OK) {
        writer_free(w);
        return st == PCAVS_ERR_OOM ? pcavs_fail(st, "video %s: out of memory", out_path) : st;
    }
    fclose(f); /* ffmpeg overwrites the (empty) temporary file */
    char size[32], rate[16], skip[32];
    snprintf(size, sizeof size, "%dx%d", width, height);
    snprintf(skip, sizeof skip, "%.6f", audio_skip_s);
    snprintf(rate, sizeof rate, "%d", fps);
    const char *argv[48]; /* 42 used at most */
    int a = 0;
    const char *head[] = {"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt",
                          "rgb24",  "-s",       size, "-r",    rate, "-i", "pipe:0"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) argv[a++] = head[i];
    if (audio_path && audio_skip_s > 0)
        argv[a++] = "-ss", argv[a++] = skip; /* input option: the audio starts audio_skip_s into the file */
    if (audio_path) argv[a++] = "-i", argv[a++] = audio_path;
    argv[a++] = "-map", argv[a++] = "0:v:0";
    if (audio_path) argv[a++] = "-map", argv[a++] = "1:a:0";
    const char *venc[] = {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", "-preset", "medium"};
    for (size_t i = 0; i < sizeof venc / sizeof *venc; i++) argv[a++] = venc[i];
    if (audio_path)
        argv[a++] = "-c:a", argv[a++] = "aac", argv[a++] = "-b:a", argv[a++] = "128k", argv[a++] = "-shortest";
    argv[a++] = "-movflags", argv[a++] = "+faststart", argv[a++] = "-f", argv[a++] = "mp4";
    argv[a++] = w->tmp;
    argv[a] = NULL;
    st = pcavs_proc_spawn(argv, 1, 0, &w->proc);
    if (st != PCAVS_OK) {
        unlink(w->tmp);
        writer_free(w);
        return st;
    }
    *out = w;
    return PCAVS_OK;
}

pcavs_status pcavs_video_writer_write(pcavs_video_writer *w, const uint8_t *rgb) {
    if (!w || !rgb) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "video writer: NULL argument");
    pcavs_status st = pcavs_proc_write(&w->proc, rgb, (size_t)w->width * w->height * 3);
    if (st != PCAVS_OK) return pcavs_fail_context(st, w->path);
    w->n_written++;
    return PCAVS_OK;
}

pcavs_status pcavs_video_writer_close(pcavs_video_writer *w) {
    if (!w) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "video writer: NULL");
    char err[400];
    int code = pcavs_proc_finish(&w->proc, err, sizeof err);
    struct stat st;
    pcavs_status rc = PCAVS_OK;
    if (code != 0)
        rc = pcavs_fail(PCAVS_ERR_IO, "video %s: ffmpeg failed (exit %d): %s", w->path, code, err[0] ? err : "?");
    else if (w->n_written == 0)
        rc = pcavs_fail(PCAVS_ERR_INVALID_ARG, "video %s: no frame was written", w->path);
    else if (stat(w->tmp, &st) != 0 || st.st_size == 0)
        rc = pcavs_fail(PCAVS_ERR_IO, "video %s: ffmpeg wrote nothing", w->path);
    else if (rename(w->tmp, w->path) != 0)
        rc = pcavs_fail(PCAVS_ERR_IO, "video %s: cannot rename the temporary file onto it: %s", w->path,
                        strerror(errno));
    if (rc != PCAVS_OK) unlink(w->tmp);
    writer_free(w);
    return rc;
}

void pcavs_video_writer_abort(pcavs_video_writer *w) {
    if (!w) return;
    pcavs_proc_kill(&w->proc);
    unlink(w->tmp);
    writer_free(w);
}
