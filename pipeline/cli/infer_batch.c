/* infer_batch.c: pcavs-infer's CSV batch helpers (see infer_batch.h): --shard auto from Slurm job arrays
 * or Kubernetes Indexed Jobs, the resume check, stale temporaries, the per-shard JSON-lines summary. */
#define _GNU_SOURCE
#include "infer_batch.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- --shard auto */

static int fail(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return 0;
}

/* name's value as an integer in [lo, INT_MAX]: 1, 0 (unset: *v untouched) or -1 (malformed: err filled) */
static int env_int(const char *(*get)(const char *), const char *name, long lo, long *v, char *err, size_t cap) {
    const char *s = get(name);
    if (!s) return 0;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > INT_MAX) {
        fail(err, cap, "--shard auto: %s='%s' is not an integer >= %ld", name, s, lo);
        return -1;
    }
    *v = x;
    return 1;
}

int infer_shard_auto(const char *spec, const char *(*get)(const char *), int *i, int *n, char *from, size_t from_cap,
                     char *err, size_t err_cap) {
    long given_n = 0;
    if (strcmp(spec, "auto") != 0) {
        char *end;
        errno = 0;
        if (strncmp(spec, "auto/", 5) != 0 || (given_n = strtol(spec + 5, &end, 10), errno) || end == spec + 5 ||
            *end || given_n < 1 || given_n > INT_MAX)
            return fail(err, err_cap, "--shard needs I/N with 0 <= I < N, auto or auto/N with N >= 1, got '%s'", spec);
    }
    long id = 0, mn = 0, count = 0, step = 1, mx = 0;
    int r;
    if ((r = env_int(get, "SLURM_ARRAY_TASK_ID", 0, &id, err, err_cap)) < 0) return 0;
    if (r == 1) { /* a Slurm job array: the shard is the task's place in the range MIN, MIN+STEP, ... */
        static const char *need[] = {"SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"};
        long *dst[] = {&mn, &count};
        for (int k = 0; k < 2; k++) {
            int q = env_int(get, need[k], k == 1 ? 1 : 0, dst[k], err, err_cap);
            if (q < 0) return 0;
            if (q == 0) return fail(err, err_cap, "--shard auto: SLURM_ARRAY_TASK_ID is set but %s is not", need[k]);
        }
        if (env_int(get, "SLURM_ARRAY_TASK_STEP", 1, &step, err, err_cap) < 0) return 0;
        int has_max = env_int(get, "SLURM_ARRAY_TASK_MAX", 0, &mx, err, err_cap);
        if (has_max < 0) return 0;
        if (has_max && mx - mn != (count - 1) * step)
            return fail(err, err_cap,
                        "--shard auto: the Slurm array is not an evenly spaced range (MIN=%ld MAX=%ld COUNT=%ld "
                        "STEP=%ld; a list like --array=1,5,7?): use --array=A-B",
                        mn, mx, count, step);
        if (id < mn || (id - mn) % step != 0 || (id - mn) / step >= count)
            return fail(err, err_cap,
                        "--shard auto: SLURM_ARRAY_TASK_ID=%ld is not in the array (MIN=%ld COUNT=%ld STEP=%ld)", id,
                        mn, count, step);
        if (given_n && given_n != count)
            return fail(err, err_cap, "--shard auto/%ld: the Slurm array has %ld tasks (SLURM_ARRAY_TASK_COUNT)",
                        given_n, count);
        *i = (int)((id - mn) / step), *n = (int)count;
        snprintf(from, from_cap, "Slurm array task %ld of %ld..%ld%s%.0ld (SLURM_ARRAY_TASK_ID)", id, mn,
                 mn + (count - 1) * step, step > 1 ? " step " : "", step > 1 ? step : 0L);
        return 1;
    }
    long idx = 0;
    if ((r = env_int(get, "JOB_COMPLETION_INDEX", 0, &idx, err, err_cap)) < 0) return 0;
    if (r == 1) { /* a Kubernetes Indexed Job: the index; the count is the Job's completions */
        if (!given_n)
            return fail(err, err_cap,
                        "--shard auto: JOB_COMPLETION_INDEX=%ld is set (a Kubernetes Indexed Job) but not the "
                        "number of shards: use --shard auto/N with N the Job's completions",
                        idx);
        if (idx >= given_n)
            return fail(err, err_cap, "--shard auto/%ld: JOB_COMPLETION_INDEX=%ld is not below %ld", given_n, idx,
                        given_n);
        *i = (int)idx, *n = (int)given_n;
        snprintf(from, from_cap, "Kubernetes JOB_COMPLETION_INDEX=%ld", idx);
        return 1;
    }
    if (get("SLURM_JOB_ID"))
        return fail(err, err_cap,
                    "--shard auto: this Slurm job (SLURM_JOB_ID=%s) is not a job array: submit it with "
                    "sbatch --array=0-N, or give --shard I/N",
                    get("SLURM_JOB_ID"));
    return fail(err, err_cap,
                "--shard auto: no scheduler set the shard: neither SLURM_ARRAY_TASK_ID (a Slurm job array, sbatch "
                "--array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard I/N");
}

/* ---------------------------------------------------------------- resume */

int infer_output_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

int infer_remove_stale_temps(const char *path) {
    /* the writer's temporary name is PATH.tmp-XXXXXX (pcavs_media_temp_beside); escape PATH's glob characters */
    size_t n = strlen(path);
    char *pat = malloc(2 * n + 16);
    if (!pat) return 0;
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        if (strchr("*?[\\", path[j])) pat[k++] = '\\';
        pat[k++] = path[j];
    }
    memcpy(pat + k, ".tmp-??????", 12);
    glob_t g;
    int removed = 0;
    if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t j = 0; j < g.gl_pathc; j++) removed += unlink(g.gl_pathv[j]) == 0;
        globfree(&g);
    }
    free(pat);
    return removed;
}

/* ---------------------------------------------------------------- summary */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t len) {
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static void putf(sbuf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, len < 0 ? 0 : (size_t)len < sizeof tmp ? (size_t)len : sizeof tmp - 1);
}

/* a JSON string (or null): quotes, backslashes and control characters escaped */
static void put_json(sbuf *b, const char *s) {
    if (!s) {
        put(b, "null", 4);
        return;
    }
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c < 0x20) {
            putf(b, "\\u%04x", c);
        } else {
            put(b, s, 1);
        }
    }
    put(b, "\"", 1);
}

int infer_summary_append(int fd, int row, int shard_i, int shard_n, const char *output, const char *status, long frames,
                         double seconds, const char *error) {
    sbuf b = {0};
    putf(&b, "{\"row\":%d,\"shard\":\"%d/%d\",\"output\":", row, shard_i, shard_n);
    put_json(&b, output);
    put(&b, ",\"status\":", 10);
    put_json(&b, status);
    if (frames >= 0)
        putf(&b, ",\"frames\":%ld", frames);
    else
        put(&b, ",\"frames\":null", 14);
    putf(&b, ",\"seconds\":%.3f,\"error\":", seconds);
    put_json(&b, error);
    put(&b, "}\n", 2);
    if (b.oom) {
        free(b.p);
        errno = ENOMEM;
        return -1;
    }
    /* one write: with O_APPEND the line lands whole at the end, even with another writer on the file */
    ssize_t w = write(fd, b.p, b.n);
    int ok = w == (ssize_t)b.n;
    free(b.p);
    if (!ok && w >= 0) errno = EIO;
    return ok ? 0 : -1;
}
