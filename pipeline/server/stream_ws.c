/* stream_ws.c: the WebSocket /v1/stream (protocol in ws_proto.h): a face image, then 16 kHz PCM (and
 * optionally pose frames) in; each frame out as soon as pcavs_stream_pull_frame has it. At most
 * --max-streams connections hold a stream slot; each slot keeps its own context (created on first use)
 * because a context is used by one thread at a time. */
#define _GNU_SOURCE
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

typedef struct ws_session {
    server *srv;
    int slot; /* -1: refused (too many streams) */
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
    if (!request_authorized(conn, srv))
        return 1; /* refused before the upgrade: the client sees the handshake fail */
    ws_session *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
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
    mg_set_user_connection_data(conn, s);
    return 0;
}

typedef struct ws_call {
    struct mg_connection *conn;
    server *srv;
    int bits;
    char *data;
    size_t len;
} ws_call;

static int ws_ready_body(void *arg) {
    ws_call *c = arg;
    struct mg_connection *conn = c->conn;
    server *srv = c->srv;
    ws_session *s = mg_get_user_connection_data(conn);
    if (!s)
        return 0;
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
    char m[256];
    snprintf(m, sizeof m,
             "{\"type\": \"ready\", \"sample_rate\": %d, \"fps\": %d, \"frame_side\": %d, \"lookahead_ms\": %d, "
             "\"samples_per_frame\": %d}",
             PCAVS_SAMPLE_RATE, PCAVS_FPS, PCAVS_FRAME_SIDE, PCAVS_STREAM_LOOKAHEAD_MS, PCAVS_SAMPLES_PER_FRAME);
    send_text(conn, m);
    return 0;
}

static void ws_ready(struct mg_connection *conn, void *cb) {
    ws_call c = {conn, cb, 0, NULL, 0};
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
    if (fd < 0)
        return snprintf(err, cap, "%s: cannot store the image", what), -1;
    size_t off = 0;
    while (off < m->len) {
        ssize_t w = write(fd, m->data + off, m->len - off);
        if (w <= 0)
            break;
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
                        PCAVS_FRAME_SIDE), -1;
    }
    memcpy(s->rgb, rgb, FRAME_BYTES);
    pcavs_free(rgb);
    return 0;
}

/* Sends every frame that is ready. Returns 0, or -1 (err set) on a stream error or a lost client. */
static int pump(struct mg_connection *conn, ws_session *s, char *err, size_t cap) {
    for (;;) {
        if (s->srv->stopping)
            return snprintf(err, cap, "the server is shutting down"), -1;
        int ready = 0;
        if (pcavs_stream_pull_frame(s->st, s->rgb, sizeof s->rgb, &ready) != PCAVS_OK)
            return snprintf(err, cap, "%s", pcavs_last_error()), -1;
        if (ready != 1)
            return 0;
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
        if (w <= 0)
            return snprintf(err, cap, "client gone"), -1;
    }
}

/* Handles one whole message. Returns 1 to keep the connection, 0 to close it. */
static int handle_message(struct mg_connection *conn, ws_session *s) {
    server *srv = s->srv;
    ws_msg m;
    char err[700];
    if (ws_msg_parse(s->msg_binary, s->msg, s->msg_len, &m, err, sizeof err))
        goto fail;
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
        if (decode_image(s, &m, "face", err, sizeof err))
            goto fail;
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
        if (st == PCAVS_OK)
            st = pcavs_stream_create(ctx, id, &sp, &s->st);
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
            if (decode_image(s, &m, "pose", err, sizeof err))
                goto fail;
            if (pcavs_stream_push_pose(s->st, s->rgb, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE) != PCAVS_OK) {
                snprintf(err, sizeof err, "pose: %s", pcavs_last_error());
                goto fail;
            }
        }
        if (pump(conn, s, err, sizeof err))
            goto fail;
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
        if (pump(conn, s, err, sizeof err))
            goto fail;
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

static int ws_data_body(void *arg) {
    ws_call *c = arg;
    struct mg_connection *conn = c->conn;
    int bits = c->bits;
    char *data = c->data;
    size_t len = c->len;
    ws_session *s = mg_get_user_connection_data(conn);
    int op = bits & 0x0F, fin = (bits & 0x80) != 0;
    if (!s || s->slot < 0 || op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (op == MG_WEBSOCKET_OPCODE_PING || op == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    if (!s->srv->slots[s->slot].ctx)
        return 0; /* the context could not be created (reported in ws_ready) */
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
        if (!p)
            return 0;
        s->msg = p, s->msg_cap = cap;
    }
    if (len)
        memcpy(s->msg + s->msg_len, data, len);
    s->msg_len += len;
    if (!fin)
        return 1;
    return handle_message(conn, s);
}

static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cb) {
    ws_call c = {conn, cb, bits, data, len};
    int r = run_on_big_stack(ws_data_body, &c);
    return r < 0 ? 0 : r;
}

static void ws_close(const struct mg_connection *conn, void *cb) {
    server *srv = cb;
    ws_session *s = mg_get_user_connection_data(conn);
    if (!s)
        return;
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
