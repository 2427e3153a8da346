/* backend_host.c: the two host backend tables (reference and optimised CPU) and the
 * completeness check shared by every backend. The CPU table's weight forms and precision modes are in
 * backend_host_forms.c; the reference backend keeps plain weights and runs float32. */
#include <stddef.h>
#include <string.h>

#include "backend.h"
#include "arena.h"

static pcavs_status host_alloc(size_t bytes, void **out) {
    *out = pcavs_aligned_alloc(bytes);
    return *out ? PCAVS_OK : pcavs_fail(PCAVS_ERR_OOM, "cannot allocate %zu bytes", bytes);
}
static void host_free(void *p) { pcavs_aligned_free(p); }
static pcavs_status host_copy(const pcavs_kctx *kc, void *dst, const void *src, size_t bytes) {
    (void)kc;
    if (dst != src && bytes) memcpy(dst, src, bytes);
    return PCAVS_OK;
}
static pcavs_status host_sync(const pcavs_kctx *kc) {
    (void)kc;
    return PCAVS_OK;
}
static pcavs_status pcavs_ref_prepare_conv2d(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *w,
                                             pcavs_precision p, void **out, size_t *bytes) {
    (void)kc, (void)d, (void)w, (void)p;
    *out = NULL;
    *bytes = 0;
    return PCAVS_OK;
}
static pcavs_status pcavs_ref_prepare_modconv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *w,
                                              pcavs_precision p, void **out, size_t *bytes) {
    (void)kc, (void)d, (void)w, (void)p;
    *out = NULL;
    *bytes = 0;
    return PCAVS_OK;
}
static void pcavs_ref_free_prepared(void *prepared) { (void)prepared; }

#define PCAVS_HOST_TABLE(sfx, label, per_sample, forms)                                                                \
    {                                                                                                                  \
        .name = label, .on_device = 0, .per_sample_large_maps = per_sample,                                            \
        .precision_mode = pcavs_##forms##_precision_mode, .prepare_conv2d = pcavs_##forms##_prepare_conv2d,            \
        .prepare_modconv = pcavs_##forms##_prepare_modconv, .free_prepared = pcavs_##forms##_free_prepared,            \
        .mem_alloc = host_alloc, .mem_free = host_free, .to_device = host_copy, .to_host = host_copy,                  \
        .sync = host_sync, .conv2d = pcavs_conv2d_##sfx, .conv_transpose2d = pcavs_conv_transpose2d_##sfx,             \
        .linear = pcavs_linear_##sfx, .batchnorm = pcavs_batchnorm_##sfx, .relu = pcavs_relu_##sfx,                    \
        .sigmoid = pcavs_sigmoid_##sfx, .tanh_ = pcavs_tanh_##sfx, .fused_lrelu = pcavs_fused_lrelu_##sfx,             \
        .noise_inject = pcavs_noise_inject_##sfx, .softmax = pcavs_softmax_##sfx, .maxpool2d = pcavs_maxpool2d_##sfx,  \
        .global_avgpool = pcavs_global_avgpool_##sfx, .adaptive_avgpool = pcavs_adaptive_avgpool_##sfx,                \
        .bilinear = pcavs_bilinear_##sfx, .add = pcavs_add_##sfx, .mul = pcavs_mul_##sfx,                              \
        .concat = pcavs_concat_##sfx, .upfirdn2d = pcavs_upfirdn2d_##sfx, .modconv = pcavs_modconv_##sfx,              \
        .modconv_demod = pcavs_modconv_demod_##sfx,                                                                    \
    }

/* the reference backend: batches whole (it is the truth, not tuned), plain weights, float32 */
const pcavs_backend pcavs_backend_ref = PCAVS_HOST_TABLE(ref, "cpu-ref", 0, ref);
/* the CPU: the generator's last step sample by sample (each sample's maps stay in L3), its own weight forms */
const pcavs_backend pcavs_backend_cpu = PCAVS_HOST_TABLE(cpu, "cpu", 1, host);

pcavs_status pcavs_backend_check(const pcavs_backend *be) {
    if (!be->precision_mode || !be->prepare_conv2d || !be->prepare_modconv || !be->free_prepared)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "backend '%s' lacks a precision or weight-form slot", be->name);
    /* Every member after the name and flag is a function pointer: walk them. */
    typedef void (*any_fn)(void);
    const unsigned char *base = (const unsigned char *)be;
    size_t first = offsetof(pcavs_backend, mem_alloc);
    for (size_t off = first; off + sizeof(any_fn) <= sizeof *be; off += sizeof(any_fn)) {
        any_fn f;
        memcpy(&f, base + off, sizeof f);
        if (!f)
            return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "backend '%s' lacks an operator (slot %zu)", be->name,
                              (off - first) / sizeof(any_fn));
    }
    return PCAVS_OK;
}
