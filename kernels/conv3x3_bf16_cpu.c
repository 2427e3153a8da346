/* conv3x3_bf16_cpu.c: the bf16 3x3 convolution (conv3x3_bf16.h). */
#include <string.h>
#include "kernel_util.h"

#include "conv3x3_bf16.h"
#include "gemm_bf16.h"

#define C3_B_BYTES (4u << 20) /* packed B per tile */

#define C3_PLANES_BYTES (32u << 20) /* bf16 planes of a group of samples */

typedef struct c3_plan {
    int implicit;               /* AMX straight from channel-pair planes (no packed B) */
    int rows, gwp, K, R, tiles; /* plane rows, grid width (16s), reduction, tile rows, tiles per sample */
    int gs;                     /* samples per group (planes converted together, tiles of all shared out) */
    long ls;                    /* plane row length */
    size_t xb, off, bp, ct;     /* bytes: planes of a group, row offsets, per-thread B and C tile */
} c3_plan;

static c3_plan c3_plan_of(const pcavs_conv3x3_bf16 *a, int nth) {
    c3_plan p;
    p.implicit = pcavs_conv_bf16_amx_applies(a->c_in);
    p.rows = a->h + 2;
    p.gwp = (a->w + 15) / 16 * 16;
    p.ls = p.gwp + 16;
    p.K = a->c_in * 9;
    const size_t row_bytes = pcavs_bf16_round32((size_t)p.K) * 2 * (size_t)p.gwp;
    p.R = p.implicit ? a->h : (int)(C3_B_BYTES / row_bytes);
    if (p.R < 1) p.R = 1;
    if (p.R > a->h) p.R = a->h;
    const size_t per_sample = (size_t)a->c_in * p.rows * p.ls * sizeof(uint16_t);
    p.gs = (int)(C3_PLANES_BYTES / per_sample);
    p.gs = p.gs < 1 ? 1 : p.gs > a->n ? a->n : p.gs;
    const int want = (2 * nth + p.gs - 1) / p.gs; /* tiles per sample so that every thread has work */
    if (want > 1 && (a->h + p.R - 1) / p.R < want) p.R = (a->h + want - 1) / want > 0 ? (a->h + want - 1) / want : 1;
    p.tiles = (a->h + p.R - 1) / p.R;
    p.xb = PCAVS_ALIGN64(per_sample * p.gs);
    p.off = PCAVS_ALIGN64((size_t)p.K * sizeof(long));
    p.bp = p.implicit ? 0 : PCAVS_ALIGN64(pcavs_bf16_b_elems(p.K, (long)p.R * p.gwp) * sizeof(uint16_t));
    p.ct = a->w % 16 ? PCAVS_ALIGN64((size_t)a->c_out * p.R * p.gwp * sizeof(float)) : 0;
    return p;
}

void pcavs_bf16_taps_weight(int c_out, int c_in, const float *w, int ntaps, const int *wtap, uint16_t *out) {
    const size_t K = (size_t)c_in * ntaps, kp = pcavs_bf16_round32(K), mp = pcavs_bf16_round32((size_t)c_out);
    for (size_t o = 0; o < mp; o++)
        for (size_t q = 0; q < kp; q++) {
            const size_t t = q / (size_t)c_in, c = q % (size_t)c_in;
            out[o * kp + q] = (o < (size_t)c_out && q < K) ? pcavs_bf16_round(w[(o * c_in + c) * 9 + wtap[t]]) : 0;
        }
}

void pcavs_conv3x3_bf16_weight(int c_out, int c_in, const float *w, uint16_t *out) {
    static const int all[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    pcavs_bf16_taps_weight(c_out, c_in, w, 9, all, out);
}

void pcavs_conv3x3_bf16_planes(const float *x, const float *in_scale, float mul, int c_in, int h, int w, int rows,
                               long ls, int pairs, uint16_t *out) {
    const size_t hw = (size_t)h * w, plane = (size_t)rows * ls;
    if (pairs) {
#pragma omp for schedule(static)
        for (int c = 0; c < c_in; c += 2)
            pcavs_bf16_plane_pair_cpu(x + (size_t)c * hw, (in_scale ? in_scale[c] : 1.0f) * mul,
                                      x + (size_t)(c + 1) * hw, (in_scale ? in_scale[c + 1] : 1.0f) * mul, h, w, 1,
                                      rows, ls, out + (size_t)c * plane);
    } else {
#pragma omp for schedule(static)
        for (int c = 0; c < c_in; c++)
            pcavs_bf16_plane_cpu(x + (size_t)c * hw, (in_scale ? in_scale[c] : 1.0f) * mul, h, w, 1, rows, ls,
                                 out + (size_t)c * plane);
    }
}

size_t pcavs_conv3x3_bf16_scratch_bytes(const pcavs_conv3x3_bf16 *a, int n_threads) {
    const int nth = n_threads < 1 ? 1 : n_threads;
    const c3_plan p = c3_plan_of(a, nth);
    return p.xb + p.off + (size_t)nth * (p.bp + p.ct);
}

/* y = y * out_scale + bias, then act, over cnt values of output channel o of sample b */
static void c3_epilogue(const pcavs_conv3x3_bf16 *a, int b, int o, float *yr, long cnt) {
    const float sc = a->out_scale ? a->out_scale[(size_t)b * a->c_out + o] : 1.0f;
    const float bs = a->bias ? a->bias[o] : 0.0f;
    if (sc != 1.0f || bs != 0.0f)
        for (long i = 0; i < cnt; i++) yr[i] = yr[i] * sc + bs;
    if (a->act == PCAVS_ACT_RELU)
        for (long i = 0; i < cnt; i++) yr[i] = yr[i] < 0.0f ? 0.0f : yr[i];
}

pcavs_status pcavs_conv3x3_bf16_run(const pcavs_kctx *kc, const pcavs_conv3x3_bf16 *a) {
    if (pcavs_bf16_unit_detect() == PCAVS_BF16_NONE)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "conv3x3_bf16: this CPU has no bf16 unit");
    const int nth = kc->n_threads < 1 ? 1 : kc->n_threads;
    const c3_plan p = c3_plan_of(a, nth);
    const size_t need = pcavs_conv3x3_bf16_scratch_bytes(a, nth);
    if (!kc->scratch || kc->scratch_bytes < need)
        return pcavs_fail(PCAVS_ERR_OOM,
                          "conv3x3_bf16: [%d x %d, %dx%d -> %d] needs %zu bytes of scratch, %zu available", a->n,
                          a->c_in, a->h, a->w, a->c_out, need, kc->scratch ? kc->scratch_bytes : 0);
    const int h = a->h, w = a->w, co_n = a->c_out, ci_n = a->c_in;
    const long hw = (long)h * w;
    char *sp = (char *)kc->scratch;
    uint16_t *xb = (uint16_t *)sp; /* [c_in, rows, ls] */
    long *off = (long *)(sp + p.xb);
    if (p.implicit) /* the 9 tap offsets (dy + 1, dx + 1) in the channel-pair planes */
        for (int t = 0; t < 9; t++) off[t] = ((long)(t / 3) * p.ls + t % 3) * 2;
    else /* row q = tap * c_in + c of B: channel plane + (dy + 1, dx + 1) */
        for (int q = 0; q < p.K; q++) {
            const int t = q / ci_n, c = q % ci_n;
            off[q] = (long)c * p.rows * p.ls + (long)(t / 3) * p.ls + t % 3;
        }
    const float mul = a->in_mul != 0.0f ? a->in_mul : 1.0f;
    char *thr = sp + p.xb + p.off;
    const size_t plane = (size_t)p.rows * p.ls, sample_planes = (size_t)ci_n * plane;
    for (int b0 = 0; b0 < a->n; b0 += p.gs) {
        const int gn = a->n - b0 < p.gs ? a->n - b0 : p.gs;
#pragma omp parallel num_threads(nth)
        {
            char *mine = thr + (size_t)omp_get_thread_num() * (p.bp + p.ct);
            uint16_t *bp = (uint16_t *)mine;
            float *ct = (float *)(mine + p.bp); /* [c_out, R * gwp] when w % 16 */
            for (int b = b0; b < b0 + gn; b++)
                pcavs_conv3x3_bf16_planes(a->x + (size_t)b * ci_n * hw,
                                          a->in_scale ? a->in_scale + (size_t)b * ci_n : NULL, mul, ci_n, h, w, p.rows,
                                          p.ls, p.implicit, xb + (size_t)(b - b0) * sample_planes);
#pragma omp for schedule(dynamic, 1)
            for (int task = 0; task < gn * p.tiles; task++) {
                const int b = b0 + task / p.tiles, y0 = (task % p.tiles) * p.R, nr = h - y0 < p.R ? h - y0 : p.R;
                const long ncol = (long)nr * p.gwp;
                const uint16_t *xs = xb + (size_t)(b - b0) * sample_planes; /* this sample's planes */
                float *yt = a->y + (size_t)b * co_n * hw + (size_t)y0 * w;  /* [c_out, nr * w], row stride hw */
                float *cdst = p.ct ? ct : yt;
                const long ldc = p.ct ? ncol : hw;
                if (p.implicit) {
                    pcavs_conv_bf16_amx(co_n, ci_n, 9, a->a, xs + (size_t)y0 * p.ls * 2, (long)(2 * plane), off, p.ls,
                                        p.gwp, ncol, cdst, ldc);
                } else {
                    pcavs_bf16_pack_b_taps_cpu(p.K, ncol, xs + (size_t)y0 * p.ls, off, p.gwp, p.ls, bp);
                    (void)pcavs_gemm_bf16_cpu(co_n, ncol, p.K, a->a, bp, cdst, ldc);
                }
                for (int o = 0; o < co_n; o++) {
                    if (p.ct)
                        for (int r = 0; r < nr; r++)
                            memcpy(yt + (size_t)o * hw + (size_t)r * w, ct + (size_t)o * ncol + (size_t)r * p.gwp,
                                   (size_t)w * sizeof(float));
                    c3_epilogue(a, b, o, yt + (size_t)o * hw, p.ct ? (long)nr * w : ncol);
                }
            }
        }
    }
    return PCAVS_OK;
}
