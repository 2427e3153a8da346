/* test_cuda_ops.c: every CUDA operator (through the CUDA backend table, i.e. exactly what a
 * pcavs_exec with PCAVS_DEVICE_CUDA runs) against its _ref on the same random inputs, rel L2
 * <= 1e-5 (fp32, no TF32), on a representative subset of the shape tables of the CPU op tests:
 * the shapes PC-AVS uses plus awkward ones (odd sizes, groups, stride 2, broadcasting).
 * Inputs are uploaded with the backend's to_device, outputs start NaN-filled on the device (an
 * unwritten element fails) and come back with to_host. Also checks the plumbing: exec creation
 * on CUDA, upload/download round trip, in-place ops, an impossible allocation -> PCAVS_ERR_OOM.
 * Prints the number of operator slots checked and asserts that it is every operator slot of the
 * table. Runs on a GPU, or on the host emulation of tests/cuda_emu (-DPCAVS_CUDA_EMU=ON) in CI.
 * Without CUDA in the build, or without a usable GPU at run time, prints SKIP with the reason. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#ifdef PCAVS_HAVE_CUDA
#include "backend.h"
#include "exec.h"

static const double BOUND = 1e-5;

static const pcavs_backend *be; /* the CUDA table */
static pcavs_kctx dkc;          /* device context: stream, cuBLAS, device scratch */
static pcavs_kctx hkc;          /* host context for _ref */

/* Device buffers of the current case, released by release_all(). */
enum { MAX_DEV = 64 };
static void *g_dev[MAX_DEV];
static int g_ndev;

static void release_all(void) {
    for (int i = 0; i < g_ndev; i++) be->mem_free(g_dev[i]);
    g_ndev = 0;
}

static void *dev_alloc(size_t bytes) {
    void *p = NULL;
    if (g_ndev == MAX_DEV || be->mem_alloc(bytes, &p) != PCAVS_OK) {
        fprintf(stderr, "test: device allocation of %zu bytes failed: %s\n", bytes, pcavs_last_error());
        exit(2);
    }
    g_dev[g_ndev++] = p;
    return p;
}

/* Uploads n host floats; returns the device copy. */
static float *up(const float *h, size_t n) {
    float *d = dev_alloc((n ? n : 1) * sizeof(float));
    if (be->to_device(&dkc, d, h, n * sizeof(float)) != PCAVS_OK) {
        fprintf(stderr, "test: upload failed: %s\n", pcavs_last_error());
        exit(2);
    }
    return d;
}

/* A NaN-filled device output of n floats. */
static float *dev_nan(size_t n) {
    float *h = pt_alloc(n);
    float *d = up(h, n);
    pt_free(h);
    return d;
}

/* Downloads n floats into a fresh host buffer (NaN-filled on a failed copy). */
static float *down(const float *d, size_t n) {
    float *h = pt_alloc(n);
    pcavs_status st = be->to_host(&dkc, h, d, n * sizeof(float));
    if (st != PCAVS_OK) pt_check_ok(st, "download");
    return h;
}

static float *rnd(size_t n, uint64_t seed, float lo, float hi) {
    float *h = pt_alloc(n);
    pt_fill_uniform(h, n, seed, lo, hi);
    return h;
}

/* Ends one comparison: checks the CUDA status, downloads, compares, frees. */
static void finish_case(const char *what, pcavs_status st_dev, pcavs_status st_ref, const float *y_dev,
                        const float *y_ref, size_t n) {
    char buf[400];
    if (st_ref != PCAVS_OK) {
        snprintf(buf, sizeof buf, "%s: _ref", what);
        pt_check_ok(st_ref, buf);
    } else if (st_dev != PCAVS_OK) {
        snprintf(buf, sizeof buf, "%s: _cuda", what);
        pt_check_ok(st_dev, buf);
    } else {
        float *got = down(y_dev, n);
        snprintf(buf, sizeof buf, "%s: cuda vs ref", what);
        pt_check_rel_l2(buf, got, y_ref, n, BOUND);
        pt_free(got);
    }
    release_all();
}

/* The operator slots this test has checked (offsets into the table): main() asserts that every
 * operator slot of the table, conv2d .. modconv_demod, is among them. */
static size_t g_checked[64];
static int g_nchecked;
static void mark_checked(size_t offset) {
    for (int i = 0; i < g_nchecked; i++)
        if (g_checked[i] == offset) return;
    if (g_nchecked < 64) g_checked[g_nchecked++] = offset;
}

#define NEED_SLOT(slot)                                                                                                \
    mark_checked(offsetof(pcavs_backend, slot));                                                                       \
    if (!be->slot) {                                                                                                   \
        pt_check(0, "%s: the CUDA backend table has no kernel (its kernels/<op>_cuda.cu is missing)", #slot);          \
        return;                                                                                                        \
    }

/* ---------------- conv2d ---------------- */
typedef struct {
    const char *name;
    int n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, groups, bias, relu;
} conv_case;
/* Subset of tests/test_conv2d.c's CASES (same names). */
static const conv_case CONV_CASES[] = {
    {"v_stem", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 0, 0},
    {"v_l1_conv2_g32", 1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 1, 32, 0, 0},
    {"v_l2_conv2_g32_s2", 1, 256, 56, 56, 256, 3, 3, 2, 2, 1, 1, 32, 0, 0},
    {"v_l4_conv3", 1, 1024, 7, 7, 2048, 1, 1, 1, 1, 0, 0, 1, 0, 0},
    {"v_conv1x1_bias", 1, 2048, 7, 7, 512, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    {"e_l0_1x1_bias", 1, 256, 56, 56, 68, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    {"e_conv6_s2", 1, 68, 56, 56, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0},
    {"a_conv1_1ch", 1, 1, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1},
    {"a_l2_conv_s2", 1, 32, 80, 20, 64, 3, 3, 2, 2, 1, 1, 1, 0, 1},
    {"a_l4_conv_s2", 1, 128, 20, 5, 256, 3, 3, 2, 2, 1, 1, 1, 0, 0},
    {"g7_n8", 8, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g14_n2", 2, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g224_128to128_reduced_n2", 2, 128, 40, 40, 128, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g_torgb_1x1", 2, 128, 28, 28, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    {"odd_s2_bias_relu", 3, 17, 13, 11, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1},
    {"k5x3_relu", 2, 6, 15, 9, 10, 5, 3, 1, 1, 2, 1, 1, 0, 1},
    {"g4_small", 2, 12, 9, 10, 20, 3, 3, 1, 1, 1, 1, 4, 1, 0},
    {"1x1_s2_odd", 2, 24, 15, 15, 40, 1, 1, 2, 2, 0, 0, 1, 0, 0},
    {"s2x1_pad0x2", 2, 20, 11, 8, 24, 3, 4, 2, 1, 0, 2, 1, 1, 0},
    {"big_pad", 1, 9, 5, 6, 7, 3, 3, 1, 2, 3, 2, 1, 1, 1},
};

static void test_conv2d(void) {
    NEED_SLOT(conv2d);
    for (int ci = 0; ci < (int)(sizeof CONV_CASES / sizeof CONV_CASES[0]); ci++) {
        const conv_case *c = &CONV_CASES[ci];
        pcavs_conv2d_desc d = {c->n,
                               c->c_in,
                               c->h,
                               c->w,
                               c->c_out,
                               c->kh,
                               c->kw,
                               c->sh,
                               c->sw,
                               c->ph,
                               c->pw,
                               c->groups,
                               c->relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE};
        const int oh = pcavs_conv2d_out_h(&d), ow = pcavs_conv2d_out_w(&d);
        size_t nx = (size_t)c->n * c->c_in * c->h * c->w, nw = (size_t)c->c_out * (c->c_in / c->groups) * c->kh * c->kw,
               ny = (size_t)c->n * c->c_out * oh * ow;
        float a = 1.0f / sqrtf((float)((c->c_in / c->groups) * c->kh * c->kw));
        float *x = rnd(nx, 1000 + ci, -1, 1), *w = rnd(nw, 2000 + ci, -a, a), *b = rnd(c->c_out, 3000 + ci, -.5f, .5f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_conv2d_ref(&hkc, &d, x, w, c->bias ? b : NULL, yr);
        pcavs_status sd = be->conv2d(&dkc, &d, up(x, nx), up(w, nw), c->bias ? up(b, c->c_out) : NULL, yd);
        char what[200];
        snprintf(what, sizeof what, "conv2d %s [%dx%dx%dx%d]->%d k%dx%d s%dx%d g%d", c->name, c->n, c->c_in, c->h, c->w,
                 c->c_out, c->kh, c->kw, c->sh, c->sw, c->groups);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(w), pt_free(b), pt_free(yr);
    }
}

/* ---------------- conv_transpose2d ---------------- */
static void test_conv_transpose2d(void) {
    NEED_SLOT(conv_transpose2d);
    static const struct {
        const char *name;
        int n, c_in, h, w, c_out, kh, kw, stride, pad, bias;
    } cases[] = {
        {"g_up_7_512", 2, 512, 7, 7, 512, 3, 3, 2, 0, 0},
        {"g_up_56_512to256", 1, 512, 16, 16, 256, 3, 3, 2, 0, 0}, /* reduced spatial size */
        {"odd_bias", 3, 5, 6, 5, 7, 3, 3, 2, 0, 1},
        {"k4_s2_p1", 2, 8, 5, 7, 6, 4, 4, 2, 1, 1},
        {"k3_s1_p1", 1, 9, 4, 4, 3, 3, 3, 1, 1, 0},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        pcavs_conv_transpose2d_desc d = {cases[ci].n,  cases[ci].c_in, cases[ci].h,      cases[ci].w,  cases[ci].c_out,
                                         cases[ci].kh, cases[ci].kw,   cases[ci].stride, cases[ci].pad};
        int oh = pcavs_conv_transpose2d_out_h(&d), ow = pcavs_conv_transpose2d_out_w(&d);
        size_t nx = (size_t)d.n * d.c_in * d.h * d.w, nw = (size_t)d.c_in * d.c_out * d.kh * d.kw,
               ny = (size_t)d.n * d.c_out * oh * ow;
        float a = 1.0f / sqrtf((float)(d.c_in * d.kh * d.kw));
        float *x = rnd(nx, 1100 + ci, -1, 1), *w = rnd(nw, 2100 + ci, -a, a), *b = rnd(d.c_out, 3100 + ci, -.5f, .5f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        const float *bias = cases[ci].bias ? b : NULL;
        pcavs_status sr = pcavs_conv_transpose2d_ref(&hkc, &d, x, w, bias, yr);
        pcavs_status sd = be->conv_transpose2d(&dkc, &d, up(x, nx), up(w, nw), bias ? up(b, d.c_out) : NULL, yd);
        char what[200];
        snprintf(what, sizeof what, "conv_transpose2d %s [%dx%dx%dx%d]->%d k%dx%d s%d p%d", cases[ci].name, d.n, d.c_in,
                 d.h, d.w, d.c_out, d.kh, d.kw, d.stride, d.pad);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(w), pt_free(b), pt_free(yr);
    }
}

/* ---------------- linear ---------------- */
static void test_linear(void) {
    NEED_SLOT(linear);
    static const struct {
        const char *name;
        int rows, in, out, bias, relu;
    } cases[] = {
        {"g_modulation_b1", 1, 2560, 512, 1, 0},
        {"g_modulation_b13", 13, 2560, 256, 1, 0},
        {"e_fc_784", 4, 784, 512, 1, 1},
        {"e_headpose_12", 3, 512, 12, 1, 0},
        {"a_att_2560to128", 6, 2560, 128, 1, 1},
        {"a_att_128to2560", 6, 128, 2560, 1, 0},
        {"se_c8", 2, 64, 8, 1, 1},
        {"odd_nobias_relu", 37, 19, 23, 0, 1},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int r = cases[ci].rows, in = cases[ci].in, out = cases[ci].out;
        pcavs_act act = cases[ci].relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        size_t nx = (size_t)r * in, nw = (size_t)out * in, ny = (size_t)r * out;
        float a = 1.0f / sqrtf((float)in);
        float *x = rnd(nx, 1200 + ci, -1, 1), *w = rnd(nw, 2200 + ci, -a, a), *b = rnd(out, 3200 + ci, -.5f, .5f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        const float *bias = cases[ci].bias ? b : NULL;
        pcavs_status sr = pcavs_linear_ref(&hkc, r, in, out, x, w, bias, act, yr);
        pcavs_status sd = be->linear(&dkc, r, in, out, up(x, nx), up(w, nw), bias ? up(b, out) : NULL, act, yd);
        char what[200];
        snprintf(what, sizeof what, "linear %s [%d x %d] -> %d%s", cases[ci].name, r, in, out,
                 cases[ci].relu ? " relu" : "");
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(w), pt_free(b), pt_free(yr);
    }
}

/* ---------------- batchnorm ---------------- */
static void test_batchnorm(void) {
    NEED_SLOT(batchnorm);
    static const struct {
        int n, c, hw, relu, inplace;
    } cases[] = {{2, 64, 56 * 56, 1, 0}, {1, 128, 80 * 20, 0, 0}, {3, 17, 7, 1, 1}, {4, 128, 1, 0, 1}};
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int n = cases[ci].n, c = cases[ci].c, hw = cases[ci].hw;
        pcavs_act act = cases[ci].relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        size_t nx = (size_t)n * c * hw;
        float *x = rnd(nx, 1300 + ci, -2, 2), *sc = rnd(c, 2300 + ci, .5f, 1.5f), *sh = rnd(c, 3300 + ci, -1, 1);
        float *yr = pt_alloc(nx);
        float *xd = up(x, nx), *yd = cases[ci].inplace ? xd : dev_nan(nx);
        pcavs_status sr = pcavs_batchnorm_ref(&hkc, n, c, hw, x, sc, sh, act, yr);
        pcavs_status sd = be->batchnorm(&dkc, n, c, hw, xd, up(sc, c), up(sh, c), act, yd);
        char what[200];
        snprintf(what, sizeof what, "batchnorm [%d x %d x %d]%s%s", n, c, hw, cases[ci].relu ? " relu" : "",
                 cases[ci].inplace ? " in place" : "");
        finish_case(what, sd, sr, yd, yr, nx);
        pt_free(x), pt_free(sc), pt_free(sh), pt_free(yr);
    }
}

/* ---------------- activations ---------------- */
static void test_unary(void) {
    NEED_SLOT(relu);
    NEED_SLOT(sigmoid);
    NEED_SLOT(tanh_);
    static const size_t counts[] = {1, 1000003, 2 * 3 * 224 * 224};
    const struct {
        const char *name;
        pcavs_unary_fn dev, ref;
    } ops[] = {{"relu", be->relu, pcavs_relu_ref},
               {"sigmoid", be->sigmoid, pcavs_sigmoid_ref},
               {"tanh", be->tanh_, pcavs_tanh_ref}};
    for (int oi = 0; oi < 3; oi++)
        for (int ci = 0; ci < 3; ci++) {
            size_t n = counts[ci];
            int inplace = ci == 2;
            float *x = rnd(n, 1400 + ci, -6, 6), *yr = pt_alloc(n);
            float *xd = up(x, n), *yd = inplace ? xd : dev_nan(n);
            pcavs_status sr = ops[oi].ref(&hkc, n, x, yr);
            pcavs_status sd = ops[oi].dev(&dkc, n, xd, yd);
            char what[200];
            snprintf(what, sizeof what, "%s count %zu%s", ops[oi].name, n, inplace ? " in place" : "");
            finish_case(what, sd, sr, yd, yr, n);
            pt_free(x), pt_free(yr);
        }
}

static void test_fused_lrelu_noise(void) {
    NEED_SLOT(fused_lrelu);
    NEED_SLOT(noise_inject);
    static const struct {
        int n, c, hw, bias, noise, inplace;
    } cases[] = {{2, 512, 49, 1, 1, 0},      {1, 512, 14 * 14, 1, 1, 1}, {3, 128, 112 * 112, 1, 1, 0},
                 {2, 256, 56 * 56, 1, 0, 0}, {3, 5, 7, 0, 1, 1},         {2, 3, 11, 0, 0, 0}};
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int n = cases[ci].n, c = cases[ci].c, hw = cases[ci].hw;
        size_t nx = (size_t)n * c * hw;
        float *x = rnd(nx, 1500 + ci, -2, 2), *b = rnd(c, 2500 + ci, -.5f, .5f);
        float *nz = pt_alloc((size_t)n * hw);
        pt_fill_normal(nz, (size_t)n * hw, 3500 + ci, 1.0f);
        const float nw = 0.37f;
        const float *bias = cases[ci].bias ? b : NULL, *noise = cases[ci].noise ? nz : NULL;
        float *yr = pt_alloc(nx);
        float *xd = up(x, nx), *yd = cases[ci].inplace ? xd : dev_nan(nx);
        pcavs_status sr = pcavs_fused_lrelu_ref(&hkc, n, c, hw, x, bias, noise, nw, yr);
        pcavs_status sd =
            be->fused_lrelu(&dkc, n, c, hw, xd, bias ? up(b, c) : NULL, noise ? up(nz, (size_t)n * hw) : NULL, nw, yd);
        char what[200];
        snprintf(what, sizeof what, "fused_lrelu [%d x %d x %d]%s%s%s", n, c, hw, bias ? " bias" : "",
                 noise ? " noise" : "", cases[ci].inplace ? " in place" : "");
        finish_case(what, sd, sr, yd, yr, nx);

        float *yr2 = pt_alloc(nx);
        xd = up(x, nx);
        yd = cases[ci].inplace ? xd : dev_nan(nx);
        sr = pcavs_noise_inject_ref(&hkc, n, c, hw, x, nz, nw, yr2);
        sd = be->noise_inject(&dkc, n, c, hw, xd, up(nz, (size_t)n * hw), nw, yd);
        snprintf(what, sizeof what, "noise_inject [%d x %d x %d]%s", n, c, hw, cases[ci].inplace ? " in place" : "");
        finish_case(what, sd, sr, yd, yr2, nx);
        pt_free(x), pt_free(b), pt_free(nz), pt_free(yr), pt_free(yr2);
    }
}

/* ---------------- softmax ---------------- */
static void test_softmax(void) {
    NEED_SLOT(softmax);
    static const struct {
        int outer, len, inner, inplace;
    } cases[] = {{4 * 2560, 3, 1, 0}, {2, 3, 2560, 0}, {5, 7, 13, 1}, {1, 1000, 1, 0}, {3, 1, 4, 0}};
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int o = cases[ci].outer, l = cases[ci].len, in = cases[ci].inner;
        size_t nx = (size_t)o * l * in;
        float *x = rnd(nx, 1600 + ci, -8, 8), *yr = pt_alloc(nx);
        float *xd = up(x, nx), *yd = cases[ci].inplace ? xd : dev_nan(nx);
        pcavs_status sr = pcavs_softmax_ref(&hkc, o, l, in, x, yr);
        pcavs_status sd = be->softmax(&dkc, o, l, in, xd, yd);
        char what[200];
        snprintf(what, sizeof what, "softmax [%d, %d, %d]%s", o, l, in, cases[ci].inplace ? " in place" : "");
        finish_case(what, sd, sr, yd, yr, nx);
        pt_free(x), pt_free(yr);
    }
}

/* ---------------- pooling ---------------- */
static void test_pool(void) {
    NEED_SLOT(maxpool2d);
    NEED_SLOT(global_avgpool);
    NEED_SLOT(adaptive_avgpool);
    static const pcavs_maxpool2d_desc mp[] = {
        {1, 64, 112, 112, 3, 2, 1}, /* V: torchvision stem pool */
        {2, 256, 56, 56, 2, 2, 0},  /* E: maxpool 2 */
        {3, 5, 7, 7, 2, 2, 0},      /* hourglass 7 -> 3 (odd: last row/column dropped) */
        {2, 3, 9, 6, 3, 2, 1},
    };
    for (int ci = 0; ci < (int)(sizeof mp / sizeof mp[0]); ci++) {
        const pcavs_maxpool2d_desc *d = &mp[ci];
        int oh = pcavs_maxpool2d_out_h(d), ow = pcavs_maxpool2d_out_w(d);
        size_t nx = (size_t)d->n * d->c * d->h * d->w, ny = (size_t)d->n * d->c * oh * ow;
        float *x = rnd(nx, 1700 + ci, -3, 3), *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_maxpool2d_ref(&hkc, d, x, yr);
        pcavs_status sd = be->maxpool2d(&dkc, d, up(x, nx), yd);
        char what[200];
        snprintf(what, sizeof what, "maxpool2d [%dx%dx%dx%d] k%d s%d p%d", d->n, d->c, d->h, d->w, d->k, d->stride,
                 d->pad);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(yr);
    }
    static const int gp[][2] = {{2 * 2048, 49}, {3 * 64, 80 * 20}, {5, 1}, {7, 3 * 224 * 224}};
    for (int ci = 0; ci < 4; ci++) {
        int planes = gp[ci][0], hw = gp[ci][1];
        size_t nx = (size_t)planes * hw;
        float *x = rnd(nx, 1750 + ci, -1, 2), *yr = pt_alloc(planes), *yd = dev_nan(planes);
        pcavs_status sr = pcavs_global_avgpool_ref(&hkc, planes, hw, x, yr);
        pcavs_status sd = be->global_avgpool(&dkc, planes, hw, up(x, nx), yd);
        char what[200];
        snprintf(what, sizeof what, "global_avgpool [%d planes x %d]", planes, hw);
        finish_case(what, sd, sr, yd, yr, planes);
        pt_free(x), pt_free(yr);
    }
    static const int ap[][5] = {{2 * 512, 7, 7, 7, 7}, {3, 10, 13, 4, 5}, {2, 7, 7, 3, 3}, {4, 5, 3, 7, 6}};
    for (int ci = 0; ci < 4; ci++) {
        int planes = ap[ci][0], h = ap[ci][1], w = ap[ci][2], oh = ap[ci][3], ow = ap[ci][4];
        size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
        float *x = rnd(nx, 1780 + ci, -1, 1), *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_adaptive_avgpool_ref(&hkc, planes, h, w, oh, ow, x, yr);
        pcavs_status sd = be->adaptive_avgpool(&dkc, planes, h, w, oh, ow, up(x, nx), yd);
        char what[200];
        snprintf(what, sizeof what, "adaptive_avgpool [%d x %dx%d] -> %dx%d", planes, h, w, oh, ow);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(yr);
    }
}

/* ---------------- bilinear ---------------- */
static void test_bilinear(void) {
    NEED_SLOT(bilinear);
    static const int cases[][5] = {{2 * 256, 3, 3, 7, 7}, {2 * 256, 7, 7, 14, 14}, {256, 14, 14, 28, 28},
                                   {256, 28, 28, 56, 56}, {3, 5, 9, 11, 4},        {2, 6, 6, 6, 6}};
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int p = cases[ci][0], h = cases[ci][1], w = cases[ci][2], oh = cases[ci][3], ow = cases[ci][4];
        size_t nx = (size_t)p * h * w, ny = (size_t)p * oh * ow;
        float *x = rnd(nx, 1800 + ci, -1, 1), *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_bilinear_ref(&hkc, p, h, w, oh, ow, x, yr);
        pcavs_status sd = be->bilinear(&dkc, p, h, w, oh, ow, up(x, nx), yd);
        char what[200];
        snprintf(what, sizeof what, "bilinear [%d x %dx%d] -> %dx%d", p, h, w, oh, ow);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(yr);
    }
}

/* ---------------- add / mul (broadcasting) ---------------- */
static void test_binary(void) {
    NEED_SLOT(add);
    NEED_SLOT(mul);
    static const struct {
        int a[4], b[4], relu, inplace;
    } cases[] = {
        {{2, 64, 28, 28}, {2, 64, 28, 28}, 1, 0},                                       /* residual add + ReLU */
        {{2, 64, 28, 28}, {2, 64, 1, 1}, 0, 1},                                         /* SE scaling, in place */
        {{1, 3, 224, 224}, {1, 3, 224, 224}, 0, 0}, {{2, 1, 5, 5}, {1, 3, 1, 5}, 1, 0}, /* both sides broadcast */
        {{3, 7, 1, 9}, {3, 7, 4, 1}, 0, 0},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        const int *as = cases[ci].a, *bs = cases[ci].b;
        int os[4];
        if (pcavs_broadcast_shape(as, bs, os) != PCAVS_OK) {
            pt_check_ok(PCAVS_ERR_SHAPE, "broadcast_shape");
            continue;
        }
        size_t na = (size_t)as[0] * as[1] * as[2] * as[3], nb = (size_t)bs[0] * bs[1] * bs[2] * bs[3],
               ny = (size_t)os[0] * os[1] * os[2] * os[3];
        pcavs_act act = cases[ci].relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        for (int op = 0; op < 2; op++) {
            float *a = rnd(na, 1900 + ci, -2, 2), *b = rnd(nb, 2900 + ci, -2, 2), *yr = pt_alloc(ny);
            float *ad = up(a, na), *yd = cases[ci].inplace ? ad : dev_nan(ny);
            pcavs_status sr = (op ? pcavs_mul_ref : pcavs_add_ref)(&hkc, as, a, bs, b, act, yr);
            pcavs_status sd = (op ? be->mul : be->add)(&dkc, as, ad, bs, up(b, nb), act, yd);
            char what[200];
            snprintf(what, sizeof what, "%s [%d,%d,%d,%d] . [%d,%d,%d,%d]%s%s", op ? "mul" : "add", as[0], as[1], as[2],
                     as[3], bs[0], bs[1], bs[2], bs[3], cases[ci].relu ? " relu" : "",
                     cases[ci].inplace ? " in place" : "");
            finish_case(what, sd, sr, yd, yr, ny);
            pt_free(a), pt_free(b), pt_free(yr);
        }
    }
}

/* ---------------- concat ---------------- */
static void test_concat(void) {
    NEED_SLOT(concat);
    static const struct {
        int n, count, ch[4], hw;
    } cases[] = {{2, 3, {128, 64, 64}, 56 * 56}, {3, 2, {2048, 512}, 1}, {1, 4, {1, 2, 3, 5}, 7}};
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        int n = cases[ci].n, cnt = cases[ci].count, hw = cases[ci].hw, total = 0;
        float *xs[4];
        const float *xd[4]; /* host array of device pointers */
        for (int i = 0; i < cnt; i++) {
            size_t nx = (size_t)n * cases[ci].ch[i] * hw;
            xs[i] = rnd(nx, 2000 + 10 * ci + i, -1, 1);
            xd[i] = up(xs[i], nx);
            total += cases[ci].ch[i];
        }
        size_t ny = (size_t)n * total * hw;
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_concat_ref(&hkc, n, cnt, (const float *const *)xs, cases[ci].ch, hw, yr);
        pcavs_status sd = be->concat(&dkc, n, cnt, xd, cases[ci].ch, hw, yd);
        char what[200];
        snprintf(what, sizeof what, "concat n%d of %d tensors -> %d channels x %d", n, cnt, total, hw);
        finish_case(what, sd, sr, yd, yr, ny);
        for (int i = 0; i < cnt; i++) pt_free(xs[i]);
        pt_free(yr);
    }
}

/* ---------------- upfirdn2d ---------------- */
/* The blur kernel of the generator: outer([1,3,3,1]) / 64 * 4. */
static void blur_kernel(float k[16]) {
    static const float a[4] = {1, 3, 3, 1};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) k[i * 4 + j] = a[i] * a[j] / 64.0f * 4.0f;
}

static void test_upfirdn2d(void) {
    NEED_SLOT(upfirdn2d);
    float blur[16];
    blur_kernel(blur);
    static const struct {
        const char *name;
        pcavs_upfirdn2d_desc d;
        int random_kernel;
    } cases[] = {
        {"g_blur_15->14", {2 * 512, 15, 15, 1, 1, 1, 1, 1, 1, 4, 4}, 0},
        {"g_blur_113->112", {256, 113, 113, 1, 1, 1, 1, 1, 1, 4, 4}, 0},
        {"g_skip_up_112->224", {2 * 3, 112, 112, 2, 1, 2, 1, 2, 1, 4, 4}, 0},
        {"g_skip_up_7->14", {3, 7, 7, 2, 1, 2, 1, 2, 1, 4, 4}, 0},
        {"odd_up2_down2_k3x5", {3, 9, 7, 2, 2, 1, 2, 0, 3, 3, 5}, 1},
        {"up1_down2", {2, 10, 11, 1, 2, 1, 1, 2, 1, 4, 4}, 1},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        const pcavs_upfirdn2d_desc *d = &cases[ci].d;
        int oh = pcavs_upfirdn2d_out_h(d), ow = pcavs_upfirdn2d_out_w(d);
        size_t nx = (size_t)d->planes * d->h * d->w, ny = (size_t)d->planes * oh * ow, nk = (size_t)d->kh * d->kw;
        float *x = rnd(nx, 2100 + ci, -1, 1), *k = rnd(nk, 2150 + ci, 0, 0.3f);
        const float *kern = cases[ci].random_kernel ? k : blur;
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_upfirdn2d_ref(&hkc, d, x, kern, yr);
        pcavs_status sd = be->upfirdn2d(&dkc, d, up(x, nx), up(kern, nk), yd);
        char what[200];
        snprintf(what, sizeof what, "upfirdn2d %s [%d x %dx%d] up%d down%d pad %d,%d,%d,%d k%dx%d", cases[ci].name,
                 d->planes, d->h, d->w, d->up, d->down, d->pad_x0, d->pad_x1, d->pad_y0, d->pad_y1, d->kh, d->kw);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(k), pt_free(yr);
    }
}

/* ---------------- modconv ---------------- */
static void test_modconv(void) {
    NEED_SLOT(modconv);
    NEED_SLOT(modconv_demod);
    float blur[16];
    blur_kernel(blur);
    static const struct {
        const char *name;
        pcavs_modconv_desc d;
    } cases[] = {
        {"g_conv1_7", {2, 512, 7, 7, 512, 3, 1, 0}},
        {"g_up_7->14", {2, 512, 7, 7, 512, 3, 1, 1}},
        {"g_conv_14", {1, 512, 14, 14, 512, 3, 1, 0}},
        {"g_up_56->112_reduced", {1, 512, 12, 12, 256, 3, 1, 1}},
        {"g_conv_224_reduced", {2, 128, 24, 24, 128, 3, 1, 0}},
        {"g_torgb_28", {3, 512, 28, 28, 3, 1, 0, 0}},
        {"g_torgb_224_reduced", {2, 128, 40, 40, 3, 1, 0, 0}},
        {"odd_up", {3, 13, 5, 6, 9, 3, 1, 1}},
        {"odd_plain_nodemod", {2, 7, 9, 4, 5, 3, 0, 0}},
        {"k1_demod", {2, 16, 5, 7, 6, 1, 1, 0}}, /* the 1x1 path's demodulation (k_scale) */
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        const pcavs_modconv_desc *d = &cases[ci].d;
        int oh = pcavs_modconv_out_h(d), ow = pcavs_modconv_out_w(d);
        size_t nx = (size_t)d->n * d->c_in * d->h * d->w, nw = (size_t)d->c_out * d->c_in * d->k * d->k,
               ns = (size_t)d->n * d->c_in, ny = (size_t)d->n * d->c_out * oh * ow, nd = (size_t)d->n * d->c_out;
        float *x = rnd(nx, 2200 + ci, -1, 1), *st = rnd(ns, 2300 + ci, 0.2f, 1.8f);
        float *w = pt_alloc(nw);
        pt_fill_normal(w, nw, 2400 + ci, 1.0f); /* upstream: randn weights, scaled in the op */
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_modconv_ref(&hkc, d, x, w, st, blur, yr);
        pcavs_status sd = be->modconv(&dkc, d, up(x, nx), up(w, nw), up(st, ns), up(blur, 16), yd);
        char what[200];
        snprintf(what, sizeof what, "modconv %s [%dx%dx%dx%d]->%d k%d demod%d up%d", cases[ci].name, d->n, d->c_in,
                 d->h, d->w, d->c_out, d->k, d->demodulate, d->upsample);
        finish_case(what, sd, sr, yd, yr, ny);

        float *dr = pt_alloc(nd), *dd = dev_nan(nd);
        sr = pcavs_modconv_demod_ref(&hkc, d, w, st, dr);
        sd = be->modconv_demod(&dkc, d, up(w, nw), up(st, ns), dd);
        snprintf(what, sizeof what, "modconv_demod %s [%d x %d] demod%d", cases[ci].name, d->n, d->c_out,
                 d->demodulate);
        finish_case(what, sd, sr, dd, dr, nd);
        pt_free(x), pt_free(st), pt_free(w), pt_free(yr), pt_free(dr);
    }
}

/* ---------------- modconv with StyledConv's tail ---------------- */
/* act_lrelu: noise injection + bias + leaky ReLU * sqrt(2) applied to modconv's output. */
static void test_modconv_tail(void) {
    NEED_SLOT(modconv);
    float blur[16];
    blur_kernel(blur);
    static const struct {
        const char *name;
        pcavs_modconv_desc d;
        int bias, noise;
    } cases[] = {
        {"g_conv_14_tail", {2, 64, 14, 14, 48, 3, 1, 0}, 1, 1},
        {"g_up_7->14_tail", {2, 64, 7, 7, 32, 3, 1, 1}, 1, 1},
        {"odd_tail_bias_only", {3, 5, 6, 5, 7, 3, 1, 0}, 1, 0},
        {"odd_up_tail_noise_only", {1, 6, 4, 3, 5, 3, 1, 1}, 0, 1},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        pcavs_modconv_desc dh = cases[ci].d, dd = cases[ci].d;
        int oh = pcavs_modconv_out_h(&dh), ow = pcavs_modconv_out_w(&dh);
        size_t nx = (size_t)dh.n * dh.c_in * dh.h * dh.w, nw = (size_t)dh.c_out * dh.c_in * dh.k * dh.k,
               ns = (size_t)dh.n * dh.c_in, ny = (size_t)dh.n * dh.c_out * oh * ow, nn = (size_t)dh.n * oh * ow;
        float *x = rnd(nx, 2600 + ci, -1, 1), *st = rnd(ns, 2700 + ci, 0.2f, 1.8f),
              *b = rnd(dh.c_out, 2800 + ci, -.5f, .5f);
        float *w = pt_alloc(nw), *nz = pt_alloc(nn);
        pt_fill_normal(w, nw, 2900 + ci, 1.0f);
        pt_fill_normal(nz, nn, 3000 + ci, 1.0f);
        dh.act_lrelu = dd.act_lrelu = 1;
        dh.act_noise_weight = dd.act_noise_weight = 0.3f;
        dh.act_bias = cases[ci].bias ? b : NULL;
        dd.act_bias = cases[ci].bias ? up(b, dh.c_out) : NULL;
        dh.act_noise = cases[ci].noise ? nz : NULL;
        dd.act_noise = cases[ci].noise ? up(nz, nn) : NULL;
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        pcavs_status sr = pcavs_modconv_ref(&hkc, &dh, x, w, st, blur, yr);
        pcavs_status sd = be->modconv(&dkc, &dd, up(x, nx), up(w, nw), up(st, ns), up(blur, 16), yd);
        char what[200];
        snprintf(what, sizeof what, "modconv %s [%dx%dx%dx%d]->%d up%d + lrelu%s%s", cases[ci].name, dh.n, dh.c_in,
                 dh.h, dh.w, dh.c_out, dh.upsample, cases[ci].bias ? " bias" : "", cases[ci].noise ? " noise" : "");
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(st), pt_free(b), pt_free(w), pt_free(nz), pt_free(yr);
    }
}

/* ---------------- tiling under a small scratch ---------------- */
/* The same kernels with the device scratch capped (same buffer, smaller scratch_bytes), so the
 * im2col / column tiles and modconv's sample and output-channel blocks take several passes. */
static void test_tiled(void) {
    pcavs_kctx full = dkc;
    /* conv2d: per-image tiles of the stem, the batched path of G, a grouped strided conv */
    /* 96 KiB: im2col tiles of one image; 40 KiB / 5 MiB: the batched path, one image per tile */
    static const struct {
        int id;
        size_t scratch;
    } conv_ids[] = {{0, 96u << 10},  {2, 96u << 10},  {9, 96u << 10}, {10, 96u << 10},
                    {14, 96u << 10}, {14, 40u << 10}, {11, 5u << 20}};
    for (int i = 0; i < (int)(sizeof conv_ids / sizeof conv_ids[0]); i++) {
        const conv_case *c = &CONV_CASES[conv_ids[i].id];
        pcavs_conv2d_desc d = {c->n,
                               c->c_in,
                               c->h,
                               c->w,
                               c->c_out,
                               c->kh,
                               c->kw,
                               c->sh,
                               c->sw,
                               c->ph,
                               c->pw,
                               c->groups,
                               c->relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE};
        const int oh = pcavs_conv2d_out_h(&d), ow = pcavs_conv2d_out_w(&d);
        size_t nx = (size_t)c->n * c->c_in * c->h * c->w, nw = (size_t)c->c_out * (c->c_in / c->groups) * c->kh * c->kw,
               ny = (size_t)c->n * c->c_out * oh * ow;
        float *x = rnd(nx, 5000 + i, -1, 1), *w = rnd(nw, 5100 + i, -.1f, .1f), *b = rnd(c->c_out, 5200 + i, -.5f, .5f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        dkc.scratch_bytes = conv_ids[i].scratch;
        pcavs_status sr = pcavs_conv2d_ref(&hkc, &d, x, w, b, yr);
        pcavs_status sd = be->conv2d(&dkc, &d, up(x, nx), up(w, nw), up(b, c->c_out), yd);
        dkc = full;
        char what[200];
        snprintf(what, sizeof what, "conv2d %s, %zu KiB scratch (tiled)", c->name, conv_ids[i].scratch >> 10);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(w), pt_free(b), pt_free(yr);
    }
    {
        pcavs_conv_transpose2d_desc d = {2, 512, 7, 7, 512, 3, 3, 2, 0};
        int oh = pcavs_conv_transpose2d_out_h(&d), ow = pcavs_conv_transpose2d_out_w(&d);
        size_t nx = (size_t)d.n * d.c_in * d.h * d.w, nw = (size_t)d.c_in * d.c_out * d.kh * d.kw,
               ny = (size_t)d.n * d.c_out * oh * ow;
        float *x = rnd(nx, 5300, -1, 1), *w = rnd(nw, 5301, -.05f, .05f), *b = rnd(d.c_out, 5302, -.5f, .5f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        dkc.scratch_bytes = 512u << 10; /* 27 columns of 512 + 4608 floats per tile */
        pcavs_status sr = pcavs_conv_transpose2d_ref(&hkc, &d, x, w, b, yr);
        pcavs_status sd = be->conv_transpose2d(&dkc, &d, up(x, nx), up(w, nw), up(b, d.c_out), yd);
        dkc = full;
        finish_case("conv_transpose2d g_up_7_512, 512 KiB scratch (tiled)", sd, sr, yd, yr, ny);
        pt_free(x), pt_free(w), pt_free(b), pt_free(yr);
    }
    float blur[16];
    blur_kernel(blur);
    static const struct {
        const char *name;
        pcavs_modconv_desc d;
        size_t scratch;
    } mc[] = {
        {"g_conv1_7", {2, 512, 7, 7, 512, 3, 1, 0}, 9800u << 10},  /* one sample per pass, output channels split */
        {"g_up_7->14", {3, 512, 7, 7, 512, 3, 1, 1}, 11u << 20},   /* samples split */
        {"odd_up", {3, 13, 5, 6, 9, 3, 1, 1}, 8u << 10},           /* one sample and one output channel per pass */
        {"g_torgb_28", {3, 512, 28, 28, 3, 1, 0, 0}, 1700u << 10}, /* 1x1: one sample per GEMM batch */
    };
    for (int ci = 0; ci < (int)(sizeof mc / sizeof mc[0]); ci++) {
        const pcavs_modconv_desc *d = &mc[ci].d;
        int oh = pcavs_modconv_out_h(d), ow = pcavs_modconv_out_w(d);
        size_t nx = (size_t)d->n * d->c_in * d->h * d->w, nw = (size_t)d->c_out * d->c_in * d->k * d->k,
               ns = (size_t)d->n * d->c_in, ny = (size_t)d->n * d->c_out * oh * ow;
        float *x = rnd(nx, 5400 + ci, -1, 1), *st = rnd(ns, 5500 + ci, 0.2f, 1.8f), *w = pt_alloc(nw);
        pt_fill_normal(w, nw, 5600 + ci, 1.0f);
        float *yr = pt_alloc(ny), *yd = dev_nan(ny);
        dkc.scratch_bytes = mc[ci].scratch;
        pcavs_status sr = pcavs_modconv_ref(&hkc, d, x, w, st, blur, yr);
        pcavs_status sd = be->modconv(&dkc, d, up(x, nx), up(w, nw), up(st, ns), up(blur, 16), yd);
        dkc = full;
        char what[200];
        snprintf(what, sizeof what, "modconv %s [n%d], %zu KiB scratch (tiled)", mc[ci].name, d->n,
                 mc[ci].scratch >> 10);
        finish_case(what, sd, sr, yd, yr, ny);
        pt_free(x), pt_free(st), pt_free(w), pt_free(yr);
    }
}

/* ---------------- plumbing ---------------- */
static void test_plumbing(void) {
    /* A whole exec context on CUDA: complete table, stream, cuBLAS, device scratch. */
    pcavs_exec_params p;
    pcavs_exec_params_init(&p);
    p.device = PCAVS_DEVICE_CUDA;
    p.scratch_bytes = 16u << 20;
    pcavs_exec *ex = NULL;
    if (be->on_device &&
        pt_check_ok(pcavs_exec_create(&p, &ex), "pcavs_exec_create(device CUDA): complete table, stream, cuBLAS")) {
        pt_check(strcmp(pcavs_exec_backend_name(ex), "cuda") == 0 && ex->kc.cuda_stream && ex->kc.cublas,
                 "exec on CUDA: backend '%s', stream %p, cuBLAS %p", pcavs_exec_backend_name(ex), ex->kc.cuda_stream,
                 ex->kc.cublas);
        pcavs_exec_free(ex);
    }
    /* Round trip is exact, and sync reports success. */
    size_t n = 1u << 20;
    float *h = rnd(n, 77, -1e3f, 1e3f);
    float *d = up(h, n);
    float *back = down(d, n);
    pt_check(memcmp(h, back, n * sizeof(float)) == 0, "upload + download of %zu floats is bit-exact", n);
    pt_check_ok(be->sync(&dkc), "sync");
    pt_free(h), pt_free(back);
    release_all();
    /* An impossible allocation is a status with a message, not a crash. */
    void *huge = NULL;
    pcavs_status st = be->mem_alloc((size_t)1 << 50, &huge);
    if (!be->on_device && st == PCAVS_OK) be->mem_free(huge), huge = NULL, st = PCAVS_ERR_OOM; /* lazy host pages */
    pt_check(st == PCAVS_ERR_OOM && huge == NULL, "1 PiB device allocation -> PCAVS_ERR_OOM (got %d: %s)", (int)st,
             pcavs_last_error());
    pt_check_ok(be->sync(&dkc), "sync after a failed allocation (error cleared)");
}

int main(void) {
    /* PCAVS_CUDA_OPS_DRYRUN=1 runs this whole test on the CPU backend table instead: a check of
     * the test itself (shapes, operands, bounds) on a machine without a GPU. */
    const char *dry = getenv("PCAVS_CUDA_OPS_DRYRUN");
    be = dry && *dry == '1' ? &pcavs_backend_cpu : pcavs_backend_cuda();
    if (!be) {
        pt_skip("no CUDA device (%s)", pcavs_last_error());
        return pt_finish();
    }
    if (!be->on_device) printf("dry run: the CPU backend stands in for CUDA (PCAVS_CUDA_OPS_DRYRUN)\n");
    memset(&dkc, 0, sizeof dkc);
    dkc.n_threads = be->on_device ? 1 : 2;
    if (be->kctx_init && !pt_check_ok(be->kctx_init(&dkc), "CUDA kctx_init")) return pt_finish();
    dkc.scratch_bytes = 256u << 20;
    if (!pt_check_ok(be->mem_alloc(dkc.scratch_bytes, &dkc.scratch), "device scratch")) return pt_finish();
    hkc = pt_host_kctx(256, 0);

    test_plumbing();
    test_conv2d();
    test_conv_transpose2d();
    test_linear();
    test_batchnorm();
    test_unary();
    test_fused_lrelu_noise();
    test_softmax();
    test_pool();
    test_bilinear();
    test_binary();
    test_concat();
    test_upfirdn2d();
    test_modconv();
    test_modconv_tail();
    test_tiled();

    const int n_ops =
        (int)((offsetof(pcavs_backend, modconv_demod) - offsetof(pcavs_backend, conv2d)) / sizeof(pcavs_unary_fn)) + 1;
    printf("operators checked: %d (the backend table has %d operator slots)\n", g_nchecked, n_ops);
    pt_check(g_nchecked == n_ops, "every operator slot of the table checked against _ref: %d of %d", g_nchecked, n_ops);

    be->mem_free(dkc.scratch);
    if (be->kctx_free) be->kctx_free(&dkc);
    pt_free_kctx(&hkc);
    return pt_finish();
}

#else /* no CUDA in this build */

int main(void) {
    pt_skip("no CUDA device (this build has no CUDA backend: configure with -DPCAVS_CUDA=ON)");
    return pt_finish();
}

#endif
