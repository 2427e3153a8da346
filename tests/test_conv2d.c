/* test_conv2d.c: pcavs_conv2d_cpu against pcavs_conv2d_ref (rel L2 <= 1e-5) and both against
 * PyTorch F.conv2d fixtures (ops/conv2d.safetensors from tests/reference/op_fixtures_conv.py,
 * same case names and shapes as the table below), on every conv shape PC-AVS uses plus awkward
 * ones; also the tiling path under a small scratch, the OOM error and descriptor checks; the bf16 mode
 * (weight_bf16) where the CPU has a bf16 unit, and the loader's advice on where to use it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conv2d.h"
#include "conv3x3_bf16.h"
#include "gemm_bf16.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
    const char *name;
    int n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, groups, bias, relu;
} conv_case;

/* Keep in sync with CONV2D_CASES in tests/reference/op_fixtures_conv.py. Shapes marked
 * "reduced" keep the real channel counts at a smaller spatial size so the double-precision
 * _ref stays within the test's time budget (the kernel paths taken are the same). */
static const conv_case CASES[] = {
    /* V: ResNeXt50-32x4d */
    {"v_stem", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 0, 0},
    {"v_l1_conv1", 1, 64, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, 0, 0},
    {"v_l1_conv2_g32", 1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 1, 32, 0, 0},
    {"v_l1_conv3", 1, 128, 56, 56, 256, 1, 1, 1, 1, 0, 0, 1, 0, 0},
    {"v_l2_conv2_g32_s2", 1, 256, 56, 56, 256, 3, 3, 2, 2, 1, 1, 32, 0, 0},
    {"v_l2_down_s2", 1, 256, 56, 56, 512, 1, 1, 2, 2, 0, 0, 1, 0, 0},
    {"v_l3_conv2_g32", 1, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 32, 0, 0},
    {"v_l4_conv2_g32_s2", 1, 1024, 14, 14, 1024, 3, 3, 2, 2, 1, 1, 32, 0, 0},
    {"v_l4_conv3", 1, 1024, 7, 7, 2048, 1, 1, 1, 1, 0, 0, 1, 0, 0},
    {"v_conv1x1_bias", 1, 2048, 7, 7, 512, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    /* E: FAN */
    {"e_stem_bias", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 0},
    {"e_cb_conv1_reduced", 1, 64, 40, 40, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"e_cb_conv2_reduced", 1, 128, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"e_cb_conv3", 1, 32, 56, 56, 32, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"e_down_1x1", 1, 64, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, 0, 0},
    {"e_l0_1x1_bias", 1, 256, 56, 56, 68, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    {"e_conv6_s2", 1, 68, 56, 56, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0},
    /* A_sync: ResNetSE */
    {"a_conv1_1ch", 1, 1, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1},
    {"a_l1_conv", 1, 32, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1},
    {"a_l2_conv_s2", 1, 32, 80, 20, 64, 3, 3, 2, 2, 1, 1, 1, 0, 1},
    {"a_l2_down_s2", 1, 32, 80, 20, 64, 1, 1, 2, 2, 0, 0, 1, 0, 0},
    {"a_l4_conv_s2", 1, 128, 20, 5, 256, 3, 3, 2, 2, 1, 1, 1, 0, 0},
    /* G: shared-weight modulated 3x3 convs (batched form), real channel counts */
    {"g7_n1", 1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g7_n8", 8, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g14_n2", 2, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g112_512to256_reduced", 1, 512, 24, 24, 256, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g224_256to128_reduced_n2", 2, 256, 32, 32, 128, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g224_128to128_reduced_n2", 2, 128, 40, 40, 128, 3, 3, 1, 1, 1, 1, 1, 0, 0},
    {"g_torgb_1x1", 2, 128, 28, 28, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0},
    /* awkward */
    {"odd_s2_bias_relu", 3, 17, 13, 11, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1},
    {"k5x3_relu", 2, 6, 15, 9, 10, 5, 3, 1, 1, 2, 1, 1, 0, 1},
    {"g4_small", 2, 12, 9, 10, 20, 3, 3, 1, 1, 1, 1, 4, 1, 0},
    {"g2_big_k", 2, 40, 9, 9, 38, 3, 3, 1, 1, 1, 1, 2, 1, 0},
    {"1x1_s2_odd", 2, 24, 15, 15, 40, 1, 1, 2, 2, 0, 0, 1, 0, 0},
    {"1x1_bias_relu_odd", 3, 37, 11, 7, 45, 1, 1, 1, 1, 0, 0, 1, 1, 1},
    {"s2x1_pad0x2", 2, 20, 11, 8, 24, 3, 4, 2, 1, 0, 2, 1, 1, 0},
    {"big_pad", 1, 9, 5, 6, 7, 3, 3, 1, 2, 3, 2, 1, 1, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

static pcavs_conv2d_desc desc_of(const conv_case *c) {
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
    return d;
}

/* The bf16 mode of conv2d_cpu (d->weight_bf16 from pcavs_conv3x3_bf16_weight; E's 3x3 convs where the loader's
 * pcavs_conv2d_cpu_prefers_bf16 says so) against the float32 _ref, with bias and ReLU fused: the GEMM's operands
 * rounded to bf16 (~2.3e-3 rel L2 on a GEMM, kernels/gemm_bf16.h), so test_modconv's bounds: 4e-3 rel L2,
 * 4e-2 max abs on ~unit outputs. Runs whatever the advice, wherever the CPU has a bf16 unit. */
static void bf16_case(pcavs_kctx *kc, int n, int c_in, int h, int w, int c_out, uint64_t seed) {
    char what[160];
    snprintf(what, sizeof what, "conv2d bf16 [n%d %d->%d %dx%d bias relu]", n, c_in, c_out, h, w);
    if (pcavs_bf16_unit_detect() == PCAVS_BF16_NONE) {
        pt_skip("%s: this CPU has no bf16 unit (AVX512-BF16 or AMX)", what);
        return;
    }
    if (pt_quick_skip(9.0 * n * c_in * c_out * h * w, what)) return;
    pcavs_conv2d_desc d = {n, c_in, h, w, c_out, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_RELU};
    const size_t nx = (size_t)n * c_in * h * w, nw = (size_t)c_out * c_in * 9, ny = (size_t)n * c_out * h * w;
    float *x = pt_alloc(nx), *wt = pt_alloc(nw), *b = pt_alloc((size_t)c_out), *yr = pt_alloc(ny), *yc = pt_alloc(ny);
    uint16_t *wb = (uint16_t *)pt_alloc(pcavs_bf16_a_elems(c_out, 9 * c_in) / 2 + 1);
    pt_fill_normal(x, nx, seed, 1.0f);
    pt_fill_normal(wt, nw, seed + 1, (float)(1.0 / sqrt(9.0 * c_in)));
    pt_fill_normal(b, (size_t)c_out, seed + 2, 0.5f);
    pcavs_conv3x3_bf16_weight(c_out, c_in, wt, wb);
    pcavs_conv2d_desc db = d;
    db.weight_bf16 = wb;
    if (pt_check_ok(pcavs_conv2d_ref(kc, &d, x, wt, b, yr), what) &&
        pt_check_ok(pcavs_conv2d_cpu(kc, &db, x, wt, b, yc), what)) {
        pt_check_rel_l2(what, yc, yr, ny, 4e-3);
        pt_check_max_abs(what, yc, yr, ny, 4e-2);
    }
    pt_free(x), pt_free(wt), pt_free(b), pt_free(yr), pt_free(yc), pt_free(wb);
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(64, 0);
    bf16_case(&kc, 1, 256, 16, 16, 128, 501); /* FAN-like */
    bf16_case(&kc, 2, 64, 13, 9, 32, 503);    /* odd sizes, a batch */
    { /* the loader's advice: AMX always; AVX512-BF16 alone only below Winograd's 32 channels; no unit never */
        const pcavs_bf16_unit u = pcavs_bf16_unit_detect();
        const int big = pcavs_conv2d_cpu_prefers_bf16(256, 128), thin = pcavs_conv2d_cpu_prefers_bf16(16, 64);
        const int want_big = u == PCAVS_BF16_AMX, want_thin = u != PCAVS_BF16_NONE;
        pt_check(big == want_big && thin == want_thin,
                 "bf16 advice with unit %s: 256->128 %d (want %d), 16->64 %d (want %d)", pcavs_bf16_unit_name(u), big,
                 want_big, thin, want_thin);
    }
    pcavs_st_file *fx = NULL;
    fx = pt_open_op_fixtures("conv2d", "op_fixtures_conv.py");

    for (int ci = 0; ci < N_CASES; ci++) {
        const conv_case *c = &CASES[ci];
        pcavs_conv2d_desc d = desc_of(c);
        const int oh = pcavs_conv2d_out_h(&d), ow = pcavs_conv2d_out_w(&d);
        const size_t nx = (size_t)c->n * c->c_in * c->h * c->w;
        const size_t nw = (size_t)c->c_out * (c->c_in / c->groups) * c->kh * c->kw;
        const size_t ny = (size_t)c->n * c->c_out * oh * ow;
        if (pt_quick_skip((double)ny * (c->c_in / c->groups) * c->kh * c->kw, c->name)) continue;
        const int64_t sx[4] = {c->n, c->c_in, c->h, c->w}, sw[4] = {c->c_out, c->c_in / c->groups, c->kh, c->kw},
                      sb[1] = {c->c_out}, sy[4] = {c->n, c->c_out, oh, ow};
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
            pt_fill_uniform(xg, nx, 1000 + ci, -1.0f, 1.0f);
            const float a = 1.0f / sqrtf((float)((c->c_in / c->groups) * c->kh * c->kw));
            pt_fill_uniform(wg, nw, 2000 + ci, -a, a);
            pt_fill_uniform(bg, (size_t)c->c_out, 3000 + ci, -0.5f, 0.5f);
            x = xg, w = wg, b = c->bias ? bg : NULL;
        }
        float *yr = pt_alloc(ny), *yc = pt_alloc(ny);
        char what[320];
        snprintf(what, sizeof what, "%s ref", c->name);
        pt_check_ok(pcavs_conv2d_ref(&kc, &d, x, w, b, yr), what);
        snprintf(what, sizeof what, "%s cpu", c->name);
        pt_check_ok(pcavs_conv2d_cpu(&kc, &d, x, w, b, yc), what);
        snprintf(what, sizeof what, "%s [%dx%dx%dx%d]->%d k%dx%d s%dx%d g%d: cpu vs ref", c->name, c->n, c->c_in, c->h,
                 c->w, c->c_out, c->kh, c->kw, c->sh, c->sw, c->groups);
        pt_check_rel_l2(what, yc, yr, ny, 1e-5);
        if (yt) {
            snprintf(what, sizeof what, "%s: ref vs PyTorch", c->name);
            pt_check_rel_l2(what, yr, yt, ny, 1e-5);
            snprintf(what, sizeof what, "%s: cpu vs PyTorch", c->name);
            pt_check_rel_l2(what, yc, yt, ny, 1e-5);
        }
        /* Tiling under a small scratch (several im2col tiles per image / per group) must give
         * the same result; one thread exercises the serial branches. */
        if (ci % 3 == 0 || c->n > 1) {
            pcavs_kctx small = kc;
            small.scratch_bytes = 96 << 10;
            small.n_threads = ci % 2 ? 1 : kc.n_threads;
            float *ys = pt_alloc(ny);
            pcavs_status st = pcavs_conv2d_cpu(&small, &d, x, w, b, ys);
            snprintf(what, sizeof what, "%s: cpu, 96 KiB scratch, %d thread(s), vs ref", c->name, small.n_threads);
            if (st == PCAVS_OK)
                pt_check_rel_l2(what, ys, yr, ny, 1e-5);
            else /* only legal when one im2col column does not fit */
                pt_check(st == PCAVS_ERR_OOM && (size_t)(c->c_in / c->groups) * c->kh * c->kw * 4 > (96u << 10),
                         "%s: status %d (%s)", what, (int)st, pcavs_last_error());
            pt_free(ys);
        }
        pt_free(yr);
        pt_free(yc);
        pt_free(xg);
        pt_free(wg);
        pt_free(bg);
    }

    /* A scratch too small for one im2col column is an OOM error with a message, not a crash. */
    {
        pcavs_conv2d_desc d = {1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE};
        float *x = pt_alloc(512 * 49), *w = pt_alloc(512 * 512 * 9), *y = pt_alloc(512 * 49);
        pt_fill_uniform(x, 512 * 49, 5, -1, 1);
        pt_fill_uniform(w, 512 * 512 * 9, 6, -1, 1);
        pcavs_kctx tiny = kc;
        tiny.scratch_bytes = 1024;
        pcavs_status st = pcavs_conv2d_cpu(&tiny, &d, x, w, NULL, y);
        pt_check(st == PCAVS_ERR_OOM && strstr(pcavs_last_error(), "conv2d"),
                 "1 KiB scratch for K=4608 -> PCAVS_ERR_OOM (got %d: %s)", (int)st, pcavs_last_error());
        pt_free(x);
        pt_free(w);
        pt_free(y);
    }
    /* Descriptor checks name the problem. */
    {
        pcavs_conv2d_desc bad[] = {
            {1, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 4, PCAVS_ACT_NONE},  /* groups do not divide c_in */
            {1, 4, 8, 8, 4, 3, 3, 0, 1, 1, 1, 1, PCAVS_ACT_NONE},  /* stride 0 */
            {0, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, PCAVS_ACT_NONE},  /* n = 0 */
            {1, 4, 2, 2, 4, 5, 5, 1, 1, 0, 0, 1, PCAVS_ACT_NONE},  /* kernel larger than input */
            {1, 4, 8, 8, 4, 3, 3, 1, 1, -1, 1, 1, PCAVS_ACT_NONE}, /* negative pad */
        };
        for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
            pcavs_status st = pcavs_conv2d_check(&bad[i]);
            pt_check(st == PCAVS_ERR_INVALID_ARG && strstr(pcavs_last_error(), "conv2d"),
                     "bad descriptor %d rejected: %s", i, pcavs_last_error());
        }
    }
    if (fx) pcavs_st_close(fx);
    pt_free_kctx(&kc);
    return pt_finish();
}
