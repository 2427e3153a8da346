/* test_bilinear.c: bilinear resize, align_corners=False (the FAN hourglass's F.upsample 3->7,
 * 7->14, 14->28, 28->56 at 256 channels, batch 1/2/8, plus odd, 1x1, downscaling, same-size and
 * 1-row cases): pcavs_bilinear_{ref,cpu} against PyTorch float32 F.interpolate
 * (ops/bilinear.safetensors from tests/reference/op_fixtures_misc.py); _cpu vs _ref (the same
 * float expression: exact); _cpu without scratch (on-the-fly indices); argument checks.
 * Bounds: rel L2 <= 1e-5 vs PyTorch (its CPU kernel orders the sums differently, docs/numerics.md §4.1). */
#include <stdio.h>
#include <string.h>

#include "bilinear.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int n, c, h, w, oh, ow;
} bl_case;

/* Keep in sync with BILINEAR_CASES in tests/reference/op_fixtures_misc.py. */
static const bl_case CASES[] = {
    {"fan3_to7", 1, 256, 3, 3, 7, 7},
    {"fan3_to7_n8", 8, 256, 3, 3, 7, 7},
    {"fan7_to14_n8", 8, 256, 7, 7, 14, 14},
    {"fan14_to28", 1, 256, 14, 14, 28, 28},
    {"fan28_to56_n2", 2, 256, 28, 28, 56, 56},
    {"odd_5x7_to_11x3", 2, 3, 5, 7, 11, 3},
    {"from_1x1", 1, 2, 1, 1, 4, 4},
    {"down_9_to_4", 1, 3, 9, 9, 4, 4},
    {"same_size", 1, 2, 4, 6, 4, 6},
    {"wide_1x5_to_3x17", 2, 2, 1, 5, 3, 17},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    pcavs_kctx kc0 = kc; /* no scratch: the on-the-fly index path */
    kc0.scratch = NULL;
    kc0.scratch_bytes = 0;
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("bilinear", "op_fixtures_misc.py");
    char what[256], key[256];
    for (int ci = 0; ci < N_CASES; ci++) {
        const bl_case *c = &CASES[ci];
        const int planes = c->n * c->c;
        const size_t nx = (size_t)planes * c->h * c->w, ny = (size_t)planes * c->oh * c->ow;
        const int64_t sx[4] = {c->n, c->c, c->h, c->w}, sy[4] = {c->n, c->c, c->oh, c->ow};
        const float *x = NULL, *yt = NULL;
        float *own = NULL;
        if (fx) {
            snprintf(key, sizeof key, "%s.x", c->name);
            int ok = pcavs_st_get_f32(fx, key, 4, sx, &x) == PCAVS_OK;
            snprintf(key, sizeof key, "%s.y", c->name);
            ok = ok && pcavs_st_get_f32(fx, key, 4, sy, &yt) == PCAVS_OK;
            if (!pt_check(ok, "fixture tensors %s.x/.y (%s)", c->name, ok ? "ok" : pcavs_last_error())) continue;
        } else {
            own = pt_alloc(nx);
            pt_fill_normal(own, nx, 700 + ci, 1.0f);
            x = own;
        }
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny), *y0 = pt_alloc(ny);
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_bilinear_ref(&kc, planes, c->h, c->w, c->oh, c->ow, x, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_bilinear_cpu(&kc, planes, c->h, c->w, c->oh, c->ow, x, yc), what);
        snprintf(what, sizeof what, "%s cpu no scratch", c->name);
        pt_check_ok(pcavs_bilinear_cpu(&kc0, planes, c->h, c->w, c->oh, c->ow, x, y0), what);
        snprintf(what, sizeof what, "%s [%dx%dx%dx%d] -> %dx%d: cpu vs ref (same expression: exact)", c->name, c->n,
                 c->c, c->h, c->w, c->oh, c->ow);
        pt_check_max_abs(what, yc, yr, ny, 0.0);
        snprintf(what, sizeof what, "%s: cpu without scratch vs ref (exact)", c->name);
        pt_check_max_abs(what, y0, yr, ny, 0.0);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, ny, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(y0);
        pt_free(own);
    }
    /* hand-computed 2 -> 4 along a row: s = 0.5*(o+0.5)-0.5 = {-0.25->0, 0.25, 0.75, 1.25 (i1 clamped)} */
    const float x2[2] = {1.0f, 3.0f}, w4[4] = {1.0f, 1.5f, 2.5f, 3.0f};
    float y4[4];
    pt_check_ok(pcavs_bilinear_cpu(&kc, 1, 1, 2, 1, 4, x2, y4), "bilinear 1x2 -> 1x4");
    pt_check_max_abs("bilinear [1, 3] -> [1, 1.5, 2.5, 3] (clamp at 0, edge index)", y4, w4, 4, 0.0);
    pt_check(pcavs_bilinear_cpu(&kc, 1, 1, 2, 0, 4, x2, y4) == PCAVS_ERR_INVALID_ARG,
             "bilinear_cpu oh=0 -> INVALID_ARG (%s)", pcavs_last_error());
    pt_check(pcavs_bilinear_ref(&kc, 1, 1, 2, 1, 4, NULL, y4) == PCAVS_ERR_INVALID_ARG,
             "bilinear_ref NULL x -> INVALID_ARG (%s)", pcavs_last_error());
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
