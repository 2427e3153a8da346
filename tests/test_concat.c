/* test_concat.c: channel concatenation (torch.cat(dim=1)): the FAN ConvBlock's cat(out1, out2,
 * out3) (128+64+64 and 64+32+32), the style vector cat(id 2048, pose 512), odd sizes and a single
 * input: pcavs_concat_{ref,cpu} against PyTorch (ops/concat.safetensors from
 * tests/reference/op_fixtures_misc.py), _cpu vs _ref (a copy: exact, bound 0), argument checks. */
#include <stdio.h>
#include <string.h>

#include "concat.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int n, count, ch[4], hw;
} cat_case;

/* Keep in sync with CONCAT_CASES in tests/reference/op_fixtures_misc.py. */
static const cat_case CASES[] = {
    {"convblock_56", 1, 3, {128, 64, 64}, 56 * 56},
    {"convblock_fan_stem_n8", 8, 3, {64, 32, 32}, 28 * 28},
    {"convblock_7_n8", 8, 3, {128, 64, 64}, 7 * 7},
    {"style_vector_n8", 8, 2, {2048, 512}, 1},
    {"odd", 3, 4, {1, 5, 2, 7}, 13},
    {"single", 2, 1, {6}, 4},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("concat", "op_fixtures_misc.py");
    char what[256], key[256];
    for (int ci = 0; ci < N_CASES; ci++) {
        const cat_case *c = &CASES[ci];
        int ctot = 0;
        for (int i = 0; i < c->count; i++) ctot += c->ch[i];
        const size_t ny = (size_t)c->n * ctot * c->hw;
        const float *xs[4] = {NULL, NULL, NULL, NULL}, *yt = NULL;
        float *own = NULL;
        int ok = 1;
        if (fx) {
            for (int i = 0; i < c->count; i++) {
                const int64_t sh[3] = {c->n, c->ch[i], c->hw};
                snprintf(key, sizeof key, "%s.x%d", c->name, i);
                if (pcavs_st_get_f32(fx, key, 3, sh, &xs[i]) != PCAVS_OK) ok = 0;
            }
            const int64_t sy[3] = {c->n, ctot, c->hw};
            snprintf(key, sizeof key, "%s.y", c->name);
            if (pcavs_st_get_f32(fx, key, 3, sy, &yt) != PCAVS_OK) ok = 0;
            if (!pt_check(ok, "fixture tensors of %s (%s)", c->name, ok ? "ok" : pcavs_last_error())) continue;
        } else {
            own = pt_alloc(ny);
            pt_fill_normal(own, ny, 400 + ci, 1.0f);
            size_t off = 0;
            for (int i = 0; i < c->count; i++) {
                xs[i] = own + off;
                off += (size_t)c->n * c->ch[i] * c->hw;
            }
        }
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_concat_ref(&kc, c->n, c->count, xs, c->ch, c->hw, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_concat_cpu(&kc, c->n, c->count, xs, c->ch, c->hw, yc), what);
        snprintf(what, sizeof what, "%s [n %d, %d inputs, %d ch, hw %d]: cpu vs ref (exact copy)", c->name, c->n,
                 c->count, ctot, c->hw);
        pt_check_max_abs(what, yc, yr, ny, 0.0);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch (exact copy)", c->name);
            pt_check_max_abs(what, yc, yt, ny, 0.0);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(own);
    }
    float b[4] = {0};
    const float *xs2[2] = {b, NULL};
    const int ch2[2] = {1, 1};
    pt_check(pcavs_concat_cpu(&kc, 1, 2, xs2, ch2, 2, b) == PCAVS_ERR_INVALID_ARG,
             "concat_cpu NULL input 1 -> INVALID_ARG (%s)", pcavs_last_error());
    const int chbad[2] = {1, 0};
    xs2[1] = b;
    pt_check(pcavs_concat_ref(&kc, 1, 2, xs2, chbad, 2, b) == PCAVS_ERR_INVALID_ARG,
             "concat_ref channels 0 -> INVALID_ARG (%s)", pcavs_last_error());
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
