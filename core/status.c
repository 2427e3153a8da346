/* status.c: the thread-local last-error message behind pcavs_fail / pcavs_last_error. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { PCAVS_ERROR_CAP = 1024 };
static _Thread_local char g_error_message[PCAVS_ERROR_CAP];

pcavs_status pcavs_fail(pcavs_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_error_message, sizeof g_error_message, fmt, ap);
    va_end(ap);
    return st;
}

pcavs_status pcavs_fail_context(pcavs_status st, const char *what) {
    char tmp[PCAVS_ERROR_CAP];
    snprintf(tmp, sizeof tmp, "%.400s: %.600s", what, g_error_message);
    memcpy(g_error_message, tmp, sizeof tmp);
    return st;
}

void pcavs_clear_error(void) { g_error_message[0] = '\0'; }

const char *pcavs_last_error(void) { return g_error_message; }

const char *pcavs_status_name(pcavs_status st) {
    switch (st) {
    case PCAVS_OK:
        return "ok";
    case PCAVS_ERR_INVALID_ARG:
        return "invalid argument";
    case PCAVS_ERR_IO:
        return "i/o error";
    case PCAVS_ERR_FORMAT:
        return "bad file format";
    case PCAVS_ERR_SHAPE:
        return "shape mismatch";
    case PCAVS_ERR_OOM:
        return "out of memory";
    case PCAVS_ERR_UNSUPPORTED:
        return "unsupported";
    case PCAVS_ERR_BACKEND:
        return "backend error";
    case PCAVS_ERR_INTERNAL:
        return "internal error";
    case PCAVS_ERR_CANCELLED:
        return "cancelled";
    }
    return "unknown status";
}
