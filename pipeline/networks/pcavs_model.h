/* pcavs_model.h: the four PC-AVS networks loaded from a converted safetensors file, and the
 * inference dataflow of upstream `AvModel.inference` (models/av_model.py) as entry points:
 *   identity images -> V (id_feature, id_map) and E.model + to_headpose (reference pose);
 *   pose frames     -> E.model + to_headpose (driving pose h);
 *   mel windows     -> A_sync (ResSESyncEncoder.forward_feature) * 1.2 (mouth feature a);
 *   (id, h, a)      -> style = cat(id_feature, mouth_embed(a), headpose_embed(h)) -> G -> frames.
 * Internal API (pipeline/CLI and tests); not part of the public pcavs.h.
 *
 * Tensors are read as "<net>.<upstream key>" (e.g. "G.convs.0.conv.weight"), each checked by
 * name and shape; BatchNorm is folded into the preceding convolution at load wherever the order
 * is conv -> BN (and the EqualLinear scale 1/sqrt(2560) into the modulation weights). Tensors
 * inference never reads are not loaded. Activations come from one arena per network, planned
 * once per batch size (measure pass, then one allocation), reused for every later call.
 *
 * All pointers passed to the entry points are host memory; the model moves data to and from
 * the backend (identity copies on CPU). */
#ifndef PCAVS_PIPELINE_MODEL_H
#define PCAVS_PIPELINE_MODEL_H

#include <stdint.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_IMG 224           /* input/output frame side */
#define PCAVS_ID_DIM 2048       /* id_feature */
#define PCAVS_POSE_DIM 512      /* FAN feature, to_headpose output, audio feature */
#define PCAVS_STYLE_DIM 2560    /* 2048 + 500 + 12 */
#define PCAVS_MOUTH_WEIGHT 1.2f /* mouth_feature_weight in AvModel.inference */

typedef struct pcavs_model pcavs_model;

/* Receives intermediate outputs (host memory, valid only during the call) for parity tests.
 * Names: see the forward functions in pipeline/networks/net_*.c ("V.layer1", "E.hourglass",
 * "A.embedding", "G.feat56", "G.skip56", ...). Batch is the leading dimension. */
typedef void (*pcavs_stage_fn)(void *user, const char *name, const float *data, int ndim, const int64_t *shape);

pcavs_status pcavs_model_load(pcavs_exec *ex, const char *path, pcavs_model **out);
void pcavs_model_free(pcavs_model *m);
void pcavs_model_set_stage_callback(pcavs_model *m, pcavs_stage_fn fn, void *user);
/* Bytes of backend memory held by weights and by the activation arenas (for logs/benches). */
size_t pcavs_model_weight_bytes(const pcavs_model *m);
size_t pcavs_model_arena_bytes(const pcavs_model *m);

/* ---- per-network forwards on batches ---- */

/* V: images [n, 3, 224, 224] -> id_feature [n, 2048] (global pool), id_map [n, 512, 7, 7]
 * (conv1x1 + adaptive pool). Either output may be NULL. */
pcavs_status pcavs_v_forward(pcavs_model *m, int n, const float *images, float *id_feature, float *id_map);
/* E.model (FAN_use): frames [n, 3, 224, 224] -> feature [n, 512]; when `headpose` is not NULL,
 * also to_headpose(feature) -> headpose [n, 512]. */
pcavs_status pcavs_e_forward(pcavs_model *m, int n, const float *frames, float *feature, float *headpose);
/* to_headpose on FAN features [n, 512] -> [n, 512] (used for the averaged reference pose). */
pcavs_status pcavs_headpose_from_feature(pcavs_model *m, int n, const float *feature, float *headpose);
/* A_sync: mel windows [n, 1, 80, 20] -> embedding [n, 512] (without the 1.2 weight). */
pcavs_status pcavs_a_forward(pcavs_model *m, int n, const float *mel, float *embedding);

/* ---- the dataflow (docs/model.md §7) ---- */

/* Identity from n >= 1 images [n, 3, 224, 224]: id_feature [2048] and id_map [512, 7, 7]
 * averaged over the n images; ref_pose [512] = to_headpose(mean over images of E.model(image)).
 * ref_pose may be NULL (then E is not run). */
pcavs_status pcavs_encode_identity(pcavs_model *m, int n, const float *images, float *id_feature, float *id_map,
                                   float *ref_pose);
/* Driving pose frames [b, 3, 224, 224] -> h [b, 512] (to_headpose output). */
pcavs_status pcavs_encode_pose(pcavs_model *m, int b, const float *frames, float *h);
/* Mel windows [b, 1, 80, 20] -> mouth feature a [b, 512] = 1.2 * A_sync(mel). */
pcavs_status pcavs_encode_audio(pcavs_model *m, int b, const float *mel, float *a);

/* pcavs_noise_mode and pcavs_noise_params are public: declared in pcavs.h. */

/* Frames [b, 3, 224, 224] in [-1, 1] from id_feature [2048], id_map [512, 7, 7], head pose
 * h [h_rows, 512] (h_rows = b, or 1 to use the same pose, e.g. the reference pose, for every
 * frame) and mouth feature a [b, 512] (already weighted by 1.2). noise NULL = RANDOM, seed 0. */
pcavs_status pcavs_generate(pcavs_model *m, int b, const float *id_feature, const float *id_map, int h_rows,
                            const float *h, const float *a, const pcavs_noise_params *noise, float *frames);

#ifdef __cplusplus
}
#endif
#endif
