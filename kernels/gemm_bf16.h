/* gemm_bf16.h: C = A x B with bfloat16 operands and float32 accumulation and output, the engine of the
 * optional bf16 CPU mode. Operands are packed once into the layouts the CPU's bf16 units read:
 *   A (the weight, packed at model load): [Mp, Kp] bf16 row-major, Mp = round_up(M, 32), Kp = round_up(K, 32),
 *       zero padded.
 *   B (the activations, packed per call): [Np/16][Kp/2][16][2] bf16: 16-column blocks, each a run of
 *       k-pairs (B[2q][n], B[2q+1][n]) for its 16 columns ("VNNI" order), Np = round_up(N, 32), zero padded.
 *   C: float32 [M, N] row-major with row stride ldc; only the M x N block is written.
 * Rounding float32 -> bf16 is round-to-nearest-even (as PyTorch's .to(torch.bfloat16)); products and sums
 * are float32, so the result is the float32 GEMM of the rounded operands up to summation order.
 * Kernels behind one signature:
 *   _ref : plain loops over the packed layouts (the truth);
 *   _cpu : AMX tiles (TDPBF16PS) where the CPU and the OS allow them, else AVX512-BF16 (VDPBF16PS);
 *          single-threaded (callers split the work: rows of A in multiples of 32, or whole calls);
 *   _cuda: none: CUDA's bf16 mode multiplies the float32 operands on cuBLAS's bf16 tensor cores instead
 *          (kernels/cuda_gemm.h), with no packed layout.
 * A x B reads round_up(M, 32) rows of `a` (so a sub-block of rows must start at a multiple of 32 of a
 * packed A) and round_up(N, 32) / 16 blocks of `b`. */
#ifndef PCAVS_KERNELS_GEMM_BF16_H
#define PCAVS_KERNELS_GEMM_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "kctx.h"

typedef enum pcavs_bf16_unit {
    PCAVS_BF16_NONE = 0,   /* no bf16 dot-product instructions: the bf16 mode is unavailable */
    PCAVS_BF16_AVX512 = 1, /* AVX512-BF16 VDPBF16PS (e.g. AMD Zen 4/5, Intel Cooper Lake) */
    PCAVS_BF16_AMX = 2     /* AMX-BF16 tiles (Intel Sapphire Rapids and later), OS permission granted */
} pcavs_bf16_unit;

/* The best unit this CPU (and OS) offers; the first call asks Linux for AMX tile permission. AVX512-BF16
 * without AMX counts only where VDPBF16PS multiply-adds at >= 1.25x the core's FP32 FMA rate (probed once per
 * process: on some cores it is slower, and the bf16 mode would lose to float32); pcavs_bf16_unit_note says
 * why a unit was passed over. PCAVS_BF16_UNIT in the environment (benchmarks, tests): none = no unit,
 * noamx = as on a CPU without AMX (the speed check decides), avx512 = AVX512-BF16 whatever its speed. */
pcavs_bf16_unit pcavs_bf16_unit_detect(void);
const char *pcavs_bf16_unit_name(pcavs_bf16_unit u);
/* "" or why the bf16 unit the CPU has is not used (e.g. its AVX512-BF16 measured no faster than FP32). */
const char *pcavs_bf16_unit_note(void);

static inline size_t pcavs_bf16_round32(size_t v) { return (v + 31) / 32 * 32; }
/* Elements (uint16) of a packed A / B. */
static inline size_t pcavs_bf16_a_elems(int m, int k) {
    return pcavs_bf16_round32((size_t)m) * pcavs_bf16_round32((size_t)k);
}
static inline size_t pcavs_bf16_b_elems(int k, long n) {
    return pcavs_bf16_round32((size_t)n) * pcavs_bf16_round32((size_t)k);
}

/* float32 -> bf16, round to nearest even (NaN stays NaN). */
static inline uint16_t pcavs_bf16_round(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}
static inline float pcavs_bf16_widen(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)h << 16};
    return v.f;
}

/* Packs A: a [m, k] float32 row-major (row stride lda), times `scale`, into out [Mp, Kp]. */
void pcavs_bf16_pack_a(int m, int k, const float *a, long lda, float scale, uint16_t *out);
/* Packs B: b [k, n] float32 row-major (row stride ldb) into out (layout above). _ref: plain C;
 * _cpu: AVX-512 where the CPU has AVX512-BF16 (same bits; like VCVTNE2PS2BF16, inputs are normal numbers). */
void pcavs_bf16_pack_b_ref(int k, long n, const float *b, long ldb, uint16_t *out);
void pcavs_bf16_pack_b_cpu(int k, long n, const float *b, long ldb, uint16_t *out);

/* Implicit im2col for convolutions. A plane is first converted once into a zero-bordered bf16 copy:
 *   pcavs_bf16_plane: out [rows][ls] with out[r][j] = bf16(s * x[r - pad][j - pad]) inside x [h, w], 0 elsewhere
 *   (rows >= h + 2 pad, ls >= w + 2 pad). Then B of a convolution tile packs straight from such planes:
 *   pcavs_bf16_pack_b_taps: B[q][col] = src[off[q] + (col / gwp) * ls + col % gwp] for rows q < k (col < n),
 *   gwp a multiple of 16 (columns walk a grid gwp wide; the caller ignores its columns beyond the true
 *   width), i.e. row q of B is the planes shifted by off[q] (channel plane + tap shift). */
void pcavs_bf16_plane_ref(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out);
void pcavs_bf16_plane_cpu(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out);
void pcavs_bf16_pack_b_taps_ref(int k, long n, const uint16_t *src, const long *off, int gwp, long ls, uint16_t *out);
void pcavs_bf16_pack_b_taps_cpu(int k, long n, const uint16_t *src, const long *off, int gwp, long ls, uint16_t *out);

/* Channel-pair planes for AMX's implicit im2col: out [rows][ls][2] with out[r][j] = (bf16(s0 * x0[..]),
 * bf16(s1 * x1[..])) at (r - pad, j - pad) inside [h, w], 0 elsewhere (the two channels' planes interleaved). */
void pcavs_bf16_plane_pair_ref(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                               long ls, uint16_t *out);
void pcavs_bf16_plane_pair_cpu(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                               long ls, uint16_t *out);
/* AMX convolution without packing: c [m, ncol] (row stride ldc) = A x B where A is [round32(m), ntaps * c_in]
 * tap-major (A[o][t * c_in + c]) and B[t * c_in + c][col] = channel c of the pair planes `pl` ([c_in / 2]
 * planes of pair_plane uint16 each) at tap_off[t] + ((col / gwp) * ls + col % gwp) * 2. c_in a multiple of
 * 32, gwp and ncol multiples of 16. The tile loads read 16 channel pairs at a stride of one pair plane. */
void pcavs_conv_bf16_amx(int m, int c_in, int ntaps, const uint16_t *a, const uint16_t *pl, long pair_plane,
                         const long *tap_off, long ls, int gwp, long ncol, float *c, long ldc);
/* Whether a convolution with c_in input channels takes pcavs_conv_bf16_amx on this CPU. */
static inline int pcavs_conv_bf16_amx_applies(int c_in) {
    return pcavs_bf16_unit_detect() == PCAVS_BF16_AMX && c_in % 32 == 0;
}

/* c [m, n] (row stride ldc) = A x B. Fails (message) where the unit is missing. */
pcavs_status pcavs_gemm_bf16_ref(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc);
pcavs_status pcavs_gemm_bf16_cpu(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc);

/* The _cpu kernels by unit (gemm_bf16_cpu.c dispatches; tests and benchmarks call them directly). */
void pcavs_gemm_bf16_amx(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc);
void pcavs_gemm_bf16_avx512(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc);
/* How many times the float32 FMA rate VDPBF16PS multiply-adds at on this core (register-only loops, a few ms). */
double pcavs_bf16_avx512_speedup(void);
void pcavs_bf16_pack_b_avx512(int k, long n, const float *b, long ldb, uint16_t *out);
void pcavs_bf16_plane_avx512(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out);
void pcavs_bf16_plane_pair_avx512(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                                  long ls, uint16_t *out);
void pcavs_bf16_pack_b_taps_avx512(int k, long n, const uint16_t *src, const long *off, int gwp, long ls,
                                   uint16_t *out);

#endif
