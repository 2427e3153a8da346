#!/usr/bin/env bash
# run_cuda_seam.sh: the CUDA backend's network and CLI checks in the emulated CUDA tree (tests/cuda_emu): builds
# test_networks, pcavs-infer and pcavs-convert there (configuring the tree first only where cuda_emu has not),
# then runs test_networks on --device cuda (PCAVS_TEST_DEVICE=cuda) and test_cuda_infer.sh.
# Usage: run_cuda_seam.sh <source dir> <emulated build dir> <fixtures dir> [clip seconds]
# Exit status: 0 only when the programs build and both runs pass.
set -u
src=$1 bin=$2 fixtures=$3 secs=${4:-0.3}
t0=$(date +%s)
if [ ! -f "$bin/CMakeCache.txt" ]; then
    mkdir -p "$bin"
    cmake -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=Release -DPCAVS_CUDA=OFF -DPCAVS_CUDA_EMU=ON -DPCAVS_BENCH=OFF \
        -DPCAVS_FIXTURES="$fixtures" > "$bin/configure.log" 2>&1 ||
        { cat "$bin/configure.log"; echo "FAIL: configuring the emulated CUDA tree"; exit 1; }
fi
if ! cmake --build "$bin" -j2 --target test_networks pcavs-infer pcavs-convert > "$bin/build-cuda-seam.log" 2>&1; then
    tail -n 60 "$bin/build-cuda-seam.log"; echo "FAIL: building in the emulated CUDA tree"; exit 1
fi
t1=$(date +%s)
echo "emulated CUDA tree: test_networks, pcavs-infer, pcavs-convert built in $((t1 - t0)) s"
status=0

echo "==== test_networks (PCAVS_TEST_DEVICE=cuda)"
out=$(OMP_WAIT_POLICY=PASSIVE PCAVS_FIXTURES="$fixtures" PCAVS_TEST_DEVICE=cuda "$bin/tests/test_networks" 2>&1)
rc=$?
echo "$out"
# the emulated backend is always there: a run on another backend, or a skip, is a failure here
if [ $rc -ne 0 ] || ! echo "$out" | grep -q "^backend cuda$" || echo "$out" | grep -q "skipped"; then
    echo "FAIL: test_networks on the emulated CUDA backend (exit $rc)"
    status=1
fi
t2=$(date +%s)
echo "==== test_networks: exit $rc, $((t2 - t1)) s"

echo "==== test_cuda_infer.sh (${secs} s clip)"
PCAVS_FIXTURES="$fixtures" OMP_WAIT_POLICY=PASSIVE bash "$src/tests/cuda_seam/test_cuda_infer.sh" \
    "$bin/pipeline/pcavs-infer" "$bin/weights_tools/pcavs-convert" "$src" "$secs"
rc=$?
[ $rc -eq 0 ] || status=1
t3=$(date +%s)
echo "==== test_cuda_infer.sh: exit $rc, $((t3 - t2)) s"
echo "cuda_seam: $([ $status -eq 0 ] && echo all passed || echo FAILED), $((t3 - t0)) s in all"
exit $status
