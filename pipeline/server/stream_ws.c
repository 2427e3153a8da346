/* stream_ws.c: the WebSocket /v1/stream (protocol in ws_proto.h): a face image, then 16 kHz PCM (and
 * optionally pose frames) in; each frame out as soon as pcavs_stream_pull_frame has it. At most
 * --max-streams connections hold a stream slot; each slot keeps its own context (created on first use)
 * because a context is used by one thread at a time. civetweb's thread only reads and queues messages;
 * a worker thread per connection runs the networks, so a client's close is seen at once (the work
 * queued behind it is dropped) even when generation is slower than real time. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "big_stack.h"
#include "jpeg_enc.h"
#include "json.h"
#include "server.h"
#include "sniff.h"
#include "ws_proto.h"

#define FRAME_BYTES ((size_t)PCAVS_FRAME_SIDE * PCAVS_FRAME_SIDE * 3)
#define MAX_MESSAGE ((size_t)16 << 20) /* one WebSocket message (an image, a PCM chunk) */

typedef struct ws_item {
    struct ws_item *next;
    int binary;
    size_t len;
    unsigned char data[]; /* [len] */
} ws_item;

#define MAX_QUEUED ((size_t)64 << 20) /* bytes of messages waiting for the worker */

typedef struct ws_session {
    server *srv;
    struct mg_connection *conn;
    pthread_t worker;
    int worker_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ws_item *head, *tail; /* messages waiting for the worker */
    size_t queued;
    volatile int closing; /* the client left or the connection is closing: the worker stops */
    int slot;             /* -1: refused (too many streams) */
    pcavs_stream *st;
    ws_msg opts; /* from the start message (defaults otherwise) */
    int started;
    unsigned char *msg; /* message being assembled from fragments */
    size_t msg_len, msg_cap;
    int msg_binary;
    uint8_t rgb[FRAME_BYTES];
    float *pcm;
    size_t pcm_cap;
} ws_session;

static void *ws_worker(void *arg);
static int handle_message(struct mg_connection *conn, ws_session *s, const ws_item *it);

static void send_text(struct mg_connection *conn, const char *text) {
    mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
}

static void send_err(struct mg_connection *conn, const char *msg) {
    char q[700], body[800];
    snprintf(body, sizeof body, "{\"type\": \"error\", \"error\": %s}", json_quote(msg, q, sizeof q));
    send_text(conn, body);
}

static int ws_connect(const struct mg_connection *conn, void *cb) {
    server *srv = cb;
    if (!request_same_origin(conn) || !request_authorized(conn, srv))
        return 1; /* refused before the upgrade: the client sees the handshake fail */
    ws_session *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->srv = srv;
    s->slot = -1;
    pthread_mutex_lock(&srv->mu);
    for (int i = 0; i < srv->opt.max_streams && !srv->stopping; i++)
        if (!srv->slots[i].busy) {
            srv->slots[i].busy = 1;
            s->slot = i;
            break;
        }
    pthread_mutex_unlock(&srv->mu);
    ws_msg_parse(1, (const unsigned char *)"A", 1, &s->opts, NULL, 0); /* defaults */
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    mg_set_user_connection_data(conn, s);
    return 0;
}

typedef struct ws_call {
    struct mg_connection *conn;
    server *srv;
} ws_call;

static int ws_ready_body(void *arg) {
    ws_call *c = arg;
    struct mg_connection *conn = c->conn;
    server *srv = c->srv;
    ws_session *s = mg_get_user_connection_data(conn);
    if (!s) return 0;
    if (s->slot < 0) {
        char m[160];
        snprintf(m, sizeof m, "too many streams: this server allows %d at once (--max-streams)", srv->opt.max_streams);
        send_err(conn, m);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
        return 0;
    }
    pthread_mutex_lock(&srv->mu);
    stream_slot *sl = &srv->slots[s->slot];
    pthread_mutex_unlock(&srv->mu);
    if (!sl->ctx) { /* only this connection uses the slot now */
        pcavs_context_params cp = srv->ctx_params;
        cp.max_batch = 1;
        if (pcavs_context_create(srv->opt.model, &cp, &sl->ctx) != PCAVS_OK) {
            send_err(conn, pcavs_last_error());
            mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
            return 0;
        }
    }
    s->conn = conn;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, (size_t)8 << 20);
    s->worker_started = pthread_create(&s->worker, &at, ws_worker, s) == 0;
    pthread_attr_destroy(&at);
    if (!s->worker_started) {
        send_err(conn, "cannot start a stream thread");
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
        return 0;
    }
    char m[256];
    snprintf(m, sizeof m,
             "{\"type\": \"ready\", \"sample_rate\": %d, \"fps\": %d, \"frame_side\": %d, \"lookahead_ms\": %d, "
             "\"samples_per_frame\": %d}",
             PCAVS_SAMPLE_RATE, PCAVS_FPS, PCAVS_FRAME_SIDE, PCAVS_STREAM_LOOKAHEAD_MS, PCAVS_SAMPLES_PER_FRAME);
    send_text(conn, m);
    return 0;
}

/* The connection's worker: handles queued messages in order until the stream ends or the client leaves. */
static void *ws_worker(void *arg) {
    ws_session *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->closing) pthread_cond_wait(&s->cv, &s->mu);
        if (s->closing) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        ws_item *it = s->head;
        s->head = it->next;
        if (!s->head) s->tail = NULL;
        s->queued -= it->len;
        pthread_mutex_unlock(&s->mu);
        int keep = handle_message(s->conn, s, it);
        free(it);
        if (!keep) { /* ended or failed: the close frame was sent; civetweb closes at the client's next frame */
            __atomic_store_n((int *)&s->closing, 1, __ATOMIC_RELEASE);
            break;
        }
    }
    return NULL;
}

static void ws_ready(struct mg_connection *conn, void *cb) {
    ws_call c = {conn, cb};
    run_on_big_stack(ws_ready_body, &c);
}

/* Decodes a 224x224 image message (through a private temporary file: the public API reads files). */
static int decode_image(ws_session *s, const ws_msg *m, const char *what, char *err, size_t cap) {
    sniff_kind k = sniff(m->data, m->len);
    if (!sniff_is_image(k) || !sniff_image_complete(k, m->data, m->len))
        return snprintf(err, cap, "%s: not a complete JPEG or PNG image", what), -1;
    char path[600];
    snprintf(path, sizeof path, "%s/ws-XXXXXX", s->srv->root);
    int fd = mkstemp(path);
    if (fd < 0) return snprintf(err, cap, "%s: cannot store the image", what), -1;
    size_t off = 0;
    while (off < m->len) {
        ssize_t w = write(fd, m->data + off, m->len - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(fd);
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    pcavs_status st = off == m->len ? pcavs_image_read(path, &rgb, &w, &h) : PCAVS_ERR_IO;
    unlink(path);
    if (st != PCAVS_OK) {
        pcavs_free(rgb);
        return snprintf(err, cap, "%s: cannot decode: %s", what, pcavs_last_error()), -1;
    }
    if (w != PCAVS_FRAME_SIDE || h != PCAVS_FRAME_SIDE) {
        pcavs_free(rgb);
        return snprintf(err, cap, "%s: %dx%d; a %dx%d face crop is needed", what, w, h, PCAVS_FRAME_SIDE,
                        PCAVS_FRAME_SIDE),
               -1;
    }
    memcpy(s->rgb, rgb, FRAME_BYTES);
    pcavs_free(rgb);
    return 0;
}

/* Sends every frame that is ready. Returns 0, or -1 (err set) on a stream error or a lost client. */
static int pump(struct mg_connection *conn, ws_session *s, char *err, size_t cap) {
    for (;;) {
        if (s->srv->stopping) return snprintf(err, cap, "the server is shutting down"), -1;
        if (__atomic_load_n((int *)&s->closing, __ATOMIC_ACQUIRE)) return snprintf(err, cap, "client gone"), -1;
        int ready = 0;
        if (pcavs_stream_pull_frame(s->st, s->rgb, sizeof s->rgb, &ready) != PCAVS_OK)
            return snprintf(err, cap, "%s", pcavs_last_error()), -1;
        if (ready != 1) return 0;
        uint32_t j = (uint32_t)(pcavs_stream_frames_pulled(s->st) - 1);
        unsigned char *jpg = NULL;
        size_t n = FRAME_BYTES;
        const unsigned char *payload = s->rgb;
        if (s->opts.format == WS_FORMAT_JPEG) {
            if (jpeg_encode_rgb(s->rgb, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE, s->opts.quality, &jpg, &n))
                return snprintf(err, cap, "JPEG encoding failed"), -1;
            payload = jpg;
        }
        unsigned char *buf = malloc(WS_FRAME_HEADER + n);
        if (!buf) {
            free(jpg);
            return snprintf(err, cap, "out of memory"), -1;
        }
        ws_frame_header(buf, s->opts.format, j, (double)j / PCAVS_FPS);
        memcpy(buf + WS_FRAME_HEADER, payload, n);
        int w = mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_BINARY, (const char *)buf, WS_FRAME_HEADER + n);
        free(buf);
        free(jpg);
        if (w <= 0) return snprintf(err, cap, "client gone"), -1;
    }
}

/* Handles one whole message. Returns 1 to keep the connection, 0 to close it. */
static int handle_message(struct mg_connection *conn, ws_session *s, const ws_item *it) {
    server *srv = s->srv;
    ws_msg m;
    char err[700];
    if (ws_msg_parse(it->binary, it->data, it->len, &m, err, sizeof err)) goto fail;
    pcavs_context *ctx = srv->slots[s->slot].ctx;
    switch (m.kind) {
    case WS_MSG_START:
        if (s->st || s->started) {
            snprintf(err, sizeof err, "start: must come once, before the face");
            goto fail;
        }
        s->opts = m;
        s->started = 1;
        return 1;
    case WS_MSG_FACE: {
        if (s->st) {
            snprintf(err, sizeof err, "face: sent twice (one identity per stream)");
            goto fail;
        }
        if (decode_image(s, &m, "face", err, sizeof err)) goto fail;
        pcavs_identity *id = malloc(sizeof *id);
        if (!id) {
            snprintf(err, sizeof err, "out of memory");
            goto fail;
        }
        pcavs_stream_params sp;
        pcavs_stream_params_init(&sp);
        sp.gain = s->opts.gain;
        sp.pose_source = s->opts.pose_pushed ? PCAVS_STREAM_POSE_PUSHED : PCAVS_STREAM_POSE_REFERENCE;
        sp.noise.mode = (pcavs_noise_mode)s->opts.noise;
        sp.noise.seed = s->opts.seed;
        sp.format = PCAVS_FRAME_RGB8;
        pcavs_status st = pcavs_identity_encode(ctx, 1, s->rgb, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE, id);
        if (st == PCAVS_OK) st = pcavs_stream_create(ctx, id, &sp, &s->st);
        free(id);
        if (st != PCAVS_OK) {
            snprintf(err, sizeof err, "face: %s", pcavs_last_error());
            goto fail;
        }
        send_text(conn, "{\"type\": \"identity\"}");
        return 1;
    }
    case WS_MSG_PCM:
    case WS_MSG_POSE:
        if (!s->st) {
            snprintf(err, sizeof err, "%s before the face: send the face image first",
                     m.kind == WS_MSG_PCM ? "audio" : "pose");
            goto fail;
        }
        if (m.kind == WS_MSG_PCM) {
            if (m.n_samples > s->pcm_cap) {
                float *p = realloc(s->pcm, m.n_samples * sizeof *p);
                if (!p) {
                    snprintf(err, sizeof err, "out of memory");
                    goto fail;
                }
                s->pcm = p, s->pcm_cap = m.n_samples;
            }
            ws_pcm_decode(m.data, m.n_samples, s->pcm);
            if (pcavs_stream_push_pcm(s->st, s->pcm, m.n_samples) != PCAVS_OK) {
                snprintf(err, sizeof err, "audio: %s", pcavs_last_error());
                goto fail;
            }
        } else {
            if (!s->opts.pose_pushed) {
                snprintf(err, sizeof err, "pose: send {\"type\": \"start\", \"pose\": \"pushed\"} first");
                goto fail;
            }
            if (decode_image(s, &m, "pose", err, sizeof err)) goto fail;
            if (pcavs_stream_push_pose(s->st, s->rgb, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE) != PCAVS_OK) {
                snprintf(err, sizeof err, "pose: %s", pcavs_last_error());
                goto fail;
            }
        }
        if (pump(conn, s, err, sizeof err)) goto fail;
        return 1;
    case WS_MSG_FINISH: {
        if (!s->st) {
            snprintf(err, sizeof err, "finish before the face");
            goto fail;
        }
        if (pcavs_stream_finish(s->st) != PCAVS_OK) {
            snprintf(err, sizeof err, "%s", pcavs_last_error());
            goto fail;
        }
        if (pump(conn, s, err, sizeof err)) goto fail;
        char b[96];
        snprintf(b, sizeof b, "{\"type\": \"end\", \"frames\": %zu}", pcavs_stream_frames_pulled(s->st));
        send_text(conn, b);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
        return 0;
    }
    }
    snprintf(err, sizeof err, "unexpected message");
fail:
    send_err(conn, err);
    mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
    return 0;
}

/* civetweb's thread: assembles a message from its fragments and queues it for the worker. */
static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cb) {
    (void)cb;
    ws_session *s = mg_get_user_connection_data(conn);
    int op = bits & 0x0F, fin = (bits & 0x80) != 0;
    if (!s || s->slot < 0 || !s->worker_started || op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE ||
        __atomic_load_n((int *)&s->closing, __ATOMIC_ACQUIRE)) {
        if (s) { /* the worker stops before the frame it is computing is sent */
            pthread_mutex_lock(&s->mu);
            __atomic_store_n((int *)&s->closing, 1, __ATOMIC_RELEASE);
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
        return 0;
    }
    if (op == MG_WEBSOCKET_OPCODE_PING || op == MG_WEBSOCKET_OPCODE_PONG) return 1;
    if (op == MG_WEBSOCKET_OPCODE_TEXT || op == MG_WEBSOCKET_OPCODE_BINARY) {
        s->msg_len = 0;
        s->msg_binary = op == MG_WEBSOCKET_OPCODE_BINARY;
    } else if (op != MG_WEBSOCKET_OPCODE_CONTINUATION) {
        return 1;
    }
    if (s->msg_len + len > MAX_MESSAGE) {
        send_err(conn, "message too large (16 MiB at most)");
        return 0;
    }
    if (s->msg_len + len > s->msg_cap) {
        size_t cap = (s->msg_len + len) * 2;
        unsigned char *p = realloc(s->msg, cap);
        if (!p) return 0;
        s->msg = p, s->msg_cap = cap;
    }
    if (len) memcpy(s->msg + s->msg_len, data, len);
    s->msg_len += len;
    if (!fin) return 1;
    ws_item *it = malloc(sizeof *it + s->msg_len);
    if (!it) return 0;
    it->next = NULL;
    it->binary = s->msg_binary;
    it->len = s->msg_len;
    memcpy(it->data, s->msg, s->msg_len);
    pthread_mutex_lock(&s->mu);
    int over = s->queued + it->len > MAX_QUEUED;
    if (!over) {
        if (s->tail)
            s->tail->next = it;
        else
            s->head = it;
        s->tail = it;
        s->queued += it->len;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (over) {
        free(it);
        send_err(conn, "too much input waiting: the client sends faster than frames are generated");
        return 0;
    }
    return 1;
}

static void ws_close(const struct mg_connection *conn, void *cb) {
    server *srv = cb;
    ws_session *s = mg_get_user_connection_data(conn);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    __atomic_store_n((int *)&s->closing, 1, __ATOMIC_RELEASE);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->worker_started) pthread_join(s->worker, NULL); /* at most the frame under way */
    for (ws_item *it = s->head, *n; it; it = n) {
        n = it->next;
        free(it);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pcavs_stream_free(s->st);
    if (s->slot >= 0) {
        pthread_mutex_lock(&srv->mu);
        srv->slots[s->slot].busy = 0;
        pthread_mutex_unlock(&srv->mu);
    }
    free(s->msg);
    free(s->pcm);
    free(s);
    mg_set_user_connection_data(conn, NULL);
}

void stream_ws_register(struct mg_context *mg, server *srv) {
    mg_set_websocket_handler(mg, "/v1/stream", ws_connect, ws_ready, ws_data, ws_close, srv);
}

void stream_ws_free_slots(server *srv) {
    for (int i = 0; i < srv->opt.max_streams; i++) {
        pcavs_context_free(srv->slots[i].ctx);
        srv->slots[i].ctx = NULL;
    }
}
