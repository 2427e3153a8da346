"""op_fixtures_misc.py: PyTorch float32 (CPU) reference outputs for the elementwise and small
operators: ReLU / sigmoid / tanh, NoiseInjection + FusedLeakyReLU (rosinality's semantics as
used by PC-AVS's StyledConv), softmax (A_sync's nn.Softmax(dim=2)), F.max_pool2d, mean over
H, W, F.adaptive_avg_pool2d, F.interpolate(mode='bilinear', align_corners=False), broadcasting
add / mul (+ ReLU) and torch.cat(dim=1). Written to OUT/ops/{activation,softmax,pool,bilinear,
binary,concat}.safetensors with tests/reference/safetensors_io.py. Each case "<name>" stores its
inputs and output "<name>.y"; the C tests (tests/test_{activation,softmax,pool,bilinear,binary,
concat}.c) hold the same case tables (keep them in sync) and check the shapes when reading.
Inputs are drawn from torch.Generator seeded per file (deterministic).

Usage: /usr/bin/python3 tests/reference/op_fixtures_misc.py --out DIR
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

# name, kind, shape (= UNARY_CASES in test_activation.c); inputs uniform in [-8, 8)
UNARY_CASES = [
    ("relu_r_56", "relu", (1, 256, 56, 56)),
    ("relu_odd", "relu", (3, 5, 7, 11)),
    ("sigmoid_se_n8", "sigmoid", (8, 256, 1, 1)),
    ("sigmoid_odd", "sigmoid", (1, 1, 1, 1001)),
    ("tanh_img_n2", "tanh", (2, 3, 224, 224)),
    ("tanh_odd", "tanh", (1, 3, 17, 19)),
]

# name, n, c, h, w, bias, noise, noise_weight (= LRELU_CASES in test_activation.c)
LRELU_CASES = [
    ("g7_n1", 1, 512, 7, 7, 1, 1, 0.37),
    ("g14_n8", 8, 512, 14, 14, 1, 1, -0.21),
    ("g28_n2", 2, 512, 28, 28, 1, 1, 0.05),
    ("g56_reduced", 1, 128, 56, 56, 1, 1, 0.8),  # 512 channels upstream
    ("g112_reduced", 1, 64, 112, 112, 1, 1, 0.3),  # 256 channels upstream; per-element op
    ("g224_reduced_n2", 2, 8, 224, 224, 1, 1, 0.6),  # 128 channels upstream
    ("bias_only", 2, 7, 5, 3, 1, 0, 0.0),
    ("noise_only", 3, 5, 9, 1, 0, 1, 1.3),
    ("plain", 1, 3, 1, 13, 0, 0, 0.0),
]

# name, n, c, h, w, noise_weight (= NOISE_CASES in test_activation.c)
NOISE_CASES = [
    ("g28_n2", 2, 512, 28, 28, 0.11),
    ("odd", 3, 7, 5, 9, -0.7),
]

# name, outer, len, inner, scale (= CASES in test_softmax.c); x = scale * normal
SOFTMAX_CASES = [
    ("async_n1", 2560, 3, 1, 1.0),
    ("async_n8", 8 * 2560, 3, 1, 3.0),
    ("mid_axis", 5, 7, 33, 2.0),
    ("large_logits", 4, 9, 3, 60.0),
    ("single", 6, 1, 5, 1.0),
    ("long_row", 3, 1000, 1, 4.0),
]

# name, n, c, h, w, k, stride, pad (= MAXPOOL_CASES in test_pool.c)
MAXPOOL_CASES = [
    ("fan56", 1, 256, 56, 56, 2, 2, 0),
    ("fan28_n8", 8, 256, 28, 28, 2, 2, 0),
    ("fan14", 1, 256, 14, 14, 2, 2, 0),
    ("fan7_to3_n8", 8, 256, 7, 7, 2, 2, 0),
    ("resnext112", 1, 64, 112, 112, 3, 2, 1),
    ("resnext112_n2", 2, 64, 112, 112, 3, 2, 1),
    ("odd_3s2p1", 2, 5, 13, 11, 3, 2, 1),
    ("odd_2s2", 1, 3, 9, 8, 2, 2, 0),
    ("k3s3", 3, 4, 10, 7, 3, 3, 0),
    ("k4s1p2", 1, 2, 6, 5, 4, 1, 2),
]

# name, n, c, h, w (= GAP_CASES in test_pool.c): torch.mean over (2, 3)
GAP_CASES = [
    ("se32_80x20", 1, 32, 80, 20),
    ("se64_40x10_n8", 8, 64, 40, 10),
    ("se128_20x5", 1, 128, 20, 5),
    ("se256_10x3_n8", 8, 256, 10, 3),
    ("resnext_7x7_n8", 8, 2048, 7, 7),
    ("odd", 3, 5, 13, 1),
]

# name, n, c, h, w, oh, ow (= ADAPT_CASES in test_pool.c)
ADAPT_CASES = [
    ("id_7x7", 1, 512, 7, 7, 7, 7),
    ("down_14_to_7", 2, 8, 14, 14, 7, 7),
    ("odd_13x11_to_4x5", 2, 3, 13, 11, 4, 5),
    ("overlap_10_to_3", 1, 4, 10, 10, 3, 3),
    ("up_5x7_to_8x9", 2, 6, 5, 7, 8, 9),
    ("to_1x1", 3, 5, 6, 9, 1, 1),
]

# name, n, c, h, w, oh, ow (= CASES in test_bilinear.c)
BILINEAR_CASES = [
    ("fan3_to7", 1, 256, 3, 3, 7, 7),
    ("fan3_to7_n8", 8, 256, 3, 3, 7, 7),
    ("fan7_to14_n8", 8, 256, 7, 7, 14, 14),
    ("fan14_to28", 1, 256, 14, 14, 28, 28),
    ("fan28_to56_n2", 2, 256, 28, 28, 56, 56),
    ("odd_5x7_to_11x3", 2, 3, 5, 7, 11, 3),
    ("from_1x1", 1, 2, 1, 1, 4, 4),
    ("down_9_to_4", 1, 3, 9, 9, 4, 4),
    ("same_size", 1, 2, 4, 6, 4, 6),
    ("wide_1x5_to_3x17", 2, 2, 1, 5, 3, 17),
]

# name, op, relu, a_shape, b_shape (= CASES in test_binary.c)
BINARY_CASES = [
    ("resnext_residual_relu", "add", 1, (1, 256, 56, 56), (1, 256, 56, 56)),
    ("hourglass_up_add_n8", "add", 0, (8, 256, 14, 14), (8, 256, 14, 14)),
    ("se_scale_80x20", "mul", 0, (1, 32, 80, 20), (1, 32, 1, 1)),
    ("se_scale_40x10_n8", "mul", 0, (8, 64, 40, 10), (8, 64, 1, 1)),
    ("se_scale_10x3_n8", "mul", 0, (8, 256, 10, 3), (8, 256, 1, 1)),
    ("torgb_skip_n2", "add", 0, (2, 3, 224, 224), (2, 3, 224, 224)),
    ("async_weighted_n8", "mul", 0, (8, 2560, 3, 1), (8, 2560, 3, 1)),
    ("bc_n", "add", 0, (2, 3, 5, 7), (1, 3, 5, 7)),
    ("bc_c_relu", "add", 1, (2, 3, 5, 7), (2, 1, 5, 7)),
    ("bc_h", "mul", 0, (2, 3, 5, 7), (2, 3, 1, 7)),
    ("bc_w_relu", "mul", 1, (2, 3, 5, 7), (2, 3, 5, 1)),
    ("bc_a_scalar", "mul", 0, (1, 1, 1, 1), (2, 3, 5, 7)),
    ("bc_both", "add", 0, (1, 3, 1, 7), (2, 1, 5, 1)),
    ("bc_a_nc_b_hw", "mul", 1, (2, 3, 1, 1), (1, 1, 5, 7)),
    ("bc_bias_c", "add", 0, (4, 9, 6, 5), (1, 9, 1, 1)),
    ("flat_odd", "add", 1, (1, 1, 1, 1001), (1, 1, 1, 1001)),
]

# name, n, channels, hw (= CASES in test_concat.c)
CONCAT_CASES = [
    ("convblock_56", 1, (128, 64, 64), 56 * 56),
    ("convblock_fan_stem_n8", 8, (64, 32, 32), 28 * 28),
    ("convblock_7_n8", 8, (128, 64, 64), 7 * 7),
    ("style_vector_n8", 8, (2048, 512), 1),
    ("odd", 3, (1, 5, 2, 7), 13),
    ("single", 2, (6,), 4),
]


def _uniform(g, shape, lo, hi):
    return torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo


def _normal(g, shape, scale=1.0):
    return torch.randn(shape, generator=g, dtype=torch.float32) * scale


def activation(g):
    t = {}
    for name, kind, shape in UNARY_CASES:
        x = _uniform(g, shape, -8.0, 8.0)
        t[name + ".x"] = x
        t[name + ".y"] = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[kind](x)
    for name, n, c, h, w, has_bias, has_noise, nw in LRELU_CASES:
        x = _normal(g, (n, c, h, w))
        t["lrelu_" + name + ".x"] = x
        out = x
        if has_noise:  # NoiseInjection: image + weight * noise, noise [n, 1, h, w]
            noise = _normal(g, (n, 1, h, w))
            t["lrelu_" + name + ".noise"] = noise
            weight = torch.tensor([nw], dtype=torch.float32)
            out = out + weight * noise
        if has_bias:  # FusedLeakyReLU: leaky_relu(x + bias, 0.2) * 2 ** 0.5
            bias = _normal(g, (c,), 0.5)
            t["lrelu_" + name + ".bias"] = bias
            out = out + bias.view(1, -1, 1, 1)
        t["lrelu_" + name + ".y"] = F.leaky_relu(out, negative_slope=0.2) * 2 ** 0.5
    for name, n, c, h, w, nw in NOISE_CASES:
        x = _normal(g, (n, c, h, w))
        noise = _normal(g, (n, 1, h, w))
        t["noise_" + name + ".x"] = x
        t["noise_" + name + ".noise"] = noise
        t["noise_" + name + ".y"] = x + torch.tensor([nw], dtype=torch.float32) * noise
    return t


def softmax(g):
    t = {}
    for name, outer, length, inner, scale in SOFTMAX_CASES:
        x = _normal(g, (outer, length, inner), scale)
        t[name + ".x"] = x
        t[name + ".y"] = torch.nn.Softmax(dim=1)(x)
    return t


def pool(g):
    t = {}
    for name, n, c, h, w, k, s, p in MAXPOOL_CASES:
        x = _normal(g, (n, c, h, w))
        t["max_" + name + ".x"] = x
        t["max_" + name + ".y"] = F.max_pool2d(x, k, stride=s, padding=p)
    for name, n, c, h, w in GAP_CASES:
        x = _normal(g, (n, c, h, w)) + 0.3  # nonzero mean: the relative error is meaningful
        t["gap_" + name + ".x"] = x
        t["gap_" + name + ".y"] = x.mean(dim=(2, 3))
    for name, n, c, h, w, oh, ow in ADAPT_CASES:
        x = _normal(g, (n, c, h, w))
        t["adapt_" + name + ".x"] = x
        t["adapt_" + name + ".y"] = F.adaptive_avg_pool2d(x, (oh, ow))
    return t


def bilinear(g):
    t = {}
    for name, n, c, h, w, oh, ow in BILINEAR_CASES:
        x = _normal(g, (n, c, h, w))
        t[name + ".x"] = x
        t[name + ".y"] = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
    return t


def binary(g):
    t = {}
    for name, op, relu, ash, bsh in BINARY_CASES:
        a = _normal(g, ash)
        b = _normal(g, bsh)
        y = a + b if op == "add" else a * b
        if relu:
            y = torch.relu(y)
        t[name + ".a"] = a
        t[name + ".b"] = b
        t[name + ".y"] = y
    return t


def concat(g):
    t = {}
    for name, n, chans, hw in CONCAT_CASES:
        xs = [_normal(g, (n, c, hw)) for c in chans]
        for i, x in enumerate(xs):
            t["%s.x%d" % (name, i)] = x
        t[name + ".y"] = torch.cat(xs, dim=1)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="fixture directory (files go to OUT/ops/)")
    args = ap.parse_args()
    d = os.path.join(args.out, "ops")
    os.makedirs(d, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    for seed, (fname, fn) in enumerate([("activation", activation), ("softmax", softmax), ("pool", pool),
                                        ("bilinear", bilinear), ("binary", binary), ("concat", concat)]):
        g = torch.Generator().manual_seed(1000 + seed)
        tensors = fn(g)
        path = os.path.join(d, fname + ".safetensors")
        safetensors_io.save(path, tensors, {"generator": "op_fixtures_misc.py", "torch": torch.__version__})
        print("wrote %s (%d tensors)" % (path, len(tensors)))


if __name__ == "__main__":
    main()
