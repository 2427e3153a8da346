/* options.c: pcavs-server's flags and --help (options.h). */
#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs.h"

#define PROG "pcavs-server"

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " --model MODEL.safetensors [--host 127.0.0.1] [--port 8080] [--device cpu|cuda]\n"
            "                    [--parallel N] [--max-queue N] [--keep-seconds S] [--api-key KEY] [options]\n"
            "\n"
            "Serves PC-AVS talking-face rendering over HTTP: the model is loaded once; clips are submitted as jobs\n"
            "(POST /v1/jobs, multipart: face, audio, optional pose) and rendered in turn by --parallel workers;\n"
            "progress by polling (GET /v1/jobs/ID) or Server-Sent Events (GET /v1/jobs/ID/events); the MP4 from\n"
            "GET /v1/jobs/ID/result. A WebSocket (/v1/stream) turns live 16 kHz PCM into frames as they are ready\n"
            "(120 ms of audio look-ahead plus the compute time of a frame). GET / is a web page for both.\n"
            "The full API with a curl session: docs/server.md.\n"
            "\n"
            "  -m, --model FILE        converted weights (pcavs-convert; --synthesize ones work but are not a face)\n"
            "      --host ADDR         address to listen on (default 127.0.0.1: this machine only). 0.0.0.0 exposes\n"
            "                          the server to the network: set --api-key then\n"
            "      --port N            TCP port (default 8080; 0 = any free port, printed at startup)\n"
            "      --device D          cpu (default) or cuda\n"
            "  -t, --threads N         CPU threads of each worker (default 0: all cores)\n"
            "      --parallel N        jobs rendered at once (default 1); each worker holds its own copy of the\n"
            "                          model's activations (a context), so memory grows with N\n"
            "      --max-queue N       jobs that may wait (not yet running); more get 429 (default 16)\n"
            "      --keep-seconds S    how long a finished job's video stays downloadable (default 600); then the\n"
            "                          job and its files are removed\n"
            "      --api-key KEY       require 'Authorization: Bearer KEY' (or X-API-Key: KEY, or ?api_key=KEY for\n"
            "                          browsers' EventSource and WebSocket) on every /v1/ request; compared in "
            "constant time\n"
            "      --max-upload-mb N   largest POST body (default 64); larger ones get 413\n"
            "      --max-clip-seconds S  longest audio accepted (default 300)\n"
            "      --max-streams N     WebSocket streams open at once (default 1); more are refused\n"
            "  -b, --batch N           frames per network call in jobs (default 4)\n"
            "  -q, --quiet             no request log\n"
            "  -h, --help              this help\n"
            "  -V, --version           the version\n"
            "\n"
            "Uploads live in a private temporary folder (mode 0700, under $TMPDIR or /tmp) named by the server, never\n"
            "by the client; each job's inputs are removed when it ends, its video after --keep-seconds. SIGTERM or\n"
            "SIGINT cancels running jobs, removes every file and exits 0.\n");
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

int server_options_parse(int argc, char **argv, server_options *o) {
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->device = PCAVS_DEVICE_CPU;
    o->parallel = 1;
    o->max_queue = 16;
    o->keep_seconds = 600;
    o->max_upload_bytes = (size_t)64 << 20;
    o->max_clip_seconds = 300;
    o->max_streams = 1;
    o->batch = 4;
    enum { O_HOST = 256, O_PORT, O_DEVICE, O_PARALLEL, O_QUEUE, O_KEEP, O_KEY, O_UPLOAD, O_CLIP, O_STREAMS };
    static const struct option lo[] = {{"model", required_argument, 0, 'm'},
                                       {"host", required_argument, 0, O_HOST},
                                       {"port", required_argument, 0, O_PORT},
                                       {"device", required_argument, 0, O_DEVICE},
                                       {"threads", required_argument, 0, 't'},
                                       {"parallel", required_argument, 0, O_PARALLEL},
                                       {"max-queue", required_argument, 0, O_QUEUE},
                                       {"keep-seconds", required_argument, 0, O_KEEP},
                                       {"api-key", required_argument, 0, O_KEY},
                                       {"max-upload-mb", required_argument, 0, O_UPLOAD},
                                       {"max-clip-seconds", required_argument, 0, O_CLIP},
                                       {"max-streams", required_argument, 0, O_STREAMS},
                                       {"batch", required_argument, 0, 'b'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {"version", no_argument, 0, 'V'},
                                       {0, 0, 0, 0}};
    long v;
    double d;
    int c;
#define BAD(...)                                                                                                       \
    do {                                                                                                               \
        fprintf(stderr, PROG ": " __VA_ARGS__);                                                                        \
        fprintf(stderr, " (see " PROG " --help)\n");                                                                   \
        return 2;                                                                                                      \
    } while (0)
    while ((c = getopt_long(argc, argv, "m:t:b:qhV", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case O_HOST:
            o->host = optarg;
            break;
        case O_PORT:
            if (!parse_long(optarg, 0, 65535, &v)) BAD("--port needs 0..65535, got '%s'", optarg);
            o->port = (int)v;
            break;
        case O_DEVICE:
            if (!strcmp(optarg, "cpu"))
                o->device = PCAVS_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda"))
                o->device = PCAVS_DEVICE_CUDA;
            else
                BAD("--device must be cpu or cuda, got '%s'", optarg);
            break;
        case 't':
            if (!parse_long(optarg, 0, 1024, &v)) BAD("--threads needs 0..1024, got '%s'", optarg);
            o->threads = (int)v;
            break;
        case O_PARALLEL:
            if (!parse_long(optarg, 1, 64, &v)) BAD("--parallel needs 1..64, got '%s'", optarg);
            o->parallel = (int)v;
            break;
        case O_QUEUE:
            if (!parse_long(optarg, 0, 100000, &v)) BAD("--max-queue needs 0..100000, got '%s'", optarg);
            o->max_queue = (int)v;
            break;
        case O_KEEP:
            if (!parse_double(optarg, 0, 1e7, &d))
                BAD("--keep-seconds needs a number of seconds >= 0, got '%s'", optarg);
            o->keep_seconds = d;
            break;
        case O_KEY:
            if (!optarg[0]) BAD("--api-key must not be empty");
            o->api_key = optarg;
            break;
        case O_UPLOAD:
            if (!parse_double(optarg, 0.001, 1e5, &d)) BAD("--max-upload-mb needs a positive number, got '%s'", optarg);
            o->max_upload_bytes = (size_t)(d * 1048576.0);
            break;
        case O_CLIP:
            if (!parse_double(optarg, 0.1, 1e6, &d))
                BAD("--max-clip-seconds needs a positive number, got '%s'", optarg);
            o->max_clip_seconds = d;
            break;
        case O_STREAMS:
            if (!parse_long(optarg, 0, 64, &v)) BAD("--max-streams needs 0..64, got '%s'", optarg);
            o->max_streams = (int)v;
            break;
        case 'b':
            if (!parse_long(optarg, 1, 256, &v)) BAD("--batch needs 1..256, got '%s'", optarg);
            o->batch = (int)v;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf(PROG " %s\n", pcavs_version());
            return 1;
        default:
            fprintf(stderr, "(see " PROG " --help)\n");
            return 2;
        }
    }
    if (optind < argc) BAD("unexpected argument '%s'", argv[optind]);
    if (!o->model) BAD("--model is required");
    return 0;
}
