/* pcavs_render.h: one talking-face clip from files to an MP4, mirroring upstream inference.py
 * (`inference_single_audio`) with data/voxtest_dataset.py (VOXTestDataset) as the data source:
 *   identity (image | %06d frames folder | video: every frame an identity image, averaged)
 *     -> V (id_feature, id_map) and, when the reference pose is needed, E -> to_headpose (ref pose);
 *   spectrogram (from the audio file, or upstream's precomputed .npy [T, 80])
 *     -> output frames k = 2 .. M/4-3 (PCAVS.md section 6), window rows [4k-8, 4k+12) -> A_sync * 1.2;
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

typedef enum pcavs_output_pose {
    PCAVS_OUTPUT_DRIVING = 0,   /* the driving pose (upstream --driving_pose); without a pose source, the
                                 * identity image's own pose */
    PCAVS_OUTPUT_REFERENCE = 1, /* the identity image's own pose (upstream G_Fix_Pose) */
    PCAVS_OUTPUT_BOTH = 2       /* both: `output` gets the driving one, `output_ref` the reference one */
} pcavs_output_pose;

typedef struct pcavs_render_params {
    /* inputs */
    const char *face;  /* identity: image file, frames folder (.jpg/.png files, sorted by name) or video */
    int max_faces;     /* use at most this many identity images (0 = all of the folder/video) */
    const char *audio; /* driving audio (any format; muxed into the output); may be NULL when mel is set */
    const char *mel;   /* upstream's precomputed spectrogram (.npy [T, 80]) instead of the audio's; or NULL */
    const char *pose;  /* pose source: frames folder (%06d.jpg from 0) or video; NULL = identity's pose */
    long pose_frames;  /* P for the ping-pong (CSV field 4); 0 = every frame of the pose source */
    const char *mouth; /* folder of ground-truth frames (%06d.jpg, frame k for output frame k-2) or NULL */
    /* outputs (any may be NULL, at least one must be set) */
    const char *output;       /* the generated video (.mp4) */
    const char *output_ref;   /* PCAVS_OUTPUT_BOTH: the reference-pose video */
    const char *side_by_side; /* identity | generated | pose source | mouth source (upstream avconcat.mp4) */
    const char *frames_dir;   /* lossless PNGs: DIR/%06d.png (and DIR/ref_%06d.png with BOTH) */
    /* behaviour */
    pcavs_output_pose output_pose; /* default PCAVS_OUTPUT_DRIVING */
    int batch;                     /* frames per network call (default 4) */
    pcavs_noise_mode noise;        /* default PCAVS_NOISE_RANDOM (upstream) */
    uint64_t seed;                 /* default 0 */
    int upstream_timing;           /* 1: mux the audio from 0 like upstream (video 80 ms early) */
    long max_frames;               /* 0 = all M/4-4 frames; else at most this many (previews, tests) */
} pcavs_render_params;

void pcavs_render_params_init(pcavs_render_params *p);

/* Called after each batch with the frames finished so far and the total; done == total at the end. */
typedef void (*pcavs_progress_fn)(void *user, long done, long total);

typedef struct pcavs_render_result {
    long n_frames;         /* frames written */
    double video_seconds;  /* n_frames / 25 */
    double load_seconds;   /* inputs + identity + first pose embeddings before the first frame */
    double total_seconds;  /* the whole call */
    long pose_frames_used; /* P */
    int n_faces;           /* identity images averaged */
} pcavs_render_result;

/* Renders one clip. progress and res may be NULL. */
pcavs_status pcavs_render_clip(pcavs_model *m, const pcavs_render_params *p, pcavs_progress_fn progress, void *user,
                               pcavs_render_result *res);

/* Splits one line of upstream's metadata CSV (8 space-separated fields: id folder, number of id images,
 * pose folder, number of pose frames, audio, mouth-frames folder, number of mouth frames, spectrogram
 * .npy or 'dummy') into p's inputs. The strings point into `line`, which is modified (kept alive by the
 * caller). A pose or mouth path that is not a directory means none (as upstream); a spectrogram that
 * is not a file means "compute it from the audio". `name` receives upstream's results folder name
 * "id_<id>_pose_<pose>_audio_<audio stem>". */
pcavs_status pcavs_render_parse_csv_line(char *line, pcavs_render_params *p, char *name, size_t name_cap);

#ifdef __cplusplus
}
#endif
#endif
