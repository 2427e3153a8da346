/* jobs.c: the job queue of jobs.h: a linked list of jobs under one mutex, a condition variable broadcast
 * on every change (workers wait for work, event streams wait for progress), worker threads each with
 * their own pcavs_context, and a reaper that removes finished jobs after keep_seconds. */
#define _GNU_SOURCE
#include "jobs.h"

#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct job {
    struct job *next;
    char id[JOB_ID_LEN + 1];
    job_spec spec;
    job_state state;
    long frames_done;
    char error[512];
    unsigned version;
    volatile int cancel; /* pcavs_render_params.cancel points here */
    double t_end;        /* monotonic seconds when it reached a final state */
    long seq;            /* submission order */
} job;

struct job_queue {
    job_queue_params p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *jobs; /* newest first */
    long seq;
    int stopping;
    int n_workers;
    pthread_t *workers;
    pcavs_context **ctx; /* [parallel] */
    pthread_t reaper;
    int reaper_started;
};

const char *job_state_name(job_state s) {
    switch (s) {
    case JOB_QUEUED:
        return "queued";
    case JOB_RUNNING:
        return "running";
    case JOB_DONE:
        return "done";
    case JOB_FAILED:
        return "failed";
    case JOB_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void job_remove_dir(const char *dir) {
    if (dir && dir[0]) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int job_make_dir(job_queue *q, job_spec *spec) {
    snprintf(spec->dir, sizeof spec->dir, "%s/job-XXXXXX", q->p.root);
    if (!mkdtemp(spec->dir)) /* mkdtemp makes it 0700 */
        return -1;
    return 0;
}

static job *find(job_queue *q, const char *id) {
    if (!id || strlen(id) != JOB_ID_LEN) return NULL;
    for (job *j = q->jobs; j; j = j->next)
        if (!strcmp(j->id, id)) return j;
    return NULL;
}

static void changed(job_queue *q, job *j) {
    j->version++;
    pthread_cond_broadcast(&q->cv);
}

static int queue_position(job_queue *q, const job *j) {
    if (j->state != JOB_QUEUED) return 0;
    int pos = 1;
    for (job *o = q->jobs; o; o = o->next)
        if (o->state == JOB_QUEUED && o->seq < j->seq) pos++;
    return pos;
}

static void view_of(job_queue *q, const job *j, job_view *v) {
    memcpy(v->id, j->id, sizeof v->id);
    v->state = j->state;
    v->frames_done = j->frames_done;
    v->frames_total = j->spec.frames_total;
    v->queue_position = queue_position(q, j);
    memcpy(v->error, j->error, sizeof v->error);
    v->version = j->version;
    v->side_by_side = j->spec.side_by_side;
}

static void finish(job_queue *q, job *j, job_state s, const char *error) {
    j->state = s;
    j->t_end = now_s();
    if (error) snprintf(j->error, sizeof j->error, "%s", error);
    changed(q, j);
}

/* Removes the job's inputs (its result stays until it expires). */
static void remove_inputs(const job_spec *s) {
    unlink(s->face);
    unlink(s->audio);
    if (s->pose[0]) unlink(s->pose);
}

/* align / paste_back: what pcavs-infer --align --paste-back does (pipeline/cli/pcavs-infer.c, run_aligned_clip):
 * face (and pose) aligned into 224x224 crops in the job's folder, rendered from them, and with paste_back the
 * generated faces mapped back into the original frames (the pose video's, else the face's), which becomes the
 * result. Returns the status; err receives the message. */
static pcavs_status render_aligned(pcavs_context *ctx, pcavs_render_params *rp, const job_spec *s,
                                   pcavs_progress_fn progress, void *user, char *err, size_t cap) {
    char face_dir[JOB_PATH_MAX + 32], pose_dir[JOB_PATH_MAX + 32], pasted[JOB_PATH_MAX + 32];
    snprintf(face_dir, sizeof face_dir, "%s/face_aligned", s->dir);
    snprintf(pose_dir, sizeof pose_dir, "%s/pose_aligned", s->dir);
    snprintf(pasted, sizeof pasted, "%s/pasted.mp4", s->dir);
    pcavs_align_params ap = {.smooth_prev = -1};
    pcavs_align_result face_res = {0}, pose_res = {0};
    pcavs_render_result rr;
    pcavs_status st;
    err[0] = 0;
    if ((st = pcavs_align_clip(s->face, face_dir, &ap, &face_res)) != PCAVS_OK) {
        snprintf(err, cap, "align: face: %s", pcavs_last_error());
        goto done;
    }
    rp->face = face_dir;
    if (s->pose[0]) {
        if ((st = pcavs_align_clip(s->pose, pose_dir, &ap, &pose_res)) != PCAVS_OK) {
            snprintf(err, cap, "align: pose: %s", pcavs_last_error());
            goto done;
        }
        rp->pose = pose_dir;
    } else if (s->paste_back && face_res.n_frames > 1) {
        rp->pose = face_dir; /* re-voicing a face video: its frames also drive the head pose */
    }
    if ((st = pcavs_context_render(ctx, rp, progress, user, &rr)) != PCAVS_OK) {
        snprintf(err, cap, "%s", pcavs_last_error());
        goto done;
    }
    if (s->paste_back) {
        const char *src = s->pose[0] ? s->pose : s->face;
        const pcavs_align_result *res = s->pose[0] ? &pose_res : &face_res;
        if (rp->cancel && __atomic_load_n((const int *)rp->cancel, __ATOMIC_ACQUIRE)) {
            st = PCAVS_ERR_CANCELLED;
            snprintf(err, cap, "cancelled");
            goto done;
        }
        /* pcavs-infer's defaults: the mouth alone when re-voicing a face video, the face otherwise; multiband */
        pcavs_paste_params pp;
        pcavs_paste_params_init(&pp);
        pp.mask = s->pose[0] || face_res.n_frames <= 1 ? PCAVS_PASTE_MASK_FACE : PCAVS_PASTE_MASK_MOUTH;
        if ((st = pcavs_align_paste_clip_masked(src, res, rp->output, &pp, rp->pose ? rr.pose_frames_used : 0,
                                                rp->output, pasted, NULL)) != PCAVS_OK ||
            rename(pasted, rp->output) != 0) {
            snprintf(err, cap, "paste_back: %s", st != PCAVS_OK ? pcavs_last_error() : "cannot replace the result");
            if (st == PCAVS_OK) st = PCAVS_ERR_IO;
            goto done;
        }
    }
done:
    pcavs_align_result_free(&face_res);
    pcavs_align_result_free(&pose_res);
    job_remove_dir(face_dir);
    job_remove_dir(pose_dir);
    unlink(pasted);
    return st;
}

/* Removes the job folder's path from a message (clients see "result.mp4", not the server's layout). */
static void strip_dir(char *msg, const char *dir) {
    size_t n = strlen(dir);
    char *p;
    while (n && (p = strstr(msg, dir)) != NULL) {
        size_t skip = n + (p[n] == '/');
        memmove(p, p + skip, strlen(p + skip) + 1);
    }
}

typedef struct worker_arg {
    job_queue *q;
    int index;
} worker_arg;

typedef struct progress_ctx {
    job_queue *q;
    job *j;
} progress_ctx;

static void on_progress(void *user, long done, long total) {
    progress_ctx *pc = user;
    pthread_mutex_lock(&pc->q->mu);
    if (pc->j->frames_done != done || pc->j->spec.frames_total != total) { /* one event per real change */
        pc->j->frames_done = done;
        pc->j->spec.frames_total = total;
        changed(pc->q, pc->j);
    }
    pthread_mutex_unlock(&pc->q->mu);
}

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    job_queue *q = wa->q;
    pcavs_context *ctx = q->ctx[wa->index];
    free(wa);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        job *next = NULL;
        while (!q->stopping) {
            for (job *j = q->jobs; j; j = j->next) /* oldest queued job: the list is newest first */
                if (j->state == JOB_QUEUED) next = j;
            if (next) break;
            pthread_cond_wait(&q->cv, &q->mu);
        }
        if (q->stopping) break;
        next->state = JOB_RUNNING;
        changed(q, next);
        job_spec s = next->spec; /* the worker's copy: the fields below do not change while running */
        pthread_mutex_unlock(&q->mu);

        char out[JOB_PATH_MAX + 32], sbs[JOB_PATH_MAX + 32];
        snprintf(out, sizeof out, "%s/result.mp4", s.dir);
        snprintf(sbs, sizeof sbs, "%s/side_by_side.mp4", s.dir);
        pcavs_render_params rp;
        pcavs_render_params_init(&rp);
        rp.face = s.face;
        rp.audio = s.audio;
        rp.pose = s.pose[0] ? s.pose : NULL;
        rp.output = out;
        rp.side_by_side = s.side_by_side ? sbs : NULL;
        rp.output_pose = s.output_pose;
        rp.batch = q->p.batch;
        rp.noise = s.noise;
        rp.seed = s.seed;
        rp.upstream_timing = s.upstream_timing;
        rp.max_frames = s.max_frames;
        rp.cancel = &next->cancel;
        progress_ctx pc = {q, next};
        char err[512];
        pcavs_status st = s.align ? render_aligned(ctx, &rp, &s, on_progress, &pc, err, sizeof err)
                                  : pcavs_context_render(ctx, &rp, on_progress, &pc, NULL);
        if (!s.align) snprintf(err, sizeof err, "%s", st == PCAVS_OK ? "" : pcavs_last_error());
        strip_dir(err, s.dir);
        remove_inputs(&s);
        pthread_mutex_lock(&q->mu);
        if (st == PCAVS_OK)
            finish(q, next, JOB_DONE, NULL);
        else if (st == PCAVS_ERR_CANCELLED)
            finish(q, next, JOB_CANCELLED, "cancelled");
        else
            finish(q, next, JOB_FAILED, err);
        if (!q->p.quiet)
            fprintf(stderr, "pcavs-server: job %s %s%s%s\n", next->id, job_state_name(next->state),
                    next->error[0] ? ": " : "", next->error);
        pthread_mutex_unlock(&q->mu);
        malloc_trim(0); /* the clip's buffers go back to the system between jobs */
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Removes finished jobs older than keep_seconds, once a second (and everything at shutdown). */
static void *reaper_main(void *arg) {
    job_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    while (!q->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&q->cv, &q->mu, &ts);
        double t = now_s();
        int removed = 0;
        for (job **pj = &q->jobs; *pj;) {
            job *j = *pj;
            if (job_state_final(j->state) && t - j->t_end >= q->p.keep_seconds) {
                *pj = j->next;
                job_remove_dir(j->spec.dir);
                free(j);
                removed = 1;
                continue;
            }
            pj = &j->next;
        }
        if (removed) {
            pthread_cond_broadcast(&q->cv); /* event streams of removed jobs end */
            malloc_trim(0);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

job_queue *job_queue_start(const job_queue_params *p) {
    job_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->p = *p;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->ctx = calloc((size_t)p->parallel, sizeof *q->ctx);
    q->workers = calloc((size_t)p->parallel, sizeof *q->workers);
    if (!q->ctx || !q->workers) goto fail;
    for (int i = 0; i < p->parallel; i++) {
        if (pcavs_context_create(p->model, &p->ctx_params, &q->ctx[i]) != PCAVS_OK) {
            fprintf(stderr, "pcavs-server: %s\n", pcavs_last_error());
            goto fail;
        }
    }
    for (int i = 0; i < p->parallel; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) goto fail;
        wa->q = q, wa->index = i;
        if (pthread_create(&q->workers[i], NULL, worker_main, wa)) {
            free(wa);
            goto fail;
        }
        q->n_workers++;
    }
    if (pthread_create(&q->reaper, NULL, reaper_main, q)) goto fail;
    q->reaper_started = 1;
    return q;
fail:
    job_queue_stop(q);
    return NULL;
}

pcavs_context *job_queue_context(job_queue *q, int i) { return q->ctx[i]; }

void job_queue_cancel_all(job_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    for (job *j = q->jobs; j; j = j->next) {
        if (j->state == JOB_QUEUED)
            finish(q, j, JOB_CANCELLED, "cancelled: the server is shutting down");
        else if (j->state == JOB_RUNNING)
            __atomic_store_n((int *)&j->cancel, 1, __ATOMIC_RELEASE);
    }
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void job_queue_stop(job_queue *q) {
    if (!q) return;
    job_queue_cancel_all(q);
    for (int i = 0; i < q->n_workers; i++) pthread_join(q->workers[i], NULL);
    if (q->reaper_started) pthread_join(q->reaper, NULL);
    for (job *j = q->jobs, *n; j; j = n) {
        n = j->next;
        job_remove_dir(j->spec.dir);
        free(j);
    }
    for (int i = 0; q->ctx && i < q->p.parallel; i++) pcavs_context_free(q->ctx[i]);
    free(q->ctx);
    free(q->workers);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

static int count_queued(job_queue *q) {
    int n = 0;
    for (job *j = q->jobs; j; j = j->next) n += j->state == JOB_QUEUED;
    return n;
}

int job_queue_full(job_queue *q) {
    pthread_mutex_lock(&q->mu);
    int full = q->stopping || count_queued(q) >= q->p.max_queue;
    pthread_mutex_unlock(&q->mu);
    return full;
}

int job_submit(job_queue *q, const job_spec *spec, char id[JOB_ID_LEN + 1]) {
    job *j = calloc(1, sizeof *j);
    if (!j) return -1;
    unsigned char r[JOB_ID_LEN / 2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        free(j);
        return -1;
    }
    for (size_t i = 0; i < sizeof r; i++) snprintf(j->id + 2 * i, 3, "%02x", r[i]);
    j->spec = *spec;
    j->state = JOB_QUEUED;
    pthread_mutex_lock(&q->mu);
    if (q->stopping || count_queued(q) >= q->p.max_queue) {
        pthread_mutex_unlock(&q->mu);
        free(j);
        return -1;
    }
    j->seq = q->seq++;
    j->next = q->jobs;
    q->jobs = j;
    memcpy(id, j->id, JOB_ID_LEN + 1);
    changed(q, j);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int job_get(job_queue *q, const char *id, job_view *out) {
    pthread_mutex_lock(&q->mu);
    job *j = find(q, id);
    if (j) view_of(q, j, out);
    pthread_mutex_unlock(&q->mu);
    return j ? 0 : -1;
}

int job_wait_change(job_queue *q, const char *id, unsigned version, int timeout_ms, job_view *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&q->mu);
    job *j;
    /* queue positions change when other jobs start, so a queued job's view is compared whole */
    while ((j = find(q, id)) != NULL && j->version == version && !q->stopping) {
        if (j->state == JOB_QUEUED) {
            job_view v;
            view_of(q, j, &v);
            if (v.queue_position != out->queue_position) break;
        }
        if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT) break;
    }
    if (j) view_of(q, j, out);
    pthread_mutex_unlock(&q->mu);
    return j ? 0 : -1;
}

int job_result_path(job_queue *q, const char *id, int which, char *path, size_t cap) {
    pthread_mutex_lock(&q->mu);
    job *j = find(q, id);
    int st = j ? (int)j->state : -1;
    if (j) snprintf(path, cap, "%s/%s", j->spec.dir, which ? "side_by_side.mp4" : "result.mp4");
    pthread_mutex_unlock(&q->mu);
    return st;
}

int job_cancel(job_queue *q, const char *id) {
    pthread_mutex_lock(&q->mu);
    job *j = find(q, id);
    int st = -1;
    if (j) {
        if (j->state == JOB_QUEUED) {
            finish(q, j, JOB_CANCELLED, "cancelled");
            remove_inputs(&j->spec);
        } else if (j->state == JOB_RUNNING) {
            __atomic_store_n((int *)&j->cancel, 1, __ATOMIC_RELEASE);
        }
        st = (int)j->state;
    }
    pthread_mutex_unlock(&q->mu);
    return st;
}

void job_queue_counts(job_queue *q, int *queued, int *running, int *total) {
    pthread_mutex_lock(&q->mu);
    *queued = *running = *total = 0;
    for (job *j = q->jobs; j; j = j->next) {
        *queued += j->state == JOB_QUEUED;
        *running += j->state == JOB_RUNNING;
        (*total)++;
    }
    pthread_mutex_unlock(&q->mu);
}
