/* winograd_cpu.c: Winograd F(4x4, 3x3) convolution on the CPU (the algebra: winograd.h; the transforms:
 * winograd_transforms.h). Work is done in chunks of output tiles (tile j = (sample, tile row, tile
 * column), row-major), each in three phases inside one OpenMP region:
 *   1. input transform, threads over input channels: V [36, c_in, nt];
 *   2. 36 single-threaded GEMMs (pcavs_sgemm_nn: V read where it lies, M stored once), threads over the 36
 *      points: M[p] = U[p] V[p],  M [36, c_out, nt];
 *   3. output transform, threads over output channels: A^T M A, out_scale, noise, bias, the activation, into y.
 * Chunks hold at most PCAVS_WINO_MAX_CHUNK bytes of V + M, so memory stays bounded at any batch (larger chunks
 * gain nothing, and at 512 channels U is re-read per chunk).
 * Where U fits in cache and the scratch allows, the tile-block form instead (below): each thread all three phases
 * on its own blocks of tiles, V and M staying in cache. */
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "sgemm_nn.h"
#include "simd_clones.h"
#include "winograd.h"

#ifndef PCAVS_WINO_MAX_CHUNK
#define PCAVS_WINO_MAX_CHUNK (64u << 20) /* bytes of V + M per chunk */
#endif

/* ---- weights: u[p][o][c] = (G g G^T)[p] * scale ----
 * With G' = 24 G (integer entries, exact in float) the products and sums before the final scale are
 * ordinary float sums of the 9 taps; one rounding more for scale / 576. E and A_sync transform their
 * weights per call, so it has to be cheap: per output channel, blocks of WINO_WB input channels have their
 * taps transposed to g[tap][c] first, then each stage is a unit-stride loop over the block (a loop over c reading
 * the 9 taps at stride 9 compiles to gathers, several times slower). */

static const float wino_g24[6][3] = {{6, 0, 0}, {-4, -4, -4}, {-4, 4, -4}, {1, 2, 4}, {1, -2, 4}, {0, 0, 24}};
#define WINO_WB 64 /* input channels per block */

void pcavs_wino_weight(int c_out, int c_in, const float *w,    /* [c_out, c_in, 3, 3] */
                       float scale, float *u, int n_threads) { /* [36, c_out, c_in] */
    const size_t plane = (size_t)c_out * c_in;
    const float post = scale / 576.0f;
    const int blocks = (c_in + WINO_WB - 1) / WINO_WB;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (long ob = 0; ob < (long)c_out * blocks; ob++) {
        const int o = (int)(ob / blocks), c0 = (int)(ob % blocks) * WINO_WB;
        const int nb = c_in - c0 < WINO_WB ? c_in - c0 : WINO_WB;
        const float *wo = w + ((size_t)o * c_in + c0) * 9; /* [nb, 3, 3] */
        float *uo = u + (size_t)o * c_in + c0;             /* u[p] row o, from c0, at uo + p * plane */
        float g[9][WINO_WB], t[6][3][WINO_WB];             /* taps by channel; G' g */
        for (int c = 0; c < nb; c++)
            for (int j = 0; j < 9; j++) g[j][c] = wo[(size_t)c * 9 + j];
        for (int k = 0; k < 6; k++)
            for (int j = 0; j < 3; j++) {
                const float a0 = wino_g24[k][0], a1 = wino_g24[k][1], a2 = wino_g24[k][2];
#pragma omp simd
                for (int c = 0; c < nb; c++) t[k][j][c] = a0 * g[j][c] + a1 * g[3 + j][c] + a2 * g[6 + j][c];
            }
        for (int k = 0; k < 6; k++)
            for (int l = 0; l < 6; l++) {
                const float b0 = wino_g24[l][0], b1 = wino_g24[l][1], b2 = wino_g24[l][2];
                float *dst = uo + (size_t)(k * 6 + l) * plane;
#pragma omp simd
                for (int c = 0; c < nb; c++) dst[c] = (t[k][0][c] * b0 + t[k][1][c] * b1 + t[k][2][c] * b2) * post;
            }
    }
}

/* F(6x6, 3x3): G (8x3) with entries in ninths and 45ths, so the product is formed in double. */
static const double wino6_g[8][3] = {{1, 0, 0},
                                     {-2.0 / 9, -2.0 / 9, -2.0 / 9},
                                     {-2.0 / 9, 2.0 / 9, -2.0 / 9},
                                     {1.0 / 90, 1.0 / 45, 2.0 / 45},
                                     {1.0 / 90, -1.0 / 45, 2.0 / 45},
                                     {32.0 / 45, 16.0 / 45, 8.0 / 45},
                                     {32.0 / 45, -16.0 / 45, 8.0 / 45},
                                     {0, 0, 1}};

void pcavs_wino6_weight(int c_out, int c_in, const float *w,    /* [c_out, c_in, 3, 3] */
                        float scale, float *u, int n_threads) { /* [64, c_out, c_in] */
    const size_t plane = (size_t)c_out * c_in;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (long oc = 0; oc < (long)plane; oc++) {
        const float *g = w + (size_t)oc * 9; /* [3, 3] */
        double t[8][3];                      /* G g */
        for (int k = 0; k < 8; k++)
            for (int j = 0; j < 3; j++)
                t[k][j] = wino6_g[k][0] * g[j] + wino6_g[k][1] * g[3 + j] + wino6_g[k][2] * g[6 + j];
        for (int k = 0; k < 8; k++)
            for (int l = 0; l < 8; l++)
                u[(size_t)(k * 8 + l) * plane + oc] =
                    (float)((t[k][0] * wino6_g[l][0] + t[k][1] * wino6_g[l][1] + t[k][2] * wino6_g[l][2]) * scale);
    }
}

/* ---- sizes ---- */

static int wino_tile(const pcavs_wino_conv *a) { return a->tile == 6 ? 6 : 4; }
static int wino_points(const pcavs_wino_conv *a) { return a->tile == 6 ? PCAVS_WINO6_POINTS : PCAVS_WINO_POINTS; }
static size_t wino_tiles(const pcavs_wino_conv *a) {
    const int t = wino_tile(a);
    return (size_t)a->n * ((a->h + t - 1) / t) * ((a->w + t - 1) / t);
}

/* bytes per tile of V + M, and the fixed per-thread part (row buffers) */
static size_t wino_per_tile(const pcavs_wino_conv *a) {
    return (size_t)wino_points(a) * ((size_t)a->c_in + a->c_out) * sizeof(float);
}
static size_t wino_rowbuf_floats(const pcavs_wino_conv *a) {
    if (a->tile == 6) return (size_t)128 * WINO_GROUP_STRIDE((a->w + 5) / 6); /* R, C [8][6][gs], XR, XC [8][2][gs] */
    return (size_t)72 * WINO_GROUP_STRIDE((a->w + 3) / 4);
}
static size_t wino_fixed(const pcavs_wino_conv *a, int n_threads) {
    return (size_t)(n_threads < 1 ? 1 : n_threads) * PCAVS_ALIGN64(wino_rowbuf_floats(a) * sizeof(float)) + 3 * 64 +
           WINO_LANES * sizeof(float) * 2;
}

/* ---- the tile-block form ----
 * Where U fits in the last-level cache (<= PCAVS_WINO_BLOCK_MAX_U: the generator's 112x112 and 224x224 layers, not
 * its 512-channel ones), each thread takes blocks of at most WINO_BLOCK_TILES tiles end to end: the block's input
 * transform into its own Vb [P][c_in][nb] (3 MB at 128 channels: L2 and L3), then per WINO_BLOCK_ROWS output
 * channels the P GEMMs into Mb [P][rows][nb] (L2) and their output transform at once, so V and M never go through
 * memory (the chunked form writes and reads both: 4 x 47 MB at 224x224, 128 channels, F(6x6)). The block sizes
 * are not critical (docs/bench/tuning.md). */
#ifndef PCAVS_WINO_BLOCK_MAX_U
#define PCAVS_WINO_BLOCK_MAX_U (24u << 20)
#endif
#ifndef WINO_BLOCK_TILES
#define WINO_BLOCK_TILES 96
#endif
#ifndef WINO_BLOCK_ROWS
#define WINO_BLOCK_ROWS 16
#endif

static int wino_block_form(const pcavs_wino_conv *a) {
    return (size_t)wino_points(a) * a->c_out * a->c_in * sizeof(float) <= PCAVS_WINO_BLOCK_MAX_U;
}
static size_t wino_block_thread_floats(const pcavs_wino_conv *a) {
    const size_t rows = a->c_out < WINO_BLOCK_ROWS ? a->c_out : WINO_BLOCK_ROWS;
    return PCAVS_ALIGN64(wino_rowbuf_floats(a) * sizeof(float)) / sizeof(float) +
           PCAVS_ALIGN64((size_t)wino_points(a) * a->c_in * WINO_BLOCK_TILES * sizeof(float)) / sizeof(float) +
           PCAVS_ALIGN64(((size_t)wino_points(a) * rows * WINO_BLOCK_TILES + WINO_LANES) * sizeof(float)) /
               sizeof(float);
}

int pcavs_wino_uses_blocks(const pcavs_wino_conv *a, size_t scratch_bytes, int n_threads) {
    return wino_block_form(a) &&
           scratch_bytes >= (size_t)(n_threads < 1 ? 1 : n_threads) * wino_block_thread_floats(a) * sizeof(float);
}

size_t pcavs_wino_min_scratch_bytes(const pcavs_wino_conv *a, int n_threads) {
    size_t nt = wino_tiles(a) < WINO_LANES ? wino_tiles(a) : WINO_LANES;
    return wino_fixed(a, n_threads) + nt * wino_per_tile(a);
}

size_t pcavs_wino_scratch_bytes(const pcavs_wino_conv *a, int n_threads) {
    if (wino_block_form(a))
        return (size_t)(n_threads < 1 ? 1 : n_threads) * wino_block_thread_floats(a) * sizeof(float);
    size_t nt = wino_tiles(a), cap = PCAVS_WINO_MAX_CHUNK / wino_per_tile(a);
    if (cap < WINO_LANES) cap = WINO_LANES;
    if (nt > cap) nt = cap;
    return wino_fixed(a, n_threads) + nt * wino_per_tile(a);
}

/* ---- the transforms (winograd_transforms.h; the per-channel loops compiled per ISA, simd_clones.h) ---- */

#include "winograd_gather.h"
#include "winograd_scatter.h"

#include "winograd_transforms.h"

#include "winograd6_transforms.h" /* after winograd_transforms.h */

/* Input transform of channel c for tiles [t0, t0 + nt) into V [P][c_in][nt] (F(4x4) or F(6x6)), the next channel's
 * input rows prefetched meanwhile (wino_prefetch_rows). */
static void wino_input(const pcavs_wino_conv *a, int c, size_t t0, size_t nt, float *rowbuf, float *V) {
    const int T = wino_tile(a);
    if (c + 1 < a->c_in)
        wino_prefetch_rows(a->x, a->c_in, c + 1, a->h, a->w, T, T + 2, (a->w + T - 1) / T, (a->h + T - 1) / T, t0, nt);
    if (T == 6)
        wino6_input_channel(a, c, t0, nt, rowbuf, V);
    else
        wino_input_channel(a, c, t0, nt, rowbuf, V);
}

/* Output transform of output channel o for tiles [t0, t0 + nt) from its rows mo [P][pstride] of M. */
static void wino_output(const pcavs_wino_conv *a, int o, size_t t0, size_t nt, const float *mo, size_t pstride) {
    if (a->tile == 6)
        wino6_output_channel(a, o, t0, nt, mo, pstride);
    else
        wino_output_channel(a, o, t0, nt, mo, pstride);
}

/* The ToRGB side output (pcavs_wino_conv's rgb) of output channels [o0, o0 + ro) of tiles [t0, t0 + nt), their y just
 * stored (in cache): per row segment of a tile row, rgb[k] (+)= sum over those channels, in order, of rgb_w[k][o] y[o]
 * (the sum starts at o == 0), channel by channel with the segment's 3 sums in L1 (channel-inner with the sums in
 * registers compiles to scalar code, many times slower). */
PCAVS_SIMD_CLONES static void wino_rgb_block_body(const pcavs_wino_conv *a, size_t t0, size_t nt, int o0, int ro) {
    const int T = wino_tile(a), h = a->h, w = a->w, tw = (w + T - 1) / T, th = (h + T - 1) / T;
    const size_t hw = (size_t)h * w;
    for (size_t j = t0; j < t0 + nt;) {
        const int tx = (int)(j % tw), ty = (int)((j / tw) % th), b = (int)(j / ((size_t)tw * th));
        const int run = (int)(t0 + nt - j < (size_t)(tw - tx) ? t0 + nt - j : (size_t)(tw - tx)); /* tiles */
        const int x0 = T * tx, x1 = T * (tx + run) < w ? T * (tx + run) : w, y1 = T * ty + T < h ? T * ty + T : h;
        const float *wb = a->rgb_w + (size_t)b * PCAVS_WINO_RGB * a->c_out; /* [3, c_out] */
        for (int r = T * ty; r < y1; r++) {
            const size_t at = (size_t)r * w + x0;
            const float *yb = a->y + ((size_t)b * a->c_out + o0) * hw + at; /* channel o0 + oo at + oo * hw */
            float *restrict r0 = a->rgb + (size_t)b * PCAVS_WINO_RGB * hw + at, *restrict r1 = r0 + hw,
                            *restrict r2 = r1 + hw;
            const float *w0 = wb + o0, *w1 = w0 + a->c_out, *w2 = w1 + a->c_out;
            const int n = x1 - x0;
            for (int oo = 0; oo < ro; oo++) {
                const float *restrict yv = yb + (size_t)oo * hw;
                const float a0 = w0[oo], a1 = w1[oo], a2 = w2[oo];
                if (o0 + oo == 0) {
#pragma omp simd
                    for (int i = 0; i < n; i++) r0[i] = a0 * yv[i], r1[i] = a1 * yv[i], r2[i] = a2 * yv[i];
                } else {
#pragma omp simd
                    for (int i = 0; i < n; i++)
                        r0[i] = r0[i] + a0 * yv[i], r1[i] = r1[i] + a1 * yv[i], r2[i] = r2[i] + a2 * yv[i];
                }
            }
        }
        j += (size_t)run;
    }
}
PCAVS_SIMD_DISPATCH(static, wino_rgb_block, (const pcavs_wino_conv *a, size_t t0, size_t nt, int o0, int ro),
                    (a, t0, nt, o0, ro))

static void wino_block_run(const pcavs_wino_conv *a, int nth, float *scratch) {
    const size_t T = wino_tiles(a), per = wino_block_thread_floats(a);
    const size_t rb = PCAVS_ALIGN64(wino_rowbuf_floats(a) * sizeof(float)) / sizeof(float);
    const int P = wino_points(a), rows = a->c_out < WINO_BLOCK_ROWS ? a->c_out : WINO_BLOCK_ROWS;
    size_t bt; /* tiles a block */
    const long blocks = wino_even_blocks(T, nth, WINO_BLOCK_TILES, &bt);
#pragma omp parallel num_threads(nth)
    {
        float *rowbuf = scratch + (size_t)omp_get_thread_num() * per;
        float *Vb = rowbuf + rb; /* [P][c_in][nb] */
        float *Mb = Vb + PCAVS_ALIGN64((size_t)P * a->c_in * WINO_BLOCK_TILES * sizeof(float)) / sizeof(float);
#pragma omp for schedule(dynamic, 1)
        for (long bi = 0; bi < blocks; bi++) {
            const size_t t0 = (size_t)bi * bt;
            if (t0 >= T) continue;
            const size_t nb = T - t0 < bt ? T - t0 : bt;
            for (int c = 0; c < a->c_in; c++) wino_input(a, c, t0, nb, rowbuf, Vb);
            for (int o0 = 0; o0 < a->c_out; o0 += rows) {
                const int ro = a->c_out - o0 < rows ? a->c_out - o0 : rows;
                for (int p = 0; p < P; p++)
                    pcavs_sgemm_nn(ro, (int)nb, a->c_in, a->u + ((size_t)p * a->c_out + o0) * a->c_in, a->c_in,
                                   Vb + (size_t)p * a->c_in * nb, (int)nb, Mb + (size_t)p * ro * nb, (int)nb);
                for (int o = 0; o < ro; o++) wino_output(a, o0 + o, t0, nb, Mb + (size_t)o * nb, (size_t)ro * nb);
                if (a->rgb) wino_rgb_block(a, t0, nb, o0, ro);
            }
        }
    }
}

/* The chunked form (the file's top comment), in kc's scratch past the minimum. */
static void wino_chunked_run(const pcavs_wino_conv *a, int nth, float *scratch, size_t scratch_bytes) {
    const size_t T = wino_tiles(a);
    size_t nt = (scratch_bytes - wino_fixed(a, nth)) / wino_per_tile(a);
    const size_t cap = PCAVS_WINO_MAX_CHUNK / wino_per_tile(a);
    if (nt > cap) nt = cap < WINO_LANES ? WINO_LANES : cap;
    if (nt > T) nt = T;
    if (nt > WINO_LANES) nt -= nt % WINO_LANES;
    /* carve: rowbufs | V | M (M padded by a lane group: the output transform reads whole groups) */
    char *sp = (char *)scratch;
    float *rowbufs = (float *)sp;
    const size_t rb = PCAVS_ALIGN64(wino_rowbuf_floats(a) * sizeof(float)) / sizeof(float);
    sp += (size_t)nth * rb * sizeof(float);
    const int P = wino_points(a);
    float *V = (float *)sp; /* [P, c_in, nt] */
    sp += PCAVS_ALIGN64((size_t)P * a->c_in * nt * sizeof(float));
    float *M = (float *)sp; /* [P, c_out, nt] (+ WINO_LANES) */
#pragma omp parallel num_threads(nth)
    {
        float *rowbuf = rowbufs + (size_t)omp_get_thread_num() * rb;
        for (size_t t0 = 0; t0 < T; t0 += nt) {
            const size_t n_here = T - t0 < nt ? T - t0 : nt;
#pragma omp for schedule(static)
            for (int c = 0; c < a->c_in; c++) wino_input(a, c, t0, n_here, rowbuf, V);
#pragma omp for schedule(static)
            for (int p = 0; p < P; p++)
                pcavs_sgemm_nn(a->c_out, (int)n_here, a->c_in, a->u + (size_t)p * a->c_out * a->c_in, a->c_in,
                               V + (size_t)p * a->c_in * n_here, (int)n_here, M + (size_t)p * a->c_out * n_here,
                               (int)n_here);
#pragma omp for schedule(static)
            for (int o = 0; o < a->c_out; o++)
                wino_output(a, o, t0, n_here, M + (size_t)o * n_here, (size_t)a->c_out * n_here);
        }
    }
}

/* ---- driver ---- */

pcavs_status pcavs_wino_run(const pcavs_kctx *kc, const pcavs_wino_conv *a) {
    if (!kc || !a || !a->x || !a->u || !a->y) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_run: NULL pointer");
    if (a->n < 1 || a->c_in < 1 || a->c_out < 1 || a->h < 1 || a->w < 1 || (a->tile && a->tile != 4 && a->tile != 6))
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "wino_run: bad sizes n=%d c_in=%d c_out=%d %dx%d tile %d", a->n,
                          a->c_in, a->c_out, a->h, a->w, a->tile);
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    const size_t need = pcavs_wino_min_scratch_bytes(a, nth);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "wino_run: [n=%d, %d->%d, %dx%d] needs at least %zu "
                          "bytes of scratch, %zu available",
                          a->n, a->c_in, a->c_out, a->h, a->w, need, kc->scratch_bytes);
    const int blas_threads = pcavs_blas_single_threaded(); /* the GEMMs run single-threaded inside our region */
    if (pcavs_wino_uses_blocks(a, kc->scratch_bytes, nth)) {
        wino_block_run(a, nth, (float *)kc->scratch);
        if (a->rgb && a->rgb_done) *a->rgb_done = 1;
    } else { /* its threads split the output channels: no ToRGB side output (rgb left untouched) */
        pcavs_wino_conv c = *a;
        c.rgb = NULL;
        wino_chunked_run(&c, nth, (float *)kc->scratch, kc->scratch_bytes);
    }
    pcavs_blas_threads_restore(blas_threads);
    return PCAVS_OK;
}
