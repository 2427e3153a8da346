/* big_stack.h: runs a handler on a thread with a full-size stack and waits for it. civetweb's worker
 * threads have 100 KiB stacks, too small for image and audio decoding or the networks' kernels. */
#ifndef PCAVS_SERVER_BIG_STACK_H
#define PCAVS_SERVER_BIG_STACK_H

typedef int (*big_stack_fn)(void *arg);

/* Returns fn(arg), run on a thread with an 8 MiB stack; -1 when that thread cannot be started. */
int run_on_big_stack(big_stack_fn fn, void *arg);

#endif
