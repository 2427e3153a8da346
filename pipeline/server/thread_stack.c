/* thread_stack.c: a floor under every thread stack size this process asks for. Debian's civetweb starts
 * its worker threads with a compiled-in 100 KiB stack; glibc carves the static TLS of every loaded library
 * out of each thread's stack, and with the CUDA libraries (cuBLAS, cuBLASLt) and OpenBLAS linked that TLS
 * alone is over 160 KiB, so pthread_create fails and the server cannot start. The executable's definition
 * of pthread_attr_setstacksize takes precedence over libc's for every library in the process; it raises
 * a request below PCAVS_SERVER_MIN_STACK to that size and forwards to libc's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

enum { PCAVS_SERVER_MIN_STACK = 1 << 20 };

typedef int (*setstacksize_fn)(pthread_attr_t *, size_t);

int pthread_attr_setstacksize(pthread_attr_t *attr, size_t size) {
    static setstacksize_fn libc_fn;
    if (!libc_fn) libc_fn = (setstacksize_fn)dlsym(RTLD_NEXT, "pthread_attr_setstacksize");
    if (!libc_fn) return 22; /* EINVAL: libc's function cannot be found (never seen) */
    return libc_fn(attr, size < PCAVS_SERVER_MIN_STACK ? PCAVS_SERVER_MIN_STACK : size);
}
