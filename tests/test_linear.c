/* test_linear.c: pcavs_linear_cpu (with the machine's threads, and with 3, which split the outputs) against
 * _ref (rel L2 <= 1e-5), and both against PyTorch F.linear fixtures (ops/linear.safetensors from
 * tests/reference/op_fixtures_conv.py, same case table): every Linear / Conv1d(k=1) size of E, A_sync and
 * the generator's modulation, rows 1..32, with and without bias and ReLU. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linear.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int rows, in, out, bias, relu;
} lin_case;

/* Keep in sync with LINEAR_CASES in tests/reference/op_fixtures_conv.py. */
static const lin_case CASES[] = {
    {"e_headpose_512", 1, 512, 512, 1, 1},
    {"e_headpose_512_r8", 8, 512, 512, 1, 0},
    {"e_pose12", 8, 512, 12, 1, 0},
    {"e_mouth500", 32, 512, 500, 1, 0},
    {"e_fc784", 4, 784, 512, 1, 0},
    {"a_att_2560_128", 3, 2560, 128, 1, 1},
    {"a_att_128_2560", 3, 128, 2560, 1, 0},
    {"a_fc_2560_512", 1, 2560, 512, 1, 0},
    {"a_fc_2560_512_r32", 32, 2560, 512, 1, 0},
    {"a_se_256_32", 1, 256, 32, 1, 1},
    {"g_mod_2560_512", 1, 2560, 512, 1, 0},
    {"g_mod_2560_128_r8", 8, 2560, 128, 1, 0},
    {"odd_nobias_relu", 5, 37, 23, 0, 1},
    {"one_by_one", 1, 1, 1, 1, 0},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

int main(void) {
    pcavs_kctx kc = pt_host_kctx(1, 0);
    pcavs_kctx kc3 = pt_host_kctx(1, 3); /* three threads split the outputs (at 16-row boundaries) on any machine */
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("linear", "op_fixtures_conv.py");
    for (int ci = 0; ci < N_CASES; ci++) {
        const lin_case *c = &CASES[ci];
        const pcavs_act act = c->relu ? PCAVS_ACT_RELU : PCAVS_ACT_NONE;
        const size_t nx = (size_t)c->rows * c->in, nw = (size_t)c->out * c->in, ny = (size_t)c->rows * c->out;
        const int64_t sx[2] = {c->rows, c->in}, sw[2] = {c->out, c->in}, sb[1] = {c->out}, sy[2] = {c->rows, c->out};
        const float *x = NULL, *w = NULL, *b = NULL, *yt = NULL;
        float *xg = NULL, *wg = NULL, *bg = NULL;
        if (fx) {
            x = pt_fixture_f32(fx, c->name, "x", 2, sx);
            w = pt_fixture_f32(fx, c->name, "w", 2, sw);
            b = c->bias ? pt_fixture_f32(fx, c->name, "b", 1, sb) : NULL;
            yt = pt_fixture_f32(fx, c->name, "y", 2, sy);
            if (!x || !w || !yt || (c->bias && !b)) continue;
        } else {
            xg = pt_alloc(nx);
            wg = pt_alloc(nw);
            bg = pt_alloc((size_t)c->out);
            pt_fill_uniform(xg, nx, 10 + ci, -1.0f, 1.0f);
            const float a = 1.0f / sqrtf((float)c->in);
            pt_fill_uniform(wg, nw, 20 + ci, -a, a);
            pt_fill_uniform(bg, (size_t)c->out, 30 + ci, -0.5f, 0.5f);
            x = xg, w = wg, b = c->bias ? bg : NULL;
        }
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        char what[256];
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_linear_ref(&kc, c->rows, c->in, c->out, x, w, b, act, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_linear_cpu(&kc, c->rows, c->in, c->out, x, w, b, act, yc), what);
        snprintf(what, sizeof what, "%s [%d x %d] -> %d%s%s: cpu vs ref", c->name, c->rows, c->in, c->out,
                 c->bias ? " +bias" : "", c->relu ? " relu" : "");
        pt_check_rel_l2(what, yc, yr, ny, 1e-5);
        snprintf(what, sizeof what, "%s cpu, 3 threads", c->name);
        pt_check_ok(pcavs_linear_cpu(&kc3, c->rows, c->in, c->out, x, w, b, act, yc), what);
        snprintf(what, sizeof what, "%s [%d x %d] -> %d: cpu with 3 threads vs ref", c->name, c->rows, c->in, c->out);
        pt_check_rel_l2(what, yc, yr, ny, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, ny, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(xg);
        pt_free(wg);
        pt_free(bg);
    }
    {
        float v[4] = {0};
        pcavs_status st = pcavs_linear_cpu(&kc, 0, 4, 4, v, v, NULL, PCAVS_ACT_NONE, v);
        pt_check(st == PCAVS_ERR_INVALID_ARG && strstr(pcavs_last_error(), "linear"), "rows=0 rejected: %s",
                 pcavs_last_error());
        st = pcavs_linear_ref(&kc, 1, 4, 4, NULL, v, NULL, PCAVS_ACT_NONE, v);
        pt_check(st == PCAVS_ERR_INVALID_ARG, "NULL x rejected: %s", pcavs_last_error());
    }
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    pt_free_kctx(&kc3);
    return pt_finish();
}
