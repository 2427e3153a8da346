"""bench_pytorch.py: CPU timings of the official-structure PC-AVS modules (pcavs_torch.py), the baseline
the C engine is compared with.

Per network and per output frame at each batch size: V (identity encoder, once per video, batch 1),
E (FAN pose encoder, per pose frame), A_sync (per frame), G (per frame, upstream's grouped "fused"
modulated convolution, noise drawn per call as upstream's randomize_noise and pcavs's default do), the
driven-pose pipeline (A + E + heads + G, the work per output frame when V and the reference pose are
computed once) and upstream's `inference()` per batch (V and
the reference pose per batch, G for both poses); these two are timed once (their shapes are warm).
Prints a Markdown table; --json writes the rows. Cost at batch 8: about 50 generated frames.

Usage: bench_pytorch.py [--ckpt DIR] [--threads 2] [--batches 1,8] [--iters 2] [--warmup 1] [--json FILE]
                        [--only-g]
--only-g times G alone (bench/bench_vs_pytorch.sh's interleaved G rounds).
"""
import argparse
import json
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcavs_torch as P  # noqa: E402


def timed(fn, iters, warmup):
    """Median wall time of fn() in ms over `iters` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", default=None, help="checkpoint folder (default: random weights)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-inference", action="store_true", help="skip the upstream inference() rows")
    ap.add_argument("--only-g", action="store_true", help="time G alone (no V, E, A_sync, pipeline rows)")
    ap.add_argument("--extra-inference-batches", default="",
                    help="also time upstream inference() alone at these batches (e.g. 16, the official demo's)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.ckpt:
        nets = P.load_nets(args.ckpt)
    else:
        nets = {n: P.build(n).eval() for n in P.NETS}
    G, V, E, A = nets["G"], nets["V"], nets["E"], nets["A_sync"]
    batches = [int(b) for b in args.batches.split(",")]
    rows = []

    def add(what, batch, ms_call, frames):
        rows.append({"what": what, "batch": batch, "ms_per_call": ms_call, "ms_per_frame": ms_call / frames,
                     "threads": args.threads})
        print(f"  {what:<34s} batch {batch:<3d} {ms_call / frames:10.1f} ms/frame", file=sys.stderr)

    with torch.no_grad():
        img1 = torch.rand(1, 3, 224, 224) * 2 - 1
        if not args.only_g:
            add("V (once per video)", 1, timed(lambda: V.encode(img1), args.iters, args.warmup), 1)
        idf, idm = V.encode(img1)
        for b in batches:
            imgs = torch.rand(b, 3, 224, 224) * 2 - 1
            mels = torch.rand(b, 1, 80, 20)
            style = torch.cat([idf.expand(b, -1), torch.randn(b, 512)], 1)
            idmb = idm.expand(b, -1, -1, -1).contiguous()
            if args.only_g:
                add("G (per frame, fused modconv)", b, timed(lambda: G(style, idmb, "random"), args.iters, args.warmup), b)
                continue
            add("E (per pose frame)", b, timed(lambda: E.feature(imgs), args.iters, args.warmup), b)
            add("A_sync (per frame)", b, timed(lambda: A.feature(mels), args.iters, args.warmup), b)
            add("G (per frame, fused modconv)", b, timed(lambda: G(style, idmb, "random"), args.iters, args.warmup), b)

            def driven():
                mouth = E.mouth_embed(A.feature(mels) * 1.2)
                pose = E.headpose_embed(E.to_headpose(E.feature(imgs)))
                return G(torch.cat([idf.expand(b, -1), mouth, pose], 1), idmb, "random")
            # Every shape below was warmed up by the per-network rows: one run each keeps this cheap.
            add("pipeline, driven pose (A+E+G)", b, timed(driven, 1, 0), b)
            if not args.no_inference:
                ms = timed(lambda: P.inference(nets, img1, mels, imgs, "random"), 1, 0)
                add("upstream inference() (2 G passes)", b, ms, b)

        for b in [int(v) for v in args.extra_inference_batches.split(",") if v and not args.only_g]:
            imgs = torch.rand(b, 3, 224, 224) * 2 - 1
            mels = torch.rand(b, 1, 80, 20)
            ms = timed(lambda: P.inference(nets, img1, mels, imgs, "random"), 1, 0)
            add("upstream inference() (2 G passes)", b, ms, b)

    print(f"\nPyTorch {torch.__version__} CPU reference, {args.threads} threads, {platform.processor() or platform.machine()}, "
          f"median of {args.iters} runs after {args.warmup} warm-up\n")
    print("| what | " + " | ".join(f"batch {b} (ms/frame)" for b in batches) + " |")
    print("|---|" + "---:|" * len(batches))
    order = []
    for r in rows:
        if r["what"] not in order:
            order.append(r["what"])
    for w in order:
        cells = []
        for b in batches:
            hit = [r for r in rows if r["what"] == w and r["batch"] == b]
            if not hit and w.startswith("V "):
                hit = [r for r in rows if r["what"] == w]
                cells.append(f"{hit[0]['ms_per_frame']:.1f} (once)" if b == batches[0] else "")
                continue
            cells.append(f"{hit[0]['ms_per_frame']:.1f}" if hit else "")
        print(f"| {w} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"engine": "pytorch", "torch": torch.__version__, "threads": args.threads, "rows": rows}, f,
                      indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
