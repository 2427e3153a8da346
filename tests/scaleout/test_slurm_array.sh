#!/usr/bin/env bash
# test_slurm_array.sh: examples/slurm/render_array.sbatch on a real one-node Slurm (munged, slurmctld and
# slurmd started here on localhost by slurm_local.sh, stopped by pid at the end) over a 4-row CSV of the
# demo inputs with a synthesized model:
#   - sbatch --wait --array=0-1: the 4 videos byte-identical to an unsharded run; each shard's summary
#     lists its rows (r % 2 == I) as done;
#   - the job again as --array=10-11 (ids need not start at 0) renders nothing: every new summary line
#     "skipped", inodes/mtimes unchanged;
#   - a job cancelled (scancel) once its first video appears, submitted again: the finished rows skipped
#     (same inode and mtime), the others done, all 4 byte-identical to the unsharded run, no temporaries.
# Skips (exit 77) with the reason when Slurm/munge are not installed or the daemons cannot start.
# usage: test_slurm_array.sh PCAVS_INFER PCAVS_CONVERT SOURCE_DIR
set -uo pipefail
INFER=$1
CONVERT=$2
SRC=$3
EX=$SRC/examples
SBATCH_SCRIPT=$SRC/examples/slurm/render_array.sbatch
PY=/usr/bin/python3
source "$SRC/tests/scaleout/slurm_local.sh"
W=$(mktemp -d /tmp/pcavs-test-slurm.XXXXXX)
chmod 755 "$W"
cleanup() {
  if [ -n "${SLURM_CONF:-}" ] && [ -n "$(squeue -h 2>/dev/null)" ]; then # a job of a failed run: cancel it first
    scancel --quiet --user=root 2>/dev/null
    for _ in $(seq 50); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  slurm_local_stop
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT # the EXIT trap then stops the daemons
pass=0
fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
skip() {
  echo "SKIP test_slurm_array: $*"
  exit 77
}
command -v ffmpeg >/dev/null || skip "ffmpeg not installed"
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_MAX SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_STEP \
  SLURM_JOB_ID JOB_COMPLETION_INDEX
t0=$(date +%s.%N)
slurm_local_start "$W/slurm" || skip "$SLURM_LOCAL_WHY"
echo "one-node Slurm up in $($PY -c "print('%.1f' % ($(date +%s.%N) - $t0))") s ($(sinfo -h -o '%P %t %c CPUs'))"

# ---- inputs: a synthesized model, 4 rows of the demo's kinds of input, 0.30 s of audio each ----
"$CONVERT" --synthesize -o "$W/model.safetensors" --seed 5 >/dev/null || { echo "FAIL pcavs-convert --synthesize"; exit 1; }
ffmpeg -v error -ss 1.0 -t 0.3 -i "$EX/Audio_Source/681600002.mp3" -ac 1 -ar 16000 "$W/a0.wav"
ffmpeg -v error -ss 2.0 -t 0.3 -i "$EX/Audio_Source/681600002.mp3" -ac 1 -ar 16000 "$W/a1.wav"
ffmpeg -v error -ss 0.5 -t 0.3 -i "$EX/Audio_Source/00015.mp4" -vn -ac 1 -ar 16000 "$W/a2.wav"
ffmpeg -v error -ss 3.0 -t 0.3 -i "$EX/Audio_Source/681600002.mp3" -ac 1 -ar 16000 "$W/a3.wav"
{
  echo "$EX/Input/517600055 1 $EX/Pose_Source/517600078 40 $W/a0.wav $EX/Mouth_Source/681600002 40 dummy"
  echo "$EX/Input/517600055 1 none 0 $W/a1.wav none 0 dummy"
  echo "$EX/Input/517600055 1 $EX/Pose_Source/00473.mp4 0 $W/a2.wav none 0 dummy"
  echo "$EX/Input/517600055 1 $EX/Pose_Source/517600078 40 $W/a3.wav none 0 dummy"
} >"$W/rows.csv"
NAMES=(id_517600055_pose_517600078_audio_a0.mp4 id_517600055_pose_517600055_audio_a1.mp4
  id_517600055_pose_00473.mp4_audio_a2.mp4 id_517600055_pose_517600078_audio_a3.mp4)
FLAGS=(--max-frames 1 --noise fixed)

# the unsharded run (one thread, as each array task gets one CPU)
t=$(date +%s.%N)
"$INFER" --model "$W/model.safetensors" --csv "$W/rows.csv" -o "$W/ref" --threads 1 "${FLAGS[@]}" >/dev/null 2>&1
rc=$?
echo "unsharded run: $($PY -c "print('%.1f' % ($(date +%s.%N) - $t))") s"
check "unsharded run: exit $rc == 0, 4 videos" eval '[ $rc -eq 0 ] && [ "$(ls "$W/ref" | grep -c "\.mp4$")" = 4 ]'

export MODEL=$W/model.safetensors CSV=$W/rows.csv PCAVS_INFER=$INFER
submit() { # submit OUT [sbatch options...] -> sbatch's exit status; its output in $W/sbatch.out
  local out=$1
  shift
  OUT=$out sbatch --chdir="$W" --cpus-per-task=1 --output="$W/job-%A_%a.out" "$@" "$SBATCH_SCRIPT" \
    "${FLAGS[@]}" >"$W/sbatch.out" 2>&1
}
same_as_ref() { # same_as_ref DIR: the 4 videos byte-identical to the unsharded run's
  for n in "${NAMES[@]}"; do cmp -s "$1/$n" "$W/ref/$n" || return 1; done
}
stamps() { for n in "${NAMES[@]}"; do [ -e "$1/$n" ] && echo "$n $(stat -c '%i %y' "$1/$n")"; done; }
# the summary lines of DIR from line FROM on (0-based, over both shard files) as "row:status" sorted by row
lines_since() { # lines_since DIR FROM0 FROM1
  $PY - "$1" "$2" "$3" <<'PYEOF'
import json, sys
d, skip = sys.argv[1], [int(sys.argv[2]), int(sys.argv[3])]
out = []
for i in range(2):
    try:
        L = open("%s/summary-shard-%d-of-2.jsonl" % (d, i)).read().splitlines()[skip[i]:]
    except FileNotFoundError:
        L = []
    for l in L:
        j = json.loads(l)
        assert j["shard"] == "%d/2" % i and j["row"] % 2 == i, j
        out.append((j["row"], j["status"]))
print(" ".join("%d:%s" % rs for rs in sorted(out)))
PYEOF
}
nlines() { cat "$1" 2>/dev/null | wc -l; }

# ---- 1. sbatch --wait --array=0-1: two shards ----
t=$(date +%s.%N)
submit "$W/out" --wait --array=0-1
rc=$?
echo "array 0-1: $($PY -c "print('%.1f' % ($(date +%s.%N) - $t))") s"
check "sbatch --wait --array=0-1: exit $rc == 0 ($(tr '\n' ' ' <"$W/sbatch.out"))" [ $rc -eq 0 ]
check "the 4 videos byte-identical to the unsharded run" same_as_ref "$W/out"
got=$(lines_since "$W/out" 0 0)
check "summaries: '$got' == '0:done 1:done 2:done 3:done' (rows r % 2 == I in shard I)" \
  [ "$got" = "0:done 1:done 2:done 3:done" ]
check "each task said its shard came from the Slurm array" \
  eval 'grep -q "shard 0/2 from Slurm array task" "$W"/job-*_0.out && grep -q "shard 1/2 from Slurm array task" "$W"/job-*_1.out'

# ---- 2. the same job again, as --array=10-11 (ids need not start at 0): nothing rendered ----
before=$(stamps "$W/out")
n0=$(nlines "$W/out/summary-shard-0-of-2.jsonl")
n1=$(nlines "$W/out/summary-shard-1-of-2.jsonl")
sleep 1.1
t=$(date +%s.%N)
submit "$W/out" --wait --array=10-11
rc=$?
echo "array 10-11 (again): $($PY -c "print('%.1f' % ($(date +%s.%N) - $t))") s"
got=$(lines_since "$W/out" "$n0" "$n1")
check "second submission (--array=10-11): exit $rc == 0, summaries '$got' == all 4 skipped" \
  eval '[ $rc -eq 0 ] && [ "$got" = "0:skipped 1:skipped 2:skipped 3:skipped" ]'
check "second submission: task 10 took shard 0/2, task 11 shard 1/2" \
  eval 'grep -q "shard 0/2 from Slurm array task 10 of 10..11" "$W"/job-*_10.out &&
        grep -q "shard 1/2 from Slurm array task 11 of 10..11" "$W"/job-*_11.out'
check "second submission: no video rewritten (inodes and mtimes unchanged)" [ "$(stamps "$W/out")" = "$before" ]

# ---- 3. cancelled once its first video appears (one task at a time: %1), then submitted again ----
submit "$W/cut" --parsable --array=0-1%1
rc=$?
job=$(cut -d';' -f1 <"$W/sbatch.out")
check "sbatch --array=0-1%1: exit $rc == 0, job $job" eval '[ $rc -eq 0 ] && [ -n "$job" ]'
for _ in $(seq 1200); do
  ls "$W/cut" 2>/dev/null | grep -q '\.mp4$' && break
  sleep 0.1
done
scancel "$job"
for _ in $(seq 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
sleep 0.5
have=$(ls "$W/cut" | grep -c '\.mp4$')
echo "cancelled job $job with $have of 4 videos written: $(ls "$W/cut" | tr '\n' ' ')"
check "cancelled mid-way: 1 <= $have videos < 4 ($(ls "$W/cut" | grep -c tmp-) temporary of the killed row)" \
  eval '[ $have -ge 1 ] && [ $have -lt 4 ]'
before=$(stamps "$W/cut")
n0=$(nlines "$W/cut/summary-shard-0-of-2.jsonl")
n1=$(nlines "$W/cut/summary-shard-1-of-2.jsonl")
want=$(for r in 0 1 2 3; do
  if [ -e "$W/cut/${NAMES[$r]}" ]; then echo -n "$r:skipped "; else echo -n "$r:done "; fi
done)
want=${want% }
sleep 1.1
t=$(date +%s.%N)
submit "$W/cut" --wait --array=0-1
rc=$?
echo "resubmitted: $($PY -c "print('%.1f' % ($(date +%s.%N) - $t))") s"
got=$(lines_since "$W/cut" "$n0" "$n1")
check "resubmitted: exit $rc == 0, summaries '$got' == '$want' (finished rows skipped, the rest done)" \
  eval '[ $rc -eq 0 ] && [ "$got" = "$want" ]'
check "resubmitted: the $have videos finished before the cancel untouched (same inode and mtime)" \
  eval '[ -n "$before" ] && [ "$(echo "$before" | while read -r n _; do grep "^$n " <<<"$(stamps "$W/cut")"; done)" = "$before" ]'
check "resubmitted: the 4 videos byte-identical to the unsharded run" same_as_ref "$W/cut"
check "resubmitted: no temporaries left ($(ls "$W/cut" | grep -c tmp-))" [ -z "$(ls "$W/cut" | grep tmp-)" ]

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
