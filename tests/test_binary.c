/* test_binary.c: broadcasting add / mul with optional fused ReLU (ResNeXt residual + ReLU,
 * hourglass adds, SE channel scaling [n,c,h,w] * [n,c,1,1] at 80x20 .. 10x3, ToRGB skip adds,
 * A_sync's attention weighting, broadcast along every axis, both operands broadcast):
 * pcavs_{add,mul}_{ref,cpu} against PyTorch float32 (ops/binary.safetensors from
 * tests/reference/op_fixtures_misc.py), _cpu vs _ref (exact: one rounding each), _cpu in place
 * (y == a) where a has the output shape, pcavs_broadcast_shape and its failures. */
#include <stdio.h>
#include <string.h>

#include "binary.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int mul, relu;
    int a[4], b[4];
} bin_case;

/* Keep in sync with BINARY_CASES in tests/reference/op_fixtures_misc.py. */
static const bin_case CASES[] = {
    {"resnext_residual_relu", 0, 1, {1, 256, 56, 56}, {1, 256, 56, 56}},
    {"hourglass_up_add_n8", 0, 0, {8, 256, 14, 14}, {8, 256, 14, 14}},
    {"se_scale_80x20", 1, 0, {1, 32, 80, 20}, {1, 32, 1, 1}},
    {"se_scale_40x10_n8", 1, 0, {8, 64, 40, 10}, {8, 64, 1, 1}},
    {"se_scale_10x3_n8", 1, 0, {8, 256, 10, 3}, {8, 256, 1, 1}},
    {"torgb_skip_n2", 0, 0, {2, 3, 224, 224}, {2, 3, 224, 224}},
    {"async_weighted_n8", 1, 0, {8, 2560, 3, 1}, {8, 2560, 3, 1}},
    {"bc_n", 0, 0, {2, 3, 5, 7}, {1, 3, 5, 7}},
    {"bc_c_relu", 0, 1, {2, 3, 5, 7}, {2, 1, 5, 7}},
    {"bc_h", 1, 0, {2, 3, 5, 7}, {2, 3, 1, 7}},
    {"bc_w_relu", 1, 1, {2, 3, 5, 7}, {2, 3, 5, 1}},
    {"bc_a_scalar", 1, 0, {1, 1, 1, 1}, {2, 3, 5, 7}},
    {"bc_both", 0, 0, {1, 3, 1, 7}, {2, 1, 5, 1}},
    {"bc_a_nc_b_hw", 1, 1, {2, 3, 1, 1}, {1, 1, 5, 7}},
    {"bc_bias_c", 0, 0, {4, 9, 6, 5}, {1, 9, 1, 1}},
    {"flat_odd", 0, 1, {1, 1, 1, 1001}, {1, 1, 1, 1001}},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

static size_t numel(const int s[4]) { return (size_t)s[0] * s[1] * s[2] * s[3]; }

static void run_cases(const pcavs_kctx *kc, pcavs_st_file *fx, const char *tag) {
    char what[256], key[256];
    for (int ci = 0; ci < N_CASES; ci++) {
        const bin_case *c = &CASES[ci];
        int o[4];
        if (!pt_check_ok(pcavs_broadcast_shape(c->a, c->b, o), c->name)) continue;
        const size_t na = numel(c->a), nb = numel(c->b), ny = numel(o);
        const int64_t sa[4] = {c->a[0], c->a[1], c->a[2], c->a[3]}, sb[4] = {c->b[0], c->b[1], c->b[2], c->b[3]},
                      so[4] = {o[0], o[1], o[2], o[3]};
        const float *a = NULL, *b = NULL, *yt = NULL;
        float *own = NULL;
        if (fx) {
            snprintf(key, sizeof key, "%s.a", c->name);
            int ok = pcavs_st_get_f32(fx, key, 4, sa, &a) == PCAVS_OK;
            snprintf(key, sizeof key, "%s.b", c->name);
            ok = ok && pcavs_st_get_f32(fx, key, 4, sb, &b) == PCAVS_OK;
            snprintf(key, sizeof key, "%s.y", c->name);
            ok = ok && pcavs_st_get_f32(fx, key, 4, so, &yt) == PCAVS_OK;
            if (!pt_check(ok, "fixture tensors of %s (%s)", c->name, ok ? "ok" : pcavs_last_error())) continue;
        } else {
            own = pt_alloc(na + nb);
            pt_fill_normal(own, na + nb, 800 + ci, 1.0f);
            a = own, b = own + na;
        }
        const pcavs_act act = c->relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        pcavs_status (*ref)(const pcavs_kctx *, const int[4], const float *, const int[4], const float *, pcavs_act,
                            float *) = c->mul ? pcavs_mul_ref : pcavs_add_ref;
        pcavs_status (*cpu)(const pcavs_kctx *, const int[4], const float *, const int[4], const float *, pcavs_act,
                            float *) = c->mul ? pcavs_mul_cpu : pcavs_add_cpu;
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        snprintf(what, sizeof what, "%s%s ref", c->name, tag);
        pt_check_ok(ref(kc, c->a, a, c->b, b, act, yr), what);
        snprintf(what, sizeof what, "%s%s cpu", c->name, tag);
        pt_check_ok(cpu(kc, c->a, a, c->b, b, act, yc), what);
        snprintf(what, sizeof what, "%s%s %s [%d,%d,%d,%d] %s [%d,%d,%d,%d]%s: cpu vs ref (exact)", c->name, tag,
                 c->mul ? "mul" : "add", c->a[0], c->a[1], c->a[2], c->a[3], c->mul ? "*" : "+", c->b[0], c->b[1],
                 c->b[2], c->b[3], c->relu ? " relu" : "");
        pt_check_max_abs(what, yc, yr, ny, 0.0);
        if (na == ny) { /* in place: y == a */
            float *yi = pt_alloc(ny);
            memcpy(yi, a, ny * sizeof(float));
            snprintf(what, sizeof what, "%s%s cpu in place", c->name, tag);
            pt_check_ok(cpu(kc, c->a, yi, c->b, b, act, yi), what);
            snprintf(what, sizeof what, "%s%s: cpu in place (y == a) vs ref (exact)", c->name, tag);
            pt_check_max_abs(what, yi, yr, ny, 0.0);
            pt_free(yi);
        }
        if (yt) {
            snprintf(what, sizeof what, "%s%s: ref vs PyTorch", c->name, tag);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s%s: cpu vs PyTorch", c->name, tag);
            pt_check_rel_l2(what, yc, yt, ny, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(own);
    }
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("binary", "op_fixtures_misc.py");
    run_cases(&kc, fx, "");
    pcavs_kctx kc1 = pt_host_kctx(1, 1); /* single-threaded path */
    run_cases(&kc1, NULL, " (1 thread)");
    pt_free_kctx(&kc1);

    const int s1[4] = {2, 3, 5, 7}, s2[4] = {1, 3, 1, 7}, s3[4] = {2, 4, 5, 7}, s0[4] = {2, 0, 5, 7};
    int o[4];
    pt_check(pcavs_broadcast_shape(s1, s2, o) == PCAVS_OK && o[0] == 2 && o[1] == 3 && o[2] == 5 && o[3] == 7,
             "broadcast [2,3,5,7] with [1,3,1,7] -> [%d,%d,%d,%d]", o[0], o[1], o[2], o[3]);
    pt_check(pcavs_broadcast_shape(s1, s3, o) == PCAVS_ERR_SHAPE, "broadcast 3 vs 4 -> SHAPE (%s)", pcavs_last_error());
    pt_check(pcavs_broadcast_shape(s1, s0, o) == PCAVS_ERR_SHAPE, "broadcast with a 0 dim -> SHAPE (%s)",
             pcavs_last_error());
    float buf[4] = {0};
    const int t1[4] = {1, 1, 1, 4}, t2[4] = {1, 1, 1, 3};
    pt_check(pcavs_add_cpu(&kc, t1, buf, t2, buf, PCAVS_ACT_NONE, buf) == PCAVS_ERR_SHAPE,
             "add_cpu [..,4] + [..,3] -> SHAPE (%s)", pcavs_last_error());
    pt_check(pcavs_mul_ref(&kc, t1, buf, t1, NULL, PCAVS_ACT_NONE, buf) == PCAVS_ERR_INVALID_ARG,
             "mul_ref NULL b -> INVALID_ARG (%s)", pcavs_last_error());
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
