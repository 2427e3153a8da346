/* cuda_runtime.h (pcavs CUDA emulation, tests only): the runtime API plus, in C++ (the .cu files
 * compiled by g++), the device-side emulation: what nvcc's cuda_runtime.h gives a .cu file. */
#ifndef PCAVS_CUDA_EMU_RUNTIME_H
#define PCAVS_CUDA_EMU_RUNTIME_H

#include "cuda_runtime_api.h"
#ifdef __cplusplus
#include "pcavs_cuda_emu_device.h"
#endif

#endif
