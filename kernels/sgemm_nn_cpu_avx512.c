/* sgemm_nn_cpu_avx512.c: the AVX-512 form of pcavs_sgemm_nn (sgemm_nn.h), compiled with -mavx512f and
 * called only where the CPU has it. Micro-kernel: 8 rows x up to 3 vectors (48 columns) of C in 24 zmm
 * accumulators; per k, 3 loads of B's row and 8 broadcasts of A's column, 24 FMAs (close to the FMA peak with
 * everything in L1). B is walked in column panels of about
 * B_PANEL_BYTES that stay in L2 while every 8-row block of A passes; a partial last vector is masked. Each row
 * block's first column block prefetches the next row block of A (Winograd weights come from DRAM, read once per
 * chunk: on narrow chunks the kernel would wait on them). */
#include <immintrin.h>
#include <stddef.h>

#include "sgemm_nn.h"

#define MR 8
#define PF_DIST                                                                                                        \
    8 /* rows of B prefetched ahead: its first pass comes from DRAM at a stride prefetchers do not follow              \
       */
#define B_PANEL_BYTES (256u << 10)
#define KB                                                                                                             \
    256 /* the reduction in blocks of 256, their partial sums added: as accurate as OpenBLAS's blocked                 \
         * sum (Winograd at 512 channels: 3.2e-6 rel L2 against 4.6e-6 for one sequential sum of 512) */

/* One block of C: 8 rows x NV vectors (the last masked by `last`) = A's 8 rows x B, over k. The 8 x NV
 * accumulators are named variables: an array of them was stored to the stack every k by GCC 12 (half speed). */
#define ROW_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0, c##i##2 = c##i##0
#define ROW_FMA(i, NV)                                                                                                 \
    do {                                                                                                               \
        const __m512 av = _mm512_set1_ps(a[(size_t)(i)*lda + p]);                                                      \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0);                                                                    \
        if (NV > 1) c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1);                                                        \
        if (NV > 2) c##i##2 = _mm512_fmadd_ps(av, b2, c##i##2);                                                        \
    } while (0)
#define ROW_STORE(i, NV)                                                                                               \
    do {                                                                                                               \
        float *ci = c + (size_t)(i)*ldc;                                                                               \
        if (add) {                                                                                                     \
            c##i##0 = _mm512_add_ps(c##i##0, NV == 1 ? _mm512_maskz_loadu_ps(last, ci) : _mm512_loadu_ps(ci));         \
            if (NV == 2) c##i##1 = _mm512_add_ps(c##i##1, _mm512_maskz_loadu_ps(last, ci + 16));                       \
            if (NV > 2)                                                                                                \
                c##i##1 = _mm512_add_ps(c##i##1, _mm512_loadu_ps(ci + 16)),                                            \
                c##i##2 = _mm512_add_ps(c##i##2, _mm512_maskz_loadu_ps(last, ci + 32));                                \
        }                                                                                                              \
        if (NV == 1)                                                                                                   \
            _mm512_mask_storeu_ps(ci, last, c##i##0);                                                                  \
        else                                                                                                           \
            _mm512_storeu_ps(ci, c##i##0);                                                                             \
        if (NV == 2) _mm512_mask_storeu_ps(ci + 16, last, c##i##1);                                                    \
        if (NV > 2) _mm512_storeu_ps(ci + 16, c##i##1), _mm512_mask_storeu_ps(ci + 32, last, c##i##2);                 \
    } while (0)
#define DEFINE_BLOCK(NAME, NV)                                                                                         \
    static void NAME(__mmask16 last, int add, int k, const float *a, int lda, const float *b, int ldb, float *c,       \
                     int ldc, const float *pf_a) {                                                                     \
        ROW_DECL(0);                                                                                                   \
        ROW_DECL(1);                                                                                                   \
        ROW_DECL(2);                                                                                                   \
        ROW_DECL(3);                                                                                                   \
        ROW_DECL(4);                                                                                                   \
        ROW_DECL(5);                                                                                                   \
        ROW_DECL(6);                                                                                                   \
        ROW_DECL(7);                                                                                                   \
        for (int p = 0; p < k; p++) {                                                                                  \
            const float *bp = b + (size_t)p * ldb;                                                                     \
            if (pf_a && (p & 1) == 0) /* the next 8-row block of A: a line of one of its rows every 2 steps */         \
                _mm_prefetch((const char *)(pf_a + (size_t)((p >> 1) & 7) * lda + ((p >> 4) << 4)), _MM_HINT_T0);      \
            if (PF_DIST) {                                                                                             \
                const char *pf = (const char *)(bp + (size_t)PF_DIST * ldb);                                           \
                _mm_prefetch(pf, _MM_HINT_T0);                                                                         \
                if (NV > 1) _mm_prefetch(pf + 64, _MM_HINT_T0);                                                        \
                if (NV > 2) _mm_prefetch(pf + 128, _MM_HINT_T0);                                                       \
            }                                                                                                          \
            const __m512 b0 = NV == 1 ? _mm512_maskz_loadu_ps(last, bp) : _mm512_loadu_ps(bp);                         \
            const __m512 b1 = NV == 2 ? _mm512_maskz_loadu_ps(last, bp + 16) : NV > 2 ? _mm512_loadu_ps(bp + 16) : b0; \
            const __m512 b2 = NV > 2 ? _mm512_maskz_loadu_ps(last, bp + 32) : b0;                                      \
            ROW_FMA(0, NV);                                                                                            \
            ROW_FMA(1, NV);                                                                                            \
            ROW_FMA(2, NV);                                                                                            \
            ROW_FMA(3, NV);                                                                                            \
            ROW_FMA(4, NV);                                                                                            \
            ROW_FMA(5, NV);                                                                                            \
            ROW_FMA(6, NV);                                                                                            \
            ROW_FMA(7, NV);                                                                                            \
        }                                                                                                              \
        ROW_STORE(0, NV);                                                                                              \
        ROW_STORE(1, NV);                                                                                              \
        ROW_STORE(2, NV);                                                                                              \
        ROW_STORE(3, NV);                                                                                              \
        ROW_STORE(4, NV);                                                                                              \
        ROW_STORE(5, NV);                                                                                              \
        ROW_STORE(6, NV);                                                                                              \
        ROW_STORE(7, NV);                                                                                              \
    }
DEFINE_BLOCK(block8x3, 3)
DEFINE_BLOCK(block8x2, 2)
DEFINE_BLOCK(block8x1, 1)

/* a partial last row block (fewer than 8 rows): one row and one vector at a time */
static void rows_tail(int mr, int add, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                      int ldc) {
    for (int i = 0; i < mr; i++)
        for (int j0 = 0; j0 < n; j0 += 16) {
            const __mmask16 m = n - j0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j0)) - 1u);
            __m512 acc = _mm512_setzero_ps();
            for (int p = 0; p < k; p++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)i * lda + p]),
                                      _mm512_maskz_loadu_ps(m, b + (size_t)p * ldb + j0), acc);
            float *ci = c + (size_t)i * ldc + j0;
            if (add) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, ci));
            _mm512_mask_storeu_ps(ci, m, acc);
        }
}

/* A few columns left after the last whole vector (at most DOT_MAX): each as 8 dot products along k with A's rows,
 * the column gathered once into bcol (a masked vector block would cost as much as 16 columns: conv 28x28's 49
 * tiles are 48 + 1, 56x56's 196 are 192 + 4, the upsampling phases' 225 are 224 + 1). */
#define DOT_MAX 8
static void dot8(int add, int k, const float *a, int lda, const float *bcol, float *c, int ldc) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (int p = 0; p < k; p += 16) {
        const __mmask16 m = k - p >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - p)) - 1u);
        const __m512 bv = _mm512_maskz_loadu_ps(m, bcol + p);
#define DOT_ROW(i) s##i = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + (size_t)(i)*lda + p), bv, s##i)
        DOT_ROW(0);
        DOT_ROW(1);
        DOT_ROW(2);
        DOT_ROW(3);
        DOT_ROW(4);
        DOT_ROW(5);
        DOT_ROW(6);
        DOT_ROW(7);
#undef DOT_ROW
    }
    const float r[8] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                        _mm512_reduce_add_ps(s3), _mm512_reduce_add_ps(s4), _mm512_reduce_add_ps(s5),
                        _mm512_reduce_add_ps(s6), _mm512_reduce_add_ps(s7)};
    for (int i = 0; i < MR; i++) c[(size_t)i * ldc] = add ? c[(size_t)i * ldc] + r[i] : r[i];
}

/* columns [j0, j1) of every full 8-row block: 48-column blocks, then the tail: whole vectors and dot8 columns
 * where a few columns remain past them, else vectors with the last one masked */
static void row_blocks(int m8, int add, int j0, int j1, int k, const float *a, int lda, const float *b, int ldb,
                       float *c, int ldc) {
    const int rem = (j1 - j0) % 48 % 16, ndot = rem > 0 && rem <= DOT_MAX && k <= KB ? rem : 0;
    float bcol[DOT_MAX][KB]; /* the dot columns of B, contiguous */
    for (int d = 0; d < ndot; d++)
        for (int p = 0; p < k; p++) bcol[d][p] = b[(size_t)p * ldb + j1 - ndot + d];
    j1 -= ndot;
    for (int i0 = 0; i0 < m8; i0 += MR) {
        const float *ai = a + (size_t)i0 * lda;
        float *ci = c + (size_t)i0 * ldc;
        /* the first column block prefetches the next row block's A (from DRAM at thin N it stalled the kernel) */
        const float *pf = ai + (size_t)MR * lda;
        int j = j0;
        for (; j + 48 <= j1; j += 48, pf = NULL)
            block8x3((__mmask16)0xffff, add, k, ai, lda, b + j, ldb, ci + j, ldc, pf);
        if (j < j1) {
            const int cols = j1 - j, nv = (cols + 15) / 16;
            const __mmask16 last = (__mmask16)((1u << (cols - 16 * (nv - 1))) - 1u);
            if (nv == 3)
                block8x3(last, add, k, ai, lda, b + j, ldb, ci + j, ldc, pf);
            else if (nv == 2)
                block8x2(last, add, k, ai, lda, b + j, ldb, ci + j, ldc, pf);
            else
                block8x1(last, add, k, ai, lda, b + j, ldb, ci + j, ldc, pf);
        }
        for (int d = 0; d < ndot; d++) dot8(add, k, ai, lda, bcol[d], ci + j1 + d, ldc);
    }
}

void pcavs_sgemm_nn_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    const int m8 = m / MR * MR;
    const int kb_max = k < KB ? k : KB;
    int nb = (int)(B_PANEL_BYTES / sizeof(float) / (size_t)kb_max) / 48 * 48; /* panel width */
    if (nb < 48) nb = 48;
    for (int p0 = 0; p0 < k; p0 += KB) {
        const int kb = k - p0 < KB ? k - p0 : KB, add = p0 > 0;
        const float *ap = a + p0, *bp = b + (size_t)p0 * ldb;
        for (int j0 = 0; j0 < n; j0 += nb)
            row_blocks(m8, add, j0, n - j0 < nb ? n : j0 + nb, kb, ap, lda, bp, ldb, c, ldc);
        if (m8 < m) rows_tail(m - m8, add, n, kb, ap + (size_t)m8 * lda, lda, bp, ldb, c + (size_t)m8 * ldc, ldc);
    }
}
