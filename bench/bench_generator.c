/* bench_generator.c: per-frame time of the PC-AVS networks (pipeline/networks) on the CPU
 * backend with the real shapes: G (pcavs_generate, batched modulated convolutions) at batch 1
 * and 8, and V, E, A_sync per frame. Compare with tests/reference/bench_pytorch.py (the official
 * grouped-convolution modules) run with the same thread count.
 * Usage: bench_generator [model.safetensors]   (default: $PCAVS_MODEL, else
 * $PCAVS_FIXTURES/model.safetensors or model_raw.safetensors). Threads: $PCAVS_THREADS.
 * $PCAVS_BENCH_ONLY=G (or V, E, A) times that network alone (for profiling).
 * $PCAVS_PRECISION=bf16 runs the bf16 mode (where the CPU has a bf16 unit) and first measures its frames
 * against the float32 model's (G at batch 8, zero noise): rel L2 and PSNR (peak-to-peak 2 of [-1, 1]).
 * Validation before timing: frame 0 of the batch-8 call equals the batch-1 call (zero noise);
 * op-level parity against _ref and PyTorch lives in the kernel benches and tests/test_networks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "cpu_features.h"
#include "exec.h"
#include "pcavs_model.h"

typedef struct gctx {
    pcavs_model *m;
    int b;
    const float *idf, *idm, *h, *a;
    float *out;
    pcavs_noise_params noise;
    int which; /* 0 G, 1 V, 2 E, 3 A */
    const float *img, *mel;
} gctx;

static double rel_l2(const float *a, const float *b, size_t n) {
    double se = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        ss += (double)b[i] * b[i];
    }
    return sqrt(se / ss);
}

static void run(void *p) {
    gctx *g = p;
    pcavs_status st = PCAVS_OK;
    switch (g->which) {
    case 0:
        st = pcavs_generate(g->m, g->b, g->idf, g->idm, g->b, g->h, g->a, &g->noise, g->out);
        break;
    case 1:
        st = pcavs_v_forward(g->m, g->b, g->img, g->out, NULL);
        break;
    case 2:
        st = pcavs_e_forward(g->m, g->b, g->img, NULL, g->out);
        break;
    default:
        st = pcavs_a_forward(g->m, g->b, g->mel, g->out);
        break;
    }
    if (st != PCAVS_OK) {
        fprintf(stderr, "bench_generator: %s\n", pcavs_last_error());
        exit(1);
    }
}

static const char *find_model(int argc, char **argv, char *buf, size_t cap) {
    if (argc > 1) return argv[1];
    const char *e = getenv("PCAVS_MODEL");
    if (e) return e;
    const char *d = getenv("PCAVS_FIXTURES");
    if (!d) return NULL;
    snprintf(buf, cap, "%s/model.safetensors", d);
    if (access(buf, R_OK) == 0) return buf;
    snprintf(buf, cap, "%s/model_raw.safetensors", d);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* An execution context and the model on it; prints the library's message and returns 0 on failure. */
static int open_model(const pcavs_exec_params *ep, const char *path, pcavs_exec **ex, pcavs_model **m) {
    if (pcavs_exec_create(ep, ex) == PCAVS_OK && pcavs_model_load(*ex, path, m) == PCAVS_OK) return 1;
    fprintf(stderr, "bench_generator: %s\n", pcavs_last_error());
    return 0;
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv);
    char buf[1024];
    const char *path = find_model(argc, argv, buf, sizeof buf);
    if (!path) {
        printf("SKIP: no model (pass a path, or set PCAVS_MODEL or PCAVS_FIXTURES)\n");
        return 0;
    }
    int threads = pb_threads();
    pcavs_exec_params ep;
    pcavs_exec_params_init(&ep);
    ep.n_threads = threads;
    const char *prec = getenv("PCAVS_PRECISION");
    if (prec && !strcmp(prec, "bf16")) ep.precision = PCAVS_PRECISION_BF16;
    pcavs_exec *ex;
    pcavs_model *m;
    if (!open_model(&ep, path, &ex, &m)) return 1;
    printf("precision: %s\n", pcavs_exec_precision_name(ex));
    const int BMAX = 8;
    const size_t img = 3 * 224 * 224;
    float *idf = pb_alloc_uniform(2048, 1), *idm = pb_alloc_uniform(512 * 49, 2);
    float *h = pb_alloc_uniform((size_t)BMAX * 512, 3), *a = pb_alloc_uniform((size_t)BMAX * 512, 4);
    float *imgs = pb_alloc_uniform((size_t)BMAX * img, 5), *mel = pb_alloc_uniform((size_t)BMAX * 1600, 6);
    float *out = malloc((size_t)BMAX * img * sizeof(float)), *out1 = malloc(img * sizeof(float));

    /* validation: batch 8 frame 0 == batch 1 (zero noise) */
    gctx g = {.m = m, .idf = idf, .idm = idm, .h = h, .a = a, .noise = {.mode = PCAVS_NOISE_NONE}, .which = 0};
    g.b = 1, g.out = out1;
    run(&g);
    g.b = BMAX, g.out = out;
    run(&g);
    /* float32: the same up to summation order. bf16: the style differs in its last float32 bits between batch 1
     * (gemv) and 8 (gemm), which flips some bf16 roundings; the difference is then of the bf16 error's order */
    const double same_bound = pcavs_exec_precision(ex) == PCAVS_PRECISION_BF16 ? 1e-2 : 1e-5;
    if (!pb_validate("G batch 8 frame 0 vs batch 1", out, out1, img, same_bound)) return 1;
    printf("G batch 8 frame 0 vs batch 1: rel L2 %.3e (bound %.0e)\n", rel_l2(out, out1, img), same_bound);
    const char *only = getenv("PCAVS_BENCH_ONLY");
    if (pcavs_exec_precision(ex) == PCAVS_PRECISION_BF16 && (!only || !*only || only[0] == 'G')) {
        /* the bf16 frames against float32's */
        pcavs_exec_params fp = ep;
        fp.precision = PCAVS_PRECISION_FP32;
        pcavs_exec *ex32;
        pcavs_model *m32;
        if (!open_model(&fp, path, &ex32, &m32)) return 1;
        float *o32 = malloc((size_t)BMAX * img * sizeof(float));
        gctx g32 = g;
        g32.m = m32, g32.out = o32;
        run(&g32);
        double se = 0, ss = 0;
        for (size_t i = 0; i < (size_t)BMAX * img; i++) {
            const double e = (double)out[i] - o32[i];
            se += e * e;
            ss += (double)o32[i] * o32[i];
        }
        const double mse = se / ((double)BMAX * img);
        printf("G bf16 vs fp32 frames (batch %d, zero noise): rel L2 %.3e, PSNR %.1f dB\n", BMAX, sqrt(se / ss),
               10.0 * log10(4.0 / mse));
        free(o32);
        pcavs_model_free(m32);
        pcavs_exec_free(ex32);
    }

    pb_header(threads);
    printf("model %s (%.0f MB of weights)\n\n", path, pcavs_model_weight_bytes(m) / 1e6);
    printf("| network | batch | ms per call | ms per frame | GFLOP/s |\n|---|---:|---:|---:|---:|\n");
    /* multiply-accumulates per frame (docs/model.md §8) */
    const double macs[4] = {34.7e9, 4.28e9, 6.33e9, 0.47e9};
    const char *names[4] = {"G (random noise)", "V", "E (+to_headpose)", "A_sync"};
    double g_ms[2] = {0, 0};
    for (int which = 0; which < 4; which++) {
        if (only && *only && only[0] != "GVEA"[which]) continue;
        int batches[2] = {1, BMAX};
        for (int bi = 0; bi < 2; bi++) {
            gctx c = {.m = m,
                      .b = batches[bi],
                      .idf = idf,
                      .idm = idm,
                      .h = h,
                      .a = a,
                      .out = out,
                      .noise = {.mode = PCAVS_NOISE_RANDOM, .seed = 1},
                      .which = which,
                      .img = imgs,
                      .mel = mel};
            double ms = pb_time_ms(run, &c, which == 0 ? 2.0 : 1.0);
            double per = ms / c.b;
            if (which == 0) g_ms[bi] = per;
            printf("| %s | %d | %.1f | %.1f | %.1f |\n", names[which], c.b, ms, per,
                   2 * macs[which] / (per * 1e-3) / 1e9);
            fflush(stdout);
        }
    }
    printf("\nG per frame: batch 1 %.1f ms, batch %d %.1f ms (batch %d / batch 1 = %.2f)\n", g_ms[0], BMAX, g_ms[1],
           BMAX, g_ms[1] / g_ms[0]);
    printf("arenas %.0f MB\n", pcavs_model_arena_bytes(m) / 1e6);
    free(out), free(out1), free(idf), free(idm), free(h), free(a), free(imgs), free(mel);
    pcavs_model_free(m);
    pcavs_exec_free(ex);
    return 0;
}
