/* api_clip.c: the public whole-clip entry points of include/pcavs.h over the pipeline's internals:
 * pcavs_context_render (pipeline/render), the model file's synthetic flag (safetensors metadata), the
 * weight total, and pcavs_process_init (core/cpu_features). The CLIs use only these and the rest of
 * pcavs.h. The clip-alignment functions are declared public in pcavs.h and defined in pipeline/align. */
#include <string.h>

#include "api_internal.h"
#include "cpu_features.h"
#include "pcavs_render.h"
#include "safetensors.h"
#include "status.h"

pcavs_status pcavs_context_render(pcavs_context *ctx, const pcavs_render_params *p, pcavs_progress_fn progress,
                                  void *user, pcavs_render_result *res) {
    PCAVS_TRY(pcavs_api_check_ctx(ctx, "pcavs_context_render"));
    if (!p) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_context_render: params is NULL");
    return pcavs_render_clip(ctx->m, p, progress, user, res);
}

size_t pcavs_context_weight_bytes(const pcavs_context *ctx) {
    if (pcavs_api_check_ctx(ctx, "pcavs_context_weight_bytes") != PCAVS_OK) return 0;
    return pcavs_model_weight_bytes(ctx->m);
}

int pcavs_model_is_synthetic(const char *model_path) {
    if (!model_path) return 0;
    pcavs_st_file *f = NULL;
    if (pcavs_st_open(model_path, &f) != PCAVS_OK) return 0;
    const char *v = pcavs_st_metadata(f, "synthetic");
    const int yes = v && !strcmp(v, "1");
    pcavs_st_close(f);
    return yes;
}

void pcavs_process_init(int argc, char **argv) { pcavs_cpu_init_blas_env(argc, argv); }
