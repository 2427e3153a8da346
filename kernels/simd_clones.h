/* simd_clones.h: a hot plain-C loop nest compiled three times (x86-64-v4: AVX-512, v3: AVX2+FMA, and the
 * baseline), the version run chosen at run time from pcavs_cpu_simd_level() (cpu_features.h), so that the
 * library keeps running on any x86-64 while its transforms use the wide units where they exist, and
 * $PCAVS_CPU_CAP can select the narrower versions on a wide CPU (tests). Float results may differ from the
 * baseline build in the last bits (FMA contraction).
 *
 * Use: the body is written once, marked and named <name>_body, and PCAVS_SIMD_DISPATCH after it defines
 * <name> with the same parameters (the functions return void):
 *     PCAVS_SIMD_CLONES static void f_body(const float *x, int n) { ... }
 *     PCAVS_SIMD_DISPATCH(static, f, (const float *x, int n), (x, n))
 * The body is inlined into one wrapper per level (a body's instruction set is a subset of each wrapper's,
 * so GCC and Clang inline it). Elsewhere (other architectures, sanitizer builds, PCAVS_NO_SIMD_CLONES) <name>
 * is the plain body. */
#ifndef PCAVS_KERNELS_SIMD_CLONES_H
#define PCAVS_KERNELS_SIMD_CLONES_H

#include "cpu_features.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__SANITIZE_ADDRESS__) &&              \
    !defined(PCAVS_NO_SIMD_CLONES)
#define PCAVS_SIMD_CLONES __attribute__((always_inline)) inline
#define PCAVS_SIMD_DISPATCH(linkage, name, params, args)                                                               \
    __attribute__((target("arch=x86-64-v4"))) static void name##_v4 params { name##_body args; }                       \
    __attribute__((target("arch=x86-64-v3"))) static void name##_v3 params { name##_body args; }                       \
    __attribute__((noinline)) static void name##_v1 params { name##_body args; }                                       \
    linkage void name params {                                                                                         \
        const int level_ = pcavs_cpu_simd_level();                                                                     \
        if (level_ >= PCAVS_CPU_AVX512)                                                                                \
            name##_v4 args;                                                                                            \
        else if (level_ >= PCAVS_CPU_AVX2)                                                                             \
            name##_v3 args;                                                                                            \
        else                                                                                                           \
            name##_v1 args;                                                                                            \
    }
#else
#define PCAVS_SIMD_CLONES inline
#define PCAVS_SIMD_DISPATCH(linkage, name, params, args)                                                               \
    linkage void name params { name##_body args; }
#endif

#endif
