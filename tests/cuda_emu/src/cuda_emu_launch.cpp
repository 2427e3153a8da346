/* cuda_emu_launch.cpp (pcavs CUDA emulation, tests only): kernel launches on the host.
 *  - launch_begin / launch_check_pointer / launch_submit (behind PCAVS_LAUNCH): the launch
 *    configuration as the hardware limits it, every pointer argument inside a live device allocation
 *    (else the launch fails naming the kernel and the argument), the launch queued on its stream.
 *  - When the stream runs it: a kernel whose threads never reach __syncthreads runs as plain loops
 *    (blocks spread over OpenMP threads, the threads of a block in order); one that does runs each
 *    block's threads as fibers (makecontext for the first entry, then _setjmp/_longjmp: no system call
 *    per switch) that all meet at every barrier. A kernel's first launch runs its block 0 on fibers to
 *    learn which kind it is; a barrier reached outside fiber mode, or by only some threads of a block,
 *    is a sticky launch failure naming the kernel. After the launch, the canaries around every
 *    allocation it was handed are checked (a write just outside one is a sticky error).
 *  - PCAVS_CUDA_EMU_ORDER: forward, reverse, or (default) alternate: every other launch runs its
 *    blocks and the threads of each block in reverse order, so an order-dependent (racy) kernel
 *    launched more than once is seen in both orders. */
#undef _FORTIFY_SOURCE /* longjmp between fiber stacks is intended (no __longjmp_chk) */
#define _FORTIFY_SOURCE 0
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda_emu_internal.h"
#include "cuda_runtime_api.h"
#include "pcavs_cuda_emu_device.h"

__thread pcavs_emu::idx3 threadIdx PCAVS_EMU_TLS, blockIdx PCAVS_EMU_TLS, blockDim PCAVS_EMU_TLS, gridDim PCAVS_EMU_TLS;

namespace pcavs_emu {
namespace {

std::mutex g_kind_mu;
std::unordered_map<const void *, int> g_kernel_kind; /* 1 plain, 2 cooperative */
std::atomic<unsigned long> g_launches_run{0};
thread_local std::vector<const void *> t_touched; /* allocations a launch's pointer arguments point into */
int g_order = 2;                                  /* 0 forward, 1 reverse, 2 alternate */
bool g_rev_now = false;                           /* the launch being run (launches run one at a time) */
long g_page;

void init_order() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_page = sysconf(_SC_PAGESIZE);
        const char *order = getenv("PCAVS_CUDA_EMU_ORDER");
        if (order && strcmp(order, "forward") == 0) g_order = 0;
        if (order && strcmp(order, "reverse") == 0) g_order = 1;
    });
}

/* ---------------- fibers ---------------- */
enum { FIB_READY, FIB_BARRIER, FIB_DONE };
enum { MODE_NONE, MODE_PLAIN, MODE_FIBER };
const size_t FIBER_STACK = 256 << 10;

struct fiber {
    ucontext_t uc;
    jmp_buf jb;
    char *stack = nullptr;
    bool started = false;
    int state = FIB_READY;
};

struct scheduler {
    std::vector<fiber *> fibers;
    jmp_buf jb;
    ucontext_t uc_unused;
    fiber *cur = nullptr;
    kernel_body *body = nullptr;
    unsigned long barriers = 0;
};
thread_local scheduler t_sched;
thread_local int t_mode = MODE_NONE;
thread_local const char *t_kernel = nullptr;

void fiber_entry() {
    for (;;) {
        scheduler &s = t_sched;
        s.body->run();
        fiber *self = s.cur;
        self->state = FIB_DONE;
        if (!_setjmp(self->jb)) _longjmp(s.jb, 1);
    }
}

void fiber_resume(fiber *f) {
    scheduler &s = t_sched;
    s.cur = f;
    if (!_setjmp(s.jb)) {
        if (!f->started) {
            f->started = true;
            getcontext(&f->uc);
            f->uc.uc_stack.ss_sp = f->stack;
            f->uc.uc_stack.ss_size = FIBER_STACK;
            f->uc.uc_link = nullptr;
            makecontext(&f->uc, fiber_entry, 0);
            swapcontext(&s.uc_unused, &f->uc);
        } else {
            _longjmp(f->jb, 1);
        }
    }
}

fiber *fiber_new() {
    fiber *f = new fiber;
    /* a PROT_NONE page below the stack turns an overflow into a reported fault */
    char *m = (char *)mmap(nullptr, FIBER_STACK + g_page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "pcavs CUDA emulation: cannot map a fiber stack\n");
        abort(); /* test-only code: no way to run the kernel */
    }
    mprotect(m, g_page, PROT_NONE);
    f->stack = m + g_page;
    return f;
}

void set_thread(unsigned t, const dim3 &b) {
    threadIdx.x = t % b.x;
    threadIdx.y = (t / b.x) % b.y;
    threadIdx.z = t / (b.x * b.y);
}

void set_block(unsigned long bl, const launch_cfg &c) {
    blockIdx.x = (unsigned)(bl % c.grid.x);
    blockIdx.y = (unsigned)((bl / c.grid.x) % c.grid.y);
    blockIdx.z = (unsigned)(bl / ((unsigned long)c.grid.x * c.grid.y));
    blockDim = idx3{c.block.x, c.block.y, c.block.z};
    gridDim = idx3{c.grid.x, c.grid.y, c.grid.z};
}

/* Runs one block's threads as fibers meeting at each barrier; returns the barriers passed. */
unsigned long run_block_fibers(const launch_cfg &c, kernel_body *body, unsigned long bl) {
    scheduler &s = t_sched;
    const unsigned nt = c.block.x * c.block.y * c.block.z;
    while (s.fibers.size() < nt) s.fibers.push_back(fiber_new());
    set_block(bl, c);
    s.body = body;
    s.barriers = 0;
    for (unsigned t = 0; t < nt; t++) s.fibers[t]->state = FIB_READY;
    const int saved_mode = t_mode;
    t_mode = MODE_FIBER;
    for (;;) {
        unsigned done = 0, waiting = 0;
        for (unsigned i = 0; i < nt; i++) {
            const unsigned t = g_rev_now ? nt - 1 - i : i;
            fiber *f = s.fibers[t];
            if (f->state == FIB_READY) {
                set_thread(t, c.block);
                fiber_resume(f);
            }
            if (f->state == FIB_DONE)
                done++;
            else
                waiting++;
        }
        if (!waiting) break;
        if (done) {
            fail_sticky(cudaErrorLaunchFailure,
                        "kernel %s: block %lu: %u of its %u threads wait at __syncthreads while the others have "
                        "returned (a barrier not reached by every thread of the block: undefined on a GPU)",
                        c.name, bl, waiting, nt);
            /* the waiting fibers' stacks are abandoned: they restart from scratch next time */
            for (unsigned t = 0; t < nt; t++)
                if (s.fibers[t]->state == FIB_BARRIER) s.fibers[t]->started = false;
            break;
        }
        s.barriers++;
        for (unsigned t = 0; t < nt; t++) s.fibers[t]->state = FIB_READY;
    }
    t_mode = saved_mode;
    return s.barriers;
}

void run_block_plain(const launch_cfg &c, kernel_body *body, unsigned long bl) {
    set_block(bl, c);
    t_mode = MODE_PLAIN;
    for (unsigned z = 0; z < c.block.z; z++)
        for (unsigned y = 0; y < c.block.y; y++) {
            threadIdx.z = z, threadIdx.y = y;
            for (unsigned i = 0; i < c.block.x; i++) {
                threadIdx.x = g_rev_now ? c.block.x - 1 - i : i;
                body->run();
            }
        }
    t_mode = MODE_NONE;
}

void run_launch(const launch_cfg &c, kernel_body *body, const std::vector<const void *> &touched) {
    g_rev_now = g_order == 1 || (g_order == 2 && (g_launches_run.load() & 1));
    set_running_kernel(c.name);
    t_kernel = c.name;
    const unsigned long nb = (unsigned long)c.grid.x * c.grid.y * c.grid.z;
    int kind;
    {
        std::lock_guard<std::mutex> lk(g_kind_mu);
        kind = g_kernel_kind[c.fn];
    }
    unsigned long first = 0;
    if (kind == 0) { /* first launch: block 0 on fibers tells whether the kernel uses barriers */
        unsigned long barriers = run_block_fibers(c, body, 0);
        kind = barriers ? 2 : 1;
        std::lock_guard<std::mutex> lk(g_kind_mu);
        g_kernel_kind[c.fn] = kind;
        first = 1;
    }
    if (nb > first) {
        const long count = (long)(nb - first);
#pragma omp parallel for schedule(dynamic, 4) if (count > 1)
        for (long i = 0; i < count; i++) {
            t_kernel = c.name;
            const unsigned long bl = first + (unsigned long)(g_rev_now ? count - 1 - i : i);
            if (kind == 2)
                run_block_fibers(c, body, bl);
            else
                run_block_plain(c, body, bl);
        }
    }
    set_running_kernel(nullptr);
    t_kernel = nullptr;
    g_launches_run++;
    char who[300];
    snprintf(who, sizeof who, "kernel %s", c.name);
    for (const void *b : touched) check_canary_of(b, who);
}

} // namespace

bool launch_begin(const launch_cfg &c) {
    init();
    init_order();
    t_touched.clear();
    if (sticky_error()) {
        set_last_error(sticky_error());
        return false;
    }
    const dim3 &b = c.block, &g = c.grid;
    if (!b.x || !b.y || !b.z || !g.x || !g.y || !g.z || (unsigned long)b.x * b.y * b.z > 1024 || b.x > 1024 ||
        b.y > 1024 || b.z > 64 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
        fail(cudaErrorInvalidConfiguration,
             "kernel %s: invalid launch configuration grid (%u, %u, %u) block (%u, %u, %u)", c.name, g.x, g.y, g.z, b.x,
             b.y, b.z);
        return false;
    }
    if (c.smem) {
        fail(cudaErrorNotSupported,
             "kernel %s: %zu bytes of dynamic shared memory asked at launch: not supported by the emulation", c.name,
             c.smem);
        return false;
    }
    if (!stream_valid(c.stream)) {
        fail(cudaErrorInvalidResourceHandle, "kernel %s: stream %p is not a live stream", c.name, (void *)c.stream);
        return false;
    }
    return true;
}

bool launch_check_pointer(const launch_cfg &c, int index, const void *p) {
    if (!p) return true;
    if (const void *base = alloc_base_of(p)) {
        t_touched.push_back(base);
        return true;
    }
    fail(cudaErrorInvalidDevicePointer,
         "kernel %s: argument %d (%p) is not device memory (a host pointer, or memory already freed)", c.name, index,
         p);
    return false;
}

void launch_submit(const launch_cfg &c, std::shared_ptr<kernel_body> body) {
    launch_cfg cc = c;
    std::vector<const void *> touched = t_touched;
    enqueue(c.stream, [cc, body, touched] { run_launch(cc, body.get(), touched); });
}

} // namespace pcavs_emu

using namespace pcavs_emu;

void __syncthreads(void) {
    if (t_mode == MODE_FIBER) {
        scheduler &s = t_sched;
        fiber *self = s.cur;
        self->state = FIB_BARRIER;
        if (!_setjmp(self->jb)) _longjmp(s.jb, 1);
        return;
    }
    fail_sticky(cudaErrorLaunchFailure,
                "kernel %s: __syncthreads reached in a launch run as plain loops (its first launch did not reach a "
                "barrier in block 0): the emulation cannot run it",
                t_kernel ? t_kernel : "?");
}

extern "C" unsigned long pcavs_cuda_emu_launches_run(void) { return g_launches_run.load(); }
