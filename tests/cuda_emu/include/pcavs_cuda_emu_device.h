/* pcavs_cuda_emu_device.h (pcavs CUDA emulation, tests only): what nvcc gives a .cu file, for the
 * same kernels/<op>_cuda.cu compiled as host C++ by g++ (force-included with -include):
 *  - __global__ / __device__ / __forceinline__ / __restrict__; __shared__ as per-OS-thread static
 *    storage (blocks run on different OS threads, the threads of one block on one OS thread);
 *  - threadIdx, blockIdx, blockDim, gridDim (x, y, z), set by the emulated launch;
 *  - __syncthreads (cooperative fibers, see cuda_emu_runtime.cpp) and the math the kernels use;
 *  - pcavs_emu::make_launch, behind PCAVS_LAUNCH (kernels/cuda_launch.h): checks the launch
 *    configuration and every pointer argument, captures the arguments by value and queues the
 *    launch on its stream (it runs at the next synchronisation, as on a GPU);
 *  - warp intrinsics, atomics, fences and clocks are refused at compile time (static_assert naming
 *    the feature), never emulated silently wrong. */
#ifndef PCAVS_CUDA_EMU_DEVICE_H
#define PCAVS_CUDA_EMU_DEVICE_H

#ifndef __cplusplus
#error "pcavs_cuda_emu_device.h is for .cu files compiled as C++"
#endif

#include <math.h>

#include <cmath>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_runtime_api.h"

#ifndef PCAVS_CUDA_EMU
#define PCAVS_CUDA_EMU 1 /* kernels/cuda_launch.h: the emulated launch */
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
/* one copy per OS thread: the block running on that thread; `extern __shared__` (dynamic shared
 * memory) does not compile ("conflicting specifiers"): it is not supported. */
#define __shared__ static __thread

namespace pcavs_emu {
struct idx3 {
    unsigned int x, y, z;
    operator dim3() const { return dim3(x, y, z); }
};
} // namespace pcavs_emu

/* initial-exec: a plain %fs-relative access in position-independent code too (no __tls_get_addr call
 * per read of threadIdx); the four are 48 bytes of static TLS */
#define PCAVS_EMU_TLS __attribute__((tls_model("initial-exec")))
extern __thread pcavs_emu::idx3 threadIdx PCAVS_EMU_TLS, blockIdx PCAVS_EMU_TLS, blockDim PCAVS_EMU_TLS,
    gridDim PCAVS_EMU_TLS;

/* Block barrier: the threads of the block run as fibers and all reach it before any goes on. */
void __syncthreads(void);

/* ---- math (host libm; the GPU's own approximations of expf/rsqrtf are not reproduced) ---- */
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
/* the _rn intrinsics are never contracted into an FMA: computed through volatile stores */
static inline float __fmul_rn(float a, float b) {
    volatile float r = a * b;
    return r;
}
static inline float __fadd_rn(float a, float b) {
    volatile float r = a + b;
    return r;
}
static inline float __fsub_rn(float a, float b) {
    volatile float r = a - b;
    return r;
}
static inline float __fdiv_rn(float a, float b) {
    volatile float r = a / b;
    return r;
}
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __frcp_rn(float a) {
    volatile float r = 1.0f / a;
    return r;
}
static inline float __fsqrt_rn(float a) { return sqrtf(a); }
static inline float __saturatef(float a) { return a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a); }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline long max(long a, long b) { return a > b ? a : b; }
static inline long min(long a, long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline float min(float a, float b) { return fminf(a, b); }
template <class T> static inline T __ldg(const T *p) { return *p; }

/* ---- refused: a kernel that uses one of these does not compile in the emulated build ---- */
namespace pcavs_emu {
template <class... A> struct never : std::false_type {};
} // namespace pcavs_emu
#define PCAVS_EMU_REFUSE(name, what)                                                                                   \
    template <class... A> static inline int name(A...) {                                                               \
        static_assert(pcavs_emu::never<A...>::value,                                                                   \
                      "the pcavs CUDA emulation does not support " what " (" #name "): see docs/cuda_emulation.md");   \
        return 0;                                                                                                      \
    }
PCAVS_EMU_REFUSE(__shfl_sync, "warp shuffles")
PCAVS_EMU_REFUSE(__shfl_up_sync, "warp shuffles")
PCAVS_EMU_REFUSE(__shfl_down_sync, "warp shuffles")
PCAVS_EMU_REFUSE(__shfl_xor_sync, "warp shuffles")
PCAVS_EMU_REFUSE(__ballot_sync, "warp votes")
PCAVS_EMU_REFUSE(__any_sync, "warp votes")
PCAVS_EMU_REFUSE(__all_sync, "warp votes")
PCAVS_EMU_REFUSE(__match_any_sync, "warp votes")
PCAVS_EMU_REFUSE(__reduce_add_sync, "warp reductions")
PCAVS_EMU_REFUSE(__syncwarp, "warp synchronisation")
PCAVS_EMU_REFUSE(__activemask, "warp masks")
PCAVS_EMU_REFUSE(atomicAdd, "atomics")
PCAVS_EMU_REFUSE(atomicSub, "atomics")
PCAVS_EMU_REFUSE(atomicMax, "atomics")
PCAVS_EMU_REFUSE(atomicMin, "atomics")
PCAVS_EMU_REFUSE(atomicExch, "atomics")
PCAVS_EMU_REFUSE(atomicCAS, "atomics")
PCAVS_EMU_REFUSE(atomicAnd, "atomics")
PCAVS_EMU_REFUSE(atomicOr, "atomics")
PCAVS_EMU_REFUSE(atomicXor, "atomics")
PCAVS_EMU_REFUSE(atomicInc, "atomics")
PCAVS_EMU_REFUSE(__threadfence, "memory fences between blocks")
PCAVS_EMU_REFUSE(__threadfence_block, "memory fences")
PCAVS_EMU_REFUSE(clock64, "device clocks")
PCAVS_EMU_REFUSE(__syncthreads_count, "barrier reductions")
PCAVS_EMU_REFUSE(__syncthreads_or, "barrier reductions")
PCAVS_EMU_REFUSE(__syncthreads_and, "barrier reductions")
#undef PCAVS_EMU_REFUSE

/* ---- launches ---- */
namespace pcavs_emu {

struct launch_cfg {
    const char *name; /* the kernel's name as written at the launch */
    const void *fn;   /* identifies the kernel */
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
};

/* One launch's kernel and arguments (captured by value); run() calls the kernel once for the
 * thread whose threadIdx/blockIdx the runtime has set. */
struct kernel_body {
    virtual ~kernel_body() {}
    virtual void run() = 0;
};

/* cuda_emu_runtime.cpp: false (and the launch's error set for cudaGetLastError) when the
 * configuration or a pointer argument is refused. */
bool launch_begin(const launch_cfg &c);
bool launch_check_pointer(const launch_cfg &c, int index, const void *p);
void launch_submit(const launch_cfg &c, std::shared_ptr<kernel_body> body);

template <class... P> struct bound_kernel : kernel_body {
    void (*k)(P...);
    std::tuple<typename std::decay<P>::type...> args;
    bound_kernel(void (*kk)(P...), P... a) : k(kk), args(a...) {}
    void run() override { std::apply(k, args); }
};

template <class T> inline bool check_arg(const launch_cfg &c, int index, const T &v) {
    if constexpr (std::is_pointer<T>::value)
        return launch_check_pointer(c, index, (const void *)v);
    else
        return true;
}

template <class... P> struct launch {
    void (*k)(P...);
    launch_cfg cfg;
    /* the arguments convert to the kernel's parameter types as in a call */
    void operator()(P... a) const {
        if (!launch_begin(cfg)) return;
        int index = 0;
        bool ok = true;
        ((ok = ok && check_arg(cfg, index++, a)), ...);
        if (!ok) return;
        launch_submit(cfg, std::make_shared<bound_kernel<P...>>(k, a...));
    }
};

template <class... P>
inline launch<P...> make_launch(void (*k)(P...), const char *name, dim3 grid, dim3 block, size_t smem,
                                cudaStream_t stream) {
    return launch<P...>{k, launch_cfg{name, reinterpret_cast<const void *>(k), grid, block, smem, stream}};
}

} // namespace pcavs_emu

#endif
