/* media_util.c: whole-file reads, temporary-file-then-rename outputs, and ffmpeg/ffprobe child processes
 * spawned with posix_spawnp from an argv array (no shell), stdin through a socket (MSG_NOSIGNAL writes, so
 * a dying child never kills us with SIGPIPE), stdout through a pipe, stderr into an anonymous temp file. */
#define _GNU_SOURCE /* pipe2, O_CLOEXEC */
#include "media_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status.h"

extern char **environ;

pcavs_status pcavs_media_read_file(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf) return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory while reading", path);
    if (rerr) {
        free(buf);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: read error", path);
    }
    *data = buf;
    *size = n;
    return PCAVS_OK;
}

pcavs_status pcavs_media_temp_beside(const char *path, char **tmp_path, FILE **f) {
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    *f = fdopen(fd, "wb");
    if (!*f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: fdopen failed", path);
    }
    *tmp_path = tmp;
    return PCAVS_OK;
}

pcavs_status pcavs_media_commit_temp(FILE *f, char *tmp_path, const char *path) {
    int bad = fflush(f) != 0 || ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp_path);
        free(tmp_path);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: write failed (disk full?)", path);
    }
    if (rename(tmp_path, path) != 0) {
        int e = errno;
        unlink(tmp_path);
        free(tmp_path);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot rename the temporary file onto it: %s", path, strerror(e));
    }
    free(tmp_path);
    return PCAVS_OK;
}

int pcavs_media_have_program(const char *name) {
    if (strchr(name, '/')) return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + strlen(name) + 2 < sizeof buf) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, name);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return 1;
        }
        path += len;
        if (*path == ':') path++;
    }
    return 0;
}

pcavs_status pcavs_proc_spawn(const char *const argv[], int want_stdin, int want_stdout, pcavs_proc *p) {
    memset(p, 0, sizeof *p);
    p->in_fd = p->out_fd = -1;
    snprintf(p->prog, sizeof p->prog, "%s", argv[0]);
    if (!pcavs_media_have_program(argv[0]))
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED,
                          "%s is not installed (not found on PATH); install FFmpeg "
                          "(Debian: apt-get install ffmpeg)",
                          argv[0]);
    int in_sv[2] = {-1, -1}, out_p[2] = {-1, -1}, devnull = -1;
    pcavs_status st = PCAVS_OK;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    p->err = tmpfile();
    if (!p->err) {
        st = pcavs_fail(PCAVS_ERR_IO, "%s: cannot create a temporary file for its messages", argv[0]);
        goto done;
    }
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (want_stdin && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0) {
        st = pcavs_fail(PCAVS_ERR_IO, "%s: socketpair failed: %s", argv[0], strerror(errno));
        goto done;
    }
    if (want_stdout && pipe2(out_p, O_CLOEXEC) != 0) {
        st = pcavs_fail(PCAVS_ERR_IO, "%s: pipe failed: %s", argv[0], strerror(errno));
        goto done;
    }
    if (want_stdin) shutdown(in_sv[1], SHUT_RD); /* one-way: parent writes, child reads */
    posix_spawn_file_actions_adddup2(&fa, want_stdin ? in_sv[0] : devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, want_stdout ? out_p[1] : devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(p->err), 2);
    int rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    if (rc != 0) {
        p->pid = 0;
        st = rc == ENOENT ? pcavs_fail(PCAVS_ERR_UNSUPPORTED, "%s is not installed (not found on PATH)", argv[0])
                          : pcavs_fail(PCAVS_ERR_IO, "%s: cannot start: %s", argv[0], strerror(rc));
        goto done;
    }
    if (want_stdin) p->in_fd = in_sv[1], in_sv[1] = -1;
    if (want_stdout) p->out_fd = out_p[0], out_p[0] = -1;
done:
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 2; i++) {
        if (in_sv[i] >= 0) close(in_sv[i]);
        if (out_p[i] >= 0) close(out_p[i]);
    }
    if (devnull >= 0) close(devnull);
    if (st != PCAVS_OK && p->err) {
        fclose(p->err);
        p->err = NULL;
    }
    return st;
}

pcavs_status pcavs_proc_write(pcavs_proc *p, const void *buf, size_t n) {
    const uint8_t *b = buf;
    while (n > 0) {
        ssize_t w = send(p->in_fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return pcavs_fail(PCAVS_ERR_IO, "%s stopped reading its input: %s", p->prog, strerror(errno));
        b += w;
        n -= (size_t)w;
    }
    return PCAVS_OK;
}

pcavs_status pcavs_proc_read(pcavs_proc *p, void *buf, size_t n, size_t *got) {
    uint8_t *b = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(p->out_fd, b + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            *got = done;
            return pcavs_fail(PCAVS_ERR_IO, "%s: reading its output failed: %s", p->prog, strerror(errno));
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    *got = done;
    return PCAVS_OK;
}

static void err_tail(FILE *err, char *tail, size_t cap) {
    if (!tail || cap == 0) return;
    tail[0] = 0;
    if (!err) return;
    fflush(err);
    long size = ftell(err);
    if (size <= 0) {
        fseek(err, 0, SEEK_END);
        size = ftell(err);
    }
    if (size <= 0) return;
    long from = size > (long)cap - 1 ? size - (long)cap + 1 : 0;
    fseek(err, from, SEEK_SET);
    size_t r = fread(tail, 1, cap - 1, err);
    tail[r] = 0;
    /* keep the last non-empty line (ffmpeg's final complaint) */
    while (r > 0 && (tail[r - 1] == '\n' || tail[r - 1] == '\r' || tail[r - 1] == ' ')) tail[--r] = 0;
    char *last = strrchr(tail, '\n');
    if (last) memmove(tail, last + 1, strlen(last + 1) + 1);
    for (char *c = tail; *c; c++)
        if (*c == '\r') *c = ' ';
}

int pcavs_proc_finish(pcavs_proc *p, char *errtail, size_t cap) {
    if (p->in_fd >= 0) close(p->in_fd), p->in_fd = -1;
    if (p->out_fd >= 0) close(p->out_fd), p->out_fd = -1;
    int code = -1;
    if (p->pid > 0) {
        int ws;
        pid_t r;
        do r = waitpid(p->pid, &ws, 0);
        while (r < 0 && errno == EINTR);
        if (r == p->pid) code = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
        p->pid = 0;
    }
    err_tail(p->err, errtail, cap);
    if (p->err) fclose(p->err), p->err = NULL;
    return code;
}

void pcavs_proc_kill(pcavs_proc *p) {
    if (p->pid > 0) kill(p->pid, SIGTERM);
    pcavs_proc_finish(p, NULL, 0);
}

pcavs_status pcavs_media_ffprobe(const char *path, const char *entries, const char *const *extra, char *out, size_t cap,
                                 int *exit_code, char *err, size_t err_cap) {
    const char *argv[14];
    int k = 0;
    argv[k++] = "ffprobe";
    argv[k++] = "-v";
    argv[k++] = "error";
    for (int i = 0; extra && extra[i] && i < 4; i++) argv[k++] = extra[i];
    argv[k++] = "-show_entries";
    argv[k++] = entries;
    argv[k++] = "-of";
    argv[k++] = "default=noprint_wrappers=1";
    argv[k++] = path;
    argv[k] = NULL;
    pcavs_proc p;
    PCAVS_TRY(pcavs_proc_spawn(argv, 0, 1, &p));
    size_t got = 0;
    pcavs_status st = pcavs_proc_read(&p, out, cap - 1, &got);
    out[got] = 0;
    *exit_code = pcavs_proc_finish(&p, err, err_cap);
    return st;
}
