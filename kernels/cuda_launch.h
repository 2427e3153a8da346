/* cuda_launch.h: the one kernel-launch form of every kernels/<op>_cuda.cu, so the same sources build
 * with nvcc and with the host emulation of tests/cuda_emu/ (g++ cannot parse <<< >>>):
 *   PCAVS_LAUNCH(kernel, grid, block, smem, stream)(args...)
 * is kernel<<<grid, block, smem, stream>>>(args...) under nvcc; under the emulation
 * (PCAVS_CUDA_EMU) a checked launch queued on the stream (tests/cuda_emu/include/pcavs_cuda_emu_device.h),
 * named by the kernel's name. Errors surface through cudaGetLastError as with <<< >>>. */
#ifndef PCAVS_KERNELS_CUDA_LAUNCH_H
#define PCAVS_KERNELS_CUDA_LAUNCH_H

#ifdef PCAVS_CUDA_EMU
#define PCAVS_LAUNCH(kernel, grid, block, smem, stream)                                                                \
    pcavs_emu::make_launch(kernel, #kernel, (grid), (block), (smem), (stream))
#else
#define PCAVS_LAUNCH(kernel, grid, block, smem, stream) kernel<<<(grid), (block), (smem), (stream)>>>
#endif

#endif
