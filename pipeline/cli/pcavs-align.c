/* pcavs-align: aligns self-prepared footage into VoxCeleb2-like 224x224 crops (upstream scripts/align_68.py),
 * and optionally pastes generated faces back into the original frames.
 *
 *   pcavs-align INPUT -o OUT [--model FILE] [--max-frames N] [--transforms FILE]
 *               [--paste-back GENERATED --paste-out VIDEO [--audio FILE] [--no-crop] [--feather PX]
 *                [--paste-mask mouth|face|full] [--blend multiband|feather]] [-q]
 *
 * INPUT: an image, a folder of images or a video. OUT: a folder of %06d.png frames, or a video (.mp4/.mov/.mkv/
 * .avi). --transforms writes the per-frame 2x3 matrices M_i (original -> aligned) as text, one frame a line.
 * --paste-back maps GENERATED faces (frames folder or video, the network's 224x224 output of the upstream crop
 * unless --no-crop) back into INPUT's frames with the inverse transforms and a feathered mask, writing
 * --paste-out at INPUT's resolution; with --paste-mask or --blend, only the mask (built from the landmarks) is
 * pasted, with that blend (pcavs_align_paste_clip_masked; defaults mouth, multiband). Uses only the public API
 * (pcavs.h, libpcavs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs.h" /* the public API only (tests/test_install.sh checks) */

static void usage(FILE *f) {
    fprintf(f,
            "usage: pcavs-align INPUT -o OUT [--model FILE] [--max-frames N] [--transforms FILE]\n"
            "                   [--paste-back GENERATED --paste-out VIDEO [--audio FILE] [--no-crop]\n"
            "                    [--feather PX] [--paste-mask mouth|face|full] [--blend multiband|feather]]\n"
            "                   [-q]\n"
            "  INPUT: image, folder of images or video; OUT: folder of %%06d.png frames or a video (.mp4 ...)\n"
            "  Landmarks: dlib HOG face detector + 68-point shape predictor (default model %s).\n",
            pcavs_landmarks_default_model());
}

int main(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *model = NULL, *tpath = NULL, *gen = NULL, *pout = NULL, *audio = NULL,
               *mask = NULL, *blend = NULL;
    int quiet = 0, crop = 1, max_frames = 0;
    double feather = 12;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") && more)
            output = argv[++i];
        else if (!strcmp(a, "--model") && more)
            model = argv[++i];
        else if (!strcmp(a, "--transforms") && more)
            tpath = argv[++i];
        else if (!strcmp(a, "--paste-back") && more)
            gen = argv[++i];
        else if (!strcmp(a, "--paste-out") && more)
            pout = argv[++i];
        else if (!strcmp(a, "--audio") && more)
            audio = argv[++i];
        else if (!strcmp(a, "--feather") && more)
            feather = atof(argv[++i]);
        else if (!strcmp(a, "--max-frames") && more)
            max_frames = atoi(argv[++i]);
        else if (!strcmp(a, "--paste-mask") && more)
            mask = argv[++i];
        else if (!strcmp(a, "--blend") && more)
            blend = argv[++i];
        else if (!strcmp(a, "--no-crop"))
            crop = 0;
        else if (!strcmp(a, "-q"))
            quiet = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pcavs-align: unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        } else if (!input)
            input = a;
        else {
            fprintf(stderr, "pcavs-align: more than one input (%s, %s)\n", input, a);
            return 2;
        }
    }
    if (!input || !output) {
        fprintf(stderr, "pcavs-align: %s\n", !input ? "missing INPUT" : "missing -o OUT");
        usage(stderr);
        return 2;
    }
    if ((gen != NULL) != (pout != NULL)) {
        fprintf(stderr, "pcavs-align: --paste-back GENERATED and --paste-out VIDEO go together\n");
        return 2;
    }
    pcavs_paste_params pp;
    pcavs_paste_params_init(&pp);
    if ((mask && pcavs_paste_mask_parse(mask, &pp.mask) != PCAVS_OK) ||
        (blend && pcavs_paste_blend_parse(blend, &pp.blend) != PCAVS_OK)) {
        fprintf(stderr, "pcavs-align: %s\n", pcavs_last_error());
        return 2;
    }
    if ((mask || blend) && !gen) {
        fprintf(stderr, "pcavs-align: --paste-mask and --blend need --paste-back\n");
        return 2;
    }
    pp.upstream_crop = crop;
    if (!pcavs_landmarks_available()) {
        fprintf(stderr, "pcavs-align: landmark detection is unavailable: this build has no dlib (install "
                        "libdlib-dev and libdlib-data, then reconfigure and rebuild)\n");
        return 3;
    }
    pcavs_align_params p = {0};
    p.model = model;
    p.smooth_prev = -1;
    p.log = quiet ? NULL : stderr;
    p.max_frames = max_frames;
    pcavs_align_result res;
    pcavs_status st = pcavs_align_clip(input, output, &p, &res);
    if (st != PCAVS_OK) {
        fprintf(stderr, "pcavs-align: %s\n", pcavs_last_error());
        return 1;
    }
    if (res.n_multi)
        fprintf(stderr, "pcavs-align: warning: several faces in %ld frame(s); the largest one was aligned\n",
                res.n_multi);
    if (res.n_interpolated)
        fprintf(stderr, "pcavs-align: warning: no face in %ld of %ld frame(s); interpolated\n", res.n_interpolated,
                res.n_frames);
    int rc = 0;
    if (tpath) {
        FILE *f = fopen(tpath, "w");
        if (!f) {
            fprintf(stderr, "pcavs-align: file %s: cannot write\n", tpath);
            rc = 1;
        } else {
            fprintf(f, "# frame detected a b c d e f  (x' = a x + b y + c, y' = d x + e y + f: original -> aligned)\n");
            for (long i = 0; i < res.n_frames; i++) {
                const double *m = res.transforms + 6 * i;
                fprintf(f, "%ld %d %.17g %.17g %.17g %.17g %.17g %.17g\n", i, res.detected[i], m[0], m[1], m[2], m[3],
                        m[4], m[5]);
            }
            if (fclose(f) != 0) rc = 1;
        }
    }
    if (rc == 0 && gen) {
        st = mask || blend ? pcavs_align_paste_clip_masked(input, &res, gen, &pp, 0, audio, pout, p.log)
                           : pcavs_align_paste_clip(input, &res, gen, crop, feather, 0, audio, pout, p.log);
        if (st != PCAVS_OK) {
            fprintf(stderr, "pcavs-align: %s\n", pcavs_last_error());
            rc = 1;
        }
    }
    pcavs_align_result_free(&res);
    return rc;
}
