// app.js: pcavs-server's page. "Render a clip": POST /v1/jobs, progress from Server-Sent Events, the video
// plays when done. "Live": microphone -> 16 kHz float32 PCM over the /v1/stream WebSocket -> JPEG frames
// drawn in a canvas, with frame rate and latency (from sending the audio a frame needs to drawing it).
'use strict';
const $ = (id) => document.getElementById(id);
const SAMPLES_PER_FRAME = 640;
let apiKey = '';

function keyed(url) {
  return apiKey ? url + (url.includes('?') ? '&' : '?') + 'api_key=' + encodeURIComponent(apiKey) : url;
}
function headers() { return apiKey ? { Authorization: 'Bearer ' + apiKey } : {}; }
function show(el, on) { el.classList.toggle('hidden', !on); }

// ---- tabs
for (const t of document.querySelectorAll('.tab')) {
  t.addEventListener('click', () => {
    for (const o of document.querySelectorAll('.tab')) {
      o.classList.toggle('active', o === t);
      show($(o.dataset.panel), o === t);
    }
  });
}

// ---- health
fetch('/health').then((r) => r.json()).then((h) => {
  const b = $('health');
  b.textContent = `${h.backend} · ${h.precision} · v${h.version}`;
  b.classList.add('ok');
  show($('synthetic'), h.synthetic);
  show($('key-field'), h.auth);
}).catch(() => { $('health').textContent = 'server unreachable'; });
$('api-key').addEventListener('input', (e) => { apiKey = e.target.value; });

// ---- render a clip
let jobId = null, events = null;

function setProgress(done, total, status) {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
  const fill = $('progress-fill');
  fill.style.width = pct + '%';
  fill.classList.toggle('done', status === 'done');
  $('progress-text').textContent = `${pct} %`;
  $('progress-text').dataset.percent = String(pct);
}

function onJob(v) {
  const where = v.status === 'queued' && v.queue_position ? ` (position ${v.queue_position} in the queue)` : '';
  $('job-status').textContent = `${v.status}${where} · ${v.frames_done}/${v.frames_total} frames`;
  $('job-status').dataset.status = v.status;
  setProgress(v.frames_done, v.frames_total, v.status);
  if (v.error && v.status !== 'done') { $('job-error').textContent = v.error; show($('job-error'), true); }
  if (['done', 'failed', 'cancelled'].includes(v.status)) {
    if (events) { events.close(); events = null; }
    $('submit').disabled = false;
    $('cancel').disabled = true;
  }
  if (v.status === 'done') {
    const url = keyed(`/v1/jobs/${v.id}/result`);
    const video = $('video');
    video.src = url;
    show(video, true);
    video.play().catch(() => {});
    $('download').href = url;
    show($('download'), true);
    if ($('side_by_side').checked) {
      $('download-sbs').href = keyed(`/v1/jobs/${v.id}/result?video=side_by_side`);
      show($('download-sbs'), true);
    }
  }
}

$('job-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  show($('job-error'), false);
  show($('video'), false);
  show($('download'), false);
  show($('download-sbs'), false);
  setProgress(0, 1, '');
  const fd = new FormData();
  fd.append('face', $('face').files[0]);
  fd.append('audio', $('audio').files[0]);
  if ($('pose').files.length) fd.append('pose', $('pose').files[0]);
  fd.append('noise', $('noise').value);
  fd.append('seed', $('seed').value || '0');
  fd.append('output_pose', $('output_pose').value);
  if ($('max_frames').value) fd.append('max_frames', $('max_frames').value);
  fd.append('upstream_timing', $('upstream_timing').checked ? '1' : '0');
  fd.append('side_by_side', $('side_by_side').checked ? '1' : '0');
  $('submit').disabled = true;
  $('job-status').textContent = 'uploading…';
  let r, j;
  try {
    r = await fetch('/v1/jobs', { method: 'POST', body: fd, headers: headers() });
    j = await r.json();
  } catch (err) {
    j = { error: String(err) };
  }
  if (!r || r.status !== 202) {
    $('job-error').textContent = j.error || `HTTP ${r && r.status}`;
    show($('job-error'), true);
    $('job-status').textContent = 'not submitted';
    $('submit').disabled = false;
    return;
  }
  jobId = j.id;
  $('cancel').disabled = false;
  events = new EventSource(keyed(`/v1/jobs/${jobId}/events`));
  events.onmessage = (ev) => onJob(JSON.parse(ev.data));
  events.onerror = () => { // the stream ends with the job; poll once to be sure of the final state
    if (events) { events.close(); events = null; }
    fetch(`/v1/jobs/${jobId}`, { headers: headers() }).then((x) => x.json()).then(onJob).catch(() => {});
  };
});

$('cancel').addEventListener('click', () => {
  if (jobId) fetch(`/v1/jobs/${jobId}/cancel`, { method: 'POST', headers: headers() });
});

// ---- live
const live = { ws: null, ac: null, mic: null, proc: null, sent: 0, marks: [], times: [], frames: 0, pcm: [], playAt: 0, played: 0 };

function liveStatus(s) { $('live-status').textContent = s; }

function stopLive(finish) {
  if (live.proc) { live.proc.disconnect(); live.proc = null; }
  if (live.mic) { live.mic.getTracks().forEach((t) => t.stop()); live.mic = null; }
  if (live.ac) { live.ac.close(); live.ac = null; }
  if (live.ws && live.ws.readyState === WebSocket.OPEN && finish) live.ws.send(JSON.stringify({ type: 'finish' }));
  $('live-start').disabled = false;
  $('live-stop').disabled = true;
}

async function startMic() {
  live.mic = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  live.ac = new AudioContext({ sampleRate: 16000 });
  const src = live.ac.createMediaStreamSource(live.mic);
  live.proc = live.ac.createScriptProcessor(1024, 1, 1);
  live.proc.onaudioprocess = (e) => {
    const d = e.inputBuffer.getChannelData(0);
    if (!live.ws || live.ws.readyState !== WebSocket.OPEN) return;
    const buf = new ArrayBuffer(1 + 4 * d.length);
    const v = new DataView(buf);
    v.setUint8(0, 0x41); // 'A'
    for (let i = 0; i < d.length; i++) v.setFloat32(1 + 4 * i, d[i], true);
    live.ws.send(buf);
    live.pcm.push({ start: live.sent, data: new Float32Array(d) }); // kept to play with the frames
    while (live.pcm.length > 200) live.pcm.shift();
    live.sent += d.length;
    live.marks.push([live.sent, performance.now()]);
  };
  src.connect(live.proc);
  live.proc.connect(live.ac.destination); // the processor runs only when connected; it outputs silence
  liveStatus('streaming: speak');
}

// when were the samples frame j needs (640 * (j + 5)) sent?
function sentAt(j) {
  const need = SAMPLES_PER_FRAME * (j + 5);
  while (live.marks.length > 1 && live.marks[1][0] <= need) live.marks.shift();
  for (const m of live.marks) if (m[0] >= need) return m[1];
  return null;
}

// Frame j shows audio time (j + 2) / 25 s: its 40 ms of the microphone's audio are played as it is drawn,
// back to back with the previous frame's (in sync with the frames, late by the latency).
function playFrameAudio(j) {
  if (!$('live-audio').checked || !live.ac) return;
  const s0 = SAMPLES_PER_FRAME * (j + 2);
  const out = new Float32Array(SAMPLES_PER_FRAME);
  for (const c of live.pcm) {
    const a = Math.max(s0, c.start), b = Math.min(s0 + SAMPLES_PER_FRAME, c.start + c.data.length);
    if (a < b) out.set(c.data.subarray(a - c.start, b - c.start), a - s0);
  }
  const buf = live.ac.createBuffer(1, SAMPLES_PER_FRAME, 16000);
  buf.copyToChannel(out, 0);
  const src = live.ac.createBufferSource();
  src.buffer = buf;
  src.connect(live.ac.destination);
  const t = Math.max(live.ac.currentTime + 0.01, live.playAt);
  src.start(t);
  live.playAt = t + SAMPLES_PER_FRAME / 16000;
  live.played++;
  $('live-canvas').dataset.audio = String(live.played);
}

async function onFrame(data) {
  const v = new DataView(data);
  const index = v.getUint32(4, true);
  const t0 = sentAt(index);
  const bmp = await createImageBitmap(new Blob([data.slice(16)], { type: 'image/jpeg' }));
  const c = $('live-canvas');
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  playFrameAudio(index);
  const now = performance.now();
  live.frames++;
  live.times.push(now);
  while (live.times.length && now - live.times[0] > 2000) live.times.shift();
  const fps = live.times.length > 1 ? (1000 * (live.times.length - 1)) / (now - live.times[0]) : 0;
  $('live-fps').textContent = fps.toFixed(1);
  if (t0 !== null) $('live-latency').textContent = String(Math.round(now - t0));
  $('live-frames').textContent = String(live.frames);
  c.dataset.frames = String(live.frames);
}

$('live-start').addEventListener('click', () => {
  const face = $('live-face').files[0];
  if (!face) { liveStatus('choose a face image first'); return; }
  Object.assign(live, { sent: 0, marks: [], times: [], frames: 0, pcm: [], playAt: 0, played: 0 });
  $('live-start').disabled = true;
  $('live-stop').disabled = false;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}${keyed('/v1/stream')}`);
  ws.binaryType = 'arraybuffer';
  live.ws = ws;
  ws.onopen = () => {
    liveStatus('loading the model…');
    ws.send(JSON.stringify({ type: 'start', format: 'jpeg', quality: 85 }));
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data !== 'string') { onFrame(ev.data); return; }
    const m = JSON.parse(ev.data);
    if (m.type === 'ready') { liveStatus('sending the face…'); ws.send(new Blob([new Uint8Array([0x46]), face])); }
    else if (m.type === 'identity') startMic().catch((err) => { liveStatus('microphone: ' + err); stopLive(false); });
    else if (m.type === 'error') { liveStatus('error: ' + m.error); stopLive(false); }
    else if (m.type === 'end') liveStatus(`ended: ${m.frames} frames`);
  };
  ws.onclose = () => {
    if (live.ws !== ws) return; // stopped by the user
    stopLive(false);
    live.ws = null;
    if (!/error|ended/.test($('live-status').textContent)) liveStatus('closed by the server');
  };
});

// Stop ends the session now: the frames of audio already sent but not yet drawn are dropped (finishing
// them would take as long as the backlog where generation is slower than real time)
$('live-stop').addEventListener('click', () => {
  stopLive(false);
  const ws = live.ws;
  live.ws = null;
  if (ws) ws.close();
  liveStatus(`stopped after ${live.frames} frames`);
});
