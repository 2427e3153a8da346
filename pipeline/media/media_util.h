/* media_util.h: small internal helpers of pipeline/media: whole-file reads, write-to-temporary-then-rename
 * outputs, and child processes (ffmpeg/ffprobe) spawned from an argv array (posix_spawnp, never a shell)
 * with their stdin/stdout connected to this process and their stderr kept for error messages. */
#ifndef PCAVS_MEDIA_UTIL_H
#define PCAVS_MEDIA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pcavs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a whole file into a malloc'ed buffer (free with free()). */
pcavs_status pcavs_media_read_file(const char *path, uint8_t **data, size_t *size);

/* Creates PATH.tmp-XXXXXX in the target's directory, opened for writing (*tmp_path malloc'ed). */
pcavs_status pcavs_media_temp_beside(const char *path, char **tmp_path, FILE **f);
/* Flushes and closes f, renames tmp_path onto path (removing tmp_path on any failure); frees tmp_path. */
pcavs_status pcavs_media_commit_temp(FILE *f, char *tmp_path, const char *path);

/* 1 when `name` is an executable found on PATH (or an executable path). */
int pcavs_media_have_program(const char *name);

typedef struct pcavs_proc {
    pid_t pid;     /* child pid, 0 when none */
    int in_fd;     /* write end of the child's stdin (a socket: writes never raise SIGPIPE), or -1 */
    int out_fd;    /* read end of the child's stdout, or -1 */
    FILE *err;     /* temporary file holding the child's stderr */
    char prog[64]; /* argv[0], for messages */
} pcavs_proc;

/* Runs `ffprobe -v error [extra...] -show_entries ENTRIES -of default=noprint_wrappers=1 path` (extra: NULL or
 * a NULL-terminated list of at most 4 arguments) and
 * leaves its key=value lines in out (NUL-terminated, cut at cap - 1 bytes). Returns the spawn or read
 * status; *exit_code and err (the tail of its stderr) say whether ffprobe itself succeeded. */
pcavs_status pcavs_media_ffprobe(const char *path, const char *entries, const char *const *extra, char *out, size_t cap,
                                 int *exit_code, char *err, size_t err_cap);

/* Spawns argv[0] (searched on PATH) with argv (NULL-terminated). want_stdin/want_stdout connect those
 * streams to this process; otherwise they are /dev/null. A missing program gives PCAVS_ERR_UNSUPPORTED
 * with "<prog> is not installed". */
pcavs_status pcavs_proc_spawn(const char *const argv[], int want_stdin, int want_stdout, pcavs_proc *p);
/* Writes all bytes to the child's stdin (PCAVS_ERR_IO if the child went away). */
pcavs_status pcavs_proc_write(pcavs_proc *p, const void *buf, size_t n);
/* Reads up to n bytes from the child's stdout, stopping early only at end of stream; *got = bytes read. */
pcavs_status pcavs_proc_read(pcavs_proc *p, void *buf, size_t n, size_t *got);
/* Closes the pipes, waits for the child; returns its exit code (128+signal if killed, -1 on wait error)
 * and copies the last line(s) of its stderr into errtail (may be NULL). */
int pcavs_proc_finish(pcavs_proc *p, char *errtail, size_t cap);
/* Terminates the child (SIGTERM then wait) and releases everything. */
void pcavs_proc_kill(pcavs_proc *p);

#ifdef __cplusplus
}
#endif
#endif
