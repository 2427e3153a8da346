/* test_upfirdn2d.c: upfirdn2d (rosinality upfirdn2d_native) — _cpu vs _ref on the generator's
 * uses (Blur: up 1 pad 1,1; ToRGB skip Upsample: up 2 pad 2,1; kernel outer([1,3,3,1])/64*4)
 * and awkward sizes/pads/up/down, both vs PyTorch fixtures (ops/upfirdn2d.safetensors from
 * tests/reference/op_fixtures_stylegan.py), a hand-computed case, and descriptor/scratch errors. */
#include <stdio.h>
#include <string.h>

#include "safetensors.h"
#include "test_util.h"
#include "upfirdn2d.h"

static void blur_kernel(float *k) { /* outer([1,3,3,1]) / 64 * 4 */
    const float v[4] = {1, 3, 3, 1};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) k[i * 4 + j] = v[i] * v[j] / 64.0f * 4.0f;
}

static void run_case(pcavs_kctx *kc, const char *name, pcavs_upfirdn2d_desc d, const float *x, const float *ker,
                     const float *want, const char *want_src) {
    const size_t on = (size_t)d.planes * pcavs_upfirdn2d_out_h(&d) * pcavs_upfirdn2d_out_w(&d);
    float *yr = pt_alloc(on), *yc = pt_alloc(on);
    char what[160];
    snprintf(what, sizeof what, "%s ref", name);
    if (pt_check_ok(pcavs_upfirdn2d_ref(kc, &d, x, ker, yr), what) && want) {
        snprintf(what, sizeof what, "%s ref vs %s", name, want_src);
        pt_check_rel_l2(what, yr, want, on, 1e-5);
    }
    snprintf(what, sizeof what, "%s cpu", name);
    if (pt_check_ok(pcavs_upfirdn2d_cpu(kc, &d, x, ker, yc), what)) {
        snprintf(what, sizeof what, "%s cpu vs ref", name);
        pt_check_rel_l2(what, yc, yr, on, 1e-5);
        if (want) {
            snprintf(what, sizeof what, "%s cpu vs %s", name, want_src);
            pt_check_rel_l2(what, yc, want, on, 1e-5);
        }
    }
    pt_free(yr);
    pt_free(yc);
}

static void random_case(pcavs_kctx *kc, const char *name, pcavs_upfirdn2d_desc d, int use_blur, uint64_t seed) {
    const size_t xn = (size_t)d.planes * d.h * d.w;
    float *x = pt_alloc(xn), *k = pt_alloc((size_t)d.kh * d.kw);
    pt_fill_normal(x, xn, seed, 1.0f);
    if (use_blur)
        blur_kernel(k);
    else
        pt_fill_normal(k, (size_t)d.kh * d.kw, seed + 1, 1.0f);
    run_case(kc, name, d, x, k, NULL, NULL);
    pt_free(x);
    pt_free(k);
}

int main(void) {
    pcavs_kctx kc = pt_host_kctx(16, 0);
    /* hand-computed: 1x2x2 input, up 2, kernel 2x2 [[1,2],[3,4]], no pad: zero-inserted grid
     * [[a,0,b,0],[0,0,0,0],[c,0,d,0],[0,0,0,0]] correlated with the flipped kernel [[4,3],[2,1]]. */
    {
        pcavs_upfirdn2d_desc d = {1, 2, 2, 2, 1, 0, 0, 0, 0, 2, 2};
        const float x[4] = {1, 10, 100, 1000}, k[4] = {1, 2, 3, 4};
        /* y[oy][ox] = sum U[oy+ky][ox+kx] * flipped[ky][kx] -> [4a, 3b, 4b; 2c, d, 2d; 4c, 3d, 4d] */
        const float want[9] = {4, 30, 40, 200, 1000, 2000, 400, 3000, 4000};
        run_case(&kc, "hand_up2_k2x2", d, x, k, want, "hand");
    }
    /* generator uses at batch 8 and awkward shapes */
    random_case(&kc, "blur_b8_128x225", (pcavs_upfirdn2d_desc){8 * 16, 225, 225, 1, 1, 1, 1, 1, 1, 4, 4}, 1, 11);
    random_case(&kc, "blur_512x15", (pcavs_upfirdn2d_desc){512, 15, 15, 1, 1, 1, 1, 1, 1, 4, 4}, 1, 12);
    random_case(&kc, "skipup_b8_3x112", (pcavs_upfirdn2d_desc){24, 112, 112, 2, 1, 2, 1, 2, 1, 4, 4}, 1, 13);
    random_case(&kc, "skipup_b1_3x7", (pcavs_upfirdn2d_desc){3, 7, 7, 2, 1, 2, 1, 2, 1, 4, 4}, 1, 14);
    random_case(&kc, "up3_down2_asym", (pcavs_upfirdn2d_desc){3, 9, 13, 3, 2, 0, 4, 3, 1, 5, 3}, 0, 15);
    random_case(&kc, "down3_pad", (pcavs_upfirdn2d_desc){2, 17, 10, 1, 3, 2, 0, 1, 5, 3, 4}, 0, 16);
    random_case(&kc, "1x1_input_big_pad", (pcavs_upfirdn2d_desc){2, 1, 1, 2, 1, 3, 3, 3, 3, 4, 4}, 0, 17);
    random_case(&kc, "kernel_1x1_up4", (pcavs_upfirdn2d_desc){2, 3, 5, 4, 1, 0, 0, 0, 0, 1, 1}, 0, 18);

    /* PyTorch fixtures */
    const char *fix = pt_fixtures_dir();
    pcavs_st_file *f = NULL;
    if (!fix || pcavs_st_open(pt_path(fix, "ops/upfirdn2d.safetensors"), &f) != PCAVS_OK) {
        pt_skip("upfirdn2d vs PyTorch: fixture ops/upfirdn2d.safetensors missing (run "
                "tests/reference/op_fixtures_stylegan.py --out $PCAVS_FIXTURES)");
    } else {
        int ncase = 0;
        for (int i = 0; i < pcavs_st_metadata_count(f); i++) {
            const char *name, *val;
            pcavs_st_metadata_at(f, i, &name, &val);
            pcavs_upfirdn2d_desc d;
            memset(&d, 0, sizeof d);
            if (sscanf(val, "%d %d %d %d %d %d %d %d %d", &d.planes, &d.h, &d.w, &d.up, &d.down, &d.pad_x0, &d.pad_x1,
                       &d.pad_y0, &d.pad_y1) != 9) {
                pt_check(0, "fixture metadata %s = '%s' parses", name, val);
                continue;
            }
            char key[128];
            snprintf(key, sizeof key, "%s.kernel", name);
            const pcavs_st_entry *ke = pcavs_st_find(f, key);
            if (!pt_check(ke && ke->t.ndim == 2, "fixture has %s [kh, kw]", key)) continue;
            d.kh = (int)ke->t.shape[0];
            d.kw = (int)ke->t.shape[1];
            const int64_t xs[3] = {d.planes, d.h, d.w};
            const int64_t ys[3] = {d.planes, pcavs_upfirdn2d_out_h(&d), pcavs_upfirdn2d_out_w(&d)};
            const float *x, *y;
            snprintf(key, sizeof key, "%s.x", name);
            int ok = pt_check_ok(pcavs_st_get_f32(f, key, 3, xs, &x), key);
            snprintf(key, sizeof key, "%s.y", name);
            ok = ok && pt_check_ok(pcavs_st_get_f32(f, key, 3, ys, &y), key);
            if (ok) run_case(&kc, name, d, x, (const float *)ke->t.data, y, "torch");
            ncase++;
        }
        pt_check(ncase >= 6, "upfirdn2d fixture holds %d cases (>= 6)", ncase);
        pcavs_st_close(f);
    }

    /* errors: bad descriptor, too little scratch for the column table */
    {
        float x[4] = {0}, k[1] = {1}, y[64];
        pcavs_upfirdn2d_desc bad = {1, 2, 2, 0, 1, 0, 0, 0, 0, 1, 1};
        pt_check(pcavs_upfirdn2d_cpu(&kc, &bad, x, k, y) == PCAVS_ERR_INVALID_ARG, "up=0 is rejected (%s)",
                 pcavs_last_error());
        pcavs_upfirdn2d_desc big = {1, 2, 2, 1, 1, 0, 0, 0, 0, 3, 3};
        pt_check(pcavs_upfirdn2d_ref(&kc, &big, x, k, y) == PCAVS_ERR_INVALID_ARG,
                 "kernel larger than padded input is rejected (%s)", pcavs_last_error());
        pcavs_kctx tiny = kc;
        tiny.scratch_bytes = 8;
        pcavs_upfirdn2d_desc up2 = {1, 2, 2, 2, 1, 0, 0, 0, 0, 1, 1};
        pt_check(pcavs_upfirdn2d_cpu(&tiny, &up2, x, k, y) == PCAVS_ERR_OOM, "tiny scratch gives OOM (%s)",
                 pcavs_last_error());
    }
    pt_free_kctx(&kc);
    return pt_finish();
}
