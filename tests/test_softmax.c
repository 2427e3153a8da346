/* test_softmax.c: softmax along the middle axis of [outer, len, inner] (A_sync's nn.Softmax(dim=2)
 * over 3 time steps, batch 1 and 8, plus a strided axis, huge logits, len 1 and a long row):
 * pcavs_softmax_{ref,cpu} against PyTorch float32 (ops/softmax.safetensors from
 * tests/reference/op_fixtures_misc.py), _cpu vs _ref, _cpu in place; rows summing to 1; argument
 * checks. Bounds: rel L2 <= 1e-5. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "safetensors.h"
#include "softmax.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int outer, len, inner;
    float scale;
} sm_case;

/* Keep in sync with SOFTMAX_CASES in tests/reference/op_fixtures_misc.py. */
static const sm_case CASES[] = {
    {"async_n1", 2560, 3, 1, 1.0f},   {"async_n8", 8 * 2560, 3, 1, 3.0f}, {"mid_axis", 5, 7, 33, 2.0f},
    {"large_logits", 4, 9, 3, 60.0f}, {"single", 6, 1, 5, 1.0f},          {"long_row", 3, 1000, 1, 4.0f},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("softmax", "op_fixtures_misc.py");
    char what[256], key[256];
    for (int ci = 0; ci < N_CASES; ci++) {
        const sm_case *c = &CASES[ci];
        const size_t n = (size_t)c->outer * c->len * c->inner;
        const int64_t sh[3] = {c->outer, c->len, c->inner};
        const float *x = NULL, *yt = NULL;
        float *own = NULL;
        if (fx) {
            snprintf(key, sizeof key, "%s.x", c->name);
            if (pcavs_st_get_f32(fx, key, 3, sh, &x) != PCAVS_OK) x = NULL;
            snprintf(key, sizeof key, "%s.y", c->name);
            if (pcavs_st_get_f32(fx, key, 3, sh, &yt) != PCAVS_OK) yt = NULL;
            if (!pt_check(x && yt, "fixture tensors %s.x/.y (%s)", c->name, x && yt ? "ok" : pcavs_last_error()))
                continue;
        } else {
            own = pt_alloc(n);
            pt_fill_normal(own, n, 300 + ci, c->scale);
            x = own;
        }
        float *yr = pt_alloc(n), *yc = pt_alloc(n), *yi = pt_alloc(n);
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_softmax_ref(&kc, c->outer, c->len, c->inner, x, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_softmax_cpu(&kc, c->outer, c->len, c->inner, x, yc), what);
        memcpy(yi, x, n * sizeof(float));
        snprintf(what, sizeof what, "%s cpu in place", c->name);
        pt_check_ok(pcavs_softmax_cpu(&kc, c->outer, c->len, c->inner, yi, yi), what);
        snprintf(what, sizeof what, "%s [%d,%d,%d]: cpu vs ref", c->name, c->outer, c->len, c->inner);
        pt_check_rel_l2(what, yc, yr, n, 1e-5);
        snprintf(what, sizeof what, "%s: cpu in place vs ref", c->name);
        pt_check_rel_l2(what, yi, yr, n, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, n, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, n, 1e-5);
        }
        /* every softmax row sums to 1 */
        double worst = 0.0;
        for (int o = 0; o < c->outer; o++)
            for (int i = 0; i < c->inner; i++) {
                double s = 0.0;
                for (int l = 0; l < c->len; l++) s += yc[((size_t)o * c->len + l) * c->inner + i];
                if (fabs(s - 1.0) > worst || s != s) worst = s != s ? INFINITY : fabs(s - 1.0);
            }
        pt_check(worst <= 1e-5, "%s: cpu rows sum to 1: worst |sum - 1| %.3e <= 1e-5", c->name, worst);
        pt_free(yr);
        pt_free(yc);
        pt_free(yi);
        pt_free(own);
    }
    /* huge logits: no overflow (stable max subtraction) */
    const float big[3] = {1000.0f, 999.0f, -1000.0f};
    float yb[3];
    pt_check_ok(pcavs_softmax_cpu(&kc, 1, 3, 1, big, yb), "softmax_cpu huge logits");
    const float wb[3] = {0.7310585786f, 0.2689414214f, 0.0f};
    pt_check_max_abs("softmax_cpu(1000, 999, -1000)", yb, wb, 3, 1e-6);
    pt_check(pcavs_softmax_cpu(&kc, 0, 3, 1, big, yb) == PCAVS_ERR_INVALID_ARG,
             "softmax_cpu outer=0 -> INVALID_ARG (%s)", pcavs_last_error());
    pt_check(pcavs_softmax_ref(&kc, 1, 3, 1, NULL, yb) == PCAVS_ERR_INVALID_ARG,
             "softmax_ref NULL x -> INVALID_ARG (%s)", pcavs_last_error());
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
