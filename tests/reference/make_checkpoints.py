"""make_checkpoints.py: random-weight PC-AVS checkpoints in the official layout, for converter and parity tests.

Writes latest_net_{G,V,E,A_sync}.pth: plain state_dicts (no 'module.' prefix) with exactly the keys,
shapes, dtypes and order of the released files (spec/keys/*.tsv, checked by pcavs_torch.check_keys).
  --format legacy: torch.save(sd, f, _use_new_zipfile_serialization=False) (pickle protocol 2, the
                   serialization PyTorch 1.3 wrote the official files in)  -> DIR/*.pth
  --format zip:    torch.save default (zip, PyTorch >= 1.6)                 -> DIR/*.pth
  --format both:   DIR/legacy/*.pth and DIR/zip/*.pth (identical values)

Every value a real checkpoint can hold is randomised, so that folding/indexing errors show up:
conv/linear weights and every bias, BatchNorm gammas, betas, running means and variances
(var != 1), num_batches_tracked, G's modulation weights/biases, noise strengths (!= 0), activation
biases, ToRGB biases, the learned constant, the fixed noise buffers noises.noise_0..10 and the
training-only tensors. BatchNorm running statistics are calibrated on a synthetic batch (the
statistics the layer actually sees, then perturbed: mean + 0.2 std N(0,1), var * U(0.6, 1.6)), so
activations stay O(1) through the deep nets. At the end the whole inference dataflow runs on
the demo inputs (synthetic ones if no demo folder is found) and the output statistics are printed; the script fails if anything is non-finite,
saturated (most of |frame| > 0.99) or constant.
"""
import argparse
import math
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcavs_torch as P  # noqa: E402


def _randn(gen, shape):
    return torch.randn(*shape, generator=gen)


def _uniform(gen, shape, lo, hi):
    return torch.rand(*shape, generator=gen) * (hi - lo) + lo


@torch.no_grad()
def randomize_plain(m, gen):
    """Conv/Linear: N(0, gain^2/fan_in) weights, N(0, 0.1^2) biases; BatchNorm: gamma U(0.5, 1.5),
    beta N(0, 0.1^2), num_batches_tracked random (running statistics: see calibrate)."""
    for mod in m.modules():
        if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            fan_in = mod.weight[0].numel()
            mod.weight.copy_(_randn(gen, mod.weight.shape) * (math.sqrt(2.0) / math.sqrt(fan_in)))
            if mod.bias is not None:
                mod.bias.copy_(_randn(gen, mod.bias.shape) * 0.1)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            mod.weight.copy_(_uniform(gen, mod.weight.shape, 0.5, 1.5))
            mod.bias.copy_(_randn(gen, mod.bias.shape) * 0.1)
            mod.running_mean.copy_(_randn(gen, mod.running_mean.shape) * 0.1)
            mod.running_var.copy_(_uniform(gen, mod.running_var.shape, 0.5, 2.0))
            mod.num_batches_tracked.fill_(int(torch.randint(1000, 1000000, (1,), generator=gen)))


@torch.no_grad()
def shrink_residual_branches(V, gen):
    """ResNeXt bn3 (last BN of each residual branch): gamma U(0.2, 0.5), as trained ResNets have, so the
    all-positive residual stream does not grow block after block."""
    for mod in V.modules():
        if isinstance(mod, P.Bottleneck):
            mod.bn3.weight.copy_(_uniform(gen, mod.bn3.weight.shape, 0.2, 0.5))


@torch.no_grad()
def normalize_outputs(nets, vtaps, gen):
    """Data-dependent scales (vtaps: V's stage outputs on the calibration images): V.conv1x1 so that
    id_map has std ~1 on the calibration images (the
    generator's demodulated convs keep the scale of their input map), and every G modulation
    (EqualLinear, lr_mul 1) so that its style deviation from the bias has std ~0.4."""
    V = nets["V"]
    feats, maps = vtaps["V.layer4"].mean((2, 3)), vtaps["V.conv1x1"]  # per image: [n, 2048], [n, 512, 7, 7]
    scale = 1.0 / maps.std().item()
    V.conv1x1.weight.mul_(scale)
    V.conv1x1.bias.mul_(scale)
    styles = torch.cat([feats, 1.5 * _randn(gen, (feats.shape[0], 512))], 1)  # [n, 2560]
    for mod in nets["G"].modules():
        if isinstance(mod, P.EqualLinear) and mod.lr_mul == 1.0:
            dev = torch.nn.functional.linear(styles, mod.weight * mod.scale).std().item()
            mod.weight.mul_(0.4 / dev)


@torch.no_grad()
def randomize_generator(G, gen):
    for mod in G.modules():
        if isinstance(mod, P.EqualLinear):
            if mod.lr_mul != 1.0:  # style MLP (unused at inference): upstream init randn / lr_mul
                mod.weight.copy_(_randn(gen, mod.weight.shape) / mod.lr_mul)
                mod.bias.copy_(_randn(gen, mod.bias.shape) * 0.1)
            else:  # modulation: style_c = s W^T / sqrt(2560) + b, b around the upstream init 1
                mod.weight.copy_(_randn(gen, mod.weight.shape) * 0.5)
                mod.bias.copy_(1.0 + _randn(gen, mod.bias.shape) * 0.25)
        elif isinstance(mod, P.ModulatedConv2d):
            # ToRGB convs are not demodulated and their outputs add up over 6 resolutions: keep
            # them small so tanh(skip) is not saturated.
            gain = 1.0 if mod.demodulate else 0.25
            mod.weight.copy_(_randn(gen, mod.weight.shape) * gain)
        elif isinstance(mod, P.NoiseInjection):
            sign = 1.0 if float(torch.rand(1, generator=gen)) < 0.7 else -1.0
            mod.weight.copy_(_uniform(gen, (1,), 0.05, 0.3) * sign)
        elif isinstance(mod, P.FusedLeakyReLU):
            mod.bias.copy_(_randn(gen, mod.bias.shape) * 0.1)
        elif isinstance(mod, P.ToRGB):
            mod.bias.copy_(_randn(gen, mod.bias.shape) * 0.1)
        elif isinstance(mod, P.ConstantInput):
            mod.input.copy_(_randn(gen, mod.input.shape))
    for i in range(G.num_layers):
        buf = getattr(G.noises, f"noise_{i}")
        buf.copy_(_randn(gen, buf.shape))


@torch.no_grad()
def calibrate(m, run, gen):
    """Runs `run()` once with a pre-hook on every BatchNorm that sets its running statistics from the
    input it receives (perturbed), so the eval-mode forward keeps activations O(1)."""
    def hook(mod, inputs):
        x = inputs[0]
        dims = [0] + list(range(2, x.dim()))
        mean, var = x.mean(dims), x.var(dims, unbiased=False)
        c = mean.shape[0]
        mod.running_mean.copy_(mean + 0.2 * var.sqrt() * _randn(gen, (c,)))
        mod.running_var.copy_(var * _uniform(gen, (c,), 0.6, 1.6) + 1e-3)
    handles = [mod.register_forward_pre_hook(hook) for mod in m.modules()
               if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d))]
    m.eval()
    try:
        run()
    finally:
        for h in handles:
            h.remove()


def synthetic_images(gen, n):
    """Natural-image-like random images in [-1, 1]: [n, 3, 224, 224]. 1/f noise (octaves 4..224 px)
    with a random brightness, contrast and colour cast per image, so that the calibrated BatchNorm
    statistics cover the spread of real face crops."""
    img = torch.zeros(n, 3, 224, 224)
    for size in (4, 8, 16, 32, 64, 224):
        amp = 4.0 / size ** 0.5
        low = _randn(gen, (n, 1, size, size)) + 0.3 * _randn(gen, (n, 3, size, size))
        img += amp * torch.nn.functional.interpolate(low, size=(224, 224), mode="bilinear", align_corners=False)
    img = (img - img.mean((1, 2, 3), keepdim=True)) / img.std((1, 2, 3), keepdim=True)
    img = img * _uniform(gen, (n, 1, 1, 1), 0.25, 0.6) + _uniform(gen, (n, 1, 1, 1), -0.5, 0.3)
    img = img + 0.1 * _randn(gen, (n, 3, 1, 1))
    return img.clamp(-1, 1)


def synthetic_mels(gen, b):
    """Random spectrogram windows in [0, 1]: [b, 1, 80, 20]."""
    low = _uniform(gen, (b, 1, 20, 10), 0.1, 0.9)
    mel = torch.nn.functional.interpolate(low, size=(80, 20), mode="bilinear", align_corners=False)
    return (mel + 0.05 * _randn(gen, mel.shape)).clamp(0, 1)


def make_nets(seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    nets = {name: P.build(name) for name in P.NETS}
    for name in ("V", "E", "A_sync"):
        randomize_plain(nets[name], gen)
    shrink_residual_branches(nets["V"], gen)
    randomize_generator(nets["G"], gen)
    cal_img = synthetic_images(gen, 4)
    cal_mel = synthetic_mels(gen, 8)
    vtaps = {}  # the calibrating pass already runs in eval mode with the new statistics: reuse its taps
    calibrate(nets["V"], lambda: nets["V"].encode(cal_img, vtaps), gen)
    calibrate(nets["E"], lambda: nets["E"].feature(cal_img), gen)
    calibrate(nets["A_sync"], lambda: nets["A_sync"].feature(cal_mel), gen)
    normalize_outputs(nets, vtaps, gen)
    for m in nets.values():
        m.eval()
    return nets, gen


def _stats(name, t):
    t = t.float()
    print(f"  {name:<22s} shape {str(list(t.shape)):<20s} mean {t.mean():+.4f} std {t.std():.4f} "
          f"min {t.min():+.4f} max {t.max():+.4f}")


def demo_inputs():
    """The demo's id image, mel window and pose frame of output frame 2 (dump_stages.py
    preprocessing), or (None, None, None, 'synthetic inputs') when no demo folder is found."""
    import numpy as np
    import dump_stages as D
    try:
        demo = D.find_demo_dir(None)
    except SystemExit:
        return None, None, None, "synthetic inputs"
    ids = D.load_image(os.path.join(demo, D.ID_IMG))[None]
    spec = D.spectrogram(D.read_wav(os.path.join(demo, D.AUDIO)))
    mels = torch.from_numpy(np.stack([spec[4 * k - 8:4 * k + 12].T for k in (2,)]))[:, None]
    pose = torch.stack([D.load_image(os.path.join(demo, D.POSE_DIR, f"{k:06d}.jpg")) for k in (2,)])
    return ids, mels, pose, f"demo inputs from {demo}"


@torch.no_grad()
def sanity_check(nets, gen):
    """Full dataflow on the demo (or synthetic) inputs, 1 frame, fixed noise; returns a list of problems."""
    taps = {}
    ids, mels, pose, what = demo_inputs()
    if ids is None:
        ids, mels, pose = synthetic_images(gen, 1), synthetic_mels(gen, 1), synthetic_images(gen, 1)
    ref, drv = P.inference(nets, ids, mels, pose, noise="fixed", taps=taps)
    print(f"output statistics ({what}, 1 frame, fixed noise):")
    for k in ("V.id_feature", "V.id_map", "E.ref.feature", "E.pose.feature", "E.pose.headpose_embed",
              "A.embedding", "E.mouth_embed", "style.driven"):
        _stats(k, taps[k])
    _stats("frames (ref pose)", ref)
    _stats("frames (driving pose)", drv)
    problems = []
    for name, t in list(taps.items()) + [("frames.ref", ref), ("frames.driven", drv)]:
        if not torch.isfinite(t).all():
            problems.append(f"{name}: non-finite values")
    for name, fr in (("ref", ref), ("driven", drv)):
        sat = (fr.abs() > 0.99).float().mean().item()
        print(f"  frames.{name}: {100 * sat:.1f}% of values with |x| > 0.99; per-frame std "
              + ", ".join(f"{s:.3f}" for s in fr.flatten(1).std(1).tolist()))
        if sat > 0.5:
            problems.append(f"frames.{name}: saturated ({100 * sat:.1f}% of |x| > 0.99)")
        if fr.flatten(1).std(1).min().item() < 0.05:
            problems.append(f"frames.{name}: (nearly) constant frame")
    if (drv - ref).abs().max().item() < 1e-3:
        problems.append("driving and reference pose give the same frames: pose has no effect")
    return problems


def save_all(nets, out_dir, legacy):
    os.makedirs(out_dir, exist_ok=True)
    for name, m in nets.items():
        sd = m.state_dict()
        P.check_keys(name, sd)
        path = os.path.join(out_dir, f"latest_net_{name}.pth")
        if legacy:
            torch.save(sd, path, _use_new_zipfile_serialization=False)
        else:
            torch.save(sd, path)
        print(f"  wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, {len(sd)} tensors)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["legacy", "zip", "both"], default="legacy")
    ap.add_argument("--no-check", action="store_true", help="skip the output-statistics run")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    t0 = time.time()
    nets, gen = make_nets(args.seed)
    print(f"randomised and calibrated in {time.time() - t0:.1f} s (seed {args.seed})")
    if not args.no_check:
        problems = sanity_check(nets, gen)
        if problems:
            for p in problems:
                print("make_checkpoints.py: ERROR: " + p, file=sys.stderr)
            sys.exit(1)
    if args.format == "both":
        save_all(nets, os.path.join(args.out, "legacy"), True)
        save_all(nets, os.path.join(args.out, "zip"), False)
    else:
        save_all(nets, args.out, args.format == "legacy")
    print(f"make_checkpoints.py: done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
