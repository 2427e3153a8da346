#!/usr/bin/env bash
# run_fuzz_server.sh: builds fuzz_server.c with clang-14 (libFuzzer + ASan + UBSan) over pcavs-server's request
# parsers and runs it for a bounded time on a small seed corpus written here (a real multipart upload,
# JSON control messages, WebSocket messages, file headers). Exit 0 = no crash, hang, leak or OOM.
# usage: run_fuzz_server.sh [SECONDS] [WORK_DIR]
set -euo pipefail
SECS=${1:-20}
WORK=${2:-/tmp/pcavs-fuzz-server}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
S=$SRC/pipeline/server
CC=${CC:-clang-14}
command -v "$CC" >/dev/null || { echo "SKIP: $CC not installed"; exit 0; }
rm -rf "$WORK"
mkdir -p "$WORK/corpus" "$WORK/bin"
$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -I"$S" \
  -o "$WORK/bin/fuzz_server" "$SRC/tests/server/fuzz_server.c" "$S/multipart.c" "$S/json.c" "$S/ws_proto.c" "$S/sniff.c" -lm
c=$WORK/corpus
printf '\0multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name="face"; filename="f.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0data\xff\xd9\r\n--XyZ\r\nContent-Disposition: form-data; name="seed"\r\n\r\n7\r\n--XyZ--\r\n' > "$c/mp1"
printf '\0multipart/form-data; boundary="a b"\n--a b\r\nContent-Disposition: form-data; name="x\\"y"\r\n\r\nv\r\n--a b--' > "$c/mp2"
printf '\1{"type": "start", "format": "rgb", "quality": 90, "seed": 3, "gain": 1.5e0, "pose": "pushed", "x": null, "b": true}' > "$c/js1"
printf '\1{"type":"finish","s":"a\\u0041\\n\\"q\\""}' > "$c/js2"
printf '\2A\0\0\200?\0\0\0\0' > "$c/ws1"
printf '\2F\xff\xd8\xff\xe0\0\0' > "$c/ws2"
printf '\2{"type":"start","noise":"fixed"}' > "$c/ws3"
printf '\3RIFF\0\0\0\0WAVEfmt ' > "$c/sn1"
printf '\3\x89PNG\r\n\x1a\n\0\0\0\0IEND\xae\x42\x60\x82' > "$c/sn2"
echo "== fuzz: fuzz_server for ${SECS}s on $(ls "$c" | wc -l) seeds"
status=0
if ! "$WORK/bin/fuzz_server" "$c" -max_total_time="$SECS" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
     -artifact_prefix="$WORK/crash_" -print_final_stats=1 2>"$WORK/log.txt"; then
  status=1
  echo "== fuzz: fuzz_server FOUND A CRASH (see $WORK/log.txt, artifacts $WORK/crash_*)"
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|cov:" "$WORK/log.txt" | tail -4 || true
exit $status
