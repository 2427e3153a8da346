/* simd_clones.h: PCAVS_SIMD_CLONES marks a hot plain-C loop nest to be compiled three times (x86-64-v4:
 * AVX-512, v3: AVX2+FMA, and the baseline) with the best picked at load time (GCC/Clang target_clones,
 * an ifunc), so that the library keeps running on any x86-64 while its transforms use the wide units
 * where they exist. Float results may differ from the baseline build in the last bits (FMA contraction).
 * Elsewhere (other architectures, sanitizer builds) it is empty. */
#ifndef PCAVS_KERNELS_SIMD_CLONES_H
#define PCAVS_KERNELS_SIMD_CLONES_H

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) &&                          \
    !defined(__SANITIZE_ADDRESS__) && !defined(PCAVS_NO_SIMD_CLONES)
#define PCAVS_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PCAVS_SIMD_CLONES
#endif

#endif
