/* server.h: the state shared by pcavs-server's parts (options, job queue, stream slots) and the
 * registration functions of its HTTP and WebSocket handlers. */
#ifndef PCAVS_SERVER_SERVER_H
#define PCAVS_SERVER_SERVER_H

#include <pthread.h>

#include "jobs.h"
#include "options.h"

struct mg_context;
struct mg_connection;

typedef struct stream_slot {
    int busy;
    pcavs_context *ctx; /* created on first use, kept until exit */
} stream_slot;

typedef struct server {
    server_options opt;
    job_queue *jobs;
    char root[512];      /* private folder (0700) for uploads and results */
    const char *backend; /* of the loaded model */
    const char *precision;
    int synthetic;
    pthread_mutex_t mu;    /* guards stream slots and event_streams */
    int event_streams;     /* open GET /v1/jobs/{id}/events */
    stream_slot *slots;    /* [opt.max_streams] */
    volatile int stopping; /* set by SIGTERM: long handlers (events, streams) end */
    pcavs_context_params ctx_params;
} server;

/* http_api.c: /health and /v1/jobs... */
void http_api_register(struct mg_context *mg, server *srv);
/* http_api.c: a JSON 404 for every other path (call after every other registration). */
void http_api_register_fallback(struct mg_context *mg, server *srv);
/* stream_ws.c: /v1/stream */
void stream_ws_register(struct mg_context *mg, server *srv);
void stream_ws_free_slots(server *srv);
/* assets (generated from web/): GET / and its files */
void assets_register(struct mg_context *mg, server *srv);

/* Helpers shared by the handlers (http_api.c). */
void send_json(struct mg_connection *conn, int status, const char *body);
void send_error(struct mg_connection *conn, int status, const char *fmt, ...);
/* 1 when the request carries the API key (or no key is configured); compared in constant time. */
int request_authorized(const struct mg_connection *conn, const server *srv);
/* 0 when a browser's Origin header names another site than the Host header (cross-site request). */
int request_same_origin(const struct mg_connection *conn);

#endif
