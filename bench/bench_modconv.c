/* bench_modconv.c: pcavs_modconv_cpu (batched StyleGAN2 modulated conv) on every generator layer
 * (docs/model.md §6) at batch 1 and 8, then the whole generator's modconv sequence per frame.
 * Validated against pcavs_modconv_ref on cheap cases first. GFLOP/s counts the convolution
 * proper, 2*c_out*c_in*k*k*h*w per sample on the input grid (for the upsampling layers that is
 * the transposed conv; the blur and demodulation are not counted).
 * Layers where modconv_cpu takes a Winograd path at batch 1 (plain 3x3 from 14x14, upsampling from 14) get their
 * weight in Winograd form prepared once, the other 3x3 ones in the tap-GEMM form, as the model loader does
 * (pipeline/networks/net_g.c); the Winograd weight of a layer that takes that path only at batch 8 (conv1 7x7)
 * is transformed per call, as in the model.
 * $PCAVS_PRECISION=bf16 (where the CPU has a bf16 unit): the 3x3 layers where bf16 is faster on this CPU
 * (pcavs_modconv_cpu_prefers_bf16) get their bf16 form instead, as the loader does in bf16 precision, and
 * are validated against _ref with test_modconv's bf16 bound (4e-3).
 * Usage: bench_modconv [--quick]   (--quick: batch 1 only); threads from $PCAVS_THREADS.
 * Profiling: $PCAVS_BENCH_LAYER=NAME times only the layers whose name contains NAME (no sequence row),
 * $PCAVS_BENCH_SECONDS=S times each row for at least S seconds (default 0.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bench_util.h"
#include "cpu_features.h"
#include "gemm_bf16.h"
#include "modconv.h"

typedef struct layer {
    const char *name;
    int c_in, c_out, h, k, demod, up;
} layer;

/* the generator's modconv sequence for one frame: conv1, to_rgb1, then per resolution up/conv/to_rgb */
static const layer g_layers[] = {
    {"conv1 3x3", 512, 512, 7, 3, 1, 0},  {"to_rgb1 1x1", 512, 3, 7, 1, 0, 0},  {"up 7->14", 512, 512, 7, 3, 1, 1},
    {"conv 14", 512, 512, 14, 3, 1, 0},   {"to_rgb 14", 512, 3, 14, 1, 0, 0},   {"up 14->28", 512, 512, 14, 3, 1, 1},
    {"conv 28", 512, 512, 28, 3, 1, 0},   {"to_rgb 28", 512, 3, 28, 1, 0, 0},   {"up 28->56", 512, 512, 28, 3, 1, 1},
    {"conv 56", 512, 512, 56, 3, 1, 0},   {"to_rgb 56", 512, 3, 56, 1, 0, 0},   {"up 56->112", 512, 256, 56, 3, 1, 1},
    {"conv 112", 256, 256, 112, 3, 1, 0}, {"to_rgb 112", 256, 3, 112, 1, 0, 0}, {"up 112->224", 256, 128, 112, 3, 1, 1},
    {"conv 224", 128, 128, 224, 3, 1, 0}, {"to_rgb 224", 128, 3, 224, 1, 0, 0},
};
#define N_LAYERS (int)(sizeof g_layers / sizeof g_layers[0])

static float g_blur[16];
static int g_bf16; /* PCAVS_PRECISION=bf16 and a bf16 unit present */

/* The bf16 form of a 3x3 weight (NULL for other layers or in float32), as pipeline/networks/net_g.c makes it. */
static uint16_t *bf16_weight(const pcavs_modconv_desc *d, const float *w) {
    if (!g_bf16 || !pcavs_modconv_cpu_prefers_bf16(d)) return NULL; /* it judges the batch-1 shape itself */
    uint16_t *u = malloc(pcavs_modconv_bf16_elems(d) * sizeof(uint16_t));
    if (!u || pcavs_modconv_prepare_bf16(d, w, u) != PCAVS_OK) {
        fprintf(stderr, "bench_modconv: cannot prepare a bf16 weight: %s\n", pcavs_last_error());
        exit(1);
    }
    return u;
}

typedef struct run_ctx {
    pcavs_kctx *kc;
    pcavs_modconv_desc d;
    const float *x, *w, *s;
    float *y;
    int failed;
} run_ctx;

static void run_one(void *p) {
    run_ctx *r = (run_ctx *)p;
    if (pcavs_modconv_cpu(r->kc, &r->d, r->x, r->w, r->s, g_blur, r->y) != PCAVS_OK) {
        if (!r->failed) fprintf(stderr, "modconv_cpu failed: %s\n", pcavs_last_error());
        r->failed = 1;
    }
}

typedef struct seq_ctx {
    pcavs_kctx *kc;
    int n;
    float *x[N_LAYERS], *w[N_LAYERS], *u[N_LAYERS], *s, *y; /* u: prepared Winograd weight or NULL */
    float *tp[N_LAYERS];                                    /* prepared tap-GEMM form or NULL */
    uint16_t *ub[N_LAYERS];                                 /* bf16 form or NULL */
    int failed;
} seq_ctx;

static void run_seq(void *p) {
    seq_ctx *q = (seq_ctx *)p;
    for (int i = 0; i < N_LAYERS; i++) {
        const layer *L = &g_layers[i];
        pcavs_modconv_desc d = {q->n, L->c_in, L->h, L->h, L->c_out, L->k, L->demod, L->up, q->u[i]};
        d.weight_taps = q->tp[i];
        d.weight_bf16 = q->ub[i];
        if (pcavs_modconv_cpu(q->kc, &d, q->x[i], q->w[i], q->s, g_blur, q->y) != PCAVS_OK) {
            if (!q->failed) fprintf(stderr, "modconv_cpu (%s) failed: %s\n", L->name, pcavs_last_error());
            q->failed = 1;
        }
    }
}

static double layer_flops(const layer *L, int n) { return 2.0 * n * L->c_out * L->c_in * L->k * L->k * L->h * L->h; }

static int validate(pcavs_kctx *kc, const layer *L, int n) {
    pcavs_modconv_desc d = {n, L->c_in, L->h, L->h, L->c_out, L->k, L->demod, L->up};
    const size_t xn = (size_t)n * L->c_in * L->h * L->h, wn = (size_t)L->c_out * L->c_in * L->k * L->k;
    const size_t yn = (size_t)n * L->c_out * pcavs_modconv_out_h(&d) * pcavs_modconv_out_w(&d);
    float *x = pb_alloc_uniform(xn, 1), *w = pb_alloc_uniform(wn, 2), *s = pb_alloc_uniform((size_t)n * L->c_in, 3);
    float *y = pb_alloc_uniform(yn, 4), *yr = pb_alloc_uniform(yn, 5);
    pcavs_modconv_desc dc = d;
    dc.weight_bf16 = bf16_weight(&d, w);
    int ok = pcavs_modconv_ref(kc, &d, x, w, s, g_blur, yr) == PCAVS_OK &&
             pcavs_modconv_cpu(kc, &dc, x, w, s, g_blur, y) == PCAVS_OK &&
             pb_validate(L->name, y, yr, yn, dc.weight_bf16 ? 4e-3 : 1e-5);
    free((void *)dc.weight_bf16);
    pcavs_aligned_free(x), pcavs_aligned_free(w), pcavs_aligned_free(s), pcavs_aligned_free(y), pcavs_aligned_free(yr);
    return ok;
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv); /* the OpenMP wait policy as the pipeline runs it (cpu_features.h) */
    const int quick = argc > 1 && !strcmp(argv[1], "--quick");
    const char *only = getenv("PCAVS_BENCH_LAYER");
    const double seconds = getenv("PCAVS_BENCH_SECONDS") ? atof(getenv("PCAVS_BENCH_SECONDS")) : 0.3;
    const char *prec = getenv("PCAVS_PRECISION");
    g_bf16 = prec && !strcmp(prec, "bf16") && pcavs_bf16_unit_detect() != PCAVS_BF16_NONE;
    printf("precision: %s\n", g_bf16 ? pcavs_bf16_unit_name(pcavs_bf16_unit_detect()) : "fp32");
    const float v[4] = {1, 3, 3, 1};
    for (int i = 0; i < 16; i++) g_blur[i] = v[i / 4] * v[i % 4] / 64.0f * 4.0f;
    const int threads = pb_threads();
    pcavs_cpu_set_threads(threads);
    pcavs_kctx kc = pb_host_kctx(768, threads);

    const layer vcases[] = {{"validate up 64->48 @14", 64, 48, 14, 3, 1, 1},
                            {"validate conv 64->48 @14", 64, 48, 14, 3, 1, 0},
                            {"validate to_rgb 64->3 @28", 64, 3, 28, 1, 0, 0}};
    for (int i = 0; i < 3; i++)
        if (!validate(&kc, &vcases[i], 2)) {
            fprintf(stderr, "validation failed: %s\n", pcavs_last_error());
            return 1;
        }
    pb_header(threads);

    const int batches[2] = {1, 8};
    for (int bi = 0; bi < (quick ? 1 : 2); bi++) {
        const int n = batches[bi];
        seq_ctx q;
        memset(&q, 0, sizeof q);
        q.kc = &kc;
        q.n = n;
        q.s = pb_alloc_uniform((size_t)n * 512, 7);
        size_t ymax = 0;
        for (int i = 0; i < N_LAYERS; i++) {
            const layer *L = &g_layers[i];
            const size_t yn = (size_t)n * L->c_out * (L->up ? 4 : 1) * L->h * L->h;
            if (yn > ymax) ymax = yn;
            q.x[i] = pb_alloc_uniform((size_t)n * L->c_in * L->h * L->h, 10 + i);
            q.w[i] = pb_alloc_uniform((size_t)L->c_out * L->c_in * L->k * L->k, 40 + i);
            pcavs_modconv_desc d = {n, L->c_in, L->h, L->h, L->c_out, L->k, L->demod, L->up, NULL};
            pcavs_modconv_desc d1 = d;
            d1.n = 1;
            q.ub[i] = bf16_weight(&d, q.w[i]);
            if (!q.ub[i] && pcavs_modconv_cpu_takes_wino(&d1)) { /* as pipeline/networks/net_g.c prepares them */
                q.u[i] = pb_alloc_uniform(pcavs_modconv_wino_floats(&d), 70 + i);
                if (pcavs_modconv_prepare_wino(&d, q.w[i], q.u[i], threads) != PCAVS_OK) {
                    fprintf(stderr, "bench_modconv: %s\n", pcavs_last_error());
                    return 1;
                }
            }
            if (!q.ub[i] && pcavs_modconv_cpu_takes_taps(&d1)) { /* likewise */
                q.tp[i] = pb_alloc_uniform(pcavs_modconv_taps_floats(&d), 90 + i);
                if (pcavs_modconv_prepare_taps(&d, q.w[i], q.tp[i], threads) != PCAVS_OK) {
                    fprintf(stderr, "bench_modconv: %s\n", pcavs_last_error());
                    return 1;
                }
            }
        }
        q.y = pb_alloc_uniform(ymax, 99);
        double total_flops = 0;
        for (int i = 0; i < N_LAYERS; i++) {
            const layer *L = &g_layers[i];
            if (only && !strstr(L->name, only)) continue;
            run_ctx r = {
                &kc, {n, L->c_in, L->h, L->h, L->c_out, L->k, L->demod, L->up, q.u[i]}, q.x[i], q.w[i], q.s, q.y, 0};
            r.d.weight_bf16 = q.ub[i];
            r.d.weight_taps = q.tp[i];
            const double ms = pb_time_ms(run_one, &r, seconds);
            if (r.failed) return 1;
            char shape[96];
            snprintf(shape, sizeof shape, "b%d %d->%d %dx%d k%d", n, L->c_in, L->c_out, L->h, L->h, L->k);
            pb_row(L->name, shape, ms, layer_flops(L, n), 0.0);
            total_flops += layer_flops(L, n);
        }
        if (!only) {
            const double ms = pb_time_ms(run_seq, &q, 1.0);
            if (q.failed) return 1;
            char shape[96];
            snprintf(shape, sizeof shape, "b%d, per frame: %.1f ms", n, ms / n);
            pb_row("generator modconv sequence (17 layers)", shape, ms, total_flops, 0.0);
        }
        for (int i = 0; i < N_LAYERS; i++)
            pcavs_aligned_free(q.x[i]), pcavs_aligned_free(q.w[i]), pcavs_aligned_free(q.u[i]), free(q.ub[i]),
                pcavs_aligned_free(q.tp[i]);
        pcavs_aligned_free(q.s), pcavs_aligned_free(q.y);
    }
    pcavs_aligned_free(kc.scratch);
    return 0;
}
