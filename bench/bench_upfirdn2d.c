/* bench_upfirdn2d.c: pcavs_upfirdn2d_cpu on the generator's uses (docs/model.md §6): the Blur
 * after each upsampling modconv (up 1, pad 1,1, on the (2h+1)^2 transposed-conv map) and the
 * ToRGB skip Upsample (up 2, pad 2,1, 3 channels), batch 1 and 8. Validated against
 * pcavs_upfirdn2d_ref first. GFLOP/s counts the taps that hit real samples (16 per output for
 * the blur, 4 for the 2x upsample). Threads from $PCAVS_THREADS. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arena.h"
#include "bench_util.h"
#include "cpu_features.h"
#include "upfirdn2d.h"

static float g_k[16];

typedef struct run_ctx {
    pcavs_kctx *kc;
    pcavs_upfirdn2d_desc d;
    const float *x;
    float *y;
    int failed;
} run_ctx;

static void run_one(void *p) {
    run_ctx *r = (run_ctx *)p;
    if (pcavs_upfirdn2d_cpu(r->kc, &r->d, r->x, g_k, r->y) != PCAVS_OK && !r->failed) {
        fprintf(stderr, "upfirdn2d_cpu failed: %s\n", pcavs_last_error());
        r->failed = 1;
    }
}

int main(int argc, char **argv) {
    if (!getenv("OMP_WAIT_POLICY")) { /* see bench_modconv.c */
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        execv("/proc/self/exe", argv);
    }
    pcavs_cpu_init_blas_env(argc, argv);
    const float v[4] = {1, 3, 3, 1};
    for (int i = 0; i < 16; i++) g_k[i] = v[i / 4] * v[i % 4] / 64.0f * 4.0f;
    const int threads = pb_threads();
    pcavs_cpu_set_threads(threads);
    pcavs_kctx kc = pb_host_kctx(16, threads);
    { /* validation */
        pcavs_upfirdn2d_desc dv[2] = {{16, 29, 29, 1, 1, 1, 1, 1, 1, 4, 4}, {6, 28, 28, 2, 1, 2, 1, 2, 1, 4, 4}};
        for (int i = 0; i < 2; i++) {
            const size_t xn = (size_t)dv[i].planes * dv[i].h * dv[i].w;
            const size_t yn = (size_t)dv[i].planes * pcavs_upfirdn2d_out_h(&dv[i]) * pcavs_upfirdn2d_out_w(&dv[i]);
            float *x = pb_alloc_uniform(xn, 1), *y = pb_alloc_uniform(yn, 2), *yr = pb_alloc_uniform(yn, 3);
            int ok = pcavs_upfirdn2d_ref(&kc, &dv[i], x, g_k, yr) == PCAVS_OK &&
                     pcavs_upfirdn2d_cpu(&kc, &dv[i], x, g_k, y) == PCAVS_OK &&
                     pb_validate(i ? "skip upsample" : "blur", y, yr, yn, 1e-5);
            pcavs_aligned_free(x), pcavs_aligned_free(y), pcavs_aligned_free(yr);
            if (!ok) return 1;
        }
    }
    pb_header(threads);
    for (int n = 1; n <= 8; n += 7) {
        /* blur on the transposed-conv output of each upsampling layer: c channels, (2h+1)^2 */
        const int blur_c[5] = {512, 512, 512, 256, 128}, blur_h[5] = {7, 14, 28, 56, 112};
        for (int i = 0; i < 5; i++) {
            const int t = 2 * blur_h[i] + 1;
            pcavs_upfirdn2d_desc d = {n * blur_c[i], t, t, 1, 1, 1, 1, 1, 1, 4, 4};
            const size_t on = (size_t)d.planes * pcavs_upfirdn2d_out_h(&d) * pcavs_upfirdn2d_out_w(&d);
            run_ctx r = {&kc, d, pb_alloc_uniform((size_t)d.planes * t * t, 5), pb_alloc_uniform(on, 6), 0};
            const double ms = pb_time_ms(run_one, &r, 0.3);
            if (r.failed) return 1;
            char shape[80];
            snprintf(shape, sizeof shape, "b%d %dx%dx%d -> %dx%d", n, blur_c[i], t, t, 2 * blur_h[i], 2 * blur_h[i]);
            pb_row("blur up1 pad1,1", shape, ms, 2.0 * 16 * on, 0.0);
            pcavs_aligned_free((void *)r.x), pcavs_aligned_free(r.y);
        }
        const int up_h[5] = {7, 14, 28, 56, 112};
        for (int i = 0; i < 5; i++) {
            pcavs_upfirdn2d_desc d = {n * 3, up_h[i], up_h[i], 2, 1, 2, 1, 2, 1, 4, 4};
            const size_t on = (size_t)d.planes * pcavs_upfirdn2d_out_h(&d) * pcavs_upfirdn2d_out_w(&d);
            run_ctx r = {&kc, d, pb_alloc_uniform((size_t)d.planes * up_h[i] * up_h[i], 7), pb_alloc_uniform(on, 8), 0};
            const double ms = pb_time_ms(run_one, &r, 0.3);
            if (r.failed) return 1;
            char shape[80];
            snprintf(shape, sizeof shape, "b%d 3x%dx%d -> %dx%d", n, up_h[i], up_h[i], 2 * up_h[i], 2 * up_h[i]);
            pb_row("skip upsample up2 pad2,1", shape, ms, 2.0 * 4 * on, 0.0);
            pcavs_aligned_free((void *)r.x), pcavs_aligned_free(r.y);
        }
    }
    pcavs_aligned_free(kc.scratch);
    return 0;
}
