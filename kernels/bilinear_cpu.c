/* bilinear_cpu.c: production CPU bilinear resize, align_corners=False (see bilinear.h and
 * docs/numerics.md §4.1): the same float expression as bilinear_ref.c, so results are bit-identical.
 * Column indices and weights are computed once per call into scratch (fallback: on the fly when
 * scratch is too small); OpenMP over planes for large inputs. */
#include <stdint.h>

#include "bilinear.h"

#define PAR_MIN 16384 /* output elements below which one thread is faster */

static void src_index(float r, int o, int in, int *i0, int *step, float *l0, float *l1) {
    float s = r * ((float)o + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    *i0 = (int)s;
    *step = *i0 < in - 1 ? 1 : 0;
    *l1 = s - (float)*i0;
    *l0 = 1.0f - *l1;
}

pcavs_status pcavs_bilinear_cpu(const pcavs_kctx *kc, int planes, int h, int w, int oh, int ow,
                                const float *x, /* [planes, h, w] */
                                float *y) {     /* [planes, oh, ow] */
    if (planes < 1 || h < 1 || w < 1 || oh < 1 || ow < 1)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_cpu: non-positive size planes=%d %dx%d -> %dx%d", planes, h,
                          w, oh, ow);
    if (!x || !y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "bilinear_cpu: NULL operand");
    const float rh = (float)h / (float)oh, rw = (float)w / (float)ow;
    /* column tables: x0 [ow], x1 [ow] (int), m0 [ow], m1 [ow] (float) */
    const size_t need = (size_t)ow * (2 * sizeof(int) + 2 * sizeof(float));
    int *cx0 = NULL, *cx1 = NULL;
    float *cm0 = NULL, *cm1 = NULL;
    if (kc && kc->scratch && kc->scratch_bytes >= need) {
        cx0 = (int *)kc->scratch;
        cx1 = cx0 + ow;
        cm0 = (float *)(cx1 + ow);
        cm1 = cm0 + ow;
        for (int ox = 0; ox < ow; ox++) {
            int i0, st;
            src_index(rw, ox, w, &i0, &st, &cm0[ox], &cm1[ox]);
            cx0[ox] = i0;
            cx1[ox] = i0 + st;
        }
    }
    const int nth = kc && kc->n_threads > 0 ? kc->n_threads : 1;
#pragma omp parallel for num_threads(nth) schedule(static) if (nth > 1 && (long)planes * oh * ow >= PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            int y0, ys;
            float l0, l1;
            src_index(rh, oy, h, &y0, &ys, &l0, &l1);
            const float *r0 = xp + (size_t)y0 * w, *r1 = xp + (size_t)(y0 + ys) * w;
            float *yr = yp + (size_t)oy * ow;
            if (cx0) {
                for (int ox = 0; ox < ow; ox++) {
                    const int a = cx0[ox], b = cx1[ox];
                    const float m0 = cm0[ox], m1 = cm1[ox];
                    const float top = m0 * r0[a] + m1 * r0[b];
                    const float bot = m0 * r1[a] + m1 * r1[b];
                    yr[ox] = l0 * top + l1 * bot;
                }
            } else {
                for (int ox = 0; ox < ow; ox++) {
                    int a, st;
                    float m0, m1;
                    src_index(rw, ox, w, &a, &st, &m0, &m1);
                    const float top = m0 * r0[a] + m1 * r0[a + st];
                    const float bot = m0 * r1[a] + m1 * r1[a + st];
                    yr[ox] = l0 * top + l1 * bot;
                }
            }
        }
    }
    return PCAVS_OK;
}
