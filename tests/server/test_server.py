#!/usr/bin/python3
"""test_server.py: pcavs-server end to end, the real binary on a loopback port with a synthesized model:
  - GET /health, GET / (the embedded page);
  - a job on the demo inputs (face crop, speech, pose video): its video's decoded frames equal pcavs-infer's
    with the same options byte for byte; its Server-Sent Events are monotonic and end in done;
  - --max-queue 1 answers 429; a queued job is cancelled at once, a running one within a frame; the result
    is 409 until done; inputs are removed when a job ends;
  - every bad upload gets its 4xx naming the field (truncated image, text as audio, empty and missing
    fields, 10x the size limit, path-like file names, wrong or missing API key, bad options) and the
    server keeps serving;
  - WebSocket /v1/stream: the frames equal the C streaming API's (tests/server/stream_ref.c) byte for byte;
    a second stream over --max-streams 1 is refused; misuse gets an error message;
  - SIGTERM during a running job: exit 0, the private folder removed.
usage: test_server.py SERVER INFER STREAM_REF MODEL SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import Server, check, decode_rgb, finish, multipart, tone_wav  # noqa: E402

SERVER, INFER, STREAM_REF, MODEL, SRC, WORK = sys.argv[1:7]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
T0 = time.time()
for prog in ("ffmpeg",):
    if not shutil.which(prog):
        print(f"SKIP: {prog} is not installed")
        print("0 passed, 0 failed, 1 skipped")
        sys.exit(0)

# ---- inputs: the demo's face crop, 0.30 s of speech-like tone (5 frames), a pose video of 8 demo frames
face_path = os.path.join(SRC, "examples/Input/517600055/000000.jpg")
face = open(face_path, "rb").read()
audio_path = os.path.join(WORK, "audio.wav")
tone_wav(audio_path, 0.30)
audio = open(audio_path, "rb").read()
long_audio_path = os.path.join(WORK, "long.wav")
tone_wav(long_audio_path, 3.0, seed=2)
long_audio = open(long_audio_path, "rb").read()
pose_path = os.path.join(WORK, "pose.mp4")
subprocess.run(["ffmpeg", "-v", "error", "-y", "-framerate", "25", "-i",
                os.path.join(SRC, "examples/Pose_Source/517600078/%06d.jpg"), "-frames:v", "8", "-c:v", "libx264",
                "-pix_fmt", "yuv420p", pose_path], check=True)
pose = open(pose_path, "rb").read()

KEY = "test-key-0123456789"
srv = Server(SERVER, MODEL, os.path.join(WORK, "tmp"), "--max-queue", "1", "--parallel", "1", "--batch", "1",
             "--api-key", KEY, "--max-upload-mb", "1", "--keep-seconds", "60", "--max-streams", "1", "-q")
srv.key = KEY
print(f"server up in {srv.start_s:.1f} s on port {srv.port}")
st, root_mode = 0, os.stat(srv.root()).st_mode & 0o777
check(root_mode == 0o700, f"private folder mode {oct(root_mode)} == 0o700")

# ---- health and page
st, h = srv.json("GET", "/health", key=False)
check(st == 200 and h.get("status") == "ok" and h.get("synthetic") is True and h.get("backend") == "cpu"
      and "precision" in h and "version" in h, f"GET /health: {st} {h}")
st, hd, page = srv.request("GET", "/", key=False)
check(st == 200 and hd.get("Content-Type", "").startswith("text/html") and b"app.js" in page,
      f"GET /: {st} {hd.get('Content-Type')} ({len(page)} bytes, embedded page)")
st, hd, js = srv.request("GET", "/app.js", key=False)
check(st == 200 and b"EventSource" in js, f"GET /app.js: {st} ({len(js)} bytes)")

# ---- 1. a job == pcavs-infer, byte for byte; SSE monotonic, ends in done
opts = [("noise", None, "random"), ("seed", None, "7"), ("max_frames", None, "3"), ("upstream_timing", None, "0")]
t = time.time()
st, j = srv.submit([("face", "face.jpg", face), ("audio", "speech.wav", audio), ("pose", "pose.mp4", pose)] + opts)
check(st == 202 and len(j.get("id", "")) == 32, f"POST /v1/jobs: {st} {j}")
jid = j.get("id")
est, ect, ev = srv.events(jid)
done = [e["frames_done"] for e in ev]
check(est == 200 and ect == "text/event-stream", f"events: {est} {ect}")
check(len(ev) >= 2 and all(a <= b for a, b in zip(done, done[1:])),
      f"SSE frames_done monotonic over {len(ev)} events: {done}")
check(ev and ev[-1]["status"] == "done" and ev[-1]["frames_done"] == ev[-1]["frames_total"] == 3,
      f"SSE ends in done with 3/3 frames: {ev[-1] if ev else None}")
job_s = time.time() - t
st, hd, mp4 = srv.request("GET", f"/v1/jobs/{jid}/result")
check(st == 200 and hd.get("Content-Type") == "video/mp4" and mp4[4:8] == b"ftyp",
      f"GET result: {st} {hd.get('Content-Type')} {len(mp4)} bytes")
got_path = os.path.join(WORK, "server.mp4")
open(got_path, "wb").write(mp4)
ref_path = os.path.join(WORK, "infer.mp4")
t = time.time()
r = subprocess.run([INFER, "--model", MODEL, "-f", face_path, "-a", audio_path, "-p", pose_path, "--noise", "random",
                    "--seed", "7", "--max-frames", "3", "-b", "1", "-q", "-o", ref_path],
                   env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
infer_s = time.time() - t
check(r.returncode == 0, f"pcavs-infer with the same options: exit {r.returncode}")
a, b = decode_rgb(got_path), decode_rgb(ref_path)
nf = len(a) // (224 * 224 * 3)
check(len(a) == len(b) and nf == 3 and a == b,
      f"decoded frames: server {len(a)} bytes ({nf} frames) == pcavs-infer {len(b)} bytes, byte for byte: {a == b}")
print(f"   (job {job_s:.1f} s through the server, {infer_s:.1f} s pcavs-infer)")
left = [f for f in srv.files() if os.path.basename(f).split(".")[0] in ("face", "audio", "pose")]
check(not left, f"the done job's inputs are removed: {left}")
st, j = srv.json("GET", "/v1/jobs/" + "0" * 32)
check(st == 404 and "error" in j, f"unknown job: {st} {j}")

# ---- 1b. align + paste_back on a face that is not a crop (the demo crop padded to 400x360): == pcavs-infer
#          --align --paste-back, byte for byte, at the source resolution
big_path = os.path.join(WORK, "big.png")
subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", face_path, "-vf", "pad=400:360:96:80:color=0x808080", big_path],
               check=True)
t = time.time()
st, j = srv.submit([("face", "big.png", open(big_path, "rb").read()), ("audio", "a.wav", audio), ("align", None, "1"),
                    ("paste_back", None, "1"), ("noise", None, "fixed"), ("max_frames", None, "2")])
if st == 400 and "landmark" in j.get("error", ""):
    print(f"SKIP align/paste_back: {j['error']}")
else:
    jv = srv.wait(j.get("id", ""))
    check(st == 202 and jv.get("status") == "done", f"align + paste_back job: {st} {jv.get('status')} {jv.get('error')}")
    st, hd, mp4 = srv.request("GET", f"/v1/jobs/{j.get('id')}/result")
    got_path = os.path.join(WORK, "server_pasted.mp4")
    open(got_path, "wb").write(mp4)
    align_s = time.time() - t
    ref_path = os.path.join(WORK, "infer_pasted.mp4")
    r = subprocess.run([INFER, "--model", MODEL, "-f", big_path, "-a", audio_path, "--align", "--paste-back", ref_path,
                        "-o", os.path.join(WORK, "infer_crop.mp4"), "--noise", "fixed", "--max-frames", "2", "-b", "1",
                        "-q"], env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"), capture_output=True)
    a = decode_rgb(got_path) if st == 200 else b""
    b = decode_rgb(ref_path) if r.returncode == 0 else b""
    check(len(a) == 2 * 400 * 360 * 3 and a == b,
          f"pasted-back frames at 400x360: server {len(a)} bytes == pcavs-infer --align --paste-back {len(b)} bytes,"
          f" byte for byte: {a == b} (job {align_s:.1f} s)")
st, j = srv.submit([good_face := ("face", "face.jpg", face), ("audio", "a.wav", audio), ("paste_back", None, "1")])
check(st == 400 and "align" in j.get("error", ""), f"paste_back without align: {st} {j.get('error')!r}")
st, j = srv.submit([("face", "big.png", open(big_path, "rb").read()), ("audio", "a.wav", audio)])
check(st == 400 and "224x224" in j.get("error", ""), f"a 400x360 face without align: {st} {j.get('error')!r}")

# ---- 2. --max-queue 1: 429; cancel queued and running jobs; result 409 until done
st, a_job = srv.submit([("face", "f.jpg", face), ("audio", "a.wav", long_audio), ("noise", None, "fixed")])
check(st == 202, f"long job A: {st}")
aid = a_job.get("id")
ja = srv.wait(aid, states=("running", "done", "failed", "cancelled"))
check(ja.get("status") == "running", f"job A running: {ja.get('status')}")
st, b_job = srv.submit([("face", "f.jpg", face), ("audio", "a.wav", audio)])
bid = b_job.get("id")
st_b, jb = srv.json("GET", f"/v1/jobs/{bid}")
check(st == 202 and jb.get("status") == "queued" and jb.get("queue_position") == 1,
      f"job B queued at position 1: {st} {jb.get('status')} {jb.get('queue_position')}")
st, c_job = srv.submit([("face", "f.jpg", face), ("audio", "a.wav", audio)])
check(st == 429 and "queue" in c_job.get("error", ""), f"job C with the queue full (--max-queue 1): {st} {c_job}")
st, res = srv.json("GET", f"/v1/jobs/{aid}/result")
check(st == 409, f"result of the running job: {st} {res}")
st, cb = srv.json("POST", f"/v1/jobs/{bid}/cancel", body=b"")
jb = srv.wait(bid, timeout=5)
check(st == 200 and jb.get("status") == "cancelled", f"cancel the queued job B: {st} -> {jb.get('status')}")
time.sleep(1.0)
t = time.time()
st, ca = srv.json("POST", f"/v1/jobs/{aid}/cancel", body=b"")
ja = srv.wait(aid, timeout=60)
cancel_s = time.time() - t
check(st == 200 and ja.get("status") == "cancelled" and ja["frames_done"] < ja["frames_total"],
      f"cancel the running job A: {ja.get('status')} at {ja.get('frames_done')}/{ja.get('frames_total')} frames")
check(cancel_s <= 15, f"cancel took {cancel_s:.1f} s <= 15 s (one frame at --batch 1)")
st, res = srv.json("GET", f"/v1/jobs/{aid}/result")
check(st == 409 and "cancelled" in res.get("error", ""), f"result of the cancelled job: {st} {res}")
left = [f for f in srv.files() if not f.endswith("result.mp4") and os.path.isfile(f)]
check(not left, f"no input left after the cancels: {left}")

# ---- 3. bad uploads: each its 4xx naming the problem, and the server keeps serving
before = set(os.listdir(WORK)) | set(os.listdir("/tmp"))
good = {"face": ("face", "face.jpg", face), "audio": ("audio", "a.wav", audio)}
cases = [
    ("truncated image", [("face", "face.jpg", face[: len(face) // 2]), good["audio"]], 400, "face"),
    ("text sent as audio", [good["face"], ("audio", "a.wav", b"this is not audio, just text\n" * 20)], 400, "audio"),
    ("empty face", [("face", "face.jpg", b""), good["audio"]], 400, "face"),
    ("missing audio", [good["face"]], 400, "audio"),
    ("missing face", [good["audio"]], 400, "face"),
    ("empty option", [good["face"], good["audio"], ("seed", None, "")], 400, "seed"),
    ("bad noise", [good["face"], good["audio"], ("noise", None, "loud")], 400, "noise"),
    ("negative seed", [good["face"], good["audio"], ("seed", None, "-3")], 400, "seed"),
    ("unknown field", [good["face"], good["audio"], ("colour", None, "red")], 400, "colour"),
    ("bad align value", [good["face"], good["audio"], ("align", None, "maybe")], 400, "align"),
    ("audio as pose", [good["face"], good["audio"], ("pose", "p.mp4", audio)], 400, "pose"),
    ("path-like file name ../", [("face", "../../../tmp/evil.jpg", face), good["audio"]], 400, "face"),
    ("path-like file name /", [("face", "/tmp/evil.jpg", face), good["audio"]], 400, "face"),
    ("path-like file name \\", [good["face"], ("audio", "..\\..\\evil.wav", audio)], 400, "audio"),
    ("too short audio", [good["face"], ("audio", "a.wav", audio[:44 + 2 * 1600])], 400, "audio"),
]
for name, fields, want, field in cases:
    st, j = srv.submit(fields)
    check(st == want and field in j.get("error", ""), f"bad upload, {name}: {st} (want {want}) {j.get('error')!r}")
big = [("face", "face.jpg", face + os.urandom(10 * 1024 * 1024)), good["audio"]]
st, j = srv.submit(big)
check(st == 413 and "limit" in j.get("error", ""), f"bad upload, 10x the 1 MiB limit: {st} {j.get('error')!r}")
body, ct = multipart([good["face"], good["audio"]])
st, j = srv.json("POST", "/v1/jobs", body=body, headers={"Content-Type": ct, "Authorization": "Bearer wrong-key"},
                 key=False)
check(st == 401, f"wrong API key: {st} {j}")
st, j = srv.json("POST", "/v1/jobs", body=body, headers={"Content-Type": ct}, key=False)
check(st == 401, f"missing API key: {st} {j}")
st, j = srv.json("GET", f"/v1/jobs/{aid}?api_key={KEY[:-1]}x", key=False)
check(st == 401, f"wrong API key in the query: {st}")
st, j = srv.json("POST", "/v1/jobs", body=body, headers={"Content-Type": ct, "Origin": "http://evil.example"})
check(st == 403 and "cross-origin" in j.get("error", ""), f"cross-site POST (Origin of another site): {st} {j}")
st, j = srv.json("POST", f"/v1/jobs/{aid}/cancel", body=b"", headers={"Origin": f"http://127.0.0.1:{srv.port}"})
check(st == 200, f"same-origin POST (the page's Origin): {st}")
st, j = srv.json("POST", "/v1/jobs", body=b"face=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
check(st == 400 and "multipart" in j.get("error", ""), f"not multipart: {st} {j}")
body, ct = multipart([good["face"], good["audio"]])
st, j = srv.json("POST", "/v1/jobs", body=body[: len(body) // 2], headers={"Content-Type": ct})
check(st == 400, f"truncated multipart body: {st} {j}")
after = set(os.listdir(WORK)) | set(os.listdir("/tmp"))
check(not any("evil" in x for x in after - before), f"no file named after a request: {sorted(after - before)}")
left = [f for f in srv.files() if not f.endswith("result.mp4") and os.path.isfile(f)]
check(not left, f"refused uploads leave no file: {left}")
for path in ("/favicon.ico", "/../../etc/passwd", "/v1/nothing"):
    st, j = srv.json("GET", path, key=False)
    check(st == 404 and "error" in j, f"GET {path}: {st} {j}")
import socket  # noqa: E402
for raw_req in (b"GARBAGE\r\n\r\n", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
                b"POST /v1/jobs HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00"):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(raw_req)
    try:
        answer = s.recv(64)
    except OSError as e:
        answer = str(e).encode()
    s.close()
    check(answer[:9] in (b"HTTP/1.0 ", b"HTTP/1.1 ") and answer[9:10] == b"4",
          f"malformed request {raw_req[:24]!r}...: {answer[:32]!r}")
st, h = srv.json("GET", "/health", key=False)
check(st == 200 and srv.p.poll() is None, f"the server keeps serving after the bad uploads: {st}")

# ---- 4. WebSocket stream == the C streaming API, byte for byte
try:
    import websocket  # python3-websocket
except ImportError:
    websocket = None
    print("SKIP WebSocket checks: python3-websocket is not installed")
if websocket:
    import math
    n = int(0.24 * 16000)  # 24 + 7 rows: 3 frames
    pcm = [0.3 * math.sin(2 * math.pi * 180 * i / 16000) + 0.05 * math.sin(i * 0.37) for i in range(n)]
    raw = struct.pack(f"<{n}f", *pcm)
    pcm_path = os.path.join(WORK, "pcm.f32")
    open(pcm_path, "wb").write(raw)
    url = f"ws://127.0.0.1:{srv.port}/v1/stream?api_key={KEY}"
    t = time.time()
    ws = websocket.create_connection(url, timeout=120)
    ready = json.loads(ws.recv())
    check(ready.get("type") == "ready" and ready.get("lookahead_ms") == 120, f"stream: ready message {ready}")
    ws2 = websocket.create_connection(url, timeout=60)
    m2 = json.loads(ws2.recv())
    check(m2.get("type") == "error" and "too many streams" in m2.get("error", ""),
          f"a second stream over --max-streams 1 is refused: {m2}")
    ws2.close()
    ws.send(json.dumps({"type": "start", "format": "rgb", "noise": "fixed", "seed": 0}))
    ws.send_binary(b"F" + face)
    ident = json.loads(ws.recv())
    check(ident.get("type") == "identity", f"stream: identity {ident}")
    frames, headers = [], []
    received = []

    def reader():
        while True:
            op, data = ws.recv_data()
            if op == 2:
                received.append((time.time(), data))
            elif op == 1:
                received.append((time.time(), json.loads(data)))
                if received[-1][1].get("type") in ("end", "error"):
                    return
            else:
                return
    th = threading.Thread(target=reader)
    th.start()
    chunk = 1024
    for off in range(0, n, chunk):
        ws.send_binary(b"A" + raw[4 * off: 4 * min(n, off + chunk)])
    ws.send(json.dumps({"type": "finish"}))
    th.join(120)
    stream_s = time.time() - t
    ws.close()
    for _, d in received:
        if isinstance(d, bytes):
            tag, idx, tsec = d[0:1], struct.unpack("<I", d[4:8])[0], struct.unpack("<d", d[8:16])[0]
            headers.append((tag, idx, tsec))
            frames.append(d[16:])
    end = [d for _, d in received if isinstance(d, dict)]
    check(end and end[-1].get("type") == "end" and end[-1].get("frames") == 3, f"stream: end message {end}")
    check([h[1] for h in headers] == [0, 1, 2] and all(h[0] == b"R" and abs(h[2] - h[1] / 25) < 1e-9 for h in headers),
          f"stream: frame headers (tag, index, time) {headers}")
    ref_out = os.path.join(WORK, "stream_ref.rgb")
    r = subprocess.run([STREAM_REF, MODEL, face_path, pcm_path, ref_out, "1", "0"], capture_output=True, text=True,
                       env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    ref = open(ref_out, "rb").read() if r.returncode == 0 else b""
    got = b"".join(frames)
    check(r.returncode == 0 and len(ref) == 3 * 224 * 224 * 3 and got == ref,
          f"stream frames == pcavs_stream_* frames byte for byte: {len(got)} vs {len(ref)} bytes, equal {got == ref}"
          f" {r.stderr.strip()}")
    print(f"   (stream of 3 frames in {stream_s:.1f} s including the stream context's creation)")
    def slot_free():
        t = time.time()
        while time.time() - t < 30:
            if srv.json("GET", "/health")[1]["streams"]["open"] == 0:
                return True
            time.sleep(0.05)
        return False
    check(slot_free(), "the stream slot is free again after the stream ended")
    # misuse: audio before the face
    ws = websocket.create_connection(url, timeout=60)
    ws.recv()
    ws.send_binary(b"A" + raw[:400])
    m = json.loads(ws.recv())
    check(m.get("type") == "error" and "face" in m.get("error", ""), f"stream: audio before the face: {m}")
    ws.close()
    slot_free()
    ws = websocket.create_connection(url, timeout=60)
    ws.recv()
    ws.send_binary(b"A" + raw[:7])
    m = json.loads(ws.recv())
    check(m.get("type") == "error" and "float32" in m.get("error", ""), f"stream: ragged PCM: {m}")
    ws.close()
    try:
        websocket.create_connection(f"ws://127.0.0.1:{srv.port}/v1/stream?api_key=nope", timeout=10).recv()
        refused = False
    except Exception:
        refused = True
    check(refused, "stream with a wrong API key is refused")
    try:
        websocket.create_connection(url, timeout=10, origin="http://evil.example").recv()
        refused = False
    except Exception:
        refused = True
    check(refused, "stream from another site's page (Origin) is refused")
    slot_free()

# ---- 5. SIGTERM while a job runs: exit 0, everything removed
st, j = srv.submit([("face", "f.jpg", face), ("audio", "a.wav", long_audio)])
srv.wait(j.get("id", ""), states=("running",), timeout=60)
rc, secs = srv.stop()
check(rc == 0, f"SIGTERM during a running job: exit status {rc} after {secs:.1f} s")
check(srv.root() is None, f"the private folder is removed: {os.listdir(srv.tmpdir)}")
# ---- 6. a job that fails while rendering (no ffmpeg on the server's PATH: the MP4 cannot be written) is
#         marked failed with the reason, and the server goes on serving
srv = Server(SERVER, MODEL, os.path.join(WORK, "tmp2"), "-q", env_extra={"PATH": "/nonexistent"})
st, j = srv.submit([("face", "f.jpg", face), ("audio", "a.wav", audio)])
jf = srv.wait(j.get("id", ""), timeout=60)
check(st == 202 and jf.get("status") == "failed" and "ffmpeg" in (jf.get("error") or ""),
      f"a job failing in the renderer: {st} -> {jf.get('status')}: {jf.get('error')!r}")
st, res = srv.json("GET", f"/v1/jobs/{j.get('id')}/result")
check(st == 409 and "failed" in res.get("error", ""), f"result of the failed job: {st} {res}")
st, h = srv.json("GET", "/health")
check(st == 200 and srv.p.poll() is None and not [f for f in srv.files() if os.path.isfile(f)],
      f"the server serves on after the failed job, its inputs removed: {st}")
rc, secs = srv.stop()
check(rc == 0, f"exit {rc}")
print(f"   (test_server total {time.time() - T0:.1f} s)")
finish()
