#!/usr/bin/env bash
# test_shard_resume.sh: pcavs-infer --csv batch behaviour without a scheduler (fast):
#   - --shard auto from the environment: every error case exits 2 with its message (no scheduler, a Slurm
#     job that is not an array, missing/malformed/inconsistent SLURM_ARRAY_TASK_*, a list array,
#     JOB_COMPLETION_INDEX without N or out of range, bad specs); the valid cases pick the right rows
#     (checked from the summary, with a model that does not exist so that nothing renders);
#   - a failing row does not stop the others, exit 1, and its summary line says why;
#   - resume: existing outputs skipped (same inode and mtime), said on stdout and in the summary; a stale
#     temporary of a killed render removed; a render killed mid-way leaves no output under the final name;
#   - --overwrite renders again (a new inode, byte-identical content); the summary lines are JSON.
# usage: test_shard_resume.sh PCAVS_INFER PCAVS_CONVERT SOURCE_DIR
set -uo pipefail
INFER=$1
CONVERT=$2
SRC=$3
EX=$SRC/examples
PY=/usr/bin/python3
W=$(mktemp -d /tmp/pcavs-test-shard.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
for p in ffmpeg ffprobe; do
  command -v $p >/dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
# a clean scheduler environment (the test may itself run inside a Slurm job or a pod)
CLEAN=(env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_MAX -u SLURM_ARRAY_TASK_COUNT
  -u SLURM_ARRAY_TASK_STEP -u SLURM_JOB_ID -u JOB_COMPLETION_INDEX)
# summary lines of a file as "row:status" words, in order
rows_of() { $PY -c '
import json, sys
print(" ".join("%d:%s" % (d["row"], d["status"]) for d in map(json.loads, open(sys.argv[1]))))' "$1"; }

# ---- 1. --shard auto: the environment (no model needed: the errors come before it is loaded) ----
for k in 0 1 2 3; do
  echo "$EX/Input/517600055 1 none 0 $W/a$k.wav none 0 dummy"
done >"$W/four.csv"
auto_err() { # auto_err EXPECTED_MESSAGE SHARD_SPEC [VAR=VALUE...]
  local want=$1 spec=$2
  shift 2
  local out rc
  out=$("${CLEAN[@]}" "$@" "$INFER" --model "$W/none.safetensors" --csv "$W/four.csv" -o "$W/auto_err" \
    --shard "$spec" 2>&1)
  rc=$?
  if [ $rc -eq 2 ] && echo "$out" | grep -qF -- "$want" && [ ! -e "$W/auto_err" ]; then
    ok "--shard $spec $*: exit 2, '$want' ($(echo "$out" | head -1))"
  else
    bad "--shard $spec $*: want exit 2 with '$want' and no output folder, got exit $rc: $out"
  fi
}
auto_err "neither SLURM_ARRAY_TASK_ID" auto
auto_err "neither SLURM_ARRAY_TASK_ID" auto/4
auto_err "is not a job array" auto SLURM_JOB_ID=77
auto_err "SLURM_ARRAY_TASK_COUNT is not" auto SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=0
auto_err "SLURM_ARRAY_TASK_MIN is not" auto SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2
auto_err "SLURM_ARRAY_TASK_ID='1x' is not an integer" auto SLURM_ARRAY_TASK_ID=1x \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2
auto_err "SLURM_ARRAY_TASK_ID='-1' is not an integer" auto SLURM_ARRAY_TASK_ID=-1 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2
auto_err "SLURM_ARRAY_TASK_COUNT='' is not an integer" auto SLURM_ARRAY_TASK_ID=0 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=
auto_err "SLURM_ARRAY_TASK_COUNT='0' is not an integer >= 1" auto SLURM_ARRAY_TASK_ID=0 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=0
auto_err "SLURM_ARRAY_TASK_STEP='0' is not an integer >= 1" auto SLURM_ARRAY_TASK_ID=0 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_STEP=0
auto_err "SLURM_ARRAY_TASK_ID=2 is not in the array" auto SLURM_ARRAY_TASK_ID=2 \
  SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_COUNT=2
auto_err "SLURM_ARRAY_TASK_ID=5 is not in the array" auto SLURM_ARRAY_TASK_ID=5 \
  SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_COUNT=2
auto_err "SLURM_ARRAY_TASK_ID=3 is not in the array" auto SLURM_ARRAY_TASK_ID=3 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_STEP=2
auto_err "not an evenly spaced range" auto SLURM_ARRAY_TASK_ID=5 \
  SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_STEP=1
auto_err "the Slurm array has 2 tasks" auto/3 SLURM_ARRAY_TASK_ID=0 \
  SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2
auto_err "use --shard auto/N" auto JOB_COMPLETION_INDEX=1
auto_err "JOB_COMPLETION_INDEX=3 is not below 3" auto/3 JOB_COMPLETION_INDEX=3
auto_err "JOB_COMPLETION_INDEX='-1' is not an integer" auto/3 JOB_COMPLETION_INDEX=-1
auto_err "--shard needs I/N" auto/0 JOB_COMPLETION_INDEX=0
auto_err "--shard needs I/N" auto/x JOB_COMPLETION_INDEX=0
auto_err "--shard needs I/N" autox JOB_COMPLETION_INDEX=0
out=$("${CLEAN[@]}" SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=1 "$INFER" \
  --model "$W/none.safetensors" -f x -a y -o "$W/x.mp4" --shard auto 2>&1)
rc=$?
check "--shard auto without --csv: exit $rc == 2 ($out)" eval '[ $rc -eq 2 ] && echo "$out" | grep -q "needs --csv"'
out=$("${CLEAN[@]}" "$INFER" --model "$W/none.safetensors" -f x -a y -o "$W/x.mp4" --overwrite 2>&1)
rc=$?
check "--overwrite without --csv: exit $rc == 2 ($out)" \
  eval '[ $rc -eq 2 ] && echo "$out" | grep -q "overwrite needs --csv"'

# the Kubernetes example's --shard auto/N agrees with its completions
Y=$SRC/examples/k8s/indexed-job.yaml
yc=$(sed -n 's/^ *completions: *\([0-9]*\).*/\1/p' "$Y")
ya=$(grep -o '"auto/[0-9]*"' "$Y" | tr -dc 0-9)
check "examples/k8s/indexed-job.yaml: Indexed, --shard auto/$ya == completions $yc" \
  eval '[ -n "$yc" ] && [ "$yc" = "$ya" ] && grep -q "completionMode: Indexed" "$Y"'

# test_slurm_array's skip reason when Slurm's client commands are missing (here: not on PATH)
why=$(PATH=/nonexistent /bin/bash -c 'source "$1"; slurm_local_start "$2/nodir"; echo "rc=$? $SLURM_LOCAL_WHY"' _ \
  "$SRC/tests/scaleout/slurm_local.sh" "$W")
check "slurm_local_start without sbatch/sinfo/...: fails with the reason ($why)" \
  eval 'echo "$why" | grep -q "^rc=1 not installed: .*sbatch.*apt-get install" && [ ! -e "$W/nodir" ]'

n_ok=0
auto_ok() { # auto_ok SHARD_SPEC WANT_I WANT_N WANT_ROWS VAR=VALUE...: which rows the shard attempts
  local spec=$1 wi=$2 wn=$3 want=$4 o="$W/auto_ok_$n_ok"
  n_ok=$((n_ok + 1))
  shift 4
  local out rc got
  out=$("${CLEAN[@]}" "$@" "$INFER" --model "$W/none.safetensors" --csv "$W/four.csv" -o "$o" --shard "$spec" 2>&1)
  rc=$?
  got=$(rows_of "$o/summary-shard-$wi-of-$wn.jsonl" 2>/dev/null)
  if [ $rc -eq 1 ] && echo "$out" | grep -q "shard $wi/$wn from" && [ "$got" = "$want" ] &&
    [ "$(ls "$o")" = "summary-shard-$wi-of-$wn.jsonl" ]; then
    ok "--shard $spec $*: shard $wi/$wn, rows '$got' (want '$want': each failed, no model), exit 1"
  else
    bad "--shard $spec $*: want shard $wi/$wn rows '$want' exit 1, got exit $rc rows '$got': $out"
  fi
}
auto_ok auto 1 2 "1:failed 3:failed" SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_COUNT=2 \
  SLURM_ARRAY_TASK_MAX=4 SLURM_ARRAY_TASK_STEP=1
auto_ok auto/2 0 2 "0:failed 2:failed" SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_COUNT=2
auto_ok auto 2 3 "2:failed" SLURM_ARRAY_TASK_ID=16 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=3 \
  SLURM_ARRAY_TASK_MAX=16 SLURM_ARRAY_TASK_STEP=3
auto_ok auto/3 0 3 "0:failed 3:failed" JOB_COMPLETION_INDEX=0
auto_ok auto/3 2 3 "2:failed" JOB_COMPLETION_INDEX=2
got=$($PY -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])][0]
print(d["error"] if d["frames"] is None and d["output"].endswith(".mp4") else "bad line %r" % d)' \
  "$W"/auto_ok_0/summary-shard-1-of-2.jsonl 2>&1)
check "no model: the summary's error names it ($got), frames null" eval 'echo "$got" | grep -q "none.safetensors"'

# ---- 2. real renders with a synthesized model: 3 rows, the middle one failing ----
"$CONVERT" --synthesize -o "$W/model.safetensors" --seed 3 >/dev/null || { echo "FAIL pcavs-convert --synthesize"; exit 1; }
# 0.30 s tones (n_mel 37: 5 frames); rows render 1 frame (--max-frames 1) in the identity's own pose
for k in 0 2; do
  ffmpeg -v error -f lavfi -i "sine=frequency=$((300 + 100 * k)):sample_rate=16000:duration=0.3" -c:a pcm_s16le "$W/a$k.wav"
done
{
  echo "$EX/Input/517600055 1 none 0 $W/a0.wav none 0 dummy"
  echo "$EX/Input/517600055 1 none 0 $W/missing.wav none 0 dummy"
  echo "$EX/Input/517600055 1 none 0 $W/a2.wav none 0 dummy"
} >"$W/three.csv"
O=$W/out
V0=$O/id_517600055_pose_517600055_audio_a0.mp4
V2=$O/id_517600055_pose_517600055_audio_a2.mp4
RUN=("${CLEAN[@]}" "$INFER" --model "$W/model.safetensors" --csv "$W/three.csv" -o "$O" --max-frames 1 --noise fixed)
mkdir -p "$O"
touch "$V0.tmp-AbC123" # a temporary left by a killed render of row 0
out=$("${RUN[@]}" 2>&1)
rc=$?
check "a failing row: exit $rc == 1" [ $rc -eq 1 ]
check "a failing row does not stop the others: rows 0 and 2 written" eval '[ -s "$V0" ] && [ -s "$V2" ]'
check "the failing row's error on stderr names it (row 1, from 0) and its input" \
  eval 'echo "$out" | grep -q "three.csv row 1: .*missing.wav"'
check "summary: '$(rows_of "$O/summary-shard-0-of-1.jsonl")' == '0:done 1:failed 2:done'" \
  [ "$(rows_of "$O/summary-shard-0-of-1.jsonl")" = "0:done 1:failed 2:done" ]
got=$($PY -c '
import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
keys = ["row", "shard", "output", "status", "frames", "seconds", "error"]
assert all(list(d) == keys for d in L), L
assert L[0]["frames"] == 1 and L[0]["error"] is None and L[0]["output"] == sys.argv[2] and L[0]["seconds"] > 0
assert L[1]["frames"] is None and "missing.wav" in L[1]["error"] and L[0]["shard"] == "0/1"
print("ok")' "$O/summary-shard-0-of-1.jsonl" "$V0" 2>&1)
check "summary lines: the keys in order, frames 1 / null, the error, the output path ($got)" [ "$got" = ok ]
check "the stale temporary of row 0 removed, none left" [ -z "$(ls "$O" | grep tmp-)" ]
ino0=$(stat -c %i.%Y.%s "$V0")
ino2=$(stat -c %i.%Y.%s "$V2")
sleep 1.1 # an mtime that changed would show
out=$("${RUN[@]}" 2>&1)
rc=$?
check "resume: exit $rc == 1 (row 1 still fails)" [ $rc -eq 1 ]
check "resume: rows 0 and 2 said skipped on stdout" eval '[ "$(echo "$out" | grep -c "exists, skipped")" = 2 ]'
check "resume: rows 0 and 2 untouched (inode.mtime.size $(stat -c %i.%Y.%s "$V0") == $ino0, and row 2's)" \
  eval '[ "$(stat -c %i.%Y.%s "$V0")" = "$ino0" ] && [ "$(stat -c %i.%Y.%s "$V2")" = "$ino2" ]'
check "resume: summary appended '0:skipped 1:failed 2:skipped'" \
  eval '[ "$(rows_of "$O/summary-shard-0-of-1.jsonl")" = "0:done 1:failed 2:done 0:skipped 1:failed 2:skipped" ]'
cp "$V0" "$W/v0_first.mp4"
out=$("${RUN[@]}" --shard 0/2 --overwrite 2>&1)
rc=$?
check "--overwrite --shard 0/2 (rows 0, 2): exit $rc == 0" [ $rc -eq 0 ]
check "--overwrite: rendered again (a new inode: $(stat -c %i "$V0") != ${ino0%%.*})" \
  [ "$(stat -c %i "$V0")" != "${ino0%%.*}" ]
check "--overwrite: the same bytes as the first render (deterministic)" cmp -s "$V0" "$W/v0_first.mp4"
check "--overwrite: summary-shard-0-of-2 '$(rows_of "$O/summary-shard-0-of-2.jsonl")' == '0:done 2:done'" \
  [ "$(rows_of "$O/summary-shard-0-of-2.jsonl")" = "0:done 2:done" ]
out=$("${RUN[@]}" --shard 0/2 -q 2>&1)
rc=$?
check "all skipped: exit $rc == 0, nothing printed with -q ('$out')" eval '[ $rc -eq 0 ] && [ -z "$out" ]'
check "all skipped: summary '0:skipped 2:skipped' appended" \
  [ "$(rows_of "$O/summary-shard-0-of-2.jsonl")" = "0:done 2:done 0:skipped 2:skipped" ]

# ---- 3. a render killed mid-way: nothing under the final name; the next run removes its temporary ----
ffmpeg -v error -f lavfi -i "sine=frequency=500:sample_rate=16000:duration=4" -c:a pcm_s16le "$W/long.wav"
echo "$EX/Input/517600055 1 none 0 $W/long.wav none 0 dummy" >"$W/long.csv"
K=$W/killed
VK=$K/id_517600055_pose_517600055_audio_long.mp4
# in a process group of its own, killed whole like a cancelled job (ffmpeg with it: an orphaned ffmpeg would
# go on finishing its file after the next run removed it)
setsid "${CLEAN[@]}" "$INFER" --model "$W/model.safetensors" --csv "$W/long.csv" -o "$K" --noise fixed -q &
pid=$!
for _ in $(seq 300); do
  ls "$K" 2>/dev/null | grep -q tmp- && break
  sleep 0.1
done
sleep 0.5
kill -KILL -- -$pid
wait $pid 2>/dev/null
for _ in $(seq 50); do # until the group (ffmpeg too) is gone
  kill -0 -- -$pid 2>/dev/null || break
  sleep 0.1
done
check "killed mid-way: a temporary exists ($(ls "$K" | grep tmp- | head -1)), nothing under the final name" \
  eval '[ -n "$(ls "$K" | grep tmp-)" ] && [ ! -e "$VK" ]'
"${CLEAN[@]}" "$INFER" --model "$W/model.safetensors" --csv "$W/long.csv" -o "$K" --noise fixed -q --max-frames 1
rc=$?
check "killed then run again: exit $rc == 0, the output written, its stale temporary removed" \
  eval '[ $rc -eq 0 ] && [ -s "$VK" ] && [ -z "$(ls "$K" | grep tmp-)" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
