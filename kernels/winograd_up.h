/* winograd_up.h: the upsampling modulated convolution's core (StyleGAN2's transposed 3x3 conv, stride 2,
 * then the 4x4 blur) with Winograd F(4x4, 2x2) on its four output phases, for modconv_cpu.
 * The transposed conv T[2y+i][2x+j] += W[i][j] x[y][x] ((2h+1) x (2w+1), no flip) splits by the parity
 * of the output position into four ordinary correlations of x:
 *   EE T[2Y][2X]     = sum_{a,b in 0,1} W[2a][2b] x[Y-a][X-b]   (2x2 taps, Y 0..h, X 0..w)
 *   EO T[2Y][2X+1]   = sum_a W[2a][1] x[Y-a][X]                (2x1)
 *   OE T[2Y+1][2X]   = sum_b W[1][2b] x[Y][X-b]                (1x2)
 *   OO T[2Y+1][2X+1] = W[1][1] x[Y][X]                          (1x1)
 * Per 4x4 tile of phase outputs (one 5x5 input tile) that is 25 + 5x4 + 4x5 + 16 = 81 multiplications
 * per (output, input) channel pair instead of 9 x 16 = 144, as GEMMs over input channels:
 *   EE: 25 GEMMs (B^T d B, 1D F(4,2) both ways), EO: 5 GEMMs 4 tiles wide (B^T down the rows only),
 *   OE: 5 (B^T along the columns only), OO: 1 GEMM 16 tiles wide (no transform) = 36 weight matrices,
 * the same count and bytes as F(4x4, 3x3)'s. Interpolation points 0, 1, -1, 2, inf. The phases land in T
 * (column-phase rows, below), which the blur then reads, times the per-(sample, output) scale (demod).
 * Internal to kernels/: modconv_cpu chooses it per call (weight prepared at load or transformed per call). */
#ifndef PCAVS_KERNELS_WINOGRAD_UP_H
#define PCAVS_KERNELS_WINOGRAD_UP_H

#include <stddef.h>

#include "kctx.h"

#define PCAVS_WINO_UP_MATS 36 /* weight matrices [c_out, c_in] of the GEMMs: 25 EE, 5 EO, 5 OE, 1 OO */
/* and what u holds: those, then the edge strips' 6 (W[2][0] W[2][2] | W[2][1] | W[0][2] W[2][2] | W[1][2], each
 * [c_out, c_in], the pairs interleaved by row: [c_out][2][c_in]) */
#define PCAVS_WINO_UP_U_MATS 42

/* u [42, c_out, c_in] = the phase-transformed weight w [c_out, c_in, 3, 3] times `scale`, and the edge taps. */
void pcavs_wino_up_weight(int c_out, int c_in, const float *w, float scale, float *u, int n_threads);

/* The tail of each output value after the blur and out_scale (styled_act.h): + noise_weight * noise[b][p] (if
 * noise), + bias[o] (if bias), then act (a PCAVS_STORE_ACT_ value): StyleGAN2's StyledConv fused into the stores. */
typedef struct pcavs_up_tail {
    const float *noise; /* [n, 2h, 2w] or NULL */
    float noise_weight;
    const float *bias; /* [c_out] or NULL */
    int act;
} pcavs_up_tail;

typedef struct pcavs_wino_up_conv {
    int n, c_in, h, w, c_out;
    const float *x;         /* [n, c_in, h, w] */
    const float *u;         /* [42, c_out, c_in] from pcavs_wino_up_weight */
    const float *in_scale;  /* [n, c_in] multiplies the input, or NULL */
    const float *out_scale; /* [n, c_out] multiplies the output, or NULL */
    const float *blur;      /* [4, 4] upfirdn2d kernel (up 1, pad 1,1), as modconv's */
    pcavs_up_tail tail;     /* applied to y as it is stored (zeros: none) */
    float *y;               /* [n, c_out, 2h, 2w]; must not alias x */
    int no_blocks;          /* 1: not the tile-block form (tests of the others) */
} pcavs_wino_up_conv;

/* Scratch with which pcavs_wino_up_run works: the least (one sample's T, one lane group of tiles) and
 * what it would use at most (the fused form's chunk of whole samples, where one fits
 * PCAVS_WINO_UP_FUSED_MAX_CHUNK; else T planes and a capped chunk). */
size_t pcavs_wino_up_min_scratch_bytes(const pcavs_wino_up_conv *a, int n_threads);
size_t pcavs_wino_up_scratch_bytes(const pcavs_wino_up_conv *a, int n_threads);

/* 1 where pcavs_wino_up_run takes the tile-block form with this scratch (U within PCAVS_WINO_UP_BLOCK_MAX_U, the
 * AVX-512 GEMM, the blocks' buffers and a sample group's T planes within scratch_bytes); else the fused form
 * where whole samples' V + M fit, else T planes in memory. */
int pcavs_wino_up_uses_blocks(const pcavs_wino_up_conv *a, size_t scratch_bytes, int n_threads);

/* Runs with kc's threads and scratch; PCAVS_ERR_OOM below pcavs_wino_up_min_scratch_bytes. */
pcavs_status pcavs_wino_up_run(const pcavs_kctx *kc, const pcavs_wino_up_conv *a);

/* The transposed-conv grid T of one (sample, output) plane in column-phase rows: T row r has its even
 * columns Te[X] = T[r][2X] (X = 0..w) at t + 2r*(w+3) + 1 and its odd ones To[X] = T[r][2X+1]
 * (X = 0..w-1) at t + (2r+1)*(w+3) + 1, so that the blur runs with unit stride. Floats per plane: */
static inline size_t pcavs_up_plane_floats(int h, int w) { return (size_t)(2 * h + 1) * 2 * ((size_t)w + 3); }

/* y [2h, 2w] = scale * Blur(T) (upfirdn2d, up 1, pad 1,1, kernel `blur` [4,4]) from the plane t above
 * (its To[-1] and To[w] are set to 0 here), then the tail: noise (the plane's [2h, 2w], or NULL) times
 * noise_weight, + bias, act (styled_act.h); tmp: 2 * (w + 16) floats. */
void pcavs_up_blur_plane(float *t, int h, int w, const float *blur, float scale, const float *noise, float noise_weight,
                         float bias, int act, float *tmp, float *y);

#endif
