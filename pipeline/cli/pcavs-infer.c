/* pcavs-infer: the command users run; upstream's inference.py (+ experiments/demo_vox.sh) as a program.
 *   pcavs-infer --model model.safetensors --face FACE --audio AUDIO [--pose POSE] -o out.mp4
 *   pcavs-infer --model model.safetensors --csv demo.csv -o results/ [--shard I/N | auto[/N]] [--overwrite]
 * Parses flags (getopt_long), loads the model once (pcavs_context_create), renders each clip with
 * pcavs_context_render, draws a progress bar on stderr when it is a terminal, prints one summary line per
 * clip. Uses only the public API (pcavs.h, libpcavs). With --csv: resumable (rows whose outputs exist are
 * skipped), one JSON line per row in OUT_DIR/summary-shard-I-of-N.jsonl (infer_batch.c).
 * Exit status: 0 success, 1 a clip failed (one line on stderr saying why), 2 usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pcavs.h" /* the public API only (tests/test_install.sh checks) */
#include "infer_batch.h"

#define PROG "pcavs-infer"

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG
            " --model MODEL.safetensors --face FACE (--audio AUDIO | --mel MEL.npy) [--pose POSE] -o OUT.mp4 "
            "[options]\n"
            "       " PROG " --model MODEL.safetensors --csv FILE -o OUT_DIR [--shard I/N|auto|auto/N] "
            "[--overwrite] [options]\n"
            "\n"
            "Renders a talking-face video with PC-AVS: the identity of FACE, the mouth of AUDIO, the head pose of\n"
            "POSE. Converted weights come from pcavs-convert (official checkpoints, or --synthesize for tests).\n"
            "\n"
            "inputs:\n"
            "  -m, --model FILE        converted weights (pcavs-convert CHECKPOINT_DIR -o FILE)\n"
            "  -f, --face FACE         identity: a 224x224 VoxCeleb2-style face crop (jpg/png), a folder of such\n"
            "                          images, or a video (every frame an identity image); several are averaged\n"
            "      --num-faces N       use only the first N identity images of a folder/video (default: all)\n"
            "  -a, --audio AUDIO       driving speech: wav/flac/ogg (libsndfile) or anything ffmpeg reads (mp3, m4a,\n"
            "                          the audio of an mp4...); resampled to 16 kHz mono; muxed into the output\n"
            "      --mel FILE.npy      upstream's precomputed spectrogram [T, 80] instead of AUDIO's (AUDIO, if\n"
            "                          also given, is only muxed in)\n"
            "  -p, --pose POSE         head-pose source: a video or a folder of %%06d.jpg frames from 000000; played\n"
            "                          forward then backward as long as the audio lasts. Default: the identity\n"
            "                          image's own pose\n"
            "      --pose-frames N     use only the first N pose frames (default: all)\n"
            "      --mouth-frames DIR  ground-truth frames (%%06d.jpg) shown in the side-by-side video\n"
            "      --csv FILE          upstream metadata CSV (8 space-separated fields per row: id folder, id count,\n"
            "                          pose folder, pose frames, audio, mouth folder, mouth frames, spectrogram.npy\n"
            "                          or dummy); one clip per row, written to OUT_DIR/id_*_pose_*_audio_*.mp4\n"
            "      --shard I/N         with --csv: only rows r with r %% N == I (rows counted from 0; split a CSV\n"
            "                          across machines)\n"
            "      --shard auto        the shard from a Slurm job array (sbatch --array=A-B: SLURM_ARRAY_TASK_ID,\n"
            "                          _MIN, _COUNT; ids need not start at 0)\n"
            "      --shard auto/N      the same, or from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) with N its\n"
            "                          completions. An error when no scheduler set them\n"
            "      --overwrite         with --csv: render rows again whose outputs exist. Without it a row whose\n"
            "                          outputs all exist is skipped (a stopped run resumes where it was; outputs\n"
            "                          appear only complete). Each shard appends one JSON line per row (row,\n"
            "                          shard, output, status done|skipped|failed, frames, seconds, error) to\n"
            "                          OUT_DIR/summary-shard-I-of-N.jsonl; a failed row does not stop the others,\n"
            "                          and the exit status is 0 only when every row of the shard was done or skipped\n"
            "outputs:\n"
            "  -o, --output OUT        the generated video (H.264 MP4, 25 fps, the audio muxed in); with --csv a\n"
            "                          directory. Written to a temporary file and renamed on success: a failed run\n"
            "                          never leaves a truncated file nor replaces an existing one\n"
            "      --output-pose WHICH driving (default: the pose source's pose), reference (the identity image's\n"
            "                          pose, upstream's G_Fix_Pose) or both; only what is asked for is computed\n"
            "      --output-ref FILE   with --output-pose both: the reference-pose video (default OUT_ref.mp4)\n"
            "      --side-by-side[=FILE]  also write identity | generated | pose source | mouth source, like\n"
            "                          upstream's avconcat.mp4 (default name OUT_concat.mp4)\n"
            "      --frames DIR        also write every generated frame as a lossless PNG, DIR/%%06d.png\n"
            "                          (DIR/ref_%%06d.png for the reference pose with --output-pose both)\n"
            "      --upstream-timing   mux the audio from its start like upstream, whose video then runs 2 frames\n"
            "                          (80 ms) ahead of its audio. Default: in sync (the audio starts 80 ms in)\n"
            "      --max-frames N      stop after N frames (previews)\n"
            "alignment (self-prepared footage that is not a VoxCeleb2-style crop):\n"
            "      --align             detect 68 landmarks in FACE and POSE (dlib), align them like upstream's\n"
            "                          preprocessing to 224x224 crops, then render from the aligned frames\n"
            "      --paste-back FILE   with --align: map the generated faces back into the original POSE frames\n"
            "                          (FACE when there is no POSE): a video at the source resolution, the audio\n"
            "                          muxed in (or a folder of PNG frames). Re-voicing a video: give it as FACE\n"
            "                          and no POSE, and its frames also drive the head pose\n"
            "      --paste-mask M      with --paste-back, what of the generated face is pasted: mouth (the lower\n"
            "                          face up to under the nose: eyes, hair and background stay the original's;\n"
            "                          default when re-voicing a video), face (the face up to the forehead;\n"
            "                          default otherwise) or full (the whole generated square)\n"
            "      --blend B           multiband (default: a Laplacian-pyramid blend, no visible edge where colour\n"
            "                          or lighting differ) or feather (a smooth alpha ramp)\n"
            "      --back-project N    with --paste-back, passes (0-4, default 1) that give back the detail the\n"
            "                          alignment's warp took from the face; 0 = a plain bicubic paste\n"
            "execution:\n"
            "      --device D          cpu (default), cuda, or ref (naive reference kernels: slow)\n"
            "  -t, --threads N         CPU threads (default: all cores)\n"
            "      --precision P       fp32 (default), bf16 or tf32. bf16: the generator's 3x3 convolutions in bf16\n"
            "                          on a CPU with AMX-BF16 (all of them) or AVX512-BF16 (those where bf16 is\n"
            "                          faster than fp32 Winograd); with --device cuda the generator's convolutions\n"
            "                          on bf16 tensor cores. tf32 (cuda only): those on TF32 tensor cores.\n"
            "                          Faster, frames within 40+ dB PSNR of fp32. Elsewhere fp32, said\n"
            "  -b, --batch N           frames per network call (default 4; larger is faster on a GPU)\n"
            "      --noise MODE        generator noise: random (default, upstream's), fixed (the checkpoint's\n"
            "                          noise buffers: reproducible, comparable with PyTorch) or none\n"
            "      --seed N            seed of the random noise (default 0)\n"
            "  -q, --quiet             no progress bar and no summary line (errors are still printed)\n"
            "  -v, --verbose           log model loading and backend details\n"
            "  -h, --help              this help\n"
            "  -V, --version           the version\n"
            "\n"
            "Each output frame k (k = 2 .. n_mel/4 - 3) uses the 0.2 s audio window centred on it, so a clip has\n"
            "n_mel/4 - 4 frames (n_mel: 10 ms spectrogram steps) and the audio must be longer than ~0.35 s.\n");
}

/* ---------------------------------------------------------------- progress */

typedef struct progress {
    int bar;
    double t0, t_first;
    long first_done;
} progress;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void on_progress(void *user, long done, long total) {
    progress *pg = user;
    double t = now_s();
    if (done == 0 || pg->t_first == 0) {
        pg->t_first = t;
        pg->first_done = done;
    }
    if (!pg->bar) return;
    double el = t - pg->t_first;
    double fps = el > 0 && done > pg->first_done ? (done - pg->first_done) / el : 0;
    char eta[32] = "--:--";
    if (fps > 0) {
        long s = (long)((total - done) / fps + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld", s / 60, s % 60);
    }
    int width = 30, fill = total > 0 ? (int)(width * done / total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %ld/%ld frames  %.2f frames/s  ETA %s   ", bar, done, total, fps, eta);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

/* ---------------------------------------------------------------- helpers */

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* "out.mp4" + "_concat" -> "out_concat.mp4" (malloc'ed). */
static char *derive(const char *out, const char *suffix) {
    const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - out) : strlen(out);
    size_t n = stem + strlen(suffix) + 8;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%.*s%s.mp4", (int)stem, out, suffix);
    return r;
}

static void warn_if_synthetic(const char *model_path) {
    if (pcavs_model_is_synthetic(model_path))
        fprintf(stderr,
                "\n"
                "*****************************************************************************************\n"
                "* WARNING: %s holds SYNTHESIZED RANDOM weights (pcavs-convert --synthesize).\n"
                "* The output is NOT A FACE: it only exercises the pipeline. For real results put the\n"
                "* official checkpoints in checkpoints/ and run pcavs-convert checkpoints/ -o model.safetensors\n"
                "*****************************************************************************************\n\n",
                model_path);
}

typedef struct opts {
    const char *csv;
    const char *sbs; /* "" = derive the name */
    int shard_i, shard_n;
    const char *shard_auto; /* --shard auto or auto/N */
    int overwrite;          /* --overwrite */
    long *n_frames;         /* with --csv: run_clip stores the frames rendered here */
    int quiet;
    const char *device_name;
    int threads;
    int align;              /* --align */
    const char *paste_back; /* --paste-back FILE */
    const char *paste_mask; /* --paste-mask (NULL: mouth when re-voicing, else face) */
    const char *blend;      /* --blend (NULL: multiband) */
    int back_project;       /* --back-project (-1: the library's default) */
} opts;

static int run_clip(pcavs_context *ctx, pcavs_render_params *rp, const opts *o, const char *label, long *pose_used);

/* ---------------------------------------------------------------- --align / --paste-back */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Aligns FACE (and POSE) into a temporary folder of 224x224 crops, renders from them, and with
 * --paste-back maps the generated faces back into the original frames. Returns 0 or 1. */
static int run_aligned_clip(pcavs_context *ctx, pcavs_render_params *rp, const opts *o) {
    const char *tmp = getenv("TMPDIR");
    char dir[1024], face_dir[1100], pose_dir[1100];
    snprintf(dir, sizeof dir, "%s/pcavs-align-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, PROG ": --align: cannot create a temporary folder in %s: %s\n", tmp ? tmp : "/tmp",
                strerror(errno));
        return 1;
    }
    snprintf(face_dir, sizeof face_dir, "%s/face", dir);
    snprintf(pose_dir, sizeof pose_dir, "%s/pose", dir);
    pcavs_align_params ap = {.smooth_prev = -1, .log = o->quiet ? NULL : stderr};
    pcavs_align_result face_res = {0}, pose_res = {0};
    const char *orig_face = rp->face, *orig_pose = rp->pose;
    int failed = 1;
    if (pcavs_align_clip(orig_face, face_dir, &ap, &face_res) != PCAVS_OK) {
        fprintf(stderr, PROG ": --align: face %s: %s\n", orig_face, pcavs_last_error());
        goto done;
    }
    rp->face = face_dir;
    if (orig_pose) {
        if (pcavs_align_clip(orig_pose, pose_dir, &ap, &pose_res) != PCAVS_OK) {
            fprintf(stderr, PROG ": --align: pose %s: %s\n", orig_pose, pcavs_last_error());
            goto done;
        }
        rp->pose = pose_dir;
    } else if (o->paste_back && face_res.n_frames > 1) {
        /* re-voicing a face video: each generated frame is pasted onto a face frame, so it takes that
         * frame's head pose (the identity's averaged pose would stay still on a moving head) */
        rp->pose = face_dir;
        if (!o->quiet)
            fprintf(stderr, PROG ": --paste-back without --pose: the %ld face frames also drive the head pose\n",
                    face_res.n_frames);
    }
    long pose_used = 0;
    failed = run_clip(ctx, rp, o, NULL, &pose_used);
    if (!failed && o->paste_back) {
        const char *src = orig_pose ? orig_pose : orig_face;
        const pcavs_align_result *res = orig_pose ? &pose_res : &face_res;
        /* with a pose clip (POSE, or FACE driving its own pose), output frame j was driven by pose frame
         * calc_loop_idx(j + 2, P): paste it there */
        /* the audio comes from the rendered video, where it already starts 80 ms in (in sync, or from 0 with
         * --upstream-timing) like the frames; muxing rp->audio from 0 would put the pasted video 2 frames early */
        pcavs_paste_params pp;
        pcavs_paste_params_init(&pp);
        pp.mask = orig_pose || face_res.n_frames <= 1 ? PCAVS_PASTE_MASK_FACE : PCAVS_PASTE_MASK_MOUTH;
        if (o->paste_mask) pcavs_paste_mask_parse(o->paste_mask, &pp.mask); /* checked in main */
        if (o->blend) pcavs_paste_blend_parse(o->blend, &pp.blend);
        if (o->back_project >= 0) pp.back_project = o->back_project;
        if (pcavs_align_paste_clip_masked(src, res, rp->output, &pp, rp->pose ? pose_used : 0,
                                          rp->audio ? rp->output : NULL, o->paste_back,
                                          o->quiet ? NULL : stderr) != PCAVS_OK) {
            fprintf(stderr, PROG ": --paste-back %s: %s\n", o->paste_back, pcavs_last_error());
            failed = 1;
        } else if (!o->quiet) {
            printf(PROG ": pasted back into %s (%dx%d)\n", o->paste_back, res->src_width, res->src_height);
        }
    }
done:
    rp->face = orig_face, rp->pose = orig_pose;
    pcavs_align_result_free(&face_res);
    pcavs_align_result_free(&pose_res);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}

/* Renders one clip; prints the summary. Returns 0 or 1. */
static int run_clip(pcavs_context *ctx, pcavs_render_params *rp, const opts *o, const char *label, long *pose_used) {
    progress pg = {.bar = !o->quiet && isatty(2), .t0 = now_s()};
    pcavs_render_result res;
    pcavs_status st = pcavs_context_render(ctx, rp, on_progress, &pg, &res);
    if (pg.bar && st != PCAVS_OK) fputc('\n', stderr);
    if (st != PCAVS_OK) {
        fprintf(stderr, PROG ": %s%s%s\n", label ? label : "", label ? ": " : "", pcavs_last_error());
        return 1;
    }
    if (pose_used) *pose_used = res.pose_frames_used;
    if (o->n_frames) *o->n_frames = res.n_frames;
    if (!o->quiet) {
        double gen = res.total_seconds - res.load_seconds;
        const char *where = rp->output ? rp->output : rp->frames_dir ? rp->frames_dir : rp->side_by_side;
        printf(PROG ": %s: %ld frames (%.2f s of video) in %.1f s (%.1f s inputs + identity), %.2f frames/s, "
                    "backend %s, %s, batch %d\n",
               where, res.n_frames, res.video_seconds, res.total_seconds, res.load_seconds,
               gen > 0 ? res.n_frames / gen : 0.0, pcavs_context_backend_name(ctx), pcavs_context_precision_name(ctx),
               rp->batch);
        fflush(stdout);
    }
    return 0;
}

/* Fills in the derived output names of one clip (side-by-side, reference-pose video). */
static int set_outputs(pcavs_render_params *rp, const opts *o, char **own_sbs, char **own_ref) {
    *own_sbs = *own_ref = NULL;
    if (o->sbs) {
        if (o->sbs[0])
            rp->side_by_side = o->sbs;
        else if (rp->output)
            rp->side_by_side = *own_sbs = derive(rp->output, "_concat");
        else
            return 0;
    }
    if (rp->output_pose == PCAVS_OUTPUT_BOTH && !rp->output_ref && rp->output)
        rp->output_ref = *own_ref = derive(rp->output, "_ref");
    return 1;
}

/* Loads the model (the synthetic-weights warning first); NULL when it cannot (the reason printed). */
static pcavs_context *load_model(const char *model_path, const pcavs_exec_params *xp, int batch, const opts *o) {
    double t0 = now_s();
    warn_if_synthetic(model_path);
    pcavs_context_params cp;
    pcavs_context_params_init(&cp);
    cp.exec = *xp;
    cp.max_batch = batch;
    pcavs_context *ctx = NULL;
    pcavs_status cst = pcavs_context_create(model_path, &cp, &ctx);
    if (cst != PCAVS_OK) {
        if (cst == PCAVS_ERR_UNSUPPORTED || cst == PCAVS_ERR_BACKEND)
            fprintf(stderr, PROG ": device %s: %s\n", o->device_name, pcavs_last_error());
        else
            fprintf(stderr, PROG ": %s\n", pcavs_last_error());
        return NULL;
    }
    if (!o->quiet && xp->log_level <= PCAVS_LOG_INFO)
        fprintf(stderr, PROG ": model loaded in %.1f s (%.0f MB of weights, backend %s, %s)\n", now_s() - t0,
                pcavs_context_weight_bytes(ctx) / 1e6, pcavs_context_backend_name(ctx),
                pcavs_context_precision_name(ctx));
    return ctx;
}

enum {
    OPT_MEL = 256,
    OPT_ALIGN,
    OPT_PASTE_BACK,
    OPT_PASTE_MASK,
    OPT_BLEND,
    OPT_BACK_PROJECT,
    OPT_POSE_FRAMES,
    OPT_MOUTH,
    OPT_CSV,
    OPT_SHARD,
    OPT_OVERWRITE,
    OPT_OUTPUT_POSE,
    OPT_OUTPUT_REF,
    OPT_SBS,
    OPT_FRAMES,
    OPT_UPSTREAM,
    OPT_MAX_FRAMES,
    OPT_DEVICE,
    OPT_NOISE,
    OPT_SEED,
    OPT_NUM_FACES,
    OPT_PRECISION
};

int main(int argc, char **argv) {
    pcavs_process_init(argc, argv);
    static const struct option lo[] = {{"model", required_argument, 0, 'm'},
                                       {"face", required_argument, 0, 'f'},
                                       {"audio", required_argument, 0, 'a'},
                                       {"pose", required_argument, 0, 'p'},
                                       {"output", required_argument, 0, 'o'},
                                       {"threads", required_argument, 0, 't'},
                                       {"batch", required_argument, 0, 'b'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {"version", no_argument, 0, 'V'},
                                       {"mel", required_argument, 0, OPT_MEL},
                                       {"align", no_argument, 0, OPT_ALIGN},
                                       {"paste-back", required_argument, 0, OPT_PASTE_BACK},
                                       {"paste-mask", required_argument, 0, OPT_PASTE_MASK},
                                       {"blend", required_argument, 0, OPT_BLEND},
                                       {"back-project", required_argument, 0, OPT_BACK_PROJECT},
                                       {"pose-frames", required_argument, 0, OPT_POSE_FRAMES},
                                       {"mouth-frames", required_argument, 0, OPT_MOUTH},
                                       {"csv", required_argument, 0, OPT_CSV},
                                       {"shard", required_argument, 0, OPT_SHARD},
                                       {"overwrite", no_argument, 0, OPT_OVERWRITE},
                                       {"output-pose", required_argument, 0, OPT_OUTPUT_POSE},
                                       {"output-ref", required_argument, 0, OPT_OUTPUT_REF},
                                       {"side-by-side", optional_argument, 0, OPT_SBS},
                                       {"frames", required_argument, 0, OPT_FRAMES},
                                       {"upstream-timing", no_argument, 0, OPT_UPSTREAM},
                                       {"max-frames", required_argument, 0, OPT_MAX_FRAMES},
                                       {"device", required_argument, 0, OPT_DEVICE},
                                       {"noise", required_argument, 0, OPT_NOISE},
                                       {"seed", required_argument, 0, OPT_SEED},
                                       {"num-faces", required_argument, 0, OPT_NUM_FACES},
                                       {"precision", required_argument, 0, OPT_PRECISION},
                                       {0, 0, 0, 0}};
    pcavs_render_params rp;
    pcavs_render_params_init(&rp);
    opts o = {.shard_i = 0, .shard_n = 1, .device_name = "cpu", .back_project = -1};
    const char *model_path = NULL;
    pcavs_exec_params xp;
    pcavs_exec_params_init(&xp);
    long v;
    int c;
#define BAD(...)                                                                                                       \
    do {                                                                                                               \
        fprintf(stderr, PROG ": " __VA_ARGS__);                                                                        \
        fprintf(stderr, " (see " PROG " --help)\n");                                                                   \
        return 2;                                                                                                      \
    } while (0)
    while ((c = getopt_long(argc, argv, "m:f:a:p:o:t:b:qvhV", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            model_path = optarg;
            break;
        case 'f':
            rp.face = optarg;
            break;
        case 'a':
            rp.audio = optarg;
            break;
        case 'p':
            rp.pose = optarg;
            break;
        case 'o':
            rp.output = optarg;
            break;
        case 't':
            if (!parse_long(optarg, 0, 1024, &v)) BAD("--threads needs a number 0..1024, got '%s'", optarg);
            xp.n_threads = (int)v;
            break;
        case 'b':
            if (!parse_long(optarg, 1, 256, &v)) BAD("--batch needs a number 1..256, got '%s'", optarg);
            rp.batch = (int)v;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'v':
            xp.log_level = PCAVS_LOG_INFO;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " %d.%d.%d\n", PCAVS_VERSION_MAJOR, PCAVS_VERSION_MINOR, PCAVS_VERSION_PATCH);
            return 0;
        case OPT_MEL:
            rp.mel = optarg;
            break;
        case OPT_POSE_FRAMES:
            if (!parse_long(optarg, 1, 100000000, &v)) BAD("--pose-frames needs a positive count, got '%s'", optarg);
            rp.pose_frames = v;
            break;
        case OPT_MOUTH:
            rp.mouth = optarg;
            break;
        case OPT_CSV:
            o.csv = optarg;
            break;
        case OPT_SHARD: {
            int i, n, k = 0;
            if (!strncmp(optarg, "auto", 4)) {
                o.shard_auto = optarg; /* resolved from the environment below */
                break;
            }
            if (sscanf(optarg, "%d/%d%n", &i, &n, &k) != 2 || optarg[k] || n < 1 || i < 0 || i >= n)
                BAD("--shard needs I/N with 0 <= I < N, auto or auto/N, got '%s'", optarg);
            o.shard_i = i, o.shard_n = n, o.shard_auto = NULL;
            break;
        }
        case OPT_OVERWRITE:
            o.overwrite = 1;
            break;
        case OPT_OUTPUT_POSE:
            if (!strcmp(optarg, "driving"))
                rp.output_pose = PCAVS_OUTPUT_DRIVING;
            else if (!strcmp(optarg, "reference"))
                rp.output_pose = PCAVS_OUTPUT_REFERENCE;
            else if (!strcmp(optarg, "both"))
                rp.output_pose = PCAVS_OUTPUT_BOTH;
            else
                BAD("--output-pose must be driving, reference or both, got '%s'", optarg);
            break;
        case OPT_OUTPUT_REF:
            rp.output_ref = optarg;
            break;
        case OPT_SBS:
            o.sbs = optarg ? optarg : "";
            break;
        case OPT_FRAMES:
            rp.frames_dir = optarg;
            break;
        case OPT_UPSTREAM:
            rp.upstream_timing = 1;
            break;
        case OPT_MAX_FRAMES:
            if (!parse_long(optarg, 1, 100000000, &v)) BAD("--max-frames needs a positive count, got '%s'", optarg);
            rp.max_frames = v;
            break;
        case OPT_DEVICE:
            if (!strcmp(optarg, "cpu"))
                xp.device = PCAVS_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda"))
                xp.device = PCAVS_DEVICE_CUDA;
            else if (!strcmp(optarg, "ref"))
                xp.device = PCAVS_DEVICE_REF;
            else
                BAD("--device must be cpu, cuda or ref, got '%s'", optarg);
            o.device_name = optarg;
            break;
        case OPT_NOISE:
            if (!strcmp(optarg, "random"))
                rp.noise = PCAVS_NOISE_RANDOM;
            else if (!strcmp(optarg, "fixed"))
                rp.noise = PCAVS_NOISE_FIXED;
            else if (!strcmp(optarg, "none"))
                rp.noise = PCAVS_NOISE_NONE;
            else
                BAD("--noise must be random, fixed or none, got '%s'", optarg);
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-')
                BAD("--seed needs a non-negative integer, got '%s'", optarg);
            rp.seed = s;
            break;
        }
        case OPT_ALIGN:
            o.align = 1;
            break;
        case OPT_PASTE_BACK:
            o.paste_back = optarg;
            break;
        case OPT_PASTE_MASK: {
            pcavs_paste_mask m;
            if (pcavs_paste_mask_parse(optarg, &m) != PCAVS_OK)
                BAD("--paste-mask must be mouth, face or full, got '%s'", optarg);
            o.paste_mask = optarg;
            break;
        }
        case OPT_BLEND: {
            pcavs_paste_blend b;
            if (pcavs_paste_blend_parse(optarg, &b) != PCAVS_OK)
                BAD("--blend must be multiband or feather, got '%s'", optarg);
            o.blend = optarg;
            break;
        }
        case OPT_BACK_PROJECT:
            if (!parse_long(optarg, 0, 4, &v)) BAD("--back-project must be 0 to 4 passes, got '%s'", optarg);
            o.back_project = (int)v;
            break;
        case OPT_PRECISION:
            if (!strcmp(optarg, "fp32"))
                xp.precision = PCAVS_PRECISION_FP32;
            else if (!strcmp(optarg, "bf16"))
                xp.precision = PCAVS_PRECISION_BF16;
            else if (!strcmp(optarg, "tf32"))
                xp.precision = PCAVS_PRECISION_TF32;
            else
                BAD("--precision must be fp32 or bf16, or tf32 with --device cuda, got '%s'", optarg);
            break;
        case OPT_NUM_FACES:
            if (!parse_long(optarg, 1, 1000000, &v)) BAD("--num-faces needs a positive count, got '%s'", optarg);
            rp.max_faces = (int)v;
            break;
        default:
            fprintf(stderr, "(see " PROG " --help)\n");
            return 2;
        }
    }
    if (optind < argc) BAD("unexpected argument '%s'", argv[optind]);
    if (!model_path) BAD("--model is required");
    if (!rp.output && !rp.frames_dir && !(o.sbs && o.sbs[0])) BAD("-o OUT.mp4 (or --frames DIR) is required");
    if (o.csv) {
        if (rp.face || rp.audio || rp.pose || rp.mel || rp.mouth)
            BAD("--csv takes the inputs from the CSV rows: drop --face/--audio/--pose/--mel/--mouth-frames");
        if (!rp.output) BAD("--csv needs -o OUT_DIR");
        if (rp.output_ref || (o.sbs && o.sbs[0]) || rp.frames_dir)
            BAD("with --csv, outputs are named per row: use --side-by-side without a name, and no "
                "--output-ref/--frames");
    } else {
        if (o.shard_n != 1 || o.shard_auto) BAD("--shard needs --csv");
        if (o.overwrite) BAD("--overwrite needs --csv (a single clip's output is always replaced)");
        if (!rp.face) BAD("--face is required");
        if (!rp.audio && !rp.mel) BAD("--audio (or --mel) is required");
    }
    if (o.paste_back && !o.align) BAD("--paste-back needs --align (it inverts the alignment transforms)");
    if (o.align && o.csv) BAD("--align works on one clip at a time: align with pcavs-align first, then use --csv");
    if (o.paste_back && !rp.output) BAD("--paste-back needs -o OUT.mp4 (the generated video it pastes from)");
    if ((o.paste_mask || o.blend || o.back_project >= 0) && !o.paste_back)
        BAD("--paste-mask, --blend and --back-project need --paste-back");
    if (o.quiet) xp.log_level = PCAVS_LOG_ERROR;
    if (o.csv && o.shard_auto) {
        char from[256], err[512];
        if (!infer_shard_auto(o.shard_auto, (const char *(*)(const char *))getenv, &o.shard_i, &o.shard_n, from,
                              sizeof from, err, sizeof err))
            BAD("%s", err);
        if (!o.quiet) fprintf(stderr, PROG ": shard %d/%d from %s\n", o.shard_i, o.shard_n, from);
    }

    /* the CSV is read (and its rows checked) before the model is loaded */
    char **rows = NULL;
    int n_rows = 0;
    if (o.csv) {
        FILE *f = fopen(o.csv, "r");
        if (!f) {
            fprintf(stderr, PROG ": csv %s: cannot open: %s\n", o.csv, strerror(errno));
            return 1;
        }
        char line[16384];
        int cap = 0;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[strspn(line, " \t")]) continue; /* blank */
            if (n_rows == cap) {
                cap = cap ? cap * 2 : 16;
                rows = realloc(rows, cap * sizeof *rows);
                if (!rows) return fprintf(stderr, PROG ": out of memory\n"), 1;
            }
            rows[n_rows++] = strdup(line);
        }
        fclose(f);
        if (n_rows == 0) {
            fprintf(stderr, PROG ": csv %s: no rows\n", o.csv);
            return 1;
        }
        if (mkdir(rp.output, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, PROG ": output folder %s: cannot create: %s\n", rp.output, strerror(errno));
            return 1;
        }
        struct stat sb;
        if (stat(rp.output, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, PROG ": with --csv, -o must be a folder; %s is not one\n", rp.output);
            return 1;
        }
    }
    /* the shard's summary, next to the outputs: appended (a resumed run adds its lines), one write a line */
    char summary_path[2048];
    int summary_fd = -1;
    if (o.csv) {
        snprintf(summary_path, sizeof summary_path, "%s/summary-shard-%d-of-%d.jsonl", rp.output, o.shard_i, o.shard_n);
        summary_fd = open(summary_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (summary_fd < 0) {
            fprintf(stderr, PROG ": summary %s: cannot open: %s\n", summary_path, strerror(errno));
            return 1;
        }
    }

    /* with --csv the model is loaded at the first row to render: a resumed shard with nothing left loads nothing */
    pcavs_context *ctx = NULL;
    if (!o.csv && !(ctx = load_model(model_path, &xp, rp.batch, &o))) return 1;

    int failed = 0, done = 0;
    if (!o.csv) {
        char *own_sbs, *own_ref;
        if (!set_outputs(&rp, &o, &own_sbs, &own_ref)) {
            fprintf(stderr, PROG ": --side-by-side without a name needs -o\n");
            failed = 1;
        } else {
            failed = o.align ? run_aligned_clip(ctx, &rp, &o) : run_clip(ctx, &rp, &o, NULL, NULL);
            done = 1;
        }
        free(own_sbs), free(own_ref);
    } else {
        const char *dir = rp.output;
        int skipped = 0, load_failed = 0;
        char load_error[1024] = "";
        long n_frames = -1;
        o.n_frames = &n_frames;
        for (int r = 0; r < n_rows; r++) {
            if (r % o.shard_n != o.shard_i) continue;
            double t_row = now_s();
            pcavs_render_params row = rp;
            char name[1600], label[64];
            snprintf(label, sizeof label, "csv %s row %d", o.csv, r); /* from 0, as --shard and the summary */
            const char *status = "done", *error = NULL, *out_name = NULL;
            char out[2048];
            n_frames = -1;
            if (pcavs_render_parse_csv_line(rows[r], &row, name, sizeof name) != PCAVS_OK) {
                fprintf(stderr, PROG ": %s: %s\n", label, pcavs_last_error());
                status = "failed", error = pcavs_last_error();
                failed++;
            } else {
                snprintf(out, sizeof out, "%s/%s.mp4", dir, name);
                row.output = out_name = out;
                char *own_sbs, *own_ref;
                set_outputs(&row, &o, &own_sbs, &own_ref);
                /* resume: outputs are renamed into place only when complete, so an existing one is finished */
                if (!o.overwrite && infer_output_exists(out) &&
                    (!row.side_by_side || infer_output_exists(row.side_by_side)) &&
                    (!row.output_ref || infer_output_exists(row.output_ref))) {
                    status = "skipped";
                    skipped++;
                    if (!o.quiet) printf(PROG ": %s: %s exists, skipped (--overwrite renders it again)\n", label, out);
                } else {
                    /* temporaries of a render that was killed (scancel, a lost node) */
                    infer_remove_stale_temps(out);
                    if (row.side_by_side) infer_remove_stale_temps(row.side_by_side);
                    if (row.output_ref) infer_remove_stale_temps(row.output_ref);
                    if (!ctx && !load_failed && !(ctx = load_model(model_path, &xp, rp.batch, &o))) {
                        load_failed = 1;
                        snprintf(load_error, sizeof load_error, "model %s: %s", model_path, pcavs_last_error());
                    }
                    if (load_failed) {
                        status = "failed", error = load_error;
                        failed++;
                    } else if (run_clip(ctx, &row, &o, label, NULL)) {
                        status = "failed", error = pcavs_last_error();
                        failed++;
                    }
                    done++;
                }
                free(own_sbs), free(own_ref);
            }
            if (infer_summary_append(summary_fd, r, o.shard_i, o.shard_n, out_name, status, n_frames, now_s() - t_row,
                                     error) != 0) {
                fprintf(stderr, PROG ": summary %s: cannot append: %s\n", summary_path, strerror(errno));
                failed++;
            }
        }
        if (!o.quiet)
            printf(PROG ": csv %s: shard %d/%d: %d clips rendered, %d skipped, %d failed (summary %s)\n", o.csv,
                   o.shard_i, o.shard_n, done, skipped, failed, summary_path);
        close(summary_fd);
    }
    for (int r = 0; r < n_rows; r++) free(rows[r]);
    free(rows);
    pcavs_context_free(ctx);
    return failed ? 1 : 0;
}
