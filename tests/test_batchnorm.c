/* test_batchnorm.c: inference BatchNorm. pcavs_bn_fold + pcavs_batchnorm_{ref,cpu} against
 * PyTorch eval-mode nn.BatchNorm2d (+ReLU) fixtures (ops/batchnorm.safetensors from
 * tests/reference/op_fixtures_conv.py, same case table), _cpu vs _ref (also in place), and
 * pcavs_bn_fold_into_conv: the folded conv (bias + ReLU fused) equals conv then BN then ReLU,
 * against both our unfolded pipeline and PyTorch; all rel L2 <= 1e-5. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "batchnorm.h"
#include "conv2d.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int n, c, h, w, relu;
} bn_case;

/* Keep in sync with BN_CASES in tests/reference/op_fixtures_conv.py. */
static const bn_case CASES[] = {
    {"v_bn64_112", 1, 64, 112, 112, 1},
    {"e_bn256_56_n2", 2, 256, 56, 56, 0},
    {"a_bn1d_128", 1, 128, 3, 1, 0},
    {"a_bn32_80x20", 4, 32, 80, 20, 1},
    {"odd", 3, 7, 5, 3, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

/* Random BN statistics like the fixture's: gamma in [0.25, 1.75), beta, mean in [-0.5, 0.5), var in [0.01, 2.01). */
static void random_bn(int c, uint64_t seed, float *gamma, float *beta, float *mean, float *var) {
    pt_fill_uniform(gamma, (size_t)c, seed, 0.25f, 1.75f);
    pt_fill_uniform(beta, (size_t)c, seed + 1, -0.5f, 0.5f);
    pt_fill_uniform(mean, (size_t)c, seed + 2, -0.5f, 0.5f);
    pt_fill_uniform(var, (size_t)c, seed + 3, 0.01f, 2.01f);
}

/* Unfolded BN in double straight from the statistics, as PyTorch defines it. */
static void bn_direct(int n, int c, int hw, const float *x, const float *g, const float *b, const float *m,
                      const float *v, int relu, float *y) {
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                const size_t k = ((size_t)i * c + ch) * hw + p;
                double r = ((double)x[k] - m[ch]) / sqrt((double)v[ch] + 1e-5) * g[ch] + b[ch];
                if (relu && r < 0) r = 0;
                y[k] = (float)r;
            }
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("batchnorm", "op_fixtures_conv.py");
    char what[256];
    for (int ci = 0; ci < N_CASES; ci++) {
        const bn_case *c = &CASES[ci];
        const int hw = c->h * c->w;
        const size_t nx = (size_t)c->n * c->c * hw;
        const pcavs_act act = c->relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        const int64_t sx[4] = {c->n, c->c, c->h, c->w}, sc[1] = {c->c};
        const float *x, *g, *b, *m, *v, *yt = NULL;
        float *own = NULL;
        if (fx) {
            x = pt_fixture_f32(fx, c->name, "x", 4, sx);
            g = pt_fixture_f32(fx, c->name, "gamma", 1, sc);
            b = pt_fixture_f32(fx, c->name, "beta", 1, sc);
            m = pt_fixture_f32(fx, c->name, "mean", 1, sc);
            v = pt_fixture_f32(fx, c->name, "var", 1, sc);
            yt = pt_fixture_f32(fx, c->name, "y", 4, sx);
            if (!x || !g || !b || !m || !v || !yt) continue;
        } else {
            own = pt_alloc(nx + 4 * (size_t)c->c);
            pt_fill_uniform(own, nx, 70 + ci, -2.0f, 2.0f);
            float *p = own + nx;
            random_bn(c->c, 80 + ci, p, p + c->c, p + 2 * c->c, p + 3 * c->c);
            x = own, g = p, b = p + c->c, m = p + 2 * c->c, v = p + 3 * c->c;
        }
        float *scale = pt_alloc((size_t)c->c), *shift = pt_alloc((size_t)c->c);
        pcavs_bn_fold(c->c, g, b, m, v, 1e-5f, scale, shift);
        float *yd = pt_alloc(nx), *yr = pt_alloc(nx), *yc = pt_alloc(nx), *yi = pt_alloc(nx);
        bn_direct(c->n, c->c, hw, x, g, b, m, v, c->relu, yd);
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_batchnorm_ref(&kc, c->n, c->c, hw, x, scale, shift, act, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_batchnorm_cpu(&kc, c->n, c->c, hw, x, scale, shift, act, yc), what);
        memcpy(yi, x, nx * sizeof(float));
        snprintf(what, sizeof what, "%s cpu in place", c->name);
        pt_check_ok(pcavs_batchnorm_cpu(&kc, c->n, c->c, hw, yi, scale, shift, act, yi), what);
        snprintf(what, sizeof what, "%s [%dx%dx%dx%d]%s: folded ref vs unfolded double BN", c->name, c->n, c->c, c->h,
                 c->w, c->relu ? " relu" : "");
        pt_check_rel_l2(what, yr, yd, nx, 1e-5);
        snprintf(what, sizeof what, "%s: cpu vs ref", c->name);
        pt_check_rel_l2(what, yc, yr, nx, 1e-5);
        snprintf(what, sizeof what, "%s: cpu in place vs ref", c->name);
        pt_check_rel_l2(what, yi, yr, nx, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, nx, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, nx, 1e-5);
        }
        pt_free(scale);
        pt_free(shift);
        pt_free(yd);
        pt_free(yr);
        pt_free(yc);
        pt_free(yi);
        pt_free(own);
    }

    /* Folding into a conv: conv 3x3 32->48 (bias) at 2x32x17x13, then BN, then ReLU; and the
     * bias-less variant (a bias-free conv gets the BN shift as its bias). */
    for (int with_bias = 1; with_bias >= 0; with_bias--) {
        const int n = 2, ci = 32, co = 48, h = 17, w = 13, hw = h * w;
        const size_t nx = (size_t)n * ci * hw, nw = (size_t)co * ci * 9, ny = (size_t)n * co * hw;
        const int64_t sx[4] = {n, ci, h, w}, sw[4] = {co, ci, 3, 3}, sc[1] = {co}, sy[4] = {n, co, h, w};
        const float *x, *wt, *b, *g, *be, *m, *v, *yt = NULL;
        float *own = NULL;
        if (fx && with_bias) {
            x = pt_fixture_f32(fx, "fold", "x", 4, sx);
            wt = pt_fixture_f32(fx, "fold", "w", 4, sw);
            b = pt_fixture_f32(fx, "fold", "b", 1, sc);
            g = pt_fixture_f32(fx, "fold", "gamma", 1, sc);
            be = pt_fixture_f32(fx, "fold", "beta", 1, sc);
            m = pt_fixture_f32(fx, "fold", "mean", 1, sc);
            v = pt_fixture_f32(fx, "fold", "var", 1, sc);
            yt = pt_fixture_f32(fx, "fold", "y", 4, sy);
            if (!x || !wt || !b || !g || !be || !m || !v || !yt) break;
        } else {
            own = pt_alloc(nx + nw + 5 * (size_t)co);
            float *p = own;
            pt_fill_uniform(p, nx, 91, -1, 1);
            pt_fill_uniform(p + nx, nw, 92, -1.0f / sqrtf(ci * 9.0f), 1.0f / sqrtf(ci * 9.0f));
            pt_fill_uniform(p + nx + nw, (size_t)co, 93, -0.5f, 0.5f);
            float *q = p + nx + nw + co;
            random_bn(co, 94, q, q + co, q + 2 * co, q + 3 * co);
            x = p, wt = p + nx, b = with_bias ? p + nx + nw : NULL, g = q, be = q + co, m = q + 2 * co, v = q + 3 * co;
        }
        float *scale = pt_alloc(co), *shift = pt_alloc(co), *wf = pt_alloc(nw), *bf = pt_alloc(co);
        float *yconv = pt_alloc(ny), *yunf = pt_alloc(ny), *yfold_r = pt_alloc(ny), *yfold_c = pt_alloc(ny);
        pcavs_bn_fold(co, g, be, m, v, 1e-5f, scale, shift);
        memcpy(wf, wt, nw * sizeof(float));
        pcavs_bn_fold_into_conv(co, (long)ci * 9, wf, b, scale, shift, bf);
        pcavs_conv2d_desc d = {n, ci, h, w, co, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE};
        pt_check_ok(pcavs_conv2d_ref(&kc, &d, x, wt, b, yconv), "fold: unfolded conv");
        pt_check_ok(pcavs_batchnorm_ref(&kc, n, co, hw, yconv, scale, shift, PCAVS_ACT_RELU, yunf), "fold: BN");
        d.act = PCAVS_ACT_RELU;
        pt_check_ok(pcavs_conv2d_ref(&kc, &d, x, wf, bf, yfold_r), "fold: folded conv ref");
        pt_check_ok(pcavs_conv2d_cpu(&kc, &d, x, wf, bf, yfold_c), "fold: folded conv cpu");
        snprintf(what, sizeof what, "fold (%s): folded conv+relu (ref) vs conv, BN, relu",
                 with_bias ? "bias" : "no bias");
        pt_check_rel_l2(what, yfold_r, yunf, ny, 1e-5);
        snprintf(what, sizeof what, "fold (%s): folded conv+relu (cpu) vs conv, BN, relu",
                 with_bias ? "bias" : "no bias");
        pt_check_rel_l2(what, yfold_c, yunf, ny, 1e-5);
        if (yt) {
            pt_check_rel_l2("fold: folded conv+relu (cpu) vs PyTorch conv, BN, relu", yfold_c, yt, ny, 1e-5);
            pt_check_rel_l2("fold: unfolded (ref conv, BN) vs PyTorch", yunf, yt, ny, 1e-5);
        }
        pt_free(scale);
        pt_free(shift);
        pt_free(wf);
        pt_free(bf);
        pt_free(yconv);
        pt_free(yunf);
        pt_free(yfold_r);
        pt_free(yfold_c);
        pt_free(own);
    }
    {
        float t[4] = {0};
        pcavs_status st = pcavs_batchnorm_cpu(&kc, 1, 0, 4, t, t, t, PCAVS_ACT_NONE, t);
        pt_check(st == PCAVS_ERR_INVALID_ARG && strstr(pcavs_last_error(), "batchnorm"), "c=0 rejected: %s",
                 pcavs_last_error());
    }
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
