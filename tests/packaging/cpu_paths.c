/* cpu_paths.c: prints which run-time paths this process takes (the CPU features found, the $PCAVS_CPU_CAP
 * cap, the SIMD clone level, sgemm_nn's form, the Winograd tile, the activation spans, the bf16 unit, the
 * OpenBLAS core, how many OpenMP threads ran one parallel region) and checks that none is above the cap.
 * Run before each capped test (tests/packaging/tests.cmake) so that its log says what that run exercised.
 * Usage: cpu_paths [EXPECTED_CAP] */
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cpu_features.h"
#include "gemm_bf16.h"
#include "sgemm_nn.h"
#include "test_util.h"

int main(int argc, char **argv) {
    const char *want_cap = argc > 1 ? argv[1] : NULL;
    char line[512];
    printf("cpu: %s\n", pcavs_cpu_describe(line, sizeof line));
    const pcavs_cpu_features f = pcavs_cpu_detect();
    const int level = pcavs_cpu_simd_level();
    const char *sgemm = pcavs_sgemm_nn_form();
    const char *bf16 = pcavs_bf16_unit_name(pcavs_bf16_unit_detect());
    const char *blas = pcavs_cpu_blas_core_in_use();
    printf("paths: simd clones %s, sgemm_nn %s, winograd tile %s, activation spans %s, bf16 unit %s%s%s, "
           "OpenBLAS core %s\n",
           level == PCAVS_CPU_AVX512 ? "x86-64-v4"
           : level == PCAVS_CPU_AVX2 ? "x86-64-v3"
                                     : "baseline",
           sgemm, f.avx512f ? "F(6x6) up to 256 channels, F(4x4) above" : "F(4x4)",
           PCAVS_X86 && f.avx2 && f.fma ? "avx2" : "libm", bf16, *pcavs_bf16_unit_note() ? ": " : "",
           pcavs_bf16_unit_note(), blas);
    int ran = 0;
#pragma omp parallel reduction(+ : ran)
    ran += 1;
    printf("threads: %d OpenMP threads ran a parallel region (max %d)\n", ran, omp_get_max_threads());
    if (!want_cap) return 0;
    pt_check(!strcmp(pcavs_cpu_cap_name(), want_cap), "cap in force %s, asked %s", pcavs_cpu_cap_name(), want_cap);
    int max_level = !strcmp(want_cap, "baseline") ? PCAVS_CPU_BASELINE
                    : !strcmp(want_cap, "avx2")   ? PCAVS_CPU_AVX2
                                                  : PCAVS_CPU_AVX512;
    pt_check(level <= max_level, "simd clone level %d <= %d (the cap's)", level, max_level);
    if (max_level < PCAVS_CPU_AVX512) {
        pt_check(!strcmp(sgemm, "blas"), "sgemm_nn form %s below avx512 (want blas)", sgemm);
        pt_check(!strcmp(bf16, "none"), "bf16 unit %s below avx512 (want none)", bf16);
        pt_check(!f.avx512f && !f.avx512_bf16 && !f.amx_bf16, "no AVX-512 feature reported under the cap");
        /* OpenBLAS reads OPENBLAS_CORETYPE at load; tests.cmake sets it with the cap */
        pt_check(strcasecmp(blas, "SkylakeX") && strcasecmp(blas, "Cooperlake") && strcasecmp(blas, "SapphireRapids"),
                 "OpenBLAS core %s is not an AVX-512 one", blas);
    }
    if (max_level < PCAVS_CPU_AVX2) {
        pt_check(!f.avx2 && !f.fma, "no AVX2/FMA reported under the cap");
        pt_check(strcasecmp(blas, "Haswell") && strcasecmp(blas, "Zen"), "OpenBLAS core %s is not an AVX2 one", blas);
    }
    return pt_finish();
}
