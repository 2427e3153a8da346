/* test_server_parse.c: pcavs-server's request parsers (pipeline/server: multipart.c, json.c, ws_proto.c,
 * sniff.c) on a table of valid and invalid inputs with the expected results: boundaries (quoted, too long,
 * not multipart), parts (names, escaped quotes, file names, exact data lengths, preamble, data that contains
 * the boundary without CRLF, truncation, too many parts), flat JSON (kinds, escapes, nesting, trailing bytes),
 * stream messages (tags, ragged PCM, start options and their bounds, the frame header's bytes) and sniffing
 * (magic numbers, truncated JPEG/PNG). The fuzzer (fuzz_server) checks they never crash; this checks they
 * are right. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "multipart.h"
#include "sniff.h"
#include "ws_proto.h"

static int passed, failed;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    if (ok)
        passed++;
    else
        failed++;
}

static int parse(const char *body, size_t len, const char *b, mp_form *f, char *err) {
    return mp_parse(body, len, b, f, err, 200);
}

int main(void) {
    char b[80], err[200];
    /* ---- boundaries */
    check(mp_boundary("multipart/form-data; boundary=abc", b, sizeof b) == 0 && !strcmp(b, "abc"), "boundary plain");
    check(mp_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"", b, sizeof b) == 0 && !strcmp(b, "a b"),
          "boundary quoted, case-insensitive type");
    check(mp_boundary("text/plain; boundary=abc", b, sizeof b) == -1, "not multipart refused");
    check(mp_boundary("multipart/form-data", b, sizeof b) == -1, "no boundary refused");
    check(mp_boundary("multipart/form-data; xboundary=abc", b, sizeof b) == -1, "xboundary= is not boundary=");
    char longb[200];
    snprintf(longb, sizeof longb, "multipart/form-data; boundary=%071d", 0);
    check(mp_boundary(longb, b, sizeof b) == -1, "71-character boundary refused (RFC 2046: 70 at most)");
    check(mp_boundary(NULL, b, sizeof b) == -1, "NULL header refused");

    /* ---- parts */
    mp_form f;
    const char *body = "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"face\"; filename=\"a.jpg\"\r\n"
                       "Content-Type: image/jpeg\r\n\r\nAB--XyZC\r\n--XyZ\r\ncontent-disposition: form-data; "
                       "name=\"x\\\"y\"\r\n\r\n\r\n--XyZ--\r\n";
    int r = parse(body, strlen(body), "XyZ", &f, err);
    check(r == 0 && f.n == 2, "two parts after a preamble");
    check(r == 0 && !strcmp(f.parts[0].name, "face") && f.parts[0].has_filename &&
              !strcmp(f.parts[0].filename, "a.jpg"),
          "name and file name");
    check(r == 0 && f.parts[0].len == 8 && !memcmp(f.parts[0].data, "AB--XyZC", 8),
          "data holding the boundary without CRLF is data (8 bytes)");
    check(r == 0 && !strcmp(f.parts[1].name, "x\"y") && !f.parts[1].has_filename && f.parts[1].len == 0,
          "escaped quote in a name; empty value; lower-case header");
    check(mp_find(&f, "x\"y") == &f.parts[1] && mp_find(&f, "none") == NULL, "mp_find");
    const char *b2 = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--";
    r = parse(b2, strlen(b2), "XyZ", &f, err);
    check(r == 0 && f.n == 1 && !strcmp(f.parts[0].name, "a") && f.parts[0].len == 1, "unquoted name, no final CRLF");
    const char *b3 = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n123";
    check(parse(b3, strlen(b3), "XyZ", &f, err) == -1 && strstr(err, "truncated"), "truncated part refused");
    const char *b4 = "--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--";
    check(parse(b4, strlen(b4), "XyZ", &f, err) == -1 && strstr(err, "Content-Disposition"),
          "part without Content-Disposition refused");
    const char *b5 = "no delimiter at all";
    check(parse(b5, strlen(b5), "XyZ", &f, err) == -1, "body without the boundary refused");
    const char *b6 = "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--XyZ--";
    check(parse(b6, strlen(b6), "XyZ", &f, err) == -1, "non form-data disposition refused");
    char many[8192];
    size_t n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(many + n, sizeof many - n,
                              "--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "--XyZ--\r\n");
    check(parse(many, n, "XyZ", &f, err) == -1 && strstr(err, "more than"), "33 parts refused (32 at most)");
    char longname[600];
    snprintf(longname, sizeof longname, "--XyZ\r\nContent-Disposition: form-data; name=\"%0300d\"\r\n\r\nv\r\n--XyZ--",
             0);
    check(parse(longname, strlen(longname), "XyZ", &f, err) == -1, "300-character field name refused");

    /* ---- JSON */
    json_object o;
    const char *j1 =
        " {\"type\": \"start\", \"n\": -1.5e2, \"t\": true, \"f\": false, \"z\": null, \"s\": \"a\\u0041\\n\\\"\"} ";
    r = json_parse_flat(j1, strlen(j1), &o, err, sizeof err);
    check(r == 0 && o.n == 6, "flat object with six fields");
    const json_field *jf = json_get(&o, "n");
    check(jf && jf->kind == JSON_NUMBER && jf->num == -150.0, "number -1.5e2");
    check(json_get(&o, "t")->kind == JSON_BOOL && json_get(&o, "t")->num == 1 && json_get(&o, "z")->kind == JSON_NULL,
          "true and null");
    check(!strcmp(json_get(&o, "s")->str, "aA\n\""), "string escapes (\\u0041, \\n, \\\")");
    check(json_parse_flat("{}", 2, &o, err, sizeof err) == 0 && o.n == 0, "empty object");
    check(json_parse_flat("{\"a\": {\"b\": 1}}", 15, &o, err, sizeof err) == -1, "nested object refused");
    check(json_parse_flat("{\"a\": [1]}", 10, &o, err, sizeof err) == -1, "array refused");
    check(json_parse_flat("{\"a\": 1} x", 10, &o, err, sizeof err) == -1, "trailing bytes refused");
    check(json_parse_flat("{\"a\": 1", 7, &o, err, sizeof err) == -1, "unterminated object refused");
    check(json_parse_flat("{\"a\": \"\x01\"}", 9, &o, err, sizeof err) == -1, "control character refused");
    check(json_parse_flat("{\"a\": 1..2}", 11, &o, err, sizeof err) == -1, "bad number refused");
    char q[64];
    check(!strcmp(json_quote("a\"b\\\n\x01", q, sizeof q), "\"a\\\"b\\\\\\n\\u0001\""), "json_quote escapes");
    check(strlen(json_quote("0123456789", q, 8)) < 8, "json_quote truncates within its buffer");

    /* ---- stream messages */
    ws_msg m;
    const unsigned char pcm[9] = {'A', 0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf}; /* 1.0f, -0.5f */
    r = ws_msg_parse(1, pcm, 9, &m, err, sizeof err);
    float out[2];
    if (r == 0) ws_pcm_decode(m.data, m.n_samples, out);
    check(r == 0 && m.kind == WS_MSG_PCM && m.n_samples == 2 && out[0] == 1.0f && out[1] == -0.5f,
          "PCM message: 2 float32 samples 1.0, -0.5");
    check(ws_msg_parse(1, pcm, 8, &m, err, sizeof err) == -1, "ragged PCM (7 bytes) refused");
    check(ws_msg_parse(1, (const unsigned char *)"", 0, &m, err, sizeof err) == -1, "empty binary message refused");
    check(ws_msg_parse(1, (const unsigned char *)"F", 1, &m, err, sizeof err) == -1, "empty face refused");
    check(ws_msg_parse(1, (const unsigned char *)"X1", 2, &m, err, sizeof err) == -1, "unknown tag refused");
    check(ws_msg_parse(1, (const unsigned char *)"P12", 3, &m, err, sizeof err) == 0 && m.kind == WS_MSG_POSE &&
              m.len == 2,
          "pose message");
    const char *st =
        "{\"type\":\"start\",\"format\":\"rgb\",\"quality\":90,\"noise\":\"none\",\"seed\":12,\"gain\":2.5,"
        "\"pose\":\"pushed\"}";
    r = ws_msg_parse(0, (const unsigned char *)st, strlen(st), &m, err, sizeof err);
    check(r == 0 && m.kind == WS_MSG_START && m.format == WS_FORMAT_RGB && m.quality == 90 && m.noise == 2 &&
              m.seed == 12 && m.gain == 2.5f && m.pose_pushed == 1,
          "start message with every option");
    r = ws_msg_parse(0, (const unsigned char *)"{\"type\":\"start\"}", 16, &m, err, sizeof err);
    check(r == 0 && m.format == WS_FORMAT_JPEG && m.quality == 85 && m.noise == 0 && m.gain == 1.0f && !m.pose_pushed,
          "start defaults: jpeg, 85, random noise, gain 1, reference pose");
    const char *bad[] = {"{\"type\":\"start\",\"quality\":0}",
                         "{\"type\":\"start\",\"quality\":7.5}",
                         "{\"type\":\"start\",\"seed\":-1}",
                         "{\"type\":\"start\",\"gain\":0}",
                         "{\"type\":\"start\",\"format\":\"gif\"}",
                         "{\"type\":\"start\",\"colour\":1}",
                         "{\"type\":\"jump\"}",
                         "{\"format\":\"rgb\"}",
                         "not json"};
    int all_bad = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        all_bad &= ws_msg_parse(0, (const unsigned char *)bad[i], strlen(bad[i]), &m, err, sizeof err) == -1;
    check(all_bad, "9 bad control messages refused (quality 0 and 7.5, seed -1, gain 0, format, unknown field, type)");
    check(ws_msg_parse(0, (const unsigned char *)"{\"type\":\"finish\"}", 17, &m, err, sizeof err) == 0 &&
              m.kind == WS_MSG_FINISH,
          "finish message");
    unsigned char h[WS_FRAME_HEADER];
    ws_frame_header(h, WS_FORMAT_JPEG, 0x01020304u, 0.04);
    double t;
    memcpy(&t, h + 8, 8); /* little-endian host */
    check(h[0] == 'J' && h[1] == 0 && h[2] == 0 && h[3] == 0 && h[4] == 4 && h[5] == 3 && h[6] == 2 && h[7] == 1 &&
              t == 0.04,
          "frame header: tag J, 3 zero bytes, uint32 LE index, float64 time");

    /* ---- sniffing */
    const unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 0xFF, 0xD9};
    check(sniff(jpg, sizeof jpg) == SNIFF_JPEG && sniff_image_complete(SNIFF_JPEG, jpg, sizeof jpg), "JPEG, complete");
    check(!sniff_image_complete(SNIFF_JPEG, jpg, 6), "JPEG without its EOI marker: truncated");
    const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0,    0,    0,
                                 0,    0,   0,   0,   'I',  'E',  'N',  'D',  0xae, 0x42, 0x60, 0x82};
    check(sniff(png, sizeof png) == SNIFF_PNG && sniff_image_complete(SNIFF_PNG, png, sizeof png) &&
              !sniff_image_complete(SNIFF_PNG, png, sizeof png - 1),
          "PNG, complete and truncated");
    check(sniff((const unsigned char *)"RIFF\0\0\0\0WAVEfmt ", 16) == SNIFF_WAV &&
              sniff((const unsigned char *)"fLaC", 4) == SNIFF_FLAC &&
              sniff((const unsigned char *)"OggS", 4) == SNIFF_OGG &&
              sniff((const unsigned char *)"ID3\3", 4) == SNIFF_MP3 &&
              sniff((const unsigned char *)"\0\0\0\x20"
                                           "ftypisom",
                    12) == SNIFF_MP4 &&
              sniff((const unsigned char *)"\x1a\x45\xdf\xa3", 4) == SNIFF_WEBM,
          "WAV, FLAC, Ogg, MP3, MP4, WebM magic numbers");
    check(sniff((const unsigned char *)"hello, text", 11) == SNIFF_UNKNOWN && sniff(NULL, 0) == SNIFF_UNKNOWN &&
              !strcmp(sniff_ext(SNIFF_UNKNOWN), "bin"),
          "text is of no known type");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
