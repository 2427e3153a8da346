/* pcavs_video.h: video input/output through the ffmpeg/ffprobe programs, plus frames folders.
 *
 * Decoding streams raw RGB24 frames from `ffmpeg -i FILE -f rawvideo -pix_fmt rgb24 -` over a pipe, one
 * frame at a time (memory bounded by one frame). Encoding pipes raw RGB24 frames into ffmpeg, which writes
 * H.264 (yuv420p) in MP4 at the given frame rate with an optional audio file muxed in (AAC); the output is
 * written to a temporary file beside the target and renamed on success, so a failure never leaves a
 * truncated file and never replaces a good one. Programs are spawned from argv arrays, never a shell.
 * Upstream reads frames folders named %06d.jpg (data/voxtest_dataset.py, filename_tmpl). */
#ifndef PCAVS_MEDIA_VIDEO_H
#define PCAVS_MEDIA_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pcavs_video_info {
    int width, height; /* of the first video stream */
    double fps;        /* r_frame_rate */
    long n_frames;     /* frames announced by the container header (MP4 index), else packets counted by
                        * ffprobe, -1 if unknown */
    int has_audio;     /* 1 when the file has an audio stream */
} pcavs_video_info;

/* 1 when the ffmpeg and ffprobe programs are on PATH. */
int pcavs_video_ffmpeg_available(void);

/* Probes a video file with ffprobe (clear errors for a missing file, no video stream, no ffprobe). */
pcavs_status pcavs_video_probe(const char *path, pcavs_video_info *info);

typedef struct pcavs_video_reader pcavs_video_reader;
/* Starts decoding; info (may be NULL) receives the probe result. */
pcavs_status pcavs_video_open(const char *path, pcavs_video_reader **out, pcavs_video_info *info);
/* Next frame: *rgb points to the reader's [height, width, 3] buffer (valid until the next call), *got = 1;
 * at the end of the video *got = 0. A video that ends before its announced frame count, ends inside a
 * frame, or that ffmpeg fails on, gives PCAVS_ERR_FORMAT naming the file. */
pcavs_status pcavs_video_read(pcavs_video_reader *r, const uint8_t **rgb, int *got);
/* Frames delivered so far. */
long pcavs_video_frames_read(const pcavs_video_reader *r);
void pcavs_video_close(pcavs_video_reader *r);

/* Frames folders: DIR/%06d.jpg (or .png). The path of frame idx into buf (jpg if it exists, else png). */
const char *pcavs_frames_path(const char *dir, size_t idx, char *buf, size_t cap);
/* Number of consecutive frames 000000, 000001, ... present in dir (0 if none; IO error if dir is missing). */
pcavs_status pcavs_frames_count(const char *dir, size_t *n);

typedef struct pcavs_video_writer pcavs_video_writer;
/* Starts ffmpeg writing out_path (H.264 yuv420p MP4 at fps; width and height even). audio_path (or NULL)
 * is muxed in as AAC, cut to the video's length (-shortest). */
pcavs_status pcavs_video_writer_open(const char *out_path, int width, int height, int fps, const char *audio_path,
                                     pcavs_video_writer **out);
/* The same, with the muxed audio starting audio_skip_s seconds into audio_path (ffmpeg input -ss; the video
 * still starts at 0): used to put the generated frames in sync with their audio windows. */
pcavs_status pcavs_video_writer_open_skip(const char *out_path, int width, int height, int fps, const char *audio_path,
                                          double audio_skip_s, pcavs_video_writer **out);
pcavs_status pcavs_video_writer_write(pcavs_video_writer *w, const uint8_t *rgb /* [height, width, 3] */);
/* Finishes the file and renames it onto out_path; on any failure removes the temporary file. Frees w. */
pcavs_status pcavs_video_writer_close(pcavs_video_writer *w);
/* Abandons the output (temporary file removed, out_path untouched). Frees w. */
void pcavs_video_writer_abort(pcavs_video_writer *w);

#ifdef __cplusplus
}
#endif
#endif
