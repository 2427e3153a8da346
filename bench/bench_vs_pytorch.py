"""bench_vs_pytorch.py: merges one run of bench/bench_generator (pcavs) and tests/reference/bench_pytorch.py
(the official-structure PyTorch modules) into docs/bench/cpu.md (Markdown table), cpu.dat (gnuplot data for
bench/plot_cpu.gp) and cpu.json. Called by bench/bench_vs_pytorch.sh, which runs both benchmarks.

GFLOP per frame (2 x the multiply-accumulates of docs/model.md §8): G 69.4, E 12.66, A_sync 0.94, V 8.56;
the driven-pose frame is A_sync + E + G = 83.0 (V and the reference pose are computed once per video).
The end-to-end row compares that pcavs frame with upstream's inference() as written (bench_pytorch.py
'upstream inference()': per batch V, A_sync, E on the reference image and on the pose frames, and G twice,
for the reference-pose and the driven-pose video), the official code path; its GFLOP/s count the 83.0 GFLOP
of useful work per delivered frame on both sides.
The pcavs driven-pose row is the sum of its A_sync, E and G rows at the same batch (the style heads are
< 0.1 ms); the PyTorch row is timed as one call (bench_pytorch.py 'pipeline, driven pose').
"""
import argparse
import json
import re
import statistics
import sys

GFLOP = {"V": 8.56, "E": 12.66, "A_sync": 0.94, "G": 69.4}
GFLOP["A_sync+E+G"] = GFLOP["A_sync"] + GFLOP["E"] + GFLOP["G"]
GFLOP["official"] = GFLOP["A_sync+E+G"]
GFLOP["official16"] = GFLOP["A_sync+E+G"]
ORDER = ["official", "official16", "A_sync+E+G", "G", "E", "A_sync", "V"]
LABEL = {"official": "end to end: pcavs frame vs upstream inference() as written",
         "official16": "end to end: pcavs frame vs upstream inference() at the demo's --batchSize 16","A_sync+E+G": "driven-pose frame (A_sync+E+G)", "G": "G (generator)", "E": "E (pose encoder + to_headpose)",
         "A_sync": "A_sync (audio encoder)", "V": "V (identity, once per video)"}
C_NAMES = {"G (random noise)": "G", "V": "V", "E (+to_headpose)": "E", "A_sync": "A_sync"}
PT_NAMES = {"G (per frame, fused modconv)": "G", "V (once per video)": "V", "E (per pose frame)": "E",
            "A_sync (per frame)": "A_sync", "pipeline, driven pose (A+E+G)": "A_sync+E+G",
            "upstream inference() (2 G passes)": "official"}


def parse_pcavs(path):
    txt = open(path).read()
    m = re.search(r"machine: (\d+) threads, OpenBLAS core (\S+), measured sgemm peak ([\d.]+) GFLOP/s, "
                  r"FMA peak ([\d.]+) GFLOP/s", txt)
    if not m:
        sys.exit(f"bench_vs_pytorch: no peak line in {path}:\n{txt}")
    info = {"threads": int(m.group(1)), "blas_core": m.group(2), "sgemm_peak": float(m.group(3)),
            "fma_peak": float(m.group(4))}
    rows = {}
    for line in txt.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in C_NAMES:
            rows[(C_NAMES[cells[0]], int(cells[1]))] = float(cells[3])
    for b in sorted({b for _, b in rows}):
        if all((n, b) in rows for n in ("A_sync", "E", "G")):
            rows[("A_sync+E+G", b)] = rows[("A_sync", b)] + rows[("E", b)] + rows[("G", b)]
            rows[("official", b)] = rows[("A_sync+E+G", b)]
            if b == 8:
                rows[("official16", b)] = rows[("A_sync+E+G", b)]
    m = re.search(r"arenas (\d+) MB", txt)
    info["arenas_mb"] = int(m.group(1)) if m else None
    m = re.search(r"model \S+ \((\d+) MB of weights\)", txt)
    info["weights_mb"] = int(m.group(1)) if m else None
    return info, rows


def parse_pytorch(path):
    d = json.load(open(path))
    rows = {}
    for r in d["rows"]:
        if r["what"] in PT_NAMES:
            rows[(PT_NAMES[r["what"]], r["batch"])] = r["ms_per_frame"]
    # upstream's demo batch (16) set against pcavs's batch-8 frame (bench_generator measures batches 1 and 8)
    if ("official", 16) in rows:
        rows[("official16", 8)] = rows.pop(("official", 16))
    return d.get("torch", "?"), rows


def bf16_rows_of(path):
    """pcavs rows of the bf16 run, or {} where it ran float32 (no bf16 unit)."""
    txt = open(path).read()
    m = re.search(r"^precision: (.*)$", txt, re.M)
    return parse_pcavs(path)[1] if m and m.group(1).startswith("bf16") else {}


def bf16_table(path, c32, p, lines):
    """The bf16 mode's table (appended to lines): pcavs bf16 against pcavs fp32 of the same run and PyTorch."""
    txt = open(path).read()
    m = re.search(r"^precision: (.*)$", txt, re.M)
    prec = m.group(1) if m else "?"
    lines.append("")
    if not prec.startswith("bf16"):
        lines.append(f"bf16 mode: not available on this CPU (it ran {prec}: no AMX-BF16 or AVX512-BF16).")
        return []
    _, cb = parse_pcavs(path)
    m = re.search(r"G bf16 vs fp32 frames \(batch (\d+), zero noise\): rel L2 (\S+), PSNR (\S+) dB", txt)
    acc = (f" Frames of G at batch {m.group(1)} against float32 (zero noise): rel L2 {m.group(2)}, "
           f"PSNR {m.group(3)} dB." if m else "")
    lines += [f"## bf16 mode ({prec}): G's and E's 3x3 convolutions with bf16 operands, float32 sums",
              "",
              "Same machine and run; everything else float32." + acc + " Whole-dataflow frames against PyTorch "
              "float32: tests/test_networks.c (PSNR >= 40 dB).",
              "",
              "| network | batch | bf16 ms/frame | fp32 ms/frame | bf16 / fp32 speed-up | PyTorch ms/frame | bf16 vs PyTorch |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for n in ["official", "official16", "A_sync+E+G", "G", "E"]:
        for b in sorted({b for _, b in cb}):
            if (n, b) not in cb or (n, b) not in c32:
                continue
            ms, ms32, pt = cb[(n, b)], c32[(n, b)], p.get((n, b))
            lines.append(f"| {LABEL[n]} | {b} | {ms:.1f} | {ms32:.1f} | {ms32 / ms:.2f}x | "
                         + (f"{pt:.1f} | {pt / ms:.1f}x |" if pt else "n/a | n/a |"))
            rows.append({"network": n, "batch": b, "bf16_ms_per_frame": ms, "fp32_ms_per_frame": ms32,
                         "pytorch_ms_per_frame": pt})
    return rows


def g_rounds(pairs, c, p, lines):
    """The interleaved G rounds (bench_vs_pytorch.sh --g-rounds): per round G's ms/frame on both sides at each batch.
    Sets c's and p's G rows to the median over the rounds (and c's sums that contain G), appends the rounds' table to
    lines, and returns the rounds as rows for the JSON."""
    rounds = []
    for log, js in pairs:
        rc = parse_pcavs(log)[1]
        rp = parse_pytorch(js)[1]
        rounds.append({b: (rc.get(("G", b)), rp.get(("G", b))) for b in sorted({b for n, b in rc if n == "G"})})
    batches = sorted({b for r in rounds for b in r})
    for b in batches:
        cs = [r[b][0] for r in rounds if b in r and r[b][0]]
        ps = [r[b][1] for r in rounds if b in r and r[b][1]]
        if cs:
            c[("G", b)] = statistics.median(cs)
        if ps:
            p[("G", b)] = statistics.median(ps)
        if all((n, b) in c for n in ("A_sync", "E", "G")):
            c[("A_sync+E+G", b)] = c[("A_sync", b)] + c[("E", b)] + c[("G", b)]
            c[("official", b)] = c[("A_sync+E+G", b)]
            if ("official16", b) in c:
                c[("official16", b)] = c[("A_sync+E+G", b)]
    head = "| round | " + " | ".join(f"pcavs b{b} | PyTorch b{b} | speed-up b{b}" for b in batches)
    if len(batches) > 1:
        head += f" | pcavs b{batches[-1]} / b{batches[0]}"
    lines += ["", f"## G in {len(rounds)} interleaved rounds (ms/frame)", "",
              "Round 1 is the full run above; in the later rounds G alone, both engines one after the other "
              "(PyTorch first in even rounds). The G rows above are each side's median over these rounds (the "
              "pcavs driven-pose and end-to-end rows add that median G to the A_sync and E rows).", "",
              head + " |", "|---:|" + "---:|" * (3 * len(batches) + (len(batches) > 1))]
    out = []
    for i, r in enumerate(rounds, 1):
        cells = []
        for b in batches:
            cm, pm = r.get(b, (None, None))
            cells += [f"{cm:.1f}" if cm else "n/a", f"{pm:.1f}" if pm else "n/a",
                      f"{pm / cm:.1f}x" if cm and pm else "n/a"]
        if len(batches) > 1:
            lo, hi = r.get(batches[0], (None, None))[0], r.get(batches[-1], (None, None))[0]
            cells.append(f"{hi / lo:.2f}" if lo and hi else "n/a")
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
        out.append({"round": i, **{f"b{b}": {"pcavs_ms_per_frame": r[b][0], "pytorch_ms_per_frame": r[b][1]}
                                   for b in r}})
    ratios = {b: [r[b][1] / r[b][0] for r in rounds if b in r and r[b][0] and r[b][1]] for b in batches}
    lines.append("")
    lines.append("Per-round speed-up: " + "; ".join(
        f"batch {b} min {min(v):.2f}x, median {statistics.median(v):.2f}x, max {max(v):.2f}x"
        for b, v in ratios.items() if v) + ".")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcavs-log", required=True)
    ap.add_argument("--pytorch-json", required=True)
    ap.add_argument("--pcavs-bf16-log", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--load", default="?")
    ap.add_argument("--cpu", default="?")
    ap.add_argument("--pt-iters", type=int, default=1)
    ap.add_argument("--g-round", nargs=2, action="append", default=[], metavar=("PCAVS_LOG", "PYTORCH_JSON"),
                    help="one interleaved G round (repeat; the first is the full run's pair)")
    a = ap.parse_args()
    info, c = parse_pcavs(a.pcavs_log)
    torch_ver, p = parse_pytorch(a.pytorch_json)
    round_lines = []
    round_rows = g_rounds(a.g_round, c, p, round_lines) if len(a.g_round) > 1 else []
    sg, fm = info["sgemm_peak"], info["fma_peak"]
    batches = sorted({b for _, b in c})
    lines = [
        f"# pcavs vs the official PyTorch modules, CPU, {a.threads} threads",
        "",
        f"Machine: {a.cpu}; OpenBLAS core {info['blas_core']}; peaks measured in this run: OpenBLAS sgemm "
        f"{sg:.1f} GFLOP/s, FMA loop {fm:.1f} GFLOP/s. Load average (1/5/15 min) before / between / after: "
        f"{a.load}. PyTorch {torch_ver} (Debian python3-torch), tests/reference/pcavs_torch.py: upstream's module "
        f"structure, grouped (\"fused\") modulated convolution, random noise (as pcavs); median of {a.pt_iters} run(s) after 1 warm-up. pcavs: "
        "bench/bench_generator (median of >= 3 calls after 1 warm-up, random noise). The driven-pose frame is the "
        "work per output frame once V and the reference pose are cached (pcavs: sum of its A_sync, E and G rows); "
        "the end-to-end row sets that frame against upstream's inference() as written (per batch: V, A_sync, E on "
        "the reference image and on the pose frames, G twice), GFLOP/s there = 83.0 useful GFLOP per delivered frame. "
        "GFLOP/frame: G 69.4, E 12.7, A_sync 0.9, V 8.6 (2 x MACs, docs/model.md §8); GFLOP/s count these "
        "direct-convolution FLOPs, so where pcavs runs 3x3 convolutions as Winograd F(4x4,3x3) (4x fewer "
        "multiplications; F(6x6,3x3) for G's plain layers up to 256 channels on AVX-512 CPUs, 5.1x) and G's "
        "upsampling convolutions from 14x14 as F(4x4,2x2) on their four output phases (1.8x fewer) its figure can "
        "exceed the sgemm peak.",
        "",
        "| network | batch | pcavs ms/frame | PyTorch ms/frame | speed-up | pcavs GFLOP/s | % sgemm peak | % FMA peak |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cb = bf16_rows_of(a.pcavs_bf16_log) if a.pcavs_bf16_log else {}
    dat = ["# label batch pcavs_ms pytorch_ms pcavs_gflops pytorch_gflops sgemm_peak fma_peak pcavs_bf16_ms"]
    rows = []
    for n in ORDER:
        for b in batches:
            if (n, b) not in c:
                continue
            ms = c[(n, b)]
            pt = p.get((n, b))
            if pt is None and n == "V":
                pt = p.get(("V", 1)) if b == 1 else None
            gf = GFLOP[n] / (ms * 1e-3)
            ratio = f"{pt / ms:.1f}x" if pt else "n/a"
            lines.append(f"| {LABEL[n]} | {b} | {ms:.1f} | {pt:.1f} | {ratio} | {gf:.1f} | {100 * gf / sg:.0f} % | "
                         f"{100 * gf / fm:.0f} % |" if pt else
                         f"| {LABEL[n]} | {b} | {ms:.1f} | n/a | n/a | {gf:.1f} | {100 * gf / sg:.0f} % | "
                         f"{100 * gf / fm:.0f} % |")
            ptg = GFLOP[n] / (pt * 1e-3) if pt else 0
            bms = f"{cb[(n, b)]:.3f}" if (n, b) in cb else "NaN"
            dat.append(f'"{n} b{b}" {b} {ms:.3f} {pt if pt else 0:.3f} {gf:.3f} {ptg:.3f} {sg:.3f} {fm:.3f} {bms}')
            rows.append({"network": n, "batch": b, "pcavs_ms_per_frame": ms, "pytorch_ms_per_frame": pt,
                         "pcavs_gflops": gf, "pytorch_gflops": ptg or None})
    lines += round_lines
    lines.append("")
    if info["arenas_mb"] is not None:
        lines.append(f"pcavs memory in this benchmark: weights {info['weights_mb']} MB, activation arenas "
                     f"{info['arenas_mb']} MB (all four networks planned for batch 8).")
    bf16_rows = bf16_table(a.pcavs_bf16_log, c, p, lines) if a.pcavs_bf16_log else []
    lines.append("")
    lines.append("Command: `bench/bench_vs_pytorch.sh BUILD_DIR` (raw outputs: pcavs_raw.txt, pcavs_bf16_raw.txt, pytorch_raw.txt; the later G rounds: g_round*_pcavs.txt, g_round*_pytorch.json).")
    with open(f"{a.out}/cpu.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(f"{a.out}/cpu.dat", "w") as f:
        f.write("\n".join(dat) + "\n")
    with open(f"{a.out}/cpu.json", "w") as f:
        json.dump({"threads": a.threads, "load": a.load, "cpu": a.cpu, "torch": torch_ver, **info, "rows": rows, "bf16_rows": bf16_rows,
                   "g_rounds": round_rows}, f,
                  indent=1)


if __name__ == "__main__":
    main()
