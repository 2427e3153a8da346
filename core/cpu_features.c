/* cpu_features.c: CPU feature probing on x86 (CPUID) and aarch64 (the kernel's HWCAP bits), the
 * $PCAVS_CPU_CAP cap, and OpenBLAS core selection (see cpu_features.h). */
#include "cpu_features.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if PCAVS_X86
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

/* OpenBLAS exports these (cblas.h declares them; declared here to avoid the include). */
extern void openblas_set_num_threads(int num_threads);
extern char *openblas_get_corename(void);

static pcavs_cpu_features cpu_probe(void) {
    pcavs_cpu_features f;
    memset(&f, 0, sizeof f);
#if PCAVS_X86
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
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) f.amx_bf16 = ((d >> 22) & 1) && ((d >> 24) & 1); /* AMX-BF16, -TILE */
    f.amx_bf16 = f.amx_bf16 && f.avx512_bf16;
#elif defined(__aarch64__) && defined(__linux__)
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    f.asimd = (hw >> 1) & 1;      /* HWCAP_ASIMD */
    f.asimd_dot = (hw >> 20) & 1; /* HWCAP_ASIMDDP */
    f.sve = (hw >> 22) & 1;       /* HWCAP_SVE */
    f.arm_bf16 = (hw2 >> 14) & 1; /* HWCAP2_BF16 */
#elif defined(__aarch64__)
    f.asimd = 1; /* Advanced SIMD is part of the AArch64 base */
#endif
    return f;
}

/* The cap from $PCAVS_CPU_CAP: 0 = none (native), else a pcavs_cpu_level; -1 = not understood. */
static int cap_parse(const char *s) {
    if (!s || !*s || !strcasecmp(s, "native")) return 0;
    if (!strcasecmp(s, "baseline") || !strcasecmp(s, "x86-64") || !strcasecmp(s, "sse2")) return PCAVS_CPU_BASELINE;
    if (!strcasecmp(s, "avx2") || !strcasecmp(s, "x86-64-v3")) return PCAVS_CPU_AVX2;
    if (!strcasecmp(s, "avx512") || !strcasecmp(s, "x86-64-v4")) return PCAVS_CPU_AVX512;
    return -1;
}

typedef struct cpu_state {
    pcavs_cpu_features raw, capped;
    int cap;   /* as cap_parse */
    int level; /* pcavs_cpu_level of the capped features */
} cpu_state;

static const cpu_state *cpu_state_get(void) {
    static cpu_state st;
    static atomic_int ready;
    if (atomic_load_explicit(&ready, memory_order_acquire)) return &st;
    cpu_state s; /* every thread racing here computes the same values */
    s.raw = cpu_probe();
    s.cap = cap_parse(getenv("PCAVS_CPU_CAP"));
    s.capped = s.raw;
    pcavs_cpu_features *f = &s.capped;
    if (s.cap > 0 && s.cap < PCAVS_CPU_AVX512)
        f->avx512f = f->avx512bw = f->avx512vl = f->avx512dq = f->avx512_bf16 = f->amx_bf16 = 0;
    if (s.cap > 0 && s.cap < PCAVS_CPU_AVX2) f->avx2 = f->fma = 0;
    s.level = PCAVS_CPU_BASELINE;
#if PCAVS_X86
    int v3 = f->avx2 && f->fma, v4 = v3 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    /* the clones are compiled for the whole level (BMI2, MOVBE, AVX512CD ...): ask for all of it */
    v3 = v3 && __builtin_cpu_supports("x86-64-v3");
    v4 = v4 && __builtin_cpu_supports("x86-64-v4");
#endif
    s.level = v4 ? PCAVS_CPU_AVX512 : v3 ? PCAVS_CPU_AVX2 : PCAVS_CPU_BASELINE;
#endif
    st = s;
    atomic_store_explicit(&ready, 1, memory_order_release);
    return &st;
}

pcavs_cpu_features pcavs_cpu_detect(void) { return cpu_state_get()->capped; }
pcavs_cpu_features pcavs_cpu_detect_uncapped(void) { return cpu_state_get()->raw; }
int pcavs_cpu_simd_level(void) { return cpu_state_get()->level; }

const char *pcavs_cpu_cap_name(void) {
    switch (cpu_state_get()->cap) {
    case PCAVS_CPU_BASELINE:
        return "baseline";
    case PCAVS_CPU_AVX2:
        return "avx2";
    case PCAVS_CPU_AVX512:
        return "avx512";
    default:
        return "native";
    }
}

const char *pcavs_cpu_describe(char *buf, size_t n) {
    const cpu_state *s = cpu_state_get();
    const pcavs_cpu_features *f = &s->raw;
    static const char *const level_name[] = {"", "baseline", "", "x86-64-v3", "x86-64-v4"};
    struct {
        int on;
        const char *name;
    } flags[] = {{f->avx2, "avx2"},
                 {f->fma, "fma"},
                 {f->avx512f, "avx512f"},
                 {f->avx512bw, "avx512bw"},
                 {f->avx512vl, "avx512vl"},
                 {f->avx512dq, "avx512dq"},
                 {f->avx512_bf16, "avx512_bf16"},
                 {f->amx_bf16, "amx_bf16"},
                 {f->asimd, "asimd"},
                 {f->asimd_dot, "asimd_dot"},
                 {f->arm_bf16, "bf16"},
                 {f->sve, "sve"}};
    if (!buf || n == 0) return buf;
#if defined(__x86_64__)
    const char *arch = "x86_64";
#elif defined(__i386__)
    const char *arch = "x86";
#elif defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "other";
#endif
    size_t at = (size_t)snprintf(buf, n, "%s:", arch);
    int any = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0] && at < n; i++)
        if (flags[i].on) at += (size_t)snprintf(buf + at, n - at, " %s", flags[i].name), any = 1;
    if (!any && at < n) at += (size_t)snprintf(buf + at, n - at, " (no optional SIMD found)");
    if (at < n) {
        const char *env = getenv("PCAVS_CPU_CAP");
        at += (size_t)snprintf(buf + at, n - at, "; cap %s%s%s%s -> level %s", pcavs_cpu_cap_name(),
                               s->cap < 0 ? " ($PCAVS_CPU_CAP=" : "", s->cap < 0 ? env : "",
                               s->cap < 0 ? " not understood, ignored)" : "", level_name[s->level]);
    }
    return buf;
}

const char *pcavs_cpu_blas_coretype(void) {
    const cpu_state *s = cpu_state_get();
    const pcavs_cpu_features f = s->capped;
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) return "SKYLAKEX";
    if (f.avx2 && f.fma) return "HASWELL";
    /* a baseline cap on a wider x86 CPU: OpenBLAS's generic x86-64 kernels (SSE2/SSE3) */
    if (PCAVS_X86 && s->cap == PCAVS_CPU_BASELINE && s->raw.avx2) return "PRESCOTT";
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
     * (OpenBLAS may name an AVX-512 core after another CPU, e.g. "Cooperlake"), so programs and embedding processes
     * (Python) run the same kernels and get the same bits; override only a fallback below what the CPU can do. */
    if (core && strcmp(core, "SKYLAKEX") == 0 && blas_core_is_avx512(pcavs_cpu_blas_core_in_use())) core = NULL;
    if (!getenv("OPENBLAS_CORETYPE") && core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        changed = 1;
    }
    /* OMP_WAIT_POLICY is left to the user: libgomp's default, a short spin before a waiting thread
     * sleeps, bridges the gaps between the generator's many short parallel regions. PASSIVE was needed
     * only while kernels ran threaded OpenBLAS, whose pthreads spinning OpenMP threads starved; none
     * does now (linear_cpu.c). Measurements: docs/bench/tuning.md §5. */
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
