/* pcavs_render.h: one talking-face clip from files to an MP4, mirroring upstream inference.py
 * (`inference_single_audio`) with data/voxtest_dataset.py (VOXTestDataset) as the data source:
 *   identity (image | %06d frames folder | video: every frame an identity image, averaged)
 *     -> V (id_feature, id_map) and, when the reference pose is needed, E -> to_headpose (ref pose);
 *   spectrogram (from the audio file, or upstream's precomputed .npy [T, 80])
 *     -> output frames k = 2 .. M/4-3 (docs/model.md §7.2), window rows [4k-8, 4k+12) -> A_sync * 1.2;
 *   pose source (folder | video) -> pose frame calc_loop_idx(k, P) (ping-pong) -> E -> h,
 *     each pose frame's 512-d h computed once and cached (2 KB per pose frame), so the backward
 *     laps of the ping-pong cost nothing and a pose video is decoded once, front to back;
 *   batches of B frames -> G -> frames streamed into ffmpeg (H.264 MP4, 25 fps, the audio muxed in).
 * Memory is bounded by the batch size and the pose length (not the video length).
 *
 * Timing. Upstream writes output frame j (= k - 2) at time j/25 s and muxes the audio from its start,
 * but frame k's audio window is centred on video time k/25 s: its video runs two frames (80 ms)
 * ahead of its audio. By default we mux the audio starting 80 ms into the file (ffmpeg input -ss
 * 0.08), so frame j at j/25 s shows the mouth of audio time j/25 s: in sync. upstream_timing = 1
 * muxes the audio from 0 as upstream does. The frames and their count (M/4 - 4) are the same either
 * way; only the audio track's start differs.
 *
 * Outputs are written to temporary files beside their targets and renamed only when the whole clip
 * succeeded: a failure never leaves a truncated video and never replaces an existing one. */
#ifndef PCAVS_PIPELINE_RENDER_H
#define PCAVS_PIPELINE_RENDER_H

#include <stdint.h>

#include "pcavs.h"
#include "pcavs_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_RENDER_FPS 25
#define PCAVS_RENDER_SYNC_SKIP_S 0.08 /* 2 video frames: the audio offset that puts frames in sync */

/* pcavs_render_params, pcavs_render_result, pcavs_progress_fn, pcavs_render_params_init and
 * pcavs_render_parse_csv_line are public: include/pcavs.h ("whole clips"). */

/* Renders one clip. progress and res may be NULL. */
pcavs_status pcavs_render_clip(pcavs_model *m, const pcavs_render_params *p, pcavs_progress_fn progress, void *user,
                               pcavs_render_result *res);

#ifdef __cplusplus
}
#endif
#endif
