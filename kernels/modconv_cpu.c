/* modconv_cpu.c: StyleGAN2 modulated convolution on the CPU in the batched form (same result as
 * rosinality ModulatedConv2d.forward up to float rounding):
 *   xs[c][b,p] = x[b][c][p] * style[b,c] * scale          (scratch, batch folded into columns)
 *   G[(o,t)][b,p] = sum_c W[o][c][t] * xs[c][b,p]          (ONE cblas_sgemm for the batch, t = tap)
 *   plain   : y[b][o][q] = demod[b,o] * sum_t G[(o,t)][b, q shifted by tap t]   (col2im gather)
 *   upsample: T = scatter of G to the (2h+1)x(2w+1) transposed-conv grid (stride 2, no flip),
 *             y = demod * Blur(T)   (4x4, pad 1,1), per (b, o) plane in a per-thread buffer.
 *   k = 1: y_b = W x xs_b (one sgemm per sample); with c_out <= 16 (ToRGB) a direct streaming
 *          loop over x with per-sample weights W*style*scale instead (memory-bound, no copy).
 *   plain 3x3 with >= MC_WINO_MIN_TILES 4x4 tiles (28x28 and up at batch 1): Winograd F(4x4, 3x3)
 *          (winograd.h) with in_scale = style * scale and out_scale = demod, the weight taken prepared
 *          (d->weight_wino, done at model load) or transformed per call; demod reads d->weight_sq if given.
 *   upsample from 14x14 with c_in*c_out >= 256*128 (the generator's 14->28 .. 112->224): Winograd F(4x4, 2x2)
 *          on the transposed conv's four output phases, then the same blur (winograd_up.h), likewise.
 *   plain k > 1 with enough pixels (tiles >= 256 pixels, >= 2 per thread): tiled im2col of x * style * scale
 *          (K = c_in*k*k rows, the weight's own layout) + one sgemm per tile straight into y, demod
 *          on the hot tile (mc_run_im2col); the tap-GEMM + gather above remains for small maps.
 * The GEMM costs c_out*c_in*k*k*h*w*2 FLOP per sample, the same as the transposed conv itself
 * (a polyphase 6x6 rewrite of conv_transpose+blur would cost 4x that). The weight is permuted
 * once per call into [c_out, k*k, c_in] (scratch). Work is tiled over samples and output
 * channels to fit kc->scratch. Also holds pcavs_modconv_demod_cpu.
 * bf16 mode (d->weight_bf16, 3x3 layers, a CPU with AMX-BF16 or AVX512-BF16; which layers get one is
 *          pcavs_modconv_cpu_prefers_bf16's advice to the loader): plain layers through
 *          conv3x3_bf16.h, upsampling ones as the transposed conv's four output phases (EE, EO, OE, OO of
 *          winograd_up.h) each an implicit-im2col bf16 GEMM, then the blur; float32 where the scratch is short. */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include "kernel_util.h"

#include "activation.h"
#include "conv3x3_bf16.h"
#include "cpu_features.h"
#include "gemm_bf16.h"
#include "modconv.h"
#include "sgemm_nn.h"
#include "simd_clones.h"
#include "styled_act.h"
#include "weight_forms.h"
#include "winograd.h"
#include "winograd_up.h"

#define MC_SMALL_COUT 16 /* k = 1 with at most this many outputs (ToRGB: 3) takes the direct path */
#define MC_PCHUNK                                                                                                      \
    1024 /* pixels per work item of the direct path (smaller items: too many short strided streams) */

/* d with the backend's prepared forms (d->prepared, weight_forms.h) in the fields they stand for: tmp, or d itself
 * where there are none. */
static const pcavs_modconv_desc *mc_unpack(const pcavs_modconv_desc *d, pcavs_modconv_desc *tmp) {
    if (!d || !d->prepared) return d;
    const pcavs_cpu_weight_forms *f = d->prepared;
    *tmp = *d;
    tmp->prepared = NULL;
    tmp->weight_wino = f->wino;
    tmp->weight_taps = f->taps;
    tmp->weight_sq = f->sq;
    tmp->weight_bf16 = f->bf16;
    return tmp;
}

/* upsample, per thread: the transposed-conv grid as even/odd column phases [2h+1][2][w+3] + 2 rows of w */
#define MC_TBUF_FLOATS(h, w) ((size_t)(2 * (h) + 1) * 2 * ((w) + 3) + 2 * (size_t)((w) + 16))

pcavs_status pcavs_modconv_demod_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d,
                                     const float *weight, /* [c_out, c_in, k, k] */
                                     const float *style,  /* [n, c_in] */
                                     float *demod) {      /* [n, c_out] */
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!kc || !weight || !style || !demod) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_demod_cpu: NULL pointer");
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, kk = d->k * d->k;
    if (!d->demodulate) {
        for (size_t i = 0; i < (size_t)n * co_n; i++) demod[i] = 1.0f;
        return PCAVS_OK;
    }
    const size_t need = (size_t)n * ci_n * sizeof(float) * (d->weight_sq ? 2 : 1);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM, "modconv_demod_cpu: needs %zu bytes of scratch, %zu available", need,
                          kc->scratch_bytes);
    float *s2 = (float *)kc->scratch; /* [c_in, n]: (style*scale)^2, transposed */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));
    for (int b = 0; b < n; b++)
        for (int c = 0; c < ci_n; c++) {
            const float s = style[(size_t)b * ci_n + c] * scale;
            s2[(size_t)c * n + b] = s * s;
        }
    if (d->weight_sq) { /* prepared (the networks): per (b, o) one dot product over c, vectorised in double (the
                         * loop below is one serial double sum a row: slow at batch 1) */
        float *s2r = s2 + (size_t)ci_n * n; /* [n, c_in] */
        for (int b = 0; b < n; b++)
            for (int c = 0; c < ci_n; c++) s2r[(size_t)b * ci_n + c] = s2[(size_t)c * n + b];
#pragma omp parallel for num_threads(kc->n_threads) schedule(static)
        for (int o = 0; o < co_n; o++) {
            const float *q = d->weight_sq + (size_t)o * ci_n;
            for (int b = 0; b < n; b++) {
                const float *sb = s2r + (size_t)b * ci_n;
                double acc = 0.0;
#pragma omp simd reduction(+ : acc)
                for (int c = 0; c < ci_n; c++) acc += (double)sb[c] * q[c];
                demod[(size_t)b * co_n + o] = (float)(1.0 / sqrt(acc + 1e-8));
            }
        }
        return PCAVS_OK;
    }
#pragma omp parallel for num_threads(kc->n_threads) schedule(static)
    for (int o = 0; o < co_n; o++) {
        enum { NB = 32 };
        double acc[NB];
        for (int b0 = 0; b0 < n; b0 += NB) {
            const int nb = n - b0 < NB ? n - b0 : NB;
            for (int b = 0; b < nb; b++) acc[b] = 0.0;
            for (int c = 0; c < ci_n; c++) {
                float q = 0.0f; /* the sum of squared taps as prepare_sq forms it */
                const float *wc = weight + ((size_t)o * ci_n + c) * kk; /* [k, k] */
                for (int t = 0; t < kk; t++) q += wc[t] * wc[t];
                const float *sc = s2 + (size_t)c * n + b0;
                for (int b = 0; b < nb; b++) acc[b] += (double)sc[b] * q;
            }
            for (int b = 0; b < nb; b++) demod[(size_t)(b0 + b) * co_n + o] = (float)(1.0 / sqrt(acc[b] + 1e-8));
        }
    }
    return PCAVS_OK;
}

/* Scratch plan: demod [n*c_out] | Wp [c_out*kk*c_in] (k > 1) | T [threads * th*tw] (upsample) |
 * xs [c_in * nb*hw] | G [ob*kk * nb*hw] (k > 1). The demod computation reuses the xs area. */
typedef struct mc_plan {
    size_t fixed, per_xs, per_g; /* bytes: fixed part; xs per sample; G per (sample, output channel) */
} mc_plan;

static mc_plan mc_plan_of(const pcavs_modconv_desc *d, int n_threads) {
    mc_plan p;
    const size_t hw = (size_t)d->h * d->w, kk = (size_t)d->k * d->k;
    p.fixed = PCAVS_ALIGN64((size_t)d->n * d->c_out * sizeof(float));
    if (d->k > 1) p.fixed += PCAVS_ALIGN64((size_t)d->c_out * kk * d->c_in * sizeof(float));
    if (d->upsample)
        p.fixed += (size_t)(n_threads < 1 ? 1 : n_threads) * PCAVS_ALIGN64(MC_TBUF_FLOATS(d->h, d->w) * sizeof(float));
    p.per_xs = (size_t)d->c_in * hw * sizeof(float);
    p.per_g = d->k > 1 ? kk * hw * sizeof(float) : 0;
    return p;
}

size_t pcavs_modconv_cpu_scratch_bytes(const pcavs_modconv_desc *d, int n_threads) {
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    if (pcavs_modconv_check(d) != PCAVS_OK) return 0;
    const mc_plan p = mc_plan_of(d, n_threads);
    size_t demod_tmp = (size_t)d->n * d->c_in * sizeof(float) * 2; /* s2, and its [n, c_in] copy (weight_sq) */
    size_t work = (size_t)d->n * (p.per_xs + p.per_g * d->c_out) + 128;
    return p.fixed + (work > demod_tmp ? work : demod_tmp);
}

size_t pcavs_modconv_cpu_min_scratch_bytes(const pcavs_modconv_desc *d, int n_threads) {
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    if (pcavs_modconv_check(d) != PCAVS_OK) return 0;
    const mc_plan p = mc_plan_of(d, n_threads);
    size_t demod_tmp = (size_t)d->n * d->c_in * sizeof(float) * 2; /* s2, and its [n, c_in] copy (weight_sq) */
    size_t work = p.per_xs + p.per_g + 128;
    return p.fixed + (work > demod_tmp ? work : demod_tmp);
}

/* ---- plain k x k (k > 1) path: tiled im2col of the style-scaled input + one sgemm per tile ----
 * Column tile = output pixels p0 .. p0+nt-1 of one sample; rows r = c*kk + i*k + j (the weight's own
 * [c_out, c_in*k*k] layout, so nothing is permuted); the GEMM writes y directly (ldc = h*w) and the
 * tile is demodulated while still in cache. Compared with the tap-GEMM + col2im form below, the
 * reduction is k*k times deeper (K = 9*c_in instead of c_in: 1152 instead of 128 at 224x224) and no
 * k*k-times-larger intermediate goes through memory. Threads take tiles (single-threaded pcavs_sgemm_nn each). */
#define MC_IM2COL_MIN_NT 256 /* narrower tiles: the tap-GEMM path (small maps at batch 1) */
#define MC_IM2COL_MAX_NT 2048
#ifndef MC_IM2COL_TILE_FLOATS
#define MC_IM2COL_TILE_FLOATS                                                                                          \
    (8 << 20) /* im2col tile cap (K * nt): 32 MB per thread. Wide tiles matter:                                        \
               * each single-threaded sgemm call re-packs the whole weight */
#endif

/* dst[r][0..nt) for rows r of channel c (k*k rows), pixels p0.. of sample plane xc [h, w] scaled by s. */
PCAVS_SIMD_CLONES static void mc_im2col_channel_body(const float *xc, float s, int h, int w, int k, long p0, int nt,
                                                     float *dst, int ldd) {
    const int pad = k / 2;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            float *o = dst + (size_t)(i * k + j) * ldd;
            const int dy = i - pad, dx = j - pad;
            long p = p0;
            const long pend = p0 + nt;
            while (p < pend) {
                const int yy = (int)(p / w), x0 = (int)(p % w);
                const int run = (int)(pend - p < (long)(w - x0) ? pend - p : (long)(w - x0));
                float *oo = o + (p - p0);
                const int iy = yy + dy;
                if (iy < 0 || iy >= h) {
                    memset(oo, 0, (size_t)run * sizeof(float));
                } else {
                    const float *xr = xc + (size_t)iy * w + dx; /* xr[x] = x[iy][x + dx] */
                    int lo = 0, hi = run;
                    while (lo < run && x0 + lo + dx < 0) oo[lo++] = 0.0f;
                    while (hi > lo && x0 + hi - 1 + dx >= w) oo[--hi] = 0.0f;
                    for (int t = lo; t < hi; t++) oo[t] = xr[x0 + t] * s;
                }
                p += run;
            }
        }
}
PCAVS_SIMD_DISPATCH(static, mc_im2col_channel,
                    (const float *xc, float s, int h, int w, int k, long p0, int nt, float *dst, int ldd),
                    (xc, s, h, w, k, p0, nt, dst, ldd))

/* Tile width for the im2col path, or 0 when it does not apply / does not fit the scratch. */
static long mc_im2col_nt(const pcavs_modconv_desc *d, int nt_threads, size_t avail_bytes) {
    if (d->upsample || d->k == 1) return 0;
    const long hw = (long)d->h * d->w, K = (long)d->c_in * d->k * d->k;
    long cap = MC_IM2COL_TILE_FLOATS / K;
    if (cap > MC_IM2COL_MAX_NT) cap = MC_IM2COL_MAX_NT;
    long tpi = (hw + cap - 1) / cap; /* tiles per image */
    /* enough tiles for every thread, and a multiple of the thread count (no straggler) */
    if ((long)d->n * tpi < 2L * nt_threads) tpi = (2L * nt_threads + d->n - 1) / d->n;
    while (((long)d->n * tpi) % nt_threads) tpi++;
    long nt = (hw + tpi - 1) / tpi;
    nt = (nt + 15) & ~15L;
    if (nt > hw) nt = hw;
    if (nt < MC_IM2COL_MIN_NT && nt < hw) return 0;
    if (nt < MC_IM2COL_MIN_NT && (long)d->n < 2L * nt_threads) return 0;
    /* per thread: the tile [K, nt] (64-byte aligned slices) */
    if ((size_t)nt_threads * PCAVS_ALIGN64((size_t)K * nt * sizeof(float)) > avail_bytes) return 0;
    return nt;
}

static void mc_run_im2col(const pcavs_modconv_desc *d, int nth, long ntile, const float *x, const float *weight,
                          const float *style, const float *demod, char *scratch, float *y) {
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k;
    const long hw = (long)h * w, K = (long)ci_n * kk;
    const long tpi = (hw + ntile - 1) / ntile, tasks = (long)n * tpi;
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));
    const size_t slice = PCAVS_ALIGN64((size_t)K * ntile * sizeof(float));
    const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nth)
    {
        float *col = (float *)(scratch + (size_t)omp_get_thread_num() * slice); /* [K, nt] */
#pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < tasks; task++) {
            const int b = (int)(task / tpi);
            const long p0 = (task % tpi) * ntile;
            const int cur = (int)(hw - p0 < ntile ? hw - p0 : ntile);
            for (int c = 0; c < ci_n; c++)
                mc_im2col_channel(x + ((size_t)b * ci_n + c) * hw, style[(size_t)b * ci_n + c] * scale, h, w, k, p0,
                                  cur, col + (size_t)c * kk * cur, cur);
            float *yt = y + (size_t)b * co_n * hw + p0; /* [c_out, cur] with row stride hw */
            pcavs_sgemm_nn(co_n, cur, (int)K, weight, (int)K, col, cur, yt, (int)hw);
            if (d->demodulate)
                for (int o = 0; o < co_n; o++) {
                    const float dm = demod[(size_t)b * co_n + o];
                    float *yr = yt + (size_t)o * hw;
                    for (int t = 0; t < cur; t++) yr[t] *= dm;
                }
        }
    }
    pcavs_blas_threads_restore(blas_threads);
}

/* ---- the bf16 mode (weight_bf16 given and a bf16 unit present, gemm_bf16.h) ----
 * plain 3x3: conv3x3_bf16.h (implicit im2col from bf16 planes, demod on the hot tile); upsampling: the four
 * output phases as implicit-im2col bf16 GEMMs, then the blur (mc_try_bf16_up). */
/* The upsampling layer's four output phases (winograd_up.h: EE, EO, OE, OO), each a correlation of x with
 * `ntaps` taps (x[Y + dy][X + dx] times W[wtap]) on its own grid of (h + gh_add) x (w + gw_add) positions. */
typedef struct mc_phase {
    int ntaps, gh_add, gw_add;
    int dy[4], dx[4], wtap[4]; /* wtap: i * 3 + j of W[o][c][i][j] */
} mc_phase;
static const mc_phase MC_PHASES[4] = {
    {4, 1, 1, {0, 0, -1, -1}, {0, -1, 0, -1}, {0, 2, 6, 8}}, /* EE T[2Y][2X] = sum W[2a][2b] x[Y-a][X-b] */
    {2, 1, 0, {0, -1}, {0, 0}, {1, 7}},                      /* EO T[2Y][2X+1] = sum W[2a][1] x[Y-a][X] */
    {2, 0, 1, {0, 0}, {0, -1}, {3, 5}},                      /* OE T[2Y+1][2X] = sum W[1][2b] x[Y][X-b] */
    {1, 0, 0, {0}, {0}, {4}},                                /* OO T[2Y+1][2X+1] = W[1][1] x[Y][X] */
};

/* Offsets (uint16) of the four phase weights [c_out, c_in * ntaps] in an upsampling layer's bf16 form. */
static size_t mc_phase_a_offset(const pcavs_modconv_desc *d, int ph) {
    size_t off = 0;
    for (int q = 0; q < ph; q++) off += pcavs_bf16_a_elems(d->c_out, d->c_in * MC_PHASES[q].ntaps);
    return off;
}

size_t pcavs_modconv_bf16_elems(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k != 3) return 0;
    return d->upsample ? mc_phase_a_offset(d, 4) : pcavs_bf16_a_elems(d->c_out, d->c_in * 9);
}

pcavs_status pcavs_modconv_prepare_bf16(const pcavs_modconv_desc *d, const float *weight, uint16_t *out) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (d->k != 3)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_bf16: only 3x3 weights have a bf16 form (k=%d)",
                          d->k);
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_bf16: NULL pointer");
    if (!d->upsample) {
        pcavs_conv3x3_bf16_weight(d->c_out, d->c_in, weight, out);
        return PCAVS_OK;
    }
    for (int ph = 0; ph < 4; ph++) /* A_ph[o][t * c_in + c] = W[o][c][wtap[t]] (tap-major, conv3x3_bf16.h) */
        pcavs_bf16_taps_weight(d->c_out, d->c_in, weight, MC_PHASES[ph].ntaps, MC_PHASES[ph].wtap,
                               out + mc_phase_a_offset(d, ph));
    return PCAVS_OK;
}

#define MC_BF16_B_BYTES (4u << 20) /* packed B per task */

/* Tile height (grid rows) for a bf16 implicit-im2col GEMM of reduction K over a grid gwp wide: packed B
 * within MC_BF16_B_BYTES, and at least `want` tiles over gh rows when the grid allows. */
static int mc_bf16_tile_rows(int K, int gwp, int gh, int want) {
    const size_t row_bytes = pcavs_bf16_round32((size_t)K) * 2 * (size_t)gwp;
    int r = (int)(MC_BF16_B_BYTES / row_bytes);
    if (r < 1) r = 1;
    if (r > gh) r = gh;
    if (want > 1 && (gh + r - 1) / r < want) r = (gh + want - 1) / want;
    return r < 1 ? 1 : r;
}

/* Output plane (b, o) of an upsampling layer: y = dm * Blur(T) from the T plane t (winograd_up.h's layout), with d's
 * StyledConv tail where act_lrelu; tmp: the blur's row buffer. */
static void mc_up_blur_out(const pcavs_modconv_desc *d, float *t, const float *blur, int b, int o, float dm, float *tmp,
                           float *y) {
    const size_t plane = (size_t)4 * d->h * d->w;
    pcavs_up_blur_plane(t, d->h, d->w, blur, dm, d->act_lrelu && d->act_noise ? d->act_noise + (size_t)b * plane : NULL,
                        d->act_noise_weight, d->act_lrelu && d->act_bias ? d->act_bias[o] : 0.0f,
                        d->act_lrelu ? PCAVS_STORE_ACT_LRELU : PCAVS_STORE_ACT_NONE, tmp,
                        y + ((size_t)b * d->c_out + o) * plane);
}

/* bf16 plain 3x3: conv3x3_bf16.h with in_scale = style * scale and out_scale = demod. Returns 0 when the
 * scratch cannot hold it (the caller then runs float32), 1 when done. */
static int mc_try_bf16_plain(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *style,
                             const float *demod, char *sp, size_t avail, float *y) {
    pcavs_conv3x3_bf16 a = {.n = d->n,
                            .c_in = d->c_in,
                            .h = d->h,
                            .w = d->w,
                            .c_out = d->c_out,
                            .x = x,
                            .a = d->weight_bf16,
                            .in_scale = style,
                            .in_mul = (float)(1.0 / sqrt((double)d->c_in * 9)),
                            .out_scale = d->demodulate ? demod : NULL,
                            .act = PCAVS_ACT_NONE,
                            .y = y};
    pcavs_kctx sub = *kc;
    sub.scratch = sp;
    sub.scratch_bytes = avail;
    if (pcavs_conv3x3_bf16_scratch_bytes(&a, kc->n_threads) > avail) return 0;
    return pcavs_conv3x3_bf16_run(&sub, &a) == PCAVS_OK;
}

/* bf16 upsampling: per sample the bf16 planes; the four phases' implicit-im2col GEMMs (tasks: phase x grid
 * rows; each phase's grid padded to a multiple of 16 wide) write their grids C; then per output channel the
 * T plane is assembled from the four grids and blurred, times demod (pcavs_up_blur_plane). No 9x-sized tap
 * intermediate, no scatter, no float32 im2col. Returns 0 when the scratch cannot hold it. */
static int mc_try_bf16_up(const pcavs_modconv_desc *d, int nth, const float *x, const float *style, const float *blur,
                          const float *demod, char *scratch, size_t avail, float *y) {
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, rows = h + 2;
    const long ls = (long)((w + 1 + 15) / 16 * 16) + 16;
    int gh[4], gwp[4], R[4], task0[5];
    size_t goff[4], cfl = 0, bmax = 0;
    task0[0] = 0;
    for (int ph = 0; ph < 4; ph++) {
        const mc_phase *P = &MC_PHASES[ph];
        const int K = ci_n * P->ntaps;
        gh[ph] = h + P->gh_add;
        gwp[ph] = (w + P->gw_add + 15) / 16 * 16;
        goff[ph] = cfl;
        cfl += (size_t)co_n * gh[ph] * gwp[ph];
        R[ph] = mc_bf16_tile_rows(K, gwp[ph], gh[ph], nth);
        task0[ph + 1] = task0[ph] + (gh[ph] + R[ph] - 1) / R[ph];
        const size_t be = pcavs_bf16_b_elems(K, (long)R[ph] * gwp[ph]) * sizeof(uint16_t);
        bmax = be > bmax ? be : bmax;
    }
    const size_t xb_bytes = PCAVS_ALIGN64((size_t)ci_n * rows * ls * sizeof(uint16_t));
    const size_t off_bytes = PCAVS_ALIGN64((size_t)4 * ci_n * sizeof(long)) * 4;
    const size_t per_thread = PCAVS_ALIGN64(bmax) + PCAVS_ALIGN64(MC_TBUF_FLOATS(h, w) * sizeof(float));
    const size_t c_bytes = PCAVS_ALIGN64(cfl * sizeof(float));
    if (c_bytes + xb_bytes + off_bytes + (size_t)nth * per_thread > avail) return 0;
    float *C = (float *)scratch; /* the four grids [c_out, gh, gwp] of one sample */
    uint16_t *xb = (uint16_t *)(scratch + c_bytes);
    /* AMX with c_in a multiple of 32: B straight from channel-pair planes, offs[ph][t] the tap offsets; else
     * packed B, offs[ph][q] for row q = t * c_in + c of each phase */
    const int implicit = pcavs_conv_bf16_amx_applies(ci_n);
    long *offs = (long *)(scratch + c_bytes + xb_bytes); /* [4][4 * c_in] */
    for (int ph = 0; ph < 4; ph++) {
        const mc_phase *P = &MC_PHASES[ph];
        for (int q = 0; q < (implicit ? P->ntaps : ci_n * P->ntaps); q++) {
            const int t = implicit ? q : q / ci_n, c = implicit ? 0 : q % ci_n;
            offs[(size_t)ph * 4 * ci_n + q] = implicit
                                                  ? ((long)(P->dy[t] + 1) * ls + (P->dx[t] + 1)) * 2
                                                  : (long)c * rows * ls + (long)(P->dy[t] + 1) * ls + (P->dx[t] + 1);
        }
    }
    char *thr = scratch + c_bytes + xb_bytes + off_bytes;
    const float scale = (float)(1.0 / sqrt((double)ci_n * 9));
    const size_t hw = (size_t)h * w, ts = (size_t)w + 3, plane = pcavs_up_plane_floats(h, w);
    for (int b = 0; b < n; b++) {
#pragma omp parallel num_threads(nth)
        {
            char *mine = thr + (size_t)omp_get_thread_num() * per_thread;
            uint16_t *bp = (uint16_t *)mine;              /* packed B of one task */
            float *tp = (float *)(mine + PCAVS_ALIGN64(bmax)); /* T plane + blur rows */
            pcavs_conv3x3_bf16_planes(x + (size_t)b * ci_n * hw, style + (size_t)b * ci_n, scale, ci_n, h, w, rows, ls,
                                      implicit, xb);
#pragma omp for schedule(dynamic, 1)
            for (int task = 0; task < task0[4]; task++) {
                int ph = 0;
                while (task >= task0[ph + 1]) ph++;
                const int K = ci_n * MC_PHASES[ph].ntaps;
                const int y0 = (task - task0[ph]) * R[ph], nr = gh[ph] - y0 < R[ph] ? gh[ph] - y0 : R[ph];
                const long ncol = (long)nr * gwp[ph];
                const uint16_t *ap = d->weight_bf16 + mc_phase_a_offset(d, ph);
                float *cg = C + goff[ph] + (size_t)y0 * gwp[ph];
                if (implicit) {
                    pcavs_conv_bf16_amx(co_n, ci_n, MC_PHASES[ph].ntaps, ap, xb + (size_t)y0 * ls * 2,
                                        (long)(2 * rows * ls), offs + (size_t)ph * 4 * ci_n, ls, gwp[ph], ncol, cg,
                                        (long)gh[ph] * gwp[ph]);
                    continue;
                }
                pcavs_bf16_pack_b_taps_cpu(K, ncol, xb + (size_t)y0 * ls, offs + (size_t)ph * 4 * ci_n, gwp[ph], ls,
                                           bp);
                (void)pcavs_gemm_bf16_cpu(co_n, ncol, K, ap, bp, cg, (long)gh[ph] * gwp[ph]);
            }
#pragma omp for schedule(static)
            for (int o = 0; o < co_n; o++) {
                const float *g[4];
                for (int ph = 0; ph < 4; ph++) g[ph] = C + goff[ph] + (size_t)o * gh[ph] * gwp[ph];
                for (int yy = 0; yy <= h; yy++) { /* T row 2Y: Te from EE, To from EO */
                    memcpy(tp + (size_t)(4 * yy) * ts + 1, g[0] + (size_t)yy * gwp[0], (size_t)(w + 1) * sizeof(float));
                    memcpy(tp + (size_t)(4 * yy + 1) * ts + 1, g[1] + (size_t)yy * gwp[1], (size_t)w * sizeof(float));
                }
                for (int yy = 0; yy < h; yy++) { /* T row 2Y+1: Te from OE, To from OO */
                    memcpy(tp + (size_t)(4 * yy + 2) * ts + 1, g[2] + (size_t)yy * gwp[2],
                           (size_t)(w + 1) * sizeof(float));
                    memcpy(tp + (size_t)(4 * yy + 3) * ts + 1, g[3] + (size_t)yy * gwp[3], (size_t)w * sizeof(float));
                }
                const float dm = d->demodulate ? demod[(size_t)b * co_n + o] : 1.0f;
                mc_up_blur_out(d, tp, blur, b, o, dm, tp + plane, y);
            }
        }
    }
    return 1;
}

/* wp [c_out, kk, c_in] = the weight [c_out, c_in, kk] with taps outermost per output channel */
static void mc_permute_taps(const pcavs_modconv_desc *d, const float *weight, float *wp, int n_threads) {
    const int ci_n = d->c_in, kk = d->k * d->k;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (int o = 0; o < d->c_out; o++)
        for (int c = 0; c < ci_n; c++) {
            const float *src = weight + ((size_t)o * ci_n + c) * kk;
            float *dst = wp + (size_t)o * kk * ci_n + c;
            for (int t = 0; t < kk; t++) dst[(size_t)t * ci_n] = src[t];
        }
}

size_t pcavs_modconv_taps_floats(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k == 1) return 0;
    return (size_t)d->c_out * d->k * d->k * d->c_in;
}

pcavs_status pcavs_modconv_prepare_taps(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_taps: NULL pointer");
    if (d->k == 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_taps: a 1x1 layer has no tap form");
    mc_permute_taps(d, weight, out, n_threads);
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_prepare_sq(const pcavs_modconv_desc *d, const float *weight, float *out) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_sq: NULL pointer");
    const size_t kk = (size_t)d->k * d->k;
    for (size_t oc = 0; oc < (size_t)d->c_out * d->c_in; oc++) { /* the same sum, same order, as per call */
        float q = 0.0f;
        for (size_t t = 0; t < kk; t++) q += weight[oc * kk + t] * weight[oc * kk + t];
        out[oc] = q;
    }
    return PCAVS_OK;
}

/* The plain layer's Winograd tile: F(6x6, 3x3) on AVX-512 CPUs up to MC_WINO6_MAX_C_IN input channels, where its
 * error stays within the single-op bound with room (test_winograd: 4.5e-6 at 128, 6.2e-6 at 256 channels; a
 * float32 model of it gives ~9e-6 at 512), else F(4x4, 3x3). It pays at 128 and 256 channels; at 512 its 64
 * weight matrices (67 MB) are too much to stream per call (docs/bench/tuning.md). AVX-512 only: its stride-6
 * gather is shuffles that the other clones would do element by element. The same for every batch, so that a
 * weight prepared at load serves them all. */
#define MC_WINO6_MAX_C_IN 256
static int mc_wino_tile(const pcavs_modconv_desc *d) {
    return pcavs_cpu_detect().avx512f && d->c_in <= MC_WINO6_MAX_C_IN ? 6 : 4;
}

size_t pcavs_modconv_wino_floats(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k != 3) return 0;
    const int pts = d->upsample ? PCAVS_WINO_UP_U_MATS : mc_wino_tile(d) == 6 ? PCAVS_WINO6_POINTS : PCAVS_WINO_POINTS;
    return (size_t)pts * d->c_out * d->c_in;
}

pcavs_status pcavs_modconv_prepare_wino(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_wino: NULL pointer");
    if (d->k != 3) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_wino: only 3x3 layers (k=%d)", d->k);
    if (d->upsample)
        pcavs_wino_up_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    else if (mc_wino_tile(d) == 6)
        pcavs_wino6_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    else
        pcavs_wino_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    return PCAVS_OK;
}

/* ---- plain 3x3 with enough tiles: Winograd F(4x4, 3x3) (kernels/winograd.h) ---- */
#ifndef MC_WINO_MIN_TILES
/* n * ceil(h/4) * ceil(w/4) below this: direct. 14x14 at batch 1 (16 tiles) gains from Winograd, 7x7 (4) loses
 * (docs/bench/tuning.md); the bar is this low because pcavs_sgemm_nn packs no weight. */
#define MC_WINO_MIN_TILES 16
#endif
static int mc_wino_applies(const pcavs_modconv_desc *d) {
    const size_t tiles = (size_t)d->n * ((d->h + 3) / 4) * ((d->w + 3) / 4);
    return d->k == 3 && !d->upsample && tiles >= MC_WINO_MIN_TILES;
}
/* ---- upsampling 3x3 with enough tiles: Winograd F(4x4, 2x2) on the transposed conv's phases, then the
 * blur (kernels/winograd_up.h) ---- */
/* It pays for the generator's upsampling layers from 14x14 (14->28 ties at batch 1 and wins at batch 8, with its
 * weight prepared at load); at 7->14 the tiles are too few. The history: docs/bench/tuning.md. */
#ifndef MC_WINO_UP_MIN_SIDE
#define MC_WINO_UP_MIN_SIDE 14 /* input side */
#endif
#ifndef MC_WINO_UP_MIN_CHANNELS
#define MC_WINO_UP_MIN_CHANNELS (256 * 128) /* c_in * c_out */
#endif
static int mc_wino_up_applies(const pcavs_modconv_desc *d) {
    return d->k == 3 && d->upsample && d->h >= MC_WINO_UP_MIN_SIDE && d->w >= MC_WINO_UP_MIN_SIDE &&
           (long)d->c_in * d->c_out >= MC_WINO_UP_MIN_CHANNELS;
}
/* Both Winograd paths: plain 3x3 (F(4x4, 3x3), winograd.h) or upsampling (F(4x4, 2x2) on the phases,
 * winograd_up.h), with in_scale = style * scale and out_scale = demod; the weight taken prepared
 * (d->weight_wino) or transformed per call into the scratch. Returns 0 (not taken: the path does not apply
 * or the scratch is too small) or 1 (done). */
static int mc_try_wino(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                       const float *style, const float *blur, const float *demod, char *sp, size_t avail, float *y) {
    const int up = d->upsample;
    if (!(up ? mc_wino_up_applies(d) : mc_wino_applies(d))) return 0;
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    pcavs_wino_conv a = {.n = d->n,
                         .c_in = d->c_in,
                         .h = d->h,
                         .w = d->w,
                         .c_out = d->c_out,
                         .tile = mc_wino_tile(d),
                         .x = x,
                         .out_scale = d->demodulate ? demod : NULL,
                         .noise = d->act_lrelu ? d->act_noise : NULL,
                         .noise_weight = d->act_noise_weight,
                         .bias = d->act_lrelu ? d->act_bias : NULL,
                         .lrelu = d->act_lrelu,
                         .y = y};
    pcavs_wino_up_conv au = {.n = d->n,
                             .c_in = d->c_in,
                             .h = d->h,
                             .w = d->w,
                             .c_out = d->c_out,
                             .x = x,
                             .out_scale = a.out_scale,
                             .blur = blur,
                             .tail = {.noise = a.noise,
                                      .noise_weight = a.noise_weight,
                                      .bias = a.bias,
                                      .act = d->act_lrelu ? PCAVS_STORE_ACT_LRELU : PCAVS_STORE_ACT_NONE},
                             .y = y};
    const int rgb = !up && d->rgb_weight && d->rgb_style && d->rgb_out && d->rgb_done;
    const size_t r_bytes = rgb ? PCAVS_ALIGN64((size_t)d->n * PCAVS_WINO_RGB * d->c_out * sizeof(float)) : 0;
    const size_t s_bytes = PCAVS_ALIGN64((size_t)d->n * d->c_in * sizeof(float)) + r_bytes;
    const size_t u_bytes = d->weight_wino ? 0 : PCAVS_ALIGN64(pcavs_modconv_wino_floats(d) * sizeof(float));
    const size_t run_min = up ? pcavs_wino_up_min_scratch_bytes(&au, nth) : pcavs_wino_min_scratch_bytes(&a, nth);
    if (avail < s_bytes + u_bytes + run_min) return 0;
    float *s_in = (float *)sp; /* [n, c_in] */
    const float scale = (float)(1.0 / sqrt((double)d->c_in * 9));
    for (size_t i = 0; i < (size_t)d->n * d->c_in; i++) s_in[i] = style[i] * scale;
    if (rgb) { /* the ToRGB's modulated weight [n, 3, c_out], rounded as the ToRGB path below does it */
        float *rw = (float *)(sp + s_bytes - r_bytes);
        const float rs = (float)(1.0 / sqrt((double)d->c_out));
        for (int b = 0; b < d->n; b++)
            for (int k = 0; k < PCAVS_WINO_RGB; k++)
                for (int c = 0; c < d->c_out; c++)
                    rw[((size_t)b * PCAVS_WINO_RGB + k) * d->c_out + c] =
                        d->rgb_weight[(size_t)k * d->c_out + c] * (d->rgb_style[(size_t)b * d->c_out + c] * rs);
        a.rgb_w = rw, a.rgb = d->rgb_out, a.rgb_done = d->rgb_done;
    }
    const float *u = d->weight_wino;
    if (!u) {
        float *uw = (float *)(sp + s_bytes); /* [pcavs_modconv_wino_floats(d)]: 36 or 64 matrices [c_out, c_in] */
        if (pcavs_modconv_prepare_wino(d, weight, uw, nth) != PCAVS_OK) return 0;
        u = uw;
    }
    pcavs_kctx sub = *kc;
    sub.scratch = sp + s_bytes + u_bytes;
    sub.scratch_bytes = avail - s_bytes - u_bytes;
    if (up) {
        au.in_scale = s_in, au.u = u;
        return pcavs_wino_up_run(&sub, &au) == PCAVS_OK;
    }
    a.in_scale = s_in, a.u = u;
    return pcavs_wino_run(&sub, &a) == PCAVS_OK;
}

int pcavs_modconv_cpu_takes_wino(const pcavs_modconv_desc *d) {
    return pcavs_modconv_check(d) == PCAVS_OK && (mc_wino_applies(d) || mc_wino_up_applies(d));
}

int pcavs_modconv_cpu_takes_taps(const pcavs_modconv_desc *d) {
    return pcavs_modconv_check(d) == PCAVS_OK && d->k > 1 && !pcavs_modconv_cpu_takes_wino(d);
}

/* With AMX every 3x3 layer is faster in bf16. With AVX512-BF16 alone (at most 2x the FP32 rate) only the upsampling
 * layers from 14x14 are: float32's Winograd forms win on the plain layers and at 7->14 (docs/bench/tuning.md). */
#define MC_BF16_UP_MIN_SIDE 14
int pcavs_modconv_cpu_prefers_bf16(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k != 3) return 0;
    switch (pcavs_bf16_unit_detect()) {
    case PCAVS_BF16_AMX:
        return 1;
    case PCAVS_BF16_AVX512:
        return d->upsample && d->h >= MC_BF16_UP_MIN_SIDE && d->w >= MC_BF16_UP_MIN_SIDE;
    default:
        return 0;
    }
}

/* The convolution; *tail_done = 1 where the path applied d's StyledConv tail as it stored y. */
static pcavs_status mc_conv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, const float *weight,
                            const float *style, const float *blur, float *y, int *tail_done) {
    const int n = d->n, ci_n = d->c_in, co_n = d->c_out, h = d->h, w = d->w, k = d->k, kk = k * k, pad = k / 2;
    const int nt = kc->n_threads < 1 ? 1 : kc->n_threads;
    const size_t hw = (size_t)h * w;
    const int th = 2 * h + 1, oh = pcavs_modconv_out_h(d), ow = pcavs_modconv_out_w(d);
    const mc_plan pl = mc_plan_of(d, nt);
    const size_t min_need = pcavs_modconv_cpu_min_scratch_bytes(d, nt);
    if (!kc->scratch || kc->scratch_bytes < min_need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "modconv_cpu: [n=%d, %d->%d, %dx%d, k=%d%s] needs at least %zu bytes of scratch "
                          "(%zu untiled), %zu available",
                          n, ci_n, co_n, h, w, k, d->upsample ? ", upsample" : "", min_need,
                          pcavs_modconv_cpu_scratch_bytes(d, nt), kc->scratch_bytes);
    /* carve the scratch */
    char *sp = (char *)kc->scratch;
    float *demod = (float *)sp; /* [n, c_out] */
    sp += PCAVS_ALIGN64((size_t)n * co_n * sizeof(float));
    float *wp = NULL; /* [c_out, kk, c_in] */
    if (k > 1) {
        wp = (float *)sp;
        sp += PCAVS_ALIGN64((size_t)co_n * kk * ci_n * sizeof(float));
    }
    float *tbuf = NULL; /* [threads, th*tw] */
    const size_t tstride = PCAVS_ALIGN64(MC_TBUF_FLOATS(h, w) * sizeof(float)) / sizeof(float);
    if (d->upsample) {
        tbuf = (float *)sp;
        sp += (size_t)nt * tstride * sizeof(float);
    }
    const size_t avail = kc->scratch_bytes - (size_t)(sp - (char *)kc->scratch) - 128;
    pcavs_kctx sub = *kc;
    sub.scratch = sp;
    sub.scratch_bytes = kc->scratch_bytes - (size_t)(sp - (char *)kc->scratch);
    PCAVS_TRY(pcavs_modconv_demod_cpu(&sub, d, weight, style, demod));
    (void)pl.fixed;

    if (k == 1 && co_n <= MC_SMALL_COUT) { /* ToRGB: stream x once with per-sample weights, no copy, no GEMM */
        const long chunks = (long)((hw + MC_PCHUNK - 1) / MC_PCHUNK);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (long r = 0; r < (long)n * chunks; r++) {
            const int b = (int)(r / chunks);
            const size_t p0 = (size_t)(r % chunks) * MC_PCHUNK, np = hw - p0 < MC_PCHUNK ? hw - p0 : MC_PCHUNK;
            float acc[MC_SMALL_COUT][MC_PCHUNK];
            for (int o = 0; o < co_n; o++) memset(acc[o], 0, np * sizeof(float));
            const float sc = (float)(1.0 / sqrt((double)ci_n));
            for (int c = 0; c < ci_n; c++) {
                const float s = style[(size_t)b * ci_n + c] * sc;
                const float *xr = x + ((size_t)b * ci_n + c) * hw + p0;
                if (c + 2 < ci_n) /* the chunk of the channel after next: 128 short streams defeat the prefetchers */
                    for (size_t p = 0; p < np; p += 16) __builtin_prefetch(xr + 2 * hw + p);
                for (int o = 0; o < co_n; o++) {
                    const float wv = weight[(size_t)o * ci_n + c] * s;
                    float *a = acc[o];
                    for (size_t p = 0; p < np; p++) a[p] += wv * xr[p];
                }
            }
            for (int o = 0; o < co_n; o++) {
                const float dm = demod[(size_t)b * co_n + o];
                float *yo = y + ((size_t)b * co_n + o) * hw + p0;
                for (size_t p = 0; p < np; p++) yo[p] = acc[o][p] * dm;
            }
        }
        return PCAVS_OK;
    }
    /* the bf16 mode (where the scratch holds it; else float32 below) */
    if (d->weight_bf16 && k == 3 && pcavs_bf16_unit_detect() != PCAVS_BF16_NONE &&
        (d->upsample ? mc_try_bf16_up(d, nt, x, style, blur, demod, sp, avail, y)
                     : mc_try_bf16_plain(kc, d, x, style, demod, sp, avail, y))) {
        *tail_done = d->upsample;
        return PCAVS_OK;
    }
    if (mc_try_wino(kc, d, x, weight, style, blur, demod, sp, avail, y)) {
        *tail_done = 1;
        return PCAVS_OK;
    }
    {
        const long ntile = mc_im2col_nt(d, nt, avail);
        if (ntile > 0) {
            mc_run_im2col(d, nt, ntile, x, weight, style, demod, sp, y);
            return PCAVS_OK;
        }
    }
    *tail_done = d->upsample; /* below, every upsampling output plane goes through mc_up_blur_out */
    /* tile: nb samples x ob output channels */
    int nb = n, ob = co_n;
    while (nb > 1 && (size_t)nb * (pl.per_xs + pl.per_g * ob) > avail) nb = (nb + 1) / 2;
    if ((size_t)nb * (pl.per_xs + pl.per_g * ob) > avail && pl.per_g) {
        ob = (int)((avail - pl.per_xs) / pl.per_g);
        if (ob > co_n) ob = co_n;
        if (ob < 1) ob = 1;
    }
    float *xs = (float *)sp;                                     /* [c_in, nb*hw] (k>1) or [nb, c_in, hw] */
    float *g = (float *)(sp + PCAVS_ALIGN64((size_t)nb * pl.per_xs)); /* [ob*kk, nb*hw] */
    const float scale = (float)(1.0 / sqrt((double)ci_n * kk));

    const float *wt = d->weight_taps; /* [c_out, kk, c_in]: prepared at load, or permuted here once per call */
    if (k > 1 && !wt) {
        mc_permute_taps(d, weight, wp, nt);
        wt = wp;
    }
    for (int b0 = 0; b0 < n; b0 += nb) {
        const int cb = n - b0 < nb ? n - b0 : nb;
        const size_t ncol = (size_t)cb * hw;
        /* xs = x * style * scale */
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
        for (int b = 0; b < cb; b++)
            for (int c = 0; c < ci_n; c++) {
                const float s = style[(size_t)(b0 + b) * ci_n + c] * scale;
                const float *src = x + ((size_t)(b0 + b) * ci_n + c) * hw;
                float *dst = k > 1 ? xs + (size_t)c * ncol + (size_t)b * hw : xs + ((size_t)b * ci_n + c) * hw;
                for (size_t p = 0; p < hw; p++) dst[p] = src[p] * s;
            }
        if (k == 1) { /* columns split over our threads, single-threaded sgemm each (as below: no OpenBLAS pthreads) */
            const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nt)
            {
                const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
                const size_t p0 = hw * tid / nthr / 16 * 16,
                             p1 = tid == nthr - 1 ? hw : hw * (tid + 1) / nthr / 16 * 16;
                if (p1 > p0)
                    for (int b = 0; b < cb; b++)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co_n, (int)(p1 - p0), ci_n, 1.0f, weight,
                                    ci_n, xs + (size_t)b * ci_n * hw + p0, (int)hw, 0.0f,
                                    y + (size_t)(b0 + b) * co_n * hw + p0, (int)hw);
            }
            pcavs_blas_threads_restore(blas_threads);
            if (d->demodulate) {
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
                for (int b = 0; b < cb; b++)
                    for (int o = 0; o < co_n; o++) {
                        const float dm = demod[(size_t)(b0 + b) * co_n + o];
                        float *yo = y + ((size_t)(b0 + b) * co_n + o) * hw;
                        for (size_t p = 0; p < hw; p++) yo[p] *= dm;
                    }
            }
            continue;
        }
        for (int o0 = 0; o0 < co_n; o0 += ob) {
            const int cob = co_n - o0 < ob ? co_n - o0 : ob;
            /* rows (o, t) split over our own threads, single-threaded sgemm each: OpenBLAS's pthreads
             * never wake (on 2 cores their spin-yield competed with the OpenMP gather that follows) */
            const int blas_threads = pcavs_blas_single_threaded();
#pragma omp parallel num_threads(nt)
            {
                const int tid = omp_get_thread_num(), nthr = omp_get_num_threads();
                const int rows = cob * kk;
                int per = (rows + nthr - 1) / nthr;
                per = (per + 15) & ~15;
                const int r0 = tid * per < rows ? tid * per : rows, r1 = r0 + per < rows ? r0 + per : rows;
                if (r1 > r0)
                    pcavs_sgemm_nn(r1 - r0, (int)ncol, ci_n, wt + ((size_t)o0 * kk + r0) * ci_n, ci_n, xs, (int)ncol,
                                   g + (size_t)r0 * ncol, (int)ncol);
            }
            pcavs_blas_threads_restore(blas_threads);
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
            for (int b = 0; b < cb; b++)
                for (int oo = 0; oo < cob; oo++) {
                    const int o = o0 + oo;
                    const float dm = demod[(size_t)(b0 + b) * co_n + o];
                    const float *go = g + (size_t)oo * kk * ncol + (size_t)b * hw; /* tap t at go + t*ncol: [h, w] */
                    float *yo = y + ((size_t)(b0 + b) * co_n + o) * oh * ow;       /* [oh, ow] */
                    if (!d->upsample) {
                        memset(yo, 0, hw * sizeof(float));
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                const float *gt = go + (size_t)(i * k + j) * ncol;
                                const int dy = i - pad, dx = j - pad;
                                const int y_lo = dy < 0 ? -dy : 0, y_hi = dy > 0 ? h - dy : h;
                                const int x_lo = dx < 0 ? -dx : 0, x_hi = dx > 0 ? w - dx : w;
                                for (int yy = y_lo; yy < y_hi; yy++) {
                                    float *yr = yo + (size_t)yy * w;
                                    const float *gr = gt + (size_t)(yy + dy) * w + dx;
                                    for (int xx = x_lo; xx < x_hi; xx++) yr[xx] += gr[xx];
                                }
                            }
                        for (size_t p = 0; p < hw; p++) yo[p] *= dm;
                        continue;
                    }
                    float *tp = tbuf + (size_t)omp_get_thread_num() * tstride; /* [th, tw] */
                    /* The (2h+1) x (2w+1) transposed-conv grid T as column phases, so that every pass is
                     * contiguous (vectorisable): Te[r][X] = T[r][2X] (X = 0..w), To[r][X] = T[r][2X+1]
                     * (X = 0..w-1), each row with a zero guard column on the left (X = -1) and zeros
                     * beyond its end. Row r of phase q at tp + (2r + q) * ts + 1. */
                    const size_t ts = (size_t)w + 3;
                    memset(tp, 0, (size_t)th * 2 * ts * sizeof(float));
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) { /* conv_transpose: T[2y+i][2x+j] += G_t[y][x] */
                            const float *gt = go + (size_t)(i * 3 + j) * ncol;
                            const int q = j & 1, sh = j >> 1;
                            for (int yy = 0; yy < h; yy++) {
                                float *tr = tp + (size_t)(2 * (2 * yy + i) + q) * ts + 1 + sh;
                                const float *gr = gt + (size_t)yy * w;
                                for (int xx = 0; xx < w; xx++) tr[xx] += gr[xx];
                            }
                        }
                    mc_up_blur_out(d, tp, blur, b0 + b, o, dm, tp + (size_t)th * 2 * ts, y);
                }
        }
    }
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_cpu(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *x, /* [n, c_in, h, w] */
                               const float *weight, /* [c_out, c_in, k, k] */
                               const float *style,  /* [n, c_in] */
                               const float *blur,   /* [4, 4], upsample only */
                               float *y) {          /* [n, c_out, out_h, out_w] */
    pcavs_modconv_desc du;
    d = mc_unpack(d, &du);
    PCAVS_TRY(pcavs_modconv_check_call(kc, d, x, weight, style, blur, y, "modconv_cpu"));
    int tail_done = 0;
    PCAVS_TRY(mc_conv(kc, d, x, weight, style, blur, y, &tail_done));
    if (!d->act_lrelu || tail_done) return PCAVS_OK;
    return pcavs_fused_lrelu_cpu(kc, d->n, d->c_out, pcavs_modconv_out_h(d) * pcavs_modconv_out_w(d), y, d->act_bias,
                                 d->act_noise, d->act_noise_weight, y);
}
