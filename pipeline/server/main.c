/* pcavs-server: PC-AVS over HTTP and WebSocket (docs/server.md). Loads the model once per worker, starts
 * civetweb with the API (http_api.c), the live stream (stream_ws.c) and the embedded page (assets.c), and
 * on SIGTERM/SIGINT cancels running work, removes its private folder and exits 0. Uses only the public
 * API (pcavs.h, libpcavs). Exit status: 0 after a signal, 1 when it cannot start, 2 usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "pcavs.h"
#include "server.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static int on_log(const struct mg_connection *conn, const char *message) {
    (void)conn;
    fprintf(stderr, "pcavs-server: http: %s\n", message);
    return 1;
}

int main(int argc, char **argv) {
    pcavs_process_init(argc, argv);
    server srv;
    memset(&srv, 0, sizeof srv);
    int r = server_options_parse(argc, argv, &srv.opt);
    if (r) return r == 1 ? 0 : 2;
    /* big buffers (uploads, clips) are mmapped and returned to the system when freed */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *tmp = getenv("TMPDIR");
    snprintf(srv.root, sizeof srv.root, "%s/pcavs-server-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(srv.root)) {
        fprintf(stderr, "pcavs-server: cannot create a private folder in %s: %s\n", tmp && *tmp ? tmp : "/tmp",
                strerror(errno));
        return 1;
    }
    srv.synthetic = pcavs_model_is_synthetic(srv.opt.model);
    if (srv.synthetic)
        fprintf(stderr,
                "pcavs-server: WARNING: %s holds SYNTHESIZED RANDOM weights (pcavs-convert --synthesize): "
                "the output is not a face\n",
                srv.opt.model);
    pcavs_context_params_init(&srv.ctx_params);
    srv.ctx_params.exec.device = (pcavs_device)srv.opt.device;
    srv.ctx_params.exec.n_threads = srv.opt.threads;
    srv.ctx_params.max_batch = srv.opt.batch;
    pthread_mutex_init(&srv.mu, NULL);
    srv.slots = calloc((size_t)(srv.opt.max_streams > 0 ? srv.opt.max_streams : 1), sizeof *srv.slots);

    job_queue_params jp = {.model = srv.opt.model,
                           .ctx_params = srv.ctx_params,
                           .parallel = srv.opt.parallel,
                           .max_queue = srv.opt.max_queue,
                           .batch = srv.opt.batch,
                           .keep_seconds = srv.opt.keep_seconds,
                           .root = srv.root,
                           .quiet = srv.opt.quiet};
    srv.jobs = job_queue_start(&jp);
    if (!srv.jobs || !srv.slots) {
        rmdir(srv.root);
        return 1;
    }
    srv.backend = pcavs_context_backend_name(job_queue_context(srv.jobs, 0));
    srv.precision = pcavs_context_precision_name(job_queue_context(srv.jobs, 0));

    mg_init_library(MG_FEATURES_WEBSOCKET);
    if (!mg_check_feature(MG_FEATURES_WEBSOCKET))
        fprintf(stderr, "pcavs-server: this civetweb has no WebSocket support: /v1/stream is unavailable\n");
    char ports[300];
    snprintf(ports, sizeof ports, strchr(srv.opt.host, ':') ? "[%s]:%d" : "%s:%d", srv.opt.host, srv.opt.port);
    const char *mgopt[] = {"listening_ports",
                           ports,
                           "num_threads",
                           "64",
                           "request_timeout_ms",
                           "120000",
                           "websocket_timeout_ms",
                           "60000",
                           "enable_keep_alive",
                           "no",
                           NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = on_log;
    struct mg_context *mg = mg_start(&cb, &srv, mgopt);
    if (!mg) {
        fprintf(stderr, "pcavs-server: cannot listen on %s (in use, or not an address of this machine)\n", ports);
        job_queue_stop(srv.jobs);
        stream_ws_free_slots(&srv);
        job_remove_dir(srv.root);
        return 1;
    }
    http_api_register(mg, &srv);
    stream_ws_register(mg, &srv);
    assets_register(mg, &srv);
    http_api_register_fallback(mg, &srv);
    struct mg_server_port sp[4];
    int np = mg_get_server_ports(mg, 4, sp);
    int port = np > 0 ? sp[0].port : srv.opt.port;
    printf("pcavs-server: listening on http://%s%s%s:%d/ (backend %s, %s, %d worker%s, model %s)\n",
           strchr(srv.opt.host, ':') ? "[" : "", srv.opt.host, strchr(srv.opt.host, ':') ? "]" : "", port, srv.backend,
           srv.precision, srv.opt.parallel, srv.opt.parallel == 1 ? "" : "s", srv.opt.model);
    fflush(stdout);

    while (!g_stop) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!srv.opt.quiet) fprintf(stderr, "pcavs-server: stopping: cancelling running work\n");
    srv.stopping = 1;
    job_queue_cancel_all(srv.jobs); /* event streams and submissions see the shutdown */
    mg_stop(mg);                    /* waits for the handlers */
    job_queue_stop(srv.jobs);       /* joins the workers, removes the job folders */
    stream_ws_free_slots(&srv);
    job_remove_dir(srv.root);
    free(srv.slots);
    mg_exit_library();
    if (!srv.opt.quiet) fprintf(stderr, "pcavs-server: stopped\n");
    return 0;
}
