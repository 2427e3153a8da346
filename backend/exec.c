/* exec.c: creating an execution context: pick the backend once, check it is complete, set
 * the thread count (OpenMP and OpenBLAS), settle the precision (the backend's precision_mode says
 * whether it runs the one asked for; else float32 with a warning), reserve the capped scratch area. */
#include "exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu_features.h"
#include "status.h"

enum { PCAVS_DEFAULT_SCRATCH = 256u << 20 };

void pcavs_exec_params_init(pcavs_exec_params *p) {
    memset(p, 0, sizeof *p);
    p->device = PCAVS_DEVICE_CPU;
    p->log_level = PCAVS_LOG_WARN;
}

static int default_threads(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

pcavs_status pcavs_exec_create(const pcavs_exec_params *p, pcavs_exec **out) {
    if (!p || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_exec_create: NULL argument");
    *out = NULL;
    if (p->n_threads < 0) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "n_threads must be >= 0 (got %d)", p->n_threads);
    const pcavs_backend *be = NULL;
    switch (p->device) {
    case PCAVS_DEVICE_CPU:
        be = &pcavs_backend_cpu;
        break;
    case PCAVS_DEVICE_REF:
        be = &pcavs_backend_ref;
        break;
    case PCAVS_DEVICE_CUDA:
        be = pcavs_backend_cuda();
        if (!be) return PCAVS_ERR_UNSUPPORTED; /* message set by pcavs_backend_cuda */
        break;
    default:
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "unknown device %d", (int)p->device);
    }
    PCAVS_TRY(pcavs_backend_check(be));

    if (p->precision != PCAVS_PRECISION_FP32 && p->precision != PCAVS_PRECISION_BF16 &&
        p->precision != PCAVS_PRECISION_TF32)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "unknown precision %d", (int)p->precision);
    pcavs_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return pcavs_fail(PCAVS_ERR_OOM, "cannot allocate an execution context");
    ex->params = *p;
    const char *why = NULL;
    ex->precision_name = be->precision_mode(p->precision, &why);
    if (!ex->precision_name) { /* a mode this backend cannot run: float32, said */
        static const char *names[] = {"fp32", "bf16", "tf32"};
        pcavs_log(ex, PCAVS_LOG_WARN, "%s precision: %s; running float32", names[p->precision],
                  why ? why : "not supported");
        ex->params.precision = PCAVS_PRECISION_FP32;
        ex->precision_name = be->precision_mode(PCAVS_PRECISION_FP32, &why);
        if (!ex->precision_name) ex->precision_name = "fp32";
    }
    ex->be = be;
    ex->kc.precision = ex->params.precision;
    ex->kc.n_threads = p->n_threads > 0 ? p->n_threads : default_threads();
    if (ex->kc.n_threads < 1) ex->kc.n_threads = 1;
    pcavs_cpu_set_threads(ex->kc.n_threads);
    pcavs_status st = be->kctx_init ? be->kctx_init(&ex->kc) : PCAVS_OK; /* stream, handles (CUDA) */
    if (st != PCAVS_OK) {
        free(ex);
        return st;
    }
    size_t scratch = p->scratch_bytes ? p->scratch_bytes : PCAVS_DEFAULT_SCRATCH;
    st = be->mem_alloc(scratch, &ex->scratch_mem);
    if (st != PCAVS_OK) {
        if (be->kctx_free) be->kctx_free(&ex->kc);
        free(ex);
        return st;
    }
    ex->kc.scratch = ex->scratch_mem;
    ex->kc.scratch_bytes = scratch;
    *out = ex;
    return PCAVS_OK;
}

void pcavs_exec_free(pcavs_exec *ex) {
    if (!ex) return;
    if (ex->scratch_mem) ex->be->mem_free(ex->scratch_mem);
    if (ex->be->kctx_free) ex->be->kctx_free(&ex->kc);
    free(ex);
}

const char *pcavs_exec_backend_name(const pcavs_exec *ex) { return ex ? ex->be->name : "none"; }

pcavs_precision pcavs_exec_precision(const pcavs_exec *ex) { return ex ? ex->params.precision : PCAVS_PRECISION_FP32; }

const char *pcavs_exec_precision_name(const pcavs_exec *ex) { return ex ? ex->precision_name : "fp32"; }

void pcavs_log(const pcavs_exec *ex, pcavs_log_level level, const char *fmt, ...) {
    pcavs_log_level min = ex ? ex->params.log_level : PCAVS_LOG_WARN;
    if (level < min) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ex && ex->params.log) {
        ex->params.log(level, msg, ex->params.log_user);
        return;
    }
    static const char *names[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "pcavs: %s: %s\n", names[level < 0 || level > 3 ? 3 : level], msg);
}
