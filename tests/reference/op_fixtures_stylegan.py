"""op_fixtures_stylegan.py: PyTorch float32 reference fixtures for the StyleGAN2 operators
(upfirdn2d, modulated convolution), written with upstream-equivalent torch code: the rosinality
port used by PC-AVS (models/networks/stylegan2.py: make_kernel, upfirdn2d_native, Blur,
ModulatedConv2d.forward in its grouped "fused" form). Written here from the upstream semantics.

Usage: /usr/bin/python3 tests/reference/op_fixtures_stylegan.py --out DIR
Writes DIR/ops/upfirdn2d.safetensors and DIR/ops/modconv.safetensors; case parameters are
stored in each file's __metadata__ (and mirrored in tests/test_upfirdn2d.c, test_modconv.c)."""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def make_kernel(k):
    k = torch.tensor(k, dtype=torch.float32)
    if k.ndim == 1:
        k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d_native(x, kernel, up_x, up_y, down_x, down_y, pad_x0, pad_x1, pad_y0, pad_y1):
    """x [planes, h, w] -> upsample by zero insertion, pad, correlate with the flipped kernel, decimate."""
    planes, in_h, in_w = x.shape
    kh, kw = kernel.shape
    out = x.reshape(planes, in_h, 1, in_w, 1)
    out = F.pad(out, [0, up_x - 1, 0, 0, 0, up_y - 1])
    out = out.reshape(planes, 1, in_h * up_y, in_w * up_x)
    out = F.pad(out, [max(pad_x0, 0), max(pad_x1, 0), max(pad_y0, 0), max(pad_y1, 0)])
    wflip = torch.flip(kernel, [0, 1]).view(1, 1, kh, kw)
    out = F.conv2d(out, wflip)
    return out[:, 0, ::down_y, ::down_x].contiguous()


def modconv(x, weight, style, demodulate, upsample, blur):
    """rosinality ModulatedConv2d.forward (fused, grouped), weight [out, in, k, k], style [b, in]."""
    batch, in_ch, height, width = x.shape
    out_ch, _, k, _ = weight.shape
    scale = 1 / math.sqrt(in_ch * k * k)
    w = scale * weight[None] * style.view(batch, 1, in_ch, 1, 1)
    if demodulate:
        demod = torch.rsqrt(w.pow(2).sum([2, 3, 4]) + 1e-8)
        w = w * demod.view(batch, out_ch, 1, 1, 1)
    w = w.view(batch * out_ch, in_ch, k, k)
    if upsample:
        inp = x.view(1, batch * in_ch, height, width)
        w = w.view(batch, out_ch, in_ch, k, k).transpose(1, 2).reshape(batch * in_ch, out_ch, k, k)
        out = F.conv_transpose2d(inp, w, padding=0, stride=2, groups=batch)
        _, _, th, tw = out.shape
        out = out.view(batch * out_ch, th, tw)
        out = upfirdn2d_native(out, blur, 1, 1, 1, 1, 1, 1, 1, 1)  # Blur(pad=(1, 1), upsample_factor=2)
        return out.view(batch, out_ch, 2 * height, 2 * width)
    inp = x.view(1, batch * in_ch, height, width)
    out = F.conv2d(inp, w, padding=k // 2, groups=batch)
    return out.view(batch, out_ch, height, width)


# name: (planes, h, w, up, down, pad_x0, pad_x1, pad_y0, pad_y1, kernel) ; "blur" = outer([1,3,3,1])/64*4
UPFIRDN_CASES = [
    ("blur_512x15", 512, 15, 15, 1, 1, 1, 1, 1, 1, "blur"),
    ("skipup_3x56", 3, 56, 56, 2, 1, 2, 1, 2, 1, "blur"),
    ("skipup_24x7", 24, 7, 7, 2, 1, 2, 1, 2, 1, "blur"),
    ("odd_up3_down2", 5, 7, 9, 3, 2, 0, 2, 1, 3, "rand3x5"),
    ("odd_down2", 4, 11, 6, 1, 2, 2, 1, 0, 2, "rand5x4"),
    ("odd_nopad_up2", 2, 5, 8, 2, 1, 0, 0, 0, 0, "rand2x3"),
]

# name: (n, c_in, c_out, h, k, demodulate, upsample)
MODCONV_CASES = [
    ("conv1_512_7_b2", 2, 512, 512, 7, 3, 1, 0),
    ("torgb_512_7_b2", 2, 512, 3, 7, 1, 0, 0),
    ("torgb_128_224_b1", 1, 128, 3, 224, 1, 0, 0),
    ("up_512_7_b1", 1, 512, 512, 7, 3, 1, 1),
    ("up_64_28_b2", 2, 64, 32, 28, 3, 1, 1),
    ("conv_64_28_b2", 2, 64, 48, 28, 3, 1, 0),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "ops"), exist_ok=True)
    torch.manual_seed(1234)
    blur = make_kernel([1, 3, 3, 1]) * 4

    t, meta = {}, {}
    for name, planes, h, w, up, down, px0, px1, py0, py1, kname in UPFIRDN_CASES:
        if kname == "blur":
            ker = blur.clone()
        else:
            kh, kw = (int(v) for v in kname[4:].split("x"))
            ker = torch.randn(kh, kw)
        x = torch.randn(planes, h, w)
        y = upfirdn2d_native(x, ker, up, up, down, down, px0, px1, py0, py1)
        t[name + ".x"], t[name + ".kernel"], t[name + ".y"] = x, ker, y
        meta[name] = f"{planes} {h} {w} {up} {down} {px0} {px1} {py0} {py1}"
    path = os.path.join(args.out, "ops", "upfirdn2d.safetensors")
    safetensors_io.save(path, t, meta)
    print(f"wrote {path} ({len(UPFIRDN_CASES)} cases)")

    t, meta = {"blur": blur}, {}
    for name, n, cin, cout, h, k, demod, ups in MODCONV_CASES:
        x = torch.randn(n, cin, h, h)
        weight = torch.randn(cout, cin, k, k)
        style = torch.randn(n, cin) * 0.5 + 1.0  # like EqualLinear with bias_init 1
        with torch.no_grad():
            y = modconv(x, weight, style, demod, ups, blur)
        t[name + ".x"], t[name + ".weight"], t[name + ".style"], t[name + ".y"] = x, weight, style, y
        meta[name] = f"{n} {cin} {cout} {h} {k} {demod} {ups}"
    path = os.path.join(args.out, "ops", "modconv.safetensors")
    safetensors_io.save(path, t, meta)
    print(f"wrote {path} ({len(MODCONV_CASES)} cases)")


if __name__ == "__main__":
    main()
