/* gemm_bf16_cpu_avx512bf16.c: the AVX512-BF16 forms of the bf16 GEMM and of the B packing (gemm_bf16.h),
 * compiled with -mavx512bf16 and called only where the CPU has it (gemm_bf16_cpu.c decides).
 * Micro-kernel: 8 rows x 32 columns of C in 16 zmm accumulators; per k-pair one VDPBF16PS per
 * accumulator with the A pair broadcast (A is row-major, so a pair is one 32-bit word). The reduction goes
 * in blocks of KQ k-pairs whose 32 columns of B stay in L1 while every row block passes (C accumulates in
 * memory between blocks). */
#include <immintrin.h>
#include <string.h>
#include <time.h>

#include "gemm_bf16.h"

#define MR 8
#define KQ 192 /* k-pairs per block: 32 columns of packed B = 24 KB, stays in L1 across the row blocks */

/* Index vector for _mm512_permutexvar/permutex2var_epi16 that interleaves 16 bf16 values at position 0 with
 * 16 at position `second` (16: the upper half of one vector; 32: the lower half of the second operand)
 * into (a[j], b[j]) pairs. */
static __m512i pair_index(int second) {
    uint16_t t[32];
    for (int j = 0; j < 16; j++) {
        t[2 * j] = (uint16_t)j;
        t[2 * j + 1] = (uint16_t)(second + j);
    }
    __m512i idx;
    memcpy(&idx, t, sizeof idx);
    return idx;
}

void pcavs_bf16_pack_b_avx512(int k, long n, const float *b, long ldb, uint16_t *out) {
    const size_t kp = pcavs_bf16_round32((size_t)k), np = pcavs_bf16_round32((size_t)n), nq = kp / 2;
    const __m512i idx = pair_index(16); /* cvtne2ps_pbh(r1, r0) = [bf16(r0[0..15]), bf16(r1[0..15])] */
    const __m512 zero = _mm512_setzero_ps();
    /* row pairs outer (two contiguous streams in), 16-column blocks inner (whole 64-byte lines out) */
    for (size_t q = 0; q < nq; q++) {
        const float *s0 = 2 * q < (size_t)k ? b + 2 * q * (size_t)ldb : NULL;
        const float *s1 = 2 * q + 1 < (size_t)k ? b + (2 * q + 1) * (size_t)ldb : NULL;
        uint16_t *o = out + q * 32;
        for (size_t blk = 0; blk < np / 16; blk++, o += nq * 32) {
            const long col0 = (long)blk * 16;
            __m512 v0 = zero, v1 = zero;
            if (col0 + 16 <= n) {
                if (s0) v0 = _mm512_loadu_ps(s0 + col0);
                if (s1) v1 = _mm512_loadu_ps(s1 + col0);
            } else if (col0 < n) {
                const __mmask16 mask = (__mmask16)((1u << (n - col0)) - 1u);
                if (s0) v0 = _mm512_maskz_loadu_ps(mask, s0 + col0);
                if (s1) v1 = _mm512_maskz_loadu_ps(mask, s1 + col0);
            }
            const __m512i h = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
            _mm512_storeu_si512((void *)o, _mm512_permutexvar_epi16(idx, h));
        }
    }
}

void pcavs_bf16_plane_avx512(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out) {
    const __m512 vs = _mm512_set1_ps(s);
    for (int r = 0; r < rows; r++) {
        uint16_t *o = out + (size_t)r * ls;
        const int yy = r - pad;
        if (yy < 0 || yy >= h) {
            memset(o, 0, (size_t)ls * sizeof(uint16_t));
            continue;
        }
        memset(o, 0, (size_t)pad * sizeof(uint16_t));
        const float *xr = x + (size_t)yy * w;
        int j = 0;
        for (; j + 16 <= w; j += 16)
            _mm256_storeu_si256((__m256i *)(o + pad + j),
                                (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(vs, _mm512_loadu_ps(xr + j))));
        if (j < w) {
            const __mmask16 m = (__mmask16)((1u << (w - j)) - 1u);
            const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(vs, _mm512_maskz_loadu_ps(m, xr + j)));
            _mm256_mask_storeu_epi16(o + pad + j, m, v);
        }
        memset(o + pad + w, 0, (size_t)(ls - pad - w) * sizeof(uint16_t));
    }
}

void pcavs_bf16_plane_pair_avx512(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                                  long ls, uint16_t *out) {
    const __m512i idx = pair_index(16);
    const __m512 v0 = _mm512_set1_ps(s0), v1 = _mm512_set1_ps(s1);
    for (int r = 0; r < rows; r++) {
        uint16_t *o = out + (size_t)r * ls * 2;
        const int yy = r - pad;
        if (yy < 0 || yy >= h) {
            memset(o, 0, (size_t)ls * 2 * sizeof(uint16_t));
            continue;
        }
        memset(o, 0, (size_t)pad * 2 * sizeof(uint16_t));
        const float *r0 = x0 + (size_t)yy * w, *r1 = x1 + (size_t)yy * w;
        for (int j = 0; j < w; j += 16) {
            const __mmask16 m = (__mmask16)(w - j >= 16 ? 0xffffu : (1u << (w - j)) - 1u);
            const __m512 a = _mm512_mul_ps(v0, _mm512_maskz_loadu_ps(m, r0 + j));
            const __m512 b = _mm512_mul_ps(v1, _mm512_maskz_loadu_ps(m, r1 + j));
            const __m512i pr = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(b, a));
            _mm512_mask_storeu_epi32(o + (size_t)(pad + j) * 2, m, pr);
        }
        memset(o + (size_t)(pad + w) * 2, 0, (size_t)(ls - pad - w) * 2 * sizeof(uint16_t));
    }
}

void pcavs_bf16_pack_b_taps_avx512(int k, long n, const uint16_t *src, const long *off, int gwp, long ls,
                                   uint16_t *out) {
    const size_t kp = pcavs_bf16_round32((size_t)k), np = pcavs_bf16_round32((size_t)n), nq = kp / 2;
    const __m512i idx = pair_index(32);
    const long nfull = n / 16; /* whole 16-column blocks (n is a multiple of gwp, itself of 16) */
    const long per_row = gwp / 16;
    for (size_t q = 0; q < nq; q++) {
        const size_t r = 2 * q;
        uint16_t *o = out + q * 32;
        if (r >= (size_t)k) {
            for (size_t blk = 0; blk < np / 16; blk++, o += nq * 32)
                _mm512_storeu_si512((void *)o, _mm512_setzero_si512());
            continue;
        }
        const uint16_t *s0 = src + off[r];
        const uint16_t *s1 = r + 1 < (size_t)k ? src + off[r + 1] : NULL;
        long blk = 0;
        for (long yy = 0; blk < nfull; yy++) {
            const size_t base = (size_t)yy * ls;
            for (long xb = 0; xb < per_row && blk < nfull; xb++, blk++, o += nq * 32) {
                const __m512i a = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(s0 + base + xb * 16)));
                const __m512i b =
                    s1 ? _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(s1 + base + xb * 16)))
                       : _mm512_setzero_si512();
                _mm512_storeu_si512((void *)o, _mm512_permutex2var_epi16(a, idx, b));
            }
        }
        for (; blk < (long)(np / 16); blk++, o += nq * 32) /* padding blocks */
            _mm512_storeu_si512((void *)o, _mm512_setzero_si512());
    }
}

void pcavs_gemm_bf16_avx512(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc) {
    const size_t kp = pcavs_bf16_round32((size_t)k), nq = kp / 2;
    const long nb32 = (n + 31) / 32;
    for (long jb = 0; jb < nb32; jb++) {
        const long col0 = jb * 32, ncols = n - col0 < 32 ? n - col0 : 32;
        const __mmask16 m0 = (__mmask16)(ncols >= 16 ? 0xffffu : (1u << ncols) - 1u);
        const __mmask16 m1 = (__mmask16)(ncols >= 32 ? 0xffffu : ncols > 16 ? (1u << (ncols - 16)) - 1u : 0u);
        for (size_t q0 = 0; q0 < nq; q0 += KQ) {
            const size_t q1 = q0 + KQ < nq ? q0 + KQ : nq;
            const uint16_t *b0 = b + (size_t)(2 * jb) * nq * 32, *b1 = b0 + nq * 32;
            for (int r0 = 0; r0 < m; r0 += MR) {
                __m512 acc0[MR], acc1[MR];
                for (int i = 0; i < MR; i++) {
                    if (q0 == 0 || r0 + i >= m) {
                        acc0[i] = acc1[i] = _mm512_setzero_ps();
                    } else {
                        const float *cr = c + (size_t)(r0 + i) * ldc + col0;
                        acc0[i] = _mm512_maskz_loadu_ps(m0, cr);
                        acc1[i] = _mm512_maskz_loadu_ps(m1, cr + 16);
                    }
                }
                const uint16_t *ar = a + (size_t)r0 * kp;
                for (size_t q = q0; q < q1; q++) {
                    const __m512bh v0 = (__m512bh)_mm512_loadu_si512((const void *)(b0 + q * 32));
                    const __m512bh v1 = (__m512bh)_mm512_loadu_si512((const void *)(b1 + q * 32));
                    for (int i = 0; i < MR; i++) {
                        int32_t pair;
                        memcpy(&pair, ar + (size_t)i * kp + 2 * q, sizeof pair);
                        const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
                        acc0[i] = _mm512_dpbf16_ps(acc0[i], av, v0);
                        acc1[i] = _mm512_dpbf16_ps(acc1[i], av, v1);
                    }
                }
                for (int i = 0; i < MR && r0 + i < m; i++) {
                    float *cr = c + (size_t)(r0 + i) * ldc + col0;
                    _mm512_mask_storeu_ps(cr, m0, acc0[i]);
                    if (m1) _mm512_mask_storeu_ps(cr + 16, m1, acc1[i]);
                }
            }
        }
    }
}

/* Seconds of `reps` rounds of 12 independent VDPBF16PS (bf16 != 0) or VFMADD231PS chains in registers. */
#define DP_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static double dp_chain_seconds(int bf16, long reps) {
#define DP_DECL(i) __m512 a##i = _mm512_set1_ps((float)(i));
    DP_CHAINS(DP_DECL)
    const __m512i one = _mm512_set1_epi32(0x3f803f80); /* bf16 pair (1, 1); as float32 ~1.0039 */
    const __m512bh ob = (__m512bh)one;
    const __m512 of = (__m512)one;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
#define DP_BF16(i) a##i = _mm512_dpbf16_ps(a##i, ob, ob);
#define DP_FMA(i) a##i = _mm512_fmadd_ps(a##i, of, of);
#define DP_KEEP                                                                                                        \
    __asm__ volatile(""                                                                                                \
                     : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),       \
                       "+v"(a9), "+v"(a10), "+v"(a11));
    if (bf16)
        for (long r = 0; r < reps; r++) {
            DP_CHAINS(DP_BF16)
            DP_KEEP
        }
    else
        for (long r = 0; r < reps; r++) {
            DP_CHAINS(DP_FMA)
            DP_KEEP
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
#define DP_SUM(i) +_mm512_reduce_add_ps(a##i)
    volatile float sink = 0 DP_CHAINS(DP_SUM);
    (void)sink;
#undef DP_DECL
#undef DP_BF16
#undef DP_FMA
#undef DP_KEEP
#undef DP_SUM
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

double pcavs_bf16_avx512_speedup(void) {
    const long reps = 100000; /* 1.2 M instructions each: short enough to run at start-up */
    double best_dp = 1e30, best_fma = 1e30;
    for (int k = 0; k < 3; k++) { /* best of 3: a preempted run only looks slower */
        const double d = dp_chain_seconds(1, reps), f = dp_chain_seconds(0, reps);
        best_dp = d < best_dp ? d : best_dp;
        best_fma = f < best_fma ? f : best_fma;
    }
    /* a VDPBF16PS does 32 multiply-adds, a VFMADD231PS 16 */
    return best_dp > 0 ? (32.0 / best_dp) / (16.0 / best_fma) : 0.0;
}
