/* render_csv.c: one row of upstream's metadata CSV (the demo's misc/demo.csv format: 8 space-separated
 * fields) into a clip's render parameters and upstream's results folder name (pcavs.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcavs.h"
#include "render_sources.h"
#include "status.h"

static const char *base_name(const char *p, char *buf, size_t cap) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && p[s - 1] != '/') s--;
    snprintf(buf, cap, "%.*s", (int)(n - s), p + s);
    return buf;
}

pcavs_status pcavs_render_parse_csv_line(char *line, pcavs_render_params *p, char *name, size_t name_cap) {
    char *f[9];
    int n = 0;
    for (char *s = line; *s && n < 9;) {
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s) break;
        f[n++] = s;
        while (*s && !isspace((unsigned char)*s)) s++;
        if (*s) *s++ = 0;
    }
    if (n != 8)
        return pcavs_fail(PCAVS_ERR_FORMAT,
                          "CSV row: expected 8 space-separated fields (id folder, id count, pose folder, pose frames, "
                          "audio, mouth folder, mouth frames, spectrogram|dummy), got %d",
                          n);
    char *end;
    long ref_num = strtol(f[1], &end, 10), pose_num;
    if (*end || ref_num < 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "CSV row: field 2 (id count) '%s' is not a count", f[1]);
    pose_num = strtol(f[3], &end, 10);
    if (*end || pose_num < 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "CSV row: field 4 (pose frames) '%s' is not a count", f[3]);
    p->face = f[0];
    p->max_faces = (int)ref_num;
    /* upstream: a pose path that is not a folder means the identity's own pose; we also accept a video */
    if (render_is_dir(f[2]) || render_is_file(f[2])) {
        p->pose = f[2];
        p->pose_frames = pose_num;
    } else {
        p->pose = NULL;
        p->pose_frames = 0;
    }
    p->audio = f[4];
    p->mouth = render_is_dir(f[5]) ? f[5] : NULL;
    p->mel = render_is_file(f[7]) ? f[7] : NULL;
    if (name) {
        char a[512], b[512], c[512];
        base_name(f[4], c, sizeof c);
        char *dot = strrchr(c, '.');
        if (dot && dot != c) *dot = 0;
        snprintf(name, name_cap, "id_%s_pose_%s_audio_%s", base_name(f[0], a, sizeof a),
                 base_name(p->pose ? f[2] : f[0], b, sizeof b), c);
    }
    return PCAVS_OK;
}
