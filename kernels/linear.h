/* linear.h: fully connected layer (nn.Linear, and Conv1d with k=1 applied per time step):
 *   y[i][o] = sum_k x[i][k] * w[o][k] + bias[o], then act.
 * Heads of E (512->512, 512->12, 512->500, 784->512), A_sync (2560->128, 128->2560,
 * 2560->512, SE layers) and the generator's style modulation (2560 -> c_in). */
#ifndef PCAVS_KERNELS_LINEAR_H
#define PCAVS_KERNELS_LINEAR_H

#include "kctx.h"

/* x [rows, in], w [out, in], bias [out] or NULL, y [rows, out]. */
pcavs_status pcavs_linear_ref(const pcavs_kctx *kc, int rows, int in, int out, const float *x, const float *w,
                              const float *bias, pcavs_act act, float *y);
pcavs_status pcavs_linear_cpu(const pcavs_kctx *kc, int rows, int in, int out, const float *x, const float *w,
                              const float *bias, pcavs_act act, float *y);
pcavs_status pcavs_linear_cuda(const pcavs_kctx *kc, int rows, int in, int out, const float *x, const float *w,
                               const float *bias, pcavs_act act, float *y);

#endif
