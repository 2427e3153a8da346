/* ws_proto.c: parsing of /v1/stream client messages and the server's frame header (ws_proto.h). */
#include "ws_proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static int fail(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int parse_start(const json_object *o, ws_msg *m, char *err, size_t cap) {
    for (int i = 0; i < o->n; i++) {
        const json_field *f = &o->f[i];
        if (!strcmp(f->key, "type")) {
            continue;
        } else if (!strcmp(f->key, "format")) {
            if (f->kind == JSON_STRING && !strcmp(f->str, "jpeg"))
                m->format = WS_FORMAT_JPEG;
            else if (f->kind == JSON_STRING && !strcmp(f->str, "rgb"))
                m->format = WS_FORMAT_RGB;
            else
                return fail(err, cap, "start: format must be \"jpeg\" or \"rgb\"");
        } else if (!strcmp(f->key, "quality")) {
            if (f->kind != JSON_NUMBER || !(f->num >= 1 && f->num <= 100) || f->num != floor(f->num))
                return fail(err, cap, "start: quality must be an integer 1..100");
            m->quality = (int)f->num;
        } else if (!strcmp(f->key, "noise")) {
            if (f->kind == JSON_STRING && !strcmp(f->str, "random"))
                m->noise = 0;
            else if (f->kind == JSON_STRING && !strcmp(f->str, "fixed"))
                m->noise = 1;
            else if (f->kind == JSON_STRING && !strcmp(f->str, "none"))
                m->noise = 2;
            else
                return fail(err, cap, "start: noise must be \"random\", \"fixed\" or \"none\"");
        } else if (!strcmp(f->key, "seed")) {
            if (f->kind != JSON_NUMBER || !(f->num >= 0 && f->num <= 9007199254740992.0) || f->num != floor(f->num))
                return fail(err, cap, "start: seed must be a non-negative integer below 2^53");
            m->seed = (uint64_t)f->num;
        } else if (!strcmp(f->key, "gain")) {
            if (f->kind != JSON_NUMBER || !(f->num > 0 && f->num <= 1e6))
                return fail(err, cap, "start: gain must be a number in (0, 1e6]");
            m->gain = (float)f->num;
        } else if (!strcmp(f->key, "pose")) {
            if (f->kind == JSON_STRING && !strcmp(f->str, "reference"))
                m->pose_pushed = 0;
            else if (f->kind == JSON_STRING && !strcmp(f->str, "pushed"))
                m->pose_pushed = 1;
            else
                return fail(err, cap, "start: pose must be \"reference\" or \"pushed\"");
        } else {
            return fail(err, cap, "start: unknown field \"%s\"", f->key);
        }
    }
    return 0;
}

int ws_msg_parse(int binary, const unsigned char *msg, size_t len, ws_msg *m, char *err, size_t cap) {
    if (!m || (!msg && len)) return fail(err, cap, "stream: no message");
    memset(m, 0, sizeof *m);
    m->quality = 85, m->gain = 1.0f;
    if (binary) {
        if (len < 1) return fail(err, cap, "stream: empty binary message (expected a tag byte F, A or P)");
        m->data = msg + 1, m->len = len - 1;
        switch (msg[0]) {
        case 'F':
            m->kind = WS_MSG_FACE;
            break;
        case 'P':
            m->kind = WS_MSG_POSE;
            break;
        case 'A':
            m->kind = WS_MSG_PCM;
            if (m->len % 4)
                return fail(err, cap, "stream: PCM message of %zu bytes is not whole float32 samples", m->len);
            m->n_samples = m->len / 4;
            break;
        default:
            return fail(err, cap, "stream: unknown binary tag 0x%02x (expected F, A or P)", msg[0]);
        }
        if ((m->kind == WS_MSG_FACE || m->kind == WS_MSG_POSE) && m->len == 0)
            return fail(err, cap, "stream: empty %s image", m->kind == WS_MSG_FACE ? "face" : "pose");
        return 0;
    }
    json_object o;
    char jerr[160];
    if (json_parse_flat((const char *)msg, len, &o, jerr, sizeof jerr))
        return fail(err, cap, "stream: control message: %s", jerr);
    const json_field *t = json_get(&o, "type");
    if (!t || t->kind != JSON_STRING) return fail(err, cap, "stream: control message without a \"type\"");
    if (!strcmp(t->str, "finish")) {
        m->kind = WS_MSG_FINISH;
        return 0;
    }
    if (!strcmp(t->str, "start")) {
        m->kind = WS_MSG_START;
        return parse_start(&o, m, err, cap);
    }
    return fail(err, cap, "stream: unknown message type \"%s\"", t->str);
}

void ws_frame_header(unsigned char h[WS_FRAME_HEADER], ws_format format, uint32_t index, double time_s) {
    memset(h, 0, WS_FRAME_HEADER);
    h[0] = format == WS_FORMAT_RGB ? 'R' : 'J';
    for (int i = 0; i < 4; i++) h[4 + i] = (unsigned char)(index >> (8 * i));
    uint64_t b;
    memcpy(&b, &time_s, 8);
    for (int i = 0; i < 8; i++) h[8 + i] = (unsigned char)(b >> (8 * i));
}

void ws_pcm_decode(const unsigned char *d, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t b = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 | (uint32_t)d[4 * i + 2] << 16 |
                     (uint32_t)d[4 * i + 3] << 24;
        memcpy(&out[i], &b, 4);
    }
}
