/* cuda_emu_internal.h: what the emulated cuBLAS (cuda_emu_cublas.cpp) and launches
 * (cuda_emu_launch.cpp) use of the emulated CUDA runtime (cuda_emu_runtime.cpp): the registry of
 * device allocations, the stream queues, the error state. */
#ifndef PCAVS_CUDA_EMU_INTERNAL_H
#define PCAVS_CUDA_EMU_INTERNAL_H

#include <functional>

#include "cuda_runtime_api.h"

namespace pcavs_emu {
/* 1 when [p, p + bytes) lies inside one live device allocation. */
bool device_range(const void *p, size_t bytes);
/* 1 when p is a live stream (or the NULL stream). */
bool stream_valid(cudaStream_t s);
/* Queues work on a stream: it runs at the next synchronisation point. */
void enqueue(cudaStream_t s, std::function<void()> work);
/* The sticky error (cudaSuccess when none). */
cudaError_t sticky_error(void);
/* After work that wrote through p: a sticky error naming `who` if it wrote just outside p's allocation. */
void check_after(const void *p, const char *who);

/* For the launches (cuda_emu_launch.cpp): */
/* Reads the emulation's environment once (memory cap, protection, fault handler). */
void init(void);
/* A launch / call error: returned, reported by cudaGetLastError, its message by cudaGetErrorString. */
cudaError_t fail(cudaError_t e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error while executing queued work: sticky, as a fault on a GPU. */
void fail_sticky(cudaError_t e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void set_last_error(cudaError_t e);
/* The kernel running now (named in fault reports), or NULL. */
void set_running_kernel(const char *name);
/* The start of the live device allocation containing p, or NULL. */
const void *alloc_base_of(const void *p);
/* A sticky error naming `who` if the bytes just around the allocation at base were written. */
void check_canary_of(const void *base, const char *who);
} // namespace pcavs_emu

#endif
