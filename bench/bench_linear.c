/* bench_linear.c: micro-benchmark of the fully connected layer (pcavs_linear_cpu) at the PC-AVS
 * shapes: E's fc (784 -> 512) and heads (512 -> 512, 512 -> 500, 512 -> 12), A_sync's attention
 * (2560 -> 128 -> 2560, per time step: rows = 3 * batch) and fc (2560 -> 512), the generator's
 * style modulation (2560 -> 512 / 256 / 128, one per layer), at batch 1, 8 and 32.
 * Each case is validated against pcavs_linear_ref first (rel L2 <= 1e-5), then timed.
 * Usage: bench_linear   (PCAVS_THREADS sets the thread count) */
#include <math.h>
#include <stdio.h>

#include "arena.h"
#include "bench_util.h"
#include "cpu_features.h"
#include "linear.h"

typedef struct {
    const char *label;
    int in, out, rows_per_frame;
} lcase;

static const lcase CASES[] = {
    {"E fc", 784, 512, 1},
    {"E to_headpose", 512, 512, 1},
    {"E mouth_embed", 512, 500, 1},
    {"E headpose_embed", 512, 12, 1},
    {"A attention 1", 2560, 128, 3},
    {"A attention 2", 128, 2560, 3},
    {"A fc", 2560, 512, 1},
    {"G modulation 512", 2560, 512, 1},
    {"G modulation 128", 2560, 128, 1},
};

typedef struct {
    const pcavs_kctx *kc;
    int rows, in, out, ref;
    const float *x, *w, *b;
    float *y;
} run_ctx;

static void run(void *p) {
    run_ctx *r = p;
    (r->ref ? pcavs_linear_ref : pcavs_linear_cpu)(r->kc, r->rows, r->in, r->out, r->x, r->w, r->b, PCAVS_ACT_NONE,
                                                   r->y);
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv);
    const int threads = pb_threads();
    pcavs_kctx kc = pb_host_kctx(16, threads);
    pb_header(threads);
    int failed = 0;
    const int batches[] = {1, 8, 32};
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const lcase *c = &CASES[ci];
        for (int bi = 0; bi < 3; bi++) {
            const int rows = batches[bi] * c->rows_per_frame;
            float *x = pb_alloc_uniform((size_t)rows * c->in, 1 + ci);
            float *w = pb_alloc_uniform((size_t)c->out * c->in, 2 + ci);
            float *b = pb_alloc_uniform((size_t)c->out, 3 + ci);
            float *y = pb_alloc_uniform((size_t)rows * c->out, 4);
            float *want = pb_alloc_uniform((size_t)rows * c->out, 5);
            run_ctx r = {&kc, rows, c->in, c->out, 0, x, w, b, y}, rr = r;
            rr.ref = 1, rr.y = want;
            run(&rr);
            run(&r);
            char what[96], shape[64];
            snprintf(shape, sizeof shape, "%d rows x %d -> %d", rows, c->in, c->out);
            snprintf(what, sizeof what, "linear %s %s", c->label, shape);
            if (!pb_validate(what, y, want, (size_t)rows * c->out, 1e-5)) {
                failed = 1;
            } else {
                double num = 0, den = 0;
                for (size_t i = 0; i < (size_t)rows * c->out; i++) {
                    const double d = (double)y[i] - want[i];
                    num += d * d, den += (double)want[i] * want[i];
                }
                const double ms = pb_time_ms(run, &r, 0.2);
                pb_row(c->label, shape, ms, 2.0 * rows * c->in * c->out, sqrt(num / den));
            }
            pcavs_aligned_free(x), pcavs_aligned_free(w), pcavs_aligned_free(b);
            pcavs_aligned_free(y), pcavs_aligned_free(want);
        }
    }
    return failed;
}
