"""server_util.py: helpers for the pcavs-server tests: start the real binary on a loopback port (any free
port, read back from its first line), HTTP requests with http.client (never a proxy), multipart bodies,
Server-Sent Events, PASS/FAIL bookkeeping with the measured value next to its bound."""
import atexit
import http.client
import json
import os
import signal
import subprocess
import sys
import time

os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"

PASSED = 0
FAILED = 0
_SERVERS = []


@atexit.register
def _kill_leftovers():
    """A test that dies half-way must not leave its server running."""
    for srv in _SERVERS:
        if srv.p.poll() is None:
            srv.p.send_signal(signal.SIGTERM)
            try:
                srv.p.wait(15)
            except subprocess.TimeoutExpired:
                srv.p.kill()
                srv.p.wait()


def check(ok, what):
    global PASSED, FAILED
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    if ok:
        PASSED += 1
    else:
        FAILED += 1
    return ok


def finish():
    print(f"{PASSED} passed, {FAILED} failed", flush=True)
    sys.exit(1 if FAILED else 0)


class Server:
    """The pcavs-server process, with its private folder under tmpdir."""

    def __init__(self, binary, model, tmpdir, *args, env_extra=None):
        os.makedirs(tmpdir, exist_ok=True)
        self.tmpdir = tmpdir
        env = dict(os.environ, TMPDIR=tmpdir, OMP_WAIT_POLICY="PASSIVE", **(env_extra or {}))
        self.t0 = time.time()
        self.p = subprocess.Popen([binary, "--model", model, "--port", "0", *args], stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(tmpdir, "..", os.path.basename(tmpdir) + ".log"), "w"),
                                  env=env, text=True)
        _SERVERS.append(self)
        line = self.p.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"pcavs-server did not start: {line!r}")
        self.port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        self.start_s = time.time() - self.t0
        self.key = None

    def root(self):
        """The server's private folder (pcavs-server-XXXXXX under tmpdir)."""
        d = [x for x in os.listdir(self.tmpdir) if x.startswith("pcavs-server-")]
        return os.path.join(self.tmpdir, d[0]) if d else None

    def files(self):
        """Every file and folder under the private folder."""
        r = self.root()
        out = []
        if r:
            for dp, dns, fns in os.walk(r):
                out += [os.path.join(dp, n) for n in dns + fns]
        return out

    def rss_kb(self, field="VmRSS"):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return -1

    def request(self, method, path, body=None, headers=None, key=True, timeout=120):
        h = dict(headers or {})
        if key and self.key:
            h["Authorization"] = "Bearer " + self.key
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def json(self, method, path, **kw):
        st, h, data = self.request(method, path, **kw)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, {"raw": data[:200]}

    def submit(self, fields, **kw):
        body, ct = multipart(fields)
        return self.json("POST", "/v1/jobs", body=body, headers={"Content-Type": ct}, **kw)

    def events(self, job_id, timeout=300):
        """Every SSE data object of a job until the stream ends."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Authorization": "Bearer " + self.key} if self.key else {}
        c.request("GET", f"/v1/jobs/{job_id}/events", headers=h)
        r = c.getresponse()
        out = []
        if r.status != 200:
            return r.status, r.getheader("Content-Type"), out
        while True:
            line = r.fp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
        c.close()
        return 200, r.getheader("Content-Type"), out

    def wait(self, job_id, states=("done", "failed", "cancelled"), timeout=300):
        t = time.time()
        while time.time() - t < timeout:
            st, j = self.json("GET", f"/v1/jobs/{job_id}")
            if st != 200 or j.get("status") in states:
                return j
            time.sleep(0.1)
        return j

    def stop(self, timeout=60):
        """SIGTERM; returns (exit status, seconds it took)."""
        t = time.time()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        return rc, time.time() - t


def multipart(fields, boundary="pcavsTestBoundary7MA4YWxkTrZu0gW"):
    """fields: (name, filename or None, bytes). Returns (body, content type)."""
    out = []
    for name, filename, data in fields:
        disp = f'form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out.append(f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode())
        if filename is not None:
            out.append(b"Content-Type: application/octet-stream\r\n")
        out.append(b"\r\n" + (data if isinstance(data, bytes) else str(data).encode()) + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def tone_wav(path, seconds, seed=1):
    """A 16 kHz mono int16 WAV: a tone with a little deterministic noise."""
    import math
    import random
    import struct
    import wave
    rnd = random.Random(seed)
    n = int(round(16000 * seconds))
    s = [int(8000 * math.sin(2 * math.pi * 220 * i / 16000) + rnd.randint(-500, 500)) for i in range(n)]
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(struct.pack(f"<{n}h", *s))


def decode_rgb(path):
    """Every frame of a video as raw RGB bytes (ffmpeg)."""
    return subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          check=True, capture_output=True).stdout
