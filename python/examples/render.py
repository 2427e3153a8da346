#!/usr/bin/python3
"""render.py: talking-face frames from a face image, an audio file (a WAV, or anything ffmpeg reads) and a
pose video (or %06d.jpg frames folder) with the pcavs Python binding; writes DIR/%06d.png.

    PCAVS_LIBRARY=build/pipeline/api/libpcavs.so PYTHONPATH=python \\
        /usr/bin/python3 python/examples/render.py --model model.safetensors --face FACE.jpg \\
        --audio speech.wav --pose pose.mp4 -o frames/ [--max-frames N] [--stream] [--noise fixed]

Shows the feature-level API: --mouth-scale scales the mouth feature, --identity2 mixes a second face's
identity in (--mix 0.5); --stream renders through a streaming session (16 kHz audio, 100 ms chunks).
Frames are 224x224 VoxCeleb2-style crops in and out (see pcavs-align for other footage)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pcavs  # noqa: E402


def pingpong(k, P):
    lap, r = divmod(k, P)
    return r if lap % 2 == 0 else P - 1 - r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--face", required=True, help="identity image (224x224 crop)")
    ap.add_argument("--audio", required=True)
    ap.add_argument("--pose", help="pose video or frames folder (default: the face's own pose)")
    ap.add_argument("-o", "--out", required=True, help="output folder for %%06d.png")
    ap.add_argument("--max-frames", type=int, default=0)
    ap.add_argument("--noise", default="random", choices=["random", "fixed", "none"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "ref"])
    ap.add_argument("--mouth-scale", type=float, default=1.0, help="multiply the mouth feature")
    ap.add_argument("--identity2", help="a second face to mix into the identity")
    ap.add_argument("--mix", type=float, default=0.5, help="weight of --identity2")
    ap.add_argument("--stream", action="store_true", help="render through a streaming session")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    with pcavs.Context(a.model, device=a.device, max_batch=1 if a.stream else 4) as ctx:
        ident = ctx.encode_identity(pcavs.read_image(a.face))
        if a.identity2:
            other = ctx.encode_identity(pcavs.read_image(a.identity2))
            w = a.mix
            ident = pcavs.Identity((1 - w) * ident.id_feature + w * other.id_feature,
                                   (1 - w) * ident.id_map + w * other.id_map,
                                   (1 - w) * ident.ref_pose + w * other.ref_pose)
        pcm, rate = pcavs.read_audio(a.audio)
        mel = pcavs.spectrogram(pcm, rate)
        n = pcavs.num_frames(mel.shape[0])
        if a.max_frames:
            n = min(n, a.max_frames)
        pose_rgb = pcavs.read_video(a.pose) if a.pose else None
        sel = None if pose_rgb is None else pose_rgb[[pingpong(j + 2, len(pose_rgb)) for j in range(n)]]

        if not a.stream:
            audio = ctx.encode_audio(mel, 0, n) * a.mouth_scale
            pose = None if sel is None else ctx.encode_pose(sel)
            frames = ctx.generate(ident, audio, pose, noise=a.noise, seed=a.seed)
        else:
            if rate != pcavs.SAMPLE_RATE:
                sys.exit("--stream needs 16 kHz audio (resample it first)")
            frames = []
            with ctx.stream(ident, gain=pcavs.rms_gain(pcm), pushed_poses=sel is not None, noise=a.noise,
                            seed=a.seed) as s:
                for p in (sel if sel is not None else []):
                    s.push_pose(p)
                for i in range(0, len(pcm), 1600):  # 100 ms chunks, as from a microphone
                    s.push_pcm(pcm[i:i + 1600])
                    frames += s.pull_all()
                    if len(frames) >= n:
                        break
                s.finish()
                frames = (frames + s.pull_all())[:n]
        for j, f in enumerate(frames):
            pcavs.write_image(os.path.join(a.out, "%06d.png" % j), f)
        print(f"{len(frames)} frames -> {a.out} ({ctx.backend})")


if __name__ == "__main__":
    main()
