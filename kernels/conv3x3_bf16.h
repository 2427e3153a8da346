/* conv3x3_bf16.h: a 3x3, stride 1, pad 1 convolution with the bf16 GEMM (gemm_bf16.h): the bf16 mode's
 * engine for the generator's plain modulated convolutions (modconv_cpu) and E's 3x3 convolutions
 * (conv2d_cpu). Per sample the input channels become zero-bordered bf16 planes of x * in_scale; tiles of
 * output rows pack B straight from them (implicit im2col) and one bf16 GEMM per tile gives the rows;
 * the epilogue y = y * out_scale + bias, then act, runs on the hot tile. Widths that are not a multiple
 * of 16 go through a per-thread tile (the GEMM walks a grid padded to 16). With AMX and c_in a multiple
 * of 32 nothing is packed: the planes are stored channel pairs interleaved and the tile loads read B
 * straight from them (pcavs_conv_bf16_amx). Internal to kernels/. */
#ifndef PCAVS_KERNELS_CONV3X3_BF16_H
#define PCAVS_KERNELS_CONV3X3_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "kctx.h"

typedef struct pcavs_conv3x3_bf16 {
    int n, c_in, h, w, c_out;
    const float *x;         /* [n, c_in, h, w] */
    const uint16_t *a;      /* the weight from pcavs_conv3x3_bf16_weight: [c_out, 9 * c_in], tap-major */
    const float *in_scale;  /* [n, c_in] multiplies the input (times in_mul), or NULL (1) */
    float in_mul;           /* scalar factor on the input (modconv's 1/sqrt(c_in*9)); 0 means 1 */
    const float *out_scale; /* [n, c_out] multiplies the output (demod), or NULL */
    const float *bias;      /* [c_out] added after out_scale, or NULL */
    pcavs_act act;          /* then this */
    float *y;               /* [n, c_out, h, w]; must not alias x */
} pcavs_conv3x3_bf16;

/* The weight w [c_out, c_in, 3, 3] as the GEMM's A (gemm_bf16.h layout) with the reduction tap-major,
 * A[o][t * c_in + c] = W[o][c][t]: pcavs_bf16_a_elems(c_out, 9 * c_in) uint16. Tap-major, a k-pair is two
 * channels at one tap, which is what lets AMX load B tiles straight from channel-pair planes. */
void pcavs_conv3x3_bf16_weight(int c_out, int c_in, const float *w, uint16_t *out);
/* The same for a subset of the taps: A[o][t * c_in + c] = W[o][c][wtap[t]], t < ntaps (the upsampling
 * layers' output phases, modconv_cpu.c): pcavs_bf16_a_elems(c_out, ntaps * c_in) uint16. */
void pcavs_bf16_taps_weight(int c_out, int c_in, const float *w, int ntaps, const int *wtap, uint16_t *out);

/* One sample's input channels (x [c_in, h, w] times in_scale[c] * mul; in_scale NULL = 1) as zero-bordered
 * bf16 planes (pad 1) of `rows` x `ls`: channel-pair planes (pcavs_bf16_plane_pair_cpu) when `pairs`, for
 * pcavs_conv_bf16_amx, else one plane per channel (pcavs_bf16_plane_cpu). To be called inside an OpenMP
 * parallel region by every thread: the channels are shared out (omp for). */
void pcavs_conv3x3_bf16_planes(const float *x, const float *in_scale, float mul, int c_in, int h, int w, int rows,
                               long ls, int pairs, uint16_t *out);

/* Scratch bytes pcavs_conv3x3_bf16_run needs with n_threads threads. */
size_t pcavs_conv3x3_bf16_scratch_bytes(const pcavs_conv3x3_bf16 *a, int n_threads);
/* Runs with kc's threads and scratch: PCAVS_ERR_OOM below the size above, PCAVS_ERR_UNSUPPORTED without a
 * bf16 unit (the caller then runs float32). */
pcavs_status pcavs_conv3x3_bf16_run(const pcavs_kctx *kc, const pcavs_conv3x3_bf16 *a);

#endif
