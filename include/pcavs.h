/* pcavs.h: the public C API of pcavs, a native inference engine for PC-AVS
 * ("Pose-Controllable Talking Face Generation", CVPR 2021).
 *
 * Conventions: every public symbol starts with pcavs_; functions that can fail return a
 * pcavs_status and leave a one-line message readable with pcavs_last_error() (thread-local);
 * handles are opaque and come in create/free pairs; parameter structs are filled with
 * defaults by *_params_init. The library never exits or aborts on bad input. */
#ifndef PCAVS_H
#define PCAVS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PCAVS_VERSION_MAJOR 0
#define PCAVS_VERSION_MINOR 1
#define PCAVS_VERSION_PATCH 0

typedef enum pcavs_status {
    PCAVS_OK = 0,
    PCAVS_ERR_INVALID_ARG = 1, /* NULL pointer, bad size, bad option */
    PCAVS_ERR_IO = 2,          /* missing, unreadable or unwritable file */
    PCAVS_ERR_FORMAT = 3,      /* corrupt or unsupported file contents */
    PCAVS_ERR_SHAPE = 4,       /* tensor or image of the wrong shape */
    PCAVS_ERR_OOM = 5,         /* allocation failed or a capped area is too small */
    PCAVS_ERR_UNSUPPORTED = 6, /* valid request this build cannot do (e.g. no CUDA) */
    PCAVS_ERR_BACKEND = 7,     /* a backend (CUDA, BLAS) reported an error */
    PCAVS_ERR_INTERNAL = 8     /* a bug: please report */
} pcavs_status;

/* The message of the last failure on the calling thread ("" if none). */
const char *pcavs_last_error(void);
/* A short name for a status code. */
const char *pcavs_status_name(pcavs_status st);

typedef enum pcavs_log_level {
    PCAVS_LOG_DEBUG = 0,
    PCAVS_LOG_INFO = 1,
    PCAVS_LOG_WARN = 2,
    PCAVS_LOG_ERROR = 3
} pcavs_log_level;

typedef void (*pcavs_log_fn)(pcavs_log_level level, const char *message, void *user);

typedef enum pcavs_device {
    PCAVS_DEVICE_CPU = 0, /* optimised CPU kernels (OpenBLAS, SIMD, threads) */
    PCAVS_DEVICE_CUDA = 1,
    PCAVS_DEVICE_REF = 2 /* naive reference kernels: slow, the truth for tests */
} pcavs_device;

/* Execution settings shared by every entry point that runs kernels. */
typedef struct pcavs_exec_params {
    pcavs_device device;   /* default PCAVS_DEVICE_CPU */
    int n_threads;         /* CPU threads; 0 = all cores (default) */
    size_t scratch_bytes;  /* capped scratch area for kernels; 0 = default (256 MiB, lazily touched) */
    int debug_nan_poison;  /* 1: fill every fresh arena buffer with NaN (catches unwritten outputs) */
    pcavs_log_fn log;      /* NULL = messages at WARN and above go to stderr */
    void *log_user;
    pcavs_log_level log_level; /* default PCAVS_LOG_WARN */
} pcavs_exec_params;

void pcavs_exec_params_init(pcavs_exec_params *p);

/* An execution context: a backend chosen once, threads, scratch. Opaque. */
typedef struct pcavs_exec pcavs_exec;

pcavs_status pcavs_exec_create(const pcavs_exec_params *p, pcavs_exec **out);
void pcavs_exec_free(pcavs_exec *ex);
/* Name of the backend in use ("cpu", "cpu-ref", "cuda"). */
const char *pcavs_exec_backend_name(const pcavs_exec *ex);

#ifdef __cplusplus
}
#endif
#endif
