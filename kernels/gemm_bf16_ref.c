/* gemm_bf16_ref.c: the bf16 GEMM's reference form and the operand packing (gemm_bf16.h). The
 * reference reads the packed layouts element by element and sums in float32 in k order. */
#include <string.h>

#include "gemm_bf16.h"

void pcavs_bf16_pack_a(int m, int k, const float *a, long lda, float scale, uint16_t *out) {
    const size_t kp = pcavs_bf16_round32((size_t)k), mp = pcavs_bf16_round32((size_t)m);
    for (size_t r = 0; r < mp; r++) {
        uint16_t *o = out + r * kp;
        if (r >= (size_t)m) {
            memset(o, 0, kp * sizeof(uint16_t));
            continue;
        }
        const float *ar = a + r * (size_t)lda;
        for (int j = 0; j < k; j++) o[j] = pcavs_bf16_round(ar[j] * scale);
        for (size_t j = (size_t)k; j < kp; j++) o[j] = 0;
    }
}

void pcavs_bf16_pack_b_ref(int k, long n, const float *b, long ldb, uint16_t *out) {
    const size_t kp = pcavs_bf16_round32((size_t)k), np = pcavs_bf16_round32((size_t)n);
    for (size_t blk = 0; blk < np / 16; blk++)
        for (size_t q = 0; q < kp / 2; q++)
            for (size_t j = 0; j < 16; j++) {
                const size_t col = blk * 16 + j;
                uint16_t *o = out + ((blk * (kp / 2) + q) * 16 + j) * 2;
                for (size_t h = 0; h < 2; h++) {
                    const size_t row = 2 * q + h;
                    o[h] = (row < (size_t)k && col < (size_t)n) ? pcavs_bf16_round(b[row * (size_t)ldb + col]) : 0;
                }
            }
}

void pcavs_bf16_plane_ref(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out) {
    for (int r = 0; r < rows; r++)
        for (long j = 0; j < ls; j++) {
            const long yy = r - pad, xx = j - pad;
            out[(size_t)r * ls + j] =
                (yy >= 0 && yy < h && xx >= 0 && xx < w) ? pcavs_bf16_round(s * x[(size_t)yy * w + xx]) : 0;
        }
}

void pcavs_bf16_plane_pair_ref(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                               long ls, uint16_t *out) {
    for (int r = 0; r < rows; r++)
        for (long j = 0; j < ls; j++) {
            const long yy = r - pad, xx = j - pad;
            const int in = yy >= 0 && yy < h && xx >= 0 && xx < w;
            uint16_t *o = out + ((size_t)r * ls + j) * 2;
            o[0] = in ? pcavs_bf16_round(s0 * x0[(size_t)yy * w + xx]) : 0;
            o[1] = in ? pcavs_bf16_round(s1 * x1[(size_t)yy * w + xx]) : 0;
        }
}

void pcavs_bf16_pack_b_taps_ref(int k, long n, const uint16_t *src, const long *off, int gwp, long ls, uint16_t *out) {
    const size_t kp = pcavs_bf16_round32((size_t)k), np = pcavs_bf16_round32((size_t)n);
    for (size_t blk = 0; blk < np / 16; blk++)
        for (size_t q = 0; q < kp / 2; q++)
            for (size_t j = 0; j < 16; j++) {
                const size_t col = blk * 16 + j;
                uint16_t *o = out + ((blk * (kp / 2) + q) * 16 + j) * 2;
                for (size_t hh = 0; hh < 2; hh++) {
                    const size_t row = 2 * q + hh;
                    o[hh] = (row < (size_t)k && col < (size_t)n)
                                ? src[off[row] + (long)(col / (size_t)gwp) * ls + (long)(col % (size_t)gwp)]
                                : 0;
                }
            }
}

pcavs_status pcavs_gemm_bf16_ref(int m, long n, int k, const uint16_t *a, /* [Mp, Kp] */
                                 const uint16_t *b,                       /* [Np/16][Kp/2][16][2] */
                                 float *c, long ldc) {                    /* [m, n] */
    if (m < 1 || n < 1 || k < 1 || !a || !b || !c)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "gemm_bf16_ref: bad arguments (m=%d n=%ld k=%d)", m, n, k);
    const size_t kp = pcavs_bf16_round32((size_t)k);
    for (int r = 0; r < m; r++)
        for (long col = 0; col < n; col++) {
            const uint16_t *bb = b + (size_t)(col / 16) * (kp / 2) * 32 + (size_t)(col % 16) * 2;
            float s = 0.0f;
            for (size_t q = 0; q < kp / 2; q++) {
                s += pcavs_bf16_widen(a[(size_t)r * kp + 2 * q]) * pcavs_bf16_widen(bb[q * 32]);
                s += pcavs_bf16_widen(a[(size_t)r * kp + 2 * q + 1]) * pcavs_bf16_widen(bb[q * 32 + 1]);
            }
            c[(size_t)r * ldc + col] = s;
        }
    return PCAVS_OK;
}
