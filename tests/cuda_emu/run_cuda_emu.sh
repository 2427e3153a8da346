#!/usr/bin/env bash
# run_cuda_emu.sh: configures and builds the emulated-CUDA test tree (-DPCAVS_CUDA_EMU=ON, no CUDA
# toolkit, no GPU) inside the normal build tree, then runs the given test programs in it.
# Usage: run_cuda_emu.sh <source dir> <emulated build dir> <fixtures dir> <test>... where each
# <test> is a target built in the tree and then run: <build dir>/tests/<test>, else the executable of
# that name found under <build dir>; "name:arg" passes one argument. $CMAKE names cmake (default: PATH's).
# Exit status: 0 only when the tree builds and every test passes.
set -u
src=$1 bin=$2 fixtures=$3
shift 3
[ $# -ge 1 ] || { echo "usage: $0 <src> <bin> <fixtures> <test>..." >&2; exit 2; }
mkdir -p "$bin"
t0=$(date +%s)
cmake=${CMAKE:-cmake}
if ! "$cmake" -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=Release -DPCAVS_CUDA=OFF -DPCAVS_CUDA_EMU=ON -DPCAVS_BENCH=OFF \
      -DPCAVS_FIXTURES="$fixtures" > "$bin/configure.log" 2>&1; then
    cat "$bin/configure.log"; echo "FAIL: configuring the emulated CUDA tree (log above)"; exit 1
fi
targets=()
for t in "$@"; do targets+=("${t%%:*}"); done
# sort -u: a target named twice (run with two arguments) is built once
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
if ! "$cmake" --build "$bin" -j2 --target "${targets[@]}" > "$bin/build.log" 2>&1; then
    tail -n 60 "$bin/build.log"; echo "FAIL: building ${targets[*]} in the emulated CUDA tree (log: $bin/build.log)"; exit 1
fi
t1=$(date +%s)
echo "emulated CUDA tree configured and built in $((t1 - t0)) s: $bin"
status=0
for t in "$@"; do
    name=${t%%:*} arg=
    [ "$name" != "$t" ] && arg=${t#*:}
    echo "==== $name $arg"
    s0=$(date +%s)
    exe=$bin/tests/$name
    [ -x "$exe" ] || exe=$(find "$bin" -type f -perm -u+x -name "$name" | head -n 1)
    OMP_WAIT_POLICY=PASSIVE PCAVS_FIXTURES="$fixtures" PCAVS_SOURCE_DIR="$src" PCAVS_BINARY_DIR="$bin" \
        "$exe" $arg
    rc=$?
    echo "==== $name $arg: exit $rc, $(( $(date +%s) - s0 )) s"
    [ $rc -eq 0 ] || status=1
done
echo "emulated CUDA tests: $([ $status -eq 0 ] && echo all passed || echo FAILED), $(( $(date +%s) - t0 )) s in all"
exit $status
