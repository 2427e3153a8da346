/* test_networks.c: stage-by-stage parity of the four PC-AVS networks and of the whole inference
 * dataflow (pipeline/networks) against the PyTorch reference (tests/reference/dump_stages.py on
 * the bundled demo, random-weight checkpoint with randomised BN statistics, biases and noise
 * strengths, fixed noise). The C side is fed only the dumped inputs (in.id_image, in.pose_frames,
 * in.mel) and chains its own outputs: identity -> audio -> pose -> G with the driving pose and
 * with the reference pose, then noise mode "none", then the random-noise contract
 * (deterministic per seed and frame, independent of batching). CPU backend, or the one named by
 * PCAVS_TEST_DEVICE (cpu, cuda, ref) with the same bounds. On cuda (the emulated CUDA build's run,
 * tests/cuda_seam, where each generator call costs ~10 s of CPU) the generator runs once per check: G
 * alone and the dataflow on the driving pose with fixed noise, and the fast modes tf32 and bf16 on G
 * alone; the other variants (reference pose, no noise, identity cache, random noise) are network code
 * the CPU run covers; an nvcc build on a machine without a GPU skips.
 * Bounds: relative L2 <= 1e-4 for every network output and stage, max abs <= 1e-3 on frames
 * (G alone on the reference inputs, and the whole chained C dataflow).
 * A quick run (PCAVS_TEST_QUICK=1, the emulated aarch64 run) keeps V, A and E at full size, E's driving poses
 * and G alone on the first frame, the same bounds, and leaves out the other generator runs.
 * Fixtures: $PCAVS_FIXTURES/stages.safetensors and the converted model
 * $PCAVS_FIXTURES/model.safetensors (pcavs-convert) or, without it,
 * $PCAVS_FIXTURES/model_raw.safetensors (dump_stages.py --weights-out, the same tensor names). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "pcavs_model.h"
#include "safetensors.h"
#include "gemm_bf16.h"
#include "test_util.h"

#define REL 1e-4
#define FRAME_ABS 1e-3
#define NSTAGE 64

/* Stage outputs captured from the C forward (copies). */
typedef struct cap {
    char name[48];
    float *data;
    size_t count;
} cap;
static cap g_caps[NSTAGE];
static int g_ncaps;

static void on_stage(void *user, const char *name, const float *data, int ndim, const int64_t *shape) {
    (void)user;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    cap *c = NULL;
    for (int i = 0; i < g_ncaps; i++)
        if (!strcmp(g_caps[i].name, name)) c = &g_caps[i];
    if (!c) {
        if (g_ncaps == NSTAGE) return;
        c = &g_caps[g_ncaps++];
        snprintf(c->name, sizeof c->name, "%s", name);
    }
    free(c->data);
    c->data = malloc(n * sizeof(float));
    memcpy(c->data, data, n * sizeof(float));
    c->count = n;
}

static void caps_clear(void) {
    for (int i = 0; i < g_ncaps; i++) {
        free(g_caps[i].data);
        g_caps[i].data = NULL;
    }
    g_ncaps = 0;
}

static const cap *cap_get(const char *name) {
    for (int i = 0; i < g_ncaps; i++)
        if (!strcmp(g_caps[i].name, name)) return &g_caps[i];
    return NULL;
}

static pcavs_st_file *g_fx;
/* A quick run (PCAVS_TEST_QUICK: the emulated aarch64 run) drives E and G with this many frames of the fixture's B
 * and compares the reference's first frames; 0 = every frame. */
static int g_quick_frames;

static const float *fx(const char *name, size_t *count) {
    const pcavs_st_entry *e = pcavs_st_find(g_fx, name);
    if (!e || e->t.dtype != PCAVS_F32) {
        pt_check(0, "fixture tensor %s present (F32)", name);
        return NULL;
    }
    *count = (size_t)pcavs_tensor_numel(&e->t);
    return e->t.data;
}

/* Compares the C stage `mine` with the reference tensor `ref` over the reference's size
 * (the G stage dumps keep only the first frame(s)). */
static void cmp_stage(const char *mine, const char *ref) {
    size_t n = 0;
    const float *want = fx(ref, &n);
    const cap *c = cap_get(mine);
    if (!want) return;
    if (!c) {
        pt_check(0, "C stage %s was produced", mine);
        return;
    }
    if (c->count < n && g_quick_frames && n % c->count == 0) /* a quick run's first frame(s) */
        n = c->count;
    if (c->count < n) {
        pt_check(0, "C stage %s has %zu values, reference %s %zu", mine, c->count, ref, n);
        return;
    }
    char what[128];
    snprintf(what, sizeof what, "%s vs %s", mine, ref);
    pt_check_rel_l2(what, c->data, want, n, REL);
}

/* frames: 0 = no max-abs check, else the max-abs bound */
static void cmp_out(const char *what, const float *got, const char *ref, size_t expect_n, double frames) {
    size_t n = 0;
    const float *want = fx(ref, &n);
    if (!want) return;
    if (g_quick_frames && n > expect_n && n % expect_n == 0) n = expect_n; /* the first frames */
    if (!pt_check(n == expect_n, "%s: reference %s has %zu values (expected %zu)", what, ref, n, expect_n)) return;
    pt_check_rel_l2(what, got, want, n, REL);
    if (frames) {
        char w2[128];
        snprintf(w2, sizeof w2, "%s (frames, max abs)", what);
        pt_check_max_abs(w2, got, want, n, frames);
    }
}

/* PSNR of frames in [-1, 1] (peak-to-peak 2, i.e. 8-bit frames' 255) against the reference. */
static double frames_psnr(const float *got, const float *want, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
    return se > 0 ? 10.0 * log10(4.0 / (se / (double)n)) : INFINITY;
}

/* 6. The bf16 mode (pcavs_exec_params.precision; E's 3x3 convs and G's 3x3 modulated convs in bf16): the whole
 * dataflow from the same inputs against PyTorch's float32 frames. The bar is PSNR >= 40 dB; the
 * relative L2 bound 2e-2 allows each of E's and G's ~20 bf16 layers its measured ~2.3e-3 with partial
 * cancellation (measured here: see the printed figures). Skipped where the CPU has no bf16 unit. */
/* The device the test runs on: PCAVS_TEST_DEVICE (cpu, cuda, ref), CPU by default. */
static pcavs_device test_device(void) {
    const char *s = getenv("PCAVS_TEST_DEVICE");
    if (s && !strcmp(s, "cuda")) return PCAVS_DEVICE_CUDA;
    if (s && !strcmp(s, "ref")) return PCAVS_DEVICE_REF;
    return PCAVS_DEVICE_CPU;
}

/* 6 (CUDA). A fast mode (tf32 or bf16: the generator's modulated convolutions on tensor cores, the encoders in
 * float32): G alone on the reference's inputs (as 4.), its frames against PyTorch's float32 ones. The bar
 * is PSNR >= 40 dB; rel L2 <= 2e-2 as the CPU's bf16 mode (measured: see the printed figures). */
static void check_fast_g(const char *model_path, int B, const float *idf, const float *idm, const float *h,
                         const float *a, pcavs_precision prec) {
    const char *pn = prec == PCAVS_PRECISION_TF32 ? "tf32" : "bf16";
    pcavs_exec_params ep;
    pcavs_exec_params_init(&ep);
    ep.device = PCAVS_DEVICE_CUDA;
    ep.precision = prec;
    pcavs_exec *ex = NULL;
    pcavs_model *m = NULL;
    char what[96];
    snprintf(what, sizeof what, "%s: exec create and model load", pn);
    pcavs_status st = pcavs_exec_create(&ep, &ex);
    if (st == PCAVS_OK) st = pcavs_model_load(ex, model_path, &m);
    if (!pt_check_ok(st, what)) {
        pcavs_exec_free(ex);
        return;
    }
    pt_check(pcavs_exec_precision(ex) == prec, "%s: precision in effect is %s", pn, pcavs_exec_precision_name(ex));
    const size_t img = 3 * 224 * 224;
    float *frames = pt_alloc((size_t)B * img);
    pcavs_noise_params fixed = {.mode = PCAVS_NOISE_FIXED};
    size_t nn;
    const float *want = fx("out.driven", &nn);
    snprintf(what, sizeof what, "%s: G alone (driving pose)", pn);
    if (pt_check_ok(pcavs_generate(m, B, idf, idm, B, h, a, &fixed, frames), what) && want &&
        pt_check(nn == (size_t)B * img, "%s: reference out.driven has %zu values", pn, nn)) {
        snprintf(what, sizeof what, "%s: G alone frames vs PyTorch float32", pn);
        pt_check_rel_l2(what, frames, want, (size_t)B * img, 2e-2);
        const double psnr = frames_psnr(frames, want, (size_t)B * img);
        pt_check(psnr >= 40.0, "%s: G alone frames PSNR %.1f dB against PyTorch float32 >= 40 dB", pn, psnr);
    }
    pt_free(frames);
    pcavs_model_free(m);
    pcavs_exec_free(ex);
}

static void check_bf16_dataflow(const char *model_path, int B, const float *id_img, int n_ids, const float *poses,
                                const float *mels) {
    if (pcavs_bf16_unit_detect() == PCAVS_BF16_NONE) {
        pt_skip("bf16 dataflow: this CPU has no bf16 unit (AVX512-BF16 or AMX)");
        return;
    }
    pcavs_exec_params ep;
    pcavs_exec_params_init(&ep);
    ep.precision = PCAVS_PRECISION_BF16;
    ep.debug_nan_poison = 1;
    pcavs_exec *ex = NULL;
    pcavs_model *m = NULL;
    if (!pt_check_ok(pcavs_exec_create(&ep, &ex), "bf16: exec create") ||
        !pt_check_ok(pcavs_model_load(ex, model_path, &m), "bf16: model load")) {
        pcavs_exec_free(ex);
        return;
    }
    pt_check(pcavs_exec_precision(ex) == PCAVS_PRECISION_BF16, "bf16: precision in effect is %s",
             pcavs_exec_precision_name(ex));
    const size_t img = 3 * 224 * 224;
    float *idf = pt_alloc(2048), *idm = pt_alloc(512 * 49), *refp = pt_alloc(512), *a = pt_alloc((size_t)B * 512);
    float *h = pt_alloc((size_t)B * 512), *frames = pt_alloc((size_t)B * img);
    pcavs_noise_params fixed = {.mode = PCAVS_NOISE_FIXED};
    size_t nn;
    const float *want = fx("out.driven", &nn);
    if (pt_check_ok(pcavs_encode_identity(m, n_ids, id_img, idf, idm, refp), "bf16: encode_identity") &&
        pt_check_ok(pcavs_encode_audio(m, B, mels, a), "bf16: encode_audio") &&
        pt_check_ok(pcavs_encode_pose(m, B, poses, h), "bf16: encode_pose") &&
        pt_check_ok(pcavs_generate(m, B, idf, idm, B, h, a, &fixed, frames), "bf16: generate") && want &&
        pt_check(nn == (size_t)B * img, "bf16: reference out.driven has %zu values", nn)) {
        pt_check_rel_l2("bf16 dataflow: E pose vs PyTorch float32", h, fx("E.pose.to_headpose", &nn), (size_t)B * 512,
                        2e-2);
        pt_check_rel_l2("bf16 dataflow: frames vs PyTorch float32", frames, want, (size_t)B * img, 2e-2);
        const double psnr = frames_psnr(frames, want, (size_t)B * img);
        pt_check(psnr >= 40.0, "bf16 dataflow: frames PSNR %.1f dB against PyTorch float32 >= 40 dB", psnr);
    }
    pt_free(idf), pt_free(idm), pt_free(refp), pt_free(a), pt_free(h), pt_free(frames);
    pcavs_model_free(m);
    pcavs_exec_free(ex);
}

int main(void) {
    const char *dir = pt_fixtures_dir();
    if (!dir) {
        pt_skip("PCAVS_FIXTURES is not set (tests/reference/make_all_fixtures.sh creates the fixtures)");
        return pt_finish();
    }
    char stages[1024], model_path[1024];
    snprintf(stages, sizeof stages, "%s/stages.safetensors", dir);
    snprintf(model_path, sizeof model_path, "%s/model.safetensors", dir);
    if (access(model_path, R_OK) != 0) snprintf(model_path, sizeof model_path, "%s/model_raw.safetensors", dir);
    if (access(stages, R_OK) != 0 || access(model_path, R_OK) != 0) {
        pt_skip("missing %s or %s/model{,_raw}.safetensors (dump_stages.py / pcavs-convert not run)", stages, dir);
        return pt_finish();
    }
    printf("model %s, stages %s\n", model_path, stages);
    if (!pt_check_ok(pcavs_st_open(stages, &g_fx), "open stages")) return pt_finish();

    pcavs_exec_params ep;
    pcavs_exec_params_init(&ep);
    ep.device = test_device();
    ep.debug_nan_poison = 1; /* unwritten activations become NaN and fail the comparisons (host backends; device
                              * memory starts NaN under the CUDA emulation) */
    const int cuda = ep.device == PCAVS_DEVICE_CUDA;
    pcavs_exec *ex = NULL;
    pcavs_model *m = NULL;
    pcavs_status st = pcavs_exec_create(&ep, &ex);
    if (st == PCAVS_ERR_UNSUPPORTED && cuda) { /* an nvcc build on a machine without a GPU */
        pt_skip("PCAVS_TEST_DEVICE=cuda: %s", pcavs_last_error());
        return pt_finish();
    }
    if (!pt_check_ok(st, "exec create")) return pt_finish();
    printf("backend %s\n", pcavs_exec_backend_name(ex));

    /* A file without the model's tensors is refused with a message naming the first one. */
    st = pcavs_model_load(ex, stages, &m);
    pt_check(st != PCAVS_OK && strstr(pcavs_last_error(), "V.model.conv1.weight") != NULL,
             "loading a non-model file fails naming V.model.conv1.weight: \"%s\"", pcavs_last_error());
    m = NULL;

    if (!pt_check_ok(pcavs_model_load(ex, model_path, &m), "model load")) return pt_finish();
    pcavs_model_set_stage_callback(m, on_stage, NULL);

    size_t n_id, n_pose, n_mel;
    const float *id_img = fx("in.id_image", &n_id);
    const float *poses = fx("in.pose_frames", &n_pose);
    const float *mels = fx("in.mel", &n_mel);
    if (!id_img || !poses || !mels) return pt_finish();
    const size_t img = 3 * 224 * 224;
    int n_ids = (int)(n_id / img), B = (int)(n_mel / (80 * 20));
    pt_check(B >= 4 && n_pose == (size_t)B * img, "fixture has >= 4 frames with poses (B = %d)", B);
    const int quick = pt_quick();
    g_quick_frames = quick ? 1 : 0;
    const int Bg = quick ? g_quick_frames : B; /* frames driven through E and G */
    if (quick)
        pt_skip(
            "quick run (PCAVS_TEST_QUICK): E's driving poses and G on %d of %d frames; the reference-pose, no-noise, "
            "chained-dataflow, identity-cache, random-noise and bf16 runs of G left out",
            Bg, B);

    /* 1. identity: V and the reference pose (E on the identity image, to_headpose). */
    float *idf = pt_alloc(2048), *idm = pt_alloc(512 * 49), *refp = pt_alloc(512);
    if (pt_check_ok(pcavs_encode_identity(m, n_ids, id_img, idf, idm, refp), "encode_identity")) {
        cmp_stage("V.stem", "V.stem");
        cmp_stage("V.layer1", "V.layer1");
        cmp_stage("V.layer2", "V.layer2");
        cmp_stage("V.layer3", "V.layer3");
        cmp_stage("V.layer4", "V.layer4");
        cmp_out("V id_feature", idf, "V.id_feature", 2048, 0);
        cmp_out("V id_map", idm, "V.id_map", 512 * 49, 0);
        cmp_stage("E.stem", "E.ref.stem");
        cmp_stage("E.hourglass", "E.ref.hourglass");
        cmp_stage("E.feature", "E.ref.feature");
        /* Upstream runs the reference-pose heads on the averaged feature repeated once per frame
         * of the batch (rows identical): compare our single row with every reference row. */
        size_t nrows = 0;
        const float *ref_rows = fx("E.ref.to_headpose", &nrows);
        if (ref_rows && pt_check(nrows % 512 == 0 && nrows >= 512,
                                 "E reference pose: reference E.ref.to_headpose has %zu values (rows of 512)", nrows)) {
            for (size_t r = 0; r < nrows / 512; r++) {
                char what[96];
                snprintf(what, sizeof what, "E reference pose (to_headpose), reference row %zu", r);
                pt_check_rel_l2(what, refp, ref_rows + r * 512, 512, REL);
            }
        }
    }
    caps_clear();

    /* 2. audio: A_sync * 1.2 */
    float *a = pt_alloc((size_t)B * 512);
    if (pt_check_ok(pcavs_encode_audio(m, B, mels, a), "encode_audio")) {
        cmp_stage("A.stem", "A.conv1");
        cmp_stage("A.layer1", "A.layer1");
        cmp_stage("A.layer2", "A.layer2");
        cmp_stage("A.layer3", "A.layer3");
        cmp_stage("A.layer4", "A.layer4");
        cmp_stage("A.attention", "A.attention");
        cmp_stage("A.embedding", "A.embedding");
        cmp_out("A mouth feature (x1.2)", a, "A.mouth_feature", (size_t)B * 512, 0);
    }
    caps_clear();

    /* 3. driving pose: E on the pose frames, to_headpose */
    float *h = pt_alloc((size_t)B * 512);
    if (pt_check_ok(pcavs_encode_pose(m, Bg, poses, h), "encode_pose")) {
        cmp_stage("E.stem", "E.pose.stem");
        cmp_stage("E.hourglass", "E.pose.hourglass");
        cmp_stage("E.feature", "E.pose.feature");
        cmp_out("E driving pose (to_headpose)", h, "E.pose.to_headpose", (size_t)Bg * 512, 0);
    }
    caps_clear();

    /* 4. G alone, on the reference's own inputs (V.id_feature, V.id_map, A.mouth_feature and
     * E.*.to_headpose), fixed noise: every resolution's feature map and RGB skip, then frames. */
    size_t nn;
    const float *r_idf = fx("V.id_feature", &nn), *r_idm = fx("V.id_map", &nn);
    const float *r_a = fx("A.mouth_feature", &nn), *r_h = fx("E.pose.to_headpose", &nn);
    const float *r_ref = fx("E.ref.to_headpose", &nn); /* rows identical: the first one is used */
    float *frames = pt_alloc((size_t)B * img);
    pcavs_noise_params fixed = {.mode = PCAVS_NOISE_FIXED};
    pcavs_noise_params none = {.mode = PCAVS_NOISE_NONE};
    if (r_idf && r_idm && r_a && r_h && r_ref &&
        pt_check_ok(pcavs_generate(m, Bg, r_idf, r_idm, Bg, r_h, r_a, &fixed, frames), "G alone (driving pose)")) {
        cmp_stage("G.style", "style.driven");
        cmp_stage("G.feat7", "G.driven.conv1");
        cmp_stage("G.skip7", "G.driven.skip_7");
        char mine[32], ref[48];
        for (int j = 0, res = 14; j < 5; j++, res *= 2) {
            snprintf(mine, sizeof mine, "G.feat%d", res);
            snprintf(ref, sizeof ref, "G.driven.convs.%d", 2 * j + 1);
            cmp_stage(mine, ref);
            snprintf(mine, sizeof mine, "G.skip%d", res);
            snprintf(ref, sizeof ref, "G.driven.skip_%d", res);
            cmp_stage(mine, ref);
        }
        cmp_out("G alone: frames, driving pose", frames, "out.driven", (size_t)Bg * img, FRAME_ABS);
        caps_clear();
        if (!cuda && !quick &&
            pt_check_ok(pcavs_generate(m, B, r_idf, r_idm, 1, r_ref, r_a, &fixed, frames), "G alone (ref pose)")) {
            cmp_stage("G.style", "style.ref");
            cmp_stage("G.skip7", "G.ref.skip_7");
            cmp_stage("G.skip56", "G.ref.skip_56");
            cmp_stage("G.skip224", "G.ref.skip_224");
            cmp_out("G alone: frames, reference pose", frames, "out.ref", (size_t)B * img, FRAME_ABS);
        }
        caps_clear();
        if (!cuda && !quick && pcavs_st_find(g_fx, "out_nonoise.driven") &&
            pt_check_ok(pcavs_generate(m, B, r_idf, r_idm, B, r_h, r_a, &none, frames), "G alone (no noise)"))
            cmp_out("G alone: frames, driving pose, no noise", frames, "out_nonoise.driven", (size_t)B * img,
                    FRAME_ABS);
    }
    caps_clear();
    pcavs_model_set_stage_callback(m, NULL, NULL);

    /* 5. the whole dataflow: G on the C encoders' outputs, driving pose and reference pose.
     * (Measured with make_checkpoints.py's calibrated weights: max abs ~4e-5 on the frames.) */
    if (!quick && pt_check_ok(pcavs_generate(m, B, idf, idm, B, h, a, &fixed, frames), "dataflow (driving pose)"))
        cmp_out("dataflow: frames, driving pose", frames, "out.driven", (size_t)B * img, FRAME_ABS);
    if (!cuda && !quick &&
        pt_check_ok(pcavs_generate(m, B, idf, idm, 1, refp, a, &fixed, frames), "dataflow (reference pose)"))
        cmp_out("dataflow: frames, reference pose", frames, "out.ref", (size_t)B * img, FRAME_ABS);
    if (!cuda && !quick && pt_check_ok(pcavs_generate(m, B, idf, idm, B, h, a, &none, frames), "dataflow (no noise)"))
        cmp_out("dataflow: frames, driving pose, no noise", frames, "out_nonoise.driven", (size_t)B * img, FRAME_ABS);

    /* 6. another identity, then this one again: G keeps each layer's identity part of the modulation between
     * calls (net_g.c), which must follow the identity (frames holds this identity's no-noise frames) */
    if (!cuda && !quick) {
        float *idf2 = pt_alloc(PCAVS_ID_DIM), *f2 = pt_alloc((size_t)B * img), *f3 = pt_alloc((size_t)B * img);
        for (int i = 0; i < PCAVS_ID_DIM; i++) idf2[i] = idf[PCAVS_ID_DIM - 1 - i]; /* reversed */
        if (pt_check_ok(pcavs_generate(m, B, idf2, idm, B, h, a, &none, f2), "generate (another identity)") &&
            pt_check_ok(pcavs_generate(m, B, idf, idm, B, h, a, &none, f3), "generate (the first identity again)")) {
            const double d2 = pt_rel_l2(f2, frames, (size_t)B * img);
            pt_check(d2 > 1e-3, "another identity gives other frames (rel L2 %.3g > 1e-3)", d2);
            pt_check_rel_l2("the first identity again: the same frames", f3, frames, (size_t)B * img, 1e-7);
        }
        pt_free(idf2), pt_free(f2), pt_free(f3);
    }

    /* 7. random noise: reproducible per (seed, frame), independent of batching, seed matters */
    float *r2 = pt_alloc(2 * img), *r1 = pt_alloc(2 * img), *r3 = pt_alloc(img);
    pcavs_noise_params rnd = {.mode = PCAVS_NOISE_RANDOM, .seed = 7, .first_frame = 10};
    int ok =
        !cuda && !quick && pt_check_ok(pcavs_generate(m, 2, idf, idm, 2, h, a, &rnd, r2), "generate random batch 2");
    for (int i = 0; i < 2 && ok; i++) {
        pcavs_noise_params one = rnd;
        one.first_frame = rnd.first_frame + i;
        ok = pt_check_ok(pcavs_generate(m, 1, idf, idm, 1, h + i * 512, a + i * 512, &one, r1 + i * img),
                         "generate random batch 1");
    }
    if (ok) pt_check_rel_l2("random noise: batch 2 == two batch-1 calls", r1, r2, 2 * img, 1e-4);
    pcavs_noise_params other = rnd;
    other.seed = 8;
    if (ok && pt_check_ok(pcavs_generate(m, 1, idf, idm, 1, h, a, &other, r3), "generate other seed")) {
        double d = pt_rel_l2(r3, r2, img), dn = pt_rel_l2(r2, frames, img);
        pt_check(d > 1e-4, "another seed gives other frames (rel L2 %.3g > 1e-4)", d);
        pt_check(dn > 1e-4, "random noise differs from no noise (rel L2 %.3g > 1e-4)", dn);
    }

    printf("arena bytes after all batch sizes: %.1f MB, weights %.1f MB\n", pcavs_model_arena_bytes(m) / 1e6,
           pcavs_model_weight_bytes(m) / 1e6);
    if (!cuda && !quick) {
        check_bf16_dataflow(model_path, B, id_img, n_ids, poses, mels);
    } else if (cuda && r_idf && r_idm && r_a && r_h) {
        check_fast_g(model_path, B, r_idf, r_idm, r_h, r_a, PCAVS_PRECISION_TF32);
        check_fast_g(model_path, B, r_idf, r_idm, r_h, r_a, PCAVS_PRECISION_BF16);
    }
    pt_free(idf), pt_free(idm), pt_free(refp), pt_free(a), pt_free(h), pt_free(frames);
    pt_free(r1), pt_free(r2), pt_free(r3);
    pcavs_model_free(m);
    pcavs_exec_free(ex);
    pcavs_st_close(g_fx);
    return pt_finish();
}
