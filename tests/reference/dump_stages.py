"""dump_stages.py: runs the PC-AVS inference dataflow (docs/model.md §7) with the PyTorch reference
networks (pcavs_torch.py) on the bundled demo and dumps the preprocessed inputs and every stage output
to one safetensors file, for the C stage-by-stage parity tests. Tensor names: tests/reference/README.md.

Usage: dump_stages.py --ckpt DIR --out FILE.safetensors [--frames 4] [--demo-dir DIR]
                      [--g-stage-frames 1] [--no-nonoise] [--weights-out FILE.safetensors]

Preprocessing (here only so that the dumped inputs are realistic; exact preprocessing parity is
tested elsewhere, and the C tests feed the dumped in.* tensors): images with cv2 if importable,
else PIL decode + a numpy transcription of cv2.resize INTER_LINEAR (docs/numerics.md §3.2); audio = the
WAV samples / 32768 -> RMS-normalise to 0.1 -> numpy lws STFT (1280/160) -> Slaney mel 80 ->
dB -> [0, 1] (docs/numerics.md §2.4-2.6). Output frames k = 2 .. 2 + frames - 1 (dataset index k - 2).
"""
import argparse
import os
import sys
import time
import wave

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcavs_torch as P  # noqa: E402
import safetensors_io  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
ID_IMG = "Input/517600055/000000.jpg"
POSE_DIR = "Pose_Source/517600078"
AUDIO = "Audio_Source/681600002.mp3"


# ---------------------------------------------------------------------------------------------
# Demo inputs and preprocessing
# ---------------------------------------------------------------------------------------------

def find_demo_dir(explicit):
    if explicit:
        return explicit
    for d in (os.path.join(REPO, "examples"), "/work/shared/demo"):
        if all(os.path.exists(os.path.join(d, p)) for p in (ID_IMG, os.path.join(POSE_DIR, "000000.jpg"), AUDIO)):
            return d
    raise SystemExit("dump_stages.py: no demo folder with %s, %s/000000.jpg and %s (use --demo-dir)"
                     % (ID_IMG, POSE_DIR, AUDIO))


def pose_frame_count(demo):
    """Number of pose frames: from demo.csv (column 4) if present, else the files in the folder."""
    csv = os.path.join(demo, "demo.csv")
    if os.path.exists(csv):
        with open(csv) as f:
            for line in f:
                cols = line.split()
                if len(cols) >= 4 and cols[2].rstrip("/").endswith(POSE_DIR):
                    return int(cols[3])
    files = [f for f in os.listdir(os.path.join(demo, POSE_DIR)) if f.endswith(".jpg")]
    return len(files)


def cv2_resize_linear_u8(img, out_h, out_w):
    """Numpy transcription of cv2.resize INTER_LINEAR for uint8 HxWxC (fixed point, docs/numerics.md §3.2)."""
    h, w = img.shape[:2]

    def coeffs(n_out, n_in, clamp):
        scale = 1.0 / (float(n_out) / n_in)
        d = np.arange(n_out, dtype=np.float64)
        f = ((d + 0.5) * scale - 0.5).astype(np.float32)
        s = np.floor(f).astype(np.int64)
        f = (f - s.astype(np.float32)).astype(np.float32)
        if clamp:
            lo = s < 0
            f[lo], s[lo] = 0, 0
            hi = s >= n_in - 1
            f[hi], s[hi] = 0, n_in - 1
        c0 = np.rint((np.float32(1) - f) * np.float32(2048)).astype(np.int64)
        c1 = np.rint(f * np.float32(2048)).astype(np.int64)
        return s, c0, c1

    sx, ax0, ax1 = coeffs(out_w, w, True)
    sy, by0, by1 = coeffs(out_h, h, False)
    src = img.astype(np.int64)
    t = src[:, sx, :] * ax0[None, :, None] + src[:, np.minimum(sx + 1, w - 1), :] * ax1[None, :, None]
    r0, r1 = np.clip(sy, 0, h - 1), np.clip(sy + 1, 0, h - 1)
    v = ((by0[:, None, None] * (t[r0] >> 4)) >> 16) + ((by1[:, None, None] * (t[r1] >> 4)) >> 16)
    return np.clip((v + 2) >> 2, 0, 255).astype(np.uint8)


def load_image(path):
    """load_img + to_Tensor: [3, 224, 224] float32 RGB in [-1, 1]."""
    try:
        import cv2
        bgr = cv2.imread(path)
        if bgr is None:
            raise SystemExit(f"dump_stages.py: cannot read image {path}")
        rgb = cv2.cvtColor(cv2.resize(bgr[:192, 16:208], (224, 224)), cv2.COLOR_BGR2RGB)
    except ImportError:
        from PIL import Image
        rgb = np.asarray(Image.open(path).convert("RGB"))
        rgb = cv2_resize_linear_u8(np.ascontiguousarray(rgb[:192, 16:208]), 224, 224)
    x = (rgb.transpose(2, 0, 1) / 255.0).astype(np.float32) * np.float32(2) - np.float32(1)
    return torch.from_numpy(np.ascontiguousarray(x))


def read_wav(path):
    """PCM16 mono 16 kHz WAV (the demo's .mp3 is one) -> float32 samples / 32768."""
    with wave.open(path, "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1 or f.getframerate() != 16000:
            raise SystemExit(f"dump_stages.py: {path}: expected 16 kHz mono PCM16 WAV")
        raw = f.readframes(f.getnframes())
    return (np.frombuffer(raw, dtype="<i2").astype(np.float32) * np.float32(1.0 / 32768)).astype(np.float32)


def lws_stft(y, n=1280, hop=160):
    a = np.sqrt(0.5 * (1 - np.cos(2 * np.pi * np.arange(1, 2 * n, 2) / (2 * n))))
    w = np.tile(np.sum((a * a).reshape(n // hop, hop), axis=0), n // hop)
    awin = np.sqrt(a * (a / w))
    post = 0 if len(y) % hop == 0 else hop - len(y) % hop
    x = np.concatenate([np.zeros(n - hop), np.asarray(y, np.float64), np.zeros(post + n - hop)])
    m = (len(x) - (n - hop)) // hop
    frames = np.stack([x[i * hop:i * hop + n] * awin for i in range(m)])
    return np.fft.fft(frames, n=n, axis=1)[:, :n // 2 + 1]  # (M, 641) complex128


def mel_basis(sr=16000, n_fft=1280, n_mels=80, fmin=125, fmax=7600):
    f_sp, lo_hz = 200.0 / 3, 1000.0
    lo_mel, ls = lo_hz / f_sp, np.log(6.4) / 27.0

    def h2m(f):
        return f / f_sp if f < lo_hz else lo_mel + np.log(f / lo_hz) / ls

    m = np.linspace(h2m(fmin), h2m(fmax), n_mels + 2)
    mel_f = np.where(m >= lo_mel, lo_hz * np.exp(ls * (m - lo_mel)), f_sp * m)
    fft = np.linspace(0, sr / 2, n_fft // 2 + 1)
    r = np.subtract.outer(mel_f, fft)
    d = np.diff(mel_f)
    wts = np.zeros((n_mels, n_fft // 2 + 1), np.float32)
    for i in range(n_mels):
        wts[i] = np.maximum(0, np.minimum(-r[i] / d[i], r[i + 2] / d[i + 1]))
    wts *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return wts


def spectrogram(y):
    """audio_to_spectrogram: (M, 80) float32 in [0, 1]."""
    ms = np.mean(y ** 2)
    rms = np.maximum(1e-4, np.sqrt(ms))
    y = y * (0.1 / rms)
    mag = np.abs(lws_stft(y).T)  # (641, M)
    mel = np.dot(mel_basis(), mag)
    s = 20 * np.log10(np.maximum(np.exp(-100 / 20 * np.log(10)), mel)) - 20
    s = np.clip((s + 100) / 100, 0, 1)
    return s.astype(np.float32).T


def loop_index(k, n):
    """Ping-pong index of frame k over a pose video of n frames (upstream calc_loop_idx)."""
    return k % n if (k // n) % 2 == 0 else n - 1 - k % n


# ---------------------------------------------------------------------------------------------
# The dump
# ---------------------------------------------------------------------------------------------

BIG_RES = 112  # G modconv taps (pre-noise) are kept only below this resolution (file size)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True, help="folder with latest_net_{G,V,E,A_sync}.pth")
    ap.add_argument("--out", required=True)
    ap.add_argument("--frames", type=int, default=4, help="output frames (batch B)")
    ap.add_argument("--demo-dir", default=None)
    ap.add_argument("--g-stage-frames", type=int, default=1, help="frames kept in the G.driven.* stage tensors")
    ap.add_argument("--no-nonoise", action="store_true", help="skip the noise-mode 'none' run (driving pose only)")
    ap.add_argument("--weights-out", default=None, help="also write every checkpoint tensor as <net>.<key>")
    args = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    demo = find_demo_dir(args.demo_dir)
    nets = P.load_nets(args.ckpt)
    B = args.frames

    # Inputs.
    id_img = load_image(os.path.join(demo, ID_IMG))[None]  # [1, 3, 224, 224]
    spec = spectrogram(read_wav(os.path.join(demo, AUDIO)))  # [M, 80]
    n_mel = spec.shape[0]
    ks = list(range(2, 2 + B))
    if ks[-1] > n_mel // 4 - 3:
        raise SystemExit(f"dump_stages.py: audio has {n_mel} mel steps, too short for {B} frames")
    mels = torch.from_numpy(np.stack([spec[4 * k - 8:4 * k + 12].T for k in ks]))[:, None]  # [B, 1, 80, 20]
    n_pose = pose_frame_count(demo)
    pidx = [loop_index(k, n_pose) for k in ks]
    poses = torch.stack([load_image(os.path.join(demo, POSE_DIR, f"{i:06d}.jpg")) for i in pidx])  # [B, 3, 224, 224]

    # Run (fixed noise = the checkpoint's noises.noise_*), then noise mode "none".
    taps, g_drv, g_ref = {}, {}, {}
    out_ref, out_drv = P.inference(nets, id_img, mels, poses, noise="fixed", taps=taps,
                                   g_taps={"driven": g_drv, "ref": g_ref})
    t_run = time.time() - t0

    d = {}
    d["in.id_image"] = id_img
    d["in.pose_frames"] = poses
    d["in.mel"] = mels
    d["in.frame_k"] = torch.tensor(ks, dtype=torch.int64)
    d["in.pose_index"] = torch.tensor(pidx, dtype=torch.int64)
    d["in.spectrogram"] = torch.from_numpy(spec)
    for k, v in taps.items():
        d[k] = v
    n = min(args.g_stage_frames, B)
    for k, v in g_drv.items():
        if k.endswith(".modconv") and v.shape[-1] >= BIG_RES:
            continue
        d[k] = v[:n]
    for k, v in g_ref.items():  # reference-pose G pass: only the modulation styles and rgb skips
        if ".skip_" in k or k.endswith(".mod") or k.endswith(".image"):
            d[k] = v
    G = nets["G"]
    for i in range(G.num_layers):
        d[f"G.noise_{i}"] = getattr(G.noises, f"noise_{i}")
    d["out.ref"] = out_ref
    d["out.driven"] = out_drv
    if not args.no_nonoise:
        with torch.no_grad():
            idm = taps["V.id_map"].expand(B, -1, -1, -1).contiguous()
            d["out_nonoise.driven"] = G(taps["style.driven"], idm, "none")

    bad = [k for k, v in d.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise SystemExit(f"dump_stages.py: non-finite values in {bad[:5]}")
    meta = {"format": "pcavs-stages-1", "ckpt": os.path.abspath(args.ckpt), "demo_dir": os.path.abspath(demo),
            "frames": str(B), "g_stage_frames": str(n), "pose_frames_total": str(n_pose),
            "noise": "fixed (noises.noise_i); out_nonoise.*: zero", "mouth_feature_weight": "1.2",
            "torch": torch.__version__, "threads": "2"}
    d = {k: v.contiguous() for k, v in d.items()}
    safetensors_io.save(args.out, d, meta)
    size = os.path.getsize(args.out) / 1e6
    print(f"dump_stages.py: {len(d)} tensors, {size:.1f} MB -> {args.out} (demo {demo}, frames k={ks}, "
          f"pose frames {pidx}; networks {t_run:.1f} s, total {time.time() - t0:.1f} s)")
    fr = d["out.driven"]
    print(f"  out.driven: mean {fr.mean():+.4f} std {fr.std():.4f}, "
          f"{100 * (fr.abs() > 0.99).float().mean():.1f}% |x| > 0.99")

    if args.weights_out:
        w = {}
        for name, m in nets.items():
            for k, v in m.state_dict().items():
                w[f"{name}.{k}"] = v
        safetensors_io.save(args.weights_out, w, {"format": "pcavs-raw-checkpoint-1",
                                                  "ckpt": os.path.abspath(args.ckpt)})
        print(f"  weights: {len(w)} tensors -> {args.weights_out}")


if __name__ == "__main__":
    main()
