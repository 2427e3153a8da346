/* pcavs_convert_main.c: the pcavs-convert command line.
 *   pcavs-convert CHECKPOINT_DIR|FILE.pth... -o model.safetensors [--keep-all]
 *   pcavs-convert --list FILE(.pth|.safetensors)
 *   pcavs-convert --synthesize -o random.safetensors [--seed N] [--keep-all]
 * Errors: one line on stderr, exit status 1 (2 for usage errors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"

static int usage(FILE *f, int code) {
    fprintf(f, "usage: pcavs-convert CHECKPOINT_DIR|FILE.pth... -o OUT.safetensors [--keep-all] [-q]\n"
               "       pcavs-convert --list FILE.pth|FILE.safetensors\n"
               "       pcavs-convert --synthesize -o OUT.safetensors [--seed N] [--keep-all]\n"
               "Converts the official PC-AVS checkpoints (latest_net_{G,V,E,A_sync}.pth, PyTorch legacy or zip\n"
               "serialization) into one safetensors model; training-only tensors are dropped unless --keep-all.\n");
    return code;
}

int main(int argc, char **argv) {
    const char *out = NULL, *list = NULL;
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    int n_in = 0, synth = 0, keep_all = 0, quiet = 0;
    unsigned long long seed = 0;
    if (!inputs) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (++i >= argc) return usage(stderr, 2);
            out = argv[i];
        } else if (!strcmp(a, "--list")) {
            if (++i >= argc) return usage(stderr, 2);
            list = argv[i];
        } else if (!strcmp(a, "--seed")) {
            char *end;
            if (++i >= argc) return usage(stderr, 2);
            seed = strtoull(argv[i], &end, 10);
            if (*end || !argv[i][0]) {
                fprintf(stderr, "pcavs-convert: --seed needs a non-negative integer, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--synthesize"))
            synth = 1;
        else if (!strcmp(a, "--keep-all"))
            keep_all = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, 0);
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pcavs-convert: unknown option %s\n", a);
            return usage(stderr, 2);
        } else
            inputs[n_in++] = a;
    }
    pcavs_status st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (list) {
        if (n_in || synth || out) return usage(stderr, 2);
        st = pcavs_convert_list(list, stdout);
    } else if (synth) {
        if (n_in || !out) return usage(stderr, 2);
        st = pcavs_synthesize(out, seed, keep_all);
    } else {
        if (!n_in || !out) return usage(stderr, 2);
        pcavs_convert_opts o = {.keep_all = keep_all, .log = quiet ? NULL : stderr};
        st = pcavs_convert(inputs, n_in, out, &o);
    }
    free(inputs);
    if (st != PCAVS_OK) {
        fprintf(stderr, "pcavs-convert: error: %s\n", pcavs_last_error());
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!list && !quiet)
        fprintf(stderr, "pcavs-convert: wrote %s in %.2f s\n", out,
                (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    return 0;
}
