/* concat_cpu.c: production CPU channel concatenation (torch.cat(dim=1), see concat.h): one memcpy
 * of channels[i]*hw floats per (image, input), OpenMP over those blocks for large outputs. */
#include <string.h>

#include "concat.h"

pcavs_status pcavs_concat_cpu(const pcavs_kctx *kc, int n, int count,
                              const float *const *xs,                  /* count x [n, channels[i], hw] */
                              const int *channels, int hw, float *y) { /* [n, sum(channels), hw] */
    if (n < 1 || count < 1 || hw < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cpu: non-positive size n=%d count=%d hw=%d", n, count, hw);
    if (!xs || !channels || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cpu: NULL operand");
    long ctot = 0;
    for (int i = 0; i < count; i++) {
        if (channels[i] < 1 || !xs[i])
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "concat_cpu: input %d: channels=%d or NULL pointer", i,
                              channels[i]);
        ctot += channels[i];
    }
    const int nth = kc && kc->n_threads > 0 ? kc->n_threads : 1;
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (nth > 1 && (long)n * ctot * hw >= 65536)
    for (long t = 0; t < (long)n * count; t++) {
        const int b = (int)(t / count), i = (int)(t % count);
        long c0 = 0;
        for (int j = 0; j < i; j++) c0 += channels[j];
        const size_t len = (size_t)channels[i] * hw;
        memcpy(y + ((size_t)b * ctot + c0) * hw, xs[i] + (size_t)b * len, len * sizeof(float));
    }
    return PCAVS_OK;
}
