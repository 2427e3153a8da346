/* test_activation.c: ReLU, sigmoid, tanh, NoiseInjection + FusedLeakyReLU and noise injection
 * alone: pcavs_*_{ref,cpu} against PyTorch float32 (ops/activation.safetensors from
 * tests/reference/op_fixtures_misc.py, same case tables), _cpu vs _ref, _cpu in place (y == x),
 * and the argument checks. Bounds: rel L2 <= 1e-5 everywhere. Without fixtures the _cpu vs _ref
 * checks still run on seeded random inputs. */
#include <stdio.h>
#include <string.h>

#include "activation.h"
#include "safetensors.h"
#include "test_util.h"

typedef pcavs_status (*unary_fn)(const pcavs_kctx *, size_t, const float *, float *);

typedef struct {
    const char *name, *kind;
    int shape[4];
} unary_case;

/* Keep in sync with UNARY_CASES in tests/reference/op_fixtures_misc.py. */
static const unary_case UCASES[] = {
    {"relu_r_56", "relu", {1, 256, 56, 56}},      {"relu_odd", "relu", {3, 5, 7, 11}},
    {"sigmoid_se_n8", "sigmoid", {8, 256, 1, 1}}, {"sigmoid_odd", "sigmoid", {1, 1, 1, 1001}},
    {"tanh_img_n2", "tanh", {2, 3, 224, 224}},    {"tanh_odd", "tanh", {1, 3, 17, 19}},
};

typedef struct {
    const char *name;
    int n, c, h, w, bias, noise;
    float nw;
} lrelu_case;

/* Keep in sync with LRELU_CASES in tests/reference/op_fixtures_misc.py. */
static const lrelu_case LCASES[] = {
    {"g7_n1", 1, 512, 7, 7, 1, 1, 0.37f},
    {"g14_n8", 8, 512, 14, 14, 1, 1, -0.21f},
    {"g28_n2", 2, 512, 28, 28, 1, 1, 0.05f},
    {"g56_reduced", 1, 128, 56, 56, 1, 1, 0.8f},
    {"g112_reduced", 1, 64, 112, 112, 1, 1, 0.3f},
    {"g224_reduced_n2", 2, 8, 224, 224, 1, 1, 0.6f},
    {"bias_only", 2, 7, 5, 3, 1, 0, 0.0f},
    {"noise_only", 3, 5, 9, 1, 0, 1, 1.3f},
    {"plain", 1, 3, 1, 13, 0, 0, 0.0f},
};

/* Keep in sync with NOISE_CASES in tests/reference/op_fixtures_misc.py. */
static const lrelu_case NCASES[] = {
    {"g28_n2", 2, 512, 28, 28, 0, 1, 0.11f},
    {"odd", 3, 7, 5, 9, 0, 1, -0.7f},
};

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

static const float *fx_get(pcavs_st_file *f, const char *prefix, const char *cname, const char *what, int ndim,
                           const int64_t *shape) {
    char key[256];
    snprintf(key, sizeof key, "%s%s.%s", prefix, cname, what);
    const float *p = NULL;
    if (pcavs_st_get_f32(f, key, ndim, shape, &p) != PCAVS_OK) {
        pt_check(0, "fixture tensor %s: %s", key, pcavs_last_error());
        return NULL;
    }
    return p;
}

static void test_unary(const pcavs_kctx *kc, pcavs_st_file *fx) {
    char what[256];
    for (int ci = 0; ci < COUNT(UCASES); ci++) {
        const unary_case *c = &UCASES[ci];
        const size_t n = (size_t)c->shape[0] * c->shape[1] * c->shape[2] * c->shape[3];
        const int64_t sh[4] = {c->shape[0], c->shape[1], c->shape[2], c->shape[3]};
        unary_fn ref = pcavs_relu_ref, cpu = pcavs_relu_cpu;
        if (!strcmp(c->kind, "sigmoid")) ref = pcavs_sigmoid_ref, cpu = pcavs_sigmoid_cpu;
        if (!strcmp(c->kind, "tanh")) ref = pcavs_tanh_ref, cpu = pcavs_tanh_cpu;
        const float *x, *yt = NULL;
        float *own = NULL;
        if (fx) {
            x = fx_get(fx, "", c->name, "x", 4, sh);
            yt = fx_get(fx, "", c->name, "y", 4, sh);
            if (!x || !yt) continue;
        } else {
            own = pt_alloc(n);
            pt_fill_uniform(own, n, 100 + ci, -8.0f, 8.0f);
            x = own;
        }
        float *yr = pt_alloc(n), *yc = pt_alloc(n), *yi = pt_alloc(n);
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(ref(kc, n, x, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(cpu(kc, n, x, yc), what);
        memcpy(yi, x, n * sizeof(float));
        snprintf(what, sizeof what, "%s cpu in place", c->name);
        pt_check_ok(cpu(kc, n, yi, yi), what);
        snprintf(what, sizeof what, "%s %s [%zu]: cpu vs ref", c->name, c->kind, n);
        pt_check_rel_l2(what, yc, yr, n, 1e-5);
        snprintf(what, sizeof what, "%s: cpu in place vs ref", c->name);
        pt_check_rel_l2(what, yi, yr, n, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, n, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, n, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(yi);
        pt_free(own);
    }
}

/* is_noise: the noise_inject cases (no bias, no leaky ReLU); else fused_lrelu. */
static void test_lrelu(const pcavs_kctx *kc, pcavs_st_file *fx, const lrelu_case *cases, int ncases, int is_noise) {
    char what[256];
    const char *prefix = is_noise ? "noise_" : "lrelu_";
    for (int ci = 0; ci < ncases; ci++) {
        const lrelu_case *c = &cases[ci];
        const int hw = c->h * c->w;
        const size_t nx = (size_t)c->n * c->c * hw, nn = (size_t)c->n * hw;
        const int64_t sx[4] = {c->n, c->c, c->h, c->w}, sn[4] = {c->n, 1, c->h, c->w}, sb[1] = {c->c};
        const float *x, *bias = NULL, *noise = NULL, *yt = NULL;
        float *own = NULL;
        if (fx) {
            x = fx_get(fx, prefix, c->name, "x", 4, sx);
            yt = fx_get(fx, prefix, c->name, "y", 4, sx);
            if (c->noise) noise = fx_get(fx, prefix, c->name, "noise", 4, sn);
            if (c->bias) bias = fx_get(fx, prefix, c->name, "bias", 1, sb);
            if (!x || !yt || (c->noise && !noise) || (c->bias && !bias)) continue;
        } else {
            own = pt_alloc(nx + nn + (size_t)c->c);
            pt_fill_normal(own, nx + nn + (size_t)c->c, 200 + ci, 1.0f);
            x = own;
            if (c->noise) noise = own + nx;
            if (c->bias) bias = own + nx + nn;
        }
        float *yr = pt_alloc(nx), *yc = pt_alloc(nx), *yi = pt_alloc(nx);
        memcpy(yi, x, nx * sizeof(float));
        if (is_noise) {
            snprintf(what, sizeof what, "noise %s ref", c->name);
            pt_check_ok(pcavs_noise_inject_ref(kc, c->n, c->c, hw, x, noise, c->nw, yr), what);
            snprintf(what, sizeof what, "noise %s cpu", c->name);
            pt_check_ok(pcavs_noise_inject_cpu(kc, c->n, c->c, hw, x, noise, c->nw, yc), what);
            snprintf(what, sizeof what, "noise %s cpu in place", c->name);
            pt_check_ok(pcavs_noise_inject_cpu(kc, c->n, c->c, hw, yi, noise, c->nw, yi), what);
        } else {
            snprintf(what, sizeof what, "lrelu %s ref", c->name);
            pt_check_ok(pcavs_fused_lrelu_ref(kc, c->n, c->c, hw, x, bias, noise, c->nw, yr), what);
            snprintf(what, sizeof what, "lrelu %s cpu", c->name);
            pt_check_ok(pcavs_fused_lrelu_cpu(kc, c->n, c->c, hw, x, bias, noise, c->nw, yc), what);
            snprintf(what, sizeof what, "lrelu %s cpu in place", c->name);
            pt_check_ok(pcavs_fused_lrelu_cpu(kc, c->n, c->c, hw, yi, bias, noise, c->nw, yi), what);
        }
        snprintf(what, sizeof what, "%s%s [%dx%dx%dx%d]%s%s: cpu vs ref", prefix, c->name, c->n, c->c, c->h, c->w,
                 c->bias ? " bias" : "", c->noise ? " noise" : "");
        pt_check_rel_l2(what, yc, yr, nx, 1e-5);
        snprintf(what, sizeof what, "%s%s: cpu in place vs ref", prefix, c->name);
        pt_check_rel_l2(what, yi, yr, nx, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s%s: ref vs PyTorch", prefix, c->name);
            pt_check_rel_l2(what, yr, yt, nx, 1e-5);
            snprintf(what, sizeof what, "%s%s: cpu vs PyTorch", prefix, c->name);
            pt_check_rel_l2(what, yc, yt, nx, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(yi);
        pt_free(own);
    }
}

/* Hand-computed values: the formula itself, independent of PyTorch. */
static void test_known_values(const pcavs_kctx *kc) {
    const float x[4] = {-1.0f, 0.0f, 2.0f, -0.5f}, bias[1] = {0.25f}, noise[4] = {1.0f, -2.0f, 0.5f, 0.0f};
    float y[4];
    /* v = x + 0.5*noise + 0.25 = {-0.25, -0.75, 2.5, -0.25}; y = lrelu(v)*sqrt2 */
    const float want[4] = {-0.05f * 1.41421356f, -0.15f * 1.41421356f, 2.5f * 1.41421356f, -0.05f * 1.41421356f};
    pt_check_ok(pcavs_fused_lrelu_cpu(kc, 1, 1, 4, x, bias, noise, 0.5f, y), "lrelu known values cpu");
    pt_check_rel_l2("lrelu known values cpu", y, want, 4, 1e-6);
    pt_check_ok(pcavs_fused_lrelu_ref(kc, 1, 1, 4, x, bias, noise, 0.5f, y), "lrelu known values ref");
    pt_check_rel_l2("lrelu known values ref", y, want, 4, 1e-6);
    const float sx[3] = {0.0f, 100.0f, -100.0f}, swant[3] = {0.5f, 1.0f, 0.0f};
    float sy[3];
    pt_check_ok(pcavs_sigmoid_cpu(kc, 3, sx, sy), "sigmoid saturation cpu");
    pt_check_max_abs("sigmoid(0, 100, -100) cpu", sy, swant, 3, 1e-7);
    const float twant[3] = {0.0f, 1.0f, -1.0f};
    pt_check_ok(pcavs_tanh_cpu(kc, 3, sx, sy), "tanh saturation cpu");
    pt_check_max_abs("tanh(0, 100, -100) cpu", sy, twant, 3, 1e-7);
}

static void test_errors(const pcavs_kctx *kc) {
    float buf[8] = {0};
    pt_check(pcavs_relu_cpu(kc, 8, NULL, buf) == PCAVS_ERR_INVALID_ARG, "relu_cpu NULL x -> INVALID_ARG (%s)",
             pcavs_last_error());
    pt_check(pcavs_sigmoid_ref(kc, 8, buf, NULL) == PCAVS_ERR_INVALID_ARG, "sigmoid_ref NULL y -> INVALID_ARG (%s)",
             pcavs_last_error());
    pt_check(pcavs_relu_cpu(kc, 0, NULL, NULL) == PCAVS_OK, "relu_cpu count 0 is a no-op");
    pt_check(pcavs_fused_lrelu_cpu(kc, 0, 1, 8, buf, NULL, NULL, 0.0f, buf) == PCAVS_ERR_INVALID_ARG,
             "fused_lrelu_cpu n=0 -> INVALID_ARG (%s)", pcavs_last_error());
    pt_check(pcavs_noise_inject_cpu(kc, 1, 1, 8, buf, NULL, 1.0f, buf) == PCAVS_ERR_INVALID_ARG,
             "noise_inject_cpu NULL noise -> INVALID_ARG (%s)", pcavs_last_error());
    pt_check(pcavs_noise_inject_ref(kc, 1, -1, 8, buf, buf, 1.0f, buf) == PCAVS_ERR_INVALID_ARG,
             "noise_inject_ref c=-1 -> INVALID_ARG (%s)", pcavs_last_error());
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("activation", "op_fixtures_misc.py");
    test_unary(&kc, fx);
    test_lrelu(&kc, fx, LCASES, COUNT(LCASES), 0);
    test_lrelu(&kc, fx, NCASES, COUNT(NCASES), 1);
    test_known_values(&kc);
    test_errors(&kc);
    /* single-threaded path on a case large enough to be threaded otherwise */
    pcavs_kctx kc1 = pt_host_kctx(1, 1);
    test_lrelu(&kc1, NULL, LCASES + 1, 1, 0);
    pt_free_kctx(&kc1);
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
