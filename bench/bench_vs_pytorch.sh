#!/usr/bin/env bash
# bench_vs_pytorch.sh: pcavs (CPU backend) against the official-structure PyTorch modules
# (tests/reference/pcavs_torch.py on Debian's python3-torch), side by side, same thread count, same
# machine, one run. Per network (V, E, A_sync, G) and for the driven-pose frame (A_sync + E + G)
# at batch 1 and 8: ms/frame of both, the speed-up, pcavs GFLOP/s and its fraction of the sgemm and
# FMA peaks measured in the same run (bench_util.c); then pcavs again in the bf16 mode (where the CPU has
# AMX-BF16 or AVX512-BF16) against its own fp32 run. Writes OUT/cpu.md (tables), OUT/cpu.png
# (gnuplot chart, bench/plot_cpu.gp), OUT/cpu.json (raw rows) and the two raw logs.
# Builds nothing: pass a configured and built build directory.
#
# G, the network the speed claims are about, is timed in several rounds that alternate the two engines
# (the full runs above are round 1; then G alone, PyTorch first in even rounds): its rows are the median
# over the rounds on each side, and OUT/cpu.md lists every round's pair and ratio. A slow stretch of a
# shared machine then slows both sides of a round rather than one side of the comparison.
#
# Usage: bench/bench_vs_pytorch.sh BUILD_DIR [--model M.safetensors] [--threads N] [--out DIR]
#                                  [--g-rounds R] [--quick]
#   --model   converted model (default: $PCAVS_MODEL, else a random-weight model synthesized once
#             with BUILD_DIR's pcavs-convert into BUILD_DIR/bench-model.safetensors: timings do not
#             depend on the weights' values)
#   --threads default 2 (both engines)          --out default docs/bench (relative to the repo)
#   --g-rounds rounds of G (default 5; each after the first costs about a minute on 2 cores)
#   --quick   batch 1 only, one timed run on the PyTorch side, one G round (about 4 minutes less)
# PyTorch rows: median of 2 runs after 1 warm-up (--quick: 1).
# Takes about 8-10 minutes on a 2-core machine (most of it the PyTorch generator at batches 8 and 16).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=${PCAVS_PYTHON:-/usr/bin/python3}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
[ $# -ge 1 ] || usage
BUILD=$1
shift
MODEL=${PCAVS_MODEL:-}
THREADS=2
OUT=$ROOT/docs/bench
PT_BATCHES=1,8
PT_ITERS=2
PT_EXTRA=16 # upstream inference() also at the official demo's --batchSize 16 (experiments/demo_vox.sh)
G_ROUNDS=5
while [ $# -gt 0 ]; do
    case $1 in
    --model) MODEL=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --g-rounds) G_ROUNDS=$2; shift 2 ;;
    --quick) PT_BATCHES=1; PT_ITERS=1; PT_EXTRA=; G_ROUNDS=1; shift ;;
    -h | --help) usage ;;
    *) echo "bench_vs_pytorch: unknown argument $1" >&2; usage ;;
    esac
done
BG=$BUILD/bench/bench_generator
[ -x "$BG" ] || { echo "bench_vs_pytorch: $BG not found: build first (cmake --build $BUILD)" >&2; exit 2; }
command -v gnuplot > /dev/null || echo "bench_vs_pytorch: gnuplot not found (apt-get install gnuplot-nox): no PNG" >&2
if [ -z "$MODEL" ]; then
    MODEL=$BUILD/bench-model.safetensors
    if [ ! -s "$MODEL" ]; then
        echo "bench_vs_pytorch: synthesizing random weights into $MODEL (timing only)" >&2
        "$BUILD/weights_tools/pcavs-convert" --synthesize -o "$MODEL" -q
    fi
fi
mkdir -p "$OUT"
LOG_C=$OUT/pcavs_raw.txt
LOG_PT=$OUT/pytorch_raw.txt
JSON_PT=$(mktemp /tmp/pcavs-bench-pt.XXXXXX.json)
trap 'rm -f "$JSON_PT"' EXIT

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_vs_pytorch: load before: $LOAD_BEFORE; pcavs ($BG, $THREADS threads)..." >&2
PCAVS_THREADS=$THREADS "$BG" "$MODEL" > "$LOG_C"
# the bf16 mode (where the CPU has AMX-BF16 or AVX512-BF16; bench_generator says "precision: fp32" otherwise)
LOG_B=$OUT/pcavs_bf16_raw.txt
echo "bench_vs_pytorch: pcavs in bf16 precision..." >&2
PCAVS_PRECISION=bf16 PCAVS_THREADS=$THREADS "$BG" "$MODEL" > "$LOG_B"
LOAD_MID=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_vs_pytorch: PyTorch reference ($THREADS threads, batches $PT_BATCHES)..." >&2
"$PY" "$ROOT/tests/reference/bench_pytorch.py" --threads "$THREADS" --batches "$PT_BATCHES" --iters "$PT_ITERS" --warmup 1 \
    --extra-inference-batches "$PT_EXTRA" --json "$JSON_PT" > "$LOG_PT" 2>&1
# G rounds 2..R: G alone on both sides, alternating which goes first
ROUND_ARGS=(--g-round "$LOG_C" "$JSON_PT")
rm -f "$OUT"/g_round*_pcavs.txt "$OUT"/g_round*_pytorch.json
for r in $(seq 2 "$G_ROUNDS"); do
    LOG_R=$OUT/g_round${r}_pcavs.txt
    JSON_R=$OUT/g_round${r}_pytorch.json
    run_c() { PCAVS_BENCH_ONLY=G PCAVS_THREADS=$THREADS "$BG" "$MODEL" > "$LOG_R"; }
    run_pt() {
        "$PY" "$ROOT/tests/reference/bench_pytorch.py" --only-g --threads "$THREADS" --batches "$PT_BATCHES" \
            --iters "$PT_ITERS" --warmup 1 --json "$JSON_R" >> "$LOG_PT" 2>&1
    }
    echo "bench_vs_pytorch: G round $r of $G_ROUNDS..." >&2
    if [ $((r % 2)) -eq 0 ]; then run_pt; run_c; else run_c; run_pt; fi
    ROUND_ARGS+=(--g-round "$LOG_R" "$JSON_R")
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY" "$HERE/bench_vs_pytorch.py" --pcavs-log "$LOG_C" --pcavs-bf16-log "$LOG_B" --pytorch-json "$JSON_PT" --out "$OUT" --threads "$THREADS" --pt-iters "$PT_ITERS" \
    "${ROUND_ARGS[@]}" \
    --load "$LOAD_BEFORE / $LOAD_MID / $LOAD_AFTER" --cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
if command -v gnuplot > /dev/null; then
    (cd "$OUT" && gnuplot "$HERE/plot_cpu.gp")
    echo "bench_vs_pytorch: wrote $OUT/cpu.md and $OUT/cpu.png" >&2
fi
cat "$OUT/cpu.md"
