/* test_pool.c: max pooling (FAN's 2x2/2 at 56/28/14/7 incl. 7 -> 3, ResNeXt's 3x3/2 pad 1
 * 112 -> 56, odd sizes, k > stride, pad 2), global average pooling (the A_sync SE blocks at
 * 80x20 .. 10x3, ResNeXt's 7x7 mean) and adaptive average pooling (identity 7x7, overlapping
 * and upsampling bins): pcavs_*_{ref,cpu} against PyTorch float32 (ops/pool.safetensors from
 * tests/reference/op_fixtures_misc.py), _cpu vs _ref, argument checks. Bounds: rel L2 <= 1e-5
 * (max pooling selects: exact). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"
#include "safetensors.h"
#include "test_util.h"

/* Keep the three tables in sync with MAXPOOL_CASES, GAP_CASES, ADAPT_CASES in op_fixtures_misc.py. */
typedef struct {
    const char *name;
    int n, c, h, w, k, s, p;
} mp_case;
static const mp_case MP[] = {
    {"fan56", 1, 256, 56, 56, 2, 2, 0},       {"fan28_n8", 8, 256, 28, 28, 2, 2, 0},
    {"fan14", 1, 256, 14, 14, 2, 2, 0},       {"fan7_to3_n8", 8, 256, 7, 7, 2, 2, 0},
    {"resnext112", 1, 64, 112, 112, 3, 2, 1}, {"resnext112_n2", 2, 64, 112, 112, 3, 2, 1},
    {"odd_3s2p1", 2, 5, 13, 11, 3, 2, 1},     {"odd_2s2", 1, 3, 9, 8, 2, 2, 0},
    {"k3s3", 3, 4, 10, 7, 3, 3, 0},           {"k4s1p2", 1, 2, 6, 5, 4, 1, 2},
};
typedef struct {
    const char *name;
    int n, c, h, w, oh, ow;
} av_case;
static const av_case GAP[] = {
    {"se32_80x20", 1, 32, 80, 20, 1, 1},     {"se64_40x10_n8", 8, 64, 40, 10, 1, 1},
    {"se128_20x5", 1, 128, 20, 5, 1, 1},     {"se256_10x3_n8", 8, 256, 10, 3, 1, 1},
    {"resnext_7x7_n8", 8, 2048, 7, 7, 1, 1}, {"odd", 3, 5, 13, 1, 1, 1},
};
static const av_case AD[] = {
    {"id_7x7", 1, 512, 7, 7, 7, 7},           {"down_14_to_7", 2, 8, 14, 14, 7, 7},
    {"odd_13x11_to_4x5", 2, 3, 13, 11, 4, 5}, {"overlap_10_to_3", 1, 4, 10, 10, 3, 3},
    {"up_5x7_to_8x9", 2, 6, 5, 7, 8, 9},      {"to_1x1", 3, 5, 6, 9, 1, 1},
};
#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

static pcavs_st_file *g_fx;
static char g_what[256];

/* Fixture input (or seeded random when there are no fixtures) and PyTorch output (or NULL). */
static int inputs(const char *prefix, const char *name, int ci, const int64_t *sx, int ndy, const int64_t *sy,
                  const float **x, const float **yt, float **own) {
    char key[256];
    *own = NULL;
    *yt = NULL;
    if (g_fx) {
        int ok = 1;
        snprintf(key, sizeof key, "%s%s.x", prefix, name);
        if (pcavs_st_get_f32(g_fx, key, 4, sx, x) != PCAVS_OK) ok = 0;
        snprintf(key, sizeof key, "%s%s.y", prefix, name);
        if (ok && pcavs_st_get_f32(g_fx, key, ndy, sy, yt) != PCAVS_OK) ok = 0;
        return pt_check(ok, "fixture tensors %s%s.x/.y (%s)", prefix, name, ok ? "ok" : pcavs_last_error());
    }
    const size_t n = (size_t)(sx[0] * sx[1] * sx[2] * sx[3]);
    *own = pt_alloc(n);
    pt_fill_normal(*own, n, 500 + ci, 1.0f);
    *x = *own;
    return 1;
}

static void compare(const char *prefix, const char *name, const char *shape, const float *yr, const float *yc,
                    const float *yt, size_t n, double bound_cpu_ref) {
    if (bound_cpu_ref == 0.0) { /* selection: exact */
        snprintf(g_what, sizeof g_what, "%s%s %s: cpu vs ref (exact)", prefix, name, shape);
        pt_check_max_abs(g_what, yc, yr, n, 0.0);
    } else {
        snprintf(g_what, sizeof g_what, "%s%s %s: cpu vs ref", prefix, name, shape);
        pt_check_rel_l2(g_what, yc, yr, n, bound_cpu_ref);
    }
    if (yt) {
        snprintf(g_what, sizeof g_what, "%s%s: ref vs PyTorch", prefix, name);
        pt_check_rel_l2(g_what, yr, yt, n, 1e-5);
        snprintf(g_what, sizeof g_what, "%s%s: cpu vs PyTorch", prefix, name);
        pt_check_rel_l2(g_what, yc, yt, n, 1e-5);
    }
}

static void test_maxpool(const pcavs_kctx *kc) {
    char shape[128];
    for (int ci = 0; ci < COUNT(MP); ci++) {
        const mp_case *c = &MP[ci];
        const pcavs_maxpool2d_desc d = {c->n, c->c, c->h, c->w, c->k, c->s, c->p};
        const int oh = pcavs_maxpool2d_out_h(&d), ow = pcavs_maxpool2d_out_w(&d);
        const int64_t sx[4] = {c->n, c->c, c->h, c->w}, sy[4] = {c->n, c->c, oh, ow};
        const float *x, *yt;
        float *own;
        if (!inputs("max_", c->name, ci, sx, 4, sy, &x, &yt, &own)) continue;
        const size_t ny = (size_t)c->n * c->c * oh * ow;
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        pt_check_ok(pcavs_maxpool2d_ref(kc, &d, x, yr), c->name);
        pt_check_ok(pcavs_maxpool2d_cpu(kc, &d, x, yc), c->name);
        snprintf(shape, sizeof shape, "[%dx%dx%dx%d] k%d s%d p%d -> %dx%d", c->n, c->c, c->h, c->w, c->k, c->s, c->p,
                 oh, ow);
        compare("max_", c->name, shape, yr, yc, yt, ny, 0.0);
        pt_free(yr);
        pt_free(yc);
        pt_free(own);
    }
    /* shape rule: 7 -> 3 and 112 -> 56 */
    const pcavs_maxpool2d_desc d7 = {1, 1, 7, 7, 2, 2, 0}, d112 = {1, 1, 112, 112, 3, 2, 1};
    pt_check(pcavs_maxpool2d_out_h(&d7) == 3 && pcavs_maxpool2d_out_h(&d112) == 56, "maxpool out sizes 7->%d, 112->%d",
             pcavs_maxpool2d_out_h(&d7), pcavs_maxpool2d_out_h(&d112));
    /* implicit -inf padding: an all-negative input never yields 0 at the border */
    float xn[9], yn[4];
    for (int i = 0; i < 9; i++) xn[i] = -1.0f - (float)i;
    const pcavs_maxpool2d_desc d3 = {1, 1, 3, 3, 3, 2, 1};
    pt_check_ok(pcavs_maxpool2d_cpu(kc, &d3, xn, yn), "maxpool padding");
    const float wn[4] = {-1.0f, -2.0f, -4.0f, -5.0f};
    pt_check_max_abs("maxpool 3x3/2 pad 1 of negative 3x3 (padding is -inf)", yn, wn, 4, 0.0);
    /* NaN propagates (PyTorch: a NaN in the window wins), in the 2x2 and the 3x3/2 paths */
    float xq[16], yq[4], yq3[4];
    for (int i = 0; i < 16; i++) xq[i] = (float)i;
    xq[5] = NAN;
    const pcavs_maxpool2d_desc d22 = {1, 1, 4, 4, 2, 2, 0}, d33 = {1, 1, 4, 4, 3, 2, 1};
    pt_check_ok(pcavs_maxpool2d_cpu(kc, &d22, xq, yq), "maxpool 2x2 NaN");
    pt_check_ok(pcavs_maxpool2d_cpu(kc, &d33, xq, yq3), "maxpool 3x3 NaN");
    pt_check(isnan(yq[0]) && yq[1] == 7.0f && yq[2] == 13.0f && yq[3] == 15.0f,
             "maxpool_cpu 2x2: NaN at (1,1) gives [NaN, 7, 13, 15]: got [%g, %g, %g, %g]", yq[0], yq[1], yq[2], yq[3]);
    pt_check(isnan(yq3[0]) && isnan(yq3[1]) && isnan(yq3[2]) && isnan(yq3[3]),
             "maxpool_cpu 3x3/2 pad 1: NaN at (1,1) is in every window: got [%g, %g, %g, %g]", yq3[0], yq3[1], yq3[2],
             yq3[3]);
    const pcavs_maxpool2d_desc bad = {1, 1, 2, 2, 3, 1, 0}, badpad = {1, 1, 8, 8, 3, 1, 2};
    pt_check(pcavs_maxpool2d_cpu(kc, &bad, xn, yn) == PCAVS_ERR_SHAPE,
             "maxpool_cpu 2x2 input, 3x3 window -> SHAPE (%s)", pcavs_last_error());
    pt_check(pcavs_maxpool2d_ref(kc, &badpad, xn, yn) == PCAVS_ERR_INVALID_ARG,
             "maxpool_ref pad 2 > k/2 -> INVALID_ARG (%s)", pcavs_last_error());
}

static void test_avg(const pcavs_kctx *kc, const av_case *cases, int ncases, int global) {
    char shape[128];
    const char *prefix = global ? "gap_" : "adapt_";
    for (int ci = 0; ci < ncases; ci++) {
        const av_case *c = &cases[ci];
        const int64_t sx[4] = {c->n, c->c, c->h, c->w}, sy4[4] = {c->n, c->c, c->oh, c->ow}, sy2[2] = {c->n, c->c};
        const float *x, *yt;
        float *own;
        if (!inputs(prefix, c->name, 600 + ci, sx, global ? 2 : 4, global ? sy2 : sy4, &x, &yt, &own)) continue;
        const int planes = c->n * c->c;
        const size_t ny = (size_t)planes * c->oh * c->ow;
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        if (global) {
            pt_check_ok(pcavs_global_avgpool_ref(kc, planes, c->h * c->w, x, yr), c->name);
            pt_check_ok(pcavs_global_avgpool_cpu(kc, planes, c->h * c->w, x, yc), c->name);
        } else {
            pt_check_ok(pcavs_adaptive_avgpool_ref(kc, planes, c->h, c->w, c->oh, c->ow, x, yr), c->name);
            pt_check_ok(pcavs_adaptive_avgpool_cpu(kc, planes, c->h, c->w, c->oh, c->ow, x, yc), c->name);
        }
        snprintf(shape, sizeof shape, "[%dx%dx%dx%d] -> %dx%d", c->n, c->c, c->h, c->w, c->oh, c->ow);
        compare(prefix, c->name, shape, yr, yc, yt, ny, 1e-6);
        pt_free(yr);
        pt_free(yc);
        pt_free(own);
    }
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    g_fx = pt_open_op_fixtures("pool", "op_fixtures_misc.py");
    test_maxpool(&kc);
    test_avg(&kc, GAP, COUNT(GAP), 1);
    test_avg(&kc, AD, COUNT(AD), 0);
    /* adaptive bins of 10 -> 3: [0,4) [3,7) [6,10) (PyTorch's floor/ceil edges overlap) */
    float x10[10], y3[3];
    for (int i = 0; i < 10; i++) x10[i] = (float)i;
    pt_check_ok(pcavs_adaptive_avgpool_cpu(&kc, 1, 1, 10, 1, 3, x10, y3), "adaptive 1x10 -> 1x3");
    const float w3[3] = {1.5f, 4.5f, 7.5f};
    pt_check_max_abs("adaptive_avgpool 0..9 -> 3 bins [0,4) [3,7) [6,10)", y3, w3, 3, 0.0);
    float b[4];
    pt_check(pcavs_global_avgpool_cpu(&kc, 1, 0, b, b) == PCAVS_ERR_INVALID_ARG,
             "global_avgpool_cpu hw=0 -> INVALID_ARG (%s)", pcavs_last_error());
    pt_check(pcavs_adaptive_avgpool_ref(&kc, 1, 2, 2, 0, 1, b, b) == PCAVS_ERR_INVALID_ARG,
             "adaptive_avgpool_ref oh=0 -> INVALID_ARG (%s)", pcavs_last_error());
    if (g_fx) pcavs_st_close(g_fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
