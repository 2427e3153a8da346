/* bench_elementwise.c: micro-benchmark of the memory-bound elementwise and small operators at
 * PC-AVS shapes (fused leaky ReLU + noise, noise injection alone, inference BatchNorm (+ ReLU),
 * ReLU/sigmoid/tanh, softmax, max / global / adaptive average pooling, bilinear upsampling,
 * broadcast add/mul, concat), batch 1 and 8. Each case validates
 * pcavs_*_cpu against pcavs_*_ref on the same inputs first (rel L2 <= 1e-5), then times the _cpu
 * kernel. These ops are memory-bound, so the table reports effective bandwidth instead of FLOP/s:
 * GB/s = (bytes read + bytes written, each tensor counted once) / time, and the percentage of this
 * machine's memcpy bandwidth measured in the same run (a 256 MiB copy with the same threads).
 * Usage: bench_elementwise [quick]   (PCAVS_THREADS sets the thread count) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "arena.h"
#include "batchnorm.h"
#include "bench_util.h"
#include "bilinear.h"
#include "binary.h"
#include "concat.h"
#include "pool.h"
#include "softmax.h"

enum op {
    OP_LRELU,
    OP_RELU,
    OP_SIGMOID,
    OP_TANH,
    OP_SOFTMAX,
    OP_MAXPOOL,
    OP_GAP,
    OP_BILINEAR,
    OP_ADD,
    OP_MUL,
    OP_CONCAT,
    OP_BN,
    OP_NOISE,
    OP_AAP
};

typedef struct {
    const char *label;
    enum op op;
    int n, c, h, w; /* input [n, c, h, w] */
    int p0, p1, p2; /* op parameters: lrelu (bias, noise); maxpool (k, stride, pad); bilinear (oh, ow);
                       add/mul: b broadcast over h,w when p0 (SE scaling), relu when p1;
                       batchnorm: relu when p1; adaptive avgpool (oh, ow) */
} bcase;

static const bcase CASES[] = {
    {"fused_lrelu+noise g14", OP_LRELU, 8, 512, 14, 14, 1, 1, 0},
    {"fused_lrelu+noise g56", OP_LRELU, 1, 512, 56, 56, 1, 1, 0},
    {"fused_lrelu+noise g56", OP_LRELU, 8, 512, 56, 56, 1, 1, 0},
    {"fused_lrelu+noise g224", OP_LRELU, 2, 128, 224, 224, 1, 1, 0},
    {"relu", OP_RELU, 8, 256, 56, 56, 0, 0, 0},
    {"sigmoid (SE)", OP_SIGMOID, 8, 256, 1, 1, 0, 0, 0},
    {"tanh (output)", OP_TANH, 8, 3, 224, 224, 0, 0, 0},
    {"softmax over 3 (A_sync)", OP_SOFTMAX, 8, 2560, 3, 1, 0, 0, 0},
    {"maxpool 2x2 (FAN)", OP_MAXPOOL, 1, 256, 56, 56, 2, 2, 0},
    {"maxpool 2x2 (FAN)", OP_MAXPOOL, 8, 256, 56, 56, 2, 2, 0},
    {"maxpool 3x3/2 p1 (ResNeXt)", OP_MAXPOOL, 8, 64, 112, 112, 3, 2, 1},
    {"global avgpool (ResNeXt)", OP_GAP, 8, 2048, 7, 7, 0, 0, 0},
    {"global avgpool (SE)", OP_GAP, 8, 32, 80, 20, 0, 0, 0},
    {"bilinear 3->7 (FAN)", OP_BILINEAR, 8, 256, 3, 3, 7, 7, 0},
    {"bilinear 28->56 (FAN)", OP_BILINEAR, 1, 256, 28, 28, 56, 56, 0},
    {"bilinear 28->56 (FAN)", OP_BILINEAR, 8, 256, 28, 28, 56, 56, 0},
    {"add + relu (residual)", OP_ADD, 8, 256, 56, 56, 0, 1, 0},
    {"add (hourglass)", OP_ADD, 1, 256, 56, 56, 0, 0, 0},
    {"mul [n,c,1,1] (SE)", OP_MUL, 8, 64, 40, 10, 1, 0, 0},
    {"concat 128+64+64 (ConvBlock)", OP_CONCAT, 8, 256, 56, 56, 0, 0, 0},
    {"batchnorm + relu (FAN pre-activation)", OP_BN, 8, 256, 56, 56, 0, 1, 0},
    {"batchnorm (A_sync, after ReLU)", OP_BN, 8, 32, 80, 20, 0, 0, 0},
    {"noise injection alone", OP_NOISE, 8, 512, 56, 56, 0, 0, 0},
    {"adaptive avgpool 7->7 (V id_map)", OP_AAP, 8, 512, 7, 7, 7, 7, 0},
    {"adaptive avgpool 14->7", OP_AAP, 8, 512, 14, 14, 7, 7, 0},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

typedef struct {
    const bcase *c;
    pcavs_kctx *kc;
    int ref; /* 1: run the _ref kernel */
    float *x, *x2, *aux, *y;
    int oh, ow;
    pcavs_status st;
} run_ctx;

static void run(void *p) {
    run_ctx *r = (run_ctx *)p;
    const bcase *c = r->c;
    const int hw = c->h * c->w, planes = c->n * c->c;
    const size_t nx = (size_t)planes * hw;
    pcavs_status st = PCAVS_OK;
    switch (c->op) {
    case OP_LRELU:
        st = (r->ref ? pcavs_fused_lrelu_ref : pcavs_fused_lrelu_cpu)(r->kc, c->n, c->c, hw, r->x, r->aux,
                                                                      r->aux + c->c, 0.3f, r->y);
        break;
    case OP_RELU:
        st = (r->ref ? pcavs_relu_ref : pcavs_relu_cpu)(r->kc, nx, r->x, r->y);
        break;
    case OP_SIGMOID:
        st = (r->ref ? pcavs_sigmoid_ref : pcavs_sigmoid_cpu)(r->kc, nx, r->x, r->y);
        break;
    case OP_TANH:
        st = (r->ref ? pcavs_tanh_ref : pcavs_tanh_cpu)(r->kc, nx, r->x, r->y);
        break;
    case OP_SOFTMAX:
        st = (r->ref ? pcavs_softmax_ref : pcavs_softmax_cpu)(r->kc, planes, c->h, c->w, r->x, r->y);
        break;
    case OP_MAXPOOL: {
        const pcavs_maxpool2d_desc d = {c->n, c->c, c->h, c->w, c->p0, c->p1, c->p2};
        st = (r->ref ? pcavs_maxpool2d_ref : pcavs_maxpool2d_cpu)(r->kc, &d, r->x, r->y);
        break;
    }
    case OP_GAP:
        st = (r->ref ? pcavs_global_avgpool_ref : pcavs_global_avgpool_cpu)(r->kc, planes, hw, r->x, r->y);
        break;
    case OP_BILINEAR:
        st = (r->ref ? pcavs_bilinear_ref : pcavs_bilinear_cpu)(r->kc, planes, c->h, c->w, c->p0, c->p1, r->x, r->y);
        break;
    case OP_ADD:
    case OP_MUL: {
        const int sa[4] = {c->n, c->c, c->h, c->w}, sb[4] = {c->n, c->c, c->p0 ? 1 : c->h, c->p0 ? 1 : c->w};
        const pcavs_act act = c->p1 ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        if (c->op == OP_ADD)
            st = (r->ref ? pcavs_add_ref : pcavs_add_cpu)(r->kc, sa, r->x, sb, r->x2, act, r->y);
        else
            st = (r->ref ? pcavs_mul_ref : pcavs_mul_cpu)(r->kc, sa, r->x, sb, r->x2, act, r->y);
        break;
    }
    case OP_BN: /* scale = aux[0..c), shift = x2[0..c) */
        st = (r->ref ? pcavs_batchnorm_ref : pcavs_batchnorm_cpu)(r->kc, c->n, c->c, hw, r->x, r->aux, r->x2,
                                                                  c->p1 ? PCAVS_ACT_RELU : PCAVS_ACT_NONE, r->y);
        break;
    case OP_NOISE: /* noise [n, hw] = aux + c */
        st = (r->ref ? pcavs_noise_inject_ref : pcavs_noise_inject_cpu)(r->kc, c->n, c->c, hw, r->x, r->aux + c->c,
                                                                        0.3f, r->y);
        break;
    case OP_AAP:
        st = (r->ref ? pcavs_adaptive_avgpool_ref : pcavs_adaptive_avgpool_cpu)(r->kc, planes, c->h, c->w, c->p0, c->p1,
                                                                                r->x, r->y);
        break;
    case OP_CONCAT: {
        const int ch[3] = {c->c / 2, c->c / 4, c->c / 4};
        const float *xs[3] = {r->x, r->x + (size_t)c->n * ch[0] * hw, r->x + (size_t)c->n * (ch[0] + ch[1]) * hw};
        st = (r->ref ? pcavs_concat_ref : pcavs_concat_cpu)(r->kc, c->n, 3, xs, ch, hw, r->y);
        break;
    }
    }
    if (st != PCAVS_OK) r->st = st;
}

/* Output elements and total bytes moved (inputs + output, each once). */
static void traffic(const bcase *c, size_t *ny, double *bytes) {
    const size_t nx = (size_t)c->n * c->c * c->h * c->w, planes = (size_t)c->n * c->c;
    double extra = 0;
    switch (c->op) {
    case OP_LRELU:
        *ny = nx, extra = (double)c->n * c->h * c->w + c->c;
        break;
    case OP_MAXPOOL: {
        const pcavs_maxpool2d_desc d = {c->n, c->c, c->h, c->w, c->p0, c->p1, c->p2};
        *ny = planes * pcavs_maxpool2d_out_h(&d) * pcavs_maxpool2d_out_w(&d);
        break;
    }
    case OP_GAP:
        *ny = planes;
        break;
    case OP_BILINEAR:
    case OP_AAP:
        *ny = planes * c->p0 * c->p1;
        break;
    case OP_BN:
        *ny = nx, extra = 2.0 * c->c;
        break;
    case OP_NOISE:
        *ny = nx, extra = (double)c->n * c->h * c->w;
        break;
    case OP_ADD:
    case OP_MUL:
        *ny = nx, extra = c->p0 ? (double)planes : (double)nx;
        break;
    default:
        *ny = nx;
    }
    *bytes = 4.0 * ((double)nx + extra + (double)*ny);
}

typedef struct {
    float *src, *dst;
    size_t n;
    int nth;
} copy_ctx;

static void copy_run(void *p) {
    copy_ctx *c = (copy_ctx *)p;
    const size_t blk = (c->n + 63) / 64;
#pragma omp parallel for num_threads(c->nth) schedule(static)
    for (int b = 0; b < 64; b++) {
        const size_t i0 = (size_t)b * blk, len = i0 >= c->n ? 0 : (c->n - i0 < blk ? c->n - i0 : blk);
        if (len) memcpy(c->dst + i0, c->src + i0, len * sizeof(float));
    }
}

int main(int argc, char **argv) {
    const int quick = argc > 1 && !strcmp(argv[1], "quick");
    const int threads = pb_threads();
    const double min_s = quick ? 0.05 : 0.3;
    pcavs_kctx kc = pb_host_kctx(64, threads);
    /* reference bandwidth: memcpy of 256 MiB (read + write = 512 MiB moved) */
    copy_ctx cc = {pb_alloc_uniform((size_t)64 << 20, 1), pb_alloc_uniform((size_t)64 << 20, 2), (size_t)64 << 20,
                   threads};
    const double copy_gbs = 2.0 * 4.0 * (double)cc.n / (pb_time_ms(copy_run, &cc, min_s) * 1e-3) / 1e9;
    pcavs_aligned_free(cc.src);
    pcavs_aligned_free(cc.dst);
    printf("machine: %d threads, measured memcpy bandwidth %.1f GB/s (read + write)\n\n", threads, copy_gbs);
    printf("| op | shape | ms | GB/s (read + write) | %% of memcpy bandwidth | rel err vs ref |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    int failed = 0;
    for (int ci = 0; ci < N_CASES; ci++) {
        const bcase *c = &CASES[ci];
        if (quick && c->n == 8 && c->op == OP_LRELU) continue;
        size_t ny;
        double bytes;
        traffic(c, &ny, &bytes);
        const size_t nx = (size_t)c->n * c->c * c->h * c->w;
        run_ctx r = {c, &kc, 0, NULL, NULL, NULL, NULL, 0, 0, PCAVS_OK};
        r.x = pb_alloc_uniform(nx, 10 + ci);
        r.x2 = pb_alloc_uniform(nx, 20 + ci);
        r.aux = pb_alloc_uniform((size_t)c->c + (size_t)c->n * c->h * c->w, 30 + ci);
        r.y = pb_alloc_uniform(ny, 40 + ci);
        float *want = pb_alloc_uniform(ny, 50 + ci);
        for (size_t i = 0; i < nx; i++) r.x[i] = 8.0f * r.x[i] - 4.0f; /* signed inputs for the activations */
        run_ctx rr = r;
        rr.ref = 1;
        rr.y = want;
        run(&rr);
        run(&r);
        char shape[96];
        if (c->op == OP_BILINEAR || c->op == OP_AAP)
            snprintf(shape, sizeof shape, "%dx%dx%dx%d -> %dx%d", c->n, c->c, c->h, c->w, c->p0, c->p1);
        else
            snprintf(shape, sizeof shape, "%dx%dx%dx%d", c->n, c->c, c->h, c->w);
        char what[160];
        snprintf(what, sizeof what, "%s %s", c->label, shape);
        if (r.st != PCAVS_OK || rr.st != PCAVS_OK) {
            fprintf(stderr, "bench: %s failed: %s\n", what, pcavs_last_error());
            failed = 1;
        } else if (!pb_validate(what, r.y, want, ny, 1e-5)) {
            failed = 1;
        } else {
            double num = 0, den = 0;
            for (size_t i = 0; i < ny; i++) {
                const double d = (double)r.y[i] - want[i];
                num += d * d, den += (double)want[i] * want[i];
            }
            const double ms = pb_time_ms(run, &r, min_s);
            const double gbs = bytes / (ms * 1e-3) / 1e9;
            printf("| %s | %s | %.4f | %.1f | %.0f | %.1e |\n", c->label, shape, ms, gbs, 100.0 * gbs / copy_gbs,
                   den > 0 ? sqrt(num / den) : sqrt(num));
            fflush(stdout);
        }
        pcavs_aligned_free(r.x);
        pcavs_aligned_free(r.x2);
        pcavs_aligned_free(r.aux);
        pcavs_aligned_free(r.y);
        pcavs_aligned_free(want);
    }
    return failed;
}
