/* test_modconv.c: StyleGAN2 modulated convolution (rosinality ModulatedConv2d). Checks, rel L2 bound 1e-5 unless said:
 *  - the batched _cpu form against the per-sample grouped _ref on every generator layer kind (docs/model.md §6:
 *    conv1 3x3 at 7x7, ToRGB 1x1 at 7..224, the five upsampling convs and plain convs at each resolution; channels
 *    reduced at the large resolutions to keep _ref quick), batch 1 and 8, and odd shapes (k = 5, no demodulation,
 *    1x1 with more than 16 outputs, non-square maps); each case also with its weight forms prepared as the
 *    generator's loader prepares them (prepare_sq, prepare_wino or prepare_taps), and the case's path printed:
 *    [Winograd] where _cpu takes a Winograd path (modconv_cpu.c's MC_WINO_MIN_TILES, MC_WINO_UP_MIN_SIDE and
 *    MC_WINO_UP_MIN_CHANNELS decide), else the direct paths (tap GEMM + gather, transposed conv + blur);
 *  - demodulation _cpu against _ref (1e-6);
 *  - _ref and _cpu against PyTorch (ops/modconv.safetensors from tests/reference/op_fixtures_stylegan.py);
 *  - tiling under a scratch near the minimum; errors: too little scratch (OOM), upsampling with k = 1, c_in = 0,
 *    a NULL blur or input (the message naming the form);
 *  - the bf16 mode (weight_bf16) on every 3x3 case where the CPU has a bf16 unit: rel L2 4e-3, max abs 4e-2;
 *  - StyledConv's tail in the op (act_lrelu: noise, bias, leaky ReLU) on each path that applies it, and the ToRGB
 *    side output (rgb_*) where the plain Winograd path computes it (tail_case);
 *  - which generator layers get a bf16 form for this CPU's unit (check_bf16_advice). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "activation.h"
#include "gemm_bf16.h"
#include "modconv.h"
#include "safetensors.h"
#include "test_util.h"

static float g_blur[16];

static void make_blur(void) { /* outer([1,3,3,1]) / 64 * 4 */
    const float v[4] = {1, 3, 3, 1};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) g_blur[i * 4 + j] = v[i] * v[j] / 64.0f * 4.0f;
}

static size_t out_count(const pcavs_modconv_desc *d) {
    return (size_t)d->n * d->c_out * pcavs_modconv_out_h(d) * pcavs_modconv_out_w(d);
}

/* multiply-adds of the direct reference (a quick run skips the large cases) */
static double ref_macs(const pcavs_modconv_desc *d) { return (double)out_count(d) * d->c_in * d->k * d->k; }

/* Runs _ref and _cpu; compares cpu vs ref and (when want) both vs the fixture. cpu_kc may have
 * a reduced scratch to force tiling. */
static void run_case(pcavs_kctx *kc, pcavs_kctx *cpu_kc, const char *name, const pcavs_modconv_desc *d, const float *x,
                     const float *wt, const float *style, const float *want) {
    if (pt_quick_skip(ref_macs(d), name)) return;
    const size_t on = out_count(d);
    float *yr = pt_alloc(on), *yc = pt_alloc(on);
    char what[200];
    snprintf(what, sizeof what, "%s ref", name);
    const int ref_ok = pt_check_ok(pcavs_modconv_ref(kc, d, x, wt, style, g_blur, yr), what);
    if (ref_ok && want) {
        snprintf(what, sizeof what, "%s ref vs torch", name);
        pt_check_rel_l2(what, yr, want, on, 1e-5);
    }
    snprintf(what, sizeof what, "%s cpu", name);
    if (pt_check_ok(pcavs_modconv_cpu(cpu_kc, d, x, wt, style, g_blur, yc), what)) {
        if (ref_ok) {
            snprintf(what, sizeof what, "%s cpu vs ref", name);
            pt_check_rel_l2(what, yc, yr, on, 1e-5);
        }
        if (want) {
            snprintf(what, sizeof what, "%s cpu vs torch", name);
            pt_check_rel_l2(what, yc, want, on, 1e-5);
        }
    }
    pt_free(yr);
    pt_free(yc);
}

/* The bf16 mode (d->weight_bf16 from prepare_bf16; 3x3 layers): _cpu against _ref. Only the GEMM's operands
 * are rounded to bf16 (kernels/gemm_bf16.h: ~2.3e-3 rel L2 measured on a GEMM, bound 4e-3), the
 * demodulation, blur and accumulation stay float32, so the layer is bounded by the same 4e-3. */
static void run_bf16(pcavs_kctx *kc, pcavs_kctx *cpu_kc, const char *name, const pcavs_modconv_desc *d, const float *x,
                     const float *wt, const float *style) {
    char what[200];
    if (pt_quick_skip(ref_macs(d), name)) return;
    if (pcavs_bf16_unit_detect() == PCAVS_BF16_NONE) {
        pt_skip("%s bf16: this CPU has no bf16 unit (AVX512-BF16 or AMX)", name);
        return;
    }
    pcavs_modconv_desc db = *d;
    uint16_t *wb = (uint16_t *)pt_alloc((pcavs_modconv_bf16_elems(d) + 1) / 2);
    snprintf(what, sizeof what, "%s prepare_bf16", name);
    if (!pt_check_ok(pcavs_modconv_prepare_bf16(d, wt, wb), what)) {
        pt_free(wb);
        return;
    }
    db.weight_bf16 = wb;
    const size_t on = out_count(d);
    float *yr = pt_alloc(on), *yc = pt_alloc(on);
    snprintf(what, sizeof what, "%s bf16 (%s) cpu", name, pcavs_bf16_unit_name(pcavs_bf16_unit_detect()));
    if (pt_check_ok(pcavs_modconv_ref(kc, d, x, wt, style, g_blur, yr), what) &&
        pt_check_ok(pcavs_modconv_cpu(cpu_kc, &db, x, wt, style, g_blur, yc), what)) {
        snprintf(what, sizeof what, "%s bf16 (%s) cpu vs float32 ref", name,
                 pcavs_bf16_unit_name(pcavs_bf16_unit_detect()));
        pt_check_rel_l2(what, yc, yr, on, 4e-3);
        /* a local slip (a wrong tap, row or tile edge) would hide in the L2 norm: outputs are ~unit scale, the
         * bf16 error ~2.3e-3 rms, its largest over 1e5-1e6 outputs ~1e-2 (measured): bound 4e-2 */
        pt_check_max_abs(what, yc, yr, on, 4e-2);
    }
    pt_free(yr);
    pt_free(yc);
    pt_free(wb);
}

typedef struct mc_case {
    const char *name;
    int n, c_in, c_out, h, k, demod, up;
} mc_case;

static void random_case(pcavs_kctx *kc, const mc_case *c, uint64_t seed, size_t cpu_scratch) {
    pcavs_modconv_desc d = {c->n, c->c_in, c->h, c->h, c->c_out, c->k, c->demod, c->up};
    const size_t xn = (size_t)d.n * d.c_in * d.h * d.w, wn = (size_t)d.c_out * d.c_in * d.k * d.k;
    float *x = pt_alloc(xn), *wt = pt_alloc(wn), *st = pt_alloc((size_t)d.n * d.c_in);
    pt_fill_normal(x, xn, seed, 1.0f);
    pt_fill_normal(wt, wn, seed + 1, 1.0f);
    pt_fill_uniform(st, (size_t)d.n * d.c_in, seed + 2, 0.2f, 1.8f); /* EqualLinear bias_init 1 */
    pcavs_kctx ckc = *kc;
    if (cpu_scratch) ckc.scratch_bytes = cpu_scratch;
    char label[200];
    snprintf(label, sizeof label, "%s%s", c->name,
             !cpu_scratch && pcavs_modconv_cpu_takes_wino(&d) ? " [Winograd]" : "");
    run_case(kc, &ckc, label, &d, x, wt, st, NULL);
    /* the same with the weight's forms prepared once, as the generator's loader does: the Winograd weight
     * (3x3, plain or upsampling; _cpu takes it where it takes a Winograd path), the tap-GEMM form (taken on the
     * tap path: the small maps) and the squared-tap sums */
    if (d.demodulate || d.k == 3) {
        pcavs_modconv_desc dp = d;
        float *u = NULL, *tp = NULL, *sq = pt_alloc((size_t)d.c_out * d.c_in);
        char what[200];
        snprintf(what, sizeof what, "%s prepare_sq", c->name);
        if (pt_check_ok(pcavs_modconv_prepare_sq(&d, wt, sq), what)) dp.weight_sq = sq;
        if (d.k == 3) {
            u = pt_alloc(pcavs_modconv_wino_floats(&d));
            snprintf(what, sizeof what, "%s prepare_wino", c->name);
            if (pt_check_ok(pcavs_modconv_prepare_wino(&d, wt, u, kc->n_threads), what)) dp.weight_wino = u;
            tp = pt_alloc(pcavs_modconv_taps_floats(&d)); /* the tap-GEMM form (taken where no Winograd path is) */
            snprintf(what, sizeof what, "%s prepare_taps", c->name);
            if (pt_check_ok(pcavs_modconv_prepare_taps(&d, wt, tp, kc->n_threads), what)) dp.weight_taps = tp;
        } else {
            float dummy[1];
            pt_check(pcavs_modconv_wino_floats(&d) == 0 &&
                         pcavs_modconv_prepare_wino(&d, wt, dummy, 1) == PCAVS_ERR_INVALID_ARG,
                     "%s: no Winograd form for k=%d upsample=%d (0 floats, prepare_wino refuses: \"%s\")", c->name, d.k,
                     d.upsample, pcavs_last_error());
            if (d.k == 1)
                pt_check(pcavs_modconv_taps_floats(&d) == 0 &&
                             pcavs_modconv_prepare_taps(&d, wt, dummy, 1) == PCAVS_ERR_INVALID_ARG,
                         "%s: no tap form for a 1x1 layer (0 floats, prepare_taps refuses: \"%s\")", c->name,
                         pcavs_last_error());
        }
        snprintf(what, sizeof what, "%s (prepared weights)", c->name);
        run_case(kc, &ckc, what, &dp, x, wt, st, NULL);
        if (d.k == 3) run_bf16(kc, &ckc, c->name, &dp, x, wt, st);
        pt_free(u);
        pt_free(tp);
        pt_free(sq);
    }
    /* demodulation coefficients alone */
    float *dr = pt_alloc((size_t)d.n * d.c_out), *dc = pt_alloc((size_t)d.n * d.c_out);
    char what[200];
    snprintf(what, sizeof what, "%s demod", c->name);
    if (pt_check_ok(pcavs_modconv_demod_ref(kc, &d, wt, st, dr), what) &&
        pt_check_ok(pcavs_modconv_demod_cpu(kc, &d, wt, st, dc), what)) {
        snprintf(what, sizeof what, "%s demod cpu vs ref", c->name);
        pt_check_rel_l2(what, dc, dr, (size_t)d.n * d.c_out, 1e-6);
    }
    pt_free(dr);
    pt_free(dc);
    pt_free(x);
    pt_free(wt);
    pt_free(st);
}

/* Which generator layers the loader gives a bf16 form (pcavs_modconv_cpu_prefers_bf16), at their real batch-1
 * shapes, for the unit this CPU has (PCAVS_BF16_UNIT can cap it): with AMX every 3x3 layer; with AVX512-BF16
 * alone the 4 upsampling layers from 14x14, not 7->14 nor any plain one (where float32's Winograd forms are
 * faster: docs/bench/tuning.md); never a 1x1 layer. */
static void check_bf16_advice(void) {
    static const int side[6] = {7, 14, 28, 56, 112, 224}, ch[6] = {512, 512, 512, 512, 256, 128};
    const pcavs_bf16_unit unit = pcavs_bf16_unit_detect();
    int wrong = 0, given = 0, layers = 0;
    char first[96] = "none";
    for (int r = 0; r < 6; r++)
        for (int kind = 0; kind < 3; kind++) { /* plain 3x3 at side[r], upsampling from side[r-1], ToRGB */
            if (kind == 1 && r == 0) continue;
            const int h = kind == 1 ? side[r - 1] : side[r], c_in = kind == 1 ? ch[r - 1] : ch[r];
            pcavs_modconv_desc d = {.n = 1,
                                    .c_in = c_in,
                                    .h = h,
                                    .w = h,
                                    .c_out = kind == 2 ? 3 : ch[r],
                                    .k = kind == 2 ? 1 : 3,
                                    .demodulate = kind != 2,
                                    .upsample = kind == 1};
            const int want = unit == PCAVS_BF16_AMX ? kind != 2 : unit == PCAVS_BF16_AVX512 ? kind == 1 && h >= 14 : 0;
            const int got = pcavs_modconv_cpu_prefers_bf16(&d);
            given += got, layers++;
            if (got != want && !wrong++)
                snprintf(first, sizeof first, "%s %d->%d at %d: %d, want %d",
                         kind == 1 ? "up"
                         : kind    ? "rgb"
                                   : "conv",
                         d.c_in, d.c_out, h, got, want);
        }
    pt_check(wrong == 0,
             "bf16 form advised for %d of %d generator layers with unit %s (AMX 11, AVX512-BF16 4, none 0); "
             "%d wrong (first: %s)",
             given, layers, pcavs_bf16_unit_name(unit), wrong, first);
}

/* StyledConv's tail in the op (d->act_lrelu: + noise_weight * noise, + bias, leaky ReLU * sqrt 2): _cpu applies it
 * as it stores y on its Winograd paths (plain F(4x4) above 256 channels, F(6x6) up to 256, with partial edge
 * tiles) and in the blur of every upsampling path, after the convolution elsewhere (a small plain map); against _ref,
 * which applies fused_lrelu_ref after the convolution (itself checked against an explicit second pass). */
static void tail_case(pcavs_kctx *kc, const char *name, int n, int c_in, int c_out, int h, int up, uint64_t seed) {
    pcavs_modconv_desc d = {
        .n = n, .c_in = c_in, .h = h, .w = h, .c_out = c_out, .k = 3, .demodulate = 1, .upsample = up};
    if (pt_quick_skip(ref_macs(&d), name)) return;
    const int oh = pcavs_modconv_out_h(&d);
    const size_t xn = (size_t)n * c_in * h * h, wn = (size_t)c_out * c_in * 9, on = out_count(&d);
    float *x = pt_alloc(xn), *wt = pt_alloc(wn), *st = pt_alloc((size_t)n * c_in);
    float *noise = pt_alloc((size_t)n * oh * oh), *bias = pt_alloc((size_t)c_out);
    float *y0 = pt_alloc(on), *y1 = pt_alloc(on);
    pt_fill_normal(x, xn, seed, 1.0f);
    pt_fill_normal(wt, wn, seed + 1, 1.0f);
    pt_fill_uniform(st, (size_t)n * c_in, seed + 2, 0.2f, 1.8f);
    pt_fill_normal(noise, (size_t)n * oh * oh, seed + 3, 1.0f);
    pt_fill_normal(bias, (size_t)c_out, seed + 4, 0.5f);
    char label[200];
    snprintf(label, sizeof label, "%s tail ref vs ref + fused_lrelu_ref", name);
    pcavs_modconv_desc dt = d;
    dt.act_lrelu = 1, dt.act_bias = bias, dt.act_noise = noise, dt.act_noise_weight = 0.7f;
    if (pt_check_ok(pcavs_modconv_ref(kc, &d, x, wt, st, g_blur, y0), label) &&
        pt_check_ok(pcavs_fused_lrelu_ref(kc, n, c_out, oh * oh, y0, bias, noise, 0.7f, y0), label) &&
        pt_check_ok(pcavs_modconv_ref(kc, &dt, x, wt, st, g_blur, y1), label))
        pt_check_rel_l2(label, y1, y0, on, 1e-7); /* the same computation */
    snprintf(label, sizeof label, "%s tail%s", name, pcavs_modconv_cpu_takes_wino(&dt) ? " [Winograd]" : "");
    run_case(kc, kc, label, &dt, x, wt, st, NULL);
    if (!up) { /* the next ToRGB summed as y is stored: on the plain Winograd path (its tile-block form at these
                * sizes), nowhere else (rgb_done stays 0, rgb_out untouched) */
        const int wino = pcavs_modconv_cpu_takes_wino(&d);
        float *rgb_w = pt_alloc((size_t)3 * c_out), *rgb_s = pt_alloc((size_t)n * c_out);
        float *yc = pt_alloc(on), *want = pt_alloc((size_t)n * 3 * oh * oh), *got = pt_alloc((size_t)n * 3 * oh * oh);
        pt_fill_normal(rgb_w, (size_t)3 * c_out, seed + 5, 1.0f);
        pt_fill_uniform(rgb_s, (size_t)n * c_out, seed + 6, 0.2f, 1.8f);
        pcavs_modconv_desc dr = dt, rd = {.n = n, .c_in = c_out, .h = oh, .w = oh, .c_out = 3, .k = 1};
        int done = 0;
        dr.rgb_weight = rgb_w, dr.rgb_style = rgb_s, dr.rgb_out = got, dr.rgb_done = &done;
        for (size_t i = 0; i < (size_t)n * 3 * oh * oh; i++) got[i] = NAN;
        snprintf(label, sizeof label, "%s tail + ToRGB side output", name);
        if (pt_check_ok(pcavs_modconv_cpu(kc, &dr, x, wt, st, g_blur, yc), label) &&
            pt_check_ok(pcavs_modconv_ref(kc, &dt, x, wt, st, g_blur, y1), label) &&
            pt_check_ok(pcavs_modconv_ref(kc, &rd, y1, rgb_w, rgb_s, NULL, want), label)) {
            pt_check(done == wino, "%s: computed where the Winograd path runs (rgb_done %d, Winograd %d)", label, done,
                     wino);
            if (wino)
                pt_check_rel_l2(label, got, want, (size_t)n * 3 * oh * oh, 1e-5);
            else
                pt_check(isnan(got[0]) && isnan(got[(size_t)n * 3 * oh * oh - 1]), "%s: rgb_out untouched", label);
            snprintf(label, sizeof label, "%s tail + ToRGB side output: the layer's own output", name);
            pt_check_rel_l2(label, yc, y1, on, 1e-5);
        }
        pt_free(rgb_w), pt_free(rgb_s), pt_free(yc), pt_free(want), pt_free(got);
    }
    dt.act_noise = NULL; /* no noise (upstream's zero-noise mode) */
    snprintf(label, sizeof label, "%s tail without noise", name);
    run_case(kc, kc, label, &dt, x, wt, st, NULL);
    if (up) {
        dt.act_noise = noise;
        snprintf(label, sizeof label, "%s tail", name);
        run_bf16(kc, kc, label, &dt, x, wt, st);
    }
    pt_free(x), pt_free(wt), pt_free(st), pt_free(noise), pt_free(bias), pt_free(y0), pt_free(y1);
}

int main(void) {
    make_blur();
    pcavs_kctx kc = pt_host_kctx(64, 0);
    /* every generator layer kind; channel counts reduced where _ref would be slow */
    static const mc_case cases[] = {
        {"conv1_512_7_b1", 1, 512, 512, 7, 3, 1, 0},         {"conv1_64_7_b8", 8, 64, 64, 7, 3, 1, 0},
        {"torgb_512_7_b8", 8, 512, 3, 7, 1, 0, 0},           {"torgb_512_14_b1", 1, 512, 3, 14, 1, 0, 0},
        {"torgb_512_28_b1", 1, 512, 3, 28, 1, 0, 0},         {"torgb_512_56_b8", 8, 512, 3, 56, 1, 0, 0},
        {"torgb_256_112_b1", 1, 256, 3, 112, 1, 0, 0},       {"torgb_128_224_b8", 8, 128, 3, 224, 1, 0, 0},
        {"up_512_7to14_b1", 1, 512, 512, 7, 3, 1, 1},        {"up_64_7to14_b8", 8, 64, 64, 7, 3, 1, 1},
        {"up_128_14to28_b1", 1, 128, 128, 14, 3, 1, 1},      {"up_32_28to56_b8", 8, 32, 32, 28, 3, 1, 1},
        {"up_64to32_56to112_b1", 1, 64, 32, 56, 3, 1, 1},    {"up_32to16_112to224_b1", 1, 32, 16, 112, 3, 1, 1},
        {"up_512to256_28to56_b1", 1, 512, 256, 28, 3, 1, 1}, /* the Winograd upsampling path (512x256 and up) */
        {"conv_128_14_b1", 1, 128, 128, 14, 3, 1, 0},        {"conv_64_28_b8", 8, 32, 32, 28, 3, 1, 0},
        {"conv_32_56_b1", 1, 32, 32, 56, 3, 1, 0},           {"conv_32to16_112_b1", 1, 32, 16, 112, 3, 1, 0},
        {"conv_16_224_b1", 1, 16, 16, 224, 3, 1, 0},         {"odd_up_nodemod_5x9", 3, 7, 5, 5, 3, 0, 1},
        {"odd_conv_k5_nodemod", 2, 6, 7, 9, 5, 0, 0},        {"odd_1x1_demod", 2, 9, 4, 6, 1, 1, 0},
        {"odd_1x1_cout20_gemm_path", 2, 9, 20, 6, 1, 1, 0}, /* c_out > 16: the sgemm path of k = 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) random_case(&kc, &cases[i], 100 + 7 * i, 0);
    tail_case(&kc, "conv_288_13_b2", 2, 288, 64, 13, 0, 500); /* F(4x4): 288 > 256 channels; 13: partial tiles */
    tail_case(&kc, "conv_32_56_b1", 1, 32, 48, 56, 0, 510);   /* F(6x6): 56 = 9 x 6 + 2 */
    tail_case(&kc, "up_256to128_14_b2", 2, 256, 128, 14, 1, 520);
    tail_case(&kc, "up_32_7to14_b2", 2, 32, 32, 7, 1, 530); /* the direct path: the tail in its blur */
    tail_case(&kc, "conv_32_7_b2", 2, 32, 24, 7, 0, 540);   /* 8 tiles, direct: the tail after the convolution */
    /* non-square input */
    {
        pcavs_modconv_desc d = {2, 5, 6, 11, 4, 3, 1, 1};
        const size_t xn = (size_t)2 * 5 * 6 * 11, wn = (size_t)4 * 5 * 9;
        float *x = pt_alloc(xn), *wt = pt_alloc(wn), *st = pt_alloc(10);
        pt_fill_normal(x, xn, 1, 1.0f);
        pt_fill_normal(wt, wn, 2, 1.0f);
        pt_fill_uniform(st, 10, 3, -1.0f, 2.0f);
        run_case(&kc, &kc, "nonsquare_up_6x11", &d, x, wt, st, NULL);
        d.upsample = 0;
        run_case(&kc, &kc, "nonsquare_conv_6x11", &d, x, wt, st, NULL);
        pt_free(x);
        pt_free(wt);
        pt_free(st);
    }
    /* tiling: scratch just above the minimum forces one sample and few output channels per GEMM */
    {
        const mc_case tc[] = {{"tiled_up_64_14_b4", 4, 64, 48, 14, 3, 1, 1},
                              {"tiled_conv_64_14_b4", 4, 64, 48, 14, 3, 1, 0}};
        for (int i = 0; i < 2; i++) {
            pcavs_modconv_desc d = {tc[i].n, tc[i].c_in, tc[i].h, tc[i].h, tc[i].c_out, tc[i].k, 1, tc[i].up};
            const size_t mn = pcavs_modconv_cpu_min_scratch_bytes(&d, kc.n_threads);
            const size_t full = pcavs_modconv_cpu_scratch_bytes(&d, kc.n_threads);
            pt_check(mn > 0 && mn < full && full <= kc.scratch_bytes, "%s: min scratch %zu < untiled %zu <= %zu",
                     tc[i].name, mn, full, kc.scratch_bytes);
            random_case(&kc, &tc[i], 900 + i, mn + (size_t)d.k * d.k * d.h * d.w * 4 * 5); /* ~6 channels/tile */
        }
        pcavs_modconv_desc d = {4, 64, 14, 14, 48, 3, 1, 1};
        pcavs_kctx small = kc;
        small.scratch_bytes = pcavs_modconv_cpu_min_scratch_bytes(&d, kc.n_threads) - 64;
        float *x = pt_alloc(4 * 64 * 196), *wt = pt_alloc(48 * 64 * 9), *st = pt_alloc(4 * 64),
              *y = pt_alloc(4 * 48 * 784);
        pt_check(pcavs_modconv_cpu(&small, &d, x, wt, st, g_blur, y) == PCAVS_ERR_OOM,
                 "too little scratch gives OOM (%s)", pcavs_last_error());
        pcavs_modconv_desc bad = d;
        bad.k = 1;
        pt_check(pcavs_modconv_cpu(&kc, &bad, x, wt, st, g_blur, y) == PCAVS_ERR_UNSUPPORTED,
                 "upsample with k=1 is rejected (%s)", pcavs_last_error());
        bad = d;
        bad.c_in = 0;
        pt_check(pcavs_modconv_ref(&kc, &bad, x, wt, st, g_blur, y) == PCAVS_ERR_INVALID_ARG, "c_in=0 is rejected (%s)",
                 pcavs_last_error());
        pt_check(pcavs_modconv_cpu(&kc, &d, x, wt, st, NULL, y) == PCAVS_ERR_INVALID_ARG &&
                     strstr(pcavs_last_error(), "modconv_cpu"),
                 "upsampling without a blur kernel is rejected, naming the form (%s)", pcavs_last_error());
        pt_check(pcavs_modconv_ref(&kc, &d, NULL, wt, st, g_blur, y) == PCAVS_ERR_INVALID_ARG &&
                     strstr(pcavs_last_error(), "modconv_ref"),
                 "a NULL input is rejected, naming the form (%s)", pcavs_last_error());
        pt_free(x);
        pt_free(wt);
        pt_free(st);
        pt_free(y);
    }

    /* PyTorch fixtures (upstream grouped form in torch float32) */
    const char *fix = pt_fixtures_dir();
    pcavs_st_file *f = NULL;
    if (!fix || pcavs_st_open(pt_path(fix, "ops/modconv.safetensors"), &f) != PCAVS_OK) {
        pt_skip("modconv vs PyTorch: fixture ops/modconv.safetensors missing (run "
                "tests/reference/op_fixtures_stylegan.py --out $PCAVS_FIXTURES)");
    } else {
        const int64_t bs[2] = {4, 4};
        const float *blur_t;
        if (pt_check_ok(pcavs_st_get_f32(f, "blur", 2, bs, &blur_t), "fixture blur [4,4]"))
            pt_check_rel_l2("fixture blur == outer([1,3,3,1])/64*4", blur_t, g_blur, 16, 1e-7);
        int ncase = 0;
        for (int i = 0; i < pcavs_st_metadata_count(f); i++) {
            const char *name, *val;
            pcavs_st_metadata_at(f, i, &name, &val);
            pcavs_modconv_desc d;
            memset(&d, 0, sizeof d);
            if (!pt_check(sscanf(val, "%d %d %d %d %d %d %d", &d.n, &d.c_in, &d.c_out, &d.h, &d.k, &d.demodulate,
                                 &d.upsample) == 7,
                          "fixture metadata %s = '%s' parses", name, val))
                continue;
            d.w = d.h;
            const int64_t xs[4] = {d.n, d.c_in, d.h, d.w}, ws[4] = {d.c_out, d.c_in, d.k, d.k}, ss[2] = {d.n, d.c_in};
            const int64_t ys[4] = {d.n, d.c_out, pcavs_modconv_out_h(&d), pcavs_modconv_out_w(&d)};
            const float *x, *wt, *st, *y;
            char key[128];
            int ok = 1;
            snprintf(key, sizeof key, "%s.x", name);
            ok = ok && pt_check_ok(pcavs_st_get_f32(f, key, 4, xs, &x), key);
            snprintf(key, sizeof key, "%s.weight", name);
            ok = ok && pt_check_ok(pcavs_st_get_f32(f, key, 4, ws, &wt), key);
            snprintf(key, sizeof key, "%s.style", name);
            ok = ok && pt_check_ok(pcavs_st_get_f32(f, key, 2, ss, &st), key);
            snprintf(key, sizeof key, "%s.y", name);
            ok = ok && pt_check_ok(pcavs_st_get_f32(f, key, 4, ys, &y), key);
            if (ok) run_case(&kc, &kc, name, &d, x, wt, st, y);
            ncase++;
        }
        pt_check(ncase >= 6, "modconv fixture holds %d cases (>= 6)", ncase);
        pcavs_st_close(f);
    }
    check_bf16_advice();
    pt_free_kctx(&kc);
    return pt_finish();
}
