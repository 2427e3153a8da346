/* backend.h: the table of kernels a context runs on, chosen once when the context is created.
 * Every slot must be filled: pcavs_backend_check() refuses a table with a missing op at
 * creation time, so there is never a silent fallback to a slower or different path.
 * Memory slots move data between host and the backend's memory (identity copies on CPU).
 * The networks never ask which backend runs: what differs between backends is said here, as
 * properties (precision_mode, per_sample_large_maps) and as weight forms the backend prepares
 * itself (prepare_conv2d, prepare_modconv), opaque to the networks. */
#ifndef PCAVS_ENGINE_BACKEND_H
#define PCAVS_ENGINE_BACKEND_H

#include "activation.h"
#include "batchnorm.h"
#include "bilinear.h"
#include "binary.h"
#include "concat.h"
#include "conv2d.h"
#include "conv_transpose2d.h"
#include "linear.h"
#include "modconv.h"
#include "pool.h"
#include "softmax.h"
#include "upfirdn2d.h"

typedef pcavs_status (*pcavs_unary_fn)(const pcavs_kctx *, size_t, const float *, float *);
typedef pcavs_status (*pcavs_binary_fn)(const pcavs_kctx *, const int[4], const float *, const int[4], const float *,
                                        pcavs_act, float *);

typedef struct pcavs_backend {
    const char *name;
    int on_device; /* 1: operands live in device memory */
    /* 1: a network step on feature maps too large for a cache runs sample by sample rather than as one batch
     * (a CPU, whose L3 holds one sample's maps but not a batch's); 0: whole batches (a GPU). */
    int per_sample_large_maps;

    /* optional per-context hooks (NULL for host backends; placed before mem_alloc so that
     * pcavs_backend_check, which walks the slots from mem_alloc on, does not require them):
     * kctx_init creates the backend's stream and library handles in kc (cuda_stream, cublas),
     * kctx_free releases them (and leaves kc's handles NULL). Called by pcavs_exec_create/_free. */
    pcavs_status (*kctx_init)(pcavs_kctx *kc);
    void (*kctx_free)(pcavs_kctx *kc);

    /* Required slots before mem_alloc (pcavs_backend_check refuses a table without them):
     * precision_mode: the name of the mode in which this backend runs precision p ("fp32", "bf16 (AMX-BF16)",
     * "tf32 (tensor cores)"), or NULL when it cannot run p, with *why saying why (pcavs_exec_create then runs
     * float32 and logs it). Called before kctx_init; kctx_init reads the settled precision from kc->precision. */
    const char *(*precision_mode)(pcavs_precision p, const char **why);
    /* Weight forms (a backend owns them): a layer's weight w (host memory, PyTorch layout, any BatchNorm folded)
     * in the forms this backend's operator reads besides the plain weight, prepared once at model load for the
     * layer's batch-1 descriptor d and the precision p the network allows the layer (its exec precision or
     * float32). *out: an opaque handle the caller passes back as the descriptor's `prepared` on every call of
     * that layer, or NULL where the backend keeps the plain weight only; *bytes: the memory it holds.
     * free_prepared releases a non-NULL handle. */
    pcavs_status (*prepare_conv2d)(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *w, pcavs_precision p,
                                   void **out, size_t *bytes);
    pcavs_status (*prepare_modconv)(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *w,
                                    pcavs_precision p, void **out, size_t *bytes);
    void (*free_prepared)(void *prepared);

    /* memory */
    pcavs_status (*mem_alloc)(size_t bytes, void **out);
    void (*mem_free)(void *p);
    pcavs_status (*to_device)(const pcavs_kctx *kc, void *dst, const void *src, size_t bytes);
    pcavs_status (*to_host)(const pcavs_kctx *kc, void *dst, const void *src, size_t bytes);
    pcavs_status (*sync)(const pcavs_kctx *kc);

    /* operators */
    pcavs_status (*conv2d)(const pcavs_kctx *, const pcavs_conv2d_desc *, const float *, const float *, const float *,
                           float *);
    pcavs_status (*conv_transpose2d)(const pcavs_kctx *, const pcavs_conv_transpose2d_desc *, const float *,
                                     const float *, const float *, float *);
    pcavs_status (*linear)(const pcavs_kctx *, int, int, int, const float *, const float *, const float *, pcavs_act,
                           float *);
    pcavs_status (*batchnorm)(const pcavs_kctx *, int, int, int, const float *, const float *, const float *, pcavs_act,
                              float *);
    pcavs_unary_fn relu, sigmoid, tanh_;
    pcavs_status (*fused_lrelu)(const pcavs_kctx *, int, int, int, const float *, const float *, const float *, float,
                                float *);
    pcavs_status (*noise_inject)(const pcavs_kctx *, int, int, int, const float *, const float *, float, float *);
    pcavs_status (*softmax)(const pcavs_kctx *, int, int, int, const float *, float *);
    pcavs_status (*maxpool2d)(const pcavs_kctx *, const pcavs_maxpool2d_desc *, const float *, float *);
    pcavs_status (*global_avgpool)(const pcavs_kctx *, int, int, const float *, float *);
    pcavs_status (*adaptive_avgpool)(const pcavs_kctx *, int, int, int, int, int, const float *, float *);
    pcavs_status (*bilinear)(const pcavs_kctx *, int, int, int, int, int, const float *, float *);
    pcavs_binary_fn add, mul;
    pcavs_status (*concat)(const pcavs_kctx *, int, int, const float *const *, const int *, int, float *);
    pcavs_status (*upfirdn2d)(const pcavs_kctx *, const pcavs_upfirdn2d_desc *, const float *, const float *, float *);
    pcavs_status (*modconv)(const pcavs_kctx *, const pcavs_modconv_desc *, const float *, const float *, const float *,
                            const float *, float *);
    pcavs_status (*modconv_demod)(const pcavs_kctx *, const pcavs_modconv_desc *, const float *, const float *,
                                  float *);
} pcavs_backend;

extern const pcavs_backend pcavs_backend_ref; /* naive loops: the truth */
extern const pcavs_backend pcavs_backend_cpu; /* OpenBLAS + SIMD + OpenMP */
/* The CUDA table, or NULL (with a message) when this build has no CUDA or no GPU is present. */
const pcavs_backend *pcavs_backend_cuda(void);

/* The CPU backend's slots for weight forms and precision (backend_host_forms.c). */
const char *pcavs_host_precision_mode(pcavs_precision p, const char **why);
const char *pcavs_ref_precision_mode(pcavs_precision p, const char **why);
pcavs_status pcavs_host_prepare_conv2d(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *w,
                                       pcavs_precision p, void **out, size_t *bytes);
pcavs_status pcavs_host_prepare_modconv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *w,
                                        pcavs_precision p, void **out, size_t *bytes);
void pcavs_host_free_prepared(void *prepared);

/* Fails naming the first empty slot. */
pcavs_status pcavs_backend_check(const pcavs_backend *be);

#endif
