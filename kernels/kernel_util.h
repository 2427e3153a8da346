/* kernel_util.h: small helpers the CPU kernels share: OpenMP (the build requires it), rounding a
 * byte count up to the 64-byte alignment of scratch carving, and OpenBLAS run single-threaded
 * inside a region whose threads are our own. */
#ifndef PCAVS_KERNELS_KERNEL_UTIL_H
#define PCAVS_KERNELS_KERNEL_UTIL_H

#include <cblas.h>
#include <omp.h>
#include <stddef.h>

/* bytes rounded up to a multiple of 64 (a cache line; scratch sub-buffers start there). */
#define PCAVS_ALIGN64(bytes) ((((size_t)(bytes)) + 63) / 64 * 64)

/* OpenBLAS's own threads would compete with ours: its calls inside our parallel regions run
 * single-threaded. Returns the previous count for pcavs_blas_threads_restore. */
static inline int pcavs_blas_single_threaded(void) {
    const int prev = openblas_get_num_threads();
    if (prev != 1) openblas_set_num_threads(1);
    return prev;
}

static inline void pcavs_blas_threads_restore(int prev) {
    if (prev != 1) openblas_set_num_threads(prev);
}

#endif
