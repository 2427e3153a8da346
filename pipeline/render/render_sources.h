/* render_sources.h: the inputs of one clip (render_sources.c), private to pipeline/render/: the identity
 * source, the pose source with its cached per-frame pose embeddings, and small file checks. */
#ifndef PCAVS_RENDER_SOURCES_H
#define PCAVS_RENDER_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "pcavs_model.h"
#include "pcavs_video.h"

int render_is_dir(const char *p);
int render_is_file(const char *p);
/* PCAVS_ERR_IO naming `what` and path when it does not exist or cannot be read. */
pcavs_status render_check_input(const char *path, const char *what);
/* Loads one image file and applies upstream's crop + resize (refusing non-224x224 frames). */
pcavs_status render_load_crop(const char *path, const char *what, uint8_t *rgb /* [224, 224, 3] */);

typedef struct face_src {
    const char *path;
    int kind;     /* 0 image, 1 folder, 2 video */
    char **files; /* folder: sorted image names */
    int n_files, next;
    pcavs_video_reader *vr;
    pcavs_video_info vi;
    int limit, n_read;
} face_src;

/* Opens an identity source: at most `limit` images (0 = all). */
pcavs_status render_face_open(face_src *f, const char *path, int limit);
/* The next identity image, cropped, into rgb [224, 224, 3]; *got 0 at the end. */
pcavs_status render_face_next(face_src *f, uint8_t *rgb, int *got);
void render_face_close(face_src *f);

typedef struct pose_src {
    const char *path;
    int kind; /* 0 none, 1 folder, 2 video */
    size_t P;
    float *h;      /* [P, 512] embeddings */
    uint8_t *have; /* [P] */
    uint8_t *rgb;  /* video + side-by-side: [P, 224, 224, 3] crops */
    int keep_rgb;
    pcavs_video_reader *vr;
    pcavs_video_info vi;
    size_t next_decode;
} pose_src;

/* Opens a pose source (NULL path: none) of `want` frames (0 = all); keep_rgb keeps a video's crops for
 * the side-by-side output. */
pcavs_status render_pose_open(pose_src *s, const char *path, long want, int keep_rgb);
/* Makes sure the embeddings of pose frames need[0..b) exist in s->h, computing the missing ones B at a
 * time (frames, idx, h, rgb: the caller's work buffers of B frames). */
pcavs_status render_pose_ensure(pose_src *s, pcavs_model *m, int batch, const size_t *need, int b, float *frames,
                                size_t *idx, float *h, uint8_t *rgb);
/* Pose frame k's crop into rgb [224, 224, 3]. */
pcavs_status render_pose_rgb(pose_src *s, size_t k, uint8_t *rgb);
void render_pose_close(pose_src *s);

#endif
