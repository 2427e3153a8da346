#!/usr/bin/env bash
# test_python_package.sh: the Python package as a user gets it. `python -m build` (scikit-build-core, no build
# isolation: its build tools come from the wheelhouse that install_deps.sh fills, scripts/deps/packaging.pip.txt)
# makes the sdist and a wheel built from it; the wheel, then the sdist, are installed with --no-index into a
# fresh venv each (Debian's numpy through --system-site-packages: numpy is the one dependency); from outside the
# source tree `import pcavs` must load the libpcavs shipped in the package (no PCAVS_LIBRARY), its version must
# be the C library's and CMakeLists.txt's, tests/test_python_api.py must pass against the installed package,
# and pcavs-infer, pcavs-convert, pcavs-align must run (--help) from the venv's bin.
# usage: test_python_package.sh SOURCE_DIR WORK_DIR
set -uo pipefail
SRC=$(cd "$1" && pwd)
WORK=$2
PY=/usr/bin/python3
WH=${PCAVS_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcavs/wheelhouse}
pass=0
fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
skip() { echo "SKIPPED test_python_package: $*"; echo "$pass passed, $fail failed, 1 skipped"; [ "$fail" -eq 0 ]; exit; }
unset PCAVS_LIBRARY PYTHONPATH

# No -march=native anywhere in the build: the package must run on any x86-64 (run-time dispatch does the rest).
hits=$(grep -rIn --include=CMakeLists.txt --include='*.cmake' --include=pyproject.toml --include='*.sh' -e '-march=native' \
  "$SRC" 2>/dev/null | grep -v "tests/packaging/test_python_package.sh" | grep -v '/build' | head -3)
[ -z "$hits" ] && ok "no -march=native in the build files" || bad "-march=native found: $hits"

version=$(sed -nE 's/^project\(pcavs VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$version" ] || { bad "no project VERSION in CMakeLists.txt"; finish; }
$PY -m venv --help >/dev/null 2>&1 || skip "$PY -m venv unavailable (python3-venv)"
# Without build isolation scikit-build-core must find a generator here (else it asks PyPI for the ninja wheel).
command -v ninja >/dev/null || skip "ninja not found (Debian ninja-build, scripts/deps/packaging.optional.txt)"
for w in scikit_build_core packaging pathspec build pyproject_hooks; do
  ls "$WH"/$w-*.whl >/dev/null 2>&1 || skip "the build tools' wheels are not in $WH ($w missing): install_deps.sh downloads them from PyPI (scripts/deps/packaging.pip.txt)"
done

rm -rf "$WORK"
mkdir -p "$WORK"
$PY -m venv "$WORK/buildenv" && "$WORK/buildenv/bin/pip" install -q --no-index --find-links "$WH" scikit-build-core build ||
  skip "cannot install scikit-build-core and build from $WH into a venv"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# The sdist is compiled twice (into the wheel, then by pip): with ccache the second build reuses the first's
# objects. Both build in a build/ folder inside their unpacked sdist under $WORK/tmp, and ccache rewrites the
# paths below $WORK to relative ones, so the two compilations look the same to it.
CS=(-C "build-dir=build/{wheel_tag}")
if command -v ccache >/dev/null; then
  export CCACHE_DIR=$WORK/ccache CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=true TMPDIR=$WORK/tmp
  mkdir -p "$TMPDIR"
  CS+=(-C cmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
t0=$(date +%s)
if "$WORK/buildenv/bin/python" -m build --no-isolation "${CS[@]}" --outdir "$WORK/dist" "$SRC" >"$WORK/build.log" 2>&1; then
  ok "python -m build: sdist and wheel ($(($(date +%s) - t0)) s)"
else
  bad "python -m build failed: $(tail -5 "$WORK/build.log")"
  finish
fi
whl=$(ls "$WORK"/dist/pcavs-"$version"-*.whl 2>/dev/null | head -1)
sdist=$(ls "$WORK"/dist/pcavs-"$version".tar.gz 2>/dev/null | head -1)
[ -n "$whl" ] && ok "wheel $(basename "$whl") carries the version $version" || bad "no pcavs-$version wheel: $(ls "$WORK/dist")"
[ -n "$sdist" ] && ok "sdist $(basename "$sdist")" || bad "no pcavs-$version.tar.gz sdist: $(ls "$WORK/dist")"
[ -n "$whl" ] && [ -n "$sdist" ] || finish
listing=$("$PY" -m zipfile -l "$whl")
for f in pcavs/__init__.py pcavs/lib/libpcavs.so pcavs/bin/pcavs-infer pcavs/bin/pcavs-convert pcavs/bin/pcavs-align; do
  grep -q " *$f " <<<"$listing" && ok "wheel ships $f" || bad "wheel lacks $f"
done
deps=$(unzip -p "$whl" '*.dist-info/METADATA' | sed -n 's/^Requires-Dist: //p' | tr '\n' ' ')
[ "$deps" = "numpy " ] && ok "the only dependency is numpy (Requires-Dist: $deps)" || bad "Requires-Dist is '$deps', want numpy only"

# One venv per artifact: installs it, then checks it from a directory outside the source tree.
check_install() { # label artifact
  local label=$1 art=$2 venv=$WORK/venv-$1 out
  $PY -m venv --system-site-packages "$venv" || { bad "$label: venv"; return; }
  if [ "$label" = sdist ]; then # built again from the sdist, with the same tools
    "$venv/bin/pip" install -q --no-index --find-links "$WH" scikit-build-core >/dev/null ||
      { bad "$label: build tools into the venv"; return; }
    t0=$(date +%s)
    "$venv/bin/pip" install --no-index --no-build-isolation "${CS[@]/#-C/--config-settings}" "$art" >"$WORK/install-$label.log" 2>&1 &&
      ok "$label: pip install --no-index $(basename "$art") ($(($(date +%s) - t0)) s)" ||
      { bad "$label: pip install: $(tail -5 "$WORK/install-$label.log")"; return; }
  else
    "$venv/bin/pip" install --no-index "$art" >"$WORK/install-$label.log" 2>&1 &&
      ok "$label: pip install --no-index $(basename "$art")" ||
      { bad "$label: pip install: $(tail -5 "$WORK/install-$label.log")"; return; }
  fi
  cd "$WORK" || return
  out=$("$venv/bin/python" -c 'import importlib.metadata as m, os, pcavs
print(os.path.realpath(pcavs.__file__)); print(pcavs._find_library()); print(pcavs.version()); print(m.version("pcavs"))' 2>&1)
  if [ $? -ne 0 ]; then bad "$label: import pcavs: $out"; return; fi
  local file lib cver pver
  { read -r file; read -r lib; read -r cver; read -r pver; } <<<"$out"
  case "$file" in "$(realpath "$venv")"/*) ok "$label: pcavs imported from the venv ($file)" ;;
    *) bad "$label: pcavs imported from $file, not from $venv" ;; esac
  [ "$(dirname "$(realpath "$lib")")" = "$(dirname "$file")/lib" ] && ok "$label: libpcavs loaded from inside the package ($lib)" ||
    bad "$label: libpcavs loaded from $lib, not from the package's lib/"
  [ "$cver" = "$version" ] && [ "$pver" = "$version" ] &&
    ok "$label: one version: pcavs.version() (C) $cver = package metadata $pver = CMakeLists.txt $version" ||
    bad "$label: versions differ: C $cver, package $pver, CMakeLists.txt $version"
  for p in pcavs-infer pcavs-convert pcavs-align; do
    if [ -x "$venv/bin/$p" ] && out=$("$venv/bin/$p" --help 2>&1) && grep -qi "usage\|--" <<<"$out"; then
      ok "$label: $p --help from the venv's bin ($(head -1 <<<"$out" | cut -c1-60))"
    else
      bad "$label: $p --help from $venv/bin: $(head -3 <<<"$out")"
    fi
  done
  out=$(PATH="$venv/bin:$PATH" PCAVS_TEST_INSTALLED=1 PCAVS_SOURCE_DIR="$SRC" "$venv/bin/python" "$SRC/tests/test_python_api.py" 2>&1)
  local rc=$? summary
  summary=$(tail -1 <<<"$out")
  if [ $rc -eq 0 ] && grep -q " 0 failed" <<<"$summary" && ! grep -q "^SKIP" <<<"$out"; then
    ok "$label: tests/test_python_api.py against the installed package: $summary"
  else
    bad "$label: tests/test_python_api.py (rc $rc): $(grep -E '^(FAIL|SKIP)' <<<"$out" | head -5) $summary"
  fi
}
check_install wheel "$whl"
check_install sdist "$sdist"
finish
