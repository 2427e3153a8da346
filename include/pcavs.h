/* pcavs.h: the public C API of pcavs, a native inference engine for PC-AVS
 * ("Pose-Controllable Talking Face Generation", CVPR 2021).
 *
 * Conventions: every public symbol starts with pcavs_; functions that can fail return a
 * pcavs_status and leave a one-line message readable with pcavs_last_error() (thread-local);
 * handles are opaque and come in create/free pairs; parameter structs are filled with
 * defaults by *_params_init. The library never exits or aborts on bad input. */
#ifndef PCAVS_H
#define PCAVS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every public function is marked PCAVS_API: the shared library libpcavs exports exactly these
 * (a version script generated from this header; everything else is hidden). */
#if defined(_WIN32)
#define PCAVS_API
#elif defined(__GNUC__)
#define PCAVS_API __attribute__((visibility("default")))
#else
#define PCAVS_API
#endif

#define PCAVS_VERSION_MAJOR 0
#define PCAVS_VERSION_MINOR 1
#define PCAVS_VERSION_PATCH 0

typedef enum pcavs_status {
    PCAVS_OK = 0,
    PCAVS_ERR_INVALID_ARG = 1, /* NULL pointer, bad size, bad option */
    PCAVS_ERR_IO = 2,          /* missing, unreadable or unwritable file */
    PCAVS_ERR_FORMAT = 3,      /* corrupt or unsupported file contents */
    PCAVS_ERR_SHAPE = 4,       /* tensor or image of the wrong shape */
    PCAVS_ERR_OOM = 5,         /* allocation failed or a capped area is too small */
    PCAVS_ERR_UNSUPPORTED = 6, /* valid request this build cannot do (e.g. no CUDA) */
    PCAVS_ERR_BACKEND = 7,     /* a backend (CUDA, BLAS) reported an error */
    PCAVS_ERR_INTERNAL = 8,    /* a bug: please report */
    PCAVS_ERR_CANCELLED = 9    /* the caller asked to stop (pcavs_render_params.cancel) */
} pcavs_status;

/* The message of the last failure on the calling thread ("" if none). */
PCAVS_API const char *pcavs_last_error(void);
/* A short name for a status code. */
PCAVS_API const char *pcavs_status_name(pcavs_status st);

typedef enum pcavs_log_level {
    PCAVS_LOG_DEBUG = 0,
    PCAVS_LOG_INFO = 1,
    PCAVS_LOG_WARN = 2,
    PCAVS_LOG_ERROR = 3
} pcavs_log_level;

typedef void (*pcavs_log_fn)(pcavs_log_level level, const char *message, void *user);

typedef enum pcavs_device {
    PCAVS_DEVICE_CPU = 0, /* optimised CPU kernels (OpenBLAS, SIMD, threads) */
    PCAVS_DEVICE_CUDA = 1,
    PCAVS_DEVICE_REF = 2 /* naive reference kernels: slow, the truth for tests */
} pcavs_device;

/* Arithmetic of the networks' heavy convolutions. */
typedef enum pcavs_precision {
    PCAVS_PRECISION_FP32 = 0, /* float32 throughout (default; the parity tests' mode) */
    PCAVS_PRECISION_BF16 = 1, /* CPU: the generator's and E's 3x3 convolutions multiply bf16 operands with float32
                               * sums on AMX-BF16 (all of them) or AVX512-BF16 (those where that beats float32
                               * Winograd: upsampling and small layers); everything else stays float32: faster,
                               * ~2e-3 relative error per layer, frames within ~40+ dB PSNR of float32.
                               * Where the CPU has neither unit it runs float32 and says so.
                               * CUDA: the generator's modulated convolutions (~3/4 of a frame's multiply-adds)
                               * on bf16 tensor cores (operands rounded to bf16, float32 sums: cuBLAS
                               * CUBLAS_COMPUTE_32F_FAST_16BF); the encoders stay float32 (in bf16 they cost
                               * ~20 dB). Frames ~53 dB PSNR from float32's. */
    PCAVS_PRECISION_TF32 = 2  /* CUDA only: the generator's modulated convolutions on TF32 tensor cores (operands
                               * rounded to a 10-bit mantissa, float32 sums: CUBLAS_COMPUTE_32F_FAST_TF32).
                               * The CPU has no TF32 unit: it runs float32 and says so. */
} pcavs_precision;

/* Execution settings shared by every entry point that runs kernels. */
typedef struct pcavs_exec_params {
    pcavs_device device;  /* default PCAVS_DEVICE_CPU */
    int n_threads;        /* CPU threads; 0 = all cores (default) */
    size_t scratch_bytes; /* capped scratch area for kernels; 0 = default (256 MiB, lazily touched) */
    int debug_nan_poison; /* 1: fill every fresh arena buffer with NaN (catches unwritten outputs) */
    pcavs_log_fn log;     /* NULL = messages at WARN and above go to stderr */
    void *log_user;
    pcavs_log_level log_level; /* default PCAVS_LOG_WARN */
    pcavs_precision precision; /* default PCAVS_PRECISION_FP32 */
} pcavs_exec_params;

PCAVS_API void pcavs_exec_params_init(pcavs_exec_params *p);

/* An execution context: a backend chosen once, threads, scratch. Opaque. */
typedef struct pcavs_exec pcavs_exec;

PCAVS_API pcavs_status pcavs_exec_create(const pcavs_exec_params *p, pcavs_exec **out);
PCAVS_API void pcavs_exec_free(pcavs_exec *ex);
/* Name of the backend in use ("cpu", "cpu-ref", "cuda"). */
PCAVS_API const char *pcavs_exec_backend_name(const pcavs_exec *ex);
/* The precision in effect (a bf16 or tf32 request falls back to float32 where it cannot run) and its name:
 * "fp32", "bf16 (AMX-BF16)", "bf16 (AVX512-BF16)", "bf16 (tensor cores)" or "tf32 (tensor cores)". */
PCAVS_API pcavs_precision pcavs_exec_precision(const pcavs_exec *ex);
PCAVS_API const char *pcavs_exec_precision_name(const pcavs_exec *ex);

/* ===================================================================================== *
 * The embedding API: load a model, encode identity / pose / audio into plain float       *
 * features (editable: swap identities, interpolate poses, scale the mouth feature),      *
 * generate frames from features, and a streaming session (PCM in, frames out).           *
 * ===================================================================================== */

/* Library version "MAJOR.MINOR.PATCH". */
PCAVS_API const char *pcavs_version(void);

/* ---- sizes (floats) of the features, all plain host arrays ---- */
#define PCAVS_FRAME_SIDE 224            /* input and output frames: [224, 224, 3] RGB (VoxCeleb2-style crops) */
#define PCAVS_ID_FEATURE_SIZE 2048      /* identity feature (V, global pool) */
#define PCAVS_ID_MAP_SIZE (512 * 7 * 7) /* identity map [512, 7, 7] (V, the generator's input map) */
#define PCAVS_POSE_FEATURE_SIZE 512     /* head pose h = to_headpose(E(frame)) */
#define PCAVS_AUDIO_FEATURE_SIZE 512    /* mouth feature a = 1.2 * A_sync(mel window) */
#define PCAVS_MEL_BANDS 80              /* spectrogram row: 80 mel bands, one row per 10 ms */
#define PCAVS_SAMPLE_RATE 16000         /* the model's audio rate */
#define PCAVS_FPS 25                    /* output frames per second */
#define PCAVS_SAMPLES_PER_FRAME 640     /* 16000 / 25 */

/* Generator noise (StyleGAN2 noise injection). */
typedef enum pcavs_noise_mode {
    PCAVS_NOISE_RANDOM = 0, /* fresh N(0,1) per layer and frame, from `seed` (upstream's default) */
    PCAVS_NOISE_FIXED = 1,  /* the checkpoint's noises.noise_0..10 buffers (randomize_noise=False) */
    PCAVS_NOISE_NONE = 2    /* zero noise */
} pcavs_noise_mode;

typedef struct pcavs_noise_params {
    pcavs_noise_mode mode;
    uint64_t seed;       /* RANDOM: noise of frame t, layer l depends only on (seed, t, l) */
    int64_t first_frame; /* RANDOM: index t of the first frame of this call */
} pcavs_noise_params;

/* ---- context: one loaded model on one device ---- */

typedef struct pcavs_context pcavs_context;

typedef struct pcavs_context_params {
    pcavs_exec_params exec; /* device, threads, scratch, log callback (pcavs_exec_params_init defaults) */
    int max_batch;          /* frames per network call (default 4; 1..256). Results do not depend on it
                             * except for float rounding of batched GEMMs (see the streaming notes). */
} pcavs_context_params;

PCAVS_API void pcavs_context_params_init(pcavs_context_params *p);
/* Loads a converted model (pcavs-convert output, .safetensors). p NULL = defaults. */
PCAVS_API pcavs_status pcavs_context_create(const char *model_path, const pcavs_context_params *p, pcavs_context **out);
/* Frees the context (NULL is a no-op). Streams created from it must be freed first.
 * A context and its streams are used by one thread at a time (they share the model's activation arenas);
 * use one context per thread for parallel work. */
PCAVS_API void pcavs_context_free(pcavs_context *ctx);
/* "cpu", "cpu-ref" or "cuda"; "invalid" for a bad handle. */
PCAVS_API const char *pcavs_context_backend_name(const pcavs_context *ctx);
/* The precision in effect, as pcavs_exec_precision_name ("invalid" for a bad handle). */
PCAVS_API const char *pcavs_context_precision_name(const pcavs_context *ctx);

/* Memory returned by the helpers below (pcavs_image_read, pcavs_audio_read, pcavs_video_read_frames). */
PCAVS_API void pcavs_free(void *p);

/* ---- media helpers (files -> plain arrays) ---- */

/* Decodes a JPEG or PNG to RGB: *rgb [height, width, 3] (free with pcavs_free). No cropping. */
PCAVS_API pcavs_status pcavs_image_read(const char *path, uint8_t **rgb, int *width, int *height);
/* Writes a lossless 8-bit RGB PNG. */
PCAVS_API pcavs_status pcavs_image_write(const char *path, const uint8_t *rgb, int width, int height);
/* Decodes any audio file (WAV/FLAC/OGG via libsndfile, anything else via the ffmpeg program) to mono
 * float PCM at its native rate: *pcm [n] (free with pcavs_free). */
PCAVS_API pcavs_status pcavs_audio_read(const char *path, float **pcm, size_t *n, int *sample_rate);
/* Decodes up to max_frames (0 = all) frames of a video (ffmpeg) or of a %06d.jpg/.png frames folder:
 * *rgb [n_frames, height, width, 3] (free with pcavs_free). */
PCAVS_API pcavs_status pcavs_video_read_frames(const char *path, size_t max_frames, uint8_t **rgb, size_t *n_frames,
                                               int *width, int *height);

/* ---- audio -> spectrogram ---- */

typedef enum pcavs_gain_mode {
    PCAVS_GAIN_CLIP_RMS = 0, /* upstream: scale the WHOLE clip to RMS 0.1 (gain = pcavs_audio_rms_gain) */
    PCAVS_GAIN_FIXED = 1     /* multiply by `gain` (what a stream does: it cannot know the clip's RMS) */
} pcavs_gain_mode;

typedef struct pcavs_audio_params {
    int sample_rate;           /* of the PCM given (default 16000; others are resampled like librosa.load) */
    pcavs_gain_mode gain_mode; /* default PCAVS_GAIN_CLIP_RMS */
    float gain;                /* PCAVS_GAIN_FIXED: the factor (default 1.0) */
} pcavs_audio_params;

PCAVS_API void pcavs_audio_params_init(pcavs_audio_params *p);
/* Upstream's normalising gain of a whole 16 kHz clip: float32(0.1 / max(1e-4, rms)), numpy's float32
 * mean. Multiplying by it (float32) gives bit for bit what PCAVS_GAIN_CLIP_RMS does. 0 on bad input. */
PCAVS_API float pcavs_audio_rms_gain(const float *pcm, size_t n);
/* Spectrogram rows M for n samples at sample_rate: ceil(n16/160) + 7 with n16 = ceil(n*16000/rate). */
PCAVS_API size_t pcavs_spectrogram_rows(size_t n, int sample_rate);
/* Output frames of a spectrogram of M rows: max(0, M/4 - 4). Frame j's window is rows [4j, 4j+20). */
PCAVS_API size_t pcavs_num_frames(size_t n_rows);
/* The upstream spectrogram (lws STFT 1280/160 + Slaney mel 80, dB-normalised to [0, 1]) of mono PCM:
 * mel [n_rows, 80] with n_rows = pcavs_spectrogram_rows(n, p->sample_rate); cap_rows is the capacity of
 * mel in rows (too small: PCAVS_ERR_SHAPE). p NULL = defaults (16 kHz, whole-clip RMS). */
PCAVS_API pcavs_status pcavs_spectrogram(const float *pcm, size_t n, const pcavs_audio_params *p, float *mel,
                                         size_t cap_rows, size_t *n_rows);

/* ---- features ---- */

/* An identity: what the generator needs of the face. Plain floats: copy, average, mix at will. */
typedef struct pcavs_identity {
    float id_feature[PCAVS_ID_FEATURE_SIZE]; /* mean over the images of V's id feature */
    float id_map[PCAVS_ID_MAP_SIZE];         /* mean of V's id map [512, 7, 7] */
    float ref_pose[PCAVS_POSE_FEATURE_SIZE]; /* to_headpose(mean of E(image)): the faces' own head pose */
} pcavs_identity;

/* Identity from n >= 1 RGB images [n, height, width, 3], each a 224x224 VoxCeleb2-style crop (upstream's
 * crop rows 0..191, cols 16..207 + resize is applied here). Other sizes: PCAVS_ERR_SHAPE. */
PCAVS_API pcavs_status pcavs_identity_encode(pcavs_context *ctx, int n, const uint8_t *rgb, int width, int height,
                                             pcavs_identity *out);
/* Head poses of n RGB frames [n, height, width, 3] (224x224 crops as above): pose [n, 512]. */
PCAVS_API pcavs_status pcavs_pose_encode(pcavs_context *ctx, int n, const uint8_t *rgb, int width, int height,
                                         float *pose);
/* Mouth features of output frames first .. first+count-1 of a spectrogram mel [n_rows, 80]: audio
 * [count, 512] (already weighted by 1.2). Frame j uses rows [4j, 4j+20) (upstream frame k = j + 2);
 * first + count must be <= pcavs_num_frames(n_rows). */
PCAVS_API pcavs_status pcavs_audio_encode(pcavs_context *ctx, const float *mel, size_t n_rows, size_t first,
                                          size_t count, float *audio);

/* ---- generation ---- */

typedef enum pcavs_frame_format {
    PCAVS_FRAME_RGB8 = 0,   /* uint8 [n, 224, 224, 3], upstream tensor2im ((y+1)/2*255, clipped, truncated) */
    PCAVS_FRAME_F32_CHW = 1 /* float [n, 3, 224, 224] in [-1, 1], the generator's raw output */
} pcavs_frame_format;

/* Bytes of n frames in a format (0 for an unknown format). */
PCAVS_API size_t pcavs_frame_bytes(pcavs_frame_format format, size_t n);

/* n frames from an identity, head poses pose [n, 512] (NULL: id->ref_pose for every frame) and mouth
 * features audio [n, 512]. noise NULL = RANDOM, seed 0, first_frame 0 (frame i uses noise index
 * first_frame + i, so splitting a clip into calls changes nothing). out holds out_bytes bytes, at least
 * pcavs_frame_bytes(format, n) (else PCAVS_ERR_SHAPE). */
PCAVS_API pcavs_status pcavs_generate_frames(pcavs_context *ctx, const pcavs_identity *id, int n, const float *pose,
                                             const float *audio, const pcavs_noise_params *noise,
                                             pcavs_frame_format format, void *out, size_t out_bytes);

/* ---- streaming ----
 * Push 16 kHz PCM as it arrives (and, with PCAVS_STREAM_POSE_PUSHED, one pose per output frame); pull
 * each frame as soon as its audio window is complete.
 *
 * Latency. Output frame j (upstream frame k = j + 2, shown at video time j/25 s, in sync with audio time
 * (j+2)/25 s: see pcavs-infer's timing notes) uses spectrogram rows [4j, 4j+20). The lws STFT is not
 * causal: row m covers samples [160m - 1120, 160m + 160), so row 4j+19 needs samples below 640j + 3200:
 * frame j is ready once PCAVS_STREAM_READY_SAMPLES(j) = 640*(j+5) samples, i.e. (k+3)*40 ms of audio,
 * were pushed. That is PCAVS_STREAM_LOOKAHEAD_MS = 120 ms of audio after the instant the frame shows
 * ((j+2)*40 ms), plus the compute time of one frame. After pcavs_stream_finish the end of the clip is
 * known (zeros follow, as in lws's padding) and every remaining frame becomes ready; the stream then
 * gives exactly pcavs_num_frames(pcavs_spectrogram_rows(total samples)) frames.
 *
 * Gain. Upstream scales the whole clip to RMS 0.1 before the STFT, which a stream cannot know in
 * advance: a stream multiplies its PCM by the fixed `gain` (default 1.0; pass pcavs_audio_rms_gain of
 * a representative clip, or of the whole clip when it is known, to match upstream exactly).
 *
 * Equality with the offline path. The offline path is: pcavs_spectrogram with PCAVS_GAIN_FIXED and the
 * same gain, pcavs_audio_encode, pcavs_pose_encode of the same pose frames (or the identity's ref_pose),
 * pcavs_generate_frames with the same noise. A stream computes one frame per network call, so it equals that
 * path bit for bit when the context's max_batch is 1 (tests/test_api.c checks this); with a larger
 * max_batch the offline path batches its GEMMs and may differ in float rounding only. */

#define PCAVS_STREAM_LOOKAHEAD_MS 120
#define PCAVS_STREAM_READY_SAMPLES(j) ((size_t)PCAVS_SAMPLES_PER_FRAME * ((size_t)(j) + 5))

typedef struct pcavs_stream pcavs_stream;

typedef enum pcavs_stream_pose {
    PCAVS_STREAM_POSE_REFERENCE = 0, /* every frame uses the identity's own pose (id->ref_pose) */
    PCAVS_STREAM_POSE_PUSHED = 1     /* frame j uses the j-th pose pushed (frames wait for their pose) */
} pcavs_stream_pose;

typedef struct pcavs_stream_params {
    int sample_rate;               /* must be 16000 (resample before pushing) */
    float gain;                    /* PCM scale before the STFT (default 1.0) */
    pcavs_stream_pose pose_source; /* default PCAVS_STREAM_POSE_REFERENCE */
    pcavs_noise_params noise;      /* default RANDOM, seed 0, first_frame 0 */
    pcavs_frame_format format;     /* of pulled frames (default PCAVS_FRAME_RGB8) */
} pcavs_stream_params;

PCAVS_API void pcavs_stream_params_init(pcavs_stream_params *p);
/* A stream over ctx (which must outlive it) for a copy of the identity `id`. p NULL = defaults. */
PCAVS_API pcavs_status pcavs_stream_create(pcavs_context *ctx, const pcavs_identity *id, const pcavs_stream_params *p,
                                           pcavs_stream **out);
/* Appends n mono samples (n may be 0). After pcavs_stream_finish: PCAVS_ERR_INVALID_ARG. */
PCAVS_API pcavs_status pcavs_stream_push_pcm(pcavs_stream *s, const float *pcm, size_t n);
/* PCAVS_STREAM_POSE_PUSHED: the pose of the next output frame, from a 224x224 RGB crop (E runs now)... */
PCAVS_API pcavs_status pcavs_stream_push_pose(pcavs_stream *s, const uint8_t *rgb, int width, int height);
/* ... or as a ready pose feature [512] (e.g. from pcavs_pose_encode, interpolated). */
PCAVS_API pcavs_status pcavs_stream_push_pose_feature(pcavs_stream *s, const float *pose);
/* Generates the next frame if its inputs are complete: *ready = 1 and out (out_bytes >=
 * pcavs_frame_bytes(format, 1)) holds it; *ready = 0: more audio (or a pose) is needed; *ready = -1: the
 * stream is finished and every frame was pulled. */
PCAVS_API pcavs_status pcavs_stream_pull_frame(pcavs_stream *s, void *out, size_t out_bytes, int *ready);
/* Declares the end of the input: the remaining frames become ready (pull them). With
 * PCAVS_STREAM_POSE_PUSHED the stream then ends at the last frame that has a pose. */
PCAVS_API pcavs_status pcavs_stream_finish(pcavs_stream *s);
/* Frames pulled so far. */
PCAVS_API size_t pcavs_stream_frames_pulled(const pcavs_stream *s);
PCAVS_API void pcavs_stream_free(pcavs_stream *s);

/* ---- whole clips: files in, MP4 out (what pcavs-infer does; pipeline/render/pcavs_render.h) ---- */

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
    /* cancellation: NULL (default) or a flag another thread may set to nonzero; it is read (atomically)
     * before the identity step and before each batch, and once set the call stops, removes the outputs it
     * had begun (as on any failure) and returns PCAVS_ERR_CANCELLED. A batch under way is finished first. */
    const volatile int *cancel;
} pcavs_render_params;

PCAVS_API void pcavs_render_params_init(pcavs_render_params *p);

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

/* Renders one clip with the context's model (files -> networks -> ffmpeg). progress and res may be NULL. */
PCAVS_API pcavs_status pcavs_context_render(pcavs_context *ctx, const pcavs_render_params *p,
                                            pcavs_progress_fn progress, void *user, pcavs_render_result *res);

/* Splits one line of upstream's metadata CSV (8 space-separated fields: id folder, number of id images,
 * pose folder, number of pose frames, audio, mouth-frames folder, number of mouth frames, spectrogram
 * .npy or 'dummy') into p's inputs. The strings point into `line`, which is modified (kept alive by the
 * caller). A pose or mouth path that is not a directory means none (as upstream); a spectrogram that
 * is not a file means "compute it from the audio". `name` receives upstream's results folder name
 * "id_<id>_pose_<pose>_audio_<audio stem>". */
PCAVS_API pcavs_status pcavs_render_parse_csv_line(char *line, pcavs_render_params *p, char *name, size_t name_cap);

/* Bytes of weights the context's model holds on its device (prepared forms included). 0 for a bad handle. */
PCAVS_API size_t pcavs_context_weight_bytes(const pcavs_context *ctx);
/* 1 when model_path is a pcavs-convert --synthesize model (random weights: output is not a face), 0 when it
 * is not or cannot be read (pcavs_context_create then reports why). */
PCAVS_API int pcavs_model_is_synthetic(const char *model_path);
/* For programs, first thing in main: picks OpenBLAS's kernels for this CPU (read at library load, so this
 * may re-execute the program once with OPENBLAS_CORETYPE set; nothing happens when it is already set or
 * not needed). Libraries embedding pcavs need not call it: only speed depends on it. */
PCAVS_API void pcavs_process_init(int argc, char **argv);

/* ---- face alignment for self-prepared footage (pipeline/align/pcavs_align.h: dlib landmarks) ---- */

/* 1 when this build has the dlib landmark detector (libdlib-dev found at configure time). */
PCAVS_API int pcavs_landmarks_available(void);
/* Default model path (Debian libdlib-data): /usr/share/dlib/shape_predictor_68_face_landmarks.dat. */
PCAVS_API const char *pcavs_landmarks_default_model(void);

typedef struct pcavs_align_params {
    const char *model;  /* shape predictor .dat (NULL = default) */
    int size;           /* output size (0 = 224) */
    double smooth_prev; /* weight of the previous frame's mouth bias (upstream 0.2; < 0 = default) */
    FILE *log;          /* progress and warnings (several faces, lost frames); NULL = silent */
    int max_frames;     /* 0 = all */
} pcavs_align_params;

/* Per-clip result. transforms[i] maps original frame i to aligned frame i (M_i). */
typedef struct pcavs_align_result {
    long n_frames;       /* frames read and written */
    long n_detected;     /* frames where a face was found */
    long n_interpolated; /* frames without a face whose points were interpolated from their neighbours */
    long n_multi;        /* frames with several faces (the largest was used) */
    int src_width, src_height;
    double fps;         /* of a video input (25 for images and folders) */
    int has_audio;      /* video input with an audio stream */
    double m_clip[6];   /* the clip transform (mean points -> targets) */
    double *transforms; /* [n_frames, 6] M_i, malloc'ed */
    double *three;      /* [n_frames, 6] three points per frame (interpolated where lost), malloc'ed */
    uint8_t *detected;  /* [n_frames] 1 when detected, malloc'ed */
    double *landmarks;  /* [n_frames, 68, 2] dlib's 68 points (x, y) in original frame pixels, interpolated where
                           lost like `three`, malloc'ed (NULL in a result built by hand: masks then need them) */
} pcavs_align_result;
PCAVS_API void pcavs_align_result_free(pcavs_align_result *r);

/* Aligns every frame of `input` (an image file, a folder of images taken in name order, or a video) into
 * `output`: a folder (created when missing) of %06d.png frames, or a video file when output ends in
 * .mp4/.mov/.mkv/.avi (H.264 at the source frame rate, with the source's audio when it has one). Two
 * passes: landmarks of every frame (points of frames without a face interpolated linearly between the
 * nearest detected frames, held at the ends), then the warp with the clip transform and smoothed mouth bias.
 * Errors: no dlib (UNSUPPORTED), no face in any frame (FORMAT), unreadable input (IO/FORMAT). */
PCAVS_API pcavs_status pcavs_align_clip(const char *input, const char *output, const pcavs_align_params *p,
                                        pcavs_align_result *res);

/* Paste-back of a whole clip: original frames from `original` (the aligned input), generated faces from
 * `generated` (folder of frames or video), written to `output` (video at the source resolution, odd sizes
 * cropped by one pixel; or a frames folder). pose_period 0: generated frame j is pasted onto original frame
 * min(j, n-1) (a clip aligned and generated frame by frame). pose_period P > 0: `generated` is pcavs-infer's
 * output driven by the first P frames of `original` (pcavs_render_result.pose_frames_used), replayed
 * forward and backward: frame j is pasted onto the original frame that drove it, upstream calc_loop_idx(j + 2,
 * P) (the P frames are cached raw in a temporary file meanwhile). audio (may be NULL) is muxed into a video. */
PCAVS_API pcavs_status pcavs_align_paste_clip(const char *original, const pcavs_align_result *res,
                                              const char *generated, int upstream_crop, double feather,
                                              long pose_period, const char *audio, const char *output, FILE *log);

/* ---- paste-back masks and blends (pipeline/align/paste_mask.c, blend.c, align_paste.c) ---- */

typedef enum pcavs_paste_mask {
    PCAVS_PASTE_MASK_MOUTH = 0, /* the lower face: jaw line from ear to ear up to just under the nose, grown */
    PCAVS_PASTE_MASK_FACE = 1,  /* the hull of the 68 points grown upward to the forehead, grown */
    PCAVS_PASTE_MASK_FULL = 2   /* the whole generated square */
} pcavs_paste_mask;

typedef enum pcavs_paste_blend {
    PCAVS_BLEND_MULTIBAND = 0, /* Laplacian-pyramid blend: coarse bands cross over wide, fine bands narrow */
    PCAVS_BLEND_FEATHER = 1    /* one smoothstep alpha ramp */
} pcavs_paste_blend;

/* Distances are in aligned-crop pixels (the 224x224 space of the alignment transform M_i). Every pixel farther
 * than blend_margin outside the grown mask keeps the original frame's bytes. */
typedef struct pcavs_paste_params {
    pcavs_paste_mask mask;   /* default PCAVS_PASTE_MASK_MOUTH */
    pcavs_paste_blend blend; /* default PCAVS_BLEND_MULTIBAND */
    double blend_margin;     /* the blend reaches this far outside the grown mask: (0, 12]; default 8 */
    double grow;             /* the mask grown by this much (< 0 = the mask's default: mouth 8, face 4, full 0) */
    double smooth_frames;    /* clip paste-back: landmarks smoothed over time by a centred Gaussian of this sigma
                                in frames (default 1.5; 0 = none) */
    int upstream_crop;       /* 1 (default): the face is the generator's view of the upstream crop of the aligned
                                frame (pcavs-infer); 0: the face is the aligned frame itself */
    int back_project;        /* passes of back-projection that give back the detail the alignment's bilinear warp
                                took from the face (0-4; default 1; 0 = a plain bicubic paste) */
} pcavs_paste_params;
PCAVS_API void pcavs_paste_params_init(pcavs_paste_params *p);
/* "mouth"/"face"/"full", "multiband"/"feather" -> the enum (PCAVS_ERR_INVALID_ARG for another name). */
PCAVS_API pcavs_status pcavs_paste_mask_parse(const char *name, pcavs_paste_mask *out);
PCAVS_API pcavs_status pcavs_paste_blend_parse(const char *name, pcavs_paste_blend *out);

/* Pastes one generated face into one frame in place. frame: [fh, fw, 3] RGB; face: [fs, fs, 3] RGB (the
 * network output); m_i: the frame's alignment transform (pcavs_align_result.transforms[i]); landmarks: the
 * frame's 68 points in frame pixels ([68, 2]; may be NULL for PCAVS_PASTE_MASK_FULL). */
PCAVS_API pcavs_status pcavs_paste_frame(uint8_t *frame, int fw, int fh, const uint8_t *face, int fs,
                                         const double m_i[6], const double *landmarks, const pcavs_paste_params *p);
/* The geometry pcavs_paste_frame uses, per frame pixel: signed distance (aligned-crop pixels, > 0 inside) to
 * the boundary of the grown mask, clipped to the generated square less the blend margin. dist: [fh, fw].
 * Pixels with dist < -blend_margin are never written. */
PCAVS_API pcavs_status pcavs_paste_mask_distance(int fw, int fh, int fs, const double m_i[6], const double *landmarks,
                                                 const pcavs_paste_params *p, float *dist);
/* Landmarks smoothed over time ([n, 68, 2] -> [n, 68, 2]; in place allowed): a centred Gaussian of sigma
 * frames, truncated at 3 sigma and renormalised at the clip's ends (no lag on a steady motion). */
PCAVS_API pcavs_status pcavs_paste_smooth_landmarks(const double *landmarks, long n, double sigma, double *out);

/* pcavs_align_paste_clip with a mask and a blend: the same frame pairing (pose_period) and outputs; res must
 * carry landmarks unless the mask is FULL. Landmarks are smoothed over time (p->smooth_frames). The older
 * pcavs_align_paste_clip is the FULL square with its feathered edge of `feather` generated-face pixels. */
PCAVS_API pcavs_status pcavs_align_paste_clip_masked(const char *original, const pcavs_align_result *res,
                                                     const char *generated, const pcavs_paste_params *p,
                                                     long pose_period, const char *audio, const char *output,
                                                     FILE *log);

/* Handles (context, stream) carry a magic number checked on entry: a NULL or foreign pointer gives
 * PCAVS_ERR_INVALID_ARG. In debug builds (PCAVS_DEBUG_HANDLES, on for CMAKE_BUILD_TYPE=Debug) a freed
 * handle's memory is kept poisoned, so use after free and double free are reported the same way
 * (in release builds they are undefined behaviour, as with free()). */

#ifdef __cplusplus
}
#endif
#endif
