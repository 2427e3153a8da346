"""op_fixtures_conv.py: PyTorch float32 (CPU) reference outputs for the conv-family kernels:
F.conv2d, F.conv_transpose2d, F.linear and eval-mode BatchNorm (and conv followed by BN, for the
folding test), written to OUT/ops/{conv2d,conv_transpose2d,linear,batchnorm}.safetensors with
tests/reference/safetensors_io.py. Each case "<name>" stores its inputs "<name>.x", "<name>.w",
"<name>.b" (when it has a bias) and the output "<name>.y"; the C tests
(tests/test_{conv2d,conv_transpose2d,linear,batchnorm}.c) hold the same case tables and check
the shapes when reading.

Usage: /usr/bin/python3 tests/reference/op_fixtures_conv.py --out DIR
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

# name, n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, groups, bias, relu  (= CASES in test_conv2d.c)
CONV2D_CASES = [
    ("v_stem", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 0, 0),
    ("v_l1_conv1", 1, 64, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, 0, 0),
    ("v_l1_conv2_g32", 1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 1, 32, 0, 0),
    ("v_l1_conv3", 1, 128, 56, 56, 256, 1, 1, 1, 1, 0, 0, 1, 0, 0),
    ("v_l2_conv2_g32_s2", 1, 256, 56, 56, 256, 3, 3, 2, 2, 1, 1, 32, 0, 0),
    ("v_l2_down_s2", 1, 256, 56, 56, 512, 1, 1, 2, 2, 0, 0, 1, 0, 0),
    ("v_l3_conv2_g32", 1, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 32, 0, 0),
    ("v_l4_conv2_g32_s2", 1, 1024, 14, 14, 1024, 3, 3, 2, 2, 1, 1, 32, 0, 0),
    ("v_l4_conv3", 1, 1024, 7, 7, 2048, 1, 1, 1, 1, 0, 0, 1, 0, 0),
    ("v_conv1x1_bias", 1, 2048, 7, 7, 512, 1, 1, 1, 1, 0, 0, 1, 1, 0),
    ("e_stem_bias", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 0),
    ("e_cb_conv1_reduced", 1, 64, 40, 40, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("e_cb_conv2_reduced", 1, 128, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("e_cb_conv3", 1, 32, 56, 56, 32, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("e_down_1x1", 1, 64, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, 0, 0),
    ("e_l0_1x1_bias", 1, 256, 56, 56, 68, 1, 1, 1, 1, 0, 0, 1, 1, 0),
    ("e_conv6_s2", 1, 68, 56, 56, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0),
    ("a_conv1_1ch", 1, 1, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
    ("a_l1_conv", 1, 32, 80, 20, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1),
    ("a_l2_conv_s2", 1, 32, 80, 20, 64, 3, 3, 2, 2, 1, 1, 1, 0, 1),
    ("a_l2_down_s2", 1, 32, 80, 20, 64, 1, 1, 2, 2, 0, 0, 1, 0, 0),
    ("a_l4_conv_s2", 1, 128, 20, 5, 256, 3, 3, 2, 2, 1, 1, 1, 0, 0),
    ("g7_n1", 1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g7_n8", 8, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g14_n2", 2, 512, 14, 14, 512, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g112_512to256_reduced", 1, 512, 24, 24, 256, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g224_256to128_reduced_n2", 2, 256, 32, 32, 128, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g224_128to128_reduced_n2", 2, 128, 40, 40, 128, 3, 3, 1, 1, 1, 1, 1, 0, 0),
    ("g_torgb_1x1", 2, 128, 28, 28, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0),
    ("odd_s2_bias_relu", 3, 17, 13, 11, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    ("k5x3_relu", 2, 6, 15, 9, 10, 5, 3, 1, 1, 2, 1, 1, 0, 1),
    ("g4_small", 2, 12, 9, 10, 20, 3, 3, 1, 1, 1, 1, 4, 1, 0),
    ("g2_big_k", 2, 40, 9, 9, 38, 3, 3, 1, 1, 1, 1, 2, 1, 0),
    ("1x1_s2_odd", 2, 24, 15, 15, 40, 1, 1, 2, 2, 0, 0, 1, 0, 0),
    ("1x1_bias_relu_odd", 3, 37, 11, 7, 45, 1, 1, 1, 1, 0, 0, 1, 1, 1),
    ("s2x1_pad0x2", 2, 20, 11, 8, 24, 3, 4, 2, 1, 0, 2, 1, 1, 0),
    ("big_pad", 1, 9, 5, 6, 7, 3, 3, 1, 2, 3, 2, 1, 1, 1),
]

# name, n, c_in, h, w, c_out, k, stride, pad, bias  (= CASES in test_conv_transpose2d.c)
CONVT_CASES = [
    ("g_up14_n1", 1, 512, 7, 7, 512, 3, 2, 0, 0),
    ("g_up14_n8", 8, 512, 7, 7, 512, 3, 2, 0, 0),
    ("g_up28_n2", 2, 512, 14, 14, 512, 3, 2, 0, 0),
    ("g_up112_reduced", 1, 512, 12, 12, 256, 3, 2, 0, 0),
    ("g_up224_reduced_n2", 2, 256, 16, 16, 128, 3, 2, 0, 0),
    ("odd_bias", 3, 13, 5, 7, 11, 3, 2, 0, 1),
    ("k4_s2_p1", 2, 8, 6, 5, 6, 4, 2, 1, 1),
    ("k3_s1_p1", 2, 9, 7, 6, 5, 3, 1, 1, 0),
    ("k5_s3_p2", 1, 6, 4, 5, 7, 5, 3, 2, 1),
]

# name, rows, in, out, bias, relu  (= CASES in test_linear.c)
LINEAR_CASES = [
    ("e_headpose_512", 1, 512, 512, 1, 1),
    ("e_headpose_512_r8", 8, 512, 512, 1, 0),
    ("e_pose12", 8, 512, 12, 1, 0),
    ("e_mouth500", 32, 512, 500, 1, 0),
    ("e_fc784", 4, 784, 512, 1, 0),
    ("a_att_2560_128", 3, 2560, 128, 1, 1),
    ("a_att_128_2560", 3, 128, 2560, 1, 0),
    ("a_fc_2560_512", 1, 2560, 512, 1, 0),
    ("a_fc_2560_512_r32", 32, 2560, 512, 1, 0),
    ("a_se_256_32", 1, 256, 32, 1, 1),
    ("g_mod_2560_512", 1, 2560, 512, 1, 0),
    ("g_mod_2560_128_r8", 8, 2560, 128, 1, 0),
    ("odd_nobias_relu", 5, 37, 23, 0, 1),
    ("one_by_one", 1, 1, 1, 1, 0),
]

# name, n, c, h, w, relu  (= CASES in test_batchnorm.c)
BN_CASES = [
    ("v_bn64_112", 1, 64, 112, 112, 1),
    ("e_bn256_56_n2", 2, 256, 56, 56, 0),
    ("a_bn1d_128", 1, 128, 3, 1, 0),
    ("a_bn32_80x20", 4, 32, 80, 20, 1),
    ("odd", 3, 7, 5, 3, 1),
]


def conv2d_fixtures(gen):
    out = {}
    for (name, n, ci, h, w, co, kh, kw, sh, sw, ph, pw, g, has_b, relu) in CONV2D_CASES:
        x = torch.rand(n, ci, h, w, generator=gen) * 2 - 1
        a = 1.0 / math.sqrt(ci // g * kh * kw)
        wt = (torch.rand(co, ci // g, kh, kw, generator=gen) * 2 - 1) * a
        b = torch.rand(co, generator=gen) - 0.5 if has_b else None
        y = F.conv2d(x, wt, b, stride=(sh, sw), padding=(ph, pw), groups=g)
        if relu:
            y = F.relu(y)
        out[name + ".x"], out[name + ".w"] = x, wt
        if has_b:
            out[name + ".b"] = b
        out[name + ".y"] = y
    return out


def convt_fixtures(gen):
    out = {}
    for (name, n, ci, h, w, co, k, s, p, has_b) in CONVT_CASES:
        x = torch.rand(n, ci, h, w, generator=gen) * 2 - 1
        a = 1.0 / math.sqrt(ci * k * k)
        wt = (torch.rand(ci, co, k, k, generator=gen) * 2 - 1) * a
        b = torch.rand(co, generator=gen) - 0.5 if has_b else None
        y = F.conv_transpose2d(x, wt, b, stride=s, padding=p)
        out[name + ".x"], out[name + ".w"] = x, wt
        if has_b:
            out[name + ".b"] = b
        out[name + ".y"] = y
    return out


def linear_fixtures(gen):
    out = {}
    for (name, rows, fin, fout, has_b, relu) in LINEAR_CASES:
        x = torch.rand(rows, fin, generator=gen) * 2 - 1
        wt = (torch.rand(fout, fin, generator=gen) * 2 - 1) / math.sqrt(fin)
        b = torch.rand(fout, generator=gen) - 0.5 if has_b else None
        y = F.linear(x, wt, b)
        if relu:
            y = F.relu(y)
        out[name + ".x"], out[name + ".w"] = x, wt
        if has_b:
            out[name + ".b"] = b
        out[name + ".y"] = y
    return out


def bn_fixtures(gen):
    """Eval-mode nn.BatchNorm2d (eps 1e-5) with random running stats; plus a conv followed by BN
    ("fold.*") for the folding test."""
    out = {}
    for (name, n, c, h, w, relu) in BN_CASES:
        x = torch.rand(n, c, h, w, generator=gen) * 4 - 2
        bn = torch.nn.BatchNorm2d(c, eps=1e-5).eval()
        with torch.no_grad():
            bn.weight.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)
            bn.bias.copy_(torch.rand(c, generator=gen) - 0.5)
            bn.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
            bn.running_var.copy_(torch.rand(c, generator=gen) * 2 + 0.01)
            y = bn(x)
            if relu:
                y = F.relu(y)
        out[name + ".x"] = x
        out[name + ".gamma"], out[name + ".beta"] = bn.weight, bn.bias
        out[name + ".mean"], out[name + ".var"] = bn.running_mean, bn.running_var
        out[name + ".y"] = y
    # conv 3x3 (32 -> 48, bias) at 2 x 32 x 17 x 13, then BN, then ReLU
    x = torch.rand(2, 32, 17, 13, generator=gen) * 2 - 1
    wt = (torch.rand(48, 32, 3, 3, generator=gen) * 2 - 1) / math.sqrt(32 * 9)
    b = torch.rand(48, generator=gen) - 0.5
    bn = torch.nn.BatchNorm2d(48, eps=1e-5).eval()
    with torch.no_grad():
        bn.weight.copy_(torch.rand(48, generator=gen) * 1.5 + 0.25)
        bn.bias.copy_(torch.rand(48, generator=gen) - 0.5)
        bn.running_mean.copy_(torch.rand(48, generator=gen) - 0.5)
        bn.running_var.copy_(torch.rand(48, generator=gen) * 2 + 0.01)
        y = F.relu(bn(F.conv2d(x, wt, b, padding=1)))
    out.update({"fold.x": x, "fold.w": wt, "fold.b": b, "fold.gamma": bn.weight, "fold.beta": bn.bias,
                "fold.mean": bn.running_mean, "fold.var": bn.running_var, "fold.y": y})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="fixtures directory (files go to OUT/ops/)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    d = os.path.join(args.out, "ops")
    os.makedirs(d, exist_ok=True)
    meta = {"generator": "tests/reference/op_fixtures_conv.py", "torch": torch.__version__}
    for fname, fn, seed in (("conv2d", conv2d_fixtures, 1), ("conv_transpose2d", convt_fixtures, 2),
                            ("linear", linear_fixtures, 3), ("batchnorm", bn_fixtures, 4)):
        gen = torch.Generator().manual_seed(seed)
        tensors = fn(gen)
        path = os.path.join(d, fname + ".safetensors")
        safetensors_io.save(path, tensors, meta)
        print("op_fixtures_conv: wrote %s (%d tensors)" % (path, len(tensors)))


if __name__ == "__main__":
    main()
