/* concat.h: concatenation along channels (torch.cat(dim=1)) of `count` tensors
 * xs[i] [n, channels[i], hw] into y [n, sum(channels), hw]: the FAN ConvBlock's
 * cat(out1, out2, out3) and the style vector cat(id_feature, pose_feature) (hw = 1). */
#ifndef PCAVS_KERNELS_CONCAT_H
#define PCAVS_KERNELS_CONCAT_H

#include "kctx.h"

pcavs_status pcavs_concat_ref(const pcavs_kctx *kc, int n, int count, const float *const *xs, const int *channels,
                              int hw, float *y);
pcavs_status pcavs_concat_cpu(const pcavs_kctx *kc, int n, int count, const float *const *xs, const int *channels,
                              int hw, float *y);
pcavs_status pcavs_concat_cuda(const pcavs_kctx *kc, int n, int count, const float *const *xs, const int *channels,
                               int hw, float *y);

#endif
