/* status.h: status codes and the thread-local last-error message of the engine.
 * The library never exits or aborts on bad input: every fallible function returns a
 * pcavs_status and, on failure, leaves a one-line message (naming the file or tensor and
 * the problem) readable with pcavs_last_error(). Only programs decide to exit. */
#ifndef PCAVS_ENGINE_STATUS_H
#define PCAVS_ENGINE_STATUS_H

#include "pcavs.h" /* pcavs_status lives in the public header */

/* Records a formatted message for the calling thread and returns `st` (for `return pcavs_fail(...)`). */
pcavs_status pcavs_fail(pcavs_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with "what: " (e.g. a file name) while keeping the status. */
pcavs_status pcavs_fail_context(pcavs_status st, const char *what);

/* Clears the message of the calling thread. */
void pcavs_clear_error(void);

#define PCAVS_TRY(expr)                                                                                                \
    do {                                                                                                               \
        pcavs_status pcavs_try_st_ = (expr);                                                                           \
        if (pcavs_try_st_ != PCAVS_OK) return pcavs_try_st_;                                                           \
    } while (0)

#endif
