/* softmax_cpu.c: production CPU softmax along the middle axis of [outer, len, inner]
 * (A_sync's nn.Softmax(dim=2) over 3 time steps, inner = 1): max-subtracted expf, float sum,
 * then multiplication by 1/sum as PyTorch's CPU softmax does. OpenMP over `outer` for large
 * inputs; for inner > 1 the loops run along `inner` (contiguous, vectorisable). y may equal x. */
#include <math.h>

#include "softmax.h"

pcavs_status pcavs_softmax_cpu(const pcavs_kctx *kc, int outer, int len, int inner,
                               const float *x, /* [outer, len, inner] */
                               float *y) {     /* [outer, len, inner] */
    if (outer < 1 || len < 1 || inner < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_cpu: non-positive size outer=%d len=%d inner=%d", outer, len,
                          inner);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "softmax_cpu: NULL operand");
    const int nth = kc && kc->n_threads > 0 ? kc->n_threads : 1;
    const long total = (long)outer * len * inner;
    if (inner == 1) {
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && total >= 65536)
        for (int o = 0; o < outer; o++) {
            const float *xr = x + (size_t)o * len;
            float *yr = y + (size_t)o * len;
            float m = xr[0];
            for (int l = 1; l < len; l++) m = xr[l] > m ? xr[l] : m;
            float s = 0.0f;
            for (int l = 0; l < len; l++) {
                const float e = expf(xr[l] - m);
                yr[l] = e;
                s += e;
            }
            const float r = 1.0f / s;
            for (int l = 0; l < len; l++) yr[l] *= r;
        }
        return PCAVS_OK;
    }
    /* inner > 1: work items are (outer, chunk of CH inner positions); the per-position max and
     * sum live in small stack arrays, and each pass runs along contiguous inner positions. */
    enum { CH = 64 };
    const int nchunk = (inner + CH - 1) / CH;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && total >= 65536)
    for (long t = 0; t < (long)outer * nchunk; t++) {
        const int o = (int)(t / nchunk), i0 = (int)(t % nchunk) * CH;
        const int cn = inner - i0 < CH ? inner - i0 : CH;
        const float *xb = x + (size_t)o * len * inner + i0;
        float *yb = y + (size_t)o * len * inner + i0;
        float m[CH], s[CH];
        for (int i = 0; i < cn; i++) m[i] = xb[i], s[i] = 0.0f;
        for (int l = 1; l < len; l++)
            for (int i = 0; i < cn; i++) {
                const float v = xb[(size_t)l * inner + i];
                m[i] = v > m[i] ? v : m[i];
            }
        for (int l = 0; l < len; l++)
            for (int i = 0; i < cn; i++) {
                const float e = expf(xb[(size_t)l * inner + i] - m[i]);
                yb[(size_t)l * inner + i] = e;
                s[i] += e;
            }
        for (int i = 0; i < cn; i++) s[i] = 1.0f / s[i];
        for (int l = 0; l < len; l++)
            for (int i = 0; i < cn; i++) yb[(size_t)l * inner + i] *= s[i];
    }
    return PCAVS_OK;
}
