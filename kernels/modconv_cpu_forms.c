/* modconv_cpu_forms.c: the CPU modulated convolution's prepared weight forms (done once at model load): the
 * taps-outermost weight, the per-(o, c) sums of squared taps for demod, and the Winograd-transformed weight. */
#include "kernel_util.h"

#include "cpu_features.h"
#include "modconv_cpu_internal.h"
#include "winograd.h"
#include "winograd_up.h"

/* wp [c_out, kk, c_in] = the weight [c_out, c_in, kk] with taps outermost per output channel */
void pcavs_mc_permute_taps(const pcavs_modconv_desc *d, const float *weight, float *wp, int n_threads) {
    const int ci_n = d->c_in, kk = d->k * d->k;
#pragma omp parallel for num_threads(n_threads < 1 ? 1 : n_threads) schedule(static)
    for (int o = 0; o < d->c_out; o++)
        for (int c = 0; c < ci_n; c++) {
            const float *src = weight + ((size_t)o * ci_n + c) * kk;
            float *dst = wp + (size_t)o * kk * ci_n + c;
            for (int t = 0; t < kk; t++) dst[(size_t)t * ci_n] = src[t];
        }
}

size_t pcavs_modconv_taps_floats(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k == 1) return 0;
    return (size_t)d->c_out * d->k * d->k * d->c_in;
}

pcavs_status pcavs_modconv_prepare_taps(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_taps: NULL pointer");
    if (d->k == 1) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_taps: a 1x1 layer has no tap form");
    pcavs_mc_permute_taps(d, weight, out, n_threads);
    return PCAVS_OK;
}

pcavs_status pcavs_modconv_prepare_sq(const pcavs_modconv_desc *d, const float *weight, float *out) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_sq: NULL pointer");
    const size_t kk = (size_t)d->k * d->k;
    for (size_t oc = 0; oc < (size_t)d->c_out * d->c_in; oc++) { /* the same sum, same order, as per call */
        float q = 0.0f;
        for (size_t t = 0; t < kk; t++) q += weight[oc * kk + t] * weight[oc * kk + t];
        out[oc] = q;
    }
    return PCAVS_OK;
}

/* The plain layer's Winograd tile: F(6x6, 3x3) on AVX-512 CPUs up to MC_WINO6_MAX_C_IN input channels, where its
 * error stays within the single-op bound with room (test_winograd: 4.5e-6 at 128, 6.2e-6 at 256 channels; a
 * float32 model of it gives ~9e-6 at 512), else F(4x4, 3x3). It pays at 128 and 256 channels; at 512 its 64
 * weight matrices (67 MB) are too much to stream per call (docs/bench/tuning.md). AVX-512 only: its stride-6
 * gather is shuffles that the other clones would do element by element. The same for every batch, so that a
 * weight prepared at load serves them all. */
#define MC_WINO6_MAX_C_IN 256
int pcavs_mc_wino_tile(const pcavs_modconv_desc *d) {
    return pcavs_cpu_detect().avx512f && d->c_in <= MC_WINO6_MAX_C_IN ? 6 : 4;
}

size_t pcavs_modconv_wino_floats(const pcavs_modconv_desc *d) {
    if (pcavs_modconv_check(d) != PCAVS_OK || d->k != 3) return 0;
    const int pts = d->upsample                  ? PCAVS_WINO_UP_U_MATS
                    : pcavs_mc_wino_tile(d) == 6 ? PCAVS_WINO6_POINTS
                                                 : PCAVS_WINO_POINTS;
    return (size_t)pts * d->c_out * d->c_in;
}

pcavs_status pcavs_modconv_prepare_wino(const pcavs_modconv_desc *d, const float *weight, float *out, int n_threads) {
    PCAVS_TRY(pcavs_modconv_check(d));
    if (!weight || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_wino: NULL pointer");
    if (d->k != 3) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "modconv_prepare_wino: only 3x3 layers (k=%d)", d->k);
    if (d->upsample)
        pcavs_wino_up_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    else if (pcavs_mc_wino_tile(d) == 6)
        pcavs_wino6_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    else
        pcavs_wino_weight(d->c_out, d->c_in, weight, 1.0f, out, n_threads);
    return PCAVS_OK;
}
