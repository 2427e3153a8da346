/* frame_source.h: reads "an image, a folder of images in name order, or a video" frame by frame, the one
 * input form shared by the identity source of pcavs-infer (render_sources.c) and the clips of pcavs-align
 * (align_clip.c). Internal to the pipeline library. */
#ifndef PCAVS_FRAME_SOURCE_H
#define PCAVS_FRAME_SOURCE_H

#include <stdint.h>

#include "pcavs.h"
#include "pcavs_image.h"
#include "pcavs_video.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pcavs_frame_source_kind {
    PCAVS_FRAMES_IMAGE = 0,  /* one .jpg/.jpeg/.png file, or a file that starts like a JPEG or PNG */
    PCAVS_FRAMES_FOLDER = 1, /* the .jpg/.jpeg/.png files of a folder (not hidden), sorted by strcmp */
    PCAVS_FRAMES_VIDEO = 2   /* anything else, decoded by ffmpeg (pcavs_video_open) */
} pcavs_frame_source_kind;

typedef struct pcavs_frame_source {
    const char *path; /* as given (not copied) */
    pcavs_frame_source_kind kind;
    char **files;           /* folder: [n_files] image file names (without the folder), sorted */
    long n_files, next;     /* folder: count; the next file to read */
    pcavs_video_reader *vr; /* video: the decoder, else NULL */
    pcavs_video_info vi;    /* video: as probed, fps 25 when unknown; image, folder: fps 25, the rest 0 */
    pcavs_image img;        /* image, folder: the current frame (owned) */
    long n_read;            /* frames yielded so far */
    char name[4352];        /* the current frame for messages: its file, or "<video> frame <i>" */
} pcavs_frame_source;

/* Opens path. `what` names the input in messages ("face" -> "face X: cannot open: ...", "face folder X:
 * ..."); NULL gives "file X: ..." and "folder X: ...". A missing or unreadable path, a folder that cannot be
 * listed or holds no image, or a video ffmpeg cannot open fails (PCAVS_ERR_IO, or the video's status); on
 * failure nothing is left to close (closing is still allowed). */
pcavs_status pcavs_frame_source_open(pcavs_frame_source *s, const char *path, const char *what);
/* The next frame: *rgb [*h, *w, 3] RGB, valid until the next call or close; *got = 0 at the end. An image
 * file that cannot be decoded fails with pcavs_image_load's message. */
pcavs_status pcavs_frame_source_next(pcavs_frame_source *s, const uint8_t **rgb, int *w, int *h, int *got);
void pcavs_frame_source_close(pcavs_frame_source *s);

#ifdef __cplusplus
}
#endif
#endif
