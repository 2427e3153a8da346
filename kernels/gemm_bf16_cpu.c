/* gemm_bf16_cpu.c: picks the bf16 unit (AMX, AVX512-BF16 or none) once and dispatches the bf16 GEMM and
 * the B packing to it (gemm_bf16.h). AMX needs the kernel's permission for the tile state
 * (arch_prctl ARCH_REQ_XCOMP_PERM, Linux >= 5.16); refused, the AVX512-BF16 kernel is used where it is
 * measurably faster than FP32 (pcavs_bf16_avx512_speedup). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include "cpu_features.h"
#include "gemm_bf16.h"

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static char g_note[160];

static pcavs_bf16_unit bf16_probe(void) {
    pcavs_bf16_unit best = PCAVS_BF16_NONE;
#if PCAVS_X86
    const pcavs_cpu_features f = pcavs_cpu_detect(); /* under $PCAVS_CPU_CAP: below avx512 no unit */
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_bf16) best = PCAVS_BF16_AVX512;
#if defined(__linux__) && defined(SYS_arch_prctl)
    if (best == PCAVS_BF16_AVX512 && f.amx_bf16 &&
        syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0)
        best = PCAVS_BF16_AMX;
#endif
#endif
    const char *cap = getenv("PCAVS_BF16_UNIT");
    if (cap && !strcmp(cap, "none")) return PCAVS_BF16_NONE;
    if (cap && !strcmp(cap, "avx512") && best != PCAVS_BF16_NONE) return PCAVS_BF16_AVX512;
    if (cap && !strcmp(cap, "noamx") && best == PCAVS_BF16_AMX)
        best = PCAVS_BF16_AVX512; /* as on a CPU without AMX: the speed check below decides */
#if PCAVS_X86
    if (best == PCAVS_BF16_AVX512) { /* without AMX: only where VDPBF16PS beats FP32 FMA */
        const double r = pcavs_bf16_avx512_speedup();
        if (r < 1.25) {
            snprintf(g_note, sizeof g_note,
                     "this CPU's AVX512-BF16 multiply-adds at %.2fx its FP32 FMA rate (measured), no gain", r);
            best = PCAVS_BF16_NONE;
        }
    }
#endif
    return best;
}

const char *pcavs_bf16_unit_note(void) {
    (void)pcavs_bf16_unit_detect();
    return g_note;
}

pcavs_bf16_unit pcavs_bf16_unit_detect(void) {
    static int probed = 0;
    static pcavs_bf16_unit unit = PCAVS_BF16_NONE;
    if (!probed) { /* idempotent: a race only repeats the probe */
        unit = bf16_probe();
        probed = 1;
    }
    return unit;
}

const char *pcavs_bf16_unit_name(pcavs_bf16_unit u) {
    switch (u) {
    case PCAVS_BF16_AMX:
        return "AMX-BF16";
    case PCAVS_BF16_AVX512:
        return "AVX512-BF16";
    default:
        return "none";
    }
}

void pcavs_bf16_pack_b_cpu(int k, long n, const float *b, long ldb, uint16_t *out) {
#if PCAVS_X86
    if (pcavs_bf16_unit_detect() != PCAVS_BF16_NONE)
        pcavs_bf16_pack_b_avx512(k, n, b, ldb, out);
    else
#endif
        pcavs_bf16_pack_b_ref(k, n, b, ldb, out);
}

void pcavs_bf16_plane_cpu(const float *x, float s, int h, int w, int pad, int rows, long ls, uint16_t *out) {
#if PCAVS_X86
    if (pcavs_bf16_unit_detect() != PCAVS_BF16_NONE)
        pcavs_bf16_plane_avx512(x, s, h, w, pad, rows, ls, out);
    else
#endif
        pcavs_bf16_plane_ref(x, s, h, w, pad, rows, ls, out);
}

void pcavs_bf16_plane_pair_cpu(const float *x0, float s0, const float *x1, float s1, int h, int w, int pad, int rows,
                               long ls, uint16_t *out) {
#if PCAVS_X86
    if (pcavs_bf16_unit_detect() != PCAVS_BF16_NONE)
        pcavs_bf16_plane_pair_avx512(x0, s0, x1, s1, h, w, pad, rows, ls, out);
    else
#endif
        pcavs_bf16_plane_pair_ref(x0, s0, x1, s1, h, w, pad, rows, ls, out);
}

void pcavs_bf16_pack_b_taps_cpu(int k, long n, const uint16_t *src, const long *off, int gwp, long ls, uint16_t *out) {
#if PCAVS_X86
    if (pcavs_bf16_unit_detect() != PCAVS_BF16_NONE)
        pcavs_bf16_pack_b_taps_avx512(k, n, src, off, gwp, ls, out);
    else
#endif
        pcavs_bf16_pack_b_taps_ref(k, n, src, off, gwp, ls, out);
}

pcavs_status pcavs_gemm_bf16_cpu(int m, long n, int k, const uint16_t *a, const uint16_t *b, float *c, long ldc) {
    if (m < 1 || n < 1 || k < 1 || !a || !b || !c)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "gemm_bf16_cpu: bad arguments (m=%d n=%ld k=%d)", m, n, k);
    switch (pcavs_bf16_unit_detect()) {
#if PCAVS_X86
    case PCAVS_BF16_AMX:
        pcavs_gemm_bf16_amx(m, n, k, a, b, c, ldc);
        return PCAVS_OK;
    case PCAVS_BF16_AVX512:
        pcavs_gemm_bf16_avx512(m, n, k, a, b, c, ldc);
        return PCAVS_OK;
#endif
    default:
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED,
                          "gemm_bf16_cpu: this CPU has no bf16 dot-product unit (needs AVX512-BF16 or AMX-BF16)");
    }
}

#if !PCAVS_X86
/* The AMX form is built for x86 only; elsewhere pcavs_bf16_unit_detect() is PCAVS_BF16_NONE, so
 * pcavs_conv_bf16_amx_applies() is 0 and its callers never reach this. */
void pcavs_conv_bf16_amx(int m, int c_in, int ntaps, const uint16_t *a, const uint16_t *pl, long pair_plane,
                         const long *tap_off, long ls, int gwp, long ncol, float *c, long ldc) {
    (void)m, (void)c_in, (void)ntaps, (void)a, (void)pl, (void)pair_plane, (void)tap_off, (void)ls, (void)gwp;
    (void)ncol, (void)c, (void)ldc;
}
#endif
