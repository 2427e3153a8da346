/* api_internal.h: the insides of the public handles of pcavs.h (pcavs_context, pcavs_stream) and the
 * handle checks shared by api.c and stream.c. Not installed. */
#ifndef PCAVS_API_INTERNAL_H
#define PCAVS_API_INTERNAL_H

#include <stdint.h>

#include "pcavs.h"
#include "pcavs_model.h"

#define PCAVS_CTX_MAGIC 0x43415650u    /* "PVAC" */
#define PCAVS_STREAM_MAGIC 0x53415650u /* "PVAS" */
#define PCAVS_DEAD_MAGIC 0xDEADF4EEu   /* a freed handle */

struct pcavs_context {
    uint32_t magic;
    pcavs_exec *ex;
    pcavs_model *m;
    int max_batch;
};

/* PCAVS_OK when ctx is a live context; else PCAVS_ERR_INVALID_ARG naming `fn` (NULL, freed, foreign). */
pcavs_status pcavs_api_check_ctx(const pcavs_context *ctx, const char *fn);

/* Releases a handle's shell after its magic was set to PCAVS_DEAD_MAGIC: debug builds
 * (PCAVS_DEBUG_HANDLES) keep it allocated and poisoned so later calls are caught reliably. */
void pcavs_api_release_shell(void *shell);

/* upstream load_img + to_Tensor on one 224x224 RGB crop: out [3, 224, 224]. */
pcavs_status pcavs_api_frame_tensor(const uint8_t *rgb, int width, int height, const char *what, float *out);

#endif
