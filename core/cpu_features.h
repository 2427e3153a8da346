/* cpu_features.h: what the CPU can do (AVX2, AVX-512, AVX512-BF16) and deliberate OpenBLAS
 * core selection. Debian's OpenBLAS 0.3.21 does not know Zen 5 and falls back to its AVX2
 * (Haswell) kernels at ~half the speed; on a CPU with AVX-512F/BW/VL/DQ we ask for the
 * SKYLAKEX kernels through OPENBLAS_CORETYPE before OpenBLAS initialises (it reads the variable
 * from a library constructor, so programs call pcavs_cpu_init_blas_env() first thing in main or
 * re-exec; see pcavs_cpu_blas_coretype()). A user's own OPENBLAS_CORETYPE always wins.
 * OMP_WAIT_POLICY is left to the user (libgomp's default short spin suits the generator's many
 * short parallel regions; no kernel uses OpenBLAS's own threads, whom spinning workers starved). */
#ifndef PCAVS_ENGINE_CPU_FEATURES_H
#define PCAVS_ENGINE_CPU_FEATURES_H

typedef struct pcavs_cpu_features {
    int avx2, fma, avx512f, avx512bw, avx512vl, avx512dq, avx512_bf16;
} pcavs_cpu_features;

pcavs_cpu_features pcavs_cpu_detect(void);
/* The OpenBLAS core type pcavs recommends for this CPU ("SKYLAKEX", "HASWELL" or NULL). */
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
