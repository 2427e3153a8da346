/* kctx.h: what every kernel receives besides its operands: threads, a capped scratch area,
 * and (for CUDA) the stream and library handles. Kernels depend only on this header, the
 * public pcavs.h and core/status.h; they never allocate per call: temporary buffers come
 * from `scratch` (host memory for _ref/_cpu, device memory for _cuda), which a kernel may use
 * freely for the duration of one call. A kernel that needs more than `scratch_bytes` tiles
 * its work or fails with PCAVS_ERR_OOM and a message naming the op and the size.
 *
 * All tensors are float32, NCHW, contiguous, in PyTorch's layout; pointers are host memory
 * for _ref/_cpu and device memory for _cuda. Unless a header says otherwise, `y` must not
 * alias an input. */
#ifndef PCAVS_KERNELS_KCTX_H
#define PCAVS_KERNELS_KCTX_H

#include <stddef.h>

#include "pcavs.h"
#include "status.h"

typedef struct pcavs_kctx {
    int n_threads; /* >= 1 */
    void *scratch; /* 64-byte aligned */
    size_t scratch_bytes;
    void *cuda_stream; /* cudaStream_t for _cuda kernels, NULL otherwise */
    void *cublas;      /* cublasHandle_t for _cuda kernels, NULL otherwise */
    /* the context's settled precision (pcavs_exec_create sets it before the backend's kctx_init; 0 = float32):
     * modconv_cuda runs its GEMMs with the matching cuBLAS compute type (TF32 or BF16 tensor cores; every other
     * _cuda op stays float32); _cpu and _ref ignore it (the CPU's bf16 mode comes in prepared weight forms). */
    pcavs_precision precision;
} pcavs_kctx;

/* Fused activation applied to an op's output where a header offers `act`. */
typedef enum pcavs_act { PCAVS_ACT_NONE = 0, PCAVS_ACT_RELU = 1 } pcavs_act;

#endif
