#!/usr/bin/env bash
# run_demo.sh: the README's demo command. Installs missing Debian packages, builds pcavs-infer and
# pcavs-convert (build dir `build`), gets a model and renders the bundled demo (examples/: the
# official demo's identity, audio, pose and mouth frames) into out/demo.mp4 (+ out/demo_concat.mp4,
# identity | generated | pose source | mouth source, like upstream's avconcat.mp4).
#
# Model: if the official checkpoints (latest_net_G/V/E/A_sync.pth) are in checkpoints/ (or
# checkpoints/demo/, where upstream's demo.zip unpacks), they are converted once to
# build/model.safetensors. Otherwise random weights are synthesized and the output is NOT a face.
#
# Environment: PCAVS_DEVICE=cpu|cuda (default: cuda when nvidia-smi sees a GPU and the build has
# CUDA, else cpu), PCAVS_BATCH (default 4 on cpu, 16 on cuda), PCAVS_CMAKE_ARGS, PCAVS_INFER_ARGS
# (extra pcavs-infer flags, e.g. "--upstream-timing" or "--max-frames 25").
# Usage: scripts/run_demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

bash scripts/install_deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${PCAVS_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target pcavs-infer pcavs-convert

CONVERT="$BUILD/weights_tools/pcavs-convert"
INFER="$BUILD/pipeline/pcavs-infer"

# ---- the model ----
CKPT=""
for d in checkpoints checkpoints/demo; do
  if [ -f "$d/latest_net_G.pth" ]; then CKPT=$d; break; fi
done
if [ -n "$CKPT" ]; then
  MODEL="$BUILD/model.safetensors"
  if [ ! -f "$MODEL" ] || [ -n "$(find "$CKPT" -maxdepth 1 -name '*.pth' -newer "$MODEL")" ]; then
    echo "run_demo: converting the official checkpoints in $CKPT/ to $MODEL"
    "$CONVERT" "$CKPT" -o "$MODEL"
  fi
else
  MODEL="$BUILD/random.safetensors"
  [ -f "$MODEL" ] || "$CONVERT" --synthesize -o "$MODEL" --seed 0
  cat >&2 <<'EOF'

##############################################################################################
#  NO OFFICIAL CHECKPOINTS FOUND in checkpoints/ -- USING SYNTHESIZED RANDOM WEIGHTS.        #
#  The demo runs the whole pipeline, but the video it writes is NOT A FACE.                  #
#  For real results: download the official PC-AVS checkpoints (the "demo.zip" linked from    #
#  the README of GitHub Hangz-nju-cuhk/Talking-Face_PC-AVS), put latest_net_G.pth,           #
#  latest_net_V.pth, latest_net_E.pth and latest_net_A_sync.pth in checkpoints/, run again.  #
##############################################################################################

EOF
fi

# ---- the device ----
DEVICE=${PCAVS_DEVICE:-}
if [ -z "$DEVICE" ]; then
  DEVICE=cpu
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 &&
     grep -q '^CMAKE_CUDA_COMPILER:[A-Z]*=/' "$BUILD/CMakeCache.txt" 2>/dev/null &&
     ! grep -q '^PCAVS_CUDA:STRING=OFF' "$BUILD/CMakeCache.txt"; then
    DEVICE=cuda
  fi
fi
BATCH=${PCAVS_BATCH:-$([ "$DEVICE" = cuda ] && echo 16 || echo 4)}

# ---- the demo (the official demo.csv row, with the bundled excerpt of its inputs) ----
mkdir -p out
echo "run_demo: rendering examples/ on $DEVICE (batch $BATCH): ~77 frames; on a 2-core CPU this takes a few minutes"
"$INFER" --model "$MODEL" --device "$DEVICE" --batch "$BATCH" \
  --face examples/Input/517600055 \
  --audio examples/Audio_Source/681600002.mp3 \
  --pose examples/Pose_Source/517600078 \
  --mouth-frames examples/Mouth_Source/681600002 \
  --side-by-side -o out/demo.mp4 ${PCAVS_INFER_ARGS:-}

echo "run_demo: wrote $(pwd)/out/demo.mp4 and $(pwd)/out/demo_concat.mp4 (identity | generated | pose | mouth)"
if [ -z "$CKPT" ]; then
  echo "run_demo: REMINDER: synthesized random weights were used -- the video is not a face (see above)" >&2
fi
