#!/usr/bin/env bash
# check_refusals.sh: what the CUDA emulation cannot run does not compile against it. Each snippet
# below is a kernel using one unsupported feature, compiled (syntax only) as the emulated build
# compiles kernels/*.cu; each must fail with the emulation's message naming the feature (or, for
# dynamic shared memory, fail at all), while a control kernel using what is supported compiles.
# Usage: check_refusals.sh <tests/cuda_emu directory> [C++ compiler]
set -u
dir=$1 cxx=${2:-g++}
inc=$dir/include
compile() { # stdin: source; prints the compiler's diagnostics
    "$cxx" -std=gnu++17 -fsyntax-only -x c++ -I"$inc" -include "$inc/pcavs_cuda_emu_device.h" - 2>&1
}
pass=0 fail=0
expect_refused() { # name, pattern, source
    local out rc
    out=$(printf '%s\n' "$3" | compile); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q -- "$2"; then
        echo "PASS $1 refused at compile time: $(printf '%s' "$out" | grep -m1 -o -- "$2.*" | cut -c1-150)"
        pass=$((pass + 1))
    else
        echo "FAIL $1 not refused as expected (exit $rc): $(printf '%s' "$out" | head -3)"
        fail=$((fail + 1))
    fi
}
expect_refused "warp shuffle" "does not support warp shuffles (__shfl_down_sync)" \
  '__global__ void k(float *y) { y[0] = __shfl_down_sync(0xffffffffu, y[0], 1); }'
expect_refused "warp vote" "does not support warp votes (__ballot_sync)" \
  '__global__ void k(float *y) { y[0] = (float)__ballot_sync(0xffffffffu, y[0] > 0); }'
expect_refused "atomicAdd" "does not support atomics (atomicAdd)" \
  '__global__ void k(float *y) { atomicAdd(y, 1.0f); }'
expect_refused "__syncwarp" "does not support warp synchronisation (__syncwarp)" \
  '__global__ void k(float *y) { __syncwarp(); y[0] = 1.0f; }'
expect_refused "__threadfence" "does not support memory fences between blocks (__threadfence)" \
  '__global__ void k(float *y) { y[0] = 1.0f; __threadfence(); }'
expect_refused "dynamic shared memory" "error" \
  '__global__ void k(float *y) { extern __shared__ float buf[]; buf[threadIdx.x] = 1.0f; y[0] = buf[0]; }'
control='#include <cuda_runtime.h>
#include "'"$dir"'/../../kernels/cuda_launch.h"
__global__ void k(int n, const float *__restrict__ x, float *__restrict__ y) {
    __shared__ float part[256];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] = fmaf(rsqrtf(x[i]), __fmul_rn(x[i], 2.0f), expf(-x[i])) + (float)max(i, 0);
    part[threadIdx.x] = 0.0f;
    __syncthreads();
}
void launch(int n, const float *x, float *y, cudaStream_t s) { PCAVS_LAUNCH(k, 4, 256, 0, s)(n, x, y); }'
out=$(printf '%s\n' "$control" | compile); rc=$?
if [ $rc -eq 0 ]; then echo "PASS control kernel (shared memory, barrier, math, PCAVS_LAUNCH) compiles"; pass=$((pass + 1));
else echo "FAIL control kernel does not compile: $out"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
