/* paste_mask.h: the regions a generated face is pasted into (mouth, face, full square), built from dlib's 68
 * landmarks in aligned-crop coordinates (the 224x224 space of the alignment transform M_i), as a signed
 * distance per frame pixel. No upstream counterpart (upstream stops at the aligned crops). */
#ifndef PCAVS_PASTE_MASK_H
#define PCAVS_PASTE_MASK_H

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* polygon vertices: the 17 jaw points cut by one line, or the monotone-chain hull of 78 points (its stack may
 * briefly hold up to 2 x 78) */
#define PASTE_SHAPE_MAX 160

/* A mask in aligned-crop pixels: the polygon (unless full) grown by `grow`, intersected with the generated
 * square less the blend margin. */
typedef struct paste_shape {
    int full;                       /* 1: the square alone */
    int n;                          /* polygon vertices */
    double xy[2 * PASTE_SHAPE_MAX]; /* [n, 2] polygon (aligned px) */
    double grow;                    /* signed distance offset (grows the polygon) */
    double sq[4];                   /* generated square in aligned px: x0, y0, x1, y1 */
    double margin;                  /* blend margin */
} paste_shape;

/* The generated square's extent in aligned pixels (fs: the face's side; upstream_crop as in
 * pcavs_align_face_to_frame) and the affine from face pixels to aligned pixels. */
void paste_face_square(int fs, int upstream_crop, double sq[4], double face_to_aligned[6]);

/* Builds the mask of p->mask from the 68 landmarks in aligned pixels (aligned [68, 2]; unused for FULL). */
pcavs_status paste_shape_build(const pcavs_paste_params *p, const double *aligned, const double sq[4], paste_shape *s);

/* Signed distance (aligned px, > 0 inside) of the aligned point (x, y) to the mask's boundary. */
double paste_shape_distance(const paste_shape *s, double x, double y);

/* Bounding box {x0, y0, x1, y1} (aligned px) of where the distance is >= -margin. */
void paste_shape_bounds(const paste_shape *s, double box[4]);

#ifdef __cplusplus
}
#endif
#endif
