/* backend_nocuda.c: the CUDA slot in a build without CUDA: asking for it is a clear error. */
#include "backend.h"

const pcavs_backend *pcavs_backend_cuda(void) {
    pcavs_fail(PCAVS_ERR_UNSUPPORTED, "this build of pcavs has no CUDA backend (configure with -DPCAVS_CUDA=ON)");
    return NULL;
}
