#!/usr/bin/env bash
# test_aarch64_qemu.sh: the tree cross-built for aarch64 (cmake/aarch64-linux-gnu.cmake: Debian's
# gcc-aarch64-linux-gnu and the arm64 -dev packages through multiarch; CUDA, dlib, benchmarks off) and a set of
# its C tests run under qemu-user (qemu-aarch64 -L /usr/aarch64-linux-gnu) on the fixtures generated on the host,
# with the same bounds as on x86 (the tests are unchanged; the portable C paths run: no x86 file is built).
# First cpu_paths reports what the CPU-feature layer finds on the emulated CPU.
# The guest runs single-threaded (OMP_THREAD_LIMIT=1, OPENBLAS_NUM_THREADS=1): qemu-user 7.2 (Debian 12) never
# returns from a guest's pthread_create on some hosts (seen on a 6.x kernel VM), so the threaded paths are left to
# the native runs. usage: test_aarch64_qemu.sh SOURCE_DIR WORK_DIR FIXTURES_DIR
set -uo pipefail
SRC=$(cd "$1" && pwd)
WORK=$2
FIX=$3
TRIPLE=aarch64-linux-gnu
SYSROOT=/usr/$TRIPLE
# Chosen for coverage at a bounded emulated time: the operators whose CPU form differs by architecture
# (activation's libm spans, sgemm_nn's OpenBLAS form, winograd_up's plain-C transforms, the bf16 mode's absence),
# upfirdn2d, bilinear and the small ops, safetensors, image/audio preprocessing and media I/O. Left out as too
# slow emulated (minutes each): test_conv_transpose2d, test_convert, test_api, test_conv2d, test_modconv,
# test_winograd, test_networks (built with the rest of the tree, not run).
TESTS=(test_arena test_safetensors test_concat test_pool test_batchnorm test_linear test_sgemm_nn test_binary
  test_bilinear test_softmax test_activation test_upfirdn2d test_gemm_bf16 test_winograd_up test_image_preproc
  test_audio_preproc test_media_io)
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

run() { # name: runs one test program under qemu, single-threaded, with the ctest environment
  env OMP_THREAD_LIMIT=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE PCAVS_FIXTURES="$FIX" PCAVS_SOURCE_DIR="$SRC" \
    PCAVS_BINARY_DIR="$WORK" timeout 600 qemu-aarch64 -L "$SYSROOT" "$WORK/tests/$1" "${@:2}"
}
out=$(run cpu_paths 2>&1) && grep -q "^cpu: aarch64:" <<<"$out" && ok "cpu_paths under qemu: $(tr '\n' ' ' <<<"$out")" ||
  bad "cpu_paths under qemu: $out"
t1=$(date +%s)
for t in "${TESTS[@]}"; do
  s=$(date +%s)
  out=$(run "$t" 2>&1)
  rc=$?
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
  if [ $rc -eq 0 ] && [ -n "$summary" ] && grep -q " 0 failed" <<<"$summary"; then
    ok "$t under qemu-aarch64: $summary ($(($(date +%s) - s)) s)"
  else
    bad "$t under qemu-aarch64 (rc $rc): $(grep -E '^FAIL' <<<"$out" | head -5) ${summary:-$(tail -3 <<<"$out")}"
  fi
done
echo "qemu part: $(($(date +%s) - t1)) s for ${#TESTS[@]} tests; whole test $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
