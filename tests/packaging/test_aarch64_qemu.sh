#!/usr/bin/env bash
# test_aarch64_qemu.sh: the tree cross-built for aarch64 (cmake/aarch64-linux-gnu.cmake: Debian's
# gcc-aarch64-linux-gnu and the arm64 -dev packages through multiarch; CUDA, dlib, benchmarks off) and every C
# test program of that build run under qemu-user on the fixtures generated on the host, with the same bounds as
# on x86 (the portable C paths run: no x86 file is built). First cpu_paths reports what the CPU-feature layer
# finds on the emulated CPU.
# The guest's root is / (qemu-aarch64 -L /): the loader and libc of Debian's libc6:arm64, which the arm64 -dev
# packages bring. The cross toolchain's /usr/aarch64-linux-gnu has a loader of another glibc build, and pairing
# it with libc6:arm64's libc.so.6 (which the loader finds first) hangs the guest in its first pthread_create.
# Two threads (OpenMP and OpenBLAS) per program, two programs at a time.
# Emulated, a multiply-add costs ~50x its native time, so the programs run as quick runs (PCAVS_TEST_QUICK=1,
# tests/test_util.h): every case of up to 100 M multiply-adds runs, larger ones print SKIP with their size; the
# networks test drives E and G with one frame of the fixture instead of four; test_convert converts the full
# checkpoints in one format (both readers run on the small ones); test_revoice leaves out its 3x-scaled frame.
# Left out: test_api and test_render_cancel (they generate 3-6 frames with a model, about a minute each
# emulated; the API and render code is the same C on every architecture).
# usage: test_aarch64_qemu.sh SOURCE_DIR WORK_DIR FIXTURES_DIR
set -uo pipefail
SRC=$(cd "$1" && pwd)
WORK=$2
FIX=$3
TRIPLE=aarch64-linux-gnu
SKIP_TESTS=" test_api test_render_cancel " # see above
pass=0
fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
skip() { echo "SKIPPED test_aarch64_qemu: $*"; echo "$pass passed, $fail failed, 1 skipped"; exit 0; }

missing=()
for t in $TRIPLE-gcc qemu-aarch64 cmake pkg-config; do command -v "$t" >/dev/null || missing+=("$t"); done
for pc in openblas libcjson libzip libjpeg libpng sndfile; do
  [ -e "/usr/lib/$TRIPLE/pkgconfig/$pc.pc" ] || [ -e "/usr/share/pkgconfig/$pc.pc" ] || missing+=("$pc.pc (arm64)")
done
[ -e /lib/ld-linux-aarch64.so.1 ] || missing+=("/lib/ld-linux-aarch64.so.1 (libc6:arm64)")
[ -e /usr/lib/$TRIPLE/libgomp.so.1 ] || [ -e /lib/$TRIPLE/libgomp.so.1 ] || missing+=("libgomp1:arm64")
[ ${#missing[@]} -eq 0 ] ||
  skip "missing ${missing[*]}: the cross toolchain, qemu-user and the arm64 -dev packages of scripts/deps/packaging.optional.txt"
[ -d "$FIX/ops" ] || skip "no fixtures in $FIX (generated on the host by generate_fixtures)"

t0=$(date +%s)
cmake -S "$SRC" -B "$WORK" -DCMAKE_TOOLCHAIN_FILE="$SRC/cmake/aarch64-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DPCAVS_CUDA=OFF -DPCAVS_DLIB=OFF -DPCAVS_BENCH=OFF -DPCAVS_FIXTURES="$FIX" >"$WORK.configure.log" 2>&1 ||
  { bad "cross configure: $(tail -5 "$WORK.configure.log")"; echo "$pass passed, $fail failed"; exit 1; }
if cmake --build "$WORK" -j2 >"$WORK.build.log" 2>&1; then # the whole tree: library, CLIs, every test
  ok "cross build of the tree for aarch64 ($(($(date +%s) - t0)) s)"
else
  bad "cross build: $(grep -E 'error|Error' "$WORK.build.log" | head -5)"
  echo "$pass passed, $fail failed"
  exit 1
fi
x86=$(grep -c -E '_(avx512|avx512bf16|amx|avx2)\.c\.o' "$WORK/CMakeFiles/pcavs_core.dir/build.make" 2>/dev/null)
[ "${x86:-0}" -eq 0 ] && ok "no x86 SIMD file in the aarch64 library" || bad "$x86 x86 SIMD objects in the aarch64 build"
arch=$(file -b "$WORK/tests/test_concat" 2>/dev/null | grep -o 'ARM aarch64' || od -An -tx1 -j18 -N2 "$WORK/tests/test_concat" | tr -d ' ')
[ "$arch" = "ARM aarch64" ] || [ "$arch" = "b700" ] && ok "test binaries are aarch64 ELF" || bad "test binaries are not aarch64: $arch"

run() { # name: runs one test program under qemu with the ctest environment, as a quick run
  env OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE PCAVS_TEST_QUICK=1 PCAVS_FIXTURES="$FIX" \
    PCAVS_SOURCE_DIR="$SRC" PCAVS_BINARY_DIR="$WORK" timeout 900 qemu-aarch64 -L / "$WORK/tests/$1" "${@:2}"
}
out=$(run cpu_paths 2>&1) && grep -q "^cpu: aarch64:" <<<"$out" && grep -q "^threads: 2 " <<<"$out" &&
  ok "cpu_paths under qemu (2 threads ran): $(tr '\n' ' ' <<<"$out")" || bad "cpu_paths under qemu: $out"
TESTS=()
for f in "$WORK"/tests/test_*; do
  t=$(basename "$f")
  [ -x "$f" ] && [ -f "$f" ] || continue
  case "$SKIP_TESTS" in *" $t "*) echo "SKIP $t (not run emulated: see the header)"; continue ;; esac
  TESTS+=("$t")
done
# Two programs at a time (much of each is a single-threaded reference loop), the longest first; each writes its
# output and its exit status and seconds under $WORK/qemu_logs, read back in order below.
LOGS=$WORK/qemu_logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
order=()
for t in test_networks test_convert test_modconv test_winograd_up; do
  [[ " ${TESTS[*]} " == *" $t "* ]] && order+=("$t")
done
for t in "${TESTS[@]}"; do [[ " ${order[*]} " == *" $t "* ]] || order+=("$t"); done
t1=$(date +%s)
for t in "${order[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
  (s=$(date +%s); run "$t" >"$LOGS/$t.log" 2>&1; echo "$? $(($(date +%s) - s))" >"$LOGS/$t.rc") &
done
wait
skipped_cases=0
for t in "${TESTS[@]}"; do
  read -r rc secs <"$LOGS/$t.rc" || rc=99
  out=$(cat "$LOGS/$t.log")
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
  n_quick=$(grep -c '^SKIP .*PCAVS_TEST_QUICK' <<<"$out")
  skipped_cases=$((skipped_cases + n_quick))
  if [ "$rc" -eq 0 ] && [ -n "$summary" ] && grep -q " 0 failed" <<<"$summary"; then
    ok "$t under qemu-aarch64: $summary ($secs s; $n_quick left out as too large)"
  else
    bad "$t under qemu-aarch64 (rc $rc, log $LOGS/$t.log): $(grep -E '^FAIL' <<<"$out" | head -5) ${summary:-$(tail -3 <<<"$out")}"
  fi
done
[ ${#TESTS[@]} -ge 25 ] && ok "${#TESTS[@]} test programs found in the aarch64 build" ||
  bad "only ${#TESTS[@]} test programs found in $WORK/tests"
echo "qemu part: $(($(date +%s) - t1)) s for ${#TESTS[@]} programs ($skipped_cases cases left out by the quick run);" \
  "whole test $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
