#!/usr/bin/python3
"""test_server_load.py: 20 clients submitting at once to pcavs-server --max-queue 8 (--parallel 1, tiny
one-frame clips): every request gets 202 or 429, 202s are at most max_queue + parallel, every accepted
job completes; once the results expire (--keep-seconds 2) the private folder is empty and the server's
RSS is back within 10 % of its idle level (idle: after one warm-up job expired, i.e. with the model's
activation arenas planned). Prints the figures (accepted, rejected, job times, RSS idle/peak/after).
usage: test_server_load.py SERVER MODEL SOURCE_DIR WORK_DIR"""
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import Server, check, finish, tone_wav  # noqa: E402

SERVER, MODEL, SRC, WORK = sys.argv[1:5]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
T0 = time.time()
if not shutil.which("ffmpeg"):
    print("SKIP: ffmpeg is not installed")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)
face = open(os.path.join(SRC, "examples/Input/517600055/000000.jpg"), "rb").read()
ap = os.path.join(WORK, "a.wav")
tone_wav(ap, 0.21)
audio = open(ap, "rb").read()
CLIENTS, MAX_QUEUE, KEEP = 20, 8, 2.0
fields = [("face", "f.jpg", face), ("audio", "a.wav", audio), ("max_frames", None, "1"), ("noise", None, "fixed")]

srv = Server(SERVER, MODEL, os.path.join(WORK, "tmp"), "--max-queue", str(MAX_QUEUE), "--parallel", "1",
             "--batch", "1", "--keep-seconds", str(KEEP), "-q")
rss_start = srv.rss_kb()


def wait_empty(timeout):
    t = time.time()
    while time.time() - t < timeout:
        if not srv.files():
            return True
        time.sleep(0.2)
    return False


# warm-up: one job, then wait until it expired
st, j = srv.submit(fields)
jw = srv.wait(j.get("id", ""))
check(st == 202 and jw.get("status") == "done", f"warm-up job: {st} {jw.get('status')}")
check(wait_empty(KEEP + 10), "warm-up job expired: the private folder is empty")
time.sleep(0.5)
rss_idle = srv.rss_kb()

# 20 clients at once
results = [None] * CLIENTS
barrier = threading.Barrier(CLIENTS)


def client(i):
    barrier.wait()
    t = time.time()
    try:
        st, j = srv.submit(fields, timeout=120)
    except Exception as e:  # a refused connection would be a failure too
        st, j = -1, {"error": str(e)}
    results[i] = (st, j, time.time() - t)


t_load = time.time()
ths = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
for th in ths:
    th.start()
for th in ths:
    th.join()
statuses = [r[0] for r in results]
accepted = [r[1]["id"] for r in results if r[0] == 202]
rejected = statuses.count(429)
submit_max = max(r[2] for r in results)
check(all(s in (202, 429) for s in statuses), f"every one of {CLIENTS} requests got 202 or 429: {sorted(statuses)}")
check(1 <= len(accepted) <= MAX_QUEUE + 1,
      f"accepted {len(accepted)} (1 <= n <= max_queue + parallel = {MAX_QUEUE + 1}), rejected {rejected} with 429")
check(all("queue" in r[1].get("error", "") for r in results if r[0] == 429), "every 429 says the queue is full")
# event streams are limited (each holds a server thread): 32 open at once, the 33rd gets 503, and the
# server still answers other requests meanwhile
import http.client  # noqa: E402
streams, codes = [], []
last = accepted[-1] if accepted else "0" * 32
for i in range(33):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    c.request("GET", f"/v1/jobs/{last}/events")
    r = c.getresponse()
    codes.append(r.status)
    streams.append((c, r))
t = time.time()
st, h = srv.json("GET", "/health")
health_s = time.time() - t
check(codes[:32] == [200] * 32 and codes[32] == 503,
      f"32 event streams open at once, the 33rd refused: {codes.count(200)} x 200, last {codes[32]}")
check(st == 200 and health_s < 5, f"/health answers with 32 event streams open: {st} in {health_s:.2f} s")
for c, r in streams:
    c.close()
final = {}
pending = set(accepted)
while pending and time.time() - t_load < 300:  # every job polled in turn: a result expires KEEP s after its end
    for jid in list(pending):
        st, v = srv.json("GET", f"/v1/jobs/{jid}")
        if st != 200 or v.get("status") in ("done", "failed", "cancelled"):
            final[jid] = v if st == 200 else {"status": f"HTTP {st}"}
            pending.discard(jid)
    time.sleep(0.05)
load_s = time.time() - t_load
done = [v for v in final.values() if v.get("status") == "done"]
check(len(done) == len(accepted), f"every accepted job completed: {len(done)}/{len(accepted)} done in {load_s:.1f} s "
      f"(slowest submission answered in {submit_max:.2f} s)")
st, h = srv.json("GET", "/health")
check(st == 200, f"the server serves after the load: {st} {h.get('jobs')}")
empty = wait_empty(KEEP + 15)
check(empty, f"after the results expired ({KEEP} s) the private folder is empty: {srv.files()[:5]}")
time.sleep(0.5)
rss_after = srv.rss_kb()
rss_peak = srv.rss_kb("VmHWM")
ratio = abs(rss_after - rss_idle) / rss_idle
print(f"   RSS: start {rss_start / 1024:.0f} MiB, idle {rss_idle / 1024:.0f} MiB, peak {rss_peak / 1024:.0f} MiB, "
      f"after {rss_after / 1024:.0f} MiB")
check(ratio <= 0.10, f"RSS after the load {rss_after} kB within 10 % of idle {rss_idle} kB: {100 * ratio:.1f} % <= 10 %")
rc, secs = srv.stop()
check(rc == 0 and srv.root() is None, f"SIGTERM: exit {rc} in {secs:.1f} s, private folder removed")
print(f"   (test_server_load total {time.time() - T0:.1f} s)")
finish()
