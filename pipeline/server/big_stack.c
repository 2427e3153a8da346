/* big_stack.c: run_on_big_stack (big_stack.h): a joinable pthread with an 8 MiB stack per call. */
#include "big_stack.h"

#include <pthread.h>

typedef struct call {
    big_stack_fn fn;
    void *arg;
    int ret;
} call;

static void *trampoline(void *p) {
    call *c = p;
    c->ret = c->fn(c->arg);
    return NULL;
}

int run_on_big_stack(big_stack_fn fn, void *arg) {
    call c = {fn, arg, -1};
    pthread_attr_t at;
    pthread_t t;
    if (pthread_attr_init(&at)) return -1;
    pthread_attr_setstacksize(&at, (size_t)8 << 20);
    int err = pthread_create(&t, &at, trampoline, &c);
    pthread_attr_destroy(&at);
    if (err) return -1;
    pthread_join(t, NULL);
    return c.ret;
}
