/* options.h: pcavs-server's command line (parsed with getopt_long) and its --help text. */
#ifndef PCAVS_SERVER_OPTIONS_H
#define PCAVS_SERVER_OPTIONS_H

#include <stddef.h>

typedef struct server_options {
    const char *model;
    const char *host;        /* default 127.0.0.1 */
    int port;                /* default 8080; 0 = any free port (printed at startup) */
    int device;              /* pcavs_device */
    int threads;             /* CPU threads per context (0 = all cores) */
    int parallel;            /* job workers, each with its own context (default 1) */
    int max_queue;           /* jobs waiting (not yet running) before 429 (default 16) */
    double keep_seconds;     /* results kept after a job ends (default 600) */
    const char *api_key;     /* NULL = no key */
    size_t max_upload_bytes; /* a whole POST body (default 64 MiB) */
    double max_clip_seconds; /* audio longer than this: 400 (default 300) */
    int max_streams;         /* open /v1/stream connections (default 1) */
    int batch;               /* frames per network call for jobs (default 4) */
    int quiet;
} server_options;

/* Parses argv. Returns 0 to run, 1 when --help/--version was printed (exit 0), 2 on a usage error
 * (message printed on stderr). */
int server_options_parse(int argc, char **argv, server_options *o);

#endif
