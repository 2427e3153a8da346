/* bench_conv2d.c: micro-benchmark of pcavs_conv2d_cpu (and pcavs_conv_transpose2d_cpu) at the
 * real PC-AVS layer shapes: the generator's shared-weight 3x3 modulated convs at every
 * resolution for batch 1 and 8 (and its 3x3/2 transposed upsampling convs), plus V/E/A_sync hot
 * shapes. Validates against the _ref kernels on cheap cases first, then prints one pb_row per
 * shape (ms, GFLOP/s, % of the measured sgemm and FMA peaks).
 * Usage: bench_conv2d [--quick] [--scratch-mb N]   (PCAVS_THREADS sets the thread count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bench_util.h"
#include "conv2d.h"
#include "conv_transpose2d.h"
#include "cpu_features.h"

typedef struct {
    const pcavs_kctx *kc;
    pcavs_conv2d_desc d;
    const float *x, *w, *b;
    float *y;
} conv_run;

static void run_conv(void *p) {
    conv_run *r = p;
    if (pcavs_conv2d_cpu(r->kc, &r->d, r->x, r->w, r->b, r->y) != PCAVS_OK) {
        fprintf(stderr, "bench_conv2d: %s\n", pcavs_last_error());
        exit(1);
    }
}

typedef struct {
    const pcavs_kctx *kc;
    pcavs_conv_transpose2d_desc d;
    const float *x, *w;
    float *y;
} ct_run;

static void run_ct(void *p) {
    ct_run *r = p;
    if (pcavs_conv_transpose2d_cpu(r->kc, &r->d, r->x, r->w, NULL, r->y) != PCAVS_OK) {
        fprintf(stderr, "bench_conv2d: %s\n", pcavs_last_error());
        exit(1);
    }
}

static size_t conv_nx(const pcavs_conv2d_desc *d) { return (size_t)d->n * d->c_in * d->h * d->w; }
static size_t conv_nw(const pcavs_conv2d_desc *d) { return (size_t)d->c_out * (d->c_in / d->groups) * d->kh * d->kw; }
static size_t conv_ny(const pcavs_conv2d_desc *d) {
    return (size_t)d->n * d->c_out * pcavs_conv2d_out_h(d) * pcavs_conv2d_out_w(d);
}
static double conv_flops(const pcavs_conv2d_desc *d) {
    return 2.0 * conv_ny(d) * (double)(d->c_in / d->groups) * d->kh * d->kw;
}

/* Validates conv2d_cpu against conv2d_ref on d; returns the rel error (exits on mismatch). */
static double validate_conv(const pcavs_kctx *kc, pcavs_conv2d_desc d, const char *what) {
    float *x = pb_alloc_uniform(conv_nx(&d), 1), *w = pb_alloc_uniform(conv_nw(&d), 2),
          *b = pb_alloc_uniform((size_t)d.c_out, 3);
    float *yr = pb_alloc_uniform(conv_ny(&d), 4), *yc = pb_alloc_uniform(conv_ny(&d), 5);
    if (pcavs_conv2d_ref(kc, &d, x, w, b, yr) || pcavs_conv2d_cpu(kc, &d, x, w, b, yc)) {
        fprintf(stderr, "bench_conv2d: %s: %s\n", what, pcavs_last_error());
        exit(1);
    }
    if (!pb_validate(what, yc, yr, conv_ny(&d), 1e-5)) exit(1);
    double num = 0, den = 0;
    for (size_t i = 0; i < conv_ny(&d); i++) {
        num += ((double)yc[i] - yr[i]) * ((double)yc[i] - yr[i]);
        den += (double)yr[i] * yr[i];
    }
    pcavs_aligned_free(x), pcavs_aligned_free(w), pcavs_aligned_free(b), pcavs_aligned_free(yr), pcavs_aligned_free(yc);
    return den > 0 ? __builtin_sqrt(num / den) : 0;
}

static void bench_conv(const pcavs_kctx *kc, const char *op, pcavs_conv2d_desc d, double rel, double min_s) {
    conv_run r = {kc,
                  d,
                  pb_alloc_uniform(conv_nx(&d), 11),
                  pb_alloc_uniform(conv_nw(&d), 12),
                  NULL,
                  pb_alloc_uniform(conv_ny(&d), 13)};
    char shape[160];
    snprintf(shape, sizeof shape, "n%d %d->%d %dx%d k%dx%d s%d%s", d.n, d.c_in, d.c_out, d.h, d.w, d.kh, d.kw,
             d.stride_h, d.groups > 1 ? " g32" : "");
    double ms = pb_time_ms(run_conv, &r, min_s);
    pb_row(op, shape, ms, conv_flops(&d), rel);
    pcavs_aligned_free((void *)r.x), pcavs_aligned_free((void *)r.w), pcavs_aligned_free(r.y);
}

static void bench_ct(const pcavs_kctx *kc, int n, int c_in, int c_out, int hw, double rel, double min_s) {
    pcavs_conv_transpose2d_desc d = {n, c_in, hw, hw, c_out, 3, 3, 2, 0};
    const int o = pcavs_conv_transpose2d_out_h(&d);
    ct_run r = {kc, d, pb_alloc_uniform((size_t)n * c_in * hw * hw, 21), pb_alloc_uniform((size_t)c_in * c_out * 9, 22),
                pb_alloc_uniform((size_t)n * c_out * o * o, 23)};
    char shape[160];
    snprintf(shape, sizeof shape, "n%d %d->%d %dx%d k3 s2 -> %dx%d", n, c_in, c_out, hw, hw, o, o);
    double ms = pb_time_ms(run_ct, &r, min_s);
    pb_row("conv_transpose2d_cpu", shape, ms, 2.0 * n * c_in * (double)hw * hw * c_out * 9, rel);
    pcavs_aligned_free((void *)r.x), pcavs_aligned_free((void *)r.w), pcavs_aligned_free(r.y);
}

int main(int argc, char **argv) {
    pcavs_cpu_init_blas_env(argc, argv);
    int quick = 0;
    size_t scratch_mb = 256; /* the engine's default scratch (include/pcavs.h) */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--scratch-mb") && i + 1 < argc)
            scratch_mb = (size_t)atoi(argv[++i]);
    }
    const int threads = pb_threads();
    pcavs_cpu_set_threads(threads);
    pcavs_kctx kc = pb_host_kctx(scratch_mb, threads);
    pb_header(threads);
    const double min_s = quick ? 0.05 : 0.3;

    /* validation on cheap cases, one per code path */
    pcavs_conv2d_desc vg = {2, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE};
    const double rel_g = validate_conv(&kc, vg, "3x3 512->512 7x7 n2 (multi-image im2col)");
    pcavs_conv2d_desc vp = {1, 128, 32, 32, 128, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_RELU};
    const double rel_p = validate_conv(&kc, vp, "3x3 128->128 32x32 (per-image im2col)");
    pcavs_conv2d_desc vgr = {1, 128, 28, 28, 128, 3, 3, 2, 2, 1, 1, 32, PCAVS_ACT_NONE};
    const double rel_gr = validate_conv(&kc, vgr, "3x3 g32 128 28x28 s2 (direct)");
    pcavs_conv2d_desc v1 = {1, 256, 28, 28, 128, 1, 1, 1, 1, 0, 0, 1, PCAVS_ACT_NONE};
    const double rel_1 = validate_conv(&kc, v1, "1x1 256->128 28x28 (direct sgemm)");
    pcavs_conv2d_desc vs = {1, 3, 64, 64, 64, 7, 7, 2, 2, 3, 3, 1, PCAVS_ACT_NONE};
    const double rel_s = validate_conv(&kc, vs, "7x7/2 3->64 (im2col)");
    double rel_ct;
    {
        pcavs_conv_transpose2d_desc d = {2, 256, 7, 7, 256, 3, 3, 2, 0};
        const size_t ny = (size_t)2 * 256 * 15 * 15;
        float *x = pb_alloc_uniform((size_t)2 * 256 * 49, 1), *w = pb_alloc_uniform((size_t)256 * 256 * 9, 2);
        float *yr = pb_alloc_uniform(ny, 3), *yc = pb_alloc_uniform(ny, 4);
        if (pcavs_conv_transpose2d_ref(&kc, &d, x, w, NULL, yr) ||
            pcavs_conv_transpose2d_cpu(&kc, &d, x, w, NULL, yc) ||
            !pb_validate("conv_transpose2d 256->256 7x7 n2", yc, yr, ny, 1e-5))
            return 1;
        double num = 0, den = 0;
        for (size_t i = 0; i < ny; i++)
            num += ((double)yc[i] - yr[i]) * ((double)yc[i] - yr[i]), den += (double)yr[i] * yr[i];
        rel_ct = __builtin_sqrt(num / den);
        pcavs_aligned_free(x), pcavs_aligned_free(w), pcavs_aligned_free(yr), pcavs_aligned_free(yc);
    }

    /* generator: shared-weight 3x3 modulated convs (batched form), batch 1 and 8 */
    static const int G[][3] = {{512, 512, 7},   {512, 512, 14},  {512, 512, 28},  {512, 512, 56},
                               {512, 256, 112}, {256, 256, 112}, {256, 128, 224}, {128, 128, 224}};
    const int batches[2] = {1, 8};
    for (int bi = 0; bi < 2; bi++)
        for (int i = 0; i < 8; i++) {
            if (quick && batches[bi] == 8 && G[i][2] >= 112) continue;
            pcavs_conv2d_desc d = {batches[bi], G[i][0], G[i][2], G[i][2], G[i][1],       3, 3, 1,
                                   1,           1,       1,       1,       PCAVS_ACT_NONE};
            bench_conv(&kc, "G modconv 3x3", d, d.h == 7 ? rel_g : rel_p, min_s);
        }
    /* generator: upsampling transposed convs */
    static const int U[][3] = {{512, 512, 7}, {512, 512, 14}, {512, 512, 28}, {512, 256, 56}, {256, 128, 112}};
    for (int bi = 0; bi < 2; bi++)
        for (int i = 0; i < 5; i++) {
            if (quick && batches[bi] == 8 && U[i][2] >= 56) continue;
            bench_ct(&kc, batches[bi], U[i][0], U[i][1], U[i][2], rel_ct, min_s);
        }
    /* V / E / A_sync hot shapes (batch 1) */
    struct {
        const char *op;
        pcavs_conv2d_desc d;
        double rel;
    } H[] = {
        {"V stem", {1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, PCAVS_ACT_NONE}, rel_s},
        {"V l1 1x1", {1, 256, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, PCAVS_ACT_NONE}, rel_1},
        {"V l1 3x3 g32", {1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 1, 32, PCAVS_ACT_NONE}, rel_gr},
        {"V l2 3x3 g32 s2", {1, 256, 56, 56, 256, 3, 3, 2, 2, 1, 1, 32, PCAVS_ACT_NONE}, rel_gr},
        {"V l3 3x3 g32", {1, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 32, PCAVS_ACT_NONE}, rel_gr},
        {"V l2 down 1x1 s2", {1, 256, 56, 56, 512, 1, 1, 2, 2, 0, 0, 1, PCAVS_ACT_NONE}, rel_s},
        {"E stem", {1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, PCAVS_ACT_NONE}, rel_s},
        {"E ConvBlock 3x3", {1, 64, 112, 112, 64, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"E ConvBlock 3x3", {1, 128, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"E ConvBlock 3x3", {1, 256, 56, 56, 128, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"E ConvBlock 3x3", {1, 128, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"E ConvBlock 3x3", {1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"E 1x1", {1, 256, 56, 56, 256, 1, 1, 1, 1, 0, 0, 1, PCAVS_ACT_NONE}, rel_1},
        {"A conv1 1ch", {1, 1, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_gr},
        {"A l1 3x3", {1, 32, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
        {"A l2 3x3", {1, 64, 40, 10, 64, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE}, rel_p},
    };
    for (int i = 0; i < (int)(sizeof H / sizeof H[0]); i++) bench_conv(&kc, H[i].op, H[i].d, H[i].rel, min_s);
    pcavs_aligned_free(kc.scratch);
    return 0;
}
