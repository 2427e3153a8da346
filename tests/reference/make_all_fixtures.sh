#!/usr/bin/env bash
# make_all_fixtures.sh: generates every PyTorch reference fixture the C tests compare against,
# into FIXTURES_DIR. Run by ctest as the setup fixture of all tests (tests/CMakeLists.txt).
# A generator that fails makes this script fail (so CI cannot pass on silently skipped tests).
# Usage: make_all_fixtures.sh FIXTURES_DIR BUILD_DIR
set -euo pipefail
FIX=$1
BUILD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
mkdir -p "$FIX/ops"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

step() { echo "== fixtures: $*"; }

# 1. Single-operator fixtures (PyTorch float32, CPU).
for gen in op_fixtures_conv.py op_fixtures_stylegan.py op_fixtures_misc.py; do
  if [ -f "$HERE/$gen" ]; then
    step "$gen"
    "$PY" "$HERE/$gen" --out "$FIX"
  fi
done

# 2. Random-weight checkpoints in the official layout, both serializations, and torch.load dumps.
if [ -f "$HERE/make_checkpoints.py" ]; then
  step "make_checkpoints.py"
  "$PY" "$HERE/make_checkpoints.py" --out "$FIX/ckpt" --seed 1 --format both
  if [ -f "$HERE/dump_torch_load.py" ]; then
    step "dump_torch_load.py"
    "$PY" "$HERE/dump_torch_load.py" --ckpt "$FIX/ckpt/legacy" --out "$FIX/torch_load.safetensors" \
      --make-small "$FIX/pth_small"
  fi
  # 3. The converted model (native converter) and the stage-by-stage network dumps.
  if [ -x "$BUILD/weights_tools/pcavs-convert" ]; then
    step "pcavs-convert"
    "$BUILD/weights_tools/pcavs-convert" "$FIX/ckpt/legacy" -o "$FIX/model.safetensors"
  fi
  if [ -f "$HERE/dump_stages.py" ]; then
    step "dump_stages.py"
    # Without the native converter, also write the raw tensors as <net>.<key> (model_raw.safetensors,
    # the names pcavs-convert writes) so that test_networks can still run.
    RAW=()
    [ -f "$FIX/model.safetensors" ] || RAW=(--weights-out "$FIX/model_raw.safetensors")
    "$PY" "$HERE/dump_stages.py" --ckpt "$FIX/ckpt/legacy" --out "$FIX/stages.safetensors" --frames 4 "${RAW[@]}"
  fi
fi

# 4. Preprocessing references from the real lws / librosa / OpenCV (PyPI, in a venv).
if [ -f "$HERE/setup_venv.sh" ] && [ -f "$HERE/preproc_reference.py" ]; then
  step "preprocessing venv"
  if bash "$HERE/setup_venv.sh" "$BUILD/venv"; then
    step "preproc_reference.py"
    "$BUILD/venv/bin/python" "$HERE/preproc_reference.py" --out "$FIX/preproc"
  else
    echo "== fixtures: WARNING: could not create the lws/librosa/OpenCV venv (no PyPI access?);" \
         "the preprocessing parity tests will SKIP" >&2
  fi
fi
# 5. Face alignment references (skimage SimilarityTransform + cv2.warpAffine, as scripts/align_68.py), into the
#    same venv (setup_align_venv.sh adds scikit-image to it).
if [ -f "$HERE/setup_align_venv.sh" ] && [ -f "$HERE/align_reference.py" ]; then
  step "align venv"
  if bash "$HERE/setup_align_venv.sh" "$BUILD/venv"; then
    step "align_reference.py"
    "$BUILD/venv/bin/python" "$HERE/align_reference.py" --out "$FIX/align"
  else
    echo "== fixtures: WARNING: could not install OpenCV/scikit-image (no PyPI access?);" \
         "the alignment parity tests will SKIP" >&2
  fi
fi
touch "$FIX/.complete"
echo "== fixtures: done in $FIX"
