/* landmarks_bridge.h: the C ABI of the dlib bridge (landmarks_dlib.cpp, a shared library built only when
 * libdlib-dev is found). Returns 0 on success, nonzero with a message in err otherwise; never throws. */
#ifndef PCAVS_LANDMARKS_BRIDGE_H
#define PCAVS_LANDMARKS_BRIDGE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
int pcavs_dlib_open(const char *model, void **out, char *err, size_t cap);
void pcavs_dlib_close(void *h);
/* HOG detection on an RGB image ([h, w, 3]); rects [max_rects, 4] = left, top, right, bottom; *n = all found. */
int pcavs_dlib_detect(void *h, const uint8_t *rgb, int w, int hh, int upsample, double *rects, int max_rects, int *n,
                      char *err, size_t cap);
/* 68 landmarks (pts [68, 2], sub-pixel, not rounded) inside rect; refine: the mean over the box shifted on a 3x3
 * grid (3% of its width) and the mirrored image (18 predictions). */
int pcavs_dlib_shape(void *h, const uint8_t *rgb, int w, int hh, const double rect[4], int refine, double *pts,
                     char *err, size_t cap);
#ifdef __cplusplus
}
#endif
#endif
