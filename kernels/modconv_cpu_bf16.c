/* modconv_cpu_bf16.c: the modulated convolution's bf16 mode (d->weight_bf16, 3x3 layers, a CPU with AMX-BF16 or
 * AVX512-BF16): plain layers through conv3x3_bf16.h, upsampling ones as the transposed conv's four output phases
 * (EE, EO, OE, OO of winograd_up.h) each an implicit-im2col bf16 GEMM, then the blur; the bf16 weight form
 * (pcavs_modconv_prepare_bf16) and which layers should get one (pcavs_modconv_cpu_prefers_bf16). */
#include <math.h>
#include <string.h>

#include "kernel_util.h"

#include "conv3x3_bf16.h"
#include "gemm_bf16.h"
#include "modconv_cpu_internal.h"
#include "winograd_up.h"

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
            uint16_t *bp = (uint16_t *)mine;                   /* packed B of one task */
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
                pcavs_mc_up_blur_out(d, tp, blur, b, o, dm, tp + plane, y);
            }
        }
    }
    return 1;
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

int pcavs_mc_path_bf16(const pcavs_mc_call *cl, int *tail_done) {
    const pcavs_modconv_desc *d = cl->d;
    /* where the scratch holds it; else float32 */
    if (d->weight_bf16 && d->k == 3 && pcavs_bf16_unit_detect() != PCAVS_BF16_NONE &&
        (d->upsample ? mc_try_bf16_up(d, cl->nt, cl->x, cl->style, cl->blur, cl->demod, cl->sp, cl->avail, cl->y)
                     : mc_try_bf16_plain(cl->kc, d, cl->x, cl->style, cl->demod, cl->sp, cl->avail, cl->y))) {
        *tail_done = d->upsample;
        return 1;
    }
    return 0;
}
