/* winograd.h: Winograd F(4x4, 3x3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2016) for the CPU paths of conv2d and modconv: 3x3 kernel, stride 1, padding 1, one
 * group. Each 4x4 output tile needs a 6x6 input tile; per (output, input) channel pair a tile costs 36
 * multiplications instead of 144, and the products summed over input channels are 36 GEMMs
 *   M[p] (c_out x tiles) = U[p] (c_out x c_in) * V[p] (c_in x tiles),   p = 0..35, with
 *   U = G g G^T (the weight, once per weight), V = B^T d B (the input tile, optionally times a
 *   per-(sample, channel) scale: modconv's style), y = A^T M A (4x4), then times a per-(sample, output
 *   channel) scale (modconv's demod), + noise, + bias, optional ReLU or leaky ReLU (styled_act.h).
 * Interpolation points 0, +-1, +-2, inf. In float32 the result differs from direct convolution by
 * ~3e-6 relative L2 at 512 channels, ~1e-6 at 32 (tests/test_winograd.c, test_conv2d.c, test_modconv.c).
 * F(6x6, 3x3) (tile = 6; winograd6_transforms.h): 64 multiplications per 36 outputs instead of 36 per 16
 * (0.79x the GEMM work and the V, M bytes per output), points 0, +-1, +-2, +-1/2, inf; larger transform
 * entries, so ~2x F(4x4)'s error: 4.5e-6 relative L2 at 128 channels, ~6e-6 at 256 and 512 (modconv_cpu takes
 * it on AVX-512 CPUs up to 256 channels: at 512 its 67 MB weight makes it no faster).
 * Internal to kernels/: not an op of its own (conv2d_cpu and modconv_cpu choose it per call). */
#ifndef PCAVS_KERNELS_WINOGRAD_H
#define PCAVS_KERNELS_WINOGRAD_H

#include <stddef.h>

#include "kctx.h"

#define PCAVS_WINO_POINTS 36  /* 6 x 6 transformed points per tile */
#define PCAVS_WINO6_POINTS 64 /* 8 x 8 for F(6x6, 3x3) */
#define PCAVS_WINO_RGB 3      /* channels of the optional ToRGB side output */
/* internal to winograd_cpu.c: tiles per output-transform step, and the floats per column-phase array
 * of the input transform's row buffers (the tiles of a row + 1, padded) */
#define WINO_LANES 8
#define WINO_PHASE_STRIDE(tw) ((size_t)(tw) + 9)
/* F(4x4, 3x3) input transform: tiles per group of tile rows, and the phase-array stride for a group */
#define WINO_GROUP_TILES 128
#define WINO_GROUP_STRIDE(tw) ((size_t)((tw) > WINO_GROUP_TILES ? (tw) : WINO_GROUP_TILES) + 17)

/* Internal to the tile-block forms (winograd_cpu.c, winograd_up_cpu.c): `tiles` in blocks of at most max_tiles that
 * n_threads share evenly (112x112 F(6x6): 361 tiles = 4 x 91, not 3 x 96 + 73). Returns the number of blocks (a
 * multiple of n_threads); *per: the tiles of each, the last ones fewer (or none). */
static inline long wino_even_blocks(size_t tiles, int n_threads, size_t max_tiles, size_t *per) {
    const size_t round = (size_t)n_threads * max_tiles;
    const long blocks = (long)((tiles + round - 1) / round * (size_t)n_threads);
    *per = (tiles + (size_t)blocks - 1) / (size_t)blocks;
    return blocks;
}

/* u [36, c_out, c_in] = the transformed weight w [c_out, c_in, 3, 3] times `scale`. */
void pcavs_wino_weight(int c_out, int c_in, const float *w, float scale, float *u, int n_threads);
/* u [64, c_out, c_in] = the F(6x6, 3x3) transformed weight G w G^T times `scale` (in double, one rounding). */
void pcavs_wino6_weight(int c_out, int c_in, const float *w, float scale, float *u, int n_threads);

typedef struct pcavs_wino_conv {
    int n, c_in, h, w, c_out;
    const float *x;         /* [n, c_in, h, w] */
    int tile;               /* output tile side: 4 (or 0): F(4x4, 3x3); 6: F(6x6, 3x3) */
    const float *u;         /* [36, c_out, c_in] from pcavs_wino_weight, or [64, ...] from pcavs_wino6_weight */
    const float *in_scale;  /* [n, c_in] multiplies the input, or NULL */
    const float *out_scale; /* [n, c_out] multiplies the output, or NULL */
    const float *noise;     /* [n, h, w] times noise_weight, added after out_scale (StyleGAN2's noise), or NULL */
    float noise_weight;
    const float *bias; /* [c_out] added after out_scale and the noise, or NULL */
    int relu;          /* 1: max(0, .) last */
    int lrelu;         /* 1 (instead of relu): leaky ReLU 0.2 times sqrt(2) last (StyleGAN2's FusedLeakyReLU) */
    float *y;          /* [n, c_out, h, w]; must not alias x */
    /* optional: a 1x1 convolution of the output to PCAVS_WINO_RGB channels (StyleGAN2's next ToRGB) summed as y is
     * stored, in the tile-block form only: rgb [n, 3, h, w] = sum over o, in order, of rgb_w[b][k][o] * y[b][o];
     * *rgb_done set to 1 where it ran (else rgb untouched) */
    const float *rgb_w; /* [n, 3, c_out], or NULL: none */
    float *rgb;         /* [n, 3, h, w] */
    int *rgb_done;
} pcavs_wino_conv;

/* Scratch with which pcavs_wino_run works (it tiles over output tiles to fit what it is given): the
 * least it needs (one lane group of tiles), and what it would use untiled (capped at PCAVS_WINO_MAX_CHUNK). */
size_t pcavs_wino_min_scratch_bytes(const pcavs_wino_conv *a, int n_threads);
size_t pcavs_wino_scratch_bytes(const pcavs_wino_conv *a, int n_threads);

/* 1 where pcavs_wino_run takes the tile-block form with this scratch (U within PCAVS_WINO_BLOCK_MAX_U, the
 * blocks' per-thread buffers within scratch_bytes), 0 where it goes in chunks. */
int pcavs_wino_uses_blocks(const pcavs_wino_conv *a, size_t scratch_bytes, int n_threads);

/* Runs the convolution with kc's threads and scratch (single-threaded pcavs_sgemm_nn inside its own OpenMP
 * region). Fails with PCAVS_ERR_OOM if the scratch is below pcavs_wino_min_scratch_bytes. */
pcavs_status pcavs_wino_run(const pcavs_kctx *kc, const pcavs_wino_conv *a);

#endif
