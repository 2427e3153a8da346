/* test_winograd_up.c: the upsampling convolution's Winograd F(4x4, 2x2) phase core
 * (kernels/winograd_up_cpu.c) against a direct float64 transposed conv (3x3, stride 2, no flip) + 4x4
 * blur (upfirdn2d up 1, pad 1,1) written here from the definitions, rel L2 <= 1e-5 (the single-op bound),
 * with the per-(sample, channel) input scale and per-(sample, output) scale it fuses; on the generator's
 * shapes (channels reduced where the direct loop would be slow) and awkward ones (sizes not multiples of
 * 4, 1x1, non-square, n > 1, a non-symmetric blur, separable or not), in the fused form (whole samples a chunk, each
 * output plane blurred from its thread's T plane) and the tile-block form (each thread its own blocks of tiles, T
 * planes in memory); through small scratches that force one sample a fused chunk, or T planes in memory with one-sample
 * groups and chunks that end mid tile row; and the OOM error. Weights at the 1/sqrt(9 c_in) scale of PC-AVS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgemm_nn.h"
#include "test_util.h"
#include "winograd_up.h"

typedef struct {
    const char *name;
    int n, c_in, h, w, c_out, scales;
} ucase;

static const ucase CASES[] = {
    {"up7_512", 1, 512, 7, 7, 512, 1},      {"up14_256_reduced", 1, 256, 14, 14, 256, 1},
    {"up28_128_b2", 2, 128, 28, 28, 96, 1}, {"up56_64to32", 1, 64, 56, 56, 32, 1},
    {"odd_5x9", 3, 7, 5, 9, 5, 1},          {"tiny_1x1", 2, 3, 1, 1, 4, 0},
    {"odd_6x11", 2, 16, 6, 11, 24, 1},      {"odd_13x4", 1, 9, 13, 4, 3, 0},
};

static float g_blur[16];

/* want[b][o] = out_s * Blur(ConvT(x * in_s)) in float64 */
static void direct(const ucase *t, const float *x, const float *wt, const float *in_s, const float *out_s,
                   float *want) {
    const int h = t->h, w = t->w, th = 2 * h + 1, tw = 2 * w + 1, oh = 2 * h, ow = 2 * w;
    double *T = malloc((size_t)th * tw * sizeof(double));
    for (int b = 0; b < t->n; b++)
        for (int o = 0; o < t->c_out; o++) {
            memset(T, 0, (size_t)th * tw * sizeof(double));
            for (int c = 0; c < t->c_in; c++) {
                const double s = t->scales ? in_s[b * t->c_in + c] : 1.0;
                const float *xc = x + ((size_t)b * t->c_in + c) * h * w, *k = wt + ((size_t)o * t->c_in + c) * 9;
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++) {
                        const double v = xc[y * w + xx] * s;
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) T[(size_t)(2 * y + i) * tw + 2 * xx + j] += k[i * 3 + j] * v;
                    }
            }
            const double sc = t->scales ? out_s[b * t->c_out + o] : 1.0;
            float *yo = want + ((size_t)b * t->c_out + o) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double acc = 0.0; /* upfirdn2d: correlation with the flipped kernel, pad 1 */
                    for (int a = 0; a < 4; a++)
                        for (int c = 0; c < 4; c++) {
                            const int r = oy + a - 1, q = ox + c - 1;
                            if (r >= 0 && r < th && q >= 0 && q < tw)
                                acc += g_blur[(3 - a) * 4 + (3 - c)] * T[(size_t)r * tw + q];
                        }
                    yo[(size_t)oy * ow + ox] = (float)(acc * sc);
                }
        }
    free(T);
}

static int n_blocks; /* cases run in the tile-block form */

/* label: the form the scratch leaves (checked), or NULL for the form pcavs_wino_up_run picks */
static void run_case(const ucase *t, pcavs_kctx *kc, const char *label, int no_blocks) {
    const size_t nx = (size_t)t->n * t->c_in * t->h * t->w, ny = (size_t)t->n * t->c_out * 4 * t->h * t->w;
    const size_t nwt = (size_t)t->c_out * t->c_in * 9;
    float *x = pt_alloc(nx), *w = pt_alloc(nwt), *u = pt_alloc(PCAVS_WINO_UP_U_MATS * nwt / 9);
    float *in_s = pt_alloc((size_t)t->n * t->c_in), *out_s = pt_alloc((size_t)t->n * t->c_out);
    float *want = pt_alloc(ny), *got = pt_alloc(ny);
    pt_fill_normal(x, nx, 21, 1.0f);
    pt_fill_normal(w, nwt, 22, (float)(1.0 / sqrt(9.0 * t->c_in)));
    pt_fill_uniform(in_s, (size_t)t->n * t->c_in, 23, 0.2f, 2.0f);
    pt_fill_uniform(out_s, (size_t)t->n * t->c_out, 24, 0.2f, 2.0f);
    direct(t, x, w, in_s, out_s, want);
    pcavs_wino_up_weight(t->c_out, t->c_in, w, 1.0f, u, kc->n_threads);
    pcavs_wino_up_conv a = {.n = t->n,
                            .c_in = t->c_in,
                            .h = t->h,
                            .w = t->w,
                            .c_out = t->c_out,
                            .x = x,
                            .u = u,
                            .in_scale = t->scales ? in_s : NULL,
                            .out_scale = t->scales ? out_s : NULL,
                            .blur = g_blur,
                            .y = got,
                            .no_blocks = no_blocks};
    for (size_t i = 0; i < ny; i++) got[i] = NAN;
    const int blocks = pcavs_wino_up_uses_blocks(&a, kc->scratch_bytes, kc->n_threads);
    n_blocks += blocks;
    if (pt_check_ok(pcavs_wino_up_run(kc, &a), "wino_up_run")) {
        char what[192];
        snprintf(what, sizeof what, "winograd_up %s [n%d %d->%d %dx%d%s] %s", t->name, t->n, t->c_in, t->c_out, t->h,
                 t->w, t->scales ? " scales" : "",
                 blocks  ? "(tile blocks)"
                 : label ? label
                         : "(fused form, one chunk)");
        if (label) pt_check(!blocks, "%s: not the tile-block form", what);
        pt_check_rel_l2(what, got, want, ny, 1e-5);
    }
    pt_free(x), pt_free(w), pt_free(u), pt_free(in_s), pt_free(out_s), pt_free(want), pt_free(got);
}

int main(void) {
    /* StyleGAN2's outer([1,3,3,1])/64*4 for the real shapes; the odd cases use a non-symmetric kernel
     * so that a flipped or transposed blur cannot pass */
    const float v[4] = {1, 3, 3, 1};
    for (int i = 0; i < 16; i++) g_blur[i] = v[i / 4] * v[i % 4] / 16.0f;
    pcavs_kctx kc = pt_host_kctx(256, 2);
    const int sgemm_blas = !strcmp(pcavs_sgemm_nn_form(), "blas"); /* no tile-block form there */
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        if (i == 4)
            for (int j = 0; j < 16; j++) g_blur[j] = 0.05f * (float)(j + 1) - 0.2f * (float)(j % 3);
        run_case(&CASES[i], &kc, NULL, 0); /* tile blocks where U is small enough (the generator's 112->224) */
        run_case(&CASES[i], &kc, "(fused form, one chunk)", 1);
    }
    /* a separable kernel that is not symmetric (the blur takes its separable form for outer products: a swapped or
     * flipped factor cannot pass) */
    {
        const float r[4] = {1, 2, 5, 3}, c[4] = {4, 1, 2, 3};
        for (int i = 0; i < 16; i++) g_blur[i] = r[i / 4] * c[i % 4] / 64.0f;
        for (int i = 2; i <= 6; i += 4) {
            run_case(&CASES[i], &kc, NULL, 0); /* the tile-block form where it applies */
            run_case(&CASES[i], &kc, "(fused form; blur separable, not symmetric)", 1);
        }
        for (int j = 0; j < 16; j++) g_blur[j] = 0.05f * (float)(j + 1) - 0.2f * (float)(j % 3);
    }
    /* small scratches: the fused form with one sample a chunk; one-sample groups and chunks of a few lane groups */
    {
        pcavs_kctx small = kc;
        const ucase *t = &CASES[4]; /* odd_5x9, n 3: 2 x 3 tiles per sample */
        pcavs_wino_up_conv a = {.n = t->n, .c_in = t->c_in, .h = t->h, .w = t->w, .c_out = t->c_out};
        small.scratch_bytes = pcavs_wino_up_min_scratch_bytes(&a, kc.n_threads) + 64;
        pt_check(small.scratch_bytes < pcavs_wino_up_scratch_bytes(&a, kc.n_threads),
                 "chunked case: scratch %zu < untiled %zu bytes", small.scratch_bytes,
                 pcavs_wino_up_scratch_bytes(&a, kc.n_threads));
        run_case(t, &small, "(fused form: one sample a chunk)", 0);
        /* too small for a whole sample's V + M: T planes in memory, chunks within a sample */
        const ucase *g = &CASES[2]; /* up28_128_b2: 8 x 8 tiles per sample */
        pcavs_wino_up_conv ag = {.n = g->n, .c_in = g->c_in, .h = g->h, .w = g->w, .c_out = g->c_out};
        small.scratch_bytes = pcavs_wino_up_min_scratch_bytes(&ag, kc.n_threads) + 20 * 81 * (128 + 96) * 4;
        run_case(g, &small, "(one-sample groups, chunks of ~24 tiles)", 0);
        small.scratch_bytes = pcavs_wino_up_min_scratch_bytes(&ag, kc.n_threads) + 4 * 81 * (128 + 96) * 4;
        run_case(g, &small, "(one-sample groups, chunks of 12 tiles: ending mid tile row)", 0);
        /* too little scratch: a clear error */
        small.scratch_bytes = pcavs_wino_up_min_scratch_bytes(&a, kc.n_threads) - 1;
        float x[1] = {0}, u[1] = {0}, y[1] = {0};
        a.x = x, a.u = u, a.y = y, a.blur = g_blur;
        pcavs_status st = pcavs_wino_up_run(&small, &a);
        pt_check(st == PCAVS_ERR_OOM && strstr(pcavs_last_error(), "scratch"),
                 "scratch below the minimum: PCAVS_ERR_OOM (%d), message \"%s\"", (int)st, pcavs_last_error());
    }
    if (!sgemm_blas) pt_check(n_blocks > 0, "the tile-block form ran (%d cases)", n_blocks);
    pt_free_kctx(&kc);
    return pt_finish();
}
