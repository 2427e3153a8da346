#!/usr/bin/python3
"""test_server_page.py: pcavs-server's embedded page in headless Chromium (Debian chromium +
chromium-driver, driven by Selenium): the page loads and shows the backend; a job on the demo inputs is
submitted through the form, the progress bar reaches 100 % and the video element plays (readyState >= 2,
currentTime advancing); the live tab streams a WAV given as a fake microphone and draws frames in its
canvas, showing frame rate and latency. Screenshots of the finished page and of the live tab go to
WORK_DIR (docs/server.png is the first one). Skips, saying why, without chromium, chromedriver or selenium.
usage: test_server_page.py SERVER MODEL SOURCE_DIR WORK_DIR"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import Server, check, finish, tone_wav  # noqa: E402

SERVER, MODEL, SRC, WORK = [os.path.abspath(a) for a in sys.argv[1:5]]
missing = [p for p in ("chromium", "chromedriver", "ffmpeg") if not shutil.which(p)]
try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
except ImportError:
    missing.append("python3-selenium")
if missing:
    print(f"SKIP: {', '.join(missing)} not installed (scripts/deps/server.optional.txt)")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
T0 = time.time()
face = os.path.join(SRC, "examples/Input/517600055/000000.jpg")
audio = os.path.join(WORK, "speech.wav")
tone_wav(audio, 0.40)  # 8 frames: a video of 0.32 s
mic = os.path.join(WORK, "mic.wav")
tone_wav(mic, 4.0, seed=5)

KEY = "page-key-42"  # the page's key field, EventSource, <video src> and WebSocket URLs all carry it
srv = Server(SERVER, MODEL, os.path.join(WORK, "tmp"), "--batch", "2", "--max-streams", "1", "--api-key", KEY, "-q")
srv.key = KEY
opts = webdriver.ChromeOptions()
opts.binary_location = shutil.which("chromium")
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
          "--window-size=1280,1040", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
          f"--use-file-for-fake-audio-capture={mic}", "--autoplay-policy=no-user-gesture-required",
          f"--user-data-dir={os.path.join(WORK, 'profile')}"):
    opts.add_argument(a)
service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"), log_output=os.path.join(WORK, "driver.log")) \
    if hasattr(webdriver, "ChromeService") else None
driver = webdriver.Chrome(options=opts, service=service) if service else webdriver.Chrome(options=opts)
js = driver.execute_script


def wait_for(cond, timeout, step=0.1):
    t = time.time()
    while time.time() - t < timeout:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


try:
    driver.get(f"http://127.0.0.1:{srv.port}/")
    badge = wait_for(lambda: "cpu" in driver.find_element(By.ID, "health").text and driver.find_element(By.ID, "health").text, 20)
    check(bool(badge), f"page loaded, health badge: {badge!r}")
    check(driver.find_element(By.ID, "synthetic").is_displayed(), "the synthetic-weights warning is shown")

    # ---- a job through the form (with the API key typed into its field)
    key_field = wait_for(lambda: driver.find_element(By.ID, "api-key").is_displayed(), 10)
    check(bool(key_field), "the API key field is shown (the server has --api-key)")
    driver.find_element(By.ID, "api-key").send_keys(KEY)
    driver.find_element(By.ID, "face").send_keys(face)
    driver.find_element(By.ID, "audio").send_keys(audio)
    driver.find_element(By.ID, "noise").send_keys("fixed")
    t = time.time()
    driver.find_element(By.ID, "submit").click()
    seen = []

    def progressed():
        p = driver.find_element(By.ID, "progress-text").get_attribute("data-percent")
        s = driver.find_element(By.ID, "job-status").get_attribute("data-status")
        if p is not None and (not seen or seen[-1] != int(p)):
            seen.append(int(p))
        return s in ("done", "failed", "cancelled") and s

    status = wait_for(progressed, 120, 0.05)
    check(status == "done", f"job status in the page: {status} after {time.time() - t:.1f} s")
    check(seen and seen[-1] == 100 and all(a <= b for a, b in zip(seen, seen[1:])),
          f"progress bar reached 100 %, monotonic: {seen}")
    ready = wait_for(lambda: js("const v = document.getElementById('video'); return v.readyState >= 2 && v.duration > 0"
                                " ? [v.readyState, v.duration] : null"), 30)
    check(bool(ready), f"video element loaded: readyState, duration = {ready}")
    t0 = js("const v = document.getElementById('video'); v.loop = true; v.currentTime = 0; v.play().catch(() => {});"
            " return v.currentTime")
    played = wait_for(lambda: js("const v = document.getElementById('video'); return v.currentTime > 0 ? v.currentTime : 0"), 10)
    check(played and played > t0, f"video plays: currentTime {t0} -> {played}")
    time.sleep(0.5)
    shot = os.path.join(WORK, "server.png")
    driver.save_screenshot(shot)
    check(os.path.getsize(shot) > 10000, f"screenshot of the finished page: {shot} ({os.path.getsize(shot)} bytes)")

    # ---- the live tab: a WAV as the microphone
    driver.find_element(By.ID, "tab-live").click()
    driver.find_element(By.ID, "live-face").send_keys(face)
    driver.find_element(By.ID, "live-audio").click()  # play the microphone's audio with the frames
    t = time.time()
    driver.find_element(By.ID, "live-start").click()
    frames = wait_for(lambda: int(driver.find_element(By.ID, "live-canvas").get_attribute("data-frames") or 0) >= 4
                      and int(driver.find_element(By.ID, "live-canvas").get_attribute("data-frames")), 120, 0.2)
    live_s = time.time() - t
    fps = driver.find_element(By.ID, "live-fps").text
    lat = driver.find_element(By.ID, "live-latency").text
    status = driver.find_element(By.ID, "live-status").text
    check(bool(frames), f"live tab drew {frames} frames from the fake microphone in {live_s:.1f} s (status {status!r})")
    check(float(fps) > 0 and lat.isdigit() and int(lat) > 0, f"live tab shows frame rate {fps} frames/s and latency {lat} ms")
    nonblank = js("const c = document.getElementById('live-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                  " let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2]; return s")
    check(nonblank > 0, f"the canvas holds a frame (pixel sum {nonblank})")
    # Both counters in one script: frames keep arriving, and two separate reads could straddle one.
    drawn, played = js("const d = document.getElementById('live-canvas').dataset;"
                       " return [Number(d.frames || 0), Number(d.audio || 0)]")
    check(played == drawn and played > 0, f"each drawn frame played its 40 ms of audio: {played} of {drawn}")
    driver.save_screenshot(os.path.join(WORK, "server_live.png"))
    driver.find_element(By.ID, "live-stop").click()
    stopped = driver.find_element(By.ID, "live-status").text
    t = time.time()
    released = wait_for(lambda: srv.json("GET", "/health")[1]["streams"]["open"] == 0, 60, 0.2)
    check("stopped" in stopped and released,
          f"Stop closes the stream ({stopped!r}); the server frees its stream slot in {time.time() - t:.1f} s")
    logs = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] if hasattr(driver, "get_log") else []
    check(not logs, f"no errors in the browser console: {logs[:3]}")
finally:
    driver.quit()
    rc, secs = srv.stop()
check(rc == 0, f"server exit {rc}")
print(f"   (test_server_page total {time.time() - T0:.1f} s)")
finish()
