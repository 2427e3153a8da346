"""preproc_reference.py: expected preprocessing arrays from the real upstream libraries (OpenCV, lws,
librosa, resampy) on the example inputs, for tests/test_image_preproc.c and tests/test_audio_preproc.c.

Mirrors upstream data/voxtest_dataset.py load_img/to_Tensor and config/AudioConfig.py
read_audio/audio_to_spectrogram, calling the same library functions (written here, not copied).
Runs in the venv made by setup_venv.sh. Usage: preproc_reference.py --out FIXTURES/preproc
Writes image.safetensors, audio.safetensors, resample.safetensors (uint8 images stored as float32)."""
import argparse
import math
import os
import sys

import cv2
import librosa
import lws
import numpy as np
import resampy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

SRC = os.environ.get("PCAVS_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EX = os.path.join(SRC, "examples")

IMAGES = {  # fixture prefix -> file under examples/
    "id": "Input/517600055/000000.jpg",
    "pose0": "Pose_Source/517600078/000000.jpg",
    "pose17": "Pose_Source/517600078/000017.jpg",
    "pose39": "Pose_Source/517600078/000039.jpg",
    "mouth5": "Mouth_Source/681600002/000005.jpg",
}


def image_fixtures():
    out = {}
    for name, rel in IMAGES.items():
        bgr = cv2.imread(os.path.join(EX, rel))  # uint8 BGR
        crop = bgr[:224 - 32, 16:224 - 16]
        res = cv2.resize(crop, (224, 224))  # INTER_LINEAR
        rgb = cv2.cvtColor(res, cv2.COLOR_BGR2RGB)
        t = (rgb.transpose(2, 0, 1) / 255.0).astype(np.float32) * 2 - 1  # torch: .float()*2-1
        out[name + ".decoded"] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)  # [224,224,3]
        out[name + ".resized"] = rgb.astype(np.float32)  # [224,224,3]
        out[name + ".tensor"] = t  # [3,224,224]
    # Generic resizes on random images (up, down, odd sizes): src [h,w,3] -> dst [dh,dw,3].
    rng = np.random.default_rng(7)
    for i, (sh, sw, dh, dw) in enumerate([(5, 7, 11, 13), (37, 100, 80, 60), (192, 192, 224, 224), (50, 64, 31, 45)]):
        src = rng.integers(0, 256, size=(sh, sw, 3), dtype=np.uint8)
        out["rand%d.src" % i] = src.astype(np.float32)
        out["rand%d.dst" % i] = cv2.resize(src, (dw, dh)).astype(np.float32)
    # tensor2im on a ramp of values: (x+1)/2*255, clip, astype(uint8).
    ramp = np.linspace(-1.2, 1.2, 3 * 7 * 11, dtype=np.float32).reshape(3, 7, 11)
    im = (np.transpose(ramp, (1, 2, 0)) + 1) / 2.0 * 255.0
    out["tensor2im.in"] = ramp
    out["tensor2im.out"] = np.clip(im, 0, 255).astype(np.uint8).astype(np.float32)
    return out


def spectrogram(y):
    """AudioConfig.audio_normalize + melspectrogram + audio_to_spectrogram with the real lws / librosa."""
    rms = np.maximum(1e-4, np.sqrt(np.mean(y ** 2)))
    yn = y * (0.1 / rms)
    D = lws.lws(1280, 160, mode="speech").stft(yn).T
    basis = librosa.filters.mel(sr=16000, n_fft=1280, fmin=125, fmax=7600, n_mels=80)  # keywords (librosa >= 0.10)
    mel = np.dot(basis, np.abs(D))
    min_level = np.exp(-100 / 20 * np.log(10))
    S = 20 * np.log10(np.maximum(min_level, mel)) - 20
    S = np.clip((S - -100) / 100, 0, 1)
    return yn, S.astype(np.float32).T, basis


def audio_fixtures():
    out = {}
    wav = os.path.join(EX, "Audio_Source", "681600002.mp3")  # a RIFF/WAVE file despite the name
    y, sr = librosa.load(wav, sr=16000)
    yn, spec, basis = spectrogram(y)
    out["wav.y"] = y
    out["wav.ynorm"] = yn
    out["wav.spec"] = spec
    out["mel_basis"] = basis
    # Audio inside an MP4 (AAC 16 kHz): soundfile fails, audioread's FFmpeg backend decodes it.
    mp4 = os.path.join(EX, "Audio_Source", "00015.mp4")
    if os.path.exists(mp4):
        y2, _ = librosa.load(mp4, sr=16000, res_type="kaiser_best")
        out["mp4.y"] = y2
        out["mp4.spec"] = spectrogram(y2)[1]
    return out


def resample_fixtures():
    out = {}
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(3000) * 0.2).astype(np.float32)
    for name, (a, b) in {"up": (16000, 22050), "down": (44100, 16000)}.items():
        yr = resampy.resample(x, a, b, filter="kaiser_best")
        yr = librosa.util.fix_length(yr, size=int(math.ceil(len(x) * float(b) / a)))
        out["resample.%s" % name] = yr.astype(np.float32)
    out["resample.x"] = x
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    meta = {"cv2": cv2.__version__, "librosa": librosa.__version__, "resampy": resampy.__version__,
            "numpy": np.__version__}
    safetensors_io.save(os.path.join(args.out, "image.safetensors"), image_fixtures(), meta)
    safetensors_io.save(os.path.join(args.out, "audio.safetensors"), audio_fixtures(), meta)
    safetensors_io.save(os.path.join(args.out, "resample.safetensors"), resample_fixtures(), meta)
    print("preproc_reference: wrote", args.out, meta)


if __name__ == "__main__":
    main()
