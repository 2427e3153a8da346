#!/usr/bin/env bash
# run_tests.sh: the README's test command. Installs missing Debian packages, configures and
# builds pcavs (CUDA kernels too where nvcc exists; their tests skip without a GPU), generates
# the PyTorch reference fixtures (tests/reference/, Debian python3-torch) and runs ctest.
# Usage: scripts/run_tests.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bash scripts/install_deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${PCAVS_CMAKE_ARGS:-}
cmake --build "$BUILD" -j"$(nproc)"
# ctest runs the fixture generator first (a CTest fixture), then every test.
ctest --test-dir "$BUILD" --output-on-failure --timeout 1500 ${PCAVS_CTEST_ARGS:-}
