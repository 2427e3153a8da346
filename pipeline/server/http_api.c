/* http_api.c: the HTTP API of pcavs-server (docs/server.md): GET /health; POST /v1/jobs (multipart upload,
 * checked field by field before a job is queued); GET /v1/jobs/{id}, its Server-Sent Events, its result;
 * POST /v1/jobs/{id}/cancel. Every error is {"error": "..."} with a fitting status code. No name or path
 * from a request reaches the filesystem: uploads are saved under names the server picks from their content. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "big_stack.h"
#include "json.h"
#include "multipart.h"
#include "server.h"
#include "sniff.h"

/* ---------------------------------------------------------------- responses */

static const char *reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

void send_json(struct mg_connection *conn, int status, const char *body) {
    size_t n = strlen(body);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
              status, reason(status), n + 1, status == 429 ? "Retry-After: 2\r\n" : "");
    mg_write(conn, body, n);
    mg_write(conn, "\n", 1);
}

void send_error(struct mg_connection *conn, int status, const char *fmt, ...) {
    char msg[600], q[1300], body[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(body, sizeof body, "{\"error\": %s}", json_quote(msg, q, sizeof q));
    send_json(conn, status, body);
}

/* ---------------------------------------------------------------- API key */

/* Equal strings, in a time that depends only on the key's length. */
static int ct_equal(const char *given, size_t gn, const char *key, size_t kn) {
    unsigned diff = gn != kn;
    for (size_t i = 0; i < kn; i++) {
        unsigned char g = i < gn ? (unsigned char)given[i] : 0;
        diff |= g ^ (unsigned char)key[i];
    }
    return diff == 0;
}

int request_authorized(const struct mg_connection *conn, const server *srv) {
    const char *key = srv->opt.api_key;
    if (!key) return 1;
    size_t kn = strlen(key);
    const char *h = mg_get_header(conn, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7) && ct_equal(h + 7, strlen(h + 7), key, kn)) return 1;
    h = mg_get_header(conn, "X-API-Key");
    if (h && ct_equal(h, strlen(h), key, kn)) return 1;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->query_string) {
        char v[512];
        int n = mg_get_var(ri->query_string, strlen(ri->query_string), "api_key", v, sizeof v);
        if (n >= 0 && ct_equal(v, (size_t)n, key, kn)) return 1;
    }
    return 0;
}

/* A browser sends Origin with cross-site POSTs and WebSocket handshakes: one naming another site than the
 * Host asked for is refused, so that a web page elsewhere cannot drive this server through a visitor's
 * browser (requests without Origin, e.g. curl, pass). */
int request_same_origin(const struct mg_connection *conn) {
    const char *origin = mg_get_header(conn, "Origin");
    const char *host = mg_get_header(conn, "Host");
    if (!origin) return 1;
    const char *o = strstr(origin, "://");
    if (!o || !host) return 0;
    return strcasecmp(o + 3, host) == 0;
}

/* ---------------------------------------------------------------- /health */

static int handle_health(struct mg_connection *conn, void *cb) {
    server *srv = cb;
    int queued, running, total, open = 0;
    job_queue_counts(srv->jobs, &queued, &running, &total);
    pthread_mutex_lock(&srv->mu);
    for (int i = 0; i < srv->opt.max_streams; i++) open += srv->slots[i].busy;
    pthread_mutex_unlock(&srv->mu);
    char body[800], b[64], p[96];
    snprintf(body, sizeof body,
             "{\"status\": \"ok\", \"backend\": %s, \"precision\": %s, \"synthetic\": %s, \"version\": \"%s\", "
             "\"jobs\": {\"queued\": %d, \"running\": %d, \"kept\": %d, \"max_queue\": %d, \"parallel\": %d}, "
             "\"streams\": {\"open\": %d, \"max\": %d}, \"auth\": %s}",
             json_quote(srv->backend, b, sizeof b), json_quote(srv->precision, p, sizeof p),
             srv->synthetic ? "true" : "false", pcavs_version(), queued, running, total, srv->opt.max_queue,
             srv->opt.parallel, open, srv->opt.max_streams, srv->opt.api_key ? "true" : "false");
    send_json(conn, 200, body);
    return 200;
}

/* ---------------------------------------------------------------- upload */

/* Reads and discards up to cap bytes of a body we refuse, so that the client sees our answer. */
static void drain(struct mg_connection *conn, size_t cap) {
    char buf[16384];
    size_t got = 0;
    int n;
    while (got < cap && (n = mg_read(conn, buf, sizeof buf)) > 0) got += (size_t)n;
}

static int write_file(const char *path, const char *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

/* A client's file name is never used, but one that looks like a path is refused: it is either an attack
 * or a broken client, and saying so helps both. */
static int filename_ok(const mp_part *p) {
    if (!p->has_filename) return 1;
    for (const char *s = p->filename; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20) return 0;
    return strcmp(p->filename, "..") != 0 && strncmp(p->filename, "../", 3) != 0 && strstr(p->filename, "..") == NULL;
}

/* The text of an option part into out[cap] (trimmed). 0, or -1 when too long. */
static int part_text(const mp_part *p, char *out, size_t cap) {
    size_t a = 0, b = p->len;
    while (a < b && (p->data[a] == ' ' || p->data[a] == '\t' || p->data[a] == '\r' || p->data[a] == '\n')) a++;
    while (b > a &&
           (p->data[b - 1] == ' ' || p->data[b - 1] == '\t' || p->data[b - 1] == '\r' || p->data[b - 1] == '\n'))
        b--;
    if (b - a + 1 > cap) return -1;
    memcpy(out, p->data + a, b - a);
    out[b - a] = 0;
    for (size_t i = 0; i < b - a; i++)
        if ((unsigned char)out[i] < 0x20) return -1;
    return 0;
}

static int parse_bool(const char *s, int *v) {
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) return *v = 1, 0;
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) return *v = 0, 0;
    return -1;
}

static const char *const known_fields[] = {"face",        "audio",           "pose",         "noise", "seed",
                                           "output_pose", "upstream_timing", "side_by_side", "align", "paste_back",
                                           "max_frames"};

/* Checks one part against its field's rules; returns 0 or -1 with the 400 message in err. */
static int check_options(const mp_form *f, job_spec *s, char *err, size_t cap) {
    for (int i = 0; i < f->n; i++) {
        const mp_part *p = &f->parts[i];
        int known = 0;
        for (size_t k = 0; k < sizeof known_fields / sizeof *known_fields; k++)
            known |= !strcmp(p->name, known_fields[k]);
        if (!known) {
            snprintf(err, cap,
                     "field '%s': unknown (fields: face, audio, pose, noise, seed, output_pose, "
                     "upstream_timing, side_by_side, align, paste_back, max_frames)",
                     p->name);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(f->parts[j].name, p->name)) {
                snprintf(err, cap, "field '%s': given more than once", p->name);
                return -1;
            }
        if (!filename_ok(p)) {
            snprintf(err, cap, "field '%s': the file name looks like a path; send a plain name", p->name);
            return -1;
        }
        if (!strcmp(p->name, "face") || !strcmp(p->name, "audio") || !strcmp(p->name, "pose")) continue;
        char v[96];
        if (part_text(p, v, sizeof v)) return snprintf(err, cap, "field '%s': value too long or not text", p->name), -1;
        if (!v[0]) return snprintf(err, cap, "field '%s': empty value", p->name), -1;
        int b;
        if (!strcmp(p->name, "noise")) {
            if (!strcmp(v, "random"))
                s->noise = PCAVS_NOISE_RANDOM;
            else if (!strcmp(v, "fixed"))
                s->noise = PCAVS_NOISE_FIXED;
            else if (!strcmp(v, "none"))
                s->noise = PCAVS_NOISE_NONE;
            else
                return snprintf(err, cap, "field 'noise': must be random, fixed or none, got '%s'", v), -1;
        } else if (!strcmp(p->name, "seed")) {
            char *end;
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (errno || *end || v[0] == '-' || v[0] == '+')
                return snprintf(err, cap, "field 'seed': must be a non-negative integer, got '%s'", v), -1;
            s->seed = x;
        } else if (!strcmp(p->name, "output_pose")) {
            if (!strcmp(v, "driving"))
                s->output_pose = PCAVS_OUTPUT_DRIVING;
            else if (!strcmp(v, "reference"))
                s->output_pose = PCAVS_OUTPUT_REFERENCE;
            else if (!strcmp(v, "both"))
                return snprintf(err, cap,
                                "field 'output_pose': 'both' makes two videos; submit one job with "
                                "driving and one with reference"),
                       -1;
            else
                return snprintf(err, cap, "field 'output_pose': must be driving or reference, got '%s'", v), -1;
        } else if (!strcmp(p->name, "max_frames")) {
            char *end;
            errno = 0;
            long x = strtol(v, &end, 10);
            if (errno || *end || x < 1 || x > 100000000)
                return snprintf(err, cap, "field 'max_frames': must be a positive integer, got '%s'", v), -1;
            s->max_frames = x;
        } else {
            if (parse_bool(v, &b))
                return snprintf(err, cap, "field '%s': must be 0/1 or true/false, got '%s'", p->name, v), -1;
            if (!strcmp(p->name, "upstream_timing"))
                s->upstream_timing = b;
            else if (!strcmp(p->name, "side_by_side"))
                s->side_by_side = b;
            else if (!strcmp(p->name, "align"))
                s->align = b;
            else
                s->paste_back = b;
            if (b && (!strcmp(p->name, "align") || !strcmp(p->name, "paste_back")) && !pcavs_landmarks_available())
                return snprintf(err, cap,
                                "field '%s': this server has no face landmark detector (built without "
                                "libdlib-dev); upload 224x224 crops aligned with pcavs-align",
                                p->name),
                       -1;
        }
    }
    return 0;
}

/* Saves a file part under the server's name dir/<stem>.<ext from content> and checks that it decodes.
 * Returns 0, or -1 with the 400 message in err. */
static int save_media(const server *srv, const mp_part *p, const char *stem, const char *dir, int align, char *path,
                      size_t path_cap, long *frames_total, char *err, size_t cap) {
    if (p->len == 0) return snprintf(err, cap, "field '%s': empty file", stem), -1;
    sniff_kind k = sniff((const unsigned char *)p->data, p->len);
    int want_ok = !strcmp(stem, "face")    ? sniff_is_image(k) || sniff_is_video(k)
                  : !strcmp(stem, "audio") ? sniff_is_audio(k)
                                           : sniff_is_video(k);
    if (!want_ok)
        return snprintf(err, cap, "field '%s': not %s (the content is %s)", stem,
                        !strcmp(stem, "face")    ? "a JPEG/PNG image or an MP4/WebM video"
                        : !strcmp(stem, "audio") ? "an audio file (WAV, FLAC, Ogg, MP3, M4A/MP4, WebM)"
                                                 : "an MP4/WebM video",
                        k == SNIFF_UNKNOWN ? "of no known type" : sniff_ext(k)),
               -1;
    if (sniff_is_image(k) && !sniff_image_complete(k, (const unsigned char *)p->data, p->len))
        return snprintf(err, cap, "field '%s': truncated %s image", stem, sniff_ext(k)), -1;
    snprintf(path, path_cap, "%s/%s.%s", dir, stem, sniff_ext(k));
    if (write_file(path, p->data, p->len))
        return snprintf(err, cap, "field '%s': cannot store the upload: %s", stem, strerror(errno)), -1;
    if (!strcmp(stem, "audio")) {
        float *pcm = NULL;
        size_t n = 0;
        int rate = 0;
        if (pcavs_audio_read(path, &pcm, &n, &rate) != PCAVS_OK)
            return snprintf(err, cap, "field 'audio': cannot decode: %s", pcavs_last_error()), -1;
        pcavs_free(pcm);
        double secs = rate > 0 ? (double)n / rate : 0;
        size_t rows = pcavs_spectrogram_rows(n, rate);
        if (secs > srv->opt.max_clip_seconds)
            return snprintf(err, cap, "field 'audio': %.1f s is longer than this server's limit of %.0f s", secs,
                            srv->opt.max_clip_seconds),
                   -1;
        if (rows < 27)
            return snprintf(err, cap, "field 'audio': too short (%.3f s); at least 0.2 s (one audio window) is needed",
                            secs),
                   -1;
        *frames_total = (long)pcavs_num_frames(rows);
        return 0;
    }
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    size_t nf = 0;
    pcavs_status st =
        sniff_is_image(k) ? pcavs_image_read(path, &rgb, &w, &h) : pcavs_video_read_frames(path, 1, &rgb, &nf, &w, &h);
    pcavs_free(rgb);
    if (st != PCAVS_OK) return snprintf(err, cap, "field '%s': cannot decode: %s", stem, pcavs_last_error()), -1;
    if (!align && (w != PCAVS_FRAME_SIDE || h != PCAVS_FRAME_SIDE))
        return snprintf(err, cap,
                        "field '%s': frames are %dx%d; a %dx%d VoxCeleb2-style face crop is needed (or "
                        "align=1 for other footage)",
                        stem, w, h, PCAVS_FRAME_SIDE, PCAVS_FRAME_SIDE),
               -1;
    return 0;
}

static int handle_submit(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t lim = srv->opt.max_upload_bytes;
    size_t drain_cap = lim * 16 + (1u << 20);
    if (ri->content_length > (long long)lim) {
        if ((unsigned long long)ri->content_length <= drain_cap) drain(conn, (size_t)ri->content_length);
        send_error(conn, 413, "body: %lld bytes is over this server's upload limit of %zu bytes", ri->content_length,
                   lim);
        return 413;
    }
    char boundary[80];
    if (mp_boundary(mg_get_header(conn, "Content-Type"), boundary, sizeof boundary)) {
        drain(conn, drain_cap);
        send_error(conn, 400, "body: Content-Type must be multipart/form-data with a boundary");
        return 400;
    }
    if (job_queue_full(srv->jobs)) {
        drain(conn, drain_cap);
        send_error(conn, 429, "queue full: %d jobs are waiting; retry later", srv->opt.max_queue);
        return 429;
    }
    size_t cap = ri->content_length >= 0 ? (size_t)ri->content_length : lim + 1;
    char *body = malloc(cap ? cap : 1);
    if (!body) {
        send_error(conn, 500, "out of memory");
        return 500;
    }
    size_t len = 0;
    int n;
    while (len < cap && (n = mg_read(conn, body + len, cap - len)) > 0) len += (size_t)n;
    if (len > lim) {
        free(body);
        drain(conn, drain_cap);
        send_error(conn, 413, "body: over this server's upload limit of %zu bytes", lim);
        return 413;
    }
    mp_form *form = malloc(sizeof *form);
    job_spec *spec = calloc(1, sizeof *spec);
    char err[700];
    int status = 400;
    if (!form || !spec) {
        snprintf(err, sizeof err, "out of memory");
        status = 500;
        goto out;
    }
    if (mp_parse(body, len, boundary, form, err, sizeof err)) goto out;
    spec->noise = PCAVS_NOISE_RANDOM;
    spec->output_pose = PCAVS_OUTPUT_DRIVING;
    if (check_options(form, spec, err, sizeof err)) goto out;
    if (spec->paste_back && !spec->align) {
        snprintf(err, sizeof err, "field 'paste_back': needs align=1 (it inverts the alignment)");
        goto out;
    }
    const mp_part *face = mp_find(form, "face"), *audio = mp_find(form, "audio"), *pose = mp_find(form, "pose");
    if (!face || !audio) {
        snprintf(err, sizeof err, "field '%s': missing (face and audio are required)", !face ? "face" : "audio");
        goto out;
    }
    if (job_make_dir(srv->jobs, spec)) {
        snprintf(err, sizeof err, "cannot create a job folder: %s", strerror(errno));
        status = 500;
        goto out;
    }
    long frames = 0;
    if (save_media(srv, face, "face", spec->dir, spec->align, spec->face, sizeof spec->face, &frames, err,
                   sizeof err) ||
        save_media(srv, audio, "audio", spec->dir, 0, spec->audio, sizeof spec->audio, &frames, err, sizeof err) ||
        (pose && save_media(srv, pose, "pose", spec->dir, spec->align, spec->pose, sizeof spec->pose, &frames, err,
                            sizeof err)))
        goto out_dir;
    spec->frames_total = spec->max_frames > 0 && spec->max_frames < frames ? spec->max_frames : frames;
    char id[JOB_ID_LEN + 1];
    if (job_submit(srv->jobs, spec, id)) {
        snprintf(err, sizeof err, "queue full: %d jobs are waiting; retry later", srv->opt.max_queue);
        status = 429;
        goto out_dir;
    }
    char resp[256];
    snprintf(resp, sizeof resp, "{\"id\": \"%s\", \"status\": \"queued\", \"frames_total\": %ld}", id,
             spec->frames_total);
    send_json(conn, 202, resp);
    status = 202;
    if (!srv->opt.quiet) fprintf(stderr, "pcavs-server: job %s queued (%ld frames)\n", id, spec->frames_total);
    goto out;
out_dir:
    job_remove_dir(spec->dir);
out:
    if (status != 202) send_error(conn, status, "%s", err);
    free(form);
    free(spec);
    free(body);
    return status;
}

/* ---------------------------------------------------------------- job resources */

static void view_json(const job_view *v, char *out, size_t cap) {
    char e[1100];
    snprintf(out, cap,
             "{\"id\": \"%s\", \"status\": \"%s\", \"frames_done\": %ld, \"frames_total\": %ld, "
             "\"queue_position\": %d, \"error\": %s%s%s%s}",
             v->id, job_state_name(v->state), v->frames_done, v->frames_total, v->queue_position,
             v->error[0] ? json_quote(v->error, e, sizeof e) : "null",
             v->state == JOB_DONE ? ", \"result\": \"/v1/jobs/" : "", v->state == JOB_DONE ? v->id : "",
             v->state == JOB_DONE ? "/result\"" : "");
}

static int events_body(struct mg_connection *conn, server *srv, const char *id);

/* Each event stream holds one of civetweb's threads until its job ends: at most MAX_EVENT_STREAMS at once,
 * so that they cannot starve the other requests (a client past the limit polls GET /v1/jobs/{id}). */
#define MAX_EVENT_STREAMS 32

static int handle_events(struct mg_connection *conn, server *srv, const char *id) {
    pthread_mutex_lock(&srv->mu);
    int full = srv->event_streams >= MAX_EVENT_STREAMS;
    if (!full) srv->event_streams++;
    pthread_mutex_unlock(&srv->mu);
    if (full) {
        send_error(conn, 503, "too many event streams open (%d); poll GET /v1/jobs/%s instead", MAX_EVENT_STREAMS, id);
        return 503;
    }
    int r = events_body(conn, srv, id);
    pthread_mutex_lock(&srv->mu);
    srv->event_streams--;
    pthread_mutex_unlock(&srv->mu);
    return r;
}

static int events_body(struct mg_connection *conn, server *srv, const char *id) {
    job_view v;
    if (job_get(srv->jobs, id, &v)) {
        send_error(conn, 404, "job %s: no such job (unknown or expired)", id);
        return 404;
    }
    mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                    "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n");
    char body[1600];
    for (;;) {
        view_json(&v, body, sizeof body);
        if (mg_printf(conn, "data: %s\n\n", body) <= 0) break;
        if (job_state_final(v.state) || srv->stopping) break;
        unsigned ver = v.version;
        int qp = v.queue_position;
        for (;;) {
            if (job_wait_change(srv->jobs, id, ver, 10000, &v)) return 200; /* the job expired */
            if (v.version != ver || v.queue_position != qp || srv->stopping) break;
            if (mg_printf(conn, ": keep-alive\n\n") <= 0) /* the client left */
                return 200;
        }
    }
    return 200;
}

static int handle_result(struct mg_connection *conn, server *srv, const char *id) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int which = 0;
    if (ri->query_string) {
        char v[32];
        if (mg_get_var(ri->query_string, strlen(ri->query_string), "video", v, sizeof v) >= 0) {
            if (!strcmp(v, "side_by_side"))
                which = 1;
            else if (strcmp(v, "main")) {
                send_error(conn, 400, "video: must be main or side_by_side, got '%s'", v);
                return 400;
            }
        }
    }
    job_view jv;
    char path[JOB_PATH_MAX + 32];
    if (job_get(srv->jobs, id, &jv) || job_result_path(srv->jobs, id, which, path, sizeof path) < 0) {
        send_error(conn, 404, "job %s: no such job (unknown or expired)", id);
        return 404;
    }
    if (jv.state != JOB_DONE) {
        send_error(conn, 409, "job %s: %s%s%s; the result exists once the job is done", id, job_state_name(jv.state),
                   jv.error[0] ? ": " : "", jv.error);
        return 409;
    }
    if (which && !jv.side_by_side) {
        send_error(conn, 404, "job %s was submitted without side_by_side", id);
        return 404;
    }
    mg_send_mime_file(conn, path, "video/mp4");
    return 200;
}

/* /v1/jobs, /v1/jobs/{id}, /v1/jobs/{id}/events|result|cancel */
static int handle_jobs_body(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *m = ri->request_method, *u = ri->local_uri;
    if (!request_same_origin(conn)) {
        if (!strcmp(m, "POST")) drain(conn, srv->opt.max_upload_bytes * 16 + (1u << 20));
        send_error(conn, 403, "cross-origin request refused (Origin %s, Host %s)", mg_get_header(conn, "Origin"),
                   mg_get_header(conn, "Host") ? mg_get_header(conn, "Host") : "(none)");
        return 403;
    }
    if (!request_authorized(conn, srv)) {
        if (!strcmp(m, "POST")) drain(conn, srv->opt.max_upload_bytes * 16 + (1u << 20));
        send_error(conn, 401, "missing or wrong API key (Authorization: Bearer KEY)");
        return 401;
    }
    if (!strcmp(u, "/v1/jobs") || !strcmp(u, "/v1/jobs/")) {
        if (strcmp(m, "POST")) {
            send_error(conn, 405, "%s %s: use POST to submit a job", m, u);
            return 405;
        }
        return handle_submit(conn, srv);
    }
    const char *rest = u + strlen("/v1/jobs/");
    char id[JOB_ID_LEN + 1];
    size_t k = 0;
    while (rest[k] && rest[k] != '/' && k < JOB_ID_LEN + 1) k++;
    int valid = k == JOB_ID_LEN;
    for (size_t i = 0; valid && i < k; i++)
        valid = (rest[i] >= '0' && rest[i] <= '9') || (rest[i] >= 'a' && rest[i] <= 'f');
    if (!valid) {
        send_error(conn, 404, "no such job (ids are %d hex digits)", JOB_ID_LEN);
        return 404;
    }
    memcpy(id, rest, JOB_ID_LEN);
    id[JOB_ID_LEN] = 0;
    const char *sub = rest + JOB_ID_LEN;
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    if (!*sub || !strcmp(sub, "/")) {
        if (!get) {
            send_error(conn, 405, "%s %s: use GET", m, u);
            return 405;
        }
        job_view v;
        if (job_get(srv->jobs, id, &v)) {
            send_error(conn, 404, "job %s: no such job (unknown or expired)", id);
            return 404;
        }
        char body[1600];
        view_json(&v, body, sizeof body);
        send_json(conn, 200, body);
        return 200;
    }
    if (!strcmp(sub, "/events") && get) return handle_events(conn, srv, id);
    if (!strcmp(sub, "/result") && get) return handle_result(conn, srv, id);
    if (!strcmp(sub, "/cancel")) {
        if (strcmp(m, "POST")) {
            send_error(conn, 405, "%s %s: use POST", m, u);
            return 405;
        }
        drain(conn, 1 << 20);
        int st = job_cancel(srv->jobs, id);
        if (st < 0) {
            send_error(conn, 404, "job %s: no such job (unknown or expired)", id);
            return 404;
        }
        char body[160];
        snprintf(body, sizeof body, "{\"id\": \"%s\", \"status\": \"%s\", \"cancel_requested\": true}", id,
                 st == JOB_RUNNING ? "cancelling" : job_state_name((job_state)st));
        send_json(conn, 200, body);
        return 200;
    }
    send_error(conn, strcmp(sub, "/events") && strcmp(sub, "/result") ? 404 : 405, "%s %s: no such resource", m, u);
    return 404;
}

typedef struct handler_call {
    struct mg_connection *conn;
    server *srv;
} handler_call;

static int jobs_trampoline(void *arg) {
    handler_call *h = arg;
    return handle_jobs_body(h->conn, h->srv);
}

static int handle_jobs(struct mg_connection *conn, void *cb) {
    handler_call h = {conn, cb};
    int st = run_on_big_stack(jobs_trampoline, &h);
    if (st < 0) {
        send_error(conn, 503, "cannot start a request thread");
        return 503;
    }
    return st;
}

static int handle_v1_other(struct mg_connection *conn, void *cb) {
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    send_error(conn, 404, "%s %s: no such resource (the API is under /v1/, see docs/server.md)", ri->request_method,
               ri->local_uri);
    return 404;
}

void http_api_register(struct mg_context *mg, server *srv) {
    mg_set_request_handler(mg, "/health$", handle_health, srv);
    mg_set_request_handler(mg, "/v1/jobs", handle_jobs, srv);
    mg_set_request_handler(mg, "/v1", handle_v1_other, srv);
}

/* Every other path: a JSON 404 of ours (civetweb's own error page is never used: the server serves no
 * files from disk). Registered last: civetweb tries patterns in registration order. */
void http_api_register_fallback(struct mg_context *mg, server *srv) {
    mg_set_request_handler(mg, "**", handle_v1_other, srv);
}
