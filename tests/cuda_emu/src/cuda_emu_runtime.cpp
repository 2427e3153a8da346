/* cuda_emu_runtime.cpp (pcavs CUDA emulation, tests only): the CUDA runtime on the host.
 *  - Device memory: cudaMalloc maps pages between two PROT_NONE guard pages (an access past either
 *    end faults; the fault is reported naming the running kernel), fills them with NaN (the bytes
 *    just around the allocation with a NaN of its own, checked after each launch / GEMM that was
 *    handed it: a write just outside is reported) and registers the range; a cap
 *    (PCAVS_CUDA_EMU_MEM_MB, default 6144) makes a larger total fail with cudaErrorMemoryAllocation.
 *    Outside the emulation's own work the pages are PROT_NONE: host code touching device memory
 *    faults, as with a GPU (PCAVS_CUDA_EMU_PROTECT=0 leaves them readable).
 *  - Checks a GPU does not give: every kernel pointer argument, every copy's direction and extent
 *    against the registry; the launch configuration as the hardware limits it.
 *  - Streams: launches, async copies, memsets, event records and cuBLAS calls are queued per stream
 *    and run only at a synchronisation point (stream / event / device synchronise, a synchronous
 *    cudaMemcpy, cudaFree), so a result read too early is wrong, as on a GPU. Work on the legacy
 *    NULL stream is ordered after all other streams' work and before later work on them.
 *  - Kernel launches themselves (blocks, fibers, barriers): cuda_emu_launch.cpp; cuBLAS:
 *    cuda_emu_cublas.cpp; both through cuda_emu_internal.h.
 *  - Errors as CUDA reports them: launch errors through cudaGetLastError, execution errors sticky
 *    (every later call returns them); cudaGetErrorString gives the detailed message of the last one. */
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cuda_emu_internal.h"
#include "cuda_runtime_api.h"
#include "pcavs_cuda_emu_device.h"

struct CUstream_st {
    std::deque<std::function<void()>> q;
};
struct CUevent_st {
    cudaStream_t stream = nullptr;
    bool recorded = false, done = false;
    double t_ms = 0.0;
};

namespace pcavs_emu {
namespace {

/* ---------------- errors ---------------- */
thread_local cudaError_t t_last = cudaSuccess; /* cudaGetLastError's */
thread_local std::string t_msg;                /* detailed message of t_msg_code */
thread_local cudaError_t t_msg_code = cudaSuccess;
std::mutex g_err_mu;
std::atomic<int> g_sticky{cudaSuccess};
std::string g_sticky_msg;

void vformat(std::string &out, const char *fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    out = buf;
}

} // namespace

/* A launch / call error: returned now and reported by cudaGetLastError. */
cudaError_t fail(cudaError_t e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat(t_msg, fmt, ap);
    va_end(ap);
    t_msg_code = e;
    t_last = e;
    fprintf(stderr, "pcavs CUDA emulation: %s\n", t_msg.c_str());
    return e;
}

/* An error while executing queued work: sticky, as a fault on a GPU. */
void fail_sticky(cudaError_t e, const char *fmt, ...) {
    std::string m;
    va_list ap;
    va_start(ap, fmt);
    vformat(m, fmt, ap);
    va_end(ap);
    std::lock_guard<std::mutex> lk(g_err_mu);
    if (g_sticky.load() == cudaSuccess) {
        g_sticky_msg = m;
        g_sticky.store(e);
    }
    fprintf(stderr, "pcavs CUDA emulation: %s\n", m.c_str());
}

namespace {

cudaError_t sticky() { return (cudaError_t)g_sticky.load(); }

/* ---------------- device memory registry ---------------- */
struct alloc_t {
    size_t size; /* bytes asked for */
    void *map;   /* whole mapping, guards included */
    size_t map_len;
    char *body; /* the accessible pages (between the guards) */
    size_t body_len;
    uint32_t canary; /* NaN with a payload of this allocation's own, in the bytes around it */
    char *lo, *hi;   /* the canary bytes checked: [lo, p) and [p + size, hi) */
};
std::recursive_mutex g_mu; /* registry, streams, events, queues */
std::map<uintptr_t, alloc_t> g_allocs;
size_t g_used, g_cap;
long g_page;
std::set<cudaStream_t> g_streams;
std::map<uintptr_t, size_t> g_pinned; /* cudaMallocHost ranges: async copies read them when they run */
CUstream_st g_null_stream;
unsigned g_alloc_serial;
const char *volatile g_running = nullptr; /* kernel being executed (fault reports) */

void segv_handler(int sig, siginfo_t *si, void *);
bool g_protect = true; /* device memory inaccessible to host code outside the emulation's own work */

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_page = sysconf(_SC_PAGESIZE);
        const char *cap = getenv("PCAVS_CUDA_EMU_MEM_MB");
        g_cap = (size_t)(cap && *cap ? atol(cap) : 6144) << 20;
        const char *prot = getenv("PCAVS_CUDA_EMU_PROTECT");
        g_protect = !(prot && *prot == '0');
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
        sigaction(SIGSEGV, &sa, nullptr);
        sigaction(SIGBUS, &sa, nullptr);
    });
}

/* The allocation containing p (or nullptr); caller holds g_mu. */
const std::pair<const uintptr_t, alloc_t> *find_alloc(const void *p) {
    uintptr_t a = (uintptr_t)p;
    auto it = g_allocs.upper_bound(a);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    if (a >= it->first && a < it->first + (it->second.size ? it->second.size : 1)) return &*it;
    return nullptr;
}

/* The first canary byte changed around allocation `a` (nullptr when intact); caller holds g_mu. */
const char *canary_broken(uintptr_t base, const alloc_t &a) {
    const unsigned char *c = (const unsigned char *)&a.canary;
    for (const char *q = a.lo; q < (const char *)base; q++)
        if ((unsigned char)*q != c[(uintptr_t)q & 3]) return q;
    for (const char *q = (const char *)base + a.size; q < a.hi; q++)
        if ((unsigned char)*q != c[(uintptr_t)q & 3]) return q;
    return nullptr;
}

/* Reports (sticky) a write just outside allocation `base` by `who`. */
void check_canary(uintptr_t base, const char *who) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    auto it = g_allocs.find(base);
    if (it == g_allocs.end()) return;
    const char *q = canary_broken(base, it->second);
    if (!q) return;
    const long off =
        q < (const char *)base ? -(long)((const char *)base - q) : (long)(q - (const char *)base - it->second.size);
    fail_sticky(cudaErrorIllegalAddress,
                "%s wrote outside a device allocation: just %s the %zu-byte allocation at %p (first changed byte: "
                "%s %+ld; an index out of bounds: an illegal access on a GPU)",
                who, off < 0 ? "before" : "past the end of", it->second.size, (void *)base, off < 0 ? "start" : "end",
                off);
    /* re-arm, so one bug is reported once */
    const unsigned char *c = (const unsigned char *)&it->second.canary;
    for (char *r = it->second.lo; r < (char *)base; r++) *r = (char)c[(uintptr_t)r & 3];
    for (char *r = (char *)base + it->second.size; r < it->second.hi; r++) *r = (char)c[(uintptr_t)r & 3];
}

/* Device memory is PROT_NONE except while the emulation itself runs queued work or copies
 * (a "window"): a device pointer dereferenced by host code faults, as it would with a GPU. */
int g_window;
void protect_one(const alloc_t &a, bool open) {
    mprotect(a.body, a.body_len, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}
struct device_window { /* caller holds g_mu */
    device_window() {
        if (g_window++ == 0 && g_protect)
            for (auto &a : g_allocs) protect_one(a.second, true);
    }
    ~device_window() {
        if (--g_window == 0 && g_protect)
            for (auto &a : g_allocs) protect_one(a.second, false);
    }
};
/* Opens one allocation (the one containing p, if any) while the emulation copies or checks it. */
struct one_open { /* caller holds g_mu */
    const alloc_t *a = nullptr;
    explicit one_open(const void *p) {
        const auto *f = find_alloc(p);
        if (f && g_protect && g_window == 0) protect_one(f->second, true), a = &f->second;
    }
    ~one_open() {
        if (a) protect_one(*a, false);
    }
};

void segv_handler(int sig, siginfo_t *si, void *) {
    char buf[512];
    const char *k = g_running;
    const uintptr_t addr = si ? (uintptr_t)si->si_addr : 0;
    if (!k && addr) { /* best effort at a crash: the registry read without its lock */
        for (auto &a : g_allocs) {
            const uintptr_t lo = (uintptr_t)a.second.body, hi = lo + a.second.body_len;
            if (addr >= lo && addr < hi) {
                int n =
                    snprintf(buf, sizeof buf,
                             "pcavs CUDA emulation: host code accessed device memory at %p (the %zu-byte device "
                             "allocation at %p): a device pointer dereferenced on the host, which faults with a GPU "
                             "too (copy it with cudaMemcpy / the backend's to_host)\n",
                             (void *)addr, a.second.size, (void *)a.first);
                if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
                return;
            }
        }
    }
    int n = snprintf(buf, sizeof buf,
                     "pcavs CUDA emulation: illegal memory access (signal %d) at address %p%s%s%s: outside every "
                     "device allocation (an index out of bounds, a host or freed pointer, or a fiber stack overflow)\n",
                     sig, si ? si->si_addr : nullptr, k ? " in kernel " : "", k ? k : "", k ? "" : " outside a kernel");
    if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    /* SA_RESETHAND: returning re-executes the access and dies with the default action */
}

/* ---------------- streams and queues ---------------- */
CUstream_st *qof(cudaStream_t s) { return s ? s : &g_null_stream; }

void run_queue(CUstream_st *st) {
    if (st->q.empty()) return;
    device_window w;
    while (!st->q.empty()) {
        std::function<void()> w = std::move(st->q.front());
        st->q.pop_front();
        if (sticky() == cudaSuccess) w(); /* after a fault the context runs nothing more */
    }
}

void drain_all() {
    run_queue(&g_null_stream);
    for (cudaStream_t s : g_streams) run_queue(s);
    run_queue(&g_null_stream);
}

void drain(cudaStream_t s) {
    if (!s) {
        drain_all();
        return;
    }
    run_queue(&g_null_stream); /* earlier legacy-stream work comes first */
    run_queue(s);
}

double now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *kind_name(cudaMemcpyKind k) {
    switch (k) {
    case cudaMemcpyHostToHost:
        return "HostToHost";
    case cudaMemcpyHostToDevice:
        return "HostToDevice";
    case cudaMemcpyDeviceToHost:
        return "DeviceToHost";
    case cudaMemcpyDeviceToDevice:
        return "DeviceToDevice";
    case cudaMemcpyDefault:
        return "Default";
    }
    return "?";
}

/* 0 host, 1 device range, -1 starts in device memory but runs past its allocation. */
int classify(const void *p, size_t bytes) {
    const auto *a = find_alloc(p);
    if (!a) return 0;
    return (uintptr_t)p + bytes <= a->first + a->second.size ? 1 : -1;
}

/* Checks a copy of `rows` rows of `width` bytes with pitches; fills *dev_dst / *dev_src. */
cudaError_t check_copy(const char *api, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                       size_t rows, cudaMemcpyKind kind, bool *dst_dev, bool *src_dev) {
    const size_t dext = (rows - 1) * dpitch + width, sext = (rows - 1) * spitch + width;
    const int cd = classify(dst, dext), cs = classify(src, sext);
    if (cd < 0)
        return fail(cudaErrorInvalidValue,
                    "%s(%s): the destination %p + %zu bytes runs past the end of its device allocation", api,
                    kind_name(kind), dst, dext);
    if (cs < 0)
        return fail(cudaErrorInvalidValue,
                    "%s(%s): the source %p + %zu bytes runs past the end of its device allocation", api,
                    kind_name(kind), src, sext);
    bool want_d, want_s;
    switch (kind) {
    case cudaMemcpyHostToHost:
        want_d = false, want_s = false;
        break;
    case cudaMemcpyHostToDevice:
        want_d = true, want_s = false;
        break;
    case cudaMemcpyDeviceToHost:
        want_d = false, want_s = true;
        break;
    case cudaMemcpyDeviceToDevice:
        want_d = true, want_s = true;
        break;
    case cudaMemcpyDefault:
        want_d = cd == 1, want_s = cs == 1;
        break;
    default:
        return fail(cudaErrorInvalidMemcpyDirection, "%s: unknown copy kind %d", api, (int)kind);
    }
    if ((cd == 1) != want_d)
        return fail(cudaErrorInvalidValue, "%s(%s): the destination %p is %s memory (wrong copy direction)", api,
                    kind_name(kind), dst, cd == 1 ? "device" : "host (not device)");
    if ((cs == 1) != want_s)
        return fail(cudaErrorInvalidValue, "%s(%s): the source %p is %s memory (wrong copy direction)", api,
                    kind_name(kind), src, cs == 1 ? "device" : "host (not device)");
    *dst_dev = want_d;
    *src_dev = want_s;
    return cudaSuccess;
}

cudaError_t copy2d(const char *api, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t rows,
                   cudaMemcpyKind kind, cudaStream_t stream, bool async) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!width || !rows) return cudaSuccess;
    if (!dst || !src) return fail(cudaErrorInvalidValue, "%s: NULL pointer", api);
    if (width > dpitch || width > spitch)
        return fail(cudaErrorInvalidValue, "%s: width %zu exceeds a pitch (dst %zu, src %zu)", api, width, dpitch,
                    spitch);
    if (async && !stream_valid(stream))
        return fail(cudaErrorInvalidResourceHandle, "%s: stream %p is not a live stream", api, (void *)stream);
    bool dd = false, sd = false;
    cudaError_t e = check_copy(api, dst, dpitch, src, spitch, width, rows, kind, &dd, &sd);
    if (e) return e;
    char *d = (char *)dst;
    if (!async) { /* synchronous: after all earlier work (legacy stream semantics) */
        drain_all();
        one_open od(dst), os(src);
        if (sticky()) return t_last = sticky();
        for (size_t r = 0; r < rows; r++) memmove(d + r * dpitch, (const char *)src + r * spitch, width);
        return cudaSuccess;
    }
    bool pinned_src = false;
    if (!sd) {
        auto it = g_pinned.upper_bound((uintptr_t)src);
        pinned_src = it != g_pinned.begin() && (uintptr_t)src < std::prev(it)->first + std::prev(it)->second;
    }
    if (!sd && !pinned_src) { /* pageable host source: staged now, so the caller may reuse it at once */
        auto staged = std::make_shared<std::vector<char>>(width * rows);
        for (size_t r = 0; r < rows; r++) memcpy(staged->data() + r * width, (const char *)src + r * spitch, width);
        enqueue(stream, [=] {
            for (size_t r = 0; r < rows; r++) memcpy(d + r * dpitch, staged->data() + r * width, width);
        });
    } else {
        const char *s = (const char *)src;
        enqueue(stream, [=] {
            for (size_t r = 0; r < rows; r++) memmove(d + r * dpitch, s + r * spitch, width);
        });
    }
    return cudaSuccess;
}

} // namespace

/* ---------------- internal API (cuBLAS, launches) ---------------- */
bool device_range(const void *p, size_t bytes) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    return classify(p, bytes) == 1;
}

bool stream_valid(cudaStream_t s) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    return !s || g_streams.count(s);
}

void enqueue(cudaStream_t s, std::function<void()> work) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (!s) { /* legacy stream: after everything queued on the other streams */
        for (cudaStream_t o : g_streams) run_queue(o);
    } else {
        run_queue(&g_null_stream);
    }
    qof(s)->q.push_back(std::move(work));
}

cudaError_t sticky_error(void) { return sticky(); }

void init(void) { init_once(); }

void set_last_error(cudaError_t e) { t_last = e; }

void set_running_kernel(const char *name) { g_running = name; }

const void *alloc_base_of(const void *p) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    const auto *a = find_alloc(p);
    return a ? (const void *)a->first : nullptr;
}

void check_canary_of(const void *base, const char *who) { check_canary((uintptr_t)base, who); }

void check_after(const void *p, const char *who) {
    uintptr_t base;
    {
        std::lock_guard<std::recursive_mutex> lk(g_mu);
        const auto *a = find_alloc(p);
        if (!a) return;
        base = a->first;
    }
    check_canary(base, who);
}

} // namespace pcavs_emu

using namespace pcavs_emu;

extern "C" {

const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess:
        return "cudaSuccess";
    case cudaErrorInvalidValue:
        return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
        return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError:
        return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration:
        return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
        return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection:
        return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice:
        return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
        return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
        return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady:
        return "cudaErrorNotReady";
    case cudaErrorIllegalAddress:
        return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure:
        return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported:
        return "cudaErrorNotSupported";
    default:
        return "cudaErrorUnknown";
    }
}

static const char *generic_string(cudaError_t e) {
    switch (e) {
    case cudaSuccess:
        return "no error";
    case cudaErrorInvalidValue:
        return "invalid argument";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    case cudaErrorInvalidConfiguration:
        return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
        return "invalid device pointer";
    case cudaErrorNoDevice:
        return "no CUDA-capable device is detected";
    case cudaErrorInvalidResourceHandle:
        return "invalid resource handle";
    case cudaErrorNotReady:
        return "device not ready";
    case cudaErrorIllegalAddress:
        return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure:
        return "unspecified launch failure";
    case cudaErrorNotSupported:
        return "operation not supported";
    default:
        return "unknown error";
    }
}

/* The detailed message of the last error of that code (this thread's, or the sticky one). */
const char *cudaGetErrorString(cudaError_t e) {
    if (e != cudaSuccess && e == t_msg_code && !t_msg.empty()) return t_msg.c_str();
    if (e != cudaSuccess && e == sticky()) {
        std::lock_guard<std::mutex> lk(g_err_mu);
        static thread_local std::string copy;
        copy = g_sticky_msg;
        return copy.c_str();
    }
    return generic_string(e);
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = sticky() ? sticky() : t_last;
    t_last = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) { return sticky() ? sticky() : t_last; }

static bool no_device() {
    const char *d = getenv("PCAVS_CUDA_EMU_DEVICES");
    return d && *d == '0';
}

cudaError_t cudaGetDeviceCount(int *count) {
    init_once();
    if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: NULL count");
    if (no_device()) {
        *count = 0;
        return fail(cudaErrorNoDevice, "no CUDA-capable device is detected (PCAVS_CUDA_EMU_DEVICES=0)");
    }
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
    init_once();
    if (sticky()) return t_last = sticky();
    if (device != 0 || no_device())
        return fail(cudaErrorInvalidDevice, "cudaSetDevice(%d): the emulation has device 0 only", device);
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device) {
    if (!device) return fail(cudaErrorInvalidValue, "cudaGetDevice: NULL");
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int device) {
    init_once();
    if (!p || device != 0) return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties(%d): no such device", device);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "pcavs CUDA emulation");
    p->totalGlobalMem = g_cap;
    p->sharedMemPerBlock = 48 << 10;
    p->warpSize = 32;
    p->maxThreadsPerBlock = 1024;
    p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
    p->maxGridSize[0] = 2147483647, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
    p->clockRate = 1000000;
    p->major = 9, p->minor = 0;
    p->multiProcessorCount = omp_get_max_threads();
    p->memoryClockRate = 1000000;
    p->memoryBusWidth = 64;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device) {
    cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, device);
    if (e) return e;
    if (!value) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: NULL value");
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
        *value = p.maxThreadsPerBlock;
        break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
        *value = (int)p.sharedMemPerBlock;
        break;
    case cudaDevAttrWarpSize:
        *value = p.warpSize;
        break;
    case cudaDevAttrClockRate:
        *value = p.clockRate;
        break;
    case cudaDevAttrMultiProcessorCount:
        *value = p.multiProcessorCount;
        break;
    case cudaDevAttrComputeCapabilityMajor:
        *value = p.major;
        break;
    case cudaDevAttrComputeCapabilityMinor:
        *value = p.minor;
        break;
    case cudaDevAttrMemoryClockRate:
        *value = p.memoryClockRate;
        break;
    case cudaDevAttrGlobalMemoryBusWidth:
        *value = p.memoryBusWidth;
        break;
    default:
        return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute %d not emulated", (int)attr);
    }
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    drain_all();
    return sticky() ? (t_last = sticky()) : cudaSuccess;
}

/* Drops queued work and every allocation, clears the sticky error (as the real reset). */
cudaError_t cudaDeviceReset(void) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    g_null_stream.q.clear();
    for (cudaStream_t s : g_streams) s->q.clear();
    for (auto &a : g_allocs) munmap(a.second.map, a.second.map_len);
    g_allocs.clear();
    g_used = 0;
    {
        std::lock_guard<std::mutex> l2(g_err_mu);
        g_sticky.store(cudaSuccess);
        g_sticky_msg.clear();
    }
    t_last = cudaSuccess;
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (free_bytes) *free_bytes = g_cap - g_used;
    if (total_bytes) *total_bytes = g_cap;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void **ptr, size_t size) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!ptr) return fail(cudaErrorInvalidValue, "cudaMalloc: NULL result pointer");
    *ptr = nullptr;
    if (!size) return cudaSuccess;
    if (size > g_cap - g_used)
        return fail(cudaErrorMemoryAllocation,
                    "cudaMalloc(%zu bytes): out of memory (%zu of the emulated device's %zu MiB in use; "
                    "PCAVS_CUDA_EMU_MEM_MB sets the cap)",
                    size, g_used, g_cap >> 20);
    /* large allocations on 2 MiB-aligned transparent huge pages: the protection toggles of the host-access
     * check then walk 512x fewer page-table entries */
    const size_t pg = (size_t)g_page, huge = 2u << 20;
    const bool use_huge = size >= 2 * huge;
    const size_t align = use_huge ? huge : pg, body = (size + align - 1) / align * align;
    const size_t len = body + 2 * pg + (use_huge ? huge : 0);
    char *m = (char *)mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return fail(cudaErrorMemoryAllocation, "cudaMalloc(%zu bytes): mmap failed", size);
    char *b = use_huge ? (char *)(((uintptr_t)m + pg + huge - 1) / huge * huge) : m + pg;
    if (mprotect(b, body, PROT_READ | PROT_WRITE)) {
        munmap(m, len);
        return fail(cudaErrorMemoryAllocation, "cudaMalloc(%zu bytes): mprotect failed", size);
    }
    if (use_huge) madvise(b, body, MADV_HUGEPAGE);
    /* the allocation ends within 255 bytes of the upper guard, 256-byte aligned like cudaMalloc's */
    char *p = b + body - (size + 255) / 256 * 256;
    /* quiet NaN inside (an unwritten output fails the tests); around it a NaN whose payload is this
     * allocation's own, so that a value copied from one allocation's slack into another's is seen */
    const uint32_t canary = 0x7fc00000u | (((++g_alloc_serial * 2654435761u) >> 10) & 0x3fffffu) | 1u;
    uint32_t *f = (uint32_t *)b;
    for (size_t i = 0; i < (size_t)(p - b) / 4; i++) f[i] = canary;
    for (size_t i = 0; i < size / 4; i++) ((uint32_t *)p)[i] = 0x7fc00000u;
    for (uint32_t *t = (uint32_t *)(((uintptr_t)p + size) & ~(uintptr_t)3); t < (uint32_t *)(b + body); t++)
        *t = canary;
    char *lo = p - 256 < b ? b : p - 256;
    g_allocs[(uintptr_t)p] = alloc_t{size, m, len, b, body, canary, lo, b + body};
    if (g_protect && g_window == 0) protect_one(g_allocs[(uintptr_t)p], false);
    g_used += size;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    drain_all(); /* as on a GPU: waits for the work that may use p */
    if (!p) return sticky() ? (t_last = sticky()) : cudaSuccess;
    auto it = g_allocs.find((uintptr_t)p);
    if (it == g_allocs.end())
        return fail(cudaErrorInvalidValue, "cudaFree(%p): not the start of a live device allocation", p);
    {
        one_open o(p);
        check_canary((uintptr_t)p, "work queued before cudaFree");
    }
    munmap(it->second.map, it->second.map_len);
    g_used -= it->second.size;
    g_allocs.erase(it);
    return sticky() ? (t_last = sticky()) : cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, cudaMemcpyKind kind) {
    return copy2d("cudaMemcpy", dst, count, src, count, count, 1, kind, nullptr, false);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
    return copy2d("cudaMemcpyAsync", dst, count, src, count, count, 1, kind, stream, true);
}

cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
    return copy2d("cudaMemcpy2DAsync", dst, dpitch, src, spitch, width, height, kind, stream, true);
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t count, cudaStream_t stream) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!count) return cudaSuccess;
    if (classify(p, count) != 1)
        return fail(cudaErrorInvalidValue, "cudaMemset: %p + %zu bytes is not inside one device allocation", p, count);
    if (!stream_valid(stream))
        return fail(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: stream %p is not a live stream", (void *)stream);
    enqueue(stream, [=] { memset(p, value, count); });
    return cudaSuccess;
}

cudaError_t cudaMemset(void *p, int value, size_t count) {
    cudaError_t e = cudaMemsetAsync(p, value, count, nullptr);
    return e ? e : cudaDeviceSynchronize();
}

cudaError_t cudaStreamCreate(cudaStream_t *s) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!s) return fail(cudaErrorInvalidValue, "cudaStreamCreate: NULL");
    *s = new CUstream_st;
    g_streams.insert(*s);
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags) {
    if (flags & ~1u) return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: unknown flags %#x", flags);
    return cudaStreamCreate(s);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *ev, unsigned int flags) {
    if (flags & ~3u) return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: unknown flags %#x", flags);
    return cudaEventCreate(ev);
}

cudaError_t cudaMallocHost(void **ptr, size_t size) {
    if (!ptr) return fail(cudaErrorInvalidValue, "cudaMallocHost: NULL result pointer");
    *ptr = nullptr;
    if (posix_memalign(ptr, 4096, size ? size : 1)) {
        *ptr = nullptr;
        return fail(cudaErrorMemoryAllocation, "cudaMallocHost(%zu bytes): out of host memory", size);
    }
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    g_pinned[(uintptr_t)*ptr] = size ? size : 1;
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *ptr) {
    cudaDeviceSynchronize(); /* as cudaFreeHost: queued copies may still read it */
    {
        std::lock_guard<std::recursive_mutex> lk(g_mu);
        g_pinned.erase((uintptr_t)ptr);
    }
    free(ptr);
    return sticky() ? sticky() : cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (!s || !g_streams.count(s))
        return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy(%p): not a live stream", (void *)s);
    run_queue(s); /* queued work still completes */
    g_streams.erase(s);
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (!stream_valid(s))
        return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize(%p): not a live stream", (void *)s);
    drain(s);
    return sticky() ? (t_last = sticky()) : cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t s) {
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (!stream_valid(s))
        return fail(cudaErrorInvalidResourceHandle, "cudaStreamQuery(%p): not a live stream", (void *)s);
    if (sticky()) return sticky();
    return qof(s)->q.empty() ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventCreate(cudaEvent_t *ev) {
    if (!ev) return fail(cudaErrorInvalidValue, "cudaEventCreate: NULL");
    *ev = new CUevent_st;
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t ev) {
    if (!ev) return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: NULL event");
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    drain_all(); /* a queued record may still refer to it */
    delete ev;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t ev, cudaStream_t s) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!ev) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: NULL event");
    if (!stream_valid(s))
        return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: stream %p is not a live stream", (void *)s);
    ev->stream = s;
    ev->recorded = true;
    ev->done = false;
    enqueue(s, [ev] {
        ev->t_ms = now_ms();
        ev->done = true;
    });
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t ev) {
    if (!ev) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: NULL event");
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (ev->recorded && !ev->done) drain(ev->stream);
    return sticky() ? (t_last = sticky()) : cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t ev) {
    if (!ev) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: NULL event");
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return sticky();
    return !ev->recorded || ev->done ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) {
    if (!ms || !a || !b) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: NULL argument");
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (sticky()) return t_last = sticky();
    if (!a->recorded || !b->recorded)
        return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
    if (!a->done || !b->done) return cudaErrorNotReady; /* not an error state, as in CUDA */
    *ms = (float)(b->t_ms - a->t_ms);
    return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t ev, unsigned int flags) {
    (void)flags;
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    if (!ev || !stream_valid(s))
        return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: bad stream or event");
    if (ev->recorded && !ev->done && ev->stream != s) drain(ev->stream); /* earlier is a legal schedule */
    return cudaSuccess;
}

int pcavs_cuda_emu_is_device_ptr(const void *p) {
    init_once();
    std::lock_guard<std::recursive_mutex> lk(g_mu);
    return find_alloc(p) != nullptr;
}

} /* extern "C" */
