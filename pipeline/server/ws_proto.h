/* ws_proto.h: the messages of the WebSocket /v1/stream protocol (docs/server.md), as pure functions.
 *
 * Client -> server, binary messages: one tag byte, then the payload:
 *   'F' face image (JPEG or PNG, 224x224): the identity; first, once
 *   'A' PCM: little-endian float32 mono samples at 16 kHz (payload length a multiple of 4)
 *   'P' pose frame (JPEG or PNG, 224x224), with {"pose": "pushed"} in the start message
 * Client -> server, text messages (flat JSON): {"type": "start", "format": "jpeg"|"rgb", "quality": 1..100,
 *   "noise": "random"|"fixed"|"none", "seed": N, "gain": G, "pose": "reference"|"pushed"} (optional, before
 *   the face) and {"type": "finish"} (end of input: the remaining frames follow).
 * Server -> client, binary: a 16-byte header (tag 'J' JPEG or 'R' raw RGB [224,224,3], 3 zero bytes,
 *   uint32 LE frame index, float64 LE video time of the frame in seconds) then the frame.
 * Server -> client, text: {"type": "ready", ...}, {"type": "end", "frames": N}, {"type": "error", "error": ...}. */
#ifndef PCAVS_SERVER_WS_PROTO_H
#define PCAVS_SERVER_WS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define WS_FRAME_HEADER 16

typedef enum ws_msg_kind {
    WS_MSG_FACE,  /* data: image bytes */
    WS_MSG_PCM,   /* data: float32 LE samples, n_samples of them */
    WS_MSG_POSE,  /* data: image bytes */
    WS_MSG_START, /* options below */
    WS_MSG_FINISH
} ws_msg_kind;

typedef enum ws_format { WS_FORMAT_JPEG = 0, WS_FORMAT_RGB = 1 } ws_format;

typedef struct ws_msg {
    ws_msg_kind kind;
    const unsigned char *data; /* binary payload (inside the message) */
    size_t len;
    size_t n_samples; /* WS_MSG_PCM */
    /* WS_MSG_START (defaults filled in when absent) */
    ws_format format; /* default JPEG */
    int quality;      /* JPEG quality, default 85 */
    int noise;        /* 0 random (default), 1 fixed, 2 none: pcavs_noise_mode's values */
    uint64_t seed;    /* default 0 */
    float gain;       /* default 1 */
    int pose_pushed;  /* default 0 */
} ws_msg;

/* Parses one message. binary: 1 for a binary message, 0 for text. Returns 0, or -1 with a reason. */
int ws_msg_parse(int binary, const unsigned char *msg, size_t len, ws_msg *out, char *err, size_t cap);

/* Writes the 16-byte frame header into hdr. */
void ws_frame_header(unsigned char hdr[WS_FRAME_HEADER], ws_format format, uint32_t index, double time_s);

/* Decodes float32 LE samples into out[n] (no alignment assumed). */
void ws_pcm_decode(const unsigned char *data, size_t n, float *out);

#endif
