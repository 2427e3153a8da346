/* cuda_emu_internal.h: what the emulated cuBLAS (cuda_emu_cublas.cpp) uses of the emulated CUDA
 * runtime (cuda_emu_runtime.cpp): the registry of device allocations and the stream queues. */
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
} // namespace pcavs_emu

#endif
