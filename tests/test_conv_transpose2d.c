/* test_conv_transpose2d.c: pcavs_conv_transpose2d_cpu against _ref (rel L2 <= 1e-5) and both
 * against PyTorch F.conv_transpose2d fixtures (ops/conv_transpose2d.safetensors from
 * tests/reference/op_fixtures_conv.py, same case table): the generator's 3x3 stride-2 pad-0
 * upsampling convs at real channel counts (spatial size reduced at 112/224 to keep the
 * double-precision _ref fast), general stride/pad/kernel cases, tiling under a small scratch. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conv_transpose2d.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int n, c_in, h, w, c_out, k, stride, pad, bias;
} ct_case;

/* Keep in sync with CONVT_CASES in tests/reference/op_fixtures_conv.py. */
static const ct_case CASES[] = {
    {"g_up14_n1", 1, 512, 7, 7, 512, 3, 2, 0, 0},
    {"g_up14_n8", 8, 512, 7, 7, 512, 3, 2, 0, 0},
    {"g_up28_n2", 2, 512, 14, 14, 512, 3, 2, 0, 0},
    {"g_up112_reduced", 1, 512, 12, 12, 256, 3, 2, 0, 0},
    {"g_up224_reduced_n2", 2, 256, 16, 16, 128, 3, 2, 0, 0},
    {"odd_bias", 3, 13, 5, 7, 11, 3, 2, 0, 1},
    {"k4_s2_p1", 2, 8, 6, 5, 6, 4, 2, 1, 1},
    {"k3_s1_p1", 2, 9, 7, 6, 5, 3, 1, 1, 0},
    {"k5_s3_p2", 1, 6, 4, 5, 7, 5, 3, 2, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

int main(void) {
    pcavs_kctx kc = pt_host_kctx(64, 0);
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("conv_transpose2d", "op_fixtures_conv.py");
    for (int ci = 0; ci < N_CASES; ci++) {
        const ct_case *c = &CASES[ci];
        pcavs_conv_transpose2d_desc d = {c->n, c->c_in, c->h, c->w, c->c_out, c->k, c->k, c->stride, c->pad};
        const int oh = pcavs_conv_transpose2d_out_h(&d), ow = pcavs_conv_transpose2d_out_w(&d);
        const size_t nx = (size_t)c->n * c->c_in * c->h * c->w, nw = (size_t)c->c_in * c->c_out * c->k * c->k;
        const size_t ny = (size_t)c->n * c->c_out * oh * ow;
        if (pt_quick_skip((double)nx * c->c_out * c->k * c->k, c->name)) continue; /* each input scattered k*k times */
        const int64_t sx[4] = {c->n, c->c_in, c->h, c->w}, sw[4] = {c->c_in, c->c_out, c->k, c->k}, sb[1] = {c->c_out},
                      sy[4] = {c->n, c->c_out, oh, ow};
        const float *x = NULL, *w = NULL, *b = NULL, *yt = NULL;
        float *xg = NULL, *wg = NULL, *bg = NULL;
        if (fx) {
            x = pt_fixture_f32(fx, c->name, "x", 4, sx);
            w = pt_fixture_f32(fx, c->name, "w", 4, sw);
            b = c->bias ? pt_fixture_f32(fx, c->name, "b", 1, sb) : NULL;
            yt = pt_fixture_f32(fx, c->name, "y", 4, sy);
            if (!x || !w || !yt || (c->bias && !b)) continue;
        } else {
            xg = pt_alloc(nx);
            wg = pt_alloc(nw);
            bg = pt_alloc((size_t)c->c_out);
            pt_fill_uniform(xg, nx, 100 + ci, -1.0f, 1.0f);
            const float a = 1.0f / sqrtf((float)(c->c_in * c->k * c->k));
            pt_fill_uniform(wg, nw, 200 + ci, -a, a);
            pt_fill_uniform(bg, (size_t)c->c_out, 300 + ci, -0.5f, 0.5f);
            x = xg, w = wg, b = c->bias ? bg : NULL;
        }
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny), *ys = pt_alloc(ny);
        char what[256];
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_conv_transpose2d_ref(&kc, &d, x, w, b, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_conv_transpose2d_cpu(&kc, &d, x, w, b, yc), what);
        snprintf(what, sizeof what, "%s [%dx%dx%dx%d]->%d k%d s%d p%d: cpu vs ref", c->name, c->n, c->c_in, c->h, c->w,
                 c->c_out, c->k, c->stride, c->pad);
        pt_check_rel_l2(what, yc, yr, ny, 1e-5);
        /* small scratch: many column tiles, tiles crossing image boundaries; one thread */
        pcavs_kctx small = kc;
        small.scratch_bytes = (size_t)(c->c_in + c->c_out * c->k * c->k) * 4 * 37; /* 37 columns per tile */
        small.n_threads = 1 + ci % 2;
        snprintf(what, sizeof what, "%s cpu (37-column tiles, %d thread(s))", c->name, small.n_threads);
        if (pt_check_ok(pcavs_conv_transpose2d_cpu(&small, &d, x, w, b, ys), what)) {
            snprintf(what, sizeof what, "%s: cpu with 37-column tiles vs ref", c->name);
            pt_check_rel_l2(what, ys, yr, ny, 1e-5);
        }
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, ny, 1e-5);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(ys);
        pt_free(xg);
        pt_free(wg);
        pt_free(bg);
    }
    /* errors: tiny scratch -> OOM; bad descriptor -> INVALID_ARG */
    {
        pcavs_conv_transpose2d_desc d = {1, 512, 7, 7, 512, 3, 3, 2, 0};
        float *x = pt_alloc(512 * 49), *w = pt_alloc(512 * 512 * 9), *y = pt_alloc(512 * 15 * 15);
        pt_fill_uniform(x, 512 * 49, 5, -1, 1);
        pt_fill_uniform(w, 512 * 512 * 9, 6, -1, 1);
        pcavs_kctx tiny = kc;
        tiny.scratch_bytes = 4096;
        pcavs_status st = pcavs_conv_transpose2d_cpu(&tiny, &d, x, w, NULL, y);
        pt_check(st == PCAVS_ERR_OOM, "4 KiB scratch -> PCAVS_ERR_OOM (got %d: %s)", (int)st, pcavs_last_error());
        pcavs_conv_transpose2d_desc bad = {1, 4, 3, 3, 4, 3, 3, 0, 0};
        st = pcavs_conv_transpose2d_cpu(&kc, &bad, x, w, NULL, y);
        pt_check(st == PCAVS_ERR_INVALID_ARG, "stride 0 rejected (got %d: %s)", (int)st, pcavs_last_error());
        pt_free(x);
        pt_free(w);
        pt_free(y);
    }
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
