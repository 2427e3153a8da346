/* cpu_features.h: what the CPU can do, on any architecture (x86-64: AVX2, FMA, AVX-512, AVX512-BF16, AMX;
 * aarch64: NEON/ASIMD, dot product, BF16, SVE), the cap a user or test puts on it, and deliberate OpenBLAS
 * core selection.
 *
 * The cap: $PCAVS_CPU_CAP = baseline | avx2 | avx512 | native (default) makes every run-time choice
 * (sgemm_nn's AVX-512 form, the Winograd F(6x6) tile, the PCAVS_SIMD_CLONES versions, the AVX2 activation
 * spans, the bf16 unit) as on a CPU that has at most that instruction set, so the fallbacks of a wider CPU
 * can be run and tested on it. It is read once, at the first query, and holds for the process.
 *
 * Debian's OpenBLAS 0.3.21 does not know Zen 5 and falls back to its AVX2 (Haswell) kernels at ~half the
 * speed; on a CPU with AVX-512F/BW/VL/DQ we ask for the SKYLAKEX kernels through OPENBLAS_CORETYPE before
 * OpenBLAS initialises (it reads the variable from a library constructor, so programs call
 * pcavs_cpu_init_blas_env() first thing in main or re-exec; see pcavs_cpu_blas_coretype()). A user's own
 * OPENBLAS_CORETYPE always wins. OMP_WAIT_POLICY is left to the user (libgomp's default short spin suits the
 * generator's many short parallel regions; no kernel uses OpenBLAS's own threads, whom spinning workers
 * starved). */
#ifndef PCAVS_ENGINE_CPU_FEATURES_H
#define PCAVS_ENGINE_CPU_FEATURES_H

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#define PCAVS_X86 1 /* the x86 kernels (*_avx2.c, *_avx512*.c, *_amx.c) are built and may be dispatched to */
#else
#define PCAVS_X86 0
#endif

typedef struct pcavs_cpu_features {
    /* x86 (zero elsewhere) */
    int avx2, fma, avx512f, avx512bw, avx512vl, avx512dq, avx512_bf16, amx_bf16;
    /* aarch64 (zero elsewhere) */
    int asimd, asimd_dot, arm_bf16, sve;
} pcavs_cpu_features;

/* The cap levels, also the x86-64 micro-architecture levels that the SIMD clones are compiled for. */
typedef enum pcavs_cpu_level {
    PCAVS_CPU_BASELINE = 1, /* x86-64 (SSE2) or any other architecture's baseline */
    PCAVS_CPU_AVX2 = 3,     /* x86-64-v3: AVX2 + FMA */
    PCAVS_CPU_AVX512 = 4    /* x86-64-v4: AVX-512 F/BW/VL/DQ (+ BF16, AMX where present) */
} pcavs_cpu_level;

/* The CPU's features after the cap ($PCAVS_CPU_CAP): what every kernel's dispatch reads. */
pcavs_cpu_features pcavs_cpu_detect(void);
/* The CPU's features as probed, without the cap. */
pcavs_cpu_features pcavs_cpu_detect_uncapped(void);
/* The x86-64 level the capped features reach (PCAVS_CPU_BASELINE on other architectures): which of the
 * PCAVS_SIMD_CLONES versions runs. */
int pcavs_cpu_simd_level(void);
/* The cap in force: "native" (none), "baseline", "avx2" or "avx512"; an unknown $PCAVS_CPU_CAP value is
 * ignored ("native") and reported by pcavs_cpu_describe. */
const char *pcavs_cpu_cap_name(void);
/* One line: the architecture, the features found, the cap and the level in force, e.g.
 * "x86_64: avx2 fma avx512f avx512bw avx512vl avx512dq avx512_bf16; cap avx2 -> level x86-64-v3". */
const char *pcavs_cpu_describe(char *buf, size_t n);

/* The OpenBLAS core type pcavs recommends for this CPU under the cap ("SKYLAKEX", "HASWELL", "NEHALEM" for
 * a baseline cap on a wider CPU, or NULL to leave OpenBLAS's own choice). */
const char *pcavs_cpu_blas_coretype(void);
/* The core OpenBLAS reports it is using (e.g. "Haswell", "SkylakeX"). */
const char *pcavs_cpu_blas_core_in_use(void);
/* If OPENBLAS_CORETYPE is unset where pcavs wants one, sets it and re-executes the
 * current program (/proc/self/exe) once so OpenBLAS starts with it. Returns only when no
 * re-exec was needed or it failed. Programs call this at the top of main(argc, argv). */
void pcavs_cpu_init_blas_env(int argc, char **argv);
/* Sets OpenMP and OpenBLAS thread counts. */
void pcavs_cpu_set_threads(int n);

#endif
