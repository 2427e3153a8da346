/* infer_batch.h: pcavs-infer's CSV batch helpers: the shard from a scheduler's environment (--shard auto),
 * the resume check (a row whose outputs all exist is skipped), stale temporaries of an interrupted run,
 * and the per-shard JSON-lines summary (one O_APPEND write per row). Program code: prints nothing. */
#ifndef PCAVS_INFER_BATCH_H
#define PCAVS_INFER_BATCH_H
#include <stddef.h>

/* --shard SPEC with SPEC "auto" or "auto/N": the shard from Slurm's SLURM_ARRAY_TASK_{ID,MIN,COUNT}
 * (and _STEP, _MAX when set) or Kubernetes' JOB_COMPLETION_INDEX (with N). getenv_fn reads a variable
 * (getenv in the program). Returns 1 with *i, *n and a one-line description of where they came from in
 * `from`, or 0 with the reason in `err`. */
int infer_shard_auto(const char *spec, const char *(*getenv_fn)(const char *), int *i, int *n, char *from,
                     size_t from_cap, char *err, size_t err_cap);

/* 1 when path is a non-empty regular file (an output renamed into place is complete). */
int infer_output_exists(const char *path);

/* Removes PATH.tmp-XXXXXX files left by an interrupted render of PATH (the writer's temporary names);
 * returns how many were removed. */
int infer_remove_stale_temps(const char *path);

/* Appends one JSON line to the summary (fd opened O_APPEND) in a single write():
 * {"row":R,"shard":"I/N","output":"...","status":"done|skipped|failed","frames":F|null,"seconds":S,
 *  "error":"..."|null}. output may be NULL (a row that did not parse); frames < 0 writes null.
 * Returns 0 or -1 (errno set). */
int infer_summary_append(int fd, int row, int shard_i, int shard_n, const char *output, const char *status, long frames,
                         double seconds, const char *error);

#endif
