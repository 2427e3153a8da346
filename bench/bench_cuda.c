/* bench_cuda.c: per-kernel GPU timings of the CUDA backend at the generator's shapes (PC-AVS G,
 * rosinality StyleGAN2 layers at 7..224, channels 512/512/512/512/256/128), batch 1, 8 and 32:
 * modulated convs (plain, upsampling, ToRGB), the demodulation coefficients, the style
 * modulation linear, the fused leaky ReLU with noise, the skip upsample (upfirdn2d), the skip
 * add and the final tanh; plus the heaviest conv2d of V and E for comparison.
 * Each case runs the production kernel through the CUDA backend table, is first validated
 * (batch 1) against the CPU backend's kernel on the same inputs (rel L2 <= 1e-5; the _cpu kernels
 * are themselves tested against _ref, which would take minutes at these sizes; set
 * PCAVS_BENCH_VALIDATE=ref to validate against _ref anyway), then timed with cudaEvents on the
 * context's stream (warm-up, then the median of 5 groups of back-to-back launches).
 * Columns: ms per call, GFLOP/s and % of the fp32 non-tensor peak (SMs x FP32 lanes x 2 x boost
 * clock; about 67 TFLOP/s on an H100 SXM; PCAVS_GPU_PEAK_TFLOPS overrides), and GB/s (compulsory
 * traffic: inputs + outputs once) with % of the DRAM peak.
 * Environment: PCAVS_BENCH_BATCHES (default "1,8,32"), PCAVS_SCRATCH_MB (device scratch, 1024).
 * Without CUDA in the build or without a GPU: prints SKIP with the reason and exits 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#ifdef PCAVS_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "arena.h"
#include "backend.h"

static const pcavs_backend *be;
static pcavs_kctx dkc, hkc;
static double g_peak_gflops, g_peak_gbs;
static int g_use_ref, g_failed;

enum { MAX_DEV = 32 };
static void *g_dev[MAX_DEV];
static int g_ndev;

static void release_all(void) {
    for (int i = 0; i < g_ndev; i++) be->mem_free(g_dev[i]);
    g_ndev = 0;
}

static float *dev_alloc(size_t n) {
    void *p = NULL;
    if (g_ndev == MAX_DEV || be->mem_alloc(n * sizeof(float), &p) != PCAVS_OK) {
        fprintf(stderr, "bench_cuda: device allocation of %zu floats failed: %s\n", n, pcavs_last_error());
        exit(2);
    }
    g_dev[g_ndev++] = p;
    return p;
}

static float *up(const float *h, size_t n) {
    float *d = dev_alloc(n);
    if (be->to_device(&dkc, d, h, n * sizeof(float)) != PCAVS_OK) {
        fprintf(stderr, "bench_cuda: upload failed: %s\n", pcavs_last_error());
        exit(2);
    }
    return d;
}

/* One benchmark case: `run` launches the CUDA kernel on device operands, `run_host` the
 * validating host kernel on host operands (same argument order); both read `c`. */
typedef struct bcase bcase;
typedef pcavs_status (*run_fn)(const bcase *c, int on_device);
struct bcase {
    const char *op;
    char shape[160];
    int batch;
    double flops, bytes;
    /* operands, host and device */
    float *hin[4], *din[4];
    float *hout, *dout;
    size_t nout;
    run_fn run;
    /* op parameters */
    pcavs_modconv_desc mc;
    pcavs_upfirdn2d_desc ud;
    pcavs_conv2d_desc cd;
    int rows, in, out, c, hw;
};

static float *host_rand(size_t n, uint64_t seed) { return pb_alloc_uniform(n, seed); }

/* ---- kernels as run functions ---- */
static float g_blur[16];

static pcavs_status run_modconv(const bcase *c, int dev) {
    if (dev) return be->modconv(&dkc, &c->mc, c->din[0], c->din[1], c->din[2], c->din[3], c->dout);
    return (g_use_ref ? pcavs_modconv_ref : pcavs_modconv_cpu)(&hkc, &c->mc, c->hin[0], c->hin[1], c->hin[2], c->hin[3],
                                                               c->hout);
}
static pcavs_status run_demod(const bcase *c, int dev) {
    if (dev) return be->modconv_demod(&dkc, &c->mc, c->din[0], c->din[1], c->dout);
    return (g_use_ref ? pcavs_modconv_demod_ref : pcavs_modconv_demod_cpu)(&hkc, &c->mc, c->hin[0], c->hin[1], c->hout);
}
static pcavs_status run_upfirdn(const bcase *c, int dev) {
    if (dev) return be->upfirdn2d(&dkc, &c->ud, c->din[0], c->din[1], c->dout);
    return (g_use_ref ? pcavs_upfirdn2d_ref : pcavs_upfirdn2d_cpu)(&hkc, &c->ud, c->hin[0], c->hin[1], c->hout);
}
static pcavs_status run_linear(const bcase *c, int dev) {
    if (dev) return be->linear(&dkc, c->rows, c->in, c->out, c->din[0], c->din[1], c->din[2], PCAVS_ACT_NONE, c->dout);
    return (g_use_ref ? pcavs_linear_ref : pcavs_linear_cpu)(&hkc, c->rows, c->in, c->out, c->hin[0], c->hin[1],
                                                             c->hin[2], PCAVS_ACT_NONE, c->hout);
}
static pcavs_status run_lrelu(const bcase *c, int dev) {
    if (dev) return be->fused_lrelu(&dkc, c->rows, c->c, c->hw, c->din[0], c->din[1], c->din[2], 0.1f, c->dout);
    return (g_use_ref ? pcavs_fused_lrelu_ref : pcavs_fused_lrelu_cpu)(&hkc, c->rows, c->c, c->hw, c->hin[0], c->hin[1],
                                                                       c->hin[2], 0.1f, c->hout);
}
static pcavs_status run_add(const bcase *c, int dev) {
    const int s[4] = {c->rows, 3, c->hw, c->hw};
    if (dev) return be->add(&dkc, s, c->din[0], s, c->din[1], PCAVS_ACT_NONE, c->dout);
    return (g_use_ref ? pcavs_add_ref : pcavs_add_cpu)(&hkc, s, c->hin[0], s, c->hin[1], PCAVS_ACT_NONE, c->hout);
}
static pcavs_status run_tanh(const bcase *c, int dev) {
    if (dev) return be->tanh_(&dkc, c->nout, c->din[0], c->dout);
    return (g_use_ref ? pcavs_tanh_ref : pcavs_tanh_cpu)(&hkc, c->nout, c->hin[0], c->hout);
}
static pcavs_status run_conv2d(const bcase *c, int dev) {
    if (dev) return be->conv2d(&dkc, &c->cd, c->din[0], c->din[1], c->din[2], c->dout);
    return (g_use_ref ? pcavs_conv2d_ref : pcavs_conv2d_cpu)(&hkc, &c->cd, c->hin[0], c->hin[1], c->hin[2], c->hout);
}

/* ---- timing ---- */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over 5 groups of the mean time per call (ms), events on the context's stream. */
static double time_case(const bcase *c, pcavs_status *st) {
    cudaStream_t s = (cudaStream_t)dkc.cuda_stream;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    *st = PCAVS_OK;
    for (int i = 0; i < 2 && *st == PCAVS_OK; i++) *st = c->run(c, 1); /* warm-up (and lazy init) */
    if (*st == PCAVS_OK) *st = be->sync(&dkc);
    double one = 0;
    if (*st == PCAVS_OK) { /* calibrate: calls per group for ~50 ms */
        float ms = 0;
        cudaEventRecord(e0, s);
        *st = c->run(c, 1);
        cudaEventRecord(e1, s);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&ms, e0, e1);
        one = ms > 1e-4 ? ms : 1e-4;
    }
    int reps = (int)(50.0 / one);
    reps = reps < 1 ? 1 : reps > 2000 ? 2000 : reps;
    double t[5];
    for (int g = 0; g < 5 && *st == PCAVS_OK; g++) {
        float ms = 0;
        cudaEventRecord(e0, s);
        for (int r = 0; r < reps && *st == PCAVS_OK; r++) *st = c->run(c, 1);
        cudaEventRecord(e1, s);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&ms, e0, e1);
        t[g] = ms / reps;
    }
    if (*st == PCAVS_OK) *st = be->sync(&dkc);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    if (*st != PCAVS_OK) return NAN;
    qsort(t, 5, sizeof t[0], cmp_double);
    return t[2];
}

/* Validates (batch 1 only: host kernels at batch 32 would dominate the run) and times one case. */
static void bench_one(bcase *c) {
    double err = NAN;
    if (c->batch == 1) {
        pcavs_status st = c->run(c, 1);
        float *got = (float *)malloc(c->nout * sizeof(float));
        if (st == PCAVS_OK && got) st = be->to_host(&dkc, got, c->dout, c->nout * sizeof(float));
        pcavs_status sh = st == PCAVS_OK ? c->run(c, 0) : PCAVS_OK;
        if (st != PCAVS_OK || sh != PCAVS_OK) {
            fprintf(stderr, "bench_cuda: %s %s: %s kernel failed: %s\n", c->op, c->shape, st ? "CUDA" : "host",
                    pcavs_last_error());
            printf("| %s | %s | %d | FAILED | | | | | |\n", c->op, c->shape, c->batch);
            g_failed = 1;
            free(got);
            return;
        }
        int ok = pb_validate(c->op, got, c->hout, c->nout, 1e-5);
        double num = 0, den = 0;
        for (size_t i = 0; i < c->nout; i++) {
            double d = (double)got[i] - c->hout[i];
            num += d * d;
            den += (double)c->hout[i] * c->hout[i];
        }
        err = den > 0 ? sqrt(num / den) : sqrt(num);
        free(got);
        if (!ok) {
            fprintf(stderr, "bench_cuda: %s %s does not match the %s kernel\n", c->op, c->shape,
                    g_use_ref ? "_ref" : "_cpu");
            printf("| %s | %s | %d | INVALID | | | | | %.1e |\n", c->op, c->shape, c->batch, err);
            g_failed = 1;
            return;
        }
    }
    pcavs_status st;
    double ms = time_case(c, &st);
    if (st != PCAVS_OK) {
        fprintf(stderr, "bench_cuda: %s %s (batch %d): %s\n", c->op, c->shape, c->batch, pcavs_last_error());
        printf("| %s | %s | %d | FAILED | | | | | |\n", c->op, c->shape, c->batch);
        g_failed = 1;
        return;
    }
    double gf = c->flops / (ms * 1e-3) / 1e9, gbs = c->bytes / (ms * 1e-3) / 1e9;
    char errs[32] = "";
    if (err == err) snprintf(errs, sizeof errs, "%.1e", err);
    printf("| %s | %s | %d | %.4f | %.1f | %.1f | %.1f | %.1f | %s |\n", c->op, c->shape, c->batch, ms, gf,
           g_peak_gflops > 0 ? 100 * gf / g_peak_gflops : 0, gbs, g_peak_gbs > 0 ? 100 * gbs / g_peak_gbs : 0, errs);
    fflush(stdout);
}

/* Allocates operand i (host random + device copy). */
static void operand(bcase *c, int i, size_t n, uint64_t seed) {
    c->hin[i] = host_rand(n, seed);
    c->din[i] = up(c->hin[i], n);
}
static void output(bcase *c, size_t n) {
    c->nout = n;
    c->hout = c->batch == 1 ? pb_alloc_uniform(n, 99) : NULL;
    c->dout = dev_alloc(n);
}
static void free_case(bcase *c) {
    for (int i = 0; i < 4; i++)
        if (c->hin[i] && c->hin[i] != g_blur) pcavs_aligned_free(c->hin[i]); /* from pb_alloc_uniform */
    pcavs_aligned_free(c->hout);
    release_all();
}

static void case_modconv(const char *what, int b, int c_in, int c_out, int h, int k, int demod, int ups) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "modconv";
    c.batch = b;
    c.mc = (pcavs_modconv_desc){b, c_in, h, h, c_out, k, demod, ups};
    int oh = pcavs_modconv_out_h(&c.mc);
    snprintf(c.shape, sizeof c.shape, "%s %dx%d %d->%d k%d%s%s", what, h, h, c_in, c_out, k, demod ? " demod" : "",
             ups ? " up2+blur" : "");
    size_t nx = (size_t)b * c_in * h * h, nw = (size_t)c_out * c_in * k * k, ns = (size_t)b * c_in,
           ny = (size_t)b * c_out * oh * oh;
    operand(&c, 0, nx, 1);
    operand(&c, 1, nw, 2);
    operand(&c, 2, ns, 3);
    c.hin[3] = g_blur;
    c.din[3] = up(g_blur, 16);
    output(&c, ny);
    c.run = run_modconv;
    if (ups) /* transposed conv 3x3 s2 on h x h, then the 4x4 blur on (2h+1)^2 -> 2h x 2h */
        c.flops = 2.0 * b * c_in * c_out * k * k * h * h + 2.0 * 16 * b * c_out * (double)oh * oh;
    else
        c.flops = 2.0 * b * c_out * c_in * k * k * (double)h * h;
    c.bytes = 4.0 * (nx + nw + ns + ny);
    bench_one(&c);
    free_case(&c);

    if (demod && b == 1) { /* the demodulation coefficients alone, once per layer shape */
        memset(&c, 0, sizeof c);
        c.op = "modconv_demod";
        c.batch = b;
        c.mc = (pcavs_modconv_desc){b, c_in, h, h, c_out, k, demod, ups};
        snprintf(c.shape, sizeof c.shape, "%s %d->%d k%d", what, c_in, c_out, k);
        operand(&c, 0, nw, 2);
        operand(&c, 1, ns, 3);
        output(&c, (size_t)b * c_out);
        c.run = run_demod;
        c.flops = 2.0 * c_out * c_in * k * k + 2.0 * b * c_out * c_in;
        c.bytes = 4.0 * (nw + ns + (double)b * c_out);
        bench_one(&c);
        free_case(&c);
    }
}

static void case_skip_upsample(int b, int h) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "upfirdn2d";
    c.batch = b;
    c.ud = (pcavs_upfirdn2d_desc){b * 3, h, h, 2, 1, 2, 1, 2, 1, 4, 4};
    int oh = pcavs_upfirdn2d_out_h(&c.ud);
    snprintf(c.shape, sizeof c.shape, "skip up2 rgb %dx%d->%dx%d", h, h, oh, oh);
    size_t nx = (size_t)b * 3 * h * h, ny = (size_t)b * 3 * oh * oh;
    operand(&c, 0, nx, 4);
    c.hin[1] = g_blur;
    c.din[1] = up(g_blur, 16);
    output(&c, ny);
    c.run = run_upfirdn;
    c.flops = 2.0 * 16 / 4 * ny; /* taps that meet a non-zero sample */
    c.bytes = 4.0 * (nx + ny);
    bench_one(&c);
    free_case(&c);
}

static void case_linear(int b, int out) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "linear";
    c.batch = b;
    c.rows = b, c.in = 2560, c.out = out;
    snprintf(c.shape, sizeof c.shape, "style modulation 2560->%d", out);
    operand(&c, 0, (size_t)b * 2560, 5);
    operand(&c, 1, (size_t)out * 2560, 6);
    operand(&c, 2, (size_t)out, 7);
    output(&c, (size_t)b * out);
    c.run = run_linear;
    c.flops = 2.0 * b * 2560 * out;
    c.bytes = 4.0 * ((double)b * 2560 + (double)out * 2560 + out + (double)b * out);
    bench_one(&c);
    free_case(&c);
}

static void case_lrelu(int b, int ch, int h) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "fused_lrelu";
    c.batch = b;
    c.rows = b, c.c = ch, c.hw = h * h;
    snprintf(c.shape, sizeof c.shape, "noise+bias+lrelu %d x %dx%d", ch, h, h);
    size_t n = (size_t)b * ch * h * h;
    operand(&c, 0, n, 8);
    operand(&c, 1, (size_t)ch, 9);
    operand(&c, 2, (size_t)b * h * h, 10);
    output(&c, n);
    c.run = run_lrelu;
    c.flops = 5.0 * n;
    c.bytes = 4.0 * (2.0 * n + (double)b * h * h + ch);
    bench_one(&c);
    free_case(&c);
}

static void case_add_tanh(int b) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "add";
    c.batch = b;
    c.rows = b, c.hw = 224;
    snprintf(c.shape, sizeof c.shape, "skip add rgb 224x224");
    size_t n = (size_t)b * 3 * 224 * 224;
    operand(&c, 0, n, 11);
    operand(&c, 1, n, 12);
    output(&c, n);
    c.run = run_add;
    c.flops = (double)n;
    c.bytes = 12.0 * n;
    bench_one(&c);
    free_case(&c);

    memset(&c, 0, sizeof c);
    c.op = "tanh";
    c.batch = b;
    snprintf(c.shape, sizeof c.shape, "output rgb 224x224");
    operand(&c, 0, n, 13);
    output(&c, n);
    c.run = run_tanh;
    c.flops = (double)n;
    c.bytes = 8.0 * n;
    bench_one(&c);
    free_case(&c);
}

static void case_conv2d(const char *what, int b, int c_in, int h, int c_out, int k, int s, int p, int g) {
    bcase c;
    memset(&c, 0, sizeof c);
    c.op = "conv2d";
    c.batch = b;
    c.cd = (pcavs_conv2d_desc){b, c_in, h, h, c_out, k, k, s, s, p, p, g, PCAVS_ACT_RELU};
    int oh = pcavs_conv2d_out_h(&c.cd);
    snprintf(c.shape, sizeof c.shape, "%s %dx%d %d->%d k%d s%d g%d", what, h, h, c_in, c_out, k, s, g);
    size_t nx = (size_t)b * c_in * h * h, nw = (size_t)c_out * (c_in / g) * k * k, ny = (size_t)b * c_out * oh * oh;
    operand(&c, 0, nx, 14);
    operand(&c, 1, nw, 15);
    operand(&c, 2, (size_t)c_out, 16);
    output(&c, ny);
    c.run = run_conv2d;
    c.flops = 2.0 * b * c_out * (c_in / g) * k * k * (double)oh * oh;
    c.bytes = 4.0 * (nx + nw + ny);
    bench_one(&c);
    free_case(&c);
}

static int cores_per_sm(int major, int minor) {
    if (major >= 9) return 128;
    if (major == 8) return minor == 0 ? 64 : 128;
    if (major == 7) return 64;
    if (major == 6) return minor == 0 ? 64 : 128;
    return 128;
}

int main(void) {
    be = pcavs_backend_cuda();
    if (!be) {
        printf("SKIP: no CUDA device (%s)\n", pcavs_last_error());
        return 0;
    }
    if (pcavs_backend_check(be) != PCAVS_OK) {
        fprintf(stderr, "bench_cuda: %s\n", pcavs_last_error());
        return 1;
    }
    memset(&dkc, 0, sizeof dkc);
    dkc.n_threads = 1;
    const char *e = getenv("PCAVS_SCRATCH_MB");
    dkc.scratch_bytes = (size_t)(e && atoi(e) > 0 ? atoi(e) : 1024) << 20;
    if (be->kctx_init(&dkc) != PCAVS_OK || be->mem_alloc(dkc.scratch_bytes, &dkc.scratch) != PCAVS_OK) {
        fprintf(stderr, "bench_cuda: %s\n", pcavs_last_error());
        return 1;
    }
    hkc = pb_host_kctx(512, pb_threads());
    g_use_ref = (e = getenv("PCAVS_BENCH_VALIDATE")) && strcmp(e, "ref") == 0;
    static const float a[4] = {1, 3, 3, 1};
    for (int i = 0; i < 16; i++) g_blur[i] = a[i / 4] * a[i % 4] / 64.0f * 4.0f;

    int dev = 0, sms = 0, clk = 0, mclk = 0, bus = 0;
    struct cudaDeviceProp prop;
    cudaGetDevice(&dev);
    cudaGetDeviceProperties(&prop, dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev);
    cudaDeviceGetAttribute(&mclk, cudaDevAttrMemoryClockRate, dev);
    cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, dev);
    g_peak_gflops = 2.0 * sms * cores_per_sm(prop.major, prop.minor) * (clk * 1e3) / 1e9;
    const char *peak_src = "SMs x FP32 lanes x 2 x boost clock";
    if ((e = getenv("PCAVS_GPU_PEAK_TFLOPS")) && atof(e) > 0)
        g_peak_gflops = atof(e) * 1e3, peak_src = "$PCAVS_GPU_PEAK_TFLOPS";
    if (!(g_peak_gflops > 0)) g_peak_gflops = 67e3, peak_src = "assumed H100 SXM";
    g_peak_gbs = 2.0 * (mclk * 1e3) * (bus / 8.0) / 1e9;
    printf("device: %s (sm_%d%d, %d SMs, %.0f MHz), fp32 non-tensor peak %.1f TFLOP/s (%s), DRAM peak %.0f GB/s\n",
           prop.name, prop.major, prop.minor, sms, clk / 1e3, g_peak_gflops / 1e3, peak_src, g_peak_gbs);
    printf("validation (batch 1): CUDA vs %s kernels, rel L2 <= 1e-5; timings: cudaEvents, median of 5 groups\n\n",
           g_use_ref ? "_ref" : "_cpu");
    printf("| op | shape | batch | ms | GFLOP/s | %% fp32 peak | GB/s | %% DRAM peak | rel err |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");

    int batches[8], nb = 0;
    e = getenv("PCAVS_BENCH_BATCHES");
    char buf[128];
    snprintf(buf, sizeof buf, "%s", e && *e ? e : "1,8,32");
    for (char *t = strtok(buf, ","); t && nb < 8; t = strtok(NULL, ","))
        if (atoi(t) > 0) batches[nb++] = atoi(t);

    /* channels by resolution (docs/model.md §6.2) */
    static const int res[6] = {7, 14, 28, 56, 112, 224}, ch[6] = {512, 512, 512, 512, 256, 128};
    for (int bi = 0; bi < nb; bi++) {
        int b = batches[bi];
        case_linear(b, 512);
        case_modconv("conv1", b, 512, 512, 7, 3, 1, 0);
        case_lrelu(b, 512, 7);
        case_modconv("to_rgb1", b, 512, 3, 7, 1, 0, 0);
        for (int i = 1; i < 6; i++) {
            char what[32];
            snprintf(what, sizeof what, "G%d up", res[i]);
            case_modconv(what, b, ch[i - 1], ch[i], res[i - 1], 3, 1, 1);
            case_lrelu(b, ch[i], res[i]);
            snprintf(what, sizeof what, "G%d", res[i]);
            case_modconv(what, b, ch[i], ch[i], res[i], 3, 1, 0);
            snprintf(what, sizeof what, "G%d to_rgb", res[i]);
            case_modconv(what, b, ch[i], 3, res[i], 1, 0, 0);
            case_skip_upsample(b, res[i - 1]);
        }
        case_add_tanh(b);
        case_conv2d("V l1 grouped", b, 128, 56, 128, 3, 1, 1, 32);
        case_conv2d("E ConvBlock", b, 256, 56, 128, 3, 1, 1, 1);
    }
    be->mem_free(dkc.scratch);
    be->kctx_free(&dkc);
    return g_failed;
}

#else

int main(void) {
    printf("SKIP: no CUDA device (this build has no CUDA backend: configure with -DPCAVS_CUDA=ON)\n");
    return 0;
}

#endif
