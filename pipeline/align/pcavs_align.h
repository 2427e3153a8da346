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
 * weights; docs/numerics.md §3.5). M maps source to destination pixel coordinates (as OpenCV, no
 * WARP_INVERSE_MAP). channels 1..4. */
pcavs_status pcavs_warp_affine_u8(const uint8_t *src, int sw, int sh, size_t src_stride, int channels,
                                  const double m[6], uint8_t *dst /* [dh, dw, channels] */, int dw, int dh,
                                  uint8_t border);

/* ---- landmarks (landmarks.c + the dlib bridge) ---- */

/* pcavs_landmarks_available and pcavs_landmarks_default_model are public (include/pcavs.h). */

typedef struct pcavs_landmarker pcavs_landmarker;
/* Loads the HOG detector and the 68-point shape predictor (model NULL = default; $PCAVS_DLIB_MODEL overrides
 * the default). PCAVS_ERR_UNSUPPORTED in a build without dlib, PCAVS_ERR_IO for a missing model. */
pcavs_status pcavs_landmarker_open(const char *model, pcavs_landmarker **out);
void pcavs_landmarker_close(pcavs_landmarker *lm);
/* refine 1 (the default after open): the landmarks are the mean of 18 sub-pixel predictions (face box shifted
 * on a 3x3 grid by 3% of its width, frame and mirror image); 0: one sub-pixel prediction (dlib's own, without
 * its rounding to whole pixels). No effect in a build without dlib. */
void pcavs_landmarker_set_refine(pcavs_landmarker *lm, int refine);
/* Detects faces in an RGB frame (padded with a black border first, so that a face filling the frame, as in a
 * VoxCeleb2 crop, is still found; large frames are detected on a downscaled copy). *n_faces receives the
 * number of faces; when >= 1, pts receives the 68 landmarks (x, y in frame pixels, sub-pixel; see
 * pcavs_landmarker_set_refine) of the largest one and box (may be NULL) its rectangle {left, top, right, bottom}. */
pcavs_status pcavs_landmarker_detect(pcavs_landmarker *lm, const uint8_t *rgb, int w, int h, int *n_faces,
                                     double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double box[4]);

/* Upstream get_eyes_mouths: mean of 36-41 (right eye), 42-47 (left eye), 60-67 (inner mouth). */
void pcavs_align_three_points(const double pts[2 * PCAVS_ALIGN_N_LANDMARKS], double three[6]);
/* Upstream's fixed targets (87,59), (137,59), (112,120). */
extern const double pcavs_align_targets[6];

/* ---- clip alignment (align_clip.c) ---- */

/* pcavs_align_params, pcavs_align_result, pcavs_align_result_free, pcavs_align_clip and
 * pcavs_align_paste_clip are public: include/pcavs.h ("face alignment"). */

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

/* ---- masked paste-back (align_paste.c; pcavs_paste_frame and the params are public: include/pcavs.h) ---- */

/* PCAVS_ERR_INVALID_ARG naming the field when a params struct is out of range. */
pcavs_status pcavs_paste_params_check(const pcavs_paste_params *p);

#ifdef __cplusplus
}
#endif
#endif
