/* fuzz_server.c: libFuzzer target for pcavs-server's request parsers (pipeline/server): the first byte picks
 * the parser, the rest is its input:
 *   0: multipart/form-data (mp_boundary on a header made from the input's first line, mp_parse on the rest,
 *      and also mp_parse with a fixed boundary on the whole input);
 *   1: the flat JSON parser (json_parse_flat) and json_quote of the input as a string;
 *   2: WebSocket messages (ws_msg_parse as binary and as text; ws_pcm_decode of a PCM payload);
 *   3: content sniffing (sniff, sniff_image_complete).
 * Each parsed result is read back whole so that ASan sees every byte the parsers point at. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "multipart.h"
#include "sniff.h"
#include "ws_proto.h"

static volatile unsigned sink;

static void touch(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) sink += b[i];
}

static void fuzz_multipart(const uint8_t *d, size_t n) {
    char err[256];
    mp_form *f = malloc(sizeof *f);
    if (!f) return;
    /* header = first line (NUL-terminated copy), body = the rest */
    size_t eol = 0;
    while (eol < n && d[eol] != '\n') eol++;
    char *hdr = malloc(eol + 1);
    memcpy(hdr, d, eol);
    hdr[eol] = 0;
    char boundary[80];
    if (mp_boundary(hdr, boundary, sizeof boundary) == 0) {
        size_t off = eol < n ? eol + 1 : n;
        char *body = malloc(n - off + 1); /* exact-size copy: ASan catches over-reads */
        memcpy(body, d + off, n - off);
        if (mp_parse(body, n - off, boundary, f, err, sizeof err) == 0)
            for (int i = 0; i < f->n; i++) {
                touch(f->parts[i].data, f->parts[i].len);
                touch(f->parts[i].name, strlen(f->parts[i].name));
                touch(f->parts[i].filename, strlen(f->parts[i].filename));
                mp_find(f, f->parts[i].name);
            }
        free(body);
    }
    free(hdr);
    char *all = malloc(n + 1);
    memcpy(all, d, n);
    if (mp_parse(all, n, "XyZ", f, err, sizeof err) == 0)
        for (int i = 0; i < f->n; i++) touch(f->parts[i].data, f->parts[i].len);
    free(all);
    free(f);
}

static void fuzz_json(const uint8_t *d, size_t n) {
    json_object o;
    char err[256];
    char *t = malloc(n + 1);
    memcpy(t, d, n);
    if (json_parse_flat(t, n, &o, err, sizeof err) == 0)
        for (int i = 0; i < o.n; i++) {
            touch(o.f[i].key, strlen(o.f[i].key));
            touch(o.f[i].str, strlen(o.f[i].str));
            json_get(&o, o.f[i].key);
        }
    t[n] = 0;
    char q[512];
    json_quote(t, q, sizeof q);
    touch(q, strlen(q));
    free(t);
}

static void fuzz_ws(const uint8_t *d, size_t n) {
    ws_msg m;
    char err[256];
    unsigned char *t = malloc(n ? n : 1);
    memcpy(t, d, n);
    for (int binary = 0; binary < 2; binary++) {
        if (ws_msg_parse(binary, t, n, &m, err, sizeof err) == 0) {
            touch(m.data, m.len);
            if (m.kind == WS_MSG_PCM && m.n_samples) {
                float *pcm = malloc(m.n_samples * sizeof *pcm);
                ws_pcm_decode(m.data, m.n_samples, pcm);
                touch(pcm, m.n_samples * sizeof *pcm);
                free(pcm);
            }
        }
    }
    unsigned char h[WS_FRAME_HEADER];
    ws_frame_header(h, n & 1 ? WS_FORMAT_RGB : WS_FORMAT_JPEG, (uint32_t)n, (double)n / 25);
    touch(h, sizeof h);
    free(t);
}

static void fuzz_sniff(const uint8_t *d, size_t n) {
    unsigned char *t = malloc(n ? n : 1);
    memcpy(t, d, n);
    sniff_kind k = sniff(t, n);
    sink += (unsigned)k + (unsigned)sniff_image_complete(k, t, n) + (unsigned)sniff_is_audio(k);
    touch(sniff_ext(k), strlen(sniff_ext(k)));
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    switch (data[0] & 3) {
    case 0:
        fuzz_multipart(data + 1, size - 1);
        break;
    case 1:
        fuzz_json(data + 1, size - 1);
        break;
    case 2:
        fuzz_ws(data + 1, size - 1);
        break;
    default:
        fuzz_sniff(data + 1, size - 1);
        break;
    }
    return 0;
}
