/* frame_source.c: an image, a folder of images in name order, or a video, read frame by frame
 * (frame_source.h). Folder listing, image recognition (extension, else the first bytes) and sorting live here
 * only. */
#include "frame_source.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

static int has_ext(const char *p, const char *ext) {
    size_t n = strlen(p), e = strlen(ext);
    return n > e && !strcasecmp(p + n - e, ext);
}

static int is_image_name(const char *p) { return has_ext(p, ".jpg") || has_ext(p, ".jpeg") || has_ext(p, ".png"); }

/* 1 when the file starts like a JPEG or PNG. */
static int looks_like_image(const char *p) {
    unsigned char b[4] = {0};
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    size_t n = fread(b, 1, 4, f);
    fclose(f);
    return n >= 3 && ((b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) || (b[0] == 0x89 && b[1] == 'P' && b[2] == 'N'));
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void pcavs_frame_source_close(pcavs_frame_source *s) {
    for (long i = 0; i < s->n_files; i++) free(s->files[i]);
    free(s->files);
    pcavs_video_close(s->vr);
    pcavs_image_free(&s->img);
    memset(s, 0, sizeof *s);
}

/* The image names of folder s->path, sorted. */
static pcavs_status list_folder(pcavs_frame_source *s, const char *what) {
    const char *sp = what ? " " : "";
    what = what ? what : "";
    DIR *d = opendir(s->path);
    if (!d) return pcavs_fail(PCAVS_ERR_IO, "%s%sfolder %s: cannot list: %s", what, sp, s->path, strerror(errno));
    long cap = 0;
    struct dirent *e;
    int oom = 0;
    while (!oom && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        if (s->n_files == cap) {
            cap = cap ? cap * 2 : 64;
            char **nf = realloc(s->files, (size_t)cap * sizeof *nf);
            if (!nf) {
                oom = 1;
                break;
            }
            s->files = nf;
        }
        if (!(s->files[s->n_files] = strdup(e->d_name)))
            oom = 1;
        else
            s->n_files++;
    }
    closedir(d);
    if (oom) return pcavs_fail(PCAVS_ERR_OOM, "%s%sfolder %s: out of memory listing it", what, sp, s->path);
    if (s->n_files == 0)
        return pcavs_fail(PCAVS_ERR_IO, "%s%sfolder %s: no .jpg, .jpeg or .png image in it", what, sp, s->path);
    qsort(s->files, (size_t)s->n_files, sizeof *s->files, name_cmp);
    return PCAVS_OK;
}

pcavs_status pcavs_frame_source_open(pcavs_frame_source *s, const char *path, const char *what) {
    memset(s, 0, sizeof *s);
    s->path = path;
    struct stat st;
    const char *w = what ? what : "file";
    if (stat(path, &st) != 0) return pcavs_fail(PCAVS_ERR_IO, "%s %s: cannot open: %s", w, path, strerror(errno));
    if (!S_ISDIR(st.st_mode) && access(path, R_OK) != 0)
        return pcavs_fail(PCAVS_ERR_IO, "%s %s: not readable: %s", w, path, strerror(errno));
    pcavs_status rc = PCAVS_OK;
    if (S_ISDIR(st.st_mode)) {
        s->kind = PCAVS_FRAMES_FOLDER;
        rc = list_folder(s, what);
        s->vi.fps = 25;
    } else if (is_image_name(path) || looks_like_image(path)) {
        s->kind = PCAVS_FRAMES_IMAGE;
        s->vi.fps = 25;
    } else {
        s->kind = PCAVS_FRAMES_VIDEO;
        rc = pcavs_video_open(path, &s->vr, &s->vi);
        if (!(s->vi.fps > 0)) s->vi.fps = 25;
    }
    if (rc != PCAVS_OK) pcavs_frame_source_close(s);
    return rc;
}

pcavs_status pcavs_frame_source_next(pcavs_frame_source *s, const uint8_t **rgb, int *w, int *h, int *got) {
    *got = 0;
    if (s->kind == PCAVS_FRAMES_VIDEO) {
        if (!s->vr) return PCAVS_OK;
        PCAVS_TRY(pcavs_video_read(s->vr, rgb, got));
        if (!*got) return PCAVS_OK;
        *w = s->vi.width, *h = s->vi.height;
        snprintf(s->name, sizeof s->name, "%s frame %ld", s->path, s->n_read);
    } else {
        if (s->kind == PCAVS_FRAMES_IMAGE ? s->n_read > 0 : s->next >= s->n_files) return PCAVS_OK;
        if (s->kind == PCAVS_FRAMES_IMAGE)
            snprintf(s->name, sizeof s->name, "%s", s->path);
        else
            snprintf(s->name, sizeof s->name, "%s/%s", s->path, s->files[s->next++]);
        pcavs_image_free(&s->img);
        PCAVS_TRY(pcavs_image_load(s->name, &s->img));
        *rgb = s->img.rgb, *w = s->img.width, *h = s->img.height, *got = 1;
    }
    s->n_read++;
    return PCAVS_OK;
}
