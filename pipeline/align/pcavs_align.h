/* pcavs_align.h: face alignment of self-prepared footage into VoxCeleb2-like 224x224 crops, and paste-back
 * of generated faces into the original frames.
 *
 * Mirrors upstream scripts/align_68.py (get_eyes_mouths, get_affine = skimage SimilarityTransform.estimate
 * onto (87,59) (137,59) (112,120), the per-frame mouth bias smoothed 0.2 previous + 0.8 current, and
 * cv2.warpAffine(img, M_i, (224,224), borderValue=0) with INTER_LINEAR), with dlib's HOG face detector and
 * 68-point shape predictor (Debian libdlib-dev / libdlib-data) in place of the face_alignment package.
 * Affine matrices are 2x3 row-major doubles {a, b, c, d, e, f}: x' = a x + b y + c, y' = d x + e y + f.
 * Pixel buffers are interleaved [h, w, channels] uint8 (RGB for frames). */
#ifndef PCAVS_ALIGN_H
#define PCAVS_ALIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_ALIGN_SIZE 224
#define PCAVS_ALIGN_N_LANDMARKS 68

/* ---- geometry (align_geom.c) ---- */

/* skimage.transform.SimilarityTransform().estimate(src, dst) (Umeyama with scale, no reflection) for n 2-D
 * points: writes the 2x3 matrix. Degenerate input (all src points equal) gives PCAVS_ERR_INVALID_ARG. */
pcavs_status pcavs_similarity_estimate(const double *src /* [n, 2] */, const double *dst /* [n, 2] */, int n,
                                       double m[6]);
/* Upstream get_affine: three points -> the targets given as a float32 array (numpy takes their mean in
 * float32: 79.33333587646484 for y), as skimage does it there. */
pcavs_status pcavs_similarity_estimate_upstream(const double three[6], double m[6]);
/* Inverse of a 2x3 affine (PCAVS_ERR_INVALID_ARG when singular). */
pcavs_status pcavs_affine_invert(const double m[6], double inv[6]);
/* c = a after b (c(p) = a(b(p))). */
void pcavs_affine_compose(const double a[6], const double b[6], double c[6]);

/* cv2.warpAffine(src, M, (dw, dh), flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=border) on
 * uint8 images, bit-exact with OpenCV's fixed point path (AB_BITS 10, INTER_BITS 5, 15-bit bilinear
 * weights; NUMERICS.md 5c). M maps source to destination pixel coordinates (as OpenCV, no
 * WARP_INVERSE_MAP). channels 1..4. */
pcavs_status pcavs_warp_affine_u8(const uint8_t *src, int sw, int sh, size_t src_stride, int channels,
                                  const double m[6], uint8_t *dst /* [dh, dw, channels] */, int dw, int dh,
                                  uint8_t border);

/* ---- landmarks (landmarks.c + the dlib bridge) ---- */

/* 1 when this build has the dlib landmark detector (libdlib-dev found at configure time). */
int pcavs_landmarks_available(void);
/* Default model path (Debian libdlib-data): /usr/share/dlib/shape_predictor_68_face_landmarks.dat. */
const char *pcavs_landmarks_default_model(void);

typedef struct pcavs_landmarker pcavs_landmarker;
/* Loads the HOG detector and the 68-point shape predictor (model NULL = default; $PCAVS_DLIB_MODEL overrides
 * the default). PCAVS_ERR_UNSUPPORTED in a build without dlib, PCAVS_ERR_IO for a missing model. */
pcavs_status pcavs_landmarker_open(const char *model, pcavs_landmarker **out);
void pcavs_landmarker_close(pcavs_landmarker *lm);
/* Detects faces in an RGB frame (padded with a black border first, so that a face filling the frame, as in a
 * VoxCeleb2 crop, is still found; large frames are detected on a downscaled copy). *n_faces receives the
 * number of faces; when >= 1, pts receives the 68 landmarks (x, y in frame pixels) of the largest one and
 * box (may be NULL) its rectangle {left, top, right, bottom}. */
pcavs_status pcavs_landmarker_detect(pcavs_landmarker *lm, const uint8_t *rgb, int w, int h, int *n_faces,
                                     double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double box[4]);

/* Upstream get_eyes_mouths: mean of 36-41 (right eye), 42-47 (left eye), 60-67 (inner mouth). */
void pcavs_align_three_points(const double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double three[6]);
/* Upstream's fixed targets (87,59), (137,59), (112,120). */
extern const double pcavs_align_targets[6];

/* ---- clip alignment (align_clip.c) ---- */

typedef struct pcavs_align_params {
    const char *model;  /* shape predictor .dat (NULL = default) */
    int size;           /* output size (0 = 224) */
    double smooth_prev; /* weight of the previous frame's mouth bias (upstream 0.2; < 0 = default) */
    FILE *log;          /* progress and warnings (several faces, lost frames); NULL = silent */
    int max_frames;     /* 0 = all */
} pcavs_align_params;

/* Per-clip result. transforms[i] maps original frame i to aligned frame i (M_i). */
typedef struct pcavs_align_result {
    long n_frames;       /* frames read and written */
    long n_detected;     /* frames where a face was found */
    long n_interpolated; /* frames without a face whose points were interpolated from their neighbours */
    long n_multi;        /* frames with several faces (the largest was used) */
    int src_width, src_height;
    double fps;          /* of a video input (25 for images and folders) */
    int has_audio;       /* video input with an audio stream */
    double m_clip[6];    /* the clip transform (mean points -> targets) */
    double *transforms;  /* [n_frames, 6] M_i, malloc'ed */
    double *three;       /* [n_frames, 6] three points per frame (interpolated where lost), malloc'ed */
    uint8_t *detected;   /* [n_frames] 1 when detected, malloc'ed */
} pcavs_align_result;
void pcavs_align_result_free(pcavs_align_result *r);

/* Aligns every frame of `input` (an image file, a folder of images taken in name order, or a video) into
 * `output`: a folder (created when missing) of %06d.png frames, or a video file when output ends in
 * .mp4/.mov/.mkv/.avi (H.264 at the source frame rate, with the source's audio when it has one). Two
 * passes: landmarks of every frame (points of frames without a face interpolated linearly between the
 * nearest detected frames, held at the ends), then the warp with the clip transform and smoothed mouth bias.
 * Errors: no dlib (UNSUPPORTED), no face in any frame (FORMAT), unreadable input (IO/FORMAT). */
pcavs_status pcavs_align_clip(const char *input, const char *output, const pcavs_align_params *p,
                              pcavs_align_result *res);

/* The alignment from already computed three points per frame ([n, 6]; upstream's second loop): clip
 * transform (res->m_clip) and per-frame transforms ([n, 6]) with the smoothed mouth bias. */
pcavs_status pcavs_align_transforms(const double *three, const uint8_t *valid /* NULL = all */, long n,
                                    double smooth_prev, double m_clip[6], double *transforms);

/* ---- paste-back (align_paste.c) ---- */

/* Affine from generated-face pixel coordinates (a face_size x face_size network output) to original frame
 * pixels, given M_i. upstream_crop = 1 when the generator saw the upstream crop of the aligned frame (rows
 * 0..191, cols 16..207 resized to 224x224, cv2.resize half-pixel centres), as pcavs-infer does; 0 when the
 * face is the aligned frame itself. */
pcavs_status pcavs_align_face_to_frame(const double m_i[6], int face_size, int upstream_crop, double out[6]);

/* Blends a face image into an RGB frame in place: every frame pixel whose preimage falls inside the face is
 * bilinearly sampled from the face and mixed with weight alpha = feathered mask (1 inside, smoothstep down
 * to 0 over `feather` face pixels at each edge). face_to_frame maps face pixels to frame pixels. */
pcavs_status pcavs_align_paste(uint8_t *frame, int fw, int fh, const uint8_t *face /* [s, s, 3] */, int face_size,
                               const double face_to_frame[6], double feather);

/* Paste-back of a whole clip: original frames from `original` (the aligned input), generated faces from
 * `generated` (folder of frames or video), written to `output` (video at the source resolution, odd sizes
 * cropped by one pixel; or a frames folder). Generated frame k is pasted onto original frame min(k, n-1)
 * with res->transforms. audio (may be NULL) is muxed into a video output. */
pcavs_status pcavs_align_paste_clip(const char *original, const pcavs_align_result *res, const char *generated,
                                    int upstream_crop, double feather, const char *audio, const char *output,
                                    FILE *log);

#ifdef __cplusplus
}
#endif
#endif
