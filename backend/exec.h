/* exec.h: the inside of a pcavs_exec: the chosen backend table, the kernel context
 * (threads, scratch) and logging. Networks and the pipeline call kernels through ex->be. */
#ifndef PCAVS_ENGINE_EXEC_H
#define PCAVS_ENGINE_EXEC_H

#include "backend.h"
#include "pcavs.h"

struct pcavs_exec {
    pcavs_exec_params params;
    const pcavs_backend *be;
    pcavs_kctx kc;
    void *scratch_mem;          /* backend memory behind kc.scratch */
    const char *precision_name; /* the backend's name of the settled precision (precision_mode) */
};

/* Logs through the context's callback (or stderr) when level >= params.log_level. */
void pcavs_log(const pcavs_exec *ex, pcavs_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
