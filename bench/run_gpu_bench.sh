#!/usr/bin/env bash
# run_gpu_bench.sh: everything issue 6 needs a GPU machine for, in one go: configure and build
# pcavs with CUDA (PCAVS_CUDA=ON, sm_90 unless PCAVS_CUDA_ARCHS says otherwise), run the CUDA
# tests (ctest -R cuda: test_cuda_ops, every CUDA op vs _ref, rel L2 <= 1e-5), the per-kernel GPU
# benchmark (bench_cuda, batch 1/8/32 at the generator's shapes), and, when a PyTorch with CUDA
# is importable, the PyTorch reference timings (tests/reference/bench_pytorch.py --device cuda).
# Usage: bench/run_gpu_bench.sh [build-dir] (default build-gpu); results are also written to
# <build-dir>/gpu_bench/*.txt. Exit status: non-zero when the build or a CUDA test fails.
set -u
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$src/build-gpu}"
out="$build/gpu_bench"
jobs="${PCAVS_JOBS:-$(nproc)}"
py="${PCAVS_PYTHON:-python3}"
mkdir -p "$out"

echo "== nvidia-smi"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$out/nvidia_smi.txt" ||
  echo "(nvidia-smi not available)"

echo "== configure + build (CUDA on, archs ${PCAVS_CUDA_ARCHS:-90})"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPCAVS_CUDA=ON \
  -DPCAVS_CUDA_ARCHS="${PCAVS_CUDA_ARCHS:-90}" >"$out/configure.txt" 2>&1 || {
  tail -30 "$out/configure.txt"; echo "configure failed"; exit 1; }
cmake --build "$build" -j "$jobs" >"$out/build.txt" 2>&1 || {
  grep -E "error|Error" "$out/build.txt" | head -40; echo "build failed"; exit 1; }

status=0
echo "== ctest -R cuda"
# test_cuda_ops needs no PyTorch fixtures; -FA skips the fixture-generation setup step; -V shows each check with its bound.
(cd "$build" && ctest -R cuda -FA pcavs_fixtures -V) 2>&1 | tee "$out/ctest_cuda.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
grep -qE "(^|: )SKIP" "$out/ctest_cuda.txt" && echo "WARNING: a CUDA test skipped (no device?)" && status=1

echo "== bench_cuda"
"$build/bench/bench_cuda" 2>&1 | tee "$out/bench_cuda.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== PyTorch reference timings"
ref="$src/tests/reference/bench_pytorch.py"
if [ ! -f "$ref" ]; then
  echo "SKIP: $ref is not in this tree"
elif ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "SKIP: no PyTorch with CUDA for $py"
elif ! "$py" "$ref" --help 2>&1 | grep -q -- "--device"; then
  echo "SKIP: $ref has no --device option"
else
  "$py" "$ref" --device cuda 2>&1 | tee "$out/bench_pytorch_cuda.txt"
fi

echo "== results in $out (status $status)"
exit $status
