/* jobs.h: the job queue: jobs with ids, states and progress, run in FIFO order by worker threads that
 * each own one pcavs_context; finished jobs kept keep_seconds, then removed with their files.
 * Every field of a job is read and written under the queue's mutex; handlers take snapshots. */
#ifndef PCAVS_SERVER_JOBS_H
#define PCAVS_SERVER_JOBS_H

#include <pthread.h>
#include <stdint.h>

#include "pcavs.h"

#define JOB_ID_LEN 32
#define JOB_PATH_MAX 512

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED } job_state;

const char *job_state_name(job_state s);
static inline int job_state_final(job_state s) { return s >= JOB_DONE; }

/* What a job renders (server-chosen paths inside its private folder). */
typedef struct job_spec {
    char dir[JOB_PATH_MAX];   /* the job's folder (0700) */
    char face[JOB_PATH_MAX];  /* dir/face.<ext> */
    char audio[JOB_PATH_MAX]; /* dir/audio.<ext> */
    char pose[JOB_PATH_MAX];  /* dir/pose.<ext> or "" */
    int side_by_side;
    pcavs_noise_mode noise;
    uint64_t seed;
    pcavs_output_pose output_pose; /* DRIVING or REFERENCE */
    int upstream_timing;
    long max_frames;
    int align;         /* align face (and pose) to 224x224 crops first (dlib landmarks), as pcavs-infer --align */
    int paste_back;    /* with align: the result is the generated faces pasted back into the original frames */
    long frames_total; /* known at submission (from the audio's length) */
} job_spec;

/* A consistent copy of a job's public state. */
typedef struct job_view {
    char id[JOB_ID_LEN + 1];
    job_state state;
    long frames_done, frames_total;
    int queue_position; /* 1 = next to run; 0 when not queued */
    char error[512];
    unsigned version; /* changes whenever any field does */
    int side_by_side;
} job_view;

typedef struct job_queue job_queue;

typedef struct job_queue_params {
    const char *model;
    pcavs_context_params ctx_params;
    int parallel, max_queue, batch;
    double keep_seconds;
    const char *root; /* the server's private folder: job folders are made in it */
    int quiet;
} job_queue_params;

/* Loads one context per worker and starts the workers and the reaper. Returns NULL (message on stderr)
 * when a context cannot be created. */
job_queue *job_queue_start(const job_queue_params *p);
/* Begins shutdown: queued jobs end as cancelled, running ones are asked to stop, waiters wake up. */
void job_queue_cancel_all(job_queue *q);
/* Worker i's context (for the backend's name). */
pcavs_context *job_queue_context(job_queue *q, int i);
/* Cancels queued and running jobs, joins the threads, removes every job folder, frees the queue. */
void job_queue_stop(job_queue *q);

/* A fresh private job folder in spec->dir (mkdtemp, 0700). Returns 0 or -1 (errno). */
int job_make_dir(job_queue *q, job_spec *spec);
/* Removes a job folder and everything in it. */
void job_remove_dir(const char *dir);

/* Enqueues a job (the queue takes spec). Returns 0 with its id, or -1 when the queue is full (429). */
int job_submit(job_queue *q, const job_spec *spec, char id[JOB_ID_LEN + 1]);
/* 1 when max_queue jobs are already waiting. */
int job_queue_full(job_queue *q);
/* Snapshot of a job by id; 0 when found, -1 when unknown (or expired). */
int job_get(job_queue *q, const char *id, job_view *out);
/* Waits (up to timeout_ms) until the job's version differs from `version` or it disappears; then
 * snapshots it. Returns 0 when found, -1 when unknown. */
int job_wait_change(job_queue *q, const char *id, unsigned version, int timeout_ms, job_view *out);
/* The path of a done job's video (which: 0 main, 1 side-by-side) into path[cap]; returns the job's state,
 * or -1 when unknown. */
int job_result_path(job_queue *q, const char *id, int which, char *path, size_t cap);
/* Cancels a job: a queued job ends at once, a running one at its next batch. Returns the state after
 * the request (-1 unknown). */
int job_cancel(job_queue *q, const char *id);
/* Counts for /health: jobs queued, running, and kept. */
void job_queue_counts(job_queue *q, int *queued, int *running, int *total);

#endif
