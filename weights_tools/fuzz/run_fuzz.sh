#!/usr/bin/env bash
# run_fuzz.sh: builds the libFuzzer targets with clang-14 (ASan + UBSan) and runs each for a bounded
# time on a seed corpus of real files. Usage: run_fuzz.sh SEED_DIR [SECONDS_PER_TARGET] [WORK_DIR]
# SEED_DIR: a fixtures folder (pth_small/*.pth and any *.safetensors under it are used as seeds;
# full-size checkpoints are too large to be useful seeds and are skipped). Exit 0 = no crash.
set -euo pipefail
SEEDS=$1
SECS=${2:-60}
WORK=${3:-/tmp/pcavs-fuzz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang-14}
mkdir -p "$WORK"/corpus_pth "$WORK"/corpus_st "$WORK"/bin
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11"
INC="-I$SRC/include -I$SRC/core -I$SRC/kernels -I$SRC/weights_tools $(pkg-config --cflags libzip libcjson)"
ENG="$SRC/core/safetensors.c $SRC/core/status.c $SRC/core/tensor.c"
$CC $FLAGS $INC -o "$WORK/bin/fuzz_pth" "$SRC/weights_tools/fuzz/fuzz_pth.c" "$SRC/weights_tools/pth.c" $ENG \
  $(pkg-config --libs libzip libcjson) -lm
$CC $FLAGS $INC -o "$WORK/bin/fuzz_safetensors" "$SRC/weights_tools/fuzz/fuzz_safetensors.c" $ENG \
  $(pkg-config --libs libcjson) -lm
find "$SEEDS" -name '*.pth' -size -1000k -exec cp {} "$WORK/corpus_pth/" \; 2>/dev/null || true
find "$SEEDS" -name '*.safetensors' -size -2000k -exec cp {} "$WORK/corpus_st/" \; 2>/dev/null || true
status=0
for t in pth st; do
  bin=$WORK/bin/fuzz_$([ $t = pth ] && echo pth || echo safetensors)
  echo "== fuzz: $(basename "$bin") for ${SECS}s on $(ls "$WORK/corpus_$t" | wc -l) seeds"
  if ! "$bin" "$WORK/corpus_$t" -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$WORK/crash_${t}_" -print_final_stats=1 2>"$WORK/log_$t.txt"; then
    status=1
    echo "== fuzz: $(basename "$bin") FOUND A CRASH (see $WORK/log_$t.txt, artifacts $WORK/crash_${t}_*)"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR" "$WORK/log_$t.txt" || true
done
exit $status
