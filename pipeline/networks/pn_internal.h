/* pn_internal.h: what the network sources share: weight structs of the four networks, the
 * loader helpers (tensor lookup with shape checks, BatchNorm folding, upload to the backend),
 * and the forward context (backend, arena in measure or run mode, stage callback).
 *
 * Forward functions run twice per batch size: once with the arena in measure mode (kernels
 * skipped, pointers are placeholders) to size the arena, then for real. Kernel calls go
 * through PN_K so the same code does both. Convention: a callee writes into an output buffer
 * its caller allocated, allocates its temporaries above it and releases them before returning. */
#ifndef PCAVS_PIPELINE_PN_INTERNAL_H
#define PCAVS_PIPELINE_PN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "exec.h"
#include "pcavs_model.h"
#include "safetensors.h"
#include "status.h"

/* ---- weights ---- */

typedef struct pn_conv {
    const float *w; /* [c_out, c_in/groups, k, k] (BN folded) */
    const float *b; /* [c_out] or NULL */
    int c_in, c_out, k, stride, pad, groups;
    const void *prep; /* the backend's own forms of w (backend.h's prepare_conv2d; conv2d.h's prepared), or NULL */
} pn_conv;

typedef struct pn_bn {
    const float *scale, *shift; /* [c] */
    int c;
} pn_bn;

typedef struct pn_linear {
    const float *w; /* [out, in] */
    const float *b; /* [out] or NULL */
    int in, out;
} pn_linear;

/* V: torchvision Bottleneck (ResNeXt 32x4d), BN folded. */
typedef struct pn_v_block {
    pn_conv c1, c2, c3, ds;
    int has_ds;
} pn_v_block;
typedef struct pn_v {
    pn_conv stem;
    pn_v_block blocks[16]; /* 3 + 4 + 6 + 3 */
    pn_conv conv1x1;
} pn_v;

/* E: FAN ConvBlock (pre-activation BN -> ReLU -> conv). */
typedef struct pn_convblock {
    pn_bn bn1, bn2, bn3, ds_bn;
    pn_conv c1, c2, c3, ds;
    int has_ds;
} pn_convblock;
typedef struct pn_e {
    pn_conv stem; /* conv1 + bn1 */
    pn_convblock conv2, conv3, conv4;
    pn_convblock hg_b1[5], hg_b2[5], hg_b3[5], hg_b2_plus1; /* index = level 1..4 */
    pn_convblock top_m;
    pn_conv conv_last; /* conv_last0 + bn_end0 */
    pn_conv l0;        /* l0 + bn5 */
    pn_conv conv6;
    pn_linear fc;
    pn_linear to_headpose0, to_headpose2, headpose_embed, mouth_embed;
} pn_e;

/* A_sync: SEBasicBlock. */
typedef struct pn_a_block {
    pn_conv c1; /* conv1 (no bias), then ReLU, then bn1 (not foldable) */
    pn_bn bn1;
    pn_conv c2; /* conv2 + bn2 */
    pn_linear se1, se2;
    pn_conv ds; /* 1x1 stride + BN */
    int has_ds;
} pn_a_block;
typedef struct pn_a {
    pn_conv stem; /* conv1 (bias), then ReLU, then bn1 */
    pn_bn stem_bn;
    pn_a_block blocks[16];
    pn_conv att0; /* Conv1d 2560 -> 128 as a 1x1 conv */
    pn_bn att_bn;
    pn_conv att3;       /* Conv1d 128 -> 2560 */
    const float *ones3; /* [1, 3]: the sum over time as a linear */
    pn_linear fc;
} pn_a;

/* G: one StyledConv or ToRGB. */
typedef struct pn_modconv {
    const float *w;   /* [c_out, c_in, k, k] */
    const void *prep; /* the backend's own forms of w (backend.h's prepare_modconv; modconv.h's prepared), or NULL */
    /* the modulation (EqualLinear 2560 -> c_in, weight pre-scaled by 1/sqrt(2560)) split by the style's parts:
     * style = mod_id(id_feature) (with the bias) + mod_pose(mouth, pose) (no bias); the identity's part is
     * the same for every frame of a video, so it is kept in id_part (pn_g's cache) */
    pn_linear mod_id;   /* 2048 -> c_in, with the bias */
    pn_linear mod_pose; /* 512 -> c_in, b NULL */
    float *id_part;     /* [c_in] device: mod_id(the cached identity) */
    const float *bias;  /* activate.bias [c_out] (StyledConv) or ToRGB bias [3] */
    const float *blur;  /* [4, 4] for the upsampling conv / the ToRGB skip upsample, else NULL */
    float noise_weight;
    const float *noise_fixed; /* host [hw] (noises.noise_i) for StyledConv */
    int c_in, c_out, k, upsample, demodulate;
} pn_modconv;
typedef struct pn_g {
    pn_modconv conv1, to_rgb1;
    pn_modconv convs[10], to_rgbs[5];
    /* every layer's id_part holds mod_id(id_key) where id_valid, so that a frame reads only the 15 MB of
     * pose columns of the 73 MB of modulation weights */
    float id_key[PCAVS_ID_DIM];
    int id_valid;
} pn_g;

/* ---- workspaces and the model ---- */

typedef struct pn_ws {
    int planned_n; /* batch size the arena was measured for (0: none) */
    size_t cap;
    void *mem; /* backend memory */
} pn_ws;

enum { PN_WS_V, PN_WS_E, PN_WS_A, PN_WS_G, PN_WS_HEAD, PN_WS_COUNT };

struct pcavs_model {
    pcavs_exec *ex;
    pn_v v;
    pn_e e;
    pn_a a;
    pn_g g;
    void **allocs; /* backend allocations of weights */
    int n_allocs, cap_allocs;
    void **preps; /* the backend's prepared weight forms (its free_prepared releases them) */
    int n_preps, cap_preps;
    size_t weight_bytes;
    float *host_noise_fixed; /* host copy of noises.noise_0..10, concatenated */
    float *host_stage;       /* host staging for device stage dumps and noise generation */
    size_t host_stage_cap;
    float *host_noise; /* host [b, sum of layer sizes] noise of one generator call */
    size_t host_noise_cap;
    pn_ws ws[PN_WS_COUNT];
    pcavs_stage_fn stage_fn;
    void *stage_user;
};

/* ---- forward context ---- */

typedef struct pn_ctx {
    pcavs_model *m;
    const pcavs_backend *be;
    const pcavs_kctx *kc;
    pcavs_arena ar;
    int measure; /* 1: sizing pass, no kernel runs */
} pn_ctx;

#define PN_K(c, call)                                                                                                  \
    do {                                                                                                               \
        if (!(c)->measure) PCAVS_TRY(call);                                                                            \
    } while (0)

#define PN_ALLOC(c, ptr, count)                                                                                        \
    do {                                                                                                               \
        (ptr) = pcavs_arena_floats(&(c)->ar, (size_t)(count));                                                         \
        if (!(ptr))                                                                                                    \
            return pcavs_fail(PCAVS_ERR_INTERNAL, "%s: activation arena overflow (%zu floats)", __func__,              \
                              (size_t)(count));                                                                        \
    } while (0)

/* Runs `body(c, args)` under workspace `which` for batch n: plans (measure pass + one
 * allocation) when n differs from the planned size, then runs for real. */
typedef pcavs_status (*pn_body_fn)(pn_ctx *c, void *args);
pcavs_status pn_run(pcavs_model *m, int which, int n, pn_body_fn body, void *args);

/* Stage dump through the model's callback (no-op when measuring or no callback). */
pcavs_status pn_stage(pn_ctx *c, const char *name, const float *x, int ndim, const int64_t *shape);
pcavs_status pn_stage4(pn_ctx *c, const char *name, const float *x, int n, int ch, int h, int w);
/* Host -> backend into an arena buffer (skipped when measuring). */
pcavs_status pn_upload(pn_ctx *c, float *dst, const float *src, size_t count);
pcavs_status pn_download(pn_ctx *c, float *dst, const float *src, size_t count);

/* Ops on the weight structs. */
int pn_conv_out(const pn_conv *cv, int size);
pcavs_status pn_conv_run(pn_ctx *c, const pn_conv *cv, int n, int h, int w, const float *x, float *y, pcavs_act act);
pcavs_status pn_linear_run(pn_ctx *c, const pn_linear *l, int rows, const float *x, float *y, pcavs_act act);
pcavs_status pn_bn_run(pn_ctx *c, const pn_bn *bn, int n, int hw, const float *x, float *y, pcavs_act act);

/* ---- loading ---- */

typedef struct pn_loader {
    pcavs_model *m;
    pcavs_st_file *f;
    const char *net; /* "V", "E", "A_sync", "G" */
} pn_loader;

/* Looks up "<net>.<name>" as F32 with the given shape; *data points into the file. */
pcavs_status pn_get(pn_loader *L, const char *name, int ndim, const int64_t *shape, const float **data);
/* Copies count floats to backend memory owned by the model. */
pcavs_status pn_upload_weight(pn_loader *L, const float *host, size_t count, const float **dev);
/* The backend's own forms of a layer's weight w_host (host, the layer's batch-1 descriptor d), prepared by its
 * prepare slot for precision p and owned by the model: *prep is the handle to pass as the descriptor's `prepared`
 * (NULL where the backend keeps the plain weight). */
pcavs_status pn_prepare_conv2d(pn_loader *L, const pcavs_conv2d_desc *d, const float *w_host, pcavs_precision p,
                               const void **prep);
pcavs_status pn_prepare_modconv(pn_loader *L, const pcavs_modconv_desc *d, const float *w_host, pcavs_precision p,
                                const void **prep);
/* Conv "<name>.weight" [c_out, c_in/groups, k, k] (+ "<name>.bias" when has_bias), BN "<bn>"
 * folded in when bn != NULL. */
pcavs_status pn_load_conv(pn_loader *L, pn_conv *cv, const char *name, int has_bias, const char *bn, int c_in,
                          int c_out, int k, int stride, int pad, int groups);
/* BN "<name>.{weight,bias,running_mean,running_var}" as scale/shift. */
pcavs_status pn_load_bn(pn_loader *L, pn_bn *bn, const char *name, int c);
/* Linear "<name>.weight" [out, in] and "<name>.bias", weight multiplied by `wscale`. */
pcavs_status pn_load_linear(pn_loader *L, pn_linear *l, const char *name, int in, int out, float wscale);

pcavs_status pn_load_v(pn_loader *L);
pcavs_status pn_load_e(pn_loader *L);
pcavs_status pn_load_a(pn_loader *L);
pcavs_status pn_load_g(pn_loader *L);

#endif
