#!/usr/bin/env python3
"""align_reference.py: expectations for tests/test_align.c from the libraries upstream's alignment script
(scripts/align_68.py) uses: skimage.transform.SimilarityTransform.estimate and cv2.warpAffine
(INTER_LINEAR, BORDER_CONSTANT 0), plus upstream's clip loop (mean three points -> get_affine, mouth bias
smoothed 0.2 previous + 0.8 current) re-stated line by line on synthetic per-frame points.

Writes into OUT (plain text + raw uint8, no extra dependency for the C side):
  similarity.txt  one case a line: n, dst_is_float32, src[2n], dst[2n], M[6]       (skimage, float64)
  clip.txt        line 1: n_frames, m_clip[6]; then per frame: three[6] M_i[6]
  warp.txt        one case a line: name sw sh dw dh M[6]; files name.src.u8 ([sh,sw,3] RGB), name.dst.u8
Usage: align_reference.py --out DIR [--examples DIR]
"""
import argparse
import os

import cv2
import numpy as np
import skimage
import skimage.transform as trans

DST = np.array([[87, 59], [137, 59], [112, 120]], dtype=np.float32)  # upstream get_affine


def get_affine(src):  # upstream scripts/align_68.py
    tform = trans.SimilarityTransform()
    tform.estimate(src, DST)
    return tform.params[0:2, :]


def fmt(a):
    return " ".join("%.17g" % v for v in np.asarray(a, dtype=np.float64).ravel())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--examples", default=os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(9)

    # 1. similarity estimates: upstream-like triplets (float64 src, float32 dst) and generic point sets
    lines = []
    for k in range(40):
        if k < 24:
            c = rng.uniform([100, 80], [1100, 600])
            s = rng.uniform(0.3, 3.0)
            th = rng.uniform(-0.6, 0.6)
            R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
            src = c + s * ((DST.astype(np.float64) - [112, 80]) @ R.T) + rng.normal(0, 3 * s, (3, 2))
            if k % 6 == 5:
                src[[0, 1]] = src[[1, 0]]  # a mirrored face: det(A) < 0 (no reflection allowed)
            dst = DST
        else:
            n = int(rng.integers(2, 69))
            src = rng.uniform(-500, 1500, (n, 2))
            dst = rng.uniform(0, 224, (n, 2))
        tf = trans.SimilarityTransform()
        assert tf.estimate(src, dst)
        lines.append("%d %d %s %s %s" % (len(src), int(dst.dtype == np.float32), fmt(src), fmt(np.asarray(dst, np.float64)), fmt(tf.params[0:2, :])))
    with open(os.path.join(a.out, "similarity.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    # 2. upstream's clip loop on synthetic three points (a face drifting in a 640x360 frame)
    n = 12
    base = np.array([[250.0, 140.0], [310.0, 136.0], [282.0, 215.0]])
    three_list = [base + [3 * i, 1.5 * np.sin(i)] + rng.normal(0, 1.5, (3, 2)) for i in range(n)]
    sumpoints = 0
    for t in three_list:
        sumpoints += t
    M = get_affine(sumpoints / n)
    out = ["%d %s" % (n, fmt(M))]
    mis = []
    p_bias = None
    for i in range(n):
        three_points = three_list[i]
        aff = np.matmul(np.concatenate([three_points, np.ones((3, 1))], 1), M.transpose())
        bias = np.array([112, 120]) - aff[2]
        if p_bias is None:
            bias = bias
        else:
            bias = p_bias * 0.2 + bias * 0.8
        p_bias = bias
        M_i = M.copy()
        M_i[:, 2] = M[:, 2] + bias
        mis.append(M_i)
        out.append("%s %s" % (fmt(three_points), fmt(M_i)))
    with open(os.path.join(a.out, "clip.txt"), "w") as f:
        f.write("\n".join(out) + "\n")

    # 3. warps (cv2.warpAffine(img, M, (dw, dh), borderValue=0.0) as upstream affine_align_img)
    cases = []
    demo = cv2.cvtColor(cv2.imread(os.path.join(a.examples, "Input/517600055/000000.jpg")), cv2.COLOR_BGR2RGB)
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:] = rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)
    frame[30:254, 170:394] = demo
    for i in (0, 5, 11):
        cases.append(("clip%d" % i, frame, mis[i], 224, 224))
    noise = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    for k in range(6):
        src = rng.uniform([0, 0], [320, 240], (3, 2))
        tf = trans.SimilarityTransform()
        tf.estimate(src, DST)
        cases.append(("noise%d" % k, noise, tf.params[0:2, :], 224, 224))
    cases.append(("shrink", noise, np.array([[0.3, 0.05, 20.5], [-0.05, 0.3, 7.25]]), 224, 224))
    cases.append(("shift", noise, np.array([[1.0, 0.0, -150.3], [0.0, 1.0, 100.7]]), 200, 180))
    cases.append(("tiny", rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
                  np.array([[20.0, 3.0, 10.0], [-3.0, 20.0, 30.0]]), 224, 224))
    big = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    cases.append(("big", big, get_affine(np.array([[600.0, 300.0], [700.0, 310.0], [640.0, 420.0]])), 224, 224))
    # paste-back direction: a 224 face into a frame (inverse of an alignment)
    cases.append(("inverse", demo, cv2.invertAffineTransform(mis[3]), 640, 360))
    wl = []
    for name, img, Mw, dw, dh in cases:
        img = np.ascontiguousarray(img)
        dst = cv2.warpAffine(img, np.asarray(Mw, np.float64), (dw, dh), borderValue=0.0)
        img.tofile(os.path.join(a.out, name + ".src.u8"))
        np.ascontiguousarray(dst).tofile(os.path.join(a.out, name + ".dst.u8"))
        wl.append("%s %d %d %d %d %s" % (name, img.shape[1], img.shape[0], dw, dh, fmt(Mw)))
    with open(os.path.join(a.out, "warp.txt"), "w") as f:
        f.write("\n".join(wl) + "\n")
    print("align_reference: cv2 %s, skimage %s: %d similarity, %d clip frames, %d warps -> %s" %
          (cv2.__version__, skimage.__version__, len(lines), n, len(cases), a.out))


if __name__ == "__main__":
    main()
