/* bilinear.h: bilinear resize with align_corners=False (F.interpolate / F.upsample, size
 * given): the FAN hourglass's 3->7, 7->14, 14->28, 28->56. Source index per PyTorch:
 *   r = (float)in/out; s = r*(o+0.5f)-0.5f clamped at 0; i0 = (int)s; i1 = i0 + (i0 < in-1);
 *   l1 = s - i0; l0 = 1 - l1   (rows and columns alike). */
#ifndef PCAVS_KERNELS_BILINEAR_H
#define PCAVS_KERNELS_BILINEAR_H

#include "kctx.h"

/* x [planes, h, w] -> y [planes, oh, ow]. */
pcavs_status pcavs_bilinear_ref(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                float *y);
pcavs_status pcavs_bilinear_cpu(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                float *y);
pcavs_status pcavs_bilinear_cuda(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow, const float *x,
                                 float *y);

#endif
