/* backend_cuda.c: the CUDA backend table. Filled by the CUDA backend work (issue 6); until
 * every slot has a kernel, asking for CUDA is a clear error rather than a partial backend. */
#include "backend.h"

const pcavs_backend *pcavs_backend_cuda(void) {
    pcavs_fail(PCAVS_ERR_UNSUPPORTED, "the CUDA backend is not complete in this build");
    return NULL;
}
