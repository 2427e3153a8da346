/* winograd_scatter.h: the transpose at the end of the Winograd output transforms (winograd_transforms.h for
 * F(4x4, 3x3) and F(6x6, 3x3), winograd_up_cpu.c for the upsampling phases): one output row of a group of
 * WINO_LANES = 8 tiles, held by tile value as src[s * 8 + q] (value s = 0..T-1 of lane q), into image order
 * row[T q + s] (8 T consecutive floats), optionally with the tail of styled_act.h (times sc, + noise_weight times
 * the noise at the same positions (nrow, or NULL), + bias, the activation act). With GCC it runs as two-source
 * vector shuffles and whole-vector stores: a buffer written value by value and read back as vectors stalls on
 * store forwarding. Internal to kernels/. */
#ifndef PCAVS_KERNELS_WINOGRAD_SCATTER_H
#define PCAVS_KERNELS_WINOGRAD_SCATTER_H

#include <string.h>

#include "styled_act.h"

#if defined(__GNUC__) && !defined(__clang__) /* __builtin_shuffle; __builtin_shufflevector (GCC 12) */
typedef float wino_fv8 __attribute__((vector_size(32)));
typedef float wino_fv16 __attribute__((vector_size(64)));
typedef int wino_iv16 __attribute__((vector_size(64)));

/* T = 4 or 6 (a constant where inlined); `affine` 0 stores the values as they are. Element i of output vector k is
 * row[e], e = 16 k + i, which is src[(e % T) * 8 + e / T]: the masks below. */
static inline __attribute__((always_inline)) void wino_lanes_to_row(const float *src, int T, int affine, float sc,
                                                                    float bias, int act, const float *nrow, float nw,
                                                                    float *row) {
    static const wino_iv16 m4[2] = {{0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27},
                                    {4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31}};
    /* T = 6: values 0..3 from the first two vectors, then 4, 5 from the third */
    static const wino_iv16 m6a[3] = {{0, 8, 16, 24, 0, 0, 1, 9, 17, 25, 0, 0, 2, 10, 18, 26},
                                     {0, 0, 3, 11, 19, 27, 0, 0, 4, 12, 20, 28, 0, 0, 5, 13},
                                     {21, 29, 0, 0, 6, 14, 22, 30, 0, 0, 7, 15, 23, 31, 0, 0}};
    static const wino_iv16 m6b[3] = {{0, 1, 2, 3, 16, 24, 6, 7, 8, 9, 17, 25, 12, 13, 14, 15},
                                     {18, 26, 2, 3, 4, 5, 19, 27, 8, 9, 10, 11, 20, 28, 14, 15},
                                     {0, 1, 21, 29, 4, 5, 6, 7, 22, 30, 10, 11, 12, 13, 23, 31}};
    wino_fv16 z[3], o[3];
    for (int k = 0; k < T / 2; k++) { /* two 8-lane halves (as the transforms store them) into one vector */
        wino_fv8 lo, hi;
        memcpy(&lo, src + 16 * k, sizeof lo);
        memcpy(&hi, src + 16 * k + 8, sizeof hi);
        z[k] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    if (T == 4)
        for (int k = 0; k < 2; k++) o[k] = __builtin_shuffle(z[0], z[1], m4[k]);
    else
        for (int k = 0; k < 3; k++) o[k] = __builtin_shuffle(__builtin_shuffle(z[0], z[1], m6a[k]), z[2], m6b[k]);
    const wino_fv16 zero = {0};
    for (int k = 0; k < T / 2; k++) {
        wino_fv16 v = o[k];
        if (affine && nrow) {
            wino_fv16 nz;
            memcpy(&nz, nrow + 16 * k, sizeof nz);
            v = v * sc + nz * nw + bias;
        } else if (affine) {
            v = v * sc + bias;
        }
        if (act == PCAVS_STORE_ACT_RELU) {
            v = (wino_fv16)((wino_iv16)v & (v > zero));
        } else if (act == PCAVS_STORE_ACT_LRELU) { /* as pcavs_lrelu_sqrt2: the sign splits v, no compare */
            const wino_iv16 neg = (wino_iv16)v >> 31;
            v = ((wino_fv16)((wino_iv16)v & ~neg) + (wino_fv16)((wino_iv16)v & neg) * 0.2f) * PCAVS_SQRT2_F;
        }
        memcpy(row + 16 * k, &v, sizeof v);
    }
}
#else
static inline void wino_lanes_to_row(const float *src, int T, int affine, float sc, float bias, int act,
                                     const float *nrow, float nw, float *row) {
    for (int q = 0; q < 8; q++)
        for (int s = 0; s < T; s++) {
            float v = src[s * 8 + q];
            if (affine) v = nrow ? v * sc + nrow[T * q + s] * nw + bias : v * sc + bias;
            row[T * q + s] = pcavs_store_act(v, act);
        }
}
#endif

#endif
