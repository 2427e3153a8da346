/* test_winograd.c: the Winograd F(4x4, 3x3) core (kernels/winograd_cpu.c), and F(6x6, 3x3) (tile = 6) on the
 * cases with up to 256 input channels (where modconv_cpu takes it), against the direct
 * pcavs_conv2d_ref (rel L2 <= 1e-5, the single-op bound) with the per-(sample, channel) input scale,
 * per-(sample, output) scale, bias and ReLU it fuses, on the shapes conv2d_cpu and modconv_cpu give it
 * (generator 28..224, FAN levels) and awkward ones (sizes not multiples of 4, 1x1, n > 1), through the
 * chunked path (tiny scratch; with a full scratch where U is too big for the tile-block form: 512 channels) and the
 * tile-block form (a full scratch up to 256 channels; its blocks cross tile rows and samples), the OOM error and a
 * tile size it lacks. Inputs are N(0,1), weights at the 1/sqrt(fan_in)
 * scale PC-AVS uses: Winograd's error grows with the transform magnitudes, not with the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d.h"
#include "test_util.h"
#include "winograd.h"

typedef struct {
    const char *name;
    int n, c_in, h, w, c_out, scales, bias, relu;
} wcase;

static const wcase CASES[] = {
    {"g28_512", 1, 512, 28, 28, 512, 1, 0, 0},
    {"g56_512_reduced", 1, 512, 20, 20, 512, 1, 0, 0},
    {"g112_256_reduced", 2, 256, 24, 24, 256, 1, 0, 0},
    {"g224_128_reduced", 1, 128, 48, 48, 128, 1, 0, 0},
    {"e_cb_256_128", 1, 256, 32, 32, 128, 0, 1, 1},
    {"e_cb_64_64", 2, 64, 64, 64, 64, 0, 1, 0},
    {"odd_13x9", 3, 5, 13, 9, 7, 1, 1, 1},
    {"tiny_1x1", 2, 3, 1, 1, 4, 1, 1, 0},
    {"odd_6x17", 1, 16, 6, 17, 24, 1, 0, 1},
    {"a_like_c100_10x3", 4, 100, 10, 3, 40, 0, 1, 1},  /* c_in past one 64-channel block of the weight transform */
    {"wide_rows_14x215", 1, 24, 14, 215, 16, 1, 1, 0}, /* 36 tiles of 6 a row: F(6x6)'s 16-tile gather blocks */
};

static void scale_input(const float *x, const float *s, int n, int c, size_t hw, float *out) {
    for (int b = 0; b < n; b++)
        for (int i = 0; i < c; i++)
            for (size_t p = 0; p < hw; p++)
                out[((size_t)b * c + i) * hw + p] = x[((size_t)b * c + i) * hw + p] * s[(size_t)b * c + i];
}

/* tile 4: F(4x4, 3x3); 6: F(6x6, 3x3) */
static int n_form[2][2]; /* cases run: [tile 6][tile-block form] */

static void run_case(const wcase *t, pcavs_kctx *kc, const char *label, int tile) {
    char name[96];
    snprintf(name, sizeof name, "winograd F(%dx%d) %s %s", tile, tile, t->name, label);
    if (pt_quick_skip(9.0 * t->n * t->c_in * t->c_out * t->h * t->w, name)) return;
    const size_t hw = (size_t)t->h * t->w, nx = (size_t)t->n * t->c_in * hw, ny = (size_t)t->n * t->c_out * hw;
    const size_t nwt = (size_t)t->c_out * t->c_in * 9;
    float *x = pt_alloc(nx), *xs = pt_alloc(nx), *w = pt_alloc(nwt),
          *u = pt_alloc((tile == 6 ? PCAVS_WINO6_POINTS : PCAVS_WINO_POINTS) * nwt / 9);
    float *bias = pt_alloc(t->c_out), *in_s = pt_alloc((size_t)t->n * t->c_in),
          *out_s = pt_alloc((size_t)t->n * t->c_out);
    float *want = pt_alloc(ny), *got = pt_alloc(ny);
    pt_fill_normal(x, nx, 11, 1.0f);
    pt_fill_normal(w, nwt, 12, (float)(1.0 / sqrt(9.0 * t->c_in)));
    pt_fill_uniform(bias, t->c_out, 13, -0.5f, 0.5f);
    pt_fill_uniform(in_s, (size_t)t->n * t->c_in, 14, 0.2f, 2.0f);
    pt_fill_uniform(out_s, (size_t)t->n * t->c_out, 15, 0.2f, 2.0f);
    /* reference: direct conv of the scaled input, then out_scale, bias, ReLU */
    pcavs_conv2d_desc d = {.n = t->n,
                           .c_in = t->c_in,
                           .h = t->h,
                           .w = t->w,
                           .c_out = t->c_out,
                           .kh = 3,
                           .kw = 3,
                           .stride_h = 1,
                           .stride_w = 1,
                           .pad_h = 1,
                           .pad_w = 1,
                           .groups = 1,
                           .act = PCAVS_ACT_NONE};
    if (t->scales)
        scale_input(x, in_s, t->n, t->c_in, hw, xs);
    else
        memcpy(xs, x, nx * sizeof(float));
    pt_check_ok(pcavs_conv2d_ref(kc, &d, xs, w, NULL, want), "conv2d_ref");
    for (int b = 0; b < t->n; b++)
        for (int o = 0; o < t->c_out; o++)
            for (size_t p = 0; p < hw; p++) {
                float *v = &want[((size_t)b * t->c_out + o) * hw + p];
                if (t->scales) *v *= out_s[(size_t)b * t->c_out + o];
                if (t->bias) *v += bias[o];
                if (t->relu && *v < 0.0f) *v = 0.0f;
            }
    if (tile == 6)
        pcavs_wino6_weight(t->c_out, t->c_in, w, 1.0f, u, kc->n_threads);
    else
        pcavs_wino_weight(t->c_out, t->c_in, w, 1.0f, u, kc->n_threads);
    pcavs_wino_conv a = {.n = t->n,
                         .tile = tile,
                         .c_in = t->c_in,
                         .h = t->h,
                         .w = t->w,
                         .c_out = t->c_out,
                         .x = x,
                         .u = u,
                         .in_scale = t->scales ? in_s : NULL,
                         .out_scale = t->scales ? out_s : NULL,
                         .bias = t->bias ? bias : NULL,
                         .relu = t->relu,
                         .y = got};
    for (size_t i = 0; i < ny; i++) got[i] = NAN;
    const int blocks = pcavs_wino_uses_blocks(&a, kc->scratch_bytes, kc->n_threads);
    n_form[tile == 6][blocks]++;
    if (pt_check_ok(pcavs_wino_run(kc, &a), "wino_run")) {
        char what[192];
        snprintf(what, sizeof what, "winograd F(%dx%d) %s [n%d %d->%d %dx%d%s%s%s] %s, %s", tile, tile, t->name, t->n,
                 t->c_in, t->c_out, t->h, t->w, t->scales ? " scales" : "", t->bias ? " bias" : "",
                 t->relu ? " relu" : "", label, blocks ? "tile blocks" : "chunks");
        pt_check_rel_l2(what, got, want, ny, 1e-5);
    }
    pt_free(x), pt_free(xs), pt_free(w), pt_free(u), pt_free(bias), pt_free(in_s), pt_free(out_s);
    pt_free(want), pt_free(got);
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(256, 2);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i], &kc, "(full scratch)", 4);
    /* F(6x6, 3x3) where modconv_cpu takes it (up to 256 input channels) */
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        if (CASES[i].c_in <= 256) run_case(&CASES[i], &kc, "(full scratch)", 6);
    /* chunked: a scratch that holds a few lane groups of tiles, so chunks end mid tile row */
    {
        const wcase *t = &CASES[6]; /* odd_13x9, n 3: 4 x 3 tiles per sample */
        pcavs_wino_conv a = {.n = t->n, .c_in = t->c_in, .h = t->h, .w = t->w, .c_out = t->c_out};
        pcavs_kctx small = kc;
        small.scratch_bytes = pcavs_wino_min_scratch_bytes(&a, kc.n_threads) + 64;
        pt_check(small.scratch_bytes < pcavs_wino_scratch_bytes(&a, kc.n_threads),
                 "chunked case: scratch %zu < untiled %zu bytes", small.scratch_bytes,
                 pcavs_wino_scratch_bytes(&a, kc.n_threads));
        run_case(t, &small, "(chunks of 8 tiles)", 4);
        pcavs_wino_conv a6 = a;
        a6.tile = 6;
        small.scratch_bytes = pcavs_wino_min_scratch_bytes(&a6, kc.n_threads) + 64;
        run_case(t, &small, "(chunks of 8 tiles)", 6);
        const wcase *g = &CASES[1]; /* 512 channels: 100 tiles in chunks of 24 */
        pcavs_wino_conv ag = {.n = g->n, .c_in = g->c_in, .h = g->h, .w = g->w, .c_out = g->c_out};
        small.scratch_bytes = pcavs_wino_min_scratch_bytes(&ag, kc.n_threads) * 3;
        run_case(g, &small, "(chunks of 24 tiles)", 4);
        const wcase *g6 = &CASES[2]; /* 256 channels, n 2: 2 x 16 tiles of 6x6 in chunks of 8 */
        pcavs_wino_conv a6g = {.n = g6->n, .c_in = g6->c_in, .h = g6->h, .w = g6->w, .c_out = g6->c_out, .tile = 6};
        small.scratch_bytes = pcavs_wino_min_scratch_bytes(&a6g, kc.n_threads) + 64;
        run_case(g6, &small, "(chunks of 8 tiles)", 6);
        /* too little scratch: a clear error, no write */
        small.scratch_bytes = pcavs_wino_min_scratch_bytes(&a, kc.n_threads) - 1;
        float x[1] = {0}, u[1] = {0}, y[1] = {0};
        a.x = x, a.u = u, a.y = y;
        pcavs_status st = pcavs_wino_run(&small, &a);
        pt_check(st == PCAVS_ERR_OOM && strstr(pcavs_last_error(), "scratch"),
                 "scratch below the minimum: PCAVS_ERR_OOM (%d), message \"%s\"", (int)st, pcavs_last_error());
        /* a tile size it does not have: a clear error */
        a.tile = 5;
        st = pcavs_wino_run(&kc, &a);
        pt_check(st == PCAVS_ERR_INVALID_ARG && strstr(pcavs_last_error(), "tile 5"),
                 "tile 5: PCAVS_ERR_INVALID_ARG (%d), message \"%s\"", (int)st, pcavs_last_error());
    }
    for (int six = 0; six < 2; six++)
        pt_check(n_form[six][0] > 0 && n_form[six][1] > 0, "F(%dx%d) ran in chunks (%d cases) and in tile blocks (%d)",
                 six ? 6 : 4, six ? 6 : 4, n_form[six][0], n_form[six][1]);
    pt_free_kctx(&kc);
    return pt_finish();
}
