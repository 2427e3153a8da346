/* cpu_features.c: CPUID probing and OpenBLAS core selection (see cpu_features.h). */
#include "cpu_features.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* OpenBLAS exports these (cblas.h declares them; declared here to avoid the include). */
extern void openblas_set_num_threads(int num_threads);
extern char *openblas_get_corename(void);

pcavs_cpu_features pcavs_cpu_detect(void) {
    pcavs_cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = (a >> 5) & 1;
    f.avx512_bf16 = f.avx512_bf16 && f.avx512f;
#endif
    return f;
}

const char *pcavs_cpu_blas_coretype(void) {
    pcavs_cpu_features f = pcavs_cpu_detect();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) return "SKYLAKEX";
    if (f.avx2 && f.fma) return "HASWELL";
    return NULL;
}

const char *pcavs_cpu_blas_core_in_use(void) {
    const char *n = openblas_get_corename();
    return n ? n : "unknown";
}

/* OpenBLAS cores whose sgemm is the AVX-512 one (0.3.21's names; "SapphireRapids" from 0.3.22). */
static int blas_core_is_avx512(const char *name) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; name && i < sizeof avx512 / sizeof avx512[0]; i++)
        if (strcasecmp(name, avx512[i]) == 0) return 1;
    return 0;
}

void pcavs_cpu_init_blas_env(int argc, char **argv) {
    (void)argc;
    if (getenv("PCAVS_NO_BLAS_REEXEC")) return;
    int changed = 0;
    const char *core = pcavs_cpu_blas_coretype();
    /* OpenBLAS chose its core in a constructor before main: keep an AVX-512 core it found itself
     * (Zen 4 is "Cooperlake"), so programs and embedding processes (Python) run the same kernels
     * and get the same bits; override only a fallback below what the CPU can do. */
    if (core && strcmp(core, "SKYLAKEX") == 0 && blas_core_is_avx512(pcavs_cpu_blas_core_in_use())) core = NULL;
    if (!getenv("OPENBLAS_CORETYPE") && core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        changed = 1;
    }
    /* OMP_WAIT_POLICY is left to the user: libgomp's default, a short spin (~300000 iterations) before a
     * waiting thread sleeps, bridges the gaps between the generator's many short parallel regions
     * and barriers. (OMP_WAIT_POLICY=PASSIVE, set here before, was for OpenBLAS's own pthreads,
     * which spinning OpenMP threads starved on small machines; no kernel runs threaded OpenBLAS
     * now: linear_cpu.c. G at batch 1 on 2 Zen 4 cores, six interleaved pairs: 172.2 -> 164.5 ms
     * mean, faster in every pair; batch 8 and pcavs-infer end to end unchanged.) */
    if (!changed) return;
    setenv("PCAVS_NO_BLAS_REEXEC", "1", 1);
    execv("/proc/self/exe", argv); /* returns only on failure: carry on with the current settings */
}

void pcavs_cpu_set_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
}
