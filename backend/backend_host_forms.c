/* backend_host_forms.c: the CPU backends' weight forms and precision modes (backend.h's precision_mode,
 * prepare_conv2d, prepare_modconv, free_prepared). Which form a layer gets is the CPU backend's choice, made here
 * once at model load from the layer's batch-1 descriptor:
 *   modconv, 3x3: the bf16 GEMM form in the bf16 mode where the CPU prefers it (pcavs_modconv_cpu_prefers_bf16),
 *     else the Winograd form where modconv_cpu takes a Winograd path at batch 1 (so at every batch size), else the
 *     tap-GEMM form where it may take the tap path (permuting the weight per call costs what preparing saves);
 *   modconv, demodulated: the per-(o, c) sums of squared taps;
 *   conv2d: the bf16 form of a 3x3 stride-1 pad-1 one-group conv in the bf16 mode where the CPU prefers it.
 * A handle is one pcavs_cpu_weight_forms (kernels/weight_forms.h) whose forms are 64-byte aligned host buffers;
 * the reference backend prepares nothing. No upstream counterpart. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "backend.h"
#include "conv3x3_bf16.h"
#include "gemm_bf16.h"
#include "weight_forms.h"

const char *pcavs_host_precision_mode(pcavs_precision p, const char **why) {
    *why = NULL;
    switch (p) {
    case PCAVS_PRECISION_FP32:
        return "fp32";
    case PCAVS_PRECISION_BF16:
        switch (pcavs_bf16_unit_detect()) {
        case PCAVS_BF16_AMX:
            return "bf16 (AMX-BF16)";
        case PCAVS_BF16_AVX512:
            return "bf16 (AVX512-BF16)";
        default:
            break;
        }
        if (pcavs_bf16_unit_note()[0])
            *why = pcavs_bf16_unit_note();
        else
            *why = "needs AVX512-BF16 or AMX-BF16, which this CPU lacks";
        return NULL;
    case PCAVS_PRECISION_TF32:
        *why = "a CUDA tensor-core mode; the CPU has no TF32 unit";
        return NULL;
    default:
        *why = "unknown precision";
        return NULL;
    }
}

const char *pcavs_ref_precision_mode(pcavs_precision p, const char **why) {
    *why = NULL;
    if (p == PCAVS_PRECISION_FP32) return "fp32";
    *why = "the cpu-ref backend runs float32 only";
    return NULL;
}

/* A form of `bytes` bytes (64-byte aligned, the tail past the form zeroed): NULL with a message when out of memory. */
static void *form_alloc(size_t bytes, size_t used, size_t *total) {
    void *p = pcavs_aligned_alloc(bytes);
    if (!p) {
        pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate %zu bytes for a prepared weight", bytes);
        return NULL;
    }
    if (bytes > used) memset((char *)p + used, 0, bytes - used);
    *total += bytes;
    return p;
}

/* bytes of a bf16 form of `elems` uint16, rounded to whole floats as the float32 forms */
static size_t bf16_bytes(size_t elems) { return (elems + 1) / 2 * sizeof(float); }

static void free_forms(pcavs_cpu_weight_forms *f) {
    pcavs_aligned_free((void *)f->wino);
    pcavs_aligned_free((void *)f->taps);
    pcavs_aligned_free((void *)f->sq);
    pcavs_aligned_free((void *)f->bf16);
    free(f);
}

pcavs_status pcavs_host_prepare_conv2d(const pcavs_kctx *kc, const pcavs_conv2d_desc *d, const float *w,
                                       pcavs_precision p, void **out, size_t *bytes) {
    (void)kc;
    *out = NULL;
    *bytes = 0;
    if (p != PCAVS_PRECISION_BF16 || d->kh != 3 || d->kw != 3 || d->stride_h != 1 || d->stride_w != 1 ||
        d->pad_h != 1 || d->pad_w != 1 || d->groups != 1 || !pcavs_conv2d_cpu_prefers_bf16(d->c_in, d->c_out))
        return PCAVS_OK;
    pcavs_cpu_weight_forms *f = calloc(1, sizeof *f);
    if (!f) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate a conv's weight forms");
    const size_t count = pcavs_bf16_a_elems(d->c_out, d->c_in * 9);
    uint16_t *u = form_alloc(bf16_bytes(count), count * sizeof(uint16_t), bytes);
    if (!u) {
        free_forms(f);
        *bytes = 0;
        return PCAVS_ERR_OOM;
    }
    pcavs_conv3x3_bf16_weight(d->c_out, d->c_in, w, u);
    f->bf16 = u;
    *out = f;
    return PCAVS_OK;
}

pcavs_status pcavs_host_prepare_modconv(const pcavs_kctx *kc, const pcavs_modconv_desc *d, const float *w,
                                        pcavs_precision p, void **out, size_t *bytes) {
    *out = NULL;
    *bytes = 0;
    pcavs_cpu_weight_forms *f = calloc(1, sizeof *f);
    if (!f) return pcavs_fail(PCAVS_ERR_OOM, "model: cannot allocate a layer's weight forms");
    pcavs_status st = PCAVS_OK;
    const int nth = kc->n_threads;
    if (d->k == 3 && p == PCAVS_PRECISION_BF16 && pcavs_modconv_cpu_prefers_bf16(d)) {
        const size_t count = pcavs_modconv_bf16_elems(d);
        uint16_t *u = form_alloc(bf16_bytes(count), count * sizeof(uint16_t), bytes);
        st = u ? pcavs_modconv_prepare_bf16(d, w, u) : PCAVS_ERR_OOM;
        f->bf16 = u;
    } else if (d->k == 3) {
        const int wino = pcavs_modconv_cpu_takes_wino(d);
        if (wino || pcavs_modconv_cpu_takes_taps(d)) {
            const size_t count = wino ? pcavs_modconv_wino_floats(d) : pcavs_modconv_taps_floats(d);
            float *u = form_alloc(count * sizeof(float), count * sizeof(float), bytes);
            if (!u)
                st = PCAVS_ERR_OOM;
            else if (wino)
                st = pcavs_modconv_prepare_wino(d, w, u, nth), f->wino = u;
            else
                st = pcavs_modconv_prepare_taps(d, w, u, nth), f->taps = u;
        }
    }
    if (st == PCAVS_OK && d->demodulate) {
        const size_t count = (size_t)d->c_out * d->c_in;
        float *q = form_alloc(count * sizeof(float), count * sizeof(float), bytes);
        st = q ? pcavs_modconv_prepare_sq(d, w, q) : PCAVS_ERR_OOM;
        f->sq = q;
    }
    if (st != PCAVS_OK || (!f->wino && !f->taps && !f->sq && !f->bf16)) {
        free_forms(f);
        *bytes = 0;
        return st;
    }
    *out = f;
    return PCAVS_OK;
}

void pcavs_host_free_prepared(void *prepared) {
    if (prepared) free_forms(prepared);
}
